"""tiny_ops: a ~2,000-op graph of elementwise ops on shape-(4,) float32 tensors, forward +
backward; microseconds per op for chainrule and PyTorch (CPU, same threads) and their ratio.

At this size the arithmetic is nothing: what is measured is each framework's per-op
bookkeeping (recording the graph, walking it backward, accumulating gradients).  "chainrule
compiled" runs the same function through ``chainrule.compile`` (the whole chain is one
plan; ``loss.backward()`` is called outside it); ``--torch-compile`` adds
``torch.compile`` of it."""
from __future__ import annotations

import argparse

import numpy as np

from _harness import configure_threads, interleaved, print_environment, report, torch_compile_works

OPS_PER_BLOCK = 5


def chain(x, w, blocks: int):
    """The graph: ``blocks`` blocks of five ops; returns the loss."""
    y = x
    for _ in range(blocks):
        y = y * w          # mul (two inputs need grad)
        y = y + x          # add, a leaf used many times: gradients accumulate
        y = y.tanh()       # unary with a saved output
        y = y - 0.5        # reflected scalar
        y = y.sigmoid()
    return y.sum()


def build_and_backward(lib, x, w, blocks: int, forward=chain) -> None:
    forward(x, w, blocks).backward()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--torch-compile", action="store_true",
                        help="also time torch.compile of the chain (inductor compiles it for minutes)")
    args = parser.parse_args(argv)

    import torch
    import chainrule

    print_environment(configure_threads(args.threads))
    blocks = args.ops // OPS_PER_BLOCK
    ops = blocks * OPS_PER_BLOCK + 1
    values = np.random.default_rng(0).random(4).astype(np.float32)

    def runner(lib, forward=chain):
        x = lib.tensor(values, requires_grad=True)
        w = lib.tensor(values[::-1].copy(), requires_grad=True)
        return lambda: build_and_backward(lib, x, w, blocks, forward)

    candidates = {"chainrule": runner(chainrule), "chainrule compiled": runner(chainrule, chainrule.compile(chain)),
                  "pytorch": runner(torch)}
    if args.torch_compile:
        why_not = torch_compile_works()
        print(f"torch.compile: {'runs here' if why_not is None else 'does not run here: ' + why_not}")
        if why_not is None:
            candidates["pytorch compiled"] = runner(torch, torch.compile(chain))
    times = interleaved(candidates, args.repeats, warmup=2)
    medians = report(f"tiny_ops: {ops} ops on shape-(4,) float32, forward + backward",
                     {k: [t / ops for t in v] for k, v in times.items()}, "us/op", 1e6)
    results = {"tiny_ops": medians["chainrule"] / medians["pytorch"],
               "tiny_ops_compiled": medians["chainrule compiled"] / medians["pytorch"]}
    if "pytorch compiled" in medians:
        results["tiny_ops_torch_compiled"] = medians["pytorch compiled"] / medians["pytorch"]
    return results


if __name__ == "__main__":
    main()
