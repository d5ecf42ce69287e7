"""The gradient flowing through each layer, recorded step by step while a network trains.

Three lines in any training loop::

    flow = chainrule.viz.GradientFlow(model)      # before training
    ...
        loss.backward(); optimizer.step()
        flow.step()                                # after each optimizer step
    flow.plot("gradient_flow.png")

Per layer (Linear and Conv layers by default) and step it records the weight and bias
gradient norms, the mean |gradient|, the fraction of gradient entries that are exactly zero,
the update-to-weight ratio ||W_after - W_before|| / ||W_before|| of the optimizer step, and
statistics of the activation that follows the layer: mean, std, the fraction saturated
(sigmoid, tanh: |output| within 1% of its bound) and, for ReLU-like activations, the fraction
of zero outputs and of dead units (zero for every example of the batch).

Gradients are caught by hooks on the parameters during backward (so the order of
``zero_grad`` in the loop does not matter), activations by forward hooks on the modules.
"""
from __future__ import annotations

import io
import math
import os
from dataclasses import asdict, dataclass, fields
from typing import Any, Iterable

import numpy as np

from ..autograd.grad_mode import is_grad_enabled
from ..atomic import atomic_write

LAYER_TYPES = ("Linear", "Bilinear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d",
               "ConvTranspose2d", "ConvTranspose3d")
SATURATING = {"Sigmoid": "sigmoid", "Tanh": "tanh", "Hardtanh": "tanh", "Hardsigmoid": "sigmoid",
              "Softsign": "tanh"}
RECTIFIERS = ("ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "Threshold", "ELU", "CELU", "SELU",
              "GELU", "SiLU", "Mish", "Softplus", "Hardswish")
#: An activation is saturated when it is within this fraction of its range from a bound.
SATURATION = 0.01


@dataclass
class LayerStats:
    """One layer at one step.  Activation fields are NaN when no activation module follows
    the layer (or it is not of a saturating / rectifying kind)."""

    step: int
    layer: str
    weight_grad_norm: float
    bias_grad_norm: float
    grad_mean_abs: float
    grad_zero_fraction: float
    update_ratio: float
    weight_norm: float
    activation: str = ""
    act_mean: float = math.nan
    act_std: float = math.nan
    act_saturated: float = math.nan
    act_zero_fraction: float = math.nan
    act_dead: float = math.nan


class GradientFlow:
    """Record per-layer gradient and activation statistics of ``model`` at every ``step()``.

    ``layers``: which modules to watch (modules or their dotted names); default every
    Linear/Conv layer.  ``activations``: also watch the activation modules that follow them.
    """

    def __init__(self, model: Any, layers: Iterable[Any] | None = None, activations: bool = True) -> None:
        named = list(model.named_modules())
        if layers is None:
            chosen = [(name, m) for name, m in named if type(m).__name__ in LAYER_TYPES]
        else:
            wanted = list(layers)
            by_name = dict(named)
            chosen = []
            for item in wanted:
                if isinstance(item, str):
                    if item not in by_name:
                        raise ValueError(f"GradientFlow: the model has no module named {item!r}")
                    chosen.append((item, by_name[item]))
                else:
                    name = next((n for n, m in named if m is item), None)
                    if name is None:
                        raise ValueError(f"GradientFlow: {type(item).__name__} is not part of the model")
                    chosen.append((name, item))
        if not chosen:
            raise ValueError("GradientFlow: the model has no Linear or Conv layer to watch; pass layers=")
        self.model = model
        self.layers = [(name or type(m).__name__, m) for name, m in chosen]
        self.records: list[LayerStats] = []
        self.steps = 0
        self._handles: list[Any] = []
        self._grads: dict[int, Any] = {}
        self._before: dict[int, Any] = {}
        self._acts: dict[str, tuple] = {}
        self._last_layer: str | None = None
        layer_ids = {id(m): name for name, m in self.layers}
        for name, module in self.layers:
            for param in (getattr(module, "weight", None), getattr(module, "bias", None)):
                if param is not None and getattr(param, "requires_grad", False):
                    self._handles.append(param.register_hook(self._grad_hook(param)))
            self._handles.append(module.register_forward_hook(self._layer_hook(name)))
        if activations:
            for name, module in named:
                kind = type(module).__name__
                if id(module) not in layer_ids and (kind in SATURATING or kind in RECTIFIERS):
                    self._handles.append(module.register_forward_hook(self._activation_hook(kind)))
        self._handles.append(model.register_forward_pre_hook(self._start_forward))

    # -- hooks ------------------------------------------------------------------------------
    def _grad_hook(self, param: Any) -> Any:
        key = id(param)

        def hook(grad: Any) -> None:
            g = np.asarray(grad.detach().cpu().numpy(), dtype=np.float64)
            if key not in self._before:
                self._before[key] = np.array(param.detach().cpu().numpy(), dtype=np.float64)
            self._grads[key] = g if key not in self._grads else self._grads[key] + g

        return hook

    def _start_forward(self, module: Any, args: Any) -> None:
        self._last_layer = None

    def _layer_hook(self, name: str) -> Any:
        def hook(module: Any, args: Any, output: Any) -> None:
            self._last_layer = name

        return hook

    def _activation_hook(self, kind: str) -> Any:
        def hook(module: Any, args: Any, output: Any) -> None:
            layer = self._last_layer
            if layer is None or not is_grad_enabled():
                return
            self._acts[layer] = (kind, activation_stats(kind, output.detach().cpu().numpy()))

        return hook

    # -- the step -------------------------------------------------------------------------
    def step(self) -> list[LayerStats]:
        """Record the statistics of the backward and optimizer step just done; call it after
        ``optimizer.step()``.  Returns this step's records (none if no backward ran)."""
        if not self._grads:
            self._acts.clear()
            return []
        self.steps += 1
        recorded = []
        for name, module in self.layers:
            weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
            gw = self._grads.get(id(weight)) if weight is not None else None
            gb = self._grads.get(id(bias)) if bias is not None else None
            if gw is None and gb is None:
                continue
            parts = [g.reshape(-1) for g in (gw, gb) if g is not None]
            flat = np.concatenate(parts)
            before = self._before.get(id(weight)) if weight is not None else None
            w_norm = float(np.linalg.norm(before)) if before is not None else math.nan
            if before is not None:
                change = float(np.linalg.norm(np.asarray(weight.detach().cpu().numpy(), dtype=np.float64) - before))
                ratio = change / w_norm if w_norm > 0 else math.nan
            else:
                ratio = math.nan
            kind, act = self._acts.get(name, ("", {}))
            stats = LayerStats(
                step=self.steps, layer=name,
                weight_grad_norm=float(np.linalg.norm(gw)) if gw is not None else math.nan,
                bias_grad_norm=float(np.linalg.norm(gb)) if gb is not None else math.nan,
                grad_mean_abs=float(np.mean(np.abs(flat))),
                grad_zero_fraction=float(np.mean(flat == 0)),
                update_ratio=ratio, weight_norm=w_norm, activation=kind, **act,
            )
            recorded.append(stats)
        self.records.extend(recorded)
        self._grads.clear()
        self._before.clear()
        self._acts.clear()
        return recorded

    def remove(self) -> None:
        """Unregister every hook (the records stay)."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def __enter__(self) -> "GradientFlow":
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    # -- reading the records ----------------------------------------------------------------
    @property
    def layer_names(self) -> list[str]:
        return [name for name, _ in self.layers]

    def label(self, name: str) -> str:
        """A layer's name for plots: ``Linear 0`` for Sequential's numbered children."""
        module = dict(self.layers).get(name)
        if module is not None and name.replace(".", "").isdigit():
            return f"{type(module).__name__} {name}"
        return name

    def series(self, metric: str = "weight_grad_norm") -> dict[str, np.ndarray]:
        """``{layer: values over the recorded steps}`` for one LayerStats field."""
        if metric not in {f.name for f in fields(LayerStats)}:
            raise ValueError(f"unknown metric {metric!r}; one of {', '.join(f.name for f in fields(LayerStats))}")
        out: dict[str, list] = {name: [] for name in self.layer_names}
        for r in self.records:
            out[r.layer].append(getattr(r, metric))
        return {name: np.asarray(v, dtype=np.float64) for name, v in out.items() if v}

    def at(self, step: int = -1) -> list[LayerStats]:
        """The records of one step (``-1``: the last one)."""
        if not self.records:
            return []
        number = self.steps + 1 + step if step < 0 else step
        return [r for r in self.records if r.step == number]

    def table(self, step: int = -1) -> str:
        """One step's statistics as a text table, one row per layer."""
        rows = self.at(step)
        if not rows:
            return "(no steps recorded)"
        header = ["layer", "|grad W|", "|grad b|", "mean|g|", "zero g", "update/W", "act", "mean", "std", "satur.", "dead"]
        body = []
        for r in rows:
            body.append([self.label(r.layer), _g(r.weight_grad_norm), _g(r.bias_grad_norm), _g(r.grad_mean_abs),
                         _pct(r.grad_zero_fraction), _g(r.update_ratio), r.activation or "-",
                         _g(r.act_mean), _g(r.act_std), _pct(r.act_saturated), _pct(r.act_dead)])
        widths = [max(len(x[i]) for x in [header] + body) for i in range(len(header))]
        lines = [f"step {rows[0].step}"]
        for row in [header] + body:
            lines.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
        return "\n".join(lines)

    def to_rows(self) -> list[dict]:
        return [asdict(r) for r in self.records]

    # -- plots ----------------------------------------------------------------------------
    def plot(self, path: str | os.PathLike, step: int = -1) -> str:
        """Write a PNG: the gradient norm of each layer over training (log scale) and a
        per-layer bar chart of one step (gradient norm and update-to-weight ratio)."""
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        if not self.records:
            raise RuntimeError("GradientFlow.plot: no steps recorded yet (call step() after optimizer.step())")
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
        self.plot_norms(axes[0])
        self.plot_step(axes[1], step)
        fig.tight_layout()
        written = save_figure(fig, path)
        plt.close(fig)
        return written

    def plot_norms(self, ax: Any) -> None:
        """Gradient norm per layer over the steps, log scale, one line per layer."""
        import matplotlib.pyplot as plt

        series = self.series("weight_grad_norm")
        colours = plt.cm.viridis(np.linspace(0, 0.9, max(len(series), 1)))
        for colour, (name, values) in zip(colours, series.items()):
            steps = np.arange(1, len(values) + 1)
            ax.plot(steps, np.where(values > 0, values, np.nan), color=colour, label=self.label(name),
                    linewidth=1.2)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("‖∂L/∂W‖")
        ax.set_title("Gradient norm per layer")
        if len(series) <= 12:
            ax.legend(fontsize=7, loc="best")
        ax.grid(True, which="both", alpha=0.3)

    def plot_step(self, ax: Any, step: int = -1) -> None:
        """Per-layer bars of one step: weight gradient norm and update-to-weight ratio (log)."""
        rows = self.at(step)
        names = [self.label(r.layer) for r in rows]
        x = np.arange(len(rows))
        grad = [r.weight_grad_norm for r in rows]
        ratio = [r.update_ratio for r in rows]
        ax.bar(x - 0.2, grad, width=0.4, label="‖∂L/∂W‖", color="#2c7bb6")
        ax.bar(x + 0.2, ratio, width=0.4, label="‖ΔW‖/‖W‖", color="#fdae61")
        ax.set_yscale("log")
        ax.set_xticks(x)
        ax.set_xticklabels(names, rotation=45, ha="right", fontsize=7)
        ax.set_title(f"Per layer, step {rows[0].step if rows else '-'}")
        ax.legend(fontsize=8)
        ax.grid(True, axis="y", which="both", alpha=0.3)


def activation_stats(kind: str, out: np.ndarray) -> dict[str, float]:
    """Mean, std, and the saturated / zero / dead fractions of an activation's output."""
    out = out.astype(np.float64, copy=False)
    stats = {"act_mean": float(out.mean()), "act_std": float(out.std())}
    family = SATURATING.get(kind)
    if family == "sigmoid":
        stats["act_saturated"] = float(np.mean(np.abs(2 * out - 1) > 1 - 2 * SATURATION))
    elif family == "tanh":
        stats["act_saturated"] = float(np.mean(np.abs(out) > 1 - 2 * SATURATION))
    if kind in RECTIFIERS:
        zero = out <= 0
        stats["act_zero_fraction"] = float(np.mean(zero))
        # A unit (feature, or channel of a conv) is dead when it is zero for the whole batch.
        if out.ndim >= 2:
            axes = tuple(i for i in range(out.ndim) if i != 1)
            stats["act_dead"] = float(np.mean(np.all(zero, axis=axes)))
        else:
            stats["act_dead"] = float(np.all(zero))
    return stats


def save_figure(fig: Any, path: str | os.PathLike) -> str:
    """Save a matplotlib figure atomically (PNG unless the name says otherwise)."""
    path = os.fspath(path)
    buffer = io.BytesIO()
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    fig.savefig(buffer, format=fmt, dpi=110)
    atomic_write(path, buffer.getvalue())
    return path


def _g(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.3g}"


def _pct(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{100 * x:.0f}%"
