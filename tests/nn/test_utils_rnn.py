"""nn.utils.rnn (padding and packing sequences) against PyTorch: values, batch sizes,
permutations, lengths and gradients."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from chainrule.nn.utils import rnn as c_rnn
from conftest import assert_close

t_rnn = torch.nn.utils.rnn


def sequences(lengths, features=(2,), seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((n,) + features) for n in lengths]
    c = [chainrule.tensor(a, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, requires_grad=True) for a in arrays]
    return c, t


def check_grads(c_out, t_out, c_leaves, t_leaves, seed=1):
    upstream = np.random.default_rng(seed).standard_normal(tuple(t_out.shape))
    t_out.backward(torch.tensor(upstream))
    c_out.backward(chainrule.tensor(upstream))
    for c, t in zip(c_leaves, t_leaves):
        assert_close(c.grad, t.grad)


@pytest.mark.parametrize("batch_first", (False, True))
@pytest.mark.parametrize("padding_side", ("right", "left"))
def test_pad_sequence(batch_first, padding_side):
    c, t = sequences([3, 5, 1])
    c_out = c_rnn.pad_sequence(c, batch_first=batch_first, padding_value=-2.0, padding_side=padding_side)
    t_out = t_rnn.pad_sequence(t, batch_first=batch_first, padding_value=-2.0, padding_side=padding_side)
    assert_close(c_out, t_out)
    check_grads(c_out, t_out, c, t)


@pytest.mark.parametrize("batch_first", (False, True))
@pytest.mark.parametrize("lengths, enforce_sorted", [([5, 3, 3, 1], True), ([3, 5, 1, 3], False),
                                                      ([2, 2, 2], False), ([4], True)])
def test_pack_and_pad_packed_round_trip(batch_first, lengths, enforce_sorted):
    rng = np.random.default_rng(2)
    shape = (len(lengths), max(lengths), 3) if batch_first else (max(lengths), len(lengths), 3)
    array = rng.standard_normal(shape)
    cx, tx = chainrule.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)
    c_packed = c_rnn.pack_padded_sequence(cx, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    t_packed = t_rnn.pack_padded_sequence(tx, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    assert isinstance(c_packed, tuple) and c_packed._fields == t_packed._fields
    assert_close(c_packed.data, t_packed.data)
    assert_close(c_packed.batch_sizes, t_packed.batch_sizes)
    assert c_packed.batch_sizes.dtype == chainrule.int64
    for name in ("sorted_indices", "unsorted_indices"):
        c_index, t_index = getattr(c_packed, name), getattr(t_packed, name)
        assert (c_index is None) == (t_index is None)
        if t_index is not None:
            assert_close(c_index, t_index)
    c_padded, c_lengths = c_rnn.pad_packed_sequence(c_packed, batch_first=batch_first, padding_value=9.0,
                                                    total_length=max(lengths) + 1)
    t_padded, t_lengths = t_rnn.pad_packed_sequence(t_packed, batch_first=batch_first, padding_value=9.0,
                                                    total_length=max(lengths) + 1)
    assert_close(c_padded, t_padded)
    assert_close(c_lengths, t_lengths)
    assert c_lengths.dtype == chainrule.int64
    check_grads(c_padded, t_padded, [cx], [tx])


@pytest.mark.parametrize("enforce_sorted", (True, False))
def test_pack_sequence_and_unpack(enforce_sorted):
    lengths = [4, 2, 1] if enforce_sorted else [2, 4, 1]
    c, t = sequences(lengths, features=(3,), seed=3)
    c_packed = c_rnn.pack_sequence(c, enforce_sorted=enforce_sorted)
    t_packed = t_rnn.pack_sequence(t, enforce_sorted=enforce_sorted)
    assert_close(c_packed.data, t_packed.data)
    assert_close(c_packed.batch_sizes, t_packed.batch_sizes)
    c_back = c_rnn.unpack_sequence(c_packed)
    t_back = t_rnn.unpack_sequence(t_packed)
    assert len(c_back) == len(t_back)
    for a, b in zip(c_back, t_back):
        assert_close(a, b)
    check_grads(c_packed.data, t_packed.data, c, t)


def test_unpad_sequence():
    c, t = sequences([3, 1, 2], seed=4)
    c_padded, t_padded = c_rnn.pad_sequence(c), t_rnn.pad_sequence(t)
    for a, b in zip(c_rnn.unpad_sequence(c_padded, chainrule.tensor([3, 1, 2])),
                    t_rnn.unpad_sequence(t_padded, torch.tensor([3, 1, 2]))):
        assert_close(a, b)


def test_unpad_sequence_copies_by_a_mask_and_transposes_its_input_in_place():
    """As PyTorch's: the pieces are copies (IndexBackward0, writing one leaves the padded
    tensor alone), a time-first input is left batch-first, and lengths must match the batch."""
    c, t = sequences([3, 1, 2], seed=5)
    c_padded, t_padded = c_rnn.pad_sequence(c), t_rnn.pad_sequence(t)
    c_out = c_rnn.unpad_sequence(c_padded, chainrule.tensor([3, 1, 2]))
    t_out = t_rnn.unpad_sequence(t_padded, torch.tensor([3, 1, 2]))
    assert tuple(c_padded.shape) == tuple(t_padded.shape) == (3, 3, 2)
    assert [o.grad_fn.name() for o in c_out] == [o.grad_fn.name() for o in t_out] == ["IndexBackward0"] * 3
    check_grads(c_out[2], t_out[2], c[2:], t[2:])
    with chainrule.no_grad():
        c_out[0][0, 0] = 100.0
    assert c_padded[0, 0, 0].item() != 100.0
    with pytest.raises(ValueError):
        c_rnn.unpad_sequence(c_padded, chainrule.tensor([3, 1]), batch_first=True)


def test_invert_permutation_and_packed_sequence_conversions():
    perm = chainrule.tensor([2, 0, 1])
    assert_close(c_rnn.invert_permutation(perm), t_rnn.invert_permutation(torch.tensor([2, 0, 1])))
    assert c_rnn.invert_permutation(None) is None
    packed = c_rnn.pack_sequence([chainrule.ones(2, 1), chainrule.ones(1, 1)])
    assert packed.double().data.dtype == chainrule.float64
    assert packed.double().float().data.dtype == chainrule.float32
    assert packed.to(chainrule.float64).batch_sizes is packed.batch_sizes
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    assert sorted_indices is None and unsorted_indices is None
    assert c_rnn.PackedSequence((data, batch_sizes)).data is data


def test_errors_match_torch():
    for lib, utils in ((torch, t_rnn), (chainrule, c_rnn)):
        x = lib.zeros(3, 2, 1)
        with pytest.raises(RuntimeError, match="`lengths` array must be sorted in decreasing order"):
            utils.pack_padded_sequence(x, [1, 3])
        with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
            utils.pack_padded_sequence(x, [3, 0])
        packed = utils.pack_padded_sequence(x, [3, 2])
        with pytest.raises(ValueError, match="Expected total_length to be at least the length of the longest"):
            utils.pad_packed_sequence(packed, total_length=2)
