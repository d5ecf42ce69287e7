"""Reverse-mode automatic differentiation: graph nodes, the engine, ``Function``, grad-mode
switches, anomaly detection and the public graph API (:mod:`chainrule.autograd.graph`).

This package is the bottom of the library: it imports nothing of chainrule but itself,
``backend`` and ``dtypes``.  ``functional`` (jacobian, hessian ...) and ``gradcheck`` need
the whole library; they live in :mod:`chainrule.calculus` and register themselves here.
"""
from . import graph
from .anomaly import detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled, set_detect_anomaly
from .engine import backward, grad
from .function import Function, FunctionCtx, Variable, once_differentiable
from .grad_mode import (
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled,
)
from .node import Node, RemovableHandle

__all__ = [
    "Function", "FunctionCtx", "Node", "RemovableHandle", "backward", "grad", "gradcheck",
    "gradgradcheck", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
    "is_anomaly_check_nan_enabled", "no_grad", "enable_grad", "set_grad_enabled",
    "inference_mode", "is_inference_mode_enabled", "is_grad_enabled", "functional", "graph",
    "Variable", "once_differentiable", "forward_ad",
]
