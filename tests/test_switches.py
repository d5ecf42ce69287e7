"""The process-wide switches (chainrule.switches), dtype limits and memory formats, against
PyTorch's."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule


@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo_is_pytorchs(name):
    ours, theirs = chainrule.finfo(getattr(chainrule, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_is_pytorchs(name):
    ours, theirs = chainrule.iinfo(getattr(chainrule, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.min, ours.max, ours.dtype) == (theirs.bits, theirs.min, theirs.max, theirs.dtype)
    assert repr(ours) == repr(theirs)


def test_info_errors_and_the_default():
    assert chainrule.finfo().dtype == "float32"
    with pytest.raises(TypeError, match="torch.finfo\\(\\) requires a floating point input type"):
        chainrule.finfo(chainrule.int32)
    with pytest.raises(TypeError, match="torch.iinfo\\(\\) requires an integer input type"):
        chainrule.iinfo(chainrule.float32)


@pytest.mark.parametrize("make", [
    lambda lib: lib.zeros(2, 3, 4, 5),
    lambda lib: lib.zeros(2, 4, 5, 3).permute(0, 3, 1, 2),
    lambda lib: lib.zeros(2, 3, 4, 5, 6).permute(0, 1, 2, 3, 4),
    lambda lib: lib.zeros(2, 4, 5, 6, 3).permute(0, 4, 1, 2, 3),
    lambda lib: lib.zeros(3, 4),
])
def test_is_contiguous_reads_the_memory_format_as_pytorch(make):
    ours, theirs = make(chainrule), make(torch)
    for name in ("contiguous_format", "channels_last", "channels_last_3d"):
        if ours.ndim < 4 and name != "contiguous_format":
            continue  # PyTorch raises for a format of another rank; chainrule answers False
        assert ours.is_contiguous(memory_format=getattr(chainrule, name)) == \
            theirs.is_contiguous(memory_format=getattr(torch, name)), name
    assert repr(chainrule.channels_last) == repr(torch.channels_last)


def test_switches_are_kept_and_read_back():
    try:
        chainrule.set_float32_matmul_precision("medium")
        assert chainrule.get_float32_matmul_precision() == "medium"
        with pytest.warns(UserWarning, match="fast is not one of 'highest', 'high', or 'medium'"):
            chainrule.set_float32_matmul_precision("fast")
        assert chainrule.get_float32_matmul_precision() == "medium"
        chainrule.use_deterministic_algorithms(True, warn_only=True)
        assert chainrule.are_deterministic_algorithms_enabled()
        assert chainrule.is_deterministic_algorithms_warn_only_enabled()
    finally:
        chainrule.set_float32_matmul_precision("highest")
        chainrule.use_deterministic_algorithms(False)
    assert not chainrule.are_deterministic_algorithms_enabled()


def test_set_num_threads_sets_the_blas_threads():
    from threadpoolctl import threadpool_info

    before = chainrule.get_num_threads()
    try:
        chainrule.set_num_threads(1)
        assert chainrule.get_num_threads() == 1
        numpy_blas = [pool for pool in threadpool_info() if "numpy.libs" in pool["filepath"]]
        assert numpy_blas and all(pool["num_threads"] == 1 for pool in numpy_blas)  # (not PyTorch's own)
    finally:
        chainrule.set_num_threads(before)
    with pytest.raises(RuntimeError, match="set_num_threads expects a positive integer"):
        chainrule.set_num_threads(0)


def test_backends_flags_and_answers():
    backends = chainrule.backends
    assert not backends.cudnn.is_available() and not backends.mps.is_available()
    assert backends.cudnn.version() is None and backends.cpu.get_cpu_capability() == "DEFAULT"
    assert backends.mkl.is_available() == (chainrule.gemm.backend() == "mkl")
    before = backends.cudnn.benchmark
    try:
        backends.cudnn.benchmark = True
        assert chainrule.backends.cudnn.benchmark
    finally:
        backends.cudnn.benchmark = before


def test_bfloat16_compares_hashes_and_copies_as_a_dtype():
    import copy
    import pickle

    assert chainrule.float32 != chainrule.bfloat16 and chainrule.bfloat16 == chainrule.bfloat16
    assert chainrule.float32 not in (chainrule.float16, chainrule.bfloat16)
    assert {chainrule.bfloat16: 1}[chainrule.bfloat16] == 1
    assert copy.deepcopy(chainrule.bfloat16) is chainrule.bfloat16
    assert pickle.loads(pickle.dumps(chainrule.bfloat16)) is chainrule.bfloat16
    assert repr(chainrule.finfo(chainrule.bfloat16)) == repr(torch.finfo(torch.bfloat16))
    assert repr(chainrule.finfo(chainrule.complex64)) == repr(torch.finfo(torch.complex64))
    with pytest.raises(TypeError, match="torch.bool is not supported by torch.iinfo"):
        chainrule.iinfo(chainrule.bool)


def test_set_num_threads_refuses_a_float():
    with pytest.raises(RuntimeError, match="set_num_threads expects an int, but got float"):
        chainrule.set_num_threads(2.5)
