"""chainrule.func: the function transforms against torch.func (values, structure, what keeps a
graph, errors), and the tutorials' uses: per-sample gradients and model ensembling."""
from __future__ import annotations

from copy import deepcopy

import numpy as np
import pytest
import torch

import chainrule

LIBS = (torch, chainrule)


def same(expected, actual):
    if isinstance(expected, dict):
        assert list(actual) == list(expected)
        for key in expected:
            same(expected[key], actual[key])
    elif isinstance(expected, (tuple, list)):
        assert type(actual) is type(expected) and len(actual) == len(expected)
        for e, a in zip(expected, actual):
            same(e, a)
    elif isinstance(expected, torch.Tensor):
        assert tuple(actual.shape) == tuple(expected.shape)
        assert actual.requires_grad == expected.requires_grad
        np.testing.assert_allclose(actual.detach().numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    else:
        assert actual == expected


def both(run):
    return [run(lib) for lib in LIBS]


def x_of(lib):
    return lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64)


def test_grad_nests_and_takes_argnums_and_aux():
    def run(lib):
        f = lambda x: (x.sin() * x).sum()  # noqa: E731
        x = x_of(lib)
        grads, aux = lib.func.grad(lambda a, b: ((a * b).sum(), a + b), argnums=(0, 1), has_aux=True)(x, x * 2)
        return [lib.func.grad(f)(x), lib.func.grad(lambda x: lib.func.grad(f)(x).sum())(x),
                lib.func.grad_and_value(f)(x), grads, aux]
    same(*both(run))


def test_grad_of_a_dict_of_parameters():
    def run(lib):
        params = {"w": lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64), "b": lib.zeros(2, dtype=lib.float64)}
        x = lib.tensor([0.5, -0.5], dtype=lib.float64)
        return lib.func.grad(lambda p: ((p["w"] @ x + p["b"]).tanh() ** 2).sum())(params)
    same(*both(run))


def test_vjp_jvp_jacobians_and_hessian():
    def run(lib):
        F, x = lib.func, x_of(lib)
        out, fn = F.vjp(lambda x: x ** 2, x)
        return [out, fn(lib.ones(3, dtype=lib.float64)), F.jvp(lambda x: x ** 3, (x,), (lib.ones(3, dtype=lib.float64),)),
                F.jacrev(lambda x: x.sin() * x[0])(x), F.jacfwd(lambda x, y: x * y, argnums=(0, 1))(x, x + 1),
                F.hessian(lambda x: (x.sin() * x).sum())(x)]
    same(*both(run))


@pytest.mark.filterwarnings("ignore")  # (PyTorch's tracer warns about a constant it makes)
def test_linearize():
    def run(lib):
        w = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        out, jvp_fn = lib.func.linearize(lambda x, y: (x.sin() * y, {"a": x * w}), x_of(lib), x_of(lib) + 1)
        ones = lib.ones(3, dtype=lib.float64)
        return [out, jvp_fn(ones, ones * 2), jvp_fn(ones * 0.5, -ones)]
    same(*both(run))


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("tangents, message", [
    (lambda lib: (lib.ones(4, dtype=lib.float64),), "tangent:0 with shape (torch|chainrule).Size\\(\\[4\\]\\) in "
                                                    "flattened pytree doesn't match the shape"),
    (lambda lib: (lib.ones(3),), "tangent:0 with dtype (torch|chainrule).float32 in flattened pytree doesn't match"),
    (lambda lib: ([lib.ones(3, dtype=lib.float64)],), "Expected the tangents TreeSpec\\(tuple, None, "
                                                      "\\[TreeSpec\\(list, None, \\[\\*\\]\\)\\]\\) to have the same"),
])
def test_linearize_refuses_tangents_unlike_the_primals(tangents, message):
    for lib in LIBS:
        _, jvp_fn = lib.func.linearize(lambda x: x.exp(), x_of(lib))
        with pytest.raises(RuntimeError, match=message):
            jvp_fn(*tangents(lib))


def test_vmap_in_and_out_dims():
    def run(lib):
        F = lib.func
        m, v = lib.arange(6.0).reshape(2, 3), lib.arange(3.0)
        return [F.vmap(lambda a, b: a @ b, in_dims=(0, None))(m, v), F.vmap(lambda a: a * 2, in_dims=1, out_dims=1)(m),
                F.vmap(lambda a: (a.sum(), a.max()))(m), F.vmap(F.vmap(lambda a: a ** 2))(m),
                F.vmap(lambda d: d["a"] + d["b"], in_dims=({"a": 0, "b": None},))({"a": m, "b": v})]
    same(*both(run))


def test_per_sample_gradients_and_ensembles_as_in_the_tutorials():
    def run(lib):
        F = lib.func
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.ReLU(), lib.nn.Linear(3, 2)).double()
        params = {k: v.detach() for k, v in model.named_parameters()}
        buffers = {k: v.detach() for k, v in model.named_buffers()}
        data, targets = lib.randn(5, 4, dtype=lib.float64), lib.tensor([0, 1, 1, 0, 1])

        def loss(params, buffers, sample, target):
            prediction = F.functional_call(model, (params, buffers), (sample.unsqueeze(0),))
            return lib.nn.functional.cross_entropy(prediction, target.unsqueeze(0))

        per_sample = F.vmap(F.grad(loss), in_dims=(None, None, 0, 0))(params, buffers, data, targets)
        models = [lib.nn.Linear(4, 2).double() for _ in range(3)]
        stacked, stacked_buffers = F.stack_module_state(models)
        base = deepcopy(models[0]).to("meta") if lib is torch else deepcopy(models[0])
        ensemble = F.vmap(lambda p, b, x: F.functional_call(base, (p, b), (x,)), in_dims=(0, 0, None))(
            stacked, stacked_buffers, data)
        return [per_sample, ensemble, stacked]
    same(*both(run))


def test_results_keep_a_graph_only_to_tensors_outside_the_transform():
    def run(lib):
        x = x_of(lib)
        w = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        through_w = lib.func.grad(lambda x: (x * w).pow(2).sum())(x)
        through_w.sum().backward()
        return [lib.func.grad(lambda x: (x ** 3).sum())(x), through_w, w.grad,
                lib.func.grad(lambda x: (x ** 3).sum())(x.clone().requires_grad_())]
    same(*both(run))


@pytest.mark.parametrize("call, message", [
    (lambda F, x: F.grad(lambda x: x * 2)(x), "Expected f\\(\\*args\\) to return a scalar Tensor, got tensor with 1 dims"),
    (lambda F, x: F.grad(lambda x: 1.0)(x), "Expected f\\(\\*args\\) to return a Tensor"),
    (lambda F, x: F.grad(lambda x: x.sum(), argnums=3)(x), "Got argnum=3, but only 1 positional inputs"),
    (lambda F, x: F.vmap(lambda a, b: a + b)(x, x[:2]), "same size in the mapped dimension, got sizes \\[3, 2\\]"),
    (lambda F, x: F.vmap(lambda a: a, in_dims=2)(x), "Got in_dim=2 for some input"),
    (lambda F, x: F.vmap(lambda a: 1.0)(x), "must only return Tensors"),
    (lambda F, x: F.vmap(lambda a: a, randomness="sometimes"), "Only allowed values for randomness"),
    (lambda F, x: F.vmap(lambda a: a.clone().uniform_())(x), "called random operation while in randomness error mode"),
])
def test_errors(call, message):
    for lib in LIBS:
        with pytest.raises((RuntimeError, ValueError), match=message):
            call(lib.func, x_of(lib))


def test_outputs_that_do_not_depend_on_the_inputs_have_zero_derivatives():
    def run(lib):
        F, x = lib.func, x_of(lib)
        constant = lambda x: lib.ones(2, dtype=lib.float64)  # noqa: E731
        return [F.grad(lambda x, y: (y ** 2).sum())(x, x), F.hessian(lambda x, y: (x ** 2 * y).sum(), argnums=1)(x, x),
                F.jacrev(constant)(x), F.jacfwd(constant)(x), F.vjp(constant, x)[1](lib.ones(2, dtype=lib.float64)),
                F.jacrev(lambda x: (x * 2, constant(x)))(x)]
    same(*both(run))


def test_vmap_randomness_same_and_different():
    def run(lib):
        F, m = lib.func, lib.zeros(3, 2, dtype=lib.float64)
        lib.manual_seed(0)
        drawn = [F.vmap(lambda a: a + lib.rand(2, dtype=lib.float64), randomness=kind)(m) for kind in ("same", "different")]
        return drawn + [lib.rand(1, dtype=lib.float64)]
    same(*both(run))
