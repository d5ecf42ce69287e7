"""Print options (``set_printoptions``, ``get_printoptions``, ``printoptions``) against
PyTorch's: the same options give the same text."""
import pytest
import torch

import chainrule


@pytest.fixture(autouse=True)
def default_options():
    yield
    for library in (torch, chainrule):
        library.set_printoptions(profile="default")


TENSORS = [
    lambda L: L.tensor([1.12345, 2.5]),
    lambda L: L.arange(10),
    lambda L: L.tensor([1e-5, 1.0]),
    lambda L: L.arange(2000.).reshape(40, 50) / 8,
    lambda L: L.tensor([[1.0, 2.0], [300000.0, 4.0]]),
    lambda L: L.tensor(3.14159),
    lambda L: L.tensor([0.0, 0.0]),
    lambda L: L.tensor([[0.25, -1.5e-3], [7.0, 1e9]]),
    lambda L: L.arange(30).reshape(5, 6) / 4,
    lambda L: L.tensor([float("nan"), 1.0, float("inf")], requires_grad=True),
    lambda L: L.arange(24, dtype=L.float64).reshape(2, 3, 4) * 1.5,
]

OPTIONS = [
    dict(precision=2), dict(threshold=5), dict(edgeitems=1, threshold=5), dict(linewidth=40),
    dict(profile="short"), dict(profile="full"), dict(sci_mode=True), dict(sci_mode=False),
    dict(precision=8, sci_mode=False), dict(precision=1, linewidth=30, edgeitems=2, threshold=10),
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_printed_like_torch(options):
    for library in (torch, chainrule):
        library.set_printoptions(**options)
    for make in TENSORS:
        assert repr(make(chainrule)).replace("chainrule.", "torch.") == repr(make(torch))
    assert chainrule.get_printoptions() == torch._tensor_str.get_printoptions()


def test_every_call_sets_sci_mode_and_profile_default_restores():
    chainrule.set_printoptions(sci_mode=True, precision=2)
    assert repr(chainrule.tensor([1.5])) == "tensor([1.50e+00])"
    chainrule.set_printoptions(precision=3)  # sci_mode back to None, as in PyTorch
    assert repr(chainrule.tensor([1.5])) == "tensor([1.500])"
    chainrule.set_printoptions(profile="default")
    assert chainrule.get_printoptions() == {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
                                            "sci_mode": None}


def test_printoptions_context_restores_the_previous_options():
    chainrule.set_printoptions(precision=6)
    with chainrule.printoptions(precision=1, threshold=3):
        assert repr(chainrule.tensor([1.25, 2.0, 3.0, 4.0])) == "tensor([1.2, 2.0, 3.0, 4.0])"
        assert str(chainrule.arange(10)) == "tensor([0, 1, 2,  ..., 7, 8, 9])"
    assert chainrule.get_printoptions()["precision"] == 6
    assert chainrule.get_printoptions()["threshold"] == 1000
