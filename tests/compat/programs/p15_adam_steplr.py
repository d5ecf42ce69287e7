# Linear regression with nn.Linear, MSELoss and Adam; StepLR halves the step.
import numpy as np
import torch
from torch import nn, optim

rng = np.random.default_rng(12)
X = torch.from_numpy(rng.standard_normal((50, 3)).astype("float32"))
w_true = torch.tensor([[2.0], [-1.0], [0.5]])
Y = X @ w_true + 0.7

model = nn.Linear(3, 1)
with torch.no_grad():
    model.weight.zero_()
    model.bias.zero_()
criterion = nn.MSELoss()
optimizer = optim.Adam(model.parameters(), lr=0.1, betas=(0.9, 0.99), eps=1e-8)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.5)
lrs = []
for epoch in range(100):
    pred = model(X)
    loss = criterion(pred, Y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    lrs.append(scheduler.get_last_lr()[0])
    if (epoch + 1) % 25 == 0:
        print(f"Epoch [{epoch + 1}/100], Loss: {loss.item():.4f}")
state = optimizer.state[model.weight]
print(sorted(state.keys()), state["step"])
results = {"weight": model.weight.detach(), "bias": model.bias.detach(), "lrs": lrs,
           "exp_avg": state["exp_avg"], "exp_avg_sq": state["exp_avg_sq"], "step": state["step"]}
