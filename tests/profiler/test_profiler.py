"""torch.profiler's profile: schedules (which steps record, when on_trace_ready runs), Chrome
traces written by export_chrome_trace and tensorboard_trace_handler, and the aliases."""
from __future__ import annotations

import gzip
import json
import os
import warnings

import pytest
import torch
import torch.profiler

import chainrule
from chainrule.profiler import ProfilerAction, ProfilerActivity, profile, record_function, schedule


@pytest.mark.parametrize("options", [dict(wait=1, warmup=1, active=2), dict(wait=0, warmup=2, active=1, repeat=2),
                                     dict(wait=2, warmup=1, active=3, repeat=1, skip_first=3),
                                     dict(wait=5, warmup=1, active=2, skip_first=2, skip_first_wait=1)])
def test_schedule_actions_are_pytorchs(options):
    ours, theirs = schedule(**options), torch.profiler.schedule(**options)
    assert [ours(s).name for s in range(30)] == [theirs(s).name for s in range(30)]


def test_schedule_rejects_bad_arguments_and_warns_without_warmup():
    with pytest.raises(ValueError, match="active=0"):
        schedule(wait=1, warmup=1, active=0)
    with pytest.warns(UserWarning, match="warmup"):
        schedule(wait=1, warmup=0, active=1)


def _windows(lib, options, steps):
    """(step at which on_trace_ready ran, the recorded ProfilerStep count, exp calls) per window."""
    found = []

    def ready(prof):
        counts = {e.key: e.count for e in prof.key_averages()}
        found.append((prof.step_num, counts.get("ProfilerStep*", 0), counts.get("aten::exp", 0)))

    x = lib.ones(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with lib.profiler.profile(schedule=lib.profiler.schedule(**options), on_trace_ready=ready) as prof:
            for _ in range(steps):
                x.exp()
                prof.step()
    return found, prof.step_num


@pytest.mark.parametrize("options,steps", [(dict(wait=1, warmup=1, active=2, repeat=2), 10),
                                           (dict(wait=1, warmup=1, active=2), 7),
                                           (dict(wait=0, warmup=1, active=3, skip_first=1), 6)])
def test_recorded_steps_and_trace_ready_calls_are_pytorchs(options, steps):
    assert _windows(chainrule, options, steps) == _windows(torch, options, steps)


def test_without_a_schedule_the_whole_block_is_recorded_once():
    calls = []
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA], on_trace_ready=calls.append) as prof:
        chainrule.ones(2).exp()
        prof.step()
        chainrule.ones(2).exp()
    assert calls == [prof] and [e.name for e in prof.events()] == ["aten::exp", "aten::exp"]
    assert prof.current_action is ProfilerAction.RECORD


def test_export_chrome_trace_writes_complete_events(tmp_path):
    with profile() as prof:
        with record_function("block"):
            chainrule.ones(3).exp().sum()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    events = trace["traceEvents"]
    assert [e["name"] for e in events] == ["block", "aten::exp", "aten::sum"]
    for e in events:
        assert e["ph"] == "X" and e["pid"] == os.getpid() and isinstance(e["tid"], int)
        assert e["dur"] >= 0 and e["ts"] >= 0
    block, exp, total = events
    assert block["cat"] == "user_annotation" and exp["cat"] == "cpu_op"
    assert block["ts"] <= exp["ts"] and exp["ts"] + exp["dur"] <= block["ts"] + block["dur"]
    assert os.listdir(tmp_path) == ["trace.json"]  # the temporary file was renamed


def test_tensorboard_trace_handler_writes_one_trace_per_window(tmp_path):
    folder = tmp_path / "log"
    handler = chainrule.profiler.tensorboard_trace_handler(str(folder), worker_name="w0")
    with profile(schedule=schedule(wait=0, warmup=1, active=1, repeat=2), on_trace_ready=handler) as prof:
        for _ in range(5):
            chainrule.ones(2).exp()
            prof.step()
    names = sorted(os.listdir(folder))
    assert len(names) == 2 and all(n.startswith("w0.") and n.endswith(".pt.trace.json") for n in names)
    # (told apart by their steps: the names hold the wall clock, which may step back between windows)
    windows = sorted([e["name"] for e in json.loads((folder / n).read_text())["traceEvents"]] for n in names)
    assert windows == [["ProfilerStep#1", "aten::exp"], ["ProfilerStep#3", "aten::exp"]]
    zipped = chainrule.profiler.tensorboard_trace_handler(str(folder / "gz"), use_gzip=True)
    zipped(prof)
    (name,) = os.listdir(folder / "gz")
    assert name.endswith(".pt.trace.json.gz")
    assert json.loads(gzip.decompress((folder / "gz" / name).read_bytes()))["traceEvents"]


def test_reading_results_before_a_window_finished_is_an_error():
    prof = profile()
    with pytest.raises(AssertionError, match="initialized"):
        prof.key_averages()


def test_torch_names_import_under_the_alias():
    from chainrule.torch_alias import aliased

    namespace: dict = {}
    with aliased():
        exec("import torch.profiler\nfrom torch.profiler import profile, record_function, ProfilerActivity\n"
             "import torch.autograd.profiler as legacy\nimport torch.utils.benchmark as benchmark\n"
             "from torch.autograd.profiler import emit_nvtx", namespace)
    assert namespace["profile"] is profile and namespace["torch"].profiler is chainrule.profiler
    assert namespace["legacy"] is chainrule.profiler.autograd_profiler
    assert namespace["benchmark"] is chainrule.utils.benchmark
    assert chainrule.autograd.profiler is chainrule.profiler.autograd_profiler
