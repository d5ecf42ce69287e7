"""``functional_call``: a module called with other tensors in place of its parameters and
buffers (for meta-learning, ensembles, per-sample gradients through ``autograd.grad``), the
module itself left as it was.  PyTorch's ``torch.nn.utils.stateless.functional_call``, and
``torch.func.functional_call`` (``chainrule.func``)."""
from __future__ import annotations

import contextlib
import warnings
from typing import Any, Iterator, Mapping, Sequence

from ...tensor import Tensor
from ..module import Module, _changed

__all__ = ["functional_call", "reparametrized_call"]


def _merged(dicts: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    if isinstance(dicts, Mapping):
        return dict(dicts)
    merged: dict[str, Any] = {}
    for d in dicts:
        repeated = sorted(set(merged) & set(d))
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        merged.update(d)
    return merged


def _owner(module: Module, name: str) -> tuple[Module, str]:
    *path, leaf = name.split(".")
    for part in path:
        child = module._modules.get(part) if isinstance(module, Module) else None
        if child is None:
            raise AttributeError(f"{type(module).__name__} has no submodule '{part}' (in '{name}')")
        module = child
    return module, leaf


@contextlib.contextmanager
def _swapped(module: Module, tensors: dict[str, Any]) -> Iterator[None]:
    """Each named parameter, buffer or attribute of ``module`` replaced by the given tensor
    while the block runs, and put back afterwards (also when the block raises)."""
    restore: list[tuple[Module, str, str, Any]] = []  # (owner, leaf, where, old value)
    try:
        for name, value in tensors.items():
            owner, leaf = _owner(module, name)
            for where in ("_parameters", "_buffers"):
                table = owner.__dict__[where]
                if leaf in table:
                    restore.append((owner, leaf, where, table[leaf]))
                    table[leaf] = value
                    break
            else:  # a plain attribute (or a new one), as PyTorch's swap does
                restore.append((owner, leaf, "__dict__", owner.__dict__.get(leaf, _MISSING)))
                owner.__dict__[leaf] = value
        _changed()
        yield
    finally:
        for owner, leaf, where, old in reversed(restore):
            table = owner.__dict__ if where == "__dict__" else owner.__dict__[where]
            if old is _MISSING:
                del table[leaf]
            else:
                table[leaf] = old
        _changed()


_MISSING = object()


def functional_call(module: Module, parameters_and_buffers: Mapping[str, Any], args: Any = None,
                    kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True, strict: bool = False) -> Any:
    """The deprecated spelling of :func:`chainrule.func.functional_call` (one dictionary)."""
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be removed "
                  "in a future version of PyTorch. Please use `torch.func.functional_call` instead which is a "
                  "drop-in replacement.", FutureWarning, stacklevel=2)
    return reparametrized_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)


def reparametrized_call(module: Module, parameter_and_buffer_dicts: Mapping[str, Any] | Sequence[Mapping[str, Any]],
                    args: Any = None, kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with the tensors of ``parameter_and_buffer_dicts`` (keys as
    in ``named_parameters``/``named_buffers``) in place of its own.  ``tie_weights``: a
    parameter the module shares under several names is replaced under all of them;
    ``strict``: every parameter and buffer must be given, and nothing else."""
    tensors = _merged(parameter_and_buffer_dicts)
    for name, value in tensors.items():
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"functional_call: expected a Tensor for '{name}', got {type(value).__name__}")
    own = dict(module.named_parameters(remove_duplicate=False))
    own.update(module.named_buffers(remove_duplicate=False))
    if tie_weights:  # names that share a given tensor's original get the new one too
        by_identity: dict[int, list[str]] = {}
        for name, original in own.items():
            if original is not None:
                by_identity.setdefault(id(original), []).append(name)
        for name in list(tensors):
            if name in own and own[name] is not None:
                for tied in by_identity[id(own[name])]:
                    if tied in tensors and tensors[tied] is not tensors[name]:
                        raise ValueError(f"functional_call got multiple values for keys ['{name}', '{tied}'], "
                                         "which are tied. Consider using tie_weights=False")
                    tensors.setdefault(tied, tensors[name])
    if strict:
        missing = sorted(set(own) - set(tensors))
        unexpected = sorted(set(tensors) - set(own))
        if missing or unexpected:
            raise RuntimeError("Error(s) in reparametrizing for " + type(module).__name__ + ":\n\t"
                               + "\n\t".join(([f"Unexpected key(s): {', '.join(map(repr, unexpected))}."]
                                              if unexpected else [])
                                             + ([f"Missing key(s): {', '.join(map(repr, missing))}."]
                                                if missing else [])))
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _swapped(module, tensors):
        return module(*args, **(kwargs or {}))
