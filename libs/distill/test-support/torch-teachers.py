"""Exports tiny PyTorch MLP teachers the way a site's ML engineer would (torch.onnx.export),
with torch's own outputs for a few fixed inputs, for the specs of site-provided ONNX teachers.

usage: python3 torch-teachers.py OUT_DIR FEATURES CLASSES

Writes to OUT_DIR:
  a.onnx, b.onnx     two MLPs, input 'x', output 'scores' (logits), dynamic batch axis
  probs.onnx         softmax inside: output 'scores' holds probabilities
  fixed1.onnx        like a.onnx, exported with a fixed batch of 1 (no dynamic_axes)
  two-outputs.onnx   outputs 'scores' (logits) and 'probs' (probabilities)
  batch-bound.onnx   declares a dynamic batch but reshapes to a batch of 1 inside
  golden.json        the inputs and torch's class probabilities at temperature 1 and 2
Seeded: the same arguments give the same weights and outputs.
"""
import json
import sys

import torch


class Mlp(torch.nn.Module):
    def __init__(self, features, hidden, classes, head="logits"):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(features, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, classes)
        )
        self.head = head

    def forward(self, x):
        if self.head == "batch-bound":
            x = x.reshape(1, FEATURES)  # a common export slip: the batch of 1 is baked in
        scores = self.net(x)
        if self.head == "probabilities":
            return torch.softmax(scores, dim=1)
        if self.head == "two":
            return scores, torch.softmax(scores, dim=1)
        return scores


def export(model, path, features, outputs, dynamic=True):
    dummy = torch.zeros(1, features)
    axes = {name: {0: "batch"} for name in ["x", *outputs]} if dynamic else None
    torch.onnx.export(
        model, dummy, path, input_names=["x"], output_names=outputs, dynamic_axes=axes, opset_version=13
    )


def tempered(probabilities, temperature):
    # softmax(log p / T): the same tempered distribution as softmax(z / T) for logits z.
    return torch.softmax(torch.log(probabilities) / temperature, dim=1)


out, FEATURES, CLASSES = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.manual_seed(12)
a = Mlp(FEATURES, 8, CLASSES).eval()
b = Mlp(FEATURES, 5, CLASSES).eval()
p = Mlp(FEATURES, 6, CLASSES, "probabilities").eval()
two = Mlp(FEATURES, 4, CLASSES, "two").eval()
bound = Mlp(FEATURES, 4, CLASSES, "batch-bound").eval()

export(a, f"{out}/a.onnx", FEATURES, ["scores"])
export(b, f"{out}/b.onnx", FEATURES, ["scores"])
export(p, f"{out}/probs.onnx", FEATURES, ["scores"])
export(a, f"{out}/fixed1.onnx", FEATURES, ["scores"], dynamic=False)
export(two, f"{out}/two-outputs.onnx", FEATURES, ["scores", "probs"])
export(bound, f"{out}/batch-bound.onnx", FEATURES, ["scores"])

x = torch.randn(5, FEATURES)
golden = {"features": FEATURES, "classes": CLASSES, "x": x.flatten().tolist(), "models": {}}
with torch.no_grad():
    for name, model in [("a", a), ("b", b), ("probs", p), ("fixed1", a), ("two-outputs", two)]:
        y = model(x)
        probabilities = y[1] if isinstance(y, tuple) else y
        if name != "probs" and not isinstance(y, tuple):
            probabilities = torch.softmax(y, dim=1)
        golden["models"][name] = {
            "t1": probabilities.flatten().tolist(),
            "t2": tempered(probabilities.double(), 2.0).flatten().tolist(),
        }
with open(f"{out}/golden.json", "w") as f:
    json.dump(golden, f)
