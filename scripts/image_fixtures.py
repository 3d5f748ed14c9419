"""JPEG and PNG fixtures for tests/image_test.ts, with Pillow's decodes as the outside oracle.

Usage: /usr/bin/python3 scripts/image_fixtures.py OUT_DIR

Writes synthetic photo-like images (smooth gradients, edges, texture, noise; sizes that are not
multiples of 8 or 16) as JPEGs in every layout the decoder handles, and for each:
  NAME.jpg                 the file
  NAME.full.bin            Pillow's full-size decode (RGB, or L for grey), raw bytes
  NAME.d{2,4,8}.bin        Pillow's draft-mode decode at 1/2, 1/4, 1/8 (libjpeg's scale_denom)
and a manifest.json with each file's sizes. Also a torchvision pipeline reference:
  NAME.crop224.bin         Resize(256) + CenterCrop(224) of the full decode (uint8 RGB, PIL)
and PNGs for the PNG path. Deterministic (seeded).
"""
import io
import json
import os
import sys

import numpy as np
from PIL import Image, ImageOps

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)


def photo(w, h):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(x / 23.0) * np.cos(y / 31.0)
    g = 128 + 90 * np.cos((x + y) / 41.0)
    b = 255 * (x / w) * (1 - y / h)
    img = np.stack([r, g, b], axis=-1)
    # a disc and a bar with hard edges, and fine texture
    img[(x - w * 0.6) ** 2 + (y - h * 0.4) ** 2 < (min(w, h) * 0.2) ** 2] = [240, 30, 60]
    img[int(h * 0.7):int(h * 0.75), :] = [20, 20, 20]
    img += rng.normal(0, 6, img.shape)
    img += 25 * ((x.astype(int) // 3 + y.astype(int) // 3) % 2)[..., None]
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


manifest = []


def save(name, im, **kw):
    buf = io.BytesIO()
    im.save(buf, "JPEG", **kw)
    data = buf.getvalue()
    with open(os.path.join(out, name + ".jpg"), "wb") as f:
        f.write(data)
    entry = {"name": name}
    full = Image.open(io.BytesIO(data))
    mode = "L" if full.mode == "L" else "RGB"
    full = full.convert(mode)
    entry["width"], entry["height"], entry["channels"] = full.width, full.height, len(mode)
    with open(os.path.join(out, name + ".full.bin"), "wb") as f:
        f.write(full.tobytes())
    for d in (2, 4, 8):
        im2 = Image.open(io.BytesIO(data))
        im2.draft(im2.mode, (max(1, im2.width // d), max(1, im2.height // d)))
        im2 = im2.convert(mode)
        entry[f"d{d}"] = [im2.width, im2.height]
        with open(os.path.join(out, f"{name}.d{d}.bin"), "wb") as f:
            f.write(im2.tobytes())
    # torchvision 0.14's Resize(256) (PIL bilinear) + CenterCrop(224), on the full decode.
    rgb = full.convert("RGB")
    w, h = rgb.size
    if w <= h:
        ow, oh = 256, int(256 * h / w)
    else:
        oh, ow = 256, int(256 * w / h)
    rs = rgb.resize((ow, oh), Image.BILINEAR)
    top, left = int(round((oh - 224) / 2.0)), int(round((ow - 224) / 2.0))
    crop = rs.crop((left, top, left + 224, top + 224))
    with open(os.path.join(out, name + ".crop224.bin"), "wb") as f:
        f.write(crop.tobytes())
    manifest.append(entry)


base = photo(333, 251)
save("b420", base, quality=90)
save("b422", base, quality=85, subsampling=1)
save("b444", base, quality=95, subsampling=0)
save("p420", base, quality=88, progressive=True)
save("p444", base, quality=80, progressive=True, subsampling=0)
save("grey", base.convert("L"), quality=90)
save("greyprog", base.convert("L"), quality=75, progressive=True)
save("q30", photo(257, 300), quality=30)
save("tiny", photo(7, 5), quality=90)
save("wide", photo(640, 97), quality=92, progressive=True)
# restart intervals (Pillow passes libjpeg's restart_marker_blocks)
try:
    save("restart", base, quality=90, restart_marker_blocks=3)
except TypeError:
    pass
save("cmyk", base.convert("CMYK"), quality=92)
# EXIF orientation 6 (rotate 90° clockwise to view) and 3.
for o in (3, 6, 8):
    exif = Image.Exif()
    exif[0x0112] = o
    save(f"orient{o}", base, quality=90, exif=exif.tobytes())
    manifest[-1]["orientation"] = o
    up = ImageOps.exif_transpose(Image.open(os.path.join(out, f"orient{o}.jpg"))).convert("RGB")
    manifest[-1]["upright"] = [up.width, up.height]
    with open(os.path.join(out, f"orient{o}.upright.bin"), "wb") as f:
        f.write(up.tobytes())

for name, im in [("png-rgb", base), ("png-grey", base.convert("L"))]:
    im.save(os.path.join(out, name + ".png"))
    with open(os.path.join(out, name + ".full.bin"), "wb") as f:
        f.write(im.tobytes())
    manifest.append({"name": name, "png": True, "width": im.width, "height": im.height,
                     "channels": len(im.mode)})

with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
print(f"{len(manifest)} images in {out}")
