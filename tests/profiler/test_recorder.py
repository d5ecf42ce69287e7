"""What the profiler records: PyTorch's names for chainrule's ops and nodes, nesting, self
time, shapes and memory; and nothing at all while no profiler runs."""
from __future__ import annotations

import numpy as np
import torch
import torch.profiler

import chainrule
from chainrule.autograd import graph
from chainrule.profiler import profile, record_function
from chainrule.profiler.recorder import Recorder, active, aten_names

#: The names both libraries record for the program below (PyTorch records more: the
#: transposes, copies and AccumulateGrad nodes inside its composites).
CORE = {"aten::linear", "aten::addmm", "aten::relu", "aten::mse_loss", "aten::sum", "aten::mul",
        "MseLossBackward0", "AddmmBackward0", "ReluBackward0", "SumBackward0", "MulBackward0", "model"}
CORE |= {f"autograd::engine::evaluate_function: {n}" for n in CORE if n.endswith("Backward0")}


def _program(lib, x, y):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 2))
    with lib.profiler.profile(record_shapes=True, profile_memory=True) as prof:
        with lib.profiler.record_function("model"):
            out = model(lib.tensor(x))
        loss = lib.nn.functional.mse_loss(out, lib.tensor(y)) + (out * 2.0).sum()
        loss.backward()
    return prof


def _counts(prof):
    return {e.key: e.count for e in prof.key_averages() if e.key in CORE}


def test_names_and_counts_of_a_mlp_forward_and_backward_are_pytorchs():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((3, 2)).astype(np.float32)
    ours, theirs = _counts(_program(chainrule, x, y)), _counts(_program(torch, x, y))
    assert set(ours) == set(theirs) == CORE
    # PyTorch also sums and multiplies inside its backward formulas
    assert {k: v for k, v in ours.items() if k not in ("aten::sum", "aten::mul")} == \
        {k: v for k, v in theirs.items() if k not in ("aten::sum", "aten::mul")}


def test_self_time_excludes_children_and_ranges_nest():
    prof = _program(chainrule, np.ones((3, 4), np.float32), np.ones((3, 2), np.float32))
    events = prof.events()
    for event in events:
        assert 0 <= event.self_cpu_time_total <= event.cpu_time_total
        for child in event.cpu_children:
            assert child.cpu_parent is event
            assert event.time_range.start <= child.time_range.start <= child.time_range.end <= event.time_range.end
    model = next(e for e in events if e.name == "model")
    assert [c.name for c in model.cpu_children] == ["aten::linear", "aten::relu", "aten::linear"]
    assert [c.name for c in model.cpu_children[0].cpu_children] == ["aten::addmm"]
    assert model.self_cpu_time_total == model.cpu_time_total - sum(c.cpu_time_total for c in model.cpu_children)
    backward = [e for e in events if e.name.startswith("autograd::engine")]
    assert [len(e.cpu_children) for e in backward] == [1] * len(backward)
    total = prof.key_averages().total_average()
    assert total.key == "Total" and total.count == len(events)
    assert np.isclose(prof.self_cpu_time_total, sum(e.self_cpu_time_total for e in events))


def test_shapes_and_memory_of_an_op():
    prof = _program(chainrule, np.ones((3, 4), np.float32), np.ones((3, 2), np.float32))
    relu = next(e for e in prof.events() if e.name == "aten::relu")
    assert relu.input_shapes == [[3, 8]]
    assert relu.cpu_memory_usage == relu.self_cpu_memory_usage == 3 * 8 * 4  # float32 output
    linear = next(e for e in prof.events() if e.name == "aten::linear")
    assert linear.input_shapes == [[3, 4], [8, 4], [8]]
    assert linear.self_cpu_memory_usage == 0 and linear.cpu_children[0].self_cpu_memory_usage == 3 * 8 * 4
    grouped = {(e.key, str(e.input_shapes)): e.count for e in prof.key_averages(group_by_input_shape=True)}
    assert grouped[("aten::linear", "[[3, 4], [8, 4], [8]]")] == 1
    assert grouped[("aten::linear", "[[3, 8], [2, 8], [2]]")] == 1


def test_a_view_allocates_nothing():
    x = chainrule.ones(4, 6)
    with profile(profile_memory=True) as prof:
        x.view(6, 4)
        x.reshape(24) + 1
    memory = {e.name: e.cpu_memory_usage for e in prof.events()}
    assert memory["aten::view"] == 0 and memory["aten::add"] == 24 * 4


def test_record_function_as_decorator_and_outside_any_profile():
    @record_function("step")
    def step(t):
        return t.exp()

    step(chainrule.ones(2))  # no profiler: nothing to record into, and nothing fails
    with profile() as prof:
        step(chainrule.ones(2))
        step(chainrule.ones(2))
    steps = [e for e in prof.events() if e.name == "step"]
    assert len(steps) == 2 and [c.name for c in steps[0].cpu_children] == ["aten::exp"]
    assert steps[0].is_user_annotation


def test_nothing_is_recorded_or_registered_without_a_profiler():
    before = (list(graph.observe.forward), list(graph.observe.starting), list(graph.observe.backward),
              list(graph.observe.backward_starting))
    with profile() as prof:
        pass
    recorder = Recorder()
    x = chainrule.ones(3, requires_grad=True)
    (x * 2).sum().backward()
    assert prof.events() == [] and recorder.events() == [] and active == []
    assert (graph.observe.forward, graph.observe.starting, graph.observe.backward,
            graph.observe.backward_starting) == before


def test_an_op_that_raises_leaves_no_open_range():
    with profile() as prof:
        try:
            chainrule.ones(2, 3) + chainrule.ones(4)
        except RuntimeError:
            pass
        chainrule.ones(2).exp()
    assert [e.name for e in prof.events()] == ["aten::exp"]
    assert prof.events()[0].cpu_parent is None


def test_aten_names_of_ops_pytorch_runs_as_another_op():
    x = chainrule.ones(1, 2, requires_grad=True)
    linear = type(chainrule.nn.functional.linear(x, chainrule.ones(3, 2), chainrule.ones(3)).grad_fn)
    assert aten_names(linear) == ("aten::linear", "aten::addmm")
    assert aten_names(type(chainrule.ones(2, requires_grad=True).exp().grad_fn)) == ("aten::exp",)
