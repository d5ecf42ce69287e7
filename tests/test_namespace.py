"""The top-level namespace: constants and module paths PyTorch programs use."""
from __future__ import annotations

import math

import pytest
import torch

import chainrule


@pytest.mark.parametrize("name", ["inf", "nan", "pi", "e"])
def test_constants_are_pytorchs(name):
    ours, theirs = getattr(chainrule, name), getattr(torch, name)
    assert type(ours) is type(theirs) is float
    assert ours == theirs or (math.isnan(ours) and math.isnan(theirs))


def test_onnx_imports_and_export_says_it_is_not_supported():
    import chainrule.onnx

    assert chainrule.onnx.is_in_onnx_export() is False
    with pytest.raises(RuntimeError, match="chainrule.onnx.export is not supported"):
        chainrule.onnx.export(chainrule.nn.Linear(2, 2), chainrule.zeros(1, 2), "model.onnx")


def test_data_submodules_have_pytorchs_module_paths():
    from chainrule.utils.data.dataloader import DataLoader, default_collate
    from chainrule.utils.data.dataset import Dataset, TensorDataset
    from chainrule.utils.data.sampler import BatchSampler, RandomSampler

    assert DataLoader is chainrule.data.DataLoader and default_collate is chainrule.data.default_collate
    assert Dataset is chainrule.data.Dataset and TensorDataset is chainrule.data.TensorDataset
    assert RandomSampler is chainrule.data.RandomSampler and BatchSampler is chainrule.data.BatchSampler
    assert chainrule.utils.data.sampler is chainrule.data.sampler
