"""Backpropagation through time, measured: how much of the gradient reaches early time steps
in a vanilla RNN, an LSTM and a GRU.

The task is the adding problem (Hochreiter & Schmidhuber, 1997): each sequence step holds a
random number in [0, 1) and a marker; exactly two steps are marked, one in the first half
of the sequence and one in the second, and the target, given only after the last step, is
the sum of the two marked numbers. Always answering the mean (1.0) scores a mean squared
error of 1/6; doing better needs the first marked number carried across half the sequence.

For each model (one recurrent layer of ``hidden`` units, then a Linear read-out of the last
hidden state; PyTorch's default initialisation), the norm of dL/dh_t, the loss's gradient
with respect to the hidden state at step ``t``, is measured for every step at
initialisation and again after ``steps`` Adam steps on the same batches, with the test
error and accuracy (|prediction - target| < 0.04) each model reaches. The gradient at an
early step is what is left of the loss's gradient after the chain rule has multiplied it
through every later step: where it vanishes, the first marked number cannot be learned.

The numbers are whatever this run measures; nothing is assumed about them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .. import nn, optim
from ..autograd.engine import grad
from ..autograd.grad_mode import no_grad
from ..creation import from_numpy, zeros
from ..nn import functional_rnn
from ..random import manual_seed
from .vanishing import NormRatios, aligned, plot_norms

#: The models compared, in the order they are reported: (label, nn class name).
MODELS = (("RNN (tanh)", "RNN"), ("LSTM", "LSTM"), ("GRU", "GRU"))
#: A prediction this close to the target counts as right.
TOLERANCE = 0.04


def adding_problem(count: int, length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` sequences of the adding problem: inputs ``(length, count, 2)`` (value,
    marker) and targets ``(count, 1)``, float32."""
    values = rng.random((length, count)).astype(np.float32)
    first = rng.integers(0, length // 2, count)
    second = rng.integers(length // 2, length, count)
    markers = np.zeros((length, count), dtype=np.float32)
    columns = np.arange(count)
    markers[first, columns] = 1.0
    markers[second, columns] = 1.0
    targets = values[first, columns] + values[second, columns]
    return np.stack((values, markers), axis=-1), targets[:, None].astype(np.float32)


class Reader(nn.Module):
    """One recurrent layer and a Linear read-out of its last hidden state."""

    def __init__(self, kind: str, hidden: int) -> None:
        super().__init__()
        self.rnn = getattr(nn, kind)(2, hidden)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: Any) -> Any:
        output, _ = self.rnn(x)
        return self.head(output[-1])


def hidden_gradient_norms(model: Reader, x: Any, y: Any) -> np.ndarray:
    """‖∂L/∂h_t‖ for every step t (the batch's mean squared error), measured by running the
    layer one step at a time with its own weights (the cell functions), so that every h_t is
    a tensor of the graph that autograd can differentiate the loss with respect to."""
    rnn = model.rnn
    weights = (rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0)
    batch = x.shape[1]
    h = zeros(batch, rnn.hidden_size)
    c = zeros(batch, rnn.hidden_size)
    states = []
    for t in range(x.shape[0]):
        if rnn.mode == "LSTM":
            h, c = functional_rnn.lstm_cell(x[t], (h, c), *weights)
        elif rnn.mode == "GRU":
            h = functional_rnn.gru_cell(x[t], h, *weights)
        else:
            h = functional_rnn.rnn_tanh_cell(x[t], h, *weights)
        states.append(h)
    loss = nn.functional.mse_loss(model.head(h), y)
    grads = grad(loss, states)
    return np.array([float(np.linalg.norm(g.numpy().astype(np.float64))) for g in grads])


def evaluate(model: Reader, x: Any, y: Any) -> tuple[float, float]:
    """Mean squared error and accuracy (within ``TOLERANCE``) on ``(x, y)``."""
    with no_grad():
        error = (model(x) - y).numpy()[:, 0]
    return float(np.mean(error ** 2)), float(np.mean(np.abs(error) < TOLERANCE))


@dataclass
class Run(NormRatios):
    """One model's measurements; norms are per time step, the first step first (its ratios:
    ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖)."""

    name: str
    norms_init: np.ndarray
    norms_final: np.ndarray
    mse_init: float
    mse: float
    accuracy: float


@dataclass
class ThroughTimeResult:
    length: int
    hidden: int
    steps: int
    lr: float
    seed: int
    batch_size: int
    runs: list[Run] = field(default_factory=list)

    def table(self) -> str:
        """‖∂L/∂h_t‖ at a dozen steps t, at initialisation and after training."""
        picked = sorted({int(round(t)) for t in np.linspace(1, self.length, min(self.length, 11))})
        blocks = []
        for title, attr in (("at initialisation", "norms_init"), (f"after {self.steps} steps", "norms_final")):
            header = ["step t"] + [r.name for r in self.runs]
            rows = [[str(t) + (" (first)" if t == 1 else " (last)" if t == self.length else "")]
                    + [f"{getattr(r, attr)[t - 1]:.2e}" for r in self.runs] for t in picked]
            blocks.append(f"Gradient norm ‖∂L/∂h_t‖ per time step, {title}\n" + aligned(header, rows))
        return "\n\n".join(blocks)

    def summary(self) -> str:
        """Per model: first/last ratio at initialisation and after training, test error and accuracy."""
        header = ["model", "first/last at init", f"after {self.steps} steps", "test MSE at init",
                  f"after {self.steps} steps", "test accuracy"]
        rows = [[r.name, f"{r.ratio_init:.2e}", f"{r.ratio_final:.2e}", f"{r.mse_init:.4f}", f"{r.mse:.4f}",
                 f"{100 * r.accuracy:.1f}%"] for r in self.runs]
        return aligned(header, rows) + (f"\n(answering the mean scores a test MSE of 1/6 = {1 / 6:.4f}; "
                                           f"accuracy: |prediction - target| < {TOLERANCE})")

    def plot(self, path: str | os.PathLike) -> str:
        """A picture: ‖∂L/∂h_t‖ against t (log scale), one curve per model, at initialisation
        and after training."""
        return plot_norms(path, self.runs, np.arange(1, self.length + 1), f"after {self.steps} Adam steps",
                          lambda run: f"{run.name}: test MSE {run.mse:.3f}, accuracy {100 * run.accuracy:.0f}%",
                          "time step t (the loss is computed after the last)", "‖∂L/∂h_t‖", "‖∂L/∂h_t‖",
                          f"Backpropagation through time: the adding problem, {self.length} steps, "
                          f"{self.hidden} hidden units (seed {self.seed})", markersize=2)


def run_experiment(length: int = 40, hidden: int = 32, steps: int = 400, lr: float = 0.01, seed: int = 0,
                   batch_size: int = 64, models: tuple = MODELS, test_size: int = 500,
                   log: Callable[[str], Any] | None = None) -> ThroughTimeResult:
    """Train each model for ``steps`` Adam steps on the same batches, and measure."""
    if length < 2 or hidden < 1 or steps < 0 or batch_size < 1 or not lr > 0:
        raise ValueError("length must be >= 2, hidden and batch_size >= 1, steps >= 0 and lr > 0")
    test_x, test_y = (from_numpy(a) for a in adding_problem(test_size, length, np.random.default_rng(
        seed + 1)))
    probe_x, probe_y = test_x[:, :256], test_y[:256]
    result = ThroughTimeResult(length, hidden, steps, lr, seed, batch_size)
    for name, kind in models:
        manual_seed(seed)
        model = Reader(kind, hidden)
        norms_init = hidden_gradient_norms(model, probe_x, probe_y)
        mse_init, _ = evaluate(model, test_x, test_y)
        optimizer = optim.Adam(model.parameters(), lr=lr)
        batches = np.random.default_rng(seed)
        for _ in range(steps):
            x, y = adding_problem(batch_size, length, batches)
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(from_numpy(x)), from_numpy(y))
            loss.backward()
            optimizer.step()
        norms_final = hidden_gradient_norms(model, probe_x, probe_y)
        mse, accuracy = evaluate(model, test_x, test_y)
        run = Run(name, norms_init, norms_final, mse_init, mse, accuracy)
        result.runs.append(run)
        if log is not None:
            log(f"  {name}: first/last gradient ratio {run.ratio_init:.2e} at init, {run.ratio_final:.2e} after "
                f"{steps} steps; test MSE {mse:.4f}, accuracy {100 * accuracy:.1f}%")
    return result
