"""PyTorch's side of the model benchmark (bench/model.ts runs it when
`/usr/bin/python3 -c "import torch"` works): the MNIST CNN of BENCHMARKS.md,
trained on batches of 32 with Adam and run on one image and on batches of 64,
with 1 and 2 threads (`torch.set_num_threads`). Prints one JSON object.

Install: apt-get install python3-torch libopenblas0-pthread (Debian).
"""

import json
import sys
import time

import torch
from torch import nn


def net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
    )


def median_ms(fn, budget_s: float, min_reps: int) -> float:
    warm = time.perf_counter()
    for i in range(50):
        fn()
        if i >= 3 and time.perf_counter() - warm > budget_s / 4:
            break
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < budget_s:
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
        if len(times) >= 2000:
            break
    times.sort()
    return times[len(times) // 2]


def measure(threads: int) -> dict:
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(32, 1, 28, 28)
    y = torch.arange(32) % 10

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    train = median_ms(step, 2.0, 10)
    model.eval()
    one, x64 = torch.rand(1, 1, 28, 28), torch.rand(64, 1, 28, 28)
    with torch.no_grad():
        inf1 = median_ms(lambda: model(one), 1.0, 50)
        inf64 = median_ms(lambda: model(x64), 1.0, 10)
    return {"trainMs": train, "oneMs": inf1, "batch64Ms": inf64}


def best(runs: list) -> dict:
    """Each figure's best over the runs (as the TypeScript side does)."""
    return {k: min(r[k] for r in runs) for k in runs[0]}


if __name__ == "__main__":
    out = {
        "version": torch.__version__,
        "threads": {str(t): best([measure(t) for _ in range(3)]) for t in (1, 2)},
    }
    json.dump(out, sys.stdout)
