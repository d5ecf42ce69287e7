"""``torch.backends.mkldnn``: oneDNN's switch, kept and read back (chainrule does not run oneDNN)."""
from __future__ import annotations

enabled = True


def is_available() -> bool:
    return False
