"""The fused attention op (``ops/attention.py``, behind ``F.scaled_dot_product_attention``):
the rows its fast softmax redoes, rows masked entirely, NaN, dropout, a mask that needs a
gradient, broadcast batch dims, node names, and second derivatives."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule
import chainrule.nn.functional as F
from chainrule.ops.nn import keep_mask
from chainrule.autograd import gradcheck, gradgradcheck
from conftest import assert_close, pair
from op_parity import check_pair

RNG = np.random.default_rng(11)


def qkv(*batch, length=4, dim=3):
    return [RNG.standard_normal(batch + (length, dim)) for _ in range(3)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_rows_far_below_their_matrixs_maximum_keep_full_precision(dtype):
    # Scores of one row some 1000s above the others': shifted by the matrix's maximum, the
    # others would underflow to zero; they are redone with their own maximum.
    q, k, v = qkv(2, 2)
    q[0, 1, 2] *= 4000.0
    k[..., :] += np.array([1.0, 2.0, 3.0])
    q, k, v = (a.astype(dtype) for a in (q, k, v))
    tol = 1e-9 if dtype == "float64" else 1e-4
    out = F.scaled_dot_product_attention(*(chainrule.tensor(a) for a in (q, k, v)), is_causal=True)
    expected = TF.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, v)), is_causal=True)
    assert_close(out, expected, rtol=tol, atol=tol)
    check_pair(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True),
               lambda a, b, c: TF.scaled_dot_product_attention(a, b, c, is_causal=True),
               [q.astype(np.float64), k, v], RNG, "far rows")


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_a_row_masked_entirely_gets_zero_weights_as_in_pytorch(kind):
    q, k, v = qkv(2, 2)
    allowed = RNG.random((4, 4)) > 0.3
    allowed[:, 0] = True
    allowed[2] = False
    mask = allowed if kind == "bool" else np.where(allowed, 0.0, -np.inf)
    check_pair(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=chainrule.tensor(mask)),
               lambda a, b, c: TF.scaled_dot_product_attention(a, b, c, attn_mask=torch.tensor(mask)),
               [q, k, v], RNG, "masked row")
    out = F.scaled_dot_product_attention(*(chainrule.tensor(a) for a in (q, k, v)), attn_mask=chainrule.tensor(mask))
    assert not out.detach().numpy()[:, :, 2].any()


def test_nan_stays_in_its_row():
    q, k, v = qkv(3)
    q[1, 2, 0] = np.nan
    out = F.scaled_dot_product_attention(*(chainrule.tensor(a) for a in (q, k, v))).numpy()
    expected = TF.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, v))).numpy()
    assert np.isnan(out[1, 2]).all()
    assert_close(np.nan_to_num(out, nan=7.0), np.nan_to_num(expected, nan=7.0))


def test_dropout_multiplies_the_weights_by_chainrules_mask():
    q, k, v = qkv(2, 2)
    g = RNG.standard_normal((2, 2, 4, 3))
    cq, ck, cv = (chainrule.tensor(a, requires_grad=True) for a in (q, k, v))
    chainrule.manual_seed(5)
    out = F.scaled_dot_product_attention(cq, ck, cv, dropout_p=0.4)
    out.backward(chainrule.tensor(g))
    chainrule.manual_seed(5)
    keep = keep_mask((2, 2, 4, 4), np.dtype(np.float64), 0.4)
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    expected = (torch.softmax(tq @ tk.transpose(-1, -2) / np.sqrt(3), -1) * torch.tensor(keep)) @ tv
    expected.backward(torch.tensor(g))
    assert_close(out, expected)
    for c, t in ((cq, tq), (ck, tk), (cv, tv)):
        assert_close(c.grad, t.grad)
    assert type(out.grad_fn).__name__ == "UnsafeViewBackward0"


def test_gradient_of_a_float_mask():
    q, k, v = qkv(2, 2)
    mask = RNG.standard_normal((2, 1, 4, 4))
    check_pair(lambda a, b, c, m: F.scaled_dot_product_attention(a, b, c, attn_mask=m),
               lambda a, b, c, m: TF.scaled_dot_product_attention(a, b, c, attn_mask=m),
               [q, k, v, mask], RNG, "mask gradient")


def test_broadcast_batch_dims_and_other_value_width():
    q = RNG.standard_normal((2, 3, 4, 5))
    k = RNG.standard_normal((1, 1, 6, 5))
    v = RNG.standard_normal((1, 1, 6, 2))
    check_pair(F.scaled_dot_product_attention, TF.scaled_dot_product_attention, [q, k, v], RNG, "broadcast")


def test_node_names_follow_pytorchs_kernels():
    q4, k4, v4 = (pair(a)[0] for a in qkv(1, 2))
    assert type(F.scaled_dot_product_attention(q4, k4, v4).grad_fn).__name__ == \
        "ScaledDotProductFlashAttentionForCpuBackward0"
    q3, k3, v3 = (pair(a)[0] for a in qkv(2))
    assert type(F.scaled_dot_product_attention(q3, k3, v3).grad_fn).__name__ == "UnsafeViewBackward0"


@pytest.mark.parametrize("options", [{}, {"is_causal": True}, {"mask": "float"}, {"mask": "bool"}])
def test_second_derivatives(options):
    q, k, v = (chainrule.tensor(a, requires_grad=True) for a in qkv(1, 2, length=3, dim=2))
    extra = []
    if options.get("mask") == "float":
        extra = [chainrule.tensor(RNG.standard_normal((3, 3)), requires_grad=True)]
    bool_mask = chainrule.tensor(np.tril(np.ones((3, 3), bool))) if options.get("mask") == "bool" else None

    def fn(a, b, c, *m):
        mask = m[0] if m else bool_mask
        return F.scaled_dot_product_attention(a, b, c, attn_mask=mask, is_causal=options.get("is_causal", False))

    assert gradcheck(fn, (q, k, v, *extra))
    assert gradgradcheck(fn, (q, k, v, *extra))


@pytest.mark.parametrize("queries,keys", [(0, 4), (3, 0)])
def test_empty_sequences(queries, keys):
    q, k = RNG.standard_normal((2, queries, 3)), RNG.standard_normal((2, keys, 3))
    out = F.scaled_dot_product_attention(*(chainrule.tensor(a) for a in (q, k, k)))
    assert_close(out, TF.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, k))))
