"""Graph nodes and their edges.

A node is created when an op runs with grad mode on and an input that requires grad.  It holds
its edges, one per argument of the op, each encoded by :func:`edge_of`:

* the input's node, when the input was made by an op as that node's first output;
* ``(node, output index)`` for another output of a node with several;
* the leaf tensor itself, for a leaf that requires grad;
* None, for an argument that needs no gradient (a constant, a number, an option).

The first edge lives in a slot of its own and the rest in ``other_edges``, a tuple that ops
with one tensor input share; a node of two arguments keeps its second edge in a slot too
(``other_edges`` is then the shared :data:`PAIR`).  The cyclic garbage collector then tracks
one object per node, not two, which on long graphs halves the time its full collections spend
rescanning them.  ``edges`` is the one tuple of all edges; ``next_functions`` presents them as
PyTorch does.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        try:
            self._hooks.remove(self._hook)
        except ValueError:
            pass

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def edge_of(tensor: Any) -> Any:
    """The graph edge to ``tensor`` as an input (see the module docstring): its node, ``(node,
    output index)``, the leaf itself when it requires grad, or None."""
    fn = tensor.grad_fn
    if fn is None:
        return tensor if tensor._rg else None
    nr = tensor._output_nr
    return fn if nr == 0 else (fn, nr)


def split_edge(edge: Any) -> tuple[Any, int]:
    """An edge as ``(target, output index)``: a node, a leaf tensor, or None."""
    if type(edge) is tuple:
        return edge
    return edge, 0


#: ``other_edges`` of the ops of one tensor and one constant, shared by all of them.
ONE_CONSTANT = (None,)


class _InSecondEdge:
    """What ``PAIR`` holds: not an edge (a reader that takes it for one fails loudly)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<see second_edge>"


#: ``other_edges`` of the nodes of two arguments: their second edge is in ``second_edge``.
PAIR = (_InSecondEdge(),)


def set_edges(node: "Node", edges: Any) -> None:
    """Store ``edges`` (one per argument) in ``node``'s slots, sharing the common tuples."""
    node.first_edge = edges[0]
    n = len(edges)
    if n == 1:
        node.other_edges = ()
    elif n == 2:
        node.second_edge = edges[1]
        node.other_edges = PAIR
    else:
        node.other_edges = tuple(edges[1:])


def freed_error(node: "Node") -> RuntimeError:
    return RuntimeError(
        f"Trying to backward through the graph a second time (or directly access saved "
        f"tensors after they have already been freed): the saved values of {node.name()} were "
        f"freed by the first backward. Specify retain_graph=True if you need to backward "
        f"through the graph a second time or if you need to access saved tensors after "
        f"calling backward."
    )


def inplace_error(node: "Node", role: str, op_name: str, version: Any) -> RuntimeError:
    now = f" (now at version {version})" if version is not None else ""
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: {role} of {node.name()}, saved for its backward, was modified "
        f"in place by {op_name or 'an in-place op'}{now} after it was saved. Use the "
        f"out-of-place form of {op_name or 'the op'}, or .clone() the tensor before changing it."
    )


class Node:
    """Base of every graph node.  Subclasses define ``apply_backward``."""

    # Hot fields are slots; hooks and anomaly traces are rare, so they live in __dict__ and
    # read the class defaults below until set (a node is created per op: keep it cheap).
    __slots__ = ("first_edge", "second_edge", "other_edges", "saved", "inputs", "output", "epoch",
                 "__dict__", "__weakref__")
    _checks: tuple | None = None  # user Functions' eager version checks
    _hooked = False  # any hook at all: the engine checks this one flag per node
    _pre_hooks: list | None = None
    _post_hooks: list | None = None
    _tensor_hooks: dict | None = None
    anomaly_trace: str | None = None
    n_outputs = 1
    #: The op's name where it differs from the class's (``MulScalar`` is PyTorch's Mul).
    display_name: str | None = None
    #: PyTorch's node name where it is not ``<display name>Backward0`` (``RsubBackward1``).
    pytorch_name: str | None = None
    #: How many leading arguments PyTorch's node takes as inputs (None: all of them) ...
    presented_inputs: int | None = None
    #: ... or exactly which, in its order (``where(c, a, b)``: a and b).
    presented: tuple | None = None
    #: Readable local derivative(s), one per input, used by ``chainrule.explain``.
    derivative: tuple[str, ...] = ()

    @property
    def edges(self) -> tuple:
        """One entry per argument: the input's node (``(node, output index)`` for an output
        other than the first), the leaf tensor itself, or None when it needs no gradient."""
        others = self.other_edges
        if others is PAIR:
            return (self.first_edge, self.second_edge)
        return (self.first_edge,) + others

    @edges.setter
    def edges(self, edges: tuple) -> None:
        set_edges(self, edges)

    @property
    def next_functions(self) -> tuple:
        """The edges as PyTorch shows them: ``(node, output index)`` pairs, with an
        :class:`AccumulateGrad` for a leaf and ``(None, 0)`` for an input without gradient."""
        return tuple(pytorch_edge(edge) for edge in self.presented_edges())

    def presented_edges(self) -> tuple:
        """The edges of the inputs PyTorch's node has, in its order."""
        edges = self.edges
        return tuple(edges[i] for i in self.presented_indices())

    def presented_indices(self) -> Any:
        """Which of this node's arguments are the inputs of PyTorch's node, in its order: the
        tensors, not the options (``sum(x, dim)`` has one input, chainrule's Sum records
        ``dim`` too).  ``next_functions`` and node post-hooks see the inputs so."""
        cls = type(self)
        if cls.presented is not None:
            return cls.presented
        count = len(self.other_edges) + 1
        shown = cls.presented_inputs
        return range(count if shown is None else min(shown, count))

    def needs_grad(self, index: int) -> bool:
        """Whether input ``index`` gets a gradient (backward formulas skip the others)."""
        if index == 0:
            return self.first_edge is not None
        others = self.other_edges
        if others is PAIR:
            return index == 1 and self.second_edge is not None
        return others[index - 1] is not None

    def name(self) -> str:
        """PyTorch's name for this node (``MulBackward0``): what ``grad_fn`` prints as, and
        its type's name, as graph walkers (torchviz ...) print that."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    # -- PyTorch's node hooks -------------------------------------------------------
    def register_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(grad_inputs, grad_outputs)`` runs after this node's backward."""
        return self._hook_into("_post_hooks", hook)

    def register_prehook(self, hook: Callable) -> RemovableHandle:
        """``hook(grad_outputs)`` runs before this node's backward; may return new ones."""
        return self._hook_into("_pre_hooks", hook)

    def _hook_into(self, slot: str, hook: Callable) -> RemovableHandle:
        hooks = getattr(self, slot)
        if hooks is None:
            hooks = []
            setattr(self, slot, hooks)
        self._hooked = True
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_tensor_hook(self, output_nr: int, hook: Callable) -> RemovableHandle:
        """``hook(grad)`` on the gradient of this node's output ``output_nr`` before its
        backward (``Tensor.register_hook`` of a non-leaf); a ``retain_grad`` hook stays last."""
        if self._tensor_hooks is None:
            self._tensor_hooks = {}
        self._hooked = True
        hooks = self._tensor_hooks.setdefault(output_nr, [])
        add_hook(hooks, hook)
        return RemovableHandle(hooks, hook)

    def _check_versions(self) -> None:
        for counter, version, position, index in self._checks:
            if counter.value != version:
                role = "its output" if index == -1 else (
                    f"input {index}" if index is not None else f"saved tensor {position}")
                raise inplace_error(self, role, counter.last_op, counter.value)

    def release(self) -> None:
        """Free what backward needed; a second backward then raises."""
        self.saved = None


def add_hook(hooks: list, hook: Callable) -> None:
    """Append ``hook``, keeping a ``retain_grad`` hook last: a retained ``.grad`` is the
    gradient after the user's hooks, as in PyTorch."""
    if hooks and getattr(hooks[-1], "retains_grad", False):
        hooks.insert(len(hooks) - 1, hook)
    else:
        hooks.append(hook)


class AccumulateGrad:
    """What PyTorch's ``next_functions`` shows for a leaf: the node that accumulates into its
    ``.grad``.  chainrule's engine accumulates into leaves directly; this is its face, one
    per leaf (the same object each time), holding the leaf weakly (no reference cycle)."""

    __slots__ = ("_variable", "__weakref__")
    next_functions: tuple = ()

    def __init__(self, variable: Any) -> None:
        self._variable = weakref.ref(variable)

    @property
    def variable(self) -> Any:
        """The leaf tensor whose gradient this accumulates."""
        return self._variable()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def register_prehook(self, hook: Callable) -> RemovableHandle:
        """``hook((grad,))`` before the gradient is accumulated; it may return a replacement
        ``(grad,)`` (the leaf's own tensor hooks, as PyTorch runs these)."""

        def tensor_hook(grad: Any) -> Any:
            result = hook((grad,))
            return None if result is None else result[0]

        return self._leaf().register_hook(tensor_hook)

    def register_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(grad_inputs, grad_outputs)`` with the leaf's gradient, ``((), (grad,))`` as
        in PyTorch (an AccumulateGrad node has no inputs); its result is ignored."""

        def tensor_hook(grad: Any) -> None:
            hook((), (grad,))

        return self._leaf().register_hook(tensor_hook)

    def _leaf(self) -> Any:
        leaf = self._variable()
        if leaf is None:
            raise RuntimeError("the leaf tensor of this AccumulateGrad node no longer exists")
        return leaf

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


def pytorch_edge(edge: Any) -> tuple:
    """An edge as PyTorch's ``next_functions`` entry: ``(node or AccumulateGrad, index)``."""
    if edge is None:
        return (None, 0)
    if type(edge) is tuple:
        return edge
    if isinstance(edge, Node):
        return (edge, 0)
    accumulator = edge.__dict__.get("_accumulate_grad")
    if accumulator is None:
        accumulator = edge.__dict__["_accumulate_grad"] = AccumulateGrad(edge)
    return (accumulator, 0)
