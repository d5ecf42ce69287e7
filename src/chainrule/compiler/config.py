"""Settings of ``chainrule.compile`` that PyTorch keeps in ``torch._dynamo.config`` (a script's
``torch._dynamo.config.cache_size_limit = 64`` sets them here too), read when a compiled
object is made; ``options={"cache_size_limit": n}`` overrides them for one object."""
from __future__ import annotations

#: How many guard keys (input shapes, modes) of one compiled object get plans before its
#: further keys run eagerly with a warning (PyTorch's recompile limit; it renamed
#: ``cache_size_limit`` to ``recompile_limit``: both are read, the one set away from 8 wins).
cache_size_limit: int = 8
recompile_limit: int = 8
#: Accepted for PyTorch's scripts: chainrule's graph breaks never raise unless ``fullgraph=True``.
suppress_errors: bool = False
verbose: bool = False


def plan_limit() -> int:
    """The recompile limit the two names give (the one changed from the default)."""
    return recompile_limit if recompile_limit != 8 else cache_size_limit
