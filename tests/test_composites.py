"""The forms PyTorch composes from other ops (chainrule.composites) against PyTorch in float64:
values, gradients of every float input, the in-place and out= forms, and the errors."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch

import chainrule
from op_parity import check, raises_like_torch

RNG = np.random.default_rng(11)


def normal(*shape):
    return RNG.standard_normal(shape)


@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2.0), (0, 1), (1, -1.5)])
def test_scaled_products(beta, alpha):
    check(lambda L, i, a, b: L.addmm(i, a, b, beta=beta, alpha=alpha), normal(3, 2), normal(3, 4), normal(4, 2))
    check(lambda L, i, a, b: L.addmm(i, a, b, beta=beta, alpha=alpha), normal(2), normal(3, 4), normal(4, 2))
    check(lambda L, i, a, v: L.addmv(i, a, v, beta=beta, alpha=alpha), normal(3), normal(3, 4), normal(4))
    check(lambda L, i, a, b: L.addr(i, a, b, beta=beta, alpha=alpha), normal(3, 4), normal(3), normal(4))
    check(lambda L, i, a, b: L.baddbmm(i, a, b, beta=beta, alpha=alpha), normal(2, 3, 5), normal(2, 3, 4),
          normal(2, 4, 5))
    check(lambda L, i, a, b: L.addbmm(i, a, b, beta=beta, alpha=alpha), normal(3, 5), normal(2, 3, 4), normal(2, 4, 5))
    check(lambda L, i, a, b: i.addmm(a, b, beta=beta, alpha=alpha), normal(3, 2), normal(3, 4), normal(4, 2))


def test_scaled_products_in_place_out_and_beta_zero():
    nan_input = np.full((3, 2), np.nan)
    check(lambda L, a, b: L.addmm(L.tensor(nan_input), a, b, beta=0), normal(3, 4), normal(4, 2))
    check(lambda L, a, b: L.tensor(np.ones((3, 2))).addmm_(a.detach(), b.detach(), alpha=2), normal(3, 4), normal(4, 2),
          grad=False)
    for lib in (chainrule, torch):
        out = lib.empty(3, 2, dtype=lib.float64)
        lib.addmm(lib.ones(3, 2, dtype=lib.float64), lib.ones(3, 4, dtype=lib.float64), lib.ones(4, 2, dtype=lib.float64),
                  out=out)
        assert out.tolist() == [[5.0, 5.0]] * 3


@pytest.mark.parametrize("make", [
    lambda L: L.addmm(L.zeros(3), L.zeros(3, 4), L.zeros(5, 2)),
    lambda L: L.addmm(L.zeros(3), L.zeros(4), L.zeros(4, 2)),
    lambda L: L.addmm(L.zeros(4), L.zeros(3, 4), L.zeros(4, 2)),
    lambda L: L.addmm(L.zeros(3, 4), L.zeros(4, 4), L.eye(4)),
    lambda L: L.addmm(L.zeros(2, 3, 2), L.zeros(3, 4), L.zeros(4, 2)),
])
def test_scaled_product_errors(make):
    with pytest.raises(Exception) as theirs:
        make(torch)
    raises_like_torch(lambda: make(chainrule), lambda: make(torch), _escaped(theirs))


def _escaped(info):
    """PyTorch's message (its first 60 characters) as a pattern, chainrule's type names allowed."""
    return re.escape(str(info.value).split("\n")[0][:60]).replace("torch\\.", "(?:torch|chainrule)\\.")


def test_index_forms_out_of_place():
    index = np.array([0, 2, 0])
    check(lambda L, x, s: L.index_add(x, 0, L.tensor(index), s, alpha=2.0), normal(3, 2), normal(3, 2))
    check(lambda L, x, s: x.index_add(1, L.tensor([1]), s), normal(3, 2), normal(3, 1))
    check(lambda L, x, s: x.index_copy(0, L.tensor([2, 0]), s), normal(3, 2), normal(2, 2))
    check(lambda L, x: x.index_fill(1, L.tensor([0]), -1.5), normal(3, 2))
    x = chainrule.zeros(3)
    chainrule.index_add(x, 0, chainrule.tensor([1]), chainrule.ones(1))
    assert x.tolist() == [0.0, 0.0, 0.0]  # the input is left as it was


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_with_ties_and_in_place(reduce, include_self):
    ties = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 1.0]])  # (amax/amin: equal values share the gradient)
    for x, dim, index, source in [(ties, 0, [0, 0, 2], ties.copy()), (ties, 1, [1, 1], ties.copy())]:
        check(lambda L, a, b: L.index_reduce(a, dim, L.tensor(index), b, reduce, include_self=include_self), x, source)
        check(lambda L, a, b: a.clone().index_reduce_(dim, L.tensor(index), b, reduce, include_self=include_self),
              x, source)


@pytest.mark.parametrize("call", [
    lambda L: L.ones(3, 2).index_reduce(0, L.tensor([0, 2]), L.ones(2, 2), "sum"),
    lambda L: L.ones(3, 2).index_reduce(0, L.tensor([[0, 2]]), L.ones(2, 2), "prod"),
    lambda L: L.ones(3, 2).index_reduce(0, L.tensor([0.0, 1.0]), L.ones(2, 2), "prod"),
    lambda L: L.ones(3, 2).index_reduce(0, L.tensor([0, 1]), L.ones(2, 2, dtype=L.float64), "prod"),
    lambda L: L.ones(3, 2).index_reduce(0, L.tensor([0, 2, 1]), L.ones(2, 2), "prod"),
    lambda L: L.ones(3, 2).index_reduce(0, L.tensor([0, 1]), L.ones(2, 3), "prod"),
    lambda L: L.ones(3, 2).index_reduce(0, L.tensor([0, 5]), L.ones(2, 2), "prod"),
    lambda L: L.ones(3, 2).index_reduce(1, L.tensor([0, -1]), L.ones(3, 2), "amax"),
])
def test_index_reduce_errors_are_pytorchs(call):
    errors = []
    for L in (torch, chainrule):
        with pytest.raises((RuntimeError, IndexError)) as raised:
            call(L)
        errors.append((type(raised.value), str(raised.value)))
    assert errors[0] == errors[1]


def test_take_along_dim():
    x = normal(3, 4)
    check(lambda L, t: L.take_along_dim(t, L.tensor([[0], [3], [1]]), 1), x)
    check(lambda L, t: L.take_along_dim(t, L.tensor([5, 0, 11])), x)
    check(lambda L, t: L.take_along_dim(t, L.tensor([[0, 1, 2, 0]]), 0), x)
    check(lambda L, t: t.take_along_dim(L.zeros(1, 5, 1, dtype=L.int64), 2), normal(3, 1, 4))
    check(lambda L, t: L.take_along_dim(t, t.argsort(1), 1), x)


@pytest.mark.parametrize("split", [3, (1, 6), (7, 3), (2, 20), "tensor 3", "tensor [2, 5]"])
def test_tensor_split(split):
    def fn(L, x):
        arg = split
        if isinstance(split, str):
            arg = L.tensor(eval(split.split(" ", 1)[1]))
        return L.tensor_split(x, arg, dim=1)

    check(fn, normal(2, 10))


def test_hsplit_vsplit_dsplit_and_errors():
    check(lambda L, x: L.hsplit(x, 2), normal(3, 4))
    check(lambda L, x: L.hsplit(x, [1, 3]), normal(3, 4))
    check(lambda L, x: L.hsplit(x, 5), normal(10))
    check(lambda L, x: L.vsplit(x, 3), normal(3, 4))
    check(lambda L, x: x.dsplit([1]), normal(2, 3, 4))
    for make in (lambda L: L.hsplit(L.arange(10), 3), lambda L: L.vsplit(L.arange(10), 2),
                 lambda L: L.dsplit(L.zeros(2, 3), 1)):
        with pytest.raises(Exception) as theirs:
            make(torch)
        raises_like_torch(lambda: make(chainrule), lambda: make(torch), _escaped(theirs))


def test_shaping_forms():
    check(lambda L, x: L.ravel(x.t()), normal(3, 4))
    check(lambda L, x: [L.atleast_1d(x.sum()), L.atleast_2d(x[0]), L.atleast_3d(x), L.atleast_3d(x[0])], normal(3, 4))
    check(lambda L, x, y: L.atleast_2d((x, y)), normal(3), normal(2, 2))
    for k in (-3, -1, 0, 1, 2, 5):
        check(lambda L, x: L.rot90(x, k, (1, 2)), normal(2, 3, 4))
    check(lambda L, x: [L.fliplr(x), L.flipud(x), x.fliplr()], normal(3, 4))
    for make in (lambda L: L.rot90(L.zeros(3, 4), 1, [0]), lambda L: L.rot90(L.zeros(3, 4), 1, [1, -1]),
                 lambda L: L.fliplr(L.zeros(3))):
        with pytest.raises(Exception) as theirs:
            make(torch)
        raises_like_torch(lambda: make(chainrule), lambda: make(torch), _escaped(theirs))


@pytest.mark.filterwarnings("ignore:invalid value encountered in divide")  # nanmean of all NaN: 0 / 0
def test_nan_reductions_and_aminmax():
    x = normal(3, 4)
    x[0, 1] = x[2, 2] = np.nan
    check(lambda L, t: [L.nansum(t), L.nansum(t, 1), t.nansum(0, keepdim=True)], x)
    check(lambda L, t: [L.nanmean(t), L.nanmean(t, 1), t.nanmean(dim=0, keepdim=True)], x)
    check(lambda L, t: L.nanmean(t[:, 1:2].clone().fill_(float("nan")), 0), x, grad=False)
    check(lambda L: L.nansum(L.tensor([1, 2, 3])), grad=False)
    check(lambda L, t: [L.aminmax(t), L.aminmax(t, dim=1), t.aminmax(dim=0, keepdim=True),
                        L.aminmax(t, keepdim=True)], normal(3, 4), grad=False)
    low, high = chainrule.aminmax(chainrule.tensor([[1.0, 5.0]]), dim=1)
    assert (low.item(), high.item()) == (1.0, 5.0)
    for make in (lambda L: L.nanmean(L.tensor([1, 2])), lambda L: L.aminmax(L.zeros(0))):
        with pytest.raises(Exception) as theirs:
            make(torch)
        raises_like_torch(lambda: make(chainrule), lambda: make(torch), _escaped(theirs))


def test_elementwise_forms():
    a, b = normal(6) * 3, normal(6) * 3
    a[0], b[0] = -1000.0, -1000.0
    check(lambda L, x, y: L.logaddexp2(x, y), a, b)
    check(lambda L, x: L.sinc(x), np.array([0.0, 0.5, -1.25, 3.0, 1e-3]))
    check(lambda L, x: [L.deg2rad(x), L.rad2deg(x), L.fix(x * 3), x.positive()], normal(5))
    check(lambda L: [L.deg2rad(L.tensor([180, 90])), L.sinc(L.tensor([0, 1, 2]))], grad=False)
    for lib in (chainrule, torch):
        x = lib.tensor([1.5, -2.5])
        x.fix_()
        assert x.tolist() == [1.0, -2.0]
        y = lib.tensor([0.0, 90.0])
        y.deg2rad_()
        assert y.tolist() == pytest.approx([0.0, np.pi / 2])
    with pytest.raises(RuntimeError, match="bool tensor is not supported"):
        chainrule.positive(chainrule.tensor([True]))


def test_kron_cross_diag_embed_block_diag_cartesian_prod():
    check(lambda L, x, y: L.kron(x, y), normal(2, 3), normal(3, 2))
    check(lambda L, x, y: L.kron(x, y), normal(2), normal(3, 2))
    check(lambda L, x, y: L.kron(x, y), normal(2, 1, 2), normal(2, 2))
    check(lambda L, x, y: L.linalg.cross(x, y), normal(4, 3), normal(1, 3))
    check(lambda L, x, y: L.cross(x, y, dim=0), normal(3, 5), normal(3, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both warn: cross without dim
        check(lambda L, x, y: L.cross(x, y), normal(2, 3), normal(2, 3))
    with pytest.warns(UserWarning, match="without specifying the dim"):
        chainrule.cross(chainrule.zeros(3), chainrule.zeros(3))
    for offset, dims in [(0, (-2, -1)), (1, (-2, -1)), (-2, (0, 2)), (2, (2, 0))]:
        check(lambda L, x: L.diag_embed(x, offset, *dims), normal(2, 3))
    check(lambda L, a, b, c: L.block_diag(a, b, c), normal(2, 2), normal(3), normal())
    check(lambda L: L.block_diag(), grad=False)
    check(lambda L, a, b: L.cartesian_prod(a, b), normal(2), normal(3))
    check(lambda L, a, b, c: L.cartesian_prod(a, b, c), normal(2), normal(1), normal(2))
    check(lambda L, a: L.cartesian_prod(a), normal(3))
    for make in (lambda L: L.linalg.cross(L.zeros(4, 3), L.zeros(3)), lambda L: L.linalg.cross(L.zeros(4), L.zeros(4)),
                 lambda L: L.cross(L.zeros(2, 4), L.zeros(2, 4)), lambda L: L.diag_embed(L.zeros(3), 0, 1, 1),
                 lambda L: L.block_diag(L.zeros(1, 1, 1))):
        with pytest.raises(Exception) as theirs, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            make(torch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raises_like_torch(lambda: make(chainrule), lambda: make(torch), _escaped(theirs))


def test_tensor_sampling_methods():
    probabilities = chainrule.tensor([[0.1, 0.9, 0.0], [0.5, 0.25, 0.25]])
    chainrule.manual_seed(3)
    drawn = probabilities.multinomial(4, replacement=True)
    chainrule.manual_seed(3)
    assert drawn.tolist() == chainrule.multinomial(probabilities, 4, replacement=True).tolist()
    assert drawn.shape == (2, 4) and drawn.dtype == chainrule.int64
    assert set(drawn[0].tolist()) <= {0, 1}
    chainrule.manual_seed(3)
    coins = chainrule.full((1000,), 0.25).bernoulli()
    assert set(coins.unique().tolist()) == {0.0, 1.0} and 0.2 < coins.mean().item() < 0.3
    assert chainrule.zeros(5).bernoulli(1.0).tolist() == [1.0] * 5


# -- second batch: elementwise, determinants, running extremes, order statistics ---------------


def test_fmax_fmin_copysign_float_power_and_sign_tests():
    a = np.array([1.0, np.nan, 2.0, -0.0, 3.0])
    b = np.array([np.nan, 0.0, 2.0, 1.0, -4.0])
    check(lambda L, x, y: [L.fmax(x, y), L.fmin(x, y), x.fmax(y)], a, b)
    check(lambda L, x, y: [L.copysign(x, y), x.copysign(-1.0)], np.array([1.0, -2.0, 3.0, 0.5]),
          np.array([-0.0, 1.0, -1.0, 2.0]))
    check(lambda L, x: [L.float_power(x, 2.5), x.float_power(L.tensor([1.0, 2.0, 0.5]))], np.array([1.5, 2.0, 3.0]))
    check(lambda L: [L.float_power(L.tensor([2, 3]), 2), L.signbit(L.tensor([-0.0, 1.0, -2.0])),
                     L.isposinf(L.tensor([np.inf, -np.inf, 1.0])), L.isneginf(L.tensor([np.inf, -np.inf, 1.0])),
                     L.sgn(L.tensor([-3.0, 0.0, 2.0]))], grad=False)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_determinants_inverse_and_matrix_power(shape):
    a = RNG.standard_normal(shape) + 3 * np.eye(shape[-1])
    check(lambda L, m: [L.det(m), L.logdet(m), *L.slogdet(m), L.linalg.det(m), *L.linalg.slogdet(m)], a)
    check(lambda L, m: [m.det(), m.inverse(), L.inverse(m)], a)
    for n in (0, 1, 2, 5, -1, -3):
        check(lambda L, m: L.matrix_power(m, n), a)
    check(lambda L, m: L.logdet(m), -np.eye(3) * 2)  # a negative determinant: NaN, as PyTorch


def test_running_extremes_and_log_cumulative_sums():
    x = np.array([[1.0, 3.0, 3.0, 2.0, 5.0, np.nan, 1.0, np.nan], [4.0, 2.0, 2.0, 6.0, 0.0, 1.0, 7.0, 7.0]])
    check(lambda L, t: [*L.cummax(t, 1), *L.cummin(t, 1), *t.cummax(0), *t.cummin(-1)], x, grad=False)
    y = RNG.standard_normal((3, 5))
    check(lambda L, t: [L.cummax(t, 1).values, L.cummin(t, 0).values], y)
    check(lambda L, t: [L.logcumsumexp(t, 1), t.logcumsumexp(0)], y * 30)
    check(lambda L, t: L.logcumsumexp(t, 0), np.array([0.5, -1000.0, 3.0, 2.0]))
    check(lambda L, t: L.cummax(t, 0), np.array(2.5), grad=False)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantiles(interpolation):
    x = RNG.standard_normal((4, 7))
    with_nan = x.copy()
    with_nan[1, 3] = with_nan[3, 0] = np.nan
    for q in (0.3, [0.0, 0.25, 0.5, 1.0]):
        def arg(L):
            return L.tensor(q, dtype=L.float64) if isinstance(q, list) else q

        check(lambda L, t: [L.quantile(t, arg(L), dim=1, interpolation=interpolation),
                            L.quantile(t, arg(L), interpolation=interpolation),
                            t.quantile(arg(L), dim=0, keepdim=True, interpolation=interpolation)], x)
        check(lambda L, t: [L.nanquantile(t, arg(L), dim=1, interpolation=interpolation),
                            L.quantile(t, arg(L), dim=1, interpolation=interpolation),
                            L.nanquantile(t, arg(L), keepdim=True, interpolation=interpolation)], with_nan, grad=False)


def test_nanmedian_msort_mode():
    x = np.array([[1.0, np.nan, 3.0, 0.0], [2.0, 2.0, np.nan, 1.0], [5.0, 4.0, 3.0, 2.0]])
    check(lambda L, t: [*L.nanmedian(t, 1), L.nanmedian(t), *t.nanmedian(0, keepdim=True)], x, grad=False)
    check(lambda L, t: [L.nanmedian(t, 1).values, L.msort(t)], RNG.standard_normal((3, 4)))
    counts = np.array([[1, 2, 2, 3, 3], [4, 4, 1, 1, 5], [9, 9, 9, 0, 0]])
    check(lambda L: [*L.mode(L.tensor(counts), 1), *L.mode(L.tensor(counts), 0, keepdim=True),
                     *L.tensor([2.0, 7.0, 7.0, 2.0, 5.0]).mode()], grad=False)
    check(lambda L, t: L.mode(t, 1).values, np.array([[1.5, 2.5, 1.5], [0.5, 0.5, 3.0]]))


def test_quantile_errors_like_torch():
    for make in (lambda L: L.quantile(L.tensor([1, 2]), 0.5), lambda L: L.quantile(L.zeros(3), 1.5),
                 lambda L: L.quantile(L.zeros(3), L.zeros(2, 2)),
                 lambda L: L.quantile(L.zeros(3), 0.5, interpolation="cubic")):
        with pytest.raises(Exception) as theirs:
            make(torch)
        raises_like_torch(lambda: make(chainrule), lambda: make(torch), _escaped(theirs))


# -- third batch: scatter_reduce, take/put, the *_scatter forms, statistics -------------------


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(reduce, include_self):
    x = np.array([[1.0, 5.0, 2.0, 0.0], [3.0, -1.0, 4.0, 2.0]])
    src = np.array([[3.0, 7.0, 2.0, 6.0], [0.0, 1.0, 4.0, 4.0]])
    index = np.array([[0, 1, 1, 3], [2, 2, 0, 2]])
    check(lambda L, a, s: L.scatter_reduce(a, 1, L.tensor(index), s, reduce, include_self=include_self), x, src)
    check(lambda L, a, s: a.scatter_reduce(0, L.tensor(index[:, :3] % 2), s, reduce, include_self=include_self), x,
          src[:, :3])
    # (a larger src than the index: the values agree; PyTorch's own backward refuses that case)
    check(lambda L, a, s: L.scatter_reduce(a, 1, L.tensor(index[:, :2]), s, reduce, include_self=include_self), x, src,
          grad=False)
    check(lambda L: L.tensor([1, 5, 2, 0]).scatter_reduce(0, L.tensor([0, 1, 1, 3]), L.tensor([3, 7, 2, 6]), reduce,
                                                          include_self=include_self), grad=False)
    for lib in (chainrule, torch):
        target = lib.tensor(x.copy())
        assert target.scatter_reduce_(1, lib.tensor(index), lib.tensor(src), reduce, include_self=include_self) \
            is target


@pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")
@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce(reduce, include_self):
    index = np.array([0, 2, 0, 3, 2])
    check(lambda L, x, s: L.index_reduce(x, 0, L.tensor(index), s, reduce, include_self=include_self),
          normal(4, 3), normal(5, 3))
    check(lambda L, x, s: x.index_reduce(-1, L.tensor(index[:2]), s, reduce, include_self=include_self),
          normal(2, 3), normal(2, 2))
    # (an int32 index: PyTorch's own backward then refuses it when include_self=False)
    check(lambda L, x, s: x.index_reduce(-1, L.tensor(index[:2], dtype=L.int32), s, reduce,
                                         include_self=include_self), normal(2, 3), normal(2, 2), grad=False)
    check(lambda L: L.tensor([1, 5, 2, 0]).index_reduce(0, L.tensor([0, 1, 1]), L.tensor([3, 7, 2]), reduce,
                                                        include_self=include_self), grad=False)
    for lib in (chainrule, torch):
        target = lib.zeros(3) + 1.5
        assert target.index_reduce_(0, lib.tensor([2, 2]), lib.tensor([4.0, -1.0]), reduce,
                                    include_self=include_self) is target


def test_take_put_index_put_masked_scatter():
    x = RNG.standard_normal((2, 3))
    check(lambda L, t: [L.take(t, L.tensor([[0, 5], [2, -1]])), t.take(L.tensor([4]))], x)
    check(lambda L, t: L.index_put(t, (L.tensor([0, 1]), L.tensor([2, 0])), L.tensor([5.0, 6.0], dtype=L.float64)), x)
    check(lambda L, t, s: L.masked_scatter(t, L.tensor([[True, False, True], [False, True, False]]), s), x,
          RNG.standard_normal(5))
    check(lambda L, t, s: t.masked_scatter(L.tensor([True, False, True]), s), x, RNG.standard_normal(6))
    for lib in (chainrule, torch):
        y = lib.zeros(2, 3)
        y.put_(lib.tensor([1, 4]), lib.tensor([9.0, 8.0]))
        y.put_(lib.tensor([1, 1]), lib.tensor([1.0, 2.0]), accumulate=True)
        assert y.tolist() == [[0.0, 12.0, 0.0], [0.0, 8.0, 0.0]]
        with pytest.raises(IndexError, match="out of range: tried to access index 6 on a tensor of 6 elements"):
            lib.take(lib.zeros(2, 3), lib.tensor([6]))


def test_slice_select_and_diagonal_scatter():
    check(lambda L, t, s: L.slice_scatter(t, s, dim=1, start=1, end=4, step=2), RNG.standard_normal((3, 4)),
          RNG.standard_normal((3, 2)))
    check(lambda L, t, s: t.select_scatter(s, 0, 1), RNG.standard_normal((2, 3)), RNG.standard_normal(3))
    for offset in (0, 1, -1):
        n = 3 - abs(offset)
        check(lambda L, t, s: L.diagonal_scatter(t, s, offset), RNG.standard_normal((3, 3)), RNG.standard_normal(n))
    check(lambda L, t, s: L.diagonal_scatter(t, s, 0, 1, 2), RNG.standard_normal((2, 3, 3)), RNG.standard_normal((2, 3)))


def test_statistics_and_small_forms():
    x = RNG.standard_normal((3, 5))
    check(lambda L, t: [L.cov(t), L.corrcoef(t), L.cov(t, correction=0), L.cov(t[0])], x)
    check(lambda L, t, a: L.cov(t, fweights=L.tensor([1, 2, 1, 3, 1]), aweights=a), x, RNG.uniform(0.5, 2, 5))
    check(lambda L, t, a: L.cov(t, correction=0, aweights=a), x, RNG.uniform(0.5, 2, 5))
    check(lambda L, a, b: [L.vdot(a, b), L.dist(a, b), L.dist(a, b, 3), a.dist(b, 1)], RNG.standard_normal(4),
          RNG.standard_normal(4))
    check(lambda L, t: [L.diagflat(t), L.diagflat(t, -1), t.diagflat(2)], RNG.standard_normal((2, 2)))
    check(lambda L, t: [t.sum_to_size(1, 5), t.sum_to_size((3, 1)), L.renorm(t, 2, 0, 1.0), t.renorm(1, 1, 0.5)], x)
    check(lambda L, t: t.split_with_sizes([2, 3], 1), x)
    check(lambda L: [L.histc(L.tensor([1.0, 2, 1, 7]), bins=4, min=0, max=3), L.histc(L.tensor([1.0, 2, 1, 7]), bins=3),
                     *L.unique_consecutive(L.tensor([1, 1, 2, 2, 3, 1, 1]), return_inverse=True, return_counts=True),
                     L.unique_consecutive(L.tensor([[1, 1], [1, 1], [2, 3]]), dim=0),
                     L.ones(2).new(3).shape == (3,), L.ones(2, dtype=L.float64).new([1, 2])], grad=False)


def test_review_edge_cases_like_torch():
    nan = float("nan")
    check(lambda L: [L.quantile(L.tensor([1.0, 2.0, 3.0, 4.0], dtype=L.float64), L.tensor(0.5, dtype=L.float64)),
                     L.nanquantile(L.tensor([[1.0, nan], [2.0, 3.0]], dtype=L.float64), L.tensor(0.25, dtype=L.float64), 1),
                     *L.mode(L.tensor([1.0, nan, nan])), *L.mode(L.tensor([nan, nan])),
                     # (which of equal modes' places PyTorch reports beside a NaN depends on its sort)
                     L.mode(L.tensor([[2.0, nan, 2.0, nan, nan], [nan, 1.0, 1.0, 3.0, 3.0]]), 1).values,
                     *L.nanmedian(L.tensor(2.0), 0), *L.median(L.tensor([[1.0, nan], [3.0, 2.0], [nan, 5.0]]), 0)],
          grad=False)
    check(lambda L, m: L.det(m), np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 5.0]]))  # singular
    check(lambda L, m: L.median(m, 1).values, np.array([[1.0, 5.0, 2.0], [3.0, 2.0, 6.0]]))
    for make in (lambda L: L.mode(L.tensor([])), lambda L: L.nanmedian(L.zeros(0, 3), 0)):
        with pytest.raises(IndexError) as theirs:
            make(torch)
        raises_like_torch(lambda: make(chainrule), lambda: make(torch), _escaped(theirs))


def test_special_entr_gradient_at_the_boundaries():
    check(lambda L, x: L.special.entr(x), np.array([0.0, -1.0, 0.5, 2.0]))


def test_second_review_edge_cases_like_torch():
    inf = float("inf")
    src = np.arange(8.0).reshape(2, 2, 2) + 1
    check(lambda L, t, s: L.diagonal_scatter(t, s, 1, 1, 3), np.zeros((2, 2, 2, 3)), src)
    check(lambda L, t: [L.diag_embed(t), L.diagflat(t)], np.array([inf, 1.0]), grad=False)
    check(lambda L, a, b: [L.logaddexp2(a, b), L.logaddexp(a, b)], np.array([-inf, inf, 1.0]),
          np.array([-inf, inf, 2.0]), grad=False)
    check(lambda L: [*L.tensor_split(L.arange(10), [-3]), *L.tensor_split(L.arange(10), [3, -8]),
                     L.take_along_dim(L.arange(6.0).reshape(2, 3), L.tensor([[-1], [-3]]), 1),
                     L.copysign(L.tensor([1, -2, 3]), L.tensor([-1, 1, -1])),
                     L.copysign(L.tensor([1.0, -2.0]), L.tensor([-1.0, 1.0], dtype=L.float64)),
                     L.copysign(L.tensor([True, False]), L.tensor([-1.0, 1.0])),
                     L.histc(L.tensor([0.1, 0.2, 0.3, 0.7, 0.9]), bins=10, min=0, max=1),
                     L.gather(L.tensor(5.0), 0, L.tensor(0)), L.index_select(L.tensor(3.0), 0, L.tensor([0])),
                     L.scatter_reduce(L.zeros(()), 0, L.tensor(0), L.tensor(3.0), "sum"),
                     list(L.zeros(2).new(L.Size([2, 3])).shape), list(L.zeros(2).new().shape),
                     L.tensor([1, 2]) << 1, L.tensor([8]) >> 2],
          grad=False)
    x = chainrule.zeros(3, 4, requires_grad=True)
    grads = chainrule.autograd.grad(chainrule.scatter_reduce(x, 1, chainrule.tensor([[0, 1], [1, 1], [0, 0]]),
                                                              chainrule.ones(3, 2), "mean").sum(), x)
    assert grads[0].dtype == chainrule.float32
    for make in (lambda L: L.scatter_reduce(L.zeros(3), 0, L.tensor([1]), L.tensor([1]), "sum"),
                 lambda L: L.renorm(L.tensor([1.0, 2.0, 3.0]), 2, 0, 1), lambda L: L.renorm(L.ones(2, 2), 0, 0, 1),
                 lambda L: L.histc(L.tensor([1, 2]), bins=2), lambda L: L.zeros(2, 3).put_(L.tensor([0, 1]), L.tensor([9.0])),
                 lambda L: L.zeros(3).exponential_(0), lambda L: L.zeros(3, dtype=L.int64).exponential_(),
                 lambda L: L.zeros(3).geometric_(1), lambda L: L.zeros(3, dtype=L.bool).random_(5)):
        with pytest.raises(Exception) as theirs:
            make(torch)
        raises_like_torch(lambda: make(chainrule), lambda: make(torch), _escaped(theirs))
    for lib in (chainrule, torch):  # a comparison written in place into a tensor with history
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        y = w * 1
        y.gt_(1)
        assert y.grad_fn is not None and not y.is_leaf
        y.mul_(2)
        (y * w).sum().backward()
        assert w.grad.tolist() == [0.0, 2.0]
        t = lib.zeros(2, 3).t()
        t.put_(lib.tensor([1, 4]), lib.tensor([9.0, 8.0]))
        assert t.tolist() == [[0.0, 9.0], [0.0, 0.0], [8.0, 0.0]]


def test_shape_forms_return_and_refuse_like_torch():
    check(lambda L: [L.atleast_1d((L.tensor(1.0),)), L.atleast_2d([L.ones(2)]), L.tensor(3.0).unfold(0, 0, 1)],
          grad=False)
    for lib in (chainrule, torch):
        x = lib.ones(3)
        assert lib.atleast_1d(x) is x and isinstance(lib.atleast_3d((x, x)), tuple)
    for make in (lambda L: L.slice_scatter(L.zeros(4, 3), L.ones(3), 0, 1, 3),
                 lambda L: L.select_scatter(L.zeros(4, 3), L.ones(1), 0, 1),
                 lambda L: L.cartesian_prod(L.tensor([1, 2]), L.tensor([1.0])),
                 lambda L: L.cartesian_prod(L.tensor(1.0), L.tensor([1.0]))):
        with pytest.raises(Exception) as theirs:
            make(torch)
        raises_like_torch(lambda: make(chainrule), lambda: make(torch), _escaped(theirs))


def test_bucketize_tensordot_trapezoid_combinations_pdist():
    boundaries = np.array([1.0, 3.0, 5.0, 7.0, 9.0])
    for right in (False, True):
        check(lambda L, b: L.bucketize(L.tensor([[3.0, 6.0, 9.0], [0.5, 7.0, 11.0]]), b, right=right), boundaries,
              grad=False)
        check(lambda L, b: L.bucketize(L.tensor(4.0), b, right=right, out_int32=True), boundaries, grad=False)
    check(lambda L, a, b: L.tensordot(a, b), normal(3, 4, 5), normal(4, 5, 2))
    check(lambda L, a, b: L.tensordot(a, b, dims=([1, 0], [0, 2])), normal(3, 4, 5), normal(4, 2, 3))
    check(lambda L, a, b: L.tensordot(a, b, dims=0), normal(2, 3), normal(4))
    check(lambda L, a, b: L.tensordot(a, b, dims=([2], [0])), normal(2, 3, 4), normal(4, 5))
    for dim in (-1, 0):
        check(lambda L, y: L.trapezoid(y, dim=dim), normal(3, 4))
        check(lambda L, y: L.trapz(y, dx=0.25, dim=dim), normal(3, 4))
        check(lambda L, y: L.cumulative_trapezoid(y, dx=2.5, dim=dim), normal(3, 4))
        check(lambda L, y: L.cumulative_trapezoid(y, dim=dim), normal(3, 4))
    check(lambda L, y, x: L.trapezoid(y, x), normal(3, 4), np.sort(normal(4)))
    check(lambda L, y, x: L.trapezoid(y, x, dim=0), normal(3, 4), np.sort(normal(3, 4), axis=0))
    check(lambda L, y, x: L.cumulative_trapezoid(y, x), normal(2, 5), np.sort(normal(5)))
    check(lambda L: [L.trapezoid(L.tensor([1, 2, 4])), L.trapezoid(L.zeros(2, 0)), L.cumulative_trapezoid(L.zeros(2, 1))],
          grad=False)
    check(lambda L, x: L.combinations(x), normal(4))
    check(lambda L, x: L.combinations(x, 3, with_replacement=True), normal(3))
    check(lambda L, x: [L.combinations(x, 0), L.combinations(x, 4)], normal(3))
    for p in (2, 1, 3.5, float("inf")):
        check(lambda L, x: L.pdist(x, p), normal(5, 3))
    check(lambda L, x: L.nn.functional.pdist(x), np.repeat(normal(1, 3), 3, axis=0))  # zero distances: gradient 0
    check(lambda L, x: [L.pdist(x[:1]), L.pdist(x[:0])], normal(2, 3), grad=False)  # (PyTorch crashes differentiating these)
    for make in (lambda L: L.bucketize(L.tensor([1.0]), L.zeros(2, 2)),
                 lambda L: L.tensordot(L.zeros(2, 3), L.zeros(4, 2), dims=1),
                 lambda L: L.tensordot(L.zeros(2, 3), L.zeros(3), dims=([1, 0], [0])),
                 lambda L: L.trapezoid(L.zeros(3), L.zeros(4)),
                 lambda L: L.combinations(L.zeros(2, 2)),
                 lambda L: L.pdist(L.zeros(3)), lambda L: L.pdist(L.zeros(3, 2, dtype=L.long))):
        with pytest.raises(Exception) as theirs:
            make(torch)
        raises_like_torch(lambda: make(chainrule), lambda: make(torch), _escaped(theirs))


def test_gumbel_softmax_samples_and_straight_through_gradient():
    logits = chainrule.tensor(normal(4, 3), requires_grad=True)
    chainrule.manual_seed(5)
    soft = chainrule.nn.functional.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.sum(-1).detach().numpy(), 1.0, rtol=1e-12)
    chainrule.manual_seed(5)
    hard = chainrule.nn.functional.gumbel_softmax(logits, tau=0.5, hard=True)
    # the same noise: the one-hot rows mark the soft sample's argmax
    np.testing.assert_array_equal(hard.argmax(-1).numpy(), soft.argmax(-1).numpy())
    assert sorted(np.unique(hard.detach().numpy()).tolist()) == [0.0, 1.0]
    weights = chainrule.tensor(normal(4, 3))
    (hard * weights).sum().backward()
    straight_through = logits.grad.numpy().copy()
    logits.grad = None
    (soft * weights).sum().backward()  # the hard sample's gradient is the soft sample's
    np.testing.assert_allclose(straight_through, logits.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_scans_name_their_nodes_as_pytorch():
    for name in ("cumprod", "logcumsumexp", "cumsum"):
        names = [type(getattr(lib, name)(lib.tensor([1.0, 2.0], requires_grad=True), 0).grad_fn).__name__
                 for lib in (torch, chainrule)]
        assert names[1] == names[0]


def test_histogram():
    data = RNG.standard_normal(200).astype(np.float32)
    check(lambda L: [*L.histogram(L.tensor(data), bins=7), *L.histogram(L.tensor(data), 4, range=(-1.0, 1.5)),
                     *L.histogram(L.tensor(data, dtype=L.float64), bins=5, density=True),
                     *L.histogram(L.tensor([2.0, 2.0]), bins=2), *L.histogram(L.tensor([1.0, 2, 2, 3, 7]), bins=3)],
          grad=False)
    # (weights summed in float32 in another order: the last bit)
    check(lambda L: L.tensor(data).histogram(L.tensor([-3.0, -0.5, 0.0, 2.0]), weight=L.tensor(data) ** 2,
                                             density=True), grad=False, rtol=1e-6)
    assert type(chainrule.histogram(chainrule.ones(3))).__name__ == "histogram"
    assert chainrule.histogram(chainrule.ones(3), 2)._fields == ("hist", "bin_edges")
    for make in (lambda L: L.histogram(L.tensor([1, 2]), bins=2), lambda L: L.histogram(L.ones(3), bins=0),
                 lambda L: L.histogram(L.ones(3), bins=2, range=(1.0, 0.0))):
        with pytest.raises(Exception) as theirs:
            make(torch)
        raises_like_torch(lambda: make(chainrule), lambda: make(torch), _escaped(theirs))


@pytest.mark.parametrize("sa,sb", [((2, 3), (4, 3)), ((), (2, 3)), ((3,), (2, 3)), ((3,), (3,)), ((2, 1, 3), (3,)),
                                   ((2, 3), ())])
def test_inner_sums_over_the_last_dims(sa, sb):
    check(lambda L, a, b: [L.inner(a, b), a.inner(b)], RNG.standard_normal(sa), RNG.standard_normal(sb))


def test_inner_and_narrow_copy_edges():
    for make in (lambda L: L.inner(L.ones(2, 3), L.ones(2, 4)),):
        with pytest.raises(RuntimeError) as theirs:
            make(torch)
        raises_like_torch(lambda: make(chainrule), lambda: make(torch), _escaped(theirs))
    check(lambda L, t: [t.narrow_copy(1, 1, 2), L.narrow_copy(t, 0, 0, 1)], RNG.standard_normal((2, 3)))
    base = chainrule.ones(2, 3)
    copy = base.narrow_copy(1, 0, 2)
    copy.add_(1)
    assert base.tolist() == [[1.0] * 3] * 2


@pytest.mark.parametrize("layout", [
    lambda L, x: x.as_strided((3, 3), (1, 1)), lambda L, x: x.as_strided((4, 2, 3), (2, 1, 1), 1),
    lambda L, x: L.as_strided(x.view(3, 4), (2, 2, 2, 2), (4, 1, 4, 1)),
    lambda L, x: x.view(3, 4)[1:].as_strided((2, 2), (1, 4)), lambda L, x: x.view(3, 4).t().as_strided((2, 3), (1, 4)),
    lambda L, x: x.as_strided((0, 3), (1, 1)),
])
def test_as_strided_windows_and_their_gradient(layout):
    check(lambda L, x: layout(L, x), RNG.standard_normal(12))


def test_as_strided_limits():
    x = chainrule.tensor(RNG.standard_normal(12), requires_grad=True)
    assert x.as_strided((2, 2), (1, 1)).grad_fn.name() == "AsStridedBackward0"
    for L in (torch, chainrule):
        with pytest.raises(RuntimeError, match="mismatch in length of strides and shape"):
            L.arange(10.0).as_strided((3,), (1, 1))
    with pytest.raises(NotImplementedError, match="reads storage outside the tensor's own elements"):
        chainrule.arange(10.0)[:2].as_strided((3,), (1,))


@pytest.mark.parametrize("layout", [((3,), (2,)), ((2, 2), (1, 2), 1), ((2,), (-1,), 1), ((2,), (1,), -1)])
def test_as_strided_outside_the_storage_raises_pytorchs_error(layout):
    """Beyond the storage, a negative stride or offset: PyTorch's RuntimeError and message."""
    messages = []
    for L in (torch, chainrule):
        with pytest.raises(RuntimeError) as raised:
            L.ones(4).as_strided(*layout)
        messages.append(str(raised.value))
    assert messages[0] == messages[1]
    assert chainrule.ones(4).as_strided((0,), (5,), 10).shape == (0,)  # nothing read: nothing checked


def test_split_and_dot_take_pytorchs_keyword_names():
    """PyTorch's overloads name the split argument ``sections``, ``indices`` or
    ``tensor_indices_or_sections``, and dot's second operand ``tensor``."""
    x, grid = np.arange(6.0), np.arange(24.0).reshape(2, 3, 4)
    forms = [
        lambda L, a: list(L.tensor_split(a, sections=4)),
        lambda L, a: list(L.tensor_split(a, indices=[1, 4])),
        lambda L, a: list(L.tensor_split(a, tensor_indices_or_sections=L.tensor(2))),
        lambda L, a: list(a.hsplit(sections=3)),
        lambda L, a: list(L.hsplit(a, indices=[2])),
        lambda L, a: [a.dot(tensor=a), L.dot(a, tensor=a * 2)],
    ]
    for form in forms:
        check(form, x)
    check(lambda L, a: list(L.vsplit(a, sections=2)) + list(L.dsplit(a, indices=[1])), grid)
    with pytest.raises(TypeError, match="expected one of"):
        chainrule.tensor_split(chainrule.tensor(x), 2, sections=3)
