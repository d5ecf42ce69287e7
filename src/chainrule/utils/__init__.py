"""``chainrule.utils``: where PyTorch code looks for ``torch.utils.data`` and
``torch.utils.checkpoint``."""
from . import checkpoint, data

__all__ = ["checkpoint", "data"]
