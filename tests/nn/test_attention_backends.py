"""chainrule.nn.attention (sdpa_kernel, SDPBackend) and nn.attention.bias against PyTorch."""
from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close


def _modules(lib):
    return (importlib.import_module(f"{lib.__name__}.nn.attention"),
            importlib.import_module(f"{lib.__name__}.nn.attention.bias"))


def test_backend_enum_as_pytorch():
    ours, _ = _modules(chainrule)
    theirs, _ = _modules(torch)
    assert [(b.name, int(b)) for b in ours.SDPBackend] == [(n, int(b)) for n, b in theirs.SDPBackend.__members__.items()]
    assert repr(ours.SDPBackend.MATH) == repr(theirs.SDPBackend.MATH)
    assert str(ours.SDPBackend.FLASH_ATTENTION) == str(theirs.SDPBackend.FLASH_ATTENTION)


def test_sdpa_kernel_records_the_backends_and_restores_them():
    attention, _ = _modules(chainrule)
    everything = attention.enabled_backends()
    with attention.sdpa_kernel(attention.SDPBackend.MATH) as flags:
        assert flags == {} and attention.enabled_backends() == [attention.SDPBackend.MATH]
        with attention.sdpa_kernel([attention.SDPBackend.FLASH_ATTENTION, attention.SDPBackend.MATH], set_priority=True):
            assert attention.enabled_backends() == [attention.SDPBackend.FLASH_ATTENTION, attention.SDPBackend.MATH]
        assert attention.enabled_backends() == [attention.SDPBackend.MATH]
    assert attention.enabled_backends() == everything
    for lib in (chainrule, torch):
        with pytest.raises(AssertionError, match="Backend must be an instance of SDPBackend"):
            with _modules(lib)[0].sdpa_kernel("math"):
                pass


@pytest.mark.parametrize("maker", ["causal_lower_right", "causal_upper_left"])
@pytest.mark.parametrize("size", [(3, 5), (4, 4)])
def test_causal_biases_give_pytorch_attention(maker, size):
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(2, size[0], 4)), rng.normal(size=(2, size[1], 4)), rng.normal(size=(2, size[1], 3))
    outputs = []
    for lib in (chainrule, torch):
        attention, bias = _modules(lib)
        mask = getattr(bias, maker)(*size)
        assert mask.variant == getattr(bias.CausalVariant, maker.split("_", 1)[1].upper())
        with attention.sdpa_kernel([attention.SDPBackend.MATH]):
            outputs.append(lib.nn.functional.scaled_dot_product_attention(
                lib.tensor(q), lib.tensor(k), lib.tensor(v), attn_mask=mask))
        with pytest.raises(AssertionError, match="only supports 2D tensors"):
            getattr(bias, maker)(2, 3, 4)
    assert_close(*outputs)
    assert_close(_modules(chainrule)[1].causal_lower_right(2, 4), torch.ones(2, 4, dtype=torch.bool).tril(2))


def test_lower_right_bias_warns_of_more_queries_than_keys():
    for lib in (chainrule, torch):
        with pytest.warns(UserWarning, match="Lower right causal bias will produce NaNs"):
            _modules(lib)[1].causal_lower_right(4, 2)
