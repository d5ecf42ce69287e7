"""GradientFlow: per-layer statistics against values computed by hand on a tiny model."""
import math

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.viz import GradientFlow
from chainrule.viz.gradflow import activation_stats

W1 = np.array([[1.0, -1.0, 0.5], [-2.0, -0.5, -1.0]])
B1 = np.array([0.1, -0.2])
W2 = np.array([[1.5, -0.5]])
B2 = np.array([0.3])
X = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
Y = np.array([[1.0], [0.0]])
LR = 0.1


def tiny_model():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1)).double()
    with chainrule.no_grad():
        model[0].weight.copy_(chainrule.tensor(W1))
        model[0].bias.copy_(chainrule.tensor(B1))
        model[2].weight.copy_(chainrule.tensor(W2))
        model[2].bias.copy_(chainrule.tensor(B2))
    return model


def by_hand():
    h = X @ W1.T + B1
    a = np.maximum(h, 0)
    out = a @ W2.T + B2
    d_out = 2 * (out - Y) / len(X)
    g_w2, g_b2 = d_out.T @ a, d_out.sum(0)
    d_h = (d_out @ W2) * (h > 0)
    g_w1, g_b1 = d_h.T @ X, d_h.sum(0)
    return a, (g_w1, g_b1), (g_w2, g_b2)


def train_step(model, optimizer, flow, zero_grad_after=False):
    optimizer.zero_grad()
    loss = ((model(chainrule.tensor(X)) - chainrule.tensor(Y)) ** 2).mean()
    loss.backward()
    optimizer.step()
    if zero_grad_after:
        optimizer.zero_grad()
    return flow.step()


@pytest.mark.parametrize("zero_grad_after", [False, True])
def test_statistics_match_hand_computed_values(zero_grad_after):
    model = tiny_model()
    flow = GradientFlow(model)
    first, second = train_step(model, optim.SGD(model.parameters(), lr=LR), flow, zero_grad_after)
    a, (g_w1, g_b1), (g_w2, g_b2) = by_hand()

    assert first.layer == "0" and second.layer == "2" and first.step == 1
    assert first.weight_grad_norm == pytest.approx(np.linalg.norm(g_w1), rel=1e-12)
    assert first.bias_grad_norm == pytest.approx(np.linalg.norm(g_b1), rel=1e-12)
    assert second.weight_grad_norm == pytest.approx(np.linalg.norm(g_w2), rel=1e-12)
    flat1 = np.concatenate([g_w1.ravel(), g_b1])
    assert first.grad_mean_abs == pytest.approx(np.abs(flat1).mean(), rel=1e-12)
    assert first.grad_zero_fraction == 0.5          # the second hidden unit is dead: its row and bias
    flat2 = np.concatenate([g_w2.ravel(), g_b2])
    assert second.grad_zero_fraction == np.mean(flat2 == 0) == 1 / 3   # the dead unit's weight
    # Plain SGD: the update is lr * grad.
    assert first.update_ratio == pytest.approx(LR * np.linalg.norm(g_w1) / np.linalg.norm(W1), rel=1e-9)
    assert second.update_ratio == pytest.approx(LR * np.linalg.norm(g_w2) / np.linalg.norm(W2), rel=1e-9)
    assert first.weight_norm == pytest.approx(np.linalg.norm(W1))
    # The ReLU after layer 0.
    assert first.activation == "ReLU"
    assert first.act_mean == pytest.approx(a.mean()) and first.act_std == pytest.approx(a.std())
    assert first.act_zero_fraction == pytest.approx(np.mean(a <= 0)) and first.act_dead == 0.5
    assert math.isnan(first.act_saturated)
    assert second.activation == "" and math.isnan(second.act_mean)


def test_gradients_of_several_backward_passes_add_up():
    model = tiny_model()
    flow = GradientFlow(model)
    for _ in range(2):
        loss = ((model(chainrule.tensor(X)) - chainrule.tensor(Y)) ** 2).mean()
        loss.backward()
    (first, second) = flow.step()
    _, (g_w1, _), _ = by_hand()
    assert first.weight_grad_norm == pytest.approx(2 * np.linalg.norm(g_w1))
    assert first.update_ratio == 0.0                 # no optimizer step: the weights did not move


def test_series_table_plot_and_remove(tmp_path):
    model = tiny_model()
    optimizer = optim.SGD(model.parameters(), lr=LR)
    flow = GradientFlow(model)
    for _ in range(3):
        train_step(model, optimizer, flow)
    assert flow.steps == 3 and len(flow.records) == 6
    series = flow.series("weight_grad_norm")
    assert list(series) == ["0", "2"] and series["0"].shape == (3,)
    assert [r.step for r in flow.at(-1)] == [3, 3] and [r.step for r in flow.at(1)] == [1, 1]
    table = flow.table()
    assert table.startswith("step 3") and "ReLU" in table and "50%" in table
    path = flow.plot(tmp_path / "flow.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="unknown metric"):
        flow.series("nope")
    flow.remove()
    train_step(model, optimizer, flow)
    assert flow.steps == 3                            # nothing recorded after remove()


def test_saturation_and_layer_selection():
    stats = activation_stats("Sigmoid", np.array([[0.001, 0.5], [0.999, 0.3]]))
    assert stats["act_saturated"] == 0.5 and "act_dead" not in stats
    stats = activation_stats("Tanh", np.array([[-0.995, 0.0, 0.98, 1.0]]))
    assert stats["act_saturated"] == 0.5
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 2))
    flow = GradientFlow(model, layers=["2"])
    assert flow.layer_names == ["2"] and flow.label("2") == "Linear 2"
    with pytest.raises(ValueError, match="no module named"):
        GradientFlow(model, layers=["9"])
    with pytest.raises(ValueError, match="no Linear or Conv"):
        GradientFlow(nn.Sequential(nn.Tanh()))
    with pytest.raises(RuntimeError, match="no steps"):
        GradientFlow(model).plot("unused.png")
