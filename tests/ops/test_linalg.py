"""Matrix products against PyTorch: matmul/mm/bmm/mv/dot/outer and ``@``, for 1-D, 2-D,
batched and broadcast-batched operands; values, gradients, errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import chainrule
from op_parity import check, check_pair

RNG = np.random.default_rng(5)


def normal(*shape):
    return np.asarray(RNG.standard_normal(shape))


MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((3,), (5, 3, 4)),
    ((2, 1, 2, 3), (5, 3, 4)),
    ((1, 2, 3), (4, 1, 3, 2)),
    ((1, 3), (3, 1)),
    ((0, 3), (3, 4)),
    ((2, 0), (0, 4)),
    ((0,), (0,)),
    ((2, 0, 3), (3, 2)),
]

FORMS = [
    ("op", lambda L, a, b: a @ b),
    ("method", lambda L, a, b: a.matmul(b)),
    ("fn", lambda L, a, b: L.matmul(a, b)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
@pytest.mark.parametrize("name,fn", FORMS, ids=[f[0] for f in FORMS])
def test_matmul(name, fn, shapes):
    check(fn, normal(*shapes[0]), normal(*shapes[1]))


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_gradcheck(shapes):
    a = chainrule.tensor(normal(*shapes[0]), requires_grad=True)
    b = chainrule.tensor(normal(*shapes[1]), requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda x, y: x @ y, (a, b))


def test_matmul_one_side_requires_grad():
    a, b = normal(2, 3), normal(3, 4)
    check(lambda L, x, w: x.detach() @ w, a, b)
    check(lambda L, x, w: x @ w.detach(), a, b)


def test_matmul_same_tensor_twice():
    check(lambda L, x: x @ x, normal(3, 3))
    check(lambda L, x: x @ x.mT, normal(2, 3, 4))


def test_rmatmul_with_numpy_array():
    x = chainrule.tensor(normal(3, 2), requires_grad=True)
    m = normal(4, 3)
    out = m @ x
    assert isinstance(out, chainrule.Tensor)
    np.testing.assert_allclose(out.detach().numpy(), m @ x.detach().numpy())
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), m.T @ np.ones((4, 2)))


OTHER = [
    ("mm", lambda L, a, b: L.mm(a, b), (2, 3), (3, 4)),
    ("mm-method", lambda L, a, b: a.mm(b), (2, 3), (3, 4)),
    ("bmm", lambda L, a, b: L.bmm(a, b), (5, 2, 3), (5, 3, 4)),
    ("bmm-method", lambda L, a, b: a.bmm(b), (5, 2, 3), (5, 3, 4)),
    ("mv", lambda L, a, b: L.mv(a, b), (2, 3), (3,)),
    ("mv-method", lambda L, a, b: a.mv(b), (2, 3), (3,)),
    ("dot", lambda L, a, b: L.dot(a, b), (3,), (3,)),
    ("dot-method", lambda L, a, b: a.dot(b), (3,), (3,)),
    ("outer", lambda L, a, b: L.outer(a, b), (3,), (4,)),
    ("outer-method", lambda L, a, b: a.outer(b), (3,), (4,)),
    ("outer-empty", lambda L, a, b: L.outer(a, b), (0,), (4,)),
]


@pytest.mark.parametrize("name,fn,sa,sb", OTHER, ids=[o[0] for o in OTHER])
def test_products(name, fn, sa, sb):
    check(fn, normal(*sa), normal(*sb))


@pytest.mark.parametrize("name,fn,sa,sb", OTHER, ids=[o[0] for o in OTHER])
def test_products_gradcheck(name, fn, sa, sb):
    a = chainrule.tensor(normal(*sa), requires_grad=True)
    b = chainrule.tensor(normal(*sb), requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda x, y: fn(chainrule, x, y), (a, b))


def test_integer_matmul():
    a = np.arange(6, dtype=np.int64).reshape(2, 3)
    b = np.arange(12, dtype=np.int64).reshape(3, 4)
    check(lambda L, x, y: x @ y, a, b, grad=False)


EINSUM = [
    ("ij,jk->ik", (2, 3), (3, 4)),
    ("ij,jk", (2, 3), (3, 4)),
    ("bij,bjk->bik", (2, 2, 3), (2, 3, 4)),
    ("i,i->", (3,), (3,)),
    ("i,j->ij", (3,), (4,)),
    ("ij,ij->i", (2, 3), (2, 3)),
    ("ij->j", (2, 3), None),
    ("ij->ji", (2, 3), None),
    ("ijk->ki", (2, 3, 4), None),
    ("...ij,...jk->...ik", (2, 2, 3), (2, 3, 4)),
    ("...ij,...jk->...ik", (1, 2, 3), (4, 1, 3, 5)),
    ("...ij,jk", (2, 2, 3), (3, 4)),
    ("b...d,b...e->bde", (2, 3, 4), (2, 3, 5)),
    ("a...b,b...->a...", (2, 3), (3,)),
    ("bij,bjk->bik", (1, 2, 3), (4, 3, 5)),
    ("i...->...", (2, 3, 4), None),
    ("...->", (2, 3), None),
    ("ii", (3, 3), None),
    ("ii->i", (3, 3), None),
    ("bii->bi", (2, 3, 3), None),
    ("iij,jk->ik", (3, 3, 2), (2, 4)),
]


@pytest.mark.parametrize("equation,sa,sb", EINSUM, ids=[e[0] for e in EINSUM])
def test_einsum(equation, sa, sb):
    if sb is None:
        check(lambda L, a: L.einsum(equation, a), normal(*sa))
    else:
        check(lambda L, a, b: L.einsum(equation, a, b), normal(*sa), normal(*sb))


def test_einsum_sublist_form():
    check(lambda L, a, b: L.einsum(a, [0, 1], b, [1, 2], [0, 2]), normal(2, 3), normal(3, 4))
    check(lambda L, a: L.einsum(a, [Ellipsis, 1], [1, Ellipsis]), normal(2, 3, 4))


def test_einsum_second_order():
    check(lambda L, a, b: L.autograd.grad((L.einsum("...ij,...jk", a, b) ** 2).sum(), a, create_graph=True)[0],
          normal(2, 2, 3), normal(3, 4))
    check(lambda L, a: L.autograd.grad((L.einsum("bii->bi", a) ** 3).sum(), a, create_graph=True)[0],
          normal(2, 3, 3))


@pytest.mark.parametrize("equation,shapes", [
    ("ij,jk", [(2, 3, 1), (3, 4)]), ("...ij", [(2,)]), ("ij,jk", [(2, 3)]), ("ij", [(2, 3), (3, 4)]),
    # sizes that do not match, repeated or across operands; output subscripts
    ("ij,jk->ik", [(2, 3), (2, 3)]), ("ij,ij->", [(2, 3), (3, 3)]), ("ii->i", [(2, 3)]), ("i->j", [(2,)]),
    ("i->ii", [(2,)]), ("i...,i...->...", [(3, 2), (3, 4)]), ("...i,...i->...", [(2, 5, 3), (2, 4, 3)]),
])
def test_einsum_errors(equation, shapes):
    for L in (torch, chainrule):
        with pytest.raises(RuntimeError) as raised:
            L.einsum(equation, *[L.ones(s) for s in shapes])
        if L is torch:
            expected = str(raised.value)
    assert str(raised.value) == expected


def test_einsum_same_operand_twice():
    check(lambda L, a: L.einsum("ij,jk->ik", a, a), normal(3, 3))


BAD = [
    ((2, 3), (4, 5)),
    ((3,), (4,)),
    ((2, 3), (4,)),
    ((3,), (4, 5)),
    ((2, 2, 3), (2, 4, 5)),
    ((5, 2, 3), (3, 3, 5)),
    ((2, 2, 3), (4, 5)),
    ((2, 2, 3), (4,)),
    ((4,), (2, 3, 5)),
    ((2, 3), (2, 4, 5)),
    ((2, 1, 2, 3), (3, 4, 5)),
]


@pytest.mark.parametrize("shapes", BAD, ids=str)
def test_matmul_shape_mismatch_message_matches_torch(shapes):
    with pytest.raises(RuntimeError) as expected:
        torch.ones(shapes[0]) @ torch.ones(shapes[1])
    with pytest.raises(RuntimeError) as error:
        chainrule.ones(shapes[0]) @ chainrule.ones(shapes[1])
    assert str(error.value) == str(expected.value)


def test_matmul_mismatch_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"2x3 and 4x5"):
        chainrule.ones(2, 3) @ chainrule.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"2x3 and 4x5"):
        chainrule.mm(chainrule.ones(2, 3), chainrule.ones(4, 5))


@pytest.mark.parametrize("fn", [
    lambda L: L.mm(L.ones(2, 3, 1), L.ones(1, 2)),
    lambda L: L.bmm(L.ones(2, 3), L.ones(3, 2)),
    lambda L: L.bmm(L.ones(2, 2, 3), L.ones(3, 3, 5)),
    lambda L: L.dot(L.ones(2, 3), L.ones(3)),
    lambda L: L.ones(3) @ L.tensor(2.0),
], ids=["mm-3d", "bmm-2d", "bmm-batch", "dot-2d", "0d"])
def test_product_rank_errors(fn):
    with pytest.raises(RuntimeError):
        fn(torch)
    with pytest.raises(RuntimeError):
        fn(chainrule)


@settings(max_examples=30, deadline=None)
@given(batch_a=st.lists(st.integers(1, 3), max_size=2), batch_b=st.lists(st.integers(1, 3), max_size=2),
       n=st.integers(1, 3), k=st.integers(0, 3), m=st.integers(1, 3), vec_a=st.booleans(),
       vec_b=st.booleans(), seed=st.integers(0, 2**16))
def test_matmul_hypothesis(batch_a, batch_b, n, k, m, vec_a, vec_b, seed):
    # broadcast-compatible batch dims: make one side 1 where they differ
    la, lb = len(batch_a), len(batch_b)
    for i in range(1, min(la, lb) + 1):
        if batch_a[-i] != batch_b[-i]:
            batch_b[-i] = 1
    rng = np.random.default_rng(seed)
    a_shape = (k,) if vec_a else tuple(batch_a) + (n, k)
    b_shape = (k,) if vec_b else tuple(batch_b) + (k, m)
    check(lambda L, a, b: a @ b, rng.standard_normal(a_shape), rng.standard_normal(b_shape), seed=seed)


MIXED = [  # (left shape, right shape): each rank pair dispatches to its own kernel in PyTorch
    ((2, 2), (2, 2)), ((2,), (2, 2)), ((3, 2, 2), (2, 2)), ((2, 2), (2,)), ((3, 2, 2), (2,)), ((2,), (2,)),
    ((2,), (3, 2, 2)), ((2, 2), (3, 2, 2)), ((3, 2, 2), (3, 2, 2)), ((4, 3, 2, 2), (3, 2, 2)),
]


@pytest.mark.parametrize("left, right", MIXED)
@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float64", "float32"), ("int64", "float32"),
                                    ("float16", "float32"), ("float32", "complex64")])
def test_matmul_of_two_dtypes_raises_pytorchs_error(left, right, dtypes):
    messages = []
    for lib in (chainrule, torch):
        a = lib.ones(left, dtype=getattr(lib, dtypes[0]))
        b = lib.ones(right, dtype=getattr(lib, dtypes[1]))
        with pytest.raises(RuntimeError) as info:
            a @ b
        messages.append(str(info.value))
        for fn in ("matmul",) + (("mm",) if len(left) == len(right) == 2 else ()) + (
                ("bmm",) if len(left) == len(right) == 3 else ()):
            with pytest.raises(RuntimeError, match="dtype|scalar type"):
                getattr(lib, fn)(a, b)
    assert messages[0] == messages[1]


@pytest.mark.parametrize("shape", [(3, 2), (2,), (4, 3, 2)])
@pytest.mark.parametrize("dtypes", [("float32", "float64", None), ("float64", "float32", None),
                                    ("float32", "float64", "float32"), ("float32", "float32", "float64"),
                                    ("float64", "float32", "float32"), ("float32", "float64", "float64")])
def test_linear_of_two_dtypes_raises_pytorchs_error(shape, dtypes):
    messages = []
    for lib in (chainrule, torch):
        x = lib.ones(shape, dtype=getattr(lib, dtypes[0]))
        w = lib.ones((5, 2), dtype=getattr(lib, dtypes[1]))
        b = None if dtypes[2] is None else lib.ones(5, dtype=getattr(lib, dtypes[2]))
        with pytest.raises(RuntimeError) as info:
            lib.nn.functional.linear(x, w, b)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_same_dtype_products_still_work():
    for dtype in ("float32", "float64", "int64"):
        a = chainrule.ones((2, 3), dtype=getattr(chainrule, dtype))
        assert (a @ a.t()).dtype == getattr(chainrule, dtype)


@pytest.mark.parametrize("features,shape", [((0, 5), (2, 3, 0)), ((4, 0), (2, 3, 4)), ((4, 3), (2, 0, 4)),
                                            ((4, 3), (2, 3, 4))])
def test_linear_on_batched_and_empty_inputs(features, shape):
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal(shape), rng.standard_normal(features[::-1]), rng.standard_normal(features[1])
    check_pair(lambda *a: chainrule.nn.functional.linear(*a), lambda *a: torch.nn.functional.linear(*a),
               [x, w, b], rng, "linear")
