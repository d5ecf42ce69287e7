"""jit.modules: script and traced views of a module (shared tensors, own registries, helper
methods, hooks, code/graph stand-ins), ScriptFunction's attributes, and the legacy
ScriptModule subclass with typed attributes."""
from __future__ import annotations

import warnings

import pytest

import chainrule
from chainrule import jit, nn
from conftest import assert_close


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.factor = 3.0

    def helper(self, x):
        return x * self.factor

    def forward(self, x):
        return self.helper(self.fc(x))


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def test_view_shares_tensors_not_registries():
    model = Scaled()
    scripted = jit.script(model)
    assert isinstance(scripted, jit.RecursiveScriptModule) and isinstance(scripted.fc, jit.RecursiveScriptModule)
    assert scripted.fc.weight is model.fc.weight and scripted.factor == 3.0
    x = chainrule.ones(1, 3)
    assert_close(scripted(x), model(x))
    scripted.fc.register_parameter("extra", nn.Parameter(chainrule.zeros(1)))
    assert "fc.extra" in scripted.state_dict() and "fc.extra" not in model.state_dict()
    with chainrule.no_grad():
        model.fc.weight.fill_(1.0)  # in place: the view sees it
    assert_close(scripted(x), model(x))


def test_hooks_run_and_are_copied():
    model = Scaled()
    calls = []
    model.register_forward_hook(lambda module, args, out: calls.append(type(module).__name__))
    traced = jit.trace(model, chainrule.ones(1, 3))
    calls.clear()
    traced(chainrule.ones(1, 3))
    assert calls == ["TopLevelTracedModule"]


def test_code_graph_and_names():
    scripted = jit.script(Scaled())
    assert scripted.code.startswith("def forward(self, x):") and "self.helper" in scripted.code
    assert scripted.code_with_constants == (scripted.code, {})
    assert list(scripted.graph.nodes()) == [] and "eagerly" in str(scripted.graph)
    assert scripted.inlined_graph.name == "Scaled.forward"
    assert scripted.original_name == "Scaled" and scripted.fc.original_name == "Linear"
    assert jit.modules.original_class(scripted) is Scaled
    fn = jit.script(lambda x: x + 1)
    assert fn.name == "_lambda" and "lambda x: x + 1" in fn.code and repr(fn) == "<chainrule.jit.ScriptFunction _lambda>"


class Legacy(jit.ScriptModule):
    def __init__(self):
        super().__init__()
        self.count = jit.Attribute(2, int)
        self.weight = nn.Parameter(chainrule.tensor([1.5, -2.0]))

    @jit.script_method
    def forward(self, x):
        return x * self.weight * self.count


def test_legacy_script_module_subclass():
    legacy = Legacy()
    assert legacy.count == 2 and jit.script(legacy) is legacy
    assert_close(legacy(chainrule.ones(2)), [3.0, -4.0])
    assert legacy.original_name == "Legacy" and list(legacy.state_dict()) == ["weight"]


def test_jit_attribute_outside_script_modules_is_the_pair():
    pair = jit.Attribute(3, int)
    assert pair.value == 3 and pair.type is int and tuple(pair) == (3, int)
