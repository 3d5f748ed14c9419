"""Exports a torchvision classifier to ONNX with a Worker configuration that serves it.

Usage: python3 scripts/serve_torchvision.py NAME [--weights DEFAULT|random] [--out DIR]

NAME is a torchvision classification model (mobilenet_v2, resnet18, efficientnet_b0, ...).
Writes, in DIR (default models/):

- NAME.onnx: the model, exported by torch.onnx.export (opset 13, batch axis dynamic);
- serve-NAME.ts: the one-line module wrangler's `served-model` alias names;
- wrangler.NAME.toml: the Worker serving it with torchvision's ImageNet evaluation
  preprocessing (MODEL_PREPROCESS = "center-crop": the shorter side resized to 256, the centre
  224x224 cropped, ImageNet's mean and std) and the weights' 1,000 category names as MODEL_LABELS.

Then: deno task dev --config DIR/wrangler.NAME.toml, and POST a photo to /v1/predict?top=5.

--weights DEFAULT (the default) takes torchvision's pretrained weights, downloaded once by
torchvision into its cache; --weights random keeps torchvision's seeded random initialisation
(for a machine without internet: the answers then mean nothing, but every step runs).
"""
import argparse
import json
import os

import torch
import torchvision
from torchvision.models._meta import _IMAGENET_CATEGORIES

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("name", help="a torchvision classification model, e.g. mobilenet_v2")
ap.add_argument("--weights", default="DEFAULT", help='"DEFAULT" (pretrained) or "random"')
ap.add_argument("--out", default=os.path.join(root, "models"), help="output directory")
args = ap.parse_args()

classifiers = torchvision.models.list_models(module=torchvision.models)
if args.name not in classifiers:
    raise SystemExit(f"{args.name} is not a torchvision classifier; one of: {', '.join(classifiers)}")
torch.manual_seed(0)
if args.weights == "random":
    net = torchvision.models.get_model(args.name, weights=None)
    labels = list(_IMAGENET_CATEGORIES)
else:
    try:
        weights = torchvision.models.get_model_weights(args.name)[args.weights]
        net = torchvision.models.get_model(args.name, weights=weights)
    except Exception as e:  # offline, or no such weights
        raise SystemExit(f"cannot get {args.name}'s {args.weights} weights ({e}); "
                         "try --weights random on a machine without internet")
    labels = list(weights.meta["categories"])
net.eval()
os.makedirs(args.out, exist_ok=True)
onnx_path = os.path.join(args.out, f"{args.name}.onnx")
torch.onnx.export(
    net, torch.randn(1, 3, 224, 224), onnx_path, opset_version=13,
    input_names=["input"], output_names=["output"],
    dynamic_axes={"input": {0: "n"}, "output": {0: "n"}},
)
with open(os.path.join(args.out, f"serve-{args.name}.ts"), "w") as f:
    f.write(f"// The model wrangler.{args.name}.toml serves (scripts/serve_torchvision.py).\n")
    f.write(f'export {{ default }} from "./{args.name}.onnx";\n')
main = os.path.relpath(os.path.join(root, "worker", "index.ts"), args.out)
toml = f"""# Serves torchvision's {args.name} ({args.weights} weights), written by
# scripts/serve_torchvision.py. Run: deno task dev --config {os.path.relpath(args.out, root)}/wrangler.{args.name}.toml
name = "convnet-wasm-{args.name.replace('_', '-')}"
main = "{main}"
compatibility_date = "2025-09-01"

[alias]
"served-model" = "./serve-{args.name}.ts"

[[rules]]
type = "Data"
globs = ["**/*.safetensors", "**/*.onnx"]
fallthrough = false

[[rules]]
type = "Text"
globs = ["**/*.html", "**/page/local.js"]
fallthrough = false

[vars]
CORS_ORIGINS = "*"
# torchvision's ImageNet evaluation: Resize(256), CenterCrop(224), Normalize.
MODEL_PREPROCESS = "center-crop"
MODEL_RESIZE = "256"
MODEL_MEAN = "0.485,0.456,0.406"
MODEL_STD = "0.229,0.224,0.225"
MODEL_NAME = "{args.name}"
# The {len(labels)} category names, one per line.
MODEL_LABELS = '''
{chr(10).join(labels)}
'''
"""
assert all("'''" not in l and "\n" not in l for l in labels)
with open(os.path.join(args.out, f"wrangler.{args.name}.toml"), "w") as f:
    f.write(toml)
print(f"wrote {onnx_path} ({os.path.getsize(onnx_path) / 1e6:.1f} MB), serve-{args.name}.ts, "
      f"wrangler.{args.name}.toml in {args.out}")
