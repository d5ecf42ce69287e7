"""`chainrule explain` and `chainrule graph`: outputs, files, and one-line errors (exit 2)."""
import subprocess
import sys
import warnings

import pytest

from chainrule.cli import main
from chainrule.viz import graph as graph_module


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_explain_without_arguments_runs_the_classic_example(capsys):
    code, out, err = run(capsys, "explain")
    assert code == 0 and err == ""
    assert "w = 2, x = 5, y = 12" in out
    assert "net = w * x    = 10" in out and "out = y - net  = 2" in out and "L   = out ** 2 = 4" in out
    assert "∂L/∂w = ∂L/∂out · ∂out/∂net · ∂net/∂w\n      = 4 · (-1) · 5\n      = -20" in out
    assert "MulBackward" in out and "d(a*b)/da = b" in out
    assert "backward (autograd.grad) gives -20 ✓" in out and "finite differences (float64) give -20 ✓" in out
    assert "w ← w − lr · ∂L/∂w = 2 − 0.01 · (-20) = 2.2" in out


def test_explain_an_expression(capsys):
    code, out, err = run(capsys, "explain", "tanh(w*x + b)", "--at", "w=0.5,x=2,b=-1", "--wrt", "x", "--lr", "0.1")
    assert code == 0
    assert "u1 = w * x" in out and "L  = tanh(u2)" in out
    assert "∂L/∂x = ∂L/∂u2 · ∂u2/∂u1 · ∂u1/∂x\n      = 1 · 1 · 0.5\n      = 0.5" in out
    assert "x ← x − lr · ∂L/∂x = 2 − 0.1 · 0.5 = 1.95" in out


def test_explain_shows_several_paths(capsys):
    code, out, err = run(capsys, "explain", "x*x + sin(x)", "--at", "x=0")
    assert code == 0 and "along 3 paths" in out and "= 0 + 0 + 1 = 1" in out


@pytest.mark.parametrize("argv, message", [
    (["explain", "__import__('os').system('true')"], "not allowed"),
    (["explain", "__import__('os')"], "unknown function '__import__'"),
    (["explain", "w.real", "--at", "w=1"], "attribute access is not allowed"),
    (["explain", "os + w", "--at", "w=1"], "no value for os"),
    (["explain", "w*x", "--at", "w=1"], "no value for x"),
    (["explain", "w*2", "--at", "w=1,z=3"], "does not use"),
    (["explain", "w*2", "--at", "w=one"], "not a number"),
    (["explain", "w*2", "--at", "w=1", "--wrt", "q"], "not a variable"),
    (["explain", "w", "--at", "w=1"], "single variable"),
    (["graph", "open('x')", "--at", "w=1"], "unknown function 'open'"),
    (["graph", "--out", "/nonexistent-folder/g.svg"], "does not exist"),
    (["graph", "--out", "graph.txt"], ".svg, .png, .pdf or .dot"),
])
def test_bad_input_is_one_line_on_stderr_with_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and err.startswith(f"chainrule {argv[0]}: error:")


def test_graph_prints_dot_by_default(capsys):
    code, out, err = run(capsys, "graph")
    assert code == 0 and out.startswith("digraph chainrule {")
    assert "MulBackward" in out and 'label="∇ -20"' in out and 'label="L = (y - w*x)**2"' in out


def test_graph_writes_files(tmp_path, capsys):
    code, out, err = run(capsys, "graph", "sin(x)*x", "--at", "x=1", "--out", str(tmp_path / "g.dot"))
    assert code == 0 and "SinBackward" in (tmp_path / "g.dot").read_text()
    code, out, err = run(capsys, "graph", "--out", str(tmp_path / "g.svg"), "--rankdir", "LR")
    assert code == 0  # rendered by dot, or by Graphviz as WebAssembly (the test extra)
    assert "<svg" in (tmp_path / "g.svg").read_text() and out == f"wrote {tmp_path / 'g.svg'}\n"


def test_graph_without_the_dot_program_writes_dot_text(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(graph_module, "find_dot", lambda: None)
    monkeypatch.setattr(graph_module, "wasm_graphviz", lambda: None)
    code, out, err = run(capsys, "graph", "--out", str(tmp_path / "g.png"))
    assert code == 0 and out == f"wrote {tmp_path / 'g.dot'}\n"
    assert "`dot` program was not found" in err and "dot -Tpng" in err
    assert (tmp_path / "g.dot").read_text().startswith("digraph") and not (tmp_path / "g.png").exists()


def test_python_dash_m_runs_the_same_command():
    done = subprocess.run([sys.executable, "-m", "chainrule", "explain", "exp(w)", "--at", "w=0"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "∂L/∂w = 1" in done.stdout


def test_intermediates_are_never_named_like_a_variable(capsys):
    code, out, err = run(capsys, "explain", "u1*u2 + u1", "--at", "u1=1,u2=2")
    assert code == 0 and "u3 = u1 * u2 = 2" in out and "L  = u3 + u1 = 3" in out
    assert "∂u1/∂u1" not in out and "path 2: ∂L/∂u1 = ∂L/∂u3 · ∂u3/∂u1" in out
    code, out, err = run(capsys, "explain", "L*2 + x", "--at", "L=1,x=2", "--wrt", "L")
    assert code == 0 and out.startswith("loss = L*2 + x with L = 1, x = 2")
    assert "∂loss/∂L = ∂loss/∂u1 · ∂u1/∂L" in out and "L ← L − lr · ∂loss/∂L" in out
    code, out, err = run(capsys, "graph", "L*loss", "--at", "L=1,loss=2")
    assert code == 0 and 'label="L1 = L*loss"' in out


HUGE = "9" * 400


@pytest.mark.parametrize("argv, message", [
    (["explain", f"{HUGE}*x", "--at", "x=1"], "400 digits) is too large for a float64"),
    (["graph", f"x+{HUGE}", "--at", "x=1"], "400 digits) is too large for a float64"),
    (["explain", "x*x", "--at", "x=2,x=3"], "x is given twice"),
    (["explain", "x*x", "--at", "x=2", "--lr", "nan"], "--lr: must be a finite number, got nan"),
    (["explain", "x*x", "--at", "x=2", "--lr", "inf"], "--lr: must be a finite number, got inf"),
])
def test_more_bad_input_is_one_line_with_exit_2(capsys, argv, message):
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's option errors
        code = exit.code
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err


@pytest.mark.parametrize("argv", [
    ["graph", "x/0", "--at", "x=2"], ["graph", "log(x)", "--at", "x=0"], ["graph", "exp(x)", "--at", "x=1000"],
    ["graph", "x*y", "--at", "x=nan,y=inf"], ["graph", "x*1e400", "--at", "x=1"], ["explain", "x/0", "--at", "x=2"],
    ["explain", "exp(x)", "--at", "x=1000"], ["explain", "x**y", "--at", "x=-1,y=0.5"], ["explain", "sqrt(x)", "--at", "x=-1"],
    ["explain", "log(x)*0", "--at", "x=0"], ["explain", "x*x", "--at", "x=1e308"], ["explain", "x*y", "--at", "x=nan,y=inf"],
])
def test_infinities_and_nans_are_shown_without_warnings(capsys, argv):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, out, err = run(capsys, *argv)
    assert code in (0, 1) and err == "" and out
    assert [str(w.message) for w in caught] == []
    if argv[0] == "graph" and argv[1] == "x/0":
        assert 'label="∇ inf"' in out and 'color="#d7191c", penwidth=4.00' in out
    if argv[0] == "graph" and argv[1] == "x*y":
        assert 'color="#7b3294", style="dotted"' in out


@pytest.mark.parametrize("command", ["explain", "graph"])
def test_a_closed_pipe_ends_the_command_quietly(command):
    done = subprocess.Popen([sys.executable, "-m", "chainrule", command, "+".join(f"sin(x*{i})" for i in range(20)),
                             "--at", "x=1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    done.stdout.close()  # the reader is gone before the first line, as with `| head -0`
    assert done.wait(60) == 141
    assert done.stderr.read() == b""
