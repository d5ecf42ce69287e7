"""tiny_ops: a ~2,000-op graph of elementwise ops on shape-(4,) float32 tensors, forward +
backward; microseconds per op for chainrule and PyTorch (CPU, same threads) and their ratio.

At this size the arithmetic is nothing: what is measured is each framework's per-op
bookkeeping (recording the graph, walking it backward, accumulating gradients)."""
from __future__ import annotations

import argparse

import numpy as np

from _harness import configure_threads, interleaved, print_environment, report

OPS_PER_BLOCK = 5


def build_and_backward(lib, x, w, blocks: int) -> None:
    y = x
    for _ in range(blocks):
        y = y * w          # mul (two inputs need grad)
        y = y + x          # add, a leaf used many times: gradients accumulate
        y = y.tanh()       # unary with a saved output
        y = y - 0.5        # reflected scalar
        y = y.sigmoid()
    y.sum().backward()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    import torch
    import chainrule

    print_environment(configure_threads(args.threads))
    blocks = args.ops // OPS_PER_BLOCK
    ops = blocks * OPS_PER_BLOCK + 1
    values = np.random.default_rng(0).random(4).astype(np.float32)

    def runner(lib):
        x = lib.tensor(values, requires_grad=True)
        w = lib.tensor(values[::-1].copy(), requires_grad=True)
        return lambda: build_and_backward(lib, x, w, blocks)

    times = interleaved({"chainrule": runner(chainrule), "pytorch": runner(torch)}, args.repeats)
    medians = report(f"tiny_ops: {ops} ops on shape-(4,) float32, forward + backward",
                     {k: [t / ops for t in v] for k, v in times.items()}, "us/op", 1e6)
    return {"tiny_ops": medians["chainrule"] / medians["pytorch"]}


if __name__ == "__main__":
    main()
