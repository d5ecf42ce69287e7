"""``torch.autograd.profiler`` (``chainrule.autograd.profiler``): the profiler as one context
manager, ``record_function`` ranges, and the NVTX/ITT range emitters (no-ops: chainrule
runs no CUDA or VTune kernels to annotate)."""
from __future__ import annotations

import contextlib
import functools
from typing import Any, Callable

from .events import EventList, FunctionEvent, FunctionEventAvg
from .recorder import Recorder, active

__all__ = ["profile", "record_function", "emit_nvtx", "emit_itt", "EventList", "FunctionEvent",
           "FunctionEventAvg"]


class record_function(contextlib.ContextDecorator):
    """A named range in every running profile (``with record_function("forward"):``, or as
    a decorator): the ops inside are its children, and its self time excludes theirs.
    Costs nothing while no profiler runs."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name
        self.args = args
        self.entered: list[list] = []  # per (possibly nested) entry: the recorders it opened in

    def __enter__(self) -> "record_function":
        recorders = list(active)
        for recorder in recorders:
            recorder.open(self.name, "user")
        self.entered.append(recorders)
        return self

    def __exit__(self, *exc: object) -> bool:
        for recorder in self.entered.pop():
            recorder.close("user")
        return False

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)

        return wrapped


class profile:
    """Records every op's forward, every node's backward and every ``record_function`` range
    run inside ``with profile() as prof:``; then ``prof.key_averages().table()``,
    ``prof.export_chrome_trace(path)``.  ``use_cuda`` and the device options are accepted
    for PyTorch code and record CPU time only."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device: str | None = None,
                 record_shapes: bool = False, with_flops: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False, use_kineto: bool = False,
                 use_cpu: bool = True, experimental_config: Any = None, acc_events: bool = False,
                 custom_trace_id_callback: Any = None) -> None:
        self.enabled = enabled
        self.use_cuda = use_cuda
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.entered = False
        self.recorder: Recorder | None = None
        self.function_events: EventList | None = None

    def __enter__(self) -> "profile":
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        self.recorder = Recorder(self.record_shapes, self.profile_memory)
        self.recorder.start()
        return self

    def __exit__(self, *exc: object) -> bool:
        if not self.enabled or self.recorder is None:
            return False
        self.recorder.stop()
        self.function_events = self.recorder.events()
        self.entered = False
        return False

    def _events(self) -> EventList:
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")
        return self.function_events

    def events(self) -> EventList:
        """Every recorded range, in the order they began."""
        return self._events()

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        return self._events().key_averages(group_by_input_shape)

    def total_average(self) -> FunctionEventAvg:
        return self._events().total_average()

    def table(self, sort_by: str | None = None, row_limit: int = 100, **options: Any) -> str:
        return self._events().table(sort_by=sort_by, row_limit=row_limit, **options)

    def export_chrome_trace(self, path: str) -> None:
        self._events().export_chrome_trace(path)

    @property
    def self_cpu_time_total(self) -> float:
        """Microseconds spent in all recorded ranges, each counted once."""
        return self._events().self_cpu_time_total

    def __str__(self) -> str:
        return str(self.key_averages())


@contextlib.contextmanager
def emit_nvtx(enabled: bool = True, record_shapes: bool = False):
    """PyTorch's NVTX range emitter: nothing to emit on chainrule's CPU, a no-op context."""
    yield


@contextlib.contextmanager
def emit_itt(enabled: bool = True, record_shapes: bool = False):
    """PyTorch's ITT range emitter: a no-op context on chainrule."""
    yield
