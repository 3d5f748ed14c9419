"""Small committed fixtures for the operators torchvision's networks need (squeeze-and-excitation
broadcasting, scalar arithmetic, reductions, channel shuffle and split, every interpolation mode),
written into tests/fixtures/onnx/ops_*.onnx with PyTorch's outputs (`.json`, as onnx_fixtures.py),
so the default test run covers them without PyTorch.

Run with Debian's PyTorch: `/usr/bin/python3 scripts/ops_fixtures.py`.
"""
import json
import os

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
]

for i, (name, cls, shape, opset) in enumerate(MODELS):
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
            "input": {"shape": list(x.shape), "data": x.flatten().tolist()},
            "output": {"shape": list(y.shape), "data": y.flatten().tolist()},
        }, f)
    print(name, list(x.shape), "->", list(y.shape), os.path.getsize(path), "bytes")
