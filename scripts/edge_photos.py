"""Phone-photo stand-ins for bench/edge.ts, with torchvision's preprocessing as the reference.

Usage: /usr/bin/python3 scripts/edge_photos.py OUT_DIR

Writes 12 JPEGs (quality 90, 4:2:0, as phone cameras write them) of 2 MP (1600x1200), full HD
(1920x1080) and 12 MP (4032x3024), each a synthetic scene (smooth regions, edges, texture,
sensor noise). Of the four of each size, NAME-1 is stored sideways with EXIF orientation 6 (as a
phone held upright writes it) and NAME-2 is progressive; the others are baseline. For each
NAME.jpg, NAME.ref.f32 holds the tensor torchvision's ImageNet evaluation pipeline gives for the
upright photo (PIL decode, ImageOps.exif_transpose, Resize(256), CenterCrop(224), ToTensor,
Normalize; float32, NCHW [1, 3, 224, 224]); also imagenet_labels.json (torchvision's 1,000
category names) and manifest.json.

Also mobilenet_v2.onnx: torchvision's MobileNetV2 with its own seeded initialisation, whose
BatchNorm statistics are measured on 48 other scenes (not the photos) and whose classifier is
scaled to give logits of standard deviation 3 there, so that its answers depend on the photo (with
the zoo's random statistics every photo gets the same answer, and agreement would prove nothing).
Seeded.
"""
import json
import os
import sys

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter, ImageOps
from torchvision import models, transforms
from torchvision.models._meta import _IMAGENET_CATEGORIES

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(2026)


def scene(w, h):
    small = rng.uniform(0, 255, (6, 8, 3)).astype(np.uint8)
    img = Image.fromarray(small).resize((w, h), Image.BICUBIC)
    d = ImageDraw.Draw(img)
    for _ in range(25):
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.02, 0.2) * min(w, h)
        col = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.uniform() < 0.5:
            d.ellipse([x0 - r, y0 - r, x0 + r, y0 + r], fill=col)
        else:
            d.rectangle([x0 - r, y0 - r / 2, x0 + r, y0 + r / 2], fill=col)
    img = img.filter(ImageFilter.GaussianBlur(radius=max(1, min(w, h) / 800)))
    a = np.asarray(img).astype(np.float32)
    tex = np.asarray(
        Image.fromarray(rng.uniform(0, 255, (h // 6, w // 6)).astype(np.uint8)).resize((w, h))
    ).astype(np.float32)
    a += (tex[..., None] - 128) * 0.15 + rng.normal(0, 3, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


pipeline = transforms.Compose([
    transforms.Resize(256),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
])
sizes = {"2mp": (1600, 1200), "fhd": (1920, 1080), "12mp": (4032, 3024)}
manifest = []
for name, (w, h) in sizes.items():
    for i in range(4):
        path = os.path.join(out, f"{name}-{i}.jpg")
        img, extra = scene(w, h), {}
        if i == 1:
            exif = Image.Exif()
            exif[0x0112] = 6  # shown after a 90-degree clockwise turn
            img, extra = img.transpose(Image.Transpose.ROTATE_90), {"exif": exif.tobytes()}
        img.save(path, quality=90, progressive=i == 2, **extra)
        upright = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        x = pipeline(upright).unsqueeze(0).numpy().astype(np.float32)
        x.tofile(os.path.join(out, f"{name}-{i}.ref.f32"))
        manifest.append({"name": f"{name}-{i}", "size": name, "width": w, "height": h,
                         "bytes": os.path.getsize(path), "orientation": 6 if i == 1 else 1,
                         "progressive": i == 2})

# A MobileNetV2 whose answers depend on its input: statistics from other scenes.
torch.manual_seed(7)
net = models.mobilenet_v2()
calib = torch.stack([pipeline(scene(int(rng.integers(300, 700)), int(rng.integers(300, 700))))
                     for _ in range(48)])
for mod in net.modules():
    if isinstance(mod, torch.nn.BatchNorm2d):
        mod.momentum = None  # a cumulative average over the calibration batches
net.train()
with torch.no_grad():
    for batch in calib.split(16):
        net(batch)
net.eval()
g = torch.Generator().manual_seed(8)
with torch.no_grad():
    for mod in net.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            n = mod.num_features
            mod.weight.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
            mod.bias.copy_(torch.randn(n, generator=g) * 0.1)
    head = net.classifier[1]
    head.weight.mul_(3 / net(calib).std().item())
torch.onnx.export(
    net, calib[:1], os.path.join(out, "mobilenet_v2.onnx"), opset_version=13,
    input_names=["input"], output_names=["output"],
    dynamic_axes={"input": {0: "n"}, "output": {0: "n"}},
)

with open(os.path.join(out, "imagenet_labels.json"), "w") as f:
    json.dump(list(_IMAGENET_CATEGORIES), f)
with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
print(f"{len(manifest)} photos in {out}")
