"""The harness itself: the import hook binds ``torch`` to chainrule, and the comparisons
catch a wrong value, dtype, shape, type or printed text."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

from .runner import compare, compare_stdout, execute

IMPORTS = """
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch import autograd
from torch.utils.data import DataLoader, TensorDataset
from torch.optim.lr_scheduler import StepLR
print(torch.__name__)
results = {"mods": [torch.__name__, nn.__name__, F.__name__, optim.__name__, autograd.__name__,
                    DataLoader.__module__.split(".")[0], StepLR.__module__.split(".")[0]]}
"""


def test_the_same_source_binds_torch_or_chainrule():
    out, results = execute(IMPORTS, "chainrule")
    assert out == "chainrule\n"
    assert results["mods"][:5] == ["chainrule", "chainrule.nn", "chainrule.nn.functional", "chainrule.optim",
                                   "chainrule.autograd"]
    assert set(results["mods"][5:]) == {"chainrule"}
    out, results = execute(IMPORTS, "torch")
    assert out == "torch\n" and results["mods"][0] == "torch"


def test_execute_restores_global_state():
    execute("import torch\ntorch.set_default_dtype(torch.float64)\ntorch.set_grad_enabled(False)\nresults={}",
            "chainrule")
    assert chainrule.get_default_dtype() is chainrule.float32 and chainrule.is_grad_enabled()


@pytest.mark.parametrize("expected,actual", [
    (torch.tensor([1.0, 2.0]), chainrule.tensor([1.0, 2.001])),                    # value
    (torch.tensor([1.0, 2.0]), chainrule.tensor([1.0, 2.0], dtype=chainrule.float64)),  # dtype
    (torch.tensor([[1.0, 2.0]]), chainrule.tensor([1.0, 2.0])),                    # shape
    (torch.tensor([1.0], requires_grad=True), chainrule.tensor([1.0])),            # requires_grad
    (torch.tensor([1, 2]), chainrule.tensor([1, 3])),                              # integers exactly
    (torch.tensor([1.0]), np.array([1.0])),                                         # not a tensor
    (1.0, 1),                                                                      # float vs int
    (True, 1),                                                                     # bool vs int
    (None, chainrule.tensor(0.0)),                                                 # None
    ({"a": 1, "b": 2}, {"b": 2, "a": 1}),                                          # key order
    ([1, 2], [1, 2, 3]),                                                           # length
    ("tensor([1.])", "tensor([1.0])"),                                             # text
])
def test_compare_catches_differences(expected, actual):
    with pytest.raises(AssertionError):
        compare(expected, actual)


def test_compare_accepts_float_noise_and_library_names():
    compare(torch.tensor([1.0, 2.0]), chainrule.tensor([1.0, 2.0 + 1e-7]))
    compare({"x": [torch.float64, torch.Size([2, 3])], "s": "dtype=torch.float64"},
            {"x": [chainrule.float64, chainrule.Size([2, 3])], "s": "dtype=chainrule.float64"})
    compare(torch.tensor([1.0], dtype=torch.float64), chainrule.tensor([1.0 + 1e-12], dtype=chainrule.float64))
    with pytest.raises(AssertionError):
        compare(torch.tensor([1.0], dtype=torch.float64), chainrule.tensor([1.0 + 1e-7], dtype=chainrule.float64))


def test_compare_stdout():
    compare_stdout("loss 0.693147 at step 3\n", "loss 0.693148 at step 3\n")
    compare_stdout("x tensor([1., 2.], dtype=torch.float64)", "x tensor([1., 2.], dtype=chainrule.float64)")
    with pytest.raises(AssertionError):
        compare_stdout("loss 0.69 at step 3\n", "loss 0.69 at step 4\n")
    with pytest.raises(AssertionError):
        compare_stdout("loss 0.69\n", "loss: 0.69\n")
    with pytest.raises(AssertionError):
        compare_stdout("[1, 2]", "[1, 2, 3]")
