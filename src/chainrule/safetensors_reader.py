"""Reading a safetensors file without trusting it.

Everything the file says is checked before anything is allocated: the 8-byte header size
against the file's size, the header as JSON (integers only, bounded nesting), each tensor's
dtype, shape and byte range against the others and against the file. Only then is each
tensor read straight into its own array (``readinto``), so loading needs the file's size in
memory plus a small constant, never a second copy of the file. A path must name a regular
file: a FIFO, a device or a folder is refused without being read (opening does not block).

The format (https://github.com/huggingface/safetensors): an unsigned little-endian 64-bit
header size N, N bytes of JSON ``{name: {"dtype", "shape", "data_offsets": [begin, end]},
"__metadata__": {str: str}}``, then the tensors' bytes, little-endian, back to back.
"""
from __future__ import annotations

import json
import os
from typing import Any, BinaryIO

import numpy as np

from .dtypes import bfloat16
from .files import NotARegularFile, open_regular_file

#: The safetensors dtypes NumPy holds (BF16 through ml_dtypes, see :func:`numpy_dtype`; the
#: float8 types are not loaded).
DTYPES = {
    "BOOL": np.dtype(np.bool_), "U8": np.dtype("u1"), "I8": np.dtype("i1"), "U16": np.dtype("<u2"),
    "I16": np.dtype("<i2"), "F16": np.dtype("<f2"), "U32": np.dtype("<u4"), "I32": np.dtype("<i4"),
    "F32": np.dtype("<f4"), "U64": np.dtype("<u8"), "I64": np.dtype("<i8"), "F64": np.dtype("<f8"),
    "C64": np.dtype("<c8"),
}


def numpy_dtype(name: Any) -> np.dtype | None:
    """The NumPy dtype of a safetensors dtype name, None for one chainrule cannot load; BF16
    needs the ``bfloat16`` extra (ml_dtypes), and says so when it is missing."""
    if name == "BF16":
        return bfloat16.numpy
    return DTYPES.get(name) if isinstance(name, str) else None


#: The largest header read. A header takes ~100 bytes per tensor, so this is ~150,000 tensors;
#: parsed JSON takes up to ~20 times its text in memory, so this also bounds what a forged
#: header can cost (the safetensors library allows 100 MiB).
MAX_HEADER = 16 * 2**20
_CHUNK = 16 * 2**20


class CheckpointError(RuntimeError, ValueError):
    """A file that is not a readable chainrule/safetensors checkpoint; the message names it."""


class Source:
    """An open checkpoint: the stream, a name for messages, and the bytes left to read
    (None for a stream whose length cannot be known)."""

    def __init__(self, stream: BinaryIO, name: str, size: int | None, owned: bool) -> None:
        self.stream, self.name, self.size, self.owned = stream, name, size, owned

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.owned:
            self.stream.close()

    def read(self, n: int, what: str) -> bytes:
        """Exactly ``n`` bytes, else a CheckpointError saying the file is truncated (read in
        steps, so that a claimed size costs no memory before the bytes are there)."""
        parts, done = [], 0
        while done < n:
            part = self.stream.read(min(n - done, 2**20))
            if not part:
                raise CheckpointError(f"{self.name}: truncated: {what} needs {n} bytes, only {done} follow")
            parts.append(part)
            done += len(part)
        return b"".join(parts)

    def fill(self, view: memoryview, what: str) -> None:
        """Fill ``view`` from the stream, else a CheckpointError saying what was cut short."""
        done, total = 0, len(view)
        while done < total:
            step = min(total - done, _CHUNK)
            if hasattr(self.stream, "readinto"):
                got = self.stream.readinto(view[done:done + step])
            else:
                data = self.stream.read(step)
                got = len(data)
                view[done:done + got] = data
            if not got:
                raise CheckpointError(f"{self.name}: truncated: {what} needs {total} bytes, only {done} follow")
            done += got


def open_source(f: Any) -> Source:
    """The checkpoint ``f`` names: a path to a regular file, or a binary file object."""
    if hasattr(f, "read"):
        return Source(f, str(getattr(f, "name", "<stream>")), _stream_size(f), owned=False)
    path = os.fspath(f)
    try:
        stream, size = open_regular_file(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such checkpoint file") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{path}: is a directory, not a checkpoint file") from None
    except NotARegularFile as error:
        raise CheckpointError(f"{path}: is {error.kind}, not a regular file: a checkpoint is a file") from None
    return Source(stream, path, size, owned=True)


def _stream_size(stream: Any) -> int | None:
    """The bytes left in a seekable stream, else None."""
    try:
        if stream.seekable():
            here = stream.tell()
            end = stream.seek(0, os.SEEK_END)
            stream.seek(here)
            return end - here
    except (AttributeError, OSError, ValueError):
        pass
    return None


def _foreign_format(prefix: bytes) -> str | None:
    """What a file that is not safetensors looks like it is, from its first bytes."""
    if prefix[:4] == b"PK\x03\x04":
        return "a PyTorch (torch.save) zip archive"
    if prefix[:1] == b"\x80" and prefix[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a pickle file"
    return None


def _not_safetensors(source: Source, prefix: bytes, reason: str) -> CheckpointError:
    foreign = _foreign_format(prefix)
    if foreign is not None:
        return CheckpointError(f"{source.name}: {foreign}, not a safetensors checkpoint; chainrule.load never "
                               "unpickles (unpickling can run arbitrary code)")
    return CheckpointError(f"{source.name}: {reason}")


def _integer_only(text: str) -> Any:
    raise ValueError(f"the number {text[:20]} is not an integer")


def read_header(source: Source) -> tuple[dict, int]:
    """The header (checked: see ``check_entries``) and the size of the data after it."""
    if source.size == 0:
        raise CheckpointError(f"{source.name}: empty file, not a safetensors checkpoint")
    if source.size is not None and source.size < 8:
        prefix = source.read(source.size, "the header size")
        raise _not_safetensors(source, prefix, f"truncated: {source.size} bytes, a safetensors file starts "
                                               "with an 8-byte header size")
    prefix = source.read(8, "the 8-byte header size")
    size = int.from_bytes(prefix, "little")
    available = None if source.size is None else source.size - 8
    if available is not None and size > available:
        if size > MAX_HEADER or _foreign_format(prefix):
            raise _not_safetensors(source, prefix, "not a safetensors checkpoint (no valid header)")
        raise CheckpointError(f"{source.name}: truncated: the header needs {size} bytes, only {available} follow")
    if size > MAX_HEADER:
        raise _not_safetensors(source, prefix, f"not a safetensors checkpoint, or one whose header ({size} bytes) "
                                               f"is larger than chainrule reads ({MAX_HEADER} bytes)")
    raw = source.read(size, "the header")
    if not raw.lstrip(b" \t\r\n").startswith(b"{"):
        raise _not_safetensors(source, prefix + raw[:8], "corrupt or not a safetensors checkpoint "
                                                         "(its header is not JSON)")
    try:
        header = json.loads(raw, parse_float=_integer_only, parse_constant=_integer_only)
    except (ValueError, UnicodeDecodeError):
        raise CheckpointError(f"{source.name}: corrupt or not a safetensors checkpoint (its header is not JSON)") from None
    except RecursionError:
        raise CheckpointError(f"{source.name}: corrupt safetensors header (nested too deeply)") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{source.name}: corrupt safetensors header (not a JSON object)")
    data = None if available is None else available - size
    return header, data


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_entries(header: dict, data_size: int | None, name: str) -> list[tuple[str, np.dtype, tuple, int]]:
    """The tensors ``(key, dtype, shape, nbytes)`` in file order, after checking that every
    entry is well formed and that their byte ranges tile the data exactly."""
    metadata = header.get("__metadata__", {})
    if metadata is not None and (not isinstance(metadata, dict)
                                 or not all(isinstance(v, str) for v in metadata.values())):
        raise CheckpointError(f"{name}: corrupt safetensors header (__metadata__ is not a map of strings)")
    entries = []
    for key, info in header.items():
        if key == "__metadata__":
            continue
        where = f"{name}: corrupt safetensors header (entry '{key[:80]}'"
        if not isinstance(info, dict):
            raise CheckpointError(f"{where} is not an object)")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        numpy = numpy_dtype(dtype)
        if numpy is None:
            if isinstance(dtype, str) and len(dtype) < 20:
                raise CheckpointError(f"{name}: tensor '{key[:80]}' has dtype {dtype}, which chainrule cannot load "
                                      f"(it loads {', '.join(DTYPES)}, BF16)")
            raise CheckpointError(f"{where} has no valid dtype)")
        if not isinstance(shape, list) or not all(_is_count(n) for n in shape):
            raise CheckpointError(f"{where} has no valid shape)")
        if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_count(n) for n in offsets) \
                or offsets[0] > offsets[1]:
            raise CheckpointError(f"{where} has no valid data offsets)")
        nbytes = numpy.itemsize
        for n in shape:
            nbytes *= n
        if offsets[1] - offsets[0] != nbytes:
            raise CheckpointError(f"{where} spans {offsets[1] - offsets[0]} bytes; its shape and dtype need {nbytes})")
        entries.append((offsets[0], offsets[1], key, numpy, tuple(shape), nbytes))
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    end = 0
    for begin, stop, key, *_ in entries:
        if begin != end:
            raise CheckpointError(f"{name}: corrupt safetensors header (the data of '{key[:80]}' "
                                  f"{'overlaps another tensor' if begin < end else 'leaves a gap'})")
        end = stop
    if data_size is not None and end > data_size:
        raise CheckpointError(f"{name}: truncated: the tensors need {end} bytes of data, only {data_size} present")
    if data_size is not None and end < data_size:
        raise CheckpointError(f"{name}: corrupt safetensors file ({data_size - end} bytes after the last tensor)")
    return [(key, dtype, shape, nbytes) for _, _, key, dtype, shape, nbytes in entries]


def read(f: Any) -> tuple[dict, dict[str, np.ndarray], str]:
    """The header, the tensors as writable NumPy arrays by name, and a name for messages."""
    with open_source(f) as source:
        header, data_size = read_header(source)
        entries = check_entries(header, data_size, source.name)
        arrays = {}
        for key, dtype, shape, nbytes in entries:
            try:
                array = np.empty(shape, dtype=dtype)
            except (MemoryError, ValueError):
                raise CheckpointError(f"{source.name}: tensor '{key[:80]}' of shape {list(shape)} does not fit "
                                      "in memory") from None
            source.fill(memoryview(array.reshape(-1).view(np.uint8)), f"tensor '{key[:80]}'")
            arrays[key] = array if dtype.isnative else array.astype(dtype.newbyteorder("="))
        if data_size is None and source.stream.read(1):
            raise CheckpointError(f"{source.name}: corrupt safetensors file (bytes after the last tensor)")
        return header, arrays, source.name
