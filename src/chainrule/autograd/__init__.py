"""Reverse-mode automatic differentiation: the engine, Function, grad-mode switches,
gradcheck and anomaly detection."""
from .anomaly import detect_anomaly, set_detect_anomaly
from .engine import backward, grad
from .function import Function, FunctionCtx, Node, RemovableHandle, Variable, once_differentiable
from .gradcheck import gradcheck, gradgradcheck
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from . import functional, graph

__all__ = [
    "Function", "FunctionCtx", "Node", "RemovableHandle", "backward", "grad", "gradcheck",
    "gradgradcheck", "detect_anomaly", "set_detect_anomaly", "no_grad", "enable_grad",
    "set_grad_enabled", "inference_mode", "is_grad_enabled", "functional", "graph", "Variable",
    "once_differentiable",
]
