"""torch.utils.benchmark.Timer: what each way of timing measures (never how fast)."""
from __future__ import annotations

import re

import pytest

import chainrule
from chainrule.utils.benchmark import Measurement, Timer


def _fake_clock():
    """(clock, globals): a clock that only the statement ``tick()`` advances, by 1 us a run."""
    state = {"now": 0.0}

    def tick():
        state["now"] += 1e-6

    return (lambda: state["now"]), {"tick": tick}


def test_timeit_runs_a_warm_up_then_one_block():
    calls = []
    m = Timer("f()", globals={"f": lambda: calls.append(1)}, label="L", sub_label="s",
              description="d").timeit(300)
    assert len(calls) == 3 + 300  # warm-up: a hundredth of the runs
    assert isinstance(m, Measurement) and m.number_per_run == 300 and len(m.raw_times) == 1
    assert m.times == [m.raw_times[0] / 300] and m.median == m.mean == m.times[0] and m.iqr == 0.0
    assert (m.label, m.sub_label, m.description, m.title, m.num_threads) == ("L", "s", "d", "L: s", 1)


def test_statements_see_setup_globals_and_torch():
    m = Timer("y = torch.ones(n) * k", setup="k = 2", globals={"n": 3}).timeit(2)
    assert m.stmt == "y = torch.ones(n) * k" and m.setup == "k = 2"


def test_blocked_autorange_fills_min_run_time_with_blocks():
    clock, names = _fake_clock()
    m = Timer("tick()", timer=clock, globals=names).blocked_autorange(min_run_time=2e-5)
    assert m.number_per_run == 10  # the first size whose timer overhead (1 ns) is under 1e-4 of a block
    assert m.raw_times == pytest.approx([1e-5, 1e-5])


def test_adaptive_autorange_stops_when_the_spread_is_small():
    clock, names = _fake_clock()
    m = Timer("tick()", timer=clock, globals=names).adaptive_autorange(min_run_time=1e-6)
    assert m.number_per_run == 100  # blocks of at least 50 ms / 1000
    assert len(m.raw_times) == 4 and m.iqr == pytest.approx(0.0, abs=1e-15)  # the first time it may stop (more than three blocks)


def test_repr_has_pytorchs_layout():
    m = Measurement(10, [2e-5, 3e-5, 2e-5, 4e-5], Timer("x + 1", setup="x = 1").task_spec)
    lines = repr(m).splitlines()
    assert re.fullmatch(r"<chainrule\.utils\.benchmark\.common\.Measurement object at 0x[0-9a-f]+>", lines[0])
    assert lines[1:] == ["x + 1", "setup: x = 1", "  Median: 2.50 us", "  IQR:    1.25 us (2.00 to 3.25)",
                         "  4 measurements, 10 runs per measurement, 1 thread",
                         "  WARNING: Interquartile range is 50.0% of the median measurement.",
                         "           This suggests significant environmental influence."]
    single = Measurement(100, [1e-3], Timer("pass", num_threads=2).task_spec)
    assert repr(single).splitlines()[1:] == ["pass", "  10.00 us", "  1 measurement, 100 runs , 2 threads"]


def test_bad_statements_are_refused():
    with pytest.raises(ValueError, match="only a `str` stmt"):
        Timer(lambda: None)
    with pytest.raises(ValueError, match="global_setup is C\\+\\+ only"):
        Timer("pass", global_setup="int x;")
    with pytest.raises(ValueError, match="Python statements only"):
        Timer("pass", language="cpp")
    with pytest.raises(NotImplementedError, match="blocked_autorange"):
        Timer("pass").repeat()


def test_num_threads_is_set_while_timing_and_restored():
    before = chainrule.get_num_threads()
    seen = []
    Timer("seen.append(torch.get_num_threads())", globals={"seen": seen}, num_threads=1).timeit(2)
    assert set(seen) == {1} and chainrule.get_num_threads() == before
