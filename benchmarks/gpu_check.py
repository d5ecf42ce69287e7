"""gpu_check: the GPU measurements of issue #15, on a machine with an NVIDIA GPU, CuPy and a
CUDA build of PyTorch (``benchmarks/gpu_check.sh`` runs this after the float64 op parity).

* **digits**: the digits MLP and CNN trained by ``chainrule train`` on cuda and on the CPU
  (same seed, same options): test accuracies within 0.5 points.
* **speed**: one training step (zero_grad, forward, cross-entropy, backward, Adam step),
  float32, of ReLU MLPs 4096-4096-4096-10 batch 4096 (target: chainrule's throughput >= 0.8x
  PyTorch CUDA eager's) and 784-512-512-10 batch 256 (reported); TF32 off in both (CuPy's
  default; ``torch.backends.cuda.matmul.allow_tf32 = False``); median of 50 steps after 10
  warm-ups, each step timed to a device synchronisation, the frameworks alternating in
  rounds of 10 steps; chainrule with and without its fused Adam kernel (``CHAINRULE_FUSE``).
* **memory**: CuPy's memory pool (used and reserved bytes) at step 100 and step 1,000 of the
  784-512-512-10 training: not growing.

Writes ``gpu_check.json`` (every figure) and ``gpu_check.txt`` (the summary) to ``--out``.
"""
from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def environment() -> dict:
    import cupy
    import torch

    import chainrule

    props = cupy.cuda.runtime.getDeviceProperties(0)
    return {
        "date": datetime.date.today().isoformat(),
        "gpu": props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"]),
        "gpu_memory_gib": round(props["totalGlobalMem"] / 2**30, 1),
        "cuda_driver": cupy.cuda.runtime.driverGetVersion(),
        "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(),
        "cupy": cupy.__version__,
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "chainrule_gpu_name": chainrule.cuda.get_device_name(0),
    }


def is_available_seconds() -> float:
    """``chainrule.cuda.is_available()`` in a fresh interpreter (CuPy's import included)."""
    import subprocess

    code = ("import time, chainrule\nt = time.perf_counter(); a = chainrule.cuda.is_available()\n"
            "print(a, time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "True", out
    return float(out[1])


# -- digits -----------------------------------------------------------------------------------

def digits(epochs: int | None) -> dict:
    from chainrule.commands import train as command

    results = {}
    for model in ("mlp", "cnn"):
        config = dict(command.DEFAULTS, model=model, hidden=list(command.DEFAULT_HIDDEN[model]))
        if epochs is not None:
            config["epochs"] = epochs
        config["lr"] = command.PEAK_LR[config["optimizer"]]
        row = {}
        for device in ("cpu", "cuda"):
            with tempfile.TemporaryDirectory() as out:
                start = time.perf_counter()
                result = command.train(config, out, log=lambda *_: None, progress=False, device=device)
                row[device] = {"test_accuracy": result.test_accuracy, "seconds": time.perf_counter() - start,
                               "final_train_loss": result.history[-1]["train_loss"]}
        row["difference_points"] = abs(row["cuda"]["test_accuracy"] - row["cpu"]["test_accuracy"]) * 100
        row["ok"] = row["difference_points"] <= 0.5
        results[model] = row
    return results


# -- speed ------------------------------------------------------------------------------------

def _step(lib, widths: tuple, batch: int, seed: int = 0):
    """One Adam training step of a ReLU MLP on cuda, written once for both libraries
    (``lib`` is chainrule or torch); returns ``(step, synchronize)``."""
    if lib.__name__ == "torch":  # TF32 off: the same float32 products as chainrule's
        lib.backends.cuda.matmul.allow_tf32 = False
        lib.backends.cudnn.allow_tf32 = False
        lib.set_float32_matmul_precision("highest")
    lib.manual_seed(seed)
    layers = []
    for i in range(len(widths) - 1):
        layers.append(lib.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(lib.nn.ReLU())
    model = lib.nn.Sequential(*layers).cuda()
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-4)
    loss_fn = lib.nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.standard_normal((batch, widths[0]), dtype=np.float32), device="cuda")
    y = lib.tensor(rng.integers(0, widths[-1], batch), device="cuda")

    def step():
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

    return step, lib.cuda.synchronize


def _chainrule_step(widths: tuple, batch: int, seed: int = 0):
    import chainrule

    return _step(chainrule, widths, batch, seed)


def _torch_step(widths: tuple, batch: int, seed: int = 0):
    import torch

    return _step(torch, widths, batch, seed)


def _timed(step, sync) -> float:
    sync()
    start = time.perf_counter()
    step()
    sync()
    return time.perf_counter() - start


def speed(widths: tuple, batch: int, warmup: int = 10, steps: int = 50, rounds: int = 5) -> dict:
    """Median seconds per step of each candidate, alternating in rounds of steps / rounds."""
    from chainrule import backend

    candidates = {"chainrule": _chainrule_step(widths, batch), "pytorch": _torch_step(widths, batch),
                  "chainrule_unfused": _chainrule_step(widths, batch)}
    times = {name: [] for name in candidates}
    for name, (step, sync) in candidates.items():
        backend.FUSION = name != "chainrule_unfused"
        for _ in range(warmup):
            _timed(step, sync)
    for _ in range(rounds):
        for name, (step, sync) in candidates.items():
            backend.FUSION = name != "chainrule_unfused"
            times[name].extend(_timed(step, sync) for _ in range(steps // rounds))
    backend.FUSION = True
    medians = {name: statistics.median(t) for name, t in times.items()}
    return {
        "widths": list(widths), "batch": batch,
        "median_ms": {name: round(m * 1e3, 3) for name, m in medians.items()},
        "throughput_vs_pytorch": medians["pytorch"] / medians["chainrule"],
        "fused_adam_gain": medians["chainrule_unfused"] / medians["chainrule"],
    }


# -- memory -----------------------------------------------------------------------------------

def memory(steps: int = 1000) -> dict:
    import cupy

    import chainrule

    step, sync = _chainrule_step((784, 512, 512, 10), 256, seed=1)
    pool = cupy.get_default_memory_pool()
    marks = {}
    for index in range(1, steps + 1):
        step()
        if index in (100, steps):
            sync()
            marks[index] = {"used_bytes": int(pool.used_bytes()), "reserved_bytes": int(pool.total_bytes()),
                            "memory_allocated": chainrule.cuda.memory_allocated()}
    first, last = marks[100], marks[steps]
    return {"at_step_100": first, f"at_step_{steps}": last,
            "ok": last["reserved_bytes"] <= first["reserved_bytes"] and last["used_bytes"] <= first["used_bytes"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="benchmarks/gpu_results", help="folder for gpu_check.json / .txt")
    parser.add_argument("--epochs", type=int, default=None, help="digits training epochs (default: train's)")
    parser.add_argument("--skip", nargs="*", default=(), choices=("digits", "speed", "memory"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"environment": environment(), "is_available_seconds": is_available_seconds()}
    lines = [f"{report['environment']['date']}  {report['environment']['gpu']}  CuPy {report['environment']['cupy']}  "
             f"torch {report['environment']['torch']} (CUDA {report['environment']['torch_cuda']})",
             f"chainrule.cuda.is_available() in a fresh process: {report['is_available_seconds']:.3f} s"]

    def save() -> None:
        (out / "gpu_check.json").write_text(json.dumps(report, indent=2) + "\n")
        (out / "gpu_check.txt").write_text("\n".join(lines) + "\n")

    stages = [("memory", memory), ("speed", lambda: {
        "mlp_4096": speed((4096, 4096, 4096, 10), 4096), "mlp_784": speed((784, 512, 512, 10), 256)}),
              ("digits", lambda: digits(args.epochs))]
    for name, stage in stages:
        if name in args.skip:
            continue
        start = time.perf_counter()
        try:
            report[name] = stage()
        except Exception as error:  # one stage failing must not cost the others' figures
            report[name] = {"error": f"{type(error).__name__}: {error}"}
        report[name + "_seconds"] = round(time.perf_counter() - start, 1)
        result = report[name]
        if "error" in result:
            lines.append(f"{name}: FAILED {result['error']}")
        elif name == "memory":
            lines.append(f"memory pool, 784-512-512-10 b256: step 100 {result['at_step_100']}, "
                         f"step 1000 {result['at_step_1000']}: {'not growing' if result['ok'] else 'GROWING'}")
        elif name == "speed":
            for key, row in result.items():
                lines.append(f"{key} b{row['batch']}: chainrule {row['median_ms']['chainrule']} ms/step, PyTorch "
                             f"{row['median_ms']['pytorch']} ms/step: throughput {row['throughput_vs_pytorch']:.2f}x "
                             f"PyTorch's; fused Adam gain {row['fused_adam_gain']:.3f}x")
        else:
            for model, row in result.items():
                lines.append(f"digits {model}: test accuracy cuda {row['cuda']['test_accuracy']:.2%} / cpu "
                             f"{row['cpu']['test_accuracy']:.2%} ({row['difference_points']:.2f} points: "
                             f"{'ok' if row['ok'] else 'TOO FAR'})")
        save()
        print(lines[-1] if "error" in result or name != "speed" else "\n".join(lines[-2:]), flush=True)
    if "speed" in report and "mlp_4096" in report["speed"]:
        ratio = report["speed"]["mlp_4096"]["throughput_vs_pytorch"]
        lines.append(f"target mlp_4096 throughput >= 0.8x PyTorch: {'met' if ratio >= 0.8 else 'NOT met'} ({ratio:.2f}x)")
    save()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
