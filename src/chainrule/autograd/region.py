"""One graph node for a whole captured region (``chainrule.compiler``).

A compiled call computes its outputs without recording a node per op; it records this one
node instead, with an edge per tensor the region's gradient flows to (its inputs and the
parameters it read).  Its backward is the region's backward program, a function of the
outputs' gradients; what it needs from its forward is held in ``saved`` (the engine frees it
after a backward without ``retain_graph``, as it frees an op's saved values).  Arrays of the
region's inputs that the backward reads are checked for in-place changes first, as an op
checks what it saved.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from . import function as _function
from .grad_mode import grad_state
from .node import Node, edge_of, freed_error, inplace_error, set_edges
from .versions import inplace_epoch, last_change


class CompiledFunctionBackward(Node):
    """The node of a compiled region's outputs (PyTorch's ``CompiledFunctionBackward``).

    ``saved`` is ``(backward, kept, eager)``: ``backward(grad_outputs)`` returns one gradient
    (an array or None) per edge; ``kept`` holds ``(array, role)`` pairs that must not have
    changed in place since the forward; ``eager(grad_outputs)`` is the backward that records
    itself (``create_graph=True``), returning tensors."""

    __slots__ = ()

    def apply_backward(self, grad: Any, create_graph: bool) -> tuple:
        saved = self.saved
        if saved is None:
            raise freed_error(self)
        backward, kept, eager = saved
        if self.epoch != inplace_epoch.value:
            for array, role in kept:
                change = last_change(array)
                if change is not None and change[0] > self.epoch:
                    raise inplace_error(self, role, change[1], change[2])
        grads = (grad,) if self.n_outputs == 1 else tuple(grad)
        if create_graph:
            return tuple(eager(grads))
        return backward(grads)


def record(outputs: Sequence[Any], differentiable: Sequence[bool], inputs: Sequence[Any],
           backward: Callable, kept: Sequence[tuple] = (), eager: Callable | None = None) -> list:
    """Tensors around the arrays ``outputs``.  When grad mode is on and one of the tensors
    ``inputs`` requires grad, the ``differentiable`` ones are the outputs of one new
    :class:`CompiledFunctionBackward` node with an edge to each of ``inputs``; otherwise
    they are constants."""
    make = _function._make
    edges = [edge_of(t) for t in inputs] if grad_state.enabled else ()
    for edge in edges:
        if edge is not None:
            break
    else:  # nothing to record
        return [make(a) for a in outputs]
    node = CompiledFunctionBackward.__new__(CompiledFunctionBackward)
    set_edges(node, edges)
    node.saved = (backward, tuple(kept), eager)
    node.inputs = ()
    node.output = None
    node.epoch = inplace_epoch.value
    if len(outputs) != 1:
        node.n_outputs = len(outputs)
    tensors = []
    for index, (array, flag) in enumerate(zip(outputs, differentiable)):
        tensor = make(array, node, True) if flag else make(array)
        if index and flag:
            tensor._output_nr = index
        tensors.append(tensor)
    return tensors
