"""Flatten parameters into one vector and back."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ... import functional as F
from ...tensor import Tensor


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated (differentiable, like torch.cat)."""
    return F.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into ``parameters``, in place."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    for param in parameters:
        count = param._data.size
        param._data[...] = np.asarray(vec._data[pointer:pointer + count]).reshape(param._data.shape)
        param._version_counter().bump("copy_")
        pointer += count
