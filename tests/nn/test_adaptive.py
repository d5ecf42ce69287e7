"""nn.AdaptiveLogSoftmaxWithLoss against PyTorch in float64: initial weights from the same
seed, state_dict keys, repr, output and loss with their gradients, log_prob, predict, errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn as nn
from conftest import assert_close
from nn_twins import twin
from op_parity import raises_like_torch

RNG = np.random.default_rng(11)


def _make(m):
    return m.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10, 15], div_value=2.0, head_bias=True)


def test_initialises_from_torchs_stream_with_its_keys_and_repr():
    chainrule.manual_seed(0)
    mine = _make(nn)
    torch.manual_seed(0)
    theirs = _make(torch.nn)
    assert repr(mine) == repr(theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    for name, value in theirs.state_dict().items():
        np.testing.assert_array_equal(mine.state_dict()[name].numpy(), value.numpy())


@pytest.mark.parametrize("target", [np.array([0, 3, 4, 9, 10, 19, 15, 2]), np.array([5, 6, 7, 8, 9, 5, 6, 7]),
                                    np.array(12)])
def test_output_loss_and_gradients(target):
    c_module, t_module = twin(_make)
    x = RNG.standard_normal((8, 8) if target.ndim else (8,))
    cx, tx = chainrule.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_c, out_t = c_module(cx, chainrule.tensor(target)), t_module(tx, torch.tensor(target))
    assert_close(out_c.output, out_t.output)
    assert_close(out_c.loss, out_t.loss)
    (out_c.loss + out_c.output.sum() * 0.5).backward()
    (out_t.loss + out_t.output.sum() * 0.5).backward()
    assert_close(cx.grad, tx.grad)
    t_params = dict(t_module.named_parameters())
    for name, p in c_module.named_parameters():
        if t_params[name].grad is None:
            assert p.grad is None or not np.any(p.grad.numpy()), name
        else:
            assert_close(p.grad, t_params[name].grad, what=name)


def test_log_prob_and_predict():
    c_module, t_module = twin(_make)
    x = RNG.standard_normal((16, 8)) * 3
    assert_close(c_module.log_prob(chainrule.tensor(x)), t_module.log_prob(torch.tensor(x)))
    np.testing.assert_array_equal(c_module.predict(chainrule.tensor(x)).numpy(), t_module.predict(torch.tensor(x)).numpy())
    with torch.no_grad():
        t_module.head.bias[:4] = 50.0  # every row in the shortlist
    c_module.load_state_dict({k: v.numpy() for k, v in t_module.state_dict().items()})
    np.testing.assert_array_equal(c_module.predict(chainrule.tensor(x)).numpy(), t_module.predict(torch.tensor(x)).numpy())


@pytest.mark.parametrize("make", [
    lambda L: L.nn.AdaptiveLogSoftmaxWithLoss(8, 20, []),
    lambda L: L.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [5, 3]),
    lambda L: L.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [5, 20]),
    lambda L: _make(L.nn)(L.zeros(3, 8), L.tensor([0, 1])),
    lambda L: _make(L.nn)(L.zeros(3, 8), L.tensor([0, 1, 20])),
    lambda L: _make(L.nn)(L.zeros(3, 8), L.zeros(3, 1, dtype=L.long)),
    lambda L: _make(L.nn)(L.zeros(3, 8), L.tensor(1)),
])
def test_errors_like_torch(make):
    import re

    with pytest.raises(Exception) as theirs:
        make(torch)
    raises_like_torch(lambda: make(chainrule), lambda: make(torch), re.escape(str(theirs.value)[:50]))
