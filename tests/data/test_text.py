"""chainrule.data.text and the embedded names: vocabulary, framing, split, bigram baseline."""
import math

import numpy as np
import pytest

from chainrule.data import text
from chainrule.datasets import names


def test_embedded_names():
    words = names()
    assert len(words) == 5163 == len(set(words))
    assert words == sorted(words) and words[:2] == ["aaron", "abbey"]
    assert set("".join(words)) == set("abcdefghijklmnopqrstuvwxyz")
    assert max(map(len, words)) == 11


def test_vocabulary_and_framing():
    vocab = text.CharVocabulary.from_words(["emma", "bo"])
    assert vocab.itos == (".", "a", "b", "e", "m", "o") and len(vocab) == 6
    x, y = text.encode_words(["emma", "bo"], vocab, 6)
    assert x.numpy().tolist() == [[0, 3, 4, 4, 1, 0], [0, 2, 5, 0, 0, 0]]
    assert y.numpy().tolist() == [[3, 4, 4, 1, 0, -100], [2, 5, 0, -100, -100, -100]]
    assert vocab.decode([3, 4, 4, 1, 0, 2]) == "emma"
    with pytest.raises(ValueError, match="'emma' needs 5 steps, more than the length 4"):
        text.encode_words(["emma"], vocab, 4)
    with pytest.raises(ValueError, match="character 'z' is not in the vocabulary"):
        vocab.encode("zoe")


def test_split_is_seeded_and_disjoint():
    words = [f"w{i}" for i in range(50)]
    train, held = text.split_words(words, 0.1, seed=3)
    assert len(held) == 5 and len(train) == 45 and not set(train) & set(held)
    assert (train, held) == text.split_words(words, 0.1, seed=3)
    assert held != text.split_words(words, 0.1, seed=4)[1]


def test_bigram_loss_by_hand():
    vocab = text.CharVocabulary.from_words(["ab"])
    table = text.bigram_table(["ab", "ab", "b"], vocab, smoothing=1.0)
    # counts + 1: from "." -> a 2+1, b 1+1, . 0+1; a -> b 2+1; b -> . 3+1
    assert table[0].tolist() == pytest.approx([1 / 6, 3 / 6, 2 / 6])
    assert table[1].tolist() == pytest.approx([1 / 5, 1 / 5, 3 / 5])
    expected = -(math.log(3 / 6) + math.log(3 / 5) + math.log(4 / 6)) / 3
    assert text.bigram_loss(table, ["ab"], vocab) == pytest.approx(expected)
    assert np.allclose(table.sum(axis=1), 1)
