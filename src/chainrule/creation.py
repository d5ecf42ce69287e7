"""Tensor factories: tensor, as_tensor, from_numpy, zeros/ones/full/empty (and _like),
arange, linspace, eye, rand/randn/randint/normal.

Every factory takes ``device=`` (None: the default device; ``*_like``: the input's) and
makes its array there; random ones draw from that device's generator."""
from __future__ import annotations

import operator
import warnings
from typing import Any

import numpy as np

from . import dtypes as _dt
from .autograd import observe
from .autograd.function import broadcast_shape
from .backend import build_on, get_array_module, resolve_device, to_device
from .mt19937 import along_memory, visiting_order
from .ops.sampling import (
    BinomialDraw, DirichletGrad, Multinomial, PoissonDraw, Sample, SampleDirichlet, StandardGamma, StandardGammaGrad,
)
from .ops.spacing import linspace_values
from .random import Generator, _generator
from .tensor import Tensor, _make, _to_array


def _finish(array: Any, requires_grad: bool) -> Tensor:
    out = array if isinstance(array, Tensor) else _make(array)
    if requires_grad:
        if out._data.dtype.kind not in "fcV":  # (PyTorch's factories word it so)
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        out.requires_grad_(True)
    return out


def _draw(method: str, generator: Generator | None, device: Any, dtype: Any, *args: Any) -> Tensor:
    """``generator.<method>(*args)`` as ``dtype``, drawn by the Sample op (see ops.sampling)."""
    return Sample.apply(method, generator, device, dtype, *args)


def _size(size: tuple, keyword: Any = None) -> tuple:
    """The shape given as ``f(2, 3)``, ``f((2, 3))`` or ``f(size=(2, 3))``."""
    if keyword is not None:
        if size:
            raise TypeError("got multiple values for argument 'size'")
        size = tuple(keyword) if isinstance(keyword, (tuple, list)) else (keyword,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, (int, np.integer)):
            raise TypeError(f"size must be a sequence of ints, got {type(n).__name__}")
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(size)}")
    return tuple(int(n) for n in size)


def _float(dtype: Any) -> np.dtype:
    return _dt.to_numpy(dtype) if dtype is not None else _dt.get_default_dtype().numpy


def tensor(data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python floats become the default dtype, ints int64)."""
    where = resolve_device(device) if device is not None or not isinstance(data, Tensor) else data.device
    array = _to_array(data, dtype)
    out = _finish(to_device(array, where), requires_grad)
    if observe.cuts:
        sources = _needing_grad(data)
        if sources:
            observe.notify_cut("tensor", sources, out)
    return out


def _needing_grad(data: Any) -> tuple:
    """The tensors that require grad in ``data`` (a tensor, or nested lists of them): what
    ``tensor(data)`` copies out of the graph."""
    if isinstance(data, Tensor):
        return (data,) if data.requires_grad else ()
    if isinstance(data, (list, tuple)):
        return tuple(t for item in data for t in _needing_grad(item))
    return ()


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or Tensor when it can."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    where = resolve_device(device)
    if (type(data) is np.ndarray and where.type == "cpu"
            and (dtype is None or _dt.to_numpy(dtype) == data.dtype)):
        return _make(data)
    return tensor(data, dtype=dtype, device=where)


_UNSET: Any = object()


def asarray(obj: Any, *, dtype: Any = None, device: Any = None, copy: bool | None = None,
            requires_grad: Any = _UNSET) -> Tensor:
    """``obj`` as a tensor, sharing its memory where no conversion is needed (a tensor comes
    back itself; a NumPy array or buffer is aliased), as PyTorch's: ``copy=True`` always
    copies, ``copy=False`` refuses to.  A tensor's ``requires_grad`` is kept unless given."""
    if isinstance(obj, Tensor):
        if requires_grad is _UNSET:
            if obj.requires_grad:
                warnings.warn("torch.asarray: unspecified requires_grad now defaults to obj.requires_grad instead of "
                              "False. Pass requires_grad=False explicitly to get the old behavior and silence this "
                              "warning.", UserWarning, stacklevel=2)
            requires_grad = obj.requires_grad
        same = (dtype is None or _dt.to_numpy(dtype) == obj._data.dtype) and (
            device is None or resolve_device(device) == obj.device)
        if same and not copy:
            out = obj if bool(requires_grad) == obj.requires_grad else obj.detach()
        elif copy is False:
            raise ValueError(f"can't alias tensor with dtype '{obj.dtype.scalar_name}' into dtype "
                             f"'{_dt.resolve_type(dtype).scalar_name}'.")
        else:
            out = obj.to(dtype=dtype, device=device, copy=True)
    else:
        requires_grad = False if requires_grad is _UNSET else requires_grad
        array = obj if type(obj) is np.ndarray else None
        if array is None and not isinstance(obj, (list, tuple, int, float, complex, bool, np.generic)):
            try:
                array = np.asarray(memoryview(obj))  # (the buffer protocol: bytearray, array.array ...)
            except TypeError:
                array = None
        if array is not None and not copy and (dtype is None or _dt.to_numpy(dtype) == array.dtype) and (
                device is None or resolve_device(device).type == "cpu"):
            out = from_numpy(array)
        elif copy is False:
            if array is None:
                raise ValueError("can't alias arbitrary sequence into a tensor.")
            raise ValueError(f"can't alias tensor with dtype '{_dt.scalar_name(array.dtype)}' into dtype "
                             f"'{_dt.resolve_type(dtype).scalar_name}'.")
        else:
            out = tensor(array if array is not None else obj, dtype=dtype, device=device)
    if requires_grad and not out.requires_grad:
        out.requires_grad_()
    return out


def frombuffer(buffer: Any, *, dtype: Any, count: int = -1, offset: int = 0, requires_grad: bool = False) -> Tensor:
    """A 1-D tensor over the bytes of ``buffer`` (anything with the buffer protocol), sharing
    its memory, as PyTorch's: ``count`` elements (-1: all) from byte ``offset``."""
    view = memoryview(buffer)
    if view.readonly:
        warnings.warn("The given buffer is not writable, and PyTorch does not support non-writable tensors. This "
                      "means you can write to the underlying (supposedly non-writable) buffer using the tensor. You "
                      "may want to copy the buffer to protect its data or make it writable before converting it to "
                      "a tensor. This type of warning will be suppressed for the rest of this program.",
                      UserWarning, stacklevel=2)
    kind = _dt.to_numpy(dtype)
    available = view.nbytes - offset
    if offset < 0 or offset >= view.nbytes:
        raise ValueError(f"both buffer length ({view.nbytes}) and offset ({offset}) must be greater than 0")
    if count > 0 and count * kind.itemsize > available:
        raise ValueError(f"requested buffer length ({count} * {kind.itemsize} bytes) after offset ({offset} bytes) "
                         f"must not be greater than actual buffer length ({view.nbytes} bytes)")
    if count <= 0 and available % kind.itemsize:
        raise ValueError(f"buffer length ({available} bytes) after offset ({offset} bytes) must be a multiple of "
                         f"element size ({kind.itemsize})")
    out = _make(np.frombuffer(view, dtype=kind, count=count, offset=offset))
    return out.requires_grad_() if requires_grad else out


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    _dt.from_numpy(array.dtype)
    return _make(array)


def zeros(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    shape, kind = _size(sizes, size), _float(dtype)
    return _finish(build_on(resolve_device(device), lambda xp: xp.zeros(shape, dtype=kind)), requires_grad)


def ones(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    shape, kind = _size(sizes, size), _float(dtype)
    return _finish(build_on(resolve_device(device), lambda xp: xp.ones(shape, dtype=kind)), requires_grad)


def empty(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False, **_: Any) -> Tensor:
    shape, kind = _size(sizes, size), _float(dtype)
    return _finish(build_on(resolve_device(device), lambda xp: xp.empty(shape, dtype=kind)), requires_grad)


def full(size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = _dt.bool
        elif isinstance(fill_value, int):
            dtype = _dt.int64
        elif isinstance(fill_value, complex):
            dtype = _dt.default_complex_dtype()
    shape, kind = _size((size,) if isinstance(size, int) else (size,)), _float(dtype)
    try:
        return _finish(build_on(resolve_device(device), lambda xp: xp.full(shape, fill_value, dtype=kind)),
                       requires_grad)
    except OverflowError:
        raise RuntimeError(f"value cannot be converted to type {kind.name}_t without overflow") from None


def _like(input: Tensor, dtype: Any, device: Any) -> tuple:
    """The shape, dtype and device of a ``*_like`` result: the input's unless told otherwise."""
    where = input.device if device is None else resolve_device(device)
    return input._data.shape, (_dt.to_numpy(dtype) if dtype is not None else input._data.dtype), where


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False, **_: Any) -> Tensor:
    shape, kind, where = _like(input, dtype, device)
    return _finish(build_on(where, lambda xp: xp.zeros(shape, dtype=kind)), requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False, **_: Any) -> Tensor:
    shape, kind, where = _like(input, dtype, device)
    return _finish(build_on(where, lambda xp: xp.ones(shape, dtype=kind)), requires_grad)


def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False, **_: Any) -> Tensor:
    shape, kind, where = _like(input, dtype, device)
    return _finish(build_on(where, lambda xp: xp.empty(shape, dtype=kind)), requires_grad)


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False, **_: Any) -> Tensor:
    shape, kind, where = _like(input, dtype, device)
    return _finish(build_on(where, lambda xp: xp.full(shape, fill_value, dtype=kind)), requires_grad)


def _strided_like(input: Tensor, kind: Any, where: Any, generator: Generator | None, method: str,
                  *args: Any) -> Tensor | None:
    """A random ``*_like`` of a transposed view (a dense permutation of a block) as PyTorch's:
    its ``empty_like`` keeps the view's strides and the fill draws along that memory (a normal
    fill element by element, as for any non-contiguous tensor).  None where the result is
    contiguous: the ordinary draw is PyTorch's there."""
    if where.type != "cpu" or input._view_of is None or type(input._data) is not np.ndarray:
        return None
    order = visiting_order(input._data)
    if order is None:
        return None
    rng = _generator(generator)
    if method == "normal":
        draw = lambda shape: rng.normal(0.0, 1.0, shape, dtype=kind, contiguous=False)  # noqa: E731
    else:
        draw = lambda shape: np.asarray(getattr(rng, method)(*args, shape, dtype=kind), dtype=kind)  # noqa: E731
    return _make(along_memory(input._data.shape, order, draw))


def rand_like(input: Tensor, *, dtype: Any = None, device: Any = None, generator: Generator | None = None,
              requires_grad: bool = False, **_: Any) -> Tensor:
    _, kind, where = _like(input, dtype, device)
    strided = _strided_like(input, kind, where, generator, "uniform", 0.0, 1.0)
    if strided is not None:
        return strided.requires_grad_(requires_grad)
    return rand(*input._data.shape, dtype=kind, device=where, generator=generator, requires_grad=requires_grad)


def randint_like(input: Tensor, low: int, high: int | None = None, *, dtype: Any = None, device: Any = None,
                 generator: Generator | None = None, requires_grad: bool = False, **_: Any) -> Tensor:
    """Integers in [low, high) (``randint_like(x, high)``: from 0) shaped like ``input``, in its dtype."""
    _, kind, where = _like(input, dtype, device)
    if high is None:
        low, high = 0, low
    strided = _strided_like(input, kind, where, generator, "integers", low, high)
    if strided is not None:
        return strided.requires_grad_(requires_grad)
    return randint(low, high, input._data.shape, dtype=kind, device=where, generator=generator,
                   requires_grad=requires_grad)


def randn_like(input: Tensor, *, dtype: Any = None, device: Any = None, generator: Generator | None = None,
               requires_grad: bool = False, **_: Any) -> Tensor:
    _, kind, where = _like(input, dtype, device)
    strided = _strided_like(input, kind, where, generator, "normal")
    if strided is not None:
        return strided.requires_grad_(requires_grad)
    return randn(*input._data.shape, dtype=kind, device=where, generator=generator, requires_grad=requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if dtype is None:
        dtype = _dt.int64 if all(isinstance(v, (int, np.integer)) for v in values) else _dt.get_default_dtype()
    kind = _dt.to_numpy(dtype)
    if kind == np.int64 and not all(isinstance(v, (int, np.integer)) for v in values):
        # PyTorch computes an int64 range in int64: the bounds and the step truncated first.
        values = [int(v) for v in values]
        if values[2] == 0:
            raise ValueError("step must be nonzero")
    return _finish(build_on(resolve_device(device), lambda xp: xp.arange(*values).astype(kind)), requires_grad)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``steps`` values evenly spaced from ``start`` to ``end`` (both included), rounded as
    PyTorch's CPU kernel rounds them."""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    start, end = (v.item() if isinstance(v, Tensor) else v for v in (start, end))
    kind = _float(dtype)
    if kind == np.bool_:
        raise _dt.not_implemented("linspace_cpu", kind)
    if dtype is None and (isinstance(start, complex) or isinstance(end, complex)):
        kind = np.result_type(kind, np.complex64)
    values = linspace_values(start, end, steps, kind)
    return _finish(build_on(resolve_device(device), lambda xp: xp.asarray(values)), requires_grad)


def logspace(start: float, end: float, steps: int, base: float = 10.0, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    kind = _float(dtype)
    if kind == np.bool_:
        raise _dt.not_implemented("logspace_cpu", kind)
    return _finish(build_on(resolve_device(device), lambda xp: xp.logspace(start, end, steps, base=base).astype(kind)),
                   requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    kind = _float(dtype)
    return _finish(build_on(resolve_device(device), lambda xp: xp.eye(n, m, dtype=kind)), requires_grad)


def rand(*sizes: Any, size: Any = None, generator: Generator | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    return _finish(_draw("random", generator, resolve_device(device), _float(dtype), _size(sizes, size)), requires_grad)


def randn(*sizes: Any, size: Any = None, generator: Generator | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    return _finish(_draw("standard_normal", generator, resolve_device(device), _float(dtype), _size(sizes, size)),
                   requires_grad)


def randint(low: int, high: Any = None, size: Any = None, *, generator: Generator | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Integers in [low, high)."""
    if size is None:
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    kind = _dt.to_numpy(dtype) if dtype is not None else np.dtype(np.int64)
    return _finish(_draw("integers", generator, resolve_device(device), kind, low, high, _size(tuple(size))),
                   requires_grad)


def randperm(n: int, *, generator: Generator | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    kind = _dt.to_numpy(dtype) if dtype is not None else np.dtype(np.int64)
    return _finish(_draw("permutation", generator, resolve_device(device), kind, n), requires_grad)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Generator | None = None, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """Normal samples with the given mean and std (scalars with ``size``, or tensors: on their
    device)."""
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    where = tensors[0].device if tensors and device is None else resolve_device(device)
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if isinstance(std, Tensor) and bool((s < 0).any()):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if not isinstance(std, Tensor) and std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    shape = _size(tuple(size)) if size is not None else broadcast_shape(np.shape(m), np.shape(s))
    kind = (_dt.to_numpy(dtype) if dtype is not None else
            (mean._data.dtype if isinstance(mean, Tensor) else std._data.dtype if isinstance(std, Tensor) else _float(None)))
    # (tensor means and standard deviations go to the op as tensors: a plan reads them at each call)
    return _finish(_draw("normal", generator, where, kind, mean, std, shape), requires_grad)


def bernoulli(input: Tensor, p: Any = None, *, generator: Generator | None = None) -> Tensor:
    probability = input if p is None else p
    if p is None and input._data.dtype.kind not in "fcV":
        raise _dt.not_implemented("bernoulli_tensor_cpu_p_", input._data.dtype)
    return _draw("bernoulli", generator, input.device, input._data.dtype, probability, input._data.shape)


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    """A Poisson draw for each rate in ``input`` (PyTorch's sampler and stream)."""
    return PoissonDraw.apply(input, generator)


def binomial(count: Tensor, prob: Tensor, generator: Generator | None = None) -> Tensor:
    """A Binomial(count, prob) draw for each element (PyTorch's sampler and stream)."""
    return BinomialDraw.apply(count, prob, generator)


def _standard_gamma(input: Tensor, generator: Generator | None = None) -> Tensor:
    """A Gamma(alpha, 1) draw for each alpha in ``input`` (PyTorch's sampler and stream),
    differentiable in ``input`` by implicit reparameterisation."""
    return StandardGamma.apply(input, generator)


def _standard_gamma_grad(input: Tensor, output: Tensor) -> Tensor:
    """d output / d input for Gamma(input, 1) draws ``output``, as PyTorch approximates it."""
    return StandardGammaGrad.apply(input, output)


def _sample_dirichlet(input: Tensor, generator: Generator | None = None) -> Tensor:
    """A Dirichlet draw for each row (last dim) of concentrations in ``input`` (PyTorch's
    sampler and stream; no gradient, as PyTorch's: ``Dirichlet.rsample`` has one)."""
    return SampleDirichlet.apply(input, generator)


def _dirichlet_grad(x: Tensor, alpha: Tensor, total: Tensor) -> Tensor:
    """The reparameterised gradient of Beta(alpha, total - alpha) draws ``x`` in alpha,
    divided by ``1 - x``, as PyTorch approximates it (what Dirichlet rsample's backward uses)."""
    return DirichletGrad.apply(x, alpha, total)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator: Generator | None = None) -> Tensor:
    """Indices drawn from each row's categorical distribution (an op: see ops.sampling)."""
    _check_multinomial(input, num_samples, replacement)
    return Multinomial.apply(input, num_samples, replacement, generator)


def _check_multinomial(input: Tensor, num_samples: Any, replacement: bool) -> None:
    """PyTorch's checks of the weights and the count, in its order, with its messages."""
    try:
        num_samples = operator.index(num_samples)
    except TypeError:
        raise TypeError(f"multinomial(): argument 'num_samples' (position 2) must be int, not "
                        f"{type(num_samples).__name__}") from None
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{input.dtype.scalar_name}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    categories = input.shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    rows = input._data if input.dim() == 2 else input._data[None]
    xp = get_array_module(rows)
    if not replacement or num_samples == 1:  # (PyTorch's fast path checks the whole tensor at once)
        if not categories:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                               "identity.")
        if not bool(((rows < np.inf) & (rows >= 0)).all()):  # (NaN fails both)
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if bool((rows.sum(axis=1) == 0).any()):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        return
    # The sampling kernel checks row by row, entry by entry, then the row's sum.
    negative, unbounded = ~(rows >= 0), ~xp.isfinite(rows)
    for row, neg, inf in zip(rows, negative, unbounded):
        bad = neg | inf
        if bool(bad.any()):
            first = int(xp.argmax(bad))
            raise RuntimeError("invalid multinomial distribution (encountering probability entry "
                               + ("< 0)" if bool(neg[first]) else "= infinity or NaN)"))
        if not bool(row.sum() > 0):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
