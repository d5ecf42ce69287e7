"""Optimizer: parameter groups, per-parameter state, ``zero_grad``, ``step`` and
``state_dict`` in PyTorch's layout.

Subclasses write their update straight into the parameter arrays (``p._data``) with NumPy
ufuncs and ``out=``: no graph, no new arrays per step beyond two reusable work buffers,
and the parameter's dtype is kept (the hyperparameters are Python floats, which NumPy
treats as weakly typed, so float32 stays float32).
"""
from __future__ import annotations

import functools
import warnings
from collections import defaultdict
from copy import deepcopy
from itertools import chain
from typing import Any, Callable

import numpy as np

from ..autograd.node import RemovableHandle
from ..autograd.grad_mode import enable_grad
from ..backend import get_array_module, to_device
from ..dtypes import float64, get_default_dtype
from ..inplace import zero_gradient
from ..tensor import Tensor, _make
from .pieces import Scratch, pieces

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]


class _RequiredParameter:
    """Marks a hyperparameter that every param group must give (no default)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

_global_pre_hooks: list = []
_global_post_hooks: list = []


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """``hook(optimizer, args, kwargs)`` runs before every optimizer's ``step``; it may return
    ``(new_args, new_kwargs)``."""
    _global_pre_hooks.append(hook)
    return RemovableHandle(_global_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """``hook(optimizer, args, kwargs)`` runs after every optimizer's ``step``."""
    _global_post_hooks.append(hook)
    return RemovableHandle(_global_post_hooks, hook)


def _typename(obj: Any) -> str:
    """The name PyTorch's ``torch.typename`` gives (``chainrule.FloatTensor``, ``float`` ...)."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if qualname is None:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def _scalar_dtype() -> np.dtype:
    # Like PyTorch, the step counter is float64 only when the default dtype is.
    return np.dtype(np.float64) if get_default_dtype() is float64 else np.dtype(np.float32)


def _step_counter(fused: bool | None = None) -> Tensor:
    # PyTorch's fused steps count in float32 whatever the default dtype.
    return _make(np.zeros((), dtype=np.float32 if fused else _scalar_dtype()))


def _zeros_like(array: Any) -> Tensor:
    return _make(get_array_module(array).zeros(array.shape, dtype=array.dtype))


def _bump(tensor: Tensor, op_name: str) -> None:
    """Count an in-place write to ``tensor``'s storage (made behind the Tensor methods)."""
    counter = tensor._vc
    if counter is None:
        counter = tensor._version_counter()
    counter.bump(op_name)


_LABELS = {"lr": "learning rate", "eps": "epsilon value"}


def _check_nonnegative(**hyperparameters: Any) -> None:
    """PyTorch's constructor checks, in the order given: a Tensor ``lr`` has one element and
    every value satisfies ``0.0 <= value`` (NaN does not), else ValueError in PyTorch's words
    ("Invalid learning rate: -1", "Invalid epsilon value: ...", "Invalid <name> value: ...")."""
    for name, value in hyperparameters.items():
        if name == "lr" and isinstance(value, Tensor) and value.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= value:
            raise ValueError(f"Invalid {_LABELS.get(name, name + ' value')}: {value}")


def _adam_options(group: dict) -> tuple:
    """``(lr, eps, beta1, beta2, weight_decay, maximize)`` of an Adam-family group, as floats."""
    beta1, beta2 = (float(b) for b in group["betas"])
    return (float(group["lr"]), float(group["eps"]), beta1, beta2, float(group["weight_decay"]),
            group["maximize"])


def _check_betas(betas: tuple) -> None:
    """PyTorch's check of the two moment coefficients: each in [0, 1)."""
    for index, beta in enumerate(betas[:2]):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {index}: {beta}")


def _count_step(state: dict) -> float:
    """Add one to the step counter ``state["step"]``, in place; its new value."""
    step_t = state["step"]._data
    step_t += 1
    return step_t.item()


def _decayed_grad(param: Any, grad: Any, maximize: bool, weight_decay: float, work: Any,
                  tmp: Any, decoupled: bool = False, lr: float = 0.0) -> Any:
    """The gradient an update follows, as the first lines of PyTorch's single-tensor steps:
    negated for ``maximize``, plus ``weight_decay * param`` (L2); written into ``work`` when
    it is not ``grad`` itself.  With ``decoupled`` the decay shrinks the parameter instead,
    ``param *= 1 - lr * weight_decay`` (AdamW's), before the gradient is read."""
    if decoupled:
        if weight_decay != 0:
            np.multiply(param, 1 - lr * weight_decay, out=param)
        weight_decay = 0
    if maximize:
        grad = np.negative(grad, out=work)
    if weight_decay != 0:
        np.multiply(param, weight_decay, out=tmp)
        grad = np.add(grad, tmp, out=work)
    return grad


def _hook_step(step: Callable) -> Callable:
    """Wrap a class's ``step`` so that the step pre/post hooks run around it."""

    @functools.wraps(step)
    def wrapper(self: "Optimizer", *args: Any, **kwargs: Any) -> Any:
        if self._optimizer_step_pre_hooks or _global_pre_hooks:
            for pre_hook in chain(list(_global_pre_hooks), list(self._optimizer_step_pre_hooks)):
                result = pre_hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(
                            f"{step} must return None or a tuple of (new_args, new_kwargs), but got {result}."
                        )
        try:
            out = step(self, *args, **kwargs)
        finally:
            if self._densified:  # sparse gradients the step read densified: back as they were
                for param, sparse in self._densified:
                    param._grad = sparse
                self._densified = []
        if self._optimizer_step_post_hooks or _global_post_hooks:
            for post_hook in chain(list(self._optimizer_step_post_hooks), list(_global_post_hooks)):
                post_hook(self, args, kwargs)
        return out

    wrapper.hooked = True  # type: ignore[attr-defined]
    return wrapper


class Optimizer:
    """Base class of all optimizers.

    ``params`` is an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (param
    groups: ``{"params": [...], "lr": 0.1}``, whose options override ``defaults``).

    >>> opt = chainrule.optim.SGD(model.parameters(), lr=0.1)
    >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    #: Options a param group restored from an older pickle may lack, with the values to give it.
    _group_option_defaults: dict[str, Any] = {}
    #: For the common first state (a step counter, then zeros like the parameter): the names.
    _zero_state_names: tuple = ()
    #: Whether a loaded state's plain-number ``step`` becomes a tensor (all but SparseAdam's).
    _tensor_step = True

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._init_hooks()
        self._patch_step_function()
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                "but got " + _typename(params)
            )
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def _init_hooks(self) -> None:
        self._scratch = Scratch()
        self._layouts: dict = {}  # id(param group) -> its flat state (optim.pieces.Layout)
        self._optimizer_step_pre_hooks: list = []
        self._optimizer_step_post_hooks: list = []
        self._optimizer_state_dict_pre_hooks: list = []
        self._optimizer_state_dict_post_hooks: list = []
        self._optimizer_load_state_dict_pre_hooks: list = []
        self._optimizer_load_state_dict_post_hooks: list = []

    def _patch_step_function(self) -> None:
        # As PyTorch: the most derived class's step is wrapped once, so hooks run once.
        cls = type(self)
        if not getattr(cls.step, "hooked", False):
            cls.step = _hook_step(cls.step)  # type: ignore[method-assign]

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "_scratch" not in self.__dict__:
            self._init_hooks()
        self._layouts = {}
        self._patch_step_function()
        self.defaults.setdefault("differentiable", False)
        self._setdefault_groups(**self._group_option_defaults)

    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # -- hooks --------------------------------------------------------------------------
    @staticmethod
    def _register(hooks: list, hook: Callable, prepend: bool = False) -> RemovableHandle:
        if prepend:
            hooks.insert(0, hook)
        else:
            hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(optimizer, args, kwargs)`` before each ``step``; may return new (args, kwargs)."""
        return self._register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(optimizer, args, kwargs)`` after each ``step``."""
        return self._register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # -- state_dict -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {id: {...}}, "param_groups": [{..., "params": [ids]}]}``: parameters are
        referred to by their position across all groups; the state tensors are the live ones
        (as in PyTorch), so copy them if you keep stepping before saving."""
        for pre_hook in list(self._optimizer_state_dict_pre_hooks):
            pre_hook(self)
        mapping: dict[int, int] = {}
        start = 0

        def pack(group: dict[str, Any]) -> dict[str, Any]:
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        groups = [pack(g) for g in self.param_groups]
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        state_dict = {"state": state, "param_groups": groups}
        for post_hook in list(self._optimizer_state_dict_post_hooks):
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a ``state_dict()``: the groups' options and the per-parameter state, matched to
        this optimizer's parameters by position.  State tensors are copied (floating ones cast
        to their parameter's dtype), so the source can keep training independently."""
        state_dict = state_dict.copy()
        for pre_hook in list(self._optimizer_load_state_dict_pre_hooks):
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"
            )
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        state: defaultdict = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                state[param] = _cast(param, value)
                step = state[param].get("step") if isinstance(state[param], dict) else None
                if step is not None and not isinstance(step, Tensor) and self._tensor_step:
                    state[param]["step"] = _make(np.asarray(float(step), dtype=_scalar_dtype()))
            else:
                state[key] = value

        def update_group(group: dict[str, Any], new_group: dict[str, Any]) -> dict[str, Any]:
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for post_hook in list(self._optimizer_load_state_dict_post_hooks):
            post_hook(self)

    # -- gradients and steps ---------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set ``.grad`` to None (the default) or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    zero_gradient(grad)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; ``closure`` (re-evaluating the
        loss, with grad mode on) is called first and its loss returned."""
        raise NotImplementedError

    @staticmethod
    def _closure(closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (with its own options) to optimize, e.g. layers unfrozen
        during fine-tuning."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering "
                "of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            param_group["params"] = list(params)

        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are missing"
                )
            param_group["param_names"] = names

        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is " + _typename(param)
                )
            if not self.defaults.get("differentiable", None) and not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}"
                )
            param_group.setdefault(name, default)

        if len(tensors) != len(set(map(id, tensors))):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this will "
                "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=3,
            )
        seen: set[int] = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer"
                )
        if not seen.isdisjoint(id(p) for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -- sparse gradients (``nn.Embedding(sparse=True)``) -------------------------------------
    #: PyTorch's refusal of a sparse gradient (``{name}``: the class's name); None where the
    #: update takes one (SGD, Adagrad), which it then reads densified: the rows the gradient
    #: does not hold have zero gradient, and the update gives them no change, as PyTorch's
    #: sparse kernels leave them.
    _sparse_refusal: str | None = "{name} does not support sparse gradients"
    #: ``(param, its sparse .grad)`` for the gradients the running step reads densified.
    _densified: list = []

    def _densify(self, param: Tensor, group: dict[str, Any]) -> Tensor:
        """The dense form of ``param``'s sparse gradient, set as its ``.grad`` for the rest of
        the step (the sparse one is put back when the step returns)."""
        if self._sparse_refusal is not None:
            raise RuntimeError(self._sparse_refusal.format(name=type(self).__name__))
        self._check_sparse_options(group)
        sparse = param._grad
        param._grad = sparse.to_dense()
        self._densified = [*self._densified, (param, sparse)]
        return param._grad

    def _check_sparse_options(self, group: dict[str, Any]) -> None:
        """PyTorch's errors for options its sparse update does not take (see SGD, Adagrad)."""

    # -- helpers for the subclasses ----------------------------------------------------------
    @staticmethod
    def _check_not_differentiable(differentiable: bool) -> None:
        if differentiable:
            raise NotImplementedError(
                "chainrule's optimizers update the parameter arrays in place, outside the graph; "
                "differentiable=True is not supported"
            )

    def _setdefault_groups(self, **options: Any) -> None:
        """Give every param group the options it lacks (a state saved before they existed)."""
        for group in self.param_groups:
            for name, value in options.items():
                group.setdefault(name, value)

    def _init_state(self, state: dict, p: Tensor, group: dict[str, Any]) -> None:
        """Fill the empty ``state`` of parameter ``p`` before its first update (by default the
        common first state of :attr:`_zero_state_names`)."""
        if not self._zero_state_names:
            raise NotImplementedError
        self._counter_and_zeros(state, p, self._zero_state_names)

    @staticmethod
    def _counter_and_zeros(state: dict, p: Tensor, names: tuple) -> None:
        """The common first state: a step counter, then zeros like ``p`` for each of ``names``."""
        state["step"] = _step_counter()
        for name in names:
            state[name] = _zeros_like(p._data)

    def _pieces(self, group: dict[str, Any], names: tuple, key: Callable | None, op_name: str,
                as_real: bool = True, gather: bool = True) -> Any:
        """The update of ``group``'s parameters that have a gradient, in pieces (see
        ``optim.pieces``): ``(param, grad, states, work, tmp, key)``, ``states`` the arrays of
        the state ``names``.  All parameters of the group at once unless ``foreach=False``."""
        return pieces(self, group, names, key, op_name, group.get("foreach") is not False, as_real,
                      gather)

    @staticmethod
    def _check_fused(foreach: bool | None, fused: bool | None) -> None:
        """PyTorch's refusal of contradicting implementation flags."""
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _cast(param: Tensor, value: Any, key: Any = None) -> Any:
    """A copy of a saved state value for ``param``: tensors copied, on the parameter's device
    and floating ones cast to its dtype (all but the step counter, which stays on the CPU, as
    in PyTorch)."""
    if isinstance(value, np.ndarray):
        value = _make(value)
    if isinstance(value, Tensor):
        array = value._data if key == "step" else to_device(value._data, param.device)
        if key != "step" and array.dtype.kind == "f" and param._data.dtype.kind == "f":
            return _make(array.astype(param._data.dtype, copy=True))
        return _make(array.copy())
    if isinstance(value, dict):
        return {k: _cast(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(param, v) for v in value)
    return value
