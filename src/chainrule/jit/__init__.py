"""``chainrule.jit``: PyTorch's ``torch.jit`` API, run eagerly.

TorchScript compiles a model to export it and run it faster; the numbers are eager
PyTorch's.  chainrule compiles nothing: ``script`` and ``trace`` return modules and functions
that run the Python as written (with TorchScript's attributes where programs use them:
``code``, ``graph``, ``save``, ``original_name``), ``save``/``load`` write and rebuild a
module from its classes (a safetensors file, not a TorchScript archive), and the annotations
and switches are accepted.  See ``jit.modules`` (what differs from TorchScript) and
``jit.archive`` (the file).

>>> traced = torch.jit.trace(model.eval(), example)
>>> torch.jit.save(traced, "model.pt")
>>> torch.jit.load("model.pt")(example)
"""
from .annotations import (
    Attribute, Error, Final, ScriptWarning, TracerWarning, annotate, export, fuser, ignore, interface,
    is_scripting, isinstance, optimized_execution, script_method, strict_fusion, unused,
)
from .archive import load, save
from .frontend import (
    Future, enable_onednn_fusion, fork, freeze, is_tracing, onednn_fusion_enabled, optimize_for_inference,
    run_frozen_optimizations, script, script_if_tracing, set_fusion_strategy, trace, trace_module, wait,
)
from .modules import (
    Graph, RecursiveScriptModule, ScriptFunction, ScriptModule, TopLevelTracedModule, TracedModule,
)

__all__ = [
    "Attribute", "Error", "Final", "Future", "Graph", "RecursiveScriptModule", "ScriptFunction", "ScriptModule",
    "ScriptWarning", "TopLevelTracedModule", "TracedModule", "TracerWarning", "annotate", "enable_onednn_fusion",
    "export", "fork", "freeze", "fuser", "ignore", "interface", "is_scripting", "is_tracing", "isinstance", "load",
    "onednn_fusion_enabled", "optimize_for_inference", "optimized_execution", "run_frozen_optimizations", "save",
    "script", "script_if_tracing", "script_method", "set_fusion_strategy", "strict_fusion", "trace", "trace_module",
    "unused", "wait",
]
