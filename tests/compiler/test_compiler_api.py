"""``chainrule.compile``'s face: PyTorch's signature and errors, the compiled module, the
decorator forms, ``explain`` and ``print_plan``, ``reset``/``disable``, and a lazy import."""
from __future__ import annotations

import copy
import inspect
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn
from chainrule.compiler import InvalidBackend, OptimizedModule


def test_the_signature_is_pytorchs():
    ours = inspect.signature(chainrule.compile).parameters
    theirs = inspect.signature(torch.compile).parameters
    assert list(ours) == list(theirs)
    for name in ("fullgraph", "dynamic", "mode", "options", "disable"):
        assert ours[name].default == theirs[name].default
    assert chainrule.compile is chainrule.compiler.compile


@pytest.mark.parametrize("kwargs, error, message", [
    ({"backend": "nope"}, InvalidBackend, "Invalid backend: 'nope'"),
    ({"backend": lambda gm, inputs: gm}, InvalidBackend, "no callable backend"),
    ({"mode": "fastest"}, RuntimeError, "Unrecognized mode=fastest, should be one of: default"),
    ({"mode": "default", "options": {}}, RuntimeError, "Either mode or options can be specified"),
    ({"options": {"max_autotune": True}}, RuntimeError, "Unexpected optimization option max_autotune"),
])
def test_unknown_values_are_explained(kwargs, error, message):
    with pytest.raises(error, match=message):
        chainrule.compile(lambda x: x, **kwargs)


@pytest.mark.parametrize("mode", ["default", "reduce-overhead", "max-autotune"])
def test_pytorchs_modes_and_backends_are_accepted(mode):
    fn = chainrule.compile(lambda x: x * 2.0, mode=mode, backend="eager", dynamic=True)
    assert [fn(chainrule.ones(2)).tolist() for _ in range(3)] == [[2.0, 2.0]] * 3


def test_a_model_must_be_callable_and_disable_returns_it():
    with pytest.raises(AssertionError, match="A callable function is expected"):
        chainrule.compile(5)
    model = nn.Linear(2, 2)
    assert chainrule.compile(model, disable=True) is model


def test_decorator_forms():
    @chainrule.compile
    def double(x):
        return x * 2.0

    @chainrule.compile(fullgraph=True)
    def triple(x):
        return x * 3.0

    assert double.__name__ == "double"
    for _ in range(3):
        assert double(chainrule.ones(1)).item() == 2.0 and triple(chainrule.ones(1)).item() == 3.0


def test_the_compiled_module_shares_the_original():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    compiled = chainrule.compile(model)
    assert isinstance(compiled, OptimizedModule) and isinstance(compiled, nn.Module)
    assert compiled._orig_mod is model
    assert list(compiled.state_dict()) == ["_orig_mod.0.weight", "_orig_mod.0.bias"]
    assert list(compiled.parameters())[0] is model[0].weight
    model.note = "kept"
    assert compiled.note == "kept"  # attributes fall through to the original
    compiled.eval()
    assert not model.training and not model[0].training


def test_module_compile_compiles_in_place_as_pytorchs():
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    eager = copy.deepcopy(model)
    assert model.compile(fullgraph=True) is None and theirs.compile() is None
    # The same object, class and state_dict keys (chainrule.compile(model) adds _orig_mod.).
    assert type(model) is nn.Sequential and list(model.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    for _ in range(3):
        for net in (model, eager):
            net.zero_grad()
            net(chainrule.from_numpy(x)).square().sum().backward()
    assert model._compiled_call_impl.region.last_plan is not None  # replayed, not eager
    for ours, reference in zip(model.parameters(), eager.parameters()):
        assert np.array_equal(ours.grad.numpy(), reference.grad.numpy())
    # A copy or a pickle holds the module, not its plans (PyTorch's __getstate__).
    assert "_compiled_call_impl" not in copy.deepcopy(model).__dict__
    assert "_compiled_call_impl" not in pickle.loads(pickle.dumps(model)).__dict__


def test_module_compile_runs_a_hooked_module_eagerly_with_its_hooks():
    model = nn.Linear(2, 2)
    model.compile()
    model.register_forward_hook(lambda module, args, out: out * 0.0)
    with pytest.warns(UserWarning, match=r"chainrule.compile: Linear runs eagerly: .* \(hooks run eagerly\)"):
        outs = [model(chainrule.ones(1, 2)) for _ in range(3)]
    assert all(out.abs().sum().item() == 0.0 for out in outs)


def test_print_plan_shows_the_flat_programs(capsys):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    compiled = chainrule.compile(model, options={"print_plan": True})
    for _ in range(2):
        compiled(chainrule.ones(5, 3)).sum().backward()
    printed = capsys.readouterr().out
    assert "chainrule.compile plan for Sequential: 3 array kernels" in printed
    assert "forward(x0):" in printed and "backward(grads):" in printed
    assert printed.count(".backward(np, ") == 3  # addmm, relu, addmm in the engine's order
    assert "AddmmBackward0 -> float32[5x4]" in printed


def test_explain_reports_ops_breaks_and_the_plan():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    found = chainrule.compiler.explain(model)(chainrule.ones(2, 3))
    assert (found.graph_count, found.graph_break_count, found.op_count) == (1, 0, 2)
    assert found.ops_per_graph == [["AddmmBackward0", "ReluBackward0"]]
    assert "backward(grads):" in str(found)

    def reads(x):
        return x * x.sum().item()

    broken = chainrule.compiler.explain(reads)(chainrule.ones(2))
    assert (broken.graph_count, broken.graph_break_count) == (0, 1)
    assert "item()" in broken.break_reasons[0]
    assert "Graph Break Count: 1" in str(broken)


def test_reset_forgets_plans_and_disable_runs_eagerly():
    fn = chainrule.compile(lambda x: x + 1.0)
    for _ in range(3):
        fn(chainrule.ones(2))
    assert fn.region.last_plan is not None
    chainrule.compiler.reset()
    assert fn.region.last_plan is None and not fn.region.entries

    @chainrule.compiler.disable
    def outside(x):
        return fn(x)

    for _ in range(3):
        outside(chainrule.ones(2))
    assert not fn.region.entries


def test_is_compiling_inside_a_traced_call_only():
    seen = []

    def probe(x):
        seen.append(chainrule.compiler.is_compiling())
        return x * 1.0

    fn = chainrule.compile(probe)
    for _ in range(3):
        fn(chainrule.ones(1))
    assert seen == [True, True] and not chainrule.compiler.is_compiling()


def test_import_chainrule_does_not_load_the_compiler():
    code = ("import sys, chainrule; assert 'chainrule.compiler' not in sys.modules; "
            "chainrule.compile; assert 'chainrule.compiler' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_dynamo_config_sets_the_recompile_limit_of_later_compiled_objects():
    import warnings

    import chainrule._dynamo
    import chainrule._dynamo.config as dynamo_config

    assert dynamo_config is chainrule.compiler.config and chainrule._dynamo.reset is chainrule.compiler.reset
    saved = dynamo_config.cache_size_limit
    dynamo_config.cache_size_limit = 2
    try:
        fn = chainrule.compile(lambda x: (x * 2.0).sin().sum())
        chainrule._dynamo.reset()  # warnings are once per reason and process
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for n in range(1, 5):
                for _ in range(3):
                    fn(chainrule.ones(n))
        assert sum("cache size limit (2 guard keys" in str(w.message) for w in caught) == 1
        assert len(fn.region.entries) <= 3
    finally:
        dynamo_config.cache_size_limit = saved
    assert chainrule.compile(lambda x: x).region.cache_size_limit == saved


def test_a_traced_call_leaves_no_reference_cycle_holding_its_tensors():
    """The arrays of a traced call are freed when the caller lets go of its result, not at
    some later garbage collection (a traced graph kept alive meanwhile fragments the heap:
    the compiled big MLP's steps grew the resident set by 4.9 MB against eager's 2.2 MB)."""
    import gc
    import weakref

    import numpy as np

    seen = []

    def double_then_sum(x):
        h = x * 2
        seen.append(weakref.ref(h))
        return h.sum()

    compiled = chainrule.compile(double_then_sum)
    x = chainrule.tensor(np.arange(4.0, dtype=np.float32), requires_grad=True)
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(3):  # two traced calls, then the plan is built and replayed
            compiled(x).backward()
        gc.collect()  # (the garbage of the first calls would show up in the next count)
        gc.set_debug(gc.DEBUG_SAVEALL)
        for _ in range(2):
            seen.clear()
            compiled.region.reset()
            compiled(x).backward()  # a traced call
            assert len(seen) == 1 and seen[0]() is None, "the traced call's tensor outlived it"
        assert gc.collect() == 0, [type(o).__name__ for o in gc.garbage][:20]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()
