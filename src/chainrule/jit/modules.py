"""What ``chainrule.jit.script`` and ``trace`` return: modules and functions that run eagerly.

TorchScript compiles a module into a ``RecursiveScriptModule`` (``script``) or a
``TopLevelTracedModule`` (``trace``) that computes what the Python module computes.  chainrule
runs the Python itself, so its script module is a *view* of the original: an object of a
class made from both ``RecursiveScriptModule`` (or ``TracedModule``) and the original class,
holding the original's parameters and buffers (the same tensors, in registries of its own, as
PyTorch's script module shares the tensors but not the module) and script views of its
submodules.  It prints as PyTorch's does, ``original_name`` names the original class, and
``forward``, helper methods, ``state_dict``, ``eval()``, submodules, indexing (Sequential)
and hooks work as on the original.  What differs from PyTorch's:

- ``code`` is the Python source of ``forward`` (TorchScript's is its own language), and
  ``graph`` a stand-in with no nodes: chainrule compiles nothing ahead of time;
- ``isinstance(scripted, OriginalClass)`` is True (it is False in PyTorch);
- a traced module runs its Python on every call, so control flow that depends on tensor
  values follows each input (a trace would keep the branch of its example input).
"""
from __future__ import annotations

import copy
import functools
import inspect
import os
import textwrap
from typing import Any, Callable, Iterator

from ..nn.module import Module
from .annotations import Attribute

__all__ = [
    "Graph", "ScriptModule", "RecursiveScriptModule", "TracedModule", "TopLevelTracedModule", "ScriptFunction",
    "original_class", "script_view",
]

#: The instance attribute of a script view that names the class it was made from.
_ORIGINAL = "_jit_original_class"

#: ``chainrule.jit.save``, registered by jit/archive.py (which builds on this module), for the
#: ``save`` methods.
SAVE: list = []


class Graph:
    """Stands in for TorchScript's graph: chainrule runs the Python eagerly and records no graph
    ahead of time, so it has no nodes; it prints what it is."""

    def __init__(self, name: str) -> None:
        self.name = name

    def nodes(self) -> Iterator[Any]:
        return iter(())

    def inputs(self) -> Iterator[Any]:
        return iter(())

    def outputs(self) -> Iterator[Any]:
        return iter(())

    def __str__(self) -> str:
        return f"graph({self.name}):\n  # chainrule runs {self.name} eagerly: no TorchScript graph\n"

    __repr__ = __str__


def _source(fn: Any) -> str:
    """The Python source of ``fn`` (dedented), or a comment when it is not available."""
    try:
        return textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return f"# the source of {getattr(fn, '__qualname__', fn)!r} is not available\n"


class ScriptModule(Module):
    """Base class of scripted and traced modules (and of PyTorch's legacy ``ScriptModule``
    subclasses, whose ``@script_method`` methods run as written)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Attribute):  # a typed attribute keeps its value, as in PyTorch
            value = value.value
        super().__setattr__(name, value)

    @property
    def original_name(self) -> str:
        """The name of the class the module was made from."""
        return original_class(self).__name__

    @property
    def code(self) -> str:
        """The Python source of ``forward`` (TorchScript shows its compiled code instead)."""
        return _source(original_class(self).forward)

    @property
    def code_with_constants(self) -> tuple[str, dict]:
        return self.code, {}

    @property
    def graph(self) -> Graph:
        return Graph(f"{self.original_name}.forward")

    @property
    def inlined_graph(self) -> Graph:
        return self.graph

    def graph_for(self, *args: Any, **kwargs: Any) -> Graph:
        return self.graph

    def save(self, f: str | os.PathLike | Any, **kwargs: Any) -> None:
        """``chainrule.jit.save(self, f)``."""
        SAVE[0](self, f, **kwargs)


class RecursiveScriptModule(ScriptModule):
    """What ``script(module)`` returns (and ``jit.load``): the module, run as written."""

    def extra_repr(self) -> str:
        return f"original_name={self.original_name}"


class TracedModule(ScriptModule):
    """A submodule of a traced module; prints under its original class's name."""

    def _get_name(self) -> str:
        return self.original_name

    def extra_repr(self) -> str:
        return f"original_name={self.original_name}"


class TopLevelTracedModule(TracedModule):
    """What ``trace(module, example_inputs)`` returns."""


def original_class(module: Module) -> type:
    """The class a script view was made from (a module's own class otherwise)."""
    return vars(module).get(_ORIGINAL) or type(module)


_VIEW_CLASSES: dict = {}


def _view_class(cls: type, kind: type) -> type:
    """The class of ``kind`` views of ``cls`` modules: ``kind`` first, then ``cls``."""
    if issubclass(cls, kind):
        return cls
    key = (cls, kind)
    if key not in _VIEW_CLASSES:
        _VIEW_CLASSES[key] = type(kind.__name__, (kind, cls), {"__module__": kind.__module__,
                                                               "__qualname__": kind.__qualname__})
    return _VIEW_CLASSES[key]


def script_view(module: Module, kind: type, children: type | None = None) -> Module:
    """A ``kind`` view of ``module``: its attributes, the same parameter and buffer tensors in
    registries of its own, its hooks, and ``children`` views (``kind`` by default) of its
    submodules.  A module that already is a ScriptModule of its own (PyTorch's legacy
    subclasses) is returned as it is."""
    if isinstance(module, ScriptModule) and _ORIGINAL not in vars(module):
        return module
    cls = original_class(module)
    view = object.__new__(_view_class(cls, kind))
    state = module.__getstate__()  # (without a compiled plan, which belongs to the module)
    for key, value in state.items():
        if isinstance(value, (dict, set, list)):  # registries and hook tables: the view's own
            state[key] = copy.copy(value)
    state[_ORIGINAL] = cls
    vars(view).update(state)
    for name, child in module.named_children():
        setattr(view, name, script_view(child, children or kind))
    return view


class ScriptFunction:
    """What ``script(fn)`` and ``trace(fn, ...)`` return: ``fn``, called as written, with
    TorchScript's attributes (``name``, ``qualified_name``, ``code`` — the Python source —,
    ``graph``, ``schema``, ``save``)."""

    def __init__(self, fn: Callable, name: str | None = None) -> None:
        functools.update_wrapper(self, fn)
        self._fn = fn
        self.name = name or getattr(fn, "__name__", type(fn).__name__).replace("<lambda>", "_lambda")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)

    @property
    def original_function(self) -> Callable:
        """The Python function this runs."""
        return self._fn

    @property
    def qualified_name(self) -> str:
        """``__torch__.<module>.<name>`` (``__torch__.<name>`` for a script's own functions)."""
        module = getattr(self._fn, "__module__", None)
        return "__torch__." + (f"{module}." if module and module != "__main__" else "") + self.name

    @property
    def code(self) -> str:
        return _source(self._fn)

    @property
    def graph(self) -> Graph:
        return Graph(self.name)

    @property
    def inlined_graph(self) -> Graph:
        return self.graph

    def graph_for(self, *args: Any, **kwargs: Any) -> Graph:
        return self.graph

    @property
    def schema(self) -> str:
        """The signature, as TorchScript writes it (``f(Tensor x, int n) -> Tensor``)."""
        try:
            signature = inspect.signature(self._fn)
        except (TypeError, ValueError):
            return f"{self.name}(...)"

        def typename(annotation: Any) -> str:
            if annotation is inspect.Parameter.empty:
                return "Tensor"
            text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
            return text.rsplit(".", 1)[-1]

        parameters = ", ".join(f"{typename(p.annotation)} {p.name}" for p in signature.parameters.values())
        return f"{self.name}({parameters}) -> {typename(signature.return_annotation)}"

    def save(self, f: str | os.PathLike | Any, **kwargs: Any) -> None:
        """``chainrule.jit.save(self, f)``: the function's importable name."""
        SAVE[0](self, f, **kwargs)

    def __repr__(self) -> str:
        return f"<chainrule.jit.ScriptFunction {self.name}>"
