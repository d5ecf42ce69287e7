"""Hooks on the values ops save for backward (PyTorch's ``torch.autograd.graph``
``saved_tensors_hooks``, ``save_on_cpu``, ``disable_saved_tensors_hooks``).

Inside ``saved_tensors_hooks(pack, unpack)`` every array an op saves for its backward (and
every tensor a user ``Function`` saves with ``save_for_backward``) is handed to ``pack`` as a
Tensor when the op records, and only what ``pack`` returns stays in the graph; the node's
backward (or ``ctx.saved_tensors``) gets ``unpack(packed)`` back.  With no hooks pushed nothing of
this runs: the hooks ride on the recording observers (:mod:`.observe`), which the lean
recording paths already check, and on the node's own backward hooks, which the engine
already checks per node.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np

from ..backend import array_backend
from . import function as _function
from . import observe
from .function import Op
from .grad_mode import no_grad


class _HookState(threading.local):
    """The hooks pushed in this thread (innermost last), and the message of
    ``disable_saved_tensors_hooks`` while it is active."""

    def __init__(self) -> None:
        self.stack: list = []
        self.disabled_message: str | None = None


_state = _HookState()
_observing: list = []  # the removal functions of the observers, while hooks exist
_active = [0]  # pushed hooks in all threads


class saved_tensors_hooks:
    """Context manager: ``pack_hook(tensor) -> Any`` runs on every tensor an op saves for
    backward, and ``unpack_hook(packed) -> Tensor`` gives it back when backward needs it.
    Nested, only the innermost pair applies."""

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> "saved_tensors_hooks":
        if _state.disabled_message is not None:
            raise RuntimeError(_state.disabled_message)
        _state.stack.append((self.pack_hook, self.unpack_hook))
        _active[0] += 1
        if not _observing:
            _observing.extend((observe.add(observe.forward, _pack_saved), observe.add(observe.saved, _pack_function)))
        return self

    def __exit__(self, *exc: object) -> None:
        _state.stack.pop()
        _active[0] -= 1
        if not _active[0]:
            while _observing:
                _observing.pop()()


class save_on_cpu(saved_tensors_hooks):
    """Context manager: saved tensors are kept on the CPU and moved back to their device for
    backward (on a CPU-only run they stay where they are)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack_to_cpu(tensor: Any) -> tuple:
            return (tensor.device, tensor.cpu())

        def unpack_from_cpu(packed: tuple) -> Any:
            device, tensor = packed
            return tensor.to(device)

        super().__init__(pack_to_cpu, unpack_from_cpu)


class disable_saved_tensors_hooks:
    """Context manager: entering ``saved_tensors_hooks`` (or ``save_on_cpu``) inside it raises
    ``RuntimeError(error_message)``."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message
        self._previous: str | None = None

    def __enter__(self) -> None:
        self._previous = _state.disabled_message
        _state.disabled_message = self.error_message

    def __exit__(self, *exc: object) -> None:
        _state.disabled_message = self._previous


class _Packed:
    """What a hooked node keeps instead of its saved arrays: the packed values, where each
    saved array came from (an input's position, the output, or neither), the arguments that
    were no arrays, and the unpack hook."""

    __slots__ = ("packed", "roles", "arguments", "unpack")

    def __init__(self, packed: list, roles: list, arguments: tuple, unpack: Callable) -> None:
        self.packed = packed
        self.roles = roles
        self.arguments = arguments
        self.unpack = unpack


def _is_array(value: Any) -> bool:
    return type(value) is np.ndarray or array_backend(value) is not None


def _pack_saved(node: Any, args: tuple, kwargs: dict, output: Any) -> None:
    """The recording observer: pack what ``node`` saved with the innermost hooks."""
    saved = node.saved
    if not _state.stack or not saved or not isinstance(node, Op):
        return
    pack, unpack = _state.stack[-1]
    inputs = node.inputs or ()
    packed, roles = [], []
    with no_grad():  # as PyTorch runs the hooks: what they compute records nothing (nor packs)
        for value, role in zip(saved, _roles(node, saved, inputs)):
            if role is None:
                packed.append(value)
            else:
                positions, is_output = role
                if positions and isinstance(args[positions[0]], _function.Tensor):
                    tensor = args[positions[0]]
                elif is_output:
                    tensor = output
                else:
                    tensor = _function._make(value, None, False)
                packed.append(pack(tensor))
            roles.append(role)
    # Only what pack returned stays: the node's own references to arrays are dropped too.
    arguments = tuple(None if _is_array(a) else a for a in inputs)
    node.saved = _Packed(packed, roles, arguments, unpack)
    node.inputs = ()
    node.output = None
    node.register_prehook(_unpacker(node))
    node.register_hook(_repacker(node))


def _pack_function(ctx: Any) -> None:
    """The observer of user Functions: pack each tensor ``save_for_backward`` kept; each read
    of ``ctx.saved_tensors`` unpacks it anew, as in PyTorch."""
    if not _state.stack:
        return
    pack, unpack = _state.stack[-1]
    entries = []
    with no_grad():
        for kind, item, data in ctx.saved:
            if kind == "output":
                entries.append(("packed", _checked(unpack), pack(_function._make(data, ctx, True))))
            elif isinstance(item, _function.Tensor):
                entries.append(("packed", _checked(unpack), pack(item)))
            else:
                entries.append((kind, item, data))
    ctx.saved = tuple(entries)


def _checked(unpack: Callable) -> Callable:
    def unpack_tensor(packed: Any) -> Any:
        with no_grad():
            tensor = unpack(packed)
        if not isinstance(tensor, _function.Tensor):
            raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got "
                            f"result of type {type(tensor).__name__}")
        return tensor

    return unpack_tensor


def _roles(node: Any, saved: tuple, inputs: tuple) -> list:
    """Where each saved value came from: ``(input positions, is the output)`` for an array,
    None for anything else (kept as it is)."""
    roles = []
    for value in saved:
        if _is_array(value):
            roles.append((tuple(i for i, a in enumerate(inputs) if a is value), value is node.output))
        else:
            roles.append(None)
    return roles


def _unpacker(node: Any) -> Callable:
    def unpack_saved(grad_outputs: tuple) -> None:
        holder = node.saved
        if type(holder) is not _Packed:
            return
        inputs = list(holder.arguments)
        output = None
        saved = []
        for value, role in zip(holder.packed, holder.roles):
            if role is None:
                saved.append(value)
                continue
            array = _checked(holder.unpack)(value)._data
            positions, is_output = role
            for i in positions:
                inputs[i] = array
            if is_output:
                output = array
            saved.append(array)
        node.__dict__["_packed"] = holder
        node.saved = tuple(saved)
        node.inputs = tuple(inputs)
        node.output = output

    return unpack_saved


def _repacker(node: Any) -> Callable:
    # After backward the node keeps the packed values again: a second backward (with
    # retain_graph) unpacks anew, as PyTorch's does; without it the engine frees them.
    def repack(grad_inputs: tuple, grad_outputs: tuple) -> None:
        holder = node.__dict__.pop("_packed", None)
        if holder is not None:
            node.saved = holder
            node.inputs = ()
            node.output = None

    return repack
