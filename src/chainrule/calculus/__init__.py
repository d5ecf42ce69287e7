"""User tools that differentiate whole functions and so need the whole library: Jacobians,
Hessians and their products (``autograd.functional``), and finite-difference gradient checks
(``gradcheck``).  They sit above the functional layer and register themselves under PyTorch's
names in :mod:`chainrule.autograd` (which, being below, cannot import them)::

    chainrule.autograd.functional.jacobian(f, x)
    chainrule.autograd.gradcheck(f, (x,))
"""
from __future__ import annotations

import sys

from .. import autograd
from . import functional, gradcheck as _gradcheck_module
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

autograd.functional = functional
autograd.gradcheck = gradcheck
autograd.gradgradcheck = gradgradcheck
autograd.GradcheckError = GradcheckError
# Their module paths as PyTorch spells them: ``from torch.autograd.functional import jacobian``.
sys.modules[f"{autograd.__name__}.functional"] = functional
sys.modules[f"{autograd.__name__}.gradcheck"] = _gradcheck_module

__all__ = ["functional", "gradcheck", "gradgradcheck", "GradcheckError"]
