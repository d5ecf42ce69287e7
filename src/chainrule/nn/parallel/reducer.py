"""Gradient buckets for DistributedDataParallel: all-reduced while backward still runs.

The parameters' gradients are grouped into buckets (flat arrays, one dtype each), in the
order backward produces them: reverse registration order, the first bucket holding 1 MiB
(with the default cap), the others up to ``bucket_cap_mb``. A post-accumulate-grad hook on
each parameter copies its gradient into its bucket; when a bucket's last gradient has
arrived, the bucket's sum over the ranks starts (a nonblocking MPI all-reduce), so that the
communication of the late layers overlaps the backward of the early ones. Buckets start in
index order on every rank (MPI needs the same collectives in the same order everywhere).
When the last bucket has started (inside the last hook, so before ``backward()`` returns),
all are waited for, divided by the world size and copied back into ``.grad``.
"""
from __future__ import annotations

import weakref
from typing import Any, Iterable, Sequence

import numpy as np

from ... import distributed as dist
from ...tensor import Tensor

DEFAULT_FIRST_BUCKET_BYTES = 1024 * 1024
DEFAULT_BUCKET_CAP_MB = 25


def bucket_assignment(params: Sequence[Tensor], limits: Sequence[int]) -> list[list[int]]:
    """PyTorch's ``_compute_bucket_assignment_by_size``: indices into ``params``, grouped by
    dtype into buckets that close once they hold at least the current limit (``limits[0]``
    for a dtype's first bucket, then ``limits[1]`` ... the last one repeating), ordered by
    their first index."""
    open_buckets: dict[Any, list[int]] = {}
    sizes: dict[Any, int] = {}
    limit_index: dict[Any, int] = {}
    closed: list[list[int]] = []
    for index, param in enumerate(params):
        key = param._data.dtype
        bucket = open_buckets.setdefault(key, [])
        bucket.append(index)
        sizes[key] = sizes.get(key, 0) + param._data.nbytes
        position = limit_index.setdefault(key, 0)
        if sizes[key] >= limits[min(position, len(limits) - 1)]:
            closed.append(open_buckets.pop(key))
            sizes[key] = 0
            limit_index[key] = position + 1
    closed.extend(bucket for bucket in open_buckets.values() if bucket)
    return sorted(closed, key=min)


class _Bucket:
    """One flat gradient buffer: where each of its parameters' gradients lives in it, how many
    are still to come this iteration, and its all-reduce once started."""

    __slots__ = ("indices", "flat", "views", "pending", "work")

    def __init__(self, indices: list[int], params: Sequence[Tensor]) -> None:
        self.indices = indices
        dtype = params[indices[0]]._data.dtype
        self.flat = np.zeros(sum(params[i]._data.size for i in indices), dtype)
        self.views: dict[int, np.ndarray] = {}
        offset = 0
        for i in indices:
            shape = params[i]._data.shape
            n = params[i]._data.size
            self.views[i] = self.flat[offset:offset + n].reshape(shape)
            offset += n
        self.pending = len(indices)
        self.work: Any = None


def _tensors_in(output: Any) -> Iterable[Tensor]:
    """The tensors in a forward's output (a tensor, or sequences and dicts of them)."""
    stack = [output]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def parameters_reached(outputs: Any) -> set[int]:
    """The ids of the leaf tensors that backward from ``outputs`` would reach, found by
    walking the graph through the public ``grad_fn.next_functions``."""
    found: set[int] = set()
    seen: set[int] = set()
    stack = [t.grad_fn for t in _tensors_in(outputs) if t.grad_fn is not None]
    stack += [t for t in _tensors_in(outputs) if t.grad_fn is None and t.requires_grad]
    while stack:
        node = stack.pop()
        if isinstance(node, Tensor):
            found.add(id(node))
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            found.add(id(variable))
        for next_node, _ in node.next_functions:
            if next_node is not None and id(next_node) not in seen:
                stack.append(next_node)
    return found


class Reducer:
    """The buckets of one DistributedDataParallel, and the bookkeeping of one iteration."""

    def __init__(self, params: Sequence[Tensor], names: Sequence[str], bucket_limits: Sequence[int],
                 process_group: Any, find_unused_parameters: bool, gradient_as_bucket_view: bool) -> None:
        self.params = list(params)
        self.names = list(names)
        self.process_group = process_group
        self.world_size = dist.get_world_size(process_group)
        self.rank = dist.get_rank(process_group)
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        # Buckets are filled in the order backward produces gradients, last parameters first:
        # the first bucket is complete (and on its way) while backward still runs.
        order = list(reversed(range(len(self.params))))
        groups = bucket_assignment([self.params[i] for i in order], bucket_limits)
        self.buckets = [_Bucket([order[j] for j in group], self.params) for group in groups]
        self.bucket_of = {i: b for b, bucket in enumerate(self.buckets) for i in bucket.indices}
        self.expect_hooks = False      # armed by a forward that will be followed by a synced backward
        self.require_finalize = False  # an armed iteration whose reduction has not completed yet
        self.marked: set[int] = set()
        self.next_bucket = 0
        self.used: np.ndarray | None = None
        reducer = weakref.ref(self)  # hooks must not keep a dropped DDP's reducer alive
        self.handles = [param.register_post_accumulate_grad_hook(_hook(reducer, i))
                        for i, param in enumerate(self.params)]

    # -- an iteration ---------------------------------------------------------------------
    def ensure_prior_reduction_finished(self) -> None:
        """Raise PyTorch's error when the previous iteration's reduction never completed: some
        parameter's gradient never arrived, so its bucket could not be reduced."""
        if not self.require_finalize:
            return
        missing = [i for i in range(len(self.params)) if i not in self.marked]
        advice = (
            "Since `find_unused_parameters=True` is enabled, this likely means that not all `forward` outputs "
            "participate in computing loss. You can fix this by making sure all `forward` function outputs "
            "participate in calculating loss. \n"
            if self.find_unused_parameters else
            "You can enable unused parameter detection by passing the keyword argument "
            "`find_unused_parameters=True` to `chainrule.nn.parallel.DistributedDataParallel`, and by \n"
            "making sure all `forward` function outputs participate in calculating loss. \n")
        raise RuntimeError(
            "Expected to have finished reduction in the prior iteration before starting a new one. This error "
            "indicates that your module has parameters that were not used in producing loss. " + advice +
            "If you already have done the above, then the distributed data parallel module wasn't able to locate "
            "the output tensors in the return value of your module's `forward` function. Please include the loss "
            "function and the structure of the return value of `forward` of your module when reporting this issue "
            "(e.g. list, dict, iterable).\n"
            f"Parameter indices which did not receive grad for rank {self.rank}: {' '.join(map(str, missing))}\n"
            f"Parameters which did not receive grad for rank {self.rank}: "
            f"{', '.join(self.names[i] for i in missing)}")

    def prepare_for_backward(self, outputs: Any) -> None:
        """Arm the hooks for the backward that follows this forward; with
        ``find_unused_parameters``, the parameters ``outputs`` do not depend on are ready at once
        (their buckets carry zeros for them)."""
        self.expect_hooks = True
        self.require_finalize = True
        self.marked = set()
        self.next_bucket = 0
        for bucket in self.buckets:
            bucket.pending = len(bucket.indices)
            bucket.work = None
        self.used = None
        if not self.find_unused_parameters:
            return
        reached = parameters_reached(outputs)
        self.used = np.array([id(p) in reached for p in self.params], np.int32)
        for i, param in enumerate(self.params):
            if not self.used[i]:
                bucket = self.buckets[self.bucket_of[i]]
                bucket.views[i][...] = 0
                self._ready(i, bucket)

    def mark_ready(self, index: int) -> None:
        """Parameter ``index`` has its gradient for this iteration (its post-accumulate hook)."""
        if not self.expect_hooks:
            return  # no_sync(), or a backward with no forward armed: gradients stay local
        if index in self.marked:
            raise RuntimeError(
                f"Expected to mark a variable ready only once. This error is caused by one of the following "
                f"reasons: 1) Use of a module parameter outside the `forward` function. 2) Reused parameters in "
                f"multiple reentrant backward passes, or a second backward through the graph of one forward. "
                f"Parameter at index {index} with name {self.names[index]} has been marked as ready twice.")
        if self.used is not None:
            self.used[index] = 1
        bucket = self.buckets[self.bucket_of[index]]
        grad = self.params[index].grad
        view = bucket.views[index]
        if grad is not None and grad._data is not view:
            np.copyto(view, grad._data)
        self._ready(index, bucket)

    def _ready(self, index: int, bucket: _Bucket) -> None:
        self.marked.add(index)
        bucket.pending -= 1
        # Start every bucket that is complete, in index order only: MPI matches collectives
        # by the order in which ranks start them.
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].pending == 0:
            ready = self.buckets[self.next_bucket]
            ready.work = dist.all_reduce(Tensor._wrap(ready.flat), group=self.process_group, async_op=True)
            self.next_bucket += 1
        # MPI moves nonblocking messages along only while the process calls into it.
        for started in self.buckets[:self.next_bucket]:
            started.work.is_completed()
        if self.next_bucket == len(self.buckets):
            self._finalize()

    def _finalize(self) -> None:
        """Wait for every bucket, average, and put the results into the parameters' ``.grad``."""
        used = None
        if self.used is not None:  # which parameters any rank used (the others keep their .grad)
            used = Tensor._wrap(self.used)
            dist.all_reduce(used, op=dist.ReduceOp.MAX, group=self.process_group)
            used = used._data
        for bucket in self.buckets:
            bucket.work.wait()
            if self.gradient_as_bucket_view:
                np.divide(bucket.flat, self.world_size, out=bucket.flat)
            for i in bucket.indices:
                if used is not None and not used[i]:
                    continue
                param, view = self.params[i], bucket.views[i]
                grad = param.grad
                if self.gradient_as_bucket_view:
                    if grad is None or grad._data is not view:
                        param.grad = Tensor._wrap(view)
                elif grad is None:
                    param.grad = Tensor._wrap(view / self.world_size)
                else:  # the average straight into .grad: one pass over the memory
                    np.divide(view, self.world_size, out=grad._data)
                    grad._version_counter().bump("copy_")
        self.expect_hooks = False
        self.require_finalize = False

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def _hook(reducer: "weakref.ref[Reducer]", index: int) -> Any:
    def hook(param: Tensor) -> None:
        owner = reducer()
        if owner is not None:
            owner.mark_ready(index)
    return hook
