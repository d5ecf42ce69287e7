"""The contract, end to end: each program in ``programs/`` is PyTorch code, executed as is
once with the real torch and once with ``torch`` bound to chainrule; both runs print and
return the same numbers (see ``runner.py``)."""
from __future__ import annotations

import pytest

from .runner import PROGRAMS, compare, compare_stdout, execute

# Per-program options: exact printed text (repr strings), or a looser tolerance where a
# float32 training loop runs many steps.
OPTIONS: dict[str, dict] = {
    "p01_classic_example": {"exact_stdout": True},
    "p25_printing": {"exact_stdout": True},
    "p76_profiler": {"exact_stdout": True},
    # Adamax divides by |g| + eps: where a gradient is ~0 its last-bit differences (a norm
    # summed in another order) show in the 8th digit of the weights.
    "p57_metric_learning_and_gan_pieces": {"rtol": 1e-6, "atol": 1e-9},
    # Adam on a mixture's logits: last-bit differences of log_softmax grow to 1e-8 in 60 steps.
    "p64_probabilistic_models": {"rtol": 1e-6, "atol": 1e-9},
    # L-BFGS with a strong-Wolfe search on the KAN's splines amplifies rounding: PyTorch's own runs
    # differ from each other by up to 1e-6 there (its threaded float64 reductions).
    "p101_moe_and_kan": {"rtol": 1e-5, "atol": 1e-6},
}

NAMES = sorted(p.stem for p in PROGRAMS.glob("p*.py"))


def test_there_are_enough_programs():
    assert len(NAMES) >= 25


@pytest.mark.parametrize("name", NAMES)
def test_program(name):
    path = PROGRAMS / f"{name}.py"
    source = path.read_text()
    options = OPTIONS.get(name, {})
    expected_out, expected = execute(source, "torch", str(path))
    actual_out, actual = execute(source, "chainrule", str(path))
    assert expected, f"{name} returns no results"
    rtol, atol = options.get("rtol"), options.get("atol")
    if options.get("exact_stdout"):
        assert actual_out.replace("chainrule.", "torch.") == expected_out
    else:
        compare_stdout(expected_out, actual_out, rtol, atol)
    compare(expected, actual, "results", rtol, atol)
