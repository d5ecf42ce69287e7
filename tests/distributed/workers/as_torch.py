"""Run a PyTorch program unchanged with chainrule standing in for ``torch``:

    mpiexec -n 2 python as_torch.py program.py [args ...]

Every ``chainrule.*`` module is entered in ``sys.modules`` as ``torch.*`` before the program
runs, so ``import torch.distributed as dist`` and the like find chainrule's."""
import runpy
import sys

import chainrule
import chainrule.distributed  # noqa: F401
import chainrule.multiprocessing  # noqa: F401
import chainrule.nn.functional  # noqa: F401
import chainrule.nn.parallel  # noqa: F401
import chainrule.optim  # noqa: F401
import chainrule.utils.data.distributed  # noqa: F401

for name, module in list(sys.modules.items()):
    if name == "chainrule" or name.startswith("chainrule."):
        sys.modules["torch" + name[len("chainrule"):]] = module
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
