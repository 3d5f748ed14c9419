"""Exports torchvision 0.14's architectures to ONNX with seeded random weights (BatchNorm
statistics randomised so they matter) into a cache folder, with an input batch of 2 and
PyTorch's outputs for it: `<name>.onnx` and `<name>.json` ({"input": [...], "shape": [...],
"output": [...], "outputShape": [...]}, NCHW as PyTorch sees them).

Run with Debian's PyTorch: `/usr/bin/python3 scripts/zoo_fixtures.py OUT_DIR [name ...]`.
tests/zoo_test.ts runs it once into its cache (the files are large and stay out of git).
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm
import torchvision.models.segmentation as seg

torch.manual_seed(0)
PRESERVE = torch.onnx.TrainingMode.PRESERVE


def randomize(m, seed):
    """Seeded random weights; BatchNorm statistics, LayerNorm affines and ConvNeXt's layer scales
    that are not the defaults."""
    g = torch.Generator().manual_seed(seed)
    for mod in m.modules():
        if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = mod.num_features
            mod.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            mod.running_var.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
            mod.weight.data.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
            mod.bias.data.copy_(torch.randn(n, generator=g) * 0.1)
        elif isinstance(mod, nn.LayerNorm) and mod.elementwise_affine:
            n = mod.weight.numel()
            mod.weight.data.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
            mod.bias.data.copy_(torch.randn(n, generator=g) * 0.1)
        # ConvNeXt's layer scale starts at 1e-6, which would hide its blocks: make it matter.
        if hasattr(mod, "layer_scale") and isinstance(mod.layer_scale, nn.Parameter):
            mod.layer_scale.data.copy_(torch.rand(mod.layer_scale.shape, generator=g) * 0.5 + 0.25)
    return m


class Upsampler(nn.Module):
    """A small net for one interpolation mode (nn.Upsample / F.interpolate)."""

    def __init__(self, **kw):
        super().__init__()
        self.c1 = nn.Conv2d(3, 4, 3, padding=1)
        self.kw = kw
        self.c2 = nn.Conv2d(4, 2, 3, padding=1)

    def forward(self, x):
        return self.c2(F.interpolate(torch.relu(self.c1(x)), **self.kw))


class SegOut(nn.Module):
    """torchvision's segmentation models return a dict: export its "out"."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m(x)["out"]


# name: (constructor, input side, opset, keep BatchNorm nodes)
MODELS = {
    "resnet18": (lambda: tvm.resnet18(), 224, 13, False),
    "resnet50": (lambda: tvm.resnet50(), 224, 17, True),
    "mobilenet_v2": (lambda: tvm.mobilenet_v2(), 224, 13, False),
    "mobilenet_v3_small": (lambda: tvm.mobilenet_v3_small(), 224, 13, False),
    "mobilenet_v3_large": (lambda: tvm.mobilenet_v3_large(), 224, 17, True),
    "efficientnet_b0": (lambda: tvm.efficientnet_b0(), 224, 13, False),
    "regnet_y_400mf": (lambda: tvm.regnet_y_400mf(), 224, 13, False),
    "mnasnet0_5": (lambda: tvm.mnasnet0_5(), 224, 13, False),
    "shufflenet_v2_x0_5": (lambda: tvm.shufflenet_v2_x0_5(), 224, 13, False),
    "squeezenet1_1": (lambda: tvm.squeezenet1_1(), 224, 13, False),
    "densenet121": (lambda: tvm.densenet121(), 224, 13, True),
    "googlenet": (lambda: tvm.googlenet(aux_logits=False, init_weights=True), 224, 13, False),
    "alexnet": (lambda: tvm.alexnet(), 224, 13, False),
    "vgg11_bn": (lambda: tvm.vgg11_bn(), 224, 13, False),
    "convnext_tiny": (lambda: tvm.convnext_tiny(), 224, 17, False),
    "lraspp_mobilenet_v3_large": (
        lambda: SegOut(seg.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None)), 224, 13, False),
    "deeplabv3_mobilenet_v3_large": (
        lambda: SegOut(seg.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, aux_loss=False)),
        224, 13, False),
    "fcn_resnet50": (
        lambda: SegOut(seg.fcn_resnet50(weights=None, weights_backbone=None, aux_loss=False)), 96, 13, False),
    "up_nearest": (lambda: Upsampler(scale_factor=2, mode="nearest"), 9, 13, False),
    "up_nearest_size": (lambda: Upsampler(size=(13, 7), mode="nearest"), 9, 13, False),
    "up_bilinear": (lambda: Upsampler(scale_factor=2, mode="bilinear", align_corners=False), 9, 13, False),
    "up_bilinear_ac": (lambda: Upsampler(scale_factor=3, mode="bilinear", align_corners=True), 7, 13, False),
    "up_bilinear_size": (lambda: Upsampler(size=(11, 5), mode="bilinear", align_corners=False), 9, 17, False),
    "up_nearest_opset9": (lambda: Upsampler(scale_factor=2, mode="nearest"), 9, 9, False),
}


def export(name, out_dir):
    make, side, opset, preserve = MODELS[name]
    torch.manual_seed(1)
    m = randomize(make(), 2).eval()
    g = torch.Generator().manual_seed(5)
    x = torch.randn(2, 3, side, side, generator=g)
    with torch.no_grad():
        y = m(x)
    path = os.path.join(out_dir, f"{name}.onnx")
    torch.onnx.export(
        m, x, path, opset_version=opset, input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "n"}, "output": {0: "n"}},
        training=PRESERVE if preserve else torch.onnx.TrainingMode.EVAL,
        do_constant_folding=not preserve,
    )
    with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
        json.dump({
            "input": [round(v, 7) for v in x.flatten().tolist()], "shape": list(x.shape),
            "output": y.flatten().tolist(), "outputShape": list(y.shape), "opset": opset,
            "batchNormKept": preserve,
        }, f)


if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    names = sys.argv[2:] or list(MODELS)
    for n in names:
        if not os.path.exists(os.path.join(out, f"{n}.json")):
            export(n, out)
            print("exported", n, flush=True)
