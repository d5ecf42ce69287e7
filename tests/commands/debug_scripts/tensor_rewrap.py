"""torch.tensor() of a tensor: a copy with no history, so the encoder never learns."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from _net import batch

x, y = batch()
encoder = nn.Linear(16, 8)
head = nn.Linear(8, 4)
optimizer = torch.optim.SGD(list(encoder.parameters()) + list(head.parameters()), lr=0.1)
for step in range(2):
    features = torch.tensor(encoder(x))  # BUG
    loss = F.cross_entropy(head(features), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
