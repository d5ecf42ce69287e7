"""``chainrule.cuda``: without CuPy or a GPU (is_available False, every cuda path a clear
RuntimeError, CuPy never imported by ``import chainrule``); with a device (the stand-in):
its queries, seeds and the memory figures of its pool."""
from __future__ import annotations

import importlib.util
import textwrap

import numpy as np
import pytest

import chainrule
from chainrule import backend
from device_standin import make_backend, no_gpu, stand_in
from fresh_python import fresh_python

# Every way a program asks for the GPU; each must raise RuntimeError on a machine without one.
CUDA_PATHS = textwrap.dedent("""
    import chainrule
    x = chainrule.ones(2, requires_grad=True)
    print(chainrule.cuda.is_available(), chainrule.cuda.device_count())
    paths = {
        "x.cuda()": lambda: x.cuda(),
        "x.to('cuda')": lambda: x.to("cuda"),
        "x.to('cuda:0')": lambda: x.to("cuda:0"),
        "zeros(device='cuda')": lambda: chainrule.zeros(2, device="cuda"),
        "randn(device='cuda')": lambda: chainrule.randn(2, device="cuda"),
        "tensor(device=0)": lambda: chainrule.tensor([1.0], device=0),
        "Module.cuda()": lambda: chainrule.nn.Linear(2, 2).cuda(),
        "Module.to('cuda')": lambda: chainrule.nn.Linear(2, 2).to("cuda"),
        "Generator('cuda')": lambda: chainrule.Generator("cuda"),
        "set_default_device": lambda: chainrule.set_default_device("cuda"),
        "current_device": chainrule.cuda.current_device,
        "set_device": lambda: chainrule.cuda.set_device(0),
        "synchronize": chainrule.cuda.synchronize,
        "memory_allocated": chainrule.cuda.memory_allocated,
        "max_memory_allocated": chainrule.cuda.max_memory_allocated,
        "memory_reserved": chainrule.cuda.memory_reserved,
        "get_device_name": chainrule.cuda.get_device_name,
    }
    for name, path in paths.items():
        try:
            path()
        except RuntimeError as error:
            assert "\\n" not in str(error) and "CUDA is not available" in str(error), (name, str(error))
        else:
            raise AssertionError(f"{name} did not raise")
    chainrule.cuda.manual_seed(1)  # as in PyTorch: seeding a GPU that is not there is no error
    chainrule.cuda.manual_seed_all(1)
    chainrule.cuda.empty_cache()
    print(str(chainrule.zeros(1, device="cpu").device))
""")


def test_with_cupy_installed_and_no_gpu_every_cuda_path_raises():
    # CUDA_VISIBLE_DEVICES hides any GPU this machine has: CuPy (the test extra's, where it has
    # a wheel) is importable and finds none.
    installed = importlib.util.find_spec("cupy") is not None
    out = fresh_python(("import cupy" if installed else "") + CUDA_PATHS, CUDA_VISIBLE_DEVICES="")
    assert out == ["False", "0", "cpu"]


def test_without_cupy_every_cuda_path_raises_with_the_hint():
    blocked = "import sys\nsys.modules['cupy'] = None  # an interpreter without CuPy\n"
    out = fresh_python(blocked + CUDA_PATHS)
    assert out == ["False", "0", "cpu"]
    with no_gpu(f"CUDA is not available: {backend.CUPY_HINT}"):
        with pytest.raises(RuntimeError, match=r"pip install 'chainrule\[cuda\]' \(cupy-cuda12x; cupy-cuda13x"):
            chainrule.ones(1).cuda()


def test_importing_chainrule_does_not_import_cupy():
    code = ("import sys, chainrule, chainrule.nn, chainrule.optim\n"
            "x = chainrule.ones(2, requires_grad=True); (x * 2).sum().backward(); chainrule.zeros(1, device='cpu')\n"
            "print('cupy' in sys.modules)")
    assert fresh_python(code) == ["False"]


def test_queries_on_a_device():
    with stand_in():
        assert chainrule.cuda.is_available() and chainrule.cuda.device_count() == 1
        assert chainrule.cuda.current_device() == 0
        chainrule.cuda.set_device(0)
        chainrule.cuda.set_device("cuda:0")
        chainrule.cuda.synchronize()
        assert chainrule.cuda.get_device_name(0) == "chainrule stand-in device"
        with pytest.raises(RuntimeError, match="invalid device ordinal"):
            chainrule.cuda.set_device(1)
        with pytest.raises(ValueError, match="Expected a cuda device"):
            chainrule.cuda.synchronize("cpu")


def test_seeds_reproduce_the_device_stream_which_is_not_the_cpus():
    with stand_in():
        chainrule.manual_seed(5)
        first = chainrule.randn(4, device="cuda").cpu().numpy()
        chainrule.cuda.manual_seed(5)
        np.testing.assert_array_equal(chainrule.randn(4, device="cuda").cpu().numpy(), first)
    with stand_in():  # a fresh device: its generator is made by the seeding itself
        chainrule.cuda.manual_seed(5)
        np.testing.assert_array_equal(chainrule.randn(4, device="cuda").cpu().numpy(), first)
        chainrule.cuda.manual_seed_all(5)
        np.testing.assert_array_equal(chainrule.randn(4, device="cuda").cpu().numpy(), first)
        chainrule.manual_seed(5)
        assert not np.array_equal(chainrule.randn(4).numpy(), first)  # another stream, as in PyTorch
        g = chainrule.Generator("cuda").manual_seed(5)
        np.testing.assert_array_equal(chainrule.randn(4, device="cuda", generator=g).cpu().numpy(), first)
        with pytest.raises(RuntimeError, match="Expected a 'cuda' device type for generator but found 'cpu'"):
            chainrule.randn(2, device="cuda", generator=chainrule.Generator())
        with pytest.raises(RuntimeError, match="supported for CPU generators only"):
            g.get_state()


class Pool:
    """CuPy's MemoryPool, as far as chainrule.cuda reads it."""

    def __init__(self):
        self.used, self.total, self.freed = 0, 0, 0

    def used_bytes(self):
        return self.used

    def total_bytes(self):
        return self.total

    def free_all_blocks(self):
        self.freed += 1
        self.total = self.used


def test_memory_figures_are_the_pools():
    pool = Pool()
    stand_in_with_pool = make_backend()
    stand_in_with_pool.memory_pool = pool
    previous = backend.register_device(stand_in_with_pool)
    try:
        chainrule.cuda.reset_peak_memory_stats()
        pool.used, pool.total = 100, 400
        assert chainrule.cuda.memory_allocated() == 100 and chainrule.cuda.memory_reserved() == 400
        pool.used = 300
        chainrule.cuda.synchronize()  # a sample of the peak
        pool.used = 50
        assert chainrule.cuda.memory_allocated(0) == 50
        assert chainrule.cuda.max_memory_allocated() == 300
        chainrule.cuda.reset_peak_memory_stats()
        assert chainrule.cuda.max_memory_allocated() == 50
        chainrule.cuda.empty_cache()
        assert pool.freed == 1 and chainrule.cuda.memory_reserved() == 50
    finally:
        backend.unregister_device("cuda")
        if previous is not None:
            backend.register_device(previous)
