"""``chainrule.jit.save`` / ``load``: a module (or a function) in a file, rebuilt on load.

TorchScript's archive holds compiled code, so PyTorch loads it without the Python classes.
chainrule runs the Python, so its archive holds what rebuilds the module from its classes:
for each module of the tree, its class's importable name (``package.module:Class``), its
training flag, its plain attributes (numbers, strings, tuples, dtypes, tensors, importable
functions ...), its parameters and buffers, and its submodules.  It is written with
:func:`chainrule.save` — a safetensors file, written atomically (a temporary file, then a
rename) — and read with :func:`chainrule.load`, which never unpickles: loading imports the
modules that define the classes and functions the file names (as unpickling would) and runs
no other code from it.  The classes must be importable where the file is loaded (or defined
in the script that loads it); a missing one is an error naming it.  Hooks are not saved (a
TorchScript module drops Python hooks too).  A TorchScript archive written by PyTorch is
refused with an error saying so; a chainrule archive does not load in PyTorch.
"""
from __future__ import annotations

import importlib
import inspect
import io
import os
import warnings
from typing import Any

import numpy as np

from .. import dtypes, serialization
from ..dtypes import dtype as dtype_type
from ..backend import device as device_type
from ..nn.module import Module
from ..tensor import Tensor
from . import modules
from .modules import RecursiveScriptModule, ScriptFunction, original_class, script_view

__all__ = ["save", "load"]

#: The archive's top-level key and the format's version.
_MARK = "chainrule.jit"
_VERSION = 1
_ZIP_MAGIC = b"PK\x03\x04"


def _internal_keys() -> frozenset:
    """The instance attributes every Module has (registries, hooks, the training flag)."""
    return frozenset(vars(Module())) | {"_compiled_call_impl", "_jit_original_class"}


_INTERNAL = _internal_keys()


# -- saving -----------------------------------------------------------------------------------

def _global_name(obj: Any, what: str) -> str:
    """``module:qualname`` of a class or function that can be imported by that name."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not module or not qualname or "<locals>" in qualname or "<lambda>" in qualname:
        raise TypeError(f"chainrule.jit.save cannot store {what} {qualname or obj!r}: it is defined inside a "
                        "function (or is a lambda), so it cannot be imported when the file is loaded; define it "
                        "at the top level of a module")
    return f"{module}:{qualname}"


def _encode(value: Any, where: str) -> Any:
    """A plain attribute's value as a structure chainrule.save stores, tagged by kind."""
    if value is None or isinstance(value, (bool, int, float, str, Tensor, np.ndarray)):
        return {"value": value}
    if isinstance(value, dtype_type):
        return {"dtype": str(value).rsplit(".", 1)[-1]}
    if isinstance(value, device_type):
        return {"device": str(value)}
    if type(value) in (list, tuple, set, frozenset):  # (not their subclasses: named tuples would come back plain)
        return {type(value).__name__: [_encode(item, f"{where}[{i}]") for i, item in enumerate(value)]}
    if type(value) is dict:
        for key in value:
            if not isinstance(key, (str, int, float, bool)):
                raise TypeError(f"chainrule.jit.save cannot store attribute '{where}': a dict key of type "
                                f"{type(key).__name__}")
        return {"dict": [[key, _encode(item, f"{where}[{key!r}]")] for key, item in value.items()]}
    if inspect.isclass(value) or inspect.isfunction(value) or inspect.isbuiltin(value):
        return {"global": _global_name(value, f"attribute '{where}'")}
    raise TypeError(f"chainrule.jit.save cannot store attribute '{where}' of type {type(value).__name__}: it stores "
                    "tensors, numbers, strings, None, dtypes, devices, importable classes and functions, and "
                    "lists, tuples, sets and dicts of them")


def _module_node(module: Module, path: str) -> dict:
    cls = original_class(module)
    state = vars(module)
    where = path or "the top module"
    return {
        "class": _global_name(cls, f"the class of {where}"),
        "training": bool(module.training),
        "attributes": [[name, _encode(value, f"{path}.{name}".lstrip("."))]
                       for name, value in state.items() if name not in _INTERNAL],
        "parameters": [[name, param] for name, param in state["_parameters"].items()],
        "buffers": [[name, buffer, name not in state["_non_persistent_buffers_set"]]
                    for name, buffer in state["_buffers"].items()],
        "children": [[name, None if child is None else _module_node(child, f"{path}.{name}".lstrip("."))]
                     for name, child in state["_modules"].items()],
    }


def save(m: Any, f: str | os.PathLike | io.IOBase, _extra_files: dict | None = None) -> None:
    """``torch.jit.save``: write the module ``m`` (a script or traced module, or any
    nn.Module) or a scripted function to ``f`` (a path, written atomically, or a binary file
    object).  ``_extra_files`` ({name: str or bytes}) are stored beside it."""
    warnings.warn("`torch.jit.save` is deprecated. Please switch to `torch.export`.", DeprecationWarning, stacklevel=2)
    if isinstance(m, ScriptFunction):
        content: dict = {"function": _global_name(m.original_function, "the function")}
    elif isinstance(m, Module):
        content = {"module": _module_node(m, "")}
    else:
        raise TypeError(f"chainrule.jit.save expects a module or a scripted function, got {type(m).__name__}")
    extra = [[name, np.frombuffer(data.encode() if isinstance(data, str) else bytes(data), dtype=np.uint8)]
             for name, data in (_extra_files or {}).items()]
    serialization.save({_MARK: _VERSION, **content, "extra_files": extra}, f)


modules.SAVE.append(save)


# -- loading ----------------------------------------------------------------------------------

def _lookup(namespace: Any, qualname: str) -> Any:
    found = namespace
    for part in qualname.split("."):
        found = found.get(part) if isinstance(found, dict) else getattr(found, part, None)
        if found is None:
            return None
    return found


def _import_global(name: str) -> Any:
    """The class or function named ``module:qualname``: from the globals of a running script of
    that module name (``__main__``, or a program run by exec), or from importing the module."""
    module_name, _, qualname = name.partition(":")
    found, reason = None, ""
    frame = inspect.currentframe()
    while found is None and frame is not None:  # a running script's own globals first
        if frame.f_globals.get("__name__") == module_name:
            found = _lookup(frame.f_globals, qualname)
        frame = frame.f_back
    if found is None:
        try:
            found = _lookup(importlib.import_module(module_name), qualname)
        except ImportError as error:
            reason = f" ({error})"
    if found is None:
        raise RuntimeError(f"chainrule.jit.load: the archive needs '{qualname}' from module '{module_name}', which "
                           f"cannot be imported here{reason}. Unlike TorchScript, chainrule rebuilds the module from "
                           "its Python classes: make that module importable (or define the class in the script "
                           "that loads the file)")
    return found


def _decode(node: dict) -> Any:
    (kind, value), = node.items()
    if kind == "value":
        return value
    if kind == "dtype":
        return getattr(dtypes, value)
    if kind == "device":
        return device_type(value)
    if kind in ("list", "tuple", "set", "frozenset"):
        items = [_decode(item) for item in value]
        return items if kind == "list" else {"tuple": tuple, "set": set, "frozenset": frozenset}[kind](items)
    if kind == "dict":
        return {key: _decode(item) for key, item in value}
    if kind == "global":
        return _import_global(value)
    raise RuntimeError(f"chainrule.jit.load: corrupt archive (an attribute of unknown kind '{kind}')")


def _rebuild(node: dict) -> Module:
    cls = _import_global(node["class"])
    if not (inspect.isclass(cls) and issubclass(cls, Module)):
        raise RuntimeError(f"chainrule.jit.load: '{node['class']}' is not an nn.Module class")
    module = cls.__new__(cls)
    Module.__init__(module)
    module.training = node["training"]
    state = vars(module)
    for name, value in node["attributes"]:
        state[name] = _decode(value)
    for name, param in node["parameters"]:
        module.register_parameter(name, param)
    for name, buffer, persistent in node["buffers"]:
        module.register_buffer(name, buffer, persistent=persistent)
    for name, child in node["children"]:
        module.add_module(name, None if child is None else _rebuild(child))
    return module


def _refuse_torchscript(f: Any) -> None:
    """A TorchScript archive (a zip file) gets an error that says what it is."""
    if hasattr(f, "read"):
        if not hasattr(f, "seek"):
            return
        start = f.tell()
        head = f.read(4)
        f.seek(start)
        name = getattr(f, "name", "the file")
    else:
        path = os.fspath(f)
        if not os.path.exists(path):
            raise ValueError(f"The provided filename {path} does not exist")
        if os.path.isdir(path):
            raise ValueError(f"The provided filename {path} is a directory")
        with open(path, "rb") as stream:
            head = stream.read(4)
        name = path
    if head == _ZIP_MAGIC:
        raise RuntimeError(f"chainrule.jit.load: {name} is a TorchScript archive (written by PyTorch's torch.jit.save). "
                           "chainrule runs modules eagerly from their Python classes and cannot run TorchScript: "
                           "save the module with chainrule.jit.save, or its state_dict with safetensors")


def load(f: str | os.PathLike | io.IOBase, map_location: Any = None, _extra_files: dict | None = None,
         _restore_shapes: bool = False) -> Any:
    """``torch.jit.load``: the module (a :class:`RecursiveScriptModule` view of it, rebuilt
    from its classes) or the scripted function that :func:`save` wrote; ``map_location`` puts
    the tensors on that device; the names of ``_extra_files`` get their stored contents
    (bytes)."""
    warnings.warn("`torch.jit.load` is deprecated. Please switch to `torch.export`.", DeprecationWarning, stacklevel=2)
    _refuse_torchscript(f)
    archive = serialization.load(f, map_location=map_location)
    if not isinstance(archive, dict) or archive.get(_MARK) is None:
        raise RuntimeError(f"chainrule.jit.load: {getattr(f, 'name', f)} is not a chainrule.jit archive (a "
                           "checkpoint written by chainrule.save loads with chainrule.load)")
    if archive[_MARK] > _VERSION:
        raise RuntimeError(f"chainrule.jit.load: archive format version {archive[_MARK]} is newer than this chainrule "
                           f"reads ({_VERSION}); upgrade chainrule")
    if _extra_files is not None:
        stored = dict(archive.get("extra_files", []))
        for name in _extra_files:
            if name in stored:
                _extra_files[name] = bytes(np.asarray(stored[name], dtype=np.uint8).tobytes())
    if "function" in archive:
        return ScriptFunction(_import_global(archive["function"]))
    return script_view(_rebuild(archive["module"]), RecursiveScriptModule)
