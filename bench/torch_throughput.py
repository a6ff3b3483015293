"""PyTorch side of bench/engine-throughput.ts: one fresh process per sample of the harness.

Trains the same model as the engine (MLP 784-256-10 or the small CNN) with SGD momentum 0.9,
lr 0.05, on the batch file the harness wrote (bench/harness/batch-file.ts): the first `warmup`
batches untimed, then `warmup-passes` untimed passes over every batch, then `passes` timed passes
over every batch, one optimizer step per batch, as the engine.
Run with /usr/bin/python3 (Debian's python3-torch). Prints one JSON line:
{"samples_per_s", "peak_rss_kb", "cpu_samples_per_s", "seconds", "page_faults_per_step", "steps",
"last_loss", "torch_version", "threads"},
plus "first_pass_samples_per_s" (the first warm-up pass) when there is one.
Usage: torch_throughput.py --model mlp|cnn --data DIR --threads T --cnn C1,C2,HIDDEN [--warmup 10]
       [--warmup-passes 0] [--passes 1]
The harness sets OMP_NUM_THREADS, OMP_WAIT_POLICY and GLIBC_TUNABLES (the allocator, as for the
engine) in the environment; see docs/benchmarks.md.
"""
import argparse
import json
import resource
import time

import numpy as np
import torch
from torch import nn


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def cnn(c1, c2, hidden):
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * 7 * 7, hidden), nn.ReLU(), nn.Linear(hidden, 10),
    )


def read_batches(directory):
    """The harness's batch file as tensors x [steps, batch, ...shape] and y [steps, batch]."""
    with open(f"{directory}/meta.json", encoding="utf8") as f:
        meta = json.load(f)
    steps, batch, shape = meta["steps"], meta["batch"], tuple(meta["inputShape"])
    x = np.fromfile(f"{directory}/x.f32", dtype="<f4").reshape((steps, batch) + shape)
    y = np.fromfile(f"{directory}/y.i64", dtype="<i8").reshape((steps, batch))
    return torch.from_numpy(x), torch.from_numpy(y)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["mlp", "cnn"], required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--cnn", default="16,32,128")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--warmup-passes", type=int, default=0)
    p.add_argument("--passes", type=int, default=1)
    a = p.parse_args()
    if a.warmup_passes < 0:
        p.error(f"--warmup-passes must be >= 0, got {a.warmup_passes}")
    if a.passes < 1:
        p.error(f"--passes must be >= 1, got {a.passes}")
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)  # as the engine's ORT session (inter-op threads 1)
    torch.manual_seed(0)
    x, y = read_batches(a.data)
    model = mlp() if a.model == "mlp" else cnn(*(int(v) for v in a.cnn.split(",")))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def step(i):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[i]), y[i])
        loss.backward()
        opt.step()
        return loss

    for i in range(min(a.warmup, x.shape[0])):
        step(i)
    first_pass = None
    for _ in range(a.warmup_passes):
        t0 = time.perf_counter()
        for i in range(x.shape[0]):
            step(i)
        if first_pass is None:
            first_pass = x.shape[0] * x.shape[1] / (time.perf_counter() - t0)
    start = time.perf_counter()
    cpu = time.process_time()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(a.passes):
        for i in range(x.shape[0]):
            loss = step(i)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    report = {
        "samples_per_s": a.passes * x.shape[0] * x.shape[1] / seconds,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        # Samples per CPU-second of the process (all threads), as the engine's worker reports.
        "cpu_samples_per_s": a.passes * x.shape[0] * x.shape[1] / cpu,
        "seconds": seconds,
        # Minor page faults per timed step, as the engine's worker reports.
        "page_faults_per_step": faults / (a.passes * x.shape[0]),
        "steps": a.passes * x.shape[0],
        "last_loss": float(loss),
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    if first_pass is not None:
        report["first_pass_samples_per_s"] = first_pass
    print(json.dumps(report))


if __name__ == "__main__":
    main()
