"""``chainrule.onnx``: present so that ``import torch.onnx`` works; exporting is not supported.

ONNX export traces a model through PyTorch's graph capture, which chainrule does not have:
``export`` says so instead of writing a file."""
from __future__ import annotations

from typing import Any


def export(*args: Any, **kwargs: Any) -> None:
    """Not supported: raises NotImplementedError (a RuntimeError, as PyTorch's export errors are)."""
    raise NotImplementedError("chainrule.onnx.export is not supported: chainrule cannot export models to ONNX "
                              "(save the weights with chainrule.save or the model's state_dict instead)")


def is_in_onnx_export() -> bool:
    """Whether an ONNX export is running: never, in chainrule."""
    return False
