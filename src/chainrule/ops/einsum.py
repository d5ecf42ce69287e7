"""einsum with a gradient: each operand's gradient is itself an einsum of the upstream
gradient with the other operands."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Op
from .namespace import arrays_for
from .wirtinger import holomorphic


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _parse(equation: str, ndims: list[int]) -> tuple[list[str], str]:
    """The operands' subscripts and the output's, with ``...`` spelled out in letters of its
    own: an operand's ellipsis takes the last of them (its dims align to the right, broadcast
    as PyTorch's), the output's all of them, first where the output is implicit."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    specs = inputs.split(",")
    if len(specs) != len(ndims):
        raise RuntimeError(f"einsum(): {'fewer' if len(ndims) < len(specs) else 'more'} operands were provided "
                           "than specified in the equation")
    spare = [c for c in _LETTERS if c not in equation]
    widths = [ndim - len(spec.replace("...", "")) for spec, ndim in zip(specs, ndims)]
    for i, (spec, width, ndim) in enumerate(zip(specs, widths, ndims)):
        count = f"einsum(): the number of subscripts in the equation ({len(spec.replace('...', ''))})"
        if "..." in spec and width < 0:
            raise RuntimeError(f"{count} is more than the number of dimensions ({ndim}) for operand {i}")
        if "..." not in spec and width:
            raise RuntimeError(f"{count} does not match the number of dimensions ({ndim}) for operand {i} and no "
                               "ellipsis was given")
    ellipsis = "".join(spare[:max([w for spec, w in zip(specs, widths) if "..." in spec], default=0)])
    specs = [spec.replace("...", ellipsis[len(ellipsis) - width:] if width else "")
             for spec, width in zip(specs, widths)]
    if arrow:
        for c in output.replace("...", ""):
            if output.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            if c not in inputs:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                                   "operand")
        output = output.replace("...", ellipsis)
    else:
        letters = "".join(specs)
        output = ellipsis + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ellipsis))
    return specs, output


def _sublists(arguments: tuple) -> tuple[str, tuple]:
    """``einsum(a, [0, 1], b, [1, 2], [0, 2])`` as ``einsum("ab,bc->ac", a, b)``."""
    def spell(sublist: Any) -> str:
        return "".join("..." if s is Ellipsis else _LETTERS[s] for s in sublist)

    operands, specs = arguments[0:len(arguments) - len(arguments) % 2:2], arguments[1::2]
    equation = ",".join(spell(s) for s in specs)
    if len(arguments) % 2:
        equation += "->" + spell(arguments[-1])
    return equation, operands


class Einsum(Op):
    # (not "output": Node keeps the forward's result under that name)
    __slots__ = ("specs", "target", "shapes")
    derivative = ("d einsum/d operand = einsum(grad, other operands)",)

    def forward(self, xp, *operands, specs, output):
        self.specs, self.target = specs, output
        self.shapes = [o.shape for o in operands]
        self.saved = operands
        if any(o.dtype.kind == "c" for o in operands):
            self.__class__ = holomorphic(Einsum, *operands)
        return xp.einsum(",".join(specs) + "->" + output, *operands)

    def backward(self, xp, g):
        grads = []
        for i, spec in enumerate(self.specs):
            if not self.needs_grad(i):
                grads.append(None)
                continue
            others = [s for j, s in enumerate(self.specs) if j != i]
            operands = [o for j, o in enumerate(self.saved) if j != i]
            present = set(self.target).union(*others) if others else set(self.target)
            # Letters of this operand seen nowhere else were summed out: broadcast back; a letter
            # repeated in it (a diagonal) is put back on the diagonal; a size-1 dim that the
            # others broadcast is summed.
            unique = "".join(dict.fromkeys(spec))
            target = "".join(c for c in unique if c in present)
            grad = _einsum_any(xp, ",".join([self.target] + others) + "->" + target, g, *operands)
            shape = dict(zip(spec, self.shapes[i]))
            if target != unique:
                kept = tuple(shape[c] if c in target else 1 for c in unique)
                order = [target.index(c) for c in unique if c in target]
                grad = xp.transpose(grad, tuple(order)) if order != sorted(order) else grad
                grad = xp.broadcast_to(grad.reshape(kept), tuple(shape[c] for c in unique))
            if unique != spec:
                grad = _on_diagonals(xp, grad, unique, spec, shape)
            broadcast = tuple(d for d, (n, m) in enumerate(zip(self.shapes[i], grad.shape)) if n == 1 and m != 1)
            grads.append(grad.sum(axis=broadcast, keepdims=True) if broadcast else grad)
        return tuple(grads)


def _on_diagonals(xp: Any, grad: Any, unique: str, spec: str, shape: dict) -> Any:
    """``grad`` (subscripts ``unique``) written on the diagonals of an operand whose subscripts
    ``spec`` repeat letters (``ii``): an einsum with an identity per repeat, so that the same
    formula records itself under create_graph."""
    spare = iter(c for c in _LETTERS if c not in spec)
    full, eyes, seen = "", [], set()
    for c in spec:
        if c in seen:
            fresh = next(spare)
            eyes.append(c + fresh)
            full += fresh
        else:
            seen.add(c)
            full += c
    identities = [arrays_for(xp, grad).eye(shape[e[0]], dtype=np.dtype(grad.dtype)) for e in eyes]
    return _einsum_any(xp, ",".join([unique] + eyes) + "->" + full, grad, *identities)


def _einsum_any(xp: Any, equation: str, *operands: Any) -> Any:
    if hasattr(xp, "einsum"):
        return xp.einsum(equation, *operands)
    return einsum(equation, *operands)  # the Tensor namespace (create_graph): recorded


def einsum(equation: Any, *operands: Any) -> Any:
    """``einsum(equation, *operands)``, or the sublist form ``einsum(a, [0, 1], b, [1, 2])``."""
    if not isinstance(equation, str):
        equation, operands = _sublists((equation, *operands))
    specs, output = _parse(equation, [o.ndim for o in operands])
    _check_sizes(specs, [tuple(o.shape) for o in operands], equation)
    return Einsum.apply(*operands, specs=specs, output=output)


def _check_sizes(specs: list[str], shapes: list[tuple], equation: str) -> None:
    """PyTorch's checks, with its messages (its missing space included): a subscript repeated
    in one operand names dims of one size; across operands its sizes are equal or 1."""
    seen: dict = {}
    for i, (spec, shape) in enumerate(zip(specs, shapes)):
        sizes: dict = {}
        for d, (c, n) in enumerate(zip(spec, shape)):
            if c in sizes:
                if sizes[c] != n:
                    raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {i} but the sizes don't "
                                       f"match, {n} != {sizes[c]}")
                continue
            sizes[c] = n
            previous = seen.get(c, 1)
            if n != 1 and previous not in (1, n):
                if c in equation:
                    raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which does not "
                                       f"broadcast with previously seen size {previous}")
                raise RuntimeError(f"einsum(): dimension {d} covered by ellipsis in operand {i}has size {n} which "
                                   f"does not broadcast with previously seen ellipsis with size {previous} for the "
                                   "respective dimension")
            if n != 1:
                seen[c] = n
