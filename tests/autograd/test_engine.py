"""The backward engine: accumulation, retain_graph, errors, inputs=, autograd.grad, hooks,
retain_grad, grad-mode switches, detach, and a 1,000,000-op chain."""
from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close, pair


def f64(values, requires_grad=True):
    return chainrule.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# -- accumulation --------------------------------------------------------------------------


def test_leaf_used_twice_gets_the_sum():
    cx, tx = pair([1.0, -2.0, 3.0])
    for x in (cx, tx):
        (x * 2.0 + x * 3.0 + x * x).sum().backward()
    assert_close(cx.grad, tx.grad)
    assert_close(cx.grad, np.array([7.0, 1.0, 11.0]))


def test_diamond_graph():
    cx, tx = pair([0.5, 1.5])
    for x in (cx, tx):
        a = x.exp()
        b = a.sin()
        c = a.cos()
        (b * c + a).sum().backward()
    assert_close(cx.grad, tx.grad)


def test_grad_accumulates_across_backward_calls():
    cx, tx = pair([1.0, 2.0])
    for x in (cx, tx):
        (x * x).sum().backward()
        (x * 3.0).sum().backward()
    assert_close(cx.grad, tx.grad)
    assert_close(cx.grad, np.array([5.0, 7.0]))


def test_grad_is_not_shared_between_leaves():
    a = f64([1.0, 2.0])
    b = f64([3.0, 4.0])
    (a + b).sum().backward()
    a.grad.data[0] = 100.0
    assert b.grad.data[0] == 1.0


def test_grad_dtype_and_shape_follow_the_leaf():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 2).sum().backward()
    assert x.grad.dtype == chainrule.float32
    assert x.grad.shape == (2,)
    assert not x.grad.requires_grad


def test_multiple_roots_backward():
    cx, tx = pair([1.0, 2.0, 3.0])
    for lib, x in ((chainrule, cx), (torch, tx)):
        a = (x * x).sum()
        b = x.exp()
        lib.autograd.backward([a, b], [lib.tensor(2.0, dtype=lib.float64), lib.ones(3, dtype=lib.float64)])
    assert_close(cx.grad, tx.grad)


def test_root_that_is_also_intermediate():
    cx, tx = pair([1.0, 2.0])
    for lib, x in ((chainrule, cx), (torch, tx)):
        y = (x * x).sum()
        z = y * 3.0
        lib.autograd.backward([y, z])
    assert_close(cx.grad, tx.grad)


def test_backward_on_a_leaf():
    cx, tx = pair([1.0, 2.0])
    cx.backward(chainrule.tensor([3.0, 4.0], dtype=chainrule.float64))
    tx.backward(torch.tensor([3.0, 4.0], dtype=torch.float64))
    assert_close(cx.grad, tx.grad)


def test_multi_output_op_with_one_output_used():
    cx, tx = pair(np.arange(6.0).reshape(3, 2))
    for x in (cx, tx):
        first, second, third = x.split(1)
        (second * 5.0).sum().backward()
    assert_close(cx.grad, tx.grad)


def test_backward_gradient_argument_shape_mismatch():
    x = f64([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match="shape"):
        y.backward(chainrule.ones(3, dtype=chainrule.float64))


# -- retain_graph and freeing --------------------------------------------------------------


def test_retain_graph_allows_second_backward():
    cx, tx = pair([1.0, 2.0])
    for x in (cx, tx):
        y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward()
    assert_close(cx.grad, tx.grad)
    assert_close(cx.grad, np.array([4.0, 8.0]))


@pytest.mark.parametrize("fn", [lambda x: (x * x).sum(), lambda x: x.exp().sum(), lambda x: (x @ x),
                                lambda x: x.sigmoid().mean(), lambda x: x.pow(3).sum()],
                         ids=["mul", "exp", "matmul", "sigmoid", "pow"])
def test_second_backward_without_retain_graph_raises(fn):
    with pytest.raises(RuntimeError, match="retain_graph"):
        y = fn(torch.tensor([1.0, 2.0], requires_grad=True))
        y.backward()
        y.backward()
    x = f64([1.0, 2.0])
    y = fn(x)
    y.backward()
    with pytest.raises(RuntimeError) as error:
        y.backward()
    assert "retain_graph" in str(error.value)
    assert "second time" in str(error.value)


def test_second_backward_through_ops_that_save_nothing_is_allowed():
    # As in PyTorch: add and sum keep nothing for backward, so nothing was freed.
    cx, tx = pair([1.0, 2.0])
    for x in (cx, tx):
        y = (x + 1.0).sum()
        y.backward()
        y.backward()
    assert_close(cx.grad, tx.grad)


def test_autograd_grad_frees_graph_unless_retained():
    x = f64([1.0, 2.0])
    y = (x * x).sum()
    chainrule.autograd.grad(y, x, retain_graph=True)
    chainrule.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="retain_graph"):
        chainrule.autograd.grad(y, x)


# -- errors ----------------------------------------------------------------------------------


def test_backward_of_non_scalar_without_gradient_raises():
    with pytest.raises(RuntimeError) as expected:
        (torch.ones(2, requires_grad=True) * 2).backward()
    with pytest.raises(RuntimeError) as error:
        (chainrule.ones(2, requires_grad=True) * 2).backward()
    assert "grad can be implicitly created only for scalar outputs" in str(expected.value)
    assert "grad can be implicitly created only for scalar outputs" in str(error.value)


def test_backward_of_tensor_not_requiring_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        chainrule.ones(2).sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        chainrule.ones(2, requires_grad=True).detach().sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        with chainrule.no_grad():
            y = (chainrule.ones(2, requires_grad=True) * 2).sum()
        y.backward()


def test_backward_of_integer_output_raises():
    x = chainrule.ones(2, requires_grad=True)
    y = (x > 0).sum()
    with pytest.raises(RuntimeError):
        y.backward()


def test_grad_of_input_not_requiring_grad_raises():
    x = f64([1.0])
    w = f64([2.0], requires_grad=False)
    with pytest.raises(RuntimeError, match="does not require grad"):
        chainrule.autograd.grad((x * w).sum(), w)


# -- inputs= -------------------------------------------------------------------------------


def test_backward_inputs_restricts_accumulation():
    cx, tx = pair([1.0, 2.0])
    cw, tw = pair([3.0, -1.0])
    for x, w in ((cx, cw), (tx, tw)):
        (x * w).sum().backward(inputs=[x])
    assert_close(cx.grad, tx.grad)
    assert cw.grad is None and tw.grad is None


def test_backward_inputs_single_tensor_and_non_leaf():
    cx, tx = pair([1.0, 2.0])
    cw, tw = pair([3.0, -1.0])
    for x, w in ((cx, cw), (tx, tw)):
        h = x * w
        h.retain_grad()
        (h * h).sum().backward(inputs=w)
    assert_close(cw.grad, tw.grad)
    assert cx.grad is None and tx.grad is None


def test_autograd_backward_inputs_argument():
    cx, tx = pair([1.0, 2.0])
    cw, tw = pair([3.0, -1.0])
    for lib, x, w in ((chainrule, cx, cw), (torch, tx, tw)):
        lib.autograd.backward([(x * w).sum()], inputs=[w, x])
    assert_close(cx.grad, tx.grad)
    assert_close(cw.grad, tw.grad)


# -- autograd.grad ---------------------------------------------------------------------------


def test_autograd_grad_basic_and_does_not_touch_dot_grad():
    cx, tx = pair([1.0, 2.0, 3.0])
    results = []
    for lib, x in ((chainrule, cx), (torch, tx)):
        (g,) = lib.autograd.grad((x ** 3).sum(), x)
        results.append(g)
        assert x.grad is None
    assert_close(*results)


def test_autograd_grad_with_grad_outputs():
    cx, tx = pair([[1.0, 2.0], [3.0, 4.0]])
    v = np.array([[1.0, -1.0], [0.5, 2.0]])
    (gc,) = chainrule.autograd.grad(cx.exp(), cx, grad_outputs=chainrule.tensor(v))
    (gt,) = torch.autograd.grad(tx.exp(), tx, grad_outputs=torch.tensor(v))
    assert_close(gc, gt)
    (gc,) = chainrule.autograd.grad([cx.exp()], [cx], [chainrule.tensor(v)])
    assert_close(gc, gt)


def test_autograd_grad_several_inputs_and_outputs():
    cx, tx = pair([1.0, 2.0])
    cw, tw = pair([0.5, -1.0])
    out = []
    for lib, x, w in ((chainrule, cx, cw), (torch, tx, tw)):
        a = (x * w).sum()
        b = (x.exp() * w).sum()
        out.append(lib.autograd.grad([a, b], [x, w]))
    assert_close(out[0][0], out[1][0])
    assert_close(out[0][1], out[1][1])


def test_autograd_grad_allow_unused():
    x = f64([1.0, 2.0])
    unused = f64([3.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        chainrule.autograd.grad((x * 2).sum(), [x, unused])
    with pytest.raises(RuntimeError, match="allow_unused"):
        torch.autograd.grad((torch.ones(2, requires_grad=True) * 2).sum(),
                            [torch.ones(2, requires_grad=True), torch.ones(1, requires_grad=True)])
    gx, gu = chainrule.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None
    assert_close(gx, np.array([2.0, 2.0]))
    gx, gu = chainrule.autograd.grad((x * 2).sum(), [x, unused], materialize_grads=True)
    assert_close(gu, np.zeros(1))


def test_autograd_grad_non_leaf_input():
    cx, tx = pair([1.0, 2.0])
    res = []
    for lib, x in ((chainrule, cx), (torch, tx)):
        h = x.exp()
        res.append(lib.autograd.grad((h * h).sum(), h)[0])
    assert_close(res[0], res[1])


def test_autograd_grad_runs_only_the_nodes_above_its_inputs():
    """As PyTorch's engine: the nodes below the tensors asked for do not run, so what they saved
    is still there for a later backward (a gradient penalty, then the loss's own backward)."""
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor([0.5, 1.5], dtype=lib.float64, requires_grad=True)
        h = x.exp()
        ran = []
        h.grad_fn.register_hook(lambda grad_inputs, grad_outputs: ran.append("exp"))
        (gh,) = lib.autograd.grad((h * h).sum(), h)
        assert ran == []
        h.sum().backward()  # ExpBackward0 kept what it saved
        assert ran == ["exp"]
        results.append((gh, x.grad))
        y = lib.tensor([2.0], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([3.0], dtype=lib.float64, requires_grad=True)
        z = (y * 3 + w.exp()).sum()
        lib.autograd.grad(z, y)
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            z.backward()  # the nodes above y ran and freed theirs, as in PyTorch
    assert_close(results[0][0], results[1][0])
    assert_close(results[0][1], results[1][1])


def test_backward_with_inputs_leaves_the_other_branches_unrun():
    x = f64([1.0, 2.0])
    w = f64([0.5, 0.25])
    h = w.sin()
    loss = (x * h).sum()
    loss.backward(inputs=[x])
    assert w.grad is None
    assert_close(x.grad, np.sin([0.5, 0.25]))
    h.sum().backward()  # h's SinBackward0 did not run: what it saved is still there
    assert_close(w.grad, np.cos([0.5, 0.25]))


def test_autograd_grad_create_graph():
    cx, tx = pair([1.0, 2.0])
    res = []
    for lib, x in ((chainrule, cx), (torch, tx)):
        (g,) = lib.autograd.grad((x.sin() * x).sum(), x, create_graph=True)
        assert g.requires_grad
        (gg,) = lib.autograd.grad(g.sum(), x)
        res.append((g, gg))
    assert_close(res[0][0], res[1][0])
    assert_close(res[0][1], res[1][1])


def test_autograd_grad_without_create_graph_is_constant():
    x = f64([1.0, 2.0])
    (g,) = chainrule.autograd.grad((x * x).sum(), x)
    assert not g.requires_grad and g.grad_fn is None


# -- hooks and retain_grad -------------------------------------------------------------------


def test_leaf_hook_sees_and_replaces_gradient():
    seen = []
    cx = f64([1.0, 2.0])
    handle = cx.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 10)
    (cx * 3).sum().backward()
    np.testing.assert_allclose(seen[0], [3.0, 3.0])
    assert_close(cx.grad, np.array([30.0, 30.0]))
    handle.remove()
    cx.grad = None
    (cx * 3).sum().backward()
    assert_close(cx.grad, np.array([3.0, 3.0]))
    assert len(seen) == 1


def test_non_leaf_hook_changes_upstream_gradient():
    cx, tx = pair([1.0, 2.0])
    for x in (cx, tx):
        h = x * x
        h.register_hook(lambda g: g * 2)
        h.register_hook(lambda g: g + 1)  # hooks run in registration order
        h.sum().backward()
    assert_close(cx.grad, tx.grad)


@pytest.mark.parametrize("hook,error", [
    (lambda g: g[:1], RuntimeError), (lambda g: g.reshape(2, 1), RuntimeError), (lambda g: 3, TypeError),
    (lambda g: g.double(), RuntimeError),
])
def test_a_hook_may_not_change_the_size_or_type_of_the_gradient(hook, error):
    messages = []
    for lib in (torch, chainrule):
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        y.register_hook(hook)
        with pytest.raises(error) as raised:
            y.sum().backward()
        messages.append(str(raised.value).replace("torch.", "").replace("chainrule.", ""))
    assert messages[0] == messages[1]


def test_calling_a_node_runs_its_backward_as_in_pytorch():
    """``grad_fn(grad)``: the chain rule one node at a time, by hand."""
    outputs = []
    for lib in (torch, chainrule):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        recorded = (x * x).grad_fn(lib.ones(3, dtype=lib.float64))
        constant = (x * 2).grad_fn(lib.ones(3, dtype=lib.float64))
        squared = (x ** 2).grad_fn(lib.ones(3, dtype=lib.float64))  # (one input: the exponent is no edge)
        unneeded = (lib.ones(3, dtype=lib.float64) - x).grad_fn(lib.ones(3, dtype=lib.float64))
        exp_node = x.exp().grad_fn
        with lib.no_grad():
            single = exp_node(lib.ones(3, dtype=lib.float64))
        loss = (x * 3).tanh().sum()
        upstream = loss.grad_fn(lib.tensor(1.0, dtype=lib.float64))  # SumBackward0
        through_tanh = loss.grad_fn.next_functions[0][0](upstream)
        by_hand = loss.grad_fn.next_functions[0][0].next_functions[0][0](through_tanh)[0]
        with pytest.raises(TypeError, match="expected 1 arguments, got 2 instead"):
            x.exp().grad_fn(lib.ones(3), lib.ones(3))
        used = x.exp()
        used.sum().backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
            used.grad_fn(lib.ones(3, dtype=lib.float64))
        outputs.append(([r.requires_grad for r in recorded], [r.tolist() for r in recorded], constant[0].tolist(),
                        constant[1], squared.tolist(), unneeded[0], unneeded[1].tolist(), single.tolist(),
                        single.requires_grad, by_hand.tolist()))
    assert outputs[0][:-1] == outputs[1][:-1]
    np.testing.assert_allclose(outputs[1][-1], outputs[0][-1], rtol=1e-11)  # (tanh: NumPy's, not Sleef's last bits)


def test_hook_returning_none_keeps_gradient():
    calls = []
    cx, tx = pair([1.0, 2.0])
    for x in (cx, tx):
        h = x.exp()
        h.register_hook(lambda g: calls.append(1))
        (h * 2).sum().backward()
    assert_close(cx.grad, tx.grad)
    assert len(calls) == 2


def test_removed_non_leaf_hook_does_not_run():
    calls = []
    x = f64([1.0, 2.0])
    h = x * 2
    handle = h.register_hook(lambda g: calls.append(1))
    handle.remove()
    handle.remove()  # removing twice is harmless
    h.sum().backward()
    assert calls == []
    assert_close(x.grad, np.array([2.0, 2.0]))


def test_register_hook_on_tensor_not_requiring_grad_raises():
    with pytest.raises(RuntimeError):
        torch.ones(2).register_hook(lambda g: g)
    with pytest.raises(RuntimeError):
        chainrule.ones(2).register_hook(lambda g: g)


def test_retain_grad():
    cx, tx = pair([1.0, 2.0])
    hs = []
    for x in (cx, tx):
        h = x.exp()
        h.retain_grad()
        assert h.retains_grad
        (h * h).sum().backward()
        hs.append(h)
    assert_close(hs[0].grad, hs[1].grad)
    assert_close(cx.grad, tx.grad)


def test_retain_grad_sees_the_gradient_after_every_hook():
    # PyTorch runs the retain_grad hook last, whenever the other hooks were registered.
    cx, tx = pair([1.0, -2.0])
    hs = []
    for x in (cx, tx):
        h = x * 2
        h.register_hook(lambda g: g + 1)
        h.retain_grad()
        handle = h.register_hook(lambda g: g * 10)
        (h ** 2).sum().backward()
        hs.append(h)
        handle.remove()
    assert_close(hs[0].grad, hs[1].grad)
    assert_close(cx.grad, tx.grad)


def test_non_leaf_without_retain_grad_has_no_grad():
    x = f64([1.0, 2.0])
    h = x * 2
    h.sum().backward()
    assert h.grad is None
    assert not h.is_leaf and x.is_leaf


def test_retain_grad_accumulates():
    x = f64([1.0, 2.0])
    h = x * 2
    h.retain_grad()
    y = (h * h).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert_close(h.grad, 4 * np.array([2.0, 4.0]))


# -- grad mode switches ----------------------------------------------------------------------


def test_no_grad_context_manager():
    x = f64([1.0])
    with chainrule.no_grad():
        assert not chainrule.is_grad_enabled()
        y = x * 2
    assert chainrule.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_enable_grad_inside_no_grad():
    x = f64([1.0])
    with chainrule.no_grad():
        with chainrule.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad


def test_set_grad_enabled_context_and_call():
    x = f64([1.0])
    with chainrule.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    chainrule.set_grad_enabled(False)
    try:
        assert not chainrule.is_grad_enabled()
        assert not (x * 2).requires_grad
    finally:
        chainrule.set_grad_enabled(True)
    assert chainrule.is_grad_enabled()


def test_grad_modes_as_decorators():
    x = f64([1.0])

    @chainrule.no_grad()
    def off():
        return x * 2

    @chainrule.enable_grad()
    def on():
        return x * 2

    @chainrule.set_grad_enabled(False)
    def also_off():
        return x * 2

    assert chainrule.is_grad_enabled()  # decorating changes nothing
    assert not off().requires_grad
    assert also_off().requires_grad is False
    with chainrule.no_grad():
        assert on().requires_grad
    assert chainrule.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with chainrule.no_grad():
            raise ValueError
    assert chainrule.is_grad_enabled()

    @chainrule.no_grad()
    def boom():
        raise ValueError

    with pytest.raises(ValueError):
        boom()
    assert chainrule.is_grad_enabled()


def test_inference_mode():
    x = f64([1.0])
    with chainrule.inference_mode():
        assert not (x * 2).requires_grad
    with chainrule.inference_mode(False):
        assert (x * 2).requires_grad


# -- detach / requires_grad_ -----------------------------------------------------------------


def test_detach_shares_storage_and_cuts_graph():
    x = f64([1.0, 2.0])
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    d.data[0] = 50.0  # shares storage with y, as in PyTorch
    assert y.data[0] == 50.0
    (y * d).sum().backward()
    assert_close(x.grad, 2 * d.numpy())


def test_detach_in_place():
    x = f64([1.0, 2.0])
    y = x * 2
    assert y.detach_() is y
    assert y.grad_fn is None and not y.requires_grad and y.is_leaf


def test_requires_grad_():
    x = chainrule.tensor([1.0, 2.0])
    assert not x.requires_grad
    assert x.requires_grad_() is x
    assert x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    with pytest.raises(RuntimeError):
        chainrule.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]).requires_grad_()
    y = f64([1.0]) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_requires_grad_propagates():
    a = f64([1.0])
    b = f64([2.0], requires_grad=False)
    assert (a * b).requires_grad
    assert not (b * b).requires_grad
    assert (a * b).grad_fn is not None
    assert (a * b).grad_fn.name() == "MulBackward0"


def test_next_functions_link_the_graph():
    a = f64([1.0])
    y = a.exp() * 2
    mul = y.grad_fn
    exp_node, index = mul.next_functions[0]
    assert exp_node.name() == "ExpBackward0" and index == 0
    assert mul.next_functions[1] == (None, 0)  # the number 2
    accumulate, index = exp_node.next_functions[0]
    assert type(accumulate).__name__ == "AccumulateGrad" and accumulate.variable is a and index == 0
    # The same object each time, as in PyTorch (and no reference cycle with the leaf).
    assert (a * 3).grad_fn.next_functions[0][0] is accumulate


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_no_op_shadows_the_node_fields():
    # A subclass slot named like a Node field (e.g. "output") would be overwritten when the
    # node is recorded; einsum's backward once broke that way.
    import chainrule.ops.einsum  # noqa: F401  (load every op module)
    import chainrule.ops.nn  # noqa: F401

    node_fields = set(chainrule.autograd.Node.__slots__)
    for cls in _all_subclasses(chainrule.autograd.Node):
        own = set(cls.__dict__.get("__slots__", ()))
        assert not own & node_fields, f"{cls.__name__} redefines {own & node_fields}"


# -- a 1,000,000-op chain --------------------------------------------------------------------


def test_million_op_chain_backs_through_at_default_recursion_limit():
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        x = chainrule.tensor(0.5, dtype=chainrule.float64, requires_grad=True)
        y = x
        for _ in range(1_000_000):
            y = -y
        y = y * 3.0
        y.backward()
        assert x.grad.item() == 3.0
        del y  # freeing the chain must not recurse either
    finally:
        sys.setrecursionlimit(previous)


def test_walking_next_functions_as_the_pytorch_tutorial_does():
    # The 60-minute blitz prints loss.grad_fn, then .next_functions[0][0] twice.
    names = []
    for lib in (torch, chainrule):
        x = lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4))
        fc1 = lib.nn.Linear(4, 5).double()
        fc2 = lib.nn.Linear(5, 2).double()
        loss = lib.nn.functional.mse_loss(fc2(lib.relu(fc1(x))), lib.zeros(3, 2, dtype=lib.float64))
        walk = [loss.grad_fn]
        while walk[-1] is not None and walk[-1].next_functions:
            walk.append(walk[-1].next_functions[0][0])
        names.append([type(n).__name__ if lib is torch else n.name() for n in walk[:-1]] + [type(walk[-1]).__name__])
    # PyTorch's mse_loss is one node; chainrule's is mean(square(diff)), named MseLossBackward0.
    torch_names, chainrule_names = names
    assert torch_names[0] == chainrule_names[0] == "MseLossBackward0"
    assert chainrule_names[-4:] == torch_names[-4:]  # ... AddmmBackward0, ReluBackward0, AddmmBackward0, AccumulateGrad


def test_node_post_hook_can_replace_the_input_gradients():
    results = []
    for lib in (torch, chainrule):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x.exp()
        y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] * 0.5,))
        y.sum().backward()
        results.append(x.grad)
        z = x * x
        z.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0],))
        with pytest.raises(RuntimeError, match="incorrect number of values"):
            z.sum().backward()
    assert_close(results[1], results[0])


def test_grad_modes_as_bare_decorators_and_on_generators():
    outcomes = []
    for lib in (torch, chainrule):
        x = lib.tensor([1.0], requires_grad=True)

        @lib.no_grad
        def bare_no_grad():
            return (x * 2).requires_grad

        @lib.enable_grad
        def bare_enable_grad():
            return (x * 2).requires_grad

        @lib.inference_mode
        def bare_inference():
            return (x * 2).requires_grad

        @lib.no_grad()
        def generator():
            for i in range(2):
                yield (x * i).requires_grad
                # The caller's mode between values is its own.

        values = generator()
        first = next(values)
        between = (x * 3).requires_grad
        rest = list(values)
        with lib.no_grad():
            inside = bare_enable_grad()
        outcomes.append((bare_no_grad(), bare_enable_grad(), bare_inference(), first, between, rest, inside,
                         lib.is_grad_enabled()))
    assert outcomes[1] == outcomes[0] == (False, True, False, False, True, [False], True, True)


def test_a_leaf_hook_runs_once_on_the_summed_gradient():
    results = []
    for lib in (torch, chainrule):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        calls = []
        x.register_hook(lambda g: calls.append(1) or g.clamp(-1, 1))
        ((x * x).sum() + (x * 3).sum()).backward()
        results.append((x.grad, len(calls)))
    assert_close(results[1][0], results[0][0])
    assert results[1][1] == results[0][1] == 1


def test_mixed_dtype_gradients_take_the_tensor_dtype():
    for lib in (torch, chainrule):
        x = lib.ones(3, requires_grad=True)
        w = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)
        a = x * 2
        a.retain_grad()
        (a * w).sum().backward()
        assert a.grad.dtype == lib.float32 and a.grad.tolist() == [1.0, 2.0, 3.0]
        x.grad = None
        (x * w).sum().backward(create_graph=True)
        assert x.grad.dtype == lib.float32 and x.grad.tolist() == [1.0, 2.0, 3.0]


def test_retained_non_leaf_in_backward_inputs_is_not_counted_twice():
    for lib in (torch, chainrule):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = a * 2
        b.retain_grad()
        (b * b).sum().backward(inputs=[b])
        assert b.grad.tolist() == [4.0, 8.0] and a.grad is None


def test_post_hooks_see_pytorchs_inputs_in_its_order():
    results = []
    for lib in (torch, chainrule):
        lib.manual_seed(0)
        layer = lib.nn.Linear(2, 2)
        with lib.no_grad():
            layer.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0]]))
            layer.bias.zero_()
        x = lib.ones(1, 2, requires_grad=True)
        out = layer(x)
        seen = []
        out.grad_fn.register_hook(lambda gi, go: seen.append(len(gi)) or (gi[0] * 0,) + tuple(gi[1:]))
        y = (x.exp() ** 2).sum()
        y.grad_fn.register_hook(lambda gi, go: (gi[0] * 3,))  # PowBackward0 has one input
        (out.sum() + y).backward()
        results.append((layer.bias.grad, x.grad, seen))
    (cb, cx, cs), (tb, tx, ts) = results[1], results[0]
    assert_close(cb, tb)
    assert_close(cx, tx, rtol=1e-6)  # float32 exp
    assert cs == ts == [3]


def test_accumulate_grad_hooks():
    results = []
    for lib in (torch, chainrule):
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        accumulate = p.expand_as(p).grad_fn.next_functions[0][0]
        seen = []
        accumulate.register_prehook(lambda grads: (grads[0] * 10,))
        accumulate.register_hook(lambda grad_inputs, grad_outputs: seen.append(grad_outputs[0].tolist()))
        (p * 3).sum().backward()
        results.append((p.grad.tolist(), seen))
    assert results[1] == results[0] == ([30.0, 30.0], [[30.0, 30.0]])


def test_post_accumulate_grad_hook_runs_once_per_backward_after_accumulation():
    results = []
    for lib in (torch, chainrule):
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        handle = p.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
        ((p * 2).sum() + (p * 3).sum()).backward()
        (p * 2).sum().backward()
        handle.remove()
        (p * 1).sum().backward()
        results.append((seen, p.grad.tolist()))
        with pytest.raises(RuntimeError, match="non-leaf"):
            (p * 1).register_post_accumulate_grad_hook(lambda t: None)
    assert results[1] == results[0]


def test_a_post_accumulate_grad_hook_that_returns_a_value_is_refused():
    for lib in (torch, chainrule):
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        p.register_post_accumulate_grad_hook(lambda t: t.grad.mul_(2))  # (returns the gradient)
        with pytest.raises(RuntimeError, match="^Tensor post accumulate grad hooks should return None.$"):
            (p * 3).sum().backward()
        assert p.grad.tolist() == [6.0, 6.0]  # (the hook ran: the check comes after it)


def test_grad_with_batched_grad_outputs():
    results = []
    for lib in (torch, chainrule):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        y = x * x + x.sum()
        (jacobian,) = lib.autograd.grad(y, x, lib.eye(3, dtype=lib.float64), is_grads_batched=True)
        results.append(jacobian)
    assert_close(results[1], results[0])


def test_a_leaf_never_keeps_a_gradient_array_that_is_used_elsewhere():
    # x + ... hands the same upstream array to the leaf and to the rest of the graph (and,
    # at the root, that array is the caller's seed): accumulating into it must not change
    # the gradient still on its way elsewhere, nor the seed.
    results = []
    for lib in (torch, chainrule):
        x, y, z = (lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in ([1.0, 2.0], [3.0, 4.0], [0.5, 2.0]))
        out = (x + y * z * 0.5) + (x + y / z * 2) + (x + y / z)
        seed = lib.tensor([1.0, -1.0], dtype=lib.float64)
        out.backward(seed)
        results.append((x.grad, y.grad, z.grad, seed))
    for c, t in zip(results[1], results[0]):
        assert_close(c, t)


def test_hooked_leaf_that_is_also_a_root_runs_its_hooks_once():
    results = []
    for lib in (torch, chainrule):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        calls, seen = [], []
        x.register_hook(lambda g: calls.append(1) or g.clamp(max=1.5))
        x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
        lib.autograd.backward([x, x * 2], [lib.ones(2), lib.ones(2)])
        results.append((x.grad.tolist(), len(calls), seen))
    assert results[1] == results[0]


def test_autograd_grad_leaves_other_leaves_hooks_alone_and_accepts_an_input_twice():
    for lib in (torch, chainrule):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        calls = []
        w.register_hook(lambda g: calls.append(1))
        (gx,) = lib.autograd.grad((x * w).sum(), [x])
        assert calls == [] and gx.tolist() == [3.0, 4.0]
        g1, g2 = lib.autograd.grad((x * x).sum(), [x, x])
        assert g1.tolist() == g2.tolist() == [2.0, 4.0]


def test_create_graph_gradient_is_not_aliased_with_the_seed():
    results = []
    for lib in (torch, chainrule):
        x = lib.tensor([1.0, 1.0], requires_grad=True)
        y = lib.tensor([1.0, 1.0], requires_grad=True)
        seed = lib.ones(2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch warns about backward(create_graph=True)
            (x + y).backward(seed, create_graph=True)
        (x + y).backward(seed)
        results.append((x.grad.tolist(), y.grad.tolist(), seed.tolist(), x.grad is y.grad))
    assert results[1] == results[0]


def test_post_hooks_of_clamp_with_tensor_bounds_see_the_bounds():
    results = []
    for lib in (torch, chainrule):
        a = lib.tensor([[-1.0, 2.0, 0.5], [3.0, -4.0, 0.25]], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]], dtype=lib.float64, requires_grad=True)
        c = a.clamp(min=b)
        c.grad_fn.register_hook(lambda gi, go: (gi[0], gi[1] * 5, gi[2]))
        c.sum().backward()
        results.append((type(c.grad_fn).__name__, len(c.grad_fn.next_functions), b.grad.tolist()))
    assert results[1] == results[0]


def test_autograd_grad_calls_no_hook_of_a_node_it_does_not_run():
    calls = {}
    for lib in (torch, chainrule):
        seen = calls[lib.__name__] = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        y = x.sin()
        y.register_hook(lambda g: seen.append("tensor hook"))
        y.retain_grad()
        y.grad_fn.register_prehook(lambda g: seen.append("pre hook"))
        lib.autograd.grad((y * w).sum(), w)
        assert y.grad is None
        (gy,) = lib.autograd.grad((y * w).sum(), y)  # asked for: its own tensor hook runs
        assert gy.tolist() == [3.0, 4.0]
    assert calls["chainrule"] == calls["torch"] == ["tensor hook"]


def test_one_node_graphs_take_the_short_path_with_the_walks_results():
    """dot(a, b) is one node whose inputs are leaves: the engine runs it without its walk, and
    everything the walk does still holds: accumulation, retain_graph, a leaf used twice, hooks."""
    for lib in (torch, chainrule):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = lib.tensor([4.0, 5.0, 6.0], requires_grad=True)
        out = lib.dot(a, b)
        out.backward(retain_graph=True)
        out.backward()  # a second pass accumulates
        assert a.grad.tolist() == [8.0, 10.0, 12.0] and b.grad.tolist() == [2.0, 4.0, 6.0]
        with pytest.raises(RuntimeError, match="second time"):
            out.backward()
        twice = lib.dot(a, a)  # one leaf on both edges: the sum
        a.grad = None
        twice.backward()
        assert a.grad.tolist() == [2.0, 4.0, 6.0]
        seen = []
        b.register_hook(lambda g: seen.append(g.tolist()))  # a hooked leaf: the walk's path
        b.grad = None
        lib.dot(a, b).backward(lib.tensor(2.0))
        assert seen == [[2.0, 4.0, 6.0]] and b.grad.tolist() == [2.0, 4.0, 6.0]
