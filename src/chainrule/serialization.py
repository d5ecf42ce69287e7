"""``chainrule.save`` / ``chainrule.load``: checkpoints in the safetensors format, never pickle.

A checkpoint is any nesting of dicts, lists and tuples holding tensors (or NumPy arrays),
numbers, strings, booleans and None: a tensor, a module's ``state_dict()``, an optimizer's
``state_dict()``, or ``{"model": ..., "optimizer": ..., "epoch": 3}``. The tensors are the
safetensors file's tensors, named by their path (``model.fc1.weight``; a top-level state
dict keeps its own names, so the file also loads with ``safetensors.torch.load_file``);
the structure around them is JSON in the file's metadata under ``"chainrule"``.

Saving writes a temporary file in the target folder and renames it over the target, so a
crash never leaves a half-written checkpoint. Loading never executes code: a pickle file
(``torch.save``'s format) is refused with a ``CheckpointError``, as is a truncated or
corrupt file. A safetensors file written by another tool loads as ``{name: tensor}``.

>>> chainrule.save({"model": model.state_dict(), "epoch": 3}, "run/model.safetensors")
>>> model.load_state_dict(chainrule.load("run/model.safetensors")["model"])
"""
from __future__ import annotations

import io
import json
import os
import secrets
from pathlib import Path
from typing import Any

import numpy as np

from .backend import to_numpy
from .nn.parameter import Parameter
from .tensor import Tensor, _make

FORMAT_VERSION = 1
_META_KEY = "chainrule"
# NumPy dtypes the safetensors format holds.
_STORABLE = {np.dtype(t) for t in (np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8,
                                   np.uint64, np.uint32, np.uint16, np.uint8, np.bool_, np.complex64)}
_MAX_HEADER = 100 * 2**20


class CheckpointError(RuntimeError, ValueError):
    """A file that is not a readable chainrule/safetensors checkpoint; the message names it."""


def _safetensors() -> Any:
    try:
        import safetensors.numpy
    except ImportError:
        raise ImportError("chainrule.save/load need the 'safetensors' package: pip install safetensors") from None
    return safetensors.numpy


# -- saving -------------------------------------------------------------------------------

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
        if array.dtype not in _STORABLE:
            raise TypeError(f"chainrule.save cannot store {array.dtype} data (at '{path or 'the top level'}'): "
                            "the safetensors format holds bool, (u)int8..64, float16/32/64 and complex64")
        key = self.key_for(path)
        # Not np.ascontiguousarray: it turns 0-d arrays into 1-d ones.
        self.arrays[key] = array if array.flags.c_contiguous else array.copy(order="C")
        self.keys[id(obj)] = key
        self.alive.append(obj)
        return key

    def encode(self, obj: Any, path: str) -> Any:
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


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file next to ``path``, then rename it over ``path``."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # os.open with 0o666 lets the umask decide the permissions, as open() would.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


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
        raise FileNotFoundError(f"cannot save to {path}: parent directory {parent} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"cannot save to {path}: it is a directory")
    _atomic_write(path, data)


# -- loading ------------------------------------------------------------------------------

def _read(f: Any) -> tuple[bytes, str]:
    if hasattr(f, "read"):
        return f.read(), str(getattr(f, "name", "<stream>"))
    path = Path(os.fspath(f))
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such checkpoint file")
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a directory, not a checkpoint file")
    return path.read_bytes(), str(path)


def _header(data: bytes, name: str) -> dict:
    if not data:
        raise CheckpointError(f"{name}: empty file, not a safetensors checkpoint")
    if data[:1] == b"\x80" or data[:4] == b"PK\x03\x04":
        kind = "a PyTorch (torch.save) zip archive" if data[:2] == b"PK" else "a pickle file"
        raise CheckpointError(f"{name}: {kind}, not a safetensors checkpoint; chainrule.load never unpickles "
                              "(unpickling can run arbitrary code)")
    if len(data) < 8:
        raise CheckpointError(f"{name}: truncated: {len(data)} bytes, a safetensors file starts with an 8-byte header size")
    size = int.from_bytes(data[:8], "little")
    if size > len(data) - 8:
        if size > _MAX_HEADER:
            raise CheckpointError(f"{name}: not a safetensors checkpoint (no valid header)")
        raise CheckpointError(f"{name}: truncated: the header needs {size} bytes, only {len(data) - 8} follow")
    try:
        header = json.loads(data[8:8 + size])
    except (ValueError, UnicodeDecodeError):
        raise CheckpointError(f"{name}: corrupt or not a safetensors checkpoint (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{name}: corrupt safetensors header (not a JSON object)")
    end = 0
    for key, info in header.items():
        if key == "__metadata__":
            continue
        try:
            end = max(end, int(info["data_offsets"][1]))
        except (TypeError, KeyError, IndexError, ValueError):
            raise CheckpointError(f"{name}: corrupt safetensors header (entry '{key}' has no data offsets)") from None
    available = len(data) - 8 - size
    if end > available:
        raise CheckpointError(f"{name}: truncated: the tensors need {end} bytes of data, only {available} present")
    return header


class _Decoder:
    def __init__(self, arrays: dict, name: str) -> None:
        self.arrays, self.name = arrays, name
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
                tensor = _make(self.array(key))
                if node.get("parameter"):
                    tensor = Parameter(tensor, requires_grad=bool(node.get("requires_grad")))
                elif node.get("requires_grad"):
                    tensor.requires_grad_(True)
                self.tensors[key] = tensor
            return self.tensors[key]
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

    ``map_location``, ``weights_only`` and ``mmap`` are accepted for PyTorch compatibility;
    loading is always weights-only: it never runs code from the file."""
    data, name = _read(f)
    header = _header(data, name)
    try:
        loaded = _safetensors().load(data)
    except Exception as error:  # the safetensors reader's own errors, whatever their type
        raise CheckpointError(f"{name}: corrupt safetensors data: {error}") from None
    # Writable copies: optimizers and load_state_dict update tensors in place.
    arrays = {key: np.array(value) for key, value in loaded.items()}
    metadata = header.get("__metadata__") or {}
    if _META_KEY not in metadata:
        return {key: _make(arrays[key]) for key in header if key != "__metadata__"}
    try:
        structure = json.loads(metadata[_META_KEY])
        version, root = structure["version"], structure["root"]
    except (ValueError, TypeError, KeyError):
        raise CheckpointError(f"{name}: corrupt checkpoint structure in the safetensors metadata") from None
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(f"{name}: checkpoint format version {version} is newer than this chainrule "
                              f"reads ({FORMAT_VERSION}); upgrade chainrule")
    try:
        return _Decoder(arrays, name).decode(root)
    except (TypeError, ValueError) as error:
        if isinstance(error, CheckpointError):
            raise
        raise CheckpointError(f"{name}: corrupt checkpoint structure ({error})") from None
