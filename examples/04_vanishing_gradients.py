"""Vanishing gradients: the same deep network with sigmoid, tanh and ReLU.

The chain rule multiplies one local derivative per layer.  Sigmoid's is at most 1/4, so the
gradient that reaches the first layers shrinks geometrically with depth, and those layers
barely learn; ReLU (with Kaiming initialisation) passes it on.  The full experiment, with
training, is `chainrule vanishing`.

Run: python examples/04_vanishing_gradients.py   (writes example_outputs/vanishing.png)
"""
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import chainrule as torch
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.datasets import digits

OUT = Path(os.environ.get("CHAINRULE_EXAMPLES_OUT", "example_outputs"))
OUT.mkdir(parents=True, exist_ok=True)
DEPTH, WIDTH = 15, 32

images, labels = digits(flatten=True)
x, y = images[:256], labels[:256]


def deep_mlp(activation, init):
    layers = [nn.Linear(64, WIDTH), activation()]
    for _ in range(DEPTH - 1):
        layers += [nn.Linear(WIDTH, WIDTH), activation()]
    model = nn.Sequential(*layers, nn.Linear(WIDTH, 10))
    for layer in model:
        if isinstance(layer, nn.Linear) and init is not None:
            init(layer.weight)
            nn.init.zeros_(layer.bias)
    return model


setups = {
    "sigmoid, default init": (nn.Sigmoid, None),
    "sigmoid, Xavier init": (nn.Sigmoid, nn.init.xavier_uniform_),
    "tanh, Xavier init": (nn.Tanh, lambda w: nn.init.xavier_uniform_(w, gain=5 / 3)),
    "ReLU, Kaiming init": (nn.ReLU, lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")),
}
plt.figure(figsize=(7, 4.5))
for name, (activation, init) in setups.items():
    torch.manual_seed(0)
    model = deep_mlp(activation, init)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    norms = [layer.weight.grad.norm().item() for layer in model if isinstance(layer, nn.Linear)]
    print(f"{name:>22}: first layer |grad| {norms[0]:.2e}, last layer {norms[-1]:.2e}, "
          f"ratio {norms[0] / norms[-1]:.1e}")
    plt.plot(range(1, len(norms) + 1), norms, "o-", ms=3, label=name)
plt.yscale("log")
plt.xlabel("layer (1 = input side)")
plt.ylabel("|dL/dW| at initialisation")
plt.title(f"{DEPTH} hidden layers: the gradient reaching each layer")
plt.legend()
plt.tight_layout()
plt.savefig(OUT / "vanishing.png", dpi=100)
print(f"wrote {OUT / 'vanishing.png'}")
