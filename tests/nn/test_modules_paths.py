"""``torch.nn.modules.<name>`` paths: programs importing layers from PyTorch's module paths run."""
from __future__ import annotations

import importlib

import pytest
import torch

import chainrule
from chainrule.torch_alias import aliased

PATHS = ["activation", "batchnorm", "container", "conv", "distance", "dropout", "flatten", "lazy", "linear", "loss",
         "module", "normalization", "padding", "pixelshuffle", "pooling", "rnn", "sparse", "transformer",
         "upsampling", "instancenorm", "fold", "channelshuffle", "adaptive"]


@pytest.mark.parametrize("name", PATHS)
def test_each_path_holds_pytorchs_public_layers_that_chainrule_has(name):
    theirs = importlib.import_module(f"torch.nn.modules.{name}")
    ours = importlib.import_module(f"chainrule.nn.modules.{name}")
    public = getattr(theirs, "__all__", None) or [k for k in vars(theirs) if not k.startswith("_")]
    wanted = [k for k in public if hasattr(chainrule.nn, k) or hasattr(chainrule.nn.lazy, k)]
    assert wanted, name
    for key in wanted:
        expected = getattr(chainrule.nn, key, None) or getattr(chainrule.nn.lazy, key)
        assert getattr(ours, key) is expected, f"torch.nn.modules.{name}.{key}"


def test_a_program_importing_from_the_paths():
    source = (
        "import torch\n"
        "from torch.nn.modules.loss import _Loss\n"
        "from torch.nn.modules.utils import _pair, _triple\n"
        "from torch.nn.modules.lazy import LazyModuleMixin\n"
        "from torch.nn.modules.activation import MultiheadAttention\n"
        "class Half(_Loss):\n"
        "    def forward(self, a, b):\n"
        "        return ((a - b) ** 2).mean() / 2\n"
        "result = (Half()(torch.ones(2), torch.zeros(2)).item(), _pair(3), _triple((1, 2, 3)),\n"
        "          isinstance(torch.nn.LazyLinear(2), LazyModuleMixin), MultiheadAttention.__name__)\n"
    )
    results = []
    for wrap in (lambda: __import__("contextlib").nullcontext(), aliased):
        scope: dict = {}
        with wrap():
            exec(compile(source, "<program>", "exec"), scope)
        results.append(scope["result"])
    assert results[0] == results[1] == (0.5, (3, 3), (1, 2, 3), True, "MultiheadAttention")
