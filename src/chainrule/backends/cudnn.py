"""``torch.backends.cudnn``: cuDNN's switches, kept and read back (chainrule does not run cuDNN)."""
from __future__ import annotations

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: chainrule's convolutions are its own (NumPy's or CuPy's GEMMs), not cuDNN's."""
    return False


def version() -> None:
    """None, as PyTorch answers without cuDNN."""
    return None
