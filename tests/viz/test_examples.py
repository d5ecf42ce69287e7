"""Every script in examples/ runs, PyTorch style, and prints or writes what it promises."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

EXPECTED = {
    "01_four_training_steps.py": (["learned y = 3.000 x + 1.000"], []),
    "02_chain_rule_classic.py": (["= 4 · (-1) · 5", "      = -20", "finite differences (float64) give -20 ✓",
                                  "PowBackward0(1) -> (4.0,)", "SubBackward0(4) -> (None, -4.0)",
                                  "MulBackward0(-4) -> (-20.0, None)", "the gradient that reaches w: -20",
                                  "w.grad = -20", "= 2.2"], []),
    "03_gradient_flow_graph.py": (["0.weight -> AddmmBackward0"], ["graph_full", "graph_layers"]),
    "04_vanishing_gradients.py": (["ReLU, Kaiming init: first layer", "ratio"], ["vanishing.png"]),
    "05_autograd_pytorch_style.py": (["Gradient of loss w.r.t w: tensor([-20.])", "gradcheck(sigmoid): True"], []),
    "06_optimizers.py": (["Adam (lr 0.05)", "SGD + momentum"], ["optimizers.png"]),
    "07_backward_as_a_program.py": (["backward(grads):", "r = n0.backward(np, g6)  # AddmmBackward0",
                                     "bit-identical: True"], []),
    "08_why_is_this_gradient_none.py": (["hidden.weight.grad = None", "hidden.weight, hidden.bias: .grad is None",
                                         "08_why_is_this_gradient_none.py:19:", "cause: .detach() cuts the graph"],
                                        []),
}


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("[0-9]*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name, tmp_path):
    env = {**os.environ, "CHAINRULE_EXAMPLES_OUT": str(tmp_path), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True,
                          timeout=180, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "import chainrule as torch" in (EXAMPLES / name).read_text()
    printed, files = EXPECTED[name]
    for text in printed:
        assert text in done.stdout, f"{name}: {text!r} not printed"
    written = [p.name for p in tmp_path.iterdir()]
    for stem in files:
        assert any(w.startswith(stem) for w in written), f"{name}: nothing named {stem}* written"
