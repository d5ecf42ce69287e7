"""deep_chain: 10,000 and 100,000 chained ops on a scalar, forward + backward, for chainrule
and PyTorch (CPU, same threads); medians and the ratio chainrule/PyTorch.

This exercises the engine's graph walk (iterative, no recursion) and graph teardown, and,
since chainrule's graph is made of Python objects, the cyclic garbage collector: its full
passes rescan every tracked object in the process.  So each framework runs in a process of
its own (rounds still alternate between them), as a user runs one; ``--shared-process``
runs both in this one, where PyTorch's ~160,000 imported objects make chainrule's
collections dearer."""
from __future__ import annotations

import argparse
import functools
import importlib

from _harness import (configure_threads, interleaved, interleaved_isolated, keep_freed_memory, print_environment,
                      report)


def chain(lib, length: int) -> None:
    x = lib.tensor(1.0, requires_grad=True)
    y = x
    for i in range(length):
        y = y * 1.0000001 if i % 2 else y + 0.001
    y.backward()


def chain_in(library: str, length: int, threads: int) -> None:
    """``chain`` on the library named ``library``, imported on first use (for a worker
    process that should hold that library only)."""
    lib = importlib.import_module(library)
    if library == "torch":
        lib.set_num_threads(threads)
    else:
        keep_freed_memory()  # as the chainrule command line does for its jobs
    chain(lib, length)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lengths", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--shared-process", action="store_true",
                        help="run both frameworks in this process instead of one process each")
    args = parser.parse_args(argv)

    print_environment(configure_threads(args.threads))
    where = "one process, both frameworks" if args.shared_process else "one process per framework"
    ratios = {}
    for length in args.lengths:
        candidates = {name: functools.partial(chain_in, library, length, args.threads)
                      for name, library in (("chainrule", "chainrule"), ("pytorch", "torch"))}
        if args.shared_process:
            times = interleaved(candidates, args.repeats)
        else:
            times = interleaved_isolated(candidates, args.repeats, args.threads)
        medians = report(f"deep_chain: {length:,} chained scalar ops, forward + backward ({where})",
                         times, "ms", 1e3)
        ratios[f"deep_chain_{length}"] = medians["chainrule"] / medians["pytorch"]
    return ratios


if __name__ == "__main__":
    main()
