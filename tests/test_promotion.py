"""promote_types, result_type and can_cast against PyTorch's answers, for every pair of dtypes."""
import itertools

import pytest
import torch

import chainrule

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "complex64",
         "complex128"]


def name_of(dtype):
    return str(dtype).split(".")[-1]


@pytest.mark.parametrize("first,second", itertools.product(NAMES, NAMES))
def test_promote_types_and_can_cast_as_torch(first, second):
    expected = torch.promote_types(getattr(torch, first), getattr(torch, second))
    assert name_of(chainrule.promote_types(getattr(chainrule, first), getattr(chainrule, second))) == name_of(expected)
    assert chainrule.can_cast(getattr(chainrule, first), getattr(chainrule, second)) == \
        torch.can_cast(getattr(torch, first), getattr(torch, second))


OPERANDS = [
    lambda L: L.tensor([1]), lambda L: L.tensor([1.0]), lambda L: L.tensor(1.0, dtype=L.float64),
    lambda L: L.tensor([1], dtype=L.int32), lambda L: L.tensor([1.0], dtype=L.float16),
    lambda L: L.tensor(2, dtype=L.uint8), lambda L: L.tensor([True]), lambda L: 1, lambda L: 2.5,
    lambda L: True, lambda L: 1j,
]


@pytest.mark.parametrize("first,second", itertools.product(range(len(OPERANDS)), repeat=2))
def test_result_type_as_torch(first, second):
    try:
        expected = name_of(torch.result_type(OPERANDS[first](torch), OPERANDS[second](torch)))
    except (TypeError, RuntimeError) as error:
        with pytest.raises(type(error)):
            chainrule.result_type(OPERANDS[first](chainrule), OPERANDS[second](chainrule))
        return
    if expected == "complex32":  # float16 with a complex number: chainrule has no complex32, the next is complex64
        expected = "complex64"
    assert name_of(chainrule.result_type(OPERANDS[first](chainrule), OPERANDS[second](chainrule))) == expected
