"""A stand-in GPU, so that CI without one drives the whole device path.

:class:`DeviceArray` is a NumPy subclass: NumPy computes its values (so results on it equal
the CPU's bit for bit), but, as CuPy does, it refuses a host array (a plain ``np.ndarray``,
0-d ones included, or a list) among the operands of a ufunc or a NumPy function, and as a
value written into it; its ``flags`` are CuPy's three, and functions CuPy lacks are missing.
A host array reaching device code is therefore an error or a plain ``np.ndarray`` in a
result, and the tests see both.  Where NumPy answers a scalar (a full reduction, an element)
the stand-in answers a 0-d device array, as CuPy does, whose operators are NumPy's scalar
arithmetic (:class:`DeviceScalar`): that rounds ``**`` otherwise than the array ufunc, and
the stand-in's results equal the CPU's to the last bit.

:func:`stand_in` registers it as the ``cuda`` device (its namespace, moves, random numbers
drawn on the device from their own stream, erf), so ``.cuda()``, ``device="cuda"``,
``Module.to("cuda")`` and ``chainrule.cuda`` all run on it.
"""
from __future__ import annotations

import contextlib
import math
from types import SimpleNamespace

import numpy as np

from chainrule import backend

#: NumPy functions CuPy does not have (``set(dir(numpy)) - set(dir(cupy))``, CuPy 14).
CUPY_LACKS = frozenset({
    "asmatrix", "block", "bmat", "busday_count", "busday_offset", "char", "datetime_as_string",
    "einsum_path", "errstate", "frompyfunc", "fromregex", "geomspace", "geterr", "histogram_bin_edges",
    "info", "insert", "is_busday", "isnat", "matrix", "matvec", "memmap", "nanpercentile", "nanquantile",
    "ndenumerate", "nditer", "nested_iters", "polyder", "polydiv", "polyint", "rec", "recarray",
    "seterr", "spacing", "unstack", "vecdot", "vecmat", "vectorize",
})


class HostArrayError(TypeError):
    """A host array given to device code (CuPy raises TypeError: ``Unsupported type``)."""


def _refuse(values, what):
    for value in values:
        if type(value) is np.ndarray or isinstance(value, list):
            raise HostArrayError(f"Unsupported type {type(value)}: a host array given to {what} on the device")


def _refuse_nested(values, what):
    for value in values:
        if type(value) is np.ndarray:
            raise HostArrayError(f"Unsupported type {type(value)}: a host array given to {what} on the device")
        if isinstance(value, (list, tuple)):
            _refuse_nested(value, what)


def _plain(value):
    if isinstance(value, DeviceArray):
        return value.view(np.ndarray)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _wrap(value):
    if type(value) is np.ndarray:
        return value.view(DeviceArray)
    if isinstance(value, np.generic):  # CuPy answers 0-d arrays where NumPy answers scalars
        return np.asarray(value).view(DeviceScalar)
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        return type(value)(_wrap(v) for v in value)
    return value


class _Flags:
    """CuPy's ``ndarray.flags``: three of NumPy's."""

    def __init__(self, flags):
        self.c_contiguous = flags.c_contiguous
        self.f_contiguous = flags.f_contiguous
        self.owndata = flags.owndata


class DeviceArray(np.ndarray):
    """An array on the stand-in device (see the module docstring)."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _refuse(inputs, f"{ufunc.__name__}.{method}")
        out = kwargs.get("out")
        if out is not None:
            _refuse(out, f"{ufunc.__name__} (out=)")
            kwargs["out"] = tuple(_plain(o) for o in out)
        result = getattr(ufunc, method)(*[_plain(x) for x in inputs], **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        if func.__name__ in CUPY_LACKS:
            raise TypeError(f"CuPy has no {func.__name__}")
        _refuse_nested(args, func.__name__)
        _refuse_nested(kwargs.values(), func.__name__)
        return _wrap(func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()}))

    def __pow__(self, other):
        # NumPy's ``**`` on an exact ndarray takes shortcuts (``x ** 2`` is square(x), ``x **
        # 0.5`` sqrt(x)) that a subclass's goes without: the same operator, on the plain view.
        _refuse((other,), "__pow__")
        return _wrap(self.view(np.ndarray) ** _plain(other))

    def __getitem__(self, index):
        return _wrap(super().__getitem__(_plain(index)))

    def __setitem__(self, index, value):
        _refuse((value,), "__setitem__")
        super().__setitem__(_plain(index), value)

    @property
    def flags(self):
        return _Flags(self.view(np.ndarray).flags)

    def get(self):
        """The values on the host (CuPy's ``get``)."""
        return np.array(self.view(np.ndarray), copy=True)


def _scalar_operator(name):
    def operator(self, *others):
        if self.ndim:  # a view of a scalar that is no longer 0-d: an array's operator
            return getattr(DeviceArray, name)(self, *others)
        _refuse(others, name)
        return _wrap(getattr(self.view(np.ndarray)[()], name)(*_plain(others)))

    operator.__name__ = name
    return operator


class DeviceScalar(DeviceArray):
    """A 0-d device array that stands where NumPy answers a scalar: its Python operators are
    NumPy's scalar arithmetic, as the CPU computes them."""


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
              "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__", "__neg__", "__abs__",
              "__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
    setattr(DeviceScalar, _name, _scalar_operator(_name))
del _name


def to_device(array, index=0):
    """A copy of ``array`` on the stand-in device."""
    return np.array(_plain(array), copy=True).view(DeviceArray)


class _Namespace:
    """The stand-in's array namespace (CuPy's role): NumPy's names; creation functions make
    device arrays; ``asarray``/``array`` copy host data to the device, as CuPy's do."""

    ndarray = DeviceArray
    lib = SimpleNamespace(stride_tricks=SimpleNamespace(
        as_strided=lambda x, shape=None, strides=None: _wrap(  # CuPy's signature: no ``writeable``
            np.lib.stride_tricks.as_strided(_plain(x), shape, strides)),
        sliding_window_view=lambda x, *args, **kwargs: _wrap(
            np.lib.stride_tricks.sliding_window_view(_plain(x), *args, **kwargs))))

    def __getattr__(self, name):
        if name in CUPY_LACKS or name == "random":  # random numbers come through the generator seam
            raise AttributeError(f"the stand-in device's namespace has no '{name}'")
        value = getattr(np, name)
        if name in _CREATION:
            def create(*args, **kwargs):
                return _wrap(value(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()}))

            create.__name__ = name
            return create
        return value


_CREATION = {"array", "asarray", "ascontiguousarray", "zeros", "ones", "empty", "full", "arange", "eye",
             "identity", "linspace", "logspace", "tri", "indices", "fromiter", "frombuffer", "triu_indices",
             "tril_indices", "diag_indices"}

namespace = _Namespace()


class Sampler:
    """Random numbers drawn on the stand-in device: NumPy's PCG64 from its own seed stream
    (a device's stream differs from the CPU's, as CuPy's does), handed back as device arrays."""

    def __init__(self, seed, index=0):
        self._rng = np.random.Generator(np.random.PCG64([seed, 0x6465766963650]))

    def __getattr__(self, name):
        draw = getattr(self._rng, name)

        def on_device(*args, **kwargs):
            # (CuPy's normal and uniform take a dtype, NumPy's do not)
            dtype = kwargs.pop("dtype") if name in ("normal", "uniform") and "dtype" in kwargs else None
            drawn = np.asarray(draw(*_plain(args), **kwargs))
            return to_device(drawn if dtype is None else drawn.astype(dtype))

        return on_device


def _erf(a):
    """erf on the device, by the CPU's own means (SciPy's when installed), so that values match."""
    try:
        from scipy.special import erf
    except ImportError:
        return _wrap(np.vectorize(math.erf, otypes=[a.dtype])(a.view(np.ndarray)))
    return _wrap(erf(a.view(np.ndarray)))


def make_backend():
    """The stand-in as a :class:`chainrule.backend.DeviceBackend` named ``cuda``."""
    return backend.DeviceBackend(
        name="cuda", namespace=namespace, array_type=DeviceArray, to_device=to_device,
        to_host=lambda array: np.array(array.view(np.ndarray), copy=True),
        device_name=lambda index: "chainrule stand-in device",
        generator=lambda seed, index: Sampler(seed, index), special={"erf": _erf},
        fuse=lambda function: function,  # the fused chains run as written (CuPy's fallback on NumPy)
    )


@contextlib.contextmanager
def stand_in():
    """The stand-in device registered as ``cuda`` for the duration of the block."""
    previous = backend.register_device(make_backend())
    try:
        yield
    finally:
        backend.unregister_device("cuda")
        if previous is not None:
            backend.register_device(previous)


@contextlib.contextmanager
def no_gpu(reason="CUDA is not available: CuPy found no usable GPU (a test without one)"):
    """The ``cuda`` device unavailable for the duration of the block, whatever this machine
    has: its backend unregistered and CuPy's loader answering ``reason``."""
    previous = backend.registered_backend("cuda")
    backend.unregister_device("cuda")
    loader, failure = backend._cuda_loader, backend._cuda_failure

    def fail():
        raise RuntimeError(reason)

    backend.bind_cuda_loader(fail)
    backend._cuda_failure = None
    try:
        yield
    finally:
        backend.bind_cuda_loader(loader)
        backend._cuda_failure = failure
        if previous is not None:
            backend.register_device(previous)
