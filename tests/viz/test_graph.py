"""draw_graph: DOT content (labels, values, gradients on edges), collapsing, capping, saving."""
import re
import shutil

import numpy as np
import pytest

import chainrule
from chainrule.viz import Graph, GraphvizNotFound, draw_graph, trace
from chainrule.viz import graph as graph_module


def classic(record=False):
    w = chainrule.tensor([2.0], requires_grad=True)
    x = chainrule.tensor([5.0])
    y = chainrule.tensor([12.0])
    if record:
        with trace():
            loss = (y - w * x) ** 2
    else:
        loss = (y - w * x) ** 2
    return w, loss


def edge_into(graph, src_text, dst_text):
    src, dst = graph.vertex(src_text).id, graph.vertex(dst_text).id
    (edge,) = [e for e in graph.edges if e.src == src and e.dst == dst]
    return edge


def test_nodes_show_op_shape_dtype_and_values():
    w, loss = classic()
    g = draw_graph(loss)
    for name in ("PowBackward", "SubBackward", "MulBackward"):
        assert name in g.dot
    assert "(1,) float32" in g.vertex("MulBackward").label
    assert "= 10" in g.vertex("MulBackward").label          # w * x, recomputed from what Mul saved
    (leaf,) = [v for v in g.vertices if v.kind == "leaf"]
    assert leaf.lines == ["w", "(1,) float32", "= 2"]       # the caller's variable name
    assert g.vertex("loss").kind == "output" and "= 4" in g.vertex("loss").label


def test_edges_carry_the_gradient_after_backward_without_touching_grad():
    w, loss = classic()
    loss.backward(retain_graph=True)
    g = draw_graph(loss)
    assert w.grad.item() == -20.0                            # drawing wrote no gradient
    assert edge_into(g, "w", "MulBackward").label == "∇ -20"
    assert edge_into(g, "SubBackward", "PowBackward").label == "∇ 4"
    assert edge_into(g, "MulBackward", "SubBackward").grad_norm == pytest.approx(4.0)
    assert 'label="∇ -20"' in g.dot
    # The largest gradient gets the widest, reddest edge.
    widths = [float(x) for x in re.findall(r"penwidth=([0-9.]+)", g.dot)[1:]]
    assert max(widths) == pytest.approx(4.0)


def test_drawing_before_backward_writes_no_grad():
    w, loss = classic()
    g = draw_graph(loss)
    assert w.grad is None
    assert edge_into(g, "w", "MulBackward").label == "∇ -20"
    loss.backward()
    assert w.grad.item() == -20.0


def test_gradient_norm_labels_for_tensors():
    x = chainrule.tensor([1.0, -2.0, 3.0], dtype=chainrule.float64, requires_grad=True)
    loss = (x * x).sum()
    g = draw_graph(loss, params={"x": x})
    norm = float(np.linalg.norm(2 * np.array([1.0, -2.0, 3.0])))
    (edge,) = [e for e in g.edges if e.src == g.vertex("x").id]
    assert edge.grad_norm == pytest.approx(norm)       # two edges into Mul, summed: 2x
    assert edge.label == f"|∇| {norm:.3g}"


def test_freed_graph_shows_recorded_gradients_or_says_why_not():
    w, loss = classic()
    loss.backward()
    g = draw_graph(loss)
    assert g.note and "freed" in g.note and "gradients not shown" in g.dot
    assert all(e.grad_norm is None for e in g.edges)

    w, loss = classic(record=True)
    loss.backward()
    g = draw_graph(loss)
    assert g.note is None
    assert edge_into(g, "w", "MulBackward").label == "∇ -20"
    # Under trace the constants are drawn too.
    assert g.vertex("= 12").kind == "const" and g.vertex("= 5").kind == "const"


def test_names_from_params_and_tensor_name():
    a = chainrule.tensor([1.0], requires_grad=True)
    b = chainrule.tensor([2.0], requires_grad=True)
    b.name = "bias"
    out = chainrule.tanh(a * 3.0 + b)
    g = draw_graph(out, params={"weight": a})
    assert g.vertex("weight").kind == "leaf"
    assert g.vertex("bias").kind == "leaf"


def test_values_hidden_for_large_tensors_and_on_request():
    x = chainrule.ones(10, requires_grad=True)
    g = draw_graph((x * 2).sum(), show_values=False)
    assert "= " not in "".join(v.label for v in g.vertices)
    g = draw_graph((x * 2).sum(), show_grads=False)
    assert "(10,) float32" in g.vertex("MulBackward").label
    assert "= " not in g.vertex("MulBackward").label        # 10 elements: too many to print
    assert all(e.grad_norm is None for e in g.edges) and "∇" not in g.dot


def test_layout_options_and_errors():
    w, loss = classic()
    assert "rankdir=LR" in draw_graph(loss, rankdir="LR").dot
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(loss, rankdir="UP")
    with pytest.raises(TypeError):
        draw_graph(3.0)


def chain(n):
    x = chainrule.tensor([0.5], requires_grad=True)
    h = x
    for _ in range(n):
        h = chainrule.sin(h)
    return x, h


def test_cap_keeps_the_nodes_nearest_the_output():
    x, h = chain(100)
    g = draw_graph(h, max_nodes=10)
    assert len(g.vertices) == 10
    more = g.vertex("more nodes")
    assert more.kind == "more" and more.members == 93     # 102 boxes (output, 100 ops, x) - 9 kept
    assert sum(1 for v in g.vertices if "SinBackward" in v.label) == 8


def test_large_graphs_drop_edge_labels_but_keep_tooltips():
    x, h = chain(graph_module.EDGE_LABEL_LIMIT + 10)
    g = draw_graph(h, max_nodes=1000)
    assert len(g.vertices) == graph_module.EDGE_LABEL_LIMIT + 12
    assert "tooltip=" in g.dot and " label=" not in g.dot.split("edge [")[1].replace("labelloc", "")


def test_save_dot_is_always_available(tmp_path):
    w, loss = classic()
    path = draw_graph(loss).save(tmp_path / "g.dot")
    assert path.read_text().startswith("digraph chainrule {")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.dot"]   # no temporary left behind


def test_save_svg_with_dot_or_webassembly(tmp_path):
    """SVG always renders (the test extra brings Graphviz as WebAssembly); PNG needs the dot program."""
    w, loss = classic()
    g = draw_graph(loss)
    path = g.save(tmp_path / "g.svg")
    assert path.suffix == ".svg" and "<svg" in path.read_text() and "MulBackward" in path.read_text()
    assert g._repr_svg_().lstrip().startswith("<?xml")
    if shutil.which("dot"):
        png = g.save(tmp_path / "g.png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        with pytest.warns(GraphvizNotFound, match="PNG needs Graphviz"):
            path = g.save(tmp_path / "g.png")
        assert path.suffix == ".dot" and path.read_text() == g.dot


def test_without_the_dot_program_svg_comes_from_graphviz_as_webassembly(tmp_path, monkeypatch):
    monkeypatch.setattr(graph_module, "find_dot", lambda: None)
    w, loss = classic()
    svg = draw_graph(loss).save(tmp_path / "g.svg").read_text()
    assert svg.startswith("<?xml") and "<svg" in svg and svg.rstrip().endswith("</svg>")
    # The same drawing dot makes: a box per node, the gradients on the edges, the colours.
    assert svg.count('class="node"') == 5 and svg.count('class="edge"') == 4
    assert "MulBackward0" in svg and "∇ &#45;20" in svg and 'stroke="#d7191c"' in svg


def test_missing_dot_program_writes_the_dot_file_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr(graph_module, "find_dot", lambda: None)
    monkeypatch.setattr(graph_module, "wasm_graphviz", lambda: None)
    w, loss = classic()
    g = draw_graph(loss)
    with pytest.warns(GraphvizNotFound, match=r'`dot` program was not found.*wrote .*g.dot .*pip install "chainrule\[viz\]"'):
        path = g.save(tmp_path / "g.svg")
    assert path == tmp_path / "g.dot" and path.read_text() == g.dot
    assert not (tmp_path / "g.svg").exists()
    assert g._repr_svg_() is None


def test_bad_paths_and_failed_renders_leave_nothing(tmp_path, monkeypatch):
    w, loss = classic()
    g = draw_graph(loss)
    with pytest.raises(ValueError, match=r"\.svg, \.png"):
        g.save(tmp_path / "g.txt")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        g.save(tmp_path / "missing" / "g.dot")

    def broken(dot, fmt):
        raise RuntimeError("layout failed")

    monkeypatch.setattr(graph_module, "find_dot", lambda: "/usr/bin/dot")
    monkeypatch.setattr(graph_module, "render", broken)
    with pytest.raises(RuntimeError, match="layout failed"):
        g.save(tmp_path / "g.svg")
    assert list(tmp_path.iterdir()) == []


def test_dot_text_is_escaped():
    x = chainrule.tensor([1.0], requires_grad=True)
    x.name = 'say "hi"\\'
    g = draw_graph(x * 2)
    assert 'say \\"hi\\"\\\\' in g.dot
    assert isinstance(g, Graph) and str(g) == g.dot


class Block(chainrule.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = chainrule.nn.Linear(4, 4)
        self.act = chainrule.nn.Tanh()

    def forward(self, x):
        return self.act(self.fc(x)) + x


def test_collapse_draws_a_module_as_one_box():
    nn = chainrule.nn
    chainrule.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), Block(), Block(), nn.Linear(4, 2))
    x = chainrule.randn(5, 3)
    kept = []
    model[1].register_forward_hook(lambda module, args, out: kept.append(out))
    with trace(model):
        loss = nn.functional.cross_entropy(model(x), chainrule.tensor([0, 1, 0, 1, 1]))
    full = draw_graph(loss, params=model)
    assert full.vertex("2.fc.weight").kind == "leaf" and full.vertex("x").kind == "const"
    g = draw_graph(loss, params=model, collapse=[model[2], "3"])
    first, second = g.vertex("Block [2]"), g.vertex("Block [3]")
    assert first.kind == second.kind == "group"
    assert first.lines[1:] == ["3 ops, 2 parameters", "(5, 4) float32"]
    assert "2.fc.weight" not in g.dot and "TanhBackward" not in g.dot and "0.weight" in g.dot
    assert len(g.vertices) == len(full.vertices) - 2 * (3 + 2) + 2
    # The ReLU output reaches block 2 along two edges (its Linear and the skip): one edge, summed.
    relu = g.vertex("ReluBackward")
    (edge,) = [e for e in g.edges if e.src == relu.id]
    assert edge.dst == first.id
    full_into_block = [e for e in full.edges if e.src == full.vertex("ReluBackward").id]
    assert len(full_into_block) == 2
    # Both edges carry gradients with respect to the same tensor: the merged edge is their sum,
    # which is what flows on into the ReLU.
    (into_relu,) = [e for e in g.edges if e.dst == relu.id]
    relu_grad = [e for e in full.edges if e.dst == full.vertex("ReluBackward").id][0]
    (relu_out_grad,) = chainrule.autograd.grad(loss, kept[0], retain_graph=True)
    assert edge.grad_norm == pytest.approx(float(np.linalg.norm(relu_out_grad.numpy())), rel=1e-5)
    assert edge.grad_norm < sum(e.grad_norm for e in full_into_block)
    assert into_relu.grad_norm == pytest.approx(relu_grad.grad_norm)
    with pytest.raises(ValueError, match="trace"):
        draw_graph((model(x) ** 2).sum(), collapse=[model[2]])


def test_two_thousand_node_graph_builds_and_caps():
    x = chainrule.tensor([0.5], requires_grad=True)
    h = x
    for _ in range(1000):
        h = chainrule.tanh(h * 1.01)
    full = draw_graph(h, max_nodes=5000)
    assert len(full.vertices) == 2002 and len(full.edges) == 2001
    assert "label=" not in full.dot.split("edge [")[1].replace("labelloc", "").replace("label=\"", "")
    capped = draw_graph(h)
    assert len(capped.vertices) == 400


def test_drawing_runs_no_user_hook_and_survives_in_place_changes():
    w = chainrule.tensor([1.0], requires_grad=True)
    h = w * 2
    h.retain_grad()
    seen = []
    w.register_hook(lambda g: seen.append(g))
    z = h * h
    g = draw_graph(z)
    assert h.grad is None and seen == [] and w.grad is None
    assert edge_into(g, "w", "h").label == "∇ 8"          # dz/dw = 2h · 2
    z.backward(retain_graph=True)
    assert h.grad.item() == 4.0 and len(seen) == 1
    h.mul_(3)
    g = draw_graph(z)
    assert "modified by an inplace operation" in g.note and all(e.grad_norm is None for e in g.edges)
