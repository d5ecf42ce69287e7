"""`chainrule train --dataset names` (letter-level language models), `chainrule sample`, and
`chainrule evaluate` on their checkpoints."""
import contextlib
import csv
import io
import json
import re

import pytest

import chainrule
from chainrule.cli import main

FAST = ["--dataset", "names", "--hidden", "48", "--batch-size", "64", "--seed", "1"]


@pytest.fixture(scope="module")
def names_run(tmp_path_factory):
    """A short LSTM run on the names (two epochs), and what it printed."""
    out = tmp_path_factory.mktemp("names") / "run"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["train", "--out", str(out), "--epochs", "2", *FAST]) == 0
    return out, printed.getvalue()


def test_names_run_folder_and_baseline(names_run):
    out, printed = names_run
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "curves.png", "metrics.csv", "model.safetensors"]
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "lstm" and config["dataset"] == "names" and config["input_shape"] == [12]
    assert config["train_size"] == 4647 and config["test_size"] == 516 and len(config["classes"]) == 27
    baseline = config["bigram_baseline"]
    assert 2.3 < baseline["train"] < baseline["test"] < 2.45
    with open(out / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    losses = [float(r["test_loss"]) for r in rows]
    # Two short epochs already beat the bigram model on the held-out names.
    assert losses[1] < losses[0] and losses[1] < baseline["test"]
    assert 0.2 < float(rows[1]["test_accuracy"]) < 0.6
    assert f"better than the bigram baseline's {baseline['test']:.4f}" in printed
    assert "nats per character" in printed and "Test accuracy (next character)" in printed
    checkpoint = chainrule.load(out / "model.safetensors")
    assert {"embedding.weight", "rnn.weight_ih_l0", "rnn.bias_hh_l0", "head.weight"} <= set(checkpoint["model"])


def test_sample_prints_words(names_run, capsys):
    out, _ = names_run
    assert main(["sample", str(out / "model.safetensors"), "-n", "6", "--seed", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    words = lines[:6]
    assert all(w.isalpha() and w.islower() and len(w) <= 11 for w in words if w)
    assert lines[6] == "" and "of 6 are not among the 4,647 training names" in lines[7]
    assert main(["sample", str(out / "model.safetensors"), "-n", "6", "--seed", "2"]) == 0
    assert capsys.readouterr().out.splitlines()[:6] == words
    assert main(["sample", str(out / "model.safetensors"), "-n", "6", "--seed", "3", "--temperature", "0.3"]) == 0
    assert capsys.readouterr().out.splitlines()[:6] != words


def test_evaluate_a_names_checkpoint(names_run, capsys, tmp_path):
    out, _ = names_run
    assert main(["evaluate", str(out / "model.safetensors"), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    with open(out / "metrics.csv") as f:
        last = list(csv.DictReader(f))[-1]
    printed_loss = float(re.search(r"test loss ([0-9.]+)", printed).group(1))
    assert printed_loss == pytest.approx(float(last["test_loss"]), abs=1e-4)
    assert re.search(r"Test accuracy: [0-9.]+% \(\d+/\d+\)", printed)


def test_models_and_datasets_must_fit(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "a"), "--dataset", "names", "--model", "mlp"]) == 2
    assert "--model mlp does not take sequences; for --dataset names choose from gru, lstm, rnn" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path / "b"), "--model", "gru"]) == 2
    assert "--model gru does not take images; for --dataset digits choose from cnn, mlp" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path / "c"), "--dataset", "names", "--hidden", "32,16"]) == 2
    assert "share one positive width" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_sample_needs_a_letter_model(tmp_path, capsys):
    out = tmp_path / "digits"
    assert main(["train", "--out", str(out), "--epochs", "1", "--hidden", "8"]) == 0
    capsys.readouterr()
    assert main(["sample", str(out / "model.safetensors")]) == 2
    assert "sample needs a model of letters" in capsys.readouterr().err


@pytest.mark.parametrize("model", ["rnn", "gru"])
def test_other_recurrent_models_train(tmp_path, model):
    out = tmp_path / model
    assert main(["train", "--out", str(out), "--epochs", "1", *FAST, "--model", model, "--hidden", "16"]) == 0
    with open(out / "metrics.csv") as f:
        row = list(csv.DictReader(f))[0]
    assert float(row["test_loss"]) < 2.8  # from log(27) = 3.3 at the start


def test_a_transformer_learns_the_names_and_samples(tmp_path, capsys):
    out = tmp_path / "transformer"
    assert main(["train", "--out", str(out), "--epochs", "2", "--dataset", "names", "--model", "transformer",
                 "--hidden", "32", "--batch-size", "64", "--seed", "1"]) == 0
    config = json.loads((out / "config.json").read_text())
    with open(out / "metrics.csv") as f:
        last = list(csv.DictReader(f))[-1]
    assert config["model"] == "transformer" and float(last["test_loss"]) < config["bigram_baseline"]["test"]
    assert main(["sample", str(out / "model.safetensors"), "-n", "3"]) == 0
    assert "of 3 are not among" in capsys.readouterr().out


def test_the_transformer_is_causal():
    from chainrule.models import build_model

    chainrule.manual_seed(0)
    model = build_model("transformer", (12,), 27, hidden=(16,)).eval()
    tokens = chainrule.tensor([[0, 5, 9, 2, 7, 1]])
    changed = tokens.clone()
    changed[0, 4:] = chainrule.tensor([3, 3])
    with chainrule.no_grad():
        a, b = model(tokens), model(changed)
    assert a.shape == (1, 6, 27)
    assert chainrule.allclose(a[:, :4], b[:, :4], atol=1e-5) and not chainrule.allclose(a[:, 4:], b[:, 4:], atol=1e-5)
