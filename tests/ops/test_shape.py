"""Shape and indexing ops against PyTorch: values, dtypes, gradients."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import chainrule
from op_parity import check

RNG = np.random.default_rng(7)


def normal(*shape):
    return np.asarray(RNG.standard_normal(shape))


X = normal(2, 3, 4)

SHAPE_OPS = [
    ("reshape-varargs", lambda L, x: x.reshape(4, 6)),
    ("reshape-tuple", lambda L, x: x.reshape((3, -1))),
    ("reshape-fn", lambda L, x: L.reshape(x, (-1,))),
    ("reshape-same", lambda L, x: x.reshape(2, 3, 4)),
    ("reshape-to-more-dims", lambda L, x: x.reshape(2, 1, 3, 2, 2)),
    ("view", lambda L, x: x.view(6, 4)),
    ("view-minus1", lambda L, x: x.view(-1)),
    ("view-tuple", lambda L, x: x.view((2, 12))),
    ("view_as", lambda L, x: x.view_as(x.reshape(4, 6))),
    ("flatten", lambda L, x: x.flatten()),
    ("flatten-start", lambda L, x: x.flatten(1)),
    ("flatten-range", lambda L, x: L.flatten(x, 0, 1)),
    ("flatten-neg", lambda L, x: x.flatten(-2, -1)),
    ("unflatten", lambda L, x: x.unflatten(2, (2, 2))),
    ("unflatten-neg", lambda L, x: L.unflatten(x, -1, (2, -1))),
    ("squeeze-all", lambda L, x: x.reshape(1, 2, 1, 12).squeeze()),
    ("squeeze-dim", lambda L, x: x.reshape(1, 2, 1, 12).squeeze(2)),
    ("squeeze-neg", lambda L, x: x.reshape(1, 2, 1, 12).squeeze(-4)),
    ("squeeze-not-one", lambda L, x: x.squeeze(1)),
    ("squeeze-tuple", lambda L, x: x.reshape(1, 2, 1, 12).squeeze((0, 2))),
    ("squeeze-fn", lambda L, x: L.squeeze(x.reshape(1, 24), 0)),
    ("unsqueeze-0", lambda L, x: x.unsqueeze(0)),
    ("unsqueeze-neg", lambda L, x: x.unsqueeze(-1)),
    ("unsqueeze-mid", lambda L, x: L.unsqueeze(x, 2)),
    ("transpose", lambda L, x: x.transpose(0, 2)),
    ("transpose-neg", lambda L, x: L.transpose(x, -1, -2)),
    ("swapaxes", lambda L, x: x.swapaxes(0, 1)),
    ("permute-varargs", lambda L, x: x.permute(2, 0, 1)),
    ("permute-tuple", lambda L, x: x.permute((1, 2, 0))),
    ("permute-neg", lambda L, x: L.permute(x, (-1, 0, 1))),
    ("T-2d", lambda L, x: x[0].T),
    ("T-1d", lambda L, x: x[0, 0].T),
    ("t", lambda L, x: x[0].t()),
    ("mT", lambda L, x: x.mT),
    ("movedim", lambda L, x: x.movedim(0, -1)),
    ("expand", lambda L, x: x[:, :1].expand(2, 5, 4)),
    ("expand-minus1", lambda L, x: x[:, :1].expand(-1, 3, -1)),
    ("expand-new-dims", lambda L, x: x.expand(3, 2, 3, 4)),
    ("expand-tuple", lambda L, x: x[:1].expand((4, 3, 4))),
    ("expand_as", lambda L, x: x[0, :1].expand_as(x)),
    ("broadcast_to", lambda L, x: L.broadcast_to(x[0, :1], (2, 3, 4))),
    ("repeat", lambda L, x: x.repeat(2, 1, 3)),
    ("repeat-more-dims", lambda L, x: x.repeat(2, 1, 1, 2)),
    ("repeat-tuple", lambda L, x: x.repeat((1, 2, 1))),
    ("tile", lambda L, x: x.tile((2,))),
    ("flip-0", lambda L, x: x.flip(0)),
    ("flip-tuple", lambda L, x: x.flip((0, 2))),
    ("flip-fn-list", lambda L, x: L.flip(x, [-1])),
    ("narrow", lambda L, x: x.narrow(1, 1, 2)),
    ("narrow-fn-neg", lambda L, x: L.narrow(x, -1, 0, 3)),
    ("narrow-empty", lambda L, x: x.narrow(2, 4, 0)),
    ("select", lambda L, x: x.select(1, -1)),
    ("contiguous-after-transpose", lambda L, x: x.transpose(0, 1).contiguous().view(-1)),
    ("flip-dims-kw", lambda L, x: L.flip(x, dims=[0, 1])),
    ("triu", lambda L, x: x.triu()),
    ("triu-diagonal", lambda L, x: L.triu(x, 1)),
    ("tril-neg", lambda L, x: x.tril(-1)),
    ("roll-flat", lambda L, x: x.roll(5)),
    ("roll-dims", lambda L, x: L.roll(x, (1, -2), (0, 2))),
    ("diagonal", lambda L, x: x.diagonal()),
    ("diagonal-offset-dims", lambda L, x: L.diagonal(x, 1, 1, 2)),
    ("diagonal-neg", lambda L, x: x.diagonal(-1, -1, 0)),
    ("repeat_interleave", lambda L, x: x.repeat_interleave(2)),
    ("repeat_interleave-tensor", lambda L, x: x.repeat_interleave(L.tensor([1, 0, 2]), dim=1)),
    ("diff", lambda L, x: x.diff()),
    ("diff-n-dim", lambda L, x: L.diff(x, n=2, dim=1)),
    ("diff-prepend", lambda L, x: L.diff(x, dim=0, prepend=x[:1] * 2)),
    ("median-dim", lambda L, x: x.median(dim=1)),
    ("median-keepdim", lambda L, x: L.median(x, -1, keepdim=True)),
    ("median-all", lambda L, x: x.median()),
    ("meshgrid-ij", lambda L, x: L.meshgrid(x[0, 0], x[1, :, 0], indexing="ij")),
    ("meshgrid-xy", lambda L, x: L.meshgrid([x[0, 0], x[1, :, 0], x[1, 1, :2]], indexing="xy")),
    ("broadcast_tensors", lambda L, x: L.broadcast_tensors(x[:, :1], x[0])),
    ("reshape-shape-kw", lambda L, x: x.reshape(shape=(4, -1))),
    ("reshape-fn-shape-kw", lambda L, x: L.reshape(x, shape=[24])),
    ("view-size-kw", lambda L, x: x.view(size=(6, 4))),
    ("permute-dims-kw", lambda L, x: x.permute(dims=(2, 0, 1))),
    ("permute-fn-dims-kw", lambda L, x: L.permute(x, dims=[1, 2, 0])),
    ("expand-size-kw", lambda L, x: x[:, :1].expand(size=(2, 5, 4))),
    ("repeat-repeats-kw", lambda L, x: x.repeat(repeats=(1, 2, 1))),
]


@pytest.mark.parametrize("name,fn", SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
def test_shape_op(name, fn):
    check(fn, X)


@pytest.mark.parametrize("name,fn", SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
def test_shape_op_gradcheck(name, fn):
    x = chainrule.tensor(X, requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda t: fn(chainrule, t), (x,))


ZERO_SIZE = [
    ("reshape", lambda L, x: x.reshape(3, 0)),
    ("reshape-minus1", lambda L, x: x.reshape(-1, 3)),
    ("view", lambda L, x: x.view(0)),
    ("flatten", lambda L, x: x.flatten()),
    ("transpose", lambda L, x: x.transpose(0, 1)),
    ("permute", lambda L, x: x.permute(1, 0)),
    ("unsqueeze", lambda L, x: x.unsqueeze(1)),
    ("expand", lambda L, x: x.unsqueeze(0).expand(2, 0, 3)),
    ("repeat", lambda L, x: x.repeat(2, 2)),
    ("flip", lambda L, x: x.flip(0)),
    ("index", lambda L, x: x[:, 1]),
    ("cat", lambda L, x: L.cat([x, x], 0)),
    ("cat-with-nonempty", lambda L, x: L.cat([x, x.new_ones(2, 3) if False else x.sum(0, keepdim=True).expand(2, 3)], 0)),
    ("stack", lambda L, x: L.stack([x, x], 1)),
    ("split", lambda L, x: x.split(1, 1)),
]


@pytest.mark.parametrize("name,fn", ZERO_SIZE, ids=[z[0] for z in ZERO_SIZE])
def test_zero_size(name, fn):
    check(fn, normal(0, 3))


# -- indexing ------------------------------------------------------------------------------

Y = normal(4, 5, 3)

INDEXES = [
    ("int", lambda L, x: x[1]),
    ("neg-int", lambda L, x: x[-1]),
    ("two-ints", lambda L, x: x[1, 2]),
    ("three-ints", lambda L, x: x[1, 2, 0]),
    ("slice", lambda L, x: x[1:3]),
    ("slice-step", lambda L, x: x[::2]),
    ("slice-step-offset", lambda L, x: x[1::2, 1:5:3]),
    ("slice-neg-bounds", lambda L, x: x[-3:-1, :-2]),
    ("slice-empty", lambda L, x: x[3:1]),
    ("slice-past-end", lambda L, x: x[2:100]),
    ("none", lambda L, x: x[None]),
    ("none-mid", lambda L, x: x[:, None, 2]),
    ("ellipsis", lambda L, x: x[..., 1]),
    ("ellipsis-none", lambda L, x: x[1, ..., None]),
    ("ellipsis-slice", lambda L, x: x[..., ::2, :]),
    ("int-list", lambda L, x: x[[0, 2, 2]]),
    ("int-tensor", lambda L, x: x[L.tensor([3, 0, 3])]),
    ("int-tensor-2d", lambda L, x: x[L.tensor([[0, 1], [1, 1]])]),
    ("two-int-arrays", lambda L, x: x[[0, 1, 0], [2, 3, 2]]),
    ("int-arrays-broadcast", lambda L, x: x[L.tensor([[0], [3]]), L.tensor([1, 4])]),
    ("slice-and-array", lambda L, x: x[1:, [0, 2, 0]]),
    ("array-slice-array", lambda L, x: x[[0, 1], :, [1, 2]]),
    ("array-then-int", lambda L, x: x[:, [4, 0], 1]),
    ("zero-d-tensor", lambda L, x: x[L.tensor(2)]),
    ("bool-mask-full", lambda L, x: x[x > 0]),
    ("bool-mask-rows", lambda L, x: x[L.tensor([True, False, True, True])]),
    ("bool-mask-2d", lambda L, x: x[(x.sum(2) > 0)]),
    ("bool-mask-list", lambda L, x: x[:, [True, False, False, True, True]]),
    ("bool-mask-all-false", lambda L, x: x[L.tensor([False, False, False, False])]),
    ("neg-int-array", lambda L, x: x[[-1, -2]]),
]


@pytest.mark.parametrize("name,fn", INDEXES, ids=[i[0] for i in INDEXES])
def test_indexing(name, fn):
    check(fn, Y)


@pytest.mark.parametrize("name,fn", INDEXES, ids=[i[0] for i in INDEXES])
def test_indexing_gradcheck(name, fn):
    x = chainrule.tensor(normal(4, 5, 3), requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda t: fn(chainrule, t), (x,))


def test_index_out_of_range_raises_index_error():
    with pytest.raises(IndexError):
        torch.zeros(2, 3)[2]
    with pytest.raises(IndexError):
        chainrule.zeros(2, 3)[2]
    with pytest.raises(IndexError):
        chainrule.zeros(2, 3)[:, [0, 3]]
    with pytest.raises(IndexError):
        chainrule.zeros(2, 3)[chainrule.tensor([0.0, 1.0])]


SETITEM = [
    ("int", lambda L, y, v: y.__setitem__(1, v[0, 0])),
    ("int-scalar", lambda L, y, v: y.__setitem__(1, 2.5)),
    ("slice", lambda L, y, v: y.__setitem__((slice(0, 2), 1), v[:2, 0])),
    ("slice-step", lambda L, y, v: y.__setitem__(slice(None, None, 2), v[0])),
    ("ellipsis", lambda L, y, v: y.__setitem__((Ellipsis, 0), v[0, :, 0])),
    ("int-array", lambda L, y, v: y.__setitem__([0, 3], v[:2])),
    ("int-array-broadcast", lambda L, y, v: y.__setitem__([0, 3], v[0, 0])),
    ("bool-mask", lambda L, y, v: y.__setitem__(y > 0, 0.0)),
    ("bool-mask-tensor-value", lambda L, y, v: y.__setitem__(y > 0, v[0, 0, 0])),
    ("none", lambda L, y, v: y.__setitem__((None, 1), v[0, 0])),
]


def assigning(fn):
    """The program of one index-assignment case (also run on a device): ``fn`` writes a
    value computed from ``v`` into a copy of ``x``, whose square is the result."""
    def run(L, x, v):
        y = x * 1.0
        fn(L, y, v * 2.0)
        return y * y

    return run


@pytest.mark.parametrize("name,fn", SETITEM, ids=[s[0] for s in SETITEM])
def test_index_assignment(name, fn):
    check(assigning(fn), normal(4, 5, 3), normal(3, 5, 3))


def test_index_assignment_no_grad_tensor():
    def run(L, x):
        y = L.zeros(3, 4, dtype=L.float64)
        y[1] = x
        y[:, 0] = 1.0
        return y

    check(run, normal(4))


# -- gather, scatter_add, index_select, masked_fill ------------------------------------------

IDX0 = np.array([[0, 1, 2, 0], [2, 0, 0, 1]], dtype=np.int64)  # into (3, 4) along dim 0
IDX1 = np.array([[3, 3, 0], [1, 0, 2], [0, 0, 0]], dtype=np.int64)  # into (3, 4) along dim 1

GATHER_SCATTER = [
    ("gather-0", lambda L, x, s: x.gather(0, L.tensor(IDX0))),
    ("gather-1", lambda L, x, s: L.gather(x, 1, L.tensor(IDX1))),
    ("gather-neg", lambda L, x, s: x.gather(-1, L.tensor(IDX1[:2, :2]))),
    ("scatter_add-0", lambda L, x, s: x.scatter_add(0, L.tensor(IDX0), s)),
    ("scatter_add-1", lambda L, x, s: L.scatter_add(x, 1, L.tensor(IDX1[:2]), s[:, :3])),
    ("scatter_add-1-dup", lambda L, x, s: x.scatter_add(1, L.tensor(IDX1[1:]), s[:, 1:])),
    ("index_select-0", lambda L, x, s: x.index_select(0, L.tensor([2, 0, 2]))),
    ("index_select-1", lambda L, x, s: L.index_select(x, 1, L.tensor([3, 1]))),
    ("index_select-neg", lambda L, x, s: x.index_select(-1, L.tensor([0, 0]))),
    ("index_select-empty", lambda L, x, s: x.index_select(0, L.tensor([], dtype=L.int64))),
    ("masked_fill-scalar", lambda L, x, s: x.masked_fill(x > 0, 0.5)),
    ("masked_fill-broadcast", lambda L, x, s: L.masked_fill(x, L.tensor([True, False, True, False]), -1.0)),
    ("masked_fill-tensor-value", lambda L, x, s: x.masked_fill(x < 0, s[0, 0])),
    ("scatter-0", lambda L, x, s: x.scatter(0, L.tensor(IDX0), s)),
    ("scatter-value", lambda L, x, s: L.scatter(x, 1, L.tensor(IDX1[:2]), 0.5)),
    ("scatter_-inplace", lambda L, x, s: (x * 1).scatter_(0, L.tensor(IDX0), s)),
    ("scatter_-value-kw", lambda L, x, s: (x * 1).scatter_(1, L.tensor(IDX1), value=-2.0)),
    ("scatter_add_-inplace", lambda L, x, s: (x * 1).scatter_add_(0, L.tensor(IDX0), s)),
    ("masked_select", lambda L, x, s: x.masked_select(x > 0)),
    ("masked_select-broadcast", lambda L, x, s: L.masked_select(s, L.tensor([[True], [False]]))),
    ("index_add_", lambda L, x, s: (x * 1).index_add_(0, L.tensor([2, 0]), s)),
    ("index_add_-dup-alpha", lambda L, x, s: (x * 1).index_add_(0, L.tensor([1, 1]), s, alpha=2.0)),
    ("index_fill_", lambda L, x, s: (x * 1).index_fill_(1, L.tensor([0, 2]), -1.0)),
    ("index_copy_", lambda L, x, s: (x * 1).index_copy_(0, L.tensor([2, 0]), s)),
    ("fill_diagonal_", lambda L, x, s: (x * 1).fill_diagonal_(3.0)),
]


@pytest.mark.parametrize("name,fn", GATHER_SCATTER, ids=[g[0] for g in GATHER_SCATTER])
def test_gather_scatter(name, fn):
    check(fn, normal(3, 4), normal(2, 4))


@pytest.mark.parametrize("name,fn", GATHER_SCATTER, ids=[g[0] for g in GATHER_SCATTER])
def test_gather_scatter_gradcheck(name, fn):
    x = chainrule.tensor(normal(3, 4), requires_grad=True)
    s = chainrule.tensor(normal(2, 4), requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda a, b: fn(chainrule, a, b), (x, s))


def test_scatter_with_reduce():
    # PyTorch's older spelling of scatter_reduce: values only (PyTorch has no derivative for it).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda L, x, s: [x.scatter(0, L.tensor(IDX0), s, reduce="add"),
                               (x * 1).scatter_(0, L.tensor(IDX0), s, reduce="multiply"),
                               L.scatter(x, 1, L.tensor(IDX1), 2.0, reduce="multiply"),
                               (x * 1).scatter_(1, L.tensor(IDX1), 0.5, reduce="add")],
              normal(3, 4), normal(2, 4), grad=False)
    with pytest.warns(UserWarning, match="reduce argument of torch.scatter with Tensor src is deprecated"):
        chainrule.zeros(3, 4).scatter(0, chainrule.tensor(IDX0), chainrule.ones(2, 4), reduce="add")
    for L in (torch, chainrule):
        with pytest.raises(RuntimeError, match="reduce argument must be either add or multiply"):
            L.zeros(3, 4).scatter(0, L.tensor(IDX0), 1.0, reduce="mean")


def test_scatter_add_index_smaller_than_src():
    # PyTorch computes the values, but its backward fails here ("invalid gradient ... got
    # [2, 2] but expected shape compatible with [2, 4]"); chainrule gives src a gradient of
    # its own shape (zeros where the index does not reach), checked by finite differences.
    index = IDX1[:2, :2]
    check(lambda L, x, s: x.scatter_add(1, L.tensor(index), s), normal(3, 4), normal(2, 4), grad=False)
    x = chainrule.tensor(normal(3, 4), requires_grad=True)
    s = chainrule.tensor(normal(2, 4), requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda a, b: a.scatter_add(1, chainrule.tensor(index), b), (x, s))
    (x.scatter_add(1, chainrule.tensor(index), s) * 3.0).sum().backward()
    expected = np.zeros((2, 4))
    expected[:, :2] = 3.0
    np.testing.assert_array_equal(s.grad.numpy(), expected)


# -- cat, stack, split, chunk ----------------------------------------------------------------

JOIN = [
    ("cat-0", lambda L, a, b: L.cat([a, b[:1]], 0)),
    ("cat-1", lambda L, a, b: L.cat([a, b, a], dim=1)),
    ("cat-neg", lambda L, a, b: L.cat((a, b), -1)),
    ("cat-one", lambda L, a, b: L.cat([a])),
    ("concat", lambda L, a, b: L.concat([a, b], 0)),
    ("cat-empty-1d", lambda L, a, b: L.cat([a, L.tensor([], dtype=L.float64)], 0)),
    ("cat-zero-rows", lambda L, a, b: L.cat([a[:0], b], 0)),
    ("stack-0", lambda L, a, b: L.stack([a, b])),
    ("stack-1", lambda L, a, b: L.stack([a, b, a], 1)),
    ("stack-last", lambda L, a, b: L.stack((a, b), dim=-1)),
    ("stack-neg", lambda L, a, b: L.stack((a, b), dim=-2)),
    ("hstack", lambda L, a, b: L.hstack([a, b])),
    ("vstack", lambda L, a, b: L.vstack([a, b])),
    ("split-int", lambda L, a, b: a.split(1)),
    ("split-int-uneven", lambda L, a, b: L.split(a, 2, dim=1)),
    ("split-list", lambda L, a, b: a.split([1, 2], dim=-1)),
    ("split-list-zero", lambda L, a, b: a.split([0, 3, 0], 1)),
    ("split-method-keyword", lambda L, a, b: a.split(split_size=2, dim=1)),
    ("split-fn-keyword", lambda L, a, b: L.split(a, split_size_or_sections=[2, 1], dim=1)),
    ("chunk", lambda L, a, b: a.chunk(2, 1)),
    ("chunk-more-than-size", lambda L, a, b: L.chunk(a, 5, dim=0)),
    ("chunk-uneven", lambda L, a, b: L.cat([a, b], 1).chunk(4, 1)),
    ("unbind", lambda L, a, b: a.unbind(1)),
]


@pytest.mark.parametrize("name,fn", JOIN, ids=[j[0] for j in JOIN])
def test_join_split(name, fn):
    check(fn, normal(2, 3), normal(2, 3))


@pytest.mark.parametrize("name,fn", JOIN, ids=[j[0] for j in JOIN])
def test_join_split_gradcheck(name, fn):
    a = chainrule.tensor(normal(2, 3), requires_grad=True)
    b = chainrule.tensor(normal(2, 3), requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda x, y: fn(chainrule, x, y), (a, b))


def test_split_outputs_used_twice():
    def run(L, x):
        first, second = x.split(2)
        return first * second + first

    check(run, normal(4, 3))


# -- hypothesis ------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=3), data=st.data())
def test_permute_and_reshape_hypothesis(shape, data):
    order = data.draw(st.permutations(range(len(shape))))
    new_dim = data.draw(st.integers(-len(shape) - 1, len(shape)))
    x = normal(*shape)
    check(lambda L, t: t.permute(*order).reshape(-1).reshape(shape[::-1]).unsqueeze(new_dim), x)


@settings(max_examples=30, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), data=st.data())
def test_basic_indexing_hypothesis(shape, data):
    index = data.draw(hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True))
    if not isinstance(index, tuple):
        index = (index,)
    if any(isinstance(i, slice) and i.step is not None and i.step < 0 for i in index):
        index = tuple(slice(i.start, i.stop, None) if isinstance(i, slice) else i for i in index)
    x = normal(*shape)
    check(lambda L, t: t[index] * 2.0, x)


@settings(max_examples=25, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), data=st.data())
def test_expand_hypothesis(shape, data):
    target = tuple(data.draw(st.integers(1, 3)) if n == 1 else n for n in shape)
    lead = data.draw(st.lists(st.integers(0, 2), max_size=2))
    x = normal(*shape)
    check(lambda L, t: t.expand(*lead, *target), x)


def test_scatter_errors_like_torch():
    from op_parity import raises_like_torch

    raises_like_torch(lambda: chainrule.zeros(3, 4).scatter(0, chainrule.tensor([0, 1]), chainrule.ones(2)),
                      lambda: torch.zeros(3, 4).scatter(0, torch.tensor([0, 1]), torch.ones(2)),
                      "same number of dimensions")
    raises_like_torch(lambda: chainrule.zeros(3, 4).scatter(0, chainrule.tensor([[0, 1]]), chainrule.ones(1, 2).double()),
                      lambda: torch.zeros(3, 4).scatter(0, torch.tensor([[0, 1]]), torch.ones(1, 2).double()),
                      "dtype")
    raises_like_torch(lambda: chainrule.zeros(3).masked_select(chainrule.tensor([1, 0, 1])),
                      lambda: torch.zeros(3).masked_select(torch.tensor([1, 0, 1])), "BoolTensor")


@pytest.mark.parametrize("name,call", [
    ("gather", lambda L, x, i: L.gather(x, 1, i)),
    ("scatter", lambda L, x, i: x.scatter(1, i, 1.0)),
    ("scatter_add", lambda L, x, i: x.scatter_add(1, i, L.ones(2, 1))),
    ("index_select dim 0", lambda L, x, i: x.index_select(0, i.reshape(-1))),
    ("index_select dim 1", lambda L, x, i: x.index_select(1, i.reshape(-1))),
])
@pytest.mark.parametrize("bad", [-1, 3])
def test_index_out_of_bounds_raises_like_torch(name, call, bad):
    """A negative index is refused, as PyTorch does: NumPy would count it from the end and
    give a value silently."""
    from op_parity import raises_like_torch

    raises_like_torch(lambda: call(chainrule, chainrule.zeros(2, 3), chainrule.tensor([[0], [bad]])),
                      lambda: call(torch, torch.zeros(2, 3), torch.tensor([[0], [bad]])),
                      f"{bad}|index out of range in self")


def test_unique_bincount_searchsorted_indices():
    values = np.array([3, 1, 2, 3, 1, 7])
    check(lambda L, x: L.unique(x), values, grad=False)
    check(lambda L, x: x.unique(return_inverse=True, return_counts=True), values, grad=False)
    check(lambda L, x: L.unique(x.view(3, 2), dim=1, return_inverse=True), values, grad=False)
    check(lambda L, x: L.bincount(x), values, grad=False)
    check(lambda L, x: L.bincount(x, minlength=10), values, grad=False)
    check(lambda L, x: x.bincount(weights=L.arange(6, dtype=L.float64)), values, grad=False)
    check(lambda L, s, v: L.searchsorted(s, v), np.array([1.0, 3.0, 5.0]), np.array([0.5, 3.0, 6.0]), grad=False)
    check(lambda L, s, v: L.searchsorted(s, v, right=True), np.array([[1.0, 3.0], [2.0, 4.0]]),
          np.array([[3.0, 0.0, 9.0], [2.0, 4.0, 5.0]]), grad=False)
    check(lambda L: [L.triu_indices(3, 4), L.triu_indices(3, 3, 1), L.tril_indices(4, 3, -1)], grad=False)
    check(lambda L: L.repeat_interleave(L.tensor([2, 0, 3])), grad=False)
    check(lambda L, s, v: L.searchsorted(s, v, out_int32=True, sorter=L.tensor([2, 1, 0])),
          np.array([5.0, 3.0, 1.0]), np.array([0.5, 3.0, 6.0]), grad=False)


def test_kthvalue_count_nonzero_one_hot_and_tile_forms():
    values = np.array([[0.5, -1.0, 0.0, 2.0], [0.0, 0.0, 3.0, -2.0], [1.5, 0.25, -0.75, 0.0]])
    check(lambda L, x: list(x.kthvalue(2, dim=1)), values)
    check(lambda L, x: list(L.kthvalue(x, 3, 0, keepdim=True)), values)
    check(lambda L, x: [L.count_nonzero(x), L.count_nonzero(x, dim=1), x.count_nonzero((0, 1))], values, grad=False)
    check(lambda L, x: [L.nn.functional.one_hot(x.argmax(1), 5), L.nn.functional.one_hot(x.argmax(0))], values,
          grad=False)
    check(lambda L, x: [x.tile(2, 1), x.tile((1, 2)), L.tile(x, (2,))], values)
    with pytest.raises(RuntimeError, match=r"kthvalue\(\): selected number k out of range for dimension 1"):
        chainrule.ones(2, 3).kthvalue(4, -1)
    check(lambda L, x: list(x[0, 0].kthvalue(1)), values)
    assert chainrule.ones(2, 3, requires_grad=True).kthvalue(2, 1).values.grad_fn.name() == "KthvalueBackward0"
    check(lambda L, x: L.tile(x, dims=(2, 1)), values)


@pytest.mark.parametrize("values, dtype", [([0, 1, 2, 1], np.uint8), ([True, False, True], np.bool_),
                                           ([1.0, np.nan, 3.0, 1.0], np.float32),
                                           ([5, np.iinfo(np.int64).min, 3, 5], np.int64),
                                           ([[3.0, 1.0, 3.0], [2.0, 2.0, 9.0]], np.float64)])
def test_descending_sort_keeps_ties_in_order_and_nan_first(values, dtype):
    array = np.array(values, dtype=dtype)
    ours = chainrule.tensor(array).sort(-1, descending=True)
    theirs = torch.sort(torch.tensor(array), dim=-1, descending=True, stable=True)
    assert np.array_equal(ours.indices.numpy(), theirs.indices.numpy())
    assert np.array_equal(ours.values.numpy(), theirs.values.numpy(), equal_nan=True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_topk_ties_pick_pytorchs_indices(dtype):
    """Equal values straddling the k-th place (and NaNs): PyTorch's CPU kernel's indices, in
    its order, for nth_element (k * 64 > n) and partial_sort (k * 64 <= n) selections."""
    rng = np.random.default_rng(11)
    for n, k, dim in [(37, 18, -1), (300, 4, -1), (9, 9, -1), (40, 25, 0), (130, 2, 0), (1, 1, -1)]:
        shape = (n, 3) if dim == 0 else (3, n)
        array = rng.integers(-2, 3, size=shape).astype(dtype)
        if dtype == np.float64:
            array[rng.random(shape) < 0.15] = np.nan
        for largest in (True, False):
            ours = chainrule.topk(chainrule.tensor(array), k, dim=dim, largest=largest)
            theirs = torch.topk(torch.tensor(array), k, dim=dim, largest=largest)
            assert np.array_equal(ours.indices.numpy(), theirs.indices.numpy()), (n, k, dim, largest)
            assert np.array_equal(ours.values.numpy(), theirs.values.numpy(), equal_nan=True)
            unsorted = chainrule.topk(chainrule.tensor(array), k, dim=dim, largest=largest, sorted=False)
            assert np.array_equal(np.sort(unsorted.indices.numpy(), axis=dim), np.sort(theirs.indices.numpy(), axis=dim))


def test_topk_of_a_scalar_and_k_out_of_range():
    for lib in (chainrule, torch):
        result = lib.topk(lib.tensor(3.0, requires_grad=True), 1)
        assert result.values.shape == () and float(result.values) == 3.0 and int(result.indices) == 0
        with pytest.raises(RuntimeError, match="selected index k out of range"):
            lib.topk(lib.ones(2), 3)
    assert chainrule.ones(4, requires_grad=True).topk(2).values.grad_fn.name() == "TopkBackward0"


def _views(lib, base):
    """Non-contiguous tensors made from ``base`` by the usual view ops, by description."""
    t = lib.tensor(base)
    return {
        "transposed": t.reshape(4, 6).t(), "permuted": t.reshape(2, 3, 4).permute(1, 0, 2),
        "last dims swapped": t.reshape(2, 3, 4).transpose(1, 2), "sliced rows": t.reshape(4, 6)[::2],
        "sliced columns": t.reshape(4, 6)[:, 1:5], "stepped": t[::3], "expanded": t[:4].reshape(1, 4).expand(3, 4),
        "unsqueezed transposed": t.reshape(4, 6).t().unsqueeze(1), "empty": t[:0].reshape(0, 1).t(),
        "one element": t[5:6].reshape(1, 1).t(),
    }


SHAPES = [(-1,), (2, -1), (-1, 2), (3, 2, -1), (1, -1, 1), (-1, 1), (2, 2, -1), (4, -1), (6, -1)]


def test_view_of_non_contiguous_tensors_follows_pytorchs_stride_rule():
    base = np.arange(24, dtype=np.float64)
    ours, theirs = _views(chainrule, base), _views(torch, base)
    refused = shared = 0
    for name in ours:
        for shape in SHAPES:
            try:
                expected = theirs[name].view(*shape)
            except RuntimeError as error:
                if "view size is not compatible" not in str(error):
                    with pytest.raises(RuntimeError):  # e.g. shape invalid for the size
                        ours[name].view(*shape)
                    continue
                with pytest.raises(RuntimeError) as info:
                    ours[name].view(*shape)
                assert str(info.value) == str(error), (name, shape)
                refused += 1
                continue
            actual = ours[name].view(*shape)
            assert actual.shape == tuple(expected.shape) and actual.tolist() == expected.tolist(), (name, shape)
            if actual.numel() and name != "expanded":  # a view: writes reach the original, as in PyTorch
                corner = (0,) * actual.ndim
                actual[corner] = expected[corner] = -1.0 - shared
                assert ours[name].tolist() == theirs[name].tolist(), (name, shape)
                shared += 1
    assert refused >= 10 and shared >= 10


def test_view_as_refuses_like_view_and_reshape_as_copies():
    t = chainrule.arange(6.0).reshape(2, 3).t()
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        t.view_as(chainrule.zeros(6))
    assert t.reshape_as(chainrule.zeros(6)).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]


def test_view_after_convolution_and_pooling_flattens_like_pytorch():
    # The classic MNIST net flattens with x.view(-1, 320) after conv + pool; chainrule keeps a
    # batch's conv/pool outputs channel-major in memory (N and C swapped), which NumPy cannot
    # reshape without a copy.  PyTorch's outputs are contiguous, so view() must work (it copies
    # here) and give the same values and gradients; a permuted view of another tensor still refuses.
    image = np.random.default_rng(3).standard_normal((4, 1, 12, 12))
    weight = np.random.default_rng(4).standard_normal((5, 1, 5, 5))
    results = []
    for lib in (chainrule, torch):
        x, w = lib.tensor(image, requires_grad=True), lib.tensor(weight, requires_grad=True)
        features = lib.nn.functional.max_pool2d(lib.nn.functional.conv2d(x, w), 2)
        flat = features.view(-1, 80)
        (flat * lib.arange(80.0)).sum().backward()
        results.append((flat.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
        with pytest.raises(RuntimeError, match="view size is not compatible"):
            features.transpose(2, 3).view(-1, 80)
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_diagonal_is_a_view_as_torch():
    """``x.diagonal()`` writes through (fill_, add_, mul_ on it change x and x's graph), with
    PyTorch's node, gradients and second derivatives."""
    import torch

    import chainrule

    def run(L):
        z = L.zeros(5, 3)
        z.diagonal().fill_(-1.0)
        wide = L.zeros(3, 4)
        wide.diagonal(1).add_(2.0)
        w = L.ones(3, 3, requires_grad=True)
        v = w * 2
        v.diagonal().mul_(5)
        v.sum().backward()
        x = L.arange(24.0, requires_grad=True)
        d = (x.reshape(2, 3, 4) * 1.0).diagonal(offset=-1, dim1=2, dim2=1)
        (d * L.arange(d.numel(), dtype=d.dtype).reshape(d.shape)).sum().backward()
        a = L.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        g, = L.autograd.grad(a.diagonal().pow(2).sum(), a, create_graph=True)
        g.sum().backward()
        return [z, wide, w.grad, x.grad, g, a.grad, L.eye(3).diagonal(dim1=1, dim2=0)], d.grad_fn.name()

    (expected, name_t), (got, name_c) = run(torch), run(chainrule)
    assert name_c == name_t == "DiagonalBackward0"
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g.detach().numpy(), e.detach().numpy())
