"""``chainrule.compile`` and ``chainrule.compiler``: PyTorch 2's ``torch.compile``, for
NumPy on a CPU.

``model = chainrule.compile(model)`` returns a module (or, for a function, a function)
that gives the same numbers faster.  Its first two calls with given input shapes, dtypes,
``requires_grad``, grad mode and training mode run eagerly while a tracer watches every op;
when both calls ran the same ops, their record becomes a **plan**: the forward as a flat
program of array kernels writing into preallocated, reused buffers, and the backward as a
flat program of the ops' own backward formulas, in the autograd engine's order.  Later calls
run the plan: no Tensor or node object per op, one graph node for the whole region (its
backward runs the backward program), so that losses, hooks on parameters, optimizers and
``autograd.grad`` work as before.  What a plan cannot repeat faithfully (``.item()``,
``bool(tensor)``, ``.tolist()``, ``.numpy()``, in-place changes of inputs, a hook on an
inner tensor, random numbers drawn outside an op ...) is a *graph break*: those calls run
eagerly, with one warning per reason, and never give other numbers than eager.

    >>> model = chainrule.compile(model)                              # a module
    >>> step = chainrule.compile(lambda x, y: loss_fn(model(x), y))   # or a function
    >>> chainrule.compile(model, options={"print_plan": True})        # show the plan
    >>> print(chainrule.compiler.explain(model)(x))                   # breaks, ops, the plan
"""
from __future__ import annotations

import functools
import weakref
from typing import Any, Callable

from ..nn.module import Module
from .explain import ExplainOutput, explain
from .runtime import Region, reset_warnings, state
from .trace import Unsupported

__all__ = ["compile", "reset", "disable", "is_compiling", "explain", "ExplainOutput", "OptimizedModule",
           "Unsupported", "InvalidBackend", "list_backends"]

#: The backends accepted: every one gives the same plan (PyTorch's all give the same numbers).
BACKENDS = ("inductor", "eager", "aot_eager", "cudagraphs")
#: PyTorch's modes: accepted, none changes the plan (there is no autotuning or CUDA graph here).
MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
#: chainrule's options (PyTorch's inductor options have no meaning here).
OPTIONS = ("print_plan", "cache_size_limit")

_regions: "weakref.WeakSet[Region]" = weakref.WeakSet()


class InvalidBackend(RuntimeError):
    """An unknown ``backend`` (PyTorch's ``torch._dynamo.exc.InvalidBackend``)."""


def list_backends(exclude_tags: Any = ("debug", "experimental")) -> list[str]:
    """The backend names ``compile`` takes (``torch._dynamo.list_backends``)."""
    return ["cudagraphs", "inductor"] if exclude_tags else sorted(BACKENDS)


def compile(model: Callable | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,
            backend: Any = "inductor", mode: str | None = None, options: dict | None = None,
            name: str | None = None, disable: bool = False, recompile_limit: int | None = None,
            isolate_recompiles: bool = False, shapes_spec: Any = None) -> Any:
    """Compile ``model`` (an ``nn.Module`` or a function) into plans of array kernels (see
    the package docstring); PyTorch's ``torch.compile``, with its signature.

    * ``fullgraph=True``: a graph break raises :class:`Unsupported` instead of running eagerly.
    * ``dynamic``: accepted; a plan is always specialised to its input shapes (each new shape
      is a new plan, up to the cache size limit), as ``dynamic=False`` does.
    * ``backend``: ``"inductor"`` (the default), ``"eager"``, ``"aot_eager"``, ``"cudagraphs"``
      all build the same plan; a callable backend needs FX graphs, which chainrule has not.
    * ``mode``: PyTorch's modes are accepted and change nothing (no autotuning, no CUDA
      graphs on a CPU); with ``options`` too, PyTorch's error.
    * ``options``: ``{"print_plan": True}`` prints each plan as it is built;
      ``{"cache_size_limit": n}`` sets how many guard keys (shapes, modes) get plans (8).
    * ``recompile_limit``: the same limit as ``cache_size_limit``; ``disable=True`` returns
      ``model`` unchanged; ``name``, ``isolate_recompiles`` are accepted.
    """
    if model is None:
        def decorate(target: Callable) -> Any:
            if target is None:
                raise RuntimeError("Model can't be None")
            return compile(target, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                           options=options, name=name, disable=disable, recompile_limit=recompile_limit,
                           isolate_recompiles=isolate_recompiles, shapes_spec=shapes_spec)
        return decorate
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    settings = _settings(backend, mode, options, recompile_limit, shapes_spec)
    if disable:
        return model
    if isinstance(model, Module):
        return OptimizedModule(model, fullgraph, settings, name)
    region = Region(model, _modules_of(model), name or getattr(model, "__name__", type(model).__name__),
                    fullgraph, settings)
    _regions.add(region)

    @functools.wraps(model)
    def compiled(*args: Any, **kwargs: Any) -> Any:
        return region(*args, **kwargs)

    compiled.region = region  # type: ignore[attr-defined]
    return compiled


def _settings(backend: Any, mode: str | None, options: dict | None, recompile_limit: int | None,
              shapes_spec: Any) -> dict:
    """The options, checked as PyTorch checks them (with chainrule's own option names)."""
    if callable(backend):
        raise InvalidBackend("chainrule.compile takes no callable backend: its plans are not FX graphs "
                             f"(use one of {', '.join(BACKENDS)})")
    if backend not in BACKENDS:
        raise InvalidBackend(f"Invalid backend: {backend!r}, see `chainrule.compiler.list_backends()` for "
                             f"available backends.")
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if mode is not None and mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES)}")
    options = dict(options or {})
    for key in options:
        if key not in OPTIONS:
            raise RuntimeError(f"Unexpected optimization option {key}, known options are {list(OPTIONS)} "
                               f"(chainrule's plans have no inductor settings)")
    if shapes_spec is not None:
        raise RuntimeError("shapes_spec is not supported: a chainrule plan is specialised to its input shapes")
    if recompile_limit is not None:
        options.setdefault("cache_size_limit", recompile_limit)
    return options


def _modules_of(function: Callable) -> list:
    """The modules a compiled function reaches (its ``self``, closure cells and the globals it
    names): their training flags and parameters' ``requires_grad`` join its guards."""
    found = []
    owner = getattr(function, "__self__", None)
    if isinstance(owner, Module):
        found.append(owner)
    code = getattr(function, "__code__", None)
    for cell in getattr(function, "__closure__", None) or ():
        try:
            item = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if isinstance(item, Module):
            found.append(item)
    if code is not None:
        module_globals = getattr(function, "__globals__", {})
        found += [module_globals[n] for n in code.co_names if isinstance(module_globals.get(n), Module)]
    return list({id(m): m for m in found}.values())


class OptimizedModule(Module):
    """A compiled module (PyTorch's ``OptimizedModule``): calls go through the plans of the
    module it wraps, ``_orig_mod``, whose parameters, buffers and attributes it shares (its
    ``state_dict`` keys start with ``_orig_mod.``, as PyTorch's)."""

    def __init__(self, mod: Module, fullgraph: bool, options: dict, name: str | None = None) -> None:
        super().__init__()
        self._orig_mod = mod
        region = Region(mod.__call__, [mod], name or type(mod).__name__, fullgraph, options)
        _regions.add(region)
        self.__dict__["_region"] = region

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.__dict__["_region"](*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.__dict__["_modules"]["_orig_mod"], name)


def reset() -> None:
    """Forget every plan and trace (``torch.compiler.reset``): the next calls trace again."""
    for region in list(_regions):
        region.reset()
    reset_warnings()


def is_compiling() -> bool:
    """True while a compiled call is being traced (``torch.compiler.is_compiling``)."""
    return state.tracing > 0


def disable(fn: Callable | None = None, recursive: bool = True, *, reason: str | None = None) -> Any:
    """Run ``fn`` without compilation (``torch.compiler.disable``): compiled calls inside it
    run eagerly.  Without ``fn``, a decorator."""
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason)

    @functools.wraps(fn)
    def eager(*args: Any, **kwargs: Any) -> Any:
        state.disabled += 1
        try:
            return fn(*args, **kwargs)
        finally:
            state.disabled -= 1

    return eager

