"""Module: the base class of every layer.

A Module keeps its parameters, buffers and submodules in three dicts, filled by assigning
attributes (``self.fc = nn.Linear(2, 3)`` registers a submodule, ``self.w = nn.Parameter(t)``
a parameter), and turns that bookkeeping into ``parameters()``, ``state_dict()``, ``train()``
and the rest, as PyTorch's ``torch.nn.Module`` does.
"""
from __future__ import annotations

import functools
import warnings
from collections import OrderedDict, namedtuple
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from .. import dtypes as _dt
from .. import upcalls
from ..autograd.node import Node, edge_of
from ..autograd.grad_mode import grad_state, no_grad
from ..autograd.versions import storage_root
from ..backend import resolve_device, to_device
from ..creation import empty_like
from ..inplace import zero_gradient
from ..tensor import Size, Tensor, _make
from ..tensor_methods import parse_to_arguments
from .parameter import Buffer, Parameter


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it missed and the ones it did not expect."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook."""

    next_id = 0

    def __init__(self, hooks_dict: dict, *, extra_dict: Any = None) -> None:
        self.hooks_dict = hooks_dict
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        self.extra_dicts = tuple(extra_dict or ())

    def remove(self) -> None:
        for hooks in (self.hooks_dict,) + self.extra_dicts:
            hooks.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    first = lines.pop(0)
    rest = [(spaces * " ") + line if line.strip() else "" for line in lines]
    return first + "\n" + "\n".join(rest)


def _typename(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"{_dt.printed.namespace}.{_dt.from_numpy(value._data.dtype).legacy_name}"
    kind = type(value)
    module = kind.__module__
    return kind.__qualname__ if module in ("builtins", "__builtin__", None) else f"{module}.{kind.__qualname__}"


#: The key a module's extra state is saved under (``<prefix>_extra_state``), as PyTorch's.
_EXTRA_STATE = "_extra_state"
#: The state-dict hook tables every module has.
_STATE_DICT_HOOK_SLOTS = ("_load_state_dict_post_hooks", "_load_state_dict_pre_hooks", "_state_dict_pre_hooks",
                          "_state_dict_hooks")


def _add_hook(hooks: OrderedDict, hook: Callable, prepend: bool = False, flags: tuple = ()) -> RemovableHandle:
    """Register ``hook`` in ``hooks`` (first, with ``prepend``).  ``flags`` are (marks, on)
    pairs: the hook's id goes into each ``marks`` dict that is on, and leaves them all with
    the hook."""
    handle = RemovableHandle(hooks, extra_dict=[marks for marks, _ in flags])
    hooks[handle.id] = hook
    for marks, on in flags:
        if on:
            marks[handle.id] = True
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def _forward_unimplemented(self: "Module", *input: Any) -> None:
    raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')


class Module:
    """Base class for all neural network modules; subclass it and define ``forward``::

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)
            def forward(self, x):
                return self.fc(x).relu()
    """

    dump_patches: bool = False
    _version: int = 1
    training: bool
    call_super_init: bool = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'")
        if args:
            raise TypeError(
                f"{type(self).__name__}.__init__() takes 1 positional argument but {len(args) + 1} were given"
            )
        put = object.__setattr__
        put(self, "training", True)
        put(self, "_parameters", {})
        put(self, "_buffers", {})
        put(self, "_non_persistent_buffers_set", set())
        put(self, "_modules", {})
        put(self, "_forward_hooks", OrderedDict())
        put(self, "_forward_hooks_with_kwargs", OrderedDict())
        put(self, "_forward_hooks_always_called", OrderedDict())
        put(self, "_forward_pre_hooks", OrderedDict())
        put(self, "_forward_pre_hooks_with_kwargs", OrderedDict())
        put(self, "_backward_hooks", OrderedDict())
        put(self, "_backward_pre_hooks", OrderedDict())
        put(self, "_load_state_dict_post_hooks", OrderedDict())
        put(self, "_load_state_dict_pre_hooks", OrderedDict())
        put(self, "_state_dict_pre_hooks", OrderedDict())
        put(self, "_state_dict_hooks", OrderedDict())

    forward: Callable[..., Any] = _forward_unimplemented

    # -- registration ------------------------------------------------------------------
    def _check_new_name(self, kind: str, name: Any, registry: str) -> None:
        """PyTorch's checks of a ``kind`` ("buffer", "parameter") name about to be registered
        in ``self.<registry>``."""
        if registry not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in self.__dict__[registry]:
            raise KeyError(f"attribute '{name}' already exists")

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Keep ``tensor`` as state that is not trained (running statistics ...); it is in
        ``state_dict()`` unless ``persistent=False``."""
        self._check_new_name("buffer", name, "_buffers")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{_typename(tensor)}' object to buffer '{name}' (torch Tensor or None required)"
            )
        if isinstance(tensor, Buffer):
            tensor = tensor._plain()
        self._buffers[name] = tensor
        _changed()
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None, a declared but absent one) under ``name``."""
        self._check_new_name("parameter", name, "_parameters")
        _changed()
        if param is None:
            self._parameters[name] = None
        elif not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                f"(torch.nn.Parameter or None required)"
            )
        elif param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                f"created explicitly. To express '{name}' as a function of another Tensor, "
                f"compute the value in the forward() method."
            )
        else:
            self._parameters[name] = param

    def add_module(self, name: str, module: "Module | None") -> None:
        """Add a child module under ``name`` (also reachable as an attribute)."""
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {_typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = module
        _changed()

    def register_module(self, name: str, module: "Module | None") -> None:
        self.add_module(name, module)

    def get_submodule(self, target: str) -> "Module":
        """The submodule at dotted path ``target`` (``"net.0"``); ``""`` is this module."""
        if target == "":
            return self
        module: Module = self
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(module._get_name() + " has no attribute `" + item + "`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return module

    def set_submodule(self, target: str, module: "Module", strict: bool = False) -> None:
        """Put ``module`` at dotted path ``target``, replacing the submodule there or (unless
        ``strict``) adding it to an existing parent."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if strict and not hasattr(parent, name):
            raise AttributeError(parent._get_name() + " has no attribute `" + name + "`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError("`" + name + "` is not an nn.Module")
        setattr(parent, name, module)

    def _get_owner(self, target: str) -> tuple["Module", str]:
        """The submodule that holds dotted ``target`` and the attribute's name in it."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(module._get_name() + " has no attribute `" + name + "`")
        return module, name

    def get_parameter(self, target: str) -> Parameter:
        module, name = self._get_owner(target)
        param = getattr(module, name)
        if not isinstance(param, Parameter):
            raise AttributeError("`" + name + "` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        module, name = self._get_owner(target)
        if name not in module._buffers:
            raise AttributeError("`" + name + "` is not a buffer")
        return getattr(module, name)

    # -- attribute bookkeeping ------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        state = self.__dict__
        if "_parameters" in state:
            parameters = state["_parameters"]
            if name in parameters:
                return parameters[name]
        if "_buffers" in state:
            buffers = state["_buffers"]
            if name in buffers:
                return buffers[name]
        if "_modules" in state:
            modules = state["_modules"]
            if name in modules:
                return modules[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        state = self.__dict__

        def remove_from(*containers: Any) -> None:
            for container in containers:
                if name in container:
                    if isinstance(container, dict):
                        del container[name]
                    else:
                        container.discard(name)

        params = state.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            remove_from(state, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as parameter '{name}' "
                    f"(torch.nn.Parameter or None expected)"
                )
            self.register_parameter(name, value)
            return
        modules = state.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            remove_from(state, self._parameters, self._buffers, self._non_persistent_buffers_set)
            modules[name] = value
            _changed()
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as child module '{name}' "
                    f"(torch.nn.Module or None expected)"
                )
            modules[name] = value
            _changed()
            return
        buffers = state.get("_buffers")
        if isinstance(value, Buffer) or (buffers is not None and name in buffers):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as buffer '{name}' "
                    f"(torch.nn.Buffer, torch.Tensor or None expected)"
                )
            if buffers is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            if isinstance(value, Buffer):
                persistent = value.persistent
                remove_from(state, self._parameters, self._modules)
            else:
                persistent = name not in self._non_persistent_buffers_set
            self.register_buffer(name, value, persistent)
            return
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        _changed()
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self) -> list:
        keys = (dir(self.__class__) + list(self.__dict__) + list(self._parameters)
                + list(self._modules) + list(self._buffers))
        return sorted(key for key in keys if not key[0].isdigit())

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_compiled_call_impl", None)  # plans belong to this object, not its copies
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        for hooks in _STATE_DICT_HOOK_SLOTS:  # (a module pickled before these existed)
            self.__dict__.setdefault(hooks, OrderedDict())

    # -- iteration -------------------------------------------------------------------------
    def _named_members(self, get_members: Callable, prefix: str = "", recurse: bool = True,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        memo: set = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        for module_prefix, module in modules:
            for name, value in get_members(module):
                if value is None or value in memo:
                    continue
                if remove_duplicate:
                    memo.add(value)
                yield module_prefix + ("." if module_prefix else "") + name, value

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """This module's parameters (and its submodules', with ``recurse``), each once."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs: ``("0.weight", ...)``."""
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def children(self) -> Iterator["Module"]:
        for _, module in self.named_children():
            yield module

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        memo: set = set()
        for name, module in self._modules.items():
            if module is not None and module not in memo:
                memo.add(module)
                yield name, module

    def modules(self) -> Iterator["Module"]:
        for _, module in self.named_modules():
            yield module

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """This module and every submodule below it, with dotted names ("" for this one)."""
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    # -- modes and gradients ---------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout drops, batch norm uses batch statistics); ``train(False)``
        is ``eval()``."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``.grad = None`` (or zero them in place)."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                zero_gradient(param.grad)

    # -- conversion --------------------------------------------------------------------------
    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> "Module":
        if recurse:
            for module in self.children():
                module._apply(fn)
        for key, param in self._parameters.items():
            if param is None:
                continue
            with no_grad():
                applied = fn(param)
            # The Parameter object stays (optimizers hold it); its storage is replaced, and its
            # version counter now watches the new storage.
            param._data = applied._data
            if param._vc is not None and param._vc.root is not None:
                param._vc.root = storage_root(param._data)
            if param.grad is not None:
                with no_grad():
                    param.grad = Tensor._wrap(fn(param.grad)._data)
        for key, buf in self._buffers.items():
            if buf is not None:
                with no_grad():
                    self._buffers[key] = fn(buf)
                _changed()
        return self

    def to_empty(self, *, device: Any, recurse: bool = True) -> "Module":
        """Parameters and buffers moved to ``device`` without their values (uninitialised
        storage of the same shapes and dtypes), as PyTorch's, for a module built on the meta
        device and initialised afterwards."""
        return self._apply(lambda t: empty_like(t, device=device), recurse=recurse)

    def share_memory(self) -> "Module":
        """Every parameter and buffer moved to shared memory (``Tensor.share_memory_``), for
        Hogwild training in forked processes."""
        return self._apply(lambda t: t.share_memory_())

    def apply(self, fn: Callable[["Module"], None]) -> "Module":
        """Call ``fn`` on every submodule (children first) and then on this module."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def to(self, *args: Any, **kwargs: Any) -> "Module":
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``: moves the
        parameters, buffers and gradients (casting the floating-point ones to ``dtype``).
        Parameters stay the same objects, their storage replaced, so an optimizer built before
        the move keeps working."""
        dtype, where, _ = parse_to_arguments(args, {k: v for k, v in kwargs.items() if k != "copy"})
        if dtype is not None:
            dtype = _dt.from_numpy(_dt.to_numpy(dtype))
            if not (dtype.is_floating_point or dtype.is_complex):
                raise TypeError(
                    f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype={dtype}"
                )
        target = None if where is None else resolve_device(where)
        if dtype is None and target is None:
            return self

        def convert(t: Tensor) -> Tensor:
            return t.to(device=target, dtype=dtype if t.is_floating_point() or t.is_complex() else None)

        return self._apply(convert)

    def float(self) -> "Module":
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self) -> "Module":
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self) -> "Module":
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    def bfloat16(self) -> "Module":
        return self._apply(lambda t: t.bfloat16() if t.is_floating_point() else t)

    def type(self, dst_type: Any) -> "Module":
        return self._apply(lambda t: t.type(dst_type))

    def cpu(self) -> "Module":
        """Moves the parameters, buffers and gradients to host memory."""
        return self.to("cpu")

    def cuda(self, device: Any = None) -> "Module":
        """Moves the parameters, buffers and gradients to a GPU (``device``: an index or name;
        None: the current one)."""
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)

    # -- state dict --------------------------------------------------------------------------
    def get_extra_state(self) -> Any:
        """What a module keeps beyond its parameters and buffers: a subclass that defines this
        (and :meth:`set_extra_state`) has it saved under ``<prefix>_extra_state``."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never be called. Please file "
                           "an issue at https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml to "
                           "report this bug.")

    def set_extra_state(self, state: Any) -> None:
        """Restore what :meth:`get_extra_state` returned (called by ``load_state_dict``)."""
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never be called. Please file "
                           "an issue at https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml to "
                           "report this bug.")

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE] = self.get_extra_state()

    def state_dict(self, *, destination: Any = None, prefix: str = "", keep_vars: bool = False) -> dict:
        """Every parameter and persistent buffer by dotted name, as PyTorch names them:
        ``OrderedDict([('0.weight', ...), ('0.bias', ...)])``.  Values share storage with the
        module's tensors (detached unless ``keep_vars``).  State-dict pre hooks run first and
        post hooks last, per module, as in PyTorch."""
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = dict(version=self._version)
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            result = hook(self, destination, prefix, local_metadata)
            if getattr(hook, "_from_public_api", False):
                if result is not None:
                    raise RuntimeError("state_dict post-hook must return None")
            elif result is not None:  # (the private, older form may hand back a new dict)
                destination = result
        return destination

    def register_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, prefix, keep_vars)`` before ``state_dict`` saves this module."""
        return _add_hook(self._state_dict_pre_hooks, hook)

    def register_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata)`` after this module and its
        children are saved; it may change ``state_dict`` in place and must return None."""
        hook._from_public_api = True
        return _add_hook(self._state_dict_hooks, hook)

    def _register_state_dict_hook(self, hook: Callable) -> RemovableHandle:
        """The older form of :meth:`register_state_dict_post_hook`, whose hook may return a
        new state dict that replaces the one being built."""
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError("Cannot register the same function as the state dict post hook that was previously "
                               "registered via register_state_dict_post_hook")
        return _add_hook(self._state_dict_hooks, hook)

    def register_load_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before this module loads its part of ``state_dict``,
        which it may edit (rename or convert old keys)."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def _register_load_state_dict_pre_hook(self, hook: Callable, with_module: bool = False) -> RemovableHandle:
        """The older form: ``hook(state_dict, prefix, ...)``, or with the module first."""
        return _add_hook(self._load_state_dict_pre_hooks, functools.partial(hook, self) if with_module else hook)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict, strict: bool,
                              missing_keys: list, unexpected_keys: list, error_msgs: list) -> None:
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        persistent = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
        local_state = {k: v for k, v in list(self._parameters.items()) + list(persistent.items()) if v is not None}
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if param.is_sparse:  # a sparse buffer takes the checkpoint's entries (PyTorch's sparse copy_)
                param.copy_(value)
                continue
            array = _as_array(value)
            if array is None:
                error_msgs.append(
                    f'While copying the parameter named "{key}", expected torch.Tensor or '
                    f"Tensor-like object from checkpoint but received {type(value)}"
                )
                continue
            if param._data.ndim == 0 and array.ndim == 1 and array.shape[0] == 1:
                array = array[0]
            if array.shape != param._data.shape:
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {Size(array.shape)!r} from "
                    f"checkpoint, the shape in current model is {param.shape!r}."
                )
                continue
            if local_metadata.get("assign_to_params_buffers", False):
                new = Tensor._wrap(array)
                if isinstance(param, Parameter):
                    new = Parameter(new, requires_grad=param.requires_grad)
                setattr(self, name, new)
                continue
            param._data[...] = to_device(array, param.device)  # through the host when devices differ
            param._version_counter().bump("copy_")
        extra_key = prefix + _EXTRA_STATE
        if type(self).set_extra_state is not Module.set_extra_state:
            if extra_key in state_dict:
                self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        elif strict and extra_key in state_dict:
            unexpected_keys.append(extra_key)
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != extra_key:
                    input_name = key[len(prefix):].split(".", 1)
                    if len(input_name) > 1:
                        if input_name[0] not in self._modules:
                            unexpected_keys.append(key)
                    elif input_name[0] not in local_state:
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> _IncompatibleKeys:
        """Copy values from ``state_dict`` into this module's parameters and buffers, in place.

        Values may be chainrule tensors, NumPy arrays or anything array-like (a PyTorch
        tensor).  With ``strict`` missing or unexpected keys raise RuntimeError; a shape
        mismatch always does.  Returns ``_IncompatibleKeys(missing_keys, unexpected_keys)``."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing_keys: list = []
        unexpected_keys: list = []
        error_msgs: list = []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata

        def load(module: Module, local_state_dict: dict, prefix: str = "") -> None:
            local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            if assign:
                local_metadata["assign_to_params_buffers"] = assign
            module._load_from_state_dict(local_state_dict, prefix, local_metadata, True,
                                         missing_keys, unexpected_keys, error_msgs)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    child_state = {k: v for k, v in local_state_dict.items() if k.startswith(child_prefix)}
                    load(child, child_state, child_prefix)
            incompatible = _IncompatibleKeys(missing_keys, unexpected_keys)
            for hook in module._load_state_dict_post_hooks.values():
                hook(module, incompatible)

        load(self, state_dict)
        if strict:
            if unexpected_keys:
                error_msgs.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected_keys)))
            if missing_keys:
                error_msgs.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing_keys)))
        if error_msgs:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(error_msgs)))
        return _IncompatibleKeys(missing_keys, unexpected_keys)

    def register_load_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        return _add_hook(self._load_state_dict_post_hooks, hook)

    # -- hooks -----------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args)`` runs before ``forward``; it may return new args."""
        return _add_hook(self._forward_pre_hooks, hook, prepend,
                         ((self._forward_pre_hooks_with_kwargs, with_kwargs),))

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """``hook(module, args, output)`` runs after ``forward``; it may return a new output."""
        return _add_hook(self._forward_hooks, hook, prepend,
                         ((self._forward_hooks_with_kwargs, with_kwargs),
                          (self._forward_hooks_always_called, always_call)))

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` runs once the gradients with respect to
        the module's inputs are known; it may return replacements for ``grad_input``."""
        self._set_backward_hook_kind(True)
        return _add_hook(self._backward_hooks, hook, prepend)

    def register_backward_hook(self, hook: Callable) -> RemovableHandle:
        """PyTorch's older, deprecated module backward hook: ``hook(module, grad_input,
        grad_output)`` on the node that made the module's (first) output, so ``grad_input``
        are that last op's input gradients (a convolution's: input, weight, bias), not
        necessarily the module's.  :meth:`register_full_backward_hook` is the documented one."""
        self._set_backward_hook_kind(False)
        return _add_hook(self._backward_hooks, hook)

    def _set_backward_hook_kind(self, full: bool) -> None:
        kind = self.__dict__.get("_is_full_backward_hook")
        if kind is not None and kind is not full:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks on a single Module. "
                               "Please use only one of them.")
        object.__setattr__(self, "_is_full_backward_hook", full)

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_output)`` runs when the gradients with respect to the module's
        outputs are known; it may return replacements for them."""
        return _add_hook(self._backward_pre_hooks, hook, prepend)

    #: What :meth:`compile` made of this module's calls (None: they run eagerly).
    _compiled_call_impl: Callable[..., Any] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        compiled = self._compiled_call_impl
        if compiled is not None:
            return compiled(*args, **kwargs)
        if self._forward_hooks or self._forward_pre_hooks or self._backward_hooks or self._backward_pre_hooks:
            return self._call_impl(*args, **kwargs)
        return self.forward(*args, **kwargs)

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """Compile this module's calls in place with :func:`chainrule.compile` (PyTorch's
        ``Module.compile``): the arguments are ``chainrule.compile``'s; the module keeps its
        class, attributes and ``state_dict`` keys (no ``_orig_mod.`` prefix, unlike
        ``chainrule.compile(module)``), and a copy or pickle of it is not compiled."""
        kwargs.setdefault("name", type(self).__name__)  # (its messages name the module, not _call_impl)
        object.__setattr__(self, "_compiled_call_impl", upcalls.compile(self._call_impl, *args, **kwargs))

    def _call_impl(self, *args: Any, **kwargs: Any) -> Any:
        result = None
        called_always = set()
        try:
            for hook_id, hook in list(self._forward_pre_hooks.items()):
                if hook_id in self._forward_pre_hooks_with_kwargs:
                    out = hook(self, args, kwargs)
                    if out is not None:
                        if isinstance(out, tuple) and len(out) == 2:
                            args, kwargs = out
                        else:
                            raise RuntimeError(
                                f"forward pre-hook must return None or a tuple of (new_args, new_kwargs), but got {out}."
                            )
                else:
                    out = hook(self, args)
                    if out is not None:
                        args = out if isinstance(out, tuple) else (out,)
            bw_hook = None
            older_hooks = self.__dict__.get("_is_full_backward_hook") is False and list(self._backward_hooks.values())
            if (self._backward_hooks and not older_hooks) or self._backward_pre_hooks:
                bw_hook = _BackwardHook(self, [] if older_hooks else list(self._backward_hooks.values()),
                                        list(self._backward_pre_hooks.values()))
                args = bw_hook.setup_input_hook(args)
            result = self.forward(*args, **kwargs)
            for hook_id, hook in list(self._forward_hooks.items()):
                if hook_id in self._forward_hooks_always_called:
                    called_always.add(hook_id)
                result = self._forward_hook_result(hook_id, hook, args, kwargs, result)
            if older_hooks:
                self._attach_older_backward_hooks(older_hooks, args, result)
            if bw_hook is not None:
                if not isinstance(result, (Tensor, tuple)):
                    warnings.warn(
                        "For backward hooks to be called, module output should be a Tensor or a "
                        f"tuple of Tensors but received {type(result)}", stacklevel=2)
                result = bw_hook.setup_output_hook(result)
            return result
        except Exception:
            for hook_id, hook in self._forward_hooks.items():
                if hook_id in self._forward_hooks_always_called and hook_id not in called_always:
                    try:
                        result = self._forward_hook_result(hook_id, hook, args, kwargs, result)
                    except Exception as error:
                        warnings.warn(
                            "module forward hook with ``always_call=True`` raised an exception that "
                            f"was silenced as another error was raised in forward: {error}", stacklevel=2)
            raise

    def _attach_older_backward_hooks(self, hooks: list, args: tuple, result: Any) -> None:
        """:meth:`register_backward_hook`'s hooks as PyTorch attaches them: post hooks of the
        node that made the first tensor of the output, with its warning where that node is
        not the whole of the module's forward."""
        first = result
        while not isinstance(first, Tensor):
            if isinstance(first, dict):
                first = next(v for v in first.values() if isinstance(v, Tensor))
            else:
                first = first[0]
        node = first.grad_fn
        if node is None:
            return
        for hook in hooks:
            node.register_hook(functools.partial(hook, self))
        outputs = result if isinstance(result, tuple) else (result,)
        if not all(isinstance(t, Tensor) for t in outputs + tuple(args)):
            problem = "does not return a single Tensor or a tuple of Tensors" if not all(
                isinstance(t, Tensor) for t in outputs) else "does not take as input a single Tensor or a tuple of Tensors"
            warnings.warn(f"Using non-full backward hooks on a Module that {problem} is deprecated and will be removed "
                          "in future versions. This hook will be missing some of the grad_output. Please use "
                          "register_full_backward_hook to get the documented behavior.", FutureWarning, stacklevel=3)
            return
        made_by = {t.grad_fn for t in outputs if t.grad_fn is not None}
        if len(made_by) > 1:
            problem = "outputs are generated by different autograd Nodes"
        elif node not in made_by:
            problem = "outputs are nested in python data structure"
        elif {t.grad_fn for t in args if t.grad_fn is not None} != {n for n, _ in node.next_functions}:
            problem = "the forward contains multiple autograd Nodes"
        else:
            return
        missing = "grad_output" if problem.startswith("outputs") else "grad_input"
        warnings.warn(f"Using a non-full backward hook when {problem} is deprecated and will be removed in future "
                      f"versions. This hook will be missing some {missing}. Please use register_full_backward_hook "
                      "to get the documented behavior.", FutureWarning, stacklevel=3)

    def _forward_hook_result(self, hook_id: int, hook: Callable, args: tuple, kwargs: dict,
                             result: Any) -> Any:
        """The output once forward hook ``hook`` has seen it (it may return a replacement)."""
        if hook_id in self._forward_hooks_with_kwargs:
            out = hook(self, args, kwargs, result)
        else:
            out = hook(self, args, result)
        return result if out is None else out

    # -- printing ---------------------------------------------------------------------------
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The text inside this module's parentheses when printed; layers override it."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = []
        for key, module in self._modules.items():
            child_lines.append("(" + key + "): " + _addindent(repr(module), 2))
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


#: How many times a module gained, lost or replaced a parameter, buffer or submodule.
_changes = [0]


def _changed() -> None:
    _changes[0] += 1


def structure_version() -> int:
    """A count that goes up whenever any module gains, loses or replaces a parameter, buffer
    or submodule: a graph capture (``chainrule.compiler``) looks at its modules again then."""
    return _changes[0]


def has_hooks(module: Module) -> bool:
    """Whether ``module`` itself has forward or backward hooks (not its submodules): Python
    code that must run at each of its calls, so that a graph capture
    (``chainrule.compiler``) runs such a module eagerly."""
    return bool(module._forward_hooks or module._forward_pre_hooks or module._backward_hooks
                or module._backward_pre_hooks)


def _as_array(value: Any) -> Any:
    """A state-dict value as an array: chainrule tensors, NumPy arrays and array-likes
    (a PyTorch tensor, via ``__array__``) are accepted; anything else is None."""
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "__array__") and hasattr(value, "shape"):
        if hasattr(value, "detach"):
            value = value.detach()
        return np.asarray(value)
    return None


# -- full backward hooks -------------------------------------------------------------------


class _BackwardHookNode(Node):
    """An identity node around a module's input or output tensors: its pre-hook sees the
    gradients with respect to them (and may replace them)."""

    __slots__ = ("n_outputs",)

    def apply_backward(self, grad: Any, create_graph: bool) -> tuple:
        return (grad,) if self.n_outputs == 1 else tuple(grad)

    def release(self) -> None:
        self.saved = None


# PyTorch's name for this node's type (what type(grad_fn).__name__ and grad_fn.name() say).
_BackwardHookNode.__name__ = _BackwardHookNode.__qualname__ = "BackwardHookFunctionBackward"


def _identity_node(tensors: list) -> tuple:
    node = object.__new__(_BackwardHookNode)
    node.saved = None
    node._checks = ()
    node.n_outputs = len(tensors)
    node.edges = tuple(edge_of(t) for t in tensors)
    outs = []
    for index, t in enumerate(tensors):
        if t.requires_grad:
            out = _make(t._data, node, True)
            if index:
                out._output_nr = index
            out._vc = t._version_counter()
            outs.append(out)
        else:
            outs.append(t)
    return node, outs


class _BackwardHook:
    """PyTorch's module backward-hook protocol: identity nodes around the inputs and the
    outputs of one call; the output node records ``grad_output``, the input node calls the
    user's hooks with ``(module, grad_input, grad_output)``."""

    def __init__(self, module: Module, user_hooks: list, user_pre_hooks: list) -> None:
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs: Any = None
        self.n_outputs = -1
        self.output_tensors_index: Any = None
        self.n_inputs = -1
        self.input_tensors_index: Any = None

    @staticmethod
    def _pack_with_none(indices: list, values: Any, size: int) -> tuple:
        out = [None] * size
        for index, value in zip(indices, values):
            out[index] = value
        return tuple(out)

    @staticmethod
    def _unpack_none(indices: list, values: Any) -> tuple:
        return tuple(values[index] for index in indices)

    def _apply_on_tensors(self, fn: Callable, args: tuple) -> tuple:
        indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        tensors = [args[i] for i in indices]
        if not (any(t.requires_grad for t in tensors) and grad_state.enabled):
            return args, None
        node, new_tensors = _identity_node(tensors)
        fn(node)
        items = list(args)
        for index, value in zip(indices, new_tensors):
            items[index] = value
        return tuple(items), indices

    def setup_input_hook(self, args: tuple) -> tuple:
        def install(node: Node) -> None:
            def hook(grad_input: tuple) -> Any:
                if self.grad_outputs is None:
                    return None
                result = self._pack_with_none(self.input_tensors_index, grad_input, self.n_inputs)
                for user_hook in self.user_hooks:
                    out = user_hook(self.module, result, self.grad_outputs)
                    if out is None:
                        continue
                    if len(out) != len(result):
                        raise RuntimeError(
                            f"Backward hook returned an invalid number of grad_input, got {len(out)}, "
                            f"but expected {len(result)}"
                        )
                    result = out
                self.grad_outputs = None
                return self._unpack_none(self.input_tensors_index, result)

            node.register_prehook(hook)

        result, indices = self._apply_on_tensors(install, args)
        self.n_inputs = len(args)
        self.input_tensors_index = indices
        return result

    def setup_output_hook(self, outputs: Any) -> Any:
        def install(node: Node) -> None:
            def hook(grad_output: tuple) -> Any:
                self.grad_outputs = self._pack_with_none(self.output_tensors_index, grad_output, self.n_outputs)
                for user_pre_hook in self.user_pre_hooks:
                    out = user_pre_hook(self.module, self.grad_outputs)
                    if out is None:
                        continue
                    if len(out) != len(self.grad_outputs):
                        raise RuntimeError(
                            f"Backward pre hook returned an invalid number of grad_output, got {len(out)}, "
                            f"but expected {len(self.grad_outputs)}"
                        )
                    self.grad_outputs = tuple(out)
                local = self.grad_outputs
                if self.input_tensors_index is None:
                    if self.user_hooks:
                        warnings.warn(
                            "Full backward hook is firing when gradients are computed with respect to "
                            "module outputs since no inputs require gradients.", stacklevel=2)
                    grad_inputs = self._pack_with_none([], [], self.n_inputs)
                    for user_hook in self.user_hooks:
                        out = user_hook(self.module, grad_inputs, self.grad_outputs)
                        if out is not None and not (isinstance(out, tuple) and all(o is None for o in out)):
                            raise RuntimeError(
                                "Backward hook for Modules where no input requires gradient should "
                                "always return None or None for all gradients."
                            )
                    self.grad_outputs = None
                return tuple(local[i] for i in self.output_tensors_index)

            node.register_prehook(hook)

        single = not isinstance(outputs, tuple)
        items = (outputs,) if single else outputs
        result, indices = self._apply_on_tensors(install, items)
        self.n_outputs = len(items)
        self.output_tensors_index = indices
        return result[0] if single else result
