# Less common but everyday math, forward and backward.
import numpy as np
import torch

rng = np.random.default_rng(34)
x = torch.tensor(rng.uniform(-0.9, 0.9, (3, 4)), requires_grad=True)
y = torch.tensor(rng.uniform(0.5, 2.0, (3, 4)), requires_grad=True)
r = {
    "erf": torch.erf(x), "asin": torch.asin(x), "acos": torch.acos(x), "atan": torch.atan(x),
    "sinh": torch.sinh(x), "cosh": torch.cosh(x), "atan2": torch.atan2(x, y),
    "cumprod": torch.cumprod(y, dim=1), "diagonal": torch.diagonal(x), "diagonal_off": x.diagonal(offset=1),
    "type_as": x.type_as(y), "where_method": x.where(x > 0, y),
    "repeat_interleave": x.repeat_interleave(2, dim=0), "sigmoid_logit": torch.logit(torch.sigmoid(x)),
    "expm1_log1p": torch.log1p(torch.expm1(x)), "hypot": torch.hypot(x, y), "fmod": torch.fmod(x * 5, 1.5),
    "rsqrt": torch.rsqrt(y), "square": torch.square(x), "lerp": torch.lerp(x, y, 0.3),
    "logaddexp": torch.logaddexp(x, y), "xlogy": torch.xlogy(y, y),
    "sub_alpha": torch.sub(y, x, alpha=2), "add_alpha": torch.add(x, y, alpha=0.5),
    "max_pair": torch.max(x, y), "clamp_tensor": torch.clamp(x, min=torch.full((4,), -0.5, dtype=torch.float64), max=torch.full((4,), 0.2, dtype=torch.float64)),
}
total = sum(v.sum() for v in r.values())
total.backward()
grids = torch.meshgrid(torch.arange(3), torch.arange(2), indexing="ij")
xs, ys = torch.meshgrid(torch.linspace(0, 1, 3), torch.linspace(0, 1, 2), indexing="xy")
a, b = torch.broadcast_tensors(torch.ones(3, 1), torch.zeros(1, 4))
print(grids[0].shape, xs.shape, a.shape)
results = {k: v.detach() for k, v in r.items()}
results.update({"grad_x": x.grad, "grad_y": y.grad, "grids": list(grids), "xy": [xs, ys], "bt": [a, b],
                "nan_to_num": torch.nan_to_num(torch.tensor([float("nan"), float("inf"), -float("inf"), 1.0])),
                "diff": torch.diff(torch.tensor([1.0, 4.0, 9.0, 16.0])), "bincount": torch.bincount(torch.tensor([0, 1, 1, 3])),
                "searchsorted": torch.searchsorted(torch.tensor([1.0, 3.0, 5.0]), torch.tensor([0.5, 3.0, 6.0])),
                "median": torch.median(torch.tensor([3.0, 1.0, 2.0, 4.0])),
                "tri_idx": torch.triu_indices(3, 3, offset=1)})
