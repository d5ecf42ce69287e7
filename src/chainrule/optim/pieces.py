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
  a time, and so do updates too short to pay for the copies: SGD without momentum);
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
_BLOCK_SIZES = {size: BLOCK_BYTES // size for size in (1, 2, 4, 8, 16)}  # elements, by item size
_NO_STATE: dict = {}  # an update without state (SGD without momentum) creates no entry
_NO_STATES: tuple = ()


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

    __slots__ = ("_blocks", "_cut", "_pools", "_views")

    def __init__(self) -> None:
        self._blocks: dict = {}
        self._cut: dict = {}
        self._pools: dict = {}
        self._views: dict = {}

    def blocks(self, dtype: np.dtype, n: int) -> tuple:
        """The four block arrays cut to ``n`` elements (n at most a block)."""
        key = (dtype, n)
        found = self._cut.get(key)
        if found is None:
            whole = self._blocks.get(dtype)
            if whole is None:
                size = BLOCK_BYTES // dtype.itemsize
                whole = self._blocks[dtype] = tuple(np.empty(size, dtype) for _ in range(4))
            if len(self._cut) > 1024:
                self._cut.clear()
            found = self._cut[key] = tuple(a[:n] for a in whole)
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


class Slot:
    """Where one parameter's state lies in its group's flat buffers, and what it was when
    laid there (the parameter's array and its state tensors' arrays: if any was replaced
    since, the slot no longer holds)."""

    __slots__ = ("dtype", "start", "stop", "param", "arrays", "flats", "flat_param", "runs")

    def __init__(self, dtype: np.dtype, start: int, stop: int, param: Any, arrays: tuple,
                 flats: list, view: Callable) -> None:
        self.dtype, self.start, self.stop, self.param = dtype, start, stop, param
        self.arrays, self.flats = arrays, flats
        self.flat_param = view(param).reshape(-1)
        self.runs: dict = {}  # stop -> the state buffers cut to the run from here to there

    def states(self, stop: int) -> list:
        """The flat state of the run of parameters from this one's start to ``stop``."""
        found = self.runs.get(stop)
        if found is None:
            found = self.runs[stop] = [flat[self.start:stop] for flat in self.flats]
        return found

    def holds(self, p: Tensor, state: dict) -> bool:
        if p._data is not self.param:
            return False
        for name, data in self.arrays:
            tensor = state.get(name)
            if tensor is None or tensor._data is not data:
                return False
        return True


class Layout:
    """The flat state of one param group: for each state name and real dtype one buffer, each
    parameter's state tensors views of its consecutive part (``slots``: id(param) -> Slot)."""

    __slots__ = ("group", "names", "view", "slots", "params")

    def __init__(self, group: dict, names: tuple, view: Callable, states: Any) -> None:
        self.group, self.names, self.view = group, names, view
        self.slots: dict = {}
        params = group["params"]
        self.params = list(params)  # keeps the ids in ``slots`` from being reused
        if len(set(map(id, params))) != len(params):
            return  # a parameter twice in a group is updated twice, one after the other
        members: dict = {}
        for p in params:
            state = states.get(p) if names else _NO_STATE
            if (state or not names) and _flattenable(p, state, names):
                members.setdefault(view(p._data).dtype, []).append((p, state))
        for dtype, entries in members.items():
            total = sum(view(p._data).size for p, _ in entries)
            flats = [np.empty(total, dtype) for _ in names]
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
                    arrays.append((name, data))
                self.slots[id(p)] = Slot(dtype, start, stop, p._data, tuple(arrays), flats, view)
                start = stop


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
           flat: bool, as_real: bool, gather: bool) -> Iterator[tuple]:
    """``(param, grad, states, work, tmp, key)`` for every piece of the update of ``group``'s
    parameters that have a gradient: ``states`` are the arrays of the state ``names`` (in that
    order), ``work``/``tmp`` scratch of the piece's shape, ``key`` what ``key(state)``
    answered for the piece's parameters (one value per piece: the step count of Adam's bias
    corrections ...).  State is created by ``optimizer._init_state`` on first need; values
    gathered into scratch are copied back once the caller has updated the piece; each
    parameter's version is bumped.  With ``as_real`` complex arrays come as interleaved real
    pairs (PyTorch's view_as_real, which all but SGD use).  ``gather``: whether an update is
    long enough to pay for gathering small parameters (copies in and out)."""
    view = real if as_real else _itself
    if not names and not gather and key is None:  # nothing to lay flat or gather: one by one
        return _each(optimizer, group, view, optimizer._scratch, op_name)
    return _laid_out(optimizer, group, names, key, op_name, flat, view, gather)


def _laid_out(optimizer: Any, group: dict, names: tuple, key: Callable | None, op_name: str,
              flat: bool, view: Callable, gather: bool) -> Iterator[tuple]:
    """:func:`pieces` through the group's flat layout (``flat``) or one parameter at a time."""
    items = _items(optimizer, group, names, key, op_name)
    if not items:
        return
    slots = None
    if flat:
        layout = optimizer._layouts.get(id(group))
        if layout is None or layout.group is not group or layout.names != names or layout.view is not view:
            layout = None
        slots = _slots(optimizer, group, names, view, items, layout)
    scratch = optimizer._scratch
    run: list = []
    for index, (p, state, value) in enumerate(items):
        slot = slots[index] if slots is not None else None
        if slot is None:
            if run:
                yield from _run_pieces(run, view, scratch)
                run = []
            yield from _alone(p, state, names, value, view, scratch)
            continue
        if run:
            first, last = run[0][1], run[-1][1]
            if (not gather or last.dtype is not slot.dtype or last.stop != slot.start or run[0][2] != value
                    or slot.stop - first.start > _GATHERED // slot.dtype.itemsize
                    or slot.stop - slot.start > _SMALL // slot.dtype.itemsize):
                yield from _run_pieces(run, view, scratch)
                run = []
        run.append((p, slot, value))
    if run:
        yield from _run_pieces(run, view, scratch)


#: Parameters up to this many bytes are gathered with their neighbours, into runs of at most
#: ``_GATHERED`` bytes; larger ones are updated in place.
_SMALL = BLOCK_BYTES // 8
_GATHERED = BLOCK_BYTES


def _items(optimizer: Any, group: dict, names: tuple, key: Callable | None, op_name: str) -> list:
    """``(p, state, key)`` for the parameters with a gradient, their state created and their
    step counted (``key``); each one's version is bumped, as the update writes into it."""
    states = optimizer.state
    fused = group.get("fused")
    items = []
    for p in group["params"]:
        if p._grad is None:
            continue
        if p._grad.is_sparse:
            optimizer._densify(p, group)
        if fused and p._data.dtype.kind != "f":
            raise fused_error(p)
        state = states[p] if names else _NO_STATE
        if names and len(state) == 0:
            optimizer._init_state(state, p, group)
        items.append((p, state, key(state) if key is not None else None))
        counter = p._vc
        if counter is None:
            counter = p._version_counter()
        counter.bump(op_name)
    return items


def fused_error(p: Tensor) -> RuntimeError:
    """PyTorch's refusal of ``fused=True`` for a parameter that is not floating point."""
    return RuntimeError(
        f"`fused=True` requires all the params to be floating point Tensors of supported devices: "
        f"{FUSED_DEVICES} but {p.dtype} and {p.device.type}")


def _slots(optimizer: Any, group: dict, names: tuple, view: Callable, items: list, layout: Any) -> list:
    """Each item's slot in the group's layout (None: updated alone); the layout is (re)built
    when a parameter being updated has flattenable state outside it (its first step, state
    loaded or replaced, ``p.data`` replaced)."""
    if layout is not None:
        found = layout.slots
        slots = []
        for p, state, _ in items:
            slot = found.get(id(p))
            if slot is None or not slot.holds(p, state):
                if _flattenable(p, state, names):
                    break
                slot = None
            slots.append(slot)
        else:
            return slots
    layout = optimizer._layouts[id(group)] = Layout(group, names, view, optimizer.state)
    found = layout.slots
    return [found.get(id(p)) for p, _, _ in items]


def _each(optimizer: Any, group: dict, view: Callable, scratch: Scratch, op_name: str) -> Iterator[tuple]:
    """Stateless updates, parameter by parameter (large ones a block at a time)."""
    fused = group.get("fused")
    for p in group["params"]:
        grad = p._grad
        if grad is None:
            continue
        if grad.is_sparse:
            grad = optimizer._densify(p, group)
        if fused and p._data.dtype.kind != "f":
            raise fused_error(p)
        counter = p._vc
        if counter is None:
            counter = p._version_counter()
        counter.bump(op_name)
        param, grad = p._data, grad._data
        if view is not _itself:
            param, grad = view(param), view(grad)
        if type(param) is _ndarray and param.size > _BLOCK_SIZES[param.dtype.itemsize] \
                and param.flags.c_contiguous:
            yield from _blocks(param.reshape(-1), grad.reshape(-1), _NO_STATES, None, scratch)
        else:
            work, tmp = scratch.whole(param)
            yield param, grad, _NO_STATES, work, tmp, None


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
    param = param.reshape(-1)
    if param.size <= _BLOCK_SIZES[param.dtype.itemsize]:
        _, _, work, tmp = scratch.blocks(param.dtype, param.size)
        yield param, grad.reshape(-1), [a.reshape(-1) for a in arrays], work, tmp, value
        return
    yield from _blocks(param, grad.reshape(-1), [a.reshape(-1) for a in arrays], value, scratch)


def _blocks(param: Any, grad: Any, arrays: list, value: Any, scratch: Scratch) -> Iterator[tuple]:
    """Flat operands a block at a time."""
    size = param.size
    count = -(-size // _BLOCK_SIZES[param.dtype.itemsize])
    step = -(-size // count)  # equal blocks, not full ones and a sliver
    for start in range(0, size, step):
        stop = min(start + step, size)
        _, _, work, tmp = scratch.blocks(param.dtype, stop - start)
        yield param[start:stop], grad[start:stop], [a[start:stop] for a in arrays], work, tmp, value


def _run_pieces(run: list, view: Callable, scratch: Scratch) -> Iterator[tuple]:
    """Consecutive parameters of the flat layout: one alone goes by blocks, several (small
    ones) are gathered into scratch, updated as one piece and copied back."""
    first = run[0][1]
    stop = run[-1][1].stop
    flats = first.states(stop)
    value = run[0][2]
    if len(run) == 1:
        param = first.flat_param
        grad = view(run[0][0]._grad._data).reshape(-1)
        if param.size <= _BLOCK_SIZES[param.dtype.itemsize]:
            _, _, work, tmp = scratch.blocks(first.dtype, param.size)
            yield param, grad, flats, work, tmp, value
        else:
            yield from _blocks(param, grad, flats, value, scratch)
        return
    values, grads, work, tmp = scratch.blocks(first.dtype, stop - first.start)
    params = [slot.flat_param for _, slot, _ in run]
    np.concatenate(params, out=values)
    np.concatenate([view(p._grad._data).reshape(-1) for p, _, _ in run], out=grads)
    yield values, grads, flats, work, tmp, value
    offset = 0
    for param in params:
        end = offset + param.size
        param[...] = values[offset:end]
        offset = end
