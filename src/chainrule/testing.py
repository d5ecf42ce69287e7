"""``torch.testing``: ``assert_close``, with PyTorch's default tolerances per dtype and its
messages (mismatched elements, the greatest absolute and relative differences and where)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Callable

import numpy as np

from .tensor import Tensor

__all__ = ["assert_close", "assert_allclose"]

#: (rtol, atol) by dtype name, as PyTorch's; integers and bool compare exactly.
_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7),
               "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}


def _tolerance(*dtypes: np.dtype) -> tuple[float, float]:
    pairs = [_TOLERANCES.get(d.name, (0.0, 0.0)) for d in dtypes]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _float_text(value: Any) -> str:
    return repr(value.item() if hasattr(value, "item") else value)


def _where(index: int, shape: tuple) -> str:
    return str(tuple(int(i) for i in np.unravel_index(index, shape))) if shape else "()"


def _mismatch(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float, equal_nan: bool,
              scalar: bool) -> str | None:
    """None when close, else PyTorch's description of the mismatch."""
    with np.errstate(all="ignore"):
        close = np.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan)
        if close.all():
            return None
        exact = rtol == 0 and atol == 0
        integer = actual.dtype.kind in "iub" and expected.dtype.kind in "iub"
        if integer:
            diff = np.abs(actual.astype(np.int64) - expected.astype(np.int64))
            relative = diff.astype(np.float32) / np.abs(expected).astype(np.float32)
        else:
            diff = np.abs(actual - expected)
            relative = diff / np.abs(expected)
    allowed = (lambda bound: "" if exact else f" (up to {bound} allowed)")
    if scalar:
        return (f"Scalars are not {'equal' if exact else 'close'}!\n\n"
                f"Expected {_float_text(expected.reshape(()))} but got {_float_text(actual.reshape(()))}.\n"
                f"Absolute difference: {_float_text(diff.reshape(()))}{allowed(atol)}\n"
                f"Relative difference: {_float_text(relative.reshape(()))}{allowed(rtol)}")
    flat_diff, flat_relative = diff.reshape(-1), relative.reshape(-1)
    wrong = int((~close).sum())
    total = close.size
    worst = int(np.nanargmax(flat_diff)) if not np.isnan(flat_diff).all() else 0
    worst_relative = int(np.nanargmax(flat_relative)) if not np.isnan(flat_relative).all() else 0
    return (f"Tensor-likes are not {'equal' if exact else 'close'}!\n\n"
            f"Mismatched elements: {wrong} / {total} ({100 * wrong / total:.1f}%)\n"
            f"Greatest absolute difference: {_float_text(flat_diff[worst])} at index "
            f"{_where(worst, actual.shape)}{allowed(atol)}\n"
            f"Greatest relative difference: {_float_text(flat_relative[worst_relative])} at index "
            f"{_where(worst_relative, actual.shape)}{allowed(rtol)}")


def _compare(actual: Any, expected: Any, path: str, options: dict) -> str | None:
    """None when close, else the message (naming the item ``path`` of nested sequences and
    mappings where the first mismatch is)."""
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            return (f"The keys of the mappings do not match:\nMissing keys in the actual mapping: "
                    f"{sorted(set(expected) - set(actual))}\nAdditional keys in the actual mapping: "
                    f"{sorted(set(actual) - set(expected))}")
        for key in expected:
            found = _compare(actual[key], expected[key], f"{path}[{key!r}]", options)
            if found:
                return found
        return None
    sequences = isinstance(actual, Sequence) and isinstance(expected, Sequence) and \
        not isinstance(actual, str) and not isinstance(expected, str)
    if sequences:
        if len(actual) != len(expected):
            return f"The length of the sequences mismatch: {len(actual)} != {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            found = _compare(a, e, f"{path}[{i}]", options)
            if found:
                return found
        return None
    found = _compare_pair(actual, expected, options)
    return found + f"\n\nThe failure occurred for item {path}" if found and path else found


def _compare_pair(actual: Any, expected: Any, options: dict) -> str | None:
    """None when the tensors or numbers are close, else PyTorch's message."""
    rtol, atol = options["rtol"], options["atol"]
    if actual is None and expected is None:
        return None
    if isinstance(actual, np.ndarray) and isinstance(expected, np.ndarray):  # NumPy's, as tensors
        actual, expected = Tensor._wrap(actual), Tensor._wrap(expected)
    if isinstance(actual, Tensor) and isinstance(expected, Tensor):
        if tuple(actual.shape) != tuple(expected.shape):
            return f"The values for attribute 'shape' do not match: {actual.shape} != {expected.shape}."
        if options["check_device"] and actual.device != expected.device:
            return f"The values for attribute 'device' do not match: {actual.device} != {expected.device}."
        if options["check_dtype"] and actual.dtype != expected.dtype:
            return f"The values for attribute 'dtype' do not match: {actual.dtype} != {expected.dtype}."
        if options["check_stride"] and actual.stride() != expected.stride():
            return f"The values for attribute 'stride()' do not match: {actual.stride()} != {expected.stride()}."
        a, e = actual.detach().cpu().numpy(), expected.detach().cpu().numpy()
        if rtol is None:
            rtol, atol = _tolerance(a.dtype, e.dtype)
        return _mismatch(a, e, rtol, atol, options["equal_nan"], scalar=a.ndim == 0)
    numbers = (int, float, complex, bool, np.number, np.bool_)
    if isinstance(actual, numbers) and isinstance(expected, numbers):
        if options["check_dtype"] and type(actual) is not type(expected):
            return f"The (d)types do not match: {type(actual)} != {type(expected)}."
        if rtol is None:
            floating = isinstance(actual, (float, np.floating)) or isinstance(expected, (float, np.floating))
            rtol, atol = (1e-7, 1e-7) if floating else (0.0, 0.0)  # Python floats: float64's, as PyTorch
        return _mismatch(np.asarray(actual), np.asarray(expected), rtol, atol, options["equal_nan"], scalar=True)
    raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}.")


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True, rtol: float | None = None,
                 atol: float | None = None, equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True, check_stride: bool = False,
                 msg: str | Callable[[str], str] | None = None) -> None:
    """Raise AssertionError unless ``actual`` and ``expected`` (tensors, numbers, or sequences
    and mappings of them) are close: ``|actual - expected| <= atol + rtol * |expected|``
    elementwise, with PyTorch's defaults per dtype when neither tolerance is given."""
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'atol' if atol is None else 'rtol'}.")
    options = {"rtol": rtol, "atol": atol, "equal_nan": equal_nan, "check_device": check_device,
               "check_dtype": check_dtype, "check_stride": check_stride}
    text = _compare(actual, expected, "", options)
    if text is None:
        return
    if msg is not None:
        text = msg(text) if callable(msg) else msg
    raise AssertionError(text)


#: assert_allclose's own defaults (rtol, atol), wider than assert_close's, as PyTorch's.
_ALLCLOSE_TOLERANCES = {"float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-5, 1e-8)}


def assert_allclose(actual: Any, expected: Any, rtol: float | None = None, atol: float | None = None,
                    equal_nan: bool = True, msg: str = "") -> None:
    """PyTorch's deprecated spelling: ``expected`` may be a list or a number (made a tensor
    like ``actual``), no dtype check, NaNs equal, and its own default tolerances."""
    if (rtol is None) != (atol is None):
        raise ValueError("rtol and atol must both be specified or both be unspecified")
    if not isinstance(actual, Tensor):
        actual = Tensor._wrap(np.asarray(actual))
    if not isinstance(expected, Tensor):
        expected = Tensor._wrap(np.asarray(expected, dtype=actual.numpy().dtype))
    if rtol is None:
        pairs = [_ALLCLOSE_TOLERANCES.get(t.numpy().dtype.name, (0.0, 0.0)) for t in (actual, expected)]
        rtol, atol = max(p[0] for p in pairs), max(p[1] for p in pairs)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False,
                 msg=msg or None)
