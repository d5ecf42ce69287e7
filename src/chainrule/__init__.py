"""chainrule: backpropagation as a library.

NumPy tensors with reverse-mode automatic differentiation and PyTorch's API, so that
``import chainrule as torch`` runs code written for PyTorch's common API::

    import chainrule as torch
    w = torch.tensor([2.0], requires_grad=True)
    loss = (torch.tensor([12.0]) - w * torch.tensor([5.0])) ** 2
    loss.backward()
    w.grad            # tensor([-20.])
"""
from __future__ import annotations

import builtins as _builtins
import importlib as _importlib
from typing import Any


from . import autograd, backend
from . import upcalls as _upcalls
from .version import __version__
from .autograd.anomaly import is_anomaly_check_nan_enabled, is_anomaly_enabled
from .autograd.grad_mode import (
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled,
)
from .backend import device, get_default_device, set_default_device
from math import e, inf, nan, pi
from .creation import (
    arange, as_tensor, asarray, bernoulli, binomial, empty, empty_like, eye, from_numpy, frombuffer, full, full_like,
    linspace, logspace, multinomial, normal, ones, ones_like, poisson, rand, rand_like, randint, randint_like, randn,
    randn_like, randperm, tensor, zeros, zeros_like,
)
from .creation import _dirichlet_grad, _sample_dirichlet, _standard_gamma, _standard_gamma_grad  # noqa: F401
from .dtypes import (
    bfloat16, bool, cdouble, cfloat, channels_last, channels_last_3d, complex64, complex128, contiguous_format, double, dtype, finfo, float,
    float16, float32, float64, get_default_dtype, half, iinfo, int, int8, int16, int32, int64, layout, long,
    memory_format, preserve_format, set_default_dtype, short, sparse_coo, sparse_csr, strided, uint8,
)
from .switches import (
    are_deterministic_algorithms_enabled, get_float32_matmul_precision, get_num_interop_threads, get_num_threads,
    is_deterministic_algorithms_warn_only_enabled, set_float32_matmul_precision, set_num_interop_threads,
    set_num_threads, use_deterministic_algorithms,
)
from . import amp
from .amp import autocast, get_autocast_dtype, is_autocast_enabled
from . import functional as _functional
from .functional import *  # noqa: F401,F403  (the functional forms: chainrule.exp, chainrule.cat ...)
from . import composites as _composites
from .composites import *  # noqa: F401,F403  (forms PyTorch composes of others: addmm, kron, rot90 ...)
from . import bitwise as _bitwise
from .bitwise import *  # noqa: F401,F403  (bitwise_and ... bitwise_right_shift)
from .promotion import can_cast, promote_types, result_type
from . import complex_numbers as _complex_numbers
from .complex_numbers import *  # noqa: F401,F403  (real, imag, conj, angle, polar, complex, view_as_real ...)
from . import tensor_methods as _tensor_methods  # noqa: F401  (installs Tensor's methods)
from .random import Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .tensor import Size, Tensor
from . import calculus as _calculus  # noqa: F401  (autograd.functional, autograd.gradcheck)
from ._repr import get_printoptions, printoptions, set_printoptions


#: Subpackages loaded on first use, so that ``import chainrule`` stays light.
_LAZY = ("nn", "optim", "data", "utils", "viz", "datasets", "serialization", "cli", "linalg", "distributed",
         "multiprocessing", "onnx", "compiler", "debug", "_dynamo", "backends", "distributions", "testing", "special",
         "func", "jit", "fft", "sparse", "profiler", "cuda", "signal", "cpu")

#: Modules of top-level forms that ``import chainrule`` loads only on first use: module ->
#: (its names at the top level, the Tensor methods it sets).  Touching any of them loads it.
_ON_FIRST_USE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "factorizations": (
        ("svd", "qr", "cholesky", "cholesky_solve", "cholesky_inverse", "pinverse", "triangular_solve",
         "chain_matmul", "vander", "lu", "lu_unpack", "lu_solve", "matrix_exp", "geqrf", "orgqr"),
        ("svd", "qr", "cholesky", "cholesky_solve", "cholesky_inverse", "pinverse", "triangular_solve", "lu",
         "lu_solve", "matrix_exp", "geqrf", "orgqr")),
    "number_parts": (
        ("gcd", "lcm", "heaviside", "nextafter", "ldexp", "frexp"),
        ("gcd", "lcm", "heaviside", "nextafter", "ldexp", "frexp", "gcd_", "lcm_", "heaviside_", "nextafter_",
         "ldexp_")),
    "arranging": (
        ("column_stack", "row_stack", "dstack", "argwhere", "isin", "unravel_index", "broadcast_shapes"),
        ("argwhere",)),
    "legacy_types": (
        ("BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor", "HalfTensor", "IntTensor",
         "LongTensor", "ShortTensor"),
        ()),
    # stft/istft and the windows, with the FFT and the convolutions they stand on
    "spectral": (
        ("stft", "istft", "hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"),
        ("stft", "istft")),
    "sparse": (("sparse_coo_tensor", "sparse_csr_tensor", "spmm"), ()),
}

#: top-level name -> the module of :data:`_ON_FIRST_USE` that defines it.
_DEFINED_IN = {name: module for module, (names, _) in _ON_FIRST_USE.items() for name in names}


def _load(module: str) -> Any:
    """Import one module of :data:`_ON_FIRST_USE`: its Tensor methods replace their
    placeholders, its names become plain attributes of the package."""
    loaded = _importlib.import_module(f".{module}", __name__)
    names, methods = _ON_FIRST_USE[module]
    if methods:
        _tensor_methods.install_module(loaded.__name__)
    globals().update((name, getattr(loaded, name)) for name in names)
    return loaded


for _module, (_names, _methods) in _ON_FIRST_USE.items():
    _tensor_methods.install_on_first_use(lambda module=_module: _load(module), _methods)
del _module, _names, _methods


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = _importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    if name in ("save", "load"):
        return getattr(__getattr__("serialization"), name)
    if name == "from_dlpack":  # torch.from_dlpack
        return __getattr__("utils").dlpack.from_dlpack
    if name == "explain":
        return __getattr__("viz").explain
    if name == "compile":  # torch.compile: loaded on first use, like the subpackages
        return __getattr__("compiler").compile
    if name in _DEFINED_IN:
        return getattr(_load(_DEFINED_IN[name]), name)
    if name.startswith("_foreach_"):  # torch._foreach_mul_ ...: loaded on first use
        forms = _importlib.import_module(".foreach", __name__).FORMS
        if name in forms:
            return forms[name]
    forms = _importlib.import_module(".nn.torch_forms", __name__)  # torch.conv2d, torch.relu_ ...
    if name in forms.__all__:
        return getattr(forms, name)
    raise AttributeError(f"module 'chainrule' has no attribute '{name}'")


def _compile(*args: Any, **kwargs: Any) -> Any:
    """``chainrule.compile``, for ``nn.Module.compile`` (the compiler is loaded on first use)."""
    return __getattr__("compiler").compile(*args, **kwargs)


_upcalls.compile = _compile

_upcalls.sparse = lambda: __getattr__("sparse")
_upcalls.linalg = lambda: __getattr__("linalg")
# CuPy as the ``cuda`` device, for tensors made with device="cuda" before chainrule.cuda is touched.
backend.bind_cuda_loader(lambda: _importlib.import_module(".cupy_backend", __name__).load())


def __dir__() -> list:
    return sorted(set(globals()) | set(_LAZY) | set(_DEFINED_IN))


def _autograd_getattr(name: str) -> Any:
    """``chainrule.autograd``'s attributes loaded on first use: ``forward_ad``, ``diagnose``
    (chainrule.debug, which sits above nn, registers it when loaded) and ``profiler``
    (chainrule.profiler's legacy API)."""
    if name == "diagnose":
        return __getattr__("debug").diagnose
    if name == "forward_ad":  # forward-mode AD, loaded on first use
        return _importlib.import_module(".autograd.forward_ad", __name__)
    if name == "profiler":  # torch.autograd.profiler: chainrule.profiler's legacy API
        return __getattr__("profiler").autograd_profiler
    raise AttributeError(f"module 'chainrule.autograd' has no attribute '{name}'")


autograd.__getattr__ = _autograd_getattr  # type: ignore[attr-defined]


__all__ = [
    "Tensor", "Size", "device", "dtype", "autograd", "no_grad", "enable_grad", "set_grad_enabled",
    "inference_mode", "is_grad_enabled", "get_default_device", "set_default_device", "e", "inf", "nan", "pi",
    "is_inference_mode_enabled", "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "Generator",
    "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
    "set_printoptions", "get_printoptions", "printoptions", "get_default_dtype", "set_default_dtype",
    "arange", "as_tensor", "asarray", "bernoulli", "binomial", "empty", "empty_like", "eye", "from_numpy", "frombuffer",
    "full", "full_like",
    "linspace", "logspace", "multinomial", "normal", "ones", "ones_like", "poisson", "rand", "rand_like", "randint",
    "randint_like", "randn", "randn_like", "randperm", "tensor", "zeros", "zeros_like",
    "bool", "cdouble", "cfloat", "complex64", "complex128", "double", "float", "float16", "float32", "float64",
    "half", "int", "int8", "int16", "int32", "int64", "long", "short", "uint8", "layout", "strided", "sparse_coo",
    "sparse_csr", "can_cast", "promote_types", "result_type", "save", "load", "explain",
    *_functional.__all__, *_composites.__all__, *_bitwise.__all__, *_complex_numbers.__all__, *_LAZY, *_DEFINED_IN,
]
