"""Collectives with torch.distributed's names and semantics, carried by MPI.

Each works in place on the tensors' storage: a contiguous tensor's array is handed to MPI
as it is; a non-contiguous one (or a dtype MPI cannot reduce, float16) is copied into a
contiguous buffer and the result copied back. ``async_op=True`` starts MPI's nonblocking
form and returns a ``Work``; the result is in the tensors once ``wait()`` returns (or
``is_completed()`` says True).
"""
from __future__ import annotations

import datetime
import enum
import os
import time
from typing import Any, Callable, Sequence

import numpy as np

from ..tensor import Tensor
from . import mpi
from .process_group import resolve


class RedOpType(enum.IntEnum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8
    UNUSED = 9


class ReduceOp:
    """How a reduction combines the ranks' values: ``ReduceOp.SUM``, ``PRODUCT``, ``MIN``,
    ``MAX``, ``AVG`` (the sum divided by the world size; for integers, truncated towards
    zero, as NCCL does), and the bitwise ``BAND``, ``BOR``, ``BXOR`` for integers and bools."""

    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM
    RedOpType = RedOpType


# Bools are reduced logically (MPI has no arithmetic on them); PyTorch's results agree.
_BOOL_OPS = {RedOpType.SUM: "LOR", RedOpType.MAX: "LOR", RedOpType.BOR: "LOR", RedOpType.PRODUCT: "LAND",
             RedOpType.MIN: "LAND", RedOpType.BAND: "LAND", RedOpType.BXOR: "LXOR"}
_OPS = {RedOpType.SUM: "SUM", RedOpType.AVG: "SUM", RedOpType.PRODUCT: "PROD", RedOpType.MIN: "MIN",
        RedOpType.MAX: "MAX", RedOpType.BAND: "BAND", RedOpType.BOR: "BOR", RedOpType.BXOR: "BXOR"}


_op_cache: dict[tuple, Any] = {}


def _mpi_op(op: Any, dtype: np.dtype) -> Any:
    """The MPI operation that performs ``op`` on ``dtype`` (looked up once per pair: a
    small all_reduce costs microseconds, and this is on its path)."""
    key = (op, dtype.kind)
    found = _op_cache.get(key)
    if found is None:
        found = _op_cache[key] = _lookup_op(op, dtype)
    return found


def _lookup_op(op: Any, dtype: np.dtype) -> Any:
    MPI = mpi.load()
    try:
        op = RedOpType(op)
    except ValueError:
        raise ValueError(f"unknown reduce op {op!r}: use a chainrule.distributed.ReduceOp") from None
    table = _BOOL_OPS if dtype.kind == "b" else _OPS
    if op not in table:
        raise ValueError(f"ReduceOp.{op.name} is not supported for {dtype} tensors by chainrule.distributed")
    if op in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR) and dtype.kind not in "iub":
        raise RuntimeError(f"Cannot use ReduceOp.{op.name} with {dtype} tensors: bitwise ops need integers or bools")
    return getattr(MPI, table[op])


def _average(buffer: np.ndarray, size: int) -> None:
    if buffer.dtype.kind in "iu":
        np.copyto(buffer, np.sign(buffer) * (np.abs(buffer) // size))
    else:
        np.divide(buffer, size, out=buffer)


def _array(tensor: Any, what: str) -> np.ndarray:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{what} must be a Tensor, got {type(tensor).__name__}")
    array = tensor._data
    if type(array) is not np.ndarray:
        raise RuntimeError(f"chainrule.distributed works on CPU tensors; {what} is on {tensor.device}: move it with .cpu()")
    return array


def _wire(dtype: np.dtype) -> np.dtype:
    """The dtype a buffer travels in: MPI reduces no float16, so those go as float32."""
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def _inplace(tensor: Tensor, what: str) -> tuple[np.ndarray, Callable[[], None] | None]:
    """A contiguous buffer holding ``tensor``'s values, and the write-back that puts the
    buffer's values into the tensor's storage (None when the buffer *is* that storage)."""
    array = _array(tensor, what)
    if array.flags.c_contiguous and array.flags.writeable and array.dtype != np.float16:
        return array, None
    buffer = np.ascontiguousarray(array, dtype=_wire(array.dtype)).reshape(-1)
    return buffer, lambda: np.copyto(array, buffer.reshape(array.shape), casting="unsafe")


def _flat(tensor: Tensor, what: str, dtype: np.dtype | None = None) -> np.ndarray:
    """A contiguous read-only view (or copy) of ``tensor``'s values, in ``dtype``'s wire form."""
    array = _array(tensor, what)
    return np.ascontiguousarray(array, dtype=_wire(dtype or array.dtype)).reshape(-1)


def _mark_written(tensors: Sequence[Tensor], op_name: str) -> None:
    """Count an in-place write to each tensor's storage (checked by backward, as for any in-place op)."""
    for tensor in tensors:
        tensor._version_counter().bump(op_name)


class Future:
    """The result of a ``Work``, as ``torch.futures.Future``: ``wait()``/``value()`` give the
    output tensors, ``then(callback)`` chains ``callback(future)``."""

    def __init__(self, work: "Work | None" = None, value: Any = None) -> None:
        self._work = work
        self._value = value

    def done(self) -> bool:
        return self._work is None or self._work.is_completed()

    def wait(self) -> Any:
        if self._work is not None:
            self._work.wait()
            self._value, self._work = self._work.result(), None
        return self._value

    def value(self) -> Any:
        return self.wait()

    def then(self, callback: Callable[["Future"], Any]) -> "Future":
        self.wait()
        return Future(value=callback(self))


class Work:
    """A collective in flight (``async_op=True``): ``wait()`` blocks until its results are
    in the output tensors, ``is_completed()`` asks without blocking."""

    def __init__(self, requests: Sequence[Any], finish: Callable[[], None] | None, outputs: Sequence[Tensor],
                 keep: Any = None) -> None:
        self._requests = list(requests)
        self._finish = finish
        self._outputs = list(outputs)
        self._keep = keep  # the buffers MPI reads and writes must live until it is done
        self._done = False

    def _complete(self) -> None:
        self._done = True
        self._requests = []
        self._keep = None
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()

    def is_completed(self) -> bool:
        if not self._done and mpi.load().Request.Testall(self._requests):
            self._complete()
        return self._done

    def wait(self, timeout: datetime.timedelta | float | None = None) -> bool:
        """Block until the collective has finished; with ``timeout`` (seconds or a timedelta),
        a RuntimeError if it has not by then."""
        if self._done:
            return True
        if timeout is None:
            # Poll, giving the core away between polls: on a loaded machine a rank spinning in
            # MPI's wait would take the CPU from the rank it is waiting for.
            test_all = mpi.load().Request.Testall
            while not test_all(self._requests):
                os.sched_yield()
        else:
            seconds = timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else float(timeout)
            deadline = time.monotonic() + seconds
            while not self.is_completed():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Work.wait timed out after {seconds:g} s: a rank has not joined the collective")
                time.sleep(1e-4)
        self._complete()
        return True

    synchronize = wait

    def is_success(self) -> bool:
        return self.is_completed()

    def exception(self) -> None:
        return None

    def result(self) -> list[Tensor]:
        return list(self._outputs)

    def get_future(self) -> Future:
        return Future(self)


def _run(start: Callable[[], Any], blocking: Callable[[], None], finish: Callable[[], None] | None,
         outputs: Sequence[Tensor], async_op: bool, op_name: str, keep: Any = None) -> Work | None:
    """Run a collective: ``blocking()`` at once, or ``start()`` (the nonblocking form, giving
    MPI requests) and a ``Work``; either way ``finish`` and the version bump run when done."""
    def done() -> None:
        if finish is not None:
            finish()
        _mark_written(outputs, op_name)

    if not async_op:
        blocking()
        done()
        return None
    requests = start()
    return Work(requests if isinstance(requests, list) else [requests], done, outputs, keep)


def _then(*steps: Callable[[], None] | None) -> Callable[[], None]:
    def run() -> None:
        for step in steps:
            if step is not None:
                step()
    return run


def _root(rank: int | None, group_rank: int | None, size: int, default: int | None, what: str) -> int:
    if rank is not None and group_rank is not None:
        raise ValueError("Can't specify both group_rank and global_rank")
    root = rank if rank is not None else group_rank if group_rank is not None else default
    if root is None:
        raise ValueError("Must specify global_rank or group_rank")
    if not 0 <= int(root) < size:
        raise ValueError(f"{what} rank {root} is out of range for a group of {size} processes")
    return int(root)


def all_reduce(tensor: Tensor, op: Any = ReduceOp.SUM, group: Any = None, async_op: bool = False) -> Work | None:
    """Reduce ``tensor`` across all ranks with ``op``, in place, so that every rank holds the result.

    >>> t = chainrule.tensor([float(dist.get_rank() + 1)])
    >>> dist.all_reduce(t)            # on 2 ranks: tensor([3.]) on both
    """
    pg = resolve(group)
    buffer, write_back = _inplace(tensor, "tensor")
    mpi_op, MPI = _mpi_op(op, buffer.dtype), mpi.load()
    average = (lambda: _average(buffer, pg.size())) if op == RedOpType.AVG else None
    return _run(lambda: pg.comm.Iallreduce(MPI.IN_PLACE, buffer, mpi_op),
                lambda: pg.comm.Allreduce(MPI.IN_PLACE, buffer, mpi_op),
                _then(average, write_back), [tensor], async_op, "all_reduce_", buffer)


def broadcast(tensor: Tensor, src: int | None = None, group: Any = None, async_op: bool = False,
              group_src: int | None = None) -> Work | None:
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank."""
    pg = resolve(group)
    root = _root(src, group_src, pg.size(), None, "src")
    buffer, write_back = _inplace(tensor, "tensor")
    return _run(lambda: pg.comm.Ibcast(buffer, root=root), lambda: pg.comm.Bcast(buffer, root=root),
                write_back, [tensor], async_op, "broadcast_", buffer)


def _check_list(tensors: Any, size: int, what: str) -> list[Tensor]:
    if not isinstance(tensors, (list, tuple)) or len(tensors) != size:
        given = len(tensors) if isinstance(tensors, (list, tuple)) else type(tensors).__name__
        raise ValueError(f"{what} must be a list of {size} tensors (one per rank), got {given}")
    return list(tensors)


def _check_same(tensors: Sequence[Tensor], reference: Tensor, what: str) -> None:
    for i, t in enumerate(tensors):
        _array(t, f"{what}[{i}]")
        if t._data.dtype != reference._data.dtype:
            raise TypeError(f"{what}[{i}] has dtype {t.dtype}, expected {reference.dtype}")


def _scatter_into(buffer: np.ndarray, tensors: Sequence[Tensor]) -> Callable[[], None]:
    """The finish step that copies consecutive pieces of ``buffer`` into ``tensors``."""
    def finish() -> None:
        offset = 0
        for t in tensors:
            n = t._data.size
            np.copyto(t._data, buffer[offset:offset + n].reshape(t._data.shape), casting="unsafe")
            offset += n
    return finish


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: Any = None, async_op: bool = False) -> Work | None:
    """Every rank's ``tensor``, into ``tensor_list[rank]`` on every rank (the pieces may differ in
    size across ranks: each ``tensor_list[i]`` is shaped like rank ``i``'s tensor)."""
    pg = resolve(group)
    outputs = _check_list(tensor_list, pg.size(), "tensor_list")
    send = _flat(tensor, "tensor")
    _check_same(outputs, tensor, "tensor_list")
    if outputs[pg.rank()]._data.size != send.size:
        raise ValueError(f"tensor_list[{pg.rank()}] has {outputs[pg.rank()]._data.size} elements but this "
                         f"rank's tensor has {send.size}")
    counts = [t._data.size for t in outputs]
    receive = np.empty(sum(counts), send.dtype)
    spec = [receive, (counts, None)]
    return _run(lambda: pg.comm.Iallgatherv(send, spec), lambda: pg.comm.Allgatherv(send, spec),
                _scatter_into(receive, outputs), outputs, async_op, "all_gather_", (send, receive))


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group: Any = None,
                           async_op: bool = False) -> Work | None:
    """Every rank's ``input_tensor``, concatenated (or stacked) in rank order into ``output_tensor``,
    which holds world size times as many elements."""
    pg = resolve(group)
    send = _flat(input_tensor, "input_tensor")
    receive, write_back = _inplace(output_tensor, "output_tensor")
    if receive.size != send.size * pg.size() or receive.dtype != send.dtype:
        raise ValueError(f"output_tensor must have world_size ({pg.size()}) times the elements of input_tensor "
                         f"({send.size}) and its dtype; got {receive.size} elements of {output_tensor.dtype}")
    return _run(lambda: pg.comm.Iallgather(send, receive), lambda: pg.comm.Allgather(send, receive),
                write_back, [output_tensor], async_op, "all_gather_into_tensor_", (send, receive))


def reduce_scatter(output: Tensor, input_list: list[Tensor], op: Any = ReduceOp.SUM, group: Any = None,
                   async_op: bool = False) -> Work | None:
    """Reduce ``input_list[i]`` across ranks with ``op`` and put the result in rank ``i``'s ``output``."""
    pg = resolve(group)
    inputs = _check_list(input_list, pg.size(), "input_list")
    _check_same(inputs, output, "input_list")
    receive, write_back = _inplace(output, "output")
    counts = [t._data.size for t in inputs]
    if counts[pg.rank()] != receive.size:
        raise ValueError(f"input_list[{pg.rank()}] has {counts[pg.rank()]} elements but output has {receive.size}")
    send = np.concatenate([_flat(t, "input_list", receive.dtype) for t in inputs])
    mpi_op = _mpi_op(op, receive.dtype)
    average = (lambda: _average(receive, pg.size())) if op == RedOpType.AVG else None
    return _run(lambda: pg.comm.Ireduce_scatter(send, receive, counts, mpi_op),
                lambda: pg.comm.Reduce_scatter(send, receive, counts, mpi_op),
                _then(average, write_back), [output], async_op, "reduce_scatter_", (send, receive))


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: Any = ReduceOp.SUM, group: Any = None,
                          async_op: bool = False) -> Work | None:
    """Reduce ``input`` (world size pieces of ``output``'s size, in rank order) across ranks with
    ``op``; rank ``i``'s ``output`` gets piece ``i`` of the result."""
    pg = resolve(group)
    receive, write_back = _inplace(output, "output")
    send = _flat(input, "input", receive.dtype)
    if send.size != receive.size * pg.size():
        raise ValueError(f"input must have world_size ({pg.size()}) times the elements of output "
                         f"({receive.size}); got {send.size}")
    mpi_op = _mpi_op(op, receive.dtype)
    average = (lambda: _average(receive, pg.size())) if op == RedOpType.AVG else None
    return _run(lambda: pg.comm.Ireduce_scatter_block(send, receive, mpi_op),
                lambda: pg.comm.Reduce_scatter_block(send, receive, mpi_op),
                _then(average, write_back), [output], async_op, "reduce_scatter_tensor_", (send, receive))


def reduce(tensor: Tensor, dst: int | None = None, op: Any = ReduceOp.SUM, group: Any = None,
           async_op: bool = False, group_dst: int | None = None) -> Work | None:
    """Reduce ``tensor`` across ranks with ``op`` into rank ``dst``'s ``tensor`` (the others' are
    left as they were)."""
    pg = resolve(group)
    root = _root(dst, group_dst, pg.size(), None, "dst")
    MPI = mpi.load()
    if pg.rank() == root:
        buffer, write_back = _inplace(tensor, "tensor")
        mpi_op = _mpi_op(op, buffer.dtype)
        average = (lambda: _average(buffer, pg.size())) if op == RedOpType.AVG else None
        return _run(lambda: pg.comm.Ireduce(MPI.IN_PLACE, buffer, mpi_op, root=root),
                    lambda: pg.comm.Reduce(MPI.IN_PLACE, buffer, mpi_op, root=root),
                    _then(average, write_back), [tensor], async_op, "reduce_", buffer)
    send = _flat(tensor, "tensor")
    mpi_op = _mpi_op(op, send.dtype)
    return _run(lambda: pg.comm.Ireduce(send, None, mpi_op, root=root),
                lambda: pg.comm.Reduce(send, None, mpi_op, root=root), None, [], async_op, "reduce_", send)


def _root_list(items: list[Tensor] | None, tensor: Tensor, pg: Any, name: str, role: str, elements: int) -> list:
    """The root rank's ``gather_list``/``scatter_list``: given, one tensor per rank, each like
    ``tensor`` and of its ``elements`` elements (PyTorch's errors otherwise)."""
    if not items:
        raise ValueError(f"Argument ``{name}`` must be specified on {role} rank.")
    checked = _check_list(items, pg.size(), name)
    _check_same(checked, tensor, name)
    if any(t._data.size != elements for t in checked):
        raise ValueError(f"every tensor in {name} must have the {elements} elements of tensor")
    return checked


def gather(tensor: Tensor, gather_list: list[Tensor] | None = None, dst: int | None = None, group: Any = None,
           async_op: bool = False, group_dst: int | None = None) -> Work | None:
    """Every rank's ``tensor`` into rank ``dst``'s ``gather_list`` (given on ``dst`` only)."""
    pg = resolve(group)
    root = _root(dst, group_dst, pg.size(), 0, "dst")
    send = _flat(tensor, "tensor")
    if pg.rank() != root:
        if gather_list:
            raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
        return _run(lambda: pg.comm.Igather(send, None, root=root), lambda: pg.comm.Gather(send, None, root=root),
                    None, [], async_op, "gather_", send)
    outputs = _root_list(gather_list, tensor, pg, "gather_list", "destination", send.size)
    receive = np.empty(send.size * pg.size(), send.dtype)
    return _run(lambda: pg.comm.Igather(send, receive, root=root), lambda: pg.comm.Gather(send, receive, root=root),
                _scatter_into(receive, outputs), outputs, async_op, "gather_", (send, receive))


def scatter(tensor: Tensor, scatter_list: list[Tensor] | None = None, src: int | None = None, group: Any = None,
            async_op: bool = False, group_src: int | None = None) -> Work | None:
    """Rank ``src``'s ``scatter_list[i]`` into rank ``i``'s ``tensor`` (the list is given on ``src`` only)."""
    pg = resolve(group)
    root = _root(src, group_src, pg.size(), 0, "src")
    receive, write_back = _inplace(tensor, "tensor")
    send = None
    if pg.rank() == root:
        inputs = _root_list(scatter_list, tensor, pg, "scatter_list", "source", receive.size)
        send = np.concatenate([_flat(t, "scatter_list", receive.dtype) for t in inputs])
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    return _run(lambda: pg.comm.Iscatter(send, receive, root=root), lambda: pg.comm.Scatter(send, receive, root=root),
                write_back, [tensor], async_op, "scatter_", (send, receive))


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None,
            timeout: datetime.timedelta | None = None) -> Work | None:
    """Wait until every rank of the group has reached this call."""
    pg = resolve(group)
    return _run(lambda: pg.comm.Ibarrier(), lambda: pg.comm.Barrier(), None, [], async_op, "barrier")
