"""``nn.DataParallel``: PyTorch's single-process wrapper that splits a batch across the GPUs
of one machine.  Scripts wrap their model in it unconditionally (``model =
nn.DataParallel(model)``), so it must work everywhere: without a GPU, as in PyTorch, it
holds the module (its state_dict keys gain the ``module.`` prefix) and calls it unchanged.
With GPUs chainrule runs the whole batch on the first device of ``device_ids`` (one replica:
the numbers are the same; for several devices use ``DistributedDataParallel``)."""
from __future__ import annotations

from typing import Any, Sequence

from ... import cuda
from ...backend import device as _device
from ..module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    """Holds ``module`` and calls it: without a GPU ``device_ids`` is ``[]`` (PyTorch's CPU
    behaviour); with GPUs, the module moves to the first of ``device_ids`` (all devices by
    default) and runs the whole batch there."""

    def __init__(self, module: Module, device_ids: Sequence[Any] | None = None, output_device: Any = None,
                 dim: int = 0) -> None:
        super().__init__()
        self.module = module
        if not cuda.is_available():
            self.device_ids: list = []
            return
        if device_ids is None:
            device_ids = list(range(cuda.device_count()))
        self.dim = dim
        self.device_ids = [_device(d).index if not isinstance(d, int) else d for d in device_ids]
        self.output_device = self.device_ids[0] if output_device is None else output_device
        self.src_device_obj = _device("cuda", self.device_ids[0])
        self.module.to(self.src_device_obj)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)
