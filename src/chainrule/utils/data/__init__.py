"""``torch.utils.data`` under its PyTorch name: the same objects as ``chainrule.data``.

Its submodules (``torch.utils.data.dataloader``, ``.dataset``, ``.sampler``) are
``chainrule.data``'s very modules, registered under these names too, so that
``from torch.utils.data.dataloader import DataLoader`` finds the same class."""
import sys

from ...data import *  # noqa: F401,F403
from ...data import __all__  # noqa: F401
from ...data import dataloader, dataset, sampler

for _module in (dataloader, dataset, sampler):
    sys.modules[f"{__name__}.{_module.__name__.rsplit('.', 1)[1]}"] = _module
del _module
from . import distributed  # noqa: F401,E402  (torch.utils.data.distributed.DistributedSampler)
