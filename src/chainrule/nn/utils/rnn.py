"""Variable-length sequences for the recurrent layers, with PyTorch's names: padding,
packing (``PackedSequence``) and back.

A packed sequence keeps, for every time step, only the sequences still running: sorted
longest first, step ``t``'s rows are the first ``batch_sizes[t]`` sequences.  The recurrent
layers take it as it is and never compute on padding.

    packed = pack_padded_sequence(padded, lengths, enforce_sorted=False)
    output, h_n = nn.GRU(8, 16)(packed)
    padded_output, lengths = pad_packed_sequence(output)
"""
from __future__ import annotations

from typing import Any, Iterable, NamedTuple

import numpy as np

from ... import functional as _C
from ...creation import full
from ...dtypes import float32, float64
from ...tensor import Tensor
from .. import functional as F

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]


class _PackedFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedFields):
    """``(data, batch_sizes, sorted_indices, unsorted_indices)``: the rows of every time step
    of a batch of sequences, one after the other (``data``, ``(sum(lengths), *)``), how many
    sequences run at each step (``batch_sizes``, int64), and the permutation that sorted the
    batch longest first (None when it came sorted).  Made by :func:`pack_padded_sequence`
    and :func:`pack_sequence`, not by hand."""

    def __new__(cls, data: Any, batch_sizes: Tensor | None = None, sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> "PackedSequence":
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> "PackedSequence":
        """The same sequence with ``data`` converted (``batch_sizes`` stays int64)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self) -> "PackedSequence":
        return self

    def double(self) -> "PackedSequence":
        return self.to(dtype=float64)

    def float(self) -> "PackedSequence":
        return self.to(dtype=float32)

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes ``permutation`` (None stays None)."""
    if permutation is None:
        return None
    order = np.asarray(permutation._data if isinstance(permutation, Tensor) else permutation)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size, dtype=order.dtype)
    return Tensor._wrap(inverse)


def _lengths_array(lengths: Any) -> np.ndarray:
    array = lengths._data if isinstance(lengths, Tensor) else lengths
    return np.asarray(array).astype(np.int64).reshape(-1)


def _pack_indices(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For lengths sorted longest first: the batch sizes, and the (time, batch) position of
    every packed row, step after step."""
    steps = int(lengths[0]) if lengths.size else 0
    batch_sizes = (lengths[None, :] > np.arange(steps)[:, None]).sum(axis=1)
    time = np.repeat(np.arange(steps), batch_sizes)
    batch = np.concatenate([np.arange(n) for n in batch_sizes]) if steps else np.zeros(0, np.int64)
    return batch_sizes.astype(np.int64), time, batch


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) of sequences of
    ``lengths``. With ``enforce_sorted`` they must come longest first; otherwise they are
    sorted here and the permutation kept (``sorted_indices``)."""
    lengths = _lengths_array(lengths)
    batch_dim = 0 if batch_first else 1
    if lengths.size != input.shape[batch_dim]:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.size} "
                           f"(batch_size={input.shape[batch_dim]})")
    sorted_indices = None
    if enforce_sorted:
        if np.any(lengths[1:] > lengths[:-1]):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
                "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement "
                "if you do not need ONNX exportability.")
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = Tensor._wrap(order.astype(np.int64))
        input = _C.index_select(input, batch_dim, sorted_indices)
    if lengths.size and lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    time_steps = input.shape[1 if batch_first else 0]
    if lengths.size and lengths[0] > time_steps:
        raise RuntimeError(f"Expected sequence length to be larger than or equal to the longest sequence "
                           f"length {int(lengths[0])}, but got {time_steps}")
    batch_sizes, time, batch = _pack_indices(lengths)
    index = (Tensor._wrap(batch), Tensor._wrap(time)) if batch_first else (Tensor._wrap(time), Tensor._wrap(batch))
    return PackedSequence(input[index], Tensor._wrap(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Undo :func:`pack_padded_sequence`: ``(padded, lengths)``, the batch back in its
    original order, padding filled with ``padding_value`` up to ``total_length`` steps (the
    longest sequence's length by default)."""
    batch_sizes = _lengths_array(sequence.batch_sizes)
    steps = batch_sizes.size
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {steps}")
        steps = total_length
    batch = int(batch_sizes[0])
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(axis=1).astype(np.int64)
    _, time, rows = _pack_indices(lengths)
    data = sequence.data
    shape = (batch, steps) if batch_first else (steps, batch)
    padded = full(shape + tuple(data.shape[1:]), padding_value, dtype=data.dtype)
    index = (Tensor._wrap(rows), Tensor._wrap(time)) if batch_first else (Tensor._wrap(time), Tensor._wrap(rows))
    padded[index] = data
    lengths_tensor = Tensor._wrap(lengths)
    if sequence.unsorted_indices is not None:
        padded = _C.index_select(padded, 0 if batch_first else 1, sequence.unsorted_indices)
        lengths_tensor = Tensor._wrap(lengths[_lengths_array(sequence.unsorted_indices)])
    return padded, lengths_tensor


def pad_sequence(sequences: Any, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of shapes ``(L_i, *)`` into ``(max L, B, *)`` (``(B, max L, *)`` with
    ``batch_first``), padded with ``padding_value`` on ``padding_side``."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg of type: "
                           f"{type(sequences)}")
    sequences = tuple(sequences)
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        pairs = [0, 0] * (s.ndim - 1) + ([0, missing] if padding_side == "right" else [missing, 0])
        padded.append(F.pad(s, pairs, value=padding_value) if missing else s)
    return _C.stack(padded, dim=0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False) -> list[Tensor]:
    """Undo :func:`pad_sequence`: the list of sequences, each cut to its length (copies, by a
    mask, as PyTorch's; like it, a time-first ``padded_sequences`` is transposed in place)."""
    if not batch_first:
        padded_sequences.transpose_(0, 1)
    steps = np.arange(padded_sequences.shape[1])
    return [seq[Tensor._wrap(steps < n)] for seq, n in zip(padded_sequences, _lengths_array(lengths), strict=True)]


def pack_sequence(sequences: list, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences of shapes ``(L_i, *)`` (see :func:`pack_padded_sequence`)."""
    lengths = Tensor._wrap(np.array([s.shape[0] for s in sequences], dtype=np.int64))
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """Undo :func:`pack_sequence`: the list of sequences."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
