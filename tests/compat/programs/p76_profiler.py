# The profiler recipe: profile a small MLP's forward and backward with torch.profiler, label the
# forward with record_function, read key_averages(), export a Chrome trace, and drive a
# schedule with prof.step(). Timings differ from run to run, so only what is deterministic is
# printed: which ops and backward nodes were recorded and how often, and which steps a
# schedule recorded.
import json
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile, record_function, schedule

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
x = torch.randn(5, 6)
y = torch.randn(5, 3)

with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
    with record_function("model_forward"):
        loss = F.mse_loss(model(x), y)
    loss.backward()

watched = ["model_forward", "aten::linear", "aten::addmm", "aten::relu", "aten::mse_loss"]
for node in ["MseLossBackward0", "AddmmBackward0", "ReluBackward0"]:
    watched += [node, "autograd::engine::evaluate_function: " + node]
counts = {e.key: e.count for e in prof.key_averages()}
for name in sorted(watched):
    print(name, counts.get(name, 0))

shapes = {(e.key, str(e.input_shapes)) for e in prof.key_averages(group_by_input_shape=True)}
print("linear shapes", sorted(s for k, s in shapes if k == "aten::linear"))
print("relu shapes", sorted(s for k, s in shapes if k == "aten::relu"))

forward = next(e for e in prof.events() if e.name == "model_forward")
print("forward children include linear:", any(c.name == "aten::linear" for c in forward.cpu_children))
print("self <= total:", all(e.self_cpu_time_total <= e.cpu_time_total + 1e-6 for e in prof.key_averages()))

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "trace.json")
    prof.export_chrome_trace(path)
    with open(path) as f:
        trace = json.load(f)
    names = {e["name"] for e in trace["traceEvents"] if e.get("ph") == "X"}
    print("trace has", [n for n in ["model_forward", "aten::addmm", "aten::relu"] if n in names])

ready = []


def on_ready(p):
    steps = [e.count for e in p.key_averages() if e.key == "ProfilerStep*"]
    ready.append((p.step_num, steps))


with profile(schedule=schedule(wait=1, warmup=1, active=2, repeat=2), on_trace_ready=on_ready) as p:
    for step in range(10):
        model(x).sum().backward()
        p.step()
print("recorded windows", ready)
print("final step", p.step_num)

results = {"counts": [counts.get(name, 0) for name in sorted(watched)], "loss": loss.detach(),
           "windows": [list(w[1]) for w in ready]}
