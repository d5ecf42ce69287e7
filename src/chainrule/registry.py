"""The functional layer's one table: what each public functional form also is.

Every functional form (``chainrule.exp`` ...) is registered once, by the ``@public``
decorator above its definition (or, for the plain unary ufuncs, by its row of
``ops.elementwise.UNARY``).  Its row says whether it is also a Tensor method
(``x.exp()``), has an in-place form (``x.exp_()``), takes ``out=`` (``chainrule.exp(x,
out=y)``), and under which name backward formulas find it in the create_graph namespace
(``xp.exp``).  ``chainrule.tensor_methods`` installs all of that from these rows::

    @public(inplace=True, out=True, xp="tanh")
    def tanh(input: Tensor) -> Tensor:
        return Tanh.apply(input)
"""
from __future__ import annotations

import builtins
import functools
import warnings
from typing import Any, Callable, NamedTuple

import numpy as np

from .autograd.grad_mode import grad_state
from .tensor import Tensor


class Row(NamedTuple):
    """One public functional form and the forms made from it."""

    name: str
    function: Callable  # the functional form, without out=
    method: bool  # Tensor.<name>
    inplace: bool  # Tensor.<name>_: the form's result written into the tensor
    out: bool  # chainrule.<name>(..., out=tensor)
    xp: str | None  # its name in the create_graph namespace
    kernel: Callable | None  # the unrecorded in-place change, on arrays (a fast path)
    primary: str  # the form's own name (an alias's row names the form it aliases)


#: name -> Row, in registration order; aliases (``subtract`` of ``sub``) have rows of their own.
ROWS: dict[str, Row] = {}


def public(method: bool = True, inplace: bool = False, out: bool = False, xp: str | None = None,
           aliases: tuple = (), kernel: Callable | None = None, name: str | None = None) -> Callable:
    """Register the decorated functional form (see the module docstring); ``aliases`` are
    other public names of the same form (with the same method, in-place and out= forms).
    Returns the form itself, or its out=-accepting wrapper when ``out``."""

    def register(function: Callable) -> Callable:
        key = name or function.__name__
        function = numpy_spellings(function)
        row = Row(key, function, method, inplace, out, xp, kernel, key)
        ROWS[row.name] = row
        for alias in aliases:
            ROWS[alias] = row._replace(name=alias, xp=None)
        return public_form(row)

    return register


def public_form(row: Row) -> Callable:
    """What ``chainrule.<name>`` is: the functional form, taking ``out=`` when its row says so."""
    return accepts_out(row.function) if row.out else row.function


# -- NumPy's spellings -------------------------------------------------------------------------
# PyTorch's argument parser takes NumPy's names for two arguments of every native function:
# ``x.argmax(axis=1)``, ``torch.max(x, axis=0, keepdims=True)``; swapaxes (an alias of
# transpose here) names its dims axis0 and axis1.

_NUMPY_NAMES = {"axis": "dim", "keepdims": "keepdim", "axis0": "dim0", "axis1": "dim1"}
_VARKEYWORDS = 0x08  # inspect.CO_VARKEYWORDS: the form takes **kwargs and reads these names itself


def numpy_spellings(fn: Callable) -> Callable:
    """``fn`` taking ``axis=`` for its ``dim`` and ``keepdims=`` for its ``keepdim`` (and
    ``axis0``/``axis1`` for ``dim0``/``dim1``), as PyTorch's native functions do; ``fn``
    itself when it has none of these arguments."""
    code = getattr(fn, "__code__", None)
    if code is None or code.co_flags & _VARKEYWORDS:
        return fn
    parameters = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    names = {numpy: torch for numpy, torch in _NUMPY_NAMES.items() if torch in parameters}
    if not names:
        return fn

    @functools.wraps(fn)
    def taking_numpy_names(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            for numpy, torch in names.items():
                if numpy in kwargs:
                    if torch in kwargs:
                        raise TypeError(f"{fn.__name__}() got multiple values for argument '{torch}'")
                    kwargs[torch] = kwargs.pop(numpy)
        return fn(*args, **kwargs)

    return taking_numpy_names


# -- out= ------------------------------------------------------------------------------------
# ``torch.add(x, y, out=result)``: the functional forms that PyTorch gives an ``out`` argument
# write their result into it (resized when its shape differs). As in PyTorch, out= is refused
# while an input requires grad. Tensor methods take no ``out`` and stay unwrapped.


def accepts_out(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def with_out(*args: Any, out: Any = None, **kwargs: Any) -> Any:
        if out is None:
            return fn(*args, **kwargs)
        if grad_state.enabled and builtins.any(
                isinstance(a, Tensor) and a.requires_grad
                for a in (*args, *kwargs.values(), *(args[0] if args and isinstance(args[0], (list, tuple)) else ()))):
            raise RuntimeError(f"{fn.__name__}(): functions with out=... arguments don't support automatic "
                               "differentiation, but one of the arguments requires grad.")
        return _write_out(out, fn(*args, **kwargs), fn.__name__)

    return with_out


def _write_out(out: Any, result: Any, name: str) -> Any:
    if isinstance(out, (tuple, list)):  # (values, indices)
        written = [_write_out(o, r, name) for o, r in zip(out, result)]
        return type(result)(*written) if hasattr(result, "_fields") else tuple(written)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out._data.shape != result._data.shape:
        if out._data.size:
            warnings.warn(f"An output with one or more elements was resized since it had shape {list(out._data.shape)}, "
                          f"which does not match the required output shape {list(result._data.shape)}.", UserWarning,
                          stacklevel=3)
        out._data = np.empty(result._data.shape, dtype=out._data.dtype)
    out._data[...] = result._data
    out._mark_modified(f"{name}(out=)")
    return out
