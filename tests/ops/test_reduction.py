"""Reductions against PyTorch: values, dtypes, gradients; dims, keepdim, negative dims,
size-1 and zero-size dims; ties."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import chainrule
from op_parity import check

RNG = np.random.default_rng(99)


def normal(*shape):
    return np.asarray(RNG.standard_normal(shape))


# dims to try per shape (None = all dims)
DIMS = {
    (): [None, 0, -1],
    (4,): [None, 0, -1],
    (2, 3): [None, 0, 1, -1, -2, (0, 1), (1, 0)],
    (2, 3, 4): [None, 0, 2, -1, (0, 2), (-1, -3), (1,)],
    (1, 3, 1): [None, 0, 2, (0, 2)],
}
CASES = [(shape, dim, keepdim) for shape, dims in DIMS.items() for dim in dims
         for keepdim in ([False] if dim is None else [False, True])]


def _kw(dim, keepdim):
    return {} if dim is None else {"dim": dim, "keepdim": keepdim}


def _all_dims(kw, x):
    return kw if kw else {"dim": tuple(range(x.ndim))}


REDUCTIONS = {
    "sum-method": lambda L, x, kw: x.sum(**kw),
    "sum-fn": lambda L, x, kw: L.sum(x, **kw),
    "mean-method": lambda L, x, kw: x.mean(**kw),
    "mean-fn": lambda L, x, kw: L.mean(x, **kw),
    "amax-method": lambda L, x, kw: x.amax(**kw),
    "amax-fn": lambda L, x, kw: L.amax(x, **kw),
    "amin-method": lambda L, x, kw: x.amin(**kw),
    "amin-fn": lambda L, x, kw: L.amin(x, **kw),
    "var-method": lambda L, x, kw: x.var(**kw),
    "var-fn-correction0": lambda L, x, kw: L.var(x, correction=0, **kw),
    "var-correction2": lambda L, x, kw: x.var(correction=2, **kw),
    "std-method": lambda L, x, kw: x.std(**kw),
    "std-fn-correction0": lambda L, x, kw: L.std(x, correction=0, **kw),
    "norm-method": lambda L, x, kw: x.norm(**kw),
    "norm-fn-p1": lambda L, x, kw: L.norm(x, p=1, **kw),
    "norm-p3": lambda L, x, kw: x.norm(p=3, **kw),
    "norm-inf": lambda L, x, kw: x.norm(p=float("inf"), **kw),
    "norm-ninf": lambda L, x, kw: x.norm(p=float("-inf"), **kw),
    "logsumexp-method": lambda L, x, kw: x.logsumexp(**_all_dims(kw, x)),
    "logsumexp-fn": lambda L, x, kw: L.logsumexp(x, **_all_dims(kw, x)),
}


@pytest.mark.parametrize("shape,dim,keepdim", CASES, ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction(name, shape, dim, keepdim):
    fn = REDUCTIONS[name]
    kw = _kw(dim, keepdim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # var of one element: PyTorch warns (degrees of freedom <= 0)
        check(lambda L, t: fn(L, t, kw), normal(*shape))


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_gradcheck(name):
    fn = REDUCTIONS[name]
    for kw in ({}, {"dim": 1}, {"dim": (0, -1), "keepdim": True}):
        x = chainrule.tensor(normal(2, 3, 2), requires_grad=True)
        assert chainrule.autograd.gradcheck(lambda t: fn(chainrule, t, kw), (x,))


SINGLE_DIM = {
    "prod-method": lambda L, x, kw: x.prod(**kw),
    "prod-fn": lambda L, x, kw: L.prod(x, **kw),
    "cumsum-method": lambda L, x, kw: x.cumsum(kw.get("dim", 0)),
    "cumsum-fn": lambda L, x, kw: L.cumsum(x, dim=kw.get("dim", 0)),
}
SINGLE_CASES = [(shape, dim, keepdim) for shape, dim, keepdim in CASES if not isinstance(dim, tuple)]


@pytest.mark.parametrize("shape,dim,keepdim", SINGLE_CASES, ids=str)
@pytest.mark.parametrize("name", sorted(SINGLE_DIM))
def test_single_dim_reduction(name, shape, dim, keepdim):
    fn = SINGLE_DIM[name]
    kw = _kw(dim, keepdim)
    check(lambda L, t: fn(L, t, kw), normal(*shape))


@pytest.mark.parametrize("name", sorted(SINGLE_DIM))
def test_single_dim_gradcheck(name):
    fn = SINGLE_DIM[name]
    for kw in ({}, {"dim": 1}, {"dim": -1, "keepdim": True}):
        x = chainrule.tensor(normal(2, 3, 2), requires_grad=True)
        assert chainrule.autograd.gradcheck(lambda t: fn(chainrule, t, kw), (x,))


@pytest.mark.parametrize("x", [
    np.array([[1.0, 0.0, 3.0], [2.0, 4.0, 5.0]]),
    np.array([[0.0, 0.0, 3.0], [2.0, 4.0, 5.0]]),
    np.array([[0.0, 2.0, 3.0], [2.0, 0.0, 0.0]]),
], ids=["one-zero", "two-zeros-in-row", "zeros-in-both"])
def test_prod_with_zeros(x):
    check(lambda L, t: t.prod(), x)
    check(lambda L, t: t.prod(1), x)
    check(lambda L, t: t.prod(0, keepdim=True), x)
    check(lambda L, t: L.prod(t, -1), x)


@pytest.mark.parametrize("x", [
    np.array([[1.5, -0.5, 3.0], [2.0, 4.0, 0.5]]),
    np.array([[1.0, 0.0, 3.0], [2.0, 4.0, 5.0]]),
    np.array([[0.0, 2.0, 0.0], [2.0, 0.0, 3.0]]),
], ids=["no-zeros", "one-zero", "two-zeros"])
def test_cumprod(x):
    check(lambda L, t: t.cumprod(1), x)
    check(lambda L, t: L.cumprod(t, dim=0), x)
    check(lambda L, t: t.cumprod(-1, dtype=L.float32), x, rtol=1e-6, atol=1e-6)
    t = chainrule.tensor(x, requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda u: u.cumprod(1), (t,))
    if not (x == 0).any():  # PyTorch's double backward needs no zeros either
        assert chainrule.autograd.gradgradcheck(lambda u: u.cumprod(1), (t,))


def test_prod_with_zeros_gradcheck():
    x = chainrule.tensor([[0.0, 2.0, 3.0], [2.0, 0.0, 0.0]], dtype=chainrule.float64, requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda t: t.prod(1), (x,))
    assert chainrule.autograd.gradcheck(lambda t: t.prod(), (x,))


# -- max/min: with dim (values and indices), without dim; argmax/argmin --------------------

EXTREMES = {
    "max-method": lambda L, x, kw: x.max(**kw),
    "max-fn": lambda L, x, kw: L.max(x, **kw),
    "min-method": lambda L, x, kw: x.min(**kw),
    "min-fn": lambda L, x, kw: L.min(x, **kw),
    "argmax-method": lambda L, x, kw: x.argmax(**kw),
    "argmax-fn": lambda L, x, kw: L.argmax(x, **kw),
    "argmin-method": lambda L, x, kw: x.argmin(**kw),
    "argmin-fn": lambda L, x, kw: L.argmin(x, **kw),
}


@pytest.mark.parametrize("shape,dim,keepdim", SINGLE_CASES, ids=str)
@pytest.mark.parametrize("name", sorted(EXTREMES))
def test_max_min_argmax(name, shape, dim, keepdim):
    fn = EXTREMES[name]
    kw = _kw(dim, keepdim)
    check(lambda L, t: fn(L, t, kw), normal(*shape))


def test_max_with_dim_returns_values_and_indices():
    x = normal(3, 4)
    out, expected = check(lambda L, t: t.max(dim=1), x)
    assert_named = (out.values, out.indices)
    assert str(out.indices.dtype) == "chainrule.int64"
    values, indices = out
    assert values is assert_named[0] and indices is assert_named[1]
    np.testing.assert_array_equal(indices.numpy(), expected.indices.numpy())


@pytest.mark.parametrize("x", [
    np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]),
    np.array([[5.0, 1.0, 5.0], [0.0, 7.0, 7.0]]),
], ids=["a", "b"])
def test_extremes_with_ties(x):
    # amax/amin and max()/min() without dim share the gradient evenly among ties;
    # max/min with dim send it to the index they return; argmax returns the first.
    check(lambda L, t: t.amax(1), x)
    check(lambda L, t: t.amax(), x)
    check(lambda L, t: t.amin(0), x)
    check(lambda L, t: t.max(), x)
    check(lambda L, t: t.min(), x)
    check(lambda L, t: t.max(1), x)
    check(lambda L, t: t.min(0), x)
    check(lambda L, t: t.argmax(1), x)
    check(lambda L, t: t.argmax(), x)
    check(lambda L, t: t.argmin(0, keepdim=True), x)
    check(lambda L, t: t.norm(p=float("inf")), x)


def test_max_min_gradcheck():
    x = chainrule.tensor(normal(2, 3, 2), requires_grad=True)
    for fn in (lambda t: t.max(1).values, lambda t: t.min(-1, keepdim=True)[0], lambda t: t.max(),
               lambda t: t.min()):
        assert chainrule.autograd.gradcheck(fn, (x,))


# -- zero-size and size-1 dims ---------------------------------------------------------------

# On a (0, 3) input: reducing the empty dim 0 or the full dim 1.
ZERO_SIZE = [
    ("sum-all", lambda L, t: t.sum()),
    ("sum-dim0", lambda L, t: t.sum(0)),
    ("sum-dim1", lambda L, t: t.sum(1, keepdim=True)),
    ("mean-dim0", lambda L, t: t.mean(0)),
    ("mean-dim1", lambda L, t: t.mean(1)),
    ("mean-all", lambda L, t: t.mean()),
    ("prod-all", lambda L, t: t.prod()),
    ("prod-dim0", lambda L, t: t.prod(0)),
    ("amax-dim1", lambda L, t: t.amax(1)),
    ("max-dim1", lambda L, t: t.max(1)),
    ("argmax-dim1", lambda L, t: t.argmax(1)),
    ("logsumexp-dim0", lambda L, t: t.logsumexp(0)),
    ("logsumexp-dim1", lambda L, t: t.logsumexp(1)),
    ("norm-all", lambda L, t: t.norm()),
    ("norm-dim0", lambda L, t: t.norm(dim=0)),
    ("cumsum-dim0", lambda L, t: t.cumsum(0)),
    ("cumsum-dim1", lambda L, t: t.cumsum(1)),
    ("var-dim0", lambda L, t: t.var(0)),
    ("var-dim1", lambda L, t: t.var(1)),
    ("std-all", lambda L, t: t.std()),
]


@pytest.mark.parametrize("name,fn", ZERO_SIZE, ids=[z[0] for z in ZERO_SIZE])
def test_zero_size(name, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(fn, normal(0, 3))


@pytest.mark.parametrize("fn", [lambda t: t.max(), lambda t: t.amax(0), lambda t: t.argmax(),
                                lambda t: t.max(0), lambda t: t.min(0), lambda t: t.argmin(0),
                                lambda t: t.amin()],
                         ids=["max", "amax", "argmax", "max-dim", "min-dim", "argmin-dim", "amin"])
def test_empty_extreme_raises(fn):
    with pytest.raises((RuntimeError, IndexError)) as expected:
        fn(torch.zeros(0, 3))
    with pytest.raises(type(expected.value)) as error:
        fn(chainrule.zeros(0, 3))
    assert "non-zero size" in str(error.value) or "numel() == 0" in str(error.value) or "empty" in str(error.value)


def test_integer_and_bool_reductions():
    x = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int64)
    check(lambda L, t: t.sum(), x, grad=False)
    check(lambda L, t: t.sum(0), x, grad=False)
    check(lambda L, t: t.prod(1), x, grad=False)
    check(lambda L, t: t.cumsum(1), x, grad=False)
    check(lambda L, t: t.amax(1), x, grad=False)
    check(lambda L, t: t.max(), x, grad=False)
    check(lambda L, t: t.max(1), x, grad=False)
    check(lambda L, t: t.argmax(), x, grad=False)
    b = np.array([[True, False, True], [True, True, True]])
    check(lambda L, t: t.sum(), b, grad=False)
    check(lambda L, t: t.sum(1), b, grad=False)
    check(lambda L, t: t.any(), b, grad=False)
    check(lambda L, t: t.all(1), b, grad=False)
    check(lambda L, t: t.float().mean(), x, grad=False)
    with pytest.raises(RuntimeError):
        torch.tensor(x).mean()
    with pytest.raises(RuntimeError):
        chainrule.tensor(x).mean()


def test_sum_mean_dtype_argument():
    x = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int64)
    check(lambda L, t: t.sum(dtype=L.float64), x, grad=False)
    check(lambda L, t: t.mean(dtype=L.float64), x, grad=False)
    check(lambda L, t: t.sum(1, dtype=L.float32), x, grad=False)


def test_var_unbiased_positional():
    x = normal(3, 4)
    check(lambda L, t: t.var(1, False), x)
    check(lambda L, t: t.var(1, True, True), x)
    check(lambda L, t: t.var(unbiased=False), x)
    check(lambda L, t: t.std(0, unbiased=True, keepdim=True), x)
    check(lambda L, t: L.var(t, 1, correction=0, keepdim=True), x)


def test_var_mean_std_mean():
    x = normal(3, 4)
    check(lambda L, t: L.var_mean(t, 1), x)
    check(lambda L, t: L.std_mean(t, dim=0, keepdim=True), x)


def test_logsumexp_is_stable():
    x = np.array([[1000.0, 1000.0, -1000.0], [-1000.0, -1e4, 0.0]])
    check(lambda L, t: t.logsumexp(1), x)
    check(lambda L, t: t.logsumexp(0, keepdim=True), x)


def test_logsumexp_minus_inf():
    x = np.array([[-np.inf, -np.inf], [0.0, -np.inf]])
    check(lambda L, t: t.logsumexp(1), x)


def test_norm_at_zero_has_zero_gradient():
    x = np.zeros((2, 3))
    check(lambda L, t: t.norm(), x)
    check(lambda L, t: t.norm(dim=1), x)
    check(lambda L, t: L.norm(t, 2, dim=0, keepdim=True), np.array([[0.0, 1.0], [0.0, 2.0]]))


def test_std_at_constant():
    # PyTorch: d std / dx is NaN where std == 0 (0/0); chainrule gives the same.
    x = np.ones((2, 3))
    check(lambda L, t: t.std(1), x)


def test_reduction_bad_dim_raises_index_error():
    x = chainrule.ones(2, 3)
    for fn in (lambda t: t.sum(2), lambda t: t.mean(-3), lambda t: t.amax(5), lambda t: t.max(2),
               lambda t: t.argmax(3), lambda t: t.cumsum(2), lambda t: t.logsumexp(2), lambda t: t.var(4)):
        with pytest.raises(IndexError) as expected:
            fn(torch.ones(2, 3))
        with pytest.raises(IndexError) as error:
            fn(x)
        assert "Dimension out of range" in str(error.value)
        assert str(error.value) == str(expected.value)


# -- hypothesis: random shapes and dims ------------------------------------------------------


@st.composite
def shape_and_dims(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3))
    if not shape:
        return shape, None
    dims = draw(st.none() | st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=len(shape),
                                     unique_by=lambda d: d % len(shape)).map(tuple))
    return shape, dims


@settings(max_examples=40, deadline=None)
@given(case=shape_and_dims(), keepdim=st.booleans(), seed=st.integers(0, 2**16),
       op=st.sampled_from(["sum", "mean", "var", "logsumexp", "norm", "amax"]))
def test_reduction_hypothesis(case, keepdim, seed, op):
    shape, dims = case
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape))
    if op == "norm" and dims is not None and len(dims) > 2:
        dims = dims[:2]  # PyTorch's 'fro' norm takes at most two dims
    kw = {} if dims is None else {"dim": dims, "keepdim": keepdim}
    empty_reduced = x.size == 0 and op == "amax"
    if op == "logsumexp" and dims is None:
        kw = {"dim": tuple(range(x.ndim))}
    fns = {
        "sum": lambda L, t: t.sum(**kw),
        "mean": lambda L, t: t.mean(**kw),
        "var": lambda L, t: t.var(**kw),
        "logsumexp": lambda L, t: t.logsumexp(**kw),
        "norm": lambda L, t: t.norm(**kw),
        "amax": lambda L, t: t.amax(**kw),
    }
    if empty_reduced:
        try:
            fns[op](torch, torch.tensor(x))
        except (RuntimeError, IndexError) as expected:
            with pytest.raises(type(expected)):
                fns[op](chainrule, chainrule.tensor(x))
            return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(fns[op], x, seed=seed)


@pytest.mark.parametrize("p", [3, 1.5, 0.5, -1.0])
def test_p_norm_values_and_gradients_including_at_zero(p):
    check(lambda L, x: x.norm(p=p, dim=1), np.array([[1.0, -2.0, 0.0], [0.5, 0.5, -3.0], [0.0, 0.0, 0.0]]))
    check(lambda L, x: L.linalg.vector_norm(x, ord=p), np.array([0.0, 0.0, 0.0]))
    x = chainrule.tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    assert chainrule.autograd.gradgradcheck(lambda t: t.norm(p=p), (x,))


@pytest.mark.parametrize("values", [[1.0, 2.0, 2.0, 3.0], [2.0, 2.0, 2.0], [[3.0, 1.0], [2.0, 2.0]],
                                    [1.0, 2.0, 3.0, 4.0], [np.nan, 1.0, 2.0], [1.0, np.nan, np.nan]])
def test_median_of_all_elements_shares_the_gradient_among_ties(values):
    check(lambda L, x: x.median(), np.array(values))
