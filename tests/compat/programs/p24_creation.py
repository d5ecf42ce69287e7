# The common ways to make a tensor, and the attributes people check.
import numpy as np
import torch

r = {}
r["zeros"] = torch.zeros(2, 3)
r["zeros_tuple"] = torch.zeros((2, 3))
r["zeros_list"] = torch.zeros([2, 3], dtype=torch.int64)
r["ones"] = torch.ones(3, dtype=torch.float64)
r["arange"] = torch.arange(10)
r["arange_float"] = torch.arange(10).float()
r["arange_step"] = torch.arange(0, 1, 0.25)
r["arange_dtype"] = torch.arange(5, dtype=torch.float32)
r["full"] = torch.full((2, 2), 3.)
r["full_int"] = torch.full((2,), 7)
r["tensor_int"] = torch.tensor([[1, 2]], dtype=torch.float64)
r["tensor_ints"] = torch.tensor([1, 2, 3])
r["tensor_floats"] = torch.tensor([1.0, 2.5])
r["tensor_bool"] = torch.tensor([True, False])
r["tensor_scalar"] = torch.tensor(3.5)
r["tensor_mixed"] = torch.tensor([1, 2.5])
r["eye"] = torch.eye(3)
r["eye_rect"] = torch.eye(2, 3)
r["linspace"] = torch.linspace(-1, 1, 5)
r["empty_shape"] = torch.empty(2, 4).shape
r["zeros_like"] = torch.zeros_like(r["tensor_ints"])
r["ones_like"] = torch.ones_like(r["full"])
r["full_like"] = torch.full_like(r["full"], 0.5)
x = torch.ones(2, 3)
r["new_zeros"] = x.new_zeros(4)
r["new_ones"] = x.new_ones((2, 2))
r["new_full"] = x.new_full((1, 3), 2.0)
r["new_tensor"] = x.new_tensor([1, 2])
arr = np.arange(6, dtype=np.float32).reshape(2, 3)
t = torch.from_numpy(arr)
arr[0, 0] = 100                                   # from_numpy shares memory
r["from_numpy"] = t
r["from_numpy_f64"] = torch.from_numpy(np.array([1.5, 2.5]))
r["as_tensor"] = torch.as_tensor([1, 2, 3], dtype=torch.float32)
r["numpy_back"] = t.numpy()
r["numpy_dtype"] = str(t.numpy().dtype)
r["tolist"] = torch.tensor([[1.5, 2.0], [3.0, 4.0]]).tolist()
r["tolist_int"] = torch.arange(4).view(2, 2).tolist()
r["item"] = torch.tensor([7]).item()
r["item_float"] = torch.tensor(2.5).item()
r["dtype_checks"] = [x.dtype == torch.float32, r["arange"].dtype == torch.int64,
                     r["tensor_bool"].dtype == torch.bool, r["tensor_int"].dtype == torch.double,
                     x.dtype is torch.float32, x.is_floating_point(), r["arange"].is_floating_point()]
r["shape_checks"] = [x.shape == (2, 3), x.size() == (2, 3), x.size(0), x.size(-1), x.shape[1], len(x),
                     x.dim(), x.ndim, x.numel(), list(x.shape), x.nelement()]
r["conversions"] = [x.long(), x.int().dtype, x.double(), x.bool(), x.half().dtype, x.to(torch.float64),
                    x.type(torch.int32), torch.tensor([1.7, -1.7]).long()]
r["float_of"] = [float(torch.tensor(2.5)), int(torch.tensor(3)), bool(torch.tensor(1))]
r["device"] = [str(x.device), x.is_cuda, x.cpu() is x, x.to("cpu").shape]
r["requires"] = [x.requires_grad, torch.ones(2, requires_grad=True).requires_grad,
                 torch.zeros(1).requires_grad_().is_leaf]
print(r["shape_checks"], r["dtype_checks"])
print(x.shape, x.size(), x.dtype, torch.get_default_dtype())
results = r
