"""nn.SyncBatchNorm and convert_sync_batchnorm against PyTorch's, on the CPU: the plain batch
norm without a process group (train and eval), the same errors, the same conversion."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

from conftest import assert_close


def _model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4),
                         nn.Sequential(nn.Flatten(), nn.Linear(36, 5), nn.BatchNorm1d(5, momentum=None, affine=False)),
                         nn.BatchNorm3d(2, bias=False, track_running_stats=False)).double()


def _same_weights(ours, theirs):
    with torch.no_grad():
        for p, q in zip(theirs.parameters(), ours.parameters()):
            p.copy_(torch.tensor(q.detach().numpy()))


def test_convert_replaces_every_batchnorm_keeping_weights_buffers_and_mode():
    model = _model(chainrule)
    model[2][2].eval()
    before = {name: t for name, t in model.named_parameters()}
    buffers = {name: t for name, t in model.named_buffers()}
    converted = chainrule.nn.SyncBatchNorm.convert_sync_batchnorm(model, process_group="pg")
    assert converted is model
    assert repr(converted) == repr(torch.nn.SyncBatchNorm.convert_sync_batchnorm(_model(torch)))
    kinds = [type(m).__name__ for m in converted.modules()]
    assert kinds.count("SyncBatchNorm") == 3 and not any(k.startswith("BatchNorm") for k in kinds)
    for name, t in converted.named_parameters():
        assert t is before[name]
    for name, t in converted.named_buffers():
        assert t is buffers[name]
    assert converted[2][2].training is False and converted[1].training is True
    assert converted[1].process_group == "pg"
    bn = chainrule.nn.BatchNorm1d(3)
    assert isinstance(chainrule.nn.SyncBatchNorm.convert_sync_batchnorm(bn), chainrule.nn.SyncBatchNorm)


@pytest.mark.parametrize("training", [True, False])
def test_without_a_process_group_it_is_batch_norm(training):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 3, 3))
    outs = []
    for lib in (chainrule, torch):
        model = lib.nn.SyncBatchNorm.convert_sync_batchnorm(_model(lib))
        if lib is torch:
            _same_weights(outs[0][0], model)
        model.train(training)
        xs = lib.tensor(x, requires_grad=True)
        y = model[:3](xs)
        z = model[3](lib.tensor(x[:, :2, None], requires_grad=True))
        (y.sum() + (z ** 2).sum()).backward()
        outs.append((model, y, z, xs.grad))
    (ours, *a), (theirs, *b) = outs
    for u, v in zip(a, b):
        assert_close(u, v, rtol=1e-10, atol=1e-10)
    for (name, u), (_, v) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert_close(u, v, rtol=1e-10, atol=1e-10, what=name)


def test_signature_and_repr_match_torch():
    ours = chainrule.nn.SyncBatchNorm(4, 1e-3, None, False, False, None, bias=False)
    theirs = torch.nn.SyncBatchNorm(4, 1e-3, None, False, False, None, bias=False)
    assert repr(ours) == repr(theirs)
    assert ours.process_group is None
    assert dict(ours.named_buffers()).keys() == dict(theirs.named_buffers()).keys()


@pytest.mark.parametrize("shape", [(4,), (2, 0, 3)])
def test_input_errors_match_torch(shape):
    messages = []
    for lib in (chainrule, torch):
        with pytest.raises(ValueError) as caught:
            lib.nn.SyncBatchNorm(0 if len(shape) > 1 else 4)(lib.zeros(shape))
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


def test_training_on_cpu_with_a_process_group_raises_torchs_error(monkeypatch):
    messages = []
    for lib in (chainrule, torch):
        monkeypatch.setattr(lib.distributed, "is_initialized", lambda: True)
        bn = lib.nn.SyncBatchNorm(3)
        with pytest.raises(ValueError) as caught:
            bn(lib.ones(2, 3))
        messages.append(str(caught.value))
        bn.eval()  # eval mode never synchronises
        assert_close(bn(lib.ones(2, 3)), np.full((2, 3), 1 / np.sqrt(1 + 1e-5)), rtol=1e-6, atol=1e-6)
    assert messages[0] == messages[1]
