"""Every collective, ReduceOp and dtype on this rank, blocking and async, on contiguous tensors
and on transposed views; prints one JSON line: each case's input and output on this rank."""
import chainrule as torch
from report import report

dist = torch.distributed
DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64}
OPS = ["SUM", "PRODUCT", "MIN", "MAX", "AVG"]
BITWISE = ["BAND", "BOR", "BXOR"]


def values(rank: int, dtype) -> torch.Tensor:
    """A 2x3 tensor that differs across ranks (exact in every dtype)."""
    return torch.tensor([[rank + 1, -(rank + 2), 3 * rank + 1], [7 - rank, 2 * rank - 3, 5]], dtype=dtype)


def finish(work, async_op: bool) -> None:
    if async_op:
        while not work.is_completed():  # poll, as a training loop would between steps
            pass
        assert work.wait() is True


def main() -> None:
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    cases = {}

    def record(name, given, result, storage=None):
        cases[name] = {"input": given, "output": result, "storage": storage}

    for dname, dtype in DTYPES.items():
        for async_op in (False, True):
            mode = "async" if async_op else "sync"
            for op in OPS + (BITWISE if dname == "int64" else []):
                # A transposed view: all_reduce must write through to its storage.
                base = values(rank, dtype).t().contiguous()
                view = base.t()
                given = view.tolist()
                finish(dist.all_reduce(view, op=getattr(dist.ReduceOp, op), async_op=async_op), async_op)
                record(f"all_reduce/{op}/{dname}/{mode}", given, view.tolist(), base.t().tolist())
                t = values(rank, dtype)
                finish(dist.reduce(t, dst=1, op=getattr(dist.ReduceOp, op), async_op=async_op), async_op)
                record(f"reduce/{op}/{dname}/{mode}", values(rank, dtype).tolist(), t.tolist())
                out = torch.zeros(3, dtype=dtype)
                pieces = list(values(rank, dtype))
                finish(dist.reduce_scatter(out, pieces, op=getattr(dist.ReduceOp, op), async_op=async_op), async_op)
                record(f"reduce_scatter/{op}/{dname}/{mode}", values(rank, dtype).tolist(), out.tolist())
                out = torch.zeros(3, dtype=dtype)
                finish(dist.reduce_scatter_tensor(out, values(rank, dtype).reshape(-1), op=getattr(dist.ReduceOp, op),
                                                  async_op=async_op), async_op)
                record(f"reduce_scatter_tensor/{op}/{dname}/{mode}", values(rank, dtype).tolist(), out.tolist())
            t = values(rank, dtype).t()
            finish(dist.broadcast(t, src=1, async_op=async_op), async_op)
            record(f"broadcast/{dname}/{mode}", values(rank, dtype).t().tolist(), t.tolist())
            outs = [torch.zeros(2, 3, dtype=dtype) for _ in range(world)]
            finish(dist.all_gather(outs, values(rank, dtype), async_op=async_op), async_op)
            record(f"all_gather/{dname}/{mode}", values(rank, dtype).tolist(), [o.tolist() for o in outs])
            out = torch.zeros(world * 2, 3, dtype=dtype)
            finish(dist.all_gather_into_tensor(out, values(rank, dtype), async_op=async_op), async_op)
            record(f"all_gather_into_tensor/{dname}/{mode}", values(rank, dtype).tolist(), out.tolist())
            stacked = torch.zeros(world, 2, 3, dtype=dtype)
            finish(dist.all_gather_into_tensor(stacked, values(rank, dtype), async_op=async_op), async_op)
            record(f"all_gather_into_tensor_stacked/{dname}/{mode}", values(rank, dtype).tolist(), stacked.tolist())
            gathered = [torch.zeros(2, 3, dtype=dtype) for _ in range(world)] if rank == 1 else None
            finish(dist.gather(values(rank, dtype), gathered, dst=1, async_op=async_op), async_op)
            record(f"gather/{dname}/{mode}", values(rank, dtype).tolist(),
                   None if gathered is None else [g.tolist() for g in gathered])
            out = torch.zeros(3, dtype=dtype)
            pieces = list(values(rank, dtype)) if rank == 1 else None
            finish(dist.scatter(out, pieces, src=1, async_op=async_op), async_op)
            record(f"scatter/{dname}/{mode}", values(rank, dtype).tolist(), out.tolist())
        finish(dist.barrier(async_op=False), False)
    report(rank, world=world, cases=cases)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
