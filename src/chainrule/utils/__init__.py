"""``chainrule.utils``: where PyTorch code looks for ``torch.utils.data``,
``torch.utils.checkpoint`` and ``torch.utils.benchmark``."""
from . import benchmark, checkpoint, data

__all__ = ["benchmark", "checkpoint", "data"]
