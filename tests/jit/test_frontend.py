"""jit.script / trace / trace_module / freeze / fork / the switches, against PyTorch: the
objects they return compute PyTorch's numbers, report tracing, warn as PyTorch 2.13 does."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close

LIBS = (chainrule, torch)


class Net:
    """A small network in either library (built by ``make``)."""

    @staticmethod
    def make(L):
        class Body(L.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1, self.act, self.drop, self.fc2 = L.nn.Linear(4, 8), L.nn.Tanh(), L.nn.Dropout(0.5), L.nn.Linear(8, 3)

            def forward(self, x):
                return self.fc2(self.drop(self.act(self.fc1(x))))

        return Body


def _net(L):
    L.manual_seed(0)
    return Net.make(L)().double()


def _deprecations(record):
    """The deprecation messages, each once (PyTorch's check_trace traces again, warning twice)."""
    return list(dict.fromkeys(str(w.message) for w in record if w.category is DeprecationWarning))


@pytest.mark.parametrize("how", ["script", "trace", "trace_module"])
def test_compiled_module_gives_pytorchs_numbers_and_gradients(how):
    results = []
    for L in LIBS:
        net = _net(L)
        x = L.tensor(np.linspace(-1, 1, 20).reshape(5, 4))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if how == "script":
                compiled = L.jit.script(net)
            elif how == "trace":
                compiled = L.jit.trace(net.eval(), x)
            else:
                compiled = L.jit.trace_module(net.eval(), {"forward": (x,)})
        compiled.eval()
        out = compiled(x)
        out.sum().backward()
        assert isinstance(compiled, L.jit.ScriptModule) and isinstance(compiled, L.nn.Module)
        assert list(compiled.state_dict()) == list(net.state_dict())
        assert compiled.fc1.weight is net.fc1.weight  # the tensors are shared
        results.append((out, net.fc1.weight.grad, compiled.original_name, compiled.fc2.original_name))
    (ours, theirs) = results
    assert_close(ours[0], theirs[0])
    assert_close(ours[1], theirs[1])
    assert ours[2:] == theirs[2:] == ("Body", "Linear")


def test_script_module_does_not_change_the_original():
    for L in LIBS:
        net = _net(L)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scripted = L.jit.script(net)
        scripted.eval()
        assert net.training and net.drop.training and not scripted.training
    assert not scripted.drop.training  # (chainrule's submodules are views too; PyTorch's C++ ones are hidden)


def test_script_and_trace_functions():
    for L in LIBS:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")

            def scale(x, n: int):
                for _ in range(n):
                    x = x * 2
                return x

            scripted = L.jit.script(scale)
            traced = L.jit.trace(lambda x: x.sin() + 1, L.ones(3))
        assert _deprecations(record) == [
            "`torch.jit.script` is deprecated. Please switch to `torch.compile` or `torch.export`.",
            "`torch.jit.trace` is deprecated. Please switch to `torch.compile` or `torch.export`."]
        assert type(scripted).__name__ == "ScriptFunction" and scripted.name == "scale"
        assert scripted.qualified_name == "__torch__.test_frontend.scale"
        assert str(scripted.schema) == "scale(Tensor x, int n) -> Tensor"
        assert traced.name == "_lambda"
        assert_close(scripted(L.tensor([1.0, -2.0]), 3), np.array([8.0, -16.0]))
        assert_close(traced(L.tensor([0.5], dtype=L.float64)), np.sin([0.5]) + 1)
        with pytest.raises(RuntimeError, match="cannot be compiled since it inherits from nn.Module"):
            L.jit.script(L.nn.Linear)


def test_script_decorates_a_class_and_keeps_script_objects():
    for L in LIBS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")

            @L.jit.script
            class Pair:
                def __init__(self, a: int, b: int):
                    self.a, self.b = a, b

            assert Pair(1, 2).b == 2
            scripted = L.jit.script(L.nn.Linear(2, 2))
            assert L.jit.script(scripted) is scripted


def test_is_tracing_and_tracer_warnings():
    seen = []
    for L in LIBS:
        def branchy(x):
            seen.append((L.__name__, L.jit.is_tracing()))
            return x * 2 if x.sum() > 0 else x

        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            L.jit.trace(branchy, L.ones(2))
        tracer = [str(w.message) for w in record if w.category is L.jit.TracerWarning]
        assert tracer and tracer[0].startswith("Converting a tensor to a Python boolean might cause the trace to be "
                                               "incorrect.")
        assert not L.jit.is_tracing() and not L.jit.is_scripting()
    assert ("chainrule", True) in seen and ("torch", True) in seen


def test_trace_arguments():
    for L in LIBS:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            net = L.jit.trace(L.nn.Linear(2, 2), (L.ones(1, 2),))
            again = L.jit.trace(net, (L.ones(1, 2),))
        assert again is net
        assert _deprecations(record)[:2] == [
            "`torch.jit.trace` is deprecated. Please switch to `torch.compile` or `torch.export`.",
            "`torch.jit.trace_method` is deprecated. Please switch to `torch.compile` or `torch.export`."]
        assert any("The input to trace is already a ScriptModule, tracing it is a no-op" in str(w.message)
                   for w in record)
        kw = L.jit.trace(lambda x, y: x + y, example_kwarg_inputs={"x": L.ones(1), "y": L.ones(1)})
        assert float(kw(L.ones(1), L.ones(1))) == 2.0


def test_traced_module_prints_as_pytorchs():
    texts = []
    for L in LIBS:
        L.manual_seed(0)
        net = L.nn.Sequential(L.nn.Linear(2, 3), L.nn.ReLU())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            texts.append((repr(L.jit.trace(net, L.ones(1, 2))), repr(L.jit.script(net)),
                          type(L.jit.trace(net, L.ones(1, 2))).__name__))
    assert texts[0] == texts[1]


def test_freeze_and_optimize_for_inference():
    results = []
    for L in LIBS:
        net = _net(L)
        x = L.tensor(np.linspace(-1, 1, 8).reshape(2, 4))
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            with pytest.raises(RuntimeError, match="Freezing expects a ScriptModule as input"):
                L.jit.freeze(net)
            scripted = L.jit.script(net)
            with pytest.raises(RuntimeError, match="Freezing is currently only implemented for modules in eval mode"):
                L.jit.freeze(scripted)
            frozen = L.jit.freeze(scripted.eval())
            with pytest.raises(RuntimeError, match="optimize_for_inference expects a ScriptModule as input"):
                L.jit.optimize_for_inference(net)
            optimized = L.jit.optimize_for_inference(L.jit.script(net))
        assert "`torch.jit.freeze` is deprecated. Please use `torch.compile` instead." in _deprecations(record)
        assert list(frozen.state_dict()) == [] and not list(frozen.parameters())
        assert not list(optimized.parameters())
        assert type(frozen).__name__ == "RecursiveScriptModule"
        results.append((frozen(x), optimized(x), net.eval()(x)))
    for ours, theirs in zip(*results):
        assert_close(ours, theirs)
    assert_close(results[0][0], results[0][2])


def test_fork_and_wait():
    for L in LIBS:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            future = L.jit.fork(lambda a, b=1.0: a * b, L.tensor([1.0, 2.0]), b=3.0)
            assert_close(L.jit.wait(future), np.array([3.0, 6.0]))
        assert _deprecations(record) == ["`torch.jit.fork` is deprecated. Please use `torch.compile` instead.",
                                         "`torch.jit.wait` is deprecated. Please use `torch.compile` instead."]
        assert future.done()
        assert_close(future.then(lambda done: done.wait() + 1).wait(), np.array([4.0, 7.0]))


def test_fusion_switches():
    for L in LIBS:
        previous = L.jit.set_fusion_strategy([("DYNAMIC", 3)])
        assert previous == [("STATIC", 2), ("DYNAMIC", 10)]
        assert L.jit.set_fusion_strategy(previous) == [("DYNAMIC", 3)]
        L.jit.enable_onednn_fusion(True)
        assert L.jit.onednn_fusion_enabled()
        L.jit.enable_onednn_fusion(False)
        assert not L.jit.onednn_fusion_enabled()
        with L.jit.optimized_execution(False), L.jit.fuser("fuser1"):
            assert float(L.ones(1).sum()) == 1.0


def test_torch_alias_imports_jit():
    from chainrule.torch_alias import aliased

    namespace: dict = {}
    with aliased():
        exec("import torch.jit\nfrom torch.jit import trace, script\nimport torch\nj = torch.jit", namespace)
    assert namespace["j"] is chainrule.jit and namespace["trace"] is chainrule.jit.trace
