"""``torch.utils.checkpoint``: trade compute for memory.  A checkpointed function keeps none of
its activations for backward: backward runs it again (with the random numbers it drew the
first time) and differentiates that second run.

    y = checkpoint(block, x, use_reentrant=False)

``use_reentrant=False`` (PyTorch's recommendation): one graph node stands for the call, with
an edge to each tensor the function read that wants a gradient (its arguments, and the
parameters it used); its backward reruns the function and hands each of them its gradient
(``autograd.grad`` works through it).  Where the function reads a tensor whose history the
node cannot stand for (a custom ``autograd.Function`` inside it, a non-leaf tensor captured
from outside), the call keeps its ordinary graph: the same gradients, no memory saved.

``use_reentrant=True`` (PyTorch's older default): the node's edges are the function's tensor
arguments only; its backward reruns the function and runs ``backward`` inside it, which
accumulates the parameters' gradients directly.  As in PyTorch, at least one argument must
require grad, and ``autograd.grad`` cannot reach the parameters through it.
"""
from __future__ import annotations

import contextlib
import threading
import warnings
from typing import Any, Callable, Iterator

from ..autograd import graph
from ..autograd.engine import backward as _backward_of, grad as _grad_of
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, is_grad_enabled
from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction", "noop_context_fn",
           "detach_variable"]


class CheckpointError(RuntimeError):
    """The rerun of a checkpointed function did not give what its first run gave."""


def noop_context_fn() -> tuple:
    """The default ``context_fn``: no context around either run."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs: tuple) -> tuple:
    """Each tensor of ``inputs`` detached, with its ``requires_grad`` kept."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    out = []
    for item in inputs:
        if isinstance(item, Tensor):
            detached = item.detach()
            detached.requires_grad = item.requires_grad
            item = detached
        out.append(item)
    return tuple(out)


def checkpoint(function: Callable, *args: Any, use_reentrant: bool | None = None,
               context_fn: Callable[[], tuple] = noop_context_fn, determinism_check: str = "default",
               debug: bool = False, early_stop: bool = True, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, its activations not kept: backward computes them again."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in PyTorch "
            "2.9, calling checkpoint without use_reentrant will raise an exception. use_reentrant=False is "
            "recommended, but if you need to preserve the current default behavior, you can pass "
            "use_reentrant=True. Refer to docs for more details on the differences between the two variants.",
            stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got {determinism_check}")
    return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check, args, kwargs)


def checkpoint_sequential(functions: Any, segments: int, input: Any, use_reentrant: bool | None = None,
                          **kwargs: Any) -> Any:
    """Run ``functions`` (a list of modules, or an ``nn.Sequential``) one after the other in
    ``segments`` pieces, each checkpointed but the last."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed explicitly. "
            "In version 2.9 we will raise an exception if use_reentrant is not passed. use_reentrant=False is "
            "recommended, but if you need to preserve the current default behavior, you can pass "
            "use_reentrant=True. Refer to docs for more details on the differences between the two variants.",
            stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if hasattr(functions, "children") and not isinstance(functions, (list, tuple)):
        functions = list(functions.children())

    def run(start: int, end: int) -> Callable:
        def forward(value: Any) -> Any:
            for j in range(start, end + 1):
                value = functions[j](value)
            return value
        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)


# -- both variants: the second run -------------------------------------------------------------


def _rerun(function: Callable, rng_state: Any, context: Any, args: tuple, kwargs: dict) -> Any:
    """``function`` run again with grad on, from the random state of its first run (the
    caller's random state is left as it was)."""
    current = get_rng_state() if rng_state is not None else None
    try:
        if rng_state is not None:
            set_rng_state(rng_state)
        with enable_grad(), context:
            return function(*args, **kwargs)
    finally:
        if current is not None:
            set_rng_state(current)


def _as_tuple(outputs: Any) -> tuple:
    return outputs if isinstance(outputs, tuple) else (outputs,)


# -- use_reentrant=True ----------------------------------------------------------------------


class CheckpointFunction(Function):
    """PyTorch's CheckpointFunction: edges to the tensor arguments; backward reruns the
    function and backpropagates through the rerun inside this node's backward."""

    @staticmethod
    def forward(ctx: Any, run_function: Callable, preserve_rng_state: bool, *args: Any) -> Any:
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)
        ctx.run_function = run_function
        ctx.rng_state = get_rng_state() if preserve_rng_state else None
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        return run_function(*args)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> tuple:
        inputs = list(ctx.inputs)
        for position, tensor in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[position] = tensor
        inputs = list(detach_variable(tuple(inputs)))
        outputs = _as_tuple(_rerun(ctx.run_function, ctx.rng_state, contextlib.nullcontext(), tuple(inputs), {}))
        pairs = [(o, g) for o, g in zip(outputs, grads) if isinstance(o, Tensor) and o.requires_grad]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        _backward_of([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(x.grad if isinstance(x, Tensor) else None for x in inputs)


# -- use_reentrant=False ---------------------------------------------------------------------


class _Recipe:
    """What the second run needs: the function, its arguments, the random state, and the
    first run's output shapes (to check the second run against)."""

    def __init__(self, function: Callable, args: tuple, kwargs: dict, rng_state: Any, context: Any,
                 shapes: list, check: bool) -> None:
        self.function, self.args, self.kwargs = function, args, kwargs
        self.rng_state, self.context, self.shapes, self.check = rng_state, context, shapes, check


class Recomputation(Function):
    """One node for the whole call: edges to ``wanted`` (the tensors the function read that
    want a gradient); backward reruns the function and differentiates the rerun with respect
    to them."""

    @staticmethod
    def forward(ctx: Any, recipe: _Recipe, values: tuple, *wanted: Tensor) -> Any:
        ctx.recipe = recipe
        ctx.wanted = wanted
        return values if len(values) != 1 else values[0]

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> tuple:
        recipe = ctx.recipe
        outputs = _as_tuple(_rerun(recipe.function, recipe.rng_state, recipe.context, recipe.args, recipe.kwargs))
        shapes = [tuple(o.shape) if isinstance(o, Tensor) else None for o in outputs]
        if recipe.check and shapes != recipe.shapes:
            raise CheckpointError(
                "torch.utils.checkpoint: Recomputed values for the following tensors have different metadata than "
                f"during the forward pass: shapes {recipe.shapes} the first time, {shapes} when recomputed")
        pairs = [(o, g) for o, g in zip(outputs, grads) if isinstance(o, Tensor) and o.requires_grad and g is not None]
        # Under create_graph (grad mode on here) the gradients keep their graph: a second
        # derivative goes through the rerun.
        found = _grad_of([o for o, _ in pairs], list(ctx.wanted), [g for _, g in pairs], allow_unused=True,
                         create_graph=is_grad_enabled()) if pairs else (None,) * len(ctx.wanted)
        return (None, None) + tuple(found)


def _tensors(value: Any) -> Iterator[Tensor]:
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


def _checkpoint_without_reentrant(function: Callable, preserve: bool, context_fn: Callable, determinism_check: str,
                                  args: tuple, kwargs: dict) -> Any:
    forward_context, recompute_context = context_fn()
    if not is_grad_enabled():
        with forward_context:
            return function(*args, **kwargs)
    rng_state = get_rng_state() if preserve else None
    made: set = set()  # the nodes this call records
    thread = threading.get_ident()

    def note(node: Any, op_args: tuple, op_kwargs: dict, output: Any) -> None:
        if threading.get_ident() == thread:
            made.update(t.grad_fn for t in _tensors(output) if t.grad_fn is not None)

    with graph.on_apply(note), forward_context:
        outputs = function(*args, **kwargs)
    is_tuple = isinstance(outputs, tuple)
    wanted = _read_tensors(outputs, made, args, kwargs)
    if wanted is None or not wanted:
        return outputs  # (its own graph: see the module's docstring)
    results = _as_tuple(outputs)
    shapes = [tuple(o.shape) if isinstance(o, Tensor) else None for o in results]
    recipe = _Recipe(function, args, kwargs, rng_state, recompute_context, shapes, determinism_check == "default")
    # The first run's values, without its graph: nothing it recorded is kept past this call.
    values = tuple(o.detach() if isinstance(o, Tensor) else o for o in results)
    # An argument handed back as it is comes back as itself, as in PyTorch.
    passed = {i: o for i, o in enumerate(results) if any(o is a for a in _tensors((args, kwargs)))}
    del outputs, results, made
    recomputed = _as_tuple(Recomputation.apply(recipe, values, *wanted))
    final = tuple(passed.get(i, o) for i, o in enumerate(recomputed))
    return final if is_tuple else final[0]


def _read_tensors(outputs: Any, made: set, args: tuple, kwargs: dict) -> list | None:
    """The tensors the call read that want a gradient, found by walking its graph from its
    outputs down to the leaves and the arguments; None where the walk meets a node the call
    did not make and no argument stands for."""
    arguments = {}
    for tensor in _tensors((args, kwargs)):
        edge = graph.tensor_edge(tensor)
        if edge is not None and edge.node is not None:
            arguments[(edge.node, edge.output_nr)] = tensor
    wanted: dict = {}
    seen: set = set()
    stack = []
    for output in _tensors(outputs):
        edge = graph.tensor_edge(output)
        if edge is None:
            continue
        if edge.node is None:
            wanted[id(edge.leaf)] = edge.leaf
        elif (edge.node, edge.output_nr) in arguments:
            wanted[id(output)] = arguments[(edge.node, edge.output_nr)]
        elif edge.node in made:
            stack.append(edge.node)
        else:
            return None
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for edge in graph.inputs(node):
            if edge is None:
                continue
            if edge.is_leaf:
                wanted[id(edge.leaf)] = edge.leaf
            elif (edge.node, edge.output_nr) in arguments:
                tensor = arguments[(edge.node, edge.output_nr)]
                wanted[id(tensor)] = tensor
            elif edge.node in made:
                stack.append(edge.node)
            else:
                return None
    return list(wanted.values())
