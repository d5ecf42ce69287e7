"""PyTorch's ``torch.return_types``: the named tuples that ``max(dim)``, ``sort``, ``topk``,
``linalg.svd`` ... return. Each is a tuple with named fields, printed as PyTorch prints
them (``chainrule.return_types.max(`` then one ``field=value`` per line), and importable
from this module by its name, so it pickles."""
from __future__ import annotations

from operator import itemgetter
from typing import Any, Sequence

from .dtypes import printed

__all__: list[str] = []


def _repr(self: tuple) -> str:
    fields = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
    return f"{printed.namespace}.return_types.{type(self).__name__}(\n{fields})"


class _StructSeq(tuple):
    """The base of every return type: a tuple whose items also have names (``values``,
    ``indices`` ...), with the named-tuple API (``_fields``, ``_make``, ``_asdict``,
    ``_replace``) that code written for PyTorch's results uses.  (Not ``collections.namedtuple``:
    building one costs ~30 us, and chainrule makes three dozen at import.)"""

    __slots__ = ()
    _fields: tuple = ()

    def __new__(cls, *values: Any) -> "_StructSeq":
        if len(values) != len(cls._fields):
            raise TypeError(f"{cls.__name__}() takes {len(cls._fields)} arguments ({len(values)} given)")
        return tuple.__new__(cls, values)

    @classmethod
    def _make(cls, iterable: Any) -> "_StructSeq":
        return cls(*iterable)

    def _asdict(self) -> dict:
        return dict(zip(self._fields, self))

    def _replace(self, **changes: Any) -> "_StructSeq":
        return self._make(changes.pop(name, value) for name, value in zip(self._fields, self))

    def __getnewargs__(self) -> tuple:
        return tuple(self)

    __repr__ = _repr


def structseq(name: str, fields: Sequence[str]) -> type:
    """The return type ``name`` (PyTorch's name: ``max``, ``linalg_svd`` ...) with ``fields``,
    made once and kept in this module (so that it pickles by name)."""
    made = globals().get(name)
    if made is None:
        namespace = {field: property(itemgetter(i), doc=f"Alias for field number {i}") for i, field in enumerate(fields)}
        namespace.update(__slots__=(), __module__=__name__, __qualname__=name, _fields=tuple(fields),
                         n_fields=len(fields))
        made = type(name, (_StructSeq,), namespace)
        globals()[name] = made
        __all__.append(name)
    elif made._fields != tuple(fields):
        raise ValueError(f"return type {name} exists with the fields {made._fields}")
    return made
