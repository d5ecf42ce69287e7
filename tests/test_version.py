"""``torch.version``'s build facts, which scripts print and test, as a CPU build of PyTorch
has them."""
import torch

import chainrule


def test_build_facts_of_a_cpu_build():
    for name in ("cuda", "hip", "rocm", "xpu", "debug"):
        assert getattr(chainrule.version, name) == getattr(torch.version, name), name
    assert isinstance(chainrule.version.__version__, str) and chainrule.__version__ == chainrule.version.__version__
