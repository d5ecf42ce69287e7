"""``torch._dynamo``'s user-facing corner, for scripts that reach it: ``reset``, ``explain``,
``disable``, ``is_compiling`` and ``config`` (``torch._dynamo.config.cache_size_limit = 64``),
all of them ``chainrule.compiler``'s."""
from __future__ import annotations

import sys

from ..compiler import config, disable, explain, is_compiling, reset

# `import torch._dynamo.config` finds the one settings module, not a copy.
sys.modules[__name__ + ".config"] = config

__all__ = ["config", "disable", "explain", "is_compiling", "reset"]
