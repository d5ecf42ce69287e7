# Custom autograd Functions: a ReLU, and an exp that saves its output.
import numpy as np
import torch


class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


class Exp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, i):
        result = i.exp()
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        result, = ctx.saved_tensors
        return grad_output * result


rng = np.random.default_rng(2)
x = torch.tensor(rng.standard_normal((4, 5)), requires_grad=True)
relu = MyReLU.apply
y = relu(x)
z = Exp.apply(y * 0.5)
loss = z.sum()
loss.backward()
print(type(y.grad_fn).__name__ == "BackwardCFunction", y.requires_grad)

# the same numbers through the built-in ops
x2 = x.detach().clone().requires_grad_(True)
torch.exp(torch.relu(x2) * 0.5).sum().backward()

from torch.autograd import gradcheck
inp = torch.randn(3, 4, dtype=torch.double, requires_grad=True)
ok_exp = gradcheck(Exp.apply, (inp,), eps=1e-6, atol=1e-4)
inp2 = torch.tensor(rng.uniform(0.1, 1.0, (3, 4)) * rng.choice([-1, 1], (3, 4)), requires_grad=True)
ok_relu = gradcheck(MyReLU.apply, (inp2,), eps=1e-6, atol=1e-4)
print("gradcheck", ok_exp, ok_relu)

results = {"y": y, "z": z, "grad": x.grad, "grad_builtin": x2.grad, "ok": [ok_exp, ok_relu]}
