"""Every collective and ReduceOp on 2 ranks (an ``mpiexec -n 2`` job), float32/float64/int64,
blocking and async: the exact values each rank must hold, computed here from both ranks' inputs."""
from __future__ import annotations

import numpy as np
import pytest

from mpi_jobs import run, worker


@pytest.fixture(scope="module")
def ranks():
    job = run([worker("collectives.py")], n=2, timeout=120)
    assert job.returncode == 0, job.stderr
    by_rank = job.by_rank()
    assert sorted(by_rank) == [0, 1]
    return [by_rank[0]["cases"], by_rank[1]["cases"]]


def reduce(op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if op == "AVG":
        total = a + b
        # Integers: truncated towards zero, as NCCL's average.
        return np.trunc(total / 2).astype(a.dtype) if a.dtype.kind == "i" else total / 2
    return {"SUM": np.add, "PRODUCT": np.multiply, "MIN": np.minimum, "MAX": np.maximum, "BAND": np.bitwise_and,
            "BOR": np.bitwise_or, "BXOR": np.bitwise_xor}[op](a, b)


def case_names(ranks, prefix):
    names = [name for name in ranks[0] if name.split("/")[0] == prefix]
    assert names, prefix
    return names


def arrays(ranks, name, dtype_name):
    dtype = np.dtype(dtype_name)
    return [np.array(ranks[r][name]["input"], dtype) for r in (0, 1)], dtype


def exact(actual, expected, dtype):
    actual = np.array(actual, dtype)
    assert actual.shape == expected.shape
    assert np.array_equal(actual, expected.astype(dtype)), (actual, expected)


def test_all_reduce_every_op_in_place_through_views(ranks):
    names = case_names(ranks, "all_reduce")
    assert {n.split("/")[1] for n in names} == {"SUM", "PRODUCT", "MIN", "MAX", "AVG", "BAND", "BOR", "BXOR"}
    for name in names:
        _, op, dtype_name, _ = name.split("/")
        (a, b), dtype = arrays(ranks, name, dtype_name)
        for r in (0, 1):
            exact(ranks[r][name]["output"], reduce(op, a, b), dtype)
            exact(ranks[r][name]["storage"], reduce(op, a, b), dtype)  # the view's storage holds the result


def test_reduce_reaches_dst_only(ranks):
    for name in case_names(ranks, "reduce"):
        _, op, dtype_name, _ = name.split("/")
        (a, b), dtype = arrays(ranks, name, dtype_name)
        exact(ranks[1][name]["output"], reduce(op, a, b), dtype)
        exact(ranks[0][name]["output"], a, dtype)


@pytest.mark.parametrize("kind", ["reduce_scatter", "reduce_scatter_tensor"])
def test_reduce_scatter(ranks, kind):
    for name in case_names(ranks, kind):
        _, op, dtype_name, _ = name.split("/")
        (a, b), dtype = arrays(ranks, name, dtype_name)
        for r in (0, 1):  # rank r gets row r of the reduction
            exact(ranks[r][name]["output"], reduce(op, a, b)[r], dtype)


def test_broadcast_all_gather_gather_scatter(ranks):
    for name in ranks[0]:
        kind, *rest = name.split("/")
        if kind not in ("broadcast", "all_gather", "all_gather_into_tensor", "all_gather_into_tensor_stacked",
                        "gather", "scatter"):
            continue
        (a, b), dtype = arrays(ranks, name, rest[0])
        outputs = [ranks[r][name]["output"] for r in (0, 1)]
        if kind == "broadcast":
            expected = [b, b]
        elif kind == "all_gather":
            expected = [np.stack([a, b])] * 2
        elif kind == "all_gather_into_tensor":
            expected = [np.concatenate([a, b])] * 2
        elif kind == "all_gather_into_tensor_stacked":
            expected = [np.stack([a, b])] * 2
        elif kind == "gather":
            assert outputs[0] is None
            outputs, expected = outputs[1:], [np.stack([a, b])]
        else:  # scatter from rank 1: its rows, one per rank
            expected = [b[0], b[1]]
        for got, want in zip(outputs, expected):
            exact(got, want, dtype)
