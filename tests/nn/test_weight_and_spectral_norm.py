"""nn.utils.weight_norm and spectral_norm against PyTorch in float64: the parameters and
buffers they make (state_dict keys), outputs and gradients over several training steps (the
power iteration's vectors too), eval mode, removal, and errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close

RNG = np.random.default_rng(13)


def _pair(make_c, make_t):
    """The same layer in both libraries, float64, with the same weights."""
    ours, theirs = make_c().double(), make_t().double()
    with torch.no_grad():
        for (name, p), q in zip(theirs.named_parameters(), ours.parameters()):
            p.copy_(torch.tensor(RNG.standard_normal(tuple(p.shape))))
            q.data = chainrule.tensor(p.detach().numpy().copy())
    return ours, theirs


def _train(lib, layer, x, steps=3):
    """A few SGD steps on ``sum(layer(x)^2)``: the outputs and every parameter's gradient."""
    optimizer = lib.optim.SGD(layer.parameters(), lr=0.05)
    seen = []
    for _ in range(steps):
        optimizer.zero_grad()
        out = layer(lib.tensor(x))
        (out ** 2).sum().backward()
        seen += [out] + [p.grad for p in layer.parameters()]
        optimizer.step()
    return seen


@pytest.mark.parametrize("dim", [0, 1, None, -1])
@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_weight_norm_matches_pytorch(kind, dim):
    make = {"linear": lambda L: L.nn.Linear(4, 3), "conv": lambda L: L.nn.Conv2d(2, 3, 3)}[kind]
    x = RNG.standard_normal((2, 4) if kind == "linear" else (2, 2, 5, 5))
    ours, theirs = _pair(lambda: make(chainrule), lambda: make(torch))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # both: deprecated for parametrizations
        torch.nn.utils.weight_norm(theirs, dim=dim)
        chainrule.nn.utils.weight_norm(ours, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[key], value)
    for a, b in zip(_train(chainrule, ours, x), _train(torch, theirs, x)):
        assert_close(a, b)
    chainrule.nn.utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert_close(ours.weight, theirs.weight)
    assert isinstance(ours.weight, chainrule.nn.Parameter)


@pytest.mark.parametrize("kind", ["linear", "conv", "conv_transpose"])
@pytest.mark.parametrize("iterations", [1, 3])
def test_spectral_norm_matches_pytorch(kind, iterations):
    make = {"linear": lambda L: L.nn.Linear(4, 3), "conv": lambda L: L.nn.Conv2d(2, 3, 3),
            "conv_transpose": lambda L: L.nn.ConvTranspose2d(3, 2, 3)}[kind]
    x = RNG.standard_normal({"linear": (2, 4), "conv": (2, 2, 5, 5), "conv_transpose": (2, 3, 4, 4)}[kind])
    ours, theirs = _pair(lambda: make(chainrule), lambda: make(torch))
    torch.nn.utils.spectral_norm(theirs, n_power_iterations=iterations)
    chainrule.nn.utils.spectral_norm(ours, n_power_iterations=iterations)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name in ("weight_u", "weight_v"):  # (their first draws differ: start from PyTorch's)
        getattr(ours, name).data = chainrule.tensor(getattr(theirs, name).numpy().copy())
    for a, b in zip(_train(chainrule, ours, x), _train(torch, theirs, x)):
        assert_close(a, b)
    assert_close(ours.weight_u, theirs.weight_u)
    assert_close(ours.weight_v, theirs.weight_v)
    ours.eval()
    theirs.eval()
    u = ours.weight_u.numpy().copy()
    assert_close(ours(chainrule.tensor(x)), theirs(torch.tensor(x)))
    np.testing.assert_array_equal(ours.weight_u.numpy(), u)  # no power iteration in eval mode
    chainrule.nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert_close(ours.weight, theirs.weight)


def test_spectral_norm_bounds_the_largest_singular_value():
    chainrule.manual_seed(0)
    # (power iteration converges at the ratio of the two largest singular values: 200 steps suffice here)
    layer = chainrule.nn.utils.spectral_norm(chainrule.nn.Linear(20, 10), n_power_iterations=200)
    layer(chainrule.zeros(1, 20))
    assert abs(np.linalg.svd(layer.weight.detach().numpy(), compute_uv=False)[0] - 1.0) < 1e-4


def test_errors_like_torch():
    for lib in (chainrule, torch):
        layer = lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2))
        with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
            lib.nn.utils.spectral_norm(layer)
        with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
            lib.nn.utils.remove_weight_norm(lib.nn.Linear(2, 2))
        with pytest.raises(ValueError, match="Expected n_power_iterations to be positive"):
            lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2), n_power_iterations=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            normed = lib.nn.utils.weight_norm(lib.nn.Linear(2, 2))
            with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
                lib.nn.utils.weight_norm(normed)


# -- the parametrization forms (nn.utils.parametrize / parametrizations) ---------------------------


class _Symmetric:
    """PyTorch's parametrization tutorial: a symmetric matrix from its upper triangle."""

    @staticmethod
    def make(lib):
        class Symmetric(lib.nn.Module):
            def forward(self, X):
                return X.triu() + X.triu(1).transpose(-1, -2)

        return Symmetric()


def test_a_custom_parametrization_like_pytorchs_tutorial():
    results = []
    for lib in (chainrule, torch):
        layer = lib.nn.Linear(3, 3).double()
        with lib.no_grad():
            layer.weight.copy_(lib.tensor(np.arange(9.0).reshape(3, 3)))
        lib.nn.utils.parametrize.register_parametrization(layer, "weight", _Symmetric.make(lib))
        assert type(layer).__name__ == "ParametrizedLinear"
        assert lib.nn.utils.parametrize.type_before_parametrizations(layer) is lib.nn.Linear
        assert lib.nn.utils.parametrize.is_parametrized(layer, "weight")
        weight = layer.weight
        assert (weight == weight.T).all()
        out = layer(lib.tensor(np.ones((2, 3))))
        out.sum().backward()
        original = layer.parametrizations.weight.original
        results.append((weight, original.grad, list(layer.state_dict())))
        with lib.nn.utils.parametrize.cached():
            assert layer.weight is layer.weight
        assert layer.weight is not layer.weight
        lib.nn.utils.parametrize.remove_parametrizations(layer, "weight")
        assert type(layer) is lib.nn.Linear and (layer.weight == layer.weight.T).all()
        assert isinstance(layer.weight, lib.nn.Parameter)
        results[-1][2].append(list(layer.state_dict()))
    assert_close(results[0][0], results[1][0])
    assert_close(results[0][1], results[1][1])
    assert results[0][2] == results[1][2] == ["bias", "parametrizations.weight.original", ["bias", "weight"]]


@pytest.mark.parametrize("dim", [0, None])
def test_parametrized_weight_norm_matches_pytorch(dim):
    x = RNG.standard_normal((2, 2, 5, 5))
    ours, theirs = _pair(lambda: chainrule.nn.Conv2d(2, 3, 3), lambda: torch.nn.Conv2d(2, 3, 3))
    torch.nn.utils.parametrizations.weight_norm(theirs, dim=dim)
    chainrule.nn.utils.parametrizations.weight_norm(ours, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    for a, b in zip(_train(chainrule, ours, x), _train(torch, theirs, x)):
        assert_close(a, b)
    ours.weight = chainrule.ones(3, 2, 3, 3, dtype=chainrule.float64)  # through right_inverse
    theirs.weight = torch.ones(3, 2, 3, 3, dtype=torch.float64)
    for key, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[key], value)


@pytest.mark.parametrize("kind", ["linear", "conv_transpose"])
def test_parametrized_spectral_norm_matches_pytorch(kind):
    make = {"linear": lambda L: L.nn.Linear(4, 3), "conv_transpose": lambda L: L.nn.ConvTranspose2d(3, 2, 3)}[kind]
    x = RNG.standard_normal({"linear": (2, 4), "conv_transpose": (2, 3, 4, 4)}[kind])
    ours, theirs = _pair(lambda: make(chainrule), lambda: make(torch))
    torch.nn.utils.parametrizations.spectral_norm(theirs)
    chainrule.nn.utils.parametrizations.spectral_norm(ours)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: chainrule.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    for a, b in zip(_train(chainrule, ours, x), _train(torch, theirs, x)):
        assert_close(a, b)
    for key, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[key], value)
    chainrule.nn.utils.parametrize.remove_parametrizations(ours, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
    assert_close(ours.weight, theirs.weight)


def test_parametrization_errors_like_torch():
    for lib in (chainrule, torch):
        layer = lib.nn.Linear(2, 2)
        with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element"):
            lib.nn.utils.parametrize.register_parametrization(layer, "scale", _Symmetric.make(lib))
        with pytest.raises(ValueError, match="does not have a parametrization on weight"):
            lib.nn.utils.parametrize.remove_parametrizations(layer, "weight")
        lib.nn.utils.parametrizations.weight_norm(layer)
        with pytest.raises(ValueError, match="Cannot leave unparametrized"):
            lib.nn.utils.parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
        with pytest.raises(RuntimeError, match="Serialization of parametrized modules"):
            layer.__getstate__()
        with pytest.raises(IndexError, match="Dimension out of range"):
            lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 2), dim=2)
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        chainrule.nn.utils.weight_norm(chainrule.nn.Linear(2, 2))
