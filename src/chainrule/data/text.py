"""Character-level modelling of short words (the names task): a vocabulary, words as
padded id sequences, a seeded split, and the bigram baseline.

A word is framed by the boundary token ``.`` (id 0): the model reads ``.`` and then the
letters, and at every step predicts the next letter, or ``.`` once the word is over::

    inputs   .  e  m  m  a
    targets  e  m  m  a  .      (then IGNORE up to the common length)
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

from ..tensor import Tensor

BOUNDARY = "."
#: Target id of the padding after a word's end: ``cross_entropy``'s default ignore_index.
IGNORE = -100


class CharVocabulary:
    """The boundary token (id 0) and the characters of a corpus, sorted."""

    def __init__(self, tokens: Iterable[str]) -> None:
        self.itos = (BOUNDARY,) + tuple(sorted(set(tokens) - {BOUNDARY}))
        self.stoi = {c: i for i, c in enumerate(self.itos)}

    @classmethod
    def from_words(cls, words: Iterable[str]) -> "CharVocabulary":
        return cls("".join(words))

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, word: str) -> list[int]:
        try:
            return [self.stoi[c] for c in word]
        except KeyError as error:
            raise ValueError(f"{word!r}: character {error.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids: Iterable[int]) -> str:
        """The letters up to the first boundary token."""
        out = []
        for i in ids:
            if int(i) == 0:
                break
            out.append(self.itos[int(i)])
        return "".join(out)


def encode_words(words: Sequence[str], vocab: CharVocabulary, length: int) -> tuple[Tensor, Tensor]:
    """``(inputs, targets)``, int64 ``(len(words), length)``: each word as the framed id
    sequence above, inputs padded with the boundary id, targets with ``IGNORE``.
    ``length`` must be at least the longest word's length + 1."""
    inputs = np.zeros((len(words), length), dtype=np.int64)
    targets = np.full((len(words), length), IGNORE, dtype=np.int64)
    for row, word in enumerate(words):
        if len(word) + 1 > length:
            raise ValueError(f"{word!r} needs {len(word) + 1} steps, more than the length {length}")
        ids = vocab.encode(word)
        inputs[row, 1:len(ids) + 1] = ids
        targets[row, :len(ids)] = ids
        targets[row, len(ids)] = 0
    return Tensor._wrap(inputs), Tensor._wrap(targets)


def split_words(words: Sequence[str], validation_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """``(train, validation)``: a seeded shuffle of ``words``, its first
    ``validation_fraction`` held out (at least one word each side)."""
    order = np.random.default_rng(seed).permutation(len(words))
    held = min(max(int(round(len(words) * validation_fraction)), 1), len(words) - 1)
    return [words[i] for i in order[held:]], [words[i] for i in order[:held]]


def bigram_table(words: Iterable[str], vocab: CharVocabulary, smoothing: float = 1.0) -> np.ndarray:
    """``P[a, b]``: the probability that token ``b`` follows ``a``, from the counts in
    ``words`` plus ``smoothing`` for every pair (so that no pair is impossible)."""
    counts = np.full((len(vocab), len(vocab)), smoothing, dtype=np.float64)
    for word in words:
        ids = [0] + vocab.encode(word) + [0]
        np.add.at(counts, (ids[:-1], ids[1:]), 1.0)
    return counts / counts.sum(axis=1, keepdims=True)


def bigram_loss(table: np.ndarray, words: Iterable[str], vocab: CharVocabulary) -> float:
    """The bigram model's mean cross-entropy (nats) per predicted token of ``words``: the
    letters and each word's end, as the sequence models are scored."""
    total, count = 0.0, 0
    for word in words:
        ids = [0] + vocab.encode(word) + [0]
        total -= float(np.log(table[ids[:-1], ids[1:]]).sum())
        count += len(ids) - 1
    return total / count if count else math.nan
