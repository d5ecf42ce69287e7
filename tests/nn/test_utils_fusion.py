"""chainrule.nn.utils.fusion, skip_init and clip_grads_with_norm_ against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close


def _bn(lib, cls, channels, rng):
    bn = getattr(lib.nn, cls)(channels).double()
    with lib.no_grad():
        bn.running_mean.copy_(lib.tensor(rng.normal(size=channels)))
        bn.running_var.copy_(lib.tensor(rng.uniform(0.5, 2.0, size=channels)))
        bn.weight.copy_(lib.tensor(rng.normal(size=channels)))
        bn.bias.copy_(lib.tensor(rng.normal(size=channels)))
    return bn.eval()


def _copy_layer(lib, layer, rng):
    with lib.no_grad():
        for p in layer.parameters():
            p.copy_(lib.tensor(rng.normal(size=tuple(p.shape))))
    return layer.double().eval()


@pytest.mark.parametrize("conv, bn, shape, transpose, bias", [
    ("Conv2d", "BatchNorm2d", (2, 3, 6, 6), False, True),
    ("Conv1d", "BatchNorm1d", (2, 3, 7), False, False),
    ("ConvTranspose2d", "BatchNorm2d", (2, 3, 4, 4), True, True),
])
def test_fused_conv_gives_the_same_outputs_and_weights_as_pytorch(conv, bn, shape, transpose, bias):
    results = []
    for lib in (chainrule, torch):
        rng = np.random.default_rng(0)
        layer = _copy_layer(lib, getattr(lib.nn, conv)(3, 4, 3, bias=bias), rng)
        norm = _bn(lib, bn, 4, rng)
        x = lib.tensor(rng.normal(size=shape))
        fused = lib.nn.utils.fuse_conv_bn_eval(layer, norm, transpose=transpose)
        assert type(fused) is type(layer) and fused is not layer
        assert isinstance(fused.weight, lib.nn.Parameter) and fused.bias.requires_grad == bias
        assert_close(fused(x), norm(layer(x)), rtol=1e-10, atol=1e-10)
        results.append((fused.weight, fused.bias, fused(x)))
    for ours, theirs in zip(*results):
        assert_close(ours, theirs)


def test_fused_linear_as_pytorch_and_its_checks():
    results = []
    for lib in (chainrule, torch):
        rng = np.random.default_rng(1)
        layer = _copy_layer(lib, lib.nn.Linear(3, 4), rng)
        norm = _bn(lib, "BatchNorm1d", 4, rng)
        x = lib.tensor(rng.normal(size=(5, 3)))
        fused = lib.nn.utils.fusion.fuse_linear_bn_eval(layer, norm)
        results.append((fused.weight, fused.bias, fused(x), norm(layer(x))))
        with pytest.raises(AssertionError, match="Fusion only for eval!"):
            lib.nn.utils.fuse_linear_bn_eval(layer.train(), norm)
        with pytest.raises(AssertionError, match="linear.out_features == bn.num_features"):
            lib.nn.utils.fuse_linear_bn_eval(layer.eval(), _bn(lib, "BatchNorm1d", 3, rng))
    for ours, theirs in zip(*results):
        assert_close(ours, theirs)
    assert_close(results[0][2], results[0][3], rtol=1e-10, atol=1e-10)


def test_fuse_conv_bn_weights_without_conv_bias_or_bn_affine():
    rng = np.random.default_rng(2)
    w = rng.normal(size=(4, 2, 3, 3))
    rm, rv = rng.normal(size=4), rng.uniform(0.5, 1.5, size=4)
    ours = chainrule.nn.utils.fuse_conv_bn_weights(chainrule.tensor(w), None, chainrule.tensor(rm),
                                                    chainrule.tensor(rv), 1e-3, None, None)
    theirs = torch.nn.utils.fuse_conv_bn_weights(torch.tensor(w), None, torch.tensor(rm), torch.tensor(rv), 1e-3,
                                                 None, None)
    for a, b in zip(ours, theirs):
        assert_close(a, b)
        assert a.requires_grad == b.requires_grad


def test_clip_grads_with_norm_as_pytorch():
    grads = []
    for lib in (chainrule, torch):
        rng = np.random.default_rng(3)
        params = [lib.tensor(rng.normal(size=(3,)), requires_grad=True) for _ in range(2)]
        for p in params:
            p.grad = lib.tensor(rng.normal(size=(3,)) * 5)
        norm = lib.nn.utils.get_total_norm([p.grad for p in params], 2.0)
        lib.nn.utils.clip_grads_with_norm_(params, 1.0, norm)
        grads.append([p.grad for p in params] + [norm])
    for ours, theirs in zip(*grads):
        assert_close(ours, theirs)


def test_skip_init_builds_the_module_and_checks_the_device_argument():
    layer = chainrule.nn.utils.skip_init(chainrule.nn.Linear, in_features=6, out_features=1)
    assert tuple(layer.weight.shape) == (1, 6) and layer.weight.requires_grad

    class NoDevice(chainrule.nn.Module):
        pass

    with pytest.raises(RuntimeError, match="Module must support a 'device' arg"):
        chainrule.nn.utils.skip_init(NoDevice)
    with pytest.raises(RuntimeError, match="Expected a Module"):
        chainrule.nn.utils.skip_init(int)
