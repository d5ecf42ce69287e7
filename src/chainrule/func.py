"""``torch.func``: ``functional_call`` (a module called with other tensors in place of its
parameters and buffers).  The function transforms (``grad``, ``vmap``, ``jacrev`` ...) are not
part of chainrule; ``chainrule.autograd.functional`` has ``jacobian``, ``hessian``, ``vjp`` and
``jvp``."""
from __future__ import annotations

from .nn.utils.stateless import reparametrized_call as functional_call

__all__ = ["functional_call"]
