"""Calls a lower layer makes into a higher one, filled in from above.

Imports point down (see CONTRIBUTING.md). Where a lower layer must start something of a
higher one, it calls a slot here, which the package root fills when it is imported (always
before any of its subpackages): ``nn.Module.compile`` starts ``chainrule.compile``, whose
compiler sits above ``nn`` and is loaded on first use.
"""
from __future__ import annotations

from typing import Any, Callable

#: ``chainrule.compile`` (the root loads the compiler at its first call).
compile: Callable[..., Any] | None = None

#: ``chainrule.sparse`` (sparse COO tensors), loaded on first use: ``Tensor.to_sparse``.
sparse: Callable[[], Any] | None = None

#: ``chainrule.linalg``, loaded on first use: ``chainrule.norm(A, "nuc")`` is its matrix norm.
linalg: Callable[[], Any] | None = None
