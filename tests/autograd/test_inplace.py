"""In-place ops: values, the version counter (shared by views), errors for saved tensors
changed in place and for leaves, and gradients of recorded in-place ops (on non-leaves and
on views) against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close
from op_parity import check

RNG = np.random.default_rng(17)


def normal(*shape):
    return np.asarray(RNG.standard_normal(shape))


INPLACE = [
    ("add_", lambda L, t, o: t.add_(o)),
    ("add_-scalar", lambda L, t, o: t.add_(2.5)),
    ("add_-alpha", lambda L, t, o: t.add_(o, alpha=-2)),
    ("sub_", lambda L, t, o: t.sub_(o)),
    ("sub_-alpha", lambda L, t, o: t.sub_(1.0, alpha=3)),
    ("mul_", lambda L, t, o: t.mul_(o)),
    ("mul_-scalar", lambda L, t, o: t.mul_(-3)),
    ("div_", lambda L, t, o: t.div_(o)),
    ("div_-scalar", lambda L, t, o: t.div_(4.0)),
    ("pow_", lambda L, t, o: t.abs_().pow_(2) if hasattr(t, "abs_") else t.mul_(t.sign()).pow_(2)),
    ("zero_", lambda L, t, o: t.zero_()),
    ("fill_", lambda L, t, o: t.fill_(1.5)),
    ("copy_", lambda L, t, o: t.copy_(o)),
    ("copy_-broadcast", lambda L, t, o: t.copy_(o[0])),
    ("clamp_", lambda L, t, o: t.clamp_(-0.3, 0.4)),
    ("clamp_-min", lambda L, t, o: t.clamp_(min=0.0)),
    ("clip_", lambda L, t, o: t.clip_(max=0.1)),
    ("iadd", lambda L, t, o: t.__iadd__(o)),
    ("iadd-broadcast", lambda L, t, o: t.__iadd__(o[1])),
    ("isub", lambda L, t, o: t.__isub__(o)),
    ("imul", lambda L, t, o: t.__imul__(o)),
    ("itruediv", lambda L, t, o: t.__itruediv__(o)),
    ("masked_fill_", lambda L, t, o: t.masked_fill_(o > 0, -1.0)),
]


@pytest.mark.parametrize("name,fn", INPLACE, ids=[i[0] for i in INPLACE])
def test_inplace_values_and_identity(name, fn):
    a, b = normal(2, 3), RNG.uniform(0.5, 2.0, (2, 3))
    results = []
    for lib in (chainrule, torch):
        t, o = lib.tensor(a), lib.tensor(b)
        out = fn(lib, t, o)
        assert out is t
        assert t._version >= 1
        results.append(t)
    assert_close(results[0], results[1])


@pytest.mark.parametrize("name,fn", INPLACE, ids=[i[0] for i in INPLACE])
def test_recorded_inplace_on_non_leaf_matches_torch(name, fn):
    def run(L, x, w):
        y = x * 2.0  # a non-leaf, saved by nothing
        fn(L, y, w)
        return y * x

    check(run, normal(2, 3), RNG.uniform(0.5, 2.0, (2, 3)))


@pytest.mark.parametrize("name,fn", INPLACE, ids=[i[0] for i in INPLACE])
def test_recorded_inplace_gradcheck(name, fn):
    x = chainrule.tensor(normal(2, 3), requires_grad=True)
    w = chainrule.tensor(RNG.uniform(0.5, 2.0, (2, 3)), requires_grad=True)

    def run(x, w):
        y = x * 2.0
        fn(chainrule, y, w)
        return y * x

    assert chainrule.autograd.gradcheck(run, (x, w))


SETITEM = [
    ("int", lambda y, w: y.__setitem__(0, w[1])),
    ("scalar", lambda y, w: y.__setitem__((1, 2), 7.0)),
    ("slice-step", lambda y, w: y.__setitem__((slice(None), slice(None, None, 2)), w[:, :2])),
    ("int-array", lambda y, w: y.__setitem__(([0, 1], [2, 0]), w[0, :2])),
    ("mask", lambda y, w: y.__setitem__(y > 0, w[y > 0])),
    ("ellipsis-none", lambda y, w: y.__setitem__((Ellipsis, None, 1), w[:, 1:2].reshape(2, 1))),
    ("index_put_", lambda y, w: y.index_put_((chainrule.tensor([0, 1]) if isinstance(y, chainrule.Tensor)
                                               else torch.tensor([0, 1]),), w[:, 0:1])),
]


@pytest.mark.parametrize("name,fn", SETITEM, ids=[s[0] for s in SETITEM])
def test_index_assignment_gradients(name, fn):
    def run(L, x, w):
        y = x.exp()
        y = y * 1.0
        fn(y, w)
        return y * y

    check(run, normal(2, 3), normal(2, 3))


def test_index_assignment_values_and_version():
    for lib in (chainrule, torch):
        t = lib.zeros(2, 3)
        t[0] = 1.0
        t[1, 2] = 5.0
        t[:, 0] = lib.tensor([7.0, 8.0])
        assert t._version == 3
        np.testing.assert_array_equal(t.numpy(), [[7.0, 1.0, 1.0], [8.0, 0.0, 5.0]])


# -- in-place on views -----------------------------------------------------------------------

VIEWS = [
    ("index-row", lambda L, y, w: y[0].mul_(3.0)),
    ("index-col-add-tensor", lambda L, y, w: y[:, 1].add_(w[0, :2])),
    ("view-of-view", lambda L, y, w: y[1][1:].mul_(w[1, 1:])),
    ("transpose", lambda L, y, w: y.t()[2].sub_(w[0, :2])),
    ("reshape", lambda L, y, w: y.view(3, 2)[1].mul_(w[0, :2])),
    ("narrow", lambda L, y, w: y.narrow(1, 1, 2).clamp_(-0.2, 0.3)),
    ("unsqueeze", lambda L, y, w: y.unsqueeze(0)[0, 1].copy_(w[1])),
    ("iadd-on-slice", lambda L, y, w: y[:, 1:].__iadd__(w[:, :2])),
    ("setitem-on-view", lambda L, y, w: y[1].__setitem__(slice(0, 2), w[0, :2])),
]


@pytest.mark.parametrize("name,fn", VIEWS, ids=[v[0] for v in VIEWS])
def test_inplace_on_view_rewrites_base_history(name, fn):
    def run(L, x, w):
        y = x * 2.0
        fn(L, y, w)
        return y * y

    check(run, normal(2, 3), normal(2, 3))


def test_inplace_on_view_of_constant_makes_base_require_grad():
    def run(L, w):
        y = L.zeros(2, 3, dtype=L.float64)
        y[1].copy_(w)
        assert y.requires_grad
        return y * 3.0

    check(run, normal(3))


def test_inplace_on_advanced_index_copy_leaves_base_alone():
    def run(L, x):
        y = x * 1.0
        y[[0, 1]].mul_(100.0)  # advanced indexing copies: y is unchanged
        return y * y

    check(run, normal(2, 3))


def test_view_version_counter_is_shared():
    for lib in (chainrule, torch):
        base = lib.zeros(2, 3)
        view = base[0]
        other = base.t()
        assert base._version == view._version == 0
        view.add_(1)
        assert base._version == view._version == other._version == 1
        base.mul_(2)
        assert view._version == 2
        d = base.detach()
        d.zero_()
        assert base._version == 3
        np.testing.assert_array_equal(base.numpy(), np.zeros((2, 3)))


def test_version_counts_match_torch():
    versions = []
    for lib in (chainrule, torch):
        t = lib.ones(3)
        seen = [t._version]
        t.add_(1)
        seen.append(t._version)
        t += 1
        seen.append(t._version)
        t[0] = 3.0
        seen.append(t._version)
        t.zero_()
        seen.append(t._version)
        u = t + 1  # out-of-place: new tensor, own counter
        seen.append(u._version)
        versions.append(seen)
    assert versions[0] == versions[1]


# -- errors ----------------------------------------------------------------------------------

SAVED_ERRORS = [
    # (what saves, in-place op, names)
    ("MulBackward", "mul_", lambda x: (lambda y: (y * y, y.mul_(2)))(x * 1)),
    ("ExpBackward", "add_", lambda x: (lambda y: (y, y.add_(1)))(x.exp())),
    ("SigmoidBackward", "mul_", lambda x: (lambda y: (y, y.mul_(2)))(x.sigmoid())),
    ("TanhBackward", "sub_", lambda x: (lambda y: (y, y.sub_(1)))(x.tanh())),
    ("SqrtBackward", "div_", lambda x: (lambda y: (y, y.div_(2)))(x.abs().sqrt())),
    ("PowBackward", "zero_", lambda x: (lambda y: (y ** 3, y.zero_()))(x * 1)),
    ("MmBackward0", "copy_", lambda x: (lambda y: (y @ y.t(), y.copy_(y.detach() + 1)))(x * 1)),
    ("LogBackward", "__setitem__", lambda x: (lambda y: (y.log(), y.__setitem__(0, 1.0)))(x.abs() + 1)),
    ("MulBackward", "add_", lambda x: (lambda y: (y * y, y[0].add_(1)))(x * 1)),
    ("ExpBackward", "mul_", lambda x: (lambda y: (y, y[1].mul_(2)))(x.exp())),
]


@pytest.mark.parametrize("saver,op,fn", SAVED_ERRORS, ids=[f"{s}-{o}" for s, o, _ in SAVED_ERRORS])
def test_saved_tensor_modified_in_place_raises(saver, op, fn):
    tx = torch.tensor(normal(2, 2), requires_grad=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out, _ = fn(tx)
        out.sum().backward()
    x = chainrule.tensor(tx.detach().numpy(), requires_grad=True)
    out, _ = fn(x)
    with pytest.raises(RuntimeError) as error:
        out.sum().backward()
    message = str(error.value)
    assert "modified by an inplace operation" in message
    assert saver in message, message
    assert op in message, message


@pytest.mark.parametrize("fn", [
    lambda L, x, w: (lambda y: (y * 3.0, y.add_(1))[0])(x * 1),
    lambda L, x, w: (lambda y: (y * w.detach(), y.add_(1))[0])(x * 1),
    lambda L, x, w: (lambda y: (w.detach() * y, y.mul_(2))[0])(x * 1),
    lambda L, x, w: (lambda y: (y @ w.detach().reshape(3, 2), y.mul_(2))[0])(x * 1),
    lambda L, x, w: (lambda y: (y + w, y.zero_())[0])(x * 1),
], ids=["mul-scalar", "mul-constant", "rmul-constant", "matmul-constant", "add"])
def test_inplace_on_value_not_needed_by_backward_is_allowed(fn):
    # PyTorch saves a of a * b only when b requires grad: changing a in place is fine then.
    check(fn, normal(2, 3), normal(2, 3))


def test_inplace_on_leaf_requiring_grad_raises():
    for lib in (chainrule, torch):
        x = lib.ones(3, requires_grad=True)
        for fn in (lambda t: t.add_(1), lambda t: t.mul_(2), lambda t: t.zero_(), lambda t: t.fill_(1.0),
                   lambda t: t.copy_(lib.zeros(3)), lambda t: t.clamp_(0, 1), lambda t: t.__iadd__(1),
                   lambda t: t.__setitem__(0, 2.0)):
            with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
                fn(x)
        assert x._version == 0


def test_inplace_on_view_of_leaf_raises():
    for lib in (chainrule, torch):
        x = lib.ones(2, 3, requires_grad=True)
        with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
            x[0].mul_(2)
        with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
            x.t()[1].add_(1)
        np.testing.assert_array_equal(x.detach().numpy(), np.ones((2, 3)))


def test_an_element_picked_by_integers_is_a_view_that_in_place_changes_reach():
    """``w[1]`` of a 1-D tensor is a 0-d view (NumPy would give a copy): ``w[1].zero_()``
    changes ``w``, and on a leaf that requires grad it is PyTorch's error."""
    results = []
    for lib in (torch, chainrule):
        w, m = lib.ones(3), lib.ones(2, 2)
        w[1].zero_()
        m[0, 1].mul_(3)
        picked = w[2]
        w.add_(1)
        leaf = lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            leaf[0].add_(1)
        results.append((w.tolist(), m.tolist(), picked.item(), picked._is_view(), picked._base is w))
    assert results[0] == results[1] == ([2.0, 1.0, 2.0], [[1.0, 3.0], [1.0, 1.0]], 2.0, True, True)


def test_detach_in_place_is_refused_on_views():
    for lib in (torch, chainrule):
        base = lib.arange(6.0)
        for view in (base.view(2, 3), base[1:3], base.view(2, 3)[1]):
            assert view._base is base
            with pytest.raises(RuntimeError, match="Can't detach views in-place. Use detach\\(\\) instead"):
                view.detach_()
        copied = base[[0, 1]]
        assert copied._base is None and not copied._is_view()
        copied.detach_()


def test_inplace_on_leaf_allowed_under_no_grad():
    for lib in (chainrule, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        (w * w).sum().backward()
        with lib.no_grad():
            w -= 0.1 * w.grad
            w[0] = 5.0
        assert w.requires_grad and w.grad_fn is None and w.is_leaf
        assert_close(w.detach(), np.array([5.0, 1.6], dtype=np.float32), rtol=1e-6)


def test_inplace_dtype_errors():
    for lib in (chainrule, torch):
        t = lib.tensor([1, 2, 3])
        with pytest.raises(RuntimeError, match="can't be cast"):
            t += 2.5
        with pytest.raises(RuntimeError, match="can't be cast"):
            t.mul_(lib.tensor([0.5, 0.5, 0.5]))
        t += 2
        np.testing.assert_array_equal(t.numpy(), [3, 4, 5])


def test_inplace_broadcast_shape_errors():
    for lib in (chainrule, torch):
        t = lib.zeros(3)
        with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
            t.add_(lib.ones(2, 3))
        y = lib.zeros(3, requires_grad=True) * 1
        with pytest.raises(RuntimeError):
            y.add_(lib.ones(2, 3))
        with pytest.raises(RuntimeError):
            t.copy_(lib.ones(4))


def test_inplace_on_int_tensor_keeps_dtype():
    for lib in (chainrule, torch):
        t = lib.tensor([1, 2, 3])
        t *= 2
        t.clamp_(max=5)
        assert str(t.dtype).endswith("int64")
        np.testing.assert_array_equal(t.numpy(), [2, 4, 5])


def test_inplace_result_keeps_dtype_float32():
    x = chainrule.ones(3, requires_grad=True)
    y = x * 1
    y.mul_(chainrule.tensor([2.0, 2.0, 2.0], dtype=chainrule.float64))
    assert y.dtype == chainrule.float32
    y.sum().backward()
    assert x.grad.dtype == chainrule.float32
    assert_close(x.grad, np.full(3, 2.0, dtype=np.float32))


@pytest.mark.parametrize("activation, then", [("relu_", "exp_"), ("sigmoid_", "add_"), ("tanh_", "mul_"), ("exp_", "sub_")])
def test_changing_the_output_of_an_in_place_activation_in_place_raises(activation, then):
    # x.relu_() saves its output, which is x's storage: a later in-place change of x makes
    # the backward refuse, naming both ops, as in PyTorch.
    for lib in (torch, chainrule):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        r = x * 2
        getattr(r, activation)()
        getattr(r, then)(1.0) if then != "exp_" else r.exp_()
        with pytest.raises(RuntimeError, match="modified by an inplace operation") as error:
            r.sum().backward()
        if lib is chainrule:
            assert then in str(error.value)
    results = []
    for lib in (torch, chainrule):
        x = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
        r = x * 2
        getattr(r, activation)()
        (r * 3).sum().backward()
        results.append(x.grad)
    assert_close(results[1], results[0])


@pytest.mark.parametrize("change", ["x.mul_(x)", "x.div_(x)", "x.mul_(x[:, :1])"])
def test_an_in_place_op_on_its_own_saved_argument_still_raises(change):
    for lib in (torch, chainrule):
        a = lib.tensor([[-1.0, 2.0, 0.5], [3.0, -4.0, 0.25]], dtype=lib.float64, requires_grad=True)
        x = a * 1
        eval(change)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            x.sum().backward()


def test_remainder_keeps_no_check_on_a_divisor_without_gradient():
    results = []
    for lib in (torch, chainrule):
        a = lib.tensor([1.5, -2.5, 4.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([2.0, 3.0, -1.5], dtype=lib.float64)
        x = a * 1
        r = x % b
        x.add_(1)
        r.sum().backward()
        results.append(a.grad)
    assert_close(results[1], results[0])


@pytest.mark.parametrize("name", ["hardswish", "selu", "celu", "hardsigmoid"])
def test_composite_activations_in_place(name):
    results = []
    for lib in (torch, chainrule):
        x = lib.tensor([-2.0, 0.5, 3.0], dtype=lib.float64, requires_grad=True)
        h = x * 1
        out = getattr(lib.nn.functional, name)(h, inplace=True)
        assert out is h
        out.sum().backward()
        results.append(x.grad)
    # (PyTorch's hardsigmoid gradient uses 1/6 rounded to float32, even in float64.)
    assert_close(results[1], results[0], rtol=1e-7)


@pytest.mark.parametrize("change", [lambda v, L: v.mul_(2), lambda v, L: v.add_(L.ones(3)), lambda v, L: v.exp_(),
                                    lambda v, L: v.clamp_(0, 0.5), lambda v, L: v.uniform_()])
def test_writing_into_an_expanded_tensor_is_pytorchs_error(change):
    for lib in (torch, chainrule):
        base = lib.zeros(1)
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor refers to a single"):
            change(base.expand(3), lib)
        assert base.tolist() == [0.0]
