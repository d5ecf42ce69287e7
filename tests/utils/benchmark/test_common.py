"""Measurement statistics and units, against PyTorch's own Measurement."""
from __future__ import annotations

import pytest
import torch.utils.benchmark as torch_benchmark
from torch.utils.benchmark.utils import common as torch_common

from chainrule.utils.benchmark import Measurement, TaskSpec
from chainrule.utils.benchmark.common import select_unit, trim_sigfig

TIMES = [3.1e-6, 2.9e-6, 3.4e-6, 2.7e-6, 5.0e-6, 3.0e-6, 3.2e-6]


def test_statistics_are_pytorchs():
    ours = Measurement(5, TIMES, TaskSpec("x", "pass"))
    theirs = torch_common.Measurement(5, TIMES, torch_common.TaskSpec("x", "pass"))
    for name in ("median", "mean", "iqr", "significant_figures", "has_warnings", "times"):
        assert getattr(ours, name) == pytest.approx(getattr(theirs, name), rel=1e-12), name
    assert repr(ours).splitlines()[1:] == repr(theirs).splitlines()[1:]


def test_merge_makes_single_run_measurements_per_task():
    spec = TaskSpec("x", "pass", label="a")
    merged = Measurement.merge([Measurement(2, [4.0], spec), Measurement(1, [1.0, 3.0], spec),
                                Measurement(1, [9.0], TaskSpec("y", "pass"))])
    assert [(m.stmt, m.number_per_run, m.times) for m in merged] == [("x", 1, [2.0, 1.0, 3.0]), ("y", 1, [9.0])]


@pytest.mark.parametrize("t", [3e-9, 4.5e-7, 1.2e-4, 0.02, 7.0])
def test_units_are_pytorchs(t):
    assert select_unit(t) == torch_common.select_unit(t)


@pytest.mark.parametrize("x,n", [(3.14159, 2), (123456.0, 3), (0.00987, 1)])
def test_trim_sigfig_is_pytorchs(x, n):
    assert trim_sigfig(x, n) == pytest.approx(torch_common.trim_sigfig(x, n))


def test_task_spec_title_and_summary_are_pytorchs():
    for kwargs in (dict(stmt="a\nb", setup="s1\ns2", sub_label="z"), dict(stmt="f()", setup="pass", description="D")):
        assert TaskSpec(**kwargs).summarize() == torch_benchmark.utils.common.TaskSpec(**kwargs).summarize()
