"""DistributedDataParallel misused; every rank raises, and the job must end with the error:

    mpiexec -n 2 python ddp_errors.py unused   # a parameter unused, find_unused_parameters=False
    mpiexec -n 2 python ddp_errors.py shapes   # the ranks' models differ
"""
import sys

import chainrule as torch
from chainrule import nn

dist = torch.distributed


class Unused(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.used = nn.Linear(4, 2)
        self.unused = nn.Linear(4, 2)

    def forward(self, x):
        return self.used(x)


dist.init_process_group("gloo")
if sys.argv[1] == "unused":
    model = nn.parallel.DistributedDataParallel(Unused())
    for _ in range(2):  # the second forward finds the first reduction unfinished
        model(torch.ones(3, 4)).sum().backward()
else:
    width = 5 if dist.get_rank() == 1 else 4
    nn.parallel.DistributedDataParallel(nn.Linear(width, 2))
