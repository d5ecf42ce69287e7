"""Events, their averages and PyTorch's table and time/memory formats."""
from __future__ import annotations

import re

import pytest
import torch
import torch.autograd.profiler_util as torch_util

import chainrule
from chainrule.profiler.events import EventList, FunctionEvent, format_memory, format_time


def _events():
    outer = FunctionEvent(0, "block", 1, 0.0, 100.0, is_user_annotation=True)
    first = FunctionEvent(1, "aten::exp", 1, 10.0, 40.0, input_shapes=[[2, 3]], cpu_memory_usage=24)
    second = FunctionEvent(2, "aten::exp", 1, 50.0, 60.0, input_shapes=[[4]], cpu_memory_usage=16)
    for child in (first, second):
        outer.append_child(child)
    return EventList([outer, first, second], profile_memory=True)


def test_self_time_and_averages():
    events = _events()
    assert events[0].self_cpu_time_total == 60.0 and events[0].self_cpu_memory_usage == -40
    averages = events.key_averages()
    assert [(a.key, a.count, a.cpu_time_total, a.self_cpu_time_total, a.cpu_time) for a in averages] == [
        ("block", 1, 100.0, 60.0, 100.0), ("aten::exp", 2, 40.0, 40.0, 20.0)]
    assert [a.key for a in events.key_averages(group_by_input_shape=True)] == ["block", "aten::exp", "aten::exp"]
    total = averages.total_average()
    assert (total.key, total.count, total.self_cpu_time_total) == ("Total", 3, 100.0)
    assert events.self_cpu_time_total == 100.0


def test_table_layout():
    table = _events().key_averages().table(sort_by="self_cpu_time_total", row_limit=1)
    separator = "-" * 13 + "  " + ("-" * 12 + "  ") * 8
    assert table.splitlines() == [
        separator,
        "         Name    Self CPU %      Self CPU   CPU total %     CPU total  CPU time avg       CPU Mem  "
        "Self CPU Mem    # of Calls  ",
        separator,
        "        block        60.00%      60.000us       100.00%     100.000us     100.000us           0 B  "
        "       -40 B             1  ",
        separator,
        "Self CPU time total: 100.000us",
    ]


def test_table_columns_are_pytorchs():
    with chainrule.profiler.profile(record_shapes=True) as ours, torch.profiler.profile(record_shapes=True) as theirs:
        pass
    x, y = chainrule.ones(2), torch.ones(2)
    with chainrule.profiler.profile(record_shapes=True) as ours:
        x.exp()
    with torch.profiler.profile(record_shapes=True) as theirs:
        y.exp()

    def headers(prof, **options):
        return re.split(r"\s{2,}", prof.key_averages(**options).table().splitlines()[1].strip())

    assert headers(ours) == headers(theirs)
    assert headers(ours, group_by_input_shape=True) == headers(theirs, group_by_input_shape=True)
    assert "Input Shapes" in headers(ours, group_by_input_shape=True)


def test_table_rejects_an_unknown_sort_key():
    with pytest.raises(AttributeError, match="no attribute 'cpu_speed'"):
        _events().table(sort_by="cpu_speed")


@pytest.mark.parametrize("us", [0.5, 999.9994, 1234.5, 2.5e6])
def test_time_format_is_pytorchs(us):
    assert format_time(us) == torch_util._format_time(us)


@pytest.mark.parametrize("nbytes", [0, 1023, 1024, 3 * 1024 ** 2 + 5, -2048, 5 * 1024 ** 3])
def test_memory_format_is_pytorchs(nbytes):
    assert format_memory(nbytes) == torch_util._format_memory(nbytes)
