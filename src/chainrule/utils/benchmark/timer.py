"""``torch.utils.benchmark.Timer``: :mod:`timeit` with warm-up, block-size estimation and
:class:`~.common.Measurement` results."""
from __future__ import annotations

import enum
import sys
import textwrap
import timeit
from typing import Callable

import numpy as np

from .common import Measurement, TaskSpec, set_torch_threads

__all__ = ["Timer", "timer", "Language"]

timer = timeit.default_timer


class Language(enum.Enum):
    PYTHON = 0
    CPP = 1


def _clean(code: str) -> str:
    code = textwrap.dedent(code)
    return (code[1:] if code and code[0] == "\n" else code).rstrip()


class Timer:
    """Times ``stmt`` (after ``setup``, with ``globals``; ``torch`` is this library), on
    ``num_threads`` threads: ``timeit(number)``, ``blocked_autorange(min_run_time)``,
    ``adaptive_autorange(threshold)``."""

    def __init__(self, stmt: str = "pass", setup: str = "pass", global_setup: str = "",
                 timer: Callable[[], float] = timer, globals: dict | None = None, label: str | None = None,
                 sub_label: str | None = None, description: str | None = None, env: str | None = None,
                 num_threads: int = 1, language: Language | str = Language.PYTHON) -> None:
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        if language not in (Language.PYTHON, "py", "python"):
            raise ValueError(f"Invalid language `{language}`." if language not in (Language.CPP, "cpp", "c++")
                             else "chainrule's Timer times Python statements only (no C++ toolchain).")
        if global_setup:
            raise ValueError(f"global_setup is C++ only, got `{global_setup}`. Most likely this code can "
                             "simply be moved to `setup`.")
        namespace = dict(globals or {})
        namespace.setdefault("torch", sys.modules[__name__.split(".")[0]])
        stmt, setup = _clean(stmt), _clean(setup)
        self.timer = timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=namespace)
        self.task_spec = TaskSpec(stmt=stmt, setup=setup, global_setup=global_setup, label=label,
                                  sub_label=sub_label, description=description, env=env,
                                  num_threads=num_threads)

    def _timeit(self, number: int) -> float:
        return max(self.timer.timeit(number), 1e-9)

    def timeit(self, number: int = 1000000) -> Measurement:
        """One block of ``number`` runs, after a warm-up of a hundredth of them."""
        with set_torch_threads(self.task_spec.num_threads):
            self._timeit(max(number // 100, 2))
            return Measurement(number, [self._timeit(number)], self.task_spec)

    def repeat(self, repeat: int = -1, number: int = -1) -> None:
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback: Callable | None = None) -> None:
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _estimate_block_size(self, min_run_time: float) -> int:
        """Runs per block: enough that the timer's own overhead is negligible."""
        with set_torch_threads(self.task_spec.num_threads):
            overhead = float(np.median([self._timeit(0) for _ in range(5)]))
            number = 1
            while True:
                taken = self._timeit(number)
                if (overhead / taken <= 1e-4 and taken >= min_run_time / 1000) or taken > min_run_time:
                    return number
                if number * 10 > 2147483647:
                    return number
                number *= 10

    def _measure(self, number: int, stop: Callable[[list], bool], min_run_time: float,
                 max_run_time: float | None, callback: Callable | None) -> Measurement:
        """Blocks of ``number`` runs until ``min_run_time`` has passed and ``stop`` agrees
        (or ``max_run_time`` has passed)."""
        total, times, can_stop = 0.0, [], False
        with set_torch_threads(self.task_spec.num_threads):
            while total < min_run_time or not can_stop:
                spent = self._timeit(number)
                times.append(spent)
                total += spent
                if callback:
                    callback(number, spent)
                can_stop = stop(times)
                if max_run_time and total > max_run_time:
                    break
        return Measurement(number, times, self.task_spec)

    def blocked_autorange(self, callback: Callable | None = None, min_run_time: float = 0.2) -> Measurement:
        """Blocks of a size that makes the timer's overhead negligible, for at least
        ``min_run_time`` seconds."""
        number = self._estimate_block_size(min_run_time)
        return self._measure(number, lambda times: True, min_run_time, None, callback)

    def adaptive_autorange(self, threshold: float = 0.1, *, min_run_time: float = 0.01,
                           max_run_time: float = 10.0, callback: Callable | None = None) -> Measurement:
        """Blocks until the IQR is under ``threshold`` of the median (more than three blocks,
        at least ``min_run_time``, at most ``max_run_time`` seconds)."""
        number = self._estimate_block_size(min_run_time=0.05)

        def confident(times: list) -> bool:
            return len(times) > 3 and Measurement(number, times, self.task_spec).meets_confidence(threshold)

        return self._measure(number, confident, min_run_time, max_run_time, callback)
