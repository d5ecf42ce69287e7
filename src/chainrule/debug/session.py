"""What ``chainrule debug SCRIPT`` runs: the script with recording on, and a report of its
gradients at the first ``backward()``, at each optimizer ``step()``, and whenever the
script's own code reads a ``.grad`` that is None, zero or NaN.

The first report lists every problem and sums up the healthy tensors in one line; later
checks print only problems not reported yet.  A script without an optimizer (a manual
``w -= lr * w.grad`` loop) is checked at its first ``backward()`` and at its reads of
``.grad``; ``--steps`` then counts its ``backward()`` calls.
"""
from __future__ import annotations

import functools
import inspect
import math
import os
import sys
from typing import Any, Callable, TextIO

from ..autograd import graph
from ..nn import Parameter
from ..optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook
from ..tensor import Tensor
from . import values
from .diagnose import VANISHING, Doctor
from .findings import Diagnosis
from .names import Names
from .record import Pass, Recorder
from .sites import user_frames, user_site

_HERE = os.path.abspath(__file__)
_AUTOGRAD = os.path.join(os.path.dirname(os.path.dirname(_HERE)), "autograd")


def _guarded(check: Callable) -> Callable:
    """A check that cannot break the script it watches: its own failure is one line, and the
    script goes on (StopRun, a BaseException, still ends it)."""
    @functools.wraps(check)
    def guarded(self: "Session", *args: Any) -> None:
        try:
            check(self, *args)
        except Exception as error:  # noqa: BLE001 - reported, not raised: the script is the user's
            self.busy = False
            self.print(f"chainrule debug: could not check ({type(error).__name__}: {error}); the script goes on")

    return guarded


class StopRun(BaseException):
    """Ends a debugged script after its ``--steps`` steps (a BaseException, as
    KeyboardInterrupt is, so that the script's ``except Exception`` lets it through)."""


class Session:
    """Debug mode for a run: recording on, reports on ``out`` (default: stderr).

    ``steps``: stop the script after that many optimizer steps (backward passes for a script
    without an optimizer).  ``findings`` collects every finding reported."""

    def __init__(self, steps: int | None = None, out: TextIO | None = None) -> None:
        self.steps = steps
        self.out = out
        self.recorder = Recorder(on_pass=self.after_backward)
        self.reported: set = set()
        self.findings: list = []
        self.backwards = 0
        self.optimizer_steps = 0
        self.checks = 0
        self.busy = False  # checking: the diagnosis's own reads of .grad are not the script's
        self.has_optimizer = False
        self.handles: list = []

    # -- switching on and off ------------------------------------------------------------------
    def __enter__(self) -> "Session":
        self.recorder.start()
        self.handles = [register_optimizer_step_pre_hook(self.before_step),
                        register_optimizer_step_post_hook(self.after_step),
                        graph.on_grad_read(self.grad_read)]
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles = []
        self.recorder.stop()

    def run(self, start: Callable[[], Any]) -> None:
        """Run ``start()`` (the script) in debug mode, then print the one-line summary."""
        try:
            with self:
                start()
        except StopRun:
            unit = "optimizer step" if self.has_optimizer else "backward pass"
            plural = "" if self.steps == 1 else ("es" if unit.endswith("s") else "s")
            self.print(f"chainrule debug: stopped after {self.steps} {unit}{plural} (--steps {self.steps})")
        finally:
            self.print(self.summary())

    def summary(self) -> str:
        tensors = len({finding.tensor for finding in self.findings})
        if not self.checks:
            return "chainrule debug: the script never called backward(): nothing to check"
        verdict = "no problem found" if not tensors else \
            f"{tensors} tensor{'s' if tensors != 1 else ''} with a problem, reported above"
        return f"chainrule debug: {self.checks} check{'s' if self.checks != 1 else ''}, {verdict}"

    def print(self, text: str) -> None:
        print(text, file=self.out if self.out is not None else sys.stderr, flush=True)

    # -- the checks --------------------------------------------------------------------------
    @_guarded
    def after_backward(self, pass_: Pass) -> None:
        self.backwards += 1
        if pass_.error is not None:
            self.failed_backward(pass_, user_frames(inspect.currentframe()))
            return
        if self.backwards == 1:
            names = Names.from_frames(user_frames(inspect.currentframe()))
            self.has_optimizer = bool(names.optimizers)
            doctor = Doctor(pass_.roots[0], self.recorder, names)
            items, lenient = self.first_candidates(names, doctor.reached)
            self.check(f"first backward() at {pass_.site}", doctor, items, lenient, full=True)
        elif not self.has_optimizer and self.steps is not None and self.backwards >= self.steps:
            raise StopRun

    def first_candidates(self, names: Names, reached: set) -> tuple[list, set]:
        """What the first backward checks: the parameters of each optimizer (of each model,
        when there is no optimizer) that this loss trains (reaches at least one parameter
        of: a GAN's first loss trains one of its two), and, leniently, the tensors bound to
        variables that are leaves requiring grad.  Returns (items, lenient ids)."""
        groups = [[p for group in optimizer.param_groups for p in group["params"]]
                  for optimizer in names.optimizer_list()]
        if not groups:
            groups = [[p for p in model.parameters() if p.requires_grad] for _, model in names.roots]
        items: dict = {}
        for group in groups:
            if any(id(p) in reached for p in group):
                for p in group:
                    items.setdefault(id(p), (names.name(p), p))
        lenient = set()
        for key, name in names.tensors.items():
            tensor = names.held[key]
            if key not in items and key not in names.owners and tensor.requires_grad and tensor.grad_fn is None:
                items[key] = (name, tensor)
                lenient.add(key)
        return list(items.values()), lenient

    @_guarded
    def before_step(self, optimizer: Any, args: tuple, kwargs: dict) -> None:
        self.optimizer_steps += 1
        self.has_optimizer = True
        last = self.recorder.last
        if last is None or last.error is not None:
            return
        params = [p for group in optimizer.param_groups for p in group["params"]]
        if all(_looks_healthy(p) for p in params):
            self.checks += 1  # the common case, decided without a diagnosis
            return
        names = Names.from_frames(user_frames(inspect.currentframe()))
        items = [(names.name(p, f"param_groups[{g}][{i}]"), p)
                 for g, group in enumerate(optimizer.param_groups) for i, p in enumerate(group["params"])]
        self.check(f"optimizer step {self.optimizer_steps} ({type(optimizer).__name__})",
                   Doctor(last.roots[0], self.recorder, names), items)

    def after_step(self, optimizer: Any, args: tuple, kwargs: dict) -> None:
        if self.steps is not None and self.optimizer_steps >= self.steps:
            raise StopRun

    @_guarded
    def grad_read(self, tensor: Any, grad: Any) -> None:
        """The script's own code read ``tensor.grad``: check it when it looks wrong (and it is
        about the latest backward: a leaf that backward did not reach keeps an older one)."""
        if self.busy:
            return
        reader = _reader(inspect.currentframe())
        last = self.recorder.last
        if reader is None or last is None or last.error is not None:
            return
        if grad is not None and VANISHING <= values.scale(grad) < math.inf:
            return
        if grad is not None and tensor.grad_fn is None and not _reaches(last.roots[0], tensor):
            return
        names = Names.from_frames(user_frames(reader))
        trained = {id(p) for optimizer in names.optimizer_list() for group in optimizer.param_groups
                   for p in group["params"]} | set(names.owners)
        lenient = set() if id(tensor) in trained else {id(tensor)}
        self.check(f"{names.name(tensor)}.grad read at {user_site(reader)}",
                   Doctor(last.roots[0], self.recorder, names), [(names.name(tensor), tensor)], lenient)

    def failed_backward(self, pass_: Pass, frames: list) -> None:
        loss = pass_.roots[0] if pass_.roots else None
        if not isinstance(loss, Tensor) or loss.requires_grad:
            return
        names = Names.from_frames(frames)
        problem = Doctor(loss, self.recorder, names).loss_problem(names.name(loss, "loss"))
        if problem is not None:
            self.show(f"backward() at {pass_.site} failed", Diagnosis([problem]), full=False)

    def check(self, title: str, doctor: Doctor, items: list, lenient: set | frozenset = frozenset(),
              full: bool = False) -> Diagnosis:
        self.checks += 1
        self.busy = True
        try:
            diagnosis = doctor.examine(items, lenient)
        finally:
            self.busy = False
        self.show(title, diagnosis, full)
        return diagnosis

    def show(self, title: str, diagnosis: Diagnosis, full: bool) -> None:
        new = []
        for finding in diagnosis:
            key = (finding.tensor, finding.kind, finding.where)
            if finding.symptom == "value" and (finding.tensor, "nonfinite") in self.reported:
                continue  # the NaN gradient already reported was written into it: no news
            if finding.symptom == "nonfinite":
                self.reported.add((finding.tensor, "nonfinite"))
            if key not in self.reported:
                self.reported.add(key)
                new.append(finding)
        self.findings.extend(new)
        if not new and not full:
            return
        shown = Diagnosis(new, diagnosis.healthy)
        lines = [f"chainrule debug: {title}"]
        body = shown.report().splitlines() + ([shown.summary()] if full else [])
        lines += ["  " + line for line in body]
        self.print("\n".join(lines))


def _reader(frame: Any) -> Any:
    """The frame that read ``.grad``, from the observer's caller on (past this module's
    guard, and the property and the notification in autograd/), when it is the user's code;
    None when chainrule read it."""
    while frame is not None and _on_the_way(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None or user_frames(frame)[:1] != [frame]:
        return None
    return frame


_between: dict = {}  # file name -> whether its frames lie between a .grad read and its observer


def _on_the_way(filename: str) -> bool:
    inside = _between.get(filename)
    if inside is None:
        path = os.path.abspath(filename)
        inside = _between[filename] = os.path.dirname(path) == _AUTOGRAD or path == _HERE
    return inside


def _looks_healthy(tensor: Any) -> bool:
    """A quick look (no diagnosis): a frozen parameter, or a leaf with a finite gradient that
    is not vanishingly small (a NaN in its value shows in the next step's gradient)."""
    if tensor.grad_fn is not None or not tensor.requires_grad:
        return isinstance(tensor, Parameter) and not tensor.requires_grad and tensor.grad_fn is None
    grad = tensor.grad
    return grad is not None and VANISHING <= values.scale(grad) < math.inf


def _reaches(loss: Any, leaf: Any) -> bool:
    """Whether ``leaf`` is in ``loss``'s graph."""
    return any(e is not None and e.is_leaf and e.leaf is leaf for node in graph.walk(loss) for e in graph.inputs(node))
