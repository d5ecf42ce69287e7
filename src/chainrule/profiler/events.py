"""What a profile found: :class:`FunctionEvent` (one timed range: an op's forward, a node's
backward, a ``record_function`` block), :class:`FunctionEventAvg` (events of one name
summed) and :class:`EventList`, with PyTorch's ``table()`` and ``export_chrome_trace()``."""
from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Iterable, NamedTuple

__all__ = ["Interval", "FunctionEvent", "FunctionEventAvg", "EventList", "format_time", "format_memory",
           "write_atomically"]

#: What ``table(sort_by=...)`` can sort by (descending).
_SORT_KEYS = ("cpu_time", "cpu_time_total", "self_cpu_time_total", "count", "cpu_memory_usage",
              "self_cpu_memory_usage")


class Interval(NamedTuple):
    """A range of time, in microseconds since the profile began."""

    start: float
    end: float

    def elapsed_us(self) -> float:
        return self.end - self.start


class FunctionEvent:
    """One timed range on one thread: ``name``, ``time_range``, its ``cpu_children`` and
    ``cpu_parent``; ``input_shapes`` with ``record_shapes``; ``cpu_memory_usage`` (bytes the
    op's output holds in new memory) with ``profile_memory``."""

    def __init__(self, id: int, name: str, thread: int, start_us: float, end_us: float,
                 input_shapes: list | None = None, cpu_memory_usage: int = 0,
                 is_user_annotation: bool = False) -> None:
        self.id = id
        self.name = name
        self.trace_name = name  # the name in a Chrome trace, when ``name`` groups several ranges
        self.thread = thread
        self.time_range = Interval(start_us, end_us)
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.cpu_memory_usage = cpu_memory_usage
        self.is_user_annotation = is_user_annotation
        self.cpu_children: list[FunctionEvent] = []
        self.cpu_parent: FunctionEvent | None = None
        self.count = 1
        self.device_type = "CPU"

    @property
    def key(self) -> str:
        return self.name

    @property
    def cpu_time_total(self) -> float:
        return self.time_range.elapsed_us()

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total

    @property
    def self_cpu_time_total(self) -> float:
        """Time in this range and in none of its children."""
        return self.cpu_time_total - sum(child.cpu_time_total for child in self.cpu_children)

    @property
    def self_cpu_memory_usage(self) -> int:
        return self.cpu_memory_usage - sum(child.cpu_memory_usage for child in self.cpu_children)

    def append_child(self, child: "FunctionEvent") -> None:
        self.cpu_children.append(child)
        child.cpu_parent = self

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name} thread={self.thread} "
                f"cpu_time={format_time(self.cpu_time_total)} start_us={self.time_range.start:.3f} "
                f"end_us={self.time_range.end:.3f} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage}>")


class FunctionEventAvg:
    """The events of one key (a name, or a name and input shapes) added up: ``count``
    calls, ``cpu_time_total``, ``self_cpu_time_total``, ``cpu_time`` (the mean)."""

    def __init__(self) -> None:
        self.key: str | None = None
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.input_shapes: list | None = None
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.is_user_annotation = False
        self.cpu_parent = None
        self.device_type = "CPU"

    def add(self, other: Any) -> "FunctionEventAvg":
        if self.key is None:
            self.key = other.key
            self.input_shapes = other.input_shapes
            self.is_user_annotation = other.is_user_annotation
            self.cpu_parent = other.cpu_parent
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        return self

    def __iadd__(self, other: Any) -> "FunctionEventAvg":
        return self.add(other)

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={format_time(self.self_cpu_time_total)} "
                f"cpu_time={format_time(self.cpu_time)} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage}>")


class EventList(list):
    """A list of events (or of their averages) that prints as PyTorch's table."""

    def __init__(self, events: Iterable = (), profile_memory: bool = False) -> None:
        super().__init__(events)
        self.profile_memory = profile_memory

    @property
    def self_cpu_time_total(self) -> float:
        return sum(event.self_cpu_time_total for event in self)

    def key_averages(self, group_by_input_shape: bool = False) -> "EventList":
        """One :class:`FunctionEventAvg` per name (per name and input shapes when
        ``group_by_input_shape``), in the order the names first appear."""
        groups: dict = {}
        for event in self:
            key = (event.key, str(event.input_shapes)) if group_by_input_shape else event.key
            groups.setdefault(key, FunctionEventAvg()).add(event)
        averages = EventList(groups.values(), self.profile_memory)
        averages.grouped_by_shape = group_by_input_shape
        return averages

    def total_average(self) -> FunctionEventAvg:
        """All events added up, under the key ``"Total"``."""
        total = FunctionEventAvg()
        for event in self:
            total.add(event)
        total.key = "Total"
        return total

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_name_column_width: int = 55,
              max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        """PyTorch's table of these events, sorted by ``sort_by`` (descending; as listed when
        None) and cut at ``row_limit`` rows (all for a negative limit)."""
        if sort_by is not None and sort_by not in _SORT_KEYS:
            raise AttributeError(f"'FunctionEventAvg' object has no attribute '{sort_by}'")
        events = sorted(self, key=lambda e: getattr(e, sort_by), reverse=True) if sort_by else list(self)
        return build_table(events, row_limit, max_name_column_width, max_shapes_column_width, header,
                           top_level_events_only, time_unit, self.profile_memory,
                           getattr(self, "grouped_by_shape", False))

    def __str__(self) -> str:
        return self.table()

    def export_chrome_trace(self, path: str) -> None:
        """Write the events as a Chrome trace (JSON of complete "X" events, microseconds),
        which chrome://tracing and Perfetto open."""
        write_atomically(path, json.dumps(chrome_trace(self)))


def chrome_trace(events: Iterable[FunctionEvent]) -> dict:
    """The Chrome trace format's document for ``events``."""
    pid = os.getpid()
    trace = []
    for event in events:
        entry = {"ph": "X", "cat": "user_annotation" if event.is_user_annotation else "cpu_op",
                 "name": event.trace_name, "pid": pid, "tid": event.thread,
                 "ts": event.time_range.start, "dur": event.cpu_time_total, "args": {}}
        if event.input_shapes:
            entry["args"]["Input Dims"] = event.input_shapes
        trace.append(entry)
    return {"schemaVersion": 1, "displayTimeUnit": "ms", "traceEvents": trace}


def write_atomically(path: str, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, renamed."""
    folder = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".trace-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb" if isinstance(data, bytes) else "w") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def format_time(time_us: float) -> str:
    """PyTorch's time format: ``1.234ms``, ``56.789us``, ``1.000s``."""
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def format_memory(nbytes: int) -> str:
    """PyTorch's memory format: ``12 B``, ``1.50 KB``, ``3.00 MB``, ``1.00 GB``."""
    for size, unit in ((1024 ** 3, "GB"), (1024 ** 2, "MB"), (1024, "KB")):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


def _share(time_us: float, total_us: float) -> str:
    return "NaN" if total_us == 0 else f"{time_us * 100.0 / total_us:.2f}%"


def _in_unit(time_us: float, unit: str | None) -> str:
    scale = {"s": 1e6, "ms": 1e3, "us": 1.0}.get(unit or "")
    return format_time(time_us) if scale is None else f"{time_us / scale:.3f}{unit}"


def build_table(events: list, row_limit: int, max_name_width: int, max_shapes_width: int,
                header: str | None, top_level_only: bool, time_unit: str | None, profile_memory: bool,
                with_shapes: bool) -> str:
    """The lines of PyTorch's profiler table (``_build_table``'s layout, CPU columns)."""
    if not events:
        return ""
    name_width = min(max(len(e.key) for e in events) + 4, max_name_width)
    shapes_width = min(max(len(str(e.input_shapes)) for e in events) + 4, max_shapes_width)
    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    if profile_memory:
        headers += ["CPU Mem", "Self CPU Mem"]
    headers.append("# of Calls")
    widths = [name_width] + [12] * (len(headers) - 1)
    if with_shapes:
        headers.append("Input Shapes")
        widths.append(shapes_width)
    row_format = "".join("{: >" + str(w) + "}  " for w in widths)
    separator = "".join("-" * w + "  " for w in widths)
    line_length = sum(widths) + 2 * (len(widths) - 1)
    total = sum(e.self_cpu_time_total for e in events)
    lines = []
    if header is not None:
        lines += ["=" * line_length, header]
    if top_level_only:
        lines += ["=" * line_length, "This report only display top-level ops statistics"]
    lines += [separator, row_format.format(*headers), separator]
    shown = 0
    for event in events:
        if shown == row_limit:
            break
        if top_level_only and event.cpu_parent is not None:
            continue
        shown += 1
        name = event.key
        if len(name) >= max_name_width - 3:
            name = name[:max_name_width - 3] + "..."
        row = [name, _share(event.self_cpu_time_total, total), _in_unit(event.self_cpu_time_total, time_unit),
               _share(event.cpu_time_total, total), _in_unit(event.cpu_time_total, time_unit),
               _in_unit(event.cpu_time, time_unit)]
        if profile_memory:
            row += [format_memory(event.cpu_memory_usage), format_memory(event.self_cpu_memory_usage)]
        row.append(event.count)
        if with_shapes:
            row.append(str(event.input_shapes)[:shapes_width])
        lines.append(row_format.format(*row))
    lines += [separator, f"Self CPU time total: {_in_unit(total, time_unit)}"]
    return "\n".join(lines) + "\n"
