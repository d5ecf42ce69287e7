"""``torch.nn.modules``: the layers under PyTorch's module paths, for programs that import
from them (``from torch.nn.modules.loss import _Loss``, ``torch.nn.modules.lazy.LazyModuleMixin``,
``from torch.nn.modules.utils import _pair``).  Each ``chainrule.nn.modules.<name>`` is a
module holding the names of the chainrule.nn module(s) that define them (PyTorch keeps
``MultiheadAttention`` in ``activation``, ``InstanceNorm`` in ``instancenorm`` ...)."""
from __future__ import annotations

import sys
import types

from .. import (
    activation, adaptive, batchnorm, container, conv, distance, dropout, flatten, lazy, linear, loss, module,
    multihead_attention, normalization, padding, pixelshuffle, pooling, rnn, sparse, transformer, upsampling,
)
from ..activation import *  # noqa: F401,F403  (torch.nn.modules has every layer at its top too)
from ..adaptive import AdaptiveLogSoftmaxWithLoss  # noqa: F401
from ..batchnorm import *  # noqa: F401,F403
from ..container import *  # noqa: F401,F403
from ..conv import *  # noqa: F401,F403
from ..distance import *  # noqa: F401,F403
from ..dropout import *  # noqa: F401,F403
from ..flatten import *  # noqa: F401,F403
from ..lazy import *  # noqa: F401,F403
from ..linear import *  # noqa: F401,F403
from ..loss import *  # noqa: F401,F403
from ..module import Module  # noqa: F401
from ..multihead_attention import MultiheadAttention  # noqa: F401
from ..normalization import *  # noqa: F401,F403
from ..padding import *  # noqa: F401,F403
from ..pixelshuffle import *  # noqa: F401,F403
from ..pooling import *  # noqa: F401,F403
from ..rnn import *  # noqa: F401,F403
from ..sparse import *  # noqa: F401,F403
from ..transformer import *  # noqa: F401,F403
from ..upsampling import *  # noqa: F401,F403
from . import utils

#: PyTorch's submodule name -> the chainrule.nn modules whose names it holds.
_PATHS = {
    "activation": (activation, multihead_attention), "adaptive": (adaptive,), "batchnorm": (batchnorm, lazy), "channelshuffle": (pixelshuffle,),
    "container": (container,), "conv": (conv, lazy), "distance": (distance,), "dropout": (dropout,), "flatten": (flatten,),
    "fold": (conv,), "instancenorm": (normalization, lazy), "lazy": (lazy,), "linear": (linear, lazy), "loss": (loss,),
    "module": (module,), "normalization": (normalization,), "padding": (padding,), "pixelshuffle": (pixelshuffle,),
    "pooling": (pooling,), "rnn": (rnn,), "sparse": (sparse,), "transformer": (transformer,),
    "upsampling": (upsampling,),
}


def _path(name: str, sources: tuple) -> types.ModuleType:
    made = types.ModuleType(f"{__name__}.{name}", f"torch.nn.modules.{name}: names from "
                            + ", ".join(source.__name__ for source in sources))
    for source in sources:
        made.__dict__.update({k: v for k, v in vars(source).items() if not k.startswith("__")})
    sys.modules[made.__name__] = made
    return made


for _name, _sources in _PATHS.items():
    globals()[_name] = _path(_name, _sources)
del _name, _sources
