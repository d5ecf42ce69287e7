"""Random numbers: a global generator seeded by ``manual_seed``, and ``Generator`` objects.

Streams are NumPy's PCG64, so values differ from PyTorch's for the same seed; a seed
always gives the same values in chainrule."""
from __future__ import annotations

import ast
from typing import Any

import numpy as np

from .tensor import Tensor


class Generator:
    """A seeded random stream, as ``torch.Generator``.

    >>> g = chainrule.Generator().manual_seed(0)
    >>> chainrule.randn(3, generator=g)
    """

    def __init__(self, device: Any = "cpu") -> None:
        self._seed = 67280421310721
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = int(seed)
        self._rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        seed = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Any:
        state = self._rng.bit_generator.state
        packed = np.array([state["state"]["state"], state["state"]["inc"], state["has_uint32"],
                           state["uinteger"]], dtype=object)
        return Tensor._wrap(np.frombuffer(repr(packed.tolist()).encode(), dtype=np.uint8).copy())

    def set_state(self, state: Any) -> "Generator":
        values = ast.literal_eval(bytes(np.asarray(state._data, dtype=np.uint8)).decode())
        self._rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int(values[0]), "inc": int(values[1])},
            "has_uint32": int(values[2]),
            "uinteger": int(values[3]),
        }
        return self

    # NumPy's sampling API, used by factories and nn.init.
    def __getattr__(self, name: str) -> Any:
        return getattr(self._rng, name)


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the global generator: every random factory and ``nn.init`` draws from it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Any:
    return default_generator.get_state()


def set_rng_state(state: Any) -> None:
    default_generator.set_state(state)


def _generator(generator: Generator | None) -> np.random.Generator:
    return (generator or default_generator)._rng
