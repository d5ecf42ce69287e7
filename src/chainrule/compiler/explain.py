"""``chainrule.compiler.explain``: what compiling a call would capture (PyTorch's
``torch._dynamo.explain``).

``explain(fn)(*args, **kwargs)`` calls ``fn`` once, eagerly, under the tracer, and returns
an :class:`ExplainOutput`: whether it breaks (and why), the ops it runs, and the plan built
from that one call, whose two programs are the forward and the backward of the whole region
as flat code, one kernel a line.
"""
from __future__ import annotations

from typing import Any, Callable

from ..nn.module import Module
from .plan import Plan, PlanError, build
from .runtime import Region, _dry_run, describe, state
from .trace import trace_call


class ExplainOutput:
    """What one traced call showed (the fields of PyTorch's ``ExplainOutput``, plus
    ``plan``): ``graph_count`` (1 without a break, else 0: the call runs eagerly),
    ``graph_break_count``, ``break_reasons``, ``op_count``, ``ops_per_graph`` (op names),
    ``out_guards`` (what a plan is specialised to), ``plan`` and ``plan_text``."""

    def __init__(self, ops: list, breaks: list, plan: Plan | None, guards: list, name: str) -> None:
        self.ops_per_graph = [ops] if plan is not None else []
        self.graph_count = len(self.ops_per_graph)
        self.graph_break_count = len(breaks)
        self.break_reasons = breaks
        self.op_count = len(ops)
        self.out_guards = guards
        self.plan = plan
        self.plan_text = describe(plan, name) if plan is not None else ""
        self.graphs = self.ops_per_graph

    def __str__(self) -> str:
        lines = [f"Graph Count: {self.graph_count}", f"Graph Break Count: {self.graph_break_count}",
                 f"Op Count: {self.op_count}"]
        if self.break_reasons:
            lines.append("Break Reasons:")
            lines += [f"  Break Reason {i + 1}: {reason}" for i, reason in enumerate(self.break_reasons)]
        lines.append("Guards: " + ", ".join(self.out_guards))
        if self.plan is not None:
            lines.append(self.plan_text)
        return "\n".join(lines)


def explain(fn: Callable, *extra_args: Any, **extra_kwargs: Any) -> Callable[..., ExplainOutput]:
    """``explain(fn)(*args, **kwargs)``: call ``fn`` once under the tracer and say what a
    compiled call would capture (see the module docstring)."""

    def inner(*args: Any, **kwargs: Any) -> ExplainOutput:
        roots = [fn] if isinstance(fn, Module) else []
        name = type(fn).__name__ if roots else getattr(fn, "__name__", type(fn).__name__)
        region = Region(fn.__call__ if roots else fn, roots, name, False, {})
        inputs: list = []
        region.key(args, kwargs, inputs)
        state.tracing += 1
        try:
            _, trace = trace_call(region.call, args, kwargs, inputs, region.known, False)
        finally:
            state.tracing -= 1
        ops = [step.node.name() for step in trace.op_steps()]
        guards = [f"input {i}: shape {tuple(v.array.shape)}, {v.array.dtype}, requires_grad={v.requires_grad}"
                  for i, v in enumerate(trace.inputs)]
        guards.append(f"grad mode {'on' if trace.grad_enabled else 'off'}")
        if region.modules:
            guards.append("training flags of " + ", ".join(type(m).__name__ for m in region.modules))
        plan = None
        breaks = list(trace.breaks)
        if not breaks:
            try:
                plan = build(trace, _dry_run(trace), region.tensor_names)
            except PlanError as error:
                breaks.append(str(error))
        return ExplainOutput(ops, breaks, plan, guards, name)

    if extra_args or extra_kwargs:  # the older form: explain(fn, *args)
        return inner(*extra_args, **extra_kwargs)  # type: ignore[return-value]
    return inner
