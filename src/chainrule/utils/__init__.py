"""``chainrule.utils``: where PyTorch code looks for ``torch.utils.data``."""
from . import data

__all__ = ["data"]
