"""Whether a forward-mode AD level is open, for the paths that must know cheaply (in-place
changes, item assignment) without loading :mod:`chainrule.autograd.forward_ad`, which
``import chainrule`` leaves for first use: no level can be open before it is loaded."""
from __future__ import annotations

from typing import Any

#: Whether a level is open (one attribute test on the in-place paths when none is).
level_open = False
#: ``chainrule.autograd.forward_ad`` (its tangent helpers), set when it loads.
tangents: Any = None
