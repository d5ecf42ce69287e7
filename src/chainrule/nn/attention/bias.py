"""PyTorch's ``torch.nn.attention.bias``: causal masks for ``scaled_dot_product_attention`` when
queries and keys differ in length.  A :class:`CausalBias` is the boolean mask itself (PyTorch's
is a tensor subclass that materializes it, or passes ``is_causal``, when attention runs: the
values are the same)."""
from __future__ import annotations

import warnings
from enum import IntEnum

import numpy as np

from ...tensor import Tensor, _make

__all__ = ["causal_upper_left", "causal_lower_right", "CausalVariant", "CausalBias"]


class CausalVariant(IntEnum):
    """Where the causal triangle is aligned: the upper left corner (``is_causal=True``) or the
    lower right one (the last query sees every key)."""

    UPPER_LEFT = 1
    LOWER_RIGHT = 2


class CausalBias(Tensor):
    """A causal attention mask of ``seq_len_q`` queries and ``seq_len_kv`` keys (True: may
    attend)."""

    def __new__(cls, variant: CausalVariant, seq_len_q: int, seq_len_kv: int) -> "CausalBias":
        if not isinstance(variant, CausalVariant):
            raise AssertionError(f"variant must be a CausalVariant, got {type(variant).__name__}")
        offset = 0 if variant == CausalVariant.UPPER_LEFT else seq_len_kv - seq_len_q
        mask = np.tril(np.ones((seq_len_q, seq_len_kv), dtype=bool), k=offset)
        return _make(mask, cls=cls)

    def __init__(self, variant: CausalVariant, seq_len_q: int, seq_len_kv: int) -> None:
        self.variant = variant
        self.seq_len_q = seq_len_q
        self.seq_len_kv = seq_len_kv
        if seq_len_q > seq_len_kv and variant == CausalVariant.LOWER_RIGHT:
            warnings.warn("Lower right causal bias will produce NaNs in the output when seq_len_q > seq_len_kv!",
                          stacklevel=2)


def causal_upper_left(*size: int) -> CausalBias:
    """The causal mask aligned to the upper left corner (what ``is_causal=True`` applies)."""
    if len(size) != 2:
        raise AssertionError("causal_upper_left only supports 2D tensors")
    return CausalBias(CausalVariant.UPPER_LEFT, *size)


def causal_lower_right(*size: int) -> CausalBias:
    """The causal mask aligned to the lower right corner: ``tril(ones(size), size[1] - size[0])``."""
    if len(size) != 2:
        raise AssertionError("causal_lower_right only supports 2D tensors")
    return CausalBias(CausalVariant.LOWER_RIGHT, *size)
