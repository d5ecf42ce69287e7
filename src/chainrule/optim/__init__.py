"""Optimizers and learning-rate schedules with PyTorch's API and numbers:
``chainrule.optim.SGD/Adam/AdamW/NAdam/RAdam/Adamax/Adadelta/RMSprop/Rprop/Adagrad/ASGD/LBFGS/SparseAdam`` and
``chainrule.optim.lr_scheduler``.

>>> opt = chainrule.optim.Adam(model.parameters(), lr=1e-3)
>>> sched = chainrule.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
"""
from . import lr_scheduler, swa_utils
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ["Adadelta", "Adagrad", "Adam", "Adamax", "AdamW", "ASGD", "LBFGS", "NAdam", "Optimizer", "RAdam", "RMSprop",
           "Rprop", "SGD", "SparseAdam", "lr_scheduler"]
