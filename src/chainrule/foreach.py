"""``torch._foreach_*``: one op over a list of tensors (``torch._foreach_mul_(params, 0.5)``).

PyTorch's multi-tensor kernels are private names, but weight EMAs (timm's ``ModelEmaV3``),
hand-written optimizers and gradient clipping call them directly.  Here each is the Tensor
method applied tensor by tensor, so values, dtypes and gradients are the method's.

The operands after the list follow PyTorch's overloads: a list (or tuple) gives one operand
per tensor (a ``TensorList`` or a ``ScalarList``); anything else (a number, a tensor) is
the same operand for every tensor.  Loaded on first use of a ``_foreach_`` name.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from . import linalg
from .tensor import Tensor

#: Elementwise ops of one tensor: ``_foreach_sqrt(tensors)`` and ``_foreach_sqrt_(tensors)``.
UNARY = ("abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1", "floor", "frac",
         "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal", "round", "rsqrt", "sigmoid", "sign", "sin",
         "sinh", "sqrt", "tan", "tanh", "trunc")
#: Ops with operands: ``_foreach_add(tensors, other, alpha=1)``, ``_foreach_lerp_(tensors, ends, weight)`` ...
WITH_OPERANDS = ("add", "sub", "mul", "div", "pow", "maximum", "minimum", "clamp_min", "clamp_max", "lerp",
                 "addcmul", "addcdiv", "copy")
#: Where a third positional operand is a keyword of the method (``scalars`` of addcmul is its value).
_KEYWORD_OPERAND = {"addcmul": "value", "addcdiv": "value"}


def _per_tensor(value: Any, i: int) -> Any:
    return value[i] if isinstance(value, (list, tuple)) else value


def _check_lengths(tensors: Sequence[Tensor], operands: Sequence[Any]) -> None:
    if not tensors:
        raise RuntimeError("Tensor list must have at least one tensor.")
    for operand in operands:
        if isinstance(operand, (list, tuple)) and len(operand) != len(tensors):
            if operand and isinstance(operand[0], Tensor):
                raise RuntimeError(f"Tensor lists must have the same number of tensors, got {len(tensors)} and "
                                   f"{len(operand)}")
            raise RuntimeError("Tensor list must have same number of elements as scalar list.")


def _form(op: str, inplace: bool) -> Callable:
    """``_foreach_<op>`` (a new list) or ``_foreach_<op>_`` (each tensor changed in place)."""
    name = f"_foreach_{op}{'_' if inplace else ''}"
    keyword = _KEYWORD_OPERAND.get(op)

    def foreach(self: Sequence[Tensor], *operands: Any, **options: Any) -> Any:
        if keyword is not None and len(operands) == 3:
            operands, options = operands[:2], {**options, keyword: operands[2]}
        _check_lengths(self, (*operands, *options.values()))
        results = []
        for i, tensor in enumerate(self):
            args = [_per_tensor(operand, i) for operand in operands]
            kwargs = {key: _per_tensor(value, i) for key, value in options.items()}
            if not inplace:
                results.append(getattr(tensor, op)(*args, **kwargs))
            elif hasattr(tensor, op + "_"):
                getattr(tensor, op + "_")(*args, **kwargs)
            else:  # (no in-place method: maximum, minimum)
                tensor.copy_(getattr(tensor, op)(*args, **kwargs))
        return self if inplace else tuple(results)

    foreach.__name__ = foreach.__qualname__ = name
    foreach.__doc__ = (f"``Tensor.{op}{'_' if inplace else ''}`` on each tensor of a list; returns "
                       f"{'the list' if inplace else 'a tuple of the results'}.")
    return foreach


def _foreach_norm(self: Sequence[Tensor], ord: Any = 2, dtype: Any = None) -> tuple:
    """The ``ord``-norm of each tensor, as a vector (``torch.linalg.vector_norm``)."""
    _check_lengths(self, ())
    return tuple(linalg.vector_norm(t, ord, dtype=dtype) for t in self)


def _foreach_zero_(self: Sequence[Tensor]) -> Sequence[Tensor]:
    """Each tensor filled with zeros; returns the list."""
    for t in self:
        t.zero_()
    return self


FORMS: dict[str, Callable] = {"_foreach_norm": _foreach_norm, "_foreach_zero_": _foreach_zero_}
for _op in UNARY + WITH_OPERANDS:
    for _inplace in (False, True):
        if _op != "copy" or _inplace:  # (copy has only the in-place form)
            _f = _form(_op, _inplace)
            FORMS[_f.__name__] = _f
del _op, _inplace, _f
globals().update(FORMS)
__all__ = sorted(FORMS)
