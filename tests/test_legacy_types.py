"""Legacy tensor types (FloatTensor, LongTensor ...) and Tensor.type() against PyTorch:
construction from data and from sizes, isinstance, the type names and conversions."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close

LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "ByteTensor", "CharTensor", "ShortTensor",
          "IntTensor", "LongTensor", "BoolTensor"]
NUMPY = {"float32": np.float32, "float64": np.float64, "float16": np.float16, "uint8": np.uint8,
         "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64, "bool": np.bool_}


def name(dtype):
    return str(dtype).split(".")[-1]


def same(c, t):
    """Same dtype name, shape and values."""
    assert isinstance(c, chainrule.Tensor)
    assert name(c.dtype) == name(t.dtype), (c.dtype, t.dtype)
    assert tuple(c.shape) == tuple(t.shape)
    np.testing.assert_array_equal(c.detach().numpy(), t.detach().numpy())


def both(array):
    """The same array as a chainrule and a torch tensor, dtype kept."""
    return chainrule.from_numpy(array.copy()), torch.from_numpy(array.copy())


def test_the_legacy_types_are_pytorchs():
    # Every top-level legacy type PyTorch has, but BFloat16Tensor (bfloat16 needs the optional ml_dtypes).
    expected = {n for n in dir(torch) if n.endswith("Tensor") and isinstance(getattr(torch, n), type)}
    assert expected - {"Tensor", "BFloat16Tensor"} == set(LEGACY)
    for n in LEGACY:
        cls = getattr(chainrule, n)
        assert name(cls.dtype) == name(getattr(torch, n).dtype)
        assert repr(cls).replace("chainrule.", "torch.") == repr(getattr(torch, n))
        assert cls.is_cuda is False and cls.is_sparse is False
        assert cls is not chainrule.Tensor


# -- construction ----------------------------------------------------------------------------

DATA = [
    [1, 2, 3],
    [1.7, -2.5, 0.0],
    (0, 1),
    [[1, 0], [3, 1]],
    [True, False],
    [],
    range(4),
    np.array([1.5, 2.0]),
    np.array([[1, 0]], dtype=np.int32),
    np.array(2.5),
]


@pytest.mark.parametrize("legacy", LEGACY)
@pytest.mark.parametrize("data", DATA, ids=repr)
def test_from_data(legacy, data):
    try:
        expected = getattr(torch, legacy)(data)
    except RuntimeError:  # out of range: ByteTensor([-2.5])
        with pytest.raises(RuntimeError, match="without overflow"):
            getattr(chainrule, legacy)(data)
        return
    same(getattr(chainrule, legacy)(data), expected)


@pytest.mark.parametrize("legacy, data", [
    ("ByteTensor", [300]), ("ByteTensor", [255.5, 256.0]), ("CharTensor", [128]), ("ShortTensor", [1e10]),
])
def test_out_of_range_data(legacy, data):
    with pytest.raises(RuntimeError):
        getattr(torch, legacy)(data)
    with pytest.raises(RuntimeError):
        getattr(chainrule, legacy)(data)


def test_double_tensor_keeps_float64_precision():
    c, t = chainrule.DoubleTensor([0.1, 1 / 3]), torch.DoubleTensor([0.1, 1 / 3])
    same(c, t)
    assert c.numpy()[0] == 0.1


def test_long_tensor_is_int64():
    same(chainrule.LongTensor([1, 2]), torch.LongTensor([1, 2]))
    assert chainrule.LongTensor([1, 2]).dtype == chainrule.int64


def test_from_a_list_of_tensors():
    same(chainrule.FloatTensor([chainrule.tensor(1.5), 2]), torch.FloatTensor([torch.tensor(1.5), 2]))


SIZES = [(2, 3), (4,), (0,), (2, 0), (2, 1, 3), (np.int64(2),)]


@pytest.mark.parametrize("legacy", LEGACY)
@pytest.mark.parametrize("sizes", SIZES, ids=repr)
def test_from_sizes(legacy, sizes):
    # PyTorch leaves the memory uninitialised; compare dtype and shape, and chainrule's zeros.
    c, t = getattr(chainrule, legacy)(*sizes), getattr(torch, legacy)(*sizes)
    assert name(c.dtype) == name(t.dtype)
    assert tuple(c.shape) == tuple(t.shape)
    assert not c.numpy().any()


@pytest.mark.parametrize("make", [
    lambda lib: lib.FloatTensor(lib.Size([2, 3])),
    lambda lib: lib.FloatTensor(lib.Size([])),
    lambda lib: lib.LongTensor(size=(3, 1)),
    lambda lib: lib.IntTensor(size=()),
    lambda lib: lib.FloatTensor(),
    lambda lib: lib.BoolTensor(),
    lambda lib: lib.FloatTensor(np.array(3)),  # a 0-d integer array is a size, as an int is
    lambda lib: lib.FloatTensor(2, device="cpu"),
    lambda lib: lib.FloatTensor([1.0], device=lib.device("cpu")),
], ids=["Size", "Size([])", "size=", "size=()", "no args", "BoolTensor()", "0-d int array", "device str",
        "device object"])
def test_sizes_spellings(make):
    c, t = make(chainrule), make(torch)
    assert name(c.dtype) == name(t.dtype)
    assert tuple(c.shape) == tuple(t.shape)


def test_a_tuple_is_data_and_a_size_is_sizes():
    same(chainrule.FloatTensor((2, 3)), torch.FloatTensor((2, 3)))
    assert tuple(chainrule.FloatTensor(chainrule.Size((2, 3))).shape) == (2, 3)


def test_shares_memory_with_an_ndarray_of_its_dtype():
    a = np.array([1.0, 2.0], dtype=np.float32)
    chainrule.FloatTensor(a)[0] = 7.0
    assert a[0] == 7.0
    b = np.array([1.0, 2.0])  # float64: converted, so a copy
    chainrule.FloatTensor(b)[0] = 7.0
    assert b[0] == 1.0


def test_a_tensor_of_its_dtype_is_aliased():
    c, t = chainrule.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    ca, ta = chainrule.FloatTensor(c), torch.FloatTensor(t)
    assert ca is not c and ta is not t
    assert ca.requires_grad and ta.requires_grad
    (ca * chainrule.tensor([3.0, 4.0])).sum().backward()
    (ta * torch.tensor([3.0, 4.0])).sum().backward()
    assert_close(c.grad, t.grad)
    with chainrule.no_grad():
        ca[0] = 9.0
    with torch.no_grad():
        ta[0] = 9.0
    assert_close(c, t)


@pytest.mark.parametrize("call", [
    lambda lib: lib.FloatTensor([1.0, 2.0], requires_grad=True),
    lambda lib: lib.FloatTensor(2, requires_grad=True),
    lambda lib: lib.FloatTensor([1.0], dtype=lib.float64),
    lambda lib: lib.FloatTensor(3.0),
    lambda lib: lib.FloatTensor(np.float64(3.0)),
    lambda lib: lib.FloatTensor(True),
    lambda lib: lib.FloatTensor(None),
    lambda lib: lib.FloatTensor({1: 2}),
    lambda lib: lib.FloatTensor(iter([1.0, 2.0])),
    lambda lib: lib.LongTensor("abc"),
    lambda lib: lib.FloatTensor(2, 3.0),
    lambda lib: lib.FloatTensor([2], 3),
    lambda lib: lib.FloatTensor(lib.tensor([1, 2])),
    lambda lib: lib.LongTensor(lib.tensor([1.0, 2.0])),
], ids=["requires_grad=", "sizes requires_grad=", "dtype=", "float", "numpy float", "bool", "None", "dict",
        "iterator", "str", "float size", "list and int", "int64 tensor", "float32 tensor"])
def test_constructor_type_errors(call):
    with pytest.raises(TypeError):
        call(torch)
    with pytest.raises(TypeError):
        call(chainrule)


@pytest.mark.parametrize("call", [
    lambda lib: lib.FloatTensor(-1),
    lambda lib: lib.FloatTensor(2, -3),
    lambda lib: lib.FloatTensor(2, device="meta"),
], ids=["negative", "negative second", "not cpu"])
def test_constructor_runtime_errors(call):
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError):
        call(chainrule)


# -- isinstance ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", list(NUMPY))
def test_isinstance_matches_dtype(dtype):
    c, t = both(np.zeros(3, dtype=NUMPY[dtype]))
    for n in LEGACY:
        assert isinstance(c, getattr(chainrule, n)) == isinstance(t, getattr(torch, n)), n
    assert isinstance(c, getattr(chainrule, c.type().split(".")[-1]))
    assert isinstance(c, chainrule.Tensor) and isinstance(t, torch.Tensor)


def test_isinstance_of_other_objects_and_tuples():
    c, t = chainrule.zeros(2), torch.zeros(2)
    assert isinstance(c, (chainrule.LongTensor, chainrule.FloatTensor))
    assert isinstance(t, (torch.LongTensor, torch.FloatTensor))
    assert not isinstance(c, chainrule.LongTensor) and not isinstance(t, torch.LongTensor)
    for obj in (np.zeros(2, np.float32), 3.0, [1.0], None):
        assert not isinstance(obj, chainrule.FloatTensor) and not isinstance(obj, torch.FloatTensor)
    assert isinstance(chainrule.nn.Parameter(chainrule.zeros(2)), chainrule.FloatTensor)
    assert isinstance(torch.nn.Parameter(torch.zeros(2)), torch.FloatTensor)
    assert not isinstance(chainrule.FloatTensor, chainrule.Tensor)


def test_legacy_types_are_not_tensor_subclasses():
    for lib in (chainrule, torch):
        assert not issubclass(lib.FloatTensor, lib.Tensor)
        assert not issubclass(lib.Tensor, lib.FloatTensor)
    assert type(chainrule.FloatTensor([1.0])) is chainrule.Tensor


# -- Tensor.type -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", list(NUMPY))
def test_type_name(dtype):
    c, t = both(np.zeros(2, dtype=NUMPY[dtype]))
    assert c.type().replace("chainrule.", "torch.") == t.type()
    assert c.type(None) == c.type(non_blocking=True) == c.type()


@pytest.mark.parametrize("target", LEGACY)
@pytest.mark.parametrize("source", ["float32", "float64", "int64", "int32", "bool"])
def test_type_converts(source, target):
    array = np.array([1.7, -2.5, 0.0, 3.0]).astype(NUMPY[source])
    c, t = both(array)
    same(c.type(getattr(chainrule, target)), t.type(getattr(torch, target)))
    same(c.type(f"torch.{target}"), t.type(f"torch.{target}"))
    same(c.type(f"chainrule.{target}"), t.type(f"torch.{target}"))
    dtype = getattr(torch, target).dtype
    same(c.type(getattr(chainrule, name(dtype))), t.type(dtype))


@pytest.mark.parametrize("spec", [
    lambda lib: lib.FloatTensor, lambda lib: "torch.FloatTensor", lambda lib: lib.float32,
    lambda lib: lib.Tensor, lambda lib: "torch.Tensor",
], ids=["class", "name", "dtype", "Tensor", "'torch.Tensor'"])
def test_type_to_own_type_is_the_same_tensor(spec):
    c, t = chainrule.zeros(2), torch.zeros(2)
    assert c.type(spec(chainrule)) is c
    assert t.type(spec(torch)) is t


def test_type_tensor_means_the_default_dtype():
    c, t = chainrule.tensor([1, 2]), torch.tensor([1, 2])
    same(c.type(chainrule.Tensor), t.type(torch.Tensor))
    same(c.type("torch.Tensor"), t.type("torch.Tensor"))


def test_type_round_trips_its_name():
    c = chainrule.tensor([1, 2], dtype=chainrule.int16)
    assert c.type(c.type()) is c
    assert chainrule.zeros(2).type(c.type()).dtype == chainrule.int16


def test_type_is_differentiable_to_floats():
    c, t = chainrule.tensor([1.5, -2.5], requires_grad=True), torch.tensor([1.5, -2.5], requires_grad=True)
    cd, td = c.type(chainrule.DoubleTensor), t.type(torch.DoubleTensor)
    same(cd, td)
    assert cd.requires_grad and td.requires_grad
    (cd * cd).sum().backward()
    (td * td).sum().backward()
    assert_close(c.grad, t.grad)
    cl, tl = c.type("torch.LongTensor"), t.type("torch.LongTensor")
    same(cl, tl)
    assert not cl.requires_grad and not tl.requires_grad


def test_type_arguments():
    c, t = chainrule.tensor([1.5]), torch.tensor([1.5])
    same(c.type(chainrule.DoubleTensor, True), t.type(torch.DoubleTensor, True))
    same(c.type(dtype=chainrule.IntTensor, non_blocking=True), t.type(dtype=torch.IntTensor, non_blocking=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns that async is deprecated
        same(c.type(chainrule.DoubleTensor, **{"async": True}), t.type(torch.DoubleTensor, **{"async": True}))


@pytest.mark.parametrize("spec, error", [
    (lambda lib: "DoubleTensor", ValueError),
    (lambda lib: "torch.float32", ValueError),
    (lambda lib: "torch.FooTensor", ValueError),
    (lambda lib: " torch.LongTensor", ValueError),
    (lambda lib: float, ValueError),
    (lambda lib: np.float64, ValueError),
    (lambda lib: lib.nn.Parameter, ValueError),
    (lambda lib: 3, TypeError),
], ids=["no prefix", "dtype name", "unknown", "space", "float", "numpy type", "Parameter", "int"])
def test_type_rejects(spec, error):
    with pytest.raises(error):
        torch.zeros(2).type(spec(torch))
    with pytest.raises(error, match="invalid type|dtype must be"):
        chainrule.zeros(2).type(spec(chainrule))


def test_type_rejects_unknown_keywords():
    for lib in (chainrule, torch):
        with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
            lib.zeros(2).type(lib.DoubleTensor, foo=1)
