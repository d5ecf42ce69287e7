"""The public graph API (chainrule.autograd.graph): walking nodes and edges, what a node kept,
recomputing and back-propagating pieces, watching forwards and backwards."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from chainrule.autograd import graph


def _small():
    w = chainrule.tensor([0.2, 0.3], requires_grad=True, dtype=chainrule.float64)
    x = chainrule.tensor([0.5, 0.7], dtype=chainrule.float64)
    y = (w * x).tanh().sum()
    return w, x, y


def test_walk_visits_consumers_first_and_inputs_name_their_sources():
    w, x, y = _small()
    nodes = graph.walk(y)
    assert [graph.op_name(n) for n in nodes] == ["Sum", "Tanh", "Mul"]
    assert graph.walk(y.grad_fn) == nodes
    mul = nodes[-1]
    leaf_edge, constant = graph.inputs(mul)
    assert leaf_edge.is_leaf and leaf_edge.leaf is w and constant is None
    (tanh_edge,) = graph.inputs(nodes[0])[:1]
    assert tanh_edge.node is nodes[1] and tanh_edge.output_nr == 0
    assert list(graph.iter_leaves(y)) == [w]
    assert graph.walk(w) == [] and graph.walk(x) == []


def test_gradient_edges_as_pytorch_names_them():
    w, _, y = _small()
    assert graph.get_gradient_edge(y) == (y.grad_fn, 0)
    leaf_node, nr = graph.get_gradient_edge(w)
    assert leaf_node.name() == "torch::autograd::AccumulateGrad" and leaf_node.variable is w and nr == 0
    values, indices = chainrule.tensor([[1.0, 4.0]], requires_grad=True).max(1)
    assert graph.get_gradient_edge(values).output_nr == 0
    with pytest.raises(RuntimeError, match="does not require gradients"):
        graph.get_gradient_edge(chainrule.ones(2))
    t = torch.ones(2, requires_grad=True)
    assert torch.autograd.graph.get_gradient_edge(t * 2).output_nr == 0


def test_kept_values_and_in_place_changes():
    a = chainrule.tensor([1.0, 2.0], requires_grad=True)
    b = a * 3.0
    c = b.exp()
    exp = c.grad_fn
    assert np.allclose(graph.kept_output(exp), np.exp([3.0, 6.0]))
    mul = chainrule.tensor([1.0, 2.0], requires_grad=True) * chainrule.tensor([4.0, 5.0])
    arguments = graph.kept_arguments(mul.grad_fn)
    assert set(arguments) == {0, 1} and arguments[1].tolist() == [4.0, 5.0]
    assert not graph.changed_since(c, exp)
    with chainrule.no_grad():
        c.mul_(2.0)
    assert graph.changed_since(c, exp)
    assert graph.kept_output(exp) is None
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()


def test_recompute_and_local_backward_touch_nothing():
    w, x, y = _small()
    tanh = graph.walk(y)[1]
    assert np.allclose(graph.recompute(tanh, [np.array([0.0, 1.0])]), np.tanh([0.0, 1.0]))
    grads = graph.local_backward(tanh, np.ones(2))
    assert np.allclose(grads[0], 1 - np.tanh([0.1, 0.21]) ** 2)
    assert w.grad is None
    with pytest.raises(TypeError, match="other arguments"):
        graph.recompute(graph.walk(y)[0], [np.ones(2)])  # Sum records its options too


def test_backward_gradients_is_a_dry_run():
    w, _, y = _small()
    ran = []
    w.register_hook(lambda g: ran.append("leaf hook"))
    y.grad_fn.register_hook(lambda *a: ran.append("node hook"))
    seen = []
    with graph.on_backward(lambda node, outs, ins: seen.append(node)):
        found = graph.backward_gradients(y)
    assert ran == [] and seen == [] and w.grad is None
    mul = graph.walk(y)[-1]
    grad_outputs, grad_inputs = found[mul]
    expected = (1 - np.tanh([0.1, 0.21]) ** 2)
    assert np.allclose(grad_outputs[0], expected)
    assert np.allclose(grad_inputs[0], expected * [0.5, 0.7]) and grad_inputs[1] is None
    y.backward()
    assert ran == ["node hook", "leaf hook"]
    with pytest.raises(graph.GraphFreed, match="retain_graph=True"):
        graph.backward_gradients(y)


def test_watching_records_and_backwards():
    recorded, watched, every = [], [], []
    with graph.on_record(lambda node, args, kwargs, out: recorded.append(graph.op_name(node))):
        w, _, y = _small()
    assert recorded == ["Mul", "Tanh", "Sum"]
    handle = graph.watch(y.grad_fn, lambda node, outs, ins: watched.append(outs[0].tolist()))
    with graph.on_backward(lambda node, outs, ins: every.append(graph.op_name(node))):
        y.backward(retain_graph=True)
    assert watched == [1.0] and every == ["Sum", "Tanh", "Mul"]
    handle.remove()
    y.backward()
    assert watched == [1.0]
    _small()
    assert len(recorded) == 3  # the handle was removed when the block ended


def test_what_a_node_is():
    w, _, y = _small()
    sum_node, tanh, mul = graph.walk(y)
    assert graph.derivative_formulas(tanh) == ("d tanh(u)/du = 1 - tanh(u)^2",)
    assert graph.is_elementwise(tanh) and graph.is_elementwise(mul) and not graph.is_elementwise(sum_node)

    class Double(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    node = Double.apply(w).grad_fn
    assert graph.op_name(node) == "Double" and graph.is_custom_function(node)


def test_increment_version_makes_saved_values_stale():
    a = chainrule.tensor([1.0, 2.0], requires_grad=True)
    b = a.exp()
    b.data.numpy()[...] = 0.0  # behind autograd's back ...
    graph.increment_version(b)  # ... and said so
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()
    assert b._version == 1


def test_every_kind_of_graph_cut_is_reported():
    w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    seen = []

    def watcher(kind, sources, output, op):
        seen.append((kind, op, any(s is w for s in sources)))
        return None if output is None else f"{kind} here"

    with graph.on_cut(watcher):
        detached = (w * 2).detach()
        assert graph.cut_of(detached) == "detach here" and graph.cut_of(detached + 1) == "detach here"
        _ = w.data
        w.sum().item()
        w.tolist()
        w.long()
        _ = w > 0
        w.argmax()
        chainrule.tensor(w)
        with chainrule.no_grad():
            under = w * 2
        assert graph.cut_of(under) == "no_grad here"
    assert seen == [("detach", None, False), ("data", None, True), ("item", None, False), ("tolist", None, True),
                    ("integer_cast", "int64", True), ("no_derivative", "Compare", True),
                    ("no_derivative", "Argmax", True), ("tensor", None, True), ("no_grad", "Mul", True)]
    # With no one watching: the plain descriptions a backward's error gives, nothing else.
    assert graph.cut_of(w.detach()) == "a .detach() call" and graph.cut_of(w) is None
    with chainrule.no_grad():
        assert graph.cut_of(w * 2) == "Mul (computed under no_grad)"
    assert graph.cut_of(w.argmax()) is None


def test_backward_calls_are_reported_with_their_outcome():
    w = chainrule.tensor([1.0], requires_grad=True)
    calls = []
    with graph.on_backward_call(lambda roots, error: calls.append((roots, error))):
        loss = (w * 3).sum()
        loss.backward()
        with pytest.raises(RuntimeError, match="does not require grad"):
            loss.detach().backward()
    assert calls[0][0] == [loss] and calls[0][1] is None
    assert isinstance(calls[1][1], RuntimeError)
    (w * 3).sum().backward()
    assert len(calls) == 2


def test_grad_reads_are_watched_only_while_someone_watches():
    plain = chainrule.Tensor.__dict__["grad"]
    w = chainrule.tensor([1.0], requires_grad=True)
    (w * 3).sum().backward()
    reads = []
    with graph.on_grad_read(lambda tensor, grad: reads.append((tensor is w, grad.tolist()))):
        assert w.grad.tolist() == [3.0]
        w.grad = None  # assigning is not a read, and still checked
        with pytest.raises(RuntimeError, match="size"):
            w.grad = chainrule.zeros(2)
    assert reads == [(True, [3.0])]
    assert chainrule.Tensor.__dict__["grad"] is plain
# -- capturing (chainrule.compiler's view) ----------------------------------------------------


def test_on_apply_sees_every_op_recorded_or_not():
    w, x, _ = _small()
    seen = []
    with graph.on_apply(lambda node, args, kwargs, out: seen.append((graph.op_name(node), out.grad_fn is node))):
        (w * x).sum()
        x.exp()
        with chainrule.no_grad():
            w.sin()
    assert seen == [("Mul", True), ("Sum", True), ("Exp", False), ("Sin", False)]


def test_before_hooks_bracket_each_forward_and_each_backward():
    w, x, _ = _small()
    seen = []
    with graph.on_apply(lambda node, *rest: seen.append(("after", graph.op_name(node))),
                        before=lambda cls: seen.append(("before", cls.op_name))):
        y = (w * x).sum()
        with chainrule.no_grad():
            x.exp()
    assert seen == [("before", "Mul"), ("after", "Mul"), ("before", "Sum"), ("after", "Sum"),
                    ("before", "Exp"), ("after", "Exp")]
    seen.clear()
    with graph.on_backward(lambda node, *grads: seen.append(("after", graph.op_name(node))),
                           before=lambda node: seen.append(("before", graph.op_name(node)))):
        graph.backward_gradients(y)  # a dry run: no observer of this kind is told
        y.backward()
    assert seen == [("before", "Sum"), ("after", "Sum"), ("before", "Mul"), ("after", "Mul")]
    seen.clear()
    (w * x).sum().backward()  # unregistered: nothing is told
    assert seen == []


def test_on_read_reports_values_read_into_python():
    w, x, y = _small()
    reads = []
    with graph.on_read(lambda tensor, how: reads.append((tensor is y, how.split()[0]))):
        y.item()
        bool(y > 0)
        x.tolist()
        x.numpy()
    assert reads == [(True, "item()"), (False, "bool()"), (False, "tolist()"), (False, "numpy()")]


def test_on_inplace_reports_changes_and_version_bumps():
    x = chainrule.zeros(3)
    events = []
    with graph.on_inplace(lambda stage, target, name, change: events.append((stage, name, target is x))):
        x.add_(1.0)
        x[0] = 5.0
    assert events == [("begin", "add_", True), ("version", "add_", False), ("end", "add_", True),
                      ("version", "__setitem__", False)]
    assert graph.version(x) == 2 and graph.value(x) is x._data


def test_a_detached_op_runs_again_on_other_arrays():
    w, x, y = _small()
    mul = graph.walk(y)[-1]
    twin = graph.detached(mul)
    assert twin.needs_grad(0) and not twin.needs_grad(1) and twin.saved is None
    out = graph.replay(twin, np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert out.tolist() == [3.0, 8.0]
    grads = twin.backward(np, np.array([1.0, 1.0]))
    assert grads[0].tolist() == [3.0, 4.0] and grads[1] is None
    total = graph.detached(graph.walk(y)[0])
    assert isinstance(graph.replay(total, np.array([1.0, 2.0]), None, False), np.ndarray)  # 0-d, as apply makes


def test_record_makes_one_node_for_a_region():
    w = chainrule.tensor([1.0, 2.0], requires_grad=True)
    calls = []

    def backward(grads):
        calls.append(grads)
        return (grads[0] * 10.0,)

    (out,) = graph.record([np.array([5.0, 6.0])], [True], [w], backward, kept=[(graph.value(w), "w")])
    assert out.grad_fn.name() == "CompiledFunctionBackward" and isinstance(out.grad_fn, graph.CompiledFunctionBackward)
    out.sum().backward()
    assert w.grad.tolist() == [10.0, 10.0]
    with pytest.raises(RuntimeError, match="second time"):
        out.sum().backward()
    (plain,) = graph.record([np.array([1.0])], [True], [chainrule.ones(1)], backward)
    assert plain.grad_fn is None and not plain.requires_grad


def test_backward_gradients_of_several_roots():
    w, x, y = _small()
    z = (w * 3.0).sum()
    found = graph.backward_gradients([y, z])
    assert sorted(graph.op_name(n) for n in found) == ["Mul", "Mul", "Sum", "Sum", "Tanh"]
    assert w.grad is None


@pytest.mark.parametrize("make", [
    lambda L, x: L.nn.functional.conv2d(x(1, 2, 5, 5), x(3, 2, 3, 3), x(3)),
    lambda L, x: L.nn.functional.conv2d(x(1, 2, 5, 5), x(3, 2, 3, 3)),
    lambda L, x: L.nn.functional.conv_transpose2d(x(1, 2, 5, 5), x(2, 3, 3, 3), x(3)),
    lambda L, x: L.nn.functional.embedding(L.tensor([0, 1]), x(3, 2)),
    lambda L, x: L.nn.functional.nll_loss(x(2, 3), L.tensor([0, 1])),
    lambda L, x: L.nn.functional.max_pool2d(x(1, 1, 4, 4), 2),
    lambda L, x: L.nn.functional.avg_pool2d(x(1, 1, 4, 4), 2),
    lambda L, x: L.nn.functional.pad(x(2, 2), (1, 1)),
    lambda L, x: L.nn.functional.interpolate(x(1, 1, 2, 2), scale_factor=2, mode="bilinear"),
    lambda L, x: L.nn.functional.unfold(x(1, 1, 3, 3), 2),
], ids=["conv2d", "conv2d-no-bias", "conv_transpose2d", "embedding", "nll_loss", "max_pool2d", "avg_pool2d", "pad",
        "interpolate", "unfold"])
def test_next_functions_list_pytorchs_inputs_only(make):
    """An op's options (stride, padding, indices ...) are no inputs of PyTorch's node: its
    ``next_functions`` list the tensors only, as graph walkers (torchviz ...) expect."""
    shown = []
    for lib in (torch, chainrule):
        out = make(lib, lambda *shape: lib.randn(*shape, requires_grad=True))
        shown.append([None if node is None else type(node).__name__ for node, _ in out.grad_fn.next_functions])
    assert shown[0] == shown[1]
