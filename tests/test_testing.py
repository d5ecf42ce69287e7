"""chainrule.testing.assert_close against torch.testing.assert_close: the same verdicts and
the same messages on the same inputs."""
from __future__ import annotations

import pytest
import torch

import chainrule

CASES = {
    "one element off": lambda lib: ((lib.tensor([1.0, 2.0, 3.0]), lib.tensor([1.0, 2.1, 3.0])), {}),
    "2-D": lambda lib: ((lib.tensor([[1.0, 2.0], [3.0, 4.0]]), lib.tensor([[1.0, 2.0], [3.0, 5.0]])), {}),
    "dtype": lambda lib: ((lib.tensor([1.0, 2.0]), lib.tensor([1.0, 2.0], dtype=lib.float64)), {}),
    "shape": lambda lib: ((lib.tensor([1.0, 2.0]), lib.tensor([1.0, 2.0, 3.0])), {}),
    "integers": lambda lib: ((lib.tensor([1, 2]), lib.tensor([1, 3])), {}),
    "nan": lambda lib: ((lib.tensor([float("nan")]), lib.tensor([float("nan")])), {}),
    "nan equal": lambda lib: ((lib.tensor([float("nan")]), lib.tensor([float("nan")])), {"equal_nan": True}),
    "python floats close": lambda lib: ((1.0, 1.0 + 1e-9), {}),
    "python floats": lambda lib: ((1.0, 1.1), {}),
    "sequence": lambda lib: (([lib.ones(2), lib.zeros(1)], [lib.ones(2), lib.ones(1)]), {}),
    "mapping": lambda lib: (({"a": lib.ones(2)}, {"a": lib.zeros(2)}), {}),
    "tolerances": lambda lib: ((lib.ones(2), lib.ones(2) * 1.1), {"rtol": 0.2, "atol": 0.0}),
    "custom message": lambda lib: ((lib.ones(2), lib.ones(2) * 2), {"msg": "custom"}),
    "0-d": lambda lib: ((lib.tensor(1.0), lib.tensor(2.0)), {}),
    "float64 within": lambda lib: ((lib.tensor([1.0], dtype=lib.float64), lib.tensor([1.0 + 5e-8], dtype=lib.float64)), {}),
}


def _outcome(lib, name):
    (actual, expected), options = CASES[name](lib)
    try:
        lib.testing.assert_close(actual, expected, **options)
    except AssertionError as error:
        return str(error).replace("chainrule.", "torch.")
    return "passed"


@pytest.mark.parametrize("name", sorted(CASES))
def test_verdicts_and_messages_are_pytorchs(name):
    assert _outcome(chainrule, name) == _outcome(torch, name)


def test_argument_errors():
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol' must be either specified or omitted, but got no atol"):
        chainrule.testing.assert_close(chainrule.ones(2), chainrule.ones(2), rtol=0.2)
    with pytest.raises(TypeError, match="No comparison pair was able to handle inputs"):
        chainrule.testing.assert_close(chainrule.ones(2), [1.0, 1.0])
    with pytest.raises(AssertionError, match=r"(?s)^Tensor-likes are not close!.*checked$"):
        chainrule.testing.assert_close(chainrule.ones(2), chainrule.ones(2) * 2, msg=lambda text: text + " checked")


def test_more_pairs_as_pytorch():
    import numpy as np

    assert _compare_both(np.array([1.0, 2.0]), np.array([1.0, 2.1])).startswith("Tensor-likes are not close!")
    chainrule.testing.assert_close(None, None)
    assert _compare_both(1, 1.0) == "The (d)types do not match: <class 'int'> != <class 'float'>."
    chainrule.testing.assert_allclose(chainrule.tensor([1.0, 2.0]), [1.0, 2.00001])  # its wider float32 tolerance
    with pytest.raises(AssertionError, match="Greatest absolute difference: 0.0009999275207519531"):
        chainrule.testing.assert_allclose(chainrule.tensor([1.0, 2.0]), chainrule.tensor([1.0, 2.001]))


def _compare_both(actual, expected):
    messages = []
    for lib in (chainrule, torch):
        try:
            lib.testing.assert_close(actual, expected)
            messages.append("passed")
        except AssertionError as error:
            messages.append(str(error))
    assert messages[0] == messages[1]
    return messages[0]
