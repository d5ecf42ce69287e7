"""``DistributedDataParallel``: one model replica per process, gradients averaged in backward.

Each rank runs the module on its own part of the batch; during backward the gradients are
summed over the ranks bucket by bucket, as soon as each bucket is complete (see
``reducer.py``), and divided by the world size, so every replica takes the same optimizer
step, the step one process would take on the whole batch.
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import numpy as np

from ... import distributed as dist
from ...autograd.grad_mode import is_grad_enabled
from ...tensor import Tensor
from ..module import Module
from .reducer import DEFAULT_BUCKET_CAP_MB, DEFAULT_FIRST_BUCKET_BYTES, Reducer

_MB = 1024 * 1024


def _broadcast_coalesced(tensors: Sequence[Tensor], group: Any, src: int = 0) -> None:
    """Overwrite ``tensors`` with rank ``src``'s values: one broadcast per dtype, of all the
    tensors of that dtype packed into one flat buffer."""
    by_dtype: dict[Any, list[Tensor]] = {}
    for t in tensors:
        by_dtype.setdefault(t._data.dtype, []).append(t)
    for dtype, group_tensors in by_dtype.items():
        flat = Tensor._wrap(np.concatenate([t._data.reshape(-1) for t in group_tensors]).astype(dtype, copy=False))
        dist.broadcast(flat, src=src, group=group)
        offset = 0
        for t in group_tensors:
            n = t._data.size
            np.copyto(t._data, flat._data[offset:offset + n].reshape(t._data.shape))
            t._version_counter().bump("copy_")
            offset += n


def _describe(params: Sequence[Tensor]) -> np.ndarray:
    """The parameters' dtypes and shapes as integers: [count, (dtype, ndim, *shape) ...]."""
    numbers = [len(params)]
    for p in params:
        numbers += [p._data.dtype.num, p._data.ndim, *p._data.shape]
    return np.array(numbers, np.int64)


def _verify_param_shape_across_processes(params: Sequence[Tensor], names: Sequence[str], group: Any) -> None:
    """Every rank must hold the same parameters (count, dtypes, shapes); else a clear error on
    every rank, before any collective could mismatch and hang."""
    mine = _describe(params)
    length = Tensor._wrap(np.array([mine.size], np.int64))
    dist.all_reduce(length, op=dist.ReduceOp.MAX, group=group)
    width = int(length._data[0])
    padded = np.full(width, -1, np.int64)
    padded[:mine.size] = mine
    world = dist.get_world_size(group)
    everyone = Tensor._wrap(np.empty((world, width), np.int64))
    dist.all_gather_into_tensor(everyone, Tensor._wrap(padded), group=group)
    rank = dist.get_rank(group)
    for other, row in enumerate(everyone._data):
        if np.array_equal(row, padded):
            continue
        if row[0] != len(params):
            raise RuntimeError(f"DDP expects same model across all ranks, but Rank {rank} has {len(params)} params, "
                               f"while rank {other} has inconsistent {row[0]} params.")
        position = 1
        for name, p in zip(names, params):
            theirs = row[position:position + 2 + int(row[position + 1])]
            ours = mine[position:position + 2 + p._data.ndim]
            if not np.array_equal(theirs, ours):
                what = "shape" if theirs[0] == ours[0] else "dtype"
                raise RuntimeError(
                    f"DDP expects same model across all ranks, but parameter {name} has shape "
                    f"{list(p._data.shape)} and dtype {p._data.dtype} on rank {rank}, and a different {what} "
                    f"(shape {[int(d) for d in theirs[2:]]}) on rank {other}.")
            position += 2 + p._data.ndim


class DistributedDataParallel(Module):
    """Data parallelism across processes, with ``torch.nn.parallel.DistributedDataParallel``'s
    signature and semantics (CPU tensors, MPI underneath)::

        dist.init_process_group("gloo")               # under mpiexec -n N
        model = DistributedDataParallel(Net())         # rank 0's weights everywhere
        loss_fn(model(local_batch), local_target).backward()   # gradients averaged over ranks
        optimizer.step()                               # identical step on every rank

    At construction the parameters' shapes are checked across ranks and rank 0's parameters
    and buffers are broadcast (``init_sync``); each forward broadcasts the buffers again
    (``broadcast_buffers``/``forward_sync_buffers``). Gradients are reduced in buckets of
    ``bucket_cap_mb`` MiB (25 by default; the bucket of the first-registered parameters, which
    backward reaches last, holds 1 MiB when the cap is the default), as each fills during
    backward. ``no_sync()`` accumulates gradients locally. With ``find_unused_parameters=True``
    the graph is walked from the outputs after each forward and the parameters it does not
    reach are treated as ready; without it an unused parameter makes the next forward raise
    PyTorch's "Expected to have finished reduction in the prior iteration" error.
    ``device_ids``, ``output_device`` and ``dim`` are for GPU modules and must be left unset.
    """

    def __init__(self, module: Module, device_ids: Sequence[Any] | None = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool | None = None, init_sync: bool = True,
                 process_group: Any = None, bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False, static_graph: bool = False,
                 delay_all_reduce_named_params: Any = None, param_to_hook_all_reduce: Any = None,
                 mixed_precision: Any = None, device_mesh: Any = None, skip_all_reduce_unused_params: bool = False,
                 bucket_cap_mb_list: Sequence[float] | None = None, batched_grad_copy: bool = False,
                 forward_sync_buffers: bool | None = None) -> None:
        super().__init__()
        for option, value in (("delay_all_reduce_named_params", delay_all_reduce_named_params),
                              ("param_to_hook_all_reduce", param_to_hook_all_reduce),
                              ("mixed_precision", mixed_precision), ("device_mesh", device_mesh)):
            if value is not None:
                raise NotImplementedError(f"DistributedDataParallel: {option} is not supported by chainrule")
        named = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        if device_ids or output_device is not None:
            raise ValueError(
                "DistributedDataParallel device_ids and output_device arguments only work with "
                "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                f"{device_ids}, output_device {output_device}, and module parameters {{device(type='cpu')}}.")
        if broadcast_buffers is not None:
            warnings.warn("`broadcast_buffers` is deprecated. Use `forward_sync_buffers` instead.",
                          FutureWarning, stacklevel=2)
        self.module = module
        self.device_ids = None
        self.output_device = None
        self.dim = dim
        self.process_group = dist.process_group.resolve(process_group)
        self.forward_sync_buffers = (forward_sync_buffers if forward_sync_buffers is not None
                                     else broadcast_buffers if broadcast_buffers is not None else True)
        init_sync_buffers = forward_sync_buffers is not None or self.forward_sync_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        cap_mb = DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb
        self.bucket_bytes_cap = int(cap_mb * _MB)
        if bucket_cap_mb_list:
            limits = [int(mb * _MB) for mb in bucket_cap_mb_list]
        else:
            first = DEFAULT_FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap
            limits = [first, self.bucket_bytes_cap]
        names = [name for name, _ in named]
        params = [p for _, p in named]
        _verify_param_shape_across_processes(params, names, self.process_group)
        if init_sync:
            states = list(module.parameters())
            if init_sync_buffers:
                states += list(module.buffers())
            _broadcast_coalesced(states, self.process_group)
        self.reducer = Reducer(params, names, limits, self.process_group, find_unused_parameters,
                               gradient_as_bucket_view)

    @property
    def broadcast_buffers(self) -> bool:
        return self.forward_sync_buffers

    @broadcast_buffers.setter
    def broadcast_buffers(self, value: bool) -> None:
        self.forward_sync_buffers = value

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        grad_enabled = is_grad_enabled()
        if grad_enabled:
            self.reducer.ensure_prior_reduction_finished()
        if self.forward_sync_buffers and self.require_forward_param_sync:
            buffers = list(self.module.buffers())
            if buffers and dist.get_world_size(self.process_group) > 1:
                _broadcast_coalesced(buffers, self.process_group)
        output = self.module(*inputs, **kwargs)
        if grad_enabled and self.require_backward_grad_sync:
            self.reducer.prepare_for_backward(output)
        return output

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Within this context, backward accumulates gradients locally without reducing them; the
        first backward after it reduces the accumulated gradients."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def _set_static_graph(self) -> None:
        """Accepted for compatibility: the buckets here never change between iterations."""
        self.static_graph = True
