"""A hidden layer whose output is detached in forward: fc1 never learns."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from _net import batch


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        h = F.relu(self.fc1(x)).detach()  # BUG
        return self.fc2(h)


x, y = batch()
x, y = torch.tensor(x), torch.tensor(y)
model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(3):
    loss = F.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(f"loss {loss.item():.4f}")
