# The "60-minute blitz" tensor tour: out=, in-place add_, NumPy bridge sharing memory,
# indexing, view with -1, item.
import numpy as np
import torch

x = torch.ones(5, 3, dtype=torch.double)
print(x)
y = torch.arange(15, dtype=torch.double).view(5, 3) / 7
print(x + y)
print(torch.add(x, y))
result = torch.empty(5, 3, dtype=torch.double)
torch.add(x, y, out=result)
print(result)
y.add_(x)
print(y)
print(x[:, 1])
z = y.view(15)
w = y.view(-1, 5)
print(y.size(), z.size(), w.size())
s = torch.tensor([0.5])
print(s, s.item())
a = torch.ones(5)
b = a.numpy()
a.add_(1)
print(a)
print(b)
c = np.ones(5)
d = torch.from_numpy(c)
np.add(c, 1, out=c)
print(c)
print(d)
m = torch.zeros(2, 2)
torch.mul(torch.full((2, 2), 3.0), 2, out=m)
prod = torch.empty(0)                             # resized to the result's shape
torch.matmul(m, m, out=prod)
print(m, prod)
results = {"result": result, "y": y, "w": w, "b": b.tolist(), "d": d, "m": m, "prod": prod}
