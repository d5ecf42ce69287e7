"""Every ``torch.distributions.<module>`` imports under the torch alias and has the names its
PyTorch counterpart exports (``from torch.distributions.beta import Beta`` ...)."""
from __future__ import annotations

import importlib
import os

import pytest
import torch.distributions

from chainrule.torch_alias import aliased

MODULES = sorted(f[:-3] for f in os.listdir(os.path.dirname(torch.distributions.__file__))
                 if f.endswith(".py") and not f.startswith("_"))
def _exports(module_name):
    return list(getattr(importlib.import_module(f"torch.distributions.{module_name}"), "__all__", []))


@pytest.mark.parametrize("module_name", MODULES)
def test_module_imports_under_the_alias_with_pytorchs_names(module_name):
    exports = _exports(module_name)
    with aliased():
        module = importlib.import_module(f"torch.distributions.{module_name}")
        assert [name for name in exports if not hasattr(module, name)] == []
        assert module.__name__.startswith("chainrule.distributions")
