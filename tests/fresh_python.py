"""Run a snippet in a fresh interpreter: for what only a new process shows (what an import
loads, what a plain ``import chainrule`` reaches)."""
from __future__ import annotations

import os
import subprocess
import sys


def fresh_python(code: str, timeout: float = 120, **env: str) -> list[str]:
    """The words ``code`` prints in a new interpreter (which must exit 0)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    return done.stdout.split()
