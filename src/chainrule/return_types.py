"""PyTorch's ``torch.return_types``: the named tuples that ``max(dim)``, ``sort``, ``topk``,
``linalg.svd`` ... return. Each is a tuple with named fields, printed as PyTorch prints
them (``chainrule.return_types.max(`` then one ``field=value`` per line), and importable
from this module by its name, so it pickles."""
from __future__ import annotations

from collections import namedtuple
from typing import Sequence

from .dtypes import printed

__all__: list[str] = []


def _repr(self: tuple) -> str:
    fields = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
    return f"{printed.namespace}.return_types.{type(self).__name__}(\n{fields})"


def structseq(name: str, fields: Sequence[str]) -> type:
    """The return type ``name`` (PyTorch's name: ``max``, ``linalg_svd`` ...) with ``fields``,
    made once and kept in this module."""
    made = globals().get(name)
    if made is None:
        made = type(name, (namedtuple(name, fields),), {"__slots__": (), "__repr__": _repr, "__module__": __name__,
                                                         "n_fields": len(fields)})
        globals()[name] = made
        __all__.append(name)
    elif made._fields != tuple(fields):
        raise ValueError(f"return type {name} exists with the fields {made._fields}")
    return made
