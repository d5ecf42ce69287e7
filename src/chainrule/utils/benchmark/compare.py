"""``torch.utils.benchmark.Compare``: measurements as tables, one per label: a row per
sub-label (grouped by thread count), a column per description, medians in one unit."""
from __future__ import annotations

import collections
import enum
import math

from .common import Measurement, ordered_unique, select_unit, trim_sigfig, unit_to_english

__all__ = ["Colorize", "Compare"]

_BEST, _GOOD, _BAD, _VERY_BAD = "\033[92m", "\033[34m", "\033[2m\033[91m", "\033[31m"
_BOLD, _END = "\033[1m", "\033[0m"


class Colorize(enum.Enum):
    NONE = "none"
    COLUMNWISE = "columnwise"
    ROWWISE = "rowwise"


def _color(segment: str, value: float, best: float) -> str:
    """The cell coloured by how far ``value`` is from the best one."""
    if value <= best * 1.01 or value <= best + 100e-9:
        return _BEST + _BOLD + segment + _END * 2
    if value <= best * 1.1:
        return _GOOD + _BOLD + segment + _END * 2
    if value >= best * 5:
        return _VERY_BAD + _BOLD + segment + _END * 2
    if value >= best * 2:
        return _BAD + segment + _END * 2
    return segment


class Compare:
    """Collects :class:`Measurement` results and prints them as tables."""

    def __init__(self, results: list) -> None:
        self._results: list = []
        self.extend_results(results)
        self._trim_significant_figures = False
        self._colorize = Colorize.NONE
        self._highlight_warnings = False

    def __str__(self) -> str:
        return "\n".join(self._render())

    def extend_results(self, results: list) -> None:
        for r in results:
            if not isinstance(r, Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(r)} instead.")
        self._results.extend(results)

    def trim_significant_figures(self) -> None:
        self._trim_significant_figures = True

    def colorize(self, rowwise: bool = False) -> None:
        self._colorize = Colorize.ROWWISE if rowwise else Colorize.COLUMNWISE

    def highlight_warnings(self) -> None:
        self._highlight_warnings = True

    def print(self) -> None:
        print(str(self))

    def _render(self) -> list:
        grouped: dict = collections.defaultdict(list)
        for m in Measurement.merge(self._results):
            grouped[m.label].append(m)
        return [self._table(group) for group in grouped.values()]

    def _table(self, results: list) -> str:
        unit, scale = select_unit(min(r.median for r in results))
        row_keys = ordered_unique((r.num_threads, r.env, r.as_row_name) for r in results)
        row_keys.sort(key=lambda key: key[:2])
        column_keys = ordered_unique(r.description for r in results)
        cells = {((r.num_threads, r.env, r.as_row_name), r.description): r for r in results}
        grid = [[cells.get((row, column)) for column in column_keys] for row in row_keys]
        formats = [self._column_format([row[j] for row in grid], scale) for j in range(len(column_keys))]
        envs = {r.env for r in results}
        env_width = max(len(e) for e in envs) if len(envs) > 1 else 0
        string_rows = [[""] + [c or "" for c in column_keys]]
        for (threads, env, name), row in zip(row_keys, grid):
            prefix = (f"({env})" if len(envs) > 1 else "").ljust(env_width + 4)
            string_rows.append(["  " + prefix + name] + [self._cell(m, scale, f) for m, f in zip(row, formats)])
        widths = [max(len(s) for s in column) for column in zip(*string_rows)]
        lines = ["  |  ".join(s.center(w) for s, w in zip(string_rows[0], widths))]
        overall = len(lines[0])
        previous_threads = None
        for (threads, _, _), strings, row in zip(row_keys, string_rows[1:], grid):
            if threads != previous_threads:
                lines.append(f"{threads} threads: ".ljust(overall, "-"))
                previous_threads = threads
            group = [r for (t, _, _), r in zip(row_keys, grid) if t == threads]
            lines.append("  |  ".join(self._finish(strings, widths, row, group)))
        warned = self._highlight_warnings and any(r.has_warnings for r in results)
        label = results[0].label
        return "\n".join([
            f"[{(' ' + (label or '') + ' ').center(overall - 2, '-')}]", *lines, "",
            f"Times are in {unit_to_english(unit)}s ({unit}).",
            *(["(! XX%) Measurement has high variance, where XX is the IQR / median * 100."] if warned else []), ""])

    def _column_format(self, column: list, scale: float) -> tuple:
        """(template, trim) for one column: digits enough for its largest median and, when
        trimming, no more decimals than its measurements support."""
        present = [m for m in column if m is not None]
        leading = [math.ceil(math.log10(m.median / scale)) for m in present]
        decimals = min(max(m.significant_figures - d, 0) for d, m in zip(leading, present)) \
            if self._trim_significant_figures else 1
        length = max(leading) + decimals + (1 if decimals else 0)
        warned = self._highlight_warnings and any(m.has_warnings for m in present)
        return f"{{:>{length}.{decimals}f}}{{:>{7 if warned else 0}}}", warned

    def _cell(self, m: Measurement | None, scale: float, column_format: tuple) -> str:
        template, warned = column_format
        if m is None:
            return " " * len(template.format(1.0, ""))
        value = m.median / scale
        if self._trim_significant_figures:
            value = trim_sigfig(value, m.significant_figures)
        spread = f" (! {m.iqr / m.median * 100:.0f}%)" if warned and m.has_warnings else ""
        return template.format(value, spread)

    def _finish(self, strings: list, widths: list, row: list, group: list) -> list:
        """A row's cells, padded and (when colorizing) coloured against the best of its row, or
        of its column among the rows of the same thread count."""
        cells = [strings[0].ljust(widths[0])]
        for j, (text, width, m) in enumerate(zip(strings[1:], widths[1:], row)):
            text = text.center(width)
            if self._colorize != Colorize.NONE and m is not None:
                peers = row if self._colorize == Colorize.ROWWISE else [r[j] for r in group]
                text = _color(text, m.median, min(p.median for p in peers if p is not None))
            cells.append(text)
        return cells
