"""``chainrule.utils``: where PyTorch code looks for ``torch.utils.data``,
``torch.utils.checkpoint``, ``torch.utils.benchmark``, ``torch.utils.hooks``, ``torch.utils.dlpack``
and ``torch.utils._pytree``."""
from . import _pytree, benchmark, checkpoint, data, dlpack, hooks

__all__ = ["benchmark", "checkpoint", "data", "dlpack", "hooks"]
