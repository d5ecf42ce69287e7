"""``chainrule.linalg`` (the norms) and ``chainrule.cdist`` against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import chainrule
from op_parity import check, raises_like_torch

RNG = np.random.default_rng(11)
A = RNG.standard_normal((2, 3, 4))
INF = float("inf")

NORMS = [
    ("norm-all", lambda L, a: L.linalg.norm(a)),
    ("torch-norm-nuc", lambda L, a: L.norm(a[0], "nuc")),
    ("tensor-norm-nuc-dims", lambda L, a: a.norm(p="nuc", dim=(0, 2), keepdim=True)),
    ("norm-dim", lambda L, a: L.linalg.norm(a, dim=1)),
    ("norm-dims-fro", lambda L, a: L.linalg.norm(a, dim=(0, 2), keepdim=True)),
    ("norm-ord-inf-2d", lambda L, a: L.linalg.norm(a[0], ord=INF)),
    ("norm-ord-1-2d", lambda L, a: L.linalg.norm(a[0], ord=1)),
    ("norm-ord-neg1-2d", lambda L, a: L.linalg.norm(a[0], ord=-1)),
    ("norm-ord-neginf-2d", lambda L, a: L.linalg.norm(a[0], ord=-INF)),
    ("norm-ord-fro", lambda L, a: L.linalg.norm(a[1], ord="fro")),
    ("norm-ord-inf-1d", lambda L, a: L.linalg.norm(a[0, 0], ord=INF)),
    ("norm-ord-3-dim", lambda L, a: L.linalg.norm(a, ord=3, dim=-1)),
    ("vector_norm", lambda L, a: L.linalg.vector_norm(a)),
    ("vector_norm-ord", lambda L, a: L.linalg.vector_norm(a, ord=1.5, dim=(0, 1))),
    ("vector_norm-inf", lambda L, a: L.linalg.vector_norm(a, ord=INF, dim=-1, keepdim=True)),
    ("vector_norm-0", lambda L, a: L.linalg.vector_norm(a, ord=0)),
    ("matrix_norm", lambda L, a: L.linalg.matrix_norm(a)),
    ("matrix_norm-1-keepdim", lambda L, a: L.linalg.matrix_norm(a, ord=1, keepdim=True)),
    ("matrix_norm-inf-dims", lambda L, a: L.linalg.matrix_norm(a, ord=INF, dim=(0, 2))),
    ("cdist", lambda L, a: L.cdist(a[0], a[1, :2])),
    ("cdist-batched", lambda L, a: L.cdist(a, a[:, :2] * 2)),
    ("cdist-p1", lambda L, a: L.cdist(a[0], a[1], p=1)),
    ("cdist-inf", lambda L, a: L.cdist(a[0], a[1], p=INF)),
    ("cdist-same-rows", lambda L, a: L.cdist(a[0], a[0])),
]


@pytest.mark.parametrize("name,fn", NORMS, ids=[n[0] for n in NORMS])
def test_norms(name, fn):
    check(fn, A)


def test_errors_like_torch():
    import torch

    raises_like_torch(lambda: chainrule.linalg.vector_norm(chainrule.arange(3)),
                      lambda: torch.linalg.vector_norm(torch.arange(3)), "floating point")
    raises_like_torch(lambda: chainrule.linalg.norm(chainrule.ones(2, 2, 2), ord=1),
                      lambda: torch.linalg.norm(torch.ones(2, 2, 2), ord=1), "1D or 2D")
    raises_like_torch(lambda: chainrule.cdist(chainrule.ones(2, 3), chainrule.ones(2, 4)),
                      lambda: torch.cdist(torch.ones(2, 3), torch.ones(2, 4)), "same number of columns")
    raises_like_torch(lambda: chainrule.cdist(chainrule.ones(3), chainrule.ones(2, 3)),
                      lambda: torch.cdist(torch.ones(3), torch.ones(2, 3)), "at least 2D")
