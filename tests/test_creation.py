"""chainrule.creation against PyTorch: the dtype a new tensor takes from Python data."""
from __future__ import annotations

import numpy as np
import torch

import chainrule


def test_python_floats_take_a_float64_default_dtype_without_a_float32_round_trip():
    values = [0.3, -0.7, 1.1]
    for lib in (torch, chainrule):
        previous = lib.get_default_dtype()
        lib.set_default_dtype(lib.float64)
        try:
            made = [lib.tensor(values), lib.tensor(values[0]), lib.Tensor(values), lib.as_tensor(values),
                    lib.tensor([np.float32(0.3)])]
            if lib is torch:
                expected = [(str(t.dtype).split(".")[-1], t.tolist()) for t in made]
            else:
                actual = [(str(t.dtype).split(".")[-1], t.tolist()) for t in made]
        finally:
            lib.set_default_dtype(previous)
    assert actual == expected
