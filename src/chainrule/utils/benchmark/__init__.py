"""``torch.utils.benchmark`` for chainrule: time statements (:class:`Timer`, on
:mod:`timeit`) and compare the results (:class:`Compare`).

>>> m = Timer("x * 2", globals={"x": torch.ones(8)}).blocked_autorange(min_run_time=0.1)
>>> m.median  # seconds per run
"""
from .common import Measurement, TaskSpec, select_unit
from .compare import Colorize, Compare
from .timer import Language, Timer

__all__ = ["Timer", "Measurement", "TaskSpec", "Compare", "Colorize", "Language", "select_unit"]
