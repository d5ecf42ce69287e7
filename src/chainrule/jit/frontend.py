"""``script``, ``trace``, ``freeze``, ``fork``/``wait`` and TorchScript's switches, eagerly.

TorchScript exists to export a model and run it faster; its numbers are eager PyTorch's.
chainrule's versions return objects that run the Python as written (see ``jit.modules``):
the same numbers, no compilation.  ``trace`` runs the function once on the example inputs,
with :func:`is_tracing` True, and warns (``TracerWarning``) where PyTorch's tracer does when a
tensor's value is read into Python, since a real trace would keep that value's branch.  As in
PyTorch 2.13, each entry point warns that it is deprecated.
"""
from __future__ import annotations

import inspect
import threading
import warnings
from typing import Any, Callable

from ..autograd import graph
from ..nn.module import Module
from .annotations import TracerWarning
from .modules import (
    RecursiveScriptModule, ScriptFunction, ScriptModule, TopLevelTracedModule, TracedModule, script_view,
)

__all__ = [
    "script", "trace", "trace_module", "is_tracing", "script_if_tracing", "freeze", "optimize_for_inference",
    "run_frozen_optimizations", "fork", "wait", "Future", "enable_onednn_fusion", "onednn_fusion_enabled",
    "set_fusion_strategy",
]

_SCRIPT_DEPRECATED = "`torch.jit.script` is deprecated. Please switch to `torch.compile` or `torch.export`."
_TRACE_DEPRECATED = "`torch.jit.trace` is deprecated. Please switch to `torch.compile` or `torch.export`."

# What a read of a tensor's value turned it into, by how graph.on_read names the read (its start).
_READS = {
    "bool()": "a Python boolean", "item()": "a Python number", "tolist()": "a Python list",
    "numpy()": "a NumPy array", "conversion to a NumPy array": "a NumPy array",
}


def _deprecated(message: str) -> None:
    warnings.warn(message, DeprecationWarning, stacklevel=3)


def script(obj: Any, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None,
           example_inputs: Any = None) -> Any:
    """``torch.jit.script``: a module gives a :class:`RecursiveScriptModule` view of it, a
    function a :class:`ScriptFunction`; a class (``@torch.jit.script class Pair: ...``) is
    returned as it is.  Everything runs as written in Python."""
    _deprecated(_SCRIPT_DEPRECATED)
    if isinstance(obj, (ScriptModule, ScriptFunction)):
        return obj
    if isinstance(obj, Module):
        return script_view(obj, RecursiveScriptModule)
    if inspect.isclass(obj):
        if issubclass(obj, Module):
            raise RuntimeError(f"Type '{obj}' cannot be compiled since it inherits from nn.Module, "
                               "pass an instance instead")
        return obj
    if isinstance(obj, (dict, list)):
        return obj
    if callable(obj):
        return ScriptFunction(obj)
    raise RuntimeError(f"Cannot script {type(obj).__name__} object: expected a function, a module or a class")


# -- tracing ------------------------------------------------------------------------------

_state = threading.local()


def is_tracing() -> bool:
    """Whether ``chainrule.jit.trace`` is running the traced function (in this thread)."""
    return getattr(_state, "depth", 0) > 0


def _warn_on_read(tensor: Any, how: str) -> None:
    into = next((what for start, what in _READS.items() if how.startswith(start)), None)
    if into is not None and is_tracing():
        warnings.warn(
            f"Converting a tensor to {into} might cause the trace to be incorrect. We can't record the "
            "data flow of Python values, so this value will be treated as a constant in the future. This means "
            "that the trace might not generalize to other inputs!", TracerWarning, stacklevel=4)


def _run_traced(fn: Callable, args: Any, kwargs: dict | None) -> Any:
    """``fn`` on the example inputs with :func:`is_tracing` True, warning about value reads."""
    if not isinstance(args, tuple):
        args = () if args is None else (args,)
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        with graph.on_read(_warn_on_read):
            return fn(*args, **(kwargs or {}))
    finally:
        _state.depth -= 1


def trace(func: Any, example_inputs: Any = None, optimizer: Any = None, check_trace: bool = True,
          check_inputs: Any = None, check_tolerance: float = 1e-5, strict: bool = True,
          _force_outplace: bool = False, _module_class: Any = None, _compilation_unit: Any = None,
          example_kwarg_inputs: dict | None = None, _store_inputs: bool = True) -> Any:
    """``torch.jit.trace``: run ``func`` (a function or a module) once on ``example_inputs``
    (a tuple of arguments, or one tensor) and return what runs it as written: a
    :class:`TopLevelTracedModule` view of a module, a :class:`ScriptFunction` of a function.
    Unlike a trace, later calls follow the Python's control flow on their own inputs."""
    _deprecated(_TRACE_DEPRECATED)
    if isinstance(func, (ScriptModule, ScriptFunction)):
        warnings.warn("The input to trace is already a ScriptModule, tracing it is a no-op. Returning the object as is.",
                      stacklevel=2)
        return func
    if example_inputs is None and example_kwarg_inputs is None:
        raise RuntimeError("example_kwarg_inputs should be a dict")
    if isinstance(func, Module):
        if example_kwarg_inputs is not None:
            return trace_module(func, {"forward": example_kwarg_inputs}, example_inputs_is_kwarg=True)
        return trace_module(func, {"forward": example_inputs})
    _run_traced(func, example_inputs, example_kwarg_inputs)
    return ScriptFunction(func)


def trace_module(mod: Module, inputs: dict, optimizer: Any = None, check_trace: bool = True,
                 check_inputs: Any = None, check_tolerance: float = 1e-5, strict: bool = True,
                 _force_outplace: bool = False, _module_class: Any = None, _compilation_unit: Any = None,
                 example_inputs_is_kwarg: bool = False, _store_inputs: bool = True) -> Any:
    """``torch.jit.trace_module``: run each method named in ``inputs`` (``{"forward": (x,)}``)
    once on its example inputs; returns a :class:`TopLevelTracedModule` view of ``mod``."""
    _deprecated("`torch.jit.trace_method` is deprecated. Please switch to `torch.compile` or `torch.export`.")
    if not isinstance(mod, Module):
        raise AttributeError("expected torch.nn.Module as the first argument")
    if not isinstance(inputs, dict):
        raise AttributeError("expected a dictionary of (method_name, input) pairs")
    for method, example in inputs.items():
        call = mod if method == "forward" else getattr(mod, method)
        if example_inputs_is_kwarg:
            _run_traced(call, (), example)
        else:
            _run_traced(call, example, None)
    return script_view(mod, TopLevelTracedModule, TracedModule)


def script_if_tracing(fn: Callable) -> Callable:
    """``@torch.jit.script_if_tracing``: the function, run as written."""
    return fn


# -- freezing -------------------------------------------------------------------------------

def freeze(mod: Any, preserved_attrs: list | None = None, optimize_numerics: bool = True) -> Any:
    """``torch.jit.freeze``: a :class:`RecursiveScriptModule` view of the (eval-mode) script
    module whose parameters and buffers are constants: plain attributes holding detached
    tensors, so the frozen module has no parameters and an empty ``state_dict``, as PyTorch's
    (``preserved_attrs`` are kept as they are)."""
    _deprecated("`torch.jit.freeze` is deprecated. Please use `torch.compile` instead.")
    if not isinstance(mod, ScriptModule):
        raise RuntimeError("Freezing expects a ScriptModule as input. Please use torch.jit.script or "
                           "torch.jit.trace to script your 'nn.Module'.")
    if mod.training:
        raise RuntimeError("Freezing is currently only implemented for modules in eval mode. Please call .eval() "
                           "on your module before freezing.")
    kept = set(preserved_attrs or ())
    frozen = script_view(mod, RecursiveScriptModule)
    for prefix, module in frozen.named_modules():
        constants = [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]
        for name, tensor in constants:
            if f"{prefix}.{name}".lstrip(".") not in kept:
                delattr(module, name)
                setattr(module, name, tensor.detach())
    return frozen


def run_frozen_optimizations(mod: Any, optimize_numerics: bool = True, preserved_methods: Any = None) -> None:
    """Accepted: TorchScript's passes over a frozen graph (chainrule has none to run)."""


def optimize_for_inference(mod: Any, other_methods: list | None = None) -> Any:
    """``torch.jit.optimize_for_inference``: the module frozen (in eval mode) if it is not yet."""
    _deprecated("`torch.jit.optimize_for_inference` is deprecated. Please use `torch.compile` instead.")
    if not isinstance(mod, ScriptModule):
        raise RuntimeError("optimize_for_inference expects a ScriptModule as input. Please use torch.jit.script "
                           "or torch.jit.trace to script your 'nn.Module'.")
    if any(True for _ in mod.parameters()) or any(True for _ in mod.buffers()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            mod = freeze(mod.eval(), preserved_attrs=other_methods)
    return mod


# -- asynchronous calls (run at once) ------------------------------------------------------

class Future:
    """``torch.jit.Future``: a result, here always ready (``fork`` runs its call at once)."""

    def __init__(self) -> None:
        self._done = False
        self._value: Any = None
        self._error: BaseException | None = None
        self._callbacks: list = []

    def done(self) -> bool:
        return self._done

    def set_result(self, result: Any) -> None:
        self._value, self._done = result, True
        self._run_callbacks()

    def set_exception(self, error: BaseException) -> None:
        self._error, self._done = error, True
        self._run_callbacks()

    def wait(self) -> Any:
        """The result (the error the call raised is raised again)."""
        if not self._done:
            raise RuntimeError("chainrule.jit.Future.wait: the future has no result yet (nothing would set it)")
        if self._error is not None:
            raise self._error
        return self._value

    def value(self) -> Any:
        return self.wait()

    def then(self, callback: Callable[["Future"], Any]) -> "Future":
        """A future of ``callback(self)``, run once this one is done."""
        chained = Future()

        def run(done: Future) -> None:
            try:
                chained.set_result(callback(done))
            except Exception as error:  # the chained future carries it, as PyTorch's
                chained.set_exception(error)

        self.add_done_callback(run)
        return chained

    def add_done_callback(self, callback: Callable[["Future"], None]) -> None:
        self._callbacks.append(callback)
        if self._done:
            self._run_callbacks()

    def _run_callbacks(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)


def fork(func: Callable, *args: Any, **kwargs: Any) -> Future:
    """``torch.jit.fork``: ``func(*args, **kwargs)``, run now (as PyTorch runs it outside
    TorchScript), as a :class:`Future`; an error it raises is raised here."""
    _deprecated("`torch.jit.fork` is deprecated. Please use `torch.compile` instead.")
    future = Future()
    future.set_result(func(*args, **kwargs))
    return future


def wait(future: Future) -> Any:
    """``torch.jit.wait``: the result of a :func:`fork`."""
    _deprecated("`torch.jit.wait` is deprecated. Please use `torch.compile` instead.")
    return future.wait()


# -- fusion switches (accepted: chainrule fuses nothing) ---------------------------------------

_settings = {"onednn": False, "strategy": [("STATIC", 2), ("DYNAMIC", 10)]}


def enable_onednn_fusion(enabled: bool) -> None:
    """Accepted: turns TorchScript's oneDNN fusion on or off (read back by onednn_fusion_enabled)."""
    _settings["onednn"] = bool(enabled)


def onednn_fusion_enabled() -> bool:
    return bool(_settings["onednn"])


def set_fusion_strategy(strategy: list) -> list:
    """Accepted: TorchScript's fusion strategy, a list of ("STATIC" | "DYNAMIC", depth);
    returns the previous one, as PyTorch's."""
    _deprecated("`torch.jit.set_fusion_strategy` is deprecated. Please use `torch.compile` instead.")
    for item in strategy:
        if not (isinstance(item, tuple) and len(item) == 2 and item[0] in ("STATIC", "DYNAMIC")
                and isinstance(item[1], int)):
            raise RuntimeError(f"Expected a list of (\"STATIC\" | \"DYNAMIC\", int) pairs, got {item!r}")
    previous, _settings["strategy"] = _settings["strategy"], list(strategy)
    return previous
