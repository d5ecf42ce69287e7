"""Datasets that need no network: the embedded handwritten digits and first names, and
MNIST or Fashion-MNIST read from IDX files in a local folder.

Each function returns ``(images, labels)``: float32 images scaled to [0, 1] with shape
``(N, 1, H, W)`` (or ``(N, H*W)`` with ``flatten=True``) and int64 labels 0..9. Wrap them
in a ``TensorDataset`` to feed a ``DataLoader``::

    images, labels = chainrule.datasets.digits()          # (1797, 1, 8, 8), (1797,)
    loader = DataLoader(TensorDataset(images, labels), batch_size=64, shuffle=True)
"""
from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..files import NotARegularFile, open_regular_file
from ..tensor import Tensor

DIGITS_CLASSES = tuple(str(i) for i in range(10))
MNIST_CLASSES = DIGITS_CLASSES
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                         "Sneaker", "Bag", "Ankle boot")

_DIGITS_FILE = Path(__file__).with_name("digits.npz")
_NAMES_FILE = Path(__file__).with_name("names.txt")
_IMAGES_MAGIC, _LABELS_MAGIC = 2051, 2049


class DatasetError(ValueError):
    """A dataset file is unreadable, truncated or not what it should be; the message names it."""


def _finish(images: np.ndarray, labels: np.ndarray, scale: float, flatten: bool) -> tuple[Tensor, Tensor]:
    x = images.astype(np.float32)
    x *= np.float32(1.0 / scale)
    x = x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, *images.shape[1:])
    return Tensor._wrap(x), Tensor._wrap(labels.astype(np.int64))


def digits(flatten: bool = False) -> tuple[Tensor, Tensor]:
    """The 1,797 handwritten 8x8 digits of the UCI "Optical Recognition of Handwritten
    Digits" set (Alpaydin & Kaynak 1998, CC BY 4.0; see ATTRIBUTION-digits.txt), shipped
    inside the package.

    Returns float32 images with pixel counts 0..16 scaled to [0, 1], shape ``(1797, 1, 8, 8)``
    (``(1797, 64)`` with ``flatten=True``), and int64 labels 0..9 (about 180 per class).
    """
    try:
        with np.load(_DIGITS_FILE, allow_pickle=False) as archive:
            images, labels = archive["images"], archive["labels"]
    except FileNotFoundError:
        raise FileNotFoundError(f"the embedded digits file is missing: {_DIGITS_FILE} "
                                "(reinstall chainrule)") from None
    except (OSError, KeyError, ValueError, zlib.error) as error:
        raise DatasetError(f"the embedded digits file {_DIGITS_FILE} is unreadable: {error}") from None
    return _finish(images, labels, 16.0, flatten)


def names() -> list[str]:
    """The 5,163 distinct first names of the 1990 US Census name lists (public domain; see
    ATTRIBUTION-names.txt), shipped inside the package: lowercase a-z, sorted. The corpus of
    ``chainrule train --dataset names`` (character-level next-letter prediction)."""
    try:
        text = _NAMES_FILE.read_text(encoding="ascii")
    except FileNotFoundError:
        raise FileNotFoundError(f"the embedded names file is missing: {_NAMES_FILE} (reinstall chainrule)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"the embedded names file {_NAMES_FILE} is unreadable: {error}") from None
    return text.split()


def _find(root: Path, folder: str, stem: str) -> Path:
    """The IDX file ``stem`` (``stem.gz`` too, and the ``.idx`` spelling some mirrors use)
    in ``root``, ``root/raw`` or ``root/<folder>/raw`` (torchvision's layout)."""
    dotted = stem.replace("-idx", ".idx")
    candidates = [d / (name + ext) for d in (root, root / "raw", root / folder / "raw")
                  for name in (stem, dotted) for ext in ("", ".gz")]
    for path in candidates:
        if path.exists() and not path.is_dir():  # not only is_file(): a FIFO is named, then refused
            return path
    raise FileNotFoundError(f"{root / stem}: file not found (also looked for {stem}.gz, in {root}, "
                            f"{root / 'raw'} and {root / folder / 'raw'}); download the standard IDX files there")


#: Deflate expands data at most ~1032 times: a gzipped file claiming more is truncated.
_DEFLATE_RATIO = 1032
_CHUNK = 16 * 2**20


def _open(path: Path) -> tuple[BinaryIO, int]:
    """``path`` opened for reading (through gzip for ``.gz``) and its size on disk. Only a
    regular file is opened: a FIFO or a device is refused without waiting on it."""
    try:
        raw, size = open_regular_file(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DatasetError(f"{path}: is a directory, expected an IDX file") from None
    except PermissionError as error:
        raise DatasetError(f"{path}: cannot be read ({error.strerror})") from None
    except NotARegularFile as error:
        raise DatasetError(f"{path}: is not a regular file ({error.kind}), expected an IDX file") from None
    return (gzip.GzipFile(fileobj=raw, mode="rb") if path.suffix == ".gz" else raw), size


def _read_into(stream: BinaryIO, view: memoryview) -> int:
    """Fill ``view`` from ``stream`` as far as it goes; the number of bytes read."""
    done = 0
    while done < len(view):
        got = stream.readinto(view[done:done + _CHUNK])
        if not got:
            break
        done += got
    return done


def read_idx(path: str | os.PathLike, magic: int | None = None) -> np.ndarray:
    """The uint8 array stored in an IDX file (gzipped when the name ends in ``.gz``).

    ``magic`` is the expected magic number (2051 for images, 2049 for labels); any
    mismatch, or a size that disagrees with the header, raises ``DatasetError``. The size
    the header states is checked against the file before the array is allocated, and no more
    than that is ever read, however much a gzipped file would inflate to."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: file not found")
    stream, disk_size = _open(path)
    try:
        with stream:
            return _read_idx(path, stream, disk_size, magic)
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise DatasetError(f"{path}: corrupt or truncated gzip data ({error})") from None


def _read_idx(path: Path, stream: BinaryIO, disk_size: int, magic: int | None) -> np.ndarray:
    gzipped = path.suffix == ".gz"
    start = stream.read(4)
    if len(start) < 4:
        raise DatasetError(f"{path}: truncated: {len(start)} bytes, expected at least a 4-byte IDX header")
    found = int.from_bytes(start, "big")
    if magic is not None and found != magic:
        raise DatasetError(f"{path}: not an IDX {'image' if magic == _IMAGES_MAGIC else 'label'} file: "
                           f"magic number {found}, expected {magic}")
    if start[0] or start[1] or start[2] != 0x08:
        raise DatasetError(f"{path}: not an IDX file of unsigned bytes: magic number {found}, "
                           f"expected {_IMAGES_MAGIC} (images) or {_LABELS_MAGIC} (labels)")
    ndim = start[3]
    header = 4 + 4 * ndim
    dims = stream.read(4 * ndim)
    if ndim == 0 or len(dims) < 4 * ndim:
        raise DatasetError(f"{path}: truncated header: {4 + len(dims)} bytes, expected {header} for {ndim} dimensions")
    shape = tuple(int.from_bytes(dims[4 * i: 4 * i + 4], "big") for i in range(ndim))
    items = math.prod(shape)
    sizes = f"{header}-byte header + {' x '.join(map(str, shape))} items"
    if not gzipped and disk_size != header + items:
        what = "truncated" if disk_size < header + items else "too long"
        raise DatasetError(f"{path}: {what}: {disk_size} bytes, expected {header + items} ({sizes})")
    if gzipped and header + items > _DEFLATE_RATIO * disk_size + 1024:
        raise DatasetError(f"{path}: truncated: {disk_size} gzipped bytes cannot hold {header + items} bytes ({sizes})")
    try:
        data = np.empty(items, dtype=np.uint8)
    except MemoryError:
        raise DatasetError(f"{path}: {header + items} bytes ({sizes}) do not fit in memory") from None
    got = _read_into(stream, memoryview(data))
    if got < items:
        raise DatasetError(f"{path}: truncated: {header + got} bytes, expected {header + items} ({sizes})")
    if stream.read(1):
        raise DatasetError(f"{path}: too long: more than {header + items} bytes, expected {header + items} ({sizes})")
    return data.reshape(shape)


def _idx_dataset(root: str | os.PathLike, train: bool, folder: str, flatten: bool) -> tuple[Tensor, Tensor]:
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such directory (expected a folder holding the {folder} IDX files)")
    prefix = "train" if train else "t10k"
    images_path = _find(root, folder, f"{prefix}-images-idx3-ubyte")
    labels_path = _find(root, folder, f"{prefix}-labels-idx1-ubyte")
    images = read_idx(images_path, _IMAGES_MAGIC)
    labels = read_idx(labels_path, _LABELS_MAGIC)
    if images.ndim != 3:
        raise DatasetError(f"{images_path}: expected 3 dimensions (count, rows, columns), got shape {images.shape}")
    if labels.ndim != 1:
        raise DatasetError(f"{labels_path}: expected 1 dimension (count), got shape {labels.shape}")
    if len(images) == 0:
        raise DatasetError(f"{images_path}: holds no images (its header counts 0 items)")
    if len(images) != len(labels):
        raise DatasetError(f"{labels_path}: {len(labels)} labels for {len(images)} images in {images_path.name}; "
                           "expected the same item count")
    if labels.size and labels.max() > 9:
        raise DatasetError(f"{labels_path}: label {int(labels.max())} out of range, expected 0..9")
    return _finish(images, labels, 255.0, flatten)


def mnist(root: str | os.PathLike, train: bool = True, flatten: bool = False) -> tuple[Tensor, Tensor]:
    """MNIST read from the standard IDX files in ``root`` (``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-...``; gzipped ``.gz`` or not; ``root/MNIST/raw``
    also works). Nothing is downloaded.

    Returns float32 images scaled to [0, 1], shape ``(N, 1, 28, 28)`` (``(N, 784)`` with
    ``flatten=True``), and int64 labels. A missing file raises FileNotFoundError; a corrupt,
    truncated or mismatched one raises ``DatasetError`` naming the file.
    """
    return _idx_dataset(root, train, "MNIST", flatten)


def fashion_mnist(root: str | os.PathLike, train: bool = True, flatten: bool = False) -> tuple[Tensor, Tensor]:
    """Fashion-MNIST (Zalando), same file names and layout as ``mnist`` (``root/FashionMNIST/raw``
    also works); class names are ``FASHION_MNIST_CLASSES``."""
    return _idx_dataset(root, train, "FashionMNIST", flatten)


def write_idx(path: str | os.PathLike, array: Any) -> None:
    """Write a uint8 array as an IDX file (gzipped when the name ends in ``.gz``)."""
    array = np.ascontiguousarray(np.asarray(array, dtype=np.uint8))
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    data = header + array.tobytes()
    path = Path(path)
    if path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
