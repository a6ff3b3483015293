"""PyTorch side of bench/engine-throughput.ts: the same models, batch and thread count.

Run by the TypeScript benchmark with /usr/bin/python3 (Debian's python3-torch). Prints one
JSON object: {"torch_version", "mlp_samples_per_s", "cnn_samples_per_s"}.
Usage: torch_throughput.py <threads> <batch> <samples> <cnn_c1> <cnn_c2> <cnn_hidden>
"""
import json
import sys
import time

import torch
from torch import nn


def mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def cnn(c1, c2, hidden):
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * 7 * 7, hidden), nn.ReLU(), nn.Linear(hidden, 10),
    )


def throughput(model, shape, batch, samples):
    """Samples/s of SGD-momentum training steps over one epoch of random data of `shape`."""
    torch.manual_seed(0)
    steps = samples // batch
    x = torch.rand((steps, batch) + shape)
    y = torch.randint(0, 10, (steps, batch))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def step(i):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[i]), y[i])
        loss.backward()
        opt.step()

    for i in range(min(10, steps)):  # warm-up, as the TypeScript side
        step(i)
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    return steps * batch / (time.perf_counter() - start)


def main():
    threads, batch, samples, c1, c2, hidden = (int(v) for v in sys.argv[1:7])
    torch.set_num_threads(threads)
    out = {
        "torch_version": torch.__version__,
        "mlp_samples_per_s": throughput(mlp(), (784,), batch, samples),
        "cnn_samples_per_s": throughput(cnn(c1, c2, hidden), (1, 28, 28), batch, samples),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
