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
