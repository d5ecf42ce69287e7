"""Shared benchmark machinery: same thread counts, interleaved repeats, medians, ratios.

The machines these run on are shared and noisy, so every benchmark runs chainrule,
PyTorch and (where there is one) a hand-written NumPy floor *interleaved* (in one process,
or in one process each where the garbage collector takes part) and reports medians and
ratios, never lone times.
"""
from __future__ import annotations

import os
import platform
import resource
import statistics
import time
from typing import Callable, Dict, List

import numpy as np


def configure_threads(threads: int) -> dict:
    """Give NumPy's BLAS and PyTorch the same number of threads; say which BLAS runs."""
    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    from chainrule import gemm  # (loads MKL when the extra is there, so that the limit covers it)

    threadpool_limits(threads)
    torch.set_num_threads(threads)
    keep_freed_memory()
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
        "chainrule gemm": gemm.backend(),
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


def interleaved_isolated(candidates: Dict[str, Callable[[], float | None]], repeats: int,
                         threads: int, warmup: int = 1) -> Dict[str, List[float]]:
    """:func:`interleaved`, with each candidate in a fresh interpreter of its own.

    For benchmarks that Python's cyclic garbage collector takes part in: its full passes
    scan every tracked object in the process, so one framework's import (PyTorch's is some
    160,000 objects) would slow the other's collections.  A user runs one framework per
    process; so does this.  Candidates must be picklable (module-level functions or
    ``functools.partial`` of them) and import what they need themselves; rounds still
    alternate between the processes, so both see the same noise."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    connections, processes = {}, []
    for name, candidate in candidates.items():
        parent, child = context.Pipe()
        process = context.Process(target=_isolated_worker, args=(child, candidate, threads), daemon=True)
        process.start()
        connections[name] = parent
        processes.append(process)
    times: Dict[str, List[float]] = {name: [] for name in candidates}
    try:
        for round_index in range(warmup + repeats):
            for name, connection in connections.items():
                connection.send("run")
                elapsed = connection.recv()
                if isinstance(elapsed, BaseException):
                    raise RuntimeError(f"{name} failed in its worker process") from elapsed
                if round_index >= warmup:
                    times[name].append(elapsed)
    finally:
        for connection in connections.values():
            connection.send(None)
        for process in processes:
            process.join(timeout=30)
    return times


def _isolated_worker(connection, candidate: Callable[[], float | None], threads: int) -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    while connection.recv() is not None:
        try:
            start = time.perf_counter()
            measured = candidate()
            connection.send(time.perf_counter() - start if measured is None else measured)
        except BaseException as error:  # noqa: BLE001 - handed to the parent, which raises
            connection.send(error)


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


# -- training-step benchmarks (mlp_train, conv_train) ----------------------------------------

def framework(name: str):
    """The library a ``framework_step`` runs on: ``torch`` for "pytorch" (and "pytorch
    compiled"), else ``chainrule``."""
    if name.startswith("pytorch"):
        import torch
        return torch
    import chainrule
    keep_freed_memory()
    return chainrule


def compiled(name: str) -> bool:
    """Whether an implementation's name asks for ``compile`` ("chainrule compiled", "pytorch
    compiled")."""
    return name.endswith(" compiled")


def sgd_training_step(lib, model, x, y, lr: float, compile: bool = False) -> Callable:
    """``step() -> loss``: one training step of ``model`` on the batch ``(x, y)`` written the
    PyTorch way (zero_grad, forward, cross-entropy, backward, SGD step), so that ``lib`` may
    be ``torch`` or ``chainrule`` (``import chainrule as torch`` runs it unchanged).  With
    ``compile``, the forward and the loss run as one compiled function
    (``lib.compile(lambda inputs, targets: criterion(model(inputs), targets))``), the way a
    PyTorch 2 user writes it."""
    criterion = lib.nn.CrossEntropyLoss()
    optimizer = lib.optim.SGD(model.parameters(), lr=lr)
    inputs, targets = lib.from_numpy(x.copy()), lib.from_numpy(y.copy())

    def loss_of(batch, labels):
        return criterion(model(batch), labels)

    if compile:
        loss_of = lib.compile(loss_of)

    def step():
        optimizer.zero_grad()
        loss = loss_of(inputs, targets)
        loss.backward()
        optimizer.step()
        return loss

    return step


def scalar(loss) -> float:
    """A loss (a framework's 0-d tensor or the floor's float) as a Python float."""
    return float(loss.detach().item()) if hasattr(loss, "detach") else float(loss)


def keep_freed_memory() -> bool:
    """Opt in to chainrule's malloc tuning (``backend.keep_freed_memory``), as the ``chainrule``
    command line does for its jobs: importing chainrule leaves malloc alone, and a training
    script opts in with this one call. Every benchmark process that runs chainrule calls it."""
    from chainrule import backend

    return backend.keep_freed_memory()


def malloc_note() -> str:
    """Whether the harness raised glibc's malloc thresholds (backend.keep_freed_memory): in
    one process that applies to all three implementations alike."""
    from chainrule import backend

    tuned = getattr(backend, "MALLOC_TUNED", None)
    state = {True: "raised by the harness's backend.keep_freed_memory() (in this process, for all three)",
             False: "glibc's defaults (chainrule's tuning off)", None: "unknown"}[tuned]
    return f"malloc thresholds: {state}"


def minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def check_same_math(build: Callable, names, weights: str, context: str = "") -> float:
    """One step from the same weights in each implementation (``build(name)`` gives ``(step,
    first)``, ``first()`` the weights named ``weights``): the losses and the weight updates
    must agree with PyTorch's, or the comparison is meaningless.  Returns PyTorch's loss."""
    losses, updates = {}, {}
    for name in names:
        step, first = build(name)
        before = first().copy()
        losses[name] = scalar(step())
        updates[name] = first() - before
    scale = np.abs(updates["pytorch"]).max()
    for name in names:
        if not np.allclose(updates[name], updates["pytorch"], rtol=1e-3, atol=1e-3 * scale):
            raise AssertionError(f"{name}'s update of {weights} differs from PyTorch's{context}")
    if max(losses.values()) - min(losses.values()) > 1e-4:
        raise AssertionError(f"losses differ{context}: {losses}")
    return losses["pytorch"]


def step_runners(steps_by_name: Dict[str, Callable], steps: int) -> tuple:
    """Candidates for :func:`interleaved`, each timing ``steps`` calls of its step (seconds
    per step), and the minor page faults per step each run recorded, by name."""
    runners, faults = {}, {name: [] for name in steps_by_name}
    for name, step in steps_by_name.items():

        def run(step=step, name=name) -> float:
            before = minor_faults()
            start = time.perf_counter()
            for _ in range(steps):
                step()
            elapsed = time.perf_counter() - start
            faults[name].append((minor_faults() - before) / steps)
            return elapsed / steps

        runners[name] = run
    return runners, faults


def torch_compile_works() -> str | None:
    """None when ``torch.compile`` (inductor) compiles and runs a tiny function here, else
    why not (it needs a C++ compiler and its own toolchain)."""
    import torch
    try:
        torch.compile(lambda t: (t * 2).sum())(torch.ones(2))
    except Exception as error:  # noqa: BLE001 - any failure means "not on this machine"
        return f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
    return None


def report_floor_and_faults(medians: Dict[str, float], faults: Dict[str, List[float]]) -> None:
    """Each median as a ratio to the NumPy floor's, and the median page faults per step
    (leaving out the first two runs, which may still be allocating)."""
    floor = medians["numpy floor"]
    print("  " + "   ".join(f"{name}: {medians[name] / floor:.2f}x floor" for name in medians))
    print("  minor page faults per step (median): " + ", ".join(
        f"{name} {statistics.median(v[2:] or v):.0f}" for name, v in faults.items()))
