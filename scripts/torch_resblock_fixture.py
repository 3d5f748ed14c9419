"""Writes tests/fixtures/torch_resblock.json: a residual block with BatchNorm
(conv-BN-ReLU-conv-BN plus a 1x1 projection, added, ReLU, global average
pooling, linear), one SGD step on a batch in training mode, computed by
PyTorch: the initial weights, the loss, every gradient, and the updated
weights and running statistics. Tensors in this library's layouts.

Run with Debian's PyTorch: `/usr/bin/python3 scripts/torch_resblock_fixture.py`.
"""
import json
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(7)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 4, 3, padding=1)
        self.b1 = nn.BatchNorm2d(4)
        self.c2 = nn.Conv2d(4, 4, 3, padding=1)
        self.b2 = nn.BatchNorm2d(4)
        self.proj = nn.Conv2d(3, 4, 1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        h = F.relu(self.b1(self.c1(x)))
        h = self.b2(self.c2(h))
        h = F.relu(h + self.proj(x))
        return self.fc(h.mean(dim=(2, 3)))


m = Block()
with torch.no_grad():  # non-trivial BatchNorm parameters and statistics
    for bn in (m.b1, m.b2):
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
        bn.running_mean.uniform_(-0.2, 0.2)
        bn.running_var.uniform_(0.5, 1.5)
x = torch.randn(4, 3, 6, 6)
labels = torch.tensor([0, 2, 1, 2])


def conv_w(w):  # [cOut, cIn, kH, kW] -> [kH, kW, cIn, cOut]
    return w.detach().permute(2, 3, 1, 0).reshape(-1).tolist()


def weights(m):
    return {
        "c1.kernel": conv_w(m.c1.weight), "c1.bias": m.c1.bias.tolist(),
        "b1.gamma": m.b1.weight.tolist(), "b1.beta": m.b1.bias.tolist(),
        "b1.runningMean": m.b1.running_mean.tolist(), "b1.runningVar": m.b1.running_var.tolist(),
        "c2.kernel": conv_w(m.c2.weight), "c2.bias": m.c2.bias.tolist(),
        "b2.gamma": m.b2.weight.tolist(), "b2.beta": m.b2.bias.tolist(),
        "b2.runningMean": m.b2.running_mean.tolist(), "b2.runningVar": m.b2.running_var.tolist(),
        "proj.kernel": conv_w(m.proj.weight), "proj.bias": m.proj.bias.tolist(),
        "fc.kernel": m.fc.weight.detach().t().reshape(-1).tolist(), "fc.bias": m.fc.bias.tolist(),
    }


with torch.no_grad():
    before = {k: [float(v) for v in vals] for k, vals in weights(m).items()}
m.train()
opt = torch.optim.SGD(m.parameters(), lr=0.1)
opt.zero_grad()
loss = F.cross_entropy(m(x), labels)
loss.backward()
grads = {
    "c1.kernel": conv_w(m.c1.weight.grad), "c1.bias": m.c1.bias.grad.tolist(),
    "b1.gamma": m.b1.weight.grad.tolist(), "b1.beta": m.b1.bias.grad.tolist(),
    "c2.kernel": conv_w(m.c2.weight.grad), "c2.bias": m.c2.bias.grad.tolist(),
    "b2.gamma": m.b2.weight.grad.tolist(), "b2.beta": m.b2.bias.grad.tolist(),
    "proj.kernel": conv_w(m.proj.weight.grad), "proj.bias": m.proj.bias.grad.tolist(),
    "fc.kernel": m.fc.weight.grad.t().reshape(-1).tolist(), "fc.bias": m.fc.bias.grad.tolist(),
}
opt.step()
with torch.no_grad():
    after = {k: [float(v) for v in vals] for k, vals in weights(m).items()}
out = {
    "generator": "scripts/torch_resblock_fixture.py", "torch": torch.__version__,
    "x": {"shape": [4, 6, 6, 3], "data": x.permute(0, 2, 3, 1).reshape(-1).tolist()},
    "labels": labels.tolist(), "lr": 0.1, "loss": float(loss),
    "before": before, "grads": grads, "after": after,
}
with open("tests/fixtures/torch_resblock.json", "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("wrote tests/fixtures/torch_resblock.json, loss", float(loss))
