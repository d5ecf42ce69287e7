"""``torch.signal``: signal-processing helpers (the window functions of :mod:`.windows`)."""
from . import windows

__all__ = ["windows"]
