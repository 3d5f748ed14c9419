"""Small committed fixtures for the operators torchvision's networks need (squeeze-and-excitation
broadcasting, scalar arithmetic, reductions, channel shuffle and split, every interpolation mode),
written into tests/fixtures/onnx/ops_*.onnx with PyTorch's outputs (`.json`, as onnx_fixtures.py),
so the default test run covers them without PyTorch.

Run with Debian's PyTorch: `/usr/bin/python3 scripts/ops_fixtures.py`.
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "onnx")


class SqueezeExcite(nn.Module):
    """mobilenet_v3's and efficientnet's blocks: SE with HardSigmoid and Sigmoid, SiLU, and arithmetic."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 8, 3, padding=1)
        self.f1 = nn.Conv2d(8, 4, 1)
        self.f2 = nn.Conv2d(4, 8, 1)
        self.g1 = nn.Conv2d(8, 4, 1)
        self.g2 = nn.Conv2d(4, 8, 1)
        self.out = nn.Conv2d(8, 3, 1)

    def forward(self, x):
        x = F.silu(self.c(x))
        s = F.hardsigmoid(self.f2(F.relu(self.f1(F.adaptive_avg_pool2d(x, 1)))))
        x = x * s
        t = torch.sigmoid(self.g2(F.relu(self.g1(x.mean((2, 3), keepdim=True)))))
        x = t * x
        x = x - x.mean((2, 3), keepdim=True)
        x = x / (torch.sigmoid(x) + 1)
        x = (1 - x) * 0.5 + x / 3 - 2
        return self.out(x)


class Reductions(nn.Module):
    """mnasnet's and shufflenet's x.mean([2, 3]) into a Linear; amax and sum over H and W."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 6, 3, stride=2)
        self.fc = nn.Linear(6, 4)

    def forward(self, x):
        x = F.relu(self.c(x))
        m = torch.amax(x, dim=(2, 3), keepdim=True)
        s = x.sum((2, 3), keepdim=True)
        x = x * m + s / 10
        return self.fc(x.mean([2, 3]))


def channel_shuffle(x, groups):
    n, c, h, w = x.size()
    x = x.view(n, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(n, -1, h, w)


class Shuffle(nn.Module):
    """shufflenet_v2's unit: chunk into two halves, a branch on one, concat, channel shuffle."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 8, 3, padding=1)
        self.b = nn.Conv2d(4, 4, 3, padding=1)
        self.out = nn.Conv2d(8, 6, 1)

    def forward(self, x):
        x = self.c(x)
        a, b = x.chunk(2, dim=1)
        x = channel_shuffle(torch.cat((a, F.relu(self.b(b))), dim=1), 2)
        a, b, c = torch.split(x, [2, 3, 3], dim=1)
        return channel_shuffle(self.out(torch.cat((c, a, b), dim=1)), 3)


class UnaryOps(nn.Module):
    """Exp, Log, Sqrt, Reciprocal, Pow 2, Abs, Softplus, Softsign, Mish, Elu, Selu, PRelu."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 8, 3, padding=1)
        self.p1 = nn.PReLU(8)
        self.p2 = nn.PReLU()
        self.out = nn.Conv2d(8, 3, 1)

    def forward(self, x):
        x = self.p1(self.c(x)) * 0.5
        a = torch.exp(-x.abs()) + torch.log(x.abs() + 1) + torch.sqrt(F.softplus(x))
        b = torch.reciprocal(x.abs() + 1) + torch.pow(x, 2) * 0.1 + F.softsign(x)
        c = F.mish(x) + F.elu(x, alpha=0.7) + F.selu(x)
        return self.out(self.p2(a - b + c))


class Upsampler(nn.Module):
    def __init__(self, **kw):
        super().__init__()
        self.c1 = nn.Conv2d(3, 4, 3, padding=1)
        self.kw = kw
        self.c2 = nn.Conv2d(4, 2, 3, padding=1)

    def forward(self, x):
        return self.c2(F.interpolate(torch.relu(self.c1(x)), **self.kw))


class Norms(nn.Module):
    """InstanceNorm2d (affine). (PyTorch writes LocalResponseNorm as a decomposition with an If,
    not as LRN: the LRN operator is tested on hand-built files against onnxruntime.)"""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 7, 3, padding=1)
        self.inorm = nn.InstanceNorm2d(7, affine=True)
        self.out = nn.Conv2d(7, 3, 1)
        with torch.no_grad():
            self.inorm.weight.uniform_(0.5, 1.5)
            self.inorm.bias.uniform_(-0.5, 0.5)

    def forward(self, x):
        x = self.c(x)
        return self.out(F.relu(self.inorm(x)) * 3)


class Attention(nn.Module):
    """CBAM-style: mean, max and sum over the channels, concatenated, a conv, a gate [N, 1, H, W]."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 6, 3, padding=1)
        self.a = nn.Conv2d(3, 1, 3, padding=1)
        self.out = nn.Conv2d(6, 2, 1)

    def forward(self, x):
        x = self.c(x)
        m = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True),
                       x.sum(1, keepdim=True) / 6], dim=1)
        return self.out(x * torch.sigmoid(self.a(m)))


class Shapes(nn.Module):
    """Expand (expand_as and to channels), Unsqueeze of [N, C], Squeeze of [N, C, 1, 1]."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 5, 3, padding=1)
        self.fc = nn.Linear(5, 5)
        self.g = nn.Conv2d(5, 1, 1)
        self.out = nn.Conv2d(5, 2, 1)

    def forward(self, x):
        x = self.c(x)
        p = F.adaptive_avg_pool2d(x, 1)
        v = self.fc(p.squeeze(-1).squeeze(-1))
        x = x + p.expand_as(x) + v[:, :, None, None]
        g = torch.sigmoid(self.g(x)).expand(-1, 5, -1, -1)
        return self.out(x * g)


class LayerNormBlock(nn.Module):
    """ConvNeXt's block (depthwise 7×7, LayerNorm over the channels of an NHWC view, MLP);
    before opset 17 the LayerNorm is exported decomposed (ReduceMean, Sub, Pow, Sqrt, Div)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 2, stride=2)
        self.dw = nn.Conv2d(8, 8, 7, padding=3, groups=8)
        self.ln = nn.LayerNorm(8, eps=1e-6)
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 8)
        self.out = nn.Conv2d(8, 3, 1)
        with torch.no_grad():
            self.ln.weight.uniform_(0.5, 1.5)
            self.ln.bias.uniform_(-0.5, 0.5)

    def forward(self, x):
        x = self.stem(x)
        y = self.dw(x).permute(0, 2, 3, 1)
        y = self.fc2(F.gelu(self.fc1(self.ln(y)))).permute(0, 3, 1, 2)
        return self.out(x + y)


class OldOpset(nn.Module):
    """What an opset 9 or 10 export holds: Upsample/Resize, Clip as attributes (ReLU6), Pad, Flatten, Gemm."""

    def __init__(self, mode):
        super().__init__()
        self.mode = mode
        self.c1 = nn.Conv2d(3, 4, 3, padding=1)
        self.c2 = nn.Conv2d(4, 4, 3)
        self.fc = nn.Linear(4 * 13 * 11, 5)

    def forward(self, x):
        x = F.relu6(self.c1(x))
        x = F.interpolate(x, scale_factor=2, mode=self.mode)
        x = F.pad(self.c2(x), (1, 0, 1, 0))
        return self.fc(torch.flatten(x, 1))


MODELS = [
    ("ops_se", SqueezeExcite, (3, 10, 9), 13),
    ("ops_reduce", Reductions, (3, 11, 12), 13),
    ("ops_reduce17", Reductions, (3, 9, 9), 17),
    ("ops_shuffle", Shuffle, (3, 7, 6), 13),
    ("ops_unary", UnaryOps, (3, 6, 5), 13),
    ("ops_up_nearest", lambda: Upsampler(scale_factor=2, mode="nearest"), (3, 7, 6), 13),
    ("ops_up_nearest_size", lambda: Upsampler(size=(13, 5), mode="nearest"), (3, 7, 6), 13),
    ("ops_up_bilinear", lambda: Upsampler(scale_factor=2, mode="bilinear", align_corners=False),
     (3, 7, 6), 13),
    ("ops_up_bilinear_ac", lambda: Upsampler(scale_factor=3, mode="bilinear", align_corners=True),
     (3, 5, 6), 17),
    ("ops_up_bilinear_size", lambda: Upsampler(size=(11, 4), mode="bilinear"), (3, 7, 6), 17),
    ("ops_down_bilinear", lambda: Upsampler(scale_factor=0.5, mode="bilinear"), (3, 9, 8), 13),
    ("ops_norms", Norms, (3, 6, 7), 13),
    ("ops_attention", Attention, (3, 7, 5), 13),
    ("ops_shapes", Shapes, (3, 6, 5), 13),
    ("ops_shapes11", Shapes, (3, 5, 6), 11),
    ("ops_layernorm13", LayerNormBlock, (3, 10, 12), 13),
    ("ops_opset9_nearest", lambda: OldOpset("nearest"), (3, 7, 6), 9),
    ("ops_opset10_nearest", lambda: OldOpset("nearest"), (3, 7, 6), 10),
    # PyTorch's bilinear (half-pixel) is not what Upsample/Resize before opset 11 define
    # (asymmetric): these are checked against onnxruntime only.
    ("ops_opset9_bilinear", lambda: OldOpset("bilinear"), (3, 7, 6), 9),
    ("ops_opset10_bilinear", lambda: OldOpset("bilinear"), (3, 7, 6), 10),
]
# PyTorch's outputs are not the ONNX operator's for these (see above).
TORCH_DIFFERS = {"ops_opset9_bilinear", "ops_opset10_bilinear"}
ONLY = set(sys.argv[1:])

for i, (name, cls, shape, opset) in enumerate(MODELS):
    if ONLY and name not in ONLY:
        continue
    torch.manual_seed(40 + i)
    model = cls().eval()
    x = torch.randn(3, *shape)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"],
                      output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({
            "opset": opset,
            "torchDiffers": name in TORCH_DIFFERS,
            "input": {"shape": list(x.shape), "data": x.flatten().tolist()},
            "output": {"shape": list(y.shape), "data": y.flatten().tolist()},
        }, f)
    print(name, list(x.shape), "->", list(y.shape), os.path.getsize(path), "bytes")
