"""The vanishing-gradient experiment, run small."""
import numpy as np
import pytest

from chainrule.cli import main
from chainrule.viz.vanishing import CONFIGS, build_mlp, run_experiment


@pytest.fixture(scope="module")
def small():
    return run_experiment(depth=6, width=16, steps=15, lr=0.01, seed=0)


def test_runs_every_configuration_and_reports_ratios(small):
    assert [(r.activation, r.init) for r in small.runs] == list(CONFIGS)
    for run in small.runs:
        assert run.norms_init.shape == (7,) and run.norms_final.shape == (7,)
        assert np.all(run.norms_init > 0)
        assert run.ratio_init == pytest.approx(run.norms_init[0] / run.norms_init[-1])
        assert 0.0 <= run.accuracy <= 1.0 and 0.0 <= run.accuracy_init <= 1.0
    sigmoid, relu = small.runs[0], small.runs[3]
    # Six sigmoid layers with the default init shrink the gradient by orders of magnitude.
    assert sigmoid.ratio_init < 1e-3 < relu.ratio_init


def test_tables_and_plot(small, tmp_path):
    table = small.table()
    assert "1 (input)" in table and "7 (output)" in table and "after 15 steps" in table
    summary = small.summary()
    assert summary.count("\n") == 4 and "relu (kaiming init)" in summary
    path = small.plot(tmp_path / "v.png")
    assert open(path, "rb").read(4) == b"\x89PNG"


def test_same_seed_same_numbers():
    a = run_experiment(depth=3, width=8, steps=3, seed=1, configs=(("tanh", "xavier"),))
    b = run_experiment(depth=3, width=8, steps=3, seed=1, configs=(("tanh", "xavier"),))
    assert np.array_equal(a.runs[0].norms_final, b.runs[0].norms_final)


def test_builder_and_errors():
    model = build_mlp(3, 8, "relu", "kaiming")
    assert sum(1 for m in model if type(m).__name__ == "Linear") == 4
    with pytest.raises(ValueError, match="activation"):
        build_mlp(3, 8, "softsign", "xavier")
    with pytest.raises(ValueError):
        run_experiment(depth=0)


def test_command(tmp_path, capsys):
    out = tmp_path / "v.png"
    assert main(["vanishing", "--depth", "4", "--width", "8", "--steps", "5", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "first/last at init" in printed and "relu (kaiming init)" in printed and out.exists()
    assert main(["vanishing", "--steps", "1", "--out", str(tmp_path / "missing" / "v.png")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_the_vanishing_experiment_bounds_its_networks_before_building_them(capsys):
    assert main(["vanishing", "--width", "200000", "--depth", "2"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == (
        "chainrule vanishing: error: --depth 2 --width 200000: each network would have 40,015,200,010 parameters; "
        "at most 100,000,000\n")
