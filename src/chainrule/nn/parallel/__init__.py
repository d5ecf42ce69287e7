"""``chainrule.nn.parallel``: data parallelism across processes (``DistributedDataParallel``), and
PyTorch's single-process ``DataParallel``."""
from .data_parallel import DataParallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]
