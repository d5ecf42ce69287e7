"""run_all: every benchmark, one after another, each in its own process, then one table of
chainrule/PyTorch ratios (and peak memory against the NumPy floor) next to the targets.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run_all.py

(Unset those two only for the run: they pin OpenBLAS to a kernel other than the one this CPU
would pick.) ``--quick`` halves the repeats; ``--only mlp_train conv_train`` runs a subset;
``--torch-compile`` adds torch.compile's figures where it runs.
Each benchmark's own report is printed as it runs; the table comes last.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MARKER = "@@RESULT "

#: benchmark -> (arguments, arguments with --quick)
BENCHMARKS = {
    "tiny_ops": ([], ["--repeats", "7"]),
    "deep_chain": ([], ["--repeats", "3"]),
    "optim_step": ([], ["--repeats", "5", "--steps", "30"]),
    "mlp_train": ([], ["--repeats", "5"]),
    "conv_train": ([], ["--repeats", "5"]),
    "ddp": ([], ["--repeats", "3"]),
    "transformer_train": ([], ["--repeats", "3"]),
    "rnn_train": ([], ["--repeats", "3"]),
    "debug_overhead": ([], ["--repeats", "3"]),
}

#: metric -> (most allowed ratio, what the ratio is of). Training targets are the project's
#: speed contract; the others hold the per-op machinery at PyTorch's pace.
TARGETS = {
    "tiny_ops": (1.0, "chainrule / PyTorch, us per op (aim 0.8)"),
    "deep_chain_10000": (1.0, "chainrule / PyTorch"),
    "deep_chain_100000": (0.5, "chainrule / PyTorch"),
    "mlp_big": (1.0, "chainrule / PyTorch, step time (aim 0.85)"),
    "mlp_small": (0.6, "chainrule / PyTorch, step time"),
    "mlp_big_peak_vs_floor": (1.3, "chainrule / NumPy floor, peak RSS growth"),
    "mlp_small_peak_vs_floor": (None, "chainrule / NumPy floor, peak RSS growth"),
    "conv_train": (2.0, "chainrule / PyTorch, step time (aim 1.5)"),
    "ddp_allreduce_1KB_us": (50.0, "microseconds per all_reduce of 1 KB, 2 ranks (not a ratio)"),
    "ddp_allreduce_16MB_ms": (16.0 / 1.5 * 1.048576, "ms per all_reduce of 16 MB, 2 ranks: <= means >= 1.5 GB/s"),
    "ddp_step": (1.25, "2 ranks x 1 thread / 1 process x 1 thread, MLP step (aim 0.9)"),
    "transformer_train": (1.3, "chainrule / PyTorch, step time"),
    "lstm_train": (1.5, "chainrule / PyTorch, 2-layer LSTM step time (aim 1.0)"),
    "gru_train": (1.5, "chainrule / PyTorch, 2-layer GRU step time (aim 1.0)"),
    "lstm_peak_vs_pytorch": (1.5, "chainrule / PyTorch, LSTM step peak RSS growth"),
    "debug_recording": (None, "digits MLP step, recording for `chainrule debug` / debug off"),
    "debug_session": (2.0, "digits MLP step, `chainrule debug` (recording + checks) / debug off"),
    "tiny_ops_compiled": (0.3, "chainrule.compile / PyTorch eager, us per op"),
    "mlp_small_compiled": (0.25, "chainrule.compile / PyTorch eager, step time"),
    "mlp_big_compiled": (0.8, "chainrule.compile / PyTorch eager, step time"),
    "conv_train_compiled": (0.8, "chainrule.compile / PyTorch eager, step time"),
    "mlp_big_compiled_peak_vs_eager": (1.0, "compiled / eager chainrule, the process's peak RSS after warm-up"),
    "mlp_small_compiled_peak_vs_eager": (None, "compiled / eager chainrule, the process's peak RSS after warm-up"),
    "mlp_big_compiled_faults_per_step": (10.0, "minor page faults per compiled step (not a ratio)"),
    "mlp_small_compiled_faults_per_step": (None, "minor page faults per compiled step (not a ratio)"),
    "tiny_ops_torch_compiled": (None, "torch.compile / PyTorch eager (--torch-compile)"),
    "mlp_small_torch_compiled": (None, "torch.compile / PyTorch eager (--torch-compile)"),
    "mlp_big_torch_compiled": (None, "torch.compile / PyTorch eager (--torch-compile)"),
    "conv_train_torch_compiled": (None, "torch.compile / PyTorch eager (--torch-compile)"),
}
OPTIM_TARGET = 1.0
#: The benchmarks that time torch.compile too with --torch-compile.
TORCH_COMPILE = ("tiny_ops", "mlp_train", "conv_train")


def run(name: str, args: list[str], threads: int) -> dict:
    """Run one benchmark's ``main`` in a fresh process, echo its report, return its ratios."""
    code = (f"import json, sys; sys.path.insert(0, {HERE!r}); import {name}; "
            f"r = {name}.main({args + ['--threads', str(threads)]!r}); "
            f"print({MARKER!r} + json.dumps(r))")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=HERE, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    result: dict = {}
    for line in process.stdout:
        if line.startswith(MARKER):
            result = json.loads(line[len(MARKER):])
        else:
            print(line, end="", flush=True)
    if process.wait() != 0:
        print(f"!! {name} failed (exit status {process.returncode})")
    return result


def table(results: dict) -> list[tuple]:
    rows = []
    for metric, ratio in results.items():
        if metric in TARGETS:
            target, what = TARGETS[metric]
        else:  # optim_step's "<Optimizer>/<params>"
            target, what = OPTIM_TARGET, "chainrule / PyTorch, us per step()"
            metric = f"optim {metric}"
        verdict = "-" if target is None else ("ok" if ratio <= target else "MISSED")
        rows.append((metric, ratio, target, verdict, what))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), default=list(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--torch-compile", action="store_true",
                        help="also time torch.compile where a benchmark can (inductor compiles for minutes)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    for variable in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if variable in os.environ:
            print(f"note: {variable}={os.environ[variable]} is set; for a benchmark run unset it: "
                  f"env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run_all.py")
    sys.path.insert(0, HERE)
    from _harness import configure_threads

    environment = configure_threads(args.threads)
    started = time.perf_counter()
    results: dict = {}
    for name in args.only:
        print(f"\n===== {name} " + "=" * (60 - len(name)), flush=True)
        full, quick = BENCHMARKS[name]
        extra = ["--torch-compile"] if args.torch_compile and name in TORCH_COMPILE else []
        results.update(run(name, (quick if args.quick else full) + extra, args.threads))
    elapsed = time.perf_counter() - started

    print(f"\n===== summary ({datetime.date.today().isoformat()}, {elapsed:.0f} s; "
          f"BLAS: {environment['blas']}; torch {environment['torch']}; "
          f"numpy {environment['numpy']}; {args.threads} thread(s)) =====")
    rows = table(results)
    width = max((len(r[0]) for r in rows), default=10)
    print(f"  {'metric':<{width}}  {'ratio':>6}  {'target':>7}  {'':6}  ratio of")
    for metric, ratio, target, verdict, what in rows:
        limit = "-" if target is None else f"<={target:.2f}"
        print(f"  {metric:<{width}}  {ratio:6.2f}  {limit:>7}  {verdict:<6}  {what}")
    missed = [r[0] for r in rows if r[3] == "MISSED"]
    print(f"  {len(rows) - len(missed)} of {len(rows)} within target"
          + (f"; missed: {', '.join(missed)}" if missed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
