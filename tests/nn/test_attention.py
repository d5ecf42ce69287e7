"""``nn.functional.scaled_dot_product_attention`` against PyTorch: masks, causal, scale,
grouped heads; values and gradients (float64)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule
import chainrule.nn.functional as F
from op_parity import check_pair, raises_like_torch

RNG = np.random.default_rng(5)
MASK = RNG.random((4, 6)) > 0.4
MASK[:, 0] = True  # every query sees at least one key
BIAS = RNG.standard_normal((4, 6))

CASES = [
    ("plain", {}),
    ("causal", {"is_causal": True}),
    ("scale", {"scale": 0.7}),
    ("bool-mask", {"attn_mask": MASK}),
    ("float-mask", {"attn_mask": BIAS}),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[c[0] for c in CASES])
def test_scaled_dot_product_attention(name, kwargs):
    q, k, v = RNG.standard_normal((2, 3, 4, 5)), RNG.standard_normal((2, 3, 6, 5)), RNG.standard_normal((2, 3, 6, 2))
    if name == "causal":
        k, v = k[:, :, :4], v[:, :, :4]

    def call(lib_f, lib, mask_kwargs):
        def fn(a, b, c):
            extra = dict(mask_kwargs)
            if "attn_mask" in extra:
                extra["attn_mask"] = lib.tensor(extra["attn_mask"])
            return lib_f.scaled_dot_product_attention(a, b, c, **extra)
        return fn

    check_pair(call(F, chainrule, kwargs), call(TF, torch, kwargs), [q, k, v], RNG, name)


def test_grouped_query_attention_and_errors():
    q, k, v = RNG.standard_normal((1, 4, 3, 2)), RNG.standard_normal((1, 2, 3, 2)), RNG.standard_normal((1, 2, 3, 2))
    check_pair(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, enable_gqa=True),
               lambda a, b, c: TF.scaled_dot_product_attention(a, b, c, enable_gqa=True), [q, k, v], RNG, "gqa")
    x = RNG.standard_normal((2, 3, 4))
    raises_like_torch(
        lambda: F.scaled_dot_product_attention(*[chainrule.tensor(x)] * 3, attn_mask=chainrule.ones(3, 3, dtype=chainrule.bool), is_causal=True),
        lambda: TF.scaled_dot_product_attention(*[torch.tensor(x)] * 3, attn_mask=torch.ones(3, 3, dtype=torch.bool), is_causal=True),
        "is_causal")
