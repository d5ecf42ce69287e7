"""einsum with a gradient: each operand's gradient is itself an einsum of the upstream
gradient with the other operands."""
from __future__ import annotations

from typing import Any

from ..autograd.function import Op
from .wirtinger import holomorphic


def _parse(equation: str, count: int) -> tuple[list[str], str]:
    equation = equation.replace(" ", "")
    if "..." in equation:
        raise NotImplementedError("einsum: '...' is not supported yet")
    if "->" in equation:
        inputs, output = equation.split("->")
    else:
        inputs = equation
        letters = inputs.replace(",", "")
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    specs = inputs.split(",")
    if len(specs) != count:
        raise RuntimeError(f"einsum(): {len(specs)} subscripts for {count} operands")
    for spec in specs:
        if len(set(spec)) != len(spec):
            raise NotImplementedError("einsum: repeated subscripts within one operand are not supported yet")
    return specs, output


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
            # Letters of this operand seen nowhere else were summed out: broadcast back.
            target = "".join(c for c in spec if c in present)
            grad = _einsum_any(xp, ",".join([self.target] + others) + "->" + target, g, *operands)
            if target != spec:
                shape = dict(zip(spec, self.shapes[i]))
                kept = tuple(shape[c] if c in target else 1 for c in spec)
                order = [target.index(c) for c in spec if c in target]
                grad = xp.transpose(grad, tuple(order)) if order != sorted(order) else grad
                grad = xp.broadcast_to(grad.reshape(kept), tuple(self.shapes[i]))
            grads.append(grad)
        return tuple(grads)


def _einsum_any(xp: Any, equation: str, *operands: Any) -> Any:
    if hasattr(xp, "einsum"):
        return xp.einsum(equation, *operands)
    return einsum(equation, *operands)  # the Tensor namespace (create_graph): recorded


def einsum(equation: str, *operands: Any) -> Any:
    specs, output = _parse(equation, len(operands))
    return Einsum.apply(*operands, specs=specs, output=output)
