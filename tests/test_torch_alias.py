"""The import hook behind `chainrule run`: torch and every torch.* module resolve to
chainrule's own module objects while it is active, and nothing of it is left after."""
from __future__ import annotations

import sys

import pytest
import torch as real_torch

import chainrule
from chainrule.torch_alias import MissingTorchName, aliased, chainrule_name, torch_name


def test_torch_and_its_submodules_are_chainrules_modules():
    namespace: dict = {}
    with aliased():
        exec("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
             "import torch.optim.lr_scheduler as schedulers\nfrom torch.utils.data import DataLoader\n"
             "from torch.autograd.functional import jacobian\nfrom torch import optim\nimport torch.cuda\n",
             namespace)
    assert namespace["torch"] is chainrule and namespace["nn"] is chainrule.nn
    assert namespace["F"] is chainrule.nn.functional and namespace["optim"] is chainrule.optim
    assert namespace["schedulers"] is chainrule.optim.lr_scheduler
    assert namespace["DataLoader"] is chainrule.utils.data.DataLoader
    assert namespace["jacobian"] is chainrule.autograd.functional.jacobian
    assert namespace["torch"].cuda.is_available() is chainrule.cuda.is_available()


def test_pytorch_utility_modules_resolve():
    namespace: dict = {}
    with aliased():
        exec("import torch.utils._pytree as pytree\nfrom torch.autograd.graph import saved_tensors_hooks\n"
             "from torch.nn.utils.fusion import fuse_conv_bn_eval\nfrom torch.nn.attention import sdpa_kernel, SDPBackend\n"
             "from torch.utils.hooks import RemovableHandle\nfrom torch.utils.dlpack import from_dlpack\n", namespace)
    assert namespace["pytree"] is chainrule.utils._pytree
    assert namespace["saved_tensors_hooks"] is chainrule.autograd.graph.saved_tensors_hooks
    assert namespace["fuse_conv_bn_eval"] is chainrule.nn.utils.fuse_conv_bn_eval
    assert namespace["SDPBackend"].MATH == 0 and namespace["from_dlpack"] is chainrule.from_dlpack
    assert namespace["RemovableHandle"] is chainrule.nn.module.RemovableHandle


def test_chainrule_keeps_its_own_module_attributes():
    with aliased():
        exec("import torch.nn.functional", {})
    assert chainrule.nn.__spec__.name == "chainrule.nn" and chainrule.__spec__.name == "chainrule"
    assert chainrule.nn.functional.__name__ == "chainrule.nn.functional"


def test_pytorch_is_put_back_after():
    assert sys.modules["torch"] is real_torch
    with aliased():
        assert "torch" not in sys.modules
        exec("import torch.nn", {})
        assert sys.modules["torch.nn"] is chainrule.nn
    assert sys.modules["torch"] is real_torch and sys.modules["torch.nn"] is real_torch.nn
    assert not any(type(finder).__module__ == "chainrule.torch_alias" for finder in sys.meta_path)


def test_a_module_chainrule_lacks_names_itself_and_the_line(tmp_path):
    script = tmp_path / "uses_fx.py"
    script.write_text("import torch\nimport torch.fx\n")
    with aliased(), pytest.raises(MissingTorchName) as error:
        exec(compile(script.read_text(), str(script), "exec"), {})
    assert str(error.value) == f"chainrule has no torch.fx (used at {script}:2: import torch.fx)"
    assert isinstance(error.value, ModuleNotFoundError) and error.value.name == "torch.fx"


def test_names_map_both_ways():
    assert chainrule_name("torch.utils.data") == "chainrule.utils.data" and chainrule_name("torch") == "chainrule"
    assert torch_name("chainrule.nn.functional") == "torch.nn.functional"


def test_a_program_under_the_alias_prints_torchs_names():
    program = ("import torch\n"
               "x = torch.zeros(2, 3, dtype=torch.float64)\n"
               "shown = [repr(x), repr(x.shape), repr(x.dtype), x.type(), repr(torch.max(torch.ones(2, 2), 1))]\n")
    namespace: dict = {}
    with aliased():
        exec(program, namespace)
    expected = {}
    exec(program, expected)  # the same program with the real PyTorch
    assert namespace["shown"] == expected["shown"]
    assert repr(chainrule.float64) == "chainrule.float64"  # outside the alias: chainrule's own names
    assert repr(chainrule.Size([2])) == "chainrule.Size([2])"
