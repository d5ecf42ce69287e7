"""One rank raises while the other waits in a collective: the job must end, not hang.

    mpiexec -n 2 python fail.py after_init|before_init
"""
import sys

import chainrule as torch

dist = torch.distributed
when = sys.argv[1]
rank = int(dist.get_node_local_rank(0)) if when == "before_init" else None
if when == "before_init" and rank == 1:
    raise ValueError("rank 1 fails before init_process_group")
dist.init_process_group("gloo")
if dist.get_rank() == 1:
    raise ValueError("rank 1 fails")
dist.all_reduce(torch.ones(3))  # rank 0 waits here for ever unless the job is ended
