# What printing a tensor shows, compared as text.
import torch

examples = [
    torch.tensor([1.0, 2.0, 3.0]),
    torch.tensor([0.1, 2.5, -3.25]),
    torch.tensor([[1, 2], [3, 4]]),
    torch.tensor([True, False]),
    torch.tensor(3.0),
    torch.tensor(7),
    torch.zeros(2, 3),
    torch.tensor([1e-5, 1.0]),
    torch.tensor([12345.678, 0.5]),
    torch.tensor([1.0, 2.0], dtype=torch.float64),
    torch.tensor([1, 2], dtype=torch.int32),
    torch.tensor([1.5, float("nan"), float("inf")]),
    torch.arange(6).reshape(2, 3).float() / 3,
    torch.tensor([2.0], requires_grad=True),
    torch.tensor([]),
    torch.ones(2, 2, 2),
    torch.tensor([-0.5, 0.25]),
    torch.arange(12).view(3, 4),
    torch.linspace(0, 1, 7, dtype=torch.float64),                      # dtype= wraps to a new line
    torch.tensor([0.0413, -2.3250, -0.2188], dtype=torch.float64, requires_grad=True),
    torch.arange(30).reshape(3, 10).double() / 7,
    torch.arange(1001) * 3,                                             # summarized: " ..."
    torch.arange(2400).reshape(40, 60).float() / 1e5,
    torch.ones(2, 0),
]
for t in examples:
    print(t)
print(repr(torch.tensor([[0.5]])))
print(str(torch.tensor([1.0, 2.0])))
print(torch.float32, torch.int64, torch.zeros(2).dtype)
print(torch.zeros(2, 3).shape, torch.zeros(2, 3).size())
print(f"{torch.tensor(3.14159).item():.3f}", torch.tensor(0.5).item(), torch.tensor([1, 2]).tolist())
w = torch.tensor([2.0], requires_grad=True)
(w * 3).sum().backward()
print(w.grad)
results = {"reprs": [repr(t) for t in examples]}
