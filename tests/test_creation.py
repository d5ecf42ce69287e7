"""chainrule.creation against PyTorch: the dtype a new tensor takes from Python data."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule


def test_python_floats_take_a_float64_default_dtype_without_a_float32_round_trip():
    values = [0.3, -0.7, 1.1]
    for lib in (torch, chainrule):
        previous = lib.get_default_dtype()
        lib.set_default_dtype(lib.float64)
        try:
            made = [lib.tensor(values), lib.tensor(values[0]), lib.Tensor(values), lib.as_tensor(values),
                    lib.tensor([np.float32(0.3)])]
            if lib is torch:
                expected = [(str(t.dtype).split(".")[-1], t.tolist()) for t in made]
            else:
                actual = [(str(t.dtype).split(".")[-1], t.tolist()) for t in made]
        finally:
            lib.set_default_dtype(previous)
    assert actual == expected


SIZE_KEYWORD = [
    ("zeros", lambda L: L.zeros(size=(2, 3))),
    ("ones", lambda L: L.ones(size=[4])),
    ("empty", lambda L: L.empty(size=(2, 0, 3))),
    ("rand", lambda L: L.rand(size=(2, 2), generator=L.Generator().manual_seed(3))),
    ("randn", lambda L: L.randn(size=(3,), generator=L.Generator().manual_seed(3), dtype=L.float64)),
    ("new_zeros", lambda L: L.ones(2, dtype=L.float64).new_zeros(size=(1, 2))),
    ("new_ones", lambda L: L.ones(2, dtype=L.int32).new_ones(size=(3,))),
    ("new_empty", lambda L: L.ones(2).new_empty(size=(2, 1)).zero_()),
]


@pytest.mark.parametrize("name,make", SIZE_KEYWORD, ids=[c[0] for c in SIZE_KEYWORD])
def test_the_shape_by_its_keyword_size(name, make):
    expected, actual = make(torch), make(chainrule)
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert tuple(actual.shape) == tuple(expected.shape)
    # (the scalar normal path's log/sin/cos round as libm's, not PyTorch's: 1 ulp in float64)
    np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-15, atol=0)


def test_the_shape_twice_is_an_error():
    with pytest.raises(TypeError, match="multiple values for argument 'size'"):
        chainrule.zeros(2, size=(2,))


def test_linspace_rounds_as_pytorch_value_for_value():
    rng = np.random.default_rng(11)
    for _ in range(200):
        start, end = rng.standard_normal() * 10.0 ** rng.integers(-3, 3), rng.standard_normal() * 3
        steps = int(rng.integers(1, 400))
        for name in ("float32", "float64", "int64"):
            expected = torch.linspace(start, end, steps, dtype=getattr(torch, name)).numpy()
            actual = chainrule.linspace(start, end, steps, dtype=getattr(chainrule, name)).numpy()
            np.testing.assert_array_equal(actual, expected, err_msg=f"{start}, {end}, {steps}, {name}")


@pytest.mark.parametrize("make", [
    lambda L: L.linspace(0, 1, 11), lambda L: L.linspace(-1, 1, 100000), lambda L: L.linspace(3, 3, 4),
    lambda L: L.linspace(0, 1, 0), lambda L: L.linspace(2, 5, 1), lambda L: L.linspace(0, 10, 7, dtype=L.int32),
    lambda L: L.linspace(L.tensor(0.5), L.tensor(2.0), 5), lambda L: L.linspace(0, 1j, 3),
    lambda L: L.linspace(0.0001, 0.02, 1000, dtype=L.float64),
])
def test_linspace_forms(make):
    expected, actual = make(torch), make(chainrule)
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_array_equal(actual.numpy(), expected.numpy())


def test_asarray_aliases_what_it_can_and_copies_when_asked():
    results = []
    for lib in (torch, chainrule):
        array = np.ones(3, dtype=np.float32)
        aliased, copied = lib.asarray(array), lib.asarray(array, copy=True)
        array[0] = 7.0
        plain = lib.ones(2)
        leaf = lib.ones(2, requires_grad=True)
        with pytest.warns(UserWarning, match="unspecified requires_grad now defaults to obj.requires_grad"):
            same = lib.asarray(leaf)
        converted = lib.asarray(leaf, dtype=lib.float64)
        errors = []
        for refused in (lambda: lib.asarray([1, 2], copy=False), lambda: lib.asarray(array, dtype=lib.float64, copy=False),
                        lambda: lib.asarray(plain, dtype=lib.float64, copy=False)):
            with pytest.raises(ValueError) as raised:
                refused()
            errors.append(str(raised.value))
        dtypes = [str(lib.asarray(data).dtype).split(".")[-1] for data in ([1.5, 2], [1, 2], np.float64(2))]
        results.append((aliased.tolist(), copied.tolist(), lib.asarray(plain) is plain, same is leaf,
                        converted.requires_grad, type(converted.grad_fn).__name__, dtypes,
                        lib.asarray(array, requires_grad=True).requires_grad, errors))
    assert results[0] == results[1]


def test_frombuffer_shares_the_buffers_bytes():
    for lib in (torch, chainrule):
        buffer = bytearray(b"\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00")
        whole = lib.frombuffer(buffer, dtype=lib.int32)
        buffer[0] = 9
        assert whole.tolist() == [9, 2, 3]
        assert lib.frombuffer(buffer, dtype=lib.int32, count=1, offset=4).tolist() == [2]
        with pytest.raises(ValueError, match="must be a multiple of element size"):
            lib.frombuffer(buffer, dtype=lib.int32, offset=2)
