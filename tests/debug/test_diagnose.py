"""chainrule.autograd.diagnose: the findings as data (Finding fields), before and after
backward, with and without recording; the parameter forms it takes; explain's pointer."""
from __future__ import annotations

import numpy as np
import pytest

import chainrule
from chainrule import nn
from chainrule.debug import Diagnosis, Finding, recording
from fresh_python import fresh_python


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 2)
        self.unused = nn.Linear(8, 8)

    def forward(self, x, cut=False):
        h = self.fc1(x).relu()
        if cut:
            h = h.detach()
        return self.fc2(h)


def data():
    rng = np.random.default_rng(0)
    return chainrule.tensor(rng.standard_normal((16, 4)).astype(np.float32)), chainrule.tensor(rng.integers(0, 2, 16))


def test_diagnose_is_registered_in_autograd_and_returns_findings():
    x, y = data()
    model = Net()
    with recording():
        loss = nn.functional.cross_entropy(model(x, cut=True), y)  # the cut
        loss.backward()
    found = chainrule.autograd.diagnose(loss, model)
    assert isinstance(found, Diagnosis) and all(isinstance(f, Finding) for f in found)
    by_name = {f.tensor: f for f in found}
    assert sorted(by_name) == ["fc1.bias", "fc1.weight", "unused.bias", "unused.weight"]
    cut = by_name["fc1.weight"]
    assert (cut.symptom, cut.kind) == ("none", "detach")
    assert cut.where.file == __file__ and cut.where.code == "h = h.detach()"
    assert by_name["unused.weight"].kind == "module_not_called"
    assert by_name["unused.weight"].where.code == "self.unused = nn.Linear(8, 8)"
    assert found.healthy.names == ["fc2.weight", "fc2.bias"] and not found.ok
    text = str(found)
    assert "fc1.weight, fc1.bias: .grad is None" in text and text.splitlines()[-1].startswith("6 tensors checked, 2 healthy")
    assert found.about("fc1.bias")[0].kind == "detach"


def test_before_backward_a_dry_run_finds_zero_gradients():
    x, _ = data()
    w = chainrule.tensor(np.ones((4, 3), dtype=np.float32), requires_grad=True)
    with recording():
        loss = (x @ w).clamp(100.0, 200.0).sum()
    (finding,) = chainrule.autograd.diagnose(loss, [("w", w)])
    assert (finding.symptom, finding.kind) == ("zero", "clamp") and w.grad is None
    assert "100% of its inputs lie outside [100, 200]" in finding.cause


def test_nan_from_the_backward_is_traced_to_its_op():
    a = chainrule.tensor([0.0, 4.0], requires_grad=True)
    with recording():
        loss = a.sqrt().sum()
        loss.backward()
    (finding,) = chainrule.autograd.diagnose(loss, {"a": a})
    assert (finding.symptom, finding.kind) == ("nonfinite", "nan_backward")
    assert "infinite at u = 0, and 1 input is 0" in finding.cause and finding.where.code == "loss = a.sqrt().sum()"


def test_without_recording_the_causes_are_named_without_lines():
    w = chainrule.tensor([1.0, 2.0], requires_grad=True)
    v = chainrule.tensor([1.0, 2.0])
    loss = (w * 2).sum()
    found = chainrule.autograd.diagnose(loss, [w, v, w * 3])
    assert [f.kind for f in found] == ["requires_grad_not_set", "not_leaf"]
    assert [f.tensor for f in found] == ["v", "tensor 2"] and found.healthy.names == ["w"]


def test_a_loss_that_does_not_require_grad_is_itself_a_finding():
    w = chainrule.tensor([1.0, 2.0], requires_grad=True)
    with recording():
        loss = (w * 2).sum().detach()
    found = chainrule.autograd.diagnose(loss, [w])
    assert [(f.tensor, f.kind) for f in found] == [("loss", "detach"), ("w", "detach")]
    assert found[0].where.code == "loss = (w * 2).sum().detach()"
    with pytest.raises(RuntimeError, match=r"cut at a \.detach\(\) call at .*test_diagnose\.py:\d+"):
        loss.backward()  # while recording, the error names the line too


def test_an_optimizer_and_a_single_tensor_are_accepted():
    w = chainrule.tensor([1.0], requires_grad=True)
    b = chainrule.tensor([1.0], requires_grad=True)
    loss = (w * 3).sum()
    loss.backward()
    optimizer = chainrule.optim.SGD([w, b], lr=0.1)
    found = chainrule.autograd.diagnose(loss, optimizer)
    assert [(f.tensor, f.kind) for f in found] == [("b", "not_reached")] and found.healthy.names == ["w"]
    assert chainrule.autograd.diagnose(loss, w).ok
    with pytest.raises(TypeError, match="loss must be a tensor"):
        chainrule.autograd.diagnose(1.0, w)


def test_explain_points_to_diagnose_for_a_gradient_that_is_none():
    w = chainrule.tensor([2.0], requires_grad=True)
    b = chainrule.tensor([1.0], requires_grad=True)
    with recording():
        loss = ((w * 5.0).detach() * b - 12) ** 2
    text = str(chainrule.explain(loss, w))
    assert "w does not reach loss: ∂loss/∂w = 0, and backward leaves w.grad None" in text
    assert "Why (chainrule.autograd.diagnose(loss, [w])):\nw: .grad is None" in text and ".detach() cuts" in text
    x = chainrule.tensor([5.0])
    with pytest.raises(ValueError, match=r"(?s)Why .*x: .grad is None.*requires_grad was never set"):
        chainrule.explain(loss, x)


def test_a_plain_import_reaches_diagnose_as_the_readme_writes_it():
    code = ("import chainrule\n"
            "w = chainrule.nn.Linear(2, 1)\n"
            "loss = w(chainrule.ones(1, 2).detach()).sum() * 0\n"
            "loss.backward()\n"
            "print(chainrule.autograd.diagnose is chainrule.debug.diagnose)\n"
            "print(type(chainrule.autograd.diagnose(loss, w)).__name__)\n")
    assert fresh_python(code) == ["True", "Diagnosis"]
    with pytest.raises(AttributeError, match="chainrule.autograd' has no attribute 'nothing'"):
        chainrule.autograd.nothing
