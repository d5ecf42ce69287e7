"""``torch.profiler`` for chainrule: where the time of a program goes, op by op.

>>> with profile(record_shapes=True) as prof:
...     with record_function("model"):
...         loss = model(x).sum()
...     loss.backward()
>>> print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))

Each op's forward is an ``aten::<op>`` event (named as PyTorch names it), each backward node
an ``autograd::engine::evaluate_function: <Node>`` event around the node's own, and each
``record_function`` block a range around what runs inside it.  Built on the public graph
API's hooks (:func:`chainrule.autograd.graph.on_apply`, ``on_backward``): while no profile
runs, nothing is observed.  ``chainrule.autograd.profiler`` is the older one-block API.
"""
from . import legacy as autograd_profiler
from .events import EventList, FunctionEvent, FunctionEventAvg
from .legacy import record_function
from .profiler import (
    ProfilerAction, ProfilerActivity, profile, schedule, supported_activities, tensorboard_trace_handler,
)

__all__ = ["profile", "record_function", "ProfilerActivity", "ProfilerAction", "schedule",
           "tensorboard_trace_handler", "supported_activities", "EventList", "FunctionEvent",
           "FunctionEventAvg"]
