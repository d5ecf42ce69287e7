"""DistributedDataParallel as ``mpiexec`` jobs: weights bit-identical to one process
accumulating the same micro-batches, agreement with one full-batch process, identical
replicas at 2 and 4 ranks, its features (workers/ddp_features.py) and its errors.

The 640-step form of the exactness checks is ``benchmarks/ddp_exactness.py``; here 64 steps."""
from __future__ import annotations

import numpy as np
import pytest

from mpi_jobs import run, worker

TRAINING = worker("mlp_training.py")
STEPS = 64


def weights(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def relative_difference(a: dict, b: dict) -> float:
    return max(float(np.abs(a[k] - b[k]).max() / np.abs(b[k]).max()) for k in b)


@pytest.mark.parametrize("dtype,tolerance", [("float64", 1e-12), ("float32", 1e-5)])
def test_two_ranks_equal_one_process_accumulating_the_same_micro_batches(tmp_path, dtype, tolerance):
    options = ["--dtype", dtype, "--steps", STEPS]
    ddp = run([TRAINING, "ddp", *options, "--out", tmp_path / "ddp.npz"], n=2)
    assert ddp.returncode == 0, ddp.stderr
    accumulated = run([TRAINING, "accumulate", *options], n=None)
    full = run([TRAINING, "full", *options, "--out", tmp_path / "full.npz"], n=None)
    assert accumulated.returncode == 0 and full.returncode == 0, accumulated.stderr + full.stderr
    digests = {r["sha256"] for r in ddp.reports}
    assert len(ddp.reports) == 2 and digests == {accumulated.reports[0]["sha256"]}  # bit for bit
    assert full.reports[0]["sha256"] not in digests  # the full batch sums in another order ...
    assert relative_difference(weights(tmp_path / "ddp.npz"), weights(tmp_path / "full.npz")) <= tolerance  # ... only


def test_replicas_identical_at_four_ranks(tmp_path):
    job = run([TRAINING, "ddp", "--steps", 8, "--out", tmp_path / "ddp.npz"], n=4, timeout=120)
    assert job.returncode == 0, job.stderr
    assert len(job.reports) == 4 and len({r["sha256"] for r in job.reports}) == 1
    full = run([TRAINING, "full", "--steps", 8, "--out", tmp_path / "full.npz"], n=None)
    assert relative_difference(weights(tmp_path / "ddp.npz"), weights(tmp_path / "full.npz")) <= 1e-12


@pytest.fixture(scope="module")
def features():
    job = run([worker("ddp_features.py")], n=2)
    assert job.returncode == 0, job.stderr
    by_rank = job.by_rank()
    return by_rank[0], by_rank[1]


def test_construction_broadcasts_rank_0s_parameters_and_buffers(features):
    for r in features:
        rows = r["state_after_init"]
        assert rows[0] == rows[1]


def test_buffers_are_rank_0s_before_every_forward(features):
    for r in features:
        for before in r["buffers_before_forward"]:
            assert before[0] == before[1]
    # ... while each rank's forward updates them from its own batch in between.
    assert features[0]["buffers_before_forward"][1] != features[0]["buffers_before_forward"][0]


def test_state_dict_keys_carry_the_module_prefix(features):
    assert features[0]["state_dict_keys"] == ["module.0.weight", "module.0.bias", "module.1.weight"]


def test_no_sync_accumulates_locally_then_the_next_backward_reduces_the_sum(features):
    for r in features:
        assert r["no_sync_equal_local"] is True
        assert r["after_no_sync_synced"] is True


def test_several_buckets_and_bucket_views_give_the_same_gradients(features):
    for r in features:
        assert (r["buckets_one"], r["buckets_many"], r["buckets_views"]) == (1, 3, 3)
        assert r["bucketing_same_values"] is True


def test_find_unused_parameters(features):
    rank0, rank1 = features
    assert rank0["never_grad"] and rank1["never_grad"]  # unused everywhere: no gradient at all
    # `odd` is used on rank 1 only: both ranks get rank 1's gradient over the world size.
    expected = np.array(rank1["odd_local_grad"]) / 2
    for r in features:
        np.testing.assert_array_equal(np.array(r["odd_grad"]), expected)


def test_an_unused_parameter_raises_pytorchs_error_naming_find_unused_parameters():
    job = run([worker("ddp_errors.py"), "unused"], n=2)
    assert job.returncode != 0
    assert "RuntimeError: Expected to have finished reduction in the prior iteration before starting a new one." \
        in job.stderr
    assert "`find_unused_parameters=True`" in job.stderr
    assert "Parameter indices which did not receive grad for rank 0: 2 3" in job.stderr
    assert "Parameters which did not receive grad for rank 1: unused.weight, unused.bias" in job.stderr


def test_models_that_differ_across_ranks_are_refused():
    job = run([worker("ddp_errors.py"), "shapes"], n=2)
    assert job.returncode != 0
    assert "DDP expects same model across all ranks, but parameter weight has shape [2, 4]" in job.stderr
