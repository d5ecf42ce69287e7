"""Every error has PyTorch's exception type and a message that names what was wrong:
exactly PyTorch's message where marked SAME, else the listed words (shapes, dims, ops)."""
from __future__ import annotations

import pytest
import torch

import chainrule

SAME = "same message as PyTorch"

CASES = [
    # shapes
    ("matmul", lambda L: L.zeros(2, 3) @ L.zeros(4, 5), SAME),
    ("matmul-vec", lambda L: L.zeros(3) @ L.zeros(4), SAME),
    ("matmul-batched", lambda L: L.zeros(2, 2, 3) @ L.zeros(2, 4, 5), SAME),
    ("mm", lambda L: L.mm(L.zeros(2, 3), L.zeros(4, 5)), SAME),
    ("mm-3d", lambda L: L.mm(L.zeros(2, 3, 4), L.zeros(4, 2)), ("2-D", "3-D")),
    ("bmm-2d", lambda L: L.bmm(L.zeros(2, 3), L.zeros(3, 2)), ("3D",)),
    ("dot-2d", lambda L: L.dot(L.zeros(2, 3), L.zeros(3)), ("1D",)),
    ("matmul-0d", lambda L: L.zeros(3) @ L.tensor(1.0), SAME),
    ("add-broadcast", lambda L: L.zeros(2, 3) + L.zeros(2), SAME),
    ("mul-broadcast", lambda L: L.zeros(4, 3) * L.zeros(2, 1, 2), SAME),
    ("where-broadcast", lambda L: L.where(L.zeros(2, 3) > 0, L.zeros(4), L.zeros(3)), SAME),
    ("masked_scatter-broadcast", lambda L: L.ones(2, 3).masked_scatter(L.ones(3, 2, dtype=L.bool), L.ones(6)), SAME),
    ("take_along_dim-broadcast", lambda L: L.take_along_dim(L.ones(2, 3), L.zeros(3, 3, dtype=L.long), 1), SAME),
    ("cross-broadcast", lambda L: L.linalg.cross(L.ones(2, 3), L.ones(4, 3)), SAME),
    ("normal-broadcast", lambda L: L.normal(L.zeros(2), L.ones(3)), SAME),
    ("cosine_similarity-broadcast", lambda L: L.nn.functional.cosine_similarity(L.ones(2, 3), L.ones(2, 4)), SAME),
    ("broadcast_tensors", lambda L: L.broadcast_tensors(L.ones(2, 3), L.ones(4, 1, 2)), SAME),
    ("reshape", lambda L: L.zeros(2, 3).reshape(4, 2), SAME),
    ("reshape-two-minus1", lambda L: L.zeros(2, 3).reshape(-1, -1), SAME),
    ("view", lambda L: L.zeros(6).view(4, -1), SAME),
    ("expand", lambda L: L.zeros(2, 3).expand(2, 5), SAME),
    ("expand-fewer", lambda L: L.zeros(2, 3).expand(3), ("[2, 3]", "[3]")),
    ("cat-sizes", lambda L: L.cat([L.zeros(2, 3), L.zeros(2, 4)], 0), SAME),
    ("cat-ndim", lambda L: L.cat([L.zeros(2, 3), L.zeros(3)], 0), SAME),
    ("cat-empty", lambda L: L.cat([], 0), SAME),
    ("stack-sizes", lambda L: L.stack([L.zeros(2, 3), L.zeros(2, 4)]), SAME),
    ("split-sizes", lambda L: L.zeros(3).split([1, 1]), SAME),
    ("unflatten", lambda L: L.zeros(6).unflatten(0, (4, 2)), SAME),
    ("flatten-order", lambda L: L.zeros(2, 3, 4).flatten(2, 1), SAME),
    ("permute-count", lambda L: L.zeros(2, 3).permute(0), ("input.dim() = 2", "len(dims) = 1")),
    ("permute-dup", lambda L: L.zeros(2, 3).permute(0, 0), SAME),
    ("repeat-fewer", lambda L: L.zeros(2, 3).repeat(2), ("repeat dims", "dimensions of tensor")),
    ("narrow-range", lambda L: L.zeros(3).narrow(0, 2, 2), SAME),
    ("copy-shape", lambda L: L.zeros(2).copy_(L.zeros(3)), SAME),
    ("copy-broadcast-shape", lambda L: L.zeros(1).copy_(L.zeros(3)), SAME),
    ("inplace-broadcast-shape", lambda L: L.zeros(3).add_(L.zeros(2, 3)), SAME),
    ("gather-size", lambda L: L.zeros(2, 3).gather(1, L.zeros(3, 1, dtype=L.int64)), SAME),
    ("chunk-zero", lambda L: L.zeros(3).chunk(0), SAME),
    ("backward-gradient-shape", lambda L: (L.zeros(2, requires_grad=True) * 2).backward(L.zeros(3)),
     ("Mismatch in shape", "grad_output[0]", "(3,)", "(2,)")),
    # dims out of range
    ("sum-dim", lambda L: L.zeros(2, 3).sum(2), SAME),
    ("mean-dim-tuple", lambda L: L.zeros(2, 3).mean((0, 5)), SAME),
    ("softmax-dim", lambda L: L.zeros(2, 3).softmax(-3), SAME),
    ("transpose-dim", lambda L: L.zeros(2, 3).transpose(0, 2), SAME),
    ("unsqueeze-dim", lambda L: L.zeros(2, 3).unsqueeze(3), SAME),
    ("squeeze-dim", lambda L: L.zeros(2, 3).squeeze(2), SAME),
    ("flatten-dim", lambda L: L.zeros(2, 3).flatten(0, 2), SAME),
    ("cat-dim", lambda L: L.cat([L.zeros(2, 3), L.zeros(2, 3)], 2), SAME),
    ("stack-dim", lambda L: L.stack([L.zeros(2, 3), L.zeros(2, 3)], 3), SAME),
    ("size-dim", lambda L: L.zeros(2, 3).size(2), SAME),
    ("select-dim", lambda L: L.zeros(2, 3).select(2, 0), SAME),
    ("narrow-dim", lambda L: L.zeros(2, 3).narrow(2, 0, 1), SAME),
    ("gather-dim", lambda L: L.zeros(2, 3).gather(2, L.zeros(2, 3, dtype=L.int64)), SAME),
    ("index_select-dim", lambda L: L.zeros(2, 3).index_select(2, L.tensor([0])), SAME),
    ("cumsum-dim", lambda L: L.zeros(2, 3).cumsum(2), SAME),
    ("argmax-dim", lambda L: L.zeros(2, 3).argmax(2), SAME),
    ("max-dim", lambda L: L.zeros(2, 3).max(2), SAME),
    ("logsumexp-dim", lambda L: L.zeros(2, 3).logsumexp(-3), SAME),
    ("permute-dim", lambda L: L.zeros(2, 3).permute(0, 2), SAME),
    ("flip-dim", lambda L: L.zeros(2, 3).flip(2), SAME),
    ("var-dim", lambda L: L.zeros(2, 3).var(2), SAME),
    ("norm-dim", lambda L: L.zeros(2, 3).norm(dim=2), SAME),
    ("amax-dim", lambda L: L.zeros(2, 3).amax(-3), SAME),
    # indexing
    ("index-oob", lambda L: L.zeros(3)[5], SAME),
    ("index-oob-2d", lambda L: L.zeros(3, 2)[:, 2], SAME),
    ("index-too-many", lambda L: L.zeros(3)[0, 0], SAME),
    ("index-array-oob", lambda L: L.zeros(3)[L.tensor([0, 4])], SAME),
    ("index-float", lambda L: L.zeros(3)[L.tensor([0.0])], SAME),
    ("mask-shape", lambda L: L.zeros(3)[L.tensor([True, False])], SAME),
    ("gather-oob", lambda L: L.zeros(2, 3).gather(1, L.tensor([[5], [0]])), SAME),
    ("gather-float-index", lambda L: L.zeros(2, 3).gather(1, L.tensor([[0.0], [0.0]])), ("gather", "dtype", "index")),
    ("index_select-oob", lambda L: L.zeros(3).index_select(0, L.tensor([5])), ("5",)),
    ("index_select-2d-index", lambda L: L.zeros(3).index_select(0, L.tensor([[0]])), SAME),
    # dtypes and values
    ("int-requires-grad", lambda L: L.tensor([1, 2]).requires_grad_(), ("floating point", "require")),
    ("item-many", lambda L: L.zeros(2).item(), SAME),
    ("bool-ambiguous", lambda L: bool(L.zeros(2)), SAME),
    ("mean-int", lambda L: L.tensor([1, 2]).mean(), SAME),
    ("where-float-cond", lambda L: L.where(L.zeros(2), L.zeros(2), L.zeros(2)), SAME),
    ("masked_fill-float-mask", lambda L: L.zeros(2).masked_fill(L.zeros(2), 1.0), ("boolean masks", "float")),
    ("masked_fill-value-dims", lambda L: L.zeros(2).masked_fill(L.zeros(2) > 0, L.zeros(2)), SAME),
    ("clamp-none", lambda L: L.zeros(2).clamp(), SAME),
    ("inplace-int-float", lambda L: L.tensor([1, 2]).add_(0.5), ("can't be cast",)),
    ("empty-max", lambda L: L.zeros(0).max(), SAME),
    ("empty-amax-dim", lambda L: L.zeros(0, 3).amax(0), SAME),
    ("empty-argmax", lambda L: L.zeros(0).argmax(), SAME),
    ("empty-max-dim", lambda L: L.zeros(0, 3).max(0), SAME),
    # factories
    ("zeros-negative", lambda L: L.zeros(2, -1), ("negative", "-1")),
    ("zeros-bad-size", lambda L: L.zeros("a"), ("size", "str")),
    ("arange-step-zero", lambda L: L.arange(0, 5, 0), SAME),
    ("arange-bad-sign", lambda L: L.arange(0, 5, -1), SAME),
    ("tensor-ragged", lambda L: L.tensor([[1, 2], [3]]), ()),
    ("from-numpy-list", lambda L: L.from_numpy([1.0]), SAME),
    ("to-bad-device", lambda L: L.zeros(2).to("tpu"), ("device string: tpu",)),
    ("t-3d", lambda L: L.zeros(2, 3, 4).t(), SAME),
    ("mT-1d", lambda L: L.zeros(3).mT, SAME),
    ("len-0d", lambda L: len(L.tensor(1.0)), SAME),
    ("iter-0d", lambda L: iter(L.tensor(1.0)), SAME),
    # autograd misuse
    ("backward-nonscalar", lambda L: (L.zeros(2, requires_grad=True) * 2).backward(),
     ("grad can be implicitly created only for scalar outputs",)),
    ("backward-no-grad", lambda L: L.zeros(2).sum().backward(), ("does not require grad", "grad_fn")),
    ("numpy-requires-grad", lambda L: L.zeros(2, requires_grad=True).numpy(), SAME),
    ("leaf-inplace", lambda L: L.zeros(2, requires_grad=True).add_(1), SAME),
    ("leaf-view-inplace", lambda L: L.zeros(2, 2, requires_grad=True)[0].add_(1), SAME),
    ("requires-grad-false-on-non-leaf", lambda L: (L.zeros(2, requires_grad=True) * 2).requires_grad_(False),
     ("leaf variables",)),
    ("grad-unused", lambda L: L.autograd.grad((L.ones(1, requires_grad=True) * 2).sum(), [L.ones(1, requires_grad=True)]),
     ("not have been used in the graph", "allow_unused=True")),
    ("grad-not-requiring", lambda L: L.autograd.grad(L.ones(1, requires_grad=True).sum(), [L.ones(1)]),
     ("does not require grad",)),
    ("register-hook-no-grad", lambda L: L.ones(1).register_hook(lambda g: g), SAME),
    ("retain-grad-no-grad", lambda L: L.ones(1).retain_grad(), SAME),
]


@pytest.mark.parametrize("label,fn,expect", CASES, ids=[c[0] for c in CASES])
def test_error_matches_torch(label, fn, expect):
    with pytest.raises(Exception) as expected:
        fn(torch)
    with pytest.raises(Exception) as actual:
        fn(chainrule)
    assert type(actual.value) is type(expected.value), (
        f"{label}: {type(actual.value).__name__} ({actual.value}) but PyTorch raises "
        f"{type(expected.value).__name__} ({expected.value})")
    message = str(actual.value)
    if expect is SAME:
        assert message == str(expected.value)
    else:
        for word in expect:
            assert word in message, f"{label}: {word!r} not in {message!r}"


def test_dim_error_names_range_and_dim():
    with pytest.raises(IndexError) as error:
        chainrule.zeros(2, 3).sum(5)
    assert str(error.value) == "Dimension out of range (expected to be in range of [-2, 1], but got 5)"


def test_matmul_error_names_both_shapes():
    with pytest.raises(RuntimeError) as error:
        chainrule.randn(2, 3, requires_grad=True) @ chainrule.randn(4, 5)
    assert "2x3" in str(error.value) and "4x5" in str(error.value)
