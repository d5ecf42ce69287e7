# autograd.Function with several outputs, needs_input_grad and mark_non_differentiable.
import numpy as np
import torch
from torch.autograd import Function


class SortWithIndices(Function):
    @staticmethod
    def forward(ctx, x):
        values, indices = torch.sort(x, dim=-1)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        indices, = ctx.saved_tensors
        grad = torch.zeros_like(grad_values)
        grad.scatter_(-1, indices, grad_values)
        return grad


class LinearFunction(Function):
    @staticmethod
    def forward(ctx, input, weight, bias=None):
        ctx.save_for_backward(input, weight, bias)
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand_as(output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.t().mm(input)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


class MulConstant(Function):
    @staticmethod
    def forward(ctx, tensor, constant):
        ctx.constant = constant
        return tensor * constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.constant, None


class SplitHalves(Function):
    @staticmethod
    def forward(ctx, x):
        a, b = x.chunk(2, dim=1)
        return a * 2, b * 3

    @staticmethod
    def backward(ctx, ga, gb):
        return torch.cat([ga * 2, gb * 3], dim=1)


rng = np.random.default_rng(3)
x = torch.tensor(rng.standard_normal((3, 5)), requires_grad=True)
values, indices = SortWithIndices.apply(x)
print(values.requires_grad, indices.requires_grad, indices.dtype)
(values * torch.arange(5, dtype=torch.float64)).sum().backward()
grad_sort = x.grad.clone()

inp = torch.tensor(rng.standard_normal((4, 3)))            # no grad wanted for the input
weight = torch.tensor(rng.standard_normal((2, 3)), requires_grad=True)
bias = torch.tensor(rng.standard_normal(2), requires_grad=True)
out = LinearFunction.apply(inp, weight, bias)
out.pow(2).sum().backward()
ref = torch.nn.functional.linear(inp, weight.detach().requires_grad_(), None)

m = torch.tensor(rng.standard_normal(4), requires_grad=True)
y = MulConstant.apply(m, 2.5)
y.sum().backward()

s = torch.tensor(rng.standard_normal((2, 4)), requires_grad=True)
a, b = SplitHalves.apply(s)
(a.sum() + (b ** 2).sum()).backward()
print(torch.autograd.gradcheck(LinearFunction.apply, (inp.requires_grad_(), weight, bias)))

results = {"values": values, "indices": indices, "grad_sort": grad_sort, "out": out,
           "grad_w": weight.grad, "grad_b": bias.grad, "grad_m": m.grad, "a": a, "b": b,
           "grad_s": s.grad, "inp_grad": inp.grad}
