# Forward-mode automatic differentiation, as PyTorch's tutorial teaches it: dual tensors made
# and unpacked inside a dual level, the Jacobian-vector product of a module with respect to its
# input and to its parameters (swapped in as dual tensors, then through functional_call), a
# custom autograd.Function with its own jvp (checked by gradcheck's forward-mode check), and
# the same products from torch.func.jvp and a forward-mode Jacobian.
import numpy as np
import torch
import torch.autograd.forward_ad as fwAD
import torch.nn as nn
from torch.func import functional_call

rng = np.random.default_rng(80)
results = {}


def tensor(*shape):
    return torch.tensor(rng.standard_normal(shape), dtype=torch.float64)


# -- basic use ------------------------------------------------------------------------------------
primal = tensor(10, 10)
tangent = tensor(10, 10)


def fn(x, y):
    return x ** 2 + y ** 2


with fwAD.dual_level():
    dual_input = fwAD.make_dual(primal, tangent)
    assert fwAD.unpack_dual(dual_input).tangent is tangent
    dual_input_alt = fwAD.make_dual(primal, tangent.T)  # a tangent of another layout is fine
    assert fwAD.unpack_dual(dual_input_alt).tangent is not tangent
    plain_tensor = tensor(10, 10)
    dual_output = fn(dual_input, plain_tensor)
    jvp = fwAD.unpack_dual(dual_output).tangent
print("tangent is gone after the level:", fwAD.unpack_dual(dual_output).tangent is None)
print("jvp equals 2 x v:", torch.allclose(jvp, 2 * primal * tangent))
results["jvp"] = jvp

small = torch.tensor([1.0, 2.0], dtype=torch.float64)
with fwAD.dual_level():
    print(fwAD.make_dual(small, torch.tensor([0.5, -1.0], dtype=torch.float64)).exp())

# -- modules ----------------------------------------------------------------------------------------
model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 5), nn.LogSoftmax(dim=-1)).double()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(tensor(*p.shape) * 0.4)
input = tensor(16, 5)

with fwAD.dual_level():
    out = model(fwAD.make_dual(input, tensor(16, 5)))
    results["module_input_jvp"] = fwAD.unpack_dual(out).tangent
    print("input jvp row 0:", [round(v, 6) for v in fwAD.unpack_dual(out).tangent[0].tolist()])

params = {name: p for name, p in model.named_parameters()}
tangents = {name: tensor(*p.shape) for name, p in params.items()}

with fwAD.dual_level():
    for name, p in params.items():
        module_name, attribute = name.rsplit(".", 1)
        module = model.get_submodule(module_name)
        delattr(module, attribute)
        setattr(module, attribute, fwAD.make_dual(p, tangents[name]))
    out = model(input)
    swapped = fwAD.unpack_dual(out).tangent
results["parameter_jvp"] = swapped
for name, p in params.items():  # put the parameters back
    module_name, attribute = name.rsplit(".", 1)
    module = model.get_submodule(module_name)
    delattr(module, attribute)
    module.register_parameter(attribute, p)

with fwAD.dual_level():
    dual_params = {name: fwAD.make_dual(p, tangents[name]) for name, p in params.items()}
    out = functional_call(model, dual_params, input)
    jvp = fwAD.unpack_dual(out).tangent
print("functional_call gives the same jvp:", torch.allclose(jvp, swapped))
results["functional_call_jvp"] = jvp


# -- a custom Function ------------------------------------------------------------------------------
class Fn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, foo):
        result = torch.exp(foo)
        ctx.result = result  # saved for jvp as an attribute (save_for_forward also works)
        return result

    @staticmethod
    def jvp(ctx, gI):
        gO = gI * ctx.result
        del ctx.result
        return gO


class Scaled(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_forward(x)
        ctx.scale = scale
        return torch.sin(x) * scale

    @staticmethod
    def jvp(ctx, x_t, scale_t):
        (x,) = ctx.saved_tensors
        return torch.cos(x) * x_t * ctx.scale

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("not used in forward mode")


fn = Fn.apply
primal = tensor(10, 10).requires_grad_()
tangent = tensor(10, 10)
with fwAD.dual_level():
    dual_input = fwAD.make_dual(primal, tangent)
    dual_output = fn(dual_input)
    jvp = fwAD.unpack_dual(dual_output).tangent
    scaled = fwAD.unpack_dual(Scaled.apply(dual_input, 3.0)).tangent
print("Function jvp:", torch.allclose(jvp, tangent * primal.exp()))
results["function_jvp"] = jvp.detach()
results["scaled_jvp"] = scaled.detach()
print("gradcheck forward AD:", torch.autograd.gradcheck(Fn.apply, (primal,), check_forward_ad=True,
                                                        check_backward_ad=False, check_undefined_grad=False,
                                                        check_batched_grad=False))

# -- torch.func ------------------------------------------------------------------------------------
x, v = tensor(6), tensor(6)


def f(x):
    return torch.sin(x) * x.sum()


value, product = torch.func.jvp(f, (x,), (v,))
with fwAD.dual_level():
    dual = f(fwAD.make_dual(x, v))
    print("func.jvp agrees with dual tensors:", torch.allclose(fwAD.unpack_dual(dual).tangent, product))
results["func_jvp"] = product
results["jacfwd"] = torch.func.jacfwd(f)(x)
print("jacfwd @ v equals the jvp:", torch.allclose(results["jacfwd"] @ v, product))
