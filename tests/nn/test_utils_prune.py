"""nn.utils.prune against PyTorch in float64: each method's mask (the random ones from the same
manual_seed stream), the reparametrisation (``_orig`` parameter, ``_mask`` buffer, state_dict
keys, the forward pre-hook), gradients reaching ``_orig`` masked, iterative pruning through
PruningContainer, global pruning, remove/is_pruned, magnitudes with ties, and PyTorch's errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.utils.prune  # noqa: F401  (torch loads it on import only)

import chainrule
from chainrule.torch_alias import aliased
from conftest import assert_close

LIBS = (chainrule, torch)


def _model(L):
    """A conv and a linear layer in float64 with seeded default initialisation."""
    L.manual_seed(7)
    return L.nn.Conv2d(3, 6, 3).double(), L.nn.Linear(20, 10).double()


def _outcome(L, conv, lin):
    """state_dict (keys in order and values), a forward and the gradients of the ``_orig``
    parameters: what a pruned model shows."""
    L.manual_seed(1)
    x, z = L.randn(2, 3, 5, 5, dtype=L.float64), L.randn(4, 20, dtype=L.float64)
    loss = (conv(x) ** 2).sum() + (lin(z) ** 2).sum()
    loss.backward()
    state = {f"conv.{k}": v for k, v in conv.state_dict().items()}
    state.update({f"lin.{k}": v for k, v in lin.state_dict().items()})
    grads = {name: p.grad for layer in (conv, lin) for name, p in layer.named_parameters()}
    return state, loss, grads


def _compare(ours, theirs):
    (state_c, loss_c, grads_c), (state_t, loss_t, grads_t) = ours, theirs
    assert list(state_c) == list(state_t)
    for key in state_t:
        assert_close(state_c[key], state_t[key], what=key)
    assert_close(loss_c, loss_t)
    assert list(grads_c) == list(grads_t)
    for key in grads_t:
        assert_close(grads_c[key], grads_t[key], what=key)


SCENARIOS = {
    "random_unstructured-float": lambda L, P, conv, lin: P.random_unstructured(conv, "weight", amount=0.3),
    "random_unstructured-int": lambda L, P, conv, lin: P.random_unstructured(lin, "bias", amount=4),
    "l1_unstructured": lambda L, P, conv, lin: P.l1_unstructured(lin, "weight", amount=0.45),
    "l1_unstructured-int-bias": lambda L, P, conv, lin: P.l1_unstructured(conv, "bias", amount=3),
    "random_structured": lambda L, P, conv, lin: P.random_structured(conv, "weight", amount=0.5, dim=0),
    "random_structured-dim-1": lambda L, P, conv, lin: P.random_structured(lin, "weight", amount=7, dim=-1),
    "ln_structured-l2": lambda L, P, conv, lin: P.ln_structured(conv, "weight", amount=0.5, n=2, dim=0),
    "ln_structured-l1-dim1": lambda L, P, conv, lin: P.ln_structured(conv, "weight", amount=1, n=1, dim=1),
    "ln_structured-inf": lambda L, P, conv, lin: P.ln_structured(lin, "weight", amount=0.3, n=float("inf"), dim=0),
    "ln_structured-zero": lambda L, P, conv, lin: P.ln_structured(lin, "weight", amount=0, n=2, dim=0),
    "identity": lambda L, P, conv, lin: P.identity(conv, "weight"),
    "amount-zero": lambda L, P, conv, lin: P.l1_unstructured(conv, "weight", amount=0.0),
    "amount-all": lambda L, P, conv, lin: P.random_unstructured(lin, "weight", amount=1.0),
    "iterative": lambda L, P, conv, lin: (
        P.random_unstructured(conv, "weight", amount=0.3), P.ln_structured(conv, "weight", amount=2, n=2, dim=0),
        P.l1_unstructured(conv, "weight", amount=0.25), P.random_structured(conv, "weight", amount=1, dim=1)),
    "global": lambda L, P, conv, lin: P.global_unstructured(
        [(conv, "weight"), (lin, "weight"), (lin, "bias")], pruning_method=P.L1Unstructured, amount=0.4),
    "global-random-after-pruning": lambda L, P, conv, lin: (
        P.l1_unstructured(lin, "weight", amount=50),
        P.global_unstructured([(conv, "weight"), (lin, "weight")], pruning_method=P.RandomUnstructured, amount=90)),
    "custom_from_mask": lambda L, P, conv, lin: (
        P.random_unstructured(lin, "bias", amount=2),
        P.custom_from_mask(lin, "bias", mask=(L.arange(10) % 3 != 0))),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_pruning_matches_pytorch(name):
    results = []
    for L in LIBS:
        conv, lin = _model(L)
        L.manual_seed(3)
        SCENARIOS[name](L, L.nn.utils.prune, conv, lin)
        results.append(_outcome(L, conv, lin))
    _compare(*results)


@pytest.mark.parametrize("L", LIBS, ids=lambda L: L.__name__)
def test_reparametrisation(L):
    """``weight`` is a plain tensor ``weight_orig * weight_mask`` that the hook recomputes."""
    prune = L.nn.utils.prune
    conv, _ = _model(L)
    weight = conv.weight
    method = prune.L1Unstructured.apply(conv, "weight", amount=0.5)
    assert [name for name, _ in conv.named_parameters()] == ["bias", "weight_orig"]
    assert [name for name, _ in conv.named_buffers()] == ["weight_mask"]
    assert conv.weight_orig is weight
    assert not isinstance(conv.weight, L.nn.Parameter) and "weight" in conv.__dict__
    assert int((conv.weight_mask == 0).sum()) == 81
    assert list(conv._forward_pre_hooks.values()) == [method] and method._tensor_name == "weight"
    with L.no_grad():
        conv.weight_orig.fill_(2.0)
    conv(L.ones(1, 3, 5, 5, dtype=L.float64))
    assert_close(conv.weight, 2.0 * conv.weight_mask)


def test_iterative_pruning_builds_a_container():
    for L in LIBS:
        prune = L.nn.utils.prune
        conv, _ = _model(L)
        prune.random_unstructured(conv, "weight", amount=0.2)
        prune.ln_structured(conv, "weight", amount=1, n=1, dim=0)
        prune.l1_unstructured(conv, "weight", amount=3)
        (container,) = conv._forward_pre_hooks.values()
        assert isinstance(container, prune.PruningContainer) and len(container) == 3
        assert [type(m).__name__ for m in container] == ["RandomUnstructured", "LnStructured", "L1Unstructured"]
        assert container[1].n == 1 and container._tensor_name == "weight"
        with pytest.raises(ValueError, match="Can only add pruning methods acting on the parameter named 'weight'"):
            other = prune.Identity()
            other._tensor_name = "bias"
            container.add_pruning_method(other)
        with pytest.raises(TypeError, match="is not a BasePruningMethod subclass"):
            container.add_pruning_method(3)


def test_remove_and_is_pruned():
    results = []
    for L in LIBS:
        prune = L.nn.utils.prune
        conv, lin = _model(L)
        model = L.nn.Sequential(conv, L.nn.ReLU(), L.nn.Flatten(), lin)
        assert not prune.is_pruned(model)
        L.manual_seed(0)
        prune.random_unstructured(conv, "weight", amount=0.5)
        prune.l1_unstructured(conv, "weight", amount=0.5)
        assert prune.is_pruned(model) and not prune.is_pruned(lin)
        prune.remove(conv, "weight")
        assert not prune.is_pruned(model)
        assert isinstance(conv.weight, L.nn.Parameter) and list(conv.state_dict()) == ["bias", "weight"]
        with pytest.raises(ValueError, match="Parameter 'weight' of module .* has to be pruned before pruning can be removed"):
            prune.remove(conv, "weight")
        results.append(conv.weight.detach())
    assert_close(*results)
    assert int((results[0] == 0).sum()) == 121


def test_prune_method_and_importance_scores():
    results = []
    for L in LIBS:
        prune = L.nn.utils.prune
        t = L.tensor(np.linspace(-2.0, 3.0, 12).reshape(3, 4))
        scores = L.tensor(np.arange(12.0)[::-1].copy().reshape(3, 4))
        pruned = prune.L1Unstructured(amount=5).prune(t, importance_scores=scores)
        structured = prune.LnStructured(amount=1, n=2, dim=1).prune(t, default_mask=(t > 0).double())
        conv, lin = _model(L)
        prune.l1_unstructured(lin, "weight", amount=0.5, importance_scores=lin.weight.detach().flip(0))
        prune.ln_structured(conv, "weight", amount=2, n=1, dim=0, importance_scores=conv.weight.detach() ** 3)
        prune.global_unstructured([(conv, "weight"), (lin, "bias")], prune.L1Unstructured, amount=50,
                                  importance_scores={(lin, "bias"): L.zeros(10, dtype=L.float64)})
        results.append((pruned, structured, lin.weight_mask, conv.weight_mask, lin.bias_mask))
    for ours, theirs in zip(*results):
        assert_close(ours, theirs)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("largest_first", [False, True])
def test_magnitude_ties_match_pytorch(largest_first, seed):
    """Equal magnitudes straddling the cut: the entries pruned are PyTorch's."""
    values = np.random.default_rng(seed).integers(-3, 4, size=(8, 9)).astype(np.float64)
    masks = []
    for L in LIBS:
        prune = L.nn.utils.prune
        lin = L.nn.Linear(9, 8).double()
        with L.no_grad():
            lin.weight.copy_(L.tensor(values))
        if largest_first:
            prune.ln_structured(lin, "weight", amount=3, n=1, dim=1,
                                importance_scores=L.tensor(np.abs(values).round().clip(0, 1) * 2))
        else:
            prune.l1_unstructured(lin, "weight", amount=0.4)
        masks.append(lin.weight_mask)
    assert_close(*masks)


@pytest.mark.parametrize("bad, error, message", [
    (-1, ValueError, r"amount=-1 should either be a float in the range \[0, 1\] or a non-negative integer"),
    (1.5, ValueError, r"amount=1.5 should either be a float"),
    (-0.1, ValueError, r"amount=-0.1 should either be a float"),
    ("half", TypeError, "Invalid type for amount: half. Must be int or float."),
    (61, ValueError, "amount=61 should be smaller than the number of parameters to prune=60"),
])
def test_amount_errors(bad, error, message):
    for L in LIBS:
        lin = L.nn.Linear(6, 10)
        with pytest.raises(error, match=message):
            L.nn.utils.prune.l1_unstructured(lin, "weight", amount=bad)
        assert sorted(name for name, _ in lin.named_parameters()) == ["bias", "weight"]  # put back


def test_structural_errors():
    for L in LIBS:
        prune = L.nn.utils.prune
        lin = L.nn.Linear(6, 10)
        with pytest.raises(ValueError, match=r"Structured pruning can only be applied to multidimensional tensors"):
            prune.ln_structured(lin, "bias", amount=1, n=2, dim=0)
        with pytest.raises(IndexError, match="Invalid index 2 for tensor of size"):
            prune.random_structured(lin, "weight", amount=1, dim=2)
        with pytest.raises(TypeError, match='Only "unstructured" PRUNING_TYPE supported'):
            prune.global_unstructured([(lin, "weight")], prune.RandomStructured, amount=1)
        with pytest.raises(TypeError, match="parameters is not an Iterable"):
            prune.global_unstructured(3, prune.L1Unstructured, amount=1)
        with pytest.raises(TypeError, match="importance_scores must be of type dict"):
            prune.global_unstructured([(lin, "weight")], prune.L1Unstructured, importance_scores=[], amount=1)
        with pytest.raises(AssertionError, match="importance_scores should have the same shape as parameter weight"):
            prune.l1_unstructured(lin, "weight", amount=1, importance_scores=L.ones(3))
        assert sorted(name for name, _ in lin.named_parameters()) == ["bias", "weight"] and not lin._forward_pre_hooks


def test_torch_alias_imports_prune():
    namespace: dict = {}
    with aliased():
        exec("import torch.nn.utils.prune as prune\nfrom torch.nn.utils import prune as p2", namespace)
    assert namespace["prune"] is chainrule.nn.utils.prune is namespace["p2"]
