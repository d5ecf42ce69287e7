"""``chainrule evaluate CHECKPOINT``: test accuracy and confusion matrix of a trained model.

The checkpoint carries its training config, so the same test set is rebuilt (the same
seeded, stratified split of the digits; MNIST's t10k files). The confusion matrix is printed
and written as ``confusion.png`` next to the checkpoint (or in ``--out``).
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..optional import MissingDependency, require
from ..viz.gradflow import save_figure
from . import UsageError, note
from .train import DEFAULTS, evaluate, load_checkpoint, load_data, model_from_checkpoint, targets


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "evaluate", help="test accuracy and confusion matrix of a checkpoint from `chainrule train`",
        description="Rebuild a trained model from its checkpoint, measure it on its test set, print the "
                    "accuracy and confusion matrix, and write confusion.png.")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a model.safetensors written by chainrule train")
    p.add_argument("--data-dir", metavar="DIR", help="where the MNIST / Fashion-MNIST IDX files are now")
    p.add_argument("--out", metavar="DIR", help="folder for confusion.png (default: the checkpoint's)")
    return p


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """``m[i, j]``: how many samples of class i were predicted as class j."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return matrix


def format_confusion(matrix: np.ndarray, classes: Sequence[str]) -> str:
    """The matrix as a text table: rows are true classes, columns predictions, then recall."""
    width = max(len(str(matrix.max())), 3)
    label = max(4, *(len(str(c)) for c in classes))
    lines = [" " * (label + 2) + "predicted",
             f"{'true':>{label}}  " + " ".join(f"{i:>{width}}" for i in range(len(classes))) + "  recall"]
    for i, (name, row) in enumerate(zip(classes, matrix)):
        recall = row[i] / row.sum() if row.sum() else float("nan")
        lines.append(f"{name:>{label}}  " + " ".join(f"{v:>{width}}" for v in row) + f"  {recall:6.1%}")
    return "\n".join(lines)


def plot_confusion(path: Path, matrix: np.ndarray, classes: Sequence[str], title: str) -> None:
    """The confusion matrix as a PNG heat map with the counts written in (MissingDependency
    without matplotlib)."""
    require("matplotlib", path.name).use("Agg")
    import matplotlib.pyplot as plt

    n = len(classes)
    size = max(4.0, 0.55 * n + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(n), [str(c) for c in classes], rotation=45 if max(map(len, map(str, classes))) > 2 else 0,
                  ha="right" if max(map(len, map(str, classes))) > 2 else "center")
    ax.set_yticks(range(n), [str(c) for c in classes])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(n):
        for j in range(n):
            if matrix[i, j]:
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if matrix[i, j] > threshold else "black")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    checkpoint = load_checkpoint(args.checkpoint)
    config = {**DEFAULTS, **checkpoint["config"]}
    if args.data_dir is not None:
        config["data_dir"] = args.data_dir
    out = Path(args.out) if args.out else Path(args.checkpoint).parent
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    data = load_data(config)
    model = model_from_checkpoint(checkpoint, config, data, args.checkpoint)
    loss, accuracy, predicted = evaluate(model, data.test_x, data.test_y)
    labels = targets(data.test_y)
    matrix = confusion_matrix(labels, predicted, len(data.classes))
    print(f"Checkpoint: {args.checkpoint} ({config['model']} on {config['dataset']}, epoch {checkpoint['epoch']})")
    print(f"Test accuracy: {accuracy:.2%} ({int(np.trace(matrix))}/{len(labels)}), test loss {loss:.4f}")
    print("Confusion matrix (rows: true class, columns: predicted class):")
    print(format_confusion(matrix, data.classes))
    if tuple(data.classes) != tuple(str(i) for i in range(len(data.classes))):
        print("Classes: " + ", ".join(f"{i} {name}" for i, name in enumerate(data.classes)))
    try:
        out.mkdir(parents=True, exist_ok=True)
        plot_confusion(out / "confusion.png", matrix, data.classes,
                       f"{config['model']} on {config['dataset']}: {accuracy:.2%} test accuracy")
    except MissingDependency as missing:
        note(str(missing))
        return 0
    except OSError as error:
        raise UsageError(f"cannot write {out / 'confusion.png'}: {error.strerror or error}") from None
    print(f"Wrote {out / 'confusion.png'}")
    return 0
