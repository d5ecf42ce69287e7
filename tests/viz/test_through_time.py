"""Backpropagation through time made visible (`chainrule vanishing --through-time`), run small."""
import sys

import numpy as np
import pytest

import chainrule
from chainrule.cli import main
from chainrule.viz.through_time import MODELS, Reader, adding_problem, hidden_gradient_norms, run_experiment


@pytest.fixture(scope="module")
def small():
    return run_experiment(length=24, hidden=8, steps=20, seed=0, batch_size=16, test_size=64)


def test_adding_problem():
    x, y = adding_problem(50, 10, np.random.default_rng(0))
    assert x.shape == (10, 50, 2) and y.shape == (50, 1) and x.dtype == np.float32
    markers = x[:, :, 1]
    assert np.all(markers.sum(axis=0) == 2)
    assert np.all(markers[:5].sum(axis=0) == 1) and np.all(markers[5:].sum(axis=0) == 1)
    assert np.allclose((x[:, :, 0] * markers).sum(axis=0), y[:, 0])


def test_measures_every_model_and_step(small):
    assert [r.name for r in small.runs] == [name for name, _ in MODELS]
    for run in small.runs:
        assert run.norms_init.shape == run.norms_final.shape == (24,)
        assert np.all(run.norms_init > 0) and np.all(np.isfinite(run.norms_final))
        # At initialisation the gradient shrinks by orders of magnitude on its way back in time.
        assert run.norms_init[0] < 1e-3 * run.norms_init[-1]
        assert run.ratio_init == pytest.approx(run.norms_init[0] / run.norms_init[-1])
        assert 0 <= run.accuracy <= 1 and run.mse > 0
        # ... and at every step back: each earlier step gets less than the one after it. (Which
        # model loses most per step at initialisation depends on the seed at this size.)
        assert np.all(np.diff(run.norms_init) > 0)


def test_norms_agree_with_the_fused_layer():
    """The last step's ‖∂L/∂h_T‖ from the unrolled cells is the fused layer's output gradient."""
    chainrule.manual_seed(3)
    for _, kind in MODELS:
        model = Reader(kind, 6)
        x, y = (chainrule.from_numpy(a) for a in adding_problem(5, 7, np.random.default_rng(1)))
        norms = hidden_gradient_norms(model, x, y)
        output, _ = model.rnn(x)
        loss = chainrule.nn.functional.mse_loss(model.head(output[-1]), y)
        (grad,) = chainrule.autograd.grad(loss, output)
        assert norms[-1] == pytest.approx(float(np.linalg.norm(grad.numpy()[-1])), rel=1e-5)


def test_tables_plot_and_determinism(small, tmp_path):
    table = small.table()
    assert "1 (first)" in table and "24 (last)" in table and "after 20 steps" in table
    summary = small.summary()
    assert "LSTM" in summary and "test MSE at init" in summary and "1/6 = 0.1667" in summary
    assert open(small.plot(tmp_path / "t.png"), "rb").read(4) == b"\x89PNG"
    again = run_experiment(length=24, hidden=8, steps=20, seed=0, batch_size=16, test_size=64, models=MODELS[1:2])
    assert np.array_equal(again.runs[0].norms_final, small.runs[1].norms_final)
    with pytest.raises(ValueError):
        run_experiment(length=1)


def test_command(tmp_path, capsys, monkeypatch):
    out = tmp_path / "t.png"
    assert main(["vanishing", "--through-time", "--length", "8", "--width", "4", "--steps", "3",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Backpropagation through time: the adding problem, 8 steps" in printed
    assert "‖∂L/∂h_t‖" in printed and "GRU" in printed and out.exists()
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["vanishing", "--through-time", "--length", "4", "--width", "2", "--steps", "1",
                 "--out", str(tmp_path / "none.png")]) == 0
    assert 'the plot needs matplotlib, which is not installed: pip install "chainrule[train]"' in capsys.readouterr().err
    assert not (tmp_path / "none.png").exists()
