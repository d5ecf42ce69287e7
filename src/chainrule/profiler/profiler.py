"""``torch.profiler``'s ``profile``: the profiler driven by a step ``schedule`` (skip, wait,
warm up, record), handing each recorded window to ``on_trace_ready``."""
from __future__ import annotations

import enum
import gzip
import json
import os
import socket
import time
import warnings
from typing import Any, Callable, Iterable

from .events import EventList, FunctionEventAvg, chrome_trace, write_atomically
from .legacy import profile as legacy_profile
from .legacy import record_function

__all__ = ["ProfilerActivity", "ProfilerAction", "profile", "schedule", "tensorboard_trace_handler",
           "supported_activities"]


class ProfilerActivity(enum.Enum):
    """What a profile records; chainrule records CPU time for all of them."""

    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    """What the profiler does during a step."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities() -> set:
    return {ProfilerActivity.CPU}


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """PyTorch's step schedule: skip ``skip_first`` steps, then cycles of ``wait`` idle steps,
    ``warmup`` steps and ``active`` recorded ones (the last RECORD_AND_SAVE), ``repeat``
    times (0: forever).  ``skip_first_wait`` drops the first cycle's wait."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise ValueError(f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} "
                         f"(need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
                         f"skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)

    def schedule_fn(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        cycle = wait + warmup + active
        if repeat > 0 and step / cycle >= repeat:
            return ProfilerAction.NONE
        within = step % cycle
        if within < wait:
            return ProfilerAction.NONE
        if within < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if within < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return schedule_fn


def _always_record(step: int) -> ProfilerAction:
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False) -> Callable[[Any], None]:
    """An ``on_trace_ready`` that writes each window's Chrome trace into ``dir_name`` as
    ``<worker>.<time ns>.pt.trace.json`` (``.gz`` with ``use_gzip``), as TensorBoard's
    profiler plugin reads them."""

    def handler(prof: Any) -> None:
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        path = os.path.join(dir_name, f"{worker}.{time.time_ns()}.pt.trace.json")
        if use_gzip:
            prof.export_chrome_trace(path + ".gz")
        else:
            prof.export_chrome_trace(path)

    return handler


_TRANSITIONS = {
    (ProfilerAction.NONE, ProfilerAction.WARMUP): ("prepare",),
    (ProfilerAction.NONE, ProfilerAction.RECORD): ("prepare", "start"),
    (ProfilerAction.NONE, ProfilerAction.RECORD_AND_SAVE): ("prepare", "start"),
    (ProfilerAction.WARMUP, ProfilerAction.NONE): ("warn", "start", "stop"),
    (ProfilerAction.WARMUP, ProfilerAction.RECORD): ("start",),
    (ProfilerAction.WARMUP, ProfilerAction.RECORD_AND_SAVE): ("start",),
    (ProfilerAction.RECORD, ProfilerAction.NONE): ("warn", "stop"),
    (ProfilerAction.RECORD, ProfilerAction.WARMUP): ("warn", "stop"),
    (ProfilerAction.RECORD_AND_SAVE, ProfilerAction.NONE): ("stop", "ready"),
    (ProfilerAction.RECORD_AND_SAVE, ProfilerAction.WARMUP): ("stop", "ready", "prepare"),
    (ProfilerAction.RECORD_AND_SAVE, ProfilerAction.RECORD): ("stop", "ready", "prepare", "start"),
    (ProfilerAction.RECORD_AND_SAVE, ProfilerAction.RECORD_AND_SAVE): ("stop", "ready", "prepare", "start"),
    (ProfilerAction.WARMUP, None): ("start", "stop"),
    (ProfilerAction.RECORD, None): ("stop", "ready"),
    (ProfilerAction.RECORD_AND_SAVE, None): ("stop", "ready"),
}


def _group_steps(events: EventList) -> None:
    """Name every step's range ``ProfilerStep*``, as PyTorch's tables and events show them
    (the trace keeps ``ProfilerStep#N``)."""
    for event in events:
        if event.name.startswith("ProfilerStep#"):
            event.name = "ProfilerStep*"


class profile:
    """PyTorch's ``torch.profiler.profile``: ``with profile(...) as prof:`` records ops,
    backward nodes and ``record_function`` ranges; with a ``schedule``, call ``prof.step()``
    after each step, and the recorded windows go to ``on_trace_ready``.  Without one, the
    whole block is recorded.  Times are CPU time, in microseconds."""

    def __init__(self, *, activities: Iterable[ProfilerActivity] | None = None,
                 schedule: Callable[[int], ProfilerAction] | None = None,
                 on_trace_ready: Callable[[Any], None] | None = None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False, with_flops: bool = False,
                 with_modules: bool = False, experimental_config: Any = None,
                 execution_trace_observer: Any = None, acc_events: bool = False,
                 use_cuda: bool | None = None, custom_trace_id_callback: Any = None) -> None:
        self.activities = set(activities) if activities is not None else supported_activities()
        self.record_steps = schedule is not None
        self.schedule = schedule if schedule is not None else _always_record
        self.on_trace_ready = on_trace_ready
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.with_modules = with_modules
        self.acc_events = acc_events
        self.step_num = 0
        self.current_action = self.schedule(0)
        self.profiler: legacy_profile | None = None
        self.step_range: record_function | None = None

    def __enter__(self) -> "profile":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._transit(ProfilerAction.NONE, self.current_action)
        self._open_step()

    def stop(self) -> None:
        self._close_step()
        self._transit(self.current_action, None)

    def step(self) -> None:
        """The next step begins: apply the schedule's action for it."""
        self._close_step()
        previous = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit(previous, self.current_action)
        self._open_step()

    def _open_step(self) -> None:
        if self.record_steps:
            self.step_range = record_function(f"ProfilerStep#{self.step_num}")
            self.step_range.__enter__()

    def _close_step(self) -> None:
        if self.step_range is not None:
            self.step_range.__exit__(None, None, None)
            self.step_range = None

    def _transit(self, previous: ProfilerAction, current: ProfilerAction | None) -> None:
        for action in _TRANSITIONS.get((previous, current), ()):
            if action == "warn":
                warnings.warn(f"Incorrect schedule: {previous.name} followed by {current.name}", stacklevel=3)
            elif action == "prepare":
                if self.profiler is None or not self.acc_events:
                    self.profiler = legacy_profile(record_shapes=self.record_shapes,
                                                   profile_memory=self.profile_memory)
            elif action == "start":
                self.profiler.__enter__()
            elif action == "stop":
                self.profiler.__exit__(None, None, None)
                _group_steps(self.profiler.function_events)
            elif self.on_trace_ready is not None:
                self.on_trace_ready(self)

    def _finished(self) -> legacy_profile:
        if self.profiler is None or self.profiler.function_events is None:
            raise AssertionError("Profiler must be initialized before exporting chrome trace")
        return self.profiler

    def events(self) -> EventList:
        """The ranges of the last recorded window, in the order they began."""
        return self._finished().events()

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """The last window's events averaged by name (and input shapes)."""
        return self._finished().key_averages(group_by_input_shape)

    def total_average(self) -> FunctionEventAvg:
        return self._finished().total_average()

    @property
    def self_cpu_time_total(self) -> float:
        return self._finished().self_cpu_time_total

    def export_chrome_trace(self, path: str) -> None:
        """Write the last window as a Chrome trace (gzip-compressed for a ``.gz`` path)."""
        if path.endswith(".gz"):
            write_atomically(path, gzip.compress(json.dumps(chrome_trace(self.events())).encode()))
        else:
            self.events().export_chrome_trace(path)
