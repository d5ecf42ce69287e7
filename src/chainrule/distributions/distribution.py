"""The base class: shapes, sampling shapes, argument validation and the printed form."""
from __future__ import annotations

import warnings
from typing import Any

from ..autograd.grad_mode import no_grad
from ..tensor import Size, Tensor
from . import constraints
from .constraints import Constraint
from .utils import broadcast_all


class Distribution:
    """A batch of distributions of shape ``batch_shape`` over events of shape ``event_shape``."""

    has_rsample = False
    has_enumerate_support = False
    #: Parameter name -> Constraint (checked at construction, as PyTorch does by default).
    arg_constraints: dict = {}
    #: The default of ``validate_args`` (an instance's own choice shadows it, as in PyTorch).
    _validate_args = True

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Whether distributions built with ``validate_args=None`` check their arguments and
        values (PyTorch's default: True)."""
        if value not in (True, False):
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape: tuple = (), event_shape: tuple = (), validate_args: bool | None = None) -> None:
        self._batch_shape, self._event_shape = Size(batch_shape), Size(event_shape)
        self._validate_args = Distribution._validate_args if validate_args is None else bool(validate_args)
        if self._validate_args:
            for name, constraint in self.arg_constraints.items():
                if not constraints.is_dependent(constraint) and name in self.__dict__:
                    self._check(getattr(self, name), constraint, f"parameter {name}")

    @property
    def batch_shape(self) -> Size:
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        return self._event_shape

    @property
    def support(self) -> Constraint:
        raise NotImplementedError

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError

    def log_prob(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def entropy(self) -> Tensor:
        raise NotImplementedError

    def perplexity(self) -> Tensor:
        """exp(entropy), over the batch."""
        return self.entropy().exp()

    def cdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def icdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def enumerate_support(self, expand: bool = True) -> Tensor:
        raise NotImplementedError

    def expand(self, batch_shape: Any, _instance: Any = None) -> "Distribution":
        """The same distribution over a larger batch: every parameter (each tensor whose leading
        dims are the batch dims) and every inner distribution expanded, as views."""
        batch_shape = Size(batch_shape)
        new = type(self).__new__(type(self)) if _instance is None else _instance
        new.__dict__.update(self.__dict__)
        old = tuple(self._batch_shape)
        for name, value in self.__dict__.items():
            if isinstance(value, Tensor) and not name.startswith("_unbroadcasted") \
                    and tuple(value.shape[:len(old)]) == old:
                new.__dict__[name] = value.expand(tuple(batch_shape) + tuple(value.shape[len(old):]))
            elif isinstance(value, Distribution):
                new.__dict__[name] = value.expand(tuple(batch_shape) + tuple(value.batch_shape[len(old):]))
        new._batch_shape = batch_shape
        return new

    def _extended_shape(self, sample_shape: Any = ()) -> tuple:
        return tuple(Size(sample_shape)) + tuple(self._batch_shape) + tuple(self._event_shape)

    def sample(self, sample_shape: Any = Size()) -> Tensor:
        """A sample of shape ``sample_shape + batch_shape + event_shape`` (no gradient)."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: Any = Size()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sampler (rsample)")

    def sample_n(self, n: int) -> Tensor:
        """``sample((n,))`` (deprecated in PyTorch, with its warning)."""
        warnings.warn("`sample_n(n)` will be deprecated. Use `sample((n,))` instead.", FutureWarning, stacklevel=2)
        return self.sample(Size((n,)))

    def _get_checked_instance(self, cls: type, _instance: Any = None) -> "Distribution":
        """The instance a subclass's ``expand`` fills in (PyTorch's helper for user distributions)."""
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(f"Subclass {type(self).__name__} of {cls.__name__} that defines a custom "
                                      "__init__ method must also define a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    def _validate_sample(self, value: Tensor) -> None:
        if not self._validate_args:
            return
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dim = len(self._event_shape)
        if tuple(value.shape[len(value.shape) - event_dim:]) != tuple(self._event_shape):
            raise ValueError(f"The right-most size of value must match event_shape: {value.size()} vs "
                             f"{self._event_shape}.")
        expected = tuple(self._batch_shape) + tuple(self._event_shape)
        for i, j in zip(reversed(tuple(value.shape)), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: {value.size()} vs "
                                 f"{Size(expected)}.")
        self._check(value, self.support, "value argument",
                    f"to be within the support ({self.support!r}) of the distribution {self!r}")

    def _check(self, tensor: Tensor, constraint: Constraint, label: str, requirement: str | None = None) -> None:
        if not isinstance(tensor, Tensor) or bool(constraint.check(tensor).all()):
            return
        requirement = requirement or f"of distribution {self!r} to satisfy the constraint {constraint}"
        raise ValueError(f"Expected {label} ({type(tensor).__name__} of shape {tuple(tensor.shape)}) {requirement}, "
                         f"but found invalid values:\n{tensor}")

    def __repr__(self) -> str:
        names = [k for k in self.arg_constraints if k in self.__dict__]
        shown = [f"{k}: {getattr(self, k) if getattr(self, k).numel() == 1 else getattr(self, k).size()}"
                 for k in names]
        return f"{type(self).__name__}({', '.join(shown)})"


class LocationScale(Distribution):
    """A distribution of ``loc + scale * standard`` (Normal, Laplace, Cauchy): both parameters
    broadcast to the batch shape; the mode is ``loc``."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(tuple(self.loc.shape), validate_args=validate_args)

    @property
    def mode(self) -> Tensor:
        return self.loc
