"""`chainrule run`: unchanged PyTorch scripts run on chainrule and print what they print
with PyTorch; the script's argv, __name__ and exceptions are its own; a torch name chainrule
lacks is one line naming the script's line."""
from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

import chainrule
from chainrule.cli import main
from chainrule.commands import UsageError
from chainrule.commands.run import run_cli, run_script

from compat.runner import PROGRAMS, compare, compare_stdout, execute


def run_captured(path: Path, *args: str) -> tuple[str, dict]:
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            namespace = run_script(str(path), list(args))
    finally:
        chainrule.set_default_dtype(chainrule.float32)
        chainrule.set_grad_enabled(True)
    return out.getvalue(), namespace


@pytest.mark.parametrize("name", ["p08_mlp_modulelist", "p14_sgd_dataloader", "p23_small_cnn",
                                  "p40_blitz_autograd", "p42_schedulers"])
def test_unchanged_pytorch_programs_print_what_they_print_with_pytorch(name):
    path = PROGRAMS / f"{name}.py"
    expected_out, expected = execute(path.read_text(), "torch", str(path))
    actual_out, namespace = run_captured(path)
    compare_stdout(expected_out, actual_out)
    compare(expected, namespace["results"])


def test_the_script_runs_as_main_with_its_own_argv(tmp_path):
    script = tmp_path / "show.py"
    script.write_text("import sys, torch\nimport helper\nprint(__name__, sys.argv[1:], helper.VALUE, torch.__name__)\n")
    (tmp_path / "helper.py").write_text("VALUE = 7\n")  # the script's folder comes first on sys.path
    argv = list(sys.argv)
    out, _ = run_captured(script, "--lr", "0.1", "data")
    assert out == "__main__ ['--lr', '0.1', 'data'] 7 chainrule\n"
    assert sys.argv == argv and str(tmp_path) not in sys.path and sys.modules["__main__"].__name__ == "__main__"


def test_the_scripts_own_errors_keep_their_traceback(tmp_path, capsys):
    script = tmp_path / "broken.py"
    script.write_text("import torch\n\ndef f():\n    raise ValueError('the script is wrong')\n\nf()\n")
    with pytest.raises(ValueError, match="the script is wrong"):
        run_script(str(script))
    assert run_cli(str(script), []) == 1
    err = capsys.readouterr().err
    assert err.startswith(f'Traceback (most recent call last):\n  File "{script}", line 6, in <module>')
    assert "line 4, in f" in err and err.endswith("ValueError: the script is wrong\n")
    assert "chainrule/commands" not in err


@pytest.mark.parametrize("source, status", [("import sys\nsys.exit(3)\n", 3), ("raise SystemExit\n", 0),
                                            ("print('done')\n", 0)])
def test_exit_status(tmp_path, source, status):
    script = tmp_path / "exits.py"
    script.write_text(source)
    assert run_cli(str(script), []) == status


@pytest.mark.parametrize("source, missing", [
    ("import torch\nimport torch.fx\n", "torch.fx (used at {script}:2: import torch.fx)"),
    ("import torch\ntorch.frobnicate(1)\n", "torch.frobnicate (used at {script}:2: torch.frobnicate(1))"),
    ("import torch.nn as nn\n\nlayer = nn.Frobnicator(3)\n", "torch.nn.Frobnicator (used at {script}:3:"),
    ("from torch.nn import Frobnicator\n", "torch.nn.Frobnicator (used at {script}:1:"),
    ("import torch\nx = torch.ones(2)\nx.frobnicate_()\n", "torch.Tensor.frobnicate_ (used at {script}:3:"),
])
def test_a_torch_name_chainrule_lacks_is_one_line(tmp_path, capsys, source, missing):
    script = tmp_path / "uses.py"
    script.write_text(source)
    with pytest.raises(UsageError) as error:
        run_cli(str(script), [])
    assert str(error.value).startswith("chainrule has no " + missing.format(script=script))
    assert main(["run", str(script)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("chainrule run: error: chainrule has no torch.")


def test_the_scripts_own_attribute_errors_are_its_own(tmp_path):
    script = tmp_path / "typo.py"
    script.write_text("import torch.nn as nn\n\nclass Net(nn.Module):\n    pass\n\nNet().fc3\n")
    assert run_cli(str(script), []) == 1


@pytest.mark.parametrize("path, message", [("missing.py", "no such file"), (".", "is a folder")])
def test_bad_script_paths(path, message, capsys):
    assert main(["run", path]) == 2
    assert message in capsys.readouterr().err


def test_python_dash_m_chainrule_run(tmp_path):
    script = tmp_path / "tiny.py"
    script.write_text("import torch\nimport torch.nn.functional as F\n"
                      "print(F.relu(torch.tensor([-1.0, 2.0])).tolist())\nraise SystemExit(4)\n")
    done = subprocess.run([sys.executable, "-m", "chainrule", "run", str(script), "--flag"],
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (4, "[0.0, 2.0]\n")
