"""Lazy modules against PyTorch: shapes from the first input, PyTorch's initial values for the
same seed, the eager class afterwards, optimizers made before the first call, state_dicts
loaded into unmaterialised modules, and the errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

LIBS = (torch, chainrule)


def network(lib):
    nn = lib.nn
    return nn.Sequential(nn.LazyConv2d(4, 3, padding=1), nn.LazyBatchNorm2d(), nn.ReLU(), nn.Flatten(),
                         nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(2))


def each(run):
    out = []
    for lib in LIBS:
        lib.manual_seed(0)
        out.append(run(lib))
    return out


def test_first_call_gives_shapes_values_and_the_eager_class():
    def run(lib):
        net = network(lib)
        placeholder = repr(net[0].weight), net[4].has_uninitialized_params()
        optimizer = lib.optim.SGD(net.parameters(), lr=0.1)  # made before the parameters have shapes
        y = net(lib.randn(2, 3, 5, 5))
        y.sum().backward()
        optimizer.step()
        return (placeholder, [type(m).__name__ for m in net], repr(net),
                {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}, y.detach().numpy())

    (before_t, classes_t, repr_t, state_t, y_t), (before_c, classes_c, repr_c, state_c, y_c) = each(run)
    assert before_c == before_t == ("<UninitializedParameter>", True)
    assert classes_c == classes_t and classes_c[0] == "Conv2d" and repr_c == repr_t
    assert list(state_c) == list(state_t)
    for key in state_t:
        np.testing.assert_allclose(state_c[key], state_t[key], rtol=1e-5, atol=1e-6, err_msg=key)
    np.testing.assert_allclose(y_c, y_t, rtol=1e-5, atol=1e-6)


def test_a_state_dict_gives_the_placeholders_their_shapes():
    def run(lib):
        net = network(lib)
        x = lib.randn(2, 3, 5, 5)
        net(x)
        fresh = network(lib)
        fresh.load_state_dict(net.state_dict())
        return fresh(x).detach().numpy(), net(x).detach().numpy()

    for fresh, trained in each(run):
        np.testing.assert_array_equal(fresh, trained)


@pytest.mark.parametrize("build, shape", [
    (lambda nn: nn.LazyConv1d(2, 3), (4, 6)),  # unbatched
    (lambda nn: nn.LazyConv3d(2, 2, groups=2), (1, 4, 3, 3, 3)),
    (lambda nn: nn.LazyConvTranspose1d(3, 2, stride=2), (1, 5, 4)),
    (lambda nn: nn.LazyConvTranspose2d(3, 2, stride=2), (1, 5, 4, 4)),
    (lambda nn: nn.LazyConvTranspose3d(4, 2, stride=(1, 2, 1), groups=2), (1, 4, 3, 2, 2)),
    (lambda nn: nn.LazyBatchNorm1d(affine=False), (6, 3)),
    (lambda nn: nn.LazyBatchNorm3d(track_running_stats=False), (2, 3, 2, 2, 2)),
    (lambda nn: nn.LazyBatchNorm2d(bias=False), (2, 3, 2, 2)),
    (lambda nn: nn.LazyInstanceNorm1d(), (2, 3, 5)),
    (lambda nn: nn.LazyInstanceNorm2d(affine=False), (2, 3, 4, 4)),
    (lambda nn: nn.LazyInstanceNorm3d(track_running_stats=False, bias=False), (2, 3, 2, 3, 2)),
    (lambda nn: nn.LazyLinear(3, bias=False), (2, 4, 5)),
])
def test_each_lazy_layer(build, shape):
    def run(lib):
        module = build(lib.nn)
        before = repr(module)
        out = module(lib.randn(*shape))
        return out.detach().numpy(), list(module.state_dict()), before, repr(module)

    (out_t, *rest_t), (out_c, *rest_c) = each(run)
    assert rest_c == rest_t
    np.testing.assert_allclose(out_c, out_t, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.LazyLinear(3).weight.shape,
    lambda lib: lib.nn.LazyConv2d(4, 3, groups=2)(lib.randn(1, 3, 5, 5)),
    lambda lib: lib.nn.LazyConv2d(4, 3)(lib.randn(5, 5)),
])
def test_errors(call):
    raised = []
    for lib in LIBS:
        with pytest.raises((RuntimeError, ValueError)) as info:
            call(lib)
        raised.append((info.type, str(info.value).split(":")[0]))
    assert raised[0] == raised[1]


def test_a_placeholder_refuses_to_tell_its_size():
    for lib in LIBS:
        placeholder = lib.nn.LazyLinear(3).weight
        for method, named in (("numel", "numel"), ("nelement", "numel"), ("dim", "dim")):
            with pytest.raises(ValueError, match=f"Attempted to use an uninitialized parameter in <method '{named}'"):
                getattr(placeholder, method)()
        with pytest.raises(ValueError, match="uninitialized parameter"):
            sum(p.numel() for p in lib.nn.Sequential(lib.nn.LazyLinear(2)).parameters())
