"""Debugging backprop: why is this gradient None, zero or NaN, and where.

* :func:`diagnose` (also ``chainrule.autograd.diagnose``): the findings about a loss and the
  parameters it should train, each with the cause in one sentence, the line of your code and
  the usual fix;
* :func:`recording`: record what a diagnosis needs (call sites, graph cuts, activations,
  NaN/inf, gradient sizes) for the code in its block;
* :class:`Session`: what ``chainrule debug SCRIPT`` runs: recording on, a report at the first
  ``backward()`` and at each optimizer ``step()``.

It sits above ``nn`` (it names parameters by their modules) and registers ``diagnose`` in
:mod:`chainrule.autograd`, which, being below, cannot import it.
"""
from __future__ import annotations

from .. import autograd
from .diagnose import VANISHING, diagnose
from .findings import SYMPTOMS, Diagnosis, Finding
from .record import Recorder, recording
from .session import Session, StopRun
from .sites import Site

autograd.diagnose = diagnose

__all__ = ["diagnose", "Diagnosis", "Finding", "SYMPTOMS", "Recorder", "recording", "Session", "StopRun", "Site",
           "VANISHING"]
