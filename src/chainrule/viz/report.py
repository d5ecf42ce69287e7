"""A training run as one self-contained HTML page: loss and accuracy curves, the gradient
flow through every layer, and the graph of one training step (images inline, base64).

``chainrule train --report`` writes ``report.html`` into the run folder; from Python::

    flow = chainrule.viz.GradientFlow(model)
    ...train, calling flow.step() after each optimizer.step()...
    chainrule.viz.report.write_report(run_dir, flow, model, x_batch, y_batch, history)
"""
from __future__ import annotations

import base64
import csv
import html
import io
import os
import warnings
from pathlib import Path
from typing import Any

from .. import nn
from ..atomic import atomic_write
from ..optional import MissingDependency, require
from .graph import GraphvizNotFound, can_render, draw_graph, render
from .trace import trace

REPORT = "report.html"


def write_report(run_dir: str | os.PathLike, recorder: Any, model: Any, batch_x: Any, batch_y: Any,
                 history: list[dict] | None = None, config: dict | None = None,
                 loss_fn: Any = None, title: str = "Training report") -> Path:
    """Write ``run_dir/report.html`` and return its path.

    ``recorder``: the GradientFlow that watched training.  ``model``, ``batch_x``,
    ``batch_y``: one batch is run forward (no gradient is written into the model) to draw the
    graph of a training step, each top-level module collapsed into one box.  ``history``:
    one dict per epoch (train_loss, test_loss, train_accuracy, test_accuracy ...); read from
    ``run_dir/metrics.csv`` when not given.  ``loss_fn``: default cross-entropy.
    """
    run_dir = Path(run_dir)
    if history is None:
        history = _read_metrics(run_dir / "metrics.csv")
    sections = [f"<h1>{html.escape(title)}</h1>"]
    if config:
        rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                       for k, v in config.items())
        sections.append(f"<h2>Configuration</h2><table class='config'>{rows}</table>")
    if history:
        last = history[-1]
        facts = ", ".join(f"{k.replace('_', ' ')} {_num(last[k])}" for k in
                          ("train_loss", "test_loss", "train_accuracy", "test_accuracy") if k in last)
        try:
            curves = _img(_curves_png(history), 'loss and accuracy curves')
        except MissingDependency as missing:
            curves = f"<p>({html.escape(str(missing))})</p>"
        sections.append(f"<h2>Loss and accuracy</h2><p>After epoch {_num(last.get('epoch', len(history)))}: "
                        f"{html.escape(facts)}.</p>{curves}")
    sections.append(_gradient_section(recorder))
    sections.append(_graph_section(model, batch_x, batch_y, loss_fn))
    page = _PAGE.format(title=html.escape(title), body="\n".join(sections))
    return atomic_write(run_dir / REPORT, page)


def _gradient_section(recorder: Any) -> str:
    if recorder is None or not recorder.records:
        return "<h2>Gradient flow</h2><p>No training step was recorded.</p>"
    table = html.escape(recorder.table(-1))
    try:
        require("matplotlib", "the report's plots").use("Agg", force=False)
    except MissingDependency as missing:
        return (f"<h2>Gradient flow</h2><p>Every layer at the last step ({html.escape(str(missing))}):</p>"
                f"<pre>{table}</pre>")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    recorder.plot_norms(ax)
    fig.tight_layout()
    norms = _png(fig)
    fig, ax = plt.subplots(figsize=(8, 4))
    recorder.plot_step(ax, -1)
    fig.tight_layout()
    bars = _png(fig)
    plt.close("all")
    return ("<h2>Gradient flow</h2><p>The norm of each layer's weight gradient at every step "
            "(log scale), then every layer at the last step: its gradient norm and the size of "
            "the optimizer's update relative to the weights.</p>"
            f"{_img(norms, 'gradient norm per layer over training')}{_img(bars, 'per-layer statistics')}"
            f"<pre>{table}</pre>")


def _graph_section(model: Any, batch_x: Any, batch_y: Any, loss_fn: Any) -> str:
    if model is None or batch_x is None:
        return ""
    loss_fn = loss_fn or nn.functional.cross_entropy
    with trace(model):
        loss = loss_fn(model(batch_x), batch_y)
    children = [module for _, module in model.named_children()]
    graph = draw_graph(loss, params=model, collapse=children or None, show_values=False,
                       title=f"one training step, batch of {len(batch_x)}")
    intro = ("<h2>The graph of one training step</h2><p>Each box is a module of the model; "
             "edges carry the norm of the gradient flowing back along them.</p>")
    if not can_render("svg"):
        warnings.warn("Graphviz's `dot` program was not found: the report shows the graph as DOT text "
                      '(pip install "chainrule[viz]" draws it)', GraphvizNotFound, stacklevel=3)
        return intro + f"<p>(Graphviz's <code>dot</code> was not found; the DOT text:)</p><pre>{html.escape(graph.dot)}</pre>"
    svg = render(graph.dot, "svg")
    return intro + f"<img alt='graph of one training step' src='data:image/svg+xml;base64,{base64.b64encode(svg).decode()}'>"


def _curves_png(history: list[dict]) -> bytes:
    require("matplotlib", "the report's plots").use("Agg", force=False)
    import matplotlib.pyplot as plt

    epochs = [row.get("epoch", i + 1) for i, row in enumerate(history)]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in ((axes[0], "loss", "cross-entropy loss"), (axes[1], "accuracy", "accuracy")):
        for split in ("train", "test"):
            column = f"{split}_{key}"
            if all(column in row for row in history):
                ax.plot(epochs, [float(row[column]) for row in history], "o-", ms=3, label=split)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    data = _png(fig)
    plt.close(fig)
    return data


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _img(png: bytes, alt: str) -> str:
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"


def _read_metrics(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(handle)]


def _num(value: Any) -> str:
    value = float(value)
    return str(int(value)) if value == int(value) else f"{value:.4g}"


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }}
img {{ max-width: 100%; display: block; margin: 1em 0; }}
pre {{ background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 12px; }}
table.config th {{ text-align: left; padding-right: 1em; font-weight: normal; color: #555; }}
</style></head>
<body>
{body}
</body></html>
"""
