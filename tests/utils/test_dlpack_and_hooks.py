"""chainrule.utils.dlpack and chainrule.utils.hooks."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from chainrule.utils import dlpack
from chainrule.utils.hooks import RemovableHandle


def test_dlpack_shares_memory_both_ways():
    ours = chainrule.arange(4.0, dtype=chainrule.float64)
    theirs = torch.from_dlpack(ours)
    theirs[0] = 10.0
    assert ours.tolist() == [10.0, 1.0, 2.0, 3.0]
    back = dlpack.from_dlpack(dlpack.to_dlpack(ours))
    back[1] = 20.0
    assert ours.tolist() == [10.0, 20.0, 2.0, 3.0]
    source = torch.zeros(3)
    shared = chainrule.from_dlpack(source)
    source[2] = 5.0
    assert shared.tolist() == [0.0, 0.0, 5.0] and shared.dtype == chainrule.float32
    assert np.from_dlpack(ours).tolist() == ours.tolist()


def test_dlpack_refuses_tensors_that_require_grad():
    with pytest.raises(RuntimeError, match="require gradient"):
        dlpack.to_dlpack(chainrule.ones(2, requires_grad=True))


def test_module_hooks_return_utils_hooks_handles():
    handle = chainrule.nn.Linear(2, 2).register_forward_hook(lambda *a: None)
    assert isinstance(handle, RemovableHandle)
