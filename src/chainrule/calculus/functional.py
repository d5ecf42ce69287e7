"""``torch.autograd.functional``: Jacobians, Hessians and their products with vectors, built on
``autograd.grad``.

The six functions follow PyTorch's own implementation step by step (its input handling, its
``strict`` checks and their messages, which results carry a graph under ``create_graph``), so
that the same program gets the same numbers, the same nesting of tuples and the same errors.
Forward-mode AD does not exist here and ``chainrule.func.vmap`` loops: ``vectorize=True`` loops over the rows of the
Jacobian, and ``strategy="forward-mode"`` computes the same Jacobian in reverse mode.
"""
from __future__ import annotations

from typing import Any, Callable

from ..autograd.engine import grad
from ..autograd.grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from ..creation import zeros_like
from ..functional import cat, stack
from ..tensor import Tensor

_STRATEGIES = ("forward-mode", "reverse-mode")
_FORWARD_CREATE_GRAPH = (
    "torch.autograd.functional.jacobian: `create_graph=True` "
    'and `strategy="forward-mode"` are not supported together (yet). '
    "Please either set `create_graph=False` or "
    '`strategy="reverse-mode"`.'
)


# -- helpers (PyTorch's, one for one) ----------------------------------------------------------

def _as_tuple(inp: Any, arg_name: str | None = None, fn_name: str | None = None) -> tuple:
    """(was ``inp`` a tuple, ``inp`` as a tuple of Tensors).  Only a tuple counts as several
    tensors, as in PyTorch: a list is rejected with a TypeError."""

    is_inp_tuple = isinstance(inp, tuple)
    if not is_inp_tuple:
        inp = (inp,)
    for i, el in enumerate(inp):
        if not isinstance(el, Tensor):
            if is_inp_tuple:
                raise TypeError(
                    f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but the"
                    f" value at index {i} has type {type(el)}."
                )
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but the"
                f" given {arg_name} has type {type(el)}."
            )
    return is_inp_tuple, inp


def _tuple_postprocess(res: Any, to_unpack: Any) -> Any:
    """Undo ``_as_tuple``: unwrap the levels of nesting (outputs, inputs) that the caller did
    not pass as tuples."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """Fresh tensors for ``func`` to differentiate against.  Always new objects, so that the
    gradient is taken with respect to the argument and not to the same tensor captured by
    ``func`` (pytorch#32576).  Under ``create_graph`` an input that requires grad becomes a
    view of itself, so the result stays connected to the caller's graph."""
    res = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            res.append(inp.view_as(inp))
        else:
            res.append(inp.detach().requires_grad_(need_graph))
    return tuple(res)


def _grad_postprocess(inputs: tuple, create_graph: bool) -> tuple:
    """Drop the history of (possibly nested tuples of) results unless asked to keep it."""

    if isinstance(inputs[0], Tensor):
        return inputs if create_graph else tuple(inp.detach() for inp in inputs)
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v: tuple, other: tuple, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(
                f"{prepend}v has invalid size: should be {el_other.size()} but got {el_v.size()}."
            )


def _check_requires_grad(inputs: tuple, input_type: str, strict: bool) -> None:
    """In strict mode, refuse results that do not depend on the inputs."""
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:  # only gradients (``grad_inputs``) can be missing
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {i}."
                " This is not allowed in strict mode."
            )
        if inp.requires_grad:
            continue
        if input_type == "hessian":
            raise RuntimeError(
                f"The hessian of the user-provided function with respect to input {i}"
                " is independent of the input. This is not allowed in strict mode."
                " You should ensure that your function is thrice differentiable and that"
                " the hessian depends on the inputs."
            )
        if input_type == "jacobian":
            raise RuntimeError(
                "While computing the hessian, found that the jacobian of the user-provided"
                f" function with respect to input {i} is independent of the input. This is not"
                " allowed in strict mode. You should ensure that your function is twice"
                " differentiable and that the jacobian depends on the inputs (this would be"
                " violated by a linear function for example)."
            )
        if input_type == "grad_inputs":
            raise RuntimeError(
                f"The gradient with respect to input {i} is independent of the inputs of the"
                " user-provided function. This is not allowed in strict mode."
            )
        raise RuntimeError(
            f"Output {i} of the user-provided function does not require gradients."
            " The outputs must be computed in a differentiable manner from the input"
            " when running in strict mode."
        )


def _autograd_grad(outputs: tuple, inputs: tuple, grad_outputs: tuple | None = None,
                   create_graph: bool = False, retain_graph: bool | None = None) -> tuple:
    """``autograd.grad`` that skips outputs which are None or do not require grad (a constant
    output has a zero Jacobian, not an error), with None for every unused input."""

    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    live = [(out, g) for out, g in zip(outputs, grad_outputs) if out is not None and out.requires_grad]
    if not live:
        return (None,) * len(inputs)
    return grad([out for out, _ in live], list(inputs), [g for _, g in live], retain_graph=retain_graph,
                create_graph=create_graph, allow_unused=True)


_FILL_ERRORS = {
    "back": "The output of the user-provided function is independent of input {i}. "
            "This is not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
                   "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} "
                         "in the grad_jacobian. This is not allowed in strict mode as it prevents "
                         "from using the double backward trick to replace forward mode AD.",
}


def _fill_in_zeros(grads: tuple, refs: tuple, strict: bool, create_graph: bool, stage: str) -> tuple:
    """Zeros shaped like ``refs`` for the missing (None) gradients; in strict mode an error."""

    res = []
    for i, grads_i in enumerate(grads):
        if grads_i is None:
            if strict:
                raise RuntimeError(_FILL_ERRORS[stage].format(i=i))
            grads_i = zeros_like(refs[i])
        elif strict and create_graph and not grads_i.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(
                f"The {what} of the user-provided function is independent of input {i}. "
                "This is not allowed in strict mode when create_graph=True."
            )
        res.append(grads_i)
    return tuple(res)


# -- vector products ---------------------------------------------------------------------------

def _prepare_v(v: Any, fn_name: str, create_graph: bool, refs: tuple, is_refs_tuple: bool,
               what: str) -> tuple | None:
    """``v`` as a tuple checked against ``refs``; None only where PyTorch allows it (a single
    one-element ``refs``)."""
    if v is not None:
        _, v = _as_tuple(v, "v", fn_name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, refs, is_refs_tuple)
        return v
    if len(refs) != 1 or refs[0].nelement() != 1:
        raise RuntimeError(f"The vector v can only be None if {what} a single Tensor with a single element.")
    return None


def _scalar_output(outputs: tuple, is_outputs_tuple: bool, fn_name: str) -> None:
    if is_outputs_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {fn_name} should contain a single element"
        )


def _prepared_inputs(inputs: Any, name: str, create_graph: bool) -> tuple:
    """``(was a tuple, inputs)``: the inputs as a tuple of tensors that record a graph."""
    is_tuple, inputs = _as_tuple(inputs, "inputs", name)
    return is_tuple, _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)


def _checked_outputs(func: Callable, inputs: tuple, name: str, strict: bool) -> tuple:
    """``(was a tuple, outputs)``: ``func(*inputs)`` as a tuple, checked to require grad."""
    is_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", name)
    _check_requires_grad(outputs, "outputs", strict=strict)
    return is_tuple, outputs


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), v^T J): the vector-Jacobian product, by one backward pass.

    ``v`` may be omitted when ``func`` returns a single one-element tensor.  With ``strict``
    an output that does not require grad, or an input that no output depends on, is an error
    instead of a zero."""
    with enable_grad():
        is_inputs_tuple, inputs = _prepared_inputs(inputs, "vjp", create_graph)
        is_outputs_tuple, outputs = _checked_outputs(func, inputs, "vjp", strict)
        v = _prepare_v(v, "vjp", create_graph, outputs, is_outputs_tuple,
                       "the user-provided function returns")

    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        products = _fill_in_zeros(grad_res, inputs, strict, create_graph, "back")

    return _results(outputs, is_outputs_tuple, products, is_inputs_tuple, create_graph)


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), J v): the Jacobian-vector product, as the gradient of a vjp with respect
    to its (dummy) vector, which is linear in it (the double-backward trick)."""

    with enable_grad():
        is_inputs_tuple, inputs = _prepared_inputs(inputs, "jvp", create_graph)
        v = _prepare_v(v, "jvp", create_graph, inputs, is_inputs_tuple,
                       "the input to the user-provided function is")
        is_outputs_tuple, outputs = _checked_outputs(func, inputs, "jvp", strict)
        # The backward is linear in these, so their value never reaches the result: zeros are
        # as good as any (and carry no inf or nan into it).
        grad_outputs = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)

    products = _transposed(grad_inputs, grad_outputs, v, outputs, strict, create_graph, "back_trick")

    return _results(outputs, is_outputs_tuple, products, is_outputs_tuple, create_graph)


def _transposed(linear: tuple, dummies: tuple, v: tuple, like: tuple, strict: bool, create_graph: bool,
                stage: str) -> tuple:
    """``v`` through the transpose of the linear map ``dummies -> linear`` (the double-backward
    trick of jvp and hvp), zeros filled in where nothing flowed."""
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(linear, dummies, v, create_graph=create_graph)
        return _fill_in_zeros(grad_res, like, strict, create_graph, stage)


def _results(outputs: tuple, outputs_tuple: bool, products: tuple, products_tuple: bool,
             create_graph: bool) -> tuple:
    """``(func(inputs), product)`` in the caller's structure, detached unless create_graph."""
    outputs = _grad_postprocess(outputs, create_graph)
    products = _grad_postprocess(products, create_graph)
    return _tuple_postprocess(outputs, outputs_tuple), _tuple_postprocess(products, products_tuple)


def _scalar_gradient(func: Callable, inputs: Any, v: Any, create_graph: bool, strict: bool,
                     name: str) -> tuple:
    """The common start of vhp and hvp (under enable_grad): the inputs and ``v`` checked, the
    scalar output, and its gradient recorded for a second differentiation."""
    is_inputs_tuple, inputs = _prepared_inputs(inputs, name, create_graph)
    v = _prepare_v(v, name, create_graph, inputs, is_inputs_tuple,
                   "the input to the user-provided function is")
    is_outputs_tuple, outputs = _checked_outputs(func, inputs, name, strict)
    _scalar_output(outputs, is_outputs_tuple, name)
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict=strict)
    return is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), v^T H) for a scalar ``func``: the gradient of <grad func, v>."""
    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = _scalar_gradient(
            func, inputs, v, create_graph, strict, "vhp")

    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        products = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back")

    return _results(outputs, is_outputs_tuple, products, is_inputs_tuple, create_graph)


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), H v) for a scalar ``func``, by the double-backward trick on the gradient
    (as PyTorch does; for a twice continuously differentiable ``func`` it equals ``vhp``)."""

    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = _scalar_gradient(
            func, inputs, v, create_graph, strict, "hvp")
        grad_jac = tuple(zeros_like(inp, requires_grad=True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)

    products = _transposed(double_back, grad_jac, v, inputs, strict, create_graph, "double_back_trick")

    return _results(outputs, is_outputs_tuple, products, is_inputs_tuple, create_graph)


# -- Jacobian and Hessian ----------------------------------------------------------------------

def _jacobian_rows(outputs: tuple, inputs: tuple, create_graph: bool, strict: bool) -> tuple:
    """PyTorch's loop: one backward pass per element of each output, a row of the Jacobian.
    Returns jacobian[i][j] = d outputs[i] / d inputs[j], shaped output_i.shape + input_j.shape."""

    jacobian = []
    for i, out in enumerate(outputs):
        rows: tuple[list, ...] = tuple([] for _ in inputs)
        flat = out.reshape(-1)
        for m in range(out.nelement()):
            vj = _autograd_grad((flat[m],), inputs, retain_graph=True, create_graph=create_graph)
            for j, (rows_j, vj_el, inp) in enumerate(zip(rows, vj, inputs)):
                if vj_el is not None:
                    if strict and create_graph and not vj_el.requires_grad:
                        # Sic: PyTorch's message names the output's index as the input's.
                        raise RuntimeError(
                            "The jacobian of the user-provided function is independent of "
                            f"input {i}. This is not allowed in strict mode when create_graph=True."
                        )
                    rows_j.append(vj_el)
                else:
                    if strict:
                        raise RuntimeError(
                            f"Output {i} of the user-provided function is independent of input {j}. "
                            "This is not allowed in strict mode."
                        )
                    rows_j.append(zeros_like(inp))
        jacobian.append(tuple(stack(rows_j, 0).view(tuple(out.shape) + tuple(inputs[j].shape))
                              for j, rows_j in enumerate(rows)))
    return tuple(jacobian)


def _jacobian_batched(outputs: tuple, inputs: tuple, create_graph: bool) -> tuple:
    """``vectorize=True``, as ``_jacobian_rows`` returns it.  PyTorch takes one batched
    backward pass from all outputs at once, against the standard basis of their concatenation,
    and splits each input's result by output; here one pass per row of the concatenated
    outputs stands in for it.  Each pass starts from all outputs, so an input is missing
    (None) from every row or from none, as from the batched pass: then its blocks are zeros,
    otherwise slices of one stacked tensor, which under ``create_graph`` all carry a graph
    when any row does, as PyTorch's split views of one result do."""

    numels = [out.nelement() for out in outputs]
    total = sum(numels)
    live = [out.reshape(-1) for out in outputs if out.requires_grad]
    flat = (cat(live, 0) if len(live) > 1 else live[0]) if live else None
    live_rows: tuple[list, ...] = tuple([] for _ in inputs)
    for m in range(flat.nelement() if flat is not None else 0):
        vj = _autograd_grad((flat[m],), inputs, retain_graph=True, create_graph=create_graph)
        for rows_j, vj_el in zip(live_rows, vj):
            rows_j.append(vj_el)

    jacobian: list[list] = [[] for _ in outputs]
    for inp, rows_j in zip(inputs, live_rows):
        shape = tuple(inp.shape)
        if all(row is None for row in rows_j):
            full = zeros_like(inp).expand((total,) + shape)
        else:
            # The batched pass leaves constant outputs out, so their rows are zeros there.
            rows, k = [], 0
            for out, numel in zip(outputs, numels):
                if out.requires_grad:
                    rows.extend(rows_j[k:k + numel])
                    k += numel
                else:
                    rows.extend([None] * numel)
            full = stack([zeros_like(inp) if row is None else row for row in rows], 0)
        start = 0
        for blocks, out, numel in zip(jacobian, outputs, numels):
            blocks.append(full[start:start + numel].reshape(tuple(out.shape) + shape))
            start += numel
    return tuple(tuple(blocks) for blocks in jacobian)


def _reaches_other_grad(tensor: Any, own: set) -> bool:
    """Whether ``tensor``'s history reaches a tensor that requires grad, other than the
    leaves whose ids are in ``own``."""

    if not tensor.requires_grad:
        return False
    if tensor.grad_fn is None:
        return id(tensor) not in own
    seen, todo = set(), [tensor.grad_fn]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for edge in node.edges:  # None, a node, (node, output index) or a leaf tensor
            if type(edge) is tuple:
                edge = edge[0]
            if isinstance(edge, Tensor):
                if id(edge) not in own:
                    return True
            elif edge is not None:
                todo.append(edge)
    return False


def _jacobian_forward(func: Callable, inputs: Any, strict: bool, vectorize: bool,
                      primals_require_grad: bool = False) -> Any:
    """``strategy="forward-mode"``: PyTorch's checks and result (lists, in the output's
    dtype), computed in reverse mode since chainrule has no forward-mode AD.

    PyTorch's tangents carry a graph when their formulas meet a tensor that requires grad:
    a parameter ``func`` uses, an input that requires grad, or (``primals_require_grad``, in
    ``hessian``) every input.  The reverse-mode Jacobian is recorded, and a block keeps its
    graph exactly when it reaches such a tensor; the fresh leaves that reverse mode itself
    needs do not count.  (PyTorch's forward formulas sometimes meet a primal that the
    derivative does not depend on, e.g. that of ``x * 2``: there it has a graph and this has
    none.)"""
    if strict:
        raise RuntimeError(
            "torch.autograd.functional.jacobian: `strict=True` "
            'and `strategy="forward-mode"` are not supported together (yet). '
            "Please either set `strict=False` or "
            '`strategy="reverse-mode"`.'
        )
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    if not vectorize:
        raise NotImplementedError(
            "Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
            "only implemented for `vectorize=True`."
        )

    with enable_grad():
        inputs = _grad_preprocess(inputs, create_graph=True, need_graph=True)
        own = set() if primals_require_grad else {id(inp) for inp in inputs if inp.grad_fn is None}
        # PyTorch names no function here: its message reads "given to None".
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs")
        rows = _jacobian_rows(outputs, inputs, create_graph=True, strict=False)
        jacobian = []
        for blocks, out in zip(rows, outputs):
            keep = [_reaches_other_grad(block, own) for block in blocks]
            blocks = [block if k else block.detach() for block, k in zip(blocks, keep)]
            if any(keep):
                # PyTorch's tangents of one output form one tensor, split by input: all
                # of its blocks carry a graph when any of them does.
                numel, widths = out.nelement(), [inp.nelement() for inp in inputs]
                joined = cat([b.reshape(numel, w) for b, w in zip(blocks, widths)], 1)
                starts = [sum(widths[:j]) for j in range(len(widths))]
                blocks = [joined[:, a:a + w].reshape(tuple(b.shape))
                          for b, a, w in zip(blocks, starts, widths)]
            # Lists, not tuples: PyTorch builds this result from lists and keeps them.
            jacobian.append([block.to(out.dtype) for block in blocks])
    return _tuple_postprocess(jacobian, (is_outputs_tuple, is_inputs_tuple))


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """The Jacobian of ``func`` at ``inputs``: d output / d input shaped output.shape +
    input.shape.

    A single tensor when ``func`` takes one tensor and returns one; a tuple over inputs (or
    over outputs) when one of them is a tuple; ``J[i][j]`` (output ``i``, input ``j``) when
    both are.  An output that does not depend on an input gives zeros, or with ``strict`` an
    error.  Under ``create_graph`` the result is part of the graph (differentiable, also with
    respect to inputs that already require grad).  ``vectorize`` and ``strategy`` are
    accepted with PyTorch's rules and give the same values."""
    if strategy not in _STRATEGIES:
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
            'Otherwise, prefer to use "reverse-mode".'
        )
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(_FORWARD_CREATE_GRAPH)
        return _jacobian_forward(func, inputs, strict, vectorize)

    with enable_grad():
        is_inputs_tuple, inputs = _prepared_inputs(inputs, "jacobian", create_graph)
        is_outputs_tuple, outputs = _checked_outputs(func, inputs, "jacobian", strict)
        if vectorize:
            if strict:
                raise RuntimeError(
                    "torch.autograd.functional.jacobian: `strict=True` "
                    "and `vectorized=True` are not supported together. "
                    "Please either set `strict=False` or "
                    "`vectorize=False`."
                )
            jac = _jacobian_batched(outputs, inputs, create_graph)
        else:
            jac = _jacobian_rows(outputs, inputs, create_graph, strict)
        jac = _grad_postprocess(jac, create_graph)
    return _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar (one-element) ``func``: the Jacobian of its gradient.

    A single tensor shaped input.shape * 2 for one input; for a tuple of inputs a tuple of
    tuples, ``H[i][j]`` shaped input_i.shape + input_j.shape.  ``create_graph``, ``strict``,
    ``vectorize`` and ``outer_jacobian_strategy`` act as in ``jacobian``."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in _STRATEGIES:
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp: Any) -> Any:
        is_out_tuple, t_out = _checked_outputs(func, inp, "hessian", strict)
        if is_out_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        out = t_out[0]
        if out.nelement() != 1:
            raise RuntimeError(
                "The Tensor returned by the function given to hessian should contain a single element"
            )
        return out.squeeze()

    def jac_func(*inp: Any) -> tuple:
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    if outer_jacobian_strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(_FORWARD_CREATE_GRAPH)  # raised by PyTorch's jacobian
        # PyTorch's jac_func makes its (dual) inputs require grad, so that the outer forward
        # pass differentiates through the inner reverse one: every input counts.
        res = _jacobian_forward(jac_func, inputs, strict, vectorize, primals_require_grad=True)
    else:
        res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                       strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))
