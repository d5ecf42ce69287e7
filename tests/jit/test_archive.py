"""jit.save / jit.load: a module rebuilt from its classes gives the original's (and PyTorch's
round trip's) numbers; the file is written atomically; missing classes, TorchScript archives
and other files get clear errors."""
from __future__ import annotations

import io
import os
import sys
import types
import warnings

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close

LIBS = (chainrule, torch)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def _define(L):
    nn, F = L.nn, L.nn.functional

    class Block(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.norm = nn.BatchNorm2d(channels)
            self.sizes = (channels, [1, 2], {"k": 3})
            self.activation = F.relu
            self.register_buffer("offset", L.full((channels, 1, 1), 0.25), persistent=False)

        def forward(self, x):
            return self.activation(self.norm(self.conv(x))) + self.offset

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(1, 4, 3)
            self.blocks = nn.ModuleList([Block(4), Block(4)])
            self.head = nn.Linear(4, 3)
            self.tail = nn.Linear(3, 3)
            self.scale = 0.5
            self.kind = L.float64

        def forward(self, x):
            x = self.stem(x)
            for block in self.blocks:
                x = block(x)
            return self.tail(self.head(x.mean((2, 3)))) * self.scale

    return Block, Model


# The same classes in either library, importable by these module-level names.
Block, Model = _define(chainrule)
TorchBlock, TorchModel = _define(torch)
Block.__qualname__, Model.__qualname__ = "Block", "Model"
TorchBlock.__qualname__, TorchModel.__qualname__ = "TorchBlock", "TorchModel"


def _trained(L, model_class):
    L.manual_seed(0)
    model = model_class().double()
    optimizer = L.optim.SGD(model.parameters(), lr=0.1)
    x = L.tensor(np.linspace(-1, 1, 2 * 36).reshape(2, 1, 6, 6))
    for _ in range(3):
        optimizer.zero_grad()
        model(x).pow(2).sum().backward()
        optimizer.step()
    return model.eval(), x


def test_round_trip_matches_the_original_and_pytorch(tmp_path):
    outputs = []
    for L, model_class in ((chainrule, Model), (torch, TorchModel)):
        model, x = _trained(L, model_class)
        path = tmp_path / f"{L.__name__}.pt"
        saved = L.jit.trace(model, x) if L is torch else model
        L.jit.save(saved, str(path))
        loaded = L.jit.load(str(path))
        assert type(loaded).__name__ == "RecursiveScriptModule" and not loaded.training
        if L is chainrule:  # (PyTorch's loaded module lists its non-persistent buffers too)
            assert list(loaded.state_dict()) == list(model.state_dict())
        outputs.append((loaded(x), model(x)))
    (ours, ours_before), (theirs, _) = outputs
    assert_close(ours, ours_before)
    assert_close(ours, theirs)


def test_rebuilt_module_has_the_attributes(tmp_path):
    model, x = _trained(chainrule, Model)
    path = tmp_path / "model.pt"
    chainrule.jit.script(model).save(path)
    loaded = chainrule.jit.load(path)
    block = loaded.blocks[1]
    assert chainrule.jit.modules.original_class(loaded) is Model
    assert block.sizes == (4, [1, 2], {"k": 3}) and block.activation is chainrule.nn.functional.relu
    assert block.conv.bias is None and block.conv.padding == (1, 1) and loaded.kind is chainrule.float64
    assert "blocks.0.offset" not in loaded.state_dict()
    assert_close(block.offset, np.full((4, 1, 1), 0.25, dtype=np.float32))
    assert isinstance(loaded.head.weight, chainrule.nn.Parameter) and loaded.head.weight.requires_grad
    assert_close(block.norm.running_var, model.blocks[1].norm.running_var)


def test_shared_tensors_stay_shared_and_file_objects(tmp_path):
    model = chainrule.nn.Sequential(chainrule.nn.Linear(3, 3), chainrule.nn.Linear(3, 3))
    model[1].weight = model[0].weight
    buffer = io.BytesIO()
    chainrule.jit.save(model, buffer)
    buffer.seek(0)
    loaded = chainrule.jit.load(buffer)
    assert loaded[1].weight is loaded[0].weight


def test_save_is_atomic_and_refuses_what_it_cannot_store(tmp_path):
    path = tmp_path / "model.pt"
    chainrule.jit.save(chainrule.nn.Linear(2, 2), path)
    before = path.read_bytes()
    model = chainrule.nn.Linear(2, 2)
    model.handle = open(os.devnull)
    try:
        with pytest.raises(TypeError, match="cannot store attribute 'handle' of type TextIOWrapper"):
            chainrule.jit.save(model, path)
    finally:
        model.handle.close()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.pt"]

    def local():
        return None

    model.handle = local
    with pytest.raises(TypeError, match="defined inside a function"):
        chainrule.jit.save(model, path)


def test_missing_class_is_named(tmp_path):
    module = types.ModuleType("jit_vanishing_module")
    exec("import chainrule\nclass Gone(chainrule.nn.Module):\n    def forward(self, x):\n        return x\n",
         module.__dict__)
    sys.modules["jit_vanishing_module"] = module
    try:
        chainrule.jit.save(module.Gone(), tmp_path / "gone.pt")
    finally:
        del sys.modules["jit_vanishing_module"]
    with pytest.raises(RuntimeError, match="needs 'Gone' from module 'jit_vanishing_module', which cannot be "
                                           "imported here .No module named 'jit_vanishing_module'."):
        chainrule.jit.load(tmp_path / "gone.pt")


def test_class_defined_in_the_running_script(tmp_path):
    source = ("import chainrule\n"
              "class Doubler(chainrule.nn.Module):\n"
              "    def forward(self, x):\n"
              "        return 2 * x\n"
              f"chainrule.jit.save(Doubler(), {str(tmp_path / 'd.pt')!r})\n"
              f"loaded = chainrule.jit.load({str(tmp_path / 'd.pt')!r})\n")
    namespace = {"__name__": "a_script_run_by_exec"}
    exec(compile(source, "<script>", "exec"), namespace)
    assert float(namespace["loaded"](chainrule.ones(1))) == 2.0


def test_load_errors(tmp_path):
    with pytest.raises(ValueError, match="The provided filename .* does not exist"):
        chainrule.jit.load(tmp_path / "absent.pt")
    with pytest.raises(ValueError, match="is a directory"):
        chainrule.jit.load(tmp_path)
    torchscript = tmp_path / "torchscript.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(torchscript))
    with pytest.raises(RuntimeError, match="is a TorchScript archive .written by PyTorch's torch.jit.save."):
        chainrule.jit.load(torchscript)
    checkpoint = tmp_path / "weights.safetensors"
    chainrule.save(chainrule.nn.Linear(2, 2).state_dict(), checkpoint)
    with pytest.raises(RuntimeError, match="is not a chainrule.jit archive"):
        chainrule.jit.load(checkpoint)
    with pytest.raises(TypeError, match="expects a module or a scripted function"):
        chainrule.jit.save(3, tmp_path / "three.pt")


def double(x):
    return 2 * x


def test_functions_extra_files_and_map_location(tmp_path):
    for L in LIBS:
        path = str(tmp_path / f"{L.__name__}-fn.pt")
        L.jit.save(L.jit.script(double), path, _extra_files={"notes.txt": "trained 3 epochs"})
        extra = {"notes.txt": ""}
        loaded = L.jit.load(path, map_location="cpu", _extra_files=extra)
        assert extra == {"notes.txt": b"trained 3 epochs"}
        assert float(loaded(L.ones(1))) == 2.0


def test_pruned_module_round_trip(tmp_path):
    """A pruned layer saves its _orig parameter, _mask buffer and the masked weight; the
    loaded one computes the same (its pruning hook is not saved, as TorchScript drops hooks)."""
    chainrule.manual_seed(0)
    layer = chainrule.nn.Linear(6, 4)
    chainrule.nn.utils.prune.random_unstructured(layer, "weight", amount=0.5)
    chainrule.jit.save(layer, tmp_path / "pruned.pt")
    loaded = chainrule.jit.load(tmp_path / "pruned.pt")
    assert list(loaded.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    x = chainrule.ones(2, 6)
    assert_close(loaded(x), layer(x))
    assert_close(loaded.weight, layer.weight_orig * layer.weight_mask)
