"""The ops: each an :class:`~chainrule.autograd.function.Op` with its forward and backward side
by side, on backend arrays (NumPy's, or a device's through ``xp``).  The functional forms
(``chainrule.functional`` and the modules above it) call ``Op.apply``; nothing about an op is
written twice.  (A regular package: a namespace package costs a search of ``sys.path`` on
import.)"""
