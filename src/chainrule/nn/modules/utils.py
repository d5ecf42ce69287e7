"""``torch.nn.modules.utils``: the argument normalisers layers use (``_pair(3) == (3, 3)``)."""
from __future__ import annotations

from itertools import repeat
from typing import Any, Callable

__all__ = ["_single", "_pair", "_triple", "_quadruple", "_ntuple"]


def _ntuple(n: int, name: str = "parse") -> Callable[[Any], tuple]:
    """A function turning one value into an ``n``-tuple of it (an iterable is kept as a tuple)."""

    def parse(x: Any) -> tuple:
        if isinstance(x, (list, tuple)) or (hasattr(x, "__iter__") and not isinstance(x, str)):
            return tuple(x)
        return tuple(repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")
