"""chainrule.random: CPU streams are PyTorch's (``tests/test_mt19937.py``), made on the first
draw (so that ``import chainrule`` does not pay for importing numpy.random)."""
from __future__ import annotations

import torch

import chainrule
from fresh_python import fresh_python


def test_import_leaves_numpy_random_unloaded_until_a_draw():
    code = ("import sys, chainrule\n"
            "print('numpy.random' in sys.modules)\n"
            "chainrule.manual_seed(3)\n"
            "print('numpy.random' in sys.modules)\n"
            "x = chainrule.rand(2)\n"
            "print('numpy.random' in sys.modules)\n")
    assert fresh_python(code) == ["False", "False", "True"]


def test_a_seed_gives_pytorchs_stream_whenever_the_stream_is_made():
    expected = torch.rand(4, generator=torch.Generator().manual_seed(5), dtype=torch.float64).tolist()
    g = chainrule.Generator().manual_seed(5)
    assert g.random(4).tolist() == expected
    chainrule.manual_seed(5)
    assert chainrule.default_generator.random(4).tolist() == expected


def test_state_round_trips_before_and_after_the_first_draw():
    fresh = chainrule.Generator().manual_seed(11)
    state = fresh.get_state()  # no draw yet
    first = fresh.random(3).tolist()
    again = chainrule.Generator().manual_seed(0).set_state(state)
    assert again.random(3).tolist() == first
    later = fresh.get_state()
    nxt = fresh.random(2).tolist()
    assert chainrule.Generator().set_state(later).random(2).tolist() == nxt
    assert fresh.initial_seed() == 11


def test_fork_rng_restores_the_cpu_stream():
    for lib in (torch, chainrule):
        lib.manual_seed(0)
        with lib.random.fork_rng():
            inside = lib.rand(3).tolist()
        assert lib.rand(3).tolist() == inside
        with lib.random.fork_rng(enabled=False):
            lib.rand(1)
        assert lib.rand(3).tolist() != inside


def test_set_rng_state_takes_pytorchs_argument_name():
    chainrule.manual_seed(3)
    state = chainrule.get_rng_state()
    first = chainrule.rand(2)
    chainrule.set_rng_state(new_state=state)
    assert chainrule.rand(2).tolist() == first.tolist()
