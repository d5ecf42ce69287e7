"""``torch`` as another name for chainrule: the import hook that runs PyTorch code unchanged.

While :func:`aliased` is active, ``import torch``, ``import torch.nn as nn``, ``from
torch.utils.data import DataLoader``, ``import torch.optim.lr_scheduler`` ... give chainrule's
modules themselves (``torch.nn is chainrule.nn``): a finder at the front of ``sys.meta_path``
answers every ``torch`` and ``torch.*`` name with the chainrule module of the same path.  A
name chainrule does not have fails with :class:`MissingTorchName`, "chainrule has no
torch.X", naming the file and line that asked for it.

>>> with aliased():
...     exec("import torch.nn.functional as F", namespace)
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.util
import inspect
import linecache
import os
import sys
from typing import Any, Iterator

from .dtypes import printed

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
#: Attributes the import system sets on the module a loader hands it: chainrule's own are
#: put back, so that ``chainrule.nn.__spec__`` still describes chainrule.nn.
_STAMPED = ("__spec__", "__loader__", "__package__", "__path__", "__file__", "__cached__")


class MissingTorchName(ModuleNotFoundError):
    """A ``torch`` name (module or attribute) that chainrule does not have."""

    def __init__(self, name: str, where: str | None = None) -> None:
        message = f"chainrule has no {name}"
        if where:
            message += f" (used at {where})"
        super().__init__(message, name=name)
        self.torch_name = name
        self.where = where


def chainrule_name(torch_name: str) -> str:
    """``torch.utils.data`` -> ``chainrule.utils.data``."""
    return "chainrule" + torch_name[len("torch"):]


def torch_name(chainrule_name: str) -> str:
    """``chainrule.nn.functional`` -> ``torch.nn.functional``."""
    return "torch" + chainrule_name[len("chainrule"):]


def is_torch_name(name: str) -> bool:
    return name == "torch" or name.startswith("torch.")


def user_site() -> tuple[str, int] | None:
    """(file, line) of the innermost frame that is neither chainrule's nor the import
    system's: the code that asked for a name."""
    frame = inspect.currentframe()
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith("<frozen") and not os.path.abspath(filename).startswith(_PACKAGE_DIR):
            return filename, frame.f_lineno
        frame = frame.f_back
    return None


def describe_site(site: tuple[str, int] | None) -> str | None:
    """``file:line: source text`` of a site (the text when the file can be read)."""
    if site is None:
        return None
    text = linecache.getline(site[0], site[1]).strip()
    return f"{site[0]}:{site[1]}" + (f": {text}" if text else "")


class _Finder(importlib.abc.MetaPathFinder):
    """Answers ``torch`` and ``torch.*`` with chainrule's module (or, for a name that is an
    attribute of its parent and not a module, such as ``torch.cuda``, that attribute)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if not is_torch_name(fullname):
            return None
        target_name = chainrule_name(fullname)
        try:
            module = importlib.import_module(target_name)
        except ModuleNotFoundError as error:
            if error.name != target_name:
                raise  # something chainrule itself imports is missing: its own error
            parent, _, child = target_name.rpartition(".")
            module = getattr(sys.modules.get(parent), child, None) if parent else None
            if module is None:
                raise MissingTorchName(fullname, describe_site(user_site())) from None
        return importlib.util.spec_from_loader(fullname, _Loader(module))


class _Loader(importlib.abc.Loader):
    """Hands the import system an object that already exists, and takes back the attributes
    it stamps on it."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.own: dict = {}

    def create_module(self, spec: Any) -> Any:
        self.own = {name: getattr(self.target, name) for name in _STAMPED if hasattr(self.target, name)}
        return self.target

    def exec_module(self, module: Any) -> None:
        for name in _STAMPED:
            if name in self.own:
                setattr(module, name, self.own[name])
            elif hasattr(module, name):
                with contextlib.suppress(AttributeError, TypeError):
                    delattr(module, name)


@contextlib.contextmanager
def aliased() -> Iterator[None]:
    """Within the block, ``torch`` and its submodules import as chainrule's.  A PyTorch
    already imported in this process is set aside for the block and put back after it."""
    set_aside = {name: module for name, module in sys.modules.items() if is_torch_name(name)}
    for name in set_aside:
        del sys.modules[name]
    finder = _Finder()
    sys.meta_path.insert(0, finder)
    namespace, printed.namespace = printed.namespace, "torch"  # (the program prints torch.float64 ...)
    try:
        yield
    finally:
        printed.namespace = namespace
        sys.meta_path.remove(finder)
        for name in [name for name in sys.modules if is_torch_name(name)]:
            del sys.modules[name]
        sys.modules.update(set_aside)
