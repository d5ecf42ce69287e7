"""dtypes as PyTorch names them (``chainrule.float32`` ...), each backed by a NumPy dtype."""
from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from .optional import require


class printed:
    """The namespace printed before dtypes, ``Size`` and legacy type names: ``chainrule``, or
    ``torch`` while a program runs under the torch alias (``chainrule run script.py``), so that
    it prints what PyTorch prints (``torch.float64``, ``torch.Size([2, 3])``)."""

    namespace = "chainrule"


class dtype:
    """A tensor element type; ``chainrule.float32`` prints as ``chainrule.float32``.

    bfloat16's NumPy dtype (ml_dtypes') has kind "V", not "f": code that tells floats by
    their kind counts "V" among them ("fcV": the floats and complexes)."""

    __slots__ = ("name", "numpy", "legacy_name")

    def __init__(self, name: str, numpy_dtype: Any, legacy_name: str) -> None:
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.legacy_name = legacy_name

    @property
    def dtype(self) -> np.dtype:
        # NumPy takes any object with a ``dtype`` attribute as a dtype: np.zeros(3, chainrule.float32).
        return self.numpy

    @property
    def is_floating_point(self) -> bool:
        return self.numpy.kind == "f"

    @property
    def is_complex(self) -> bool:
        return self.numpy.kind == "c"

    @property
    def is_signed(self) -> bool:
        return self.numpy.kind in "fic"

    @property
    def itemsize(self) -> int:
        return self.numpy.itemsize

    @property
    def scalar_name(self) -> str:
        """PyTorch's ScalarType name, as its error messages spell it ("Float", "Long" ...)."""
        return self.legacy_name[: -len("Tensor")]

    def __repr__(self) -> str:
        return f"{printed.namespace}.{self.name}"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, _OptionalDtype):
            return other is self
        if isinstance(other, dtype):
            return self.numpy == other.numpy
        try:
            return self.numpy == np.dtype(other)
        except TypeError:
            return False

    def __hash__(self) -> int:
        return hash(self.numpy)

    def __reduce__(self) -> Any:
        return (from_numpy, (self.numpy,))


float16 = half = dtype("float16", np.float16, "HalfTensor")
float32 = float = dtype("float32", np.float32, "FloatTensor")
float64 = double = dtype("float64", np.float64, "DoubleTensor")
complex64 = cfloat = dtype("complex64", np.complex64, "ComplexFloatTensor")
complex128 = cdouble = dtype("complex128", np.complex128, "ComplexDoubleTensor")
uint8 = dtype("uint8", np.uint8, "ByteTensor")
int8 = dtype("int8", np.int8, "CharTensor")
int16 = short = dtype("int16", np.int16, "ShortTensor")
int32 = int = dtype("int32", np.int32, "IntTensor")
int64 = long = dtype("int64", np.int64, "LongTensor")
bool = dtype("bool", np.bool_, "BoolTensor")



class _OptionalDtype(dtype):
    """A PyTorch dtype NumPy has no type for (bfloat16): the optional ml_dtypes package adds
    it to NumPy, with ufunc loops that compute in float32 and round once (PyTorch's opmath).
    It is named without ml_dtypes (``autocast(..., dtype=torch.bfloat16)``), which is
    imported only when the first array of it is asked for; without it that says which extra
    installs it."""

    __slots__ = ("_numpy",)

    def __init__(self, name: str, legacy_name: str) -> None:
        self.name = name
        self.legacy_name = legacy_name
        self._numpy: np.dtype | None = None

    @property  # type: ignore[override]
    def numpy(self) -> np.dtype:
        if self._numpy is None:
            ml_dtypes = require("ml_dtypes", f"a {self.name} tensor")
            self._numpy = np.dtype(getattr(ml_dtypes, self.name))
            _BY_NUMPY[self._numpy] = self
        return self._numpy

    @property
    def is_floating_point(self) -> bool:
        return True

    @property
    def is_complex(self) -> bool:
        return False

    @property
    def is_signed(self) -> bool:
        return True

    @property
    def itemsize(self) -> int:
        return 2

    def __eq__(self, other: Any) -> bool:
        if other is self or other == "bfloat16" or other == "torch.bfloat16":
            return True
        return self._numpy is not None and isinstance(other, np.dtype) and other == self._numpy

    def __hash__(self) -> int:
        return hash(self.name)

    def __reduce__(self) -> str:
        return "bfloat16"  # (the module attribute: copies and pickles are this same object)


bfloat16 = _OptionalDtype("bfloat16", "BFloat16Tensor")

_ALL = (float16, float32, float64, complex64, complex128, uint8, int8, int16, int32, int64, bool)
_BY_NUMPY = {d.numpy: d for d in _ALL}


def from_numpy(numpy_dtype: Any) -> dtype:
    try:
        return _BY_NUMPY[np.dtype(numpy_dtype)]
    except KeyError:
        if np.dtype(numpy_dtype).name == bfloat16.name:  # (ml_dtypes' array, before any chainrule one)
            return bfloat16
        raise TypeError(f"chainrule has no dtype for NumPy's {np.dtype(numpy_dtype)}") from None


def to_numpy(spec: Any) -> np.dtype:
    """Any dtype spelling (chainrule dtype, NumPy dtype, Python type, string) as NumPy's."""
    if isinstance(spec, dtype):
        return spec.numpy
    if spec is builtins.float:
        return np.dtype(np.float32)
    if spec is builtins.int:
        return np.dtype(np.int64)
    if spec is builtins.bool:
        return np.dtype(np.bool_)
    if isinstance(spec, str):
        spec = spec.replace("chainrule.", "").replace("torch.", "")
        if spec == bfloat16.name:
            return bfloat16.numpy
    try:
        return np.dtype(spec)
    except TypeError:
        raise TypeError(f"unknown dtype {spec!r}") from None


_BY_LEGACY_NAME = {d.legacy_name: d for d in _ALL}


def scalar_name(numpy_dtype: Any) -> str:
    """PyTorch's name of a NumPy dtype in its messages, its ScalarType (``Long``, ``Float``,
    ``ComplexDouble`` ...): :attr:`dtype.scalar_name` of the matching chainrule dtype."""
    try:
        return from_numpy(numpy_dtype).scalar_name
    except TypeError:
        return np.dtype(numpy_dtype).name


#: The C++ type names in some of PyTorch's messages ("long int", "float" ...), by NumPy name.
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
              "complex64": "c10::complex<float>", "complex128": "c10::complex<double>", "bfloat16": "c10::BFloat16"}


def cpp_name(numpy_dtype: Any) -> str:
    """PyTorch's C++ name of a dtype, in the messages that print it (``long int``)."""
    name = np.dtype(numpy_dtype).name
    return _CPP_NAMES.get(name, name)


def cast_error(result: Any, target: Any) -> RuntimeError:
    """PyTorch's refusal to write a result of dtype ``result`` into a tensor of dtype
    ``target`` (NumPy's "same_kind" rule: no float into an integer, no complex into a float)."""
    return RuntimeError(f"result type {scalar_name(result)} can't be cast to the desired output type "
                        f"{scalar_name(target)}")


def not_implemented(kernel: str, numpy_dtype: Any) -> NotImplementedError:
    """PyTorch's refusal of a dtype its kernel has no loop for:
    ``"softmax_lastdim_kernel_impl" not implemented for 'Long'``."""
    return NotImplementedError(f'"{kernel}" not implemented for \'{scalar_name(numpy_dtype)}\'')


def resolve_type(spec: Any) -> dtype:
    """The dtype that ``Tensor.type(spec)`` converts to: a dtype, a legacy type
    (``LongTensor``, anything with such a ``dtype``) or its name (``'torch.LongTensor'`` or
    ``'chainrule.LongTensor'``; ``'torch.Tensor'`` is the default dtype)."""
    if isinstance(spec, dtype):
        return spec
    if isinstance(getattr(spec, "dtype", None), dtype) and isinstance(spec, type):
        return spec.dtype
    if isinstance(spec, str):
        for prefix in ("torch.", "chainrule."):
            if spec.startswith(prefix):
                name = spec[len(prefix):]
                if name == "Tensor":
                    return get_default_dtype()
                if name in _BY_LEGACY_NAME:
                    return _BY_LEGACY_NAME[name]
        raise ValueError(f"invalid type: {spec!r}")
    if isinstance(spec, type):
        name = spec.__qualname__ if spec.__module__ == "builtins" else f"{spec.__module__}.{spec.__qualname__}"
        raise ValueError(f"invalid type: '{name}'")
    raise TypeError("dtype must be a type, str, or dtype object")


_default = float32


def get_default_dtype() -> dtype:
    return _default


def default_complex_dtype() -> dtype:
    """The complex dtype of the default float's precision, PyTorch's for Python complex
    numbers: complex128 beside float64, complex64 otherwise."""
    return complex128 if _default == float64 else complex64


def set_default_dtype(d: dtype) -> None:
    global _default
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d!r}")
    _default = d


def _g(value: Any) -> str:
    return f"{value:g}"


class finfo:
    """The limits of a floating dtype (``torch.finfo``): ``bits``, ``eps``, ``max``, ``min``,
    ``tiny`` (= ``smallest_normal``), ``resolution``, ``dtype``; the default dtype's without
    an argument."""

    def __init__(self, type: Any = None) -> None:
        spec = get_default_dtype() if type is None else type
        if spec is bfloat16:  # (NumPy has no bfloat16: its limits, as PyTorch gives them)
            self.bits, self.eps, self.max, self.min = 16, 0.0078125, 3.3895313892515355e+38, -3.3895313892515355e+38
            self.tiny = self.smallest_normal = 1.1754943508222875e-38
            self.resolution, self.dtype = 0.01, "bfloat16"
            return
        numpy_dtype = to_numpy(spec)
        if numpy_dtype.kind == "c":  # a complex dtype: its real part's limits, as PyTorch
            numpy_dtype = np.finfo(numpy_dtype).dtype
        if numpy_dtype.kind != "f":
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            "'torch.finfo'")
        info = np.finfo(numpy_dtype)
        self.bits = info.bits
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = 10.0 ** -info.precision  # (NumPy's is a float32 for float32: not 1e-06 exactly)
        self.dtype = numpy_dtype.name

    def __repr__(self) -> str:
        return (f"finfo(resolution={_g(self.resolution)}, min={_g(self.min)}, max={_g(self.max)}, "
                f"eps={_g(self.eps)}, smallest_normal={_g(self.smallest_normal)}, tiny={_g(self.tiny)}, "
                f"dtype={self.dtype})")


class iinfo:
    """The limits of an integer dtype (``torch.iinfo``): ``bits``, ``max``, ``min``, ``dtype``."""

    def __init__(self, type: Any) -> None:
        numpy_dtype = to_numpy(type)
        if numpy_dtype.kind == "b":
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if numpy_dtype.kind not in "iu":
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                            "'torch.iinfo'")
        info = np.iinfo(numpy_dtype)
        self.bits = info.bits
        self.max = builtins.int(info.max)
        self.min = builtins.int(info.min)
        self.dtype = numpy_dtype.name

    def __repr__(self) -> str:
        return f"iinfo(min={_g(builtins.float(self.min))}, max={_g(builtins.float(self.max))}, dtype={self.dtype})"


class _NamedConstant:
    """A constant of PyTorch's namespace known by its name: printed as ``torch.<name>`` and
    pickled as the module-level name it is bound to."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self) -> str:
        return self.name


class memory_format(_NamedConstant):
    """A memory layout request (``torch.channels_last`` ...).  NumPy arrays carry their layout
    in their strides; chainrule keeps an array's layout where an op allows, so asking for a
    format changes no number, and ``is_contiguous(memory_format=...)`` reads the strides."""

    __slots__ = ()


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")


class layout(_NamedConstant):
    """How a tensor's elements are stored: ``torch.strided`` (a dense array),
    ``torch.sparse_coo`` (the coordinates and values of its nonzero elements) or
    ``torch.sparse_csr`` (a matrix's nonzero elements row by row)."""

    __slots__ = ()


strided = layout("strided")
sparse_coo = layout("sparse_coo")
sparse_csr = layout("sparse_csr")
