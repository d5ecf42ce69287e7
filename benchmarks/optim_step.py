"""optim_step: microseconds per ``optimizer.step()`` for chainrule and PyTorch (CPU, same
threads), each optimizer on two parameter sets, float32:

- ``mlp``: a 784-256-10 MLP's four parameters (the arithmetic dominates);
- ``tiny``: forty shape-(8,) parameters (each framework's per-parameter overhead dominates).

Gradients are set once; every step reads them and updates the parameters in place."""
from __future__ import annotations

import argparse
import time

import numpy as np

from _harness import configure_threads, interleaved, print_environment, report

SHAPES = {
    "mlp": [(256, 784), (256,), (10, 256), (10,)],
    "tiny": [(8,)] * 40,
}
OPTIMIZERS = {
    "SGD": {"lr": 0.01, "momentum": 0.9},
    "Adam": {"lr": 1e-3},
    "AdamW": {"lr": 1e-3, "amsgrad": True},
    "RMSprop": {"lr": 1e-3, "centered": True},
    "Adagrad": {"lr": 1e-2},
    "Adadelta": {},
    "Adamax": {"lr": 2e-3},
    "NAdam": {"lr": 2e-3},
    "RAdam": {"lr": 1e-3},
    "Rprop": {"lr": 1e-2},
    "ASGD": {"lr": 1e-2},
    "Adafactor": {"lr": 1e-2},
}


def runner(lib, name: str, shapes: list, steps: int):
    rng = np.random.default_rng(0)
    params = []
    for shape in shapes:
        p = lib.tensor(rng.standard_normal(shape).astype(np.float32) * 0.01, requires_grad=True)
        p.grad = lib.tensor(rng.standard_normal(shape).astype(np.float32) * 1e-3)
        params.append(p)
    opt = getattr(lib.optim, name)(params, **OPTIMIZERS[name])
    opt.step()  # state created outside the timing

    def run() -> float:
        start = time.perf_counter()
        for _ in range(steps):
            opt.step()
        return (time.perf_counter() - start) / steps

    return run


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    import torch
    import chainrule

    print_environment(configure_threads(args.threads))
    ratios = {}
    for size, shapes in SHAPES.items():
        for name in OPTIMIZERS:
            times = interleaved({"chainrule": runner(chainrule, name, shapes, args.steps),
                                 "pytorch": runner(torch, name, shapes, args.steps)}, args.repeats)
            medians = report(f"optim_step: {name} on {size} ({len(shapes)} params), float32",
                             times, "us/step", 1e6)
            ratios[f"{name}/{size}"] = medians["chainrule"] / medians["pytorch"]
    return ratios


if __name__ == "__main__":
    main()
