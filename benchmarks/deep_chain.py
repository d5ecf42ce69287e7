"""deep_chain: 10,000 and 100,000 chained ops on a scalar, forward + backward, for chainrule
and PyTorch (CPU, same threads); medians and the ratio chainrule/PyTorch.

This exercises the engine's graph walk (iterative, no recursion) and graph teardown."""
from __future__ import annotations

import argparse

from _harness import configure_threads, interleaved, print_environment, report


def chain(lib, length: int) -> None:
    x = lib.tensor(1.0, requires_grad=True)
    y = x
    for i in range(length):
        y = y * 1.0000001 if i % 2 else y + 0.001
    y.backward()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lengths", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    import torch
    import chainrule

    print_environment(configure_threads(args.threads))
    ratios = {}
    for length in args.lengths:
        repeats = args.repeats if length <= 10_000 else max(3, args.repeats // 2)
        times = interleaved({"chainrule": lambda: chain(chainrule, length),
                             "pytorch": lambda: chain(torch, length)}, repeats)
        medians = report(f"deep_chain: {length:,} chained scalar ops, forward + backward",
                         times, "ms", 1e3)
        ratios[f"deep_chain_{length}"] = medians["chainrule"] / medians["pytorch"]
    return ratios


if __name__ == "__main__":
    main()
