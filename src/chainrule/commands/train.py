"""``chainrule train``: train a classifier or a character-level language model and write
a run folder.

By default an MLP learns the embedded handwritten digits (a seeded, stratified 80/20
split). ``--dataset names`` trains a sequence model (``--model lstm`` by default, or rnn,
gru) to predict the next letter of the embedded first names (a seeded 90/10 split), scored
in nats per character next to a bigram model counted on the same split. The run folder (``runs/<timestamp>`` or ``--out``) holds ``metrics.csv`` (one row
per epoch), ``curves.png`` (loss and accuracy), ``model.safetensors`` (model, optimizer and
scheduler state, epoch, history, random states and config: everything ``--resume`` needs)
and ``config.json``. Everything random is seeded by ``--seed`` (split, initialisation,
shuffling, dropout), so the same seed gives the same ``metrics.csv`` bar its seconds column.

Under an MPI launcher (``mpiexec -n 2 chainrule train ...``) the ranks train one model
data-parallel, with the same global batch (see ``data_parallel.py``); rank 0 alone writes the
run folder and shows progress.

The loop is ``train(config, out)``, which returns a ``TrainResult``; ``run`` only turns
options into a config, calls it and prints the summary.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import cuda, nn, optim
from ..atomic import atomic_write
from ..autograd.grad_mode import no_grad
from ..backend import CPU, device, resolve_device
from ..compiler import compile as compile_model
from ..data import DataLoader, TensorDataset, datasets, text
from ..models import MODEL_INPUTS, MODELS, build_model, count_parameters, parameter_count
from ..optional import MissingDependency, require
from ..random import Generator, get_rng_state, manual_seed, set_rng_state
from ..serialization import CheckpointError, load, save
from ..version import __version__
from ..viz.gradflow import GradientFlow, save_figure
from ..viz.report import write_report
from . import MAX_PARAMETERS, UsageError, note
from .data_parallel import DataParallel, launched

DATASETS = ("digits", "mnist", "fashion-mnist", "names")
#: Datasets of token sequences (for the "sequence" models of chainrule.models); the rest are images.
SEQUENCE_DATASETS = ("names",)
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULERS = ("none", "step", "cosine", "onecycle")
ACTIVATIONS = ("relu", "sigmoid", "tanh", "gelu")
# Measured on the digits (5 seeds): the defaults reach 97.8-98.6% test accuracy.
DEFAULT_LR = {"sgd": 0.1, "adam": 0.001, "adamw": 0.001, "rmsprop": 0.001}
PEAK_LR = {"sgd": 0.2, "adam": 0.01, "adamw": 0.01, "rmsprop": 0.005}  # --scheduler onecycle's peak
DEFAULTS: dict[str, Any] = {
    "dataset": "digits", "data_dir": None, "test_fraction": 0.2, "model": "mlp", "hidden": [128, 64],
    "activation": "relu", "dropout": 0.0, "optimizer": "adam", "lr": None, "momentum": 0.9, "weight_decay": 0.0,
    "epochs": 30, "batch_size": 32, "scheduler": "onecycle", "seed": 0,
}
# The convolutional blocks already give the cnn its features: its head is a single
# Linear unless --hidden asks for more (measured on the digits: 98.9-100% over 3 seeds).
DEFAULT_HIDDEN = {"mlp": [128, 64], "cnn": [], "rnn": [128], "lstm": [128], "gru": [128], "transformer": [64, 64]}
# What a dataset changes when the option is not given. Names: measured on a 2-core machine,
# the default LSTM ends 0.46-0.52 nats/char below the bigram baseline (seeds 0-2) in 10-20 s
# (benchmarks/names_parity.py).
DATASET_DEFAULTS: dict[str, dict[str, Any]] = {"names": {"model": "lstm", "epochs": 10, "test_fraction": 0.1}}
# Config entries handed to the model builder (see chainrule.models); a builder ignores
# those it has no use for.
MODEL_OPTIONS = ("hidden", "activation", "dropout")
# Options that fix what is trained: a resumed run keeps the checkpoint's.
FIXED_ON_RESUME = ("dataset", "test_fraction", "model", "hidden", "activation", "dropout", "optimizer", "lr",
                   "momentum", "weight_decay", "batch_size", "scheduler", "seed")
METRICS = ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr", "seconds")
CHECKPOINT = "model.safetensors"
MAX_HIDDEN_LAYERS = 100
MAX_EPOCHS = 1_000_000


# -- options ------------------------------------------------------------------------------

def _widths(text: str) -> list[int]:
    try:
        widths = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated layer widths like 128,64, got '{text[:80]}'") from None
    if any(w <= 0 for w in widths):
        raise argparse.ArgumentTypeError(f"layer widths must be positive, got '{text[:80]}'")
    if len(widths) > MAX_HIDDEN_LAYERS:
        raise argparse.ArgumentTypeError(f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(widths)}")
    return widths


def _number(kind: type, low: float, high: float = math.inf, *, open_low: bool = False) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, "
                                             f"got '{text[:40]}'") from None
        if (kind is float and not math.isfinite(value)) or value < low or (open_low and value == low) or value >= high:
            bounds = f"{'>' if open_low else '>='} {low:g}" + (f" and < {high:g}" if high < math.inf else "")
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {text[:40]}")
        return value
    return parse


_FRACTION = _number(float, 0, 1, open_low=True)
_PROBABILITY = _number(float, 0, 1)
_POSITIVE = _number(float, 0, open_low=True)
_NON_NEGATIVE = _number(float, 0)
_EPOCHS = _number(int, 1, MAX_EPOCHS + 1)
_BATCH = _number(int, 1, 2**31)
_SEED = _number(int, 0, 2**64)
#: How each numeric option is read, on the command line and in a stored config alike.
_PARSERS: dict[str, Callable[[str], Any]] = {
    "test_fraction": _FRACTION, "dropout": _PROBABILITY, "lr": _POSITIVE, "momentum": _PROBABILITY,
    "weight_decay": _NON_NEGATIVE, "epochs": _EPOCHS, "batch_size": _BATCH, "seed": _SEED,
}
_CHOICES = {"dataset": DATASETS, "activation": ACTIVATIONS, "optimizer": OPTIMIZERS, "scheduler": SCHEDULERS}


def check_config(stored: Any, where: str) -> dict[str, Any]:
    """A config read from a checkpoint, checked as the command line checks its options (a
    forged or damaged file could hold anything); unknown entries are dropped."""
    if not isinstance(stored, dict):
        raise UsageError(f"{where}: corrupt checkpoint: its config is a {type(stored).__name__}, not a dict of options")
    config = {}
    for key, value in stored.items():
        if key not in DEFAULTS:
            continue
        problem = None
        if key in _PARSERS and not (key == "lr" and value is None):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                problem = "expected a number"
            else:
                try:
                    value = _PARSERS[key](repr(value))
                except argparse.ArgumentTypeError as error:
                    problem = str(error)
        elif key in _CHOICES and value not in _CHOICES[key]:
            problem = f"expected one of {', '.join(_CHOICES[key])}"
        elif key == "hidden":
            if not isinstance(value, list) or not all(isinstance(h, int) and not isinstance(h, bool) for h in value):
                problem = "expected a list of layer widths"
            else:
                try:
                    value = _widths(",".join(map(str, value)))
                except argparse.ArgumentTypeError as error:
                    problem = str(error)
        elif key in ("model", "data_dir") and not (isinstance(value, str) or (key == "data_dir" and value is None)):
            problem = "expected a string"
        if problem is not None:
            raise UsageError(f"{where}: corrupt checkpoint: its config has {key} = {str(value)[:40]}: {problem}")
        config[key] = value
    return config


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    d = DEFAULTS
    p = subparsers.add_parser(
        "train", help="train a classifier (an MLP on the embedded digits by default) or a letter-level "
                      "language model (--dataset names)",
        description="Train a classifier and write metrics.csv, curves.png, model.safetensors and config.json "
                    "to a run folder. Every option has a default: `chainrule train` alone reaches about 97% "
                    "test accuracy on the embedded digits in seconds.")
    # Defaults are None here so that a resumed run can tell which options were given.
    p.add_argument("--dataset", choices=DATASETS, help=f"what to learn (default {d['dataset']}; names: the embedded first names, "
                                                         "letter by letter)")
    p.add_argument("--data-dir", metavar="DIR", help="folder holding the MNIST / Fashion-MNIST IDX files")
    p.add_argument("--test-fraction", type=_FRACTION, metavar="F",
                   help=f"held-out fraction of the digits, stratified by class (default {d['test_fraction']}), "
                        f"or of the names (default {DATASET_DEFAULTS['names']['test_fraction']})")
    p.add_argument("--model", help=f"model builder from chainrule.models.MODELS (default {d['model']}; for names "
                                            f"{DATASET_DEFAULTS['names']['model']}, or rnn, gru, transformer)")
    p.add_argument("--hidden", type=_widths, metavar="W,W,...",
                   help=f"hidden layer widths (default {','.join(map(str, d['hidden']))} for the mlp, none for the cnn, "
                        "128 for rnn/lstm/gru: one recurrent layer per entry; 64,64 for the transformer: one "
                        "encoder layer per entry)")
    p.add_argument("--activation", choices=ACTIVATIONS, help=f"hidden activation (default {d['activation']})")
    p.add_argument("--dropout", type=_PROBABILITY, metavar="P", help="dropout after each hidden layer (default 0)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, help=f"(default {d['optimizer']})")
    p.add_argument("--lr", type=_POSITIVE,
                   help="learning rate, the peak rate with onecycle (default, with onecycle: "
                        + ", ".join(f"{k} {v:g}" for k, v in PEAK_LR.items()) + "; otherwise: "
                        + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + ")")
    p.add_argument("--momentum", type=_PROBABILITY, help=f"SGD / RMSprop momentum (default {d['momentum']})")
    p.add_argument("--weight-decay", type=_NON_NEGATIVE, metavar="WD", help="(default 0)")
    p.add_argument("--epochs", type=_EPOCHS,
                   help=f"(default {d['epochs']}; {DATASET_DEFAULTS['names']['epochs']} for names)")
    p.add_argument("--batch-size", type=_BATCH, metavar="N", help=f"(default {d['batch_size']})")
    p.add_argument("--scheduler", choices=SCHEDULERS,
                   help=f"learning-rate schedule, stepped per epoch (onecycle: per batch) (default {d['scheduler']})")
    p.add_argument("--seed", type=_SEED, help=f"seeds the split, initialisation, shuffling and dropout (default {d['seed']})")
    p.add_argument("--resume", metavar="CHECKPOINT", help="continue a run from its model.safetensors")
    p.add_argument("--out", metavar="DIR", help="run folder (default runs/<timestamp>; with --resume, the checkpoint's)")
    p.add_argument("--report", action="store_true",
                   help="also write report.html: curves, per-layer gradient flow and the graph of one step")
    p.add_argument("--device", type=_device_name, default="cpu", metavar="{cpu,cuda,cuda:N,auto}",
                   help="where to train: cpu (the default), cuda (a GPU, through CuPy: pip install "
                        "'chainrule[cuda]'), or auto (cuda when one is available)")
    p.add_argument("--compile", action="store_true",
                   help="run the model through chainrule.compile (torch.compile): the same numbers, faster")
    return p


def _device_name(text: str) -> str:
    name, _, index = text.partition(":")
    if text in ("cpu", "cuda", "auto") or (name == "cuda" and index.isdigit()):
        return text
    raise argparse.ArgumentTypeError(f"expected cpu, cuda, cuda:N or auto, got '{text}'")


def pick_device(name: str) -> device:
    """The device ``--device`` names (``auto``: a GPU when one is usable, else the CPU); a
    UsageError saying why when a GPU is asked for and none can be used."""
    if name == "auto":
        name = "cuda" if cuda.is_available() else "cpu"
    try:
        return resolve_device(name)
    except RuntimeError as error:
        raise UsageError(f"--device {name}: {error}") from None


def config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The run's configuration: the options given, the defaults for the rest."""
    config = {key: getattr(args, key, None) for key in DEFAULTS}
    defaults = {**DEFAULTS, **DATASET_DEFAULTS.get(config["dataset"] or DEFAULTS["dataset"], {})}
    config = {key: defaults[key] if value is None else value for key, value in config.items()}
    if config["data_dir"] is not None:  # absolute, so that evaluate works from anywhere
        config["data_dir"] = str(Path(config["data_dir"]).expanduser().absolute())
    if getattr(args, "hidden", None) is None:
        config["hidden"] = list(DEFAULT_HIDDEN.get(config["model"], DEFAULTS["hidden"]))
    if config["lr"] is None:
        config["lr"] = (PEAK_LR if config["scheduler"] == "onecycle" else DEFAULT_LR)[config["optimizer"]]
    return config


# -- data ---------------------------------------------------------------------------------

@dataclass
class Data:
    """The training and test tensors of a run, and the class names (for token sequences:
    the vocabulary, and the bigram baseline's cross-entropy on each split)."""

    train_x: Any
    train_y: Any
    test_x: Any
    test_y: Any
    classes: tuple
    baseline: dict[str, float] | None = None

    @property
    def input_shape(self) -> tuple:
        return tuple(self.train_x.shape[1:])


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices (each sorted) with ``test_fraction`` of every class held out."""
    rng = np.random.default_rng(seed)
    test = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        rng.shuffle(members)
        test.append(members[: int(round(len(members) * test_fraction))])
    test_idx = np.sort(np.concatenate(test))
    return np.setdiff1d(np.arange(len(labels)), test_idx), test_idx


def load_data(config: dict[str, Any]) -> Data:
    """The dataset ``config`` names, split; user-fixable problems raise UsageError."""
    name = config["dataset"]
    try:
        if name == "names":
            return _names_data(config)
        if name == "digits":
            x, y = datasets.digits()
            train_idx, test_idx = stratified_split(y.numpy(), config["test_fraction"], config["seed"])
            if not len(train_idx) or not len(test_idx):
                raise UsageError(f"--test-fraction {config['test_fraction']:g} leaves no "
                                 f"{'training' if not len(train_idx) else 'test'} samples of the {len(y)} digits")
            return Data(x[train_idx], y[train_idx], x[test_idx], y[test_idx], datasets.DIGITS_CLASSES)
        if not config.get("data_dir"):
            raise UsageError(f"--dataset {name} needs --data-dir DIR, a folder holding its IDX files "
                             "(train-images-idx3-ubyte[.gz] ...); nothing is downloaded")
        read = datasets.mnist if name == "mnist" else datasets.fashion_mnist
        classes = datasets.MNIST_CLASSES if name == "mnist" else datasets.FASHION_MNIST_CLASSES
        x, y = read(config["data_dir"], train=True)
        tx, ty = read(config["data_dir"], train=False)
        return Data(x, y, tx, ty, classes)
    except (OSError, datasets.DatasetError) as error:
        raise UsageError(str(error)) from None


def _names_data(config: dict[str, Any]) -> Data:
    """The names as framed id sequences (see chainrule.data.text), split by the seed, with the
    bigram baseline counted on the training names."""
    words = datasets.names()
    vocab = text.CharVocabulary.from_words(words)
    length = max(len(w) for w in words) + 1
    train_words, test_words = text.split_words(words, config["test_fraction"], config["seed"])
    train_x, train_y = text.encode_words(train_words, vocab, length)
    test_x, test_y = text.encode_words(test_words, vocab, length)
    table = text.bigram_table(train_words, vocab)
    baseline = {"train": text.bigram_loss(table, train_words, vocab), "test": text.bigram_loss(table, test_words, vocab)}
    return Data(train_x, train_y, test_x, test_y, vocab.itos, baseline)


# -- model, optimizer, schedule ------------------------------------------------------------

def make_model(config: dict[str, Any], data: Data) -> Any:
    """The model ``config`` describes, for ``data``'s input shape and classes."""
    if config["model"] not in MODELS:
        raise UsageError(f"unknown --model '{config['model']}' (choose from {', '.join(sorted(MODELS))})")
    wanted = "sequence" if config["dataset"] in SEQUENCE_DATASETS else "image"
    if MODEL_INPUTS[config["model"]] != wanted:
        fits = sorted(name for name, inputs in MODEL_INPUTS.items() if inputs == wanted)
        raise UsageError(f"--model {config['model']} does not take {wanted}s; for --dataset {config['dataset']} "
                         f"choose from {', '.join(fits)}")
    options = {key: config[key] for key in MODEL_OPTIONS if key in config}
    try:
        count = count_parameters(config["model"], data.input_shape, len(data.classes), **options)
        if count is not None and count > MAX_PARAMETERS:
            widths = ",".join(map(str, config["hidden"])) or "none"
            raise UsageError(f"the {config['model']} with hidden widths {widths} would have {count:,} parameters "
                             f"({4 * count / 2**30:,.1f} GiB as float32); chainrule train builds at most "
                             f"{MAX_PARAMETERS:,}: choose smaller --hidden widths")
        return build_model(config["model"], data.input_shape, len(data.classes), **options)
    except ValueError as error:
        raise UsageError(str(error)) from None


def build(config: dict[str, Any], data: Data, steps_per_epoch: int) -> tuple[Any, Any, Any]:
    """The model, optimizer and scheduler (None for ``none``) that ``config`` describes."""
    model = make_model(config, data)
    lr, wd, momentum = config["lr"], config["weight_decay"], config["momentum"]
    name = config["optimizer"]
    if name == "sgd":
        optimizer = optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=wd)
    elif name == "adam":
        optimizer = optim.Adam(model.parameters(), lr=lr, weight_decay=wd)
    elif name == "adamw":
        optimizer = optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    else:
        optimizer = optim.RMSprop(model.parameters(), lr=lr, momentum=momentum, weight_decay=wd)
    epochs, schedule = config["epochs"], config["scheduler"]
    scheduler = None
    if schedule == "step":
        scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1)
    elif schedule == "cosine":
        scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    elif schedule == "onecycle":
        scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch,
                                                  cycle_momentum=name in ("sgd", "rmsprop") and momentum > 0)
    return model, optimizer, scheduler


# -- the loop -------------------------------------------------------------------------------

@dataclass
class TrainResult:
    """What ``train`` returns: the run folder, one dict per epoch (the metrics.csv rows),
    and the trained model and optimizer."""

    run_dir: Path
    history: list[dict[str, float]]
    model: Any = None
    optimizer: Any = None
    config: dict[str, Any] = field(default_factory=dict)
    data: Data | None = None

    @property
    def test_accuracy(self) -> float:
        return self.history[-1]["test_accuracy"] if self.history else float("nan")


def batch_loss(logits: Any, target: Any, reduction: str = "mean") -> Any:
    """Cross-entropy of class logits ``(B, classes)``, or of next-token logits ``(B, T,
    classes)`` over every token that has a target (padding is ``IGNORE``, skipped)."""
    if logits.ndim == 3:
        logits, target = logits.reshape(-1, logits.shape[-1]), target.reshape(-1)
    return nn.functional.cross_entropy(logits, target, reduction=reduction)


def targets(y: Any) -> np.ndarray:
    """The labels that are scored: every label, or the tokens of sequences less their padding."""
    labels = y.numpy()
    return labels[labels >= 0] if labels.ndim == 2 else labels


def predictions(logits: Any, y: Any) -> np.ndarray:
    """The predicted class of every scored label (see ``targets``)."""
    predicted = logits.argmax(-1).numpy()
    return predicted[y.numpy() >= 0] if predicted.ndim == 2 else predicted


def evaluate(model: Any, x: Any, y: Any, batch_size: int = 1000) -> tuple[float, float, np.ndarray]:
    """Mean cross-entropy, accuracy and predicted classes of ``model`` on ``(x, y)``, per
    scored label (per character for sequences); the batches are moved to the model's device."""
    model.eval()
    where = next(model.parameters()).device
    total, predicted = 0.0, []
    with no_grad():
        for start in range(0, len(y), batch_size):
            logits = model(x[start:start + batch_size].to(where))
            total += batch_loss(logits, y[start:start + batch_size].to(where), reduction="sum").item()
            predicted.append(predictions(logits.cpu(), y[start:start + batch_size]))
    predicted = np.concatenate(predicted) if predicted else np.zeros(0, np.int64)
    labels = targets(y)
    n = max(len(labels), 1)
    return total / n, float((predicted == labels).sum()) / n, predicted


def _train_epoch(model: Any, loader: Any, optimizer: Any, scheduler: Any, per_batch: bool,
                 bar: Callable[[Any], Any], parallel: Any = None, where: Any = CPU) -> tuple[float, float]:
    """One pass over ``loader``; with ``parallel`` (a ``DataParallel``), over this rank's share of
    each batch, the loss and accuracy being the whole batches' (summed over the ranks).  On a
    GPU (``where``) each batch is moved there, and the sums stay there until the epoch ends:
    no step waits for the device."""
    if where.type != "cpu":
        return _train_epoch_on_device(model, loader, optimizer, scheduler, per_batch, bar(loader), where)
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    batches = bar(loader)
    for xb, yb in batches:
        scale = 1.0
        if parallel is not None:
            xb, yb, scale = parallel.share(xb, yb)
        optimizer.zero_grad()
        logits = model(xb)
        # A rank whose share of a short last batch is empty still joins the gradient reduction.
        loss = batch_loss(logits, yb) if len(yb) else logits.sum() * 0.0
        (loss * scale if scale != 1.0 else loss).backward()
        optimizer.step()
        if per_batch:
            scheduler.step()
        labels = targets(yb)
        n = len(labels)
        value = loss.item()
        total_loss += value * n
        correct += int((predictions(logits, yb) == labels).sum())
        seen += n
        if hasattr(batches, "set_postfix_str"):
            batches.set_postfix_str(f"loss {value:.4f}", refresh=False)
    if parallel is not None:
        total_loss, correct, seen = parallel.total(total_loss, correct, seen)
    return total_loss / max(seen, 1), correct / max(seen, 1)


def _train_epoch_on_device(model: Any, loader: Any, optimizer: Any, scheduler: Any, per_batch: bool,
                           batches: Any, where: Any) -> tuple[float, float]:
    model.train()
    total_loss = correct = seen = None
    for xb, yb in batches:
        xb, yb = xb.to(where), yb.to(where)
        optimizer.zero_grad()
        logits = model(xb)
        loss = batch_loss(logits, yb)
        loss.backward()
        optimizer.step()
        if per_batch:
            scheduler.step()
        with no_grad():
            scored = yb >= 0  # every label of an image batch; the letters, not the padding, of names
            count = scored.sum()
            part, right = loss * count, ((logits.argmax(-1) == yb) & scored).sum()
        total_loss = part if total_loss is None else total_loss + part
        correct = right if correct is None else correct + right
        seen = count if seen is None else seen + count
    if total_loss is None:
        return 0.0, 0.0
    n = max(seen.item(), 1)
    return total_loss.item() / n, correct.item() / n


def write_metrics(path: Path, history: list[dict[str, float]]) -> None:
    """metrics.csv: one row per epoch, columns ``METRICS``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(METRICS)
    for row in history:
        writer.writerow([row["epoch"], f"{row['train_loss']:.6f}", f"{row['train_accuracy']:.6f}",
                         f"{row['test_loss']:.6f}", f"{row['test_accuracy']:.6f}", f"{row['lr']:.6g}",
                         f"{row['seconds']:.3f}"])
    atomic_write(path, out.getvalue())


def plot_curves(path: Path, history: list[dict[str, float]], title: str = "") -> None:
    """Loss and accuracy per epoch, train and test, as a PNG (MissingDependency without
    matplotlib)."""
    require("matplotlib", path.name).use("Agg")
    import matplotlib.pyplot as plt

    epochs = [row["epoch"] for row in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in ((left, "loss", "cross-entropy loss"), (right, "accuracy", "accuracy")):
        ax.plot(epochs, [row[f"train_{key}"] for row in history], "o-", ms=3, label="train")
        ax.plot(epochs, [row[f"test_{key}"] for row in history], "o-", ms=3, label="test")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def format_seconds(seconds: float) -> str:
    """``12.3s``, or milliseconds under a second (``85ms``): an epoch of the digits is fast."""
    return f"{seconds * 1000:.0f}ms" if seconds < 0.9995 else f"{seconds:.1f}s"


def new_run_dir(base: str | Path = "runs") -> Path:
    """``runs/<timestamp>``, with a suffix when that folder exists already."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, n = Path(base) / stamp, 1
    while path.exists():
        n += 1
        path = Path(base) / f"{stamp}-{n}"
    return path


def train(config: dict[str, Any], out: str | Path, *, checkpoint: dict[str, Any] | None = None,
          log: Callable[[str], Any] = print, progress: bool | None = None, report: bool = False,
          parallel: Any = None, device: str = "cpu", compile: bool = False) -> TrainResult:
    """Train as ``config`` says (see ``DEFAULTS``), writing the run folder ``out``.

    ``checkpoint`` is a loaded ``model.safetensors`` to continue from (its model, optimizer,
    schedule, random states and history). ``progress``: tqdm bars (default: when stdout is
    a terminal); otherwise ``log`` gets one line per epoch. ``parallel`` (a
    ``data_parallel.DataParallel``): train data-parallel, this process being one rank; only
    rank 0 writes ``out`` and logs.  ``device``: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``
    (the model is built and initialised on the CPU, as there, then moved).  ``compile``: train
    and evaluate through ``chainrule.compile(model)``, which gives the same numbers, bit for bit."""
    where = pick_device(device)
    if parallel is not None and where.type != "cpu":
        raise UsageError("data-parallel training (mpiexec) runs on the CPU: drop --device or run one process")
    if compile and where.type != "cpu":
        raise UsageError("--compile runs on the CPU (a compiled plan is a NumPy program): drop --compile or --device")
    manual_seed(config["seed"])
    data = load_data(config)
    shuffle = Generator().manual_seed(config["seed"])
    loader = DataLoader(TensorDataset(data.train_x, data.train_y), batch_size=config["batch_size"], shuffle=True,
                        generator=shuffle)
    model, optimizer, scheduler = build(config, data, len(loader))
    model.to(where)  # in place: the optimizer's parameters move with it
    main = parallel is None or parallel.is_main
    if not main:
        log, progress, report = (lambda *_: None), False, False
    flow = None
    if report:  # per-layer gradient statistics at every optimizer step, for report.html
        flow = GradientFlow(model)
        optimizer.register_step_post_hook(lambda *_: flow.step())
    history: list[dict[str, float]] = []
    if checkpoint is not None:
        try:
            model.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
        except (RuntimeError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise UsageError(f"the checkpoint does not fit its own config: {' '.join(str(error).split())[:300]}") from None
        try:
            if scheduler is not None and checkpoint.get("scheduler") is not None:
                scheduler.load_state_dict(checkpoint["scheduler"])
            set_rng_state(checkpoint["rng"]["global"])
            shuffle.set_state(checkpoint["rng"]["shuffle"])
            history = [{key: (int if key == "epoch" else float)(row[key]) for key in METRICS}
                       for row in checkpoint["history"]]
        except (RuntimeError, ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
            raise UsageError(f"corrupt checkpoint: its schedule, random state or history cannot be restored "
                             f"({' '.join(str(error).split())[:200]})") from None
    trained = runner = compile_model(model) if compile else model
    if parallel is not None:
        trained = parallel.wrap(runner)
        if parallel.rank and checkpoint is None:  # dropout masks of its own on each rank
            manual_seed(config["seed"] + parallel.rank)

    # Created only now, so that a bad option or file leaves no empty run folder behind.
    run_dir = Path(out)
    try:
        if main:
            run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create the run folder {run_dir}: {error.strerror or error}") from None
    if progress is None:
        progress = sys.stdout.isatty()
    n_params = parameter_count(model)
    log(f"Model: {model}")
    log(f"Parameters: {n_params:,}")
    log(f"Data: {config['dataset']}, {len(data.train_y)} train / {len(data.test_y)} test samples, "
        f"{len(data.classes)} classes, input {list(data.input_shape)}")
    if data.baseline is not None:
        log(f"Bigram baseline (counted on the train split): train loss {data.baseline['train']:.4f}, "
            f"test loss {data.baseline['test']:.4f} nats per character")
    info = {**config, "classes": list(data.classes), "input_shape": list(data.input_shape),
            "train_size": len(data.train_y), "test_size": len(data.test_y), "parameters": n_params,
            "chainrule_version": __version__}
    if data.baseline is not None:
        info["bigram_baseline"] = data.baseline
    if main:
        atomic_write(run_dir / "config.json", json.dumps(info, indent=2) + "\n")

    epochs = config["epochs"]
    per_batch = config["scheduler"] == "onecycle"
    if progress:
        try:
            tqdm = require("tqdm", "progress bars").tqdm
        except MissingDependency as missing:
            note(f"{missing}; printing one line per epoch instead")
            progress = False
    if progress:

        def bar(loader: Any, epoch: int) -> Any:
            return tqdm(loader, desc=f"epoch {epoch}/{epochs}", unit="batch", leave=False, file=sys.stdout)
        say: Callable[[str], Any] = tqdm.write if log is print else log
    else:
        def bar(loader: Any, epoch: int) -> Any:
            return loader
        say = log

    for epoch in range(len(history) + 1, epochs + 1):
        start = time.perf_counter()
        lr = float(optimizer.param_groups[0]["lr"])
        train_loss, train_acc = _train_epoch(trained, loader, optimizer, scheduler, per_batch,
                                             lambda batches: bar(batches, epoch), parallel, where)
        if scheduler is not None and not per_batch:
            scheduler.step()
        test_loss, test_acc, _ = evaluate(runner, data.test_x, data.test_y)
        row = {"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_acc, "test_loss": test_loss,
               "test_accuracy": test_acc, "lr": lr, "seconds": time.perf_counter() - start}
        history.append(row)
        say(f"epoch {epoch:>{len(str(epochs))}}/{epochs}  train loss {train_loss:.4f} acc {train_acc:.2%}  "
            f"test loss {test_loss:.4f} acc {test_acc:.2%}  lr {lr:.3g}  {format_seconds(row['seconds'])}")
        if not main:
            continue
        write_metrics(run_dir / "metrics.csv", history)
        save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict() if scheduler is not None else None,
                        "epoch": epoch, "config": config, "history": history,
                        "rng": {"global": get_rng_state(), "shuffle": shuffle.get_state()}},
                       run_dir / CHECKPOINT)
    if history and main:
        try:
            plot_curves(run_dir / "curves.png", history,
                        f"{config['model']} on {config['dataset']} ({config['optimizer']}, lr {config['lr']:g})")
        except MissingDependency as missing:
            note(f"{missing} (everything else is written)")
    if flow is not None:
        batch = slice(0, config["batch_size"])
        model.cpu()  # the report's graph of one step is computed on the CPU
        log(f"Report: {write_report(run_dir, flow, model, data.train_x[batch], data.train_y[batch], history, config, loss_fn=batch_loss)}")
        model.to(where)
        flow.remove()
    return TrainResult(run_dir, history, model, optimizer, config, data)


# -- the command ----------------------------------------------------------------------------

def model_from_checkpoint(checkpoint: dict[str, Any], config: dict[str, Any], data: Data, path: Any) -> Any:
    """The model ``config`` describes for ``data``, with the weights of ``checkpoint`` (loaded from
    ``path``, named in the error when they do not fit)."""
    model = make_model(config, data)
    try:
        model.load_state_dict(checkpoint["model"])
    except (RuntimeError, ValueError, KeyError) as error:
        raise UsageError(f"{path}: the weights do not fit the model its config describes: "
                         f"{' '.join(str(error).split())}") from None
    return model


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """A ``chainrule train`` checkpoint; anything else is a UsageError naming the file."""
    try:
        checkpoint = load(path)
    except (OSError, CheckpointError) as error:
        raise UsageError(str(error)) from None
    if not isinstance(checkpoint, dict) or not {"model", "config", "epoch"} <= set(checkpoint):
        raise UsageError(f"{path}: not a chainrule train checkpoint (it has no model/config/epoch)")
    epoch = checkpoint["epoch"]
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0 or not isinstance(checkpoint["model"], dict):
        raise UsageError(f"{path}: corrupt checkpoint: its epoch or model state is not what chainrule train writes")
    return {**checkpoint, "config": check_config(checkpoint["config"], str(path))}


def _resume_config(args: argparse.Namespace, checkpoint: dict[str, Any]) -> dict[str, Any]:
    config = {**DEFAULTS, **checkpoint["config"]}
    for key in FIXED_ON_RESUME:
        given = getattr(args, key, None)
        if given is not None and given != config[key]:
            option = "--" + key.replace("_", "-")
            raise UsageError(f"{option} cannot change when resuming (the checkpoint's is {config[key]}); "
                             "start a new run instead")
    done = int(checkpoint["epoch"])
    if args.epochs is not None:
        if args.epochs != config["epochs"] and config["scheduler"] in ("cosine", "onecycle"):
            raise UsageError(f"a {config['scheduler']} schedule is fixed to {config['epochs']} epochs; "
                             "resuming cannot change --epochs")
        config["epochs"] = args.epochs
    if done >= config["epochs"]:
        raise UsageError(f"{args.resume} has trained {done} of {config['epochs']} epochs already; "
                         f"pass --epochs N with N > {done} to train more")
    if args.data_dir is not None:
        config["data_dir"] = str(Path(args.data_dir).expanduser().absolute())
    return config


def run(args: argparse.Namespace) -> int:
    checkpoint = None
    if args.resume:
        checkpoint = load_checkpoint(args.resume)
        config = _resume_config(args, checkpoint)
        out = Path(args.out) if args.out else Path(args.resume).parent
    else:
        config = config_from_args(args)
        out = Path(args.out) if args.out else new_run_dir()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    parallel = DataParallel() if launched() else None  # `mpiexec -n N chainrule train ...`
    try:
        result = train(config, out, checkpoint=checkpoint, report=args.report, parallel=parallel,
                       device=getattr(args, "device", "cpu"), compile=getattr(args, "compile", False))
    except OSError as error:
        if parallel is not None:
            parallel.fail(2)
        raise UsageError(f"{error.filename or out}: {error.strerror or error}") from None
    except BaseException as error:
        if parallel is not None:
            parallel.fail(2 if isinstance(error, UsageError) else 1)
        raise
    if parallel is not None and not parallel.is_main:
        return 0
    scored = len(targets(result.data.test_y))
    correct = round(result.test_accuracy * scored)
    baseline = result.data.baseline
    if baseline is not None and result.history:
        loss = result.history[-1]["test_loss"]
        gain = baseline["test"] - loss
        print(f"Test loss: {loss:.4f} nats per character, {abs(gain):.4f} {'better' if gain >= 0 else 'worse'} than "
              f"the bigram baseline's {baseline['test']:.4f}")
        print(f"Test accuracy (next character): {result.test_accuracy:.2%} ({correct}/{scored})")
    else:
        print(f"Test accuracy: {result.test_accuracy:.2%} ({correct}/{scored})")
    print(f"Run folder: {result.run_dir}")
    return 0
