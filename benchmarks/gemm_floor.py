"""gemm_floor: float32 GEMM speed (GFLOP/s) on the big MLP's and the transformer's shapes, for
NumPy's matmul (its bundled OpenBLAS), PyTorch's (MKL) and chainrule.gemm's (MKL when the
``mkl`` extra is installed, else NumPy's), each in a process of its own (so that their
thread pools do not spin against each other), rounds alternating; medians.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/gemm_floor.py --threads 1

``--coretypes SapphireRapids Cooperlake`` adds NumPy runs with OpenBLAS pinned to those
kernels. Not part of run_all: it measures the libraries, not chainrule."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

SHAPES = {  # name: (M, K, N, layout of the operands)
    "256x784 @ 784x512 (x W^T)": (256, 784, 512, "x W^T"),
    "256x512 @ 512x512 (x W^T)": (256, 512, 512, "x W^T"),
    "256x512 @ 512x512 (g W)": (256, 512, 512, "g W"),
    "512x256 @ 256x784 (g^T x)": (512, 256, 784, "g^T x"),
    "1024x128 @ 128x384 (x W^T)": (1024, 128, 384, "x W^T"),
    "1024x128 @ 128x128 (x W^T)": (1024, 128, 128, "x W^T"),
}


def measure(library: str, threads: int) -> dict:
    """GFLOP/s per shape for one library, in this process."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    if library == "torch":
        import torch

        torch.set_num_threads(threads)

        def product(a, b, out):
            torch.matmul(torch.from_numpy(a), torch.from_numpy(b), out=torch.from_numpy(out))
    elif library == "chainrule":
        from chainrule import gemm

        def product(a, b, out):
            gemm.matmul(a, b)  # (a new array, as the ops use it)
    else:
        def product(a, b, out):
            np.matmul(a, b, out=out)
    threadpool_limits(threads)
    rng = np.random.default_rng(0)
    found = {}
    for name, (m, k, n, layout) in SHAPES.items():
        if layout == "g^T x":
            a, b = rng.standard_normal((k, m), np.float32).T, rng.standard_normal((k, n), np.float32)
        elif layout == "x W^T":
            a, b = rng.standard_normal((m, k), np.float32), rng.standard_normal((n, k), np.float32).T
        else:
            a, b = rng.standard_normal((m, k), np.float32), rng.standard_normal((k, n), np.float32)
        out = np.empty((m, n), np.float32)
        repeats = max(3, int(1e9 / (2 * m * n * k)))
        for _ in range(3):
            product(a, b, out)
        rates = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(repeats):
                product(a, b, out)
            rates.append(2 * m * n * k * repeats / (time.perf_counter() - start) / 1e9)
        found[name] = statistics.median(rates)
    return found


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--coretypes", nargs="*", default=[])
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a worker: measure this library
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one, args.threads)))
        return {}
    candidates = {"numpy": ("numpy", None), "pytorch": ("torch", None), "chainrule.gemm": ("chainrule", None)}
    candidates.update({f"numpy {core}": ("numpy", core) for core in args.coretypes})
    results: dict = {name: [] for name in candidates}
    for _ in range(args.rounds):
        for name, (library, core) in candidates.items():
            env = dict(os.environ)
            if core:
                env["OPENBLAS_CORETYPE"] = core
            done = subprocess.run([sys.executable, __file__, "--one", library, "--threads", str(args.threads)],
                                  capture_output=True, text=True, env=env, check=True)
            results[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    from chainrule import gemm

    print(f"gemm_floor: float32 GFLOP/s, {args.threads} thread(s), medians of {args.rounds} rounds, "
          f"one process per library; chainrule.gemm runs {gemm.backend()}")
    ratios = {}
    for shape in SHAPES:
        medians = {name: statistics.median(r[shape] for r in runs) for name, runs in results.items()}
        print(f"  {shape:28s} " + "  ".join(f"{name} {rate:6.1f}" for name, rate in medians.items()))
        ratios[shape] = medians["numpy"] / medians["pytorch"]
    return ratios


if __name__ == "__main__":
    main()
