"""The backward pass of a whole network as one flat program: `torch.compile` traces a forward
and its loss, and prints the plan it replays — one line per op forward, and backward the chain
rule from the loss to every weight, each line one op's local derivative.

Run: python examples/07_backward_as_a_program.py
"""
import time

import chainrule as torch
from chainrule import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3))
twin = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3))
twin.load_state_dict(model.state_dict())
loss_fn = nn.CrossEntropyLoss()
x, y = torch.randn(32, 8), torch.randint(0, 3, (32,))

# The plan is printed once it is built (after two traced calls that run eagerly).
loss_of = torch.compile(lambda inputs, targets: loss_fn(twin(inputs), targets), options={"print_plan": True})


def train(step_loss, params, steps):
    optimizer = torch.optim.SGD(params, lr=0.1)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = step_loss()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


eager = train(lambda: loss_fn(model(x), y), model.parameters(), 20)
compiled = train(lambda: loss_of(x, y), twin.parameters(), 20)
same = eager == compiled and all(torch.equal(a, b) for a, b in zip(model.parameters(), twin.parameters()))
print(f"\n20 SGD steps, eager and compiled: losses {eager[0]:.4f} -> {eager[-1]:.4f}, "
      f"bit-identical: {same}")


def seconds(step_loss, params, steps=300):
    start = time.perf_counter()
    train(step_loss, params, steps)
    return time.perf_counter() - start


ratio = seconds(lambda: loss_of(x, y), twin.parameters()) / seconds(lambda: loss_fn(model(x), y), model.parameters())
print(f"a compiled step takes {ratio:.2f}x the time of an eager one here")
