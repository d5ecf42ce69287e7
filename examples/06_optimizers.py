"""SGD, SGD with momentum, and Adam on the same problem: the Rosenbrock valley
f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, minimum at (1, 1), from the same start.

Run: python examples/06_optimizers.py   (writes example_outputs/optimizers.png)
"""
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import chainrule as torch

OUT = Path(os.environ.get("CHAINRULE_EXAMPLES_OUT", "example_outputs"))
OUT.mkdir(parents=True, exist_ok=True)


def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def minimise(make_optimizer, steps=500):
    p = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer([p])
    path, losses = [p.detach().numpy().copy()], []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = rosenbrock(p)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        path.append(p.detach().numpy().copy())
    return np.array(path), np.array(losses)


optimizers = {
    "SGD (lr 1e-3)": lambda params: torch.optim.SGD(params, lr=1e-3),
    "SGD + momentum 0.9 (lr 1e-3)": lambda params: torch.optim.SGD(params, lr=1e-3, momentum=0.9),
    "Adam (lr 0.05)": lambda params: torch.optim.Adam(params, lr=0.05),
}
results = {name: minimise(make) for name, make in optimizers.items()}

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
xs, ys = np.meshgrid(np.linspace(-2, 2, 200), np.linspace(-1, 3, 200))
left.contour(xs, ys, (1 - xs) ** 2 + 100 * (ys - xs ** 2) ** 2, levels=np.logspace(-1, 3.5, 15), cmap="Greys")
for name, (path, losses) in results.items():
    left.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=1, label=name)
    right.plot(losses, label=name)
    print(f"{name:>30}: loss {losses[-1]:.2e} at ({path[-1, 0]:.3f}, {path[-1, 1]:.3f}) after {len(losses)} steps")
left.plot([1], [1], "k*", ms=12)
left.set_title("paths on the Rosenbrock valley (minimum *)")
left.legend(fontsize=8)
right.set_yscale("log")
right.set_xlabel("step")
right.set_ylabel("f(x, y)")
right.set_title("loss")
right.legend(fontsize=8)
fig.tight_layout()
fig.savefig(OUT / "optimizers.png", dpi=100)
print(f"wrote {OUT / 'optimizers.png'}")
