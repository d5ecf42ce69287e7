"""chainrule.save / chainrule.load: safetensors round trips, atomic writes, refusing pickles."""
import io
import os
import pickle
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import chainrule
from chainrule.serialization import CheckpointError


def same(a, b):
    assert type(a) is type(b)
    if isinstance(a, chainrule.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a.detach().numpy(), b.detach().numpy())
        assert a.requires_grad == b.requires_grad
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            same(u, v)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


@pytest.mark.parametrize("value", [
    chainrule.randn(3, 4),
    chainrule.tensor(2.5, dtype=chainrule.float64),
    chainrule.tensor(7),
    chainrule.zeros(0, 3),
    chainrule.tensor([True, False]),
    chainrule.arange(12, dtype=chainrule.uint8).reshape(3, 4),
    chainrule.ones(2, requires_grad=True),
])
def test_tensor_round_trip(tmp_path, value):
    chainrule.save(value, tmp_path / "t.safetensors")
    same(value, chainrule.load(tmp_path / "t.safetensors"))


def test_non_contiguous_tensor(tmp_path):
    value = chainrule.randn(4, 3).t()
    chainrule.save(value, tmp_path / "t.safetensors")
    assert np.array_equal(chainrule.load(tmp_path / "t.safetensors").numpy(), value.numpy())


def test_nested_checkpoint_round_trip(tmp_path):
    state = {"fc.weight": chainrule.randn(2, 3), "fc.bias": chainrule.zeros(2), "bn.num_batches_tracked": chainrule.tensor(4)}
    optimizer = {"state": {0: {"step": chainrule.tensor(3.0), "exp_avg": chainrule.ones(2, 3)}, 1: {"momentum_buffer": None}},
                 "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1], "nesterov": False, "name": "g"}]}
    checkpoint = {"model": state, "optimizer": optimizer, "epoch": 3, "loss": float("nan"), "history": [1.5, 2],
                  "indices": np.arange(4), "__odd": {"__tensor__": 1}, 7: "int key"}
    chainrule.save(checkpoint, tmp_path / "c.safetensors")
    loaded = chainrule.load(tmp_path / "c.safetensors")
    same(checkpoint, loaded)
    assert isinstance(loaded["optimizer"]["param_groups"][0]["betas"], tuple)
    assert loaded["model"]["fc.weight"].numpy().flags.writeable


def test_shared_tensor_is_loaded_once(tmp_path):
    t = chainrule.ones(3)
    chainrule.save({"a": t, "b": [t]}, tmp_path / "s.safetensors")
    loaded = chainrule.load(tmp_path / "s.safetensors")
    assert loaded["a"] is loaded["b"][0]


def test_state_dict_file_is_plain_safetensors(tmp_path):
    from safetensors.torch import load_file

    state = {"fc.weight": chainrule.randn(2, 3), "fc.bias": chainrule.zeros(2)}
    chainrule.save(state, tmp_path / "m.safetensors")
    theirs = load_file(tmp_path / "m.safetensors")
    assert set(theirs) == set(state)
    np.testing.assert_array_equal(theirs["fc.weight"].numpy(), state["fc.weight"].numpy())


def test_foreign_safetensors_file_loads_as_dict(tmp_path):
    from safetensors.numpy import save_file

    save_file({"w": np.ones((2, 2), np.float32)}, tmp_path / "f.safetensors")
    loaded = chainrule.load(tmp_path / "f.safetensors")
    assert list(loaded) == ["w"] and loaded["w"].shape == (2, 2)


def test_file_objects(tmp_path):
    buffer = io.BytesIO()
    chainrule.save({"x": chainrule.arange(3)}, buffer)
    buffer.seek(0)
    assert chainrule.load(buffer)["x"].tolist() == [0, 1, 2]


def test_unsupported_objects_are_refused(tmp_path):
    with pytest.raises(TypeError, match="cannot store a object at 'a.0'"):
        chainrule.save({"a": [object()]}, tmp_path / "x")
    with pytest.raises(TypeError, match="complex128"):
        chainrule.save(chainrule.zeros(2, dtype=chainrule.complex128), tmp_path / "x")
    assert not os.listdir(tmp_path)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    chainrule.save({"w": chainrule.ones(3)}, path)
    before = path.read_bytes()

    def crash(fd):  # the new bytes are in the temp file, not yet renamed: a crash here
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        chainrule.save({"w": chainrule.zeros(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.safetensors"]

    import safetensors.numpy

    def broken_writer(*args, **kwargs):
        raise RuntimeError("serializer crashed")

    monkeypatch.setattr(safetensors.numpy, "save", broken_writer)
    with pytest.raises(RuntimeError, match="serializer crashed"):
        chainrule.save({"w": chainrule.zeros(5)}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.safetensors"]


def test_save_to_missing_folder_or_a_directory_raises_what_pytorch_and_python_raise(tmp_path):
    """PyTorch raises RuntimeError; the errors are also Python's own file errors."""
    for error in (FileNotFoundError, RuntimeError):
        with pytest.raises(error, match="Parent directory .*nope does not exist"):
            chainrule.save(chainrule.ones(1), tmp_path / "nope" / "x.safetensors")
    with pytest.raises(RuntimeError):
        torch.save(torch.ones(1), tmp_path / "nope" / "x.pt")
    for error in (IsADirectoryError, RuntimeError):
        with pytest.raises(error, match="is a directory"):
            chainrule.save(chainrule.ones(1), tmp_path)
    with pytest.raises(RuntimeError):
        torch.save(torch.ones(1), tmp_path)
    assert os.listdir(tmp_path) == []


def test_pickles_are_refused(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "torch.pt")
    with open(tmp_path / "plain.pkl", "wb") as f:
        pickle.dump({"w": [1.0]}, f)
    for name, what in (("torch.pt", "torch.save"), ("plain.pkl", "pickle")):
        with pytest.raises(CheckpointError, match="never unpickles") as info:
            chainrule.load(tmp_path / name)
        assert name in str(info.value) and what in str(info.value)
    assert issubclass(CheckpointError, RuntimeError) and issubclass(CheckpointError, ValueError)


def test_truncated_and_corrupt_files_are_refused(tmp_path):
    path = tmp_path / "c.safetensors"
    chainrule.save({"w": chainrule.randn(10), "epoch": 1}, path)
    data = path.read_bytes()
    cases = {
        "short.safetensors": (data[:-3], "truncated: the tensors need"),
        "header.safetensors": (data[:30], "truncated: the header needs"),
        "tiny.safetensors": (data[:5], "truncated: 5 bytes"),
        "empty.safetensors": (b"", "empty file"),
        "text.safetensors": (b"this is not a checkpoint at all", "not a safetensors checkpoint"),
        "json.safetensors": (len(b"{oops").to_bytes(8, "little") + b"{oops", "header is not JSON"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(CheckpointError, match=message) as info:
            chainrule.load(tmp_path / name)
        assert name in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.safetensors"):
        chainrule.load(tmp_path / "missing.safetensors")


def test_module_state_dict_round_trip_and_size_mismatch(tmp_path):
    model = chainrule.nn.Sequential(chainrule.nn.Linear(3, 4), chainrule.nn.ReLU(), chainrule.nn.Linear(4, 2))
    chainrule.save(model.state_dict(), tmp_path / "m.safetensors")
    other = chainrule.nn.Sequential(chainrule.nn.Linear(3, 4), chainrule.nn.ReLU(), chainrule.nn.Linear(4, 2))
    other.load_state_dict(chainrule.load(tmp_path / "m.safetensors"))
    x = chainrule.randn(5, 3)
    assert np.array_equal(other(x).detach().numpy(), model(x).detach().numpy())
    wrong = chainrule.nn.Sequential(chainrule.nn.Linear(3, 5), chainrule.nn.ReLU(), chainrule.nn.Linear(5, 2))
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        wrong.load_state_dict(chainrule.load(tmp_path / "m.safetensors"))


def test_parameters_keep_their_type(tmp_path):
    p = chainrule.nn.Parameter(chainrule.ones(2))
    chainrule.save({"p": p}, tmp_path / "p.safetensors")
    q = chainrule.load(tmp_path / "p.safetensors")["p"]
    assert isinstance(q, chainrule.nn.Parameter) and q.requires_grad


@pytest.mark.parametrize("make", [
    lambda params: chainrule.optim.Adam(params, lr=0.01),
    lambda params: chainrule.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True),
    lambda params: chainrule.optim.RMSprop(params, lr=0.01, momentum=0.5),
])
def test_optimizer_state_dict_resumes_identically(tmp_path, make):
    x, y = chainrule.randn(16, 3), chainrule.randint(0, 2, (16,))
    loss_fn = chainrule.nn.CrossEntropyLoss()

    def fresh():
        chainrule.manual_seed(0)
        model = chainrule.nn.Sequential(chainrule.nn.Linear(3, 8), chainrule.nn.Tanh(), chainrule.nn.Linear(8, 2))
        return model, make(model.parameters())

    def steps(model, optimizer, n):
        for _ in range(n):
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()

    model, optimizer = fresh()
    steps(model, optimizer, 3)
    chainrule.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3},
                   tmp_path / "ckpt.safetensors")
    steps(model, optimizer, 4)

    resumed, resumed_optimizer = fresh()
    checkpoint = chainrule.load(tmp_path / "ckpt.safetensors")
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    steps(resumed, resumed_optimizer, 4)
    for a, b in zip(model.parameters(), resumed.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    assert checkpoint["epoch"] == 3


# A writer that hangs after writing its temporary file (fsync never returns), to be killed.
HANGING_WRITER = textwrap.dedent("""
    import os, sys, time
    import chainrule

    def hang(fd):
        print("writing", flush=True)
        time.sleep(600)

    os.fsync = hang
    chainrule.save({"w": chainrule.zeros(1000, 1000)}, sys.argv[1])
""")


def temps(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


@pytest.mark.skipif(os.name != "posix", reason="process ids and SIGKILL are POSIX")
def test_the_next_save_removes_a_killed_writers_temporary_file(tmp_path):
    path = tmp_path / "model.safetensors"
    writer = subprocess.Popen([sys.executable, "-c", HANGING_WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline() == "writing\n"
        left = temps(tmp_path)
        assert len(left) == 1 and left[0].startswith(f".model.safetensors.{writer.pid}-")
        assert (tmp_path / left[0]).stat().st_size > 4_000_000
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(30)
    assert temps(tmp_path) == left and not path.exists()  # kill -9: nothing could clean up

    live = tmp_path / f".model.safetensors.{os.getpid()}-0123abcd.tmp"  # this process's write in progress
    live.write_bytes(b"in progress")
    other = tmp_path / ".other.safetensors.999999999-0123abcd.tmp"  # another target's
    other.write_bytes(b"x")
    chainrule.save({"w": chainrule.ones(2)}, path)
    assert temps(tmp_path) == sorted([live.name, other.name])
    assert chainrule.load(path)["w"].tolist() == [1.0, 1.0]
