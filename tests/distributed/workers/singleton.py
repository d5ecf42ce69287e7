"""The process group without an MPI launcher: one process, rank 0 of 1; and the errors of
misuse. Reports what each call gave."""
import os

import chainrule as torch
from report import report

dist = torch.distributed


def error(call):
    try:
        call()
    except Exception as e:  # noqa: BLE001 - the test checks the type and message
        return [type(e).__name__, str(e)]
    return None


results = {"available": dist.is_available(), "initialized_before": dist.is_initialized(),
           "rank_before": error(dist.get_rank), "bad_backend": error(lambda: dist.init_process_group("tcp")),
           "wrong_rank": error(lambda: dist.init_process_group("gloo", rank=1, world_size=1))}
dist.init_process_group("nccl", world_size=1, rank=0)
t = torch.tensor([1.5, -2.0])
dist.all_reduce(t, op=dist.ReduceOp.AVG)
results.update(initialized=dist.is_initialized(), the_rank=dist.get_rank(), world_size=dist.get_world_size(),
               backend=str(dist.get_backend()), all_reduce=t.tolist(), twice=error(dist.init_process_group),
               world_is_default=dist.group.WORLD is not None, master=[os.environ.get("MASTER_ADDR"),
                                                                   os.environ.get("MASTER_PORT")])
results.update(
    gather_no_list=error(lambda: dist.gather(t, None, dst=0)),
    gather_short_list=error(lambda: dist.gather(t, [t, t], dst=0)),
    scatter_wrong_size=error(lambda: dist.scatter(t, [torch.tensor([1.0, 2.0, 3.0])], src=0)))
dist.destroy_process_group()
results["after_destroy"] = dist.is_initialized()
dist.init_process_group()  # again, after destroy
results["reinitialized"] = dist.get_world_size()
report(0, **results)
