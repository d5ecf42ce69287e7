"""``chainrule.save`` / ``chainrule.load``: checkpoints in the safetensors format, never pickle.

A checkpoint is any nesting of dicts, lists and tuples holding tensors (or NumPy arrays),
numbers, strings, booleans and None: a tensor, a module's ``state_dict()``, an optimizer's
``state_dict()``, or ``{"model": ..., "optimizer": ..., "epoch": 3}``. The tensors are the
safetensors file's tensors, named by their path (``model.fc1.weight``; a top-level state
dict keeps its own names, so the file also loads with ``safetensors.torch.load_file``);
the structure around them is JSON in the file's metadata under ``"chainrule"``.

Saving writes a temporary file in the target folder and renames it over the target, so a
crash never leaves a half-written checkpoint (and the temporary files of killed writers are
removed by the next save to the same path). Loading never executes code: a pickle file
(``torch.save``'s format) is refused with a ``CheckpointError``, as is a truncated, corrupt
or forged file, before any memory is allocated for what the file claims. A safetensors file written by another tool loads as ``{name: tensor}``.

>>> chainrule.save({"model": model.state_dict(), "epoch": 3}, "run/model.safetensors")
>>> model.load_state_dict(chainrule.load("run/model.safetensors")["model"])
"""
from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from . import safetensors_reader
from .atomic import atomic_write
from .backend import device as backend_device, resolve_device, to_device, to_numpy
from .nn.parameter import Parameter
from .safetensors_reader import CheckpointError
from .sparse import SparseTensor, sparse_coo_tensor
from .tensor import Tensor

FORMAT_VERSION = 1
_META_KEY = "chainrule"
# NumPy dtypes the safetensors format holds.
_STORABLE = {np.dtype(t) for t in (np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8,
                                   np.uint64, np.uint32, np.uint16, np.uint8, np.bool_, np.complex64)}


def _safetensors() -> Any:
    try:
        import safetensors.numpy
    except ImportError:
        raise ImportError("chainrule.save/load need the 'safetensors' package: pip install safetensors") from None
    return safetensors.numpy


# -- saving -------------------------------------------------------------------------------

class MissingParentDirectory(FileNotFoundError, RuntimeError):
    """``save`` to a path whose directory does not exist: a FileNotFoundError, and the
    RuntimeError PyTorch's ``torch.save`` raises there, so either ``except`` catches it."""


class SaveToDirectory(IsADirectoryError, RuntimeError):
    """``save`` to a path that is a directory (an IsADirectoryError, and PyTorch's RuntimeError)."""


class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.keys: dict[int, str] = {}  # id(tensor) -> key, so a tensor stored twice is stored once
        self.alive: list = []           # keeps encoded objects alive while their ids are keys

    def key_for(self, path: str) -> str:
        key, n = path or "tensor", 1
        while key in self.arrays:
            key, n = f"{path or 'tensor'}#{n}", n + 1
        return key

    def array(self, obj: Any, path: str) -> str:
        if id(obj) in self.keys:
            return self.keys[id(obj)]
        array = to_numpy(obj._data if isinstance(obj, Tensor) else obj)
        if array.dtype not in _STORABLE and array.dtype.kind != "V":  # (kind "V": bfloat16, stored as BF16)
            raise TypeError(f"chainrule.save cannot store {array.dtype} data (at '{path or 'the top level'}'): "
                            "the safetensors format holds bool, (u)int8..64, float16/32/64, bfloat16 and complex64")
        key = self.key_for(path)
        # Not np.ascontiguousarray: it turns 0-d arrays into 1-d ones.
        self.arrays[key] = array if array.flags.c_contiguous else array.copy(order="C")
        self.keys[id(obj)] = key
        self.alive.append(obj)
        return key

    def encode(self, obj: Any, path: str) -> Any:
        if isinstance(obj, SparseTensor):  # its indices and values, stored as two tensors
            node = {"__sparse_coo__": [self.array(obj._indices(), f"{path}.indices" if path else "indices"),
                                       self.array(obj._values().detach(), f"{path}.values" if path else "values")],
                    "size": list(obj.shape), "coalesced": obj.is_coalesced()}
            if obj.requires_grad:
                node["requires_grad"] = True
            return node
        if isinstance(obj, Tensor):
            node: dict = {"__tensor__": self.array(obj, path)}
            if obj.requires_grad:
                node["requires_grad"] = True
            if type(obj).__name__ == "Parameter" and type(obj).__module__.startswith("chainrule.nn"):
                node["parameter"] = True
            return node
        if isinstance(obj, np.ndarray):
            return {"__ndarray__": self.array(obj, path)}
        if isinstance(obj, np.generic):
            return self.encode(obj.item(), path)
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, dict):
            def sub(key: Any) -> str:
                return f"{path}.{key}" if path else str(key)
            if all(isinstance(k, str) and not k.startswith("__") for k in obj):
                return {k: self.encode(v, sub(k)) for k, v in obj.items()}
            for k in obj:
                if not (k is None or isinstance(k, (bool, int, float, str))):
                    raise TypeError(f"chainrule.save: dict keys must be strings or numbers, got "
                                    f"{type(k).__name__} at '{path or 'the top level'}'")
            return {"__dict__": [[k, self.encode(v, sub(k))] for k, v in obj.items()]}
        if isinstance(obj, (list, tuple)):
            items = [self.encode(v, f"{path}.{i}" if path else str(i)) for i, v in enumerate(obj)]
            return items if isinstance(obj, list) else {"__tuple__": items}
        hint = " (save its .state_dict() instead)" if hasattr(obj, "state_dict") else ""
        raise TypeError(f"chainrule.save cannot store a {type(obj).__name__} at '{path or 'the top level'}'{hint}: "
                        "it stores tensors, NumPy arrays, numbers, strings, None, and lists, tuples and dicts of them")


def save(obj: Any, f: str | os.PathLike | io.IOBase) -> None:
    """Save ``obj`` (tensors and dicts/lists/tuples/numbers around them) as a safetensors file.

    ``f`` is a path (written atomically) or a binary file object."""
    encoder = _Encoder()
    structure = encoder.encode(obj, "")
    metadata = {"format": "pt", _META_KEY: json.dumps({"version": FORMAT_VERSION, "root": structure},
                                                      separators=(",", ":"))}
    data = _safetensors().save(encoder.arrays, metadata=metadata)
    if hasattr(f, "write"):
        f.write(data)  # type: ignore[union-attr]
        return
    path = Path(os.fspath(f))
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise MissingParentDirectory(f"Parent directory {parent} does not exist (cannot save to {path}).")
    if path.is_dir():
        raise SaveToDirectory(f"cannot save to {path}: it is a directory")
    atomic_write(path, data, durable=True)


# -- loading ------------------------------------------------------------------------------

class _Decoder:
    def __init__(self, arrays: dict, name: str, device: Any = None) -> None:
        self.arrays, self.name, self.device = arrays, name, device
        self.tensors: dict[str, Tensor] = {}

    def array(self, key: Any) -> np.ndarray:
        if key not in self.arrays:
            raise CheckpointError(f"{self.name}: corrupt checkpoint: its structure names a tensor '{key}' the file lacks")
        return self.arrays[key]

    def decode(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            return node
        if "__tensor__" in node:
            key = node["__tensor__"]
            if key not in self.tensors:
                array = self.array(key)
                tensor = Tensor._wrap(array if self.device is None else to_device(array, self.device))
                if node.get("parameter"):
                    tensor = Parameter(tensor, requires_grad=bool(node.get("requires_grad")))
                elif node.get("requires_grad"):
                    tensor.requires_grad_(True)
                self.tensors[key] = tensor
            return self.tensors[key]
        if "__sparse_coo__" in node:
            indices, values = (self.array(key) for key in node["__sparse_coo__"])
            values = Tensor._wrap(values if self.device is None else to_device(values, self.device))
            return sparse_coo_tensor(indices, values, node["size"], is_coalesced=bool(node.get("coalesced")),
                                     requires_grad=bool(node.get("requires_grad")))
        if "__ndarray__" in node:
            return self.array(node["__ndarray__"])
        if "__tuple__" in node:
            return tuple(self.decode(v) for v in node["__tuple__"])
        if "__dict__" in node:
            return {k: self.decode(v) for k, v in node["__dict__"]}
        return {k: self.decode(v) for k, v in node.items()}


def load(f: str | os.PathLike | io.IOBase, map_location: Any = None, pickle_module: Any = None, *,
         weights_only: bool | None = None, mmap: bool | None = None) -> Any:
    """Load what ``chainrule.save`` wrote (any safetensors file loads as ``{name: tensor}``).

    ``map_location`` (a device, its name or a GPU index) puts the tensors there (the CPU
    without it: the file does not say where they were); ``weights_only`` and ``mmap`` are
    accepted for PyTorch compatibility: loading is always weights-only, it never runs code
    from the file. Every size the file
    states is checked against the file before anything is allocated, and the tensors are
    read one by one into their arrays: loading takes the file's size in memory, not more.
    A path must be a regular file (a FIFO or device is refused, without waiting on it)."""
    device = resolve_device(map_location) if isinstance(map_location, (str, int, backend_device)) else None
    header, arrays, name = safetensors_reader.read(f)
    metadata = header.get("__metadata__") or {}
    if _META_KEY not in metadata:
        return {key: Tensor._wrap(arrays[key] if device is None else to_device(arrays[key], device))
                for key in header if key != "__metadata__"}
    try:
        structure = json.loads(metadata[_META_KEY])
        version, root = structure["version"], structure["root"]
    except (ValueError, TypeError, KeyError, RecursionError):
        raise CheckpointError(f"{name}: corrupt checkpoint structure in the safetensors metadata") from None
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(f"{name}: checkpoint format version {str(version)[:20]} is newer than this chainrule "
                              f"reads ({FORMAT_VERSION}); upgrade chainrule")
    try:
        return _Decoder(arrays, name, device).decode(root)
    except CheckpointError:
        raise
    except (TypeError, ValueError, AttributeError) as error:
        raise CheckpointError(f"{name}: corrupt checkpoint structure ({str(error)[:200]})") from None
    except RecursionError:
        raise CheckpointError(f"{name}: corrupt checkpoint structure (nested too deeply)") from None
