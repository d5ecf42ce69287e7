"""PyTorch's ``torch.utils.hooks``: :class:`RemovableHandle`, what the modules'
``register_*_hook`` methods return."""
from ..nn.module import RemovableHandle

__all__ = ["RemovableHandle"]
