"""Writes tests/fixtures/onnx/: small CNNs exported from PyTorch to ONNX
(`<name>.onnx`) with a batch of inputs and PyTorch's outputs
(`<name>.json`, NCHW as PyTorch sees them, the batch axis dynamic). The ONNX
importer's tests compare against these (an outside oracle) and against
onnxruntime.

Run with Debian's PyTorch: `/usr/bin/python3 scripts/onnx_fixtures.py`.
"""
import json
import os
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "onnx")
os.makedirs(OUT, exist_ok=True)


def randomize_bn(m):
    """Running statistics and affine parameters that are not the defaults, so folding matters."""
    g = torch.Generator().manual_seed(3)
    for mod in m.modules():
        if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = mod.num_features
            mod.running_mean.copy_(torch.randn(n, generator=g) * 0.3)
            mod.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            mod.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            mod.bias.data.copy_(torch.randn(n, generator=g) * 0.2)


class LeNet5(nn.Module):
    """LeNet-5 (ReLU, max pooling); torch.flatten → Flatten; the last layer is MatMul + Add."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c2 = nn.Conv2d(6, 16, 5)
        self.f1 = nn.Linear(16 * 5 * 5, 120)
        self.f2 = nn.Linear(120, 84)
        self.w3 = nn.Parameter(torch.randn(84, 10) * 0.1)
        self.b3 = nn.Parameter(torch.randn(10) * 0.1)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.f1(x))
        x = F.relu(self.f2(x))
        return torch.matmul(x, self.w3) + self.b3


class Basic(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = F.relu(self.b1(self.c1(x)))
        h = self.b2(self.c2(h))
        return F.relu(h + (x if self.down is None else self.down(x)))


class ResNet(nn.Module):
    """Stem, three residual stages with BatchNorm, global average pooling; x.view(n, -1) flatten."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.s1 = Basic(8, 8, 1)
        self.s2 = Basic(8, 12, 2)
        self.s3 = Basic(12, 16, 2)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = self.s3(self.s2(self.s1(self.stem(x))))
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(x.view(x.size(0), -1))


def dw_block(cin, cout, stride):
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU6(),
        nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU6())


class MobileNet(nn.Module):
    """Depthwise-separable blocks with ReLU6 (Clip), a HardSwish, dropout, softmax."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.Hardswish())
        self.blocks = nn.Sequential(dw_block(8, 16, 1), dw_block(16, 24, 2), dw_block(24, 24, 1))
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(24, 6)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return F.softmax(self.fc(self.drop(x)), dim=1)


class Geometry(nn.Module):
    """Dilation, asymmetric padding (F.pad → Pad), non-square kernels and strides, ceil-mode pools,
    count_include_pad=False, LeakyReLU, Sigmoid, Tanh, HardSigmoid, a product, global max pooling."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(2, 5, (3, 5), stride=(1, 2), padding=(2, 1), dilation=(2, 1))
        self.c2 = nn.Conv2d(5, 6, (2, 3))
        self.c3 = nn.Conv2d(6, 6, 3, padding=1)
        self.fc = nn.Linear(6, 4)

    def forward(self, x):
        x = F.leaky_relu(self.c1(x), 0.1)
        x = F.max_pool2d(x, 3, stride=2, ceil_mode=True)
        x = torch.tanh(self.c2(F.pad(x, (1, 0, 2, 1))))
        x = F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        x = x * torch.sigmoid(self.c3(x))
        x = F.hardsigmoid(x) + x
        x = torch.flatten(F.adaptive_max_pool2d(x, 1), 1)
        return self.fc(x)


class UNet(nn.Module):
    """A small U-Net: two levels, ConvTranspose up-sampling, Concat skips, 4-D output."""

    def __init__(self):
        super().__init__()
        self.e1 = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU())
        self.e2 = nn.Sequential(nn.Conv2d(6, 10, 3, padding=1), nn.ReLU())
        self.mid = nn.Sequential(nn.Conv2d(10, 12, 3, padding=1), nn.ReLU())
        self.u2 = nn.ConvTranspose2d(12, 10, 2, stride=2)
        self.d2 = nn.Sequential(nn.Conv2d(20, 10, 3, padding=1), nn.ReLU())
        self.u1 = nn.ConvTranspose2d(10, 6, 3, stride=2, padding=1, output_padding=1)
        self.d1 = nn.Sequential(nn.Conv2d(12, 6, 3, padding=1), nn.ReLU())
        self.head = nn.Conv2d(6, 2, 1)

    def forward(self, x):
        a = self.e1(x)
        b = self.e2(F.max_pool2d(a, 2))
        m = self.mid(F.max_pool2d(b, 2))
        y = self.d2(torch.cat([self.u2(m), b], 1))
        y = self.d1(torch.cat([self.u1(y), a], 1))
        return self.head(y)


class Conv1D(nn.Module):
    """1-D convolutions and pools (height 1 in NHWC)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(3, 8, 5, padding=2)
        self.c2 = nn.Conv1d(8, 8, 3, stride=2)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = F.max_pool1d(F.relu(self.c1(x)), 2)
        x = F.avg_pool1d(F.relu(self.c2(x)), 2)
        x = F.adaptive_avg_pool1d(x, 1)
        return self.fc(torch.flatten(x, 1))


class Unsupported(nn.Module):
    """Operators the importer does not run (Resize, Erf from GELU), for the error report."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 4, 3, padding=1)
        self.act = nn.GELU()

    def forward(self, x):
        x = F.interpolate(self.act(self.c1(x)), scale_factor=2, mode="nearest")
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)


# name, class, input shape, opset, keep BatchNormalization nodes (else PyTorch folds them)
MODELS = [
    ("lenet5", LeNet5, (1, 28, 28), 11, False),
    ("resnet", ResNet, (3, 16, 16), 13, True),
    ("mobilenet", MobileNet, (3, 20, 20), 14, False),
    ("geometry", Geometry, (2, 19, 23), 17, False),
    ("unet", UNet, (3, 12, 16), 13, False),
    ("conv1d", Conv1D, (3, 30), 13, False),
    ("unsupported", Unsupported, (3, 8, 8), 13, False),
]

for i, (name, cls, shape, opset, keep_bn) in enumerate(MODELS):
    torch.manual_seed(10 + i)
    model = cls()
    randomize_bn(model)
    model.eval()
    x = torch.randn(3, *shape)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(OUT, name + ".onnx")
    mode = torch.onnx.TrainingMode.PRESERVE if keep_bn else torch.onnx.TrainingMode.EVAL
    torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"], training=mode,
                      output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({
            "opset": opset,
            "input": {"shape": list(x.shape), "data": x.flatten().tolist()},
            "output": {"shape": list(y.shape), "data": y.flatten().tolist()},
        }, f)
    print(name, list(x.shape), "->", list(y.shape), os.path.getsize(path), "bytes")
