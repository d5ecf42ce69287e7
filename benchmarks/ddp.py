"""ddp: data parallelism across 2 processes (``mpiexec -n 2``), one BLAS thread each.

- all_reduce through ``chainrule.distributed`` (MPI, float32, in place) of 1 KB and 16 MB:
  microseconds per call and GB/s (bytes reduced per second), next to PyTorch's gloo
  backend doing the same in the same two processes (over loopback TCP);
- a data-parallel training step of the 784-512-512-10 MLP with global batch 256: 2 ranks
  each taking 128 rows with DistributedDataParallel, against one process taking all 256
  (the same SGD step of ``mlp_train``'s big network), as the ratio of their step times.

Rounds alternate between the candidates (5 by default) and medians are reported. In the
single-process rounds the other rank sleeps (polling a nonblocking barrier every
millisecond) rather than spinning in MPI, so that it does not take a core away.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/ddp.py
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = {"1KB": 1024, "16MB": 16 * 1024 * 1024}
WIDTHS, GLOBAL_BATCH, LR = (784, 512, 512, 10), 256, 0.01
MARKER = "@@DDP "


# -- inside each rank -----------------------------------------------------------------------

def _idle_barrier(dist) -> None:
    """A barrier that sleeps instead of spinning (the other rank is being timed alone)."""
    work = dist.barrier(async_op=True)
    while not work.is_completed():
        time.sleep(1e-3)


def _time_calls(call, count: int, barrier) -> float:
    barrier()
    start = time.perf_counter()
    for _ in range(count):
        call()
    barrier()
    return (time.perf_counter() - start) / count


def _gloo(rank: int, port: int):
    """PyTorch's gloo process group over loopback, in this same process, for reference."""
    import torch
    import torch.distributed as tdist

    tdist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    return torch, tdist


def _mlp_step(torch, batch: slice, wrap) -> tuple:
    """(step, model) for one SGD step on ``batch`` rows of the fixed problem (see mlp_train)."""
    sys.path.insert(0, HERE)
    from mlp_train import make_problem

    params, x, y = make_problem("big")
    layers = []
    for i, (w, b) in enumerate(params):
        linear = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.copy()))
            linear.bias.copy_(torch.from_numpy(b.copy()))
        layers += [linear] + ([torch.nn.ReLU()] if i < len(params) - 1 else [])
    model = wrap(torch.nn.Sequential(*layers))
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    inputs, targets = torch.from_numpy(x[batch].copy()), torch.from_numpy(y[batch].copy())
    criterion = torch.nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss

    return step, model


def rank_main(repeats: int, port: int) -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    import chainrule

    dist = chainrule.distributed
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch, tdist = _gloo(rank, port)
    torch.set_num_threads(1)
    times: dict[str, list[float]] = {}

    buffers = {name: np.ones(n // 4, np.float32) for name, n in SIZES.items()}
    ours = {name: chainrule.from_numpy(a) for name, a in buffers.items()}
    theirs = {name: torch.from_numpy(a.copy()) for name, a in buffers.items()}
    calls = {"1KB": 2000, "16MB": 10}

    share = GLOBAL_BATCH // world
    ddp_step, ddp_model = _mlp_step(chainrule, slice(rank * share, (rank + 1) * share),
                                    chainrule.nn.parallel.DistributedDataParallel)
    single_step, _ = _mlp_step(chainrule, slice(0, GLOBAL_BATCH), lambda m: m)
    steps = 10
    for round_index in range(repeats + 1):
        record = round_index > 0
        for name in SIZES:
            for label, call, barrier in (
                    (f"chainrule all_reduce {name}", lambda t=ours[name]: dist.all_reduce(t), dist.barrier),
                    (f"gloo all_reduce {name}", lambda t=theirs[name]: tdist.all_reduce(t), tdist.barrier)):
                seconds = _time_calls(call, calls[name], barrier)
                if record:
                    times.setdefault(label, []).append(seconds)
        seconds = _time_calls(ddp_step, steps, dist.barrier)
        if record:
            times.setdefault("2 ranks x 1 thread, DDP step", []).append(seconds)
        if rank == 0:
            seconds = _time_calls(single_step, steps, lambda: None)
            if record:
                times.setdefault("1 process x 1 thread, step", []).append(seconds)
        _idle_barrier(dist)
    replicas = [torch.zeros(1, dtype=torch.float64) for _ in range(world)]
    digest = float(sum(p.detach().numpy().astype(np.float64).sum() for p in ddp_model.parameters()))
    tdist.all_gather(replicas, torch.tensor([digest], dtype=torch.float64))
    if rank == 0:
        print(MARKER + json.dumps({"times": times, "replicas_equal": len({r.item() for r in replicas}) == 1}),
              flush=True)
    tdist.destroy_process_group()
    dist.destroy_process_group()


# -- the launcher ---------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="(always 1 per rank here)")
    parser.add_argument("--rank", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rank:
        rank_main(args.repeats, args.port)
        return {}

    from chainrule.distributed.launcher import mpiexec_path
    from threadpoolctl import threadpool_info

    blas = "; ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')})"
                     for i in threadpool_info() if i.get("user_api") == "blas")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    command = [mpiexec_path(), "-n", "2", sys.executable, os.path.abspath(__file__), "--rank",
               "--repeats", str(args.repeats), "--port", str(_free_port())]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the mpiexec job failed ({done.returncode}):\n{done.stderr[-3000:]}")
    measured = json.loads(lines[0][len(MARKER):])
    medians = {name: statistics.median(values) for name, values in measured["times"].items()}
    print(f"environment: 2 ranks x 1 thread, BLAS {blas}, {args.repeats} interleaved rounds, medians; "
          f"replicas identical after the DDP steps: {measured['replicas_equal']}")
    for name in SIZES:
        ours, gloo = medians[f"chainrule all_reduce {name}"], medians[f"gloo all_reduce {name}"]
        print(f"  all_reduce {name:>4} float32: chainrule (MPI) {ours * 1e6:9.1f} us  {SIZES[name] / ours / 1e9:6.2f} GB/s"
              f"   gloo {gloo * 1e6:9.1f} us  {SIZES[name] / gloo / 1e9:6.2f} GB/s   ({ours / gloo:.3f}x gloo's time)")
    ddp, single = medians["2 ranks x 1 thread, DDP step"], medians["1 process x 1 thread, step"]
    print(f"  MLP 784-512-512-10, global batch 256: 2 ranks x 1 thread {ddp * 1e3:.2f} ms/step, "
          f"1 process x 1 thread {single * 1e3:.2f} ms/step: {ddp / single:.2f}x")
    return {"ddp_allreduce_1KB_us": medians["chainrule all_reduce 1KB"] * 1e6,
            "ddp_allreduce_16MB_ms": medians["chainrule all_reduce 16MB"] * 1e3,
            "ddp_step": ddp / single}


if __name__ == "__main__":
    main()
