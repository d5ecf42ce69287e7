"""Importing chainrule leaves the process's malloc alone; the command line and an explicit
``backend.keep_freed_memory()`` keep freed memory for reuse."""
import os
import subprocess
import sys
import textwrap

import pytest

# Frees 200 MiB of plain NumPy arrays (50 x 4 MiB) after SETUP and prints how much of it
# is still resident (MiB).
FREED = textwrap.dedent("""
    import numpy as np

    def rss():
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024

    SETUP
    before = rss()
    arrays = [np.ones(2**19) for _ in range(50)]
    del arrays
    print(round(rss() - before), getattr(__import__("chainrule").backend, "MALLOC_TUNED", None))
""")


def resident_after_free(setup):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k not in ("GLIBC_TUNABLES", "CHAINRULE_MALLOC_TUNING")}
    done = subprocess.run([sys.executable, "-c", FREED.replace("SETUP", setup)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    kept, tuned = done.stdout.split()
    return int(kept), tuned


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc, read through /proc")
def test_importing_chainrule_leaves_malloc_alone():
    kept, tuned = resident_after_free("import chainrule, chainrule.nn, chainrule.optim")
    assert tuned == "False" and kept < 40  # glibc's defaults hand the freed arrays back


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc, read through /proc")
def test_the_command_line_and_the_explicit_call_keep_freed_memory():
    command_line = "import chainrule.cli, contextlib, io\n" \
                   "with contextlib.redirect_stdout(io.StringIO()): chainrule.cli.main(['explain'])"
    for setup in (command_line, "import chainrule; chainrule.backend.keep_freed_memory()"):
        kept, tuned = resident_after_free(setup)
        assert tuned == "True" and kept > 150


def test_is_anomaly_enabled_is_public():
    import chainrule

    assert chainrule.is_anomaly_enabled() is False
    with chainrule.autograd.detect_anomaly():
        assert chainrule.is_anomaly_enabled() is True
    assert chainrule.is_anomaly_enabled() is False


# -- devices and the device registry ---------------------------------------------------------


@pytest.mark.parametrize("spec", ["cpu", "cuda", "cuda:1", ("cuda", 2), ("cpu", 0)])
def test_device_names_read_as_pytorchs(spec):
    import torch
    from chainrule import backend

    ours = backend.device(*spec) if isinstance(spec, tuple) else backend.device(spec)
    theirs = torch.device(*spec) if isinstance(spec, tuple) else torch.device(spec)
    assert (repr(ours), str(ours), ours.type, ours.index) == (repr(theirs), str(theirs), theirs.type, theirs.index)


@pytest.mark.parametrize("spec,message", [("cuda:x", "Invalid device string"), (-1, "must not be negative")])
def test_bad_device_names_raise_like_pytorch(spec, message):
    import torch
    from chainrule import backend

    with pytest.raises(RuntimeError):
        torch.device(spec)
    with pytest.raises(RuntimeError, match=message):
        backend.device(spec)


def test_a_registered_device_and_the_arrays_it_owns():
    import numpy as np
    import chainrule.optim  # noqa: F401  (registers the Adam chain)
    from chainrule import backend
    from device_standin import DeviceArray, DeviceScalar, make_backend, namespace

    array = np.ones(2).view(DeviceArray)
    assert backend.get_array_module(array) is np and backend.array_backend(array) is None  # not registered yet
    stand_in = make_backend()
    assert backend.register_device(stand_in) is None
    try:
        assert backend.registered_backend("cuda") is stand_in
        assert backend.get_array_module(array) is namespace
        assert backend.get_array_module(np.ones(()).view(DeviceScalar)) is namespace  # subclasses too
        assert str(backend.device_of(array)) == "cuda:0" and backend.device_of(np.ones(2)) is backend.CPU
        assert type(backend.to_numpy(array)) is np.ndarray
        moved = backend.to_device(np.arange(3.0), backend.device("cuda", 0))
        assert type(moved) is DeviceArray and backend.to_device(moved, backend.device("cuda", 0)) is moved
        assert type(backend.to_device(moved, backend.CPU)) is np.ndarray
        assert backend.fused(moved, "adam") is backend.FUSABLE["adam"]  # the stand-in runs chains as written
        assert backend.fused(np.ones(2), "adam") is None  # the CPU runs them op by op
    finally:
        backend.unregister_device("cuda")
    assert backend.registered_backend("cuda") is None and backend.get_array_module(array) is np
