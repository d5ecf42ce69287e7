"""The HTML training report and `chainrule train --report`."""
import base64
import re

import pytest

import chainrule
from chainrule import nn, optim
from chainrule.cli import main
from chainrule.viz import GradientFlow, GraphvizNotFound
from chainrule.viz import graph as graph_module
from chainrule.viz.report import write_report


def trained(tmp_path):
    chainrule.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    x, y = chainrule.randn(16, 4), chainrule.tensor([0, 1, 2, 0] * 4)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    flow = GradientFlow(model)
    history = []
    for epoch in range(3):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        flow.step()
        history.append({"epoch": epoch + 1, "train_loss": loss.item(), "test_loss": loss.item(),
                        "train_accuracy": 0.5, "test_accuracy": 0.5})
    return model, x, y, flow, history


def images(page):
    return re.findall(r"src='data:image/(png|svg\+xml);base64,([A-Za-z0-9+/=]+)'", page)


def test_report_is_one_self_contained_page(tmp_path):
    model, x, y, flow, history = trained(tmp_path)
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    path = write_report(tmp_path, flow, model, x, y, history, {"lr": 0.1})
    page = path.read_text()
    assert path.name == "report.html" and "src='http" not in page and "<link" not in page
    assert "Loss and accuracy" in page and "Gradient flow" in page and "one training step" in page
    assert "<th>lr</th><td>0.1</td>" in page and "step 3" in page and "Tanh" in page
    found = images(page)
    assert [kind for kind, _ in found[:3]] == ["png", "png", "png"]
    for kind, data in found[:3]:
        assert base64.b64decode(data)[:4] == b"\x89PNG"
    assert found[3][0] == "svg+xml" and b"Linear [0]" in base64.b64decode(found[3][1])  # dot, or WebAssembly
    assert all((p.grad.numpy() == g).all() for p, g in zip(model.parameters(), grads))   # drawing wrote no grad


def test_report_without_dot_embeds_the_dot_text(tmp_path, monkeypatch):
    monkeypatch.setattr(graph_module, "find_dot", lambda: None)
    monkeypatch.setattr(graph_module, "wasm_graphviz", lambda: None)
    model, x, y, flow, history = trained(tmp_path)
    with pytest.warns(GraphvizNotFound):
        page = write_report(tmp_path, flow, model, x, y, history).read_text()
    assert "digraph chainrule" in page and "Linear [0]" in page and len(images(page)) == 3


def test_train_report_flag(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--epochs", "1", "--hidden", "16", "--batch-size", "128",
                 "--report"]) == 0
    assert "Report:" in capsys.readouterr().out
    page = (out / "report.html").read_text()
    assert "Gradient flow" in page and "Linear 1" in page and "Linear 3" in page
    assert [kind for kind, _ in images(page)] == ["png", "png", "png", "svg+xml"]  # the graph: a picture
