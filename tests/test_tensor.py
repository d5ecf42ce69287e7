"""Tensor basics against PyTorch: factories, conversions, metadata, dtypes and promotion,
clone/contiguous, repr."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close


def name(dtype):
    return str(dtype).split(".")[-1]


def same(c, t):
    """Same dtype name, shape and values."""
    assert name(c.dtype) == name(t.dtype), (c.dtype, t.dtype)
    assert tuple(c.shape) == tuple(t.shape)
    np.testing.assert_array_equal(c.detach().numpy(), t.detach().numpy())


# -- factories -------------------------------------------------------------------------------

TENSOR_DATA = [
    [1.0, 2.0],
    [1, 2, 3],
    [True, False],
    [[1.5, 2.0], [3.0, 4.0]],
    3.5,
    7,
    False,
    [],
    [[1, 2.5]],
    [1, True],
    np.array([1.0, 2.0]),
    np.array([1.0, 2.0], dtype=np.float32),
    np.array([1, 2], dtype=np.int32),
    np.array([[True]]),
    np.float64(2.5),
]


@pytest.mark.parametrize("data", TENSOR_DATA, ids=lambda d: repr(d)[:30])
def test_tensor_infers_dtype_like_torch(data):
    same(chainrule.tensor(data), torch.tensor(data))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32", "int64", "bool", "uint8", "int8", "int16"])
def test_tensor_with_dtype(dtype):
    data = [[0, 1], [2, 3]]
    same(chainrule.tensor(data, dtype=getattr(chainrule, dtype)), torch.tensor(data, dtype=getattr(torch, dtype)))
    floats = [0.0, 1.7, 2.7] if dtype == "uint8" else [0.0, 1.7, -2.7]  # (negative to unsigned: undefined)
    same(chainrule.tensor(floats, dtype=getattr(chainrule, dtype)), torch.tensor(floats, dtype=getattr(torch, dtype)))


def test_tensor_copies_its_data():
    array = np.array([1.0, 2.0])
    t = chainrule.tensor(array)
    array[0] = 100.0
    assert t[0].item() == 1.0
    u = chainrule.tensor(t)
    t.data[1] = 50.0
    assert u[1].item() == 2.0


def test_tensor_requires_grad_and_errors():
    t = chainrule.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad is None and t.grad_fn is None
    with pytest.raises(RuntimeError, match="floating point"):
        chainrule.tensor([1, 2], requires_grad=True)
    with pytest.raises((TypeError, ValueError)):
        chainrule.tensor([[1, 2], [3]])


@pytest.mark.parametrize("data", [
    [[1, 2], [3]], [[1, 2], 3], [[[1], [2]], [[3], [4, 5]]], [[1, 2], [3, 4, 5]], [[1], []],
    [np.ones(2), [1.0]], [[1.5, 2.5], (3.5,)],
])
def test_ragged_nesting_raises_pytorchs_error_naming_the_dim(data):
    errors = []
    for lib in (torch, chainrule):
        with pytest.raises((TypeError, ValueError)) as raised:
            lib.tensor(data)
        errors.append((type(raised.value), str(raised.value)))
    assert errors[0] == errors[1]
    with pytest.raises(ValueError, match=r"expected sequence of length 2 at dim 1 \(got 3\)"):
        chainrule.tensor([chainrule.ones(2), chainrule.ones(3)])  # (tensors in a list: stacked, if they can be)


def test_as_tensor_shares_memory_with_numpy():
    array = np.array([1.0, 2.0, 3.0])
    t = chainrule.as_tensor(array)
    array[0] = 10.0
    assert t[0].item() == 10.0
    t.data[1] = 20.0
    assert array[1] == 20.0
    assert t.dtype == chainrule.float64
    copied = chainrule.as_tensor(array, dtype=chainrule.float32)
    array[2] = 30.0
    assert copied[2].item() == 3.0 and copied.dtype == chainrule.float32
    same(chainrule.as_tensor([1, 2]), torch.as_tensor([1, 2]))
    existing = chainrule.tensor([1.0])
    assert chainrule.as_tensor(existing) is existing


def test_from_numpy_shares_memory_both_ways():
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = chainrule.from_numpy(array)
    assert t.dtype == chainrule.float32 and t.shape == (2, 3)
    array[0, 0] = -1.0
    assert t[0, 0].item() == -1.0
    t += 1
    assert array[0, 0] == 0.0
    assert np.shares_memory(t.numpy(), array)
    same(chainrule.from_numpy(np.array([1, 2], dtype=np.int32)), torch.from_numpy(np.array([1, 2], dtype=np.int32)))
    with pytest.raises(TypeError):
        chainrule.from_numpy([1.0, 2.0])


FACTORIES = [
    ("zeros-varargs", lambda L: L.zeros(2, 3)),
    ("zeros-tuple", lambda L: L.zeros((2, 3))),
    ("zeros-list", lambda L: L.zeros([4])),
    ("zeros-scalar-shape", lambda L: L.zeros(())),
    ("zeros-dtype", lambda L: L.zeros(2, dtype=L.int64)),
    ("ones", lambda L: L.ones(3, 1)),
    ("ones-float64", lambda L: L.ones(2, dtype=L.float64)),
    ("ones-bool", lambda L: L.ones(2, dtype=L.bool)),
    ("full-float", lambda L: L.full((2, 2), 1.5)),
    ("full-int", lambda L: L.full((2,), 3)),
    ("full-bool", lambda L: L.full((2,), True)),
    ("full-dtype", lambda L: L.full((2,), 3, dtype=L.float64)),
    ("zeros_like", lambda L: L.zeros_like(L.ones(2, 3, dtype=L.float64))),
    ("ones_like", lambda L: L.ones_like(L.tensor([1, 2]))),
    ("ones_like-dtype", lambda L: L.ones_like(L.tensor([1, 2]), dtype=L.float32)),
    ("full_like", lambda L: L.full_like(L.zeros(2, 2), 7.0)),
    ("full_like-int", lambda L: L.full_like(L.tensor([1, 2]), 7)),
    ("arange-int", lambda L: L.arange(5)),
    ("arange-start-end", lambda L: L.arange(2, 7)),
    ("arange-step", lambda L: L.arange(1, 10, 3)),
    ("arange-neg-step", lambda L: L.arange(5, -3, -2)),
    ("arange-float", lambda L: L.arange(0, 1, 0.1)),
    ("arange-float-end", lambda L: L.arange(2.5)),
    ("arange-dtype", lambda L: L.arange(4, dtype=L.float64)),
    ("arange-empty", lambda L: L.arange(3, 3)),
    ("linspace", lambda L: L.linspace(0, 1, 5)),
    ("linspace-neg", lambda L: L.linspace(-2.5, 2.5, 11)),
    ("linspace-one", lambda L: L.linspace(3, 7, 1)),
    ("linspace-zero", lambda L: L.linspace(3, 7, 0)),
    ("linspace-float64", lambda L: L.linspace(0, 1, 7, dtype=L.float64)),
    ("eye", lambda L: L.eye(3)),
    ("eye-rect", lambda L: L.eye(2, 4)),
    ("eye-dtype", lambda L: L.eye(2, dtype=L.int64)),
]


@pytest.mark.parametrize("label,fn", FACTORIES, ids=[f[0] for f in FACTORIES])
def test_factories(label, fn):
    c, t = fn(chainrule), fn(torch)
    assert name(c.dtype) == name(t.dtype)
    assert tuple(c.shape) == tuple(t.shape)
    np.testing.assert_allclose(c.numpy().astype(np.float64), t.numpy().astype(np.float64), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("fn", [lambda L: L.empty(2, 3), lambda L: L.empty((4,), dtype=L.float64),
                                lambda L: L.empty_like(L.zeros(3, dtype=L.int32))])
def test_empty(fn):
    c, t = fn(chainrule), fn(torch)
    assert name(c.dtype) == name(t.dtype) and tuple(c.shape) == tuple(t.shape)


def test_factory_requires_grad_and_negative_size():
    for lib in (chainrule, torch):
        assert lib.zeros(2, requires_grad=True).requires_grad
        assert lib.ones(2, requires_grad=True).is_leaf
        assert lib.full((2,), 1.0, requires_grad=True).requires_grad
        assert lib.linspace(0, 1, 3, requires_grad=True).requires_grad
        with pytest.raises(RuntimeError):
            lib.zeros(2, -1)


# -- random: reproducibility -----------------------------------------------------------------

RANDOM = [
    ("rand", lambda L, **kw: L.rand(3, 4, **kw)),
    ("randn", lambda L, **kw: L.randn(2, 5, **kw)),
    ("randn-float64", lambda L, **kw: L.randn(3, dtype=L.float64, **kw)),
    ("randint", lambda L, **kw: L.randint(0, 10, (4, 4), **kw)),
    ("randint-high-only", lambda L, **kw: L.randint(5, (6,), **kw)),
    ("normal", lambda L, **kw: L.normal(2.0, 3.0, size=(5,), **kw)),
    ("randperm", lambda L, **kw: L.randperm(8, **kw)),
]


@pytest.mark.parametrize("label,fn", RANDOM, ids=[r[0] for r in RANDOM])
def test_random_reproducible_with_manual_seed(label, fn):
    chainrule.manual_seed(1234)
    first = fn(chainrule)
    chainrule.manual_seed(1234)
    second = fn(chainrule)
    np.testing.assert_array_equal(first.numpy(), second.numpy())
    third = fn(chainrule)
    assert not np.array_equal(first.numpy(), third.numpy())
    reference = fn(torch)
    assert name(first.dtype) == name(reference.dtype)
    assert tuple(first.shape) == tuple(reference.shape)


@pytest.mark.parametrize("label,fn", RANDOM, ids=[r[0] for r in RANDOM])
def test_random_with_generator(label, fn):
    g1 = chainrule.Generator().manual_seed(7)
    g2 = chainrule.Generator().manual_seed(7)
    chainrule.manual_seed(0)
    a = fn(chainrule, generator=g1)
    chainrule.randn(10)  # the global stream does not disturb a Generator
    b = fn(chainrule, generator=g2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    chainrule.manual_seed(0)
    c = fn(chainrule)
    chainrule.manual_seed(0)
    fn(chainrule, generator=chainrule.Generator().manual_seed(99))  # a Generator leaves the global alone
    d = fn(chainrule)
    np.testing.assert_array_equal(c.numpy(), d.numpy())


def test_random_value_ranges():
    chainrule.manual_seed(0)
    r = chainrule.rand(1000).numpy()
    assert r.min() >= 0 and r.max() < 1 and r.dtype == np.float32
    i = chainrule.randint(-3, 4, (1000,)).numpy()
    assert i.min() == -3 and i.max() == 3 and i.dtype == np.int64
    n = chainrule.randn(4000, dtype=chainrule.float64).numpy()
    assert abs(n.mean()) < 0.1 and abs(n.std() - 1) < 0.1
    m = chainrule.normal(5.0, 0.5, size=(4000,)).numpy()
    assert abs(m.mean() - 5) < 0.1 and abs(m.std() - 0.5) < 0.05
    mean = chainrule.tensor([0.0, 100.0])
    t = chainrule.normal(mean, 1e-3)
    assert t.shape == (2,) and abs(t[1].item() - 100.0) < 0.1
    p = chainrule.randperm(10).numpy()
    assert sorted(p.tolist()) == list(range(10))
    assert chainrule.rand_like(chainrule.zeros(2, 3, dtype=chainrule.float64)).dtype == chainrule.float64
    assert chainrule.randn_like(chainrule.zeros(2, 3)).shape == (2, 3)


def test_rng_state_round_trip():
    chainrule.manual_seed(3)
    state = chainrule.get_rng_state()
    a = chainrule.randn(5)
    chainrule.set_rng_state(state)
    b = chainrule.randn(5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


# -- conversions and metadata ----------------------------------------------------------------


def test_numpy_item_tolist():
    for lib in (chainrule, torch):
        t = lib.tensor([[1.5, 2.0], [3.0, 4.0]])
        assert isinstance(t.numpy(), np.ndarray) and t.numpy().dtype == np.float32
        assert t.tolist() == [[1.5, 2.0], [3.0, 4.0]]
        assert lib.tensor(2.5).item() == 2.5 and isinstance(lib.tensor(2.5).item(), float)
        assert lib.tensor([7]).item() == 7 and isinstance(lib.tensor([7]).item(), int)
        assert lib.tensor(True).item() is True
        assert lib.tensor(3).tolist() == 3
        with pytest.raises((RuntimeError, ValueError)):
            t.item()
        g = lib.tensor([1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="requires grad"):
            g.numpy()
        assert g.detach().numpy().tolist() == [1.0]
        assert float(lib.tensor(2.5)) == 2.5 and int(lib.tensor(3.7)) == 3
        assert bool(lib.tensor([1.0])) is True
        with pytest.raises(RuntimeError):
            bool(lib.tensor([1.0, 2.0]))


def test_numpy_shares_memory():
    t = chainrule.zeros(3)
    t.numpy()[0] = 5.0
    assert t[0].item() == 5.0


def test_shape_and_size():
    for lib in (chainrule, torch):
        t = lib.zeros(2, 3, 4)
        assert t.shape == (2, 3, 4) and t.size() == (2, 3, 4)
        assert isinstance(t.shape, tuple)
        assert t.size(0) == 2 and t.size(-1) == 4 and t.shape[1] == 3
        assert t.ndim == 3 and t.dim() == 3
        assert t.numel() == 24 and lib.numel(t) == 24
        assert len(t) == 2
        assert lib.tensor(1.0).dim() == 0 and lib.tensor(1.0).numel() == 1
        assert lib.zeros(0, 3).numel() == 0
        with pytest.raises(IndexError):
            t.size(3)
        with pytest.raises(TypeError):
            len(lib.tensor(1.0))
    assert repr(chainrule.zeros(2, 3).shape) == "chainrule.Size([2, 3])"
    assert chainrule.zeros(2, 3).shape.numel() == 6


DTYPES = ["float16", "float32", "float64", "int32", "int64", "bool", "uint8"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_objects(dtype):
    c, t = getattr(chainrule, dtype), getattr(torch, dtype)
    assert repr(c) == repr(t).replace("torch", "chainrule")
    assert c.is_floating_point == t.is_floating_point
    assert c.itemsize == t.itemsize
    assert chainrule.zeros(2, dtype=c).dtype == c
    assert chainrule.zeros(2, dtype=c).dtype is c


def test_dtype_aliases_and_default():
    assert chainrule.float is chainrule.float32 and chainrule.double is chainrule.float64
    assert chainrule.long is chainrule.int64 and chainrule.half is chainrule.float16
    assert chainrule.int is chainrule.int32
    assert chainrule.get_default_dtype() is chainrule.float32
    assert chainrule.tensor([1.0]).dtype == chainrule.float32


CASTS = [
    ("to-float64", lambda L, t: t.to(L.float64)),
    ("to-int64", lambda L, t: t.to(L.int64)),
    ("to-kw", lambda L, t: t.to(dtype=L.int32)),
    ("to-other", lambda L, t: t.to(L.zeros(1, dtype=L.float16))),
    ("to-bool", lambda L, t: t.to(L.bool)),
    ("float", lambda L, t: t.double().float()),
    ("double", lambda L, t: t.double()),
    ("long", lambda L, t: t.long()),
    ("int", lambda L, t: t.int()),
    ("half", lambda L, t: t.half()),
    ("bool", lambda L, t: t.bool()),
    ("type", lambda L, t: t.type(L.float64)),
]


@pytest.mark.parametrize("label,fn", CASTS, ids=[c[0] for c in CASTS])
def test_casts(label, fn):
    data = [[-1.7, 0.0, 2.5], [3.99, -0.2, 7.0]]
    same(fn(chainrule, chainrule.tensor(data)), fn(torch, torch.tensor(data)))


def test_to_same_dtype_returns_self_and_cast_keeps_gradient():
    for lib in (chainrule, torch):
        t = lib.tensor([1.0, 2.0], requires_grad=True)
        assert t.to(lib.float32) is t
        assert t.to("cpu") is t
        d = t.double()
        assert d.dtype == lib.float64 and d.requires_grad and not d.is_leaf
        (d * d).sum().backward()
        assert t.grad.dtype == lib.float32
        assert_close(t.grad, np.array([2.0, 4.0], dtype=np.float32))


def test_clone_is_independent_and_differentiable():
    for lib in (chainrule, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        c = x.clone()
        assert c.requires_grad and c.grad_fn is not None
        assert not np.shares_memory(c.detach().numpy(), x.detach().numpy())
        (c * 3).sum().backward()
        assert_close(x.grad, np.array([3.0, 3.0], dtype=np.float32))
        plain = lib.tensor([1.0, 2.0])
        copy = plain.clone()
        copy[0] = 9.0
        assert plain[0].item() == 1.0
        assert lib.clone(plain).tolist() == [1.0, 2.0]


def test_contiguous():
    for lib in (chainrule, torch):
        t = lib.arange(6.0).reshape(2, 3)
        assert t.is_contiguous() and t.contiguous() is t
        tt = t.t()
        assert not tt.is_contiguous()
        c = tt.contiguous()
        assert c.is_contiguous()
        assert c.tolist() == tt.tolist()
        assert tt.stride() == (1, 3)


def test_is_floating_point_and_is_tensor():
    for lib in (chainrule, torch):
        assert lib.tensor([1.0]).is_floating_point()
        assert not lib.tensor([1]).is_floating_point()
        assert lib.is_tensor(lib.tensor([1]))
        assert not lib.is_tensor([1])
        assert lib.is_floating_point(lib.tensor([1.0], dtype=lib.float64))


# -- dtype promotion -------------------------------------------------------------------------

PROMOTION = [
    ("int*float-scalar", lambda L: L.tensor([1, 2]) * 2.5),
    ("float-scalar*int", lambda L: 2.5 * L.tensor([1, 2])),
    ("int+float-scalar", lambda L: L.tensor([1, 2], dtype=L.int32) + 0.5),
    ("int/int", lambda L: L.tensor([1, 2]) / L.tensor([2, 4])),
    ("int/int-scalar", lambda L: L.tensor([3, 5]) / 2),
    ("int//int", lambda L: L.tensor([3, -5]) // 2),
    ("int//float-scalar", lambda L: L.tensor([3, -5]) // 2.0),
    ("int%float-scalar", lambda L: L.tensor([3, -5]) % 2.5),
    ("int**float-scalar", lambda L: L.tensor([1, 4]) ** 0.5),
    ("float-scalar**int", lambda L: 2.0 ** L.tensor([1, 4])),
    ("f32+f64", lambda L: L.ones(2) + L.ones(2, dtype=L.float64)),
    ("f64+f32", lambda L: L.ones(2, dtype=L.float64) * L.ones(2)),
    ("f16+f32", lambda L: L.ones(2, dtype=L.float16) + L.ones(2)),
    ("int64+f32", lambda L: L.tensor([1, 2]) + L.ones(2)),
    ("int32+f16", lambda L: L.tensor([1, 2], dtype=L.int32) * L.ones(2, dtype=L.float16)),
    ("int32+int64", lambda L: L.tensor([1, 2], dtype=L.int32) + L.tensor([1, 2])),
    ("uint8+int8", lambda L: L.tensor([1, 2], dtype=L.uint8) + L.tensor([1, 2], dtype=L.int8)),
    ("bool+int", lambda L: L.tensor([True, False]) + L.tensor([1, 2], dtype=L.int32)),
    ("bool+int-scalar", lambda L: L.tensor([True, False]) + 3),
    ("bool*float-scalar", lambda L: L.tensor([True, False]) * 1.5),
    ("f32+f64-0d", lambda L: L.ones(2) + L.tensor(1.5, dtype=L.float64)),
    ("f16+f32-0d", lambda L: L.ones(2, dtype=L.float16) + L.tensor(1.5)),
    ("int+f64-0d", lambda L: L.tensor([1, 2]) + L.tensor(1.5, dtype=L.float64)),
    ("uint8+int64-0d", lambda L: L.tensor([1, 2], dtype=L.uint8) + L.tensor(3)),
    ("0d+0d", lambda L: L.tensor(1.5) + L.tensor(2.5, dtype=L.float64)),
    ("f32+np-f64-scalar", lambda L: L.ones(2) * np.float64(2.5)),
    ("maximum-mixed", lambda L: L.maximum(L.tensor([1, 5]), L.tensor([2.5, 3.0]))),
    ("where-mixed", lambda L: L.where(L.tensor([True, False]), L.tensor([1, 2]), L.tensor([0.5, 0.5]))),
    ("where-scalar", lambda L: L.where(L.tensor([True, False]), L.tensor([1.0, 2.0]), 0.0)),
    ("sum-int", lambda L: L.tensor([1, 2], dtype=L.int32).sum()),
    ("sum-bool", lambda L: L.tensor([True, True]).sum()),
    ("mean-f64", lambda L: L.ones(2, dtype=L.float64).mean()),
    ("exp-int", lambda L: L.tensor([1, 2]).exp()),
    ("sqrt-int", lambda L: L.tensor([1, 4]).sqrt()),
    ("sigmoid-int", lambda L: L.tensor([0, 1]).sigmoid()),
    ("neg-int", lambda L: -L.tensor([1, 2], dtype=L.int32)),
    ("abs-int", lambda L: L.tensor([-1, 2]).abs()),
    ("relu-int", lambda L: L.tensor([-1, 2]).relu()),
    ("log-int", lambda L: L.tensor([1, 2]).log()),
    ("sin-int32", lambda L: L.tensor([1, 2], dtype=L.int32).sin()),
    ("tanh-bool", lambda L: L.tensor([True, False]).tanh()),
    ("rsqrt-int", lambda L: L.tensor([1, 4]).rsqrt()),
    ("reciprocal-int", lambda L: L.tensor([1, 4]).reciprocal()),
    ("expm1-int", lambda L: L.tensor([1, 4]).expm1()),
    ("compare-mixed", lambda L: L.tensor([1, 2]) < L.tensor([1.5, 1.5])),
]


@pytest.mark.parametrize("label,fn", PROMOTION, ids=[p[0] for p in PROMOTION])
def test_dtype_promotion_matches_torch(label, fn):
    c, t = fn(chainrule), fn(torch)
    assert name(c.dtype) == name(t.dtype), f"{label}: {c.dtype} vs {t.dtype}"
    assert_close(c.to(chainrule.float64), t.to(torch.float64), rtol=1e-3, atol=1e-6)


def test_gradient_of_mixed_precision_op():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    y = chainrule.tensor(3.0, dtype=chainrule.float64, requires_grad=True)
    z = x * y
    assert z.dtype == chainrule.float32
    z.sum().backward()
    assert x.grad.dtype == chainrule.float32 and y.grad.dtype == chainrule.float64
    assert_close(x.grad, np.array([3.0, 3.0], dtype=np.float32))
    assert y.grad.item() == pytest.approx(3.0)


# -- repr ------------------------------------------------------------------------------------

REPRS = [
    "L.tensor([1., 2.])",
    "L.tensor(4.)",
    "L.tensor(-4.)",
    "L.tensor([1, 2])",
    "L.tensor(3)",
    "L.tensor([True, False])",
    "L.tensor([1.5, 2.25], dtype=L.float64)",
    "L.tensor([-1.5, 2.0])",
    "L.tensor([1., 2.], requires_grad=True)",
    "L.tensor([[1., 2.], [3., 4.]])",
    "L.tensor([[1.5, -2.25], [3., 4.]], dtype=L.float64)",
    "L.tensor([0.1, 2.5])",
    "L.tensor([1e-5, -1.0])",
    "L.tensor([1e10, 1.0])",
    "L.tensor([100.5, -0.25, 3.])",
    "L.tensor(0.1234567)",
    "L.zeros(0)",
    "L.zeros(2, 0)",
    "L.tensor([], dtype=L.int64)",
    "L.tensor([1, 2], dtype=L.int32)",
    "L.tensor([1., 2.], dtype=L.float16)",
    "L.tensor([float('nan'), float('inf'), -float('inf'), 1.0])",
    "L.arange(12).reshape(3, 4)",
    "L.ones(2, 2, 2)",
    "L.tensor([[True], [False]])",
    # PyTorch's layout: elements per line from the widest one, the dtype (and requires_grad)
    # on a new line when they do not fit in 80 columns, " ..." in summarized prints.
    "L.tensor([0.7261, 0.8437, 1.1649, 0.7876, 0.8441, 0.0756, -1.4268], dtype=L.float64)",
    "L.tensor([0.0413, -2.3250, -0.2188], dtype=L.float64, requires_grad=True)",
    "L.tensor([[0.2645, -0.3139, 1.458], [1.9603, 1.8016, 1.3151]], dtype=L.float64, requires_grad=True)",
    "L.arange(30).reshape(3, 10).double() / 7",
    "L.arange(1001) * 3",
    "L.arange(1001, dtype=L.float64) / 3",
    "L.arange(4000).reshape(40, 100).float()",
    "L.arange(5000).reshape(2, 5, 500) % 7 == 0",
    "L.tensor([1e-7, -8e-7, 2.5e-6, 1.1e-6, 9e-7, -3e-7, 4e-7], dtype=L.float64)",
    "L.zeros(2, 0, dtype=L.int64)",
    "L.tensor([[[1.5]]], requires_grad=True)",
    "L.tensor([1 + 2j, 3 - 1j])",
    "L.tensor(1 + 2j)",
    "L.tensor([[1.5 + 2j, -3 - 1.25j], [0j, 1e-5j]])",
    "L.tensor([1 + 2j, 3 - 1j], dtype=L.complex128, requires_grad=True)",
    "L.tensor([1e10 + 2j, 3 - 1j])",
    "L.arange(2000.).reshape(2, 1000) * (1 + 1j)",
    "L.tensor([float('nan') + 1j, float('inf') - 2j, -0.0 - 0.0j])",
    "L.zeros(0, dtype=L.complex64)",
    "L.tensor([[1 + 1j] * 12] * 2)",
]


@pytest.mark.parametrize("expression", REPRS)
def test_repr_like_torch(expression):
    expected = repr(eval(expression, {"L": torch})).replace("torch.", "chainrule.")
    assert repr(eval(expression, {"L": chainrule})) == expected
    assert str(eval(expression, {"L": chainrule})) == expected


@pytest.mark.parametrize("expression", ["L.tensor(2., requires_grad=True) * 2",
                                        "L.tensor([1., 2.], requires_grad=True).sum()",
                                        "L.tensor([1., 2.], requires_grad=True).exp()",
                                        "L.tensor([1., 2.], dtype=L.float64, requires_grad=True) + 1",
                                        "(L.tensor([[1., 2.]], requires_grad=True) @ L.ones(2, 3)).mean(1)",
                                        "L.nn.functional.mse_loss(L.tensor([1., 2.], requires_grad=True), L.ones(2))",
                                        "1 - L.tensor([1., 2.], requires_grad=True).unsqueeze(0).T[0]",
                                        "L.tensor([1 + 2j, 3 - 1j], requires_grad=True) * 2"])
def test_repr_with_grad_fn(expression):
    # The node names are PyTorch's (MulBackward0, RsubBackward1, MseLossBackward0 ...).
    expected = repr(eval(expression, {"L": torch})).replace("torch.", "chainrule.")
    assert repr(eval(expression, {"L": chainrule})) == expected


def test_repr_values():
    assert repr(chainrule.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(chainrule.tensor(4.0, requires_grad=True) * 1) == "tensor(4., grad_fn=<MulBackward0>)"
    assert repr(chainrule.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(chainrule.tensor([1.0], dtype=chainrule.float64)) == "tensor([1.], dtype=chainrule.float64)"


def test_data_is_a_tensor_outside_the_graph_as_in_pytorch():
    """The classic pre-no_grad idioms: ``w.data -= lr * w.grad.data`` and
    ``w.grad.data.zero_()``, ``m.weight.data.normal_()``."""
    w = chainrule.tensor([2.0], requires_grad=True)
    ((12.0 - w * 5.0) ** 2).sum().backward()
    data = w.data
    assert isinstance(data, chainrule.Tensor) and not data.requires_grad and data.grad_fn is None
    w.data -= 0.01 * w.grad.data
    w.grad.data.zero_()
    assert w.tolist() == pytest.approx([2.2]) and w.grad.tolist() == [0.0]
    assert w.requires_grad and w.is_leaf
    # Shares storage, but changes through it are not tracked: no version bump on w.
    version = w._version
    w.data.mul_(2)
    assert w.tolist() == pytest.approx([4.4]) and w._version == version
    w.data = chainrule.tensor([1.0, 2.0])
    assert w.shape == (2,) and w.requires_grad


# -- new_* factories, in-place spellings, type_as ---------------------------------------------

NEW_LIKE = [
    ("new_zeros-int", lambda L, x: x.new_zeros(4)),
    ("new_zeros-tuple", lambda L, x: x.new_zeros((2, 3))),
    ("new_ones-varargs", lambda L, x: x.new_ones(2, 2)),
    ("new_ones-dtype", lambda L, x: x.new_ones(3, dtype=L.int64)),
    ("new_full", lambda L, x: x.new_full((1, 3), 2.5)),
    ("new_tensor", lambda L, x: x.new_tensor([1, 2])),
    ("new_tensor-grad", lambda L, x: x.new_tensor([1.0], requires_grad=True)),
    ("new_empty-shape", lambda L, x: x.new_empty(2, 5).shape),
    ("type_as", lambda L, x: L.arange(3).type_as(x)),
]


@pytest.mark.parametrize("label,fn", NEW_LIKE, ids=[n[0] for n in NEW_LIKE])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_new_factories_take_the_dtype_of_self(label, fn, dtype):
    out_c = fn(chainrule, chainrule.ones(2, dtype=getattr(chainrule, dtype)))
    out_t = fn(torch, torch.ones(2, dtype=getattr(torch, dtype)))
    if isinstance(out_t, torch.Tensor):
        assert str(out_c.dtype).split(".")[-1] == str(out_t.dtype).split(".")[-1]
        assert out_c.requires_grad == out_t.requires_grad
        out_c, out_t = out_c.detach().numpy(), out_t.detach().numpy()
    np.testing.assert_array_equal(np.asarray(out_c), np.asarray(out_t))


INPLACE_UNARY = ["relu_", "sigmoid_", "tanh_", "exp_", "abs_", "neg_", "sin_", "cos_", "sign_"]


@pytest.mark.parametrize("name", INPLACE_UNARY)
def test_inplace_unary_matches_torch_with_gradients(name):
    from op_parity import check

    def run(L, w):
        h = w * 1.5
        out = getattr(h, name)()
        assert out is h
        return h * 2

    check(run, np.array([[-1.5, 0.3], [0.7, 2.0]]))


def test_inplace_sqrt_log_and_no_grad_path():
    from op_parity import check

    check(lambda L, w: (w * 1).sqrt_() + (w * 1).log_(), np.array([0.5, 2.0, 3.0]))
    x = chainrule.tensor([-1.0, 2.0])
    assert x.relu_() is x and x.tolist() == [0.0, 2.0]
    with pytest.raises(RuntimeError, match="leaf Variable"):
        chainrule.ones(2, requires_grad=True).exp_()


def test_inplace_view_ops():
    from op_parity import check

    def run(L, w):
        h = w * 1
        h.unsqueeze_(0)
        h.t_()
        h.squeeze_(1)
        h.unsqueeze_(-1).transpose_(0, 1)
        return h * L.arange(3.0, dtype=L.float64)

    check(run, np.array([1.0, 2.0, 3.0]))
    for L in (chainrule, torch):
        v = L.arange(6.0)
        v.unsqueeze_(0)
        assert tuple(v.shape) == (1, 6) and v.is_leaf
        with pytest.raises(RuntimeError, match="leaf Variable"):
            L.ones(2, requires_grad=True).unsqueeze_(0)


def test_out_argument_writes_into_the_given_tensor():
    import warnings

    for L in (chainrule, torch):
        x, y = L.ones(2, 3), L.arange(6.0).view(2, 3)
        result = L.empty(2, 3)
        assert L.add(x, y, out=result) is result
        assert result.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
        product = L.empty(0)                  # an empty out is resized silently
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            L.matmul(y, y.t(), out=product)
        assert tuple(product.shape) == (2, 2) and product[0, 1].item() == 14.0
        with pytest.warns(UserWarning, match="resized"):
            L.mul(x, 2, out=L.empty(5))
        values, indices = L.empty(0), L.empty(0, dtype=L.int64)
        L.max(y, 1, out=(values, indices))
        assert values.tolist() == [2.0, 5.0] and indices.tolist() == [2, 2]
        cat_out = L.empty(4, 3)
        L.cat([x, y], out=cat_out)
        assert cat_out[2:].tolist() == y.tolist()
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            L.exp(L.ones(2, requires_grad=True), out=L.empty(2))
        ones = L.empty(2)
        with L.no_grad():
            L.exp(L.zeros(2, requires_grad=True), out=ones)
        assert ones.tolist() == [1.0, 1.0]


def test_softmax_of_a_fully_masked_row_is_nan_without_a_warning():
    import warnings

    scores = np.array([[-np.inf, -np.inf], [0.0, -np.inf]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = chainrule.tensor(scores).softmax(-1)
        log_out = chainrule.tensor(scores).log_softmax(-1)
    expected = torch.tensor(scores)
    np.testing.assert_array_equal(out.numpy(), expected.softmax(-1).numpy())
    np.testing.assert_array_equal(log_out.numpy(), expected.log_softmax(-1).numpy())


@pytest.mark.parametrize("shape,wrap", [((7, 3), True), ((7, 3), False), ((3, 5), True), ((3, 3, 3), False)])
def test_fill_diagonal_like_torch(shape, wrap):
    c, t = chainrule.zeros(*shape), torch.zeros(*shape)
    assert c.fill_diagonal_(5.0, wrap=wrap) is c
    t.fill_diagonal_(5.0, wrap=wrap)
    np.testing.assert_array_equal(c.numpy(), t.numpy())


def test_casting_to_an_integer_or_bool_dtype_cuts_the_graph():
    results = []
    for lib in (torch, chainrule):
        x = lib.tensor([1.5, 2.5], requires_grad=True)
        assert not x.long().requires_grad and x.long().grad_fn is None
        assert not x.to(lib.bool).requires_grad
        (x.to(lib.int32).to(lib.float32) + x * x.bool().float()).sum().backward()
        results.append(x.grad)
    assert_close(results[1], results[0])


@pytest.mark.parametrize("data", ["[np.float64(1.0), np.float64(2.0)]", "[1.0, np.float64(2.0)]",
                                  "[[np.float64(1)], [2.0]]", "(np.float64(1.0),)", "[np.float32(1), 2.0]",
                                  "[np.int32(1), 2]", "[np.int32(1), 2.0]"])
def test_dtype_inferred_from_numpy_scalars_in_a_list(data):
    expected = torch.tensor(eval(data)).dtype
    assert str(chainrule.tensor(eval(data)).dtype).split(".")[-1] == str(expected).split(".")[-1]


@pytest.mark.parametrize("value, error", [("L.zeros(3)", RuntimeError), ("L.zeros(2, dtype=L.float64)", RuntimeError),
                                          ("[1.0, 2.0]", TypeError)])
def test_assigning_a_wrong_grad_raises_as_in_torch(value, error):
    for lib in (torch, chainrule):
        x = lib.zeros(2, requires_grad=True)
        with pytest.raises(error, match="assign"):
            x.grad = eval(value, {"L": lib})
        x.grad = lib.ones(2)
        assert x.grad.tolist() == [1.0, 1.0]
        x.grad = None
        assert x.grad is None


def test_old_api_variable_and_scalar_conversions():
    for lib in (torch, chainrule):
        x = lib.tensor([1.0, 2.0])
        v = lib.autograd.Variable(x, requires_grad=True)
        assert v is not x and v.requires_grad and v.is_leaf and not x.requires_grad
        assert isinstance(x, lib.autograd.Variable)
        with pytest.raises(ValueError, match="only one element tensors"):
            float(x)
        with pytest.raises(ValueError, match="only one element tensors"):
            int(x)
        assert float(lib.tensor([2.5])) == 2.5


def test_node_names_of_number_power_and_iteration():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    assert (2.0 ** x).grad_fn.name() == "PowBackward2"
    assert [t.grad_fn.name() for t in x] == ["UnbindBackward0"] * 2
    assert x.T is not x


def test_requires_grad_assignment_is_checked_as_in_torch():
    for lib in (torch, chainrule):
        x = lib.tensor([1.0], requires_grad=True)
        y = x * 2
        with pytest.raises(RuntimeError, match="leaf variables"):
            y.requires_grad = False
        with pytest.raises(RuntimeError, match="floating point"):
            lib.tensor([1]).requires_grad = True
        x.requires_grad = False
        assert not x.requires_grad


@pytest.mark.parametrize("data", ["np.array([1.0])", "np.array([1, 2])", "[np.float64(1.5)]", "[1, 2]",
                                  "np.array([1.0], dtype=np.float16)"])
def test_legacy_constructor_gives_the_default_float_type(data):
    assert torch.Tensor(eval(data)).dtype == torch.float32
    assert chainrule.Tensor(eval(data)).dtype == chainrule.float32


@pytest.mark.parametrize("args", ["2, 3", "3", "0", "L.Size([2, 2])", "np.int64(2)", "np.array(3)", "", "2, 3, 4"])
def test_legacy_constructor_takes_sizes(args):
    expected = torch.Tensor(*eval(f"[{args}]", {"L": torch, "np": np}))
    actual = chainrule.Tensor(*eval(f"[{args}]", {"L": chainrule, "np": np}))
    assert tuple(actual.shape) == tuple(expected.shape) and actual.dtype == chainrule.float32


@pytest.mark.parametrize("args,error", [("3.0", TypeError), ("True", TypeError), ("-1", RuntimeError),
                                        ("2, 2.0", TypeError)])
def test_legacy_constructor_errors(args, error):
    for L in (torch, chainrule):
        with pytest.raises(error):
            L.Tensor(*eval(f"[{args}]"))


def test_legacy_constructor_takes_a_cpu_device():
    assert chainrule.Tensor(2, device="cpu").shape == (2,)
    assert chainrule.Tensor([1.0], device=chainrule.device("cpu")).tolist() == [1.0]
    for L in (torch, chainrule):
        with pytest.raises(RuntimeError, match="legacy constructor expects device type: cpu but device type: meta"):
            L.Tensor(2, device="meta")


def test_lists_with_tensors_and_python_numbers_infer_torchs_dtype():
    for expression in ("[[L.ones(2)[0], 2.0]]", "[L.tensor(1.0, dtype=L.float64), 2.0]", "[L.tensor(1), 2]",
                       "[L.tensor(1), 2.5]"):
        expected = str(torch.tensor(eval(expression, {"L": torch})).dtype).split(".")[-1]
        assert str(chainrule.tensor(eval(expression, {"L": chainrule})).dtype).split(".")[-1] == expected


def test_deepcopy_does_not_take_the_hooks():
    import copy

    for lib in (torch, chainrule):
        p = lib.nn.Parameter(lib.ones(2))
        p.register_hook(lambda g: g * 10)
        q = copy.deepcopy(p)
        (q * 1).sum().backward()
        assert q.grad.tolist() == [1.0, 1.0]


def test_requires_grad_must_be_a_bool():
    for lib in (torch, chainrule):
        with pytest.raises(RuntimeError, match="must be a bool"):
            lib.ones(2).requires_grad = 1
