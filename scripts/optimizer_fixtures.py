"""PyTorch's own numbers for SGD (momentum, dampening, Nesterov, weight decay), Adam (L2) and
AdamW: five steps from fixed weights with fixed gradients. Writes tests/fixtures/optimizers.json.
Run with Debian's PyTorch: /usr/bin/python3 scripts/optimizer_fixtures.py"""
import json, math, torch

w0 = [0.5, -1.25, 2.0, 0.0, -0.3]
grads = [[math.sin(1.7 * t + i) * (1 + 0.5 * i) for i in range(5)] for t in range(5)]
cases = [
    ("SGD", {"lr": 0.1}, lambda p: torch.optim.SGD(p, lr=0.1)),
    ("SGD", {"lr": 0.1, "weightDecay": 0.05}, lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.05)),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    ("SGD", {"lr": 0.1, "momentum": 0.8, "dampening": 0.3},
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, dampening=0.3)),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weightDecay": 0.01},
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("Adam", {"lr": 0.01}, lambda p: torch.optim.Adam(p, lr=0.01)),
    ("Adam", {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weightDecay": 0.1},
     lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("AdamW", {"lr": 0.01}, lambda p: torch.optim.AdamW(p, lr=0.01)),
    ("AdamW", {"lr": 0.02, "weightDecay": 0.3, "eps": 1e-7},
     lambda p: torch.optim.AdamW(p, lr=0.02, weight_decay=0.3, eps=1e-7)),
]
out = {"w0": w0, "grads": grads, "cases": []}
for name, options, make in cases:
    w = torch.tensor(w0, dtype=torch.float32, requires_grad=True)
    opt = make([w])
    steps = []
    for g in grads:
        w.grad = torch.tensor(g, dtype=torch.float32)
        opt.step()
        steps.append([float(v) for v in w.detach()])
    out["cases"].append({"optimizer": name, "options": options, "steps": steps})
with open("tests/fixtures/optimizers.json", "w") as f:
    json.dump(out, f, indent=1)
print("wrote tests/fixtures/optimizers.json:", len(cases), "cases")
