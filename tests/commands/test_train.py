"""`chainrule train` and `chainrule evaluate`: the run folder, determinism, resuming, errors."""
import csv
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import chainrule
from chainrule.cli import main
from chainrule.datasets import write_idx

FAST = ["--hidden", "16", "--batch-size", "64"]


def train(tmp_path, name, *options, capsys=None):
    out = tmp_path / name
    assert main(["train", "--out", str(out), *FAST, *options]) == 0
    return out


def rows(folder):
    with open(folder / "metrics.csv") as f:
        return list(csv.DictReader(f))


def without_seconds(folder):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows(folder)]


def test_train_writes_the_run_folder(tmp_path, capsys):
    out = train(tmp_path, "run", "--epochs", "2")
    printed = capsys.readouterr().out
    assert "Sequential" in printed and "Parameters: 1,210" in printed  # 64*16+16 + 16*10+10
    assert "epoch 1/2" in printed and "epoch 2/2" in printed and "Test accuracy:" in printed
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "curves.png", "metrics.csv", "model.safetensors"]

    table = rows(out)
    assert list(table[0]) == ["epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr", "seconds"]
    assert [r["epoch"] for r in table] == ["1", "2"]
    assert float(table[1]["train_loss"]) < float(table[0]["train_loss"])
    assert 0.5 < float(table[1]["test_accuracy"]) <= 1
    assert float(table[0]["lr"]) == pytest.approx(0.01 / 25)  # adam, onecycle: the cycle starts at peak / 25

    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    config = json.loads((out / "config.json").read_text())
    assert config["dataset"] == "digits" and config["hidden"] == [16] and config["epochs"] == 2
    assert config["train_size"] == 1438 and config["test_size"] == 359 and config["input_shape"] == [1, 8, 8]

    checkpoint = chainrule.load(out / "model.safetensors")
    assert checkpoint["epoch"] == 2 and checkpoint["config"]["optimizer"] == "adam"
    assert set(checkpoint["model"]) == {"1.weight", "1.bias", "3.weight", "3.bias"}
    assert set(checkpoint["optimizer"]) == {"state", "param_groups"}
    assert f"{float(table[-1]['test_accuracy']):.2%}" in printed.splitlines()[-2]


def test_the_test_split_is_stratified(tmp_path):
    from chainrule.commands.train import load_data, DEFAULTS

    data = load_data(dict(DEFAULTS))
    counts = np.bincount(data.test_y.numpy())
    assert counts.sum() == 359 and counts.min() >= 35 and counts.max() <= 37
    overlap = set(map(bytes, data.test_x.numpy())) & set(map(bytes, data.train_x.numpy()))
    assert len(overlap) <= 2  # the digits hold a couple of duplicate images, nothing more


def test_same_seed_same_metrics(tmp_path):
    options = ["--epochs", "2", "--dropout", "0.2", "--seed", "7"]
    first = train(tmp_path, "a", *options)
    second = train(tmp_path, "b", *options)
    other = train(tmp_path, "c", "--epochs", "2", "--dropout", "0.2", "--seed", "8")
    assert without_seconds(first) == without_seconds(second)
    assert without_seconds(first) != without_seconds(other)


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_compile_gives_the_same_numbers(tmp_path, model):
    options = ["--epochs", "3", "--dropout", "0.2", "--model", model] + (["--hidden", ""] if model == "cnn" else [])
    eager = train(tmp_path, "eager", *options)
    compiled = train(tmp_path, "compiled", *options, "--compile")
    assert without_seconds(eager) == without_seconds(compiled)
    weights = [chainrule.load(run / "model.safetensors")["model"] for run in (eager, compiled)]
    assert all(weights[0][k].numpy().tobytes() == weights[1][k].numpy().tobytes() for k in weights[0])


def test_resume_continues_exactly(tmp_path, capsys):
    options = ["--dropout", "0.1", "--scheduler", "step"]  # step_size 1 for 2 and 3 epochs
    straight = train(tmp_path, "straight", "--epochs", "3", *options)
    part = train(tmp_path, "part", "--epochs", "2", *options)
    assert main(["train", "--resume", str(part / "model.safetensors"), "--epochs", "3"]) == 0
    assert without_seconds(part) == without_seconds(straight)
    assert chainrule.load(part / "model.safetensors")["epoch"] == 3


def test_resume_errors(tmp_path, capsys):
    part = train(tmp_path, "part", "--epochs", "1")
    checkpoint = str(part / "model.safetensors")
    capsys.readouterr()
    assert main(["train", "--resume", checkpoint]) == 2
    assert "trained 1 of 1 epochs already" in capsys.readouterr().err
    assert main(["train", "--resume", checkpoint, "--epochs", "2", "--lr", "0.5"]) == 2
    assert "--lr cannot change when resuming" in capsys.readouterr().err


@pytest.mark.parametrize("optimizer, scheduler, lr, expected_lr", [
    # (plain SGD whose rate drops tenfold each epoch needs a larger one to learn in 3 epochs)
    ("sgd", "step", 0.1, lambda lr, e: lr * 0.1 ** ((e - 1) // 1)),          # step_size = epochs // 3 = 1
    ("rmsprop", "cosine", 0.01, lambda lr, e: lr * (1 + math.cos(math.pi * (e - 1) / 3)) / 2),
    ("adamw", "onecycle", 0.01, None),
])
def test_optimizers_and_schedules(tmp_path, optimizer, scheduler, lr, expected_lr):
    out = train(tmp_path, "run", "--epochs", "3", "--optimizer", optimizer, "--scheduler", scheduler,
                "--lr", str(lr), "--activation", "tanh")
    table = rows(out)
    lrs = [float(r["lr"]) for r in table]
    if expected_lr is not None:
        assert lrs == pytest.approx([expected_lr(lr, e) for e in (1, 2, 3)], rel=1e-5)
    else:
        assert lrs[0] == pytest.approx(lr / 25, rel=1e-5) and max(lrs) > lrs[0]
    assert float(table[-1]["test_accuracy"]) > 0.5


def test_mnist_from_idx_files(tmp_path, capsys):
    rng = np.random.default_rng(0)
    data = tmp_path / "mnist"
    data.mkdir()
    for prefix, n in (("train", 60), ("t10k", 20)):
        labels = np.arange(n) % 10
        images = (rng.random((n, 6, 6)) * 40 + labels[:, None, None] * 20).astype(np.uint8)
        write_idx(data / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(data / f"{prefix}-labels-idx1-ubyte", labels)
    out = train(tmp_path, "run", "--dataset", "mnist", "--data-dir", str(data), "--epochs", "1")
    config = json.loads((out / "config.json").read_text())
    assert config["input_shape"] == [1, 6, 6] and config["train_size"] == 60 and config["test_size"] == 20
    capsys.readouterr()
    assert main(["evaluate", str(out / "model.safetensors")]) == 0
    assert "Test accuracy" in capsys.readouterr().out


def test_evaluate_prints_accuracy_and_confusion(tmp_path, capsys):
    out = train(tmp_path, "run", "--epochs", "2")
    accuracy = float(rows(out)[-1]["test_accuracy"])
    capsys.readouterr()
    assert main(["evaluate", str(out / "model.safetensors"), "--out", str(tmp_path / "eval")]) == 0
    printed = capsys.readouterr().out
    assert f"Test accuracy: {accuracy:.2%}" in printed
    matrix = [line.split() for line in printed.splitlines() if line.split() and line.split()[0] in "0123456789"
              and len(line.split()) == 12]
    assert len(matrix) == 10 and sum(int(r[1 + i]) for i, r in enumerate(matrix)) == round(accuracy * 359)
    assert sum(int(v) for r in matrix for v in r[1:11]) == 359
    assert (tmp_path / "eval" / "confusion.png").read_bytes()[:4] == b"\x89PNG"


def _run_in(tmp_path, capsys, monkeypatch, argv):
    """``chainrule argv`` run in ``tmp_path``: its exit status (argparse's too) and output."""
    monkeypatch.chdir(tmp_path)
    try:
        status = main(argv)
    except SystemExit as exit:  # argparse's own errors
        status = exit.code
    captured = capsys.readouterr()
    return status, captured


@pytest.mark.parametrize("argv, message", [
    (["train", "--lr", "-1"], "--lr: must be > 0"),
    (["train", "--hidden", "64,abc"], "--hidden: expected comma-separated"),
    (["train", "--optimizer", "lbfgs"], "invalid choice"),
    (["train", "--dataset", "mnist"], "needs --data-dir"),
    (["train", "--model", "resnet"], "unknown --model 'resnet'"),
    (["train", "--resume", "missing.safetensors"], "no such checkpoint file"),
    (["evaluate", "missing.safetensors"], "no such checkpoint file"),
])
def test_bad_options_and_paths_exit_2_with_one_line(tmp_path, capsys, monkeypatch, argv, message):
    status, captured = _run_in(tmp_path, capsys, monkeypatch, argv)
    assert status == 2 and captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err
    assert not (tmp_path / "runs").exists()


def test_unreadable_files_exit_2(tmp_path, capsys):
    (tmp_path / "model.pt").write_bytes(b"\x80\x04K\x01.")
    (tmp_path / "empty").mkdir()
    (tmp_path / "a-file").write_text("x")
    cases = [
        (["evaluate", str(tmp_path / "model.pt")], "never unpickles"),
        (["train", "--resume", str(tmp_path / "model.pt")], "never unpickles"),
        (["train", "--dataset", "fashion-mnist", "--data-dir", str(tmp_path / "empty")], "train-images-idx3-ubyte"),
        (["train", "--dataset", "mnist", "--data-dir", str(tmp_path / "nowhere")], "no such directory"),
        (["train", "--out", str(tmp_path / "a-file")], "is not a folder"),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, (argv, err)


def test_python_dash_m_exits_2_without_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "chainrule", "train", "--epochs", "-3"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("chainrule train: error: argument --epochs") and "Traceback" not in done.stderr


def test_evaluate_refuses_mismatched_or_foreign_checkpoints(tmp_path, capsys):
    out = train(tmp_path, "run", "--epochs", "1")
    checkpoint = chainrule.load(out / "model.safetensors")
    checkpoint["config"]["hidden"] = [32]
    chainrule.save(checkpoint, tmp_path / "mismatched.safetensors")
    chainrule.save(checkpoint["model"], tmp_path / "weights-only.safetensors")
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "mismatched.safetensors")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "size mismatch" in err
    assert main(["evaluate", str(tmp_path / "weights-only.safetensors")]) == 2
    assert "not a chainrule train checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["train", "--seed", "-1"], "--seed: must be >= 0"),
    (["train", "--seed", "9" * 400], "--seed: must be >= 0 and < 1.84467e+19, got 9999"),
    (["train", "--test-fraction", "0.9999"], "--test-fraction 0.9999 leaves no training samples of the 1797 digits"),
    (["train", "--test-fraction", "0.0001"], "--test-fraction 0.0001 leaves no test samples"),
    (["train", "--hidden", "200000,200000"], "would have 40,015,200,010 parameters (149.1 GiB as float32)"),
    (["train", "--hidden", ",".join(["8"] * 101)], "at most 100 hidden layers"),
    (["train", "--epochs", "9" * 400], "--epochs: must be >= 1 and < 1e+06"),  # not an OverflowError
    (["train", "--batch-size", "9" * 400], "--batch-size: must be >= 1 and < 2.14748e+09"),
    (["vanishing", "--seed", "-1"], "--seed: must be >= 0"),
])
def test_extreme_options_exit_2_with_one_line(tmp_path, capsys, monkeypatch, argv, message):
    status, captured = _run_in(tmp_path, capsys, monkeypatch, argv)
    assert status == 2 and captured.out == "" and captured.err.count("\n") == 1 and message in captured.err, captured
    assert not (tmp_path / "runs").exists()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("trained") / "run"
    assert main(["train", "--out", str(out), *FAST, "--epochs", "1", "--scheduler", "step"]) == 0
    return out / "model.safetensors"


def forged(tmp_path, trained, **changes):
    checkpoint = chainrule.load(trained)
    for key, value in changes.items():
        if key == "config" or not isinstance(value, dict):
            checkpoint[key] = value
        else:
            checkpoint[key] = {**checkpoint[key], **value}
    path = tmp_path / f"forged-{len(list(tmp_path.iterdir()))}.safetensors"
    chainrule.save(checkpoint, path)
    return path


@pytest.mark.parametrize("changes, message", [
    ({"config": ["not", "a", "dict"]}, "its config is a list, not a dict of options"),
    ({"config": {"test_fraction": 5}}, "test_fraction = 5: must be > 0 and < 1"),
    ({"config": {"hidden": [200000, 200000]}}, "would have 40,015,200,010 parameters"),
    ({"config": {"hidden": "64"}}, "hidden = 64: expected a list of layer widths"),
    ({"config": {"seed": -3}}, "seed = -3: must be >= 0"),
    ({"config": {"lr": float("nan")}}, "lr = nan: must be > 0"),
    ({"config": {"dataset": "imagenet"}}, "dataset = imagenet: expected one of digits"),
    ({"config": {"epochs": True}}, "epochs = True: expected a number"),
    ({"epoch": "3"}, "its epoch or model state is not what chainrule train writes"),
])
def test_forged_checkpoint_configs_are_refused_by_evaluate_and_resume(tmp_path, capsys, trained, changes, message):
    if "config" in changes and isinstance(changes["config"], dict):
        changes = {"config": {**chainrule.load(trained)["config"], **changes["config"]}}
    path = forged(tmp_path, trained, **changes)
    capsys.readouterr()
    for argv in (["evaluate", str(path)], ["train", "--resume", str(path), "--epochs", "5", "--out", str(tmp_path / "r")]):
        assert main(argv) == 2, argv
        captured = capsys.readouterr()
        assert captured.err.count("\n") == 1 and message in captured.err, (argv, captured.err)


def test_forged_resume_state_is_refused(tmp_path, capsys, trained):
    for changes in ({"rng": {"global": "zzz"}}, {"history": [{"epoch": "one"}]}, {"scheduler": "broken"}):
        path = forged(tmp_path, trained, **changes)
        capsys.readouterr()
        assert main(["train", "--resume", str(path), "--epochs", "5", "--out", str(tmp_path / "r")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "corrupt checkpoint" in err, err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_a_fifo_checkpoint_is_refused_without_hanging(tmp_path):
    os.mkfifo(tmp_path / "model.safetensors")
    for argv in (["evaluate"], ["train", "--resume"]):
        done = subprocess.run([sys.executable, "-m", "chainrule", *argv, str(tmp_path / "model.safetensors")],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and done.stderr.count("\n") == 1
        assert "a FIFO (named pipe), not a regular file" in done.stderr


def test_idx_files_with_no_items_exit_2(tmp_path, capsys):
    for prefix in ("train", "t10k"):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", np.zeros((0, 6, 6), np.uint8))
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", np.zeros(0, np.uint8))
    assert main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds no images" in err


def test_sub_second_epochs_show_milliseconds(tmp_path, capsys):
    from chainrule.commands.train import format_seconds

    assert [format_seconds(s) for s in (0.0004, 0.0854, 0.9994, 0.9996, 12.34)] == ["0ms", "85ms", "999ms", "1.0s",
                                                                                   "12.3s"]
    train(tmp_path, "run", "--epochs", "1")
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch 1/1"))
    assert line.endswith("ms") and float(line.rsplit(None, 1)[1][:-2]) > 0


def test_forged_checkpoint_headers_exit_2_with_one_line(tmp_path, capsys):
    headers = {"infinity": b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, Infinity]}}',
               "1e400": b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 1e400]}}',
               "nested": b'{"w": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"}
    for name, header in headers.items():
        path = tmp_path / f"{name}.safetensors"
        path.write_bytes(len(header).to_bytes(8, "little") + header + bytes(4))
        for argv in (["evaluate", str(path)], ["train", "--resume", str(path)]):
            assert main(argv) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and f"{name}.safetensors: corrupt" in err, err
