"""``torch.utils.tensorboard`` for chainrule: a ``SummaryWriter`` that writes real TensorBoard
event files (through the ``tensorboard`` package) with PyTorch's layout and summaries.

    from chainrule.utils.tensorboard import SummaryWriter
    with SummaryWriter("runs/exp1") as writer:
        writer.add_scalar("loss", loss.item(), step)

Needs the ``tensorboard`` package (``pip install 'chainrule[tensorboard]'``).
"""
from __future__ import annotations

import os
import socket
import time
from datetime import datetime
from typing import Any

import numpy as np

from ..tensor import Tensor

try:
    from tensorboard.compat.proto.event_pb2 import Event, SessionLog
    from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
    from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
except ImportError:
    raise ImportError("chainrule.utils.tensorboard needs the 'tensorboard' package: "
                      "pip install 'chainrule[tensorboard]'") from None

__all__ = ["SummaryWriter"]


def _numpy(value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.detach().numpy()
    return np.asarray(value)


def _scalar(tag: str, value: Any, new_style: bool = False, double_precision: bool = False) -> Summary:
    array = _numpy(value).squeeze()
    if array.ndim != 0:
        raise AssertionError(f"Tensor should contain one element (0 dimensions). Was given size: {array.size} and "
                             f"{array.ndim} dimensions.")
    number = float(array)
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=number)])
    tensor = TensorProto(double_val=[number], dtype="DT_DOUBLE") if double_precision else \
        TensorProto(float_val=[number], dtype="DT_FLOAT")
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    return Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=metadata)])


def _tensorflow_bins() -> list:
    """TensorFlow's default histogram edges: +-1e-12 growing by 10% up to 1e20, and 0."""
    edges = []
    v = 1e-12
    while v < 1e20:
        edges.append(v)
        v *= 1.1
    return [-e for e in reversed(edges)] + [0] + edges


def _histogram(tag: str, values: Any, bins: Any, max_bins: int | None = None) -> Summary:
    """PyTorch's histogram summary: counts over ``bins`` (optionally merged down to
    ``max_bins``), trimmed to the range that holds values, with min, max, sum, sum of squares."""
    values = _numpy(values).astype(float).reshape(-1)
    if values.size == 0:
        raise ValueError("The input has no element.")
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        group = len(counts) // max_bins
        if len(counts) % group:
            counts = np.pad(counts, [[0, group - len(counts) % group]])
        counts = counts.reshape(-1, group).sum(axis=-1)
        limits = np.concatenate([limits[:-1:group], limits[-1:]])
    filled = np.cumsum(counts > 0)
    start, end = np.searchsorted(filled, [0, filled[-1] - 1], side="right")
    start, end = int(start), int(end) + 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start:end + 1]
    if counts.size == 0 or limits.size == 0:
        raise ValueError("The histogram is empty.")
    histogram = HistogramProto(min=values.min(), max=values.max(), num=len(values), sum=values.sum(),
                               sum_squares=values.dot(values), bucket_limit=limits.tolist(),
                               bucket=counts.tolist())
    return Summary(value=[Summary.Value(tag=tag, histo=histogram)])


def _text(tag: str, text: str) -> Summary:
    plugin = SummaryMetadata.PluginData(plugin_name="text", content=TextPluginData(version=0).SerializeToString())
    tensor = TensorProto(dtype="DT_STRING", string_val=[text.encode("utf_8")],
                         tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=SummaryMetadata(plugin_data=plugin),
                                        tensor=tensor)])


class _FileWriter:
    """One event file: summaries as events, stamped with their step and wall time."""

    def __init__(self, log_dir: str, max_queue: int, flush_secs: int, filename_suffix: str) -> None:
        self.event_writer = EventFileWriter(str(log_dir), max_queue, flush_secs, filename_suffix)

    def get_logdir(self) -> str:
        return self.event_writer.get_logdir()

    def add_event(self, event: Event, step: int | None = None, walltime: float | None = None) -> None:
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary: Summary, step: int | None = None, walltime: float | None = None) -> None:
        self.add_event(Event(summary=summary), step, walltime)

    def flush(self) -> None:
        self.event_writer.flush()

    def close(self) -> None:
        self.event_writer.close()


class SummaryWriter:
    """Writes scalars, histograms and text to TensorBoard event files in ``log_dir``
    (default ``runs/<date>_<host><comment>``), as PyTorch's SummaryWriter does; use it as a
    context manager, or ``close()`` it."""

    def __init__(self, log_dir: str | None = None, comment: str = "", purge_step: int | None = None,
                 max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = "") -> None:
        if not log_dir:
            log_dir = os.path.join("runs", datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname()
                                   + comment)
        self.log_dir = log_dir
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer = _FileWriter(log_dir, max_queue, flush_secs, filename_suffix)
        self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
        if purge_step is not None:  # TensorBoard drops what an earlier run logged from this step on
            self.file_writer.add_event(Event(step=purge_step, file_version="brain.Event:2"))
            self.file_writer.add_event(Event(step=purge_step, session_log=SessionLog(status=SessionLog.START)))
            self.purge_step = None
        self.default_bins = _tensorflow_bins()

    def get_logdir(self) -> str:
        return self.log_dir

    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None, walltime: float | None = None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        """One number (a Python number or a one-element tensor) under ``tag``."""
        self.file_writer.add_summary(_scalar(tag, scalar_value, new_style, double_precision), global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """Several numbers on one chart: each goes to a run of its own, ``<log_dir>/<main_tag>_<tag>``."""
        walltime = time.time() if walltime is None else walltime
        base = self.file_writer.get_logdir()
        for tag, value in tag_scalar_dict.items():
            run = base + "/" + main_tag.replace("/", "_") + "_" + tag
            writer = self.all_writers.get(run)
            if writer is None:
                writer = self.all_writers[run] = _FileWriter(run, self.max_queue, self.flush_secs,
                                                             self.filename_suffix)
            writer.add_summary(_scalar(main_tag, value), global_step, walltime)

    def add_histogram(self, tag: str, values: Any, global_step: int | None = None, bins: Any = "tensorflow",
                      walltime: float | None = None, max_bins: int | None = None) -> None:
        """The distribution of ``values`` (``bins`` as NumPy takes them, or TensorFlow's default edges)."""
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        self.file_writer.add_summary(_histogram(tag, values, bins, max_bins), global_step, walltime)

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """A string (Markdown, in TensorBoard's text tab)."""
        self.file_writer.add_summary(_text(tag, text_string), global_step, walltime)

    def add_graph(self, model: Any, input_to_model: Any = None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """Not supported: PyTorch builds the graph by TorchScript tracing, which chainrule does not have."""
        raise NotImplementedError("SummaryWriter.add_graph is not supported by chainrule (it needs TorchScript "
                                  "tracing); chainrule.viz draws a model's autograd graph instead")

    def flush(self) -> None:
        """Write what is queued to disk."""
        for writer in self.all_writers.values():
            writer.flush()

    def close(self) -> None:
        """Flush and close every event file."""
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()

    def __enter__(self) -> "SummaryWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
