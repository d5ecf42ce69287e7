"""Run one expression on the CPU and on the stand-in device: the same values, dtypes and
gradients, bit for bit, and everything the device run makes stays on the device.

The expressions are the op parity tables' (``fn(lib, *inputs)``, see ``op_parity.py``); on
the device they run with the device as the default device, so the tensors an expression
makes itself (``L.tensor([...])`` indices) are made there, as under PyTorch's
``set_default_device("cuda")``.

With ``CHAINRULE_TEST_DEVICE=cuda`` the same tables run on the real GPU (CuPy) instead of the
stand-in, and floating values are compared at ``rtol=1e-9`` (``benchmarks/gpu_check.sh``).
"""
from __future__ import annotations

import contextlib
import copy
import os

import numpy as np

import chainrule
from chainrule.backend import device_of
from device_standin import DeviceArray, stand_in

#: The real GPU instead of the stand-in (the parity of float64 ops at rtol 1e-9, not bit for bit).
REAL_GPU = os.environ.get("CHAINRULE_TEST_DEVICE") == "cuda"


@contextlib.contextmanager
def on_device():
    """The stand-in registered as ``cuda`` (or the real GPU) and made the default device."""
    with (contextlib.nullcontext() if REAL_GPU else stand_in()):
        chainrule.set_default_device("cuda")
        try:
            yield
        finally:
            chainrule.set_default_device(None)


def _inputs(values, requires_grad, device=None):
    out = []
    for value in values:
        if isinstance(value, np.ndarray):
            grad = requires_grad and value.dtype.kind == "f"
            array = value.astype(np.float64) if value.dtype.kind == "f" else value
            out.append(chainrule.tensor(array, requires_grad=grad, device=device))
        else:
            out.append(value)
    return out


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [item for o in out for item in _flat(o)]
    return [out]


def assert_on_device(tensor, what):
    """``tensor`` lives on the stand-in device (its array is a device array), or the GPU."""
    if REAL_GPU:
        assert device_of(tensor._data).type == "cuda", f"{what}: a {type(tensor._data).__name__} (left the device)"
    else:
        assert isinstance(tensor._data, DeviceArray), f"{what}: a {type(tensor._data).__name__} (left the device)"
    assert tensor.device == chainrule.device("cuda", 0), f"{what}: on {tensor.device}"


def assert_same(device_tensor, cpu_tensor, what):
    """The device tensor holds exactly the CPU tensor's values, dtype and flags (on the real
    GPU: floating values to rtol 1e-9)."""
    assert_on_device(device_tensor, what)
    assert device_tensor.dtype == cpu_tensor.dtype, f"{what}: {device_tensor.dtype} != {cpu_tensor.dtype}"
    assert device_tensor.requires_grad == cpu_tensor.requires_grad, f"{what}: requires_grad differs"
    values = device_tensor._data.get()
    if REAL_GPU and values.dtype.kind in "fc":
        np.testing.assert_allclose(values, cpu_tensor._data, rtol=1e-9, atol=1e-12, err_msg=what)
    else:
        np.testing.assert_array_equal(values, cpu_tensor._data, err_msg=what)


def check_on_device(fn, *values, grad=True, seed=0):
    """``fn(chainrule, *inputs)`` on the CPU and on the device: equal outputs, and (with
    ``grad``) equal gradients of every float input for the same random upstream gradient."""
    cpu_inputs = _inputs(values, grad)
    cpu_out = fn(chainrule, *cpu_inputs)
    with on_device():
        device_inputs = _inputs(values, grad, "cuda")
        device_out = fn(chainrule, *device_inputs)
        cpu_flat, device_flat = _flat(cpu_out), _flat(device_out)
        assert len(cpu_flat) == len(device_flat)
        for index, (d, c) in enumerate(zip(device_flat, cpu_flat)):
            if isinstance(c, chainrule.Tensor):
                assert_same(d, c, f"output {index}")
            else:
                assert d == c, f"output {index}: {d!r} != {c!r}"
        if not grad:
            return
        rng = np.random.default_rng(seed)
        pairs = [(d, c) for d, c in zip(device_flat, cpu_flat)
                 if isinstance(c, chainrule.Tensor) and c.requires_grad]
        if not pairs:
            return
        seeds = [rng.standard_normal(tuple(c.shape)) for _, c in pairs]
        chainrule.autograd.backward([c for _, c in pairs], [chainrule.tensor(s, device="cpu") for s in seeds])
        chainrule.autograd.backward([d for d, _ in pairs], [chainrule.tensor(s) for s in seeds])
        for index, (d, c) in enumerate(zip(device_inputs, cpu_inputs)):
            if isinstance(c, chainrule.Tensor) and c.requires_grad:
                assert (d.grad is None) == (c.grad is None), f"gradient of input {index}: None on one side"
                if c.grad is not None:
                    assert_same(d.grad, c.grad, f"gradient of input {index}")


def check_module_on_device(make, *values, grad=True):
    """A module made by ``make(chainrule.nn)`` and its copy moved with ``.cuda()``: the same
    outputs and gradients (of the inputs and of every parameter, which stay on the device)."""
    chainrule.manual_seed(0)
    cpu_module = make(chainrule.nn).double()
    device_module = copy.deepcopy(cpu_module)
    cpu_parameters = list(cpu_module.parameters())
    parameters = list(device_module.parameters())
    with on_device():
        assert device_module.cuda() is device_module
        assert [id(p) for p in device_module.parameters()] == [id(p) for p in parameters]
        for name, tensor in list(device_module.named_parameters()) + list(device_module.named_buffers()):
            assert_on_device(tensor, name)
    check_on_device(lambda L, *inputs: (cpu_module if L.get_default_device().type == "cpu" else device_module)(*inputs),
                    *values, grad=grad)
    with on_device():
        for name, tensor in list(device_module.named_parameters()) + list(device_module.named_buffers()):
            assert_on_device(tensor, name)
        if grad:
            for index, (d, c) in enumerate(zip(parameters, cpu_parameters)):
                assert (d.grad is None) == (c.grad is None), f"gradient of parameter {index}: None on one side"
                if c.grad is not None:
                    assert_same(d.grad, c.grad, f"gradient of parameter {index}")
