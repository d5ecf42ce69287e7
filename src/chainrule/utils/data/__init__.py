"""``torch.utils.data`` under its PyTorch name: the same objects as ``chainrule.data``."""
from ...data import *  # noqa: F401,F403
from ...data import __all__  # noqa: F401
from . import distributed  # noqa: F401  (torch.utils.data.distributed.DistributedSampler)
