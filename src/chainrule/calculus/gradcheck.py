"""Finite-difference checks of analytical gradients (central differences, float64).

Complex numbers are checked as pairs of reals, as PyTorch checks them: a complex output is
its real and imaginary parts, two outputs; a complex input is perturbed along its real and
its imaginary axis, and the gradient PyTorch's convention gives (dL/dx + i dL/dy) supplies
the two rows of the Jacobian from its real and imaginary parts."""
from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import numpy as np

from .. import autograd
from ..autograd.engine import grad
from ..autograd.grad_mode import no_grad
from ..complex_numbers import imag, real
from ..tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients disagree."""


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _differentiable_inputs(inputs: tuple) -> list:

    return [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]


def _outputs(func: Callable, inputs: tuple) -> list:
    """The floating outputs of ``func``, each complex one as its real and imaginary parts."""
    outputs = []
    for o in _as_tuple(func(*inputs)):
        if isinstance(o, Tensor) and o.dtype.is_complex:
            outputs += [real(o), imag(o)]
        elif isinstance(o, Tensor) and o.dtype.is_floating_point:
            outputs.append(o)
    return outputs


def _steps(x: Tensor) -> tuple:
    """The directions an input is perturbed in: its real axis, and its imaginary one if complex."""
    return (1.0, 1j) if x.dtype.is_complex else (1.0,)


def numerical_jacobian(func: Callable, inputs: tuple, eps: float = 1e-6) -> list:
    """One (input numel x output numel) matrix per differentiable input and output."""

    indices = _differentiable_inputs(inputs)
    with no_grad():
        outputs = _outputs(func, inputs)
    jacobians = []
    for i in indices:
        x = inputs[i]
        flat = x._data.reshape(-1)
        steps = _steps(x)
        per_output = [np.zeros((flat.size * len(steps), o._data.size)) for o in outputs]
        for s, step in enumerate(steps):
            for k in range(flat.size):
                original = flat[k].item()
                flat[k] = original + eps * step
                with no_grad():
                    plus = [o._data.astype(np.float64).copy() for o in _outputs(func, inputs)]
                flat[k] = original - eps * step
                with no_grad():
                    minus = [o._data.astype(np.float64).copy() for o in _outputs(func, inputs)]
                flat[k] = original
                for j in range(len(outputs)):
                    per_output[j][s * flat.size + k] = ((plus[j] - minus[j]) / (2 * eps)).reshape(-1)
        jacobians.append(per_output)
    return jacobians


def analytical_jacobian(func: Callable, inputs: tuple) -> list:

    indices = _differentiable_inputs(inputs)
    outputs = _outputs(func, inputs)
    jacobians = [[np.zeros((inputs[i]._data.size * len(_steps(inputs[i])), o._data.size)) for o in outputs]
                 for i in indices]
    for j, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        for m in range(out._data.size):
            seed = np.zeros(out._data.shape, dtype=out._data.dtype)
            seed.reshape(-1)[m] = 1

            grads = grad([out], [inputs[i] for i in indices], [Tensor._wrap(seed)],
                         retain_graph=True, allow_unused=True)
            for n, g in enumerate(grads):
                if g is not None:
                    flat = g._data.reshape(-1)
                    jacobians[n][j][:, m] = np.concatenate([flat.real, flat.imag]) if g.is_complex() else flat
    return jacobians


def forward_jacobian(func: Callable, inputs: tuple) -> list:
    """The Jacobians of :func:`analytical_jacobian`, by forward-mode AD: one dual pass per
    element (and axis) of each differentiable input."""
    indices = _differentiable_inputs(inputs)
    jacobians = []
    for i in indices:
        x = inputs[i]
        steps = _steps(x)
        per_output = None
        for s, step in enumerate(steps):
            for k in range(x._data.size):
                tangent = np.zeros(x._data.shape, dtype=x._data.dtype)
                tangent.reshape(-1)[k] = step
                with autograd.forward_ad.dual_level():
                    dual = list(inputs)
                    dual[i] = autograd.forward_ad.make_dual(x, Tensor._wrap(tangent))
                    found = [autograd.forward_ad.unpack_dual(o).tangent for o in _outputs(func, tuple(dual))]
                if per_output is None:
                    per_output = [np.zeros((x._data.size * len(steps), o._data.size)) for o in found]
                for j, t in enumerate(found):
                    if t is not None:
                        per_output[j][s * x._data.size + k] = t._data.astype(np.float64).reshape(-1)
        jacobians.append(per_output)
    return jacobians


def gradcheck(func: Callable, inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, check_backward_ad: bool = True,
              check_forward_ad: bool = False, **_: Any) -> bool:
    """Compare backward's gradients (``check_backward_ad``) and forward mode's Jacobian
    (``check_forward_ad``) with central finite differences.

    >>> x = chainrule.randn(3, dtype=chainrule.float64, requires_grad=True)
    >>> chainrule.autograd.gradcheck(chainrule.tanh, (x,))
    True
    """
    inputs = _as_tuple(inputs)
    for i in _differentiable_inputs(inputs):
        if inputs[i]._data.dtype not in (np.float64, np.complex128):

            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point. "
                f"gradcheck is accurate only in float64.", UserWarning, stacklevel=2)
    numerical = numerical_jacobian(func, inputs, eps)
    checks = [("", analytical_jacobian)] if check_backward_ad else []
    if check_forward_ad:
        checks.append((" computed with forward mode", forward_jacobian))
    for how, jacobian in checks:
        for n, (num_list, ana_list) in enumerate(zip(numerical, jacobian(func, inputs))):
            for j, (num, ana) in enumerate(zip(num_list, ana_list)):
                if not np.allclose(ana, num, rtol=rtol, atol=atol):
                    if not raise_exception:
                        return False
                    raise GradcheckError(
                        f"Jacobian{how} mismatch for output {j} with respect to input {n},\n"
                        f"numerical:{num}\nanalytical:{ana}\n"
                    )
    return True


def gradgradcheck(func: Callable, inputs: Any, grad_outputs: Sequence[Any] | None = None, *,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, **_: Any) -> bool:
    """gradcheck of the backward itself (second derivatives, via create_graph=True)."""

    inputs = _as_tuple(inputs)
    indices = _differentiable_inputs(inputs)
    outputs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [Tensor._wrap(rng.standard_normal(o._data.shape)).requires_grad_(True) for o in outputs]

    def first_derivatives(*args: Any) -> tuple:
        xs = args[: len(inputs)]
        gos = args[len(inputs):]
        outs = [o for o in _outputs(func, xs) if o.requires_grad]
        grads = grad(outs, [xs[i] for i in indices], list(gos)[: len(outs)], create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)
