"""chainrule.bitwise against PyTorch: the functional forms, methods, in-place forms, and the
refusal of floating tensors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from op_parity import check

A = np.array([12, 10, 7, -3])
B = np.array([6, 3, 1, 2])


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                                  "bitwise_right_shift"])
def test_binary_forms(name):
    check(lambda L: [getattr(L, name)(L.tensor(A), L.tensor(B)), getattr(L.tensor(A), name)(2),
                     getattr(L, name)(L.tensor(A, dtype=L.int32), 1)], grad=False)
    for lib in (chainrule, torch):
        x = lib.tensor(A)
        assert getattr(x, name + "_")(lib.tensor(B)) is x
        assert x.tolist() == getattr(lib, name)(lib.tensor(A), lib.tensor(B)).tolist()


def test_not_and_booleans():
    check(lambda L: [L.bitwise_not(L.tensor(A)), L.tensor([True, False]).bitwise_not(),
                     L.bitwise_and(L.tensor([True, True, False]), L.tensor([True, False, False])),
                     L.bitwise_xor(L.tensor([True, False]), True)], grad=False)


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_left_shift", "bitwise_not"])
def test_floating_tensors_are_refused_like_torch(name):
    args = (1,) if name != "bitwise_not" else ()
    with pytest.raises(NotImplementedError) as theirs:
        getattr(torch, name)(torch.ones(2), *args)
    with pytest.raises(NotImplementedError, match=str(theirs.value).replace('"', '.')):
        getattr(chainrule, name)(chainrule.ones(2), *args)
