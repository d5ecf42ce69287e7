"""sparse_mm: a graph network's product, a sparse normalized adjacency (Cora's size: 2,708
nodes, ~13,000 entries with self-loops) times dense features, forward + backward to the
features, as ``torch.spmm(adj, support)`` in pygcn; chainrule / PyTorch, and the two NumPy ways
to sum the entries' contributions per row that chainrule chose between (``np.add.at`` and
``np.add.reduceat`` over entries sorted by row, the latter in chainrule.ops.sparse)."""
from __future__ import annotations

import argparse
import warnings

import numpy as np

from _harness import configure_threads, interleaved, print_environment, report


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=2708)
    parser.add_argument("--edges", type=int, default=5278)
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    import torch
    import chainrule

    warnings.filterwarnings("ignore", message="Sparse invariant checks")
    print_environment(configure_threads(args.threads))
    rng = np.random.default_rng(0)
    n = args.nodes
    pairs = rng.integers(0, n, (2, args.edges))
    indices = np.concatenate([pairs, pairs[::-1], np.tile(np.arange(n), (2, 1))], axis=1)
    values = rng.random(indices.shape[1]).astype(np.float32)
    features = rng.standard_normal((n, args.features)).astype(np.float32)
    grad = rng.standard_normal((n, args.features)).astype(np.float32)

    def runner(lib):
        adj = lib.sparse_coo_tensor(lib.tensor(indices), lib.tensor(values), (n, n)).coalesce()
        x = lib.tensor(features, requires_grad=True)
        g = lib.tensor(grad)

        def step():
            x.grad = None
            lib.spmm(adj, x).backward(g)
        return step

    coalesced = torch.sparse_coo_tensor(torch.tensor(indices), torch.tensor(values), (n, n)).coalesce()
    rows, cols = (a.copy() for a in coalesced._indices().numpy())
    entries = coalesced._values().numpy().copy()
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    by_col = np.argsort(cols, kind="stable")
    col_starts = np.flatnonzero(np.r_[True, cols[by_col][1:] != cols[by_col][:-1]])
    rows_by_col, entries_by_col = rows[by_col], entries[by_col]

    def add_at():
        out = np.zeros_like(features)
        np.add.at(out, rows, entries[:, None] * features[cols])
        back = np.zeros_like(features)
        np.add.at(back, cols, entries[:, None] * grad[rows])

    def reduceat():
        out = np.zeros_like(features)
        out[rows[starts]] = np.add.reduceat(entries[:, None] * features[cols], starts, axis=0)
        back = np.zeros_like(features)
        back[cols[by_col][col_starts]] = np.add.reduceat(entries_by_col[:, None] * grad[rows_by_col], col_starts,
                                                         axis=0)

    times = interleaved({"chainrule": runner(chainrule), "pytorch": runner(torch), "numpy add.at": add_at,
                         "numpy reduceat": reduceat}, args.repeats, warmup=2)
    medians = report(f"sparse_mm: ({n} x {n}, {rows.size} entries) @ ({n} x {args.features}) float32, "
                     "forward + backward", times, "us", 1e6)
    return {"sparse_mm": medians["chainrule"] / medians["pytorch"]}


if __name__ == "__main__":
    main()
