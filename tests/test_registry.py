"""The registration table's forms: NumPy's argument names (``axis=``, ``keepdims=``) are
taken wherever PyTorch's argument parser takes them."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import chainrule

from conftest import assert_close

X = np.array([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])

CALLS = [
    ("argmax-method", lambda L, x: x.argmax(axis=1)),
    ("argmin-fn", lambda L, x: L.argmin(x, axis=0, keepdims=True)),
    ("max-dim", lambda L, x: L.max(x, axis=1, keepdims=True).values),
    ("min-method", lambda L, x: x.min(axis=0).indices),
    ("std", lambda L, x: x.std(axis=1)),
    ("var", lambda L, x: L.var(x, axis=0, keepdims=True)),
    ("prod", lambda L, x: x.prod(axis=1)),
    ("cumsum", lambda L, x: L.cumsum(x, axis=1)),
    ("softmax", lambda L, x: x.softmax(axis=1)),
    ("amax", lambda L, x: L.amax(x, axis=(0, 1), keepdims=True)),
    ("logsumexp", lambda L, x: x.logsumexp(axis=1)),
    ("any", lambda L, x: (x > 3).any(axis=1)),
    ("unsqueeze", lambda L, x: x.unsqueeze(axis=0)),
    ("sum", lambda L, x: x.sum(axis=0, keepdims=True)),
    ("cat", lambda L, x: L.cat([x, x], axis=1)),
    ("swapaxes", lambda L, x: L.swapaxes(x, axis0=0, axis1=1)),
    ("swapaxes-method", lambda L, x: x.swapaxes(axis0=1, axis1=0)),
]


@pytest.mark.parametrize("name,call", CALLS, ids=[c[0] for c in CALLS])
def test_numpy_argument_names(name, call):
    expected = call(torch, torch.tensor(X))
    actual = call(chainrule, chainrule.tensor(X))
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert_close(actual, expected, what=name)


def test_numpy_name_and_torch_name_together_is_an_error():
    x = chainrule.tensor(X)
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        chainrule.argmax(x, dim=0, axis=1)


def test_the_form_keeps_its_name_and_signature():
    assert chainrule.argmax.__name__ == "argmax"
    assert "dim" in str(inspect.signature(chainrule.argmax))
