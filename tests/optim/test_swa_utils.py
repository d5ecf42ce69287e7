"""optim.swa_utils against PyTorch's: a stochastic-weight-averaging run (AveragedModel, SWALR
after a cosine schedule, update_bn) and an EMA model over parameters and buffers give the
same weights, statistics, learning rates and state_dict."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule


def _swa_run(lib, strategy):
    swa_utils = lib.optim.swa_utils
    rng = np.random.default_rng(21)
    model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.BatchNorm1d(8), lib.nn.ReLU(), lib.nn.Linear(8, 1)).double()
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape))))
    batches = [(lib.tensor(rng.standard_normal((6, 4))), lib.tensor(rng.standard_normal((6, 1)))) for _ in range(3)]
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = lib.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    swa_model = swa_utils.AveragedModel(model)
    ema_model = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.9), use_buffers=True)
    ema_single = swa_utils.AveragedModel(model, avg_fn=swa_utils.get_ema_avg_fn(0.8))
    swa_scheduler = swa_utils.SWALR(optimizer, swa_lr=0.02, anneal_epochs=3, anneal_strategy=strategy)
    rates = []
    for epoch in range(8):
        for x, y in batches:
            optimizer.zero_grad()
            lib.nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()
            ema_model.update_parameters(model)
            ema_single.update_parameters(model)
        if epoch >= 3:
            swa_model.update_parameters(model)
            swa_scheduler.step()
        else:
            scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    swa_utils.update_bn([x for x, _ in batches], swa_model)
    swa_utils.update_bn(batches, ema_model)  # (input, target) pairs: the input is used
    probe = lib.tensor(rng.standard_normal((5, 4)))
    swa_model.eval()
    outputs = [swa_model(probe), ema_model.eval()(probe), ema_single.eval()(probe)]
    states = [{k: v.numpy() for k, v in m.state_dict().items()} for m in (swa_model, ema_model, ema_single)]
    return rates, [o.detach().numpy() for o in outputs], states


@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_swa_and_ema_runs_match_pytorch(strategy):
    ours, theirs = _swa_run(chainrule, strategy), _swa_run(torch, strategy)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    for mine, reference in zip(ours[2], theirs[2]):
        assert list(mine) == list(reference)  # the same keys, n_averaged among them
        for key in reference:
            assert mine[key].dtype == reference[key].dtype, key
            np.testing.assert_allclose(mine[key], reference[key], rtol=1e-9, atol=1e-12, err_msg=key)


def test_bad_arguments_raise_like_pytorch():
    for lib in (chainrule, torch):
        swa_utils = lib.optim.swa_utils
        optimizer = lib.optim.SGD([lib.nn.Parameter(lib.zeros(2))], lr=0.1)
        with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear', instead got step"):
            swa_utils.SWALR(optimizer, swa_lr=0.01, anneal_strategy="step")
        with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0, got -1"):
            swa_utils.SWALR(optimizer, swa_lr=0.01, anneal_epochs=-1)
        with pytest.raises(ValueError, match="Invalid decay value 1.5"):
            swa_utils.get_ema_multi_avg_fn(1.5)
