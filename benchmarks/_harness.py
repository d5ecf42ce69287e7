"""Shared benchmark machinery: same thread counts, interleaved repeats, medians, ratios.

The machines these run on are shared and noisy, so every benchmark runs chainrule,
PyTorch and (where there is one) a hand-written NumPy floor *interleaved* in one process
and reports medians and ratios, never lone times.
"""
from __future__ import annotations

import os
import platform
import statistics
import time
from typing import Callable, Dict, List

import numpy as np


def configure_threads(threads: int) -> dict:
    """Give NumPy's BLAS and PyTorch the same number of threads; say which BLAS runs."""
    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(threads)
    torch.set_num_threads(threads)
    blas = [
        f"{info.get('internal_api')} {info.get('version')} ({info.get('architecture')}, "
        f"{info.get('num_threads')} threads)"
        for info in threadpool_info() if info.get("user_api") == "blas"
    ]
    return {
        "threads": threads,
        "numpy": np.__version__,
        "torch": torch.__version__,
        "blas": "; ".join(blas) or "unknown",
        "python": platform.python_version(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
    }


def interleaved(candidates: Dict[str, Callable[[], float | None]], repeats: int,
                warmup: int = 1) -> Dict[str, List[float]]:
    """Run each candidate ``repeats`` times, round-robin, after ``warmup`` rounds.

    A candidate returns its own measured seconds (to exclude setup) or None to be timed
    whole."""
    times: Dict[str, List[float]] = {name: [] for name in candidates}
    for round_index in range(warmup + repeats):
        for name, run in candidates.items():
            start = time.perf_counter()
            measured = run()
            elapsed = time.perf_counter() - start if measured is None else measured
            if round_index >= warmup:
                times[name].append(elapsed)
    return times


def report(title: str, times: Dict[str, List[float]], unit: str, scale: float,
           baseline: str = "pytorch") -> Dict[str, float]:
    """Print medians (in ``unit``, multiplying seconds by ``scale``) and ratios to
    ``baseline``; return the medians in seconds."""
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"\n{title}")
    width = max(len(name) for name in medians)
    for name, median in medians.items():
        ratio = median / medians[baseline] if baseline in medians else float("nan")
        spread = statistics.quantiles(times[name], n=4) if len(times[name]) >= 4 else [median, median, median]
        print(f"  {name:<{width}}  median {median * scale:10.2f} {unit}   "
              f"(IQR {spread[0] * scale:.2f}-{spread[2] * scale:.2f})   {ratio:5.2f}x {baseline}")
    return medians


def print_environment(info: dict) -> None:
    print("environment: " + ", ".join(f"{k}={v}" for k, v in info.items()))
