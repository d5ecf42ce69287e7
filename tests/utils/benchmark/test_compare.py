"""Compare's tables, against PyTorch's for the same measurements."""
from __future__ import annotations

import pytest
from torch.utils.benchmark.utils import common as torch_common
from torch.utils.benchmark.utils import compare as torch_compare

from chainrule.utils.benchmark import Compare
from chainrule.utils.benchmark import common as our_common

ROWS = [("n=1", 1, "a", [1.2e-6, 1.3e-6, 1.25e-6, 1.21e-6]), ("n=1", 1, "b", [2.4e-6, 2.5e-6, 2.45e-6, 2.6e-6]),
        ("n=100", 1, "a", [13.1e-6, 13.2e-6, 13.0e-6, 13.4e-6]), ("n=100", 1, "b", [30e-6, 31e-6, 29e-6, 45e-6]),
        ("n=1", 4, "a", [1.1e-6, 1.2e-6, 1.15e-6, 1.1e-6])]


def _results(module):
    """ROWS under the label "add", and one more table (label "other") of one measurement."""
    return [module.Measurement(1, times, module.TaskSpec("x + 1", "pass", label="add", sub_label=sub,
                                                          description=desc, num_threads=threads))
            for sub, threads, desc, times in ROWS] + [
        module.Measurement(1, [5e-3], module.TaskSpec("y", "pass", label="other", description="c"))]


@pytest.mark.parametrize("styles", [(), ("trim_significant_figures",), ("colorize",), ("highlight_warnings",),
                                    ("trim_significant_figures", "colorize", "highlight_warnings")])
def test_tables_are_pytorchs(styles):
    ours, theirs = Compare(_results(our_common)), torch_compare.Compare(_results(torch_common))
    for style in styles:
        getattr(ours, style)()
        getattr(theirs, style)()
    assert str(ours) == str(theirs)


def test_print_and_bad_results(capsys):
    Compare(_results(our_common)).print()
    assert capsys.readouterr().out.startswith("[-")
    with pytest.raises(ValueError, match="Expected an instance of `Measurement`"):
        Compare([1.0])
