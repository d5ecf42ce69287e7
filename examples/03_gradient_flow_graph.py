"""A picture of backprop: the graph of a small network, with the gradient flowing back along
every edge (edge labels, colours and widths), once in full and once with each layer drawn as
one box.

Run: python examples/03_gradient_flow_graph.py   (images need Graphviz's `dot`; without it
the .dot text is written instead)
"""
import os
import warnings
from pathlib import Path

import chainrule as torch
import chainrule.nn as nn

OUT = Path(os.environ.get("CHAINRULE_EXAMPLES_OUT", "example_outputs"))
OUT.mkdir(parents=True, exist_ok=True)

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
x = torch.randn(8, 4)
target = torch.tensor([0, 1, 1, 0, 1, 0, 0, 1])

with torch.viz.trace(model):          # records which module created which node
    loss = nn.functional.cross_entropy(model(x), target)

full = torch.viz.draw_graph(loss, params=model)
layers = torch.viz.draw_graph(loss, params=model, collapse=[model[0], model[2]])
with warnings.catch_warnings():
    warnings.simplefilter("ignore", torch.viz.GraphvizNotFound)
    for name, graph in (("graph_full.svg", full), ("graph_layers.svg", layers)):
        written = graph.save(OUT / name)
        print(f"wrote {written}")

names = {vertex.id: vertex.lines[0] for vertex in full.vertices}
for edge in full.edges:
    if edge.grad_norm is not None:
        print(f"  {names[edge.src]:>20} -> {names[edge.dst]:<20} gradient norm {edge.grad_norm:.4f}")

loss.backward()
print(f"after loss.backward(): |dL/dW1| = {model[0].weight.grad.norm().item():.4f} (the edge from 0.weight)")
