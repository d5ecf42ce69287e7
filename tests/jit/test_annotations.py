"""jit.annotations: markers that return what they mark, and jit.isinstance on typing
annotations, as PyTorch's eager mode."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import pytest
import torch

import chainrule

LIBS = (chainrule, torch)


class Proto:
    def run(self, x: int) -> int:
        pass


@pytest.mark.parametrize("L", LIBS, ids=lambda L: L.__name__)
def test_markers_return_what_they_mark(L):
    def fn(x):
        return x + 1

    assert L.jit.ignore(fn) is fn and L.jit.unused(fn) is fn and L.jit.export(fn) is fn
    assert L.jit.ignore(drop=True)(fn) is fn
    assert L.jit.annotate(List[int], [1]) == [1]
    assert L.jit.interface(Proto) is Proto
    assert L.jit.is_scripting() is False
    assert L.jit.Final[int] is not None
    assert issubclass(L.jit.Error, Exception) and issubclass(L.jit.TracerWarning, Warning)


@pytest.mark.parametrize("value, annotation", [
    ([1, 2], List[int]), ([1, "a"], List[int]), ({"a": 1}, Dict[str, int]), ({"a": "b"}, Dict[str, int]),
    ((1, "a"), Tuple[int, str]), ((1, 2), Tuple[int, str]), (None, Optional[int]), (3, Optional[int]),
    ("x", Optional[int]), (3, int), (3.0, int), ([], List[str]), ((1, 2, 3), Tuple[int, ...]), ((1,), Tuple[int, ...]),
])
def test_jit_isinstance_matches_pytorch(value, annotation):
    assert chainrule.jit.isinstance(value, annotation) == torch.jit.isinstance(value, annotation)


def test_jit_isinstance_refuses_any_as_pytorch():
    for L in LIBS:
        with pytest.raises(TypeError, match="typing.Any cannot be used with isinstance"):
            L.jit.isinstance(1, Any)
