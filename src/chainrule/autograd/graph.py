"""Graph introspection names PyTorch exposes under ``torch.autograd.graph``."""
from .function import Node

__all__ = ["Node"]
