"""`chainrule debug`: one planted bug per cause, each an ordinary PyTorch training script in
debug_scripts/ (its bug on the line marked ``# BUG``), named with its cause and that exact
line; healthy scripts (the digits MLP and CNN, the examples) where nothing is reported.

The scripts run in-process (``run_script`` inside a ``Session``), as the command runs them.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

import chainrule
from chainrule.cli import main
from chainrule.commands.run import run_script
from chainrule.debug import Session
from chainrule.debug.diagnose import Doctor

SCRIPTS = Path(__file__).parent / "debug_scripts"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DIGITS = Path(chainrule.data.__file__).parent / "digits.npz"


@pytest.fixture(autouse=True)
def in_the_scripts_folder(monkeypatch):
    """Reports name files relative to the working folder: run where the scripts are."""
    monkeypatch.chdir(SCRIPTS)


def bug_line(script: str) -> int:
    lines = (SCRIPTS / script).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.rstrip().endswith("# BUG"))


def debug(path: Path, *args: str, steps: int | None = 1) -> tuple[Session, str]:
    """Run the script at ``path`` under a debug session; (the session, what it reported)."""
    out = io.StringIO()
    session = Session(steps=steps, out=out)
    chainrule.manual_seed(0)  # the scripts' layers draw their initial weights from it
    try:
        with np.errstate(all="ignore"):  # as the command line runs it: NaN/inf are reported, not warned of
            session.run(lambda: run_script(str(path), list(args)))
    finally:  # a script may change global state: leave none behind
        chainrule.set_default_dtype(chainrule.float32)
        chainrule.set_grad_enabled(True)
    return session, out.getvalue()


#: script -> (symptom, cause kind, the tensors it names)
PLANTED = {
    "detach.py": ("none", "detach", ["fc1.weight", "fc1.bias"]),
    "data.py": ("none", "data", ["fc1.weight", "fc1.bias"]),
    "item_rewrap.py": ("none", "item", ["gate.weight", "gate.bias"]),
    "tolist_rewrap.py": ("none", "tolist", ["fc1.weight", "fc1.bias"]),
    "tensor_rewrap.py": ("none", "tensor", ["encoder.weight", "encoder.bias"]),
    "no_grad_block.py": ("none", "no_grad", ["embed.weight", "embed.bias"]),
    "integer_cast.py": ("none", "integer_cast", ["fc1.weight", "fc1.bias"]),
    "argmax_path.py": ("none", "no_derivative", ["scorer.weight", "scorer.bias"]),
    "comparison.py": ("none", "no_derivative", ["fc1.weight", "fc1.bias"]),
    "module_not_called.py": ("none", "module_not_called", ["aux.weight", "aux.bias"]),
    "output_unused.py": ("none", "output_unused", ["aux_head.weight", "aux_head.bias"]),
    "requires_grad_not_set.py": ("none", "requires_grad_not_set", ["w"]),
    "dead_relu.py": ("zero", "dead_relu", ["fc1.weight", "fc1.bias", "fc2.weight"]),
    "saturated_tanh.py": ("zero", "saturated", ["fc1.weight", "fc1.bias"]),
    "saturated_sigmoid.py": ("small", "saturated", ["fc1.weight", "fc1.bias"]),
    "clamp_range.py": ("zero", "clamp", ["fc1.weight", "fc1.bias"]),
    "rounding.py": ("zero", "zero_derivative", ["fc1.weight", "fc1.bias"]),
    "nan_log.py": ("nonfinite", "nan_forward", ["model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias"]),
    "nan_sqrt_negative.py": ("nonfinite", "nan_forward", ["fc.weight", "fc.bias"]),
    "nan_division.py": ("nonfinite", "nan_forward", ["fc.weight", "fc.bias"]),
    "nan_exp_overflow.py": ("nonfinite", "nan_forward", ["fc.weight", "fc.bias"]),
    "nan_sqrt_backward.py": ("nonfinite", "nan_backward", ["encoder.weight", "encoder.bias"]),
}

#: What the cause says, per script: the op, the offending values, the fraction.
WORDS = {
    "detach.py": ".detach() cuts the graph",
    "data.py": ".data takes the values out of the graph",
    "item_rewrap.py": ".item() turns the tensor into a Python number",
    "tolist_rewrap.py": ".tolist()",
    "tensor_rewrap.py": "torch.tensor(...) copies the values",
    "no_grad_block.py": "Linear runs under torch.no_grad()",
    "integer_cast.py": "casting to int64",
    "argmax_path.py": "argmax (or argmin) has no derivative",
    "comparison.py": "the comparison > has no derivative",
    "module_not_called.py": "module aux (Linear) is never called",
    "output_unused.py": "never reaches the loss",
    "requires_grad_not_set.py": "requires_grad was never set",
    "dead_relu.py": "100% of its 32 units are inactive",
    "saturated_tanh.py": "100% of its outputs are within 0.001 of -1 or 1",
    "saturated_sigmoid.py": "100% of its outputs are within 0.001 of 0 or 1",
    "clamp_range.py": "100% of its inputs lie outside [10, 20]",
    "rounding.py": "round has derivative 0 everywhere",
    "nan_log.py": "made in the forward pass by Log: log of 0 in 32 elements",
    "nan_sqrt_negative.py": "by Sqrt: square root of a negative number",
    "nan_division.py": "by Div: division by zero",
    "nan_exp_overflow.py": "by Exp: exp overflow",
    "nan_sqrt_backward.py": "in the backward of Sqrt (SqrtBackward0): its derivative",
}


@pytest.mark.parametrize("script", sorted(PLANTED))
def test_a_planted_bug_is_reported_with_its_cause_and_line(script):
    symptom, kind, tensors = PLANTED[script]
    session, report = debug(SCRIPTS / script)
    assert sorted({f.tensor for f in session.findings}) == sorted(tensors), report
    line = bug_line(script)
    for finding in session.findings:
        assert (finding.symptom, finding.kind) == (symptom, kind), report
        assert Path(finding.where.file).name == script and finding.where.line == line, report
        assert finding.fix
    assert f"{script}:{line}:" in report and WORDS[script] in report
    assert report.startswith("chainrule debug: first backward() at ")


def test_the_culprit_of_a_nan_is_told_from_the_ops_that_only_passed_it_on():
    _, report = debug(SCRIPTS / "nan_exp_overflow.py")
    assert "(the largest is " in report and "the 6 ops after it only passed them on" in report
    _, report = debug(SCRIPTS / "nan_sqrt_backward.py")
    assert "infinite at u = 0, and 16 inputs are 0" in report and "5 ops below it only passed it on" in report


def test_a_parameter_that_stopped_being_a_leaf():
    """``w = w - lr * w.grad`` outside no_grad: reported when the script reads w.grad, before
    the script's own error (a None gradient in the update) ends it with its traceback."""
    out = io.StringIO()
    session = Session(out=out)
    with pytest.raises(TypeError, match="NoneType"):
        session.run(lambda: run_script(str(SCRIPTS / "non_leaf.py")))
    (finding,) = session.findings
    assert (finding.tensor, finding.symptom, finding.kind) == ("w", "none", "not_leaf")
    assert finding.where.line == bug_line("non_leaf.py")
    assert "reassigning it outside torch.no_grad() made it the result of an op (Sub" in finding.cause
    assert "w -= lr * w.grad" in finding.fix and f"w.grad read at non_leaf.py:{bug_line('non_leaf.py')}" in out.getvalue()


def test_the_report_groups_tensors_and_sums_up_the_healthy_ones():
    session, report = debug(SCRIPTS / "detach.py")
    assert report.splitlines()[1:6] == [
        "  fc1.weight, fc1.bias: .grad is None",
        f"    at detach.py:{bug_line('detach.py')}:  h = F.relu(self.fc1(x)).detach()  # BUG",
        "    cause: .detach() cuts the graph here: what was computed before it gets no gradient",
        "    fix:   remove .detach() from the forward pass (detach only values that must not be trained)",
        report.splitlines()[5],
    ]
    assert report.splitlines()[5].startswith("  4 tensors checked, 2 healthy (fc2.weight, fc2.bias): finite gradients")
    assert report.splitlines()[-2:] == ["chainrule debug: stopped after 1 optimizer step (--steps 1)",
                                        "chainrule debug: 2 checks, 2 tensors with a problem, reported above"]


@pytest.mark.parametrize("script, steps", [("digits_mlp.py", 30), ("digits_cnn.py", 8)])
def test_healthy_digits_networks_report_nothing(script, steps):
    session, report = debug(SCRIPTS / script, str(DIGITS), steps=steps)
    assert session.findings == [], report
    assert session.checks == steps + 1
    assert "all healthy" in report and report.endswith("no problem found\n")


@pytest.mark.parametrize("name", ["01_four_training_steps.py", "02_chain_rule_classic.py",
                                  "03_gradient_flow_graph.py", "05_autograd_pytorch_style.py",
                                  "06_optimizers.py"])
def test_the_examples_report_nothing(name, tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINRULE_EXAMPLES_OUT", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    session, report = debug(EXAMPLES / name, steps=20)
    assert session.checks and session.findings == [], report


def test_the_vanishing_example_is_diagnosed_as_such(tmp_path, monkeypatch):
    """examples/04 shows vanishing gradients on purpose: its deep default-initialised sigmoid
    network is reported, through its sigmoids; ReLU with Kaiming initialisation is not."""
    monkeypatch.setenv("CHAINRULE_EXAMPLES_OUT", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    session, report = debug(EXAMPLES / "04_vanishing_gradients.py", steps=None)
    assert session.findings and {f.kind for f in session.findings} == {"vanishing"}
    assert {f.symptom for f in session.findings} == {"small"}
    assert "through 15 Sigmoid ops (×0.25 each on average)" in report
    assert "model.0.weight" in {f.tensor for f in session.findings}


def test_the_command_line(capsys):
    code = main(["debug", "--steps", "1", str(SCRIPTS / "module_not_called.py")])
    out, err = capsys.readouterr()
    assert code == 0 and out == ""
    assert "aux.weight, aux.bias: .grad is None" in err and f"module_not_called.py:{bug_line('module_not_called.py')}:" in err


@pytest.mark.parametrize("argv, message", [
    (["debug", "--steps", "0", "x.py"], "must be > 0, got 0"),
    (["debug", "--steps", "two", "x.py"], "expected an integer, got 'two'"),
])
def test_bad_options(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_a_script_without_backward():
    path = SCRIPTS / "_net.py"
    session, report = debug(path)
    assert report == "chainrule debug: the script never called backward(): nothing to check\n"


def test_a_model_and_optimizer_held_by_a_trainer_object(tmp_path):
    script = tmp_path / "trainer.py"
    script.write_text(
        "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
        "class Trainer:\n"
        "    def __init__(self):\n"
        "        self.model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))\n"
        "        self.head = nn.Linear(3, 2)\n"
        "        params = list(self.model.parameters()) + list(self.head.parameters())\n"
        "        self.optimizer = torch.optim.SGD(params, lr=0.1)\n\n"
        "    def fit(self, x, y):\n"
        "        loss = F.cross_entropy(self.model(x), y)\n"
        "        self.optimizer.zero_grad()\n"
        "        loss.backward()\n"
        "        self.optimizer.step()\n\n\n"
        "Trainer().fit(torch.ones(5, 3), torch.zeros(5, dtype=torch.long))\n")
    session, report = debug(script)
    assert [(f.tensor, f.kind) for f in session.findings] == [("self.head.weight", "module_not_called"),
                                                              ("self.head.bias", "module_not_called")]
    assert session.findings[0].where.code == "self.head = nn.Linear(3, 2)"
    assert "self.model.0.weight, self.model.0.bias, self.model.2.weight, self.model.2.bias" in report


def test_a_check_that_fails_does_not_stop_the_script(monkeypatch):
    def broken(self, items, lenient=frozenset()):
        raise ValueError("a bug in the check")

    monkeypatch.setattr(Doctor, "examine", broken)
    session, report = debug(SCRIPTS / "detach.py", steps=None)
    assert report.count("chainrule debug: could not check (ValueError: a bug in the check); the script goes on") == 4
    assert session.findings == []
