"""``chainrule.utils.tensorboard.SummaryWriter`` writes the event files PyTorch's writes: both
are read back with TensorBoard's own EventAccumulator and compared."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import chainrule
from chainrule.utils.tensorboard import SummaryWriter

VALUES = np.random.default_rng(0).standard_normal(500)


def log(writer, lib):
    for step in range(3):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
        writer.add_scalar("acc", lib.tensor(0.5 + step / 10), global_step=step, walltime=100.0 + step)
        writer.add_scalars("run", {"train": float(step), "val": step * 2.0}, step)
    writer.add_scalar("precise", 0.1, 7, new_style=True, double_precision=True)
    writer.add_histogram("weights", lib.tensor(VALUES), 5)
    writer.add_histogram("numpy_bins", VALUES, 6, bins="auto", max_bins=7)
    writer.add_text("note", "hello **tensorboard**", 1)


def read(path):
    accumulator = EventAccumulator(str(path), size_guidance={"tensors": 0, "histograms": 0, "scalars": 0})
    accumulator.Reload()
    return accumulator


def test_event_files_read_back_as_pytorchs(tmp_path):
    with SummaryWriter(tmp_path / "ours") as ours:
        log(ours, chainrule)
    with TorchWriter(tmp_path / "theirs") as theirs:
        log(theirs, torch)
    mine, expected = read(tmp_path / "ours"), read(tmp_path / "theirs")
    assert mine.Tags()["scalars"] == expected.Tags()["scalars"] == ["loss", "acc"]
    for tag in ("loss", "acc"):
        assert [(e.step, e.value) for e in mine.Scalars(tag)] == [(e.step, e.value) for e in expected.Scalars(tag)]
    assert [e.wall_time for e in mine.Scalars("acc")] == [100.0, 101.0, 102.0]
    for tag in ("weights", "numpy_bins"):
        ours_h, theirs_h = mine.Histograms(tag)[0], expected.Histograms(tag)[0]
        assert ours_h.step == theirs_h.step
        assert ours_h.histogram_value == theirs_h.histogram_value
    assert sorted(mine.Tags()["tensors"]) == sorted(expected.Tags()["tensors"]) == ["note/text_summary", "precise"]
    for tag in ("note/text_summary", "precise"):
        assert mine.Tensors(tag)[0].tensor_proto == expected.Tensors(tag)[0].tensor_proto
    assert mine.SummaryMetadata("note/text_summary") == expected.SummaryMetadata("note/text_summary")
    # add_scalars: one run per series, beside the main one.
    runs = [sorted(p.name for p in (tmp_path / name).iterdir() if p.is_dir()) for name in ("ours", "theirs")]
    assert runs[0] == runs[1] == ["run_train", "run_val"]
    series = read(tmp_path / "ours" / "run_val").Scalars("run")
    assert [(e.step, e.value) for e in series] == [(0, 0.0), (1, 2.0), (2, 4.0)]


def test_flush_writes_before_close_and_default_log_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1")
    writer.add_scalar("x", 3.0, 1)
    writer.flush()
    assert writer.get_logdir().startswith("runs") and writer.get_logdir().endswith("_lr0.1")
    assert [e.value for e in read(writer.get_logdir()).Scalars("x")] == [3.0]
    writer.close()


def test_unsupported_and_bad_input_say_so(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(NotImplementedError, match="add_graph is not supported"):
            writer.add_graph(chainrule.nn.Linear(2, 2), chainrule.zeros(1, 2))
        with pytest.raises(AssertionError, match="one element"):
            writer.add_scalar("x", chainrule.zeros(3), 0)
        with pytest.raises(ValueError, match="no element"):
            writer.add_histogram("h", np.zeros(0), 0)


def test_without_tensorboard_the_error_names_the_extra():
    code = ("import sys; sys.modules['tensorboard'] = None\n"
            "try:\n    import chainrule.utils.tensorboard\n"
            "except ImportError as error:\n    print(error)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ("chainrule.utils.tensorboard needs the 'tensorboard' package: "
                                  "pip install 'chainrule[tensorboard]'")
