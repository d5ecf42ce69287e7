"""torch.autograd.profiler: the one-block profile, record_function, the NVTX/ITT no-ops."""
from __future__ import annotations

import json

import pytest

import chainrule
from chainrule.profiler.legacy import emit_itt, emit_nvtx, profile, record_function


def test_one_block_profile_with_a_table_and_a_trace(tmp_path):
    x = chainrule.ones(2, 3, requires_grad=True)
    with profile(use_cuda=False, record_shapes=True, profile_memory=True) as prof:
        with record_function("loss"):
            loss = (x * 3.0).sum()
        loss.backward()
    names = [e.key for e in prof.key_averages()]
    assert names == ["loss", "aten::mul", "aten::sum", "autograd::engine::evaluate_function: SumBackward0",
                     "SumBackward0", "autograd::engine::evaluate_function: MulBackward0", "MulBackward0"]
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=3)
    assert table.splitlines()[1].split() == ["Name", "Self", "CPU", "%", "Self", "CPU", "CPU", "total", "%", "CPU",
                                             "total", "CPU", "time", "avg", "CPU", "Mem", "Self", "CPU", "Mem",
                                             "#", "of", "Calls"]
    assert len(table.splitlines()) == 3 + 3 + 2
    assert prof.total_average().count == len(prof.events()) == 7
    assert prof.self_cpu_time_total > 0
    prof.export_chrome_trace(str(tmp_path / "t.json"))
    assert len(json.loads((tmp_path / "t.json").read_text())["traceEvents"]) == 7
    assert str(prof).startswith("-")


def test_disabled_profile_records_nothing_and_reading_early_fails():
    with profile(enabled=False) as prof:
        chainrule.ones(2).exp()
    with pytest.raises(RuntimeError, match="didn't finish"):
        prof.key_averages()
    running = profile()
    with running, pytest.raises(RuntimeError, match="not reentrant"):
        running.__enter__()


def test_emitters_are_no_op_contexts():
    with emit_nvtx(), emit_itt(record_shapes=True):
        assert chainrule.ones(2).exp().shape == (2,)
