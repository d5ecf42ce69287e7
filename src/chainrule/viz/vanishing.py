"""The vanishing-gradient experiment: one deep MLP, four ways.

The same network (``depth`` hidden layers of ``width`` units on the embedded digits) is
built with sigmoid (PyTorch's default initialisation, then Xavier), tanh (Xavier) and ReLU
(Kaiming).  For each, the gradient norm of every layer's weights is measured on the whole
training set at initialisation and again after ``steps`` steps of SGD with momentum, along
with the test accuracy reached.  The ratio of the first layer's gradient norm to the last
layer's says how much of the gradient survives the trip back through the chain rule.

The numbers are whatever this run measures; nothing is assumed about them.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .. import nn, optim
from ..autograd.engine import grad
from ..autograd.grad_mode import no_grad
from ..creation import tensor
from ..data.datasets import digits
from ..optional import require
from ..random import manual_seed
from .gradflow import save_figure

#: (activation, initialisation) pairs, in the order they are reported.
CONFIGS = (("sigmoid", "default"), ("sigmoid", "xavier"), ("tanh", "xavier"), ("relu", "kaiming"))


def aligned(header: list[str], rows: list[list[str]]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[k]) for row in [header] + rows) for k in range(len(header))]
    return "\n".join("  ".join(c.rjust(w) if k else c.ljust(w) for k, (c, w) in enumerate(zip(row, widths)))
                     for row in [header] + rows)


def plot_norms(path: str | os.PathLike, runs: list, positions: np.ndarray, after: str, label: Callable,
               xlabel: str, title: str, ylabel: str, suptitle: str, integer_ticks: bool = False,
               markersize: int = 3) -> str:
    """Two log-scale panels of each run's gradient norms against ``positions`` (layers or time
    steps), at initialisation and ``after`` training; ``label(run)`` names a run's curve
    (MissingDependency without matplotlib)."""
    require("matplotlib", "the plot").use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for ax, attr, when in ((axes[0], "norms_init", "at initialisation"), (axes[1], "norms_final", after)):
        for run in runs:
            values = getattr(run, attr)
            ax.plot(positions, np.where(values > 0, values, np.nan), marker="o", markersize=markersize,
                    label=label(run))
        ax.set_yscale("log")
        if integer_ticks:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(xlabel)
        ax.set_title(f"{title}, {when}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel(ylabel)
    axes[1].legend(fontsize=8)
    fig.suptitle(suptitle)
    fig.tight_layout()
    written = save_figure(fig, path)
    plt.close(fig)
    return written


class NormRatios:
    """The first-to-last ratio of a run's gradient norms (``norms_init``, ``norms_final``): how
    much of the gradient reaches the first layer (or time step) compared with the last."""

    norms_init: np.ndarray
    norms_final: np.ndarray

    @staticmethod
    def _ratio(norms: np.ndarray) -> float:
        return float(norms[0] / norms[-1]) if norms[-1] > 0 else math.nan

    @property
    def ratio_init(self) -> float:
        """‖first‖ / ‖last‖ at initialisation."""
        return self._ratio(self.norms_init)

    @property
    def ratio_final(self) -> float:
        """‖first‖ / ‖last‖ after training."""
        return self._ratio(self.norms_final)


@dataclass
class Run(NormRatios):
    """One configuration's measurements; norms are per Linear layer, input side first."""

    activation: str
    init: str
    norms_init: np.ndarray
    norms_final: np.ndarray
    accuracy_init: float
    accuracy: float
    loss: float

    @property
    def name(self) -> str:
        return f"{self.activation} ({self.init} init)"


@dataclass
class VanishingResult:
    depth: int
    width: int
    steps: int
    lr: float
    seed: int
    batch_size: int
    runs: list[Run] = field(default_factory=list)

    def table(self) -> str:
        """Gradient norm of every layer, at initialisation and after training."""
        header = ["layer"] + [f"{r.activation}/{r.init}" for r in self.runs]
        blocks = []
        for title, attr in (("at initialisation", "norms_init"), (f"after {self.steps} steps", "norms_final")):
            rows = []
            for i in range(self.depth + 1):
                label = f"{i + 1}" + (" (input)" if i == 0 else " (output)" if i == self.depth else "")
                rows.append([label] + [f"{getattr(r, attr)[i]:.2e}" for r in self.runs])
            blocks.append(f"Gradient norm ‖∂L/∂W‖ per layer, {title}\n" + aligned(header, rows))
        return "\n\n".join(blocks)

    def summary(self) -> str:
        """Per configuration: first/last gradient-norm ratio and test accuracy."""
        header = ["activation (init)", "first/last at init", f"after {self.steps} steps",
                  "test acc. at init", f"after {self.steps} steps", "final batch loss"]
        rows = [[r.name, f"{r.ratio_init:.2e}", f"{r.ratio_final:.2e}", f"{100 * r.accuracy_init:.1f}%",
                 f"{100 * r.accuracy:.1f}%", f"{r.loss:.3f}"] for r in self.runs]
        return aligned(header, rows)

    def plot(self, path: str | os.PathLike) -> str:
        """A PNG: gradient norm against depth (log scale), one line per configuration, at
        initialisation and after training (MissingDependency without matplotlib)."""
        return plot_norms(path, self.runs, np.arange(1, self.depth + 2), f"after {self.steps} SGD steps",
                          lambda run: f"{run.name}: test acc. {100 * run.accuracy:.0f}%", "layer (1 = input side)",
                          "Gradient norm per layer", "‖∂L/∂W‖",
                          f"{self.depth} hidden layers of {self.width} units on the digits (seed {self.seed})",
                          integer_ticks=True)


def load_digits(seed: int) -> tuple:
    """The embedded digits, flattened, standardised with the training set's statistics and
    split 80/20 by a seeded permutation: (train_x, train_y, test_x, test_y)."""
    x, y = digits(flatten=True)
    x, y = np.asarray(x.numpy(), dtype=np.float32), y.numpy()
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = len(x) // 5
    test, train = order[:n_test], order[n_test:]
    mean, std = x[train].mean(axis=0), x[train].std(axis=0) + 0.1
    x = (x - mean) / std
    return (tensor(x[train]), tensor(y[train]),
            tensor(x[test]), tensor(y[test]))


def build_mlp(depth: int, width: int, activation: str, init: str, in_features: int = 64,
              classes: int = 10) -> Any:
    """``depth`` hidden Linear+activation layers and a Linear output, initialised with
    ``init``: "default" (nn.Linear's own), "xavier" (Xavier-uniform, gain for the activation)
    or "kaiming" (Kaiming-normal for ReLU); biases zero except for "default"."""
    kinds = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
    if activation not in kinds:
        raise ValueError(f"activation must be one of {', '.join(kinds)}, got {activation!r}")
    if init not in ("default", "xavier", "kaiming"):
        raise ValueError(f"init must be default, xavier or kaiming, got {init!r}")
    layers: list = []
    fan_in = in_features
    for _ in range(depth):
        layers += [nn.Linear(fan_in, width), kinds[activation]()]
        fan_in = width
    layers.append(nn.Linear(fan_in, classes))
    model = nn.Sequential(*layers)
    for layer in model:
        if isinstance(layer, nn.Linear) and init != "default":
            if init == "xavier":
                nn.init.xavier_uniform_(layer.weight, gain=nn.init.calculate_gain(activation))
            else:
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
    return model


def layer_gradient_norms(model: Any, x: Any, y: Any) -> np.ndarray:
    """‖∂L/∂W‖ of every Linear layer for the cross-entropy on (x, y); no .grad is written."""
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    loss = nn.functional.cross_entropy(model(x), y)
    grads = grad(loss, weights)
    return np.array([float(np.linalg.norm(np.asarray(g.numpy(), dtype=np.float64))) for g in grads])


def accuracy(model: Any, x: Any, y: Any) -> float:
    with no_grad():
        return float(np.mean(np.argmax(model(x).numpy(), axis=1) == y.numpy()))


def run_experiment(depth: int = 20, width: int = 64, steps: int = 300, lr: float = 0.01,
                   seed: int = 0, batch_size: int = 64, momentum: float = 0.9,
                   configs: tuple = CONFIGS, log: Any = None) -> VanishingResult:
    """Train each configuration for ``steps`` SGD steps on the same batches and measure."""
    if depth < 1 or width < 1 or steps < 0 or batch_size < 1 or not lr > 0:
        raise ValueError("depth, width and batch_size must be >= 1, steps >= 0 and lr > 0")
    train_x, train_y, test_x, test_y = load_digits(seed)
    result = VanishingResult(depth, width, steps, lr, seed, batch_size)
    for activation, init in configs:
        manual_seed(seed)
        model = build_mlp(depth, width, activation, init, train_x.shape[1])
        norms_init = layer_gradient_norms(model, train_x, train_y)
        accuracy_init = accuracy(model, test_x, test_y)
        optimizer = optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        batches = np.random.default_rng(seed)
        loss = math.nan
        with np.errstate(all="ignore"):
            for _ in range(steps):
                index = tensor(batches.integers(0, len(train_x), batch_size))
                optimizer.zero_grad()
                batch_loss = nn.functional.cross_entropy(model(train_x[index]), train_y[index])
                batch_loss.backward()
                optimizer.step()
                loss = batch_loss.item()
            norms_final = layer_gradient_norms(model, train_x, train_y)
            final_accuracy = accuracy(model, test_x, test_y)
        run = Run(activation, init, norms_init, norms_final, accuracy_init, final_accuracy, loss)
        result.runs.append(run)
        if log is not None:
            log(f"  {run.name}: first/last gradient ratio {run.ratio_init:.2e} at init, "
                f"test accuracy {100 * run.accuracy:.1f}% after {steps} steps")
    return result
