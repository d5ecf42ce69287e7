"""Random numbers: a global generator per device seeded by ``manual_seed``, and ``Generator``
objects.

The CPU stream is PyTorch's (:mod:`chainrule.mt19937`): the same seed gives the same values
as ``torch`` (``torch.manual_seed(0); torch.randn(3)``, a ``nn.Linear``'s initial weights, a
shuffled DataLoader's order).  A device draws from its own generator on the device (CuPy's
cuRAND for ``cuda``): its stream differs from the CPU's, as in PyTorch."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from .backend import CPU, device, device_backend, registered_backend, resolve_device
from .mt19937 import CpuSampler
from .tensor import Tensor

#: PyTorch's default seed of every generator.
DEFAULT_SEED = 67280421310721


class Generator:
    """A seeded random stream on one device, as ``torch.Generator``.

    >>> g = chainrule.Generator().manual_seed(0)
    >>> chainrule.randn(3, generator=g)
    """

    def __init__(self, device: Any = "cpu") -> None:
        self.device = resolve_device(device)
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = int(seed)
        if self.device.type == "cpu":
            # Made on the first draw: seeding the twister costs ~0.3 ms, and `import chainrule`
            # makes the default generator.
            self._stream = None
        else:
            backend = self._backend = getattr(self, "_backend", None) or device_backend(self.device.type)
            if backend.generator is None:
                raise RuntimeError(f"the '{self.device.type}' device has no random number generator")
            self._stream = backend.generator(self._seed, self.device.index)
        return self

    @property
    def _rng(self) -> Any:
        """The underlying stream (PyTorch's on the CPU, the device's otherwise)."""
        stream = self._stream
        if stream is None:
            stream = self._stream = CpuSampler(self._seed)
        return stream

    def seed(self) -> int:
        seed = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Any:
        """The state as PyTorch's byte tensor (``torch.get_rng_state()`` loads here, and back)."""
        self._check_cpu("get_state")
        return Tensor._wrap(self._rng.get_state())

    def set_state(self, state: Any) -> "Generator":
        self._check_cpu("set_state")
        data = state._data if isinstance(state, Tensor) else state
        if np.asarray(data).dtype != np.uint8:
            raise TypeError(f"expected a torch.ByteTensor as the RNG state, but got {getattr(state, 'dtype', type(state))}")
        self._rng.set_state(np.asarray(data))
        self._seed = self._rng.seed
        return self

    def _check_cpu(self, what: str) -> None:
        if self.device.type != "cpu":
            raise RuntimeError(f"Generator.{what}() is supported for CPU generators only in chainrule "
                               f"(this one is on {self.device}); reseed it with manual_seed instead")

    # NumPy's sampling API, used by factories and nn.init.
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._rng, name)


default_generator = Generator()

#: The default generators of the devices, made on first use; the seed they start from.
_device_generators: dict[device, Generator] = {}
_device_seed = DEFAULT_SEED


def device_generator(dev: device) -> Generator:
    """The default generator of device ``dev`` (a checked device with its index)."""
    if dev.type == "cpu":
        return default_generator
    found = _device_generators.get(dev)
    if found is None or found._backend is not device_backend(dev.type):  # made for a backend since replaced
        found = Generator(dev).manual_seed(_device_seed)
        _device_generators[dev] = found
    return found


def seed_devices(seed: int, device_type: str | None = None, index: int | None = None) -> None:
    """Seed the default generators of the devices of one type (or of every type), those made
    later too; with ``index``, the generator of that one device (made now if need be)."""
    global _device_seed
    if index is not None:
        device_generator(device(device_type, index)).manual_seed(seed)
        return
    _device_seed = int(seed)
    for dev, generator in list(_device_generators.items()):
        if generator._backend is not registered_backend(dev.type):  # its backend was replaced since
            del _device_generators[dev]
        elif device_type is None or dev.type == device_type:
            generator.manual_seed(seed)


def manual_seed(seed: int) -> Generator:
    """Seed the global generators, the CPU's and every device's: every random factory and
    ``nn.init`` draws from them."""
    seed_devices(seed)
    return default_generator.manual_seed(seed)


def seed() -> int:
    value = default_generator.seed()
    seed_devices(value)
    return value


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Any:
    return default_generator.get_state()


def set_rng_state(new_state: Any) -> None:
    default_generator.set_state(new_state)


@contextmanager
def fork_rng(devices: Any = None, enabled: bool = True, _caller: str = "fork_rng", _devices_kw: str = "devices",
             device_type: str = "cuda") -> Iterator[None]:
    """Draws inside leave the CPU generator as they found it: its state is saved on entry and
    restored on exit (``enabled=False``: nothing is saved).  A device generator's stream
    (CuPy's) cannot be saved: with ``devices`` named, that is an error rather than a silent
    difference."""
    if not enabled:
        yield
        return
    if devices:
        raise NotImplementedError(f"{_caller}: chainrule saves and restores the CPU generator only; a "
                                  f"{device_type} generator's state cannot be saved ({_devices_kw}={devices!r})")
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


class _Refusal(threading.local):
    reason: str | None = None  # why a random draw is refused now, on this thread


_refusal = _Refusal()


@contextmanager
def refusing_draws(reason: str) -> Iterator[None]:
    """Random draws raise ``RuntimeError(reason)`` inside (``vmap``'s ``randomness="error"``)."""
    outer, _refusal.reason = _refusal.reason, reason
    try:
        yield
    finally:
        _refusal.reason = outer


def _generator(generator: Generator | None, dev: device = CPU) -> Any:
    """The sampler to draw from on ``dev``: ``generator``'s (which must be on that device
    type, as PyTorch requires) or the device's default one."""
    if _refusal.reason is not None:
        raise RuntimeError(_refusal.reason)
    if generator is None:
        return (default_generator if dev.type == "cpu" else device_generator(dev))._rng
    if generator.device.type != dev.type:
        raise RuntimeError(f"Expected a '{dev.type}' device type for generator but found "
                           f"'{generator.device.type}'")
    return generator._rng
