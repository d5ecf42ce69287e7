"""``torch.func``: function transforms over chainrule's autograd.

- ``grad``/``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``/``jacfwd``, ``hessian``: the
  derivatives of a function of tensors (or of dicts, lists and tuples of them, as
  ``functional_call``'s parameters), computed by the reverse-mode engine with
  ``create_graph``, so that they nest (``grad(grad(f))``) and compose with ordinary autograd:
  a result keeps a graph only where it depends on a tensor that requires grad outside the
  transform, as PyTorch's.  ``jacfwd`` and ``jvp`` give forward mode's values by reverse-mode
  passes (one per output element, and the double-backward trick).
- ``vmap``: a function mapped over a dimension of its inputs, as one call per slice whose
  results are stacked (PyTorch batches each op instead; the values are the same).  ``in_dims``
  and ``out_dims`` follow PyTorch's rules and messages; ``randomness``: "error" refuses random
  draws, "same" gives every slice the first one's, "different" lets each slice draw in turn
  (PyTorch draws for the whole batch at once: uniform and integer draws are the same, normal
  ones of small slices and dropout masks of views may not be).
- ``functional_call`` (a module called with other tensors in place of its parameters and
  buffers) and ``stack_module_state`` (the parameters and buffers of several copies of a model
  stacked, for ``vmap`` over ``functional_call``: model ensembling).
"""
from __future__ import annotations

import contextlib
import functools
import threading
from typing import Any, Callable, Sequence

from .autograd.engine import grad as _autograd_grad
from .autograd.grad_mode import enable_grad
from .creation import zeros_like
from .functional import stack
from .random import default_generator, refusing_draws
from .nn.utils.stateless import reparametrized_call as functional_call
from .tensor import Tensor
from .utils._pytree import tree_flatten, tree_unflatten, treespec_pprint

__all__ = ["functional_call", "grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian",
           "vmap", "stack_module_state"]


# -- differentiating at a level ------------------------------------------------------------------

class _Levels(threading.local):
    depth = 0


_levels = _Levels()


def _argnums(argnums: Any, count: int) -> tuple[int, ...] | int:
    def one(n: Any) -> int:
        if not isinstance(n, int) or isinstance(n, bool):
            raise RuntimeError(f"argnum must be int, got: {type(n)}")
        if -count <= n < count:
            return n % count
        raise RuntimeError(f"Got argnum={n}, but only {count} positional inputs")

    if isinstance(argnums, tuple):
        if not argnums:
            raise RuntimeError("argnums must be non-empty")
        if len(set(argnums)) != len(argnums):
            raise RuntimeError(f"argnums elements must be unique, got {argnums}")
        return tuple(one(n) for n in argnums)
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        return one(argnums)
    raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")


class _Level:
    """One transform's differentiation: the tensors it differentiates with respect to (fresh
    leaves for those that do not require grad already), and the rule for what leaves it."""

    def __init__(self) -> None:
        self.fresh: set[int] = set()  # ids of the leaves this level made

    def differentiable(self, tree: Any, api: str) -> Any:
        leaves, spec = tree_flatten(tree)
        made = []
        for leaf in leaves:
            if not isinstance(leaf, Tensor):
                raise ValueError(f"Thing passed to transform API must be Tensor, got {type(leaf)}")
            if leaf.requires_grad:
                made.append(leaf.view_as(leaf))  # (a node of this level's own: gradients stop here)
            else:
                fresh = leaf.detach().requires_grad_(True)
                self.fresh.add(id(fresh))
                made.append(fresh)
        return tree_unflatten(made, spec)

    def undo(self, tree: Any) -> Any:
        """A result as the level outside sees it: without a graph unless it depends on a tensor
        that requires grad outside this transform."""
        leaves, spec = tree_flatten(tree)
        return tree_unflatten([self._undo_one(x) for x in leaves], spec)

    def _undo_one(self, x: Any) -> Any:
        if not isinstance(x, Tensor) or not x.requires_grad:
            return x
        if id(x) in self.fresh:
            return x.detach()
        return x if self._reaches_outside(x) else x.detach()

    def _reaches_outside(self, tensor: Tensor) -> bool:
        """Does ``tensor``'s graph reach a tensor requiring grad that this level did not make?"""
        stack_: list = [tensor.grad_fn]
        seen: set[int] = set()
        while stack_:
            node = stack_.pop()
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            for edge in node.edges:
                if edge is None:
                    continue
                if isinstance(edge, Tensor):
                    if id(edge) not in self.fresh:
                        return True
                    continue
                stack_.append(edge[0] if type(edge) is tuple else edge)
        return False


def _gradients(outputs: list, inputs: list, cotangents: list | None = None) -> list:
    """d outputs / d inputs (zeros where an input is unused), with a graph, keeping the graph."""
    # (an output that does not depend on the inputs has no graph: its gradients are zeros, as PyTorch's)
    live = [n for n, y in enumerate(outputs) if y.requires_grad]
    if not live:
        return [zeros_like(x) for x in inputs]
    if cotangents is not None:
        cotangents = [cotangents[n] for n in live]
    found = _autograd_grad([outputs[n] for n in live], inputs, cotangents, retain_graph=True, create_graph=True,
                           allow_unused=True)
    return [zeros_like(x) if g is None else g for g, x in zip(found, inputs)]


def _enter() -> _Level:
    _levels.depth += 1
    return _Level()


def _leave() -> None:
    _levels.depth -= 1


def _split_aux(output: Any, has_aux: bool, api: str) -> tuple:
    """``(output, aux)`` of a function that returns ``(output, aux)`` when ``has_aux``."""
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return output


def _differentiable_args(level: _Level, args: tuple, numbers: Any, api: str) -> tuple[list, Any]:
    """The arguments with those at ``numbers`` made differentiable at ``level``, and those."""
    args = list(args)
    for n in (numbers if isinstance(numbers, tuple) else (numbers,)):
        args[n] = level.differentiable(args[n], api)
    return args, (tuple(args[n] for n in numbers) if isinstance(numbers, tuple) else args[numbers])


# -- grad, vjp, jvp ------------------------------------------------------------------------------

def grad_and_value(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """``(gradient, value)`` of a function returning a scalar tensor, with respect to its
    ``argnums`` argument(s) (each a tensor or a pytree of them); ``has_aux``: ``func`` returns
    ``(value, aux)`` and the result is ``(gradient, (value, aux))``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        numbers = _argnums(argnums, len(args))
        level = _enter()
        try:
            with enable_grad():
                args, wrt = _differentiable_args(level, args, numbers, "grad")
                output, aux = _split_aux(func(*args, **kwargs), has_aux, "grad_and_value(f)(*args)")
                if not isinstance(output, Tensor):
                    raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                                       f"{type(output)}")
                if output.dim() != 0:
                    raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                                       f"tensor with {output.dim()} dims. Maybe you wanted to use the vjp or jacrev "
                                       f"APIs instead?")
                leaves, spec = tree_flatten(wrt)
                gradient = tree_unflatten(_gradients([output], leaves), spec)
            gradient, output, aux = level.undo(gradient), level.undo(output), level.undo(aux)
        finally:
            _leave()
        return (gradient, (output, aux)) if has_aux else (gradient, output)

    return wrapper


def grad(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """The gradient of a function returning a scalar tensor (see :func:`grad_and_value`);
    ``has_aux``: ``(gradient, aux)``."""
    both = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        gradient, value = both(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return wrapper


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``(func(*primals), vjp_fn)``: ``vjp_fn(cotangents)`` gives cotangents^T J, one entry per
    primal (``(output, vjp_fn, aux)`` with ``has_aux``)."""
    level = _enter()
    try:
        with enable_grad():
            inner = [level.differentiable(p, "vjp") for p in primals]
            output, aux = _split_aux(func(*inner), has_aux, "vjp(f, *primals)")
            outputs, out_spec = tree_flatten(output)
            for out in outputs:
                if not isinstance(out, Tensor) or not out.dtype.is_floating_point and not out.dtype.is_complex:
                    raise RuntimeError(f"vjp(f, ...): All outputs of f must be floating-point or complex Tensors, "
                                       f"got Tensor with dtype {getattr(out, 'dtype', type(out))}")
        shown = level.undo(output)
        aux = level.undo(aux)
    finally:
        _leave()
    leaves, spec = tree_flatten(inner)

    def vjp_fn(cotangents: Any, *, retain_graph: bool = True, create_graph: bool | None = None) -> tuple:
        flat, given = tree_flatten(cotangents)
        if len(flat) != len(outputs) or given != out_spec:
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as pytree structure of outputs "
                               f"to the function. cotangents: {treespec_pprint(given)}, primal output: {treespec_pprint(out_spec)}")
        with enable_grad():
            found = _gradients(outputs, leaves, flat)
        return tuple(level.undo(tree_unflatten(found, spec)))

    return (shown, vjp_fn, aux) if has_aux else (shown, vjp_fn)


def jvp(func: Callable, primals: Any, tangents: Any, *, strict: bool = False, has_aux: bool = False) -> tuple:
    """``(func(*primals), J tangents)``: the Jacobian-vector product (forward mode's values, by
    the double-backward trick)."""
    if not isinstance(primals, tuple):
        raise RuntimeError(f"jvp(f, primals, tangents): Expected primals to be a tuple of Tensors, got {type(primals)}")
    if not isinstance(tangents, tuple):
        raise RuntimeError(f"jvp(f, primals, tangents): Expected tangents to be a tuple of Tensors, got {type(tangents)}")
    level = _enter()
    try:
        with enable_grad():
            inner = [level.differentiable(p, "jvp") for p in primals]
            output, aux = _split_aux(func(*inner), has_aux, "jvp(f, primals, tangents)")
            outputs, out_spec = tree_flatten(output)
            leaves, _ = tree_flatten(inner)
            tangent_leaves, _ = tree_flatten(tangents)
            dummies = [zeros_like(out, requires_grad=True) for out in outputs]  # the backward is linear in these
            backs = _gradients(outputs, leaves, dummies)
            found = _gradients(backs, dummies, tangent_leaves)
        result = (level.undo(output), level.undo(tree_unflatten(found, out_spec)))
        aux = level.undo(aux)
    finally:
        _leave()
    return result + (aux,) if has_aux else result


def linearize(func: Callable, *primals: Any) -> tuple:
    """``(func(*primals), jvp_fn)``: the output, and a function giving the Jacobian-vector
    product at ``primals`` for tangents shaped like them (``jvp_fn(*tangents)``)."""
    output = func(*primals)
    primal_leaves, primal_spec = tree_flatten(primals)

    def jvp_fn(*tangents: Any) -> Any:
        tangent_leaves, tangent_spec = tree_flatten(tangents)
        if tangent_spec != primal_spec:
            raise RuntimeError(f"Expected the tangents {tangent_spec} to have the same argspec as the primals "
                               f"{primal_spec}")
        for i, (tangent, primal) in enumerate(zip(tangent_leaves, primal_leaves)):
            if tangent.shape != primal.shape:
                raise RuntimeError(f"tangent:{i} with shape {tangent.shape} in flattened pytree doesn't match the "
                                   f"shape {primal.shape} of the corresponding primal.")
            if tangent.dtype != primal.dtype:
                raise RuntimeError(f"tangent:{i} with dtype {tangent.dtype} in flattened pytree doesn't match the "
                                   f"dtype {primal.dtype} of the corresponding primal.")
        return jvp(func, primals, tangents)[1]

    return output, jvp_fn


# -- Jacobians and Hessians ----------------------------------------------------------------------

def jacrev(func: Callable, argnums: int | tuple[int, ...] = 0, *, has_aux: bool = False,
           chunk_size: int | None = None, _preallocate_and_copy: bool = False) -> Callable:
    """The Jacobian of ``func`` with respect to its ``argnums`` argument(s), by one reverse
    pass per output element: each output's entry has the output's shape followed by the
    argument's."""
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")
    return _jacobian(func, argnums, has_aux, "jacrev")


def jacfwd(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable:
    """The Jacobian (see :func:`jacrev`; the same values, computed in reverse mode here)."""
    return _jacobian(func, argnums, has_aux, "jacfwd")


def _jacobian(func: Callable, argnums: Any, has_aux: bool, api: str) -> Callable:
    @functools.wraps(func)
    def wrapper(*args: Any) -> Any:
        numbers = _argnums(argnums, len(args))
        level = _enter()
        try:
            with enable_grad():
                args, wrt = _differentiable_args(level, args, numbers, api)
                output, aux = _split_aux(func(*args), has_aux, f"{api}(f, ...)(*args)")
                outputs, out_spec = tree_flatten(output)
                leaves, spec = tree_flatten(wrt)
                per_output = []
                for out in outputs:
                    if not isinstance(out, Tensor):
                        raise RuntimeError(f"{api}(f, ...)(*args): expected f(*args) to return only tensors, got "
                                           f"unsupported type {type(out)}")
                    flat = out.reshape(-1)
                    rows = [_gradients([flat[i]], leaves) for i in range(flat.numel())]
                    blocks = []
                    for k, leaf in enumerate(leaves):
                        if rows:
                            block = stack([row[k] for row in rows])
                        else:
                            block = zeros_like(leaf).reshape(-1)[:0].reshape((0,) + tuple(leaf.shape))
                        blocks.append(block.reshape(tuple(out.shape) + tuple(leaf.shape)))
                    per_output.append(tree_unflatten(blocks, spec))
                result = tree_unflatten(per_output, out_spec)
            result, aux = level.undo(result), level.undo(aux)
        finally:
            _leave()
        return (result, aux) if has_aux else result

    return wrapper


def hessian(func: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """The Hessian of a scalar function: the Jacobian of its gradient."""
    return jacfwd(jacrev(func, argnums), argnums)


# -- vmap ----------------------------------------------------------------------------------------

_RANDOMNESS = ("error", "different", "same")


def _name(func: Callable) -> str:
    return getattr(func, "__name__", repr(func))


def vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """``func`` mapped over dimension ``in_dims`` of its inputs (an int for all, or one entry
    per argument, None for an argument that is not mapped, nested like the arguments), its
    results stacked along ``out_dims``.  Keyword arguments are not mapped."""
    if randomness not in _RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        name = _name(func)
        if not args:
            raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are "
                             f"trying to vmap over a function with no inputs. The latter is unsupported.")
        if not isinstance(in_dims, (int, tuple)) or isinstance(in_dims, bool):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a "
                             f"(potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}.")
        leaves, spec = tree_flatten(args)
        dims = _broadcast_dims(in_dims, args, name)
        size = None
        sizes = []
        for leaf, dim in zip(leaves, dims):
            if dim is None:
                continue
            if not isinstance(dim, int) or isinstance(dim, bool):
                raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={dim} for an input but "
                                 f"in_dim must be either an integer dimension or None.")
            if not isinstance(leaf, Tensor):
                raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={dim} for an input but "
                                 f"the input is of type {type(leaf)}. We cannot vmap over non-Tensor arguments, please "
                                 f"use None as the respective in_dim")
            if not -leaf.dim() <= dim < leaf.dim():
                raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={dim} for some input, "
                                 f"but that input is a Tensor of dimensionality {leaf.dim()} so expected in_dim to "
                                 f"satisfy -{leaf.dim()} <= in_dim < {leaf.dim()}.")
            sizes.append(leaf.shape[dim])
        if not sizes:
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): at least one input must be mapped "
                             f"(in_dims are all None)")
        if any(s != sizes[0] for s in sizes):
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                             f"{sizes} for the mapped dimension")
        size = sizes[0]
        results = []
        with _randomness(randomness):
            # ("same": every slice draws what the first drew, from the state it started from)
            start = default_generator.get_state() if randomness == "same" else None
            for i in range(size):
                if start is not None:
                    default_generator.set_state(start)
                sliced = [leaf if dim is None else leaf.select(dim, i) for leaf, dim in zip(leaves, dims)]
                results.append(func(*tree_unflatten(sliced, spec), **kwargs))
        return _stack_results(results, out_dims, name)

    return wrapper


def _randomness(randomness: str) -> Any:
    """The random draws vmap allows: none with "error", as PyTorch's."""
    if randomness != "error":
        return contextlib.nullcontext()
    return refusing_draws("vmap: called random operation while in randomness error mode. Please either use the "
                          "'same' or 'different' randomness flags on vmap or perform the randomness operation out "
                          "of vmap")


def _broadcast_dims(in_dims: Any, args: tuple, name: str) -> list:
    """One in_dim per leaf of ``args``."""
    if isinstance(in_dims, int):
        return [in_dims] * len(tree_flatten(args)[0])
    if len(in_dims) != len(args):
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
                         f"structure of `inputs`. in_dims has structure {tree_flatten(in_dims)[1]} but inputs "
                         f"has structure {tree_flatten(args)[1]}.")
    dims: list = []
    for dim, arg in zip(in_dims, args):
        count = len(tree_flatten(arg)[0])
        if dim is None or isinstance(dim, int):
            dims += [dim] * count
            continue
        flat_dims, dim_spec = tree_flatten(dim)
        if len(flat_dims) != count or dim_spec != tree_flatten(arg)[1]:
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
                             f"structure of `inputs`. in_dims has structure {tree_flatten(in_dims)[1]} but "
                             f"inputs has structure {tree_flatten(args)[1]}.")
        dims += flat_dims
    return dims


def _stack_results(results: list, out_dims: Any, name: str) -> Any:
    flat = [tree_flatten(r) for r in results]
    leaves_per_call = [f[0] for f in flat]
    spec = flat[0][1]
    count = len(leaves_per_call[0])
    if isinstance(out_dims, int) or out_dims is None:
        dims = [out_dims] * count
    else:
        dims, dims_spec = tree_flatten(out_dims)
        if len(dims) != count:
            raise ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with the "
                             f"structure of `outputs`. out_dims has structure {dims_spec} but outputs has "
                             f"structure {spec}.")
    stacked = []
    for k, dim in enumerate(dims):
        column = [leaves[k] for leaves in leaves_per_call]
        if dim is None:
            stacked.append(column[0])
            continue
        if not isinstance(column[0], Tensor):
            raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(column[0])}. "
                             f"Did you mean to set out_dims= to None for output?")
        stacked.append(stack(column, dim=dim))
    return tree_unflatten(stacked, spec)


# -- ensembles -----------------------------------------------------------------------------------

def stack_module_state(models: Sequence[Any]) -> tuple[dict, dict]:
    """``(params, buffers)``: each parameter and buffer of the (identically built) ``models``
    stacked along a new first dim, parameters as new leaves that require grad like the
    originals: for ``vmap(functional_call-of-one-copy)`` over them."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or not any(m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    first = type(models[0])
    if not all(type(m) is first for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    params = {name: stack([dict(m.named_parameters())[name].detach() for m in models])
              .requires_grad_(param.requires_grad)
              for name, param in models[0].named_parameters()}
    buffers = {name: stack([dict(m.named_buffers())[name] for m in models]) for name, _ in models[0].named_buffers()}
    return params, buffers

