"""Reading values for a diagnosis: how large a gradient is, whether it is finite, what an
activation's forward did to its units, and which input values make an op produce NaN/inf."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd import graph
from ..tensor import Tensor

#: An output of sigmoid within this of 0 or 1 (tanh: of -1 or 1) is saturated: its local
#: derivative is then below about 1e-3, and the gradient through it all but stops.
SATURATION = 1e-3


def array(value: Any) -> Any:
    """A tensor's (or a gradient's) NumPy array; anything else as it is."""
    if isinstance(value, Tensor):
        return np.asarray(value)
    return value


def scale(value: Any) -> float:
    """How large a gradient is: its L2 norm, 0 exactly when every entry is 0, NaN/inf when
    an entry is (one BLAS call; the rare zero or overflow is checked entry by entry)."""
    a = np.asarray(array(value))
    if a.size == 0 or a.dtype.kind not in "fciu":
        return 0.0
    total = float(np.vdot(a, a).real)
    if total == 0.0:
        return 0.0 if not a.any() else float(np.abs(a).max())  # squares below the dtype's range
    if math.isinf(total) and np.isfinite(a).all():
        return float(np.linalg.norm(a.astype(np.float64)))  # squares beyond the dtype's range
    return math.sqrt(total)


def all_finite(value: Any) -> bool:
    """Whether no entry is NaN or inf (one BLAS call; a square beyond the dtype's range is
    checked entry by entry)."""
    a = array(value)
    if not isinstance(a, np.ndarray):
        return not isinstance(a, float) or math.isfinite(a)
    if a.dtype.kind not in "fc" or a.size == 0:
        return True
    return math.isfinite(float(np.vdot(a, a).real)) or bool(np.isfinite(a).all())


def count(mask: Any) -> int:
    return int(np.count_nonzero(mask))


def percent(fraction: float) -> str:
    value = 100 * fraction
    return f"{value:.0f}%" if value >= 1 or value == 0 else f"{value:.1g}%"


# -- what an activation's forward did ------------------------------------------------------------


def activity(op: str, args: tuple, output: Any) -> tuple[float, str] | None:
    """For the ops whose derivative vanishes on part of their domain (ReLU, sigmoid, tanh,
    clamp): the fraction of the batch where it does, and that said in words; None where it
    does nowhere (for ReLU: unless no unit is active for any example, a dead layer)."""
    if op == "Relu":
        out = array(output)
        if out.size == 0 or out.max() > 0:
            return None  # a unit is active for some example: the gradient passes there
        units = out[0].size if out.ndim >= 2 else out.size
        return 1.0, f"100% of its {units} units are inactive (output 0) for every example of the batch"
    if op in ("Sigmoid", "Tanh"):
        out = array(output)
        low = SATURATION if op == "Sigmoid" else SATURATION - 1
        if out.size == 0 or (out.min() > low and out.max() < 1 - SATURATION):
            return None  # nothing saturated
        if op == "Sigmoid":
            saturated = (out < SATURATION) | (out > 1 - SATURATION)
            edges = "0 or 1"
        else:
            saturated = np.abs(out) > 1 - SATURATION
            edges = "-1 or 1"
        fraction = float(saturated.mean())
        return fraction, f"{percent(fraction)} of its outputs are within {SATURATION:g} of {edges} (saturated)"
    if op == "Clamp" and args:
        a = array(args[0])
        low = array(args[1]) if len(args) > 1 else None
        high = array(args[2]) if len(args) > 2 else None
        outside = np.zeros(np.shape(a), dtype=bool)
        if low is not None:
            outside |= a < low
        if high is not None:
            outside |= a > high
        fraction = float(outside.mean()) if outside.size else 0.0
        bounds = f"[{_number(low)}, {_number(high)}]"
        return fraction, f"{percent(fraction)} of its inputs lie outside {bounds}, where its derivative is 0"
    return None


def _number(value: Any) -> str:
    if value is None:
        return "…"
    if np.size(value) == 1:
        return f"{float(np.asarray(value).reshape(-1)[0]):.4g}"
    return "a tensor bound"


# -- which values make an op produce NaN/inf ------------------------------------------------------

#: float32's (and float64's) largest x with a finite exp(x).
_EXP_LIMIT = {np.dtype(np.float16): 11.09, np.dtype(np.float32): 88.72, np.dtype(np.float64): 709.78}


def forward_culprit(op: str, args: tuple) -> str:
    """Why ``op`` made NaN/inf from finite arguments ``args``, in words (the offending input
    values)."""
    arrays = [array(a) for a in args]
    first = np.asarray(arrays[0]) if arrays and _is_numeric(arrays[0]) else None
    if first is not None:
        if op in ("Log", "Log2", "Log10"):
            zeros, negative = count(first == 0), count(first < 0)
            parts = []
            if zeros:
                parts.append(f"log of 0 in {zeros} element{_s(zeros)}")
            if negative:
                parts.append(f"log of a negative number in {negative} element{_s(negative)} "
                             f"(smallest {float(first.min()):.4g})")
            if parts:
                return " and ".join(parts)
        if op == "Log1p" and count(first <= -1):
            return f"log1p of a number ≤ -1 in {count(first <= -1)} element{_s(count(first <= -1))}"
        if op in ("Sqrt", "Rsqrt") and count(first < 0):
            negative = count(first < 0)
            return f"square root of a negative number in {negative} element{_s(negative)} (smallest {float(first.min()):.4g})"
        if op in ("Rsqrt", "Reciprocal") and count(first == 0):
            return f"1/x at x = 0 in {count(first == 0)} element{_s(count(first == 0))}"
        if op in ("Exp", "Expm1", "Exp2", "Sinh", "Cosh") and first.dtype in _EXP_LIMIT:
            limit = _EXP_LIMIT[first.dtype]
            over = count(np.abs(first) > limit) if op in ("Sinh", "Cosh") else count(first > limit)
            if over:
                return (f"exp overflow: {over} input{_s(over)} above {limit:g} (the largest is "
                        f"{float(first.max()):.4g}), beyond what {first.dtype.name} can hold")
        if op in ("Asin", "Acos") and count(np.abs(first) > 1):
            return f"{op.lower()} of a number outside [-1, 1] in {count(np.abs(first) > 1)} elements"
    if op == "Div" and len(arrays) > 1 and _is_numeric(arrays[1]):
        divisor = np.asarray(arrays[1])
        zeros = count(divisor == 0)
        if zeros:
            both = count((divisor == 0) & (np.asarray(arrays[0]) == 0)) if _is_numeric(arrays[0]) else 0
            text = f"division by zero in {zeros} element{_s(zeros)}"
            return text + (f" ({both} of them 0/0)" if both else "")
    if op == "Pow" and len(arrays) > 1 and first is not None and _is_numeric(arrays[1]):
        exponent = np.asarray(arrays[1])
        if count((first == 0) & (exponent < 0)):
            return "0 raised to a negative power"
        if count((first < 0) & (exponent != np.round(exponent))):
            return "a negative number raised to a fractional power"
    numeric = [np.asarray(a) for a in arrays if _is_numeric(a) and np.size(a)]
    if numeric:
        largest = max(float(np.max(np.abs(a))) for a in numeric)
        return f"overflow: its inputs are finite (up to {largest:.4g} in size) but the result is not"
    return "its result is not finite"


def backward_culprit(op: str, kept: dict, formulas: tuple) -> str:
    """Why ``op``'s backward made NaN/inf from a finite gradient: where its local derivative
    is infinite or undefined, with the input values (``kept``: its kept arguments)."""
    first = kept.get(0)
    first = np.asarray(first) if _is_numeric(first) else None
    formula = f" ({formulas[0]})" if formulas and formulas[0] else ""
    if first is not None:
        if op in ("Sqrt", "Log", "Log2", "Log10", "Reciprocal", "Rsqrt") and count(first == 0):
            zeros = count(first == 0)
            return f"its derivative{formula} is infinite at u = 0, and {zeros} input{_s(zeros)} {_are(zeros)} 0"
        if op in ("Asin", "Acos") and count(np.abs(first) == 1):
            return f"its derivative{formula} is infinite at u = ±1, and {count(np.abs(first) == 1)} inputs are ±1"
        if op == "Norm2" and not np.any(first):
            return "the norm of an all-zero vector has no derivative (0/0)"
        if op == "Pow" and _is_numeric(kept.get(1)):
            exponent = np.asarray(kept[1])
            if count((first == 0) & (exponent < 1)):
                return f"the derivative of u^p at u = 0 is infinite for p < 1{formula}"
    if op == "Div" and _is_numeric(kept.get(1)) and count(np.asarray(kept[1]) == 0):
        zeros = count(np.asarray(kept[1]) == 0)
        return f"its derivative{formula} divides by the divisor, and {zeros} divisor element{_s(zeros)} {_are(zeros)} 0"
    return f"its local derivative{formula} is infinite or undefined at some of its input values"


def _is_numeric(value: Any) -> bool:
    return isinstance(value, (np.ndarray, np.generic, int, float)) and not isinstance(value, bool) and \
        np.asarray(value).dtype.kind in "fiuc"


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _are(n: int) -> str:
    return "is" if n == 1 else "are"


def op_of(node: Any) -> str:
    """The op's chainrule name (``Relu``, ``Log``; a custom Function's class name)."""
    return graph.op_name(node)
