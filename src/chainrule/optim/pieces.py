"""How an optimizer's update runs over a param group: few passes over memory, few calls.

An update is a short program of in-place ufuncs over a parameter, its gradient and its state
arrays, the same for every element (``m = lerp(m, g, 1 - beta1)`` ...).  This module hands
the optimizers that program's operands in *pieces*, one-dimensional views or scratch copies
chosen so that

* a large parameter is updated a block at a time (:data:`BLOCK_BYTES` per array): its ~13
  passes then read and write the cache, not main memory, and the scratch stays small;
* the state of a group lives in one flat buffer per state name (each parameter's state tensor
  a view of its part), so consecutive small parameters are updated as one piece: their values
  and gradients gathered into scratch (one ``concatenate`` each), the program run once, the
  new values copied back (``foreach``, the default; ``foreach=False`` updates one parameter at
  a time);
* parameters whose layout does not allow this (another backend's arrays, non-contiguous
  ones, state replaced by the user) are updated whole, as before.

Each element goes through the same ufuncs in the same order whichever way it is cut, so the
results are bit-identical to updating each parameter on its own.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from ..backend import get_array_module
from ..tensor import Tensor

__all__: list[str] = []

#: Bytes of each operand in one block: the ~6 arrays of an Adam block stay in a core's L2.
BLOCK_BYTES = 1 << 18

#: Where ``fused=True`` runs (PyTorch's message lists its devices).
FUSED_DEVICES = ["cuda", "cpu"]

_ndarray = np.ndarray
_NO_STATE: dict = {}  # an update without state (SGD without momentum) creates no entry


def real(array: Any) -> Any:
    """Complex arrays are updated as interleaved real pairs, as PyTorch's view_as_real."""
    if array.dtype.kind != "c":
        return array
    return (array if array.ndim else array.reshape(1)).view(array.real.dtype)


def _itself(array: Any) -> Any:
    return array


class Scratch:
    """Work arrays by dtype, reused across steps: four blocks (gathered values, gathered
    gradients, two temporaries) and, for parameters updated whole, two arrays as large as the
    largest of those."""

    __slots__ = ("_blocks", "_pools", "_views")

    def __init__(self) -> None:
        self._blocks: dict = {}
        self._pools: dict = {}
        self._views: dict = {}

    def blocks(self, dtype: np.dtype) -> tuple:
        found = self._blocks.get(dtype)
        if found is None:
            size = BLOCK_BYTES // dtype.itemsize
            found = self._blocks[dtype] = tuple(np.empty(size, dtype) for _ in range(4))
        return found

    def whole(self, like: Any) -> tuple:
        """Two work arrays of ``like``'s shape and dtype (views into one pool per dtype and
        array type that grows to the largest parameter)."""
        key = (like.shape, like.dtype, type(like))
        views = self._views.get(key)
        if views is not None:
            return views
        kind = key[1:]
        size = int(like.size)
        pool = self._pools.get(kind)
        if pool is None or pool[0].size < size:
            xp = get_array_module(like)
            pool = self._pools[kind] = (xp.empty(size, dtype=like.dtype), xp.empty(size, dtype=like.dtype))
            self._views = {k: v for k, v in self._views.items() if k[1:] != kind}
        views = self._views[key] = (pool[0][:size].reshape(like.shape), pool[1][:size].reshape(like.shape))
        return views


class Layout:
    """The flat state of one param group: for each state name and real dtype one buffer, each
    parameter's state tensor a view of its consecutive part (``slots``: id(param) -> (dtype,
    start, stop, the state tensors' arrays, the flat buffers))."""

    __slots__ = ("group", "names", "view", "slots", "flats", "params")

    def __init__(self, group: dict, names: tuple, view: Callable, states: Any) -> None:
        self.group, self.names, self.view = group, names, view
        self.slots: dict = {}
        self.flats: dict = {}
        params = group["params"]
        self.params = list(params)  # keeps the ids in ``slots`` from being reused
        if len(set(map(id, params))) != len(params):
            return  # a parameter twice in a group is updated twice, one after the other
        members: dict = {}
        view = self.view
        for p in params:
            state = states.get(p) if names else _NO_STATE
            if (state or not names) and _flattenable(p, state, names):
                members.setdefault(view(p._data).dtype, []).append((p, state))
        for dtype, entries in members.items():
            total = sum(view(p._data).size for p, _ in entries)
            flats = self.flats[dtype] = [np.empty(total, dtype) for _ in names]
            start = 0
            for p, state in entries:
                stop = start + view(p._data).size
                arrays = []
                for flat, name in zip(flats, names):
                    tensor = state[name]
                    part = flat[start:stop]
                    part[...] = view(tensor._data).reshape(-1)
                    data = part.view(tensor._data.dtype).reshape(tensor._data.shape)
                    tensor._data = data  # the same state tensor, now a view of the flat buffer
                    arrays.append(data)
                self.slots[id(p)] = (dtype, start, stop, tuple(arrays), flats)
                start = stop

    def slot(self, p: Tensor, state: dict) -> Any:
        """Where ``p``'s state lies in the flat buffers, if it still does (None otherwise)."""
        slot = self.slots.get(id(p))
        if slot is not None:
            view = self.view
            data = p._data  # (``p.data = ...`` may have replaced it)
            if type(data) is not _ndarray or not data.flags.c_contiguous:
                return None
            data = view(data)
            if data.dtype != slot[0] or data.size != slot[2] - slot[1]:
                return None
            for name, data in zip(self.names, slot[3]):
                tensor = state.get(name)
                if tensor is None or tensor._data is not data:
                    return None
        return slot


def _flattenable(p: Tensor, state: dict, names: tuple) -> bool:
    data = p._data
    if type(data) is not _ndarray or not data.flags.c_contiguous:
        return False
    for name in names:
        tensor = state.get(name)
        if not isinstance(tensor, Tensor):
            return False
        array = tensor._data
        if type(array) is not _ndarray or array.shape != data.shape or array.dtype != data.dtype \
                or not array.flags.c_contiguous:
            return False
    return True


def pieces(optimizer: Any, group: dict, names: tuple, key: Callable | None, op_name: str,
           flat: bool, as_real: bool) -> Iterator[tuple]:
    """``(param, grad, states, work, tmp, key)`` for every piece of the update of ``group``'s
    parameters that have a gradient: ``states`` are the arrays of the state ``names`` (in that
    order), ``work``/``tmp`` scratch of the piece's shape, ``key`` what ``key(state)``
    answered for the piece's parameters (one value per piece: the step count of Adam's bias
    corrections ...).  State is created by ``optimizer._init_state`` on first need; values
    gathered into scratch are copied back once the caller has updated the piece; each
    parameter's version is bumped.  With ``as_real`` complex arrays come as interleaved real
    pairs (PyTorch's view_as_real, which all but SGD use)."""
    view = real if as_real else _itself
    states = optimizer.state
    fused = group.get("fused")
    layout = None
    if flat:
        layout = optimizer._layouts.get(id(group))
        if layout is None or layout.group is not group or layout.names != names or layout.view is not view:
            layout = None
    items = []
    for p in group["params"]:
        if p._grad is None:
            continue
        if fused and p._data.dtype.kind != "f":
            raise fused_error(p)
        state = states[p] if names else _NO_STATE
        if len(state) == 0 and names:
            optimizer._init_state(state, p, group)
        items.append((p, state, key(state) if key is not None else None))
        counter = p._vc
        if counter is None:
            counter = p._version_counter()
        counter.bump(op_name)
    if flat and items:
        layout = _current_layout(optimizer, group, names, view, items, layout)
    scratch = optimizer._scratch
    run: list = []
    for item in items:
        p, state, value = item
        slot = layout.slot(p, state) if layout is not None else None
        if slot is None:
            if run:
                yield from _run_pieces(run, view, scratch)
                run = []
            yield from _alone(p, state, names, value, view, scratch)
            continue
        if run:
            last = run[-1]
            if (last[3][0] is not slot[0] or last[3][2] != slot[1] or last[2] != value
                    or slot[2] - run[0][3][1] > BLOCK_BYTES // slot[0].itemsize):
                yield from _run_pieces(run, view, scratch)
                run = []
        run.append((p, state, value, slot))
    if run:
        yield from _run_pieces(run, view, scratch)


def fused_error(p: Tensor) -> RuntimeError:
    """PyTorch's refusal of ``fused=True`` for a parameter that is not floating point."""
    return RuntimeError(
        f"`fused=True` requires all the params to be floating point Tensors of supported devices: "
        f"{FUSED_DEVICES} but {p.dtype} and {p.device.type}")


def _current_layout(optimizer: Any, group: dict, names: tuple, view: Callable, items: list,
                    layout: Any) -> Any:
    """The group's layout, (re)built when a parameter being updated has flattenable state
    outside it (its first step, state loaded or replaced)."""
    if layout is not None:
        for p, state, _ in items:
            if layout.slot(p, state) is None and _flattenable(p, state, names):
                layout = None
                break
        else:
            return layout
    layout = optimizer._layouts[id(group)] = Layout(group, names, view, optimizer.state)
    return layout


def _alone(p: Tensor, state: dict, names: tuple, value: Any, view: Callable,
           scratch: Scratch) -> Iterator[tuple]:
    """One parameter outside the flat layout: a block at a time when it is a contiguous NumPy
    array, else whole."""
    param = view(p._data)
    grad = view(p._grad._data)
    arrays = [view(state[name]._data) for name in names]
    if (type(param) is not _ndarray or not param.flags.c_contiguous
            or not all(type(a) is _ndarray and a.flags.c_contiguous for a in arrays)):
        work, tmp = scratch.whole(param)
        yield param, grad, arrays, work, tmp, value
        return
    yield from _blocks(param.reshape(-1), grad.reshape(-1), [a.reshape(-1) for a in arrays],
                       value, scratch)


def _blocks(param: Any, grad: Any, arrays: list, value: Any, scratch: Scratch) -> Iterator[tuple]:
    """Flat operands a block at a time."""
    size = param.size
    _, _, work, tmp = scratch.blocks(param.dtype)
    step = work.size
    if size <= step:
        yield param, grad, arrays, work[:size], tmp[:size], value
        return
    count = -(-size // step)
    step = -(-size // count)  # equal blocks, not full ones and a sliver
    for start in range(0, size, step):
        stop = min(start + step, size)
        n = stop - start
        yield (param[start:stop], grad[start:stop], [a[start:stop] for a in arrays], work[:n],
               tmp[:n], value)


def _run_pieces(run: list, view: Callable, scratch: Scratch) -> Iterator[tuple]:
    """Consecutive parameters of the flat layout: one alone goes by blocks, several (small
    ones) are gathered into scratch, updated as one piece and copied back."""
    dtype, start, _, _, buffers = run[0][3]
    stop = run[-1][3][2]
    flats = [flat[start:stop] for flat in buffers]
    value = run[0][2]
    if len(run) == 1:
        p = run[0][0]
        yield from _blocks(view(p._data).reshape(-1), view(p._grad._data).reshape(-1), flats, value,
                           scratch)
        return
    n = stop - start
    values, grads, work, tmp = scratch.blocks(dtype)
    values, grads = values[:n], grads[:n]
    params = [view(p._data).reshape(-1) for p, _, _, _ in run]
    np.concatenate(params, out=values)
    np.concatenate([view(p._grad._data).reshape(-1) for p, _, _, _ in run], out=grads)
    yield values, grads, flats, work[:n], tmp[:n], value
    offset = 0
    for param in params:
        end = offset + param.size
        param[...] = values[offset:end]
        offset = end
