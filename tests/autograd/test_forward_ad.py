"""Forward-mode AD (``autograd.forward_ad``): tangents of ops, modules and Functions against
PyTorch's, in float64, and the levels' rules and errors."""
import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfw

import chainrule
import chainrule.autograd.forward_ad as cfw
from conftest import assert_close


def positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def unit(rng, shape):
    return rng.uniform(-0.9, 0.9, shape)


def normal(rng, shape):
    return rng.standard_normal(shape)


# (name, fn(L, F, *inputs), input shapes, how the inputs are drawn); every input is dual.
OPS = [
    ("add", lambda L, F, a, b: a + b, [(3, 4), (4,)], normal),
    ("sub-scalar", lambda L, F, a: 2.0 - a, [(3, 4)], normal),
    ("mul", lambda L, F, a, b: a * b, [(3, 4), (3, 1)], normal),
    ("div", lambda L, F, a, b: a / b, [(3, 4), (3, 4)], positive),
    ("pow", lambda L, F, a, b: a ** b, [(3, 4), (3, 4)], positive),
    ("pow-scalar", lambda L, F, a: a ** 3, [(5,)], normal),
    ("neg-abs", lambda L, F, a: (-a).abs(), [(5,)], normal),
    ("exp-log", lambda L, F, a: a.exp() + a.log(), [(5,)], positive),
    ("sqrt-rsqrt", lambda L, F, a: a.sqrt() * a.rsqrt() + a.sqrt(), [(5,)], positive),
    ("trig", lambda L, F, a: a.sin() * a.cos() + a.tan(), [(5,)], unit),
    ("tanh-sigmoid", lambda L, F, a: a.tanh() + a.sigmoid(), [(5,)], normal),
    ("asin-atan", lambda L, F, a: L.asin(a) + L.atan(a), [(5,)], unit),
    ("relu", lambda L, F, a: a.relu(), [(6,)], normal),
    ("clamp", lambda L, F, a: a.clamp(-0.5, 0.5), [(6,)], normal),
    ("where", lambda L, F, a, b: L.where(a > 0, a, b), [(6,), (6,)], normal),
    ("maximum", lambda L, F, a, b: L.maximum(a, b), [(6,), (6,)], normal),
    ("matmul", lambda L, F, a, b: a @ b, [(3, 4), (4, 5)], normal),
    ("matmul-batched", lambda L, F, a, b: L.matmul(a, b), [(2, 3, 4), (4,)], normal),
    ("mm-t", lambda L, F, a, b: L.mm(a, b.t()), [(3, 4), (5, 4)], normal),
    ("bmm", lambda L, F, a, b: L.bmm(a, b), [(2, 3, 4), (2, 4, 2)], normal),
    ("einsum", lambda L, F, a, b: L.einsum("ij,jk->ik", a, b), [(3, 4), (4, 2)], normal),
    ("linear", lambda L, F, x, w, b: F.linear(x, w, b), [(3, 4), (5, 4), (5,)], normal),
    ("sum-dim", lambda L, F, a: a.sum(dim=1, keepdim=True), [(3, 4)], normal),
    ("mean", lambda L, F, a: a.mean(), [(3, 4)], normal),
    ("var-std", lambda L, F, a: a.var(dim=0) + a.std(), [(3, 4)], normal),
    ("prod", lambda L, F, a: a.prod(dim=1), [(3, 4)], positive),
    ("amax", lambda L, F, a: a.amax(dim=1), [(3, 4)], normal),
    ("max-dim", lambda L, F, a: a.max(dim=0).values, [(3, 4)], normal),
    ("logsumexp", lambda L, F, a: L.logsumexp(a, dim=1), [(3, 4)], normal),
    ("norm", lambda L, F, a: a.norm(), [(3, 4)], normal),
    ("cumsum", lambda L, F, a: a.cumsum(dim=1), [(3, 4)], normal),
    ("view-reshape", lambda L, F, a: a.view(4, 3).reshape(2, 6) * 2, [(3, 4)], normal),
    ("transpose-permute", lambda L, F, a: a.transpose(0, 1).permute(1, 0, 2), [(2, 3, 4)], normal),
    ("index-slice", lambda L, F, a: a[1:, ::2] + a[0, 1], [(3, 4)], normal),
    ("index-tensor", lambda L, F, a: a[L.tensor([2, 0, 2])], [(3, 4)], normal),
    ("gather", lambda L, F, a: a.gather(1, L.tensor([[0, 3], [1, 1], [2, 0]])), [(3, 4)], normal),
    ("squeeze-unsqueeze-expand", lambda L, F, a: a.unsqueeze(0).expand(2, 3, 1).squeeze(-1), [(3, 1)], normal),
    ("flatten-flip", lambda L, F, a: a.flatten().flip(0), [(2, 3)], normal),
    ("cat-stack", lambda L, F, a, b: L.cat([a, L.stack([b, b])], dim=0), [(2, 3), (3,)], normal),
    ("split-chunk", lambda L, F, a: a.split(2, dim=1)[1] * a.chunk(2, dim=1)[0], [(3, 4)], normal),
    ("softmax", lambda L, F, a: F.softmax(a, dim=1), [(3, 4)], normal),
    ("log_softmax", lambda L, F, a: a.log_softmax(dim=-1), [(3, 4)], normal),
    ("gelu-silu-elu", lambda L, F, a: F.gelu(a) + F.silu(a) + F.elu(a) + F.softplus(a), [(6,)], normal),
    ("leaky-relu-hardtanh", lambda L, F, a: F.leaky_relu(a, 0.1) + F.hardtanh(a), [(6,)], normal),
    ("mse-loss", lambda L, F, a, b: F.mse_loss(a, b), [(3, 4), (3, 4)], normal),
    ("cross-entropy", lambda L, F, a: F.cross_entropy(a, L.tensor([0, 3, 1])), [(3, 4)], normal),
    ("nll-loss", lambda L, F, a: F.nll_loss(a.log_softmax(1), L.tensor([2, 0, 1])), [(3, 4)], normal),
    ("bce-with-logits", lambda L, F, a, b: F.binary_cross_entropy_with_logits(a, b.sigmoid()), [(5,), (5,)],
     normal),
    ("layer-norm", lambda L, F, x, w, b: F.layer_norm(x, (4,), w, b), [(3, 4), (4,), (4,)], normal),
    ("normalize", lambda L, F, a: F.normalize(a, dim=1), [(3, 4)], normal),
    ("conv2d", lambda L, F, x, w, b: F.conv2d(x, w, b, padding=1), [(1, 2, 5, 5), (3, 2, 3, 3), (3,)], normal),
    ("max-pool-avg-pool", lambda L, F, x: F.max_pool2d(x, 2) + F.avg_pool2d(x, 2), [(1, 2, 4, 4)], normal),
    ("dot-outer", lambda L, F, a, b: L.outer(a, b) * L.dot(a, b), [(3,), (3,)], normal),
    ("type-cast", lambda L, F, a: a.float().double() * 2, [(3,)], normal),
    ("clone-contiguous", lambda L, F, a: a.t().contiguous().clone(), [(2, 3)], normal),
]


def _draw(rng, shapes, draw):
    return [draw(rng, s) for s in shapes], [rng.standard_normal(s) for s in shapes]


def _tangents(library, fw, fn, primals, tangents, requires_grad=False):
    F = library.nn.functional
    with fw.dual_level():
        duals = [fw.make_dual(library.tensor(p, requires_grad=requires_grad), library.tensor(t))
                 for p, t in zip(primals, tangents)]
        out = fn(library, F, *duals)
        primal, tangent = fw.unpack_dual(out)
        return primal.detach(), None if tangent is None else tangent.detach()


@pytest.mark.parametrize("name,fn,shapes,draw", OPS, ids=[row[0] for row in OPS])
def test_op_tangent_matches_pytorch(name, fn, shapes, draw):
    rng = np.random.default_rng(abs(hash(name)) % 2 ** 32)
    primals, tangents = _draw(rng, shapes, draw)
    value, tangent = _tangents(chainrule, cfw, fn, primals, tangents)
    expected_value, expected_tangent = _tangents(torch, tfw, fn, primals, tangents)
    assert_close(value, expected_value, what=f"{name} value")
    assert tangent is not None, f"{name}: no tangent"
    assert_close(tangent, expected_tangent, what=f"{name} tangent")


def test_tangent_with_inputs_requiring_grad_matches_and_is_differentiable():
    """Reverse mode over forward mode: the tangent's gradient (a Hessian-vector product)."""
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal(4), rng.standard_normal(4)
    grads = []
    for library, fw in ((chainrule, cfw), (torch, tfw)):
        leaf = library.tensor(x, requires_grad=True)
        with fw.dual_level():
            out = (fw.make_dual(leaf, library.tensor(v)).sin() * leaf.exp()).sum()
            tangent = fw.unpack_dual(out).tangent
        tangent.backward()
        grads.append((tangent.detach(), leaf.grad))
    assert_close(grads[0][0], grads[1][0], what="tangent")
    assert_close(grads[0][1], grads[1][1], what="gradient of the tangent")


def _mlp(library, seed, layers=None):
    rng = np.random.default_rng(seed)
    nn = library.nn
    model = (nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.GELU(), nn.LayerNorm(8), nn.Linear(8, 3),
                           nn.LogSoftmax(dim=-1)) if layers is None else nn.Sequential(*layers(nn))).double()
    with library.no_grad():
        for p in model.parameters():
            p.copy_(library.tensor(rng.standard_normal(tuple(p.shape)) * 0.5))
    return model


def test_mlp_forward_tangent_with_respect_to_the_input():
    rng = np.random.default_rng(1)
    x, v = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    results = []
    for library, fw in ((chainrule, cfw), (torch, tfw)):
        model = _mlp(library, 7)
        with fw.dual_level():
            out = model(fw.make_dual(library.tensor(x), library.tensor(v)))
            results.append(fw.unpack_dual(out))
    assert_close(results[0].primal.detach(), results[1].primal.detach(), what="output")
    assert_close(results[0].tangent.detach(), results[1].tangent.detach(), what="tangent")


def test_mlp_forward_tangent_with_respect_to_the_parameters():
    """The forward-mode tutorial's recipe: parameters swapped for dual tensors."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 4))
    results = []
    for library, fw in ((chainrule, cfw), (torch, tfw)):
        model = _mlp(library, 3)
        tangent_rng = np.random.default_rng(4)
        with fw.dual_level():
            for module in model:
                for name, p in list(module.named_parameters(recurse=False)):
                    delattr(module, name)
                    setattr(module, name, fw.make_dual(p, library.tensor(tangent_rng.standard_normal(tuple(p.shape)))))
            results.append(fw.unpack_dual(model(library.tensor(x))).tangent.detach())
    assert_close(results[0], results[1], what="tangent")


def test_in_place_changes_update_the_tangent():
    rng = np.random.default_rng(5)
    x, v, y = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal((2, 3))
    found = []
    for library, fw in ((chainrule, cfw), (torch, tfw)):
        with fw.dual_level():
            dual = fw.make_dual(library.tensor(x), library.tensor(v))
            dual.mul_(3.0)
            dual.add_(dual.sin())
            other = library.tensor(y)
            other[1] = dual * 2
            other.add_(1.0)
            found.append((fw.unpack_dual(dual).tangent.clone(), fw.unpack_dual(other).tangent.clone()))
    assert_close(found[0][0], found[1][0], what="tangent of the changed tensor")
    assert_close(found[0][1], found[1][1], what="tangent of the tensor written into")


# -- Function.jvp ----------------------------------------------------------------------------------

def _functions(library):
    class MulScaled(library.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, k):
            ctx.save_for_forward(x, y)
            ctx.k = k
            return x * y * k, x + y

        @staticmethod
        def jvp(ctx, x_t, y_t, k_t):
            x, y = ctx.saved_tensors
            return (x_t * y + x * y_t) * ctx.k, x_t + y_t

    class NoJvp(library.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.exp()

        @staticmethod
        def backward(ctx, g):
            return g

    class TooFew(library.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def jvp(ctx, x_t):
            return x_t * 2

    return MulScaled, NoJvp, TooFew


def test_function_jvp_gives_the_tangents():
    rng = np.random.default_rng(6)
    x, v, y = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3)
    found = []
    for library, fw in ((chainrule, cfw), (torch, tfw)):
        MulScaled, _, _ = _functions(library)
        with fw.dual_level():
            a, b = MulScaled.apply(fw.make_dual(library.tensor(x), library.tensor(v)), library.tensor(y), 2.0)
            found.append((a.detach(), fw.unpack_dual(a).tangent, fw.unpack_dual(b).tangent))
    for mine, theirs, what in zip(found[0], found[1], ("value", "tangent 0", "tangent 1")):
        assert_close(mine, theirs, what=what)


@pytest.mark.parametrize("which", [1, 2])
def test_function_jvp_errors_match_pytorch(which):
    errors = []
    for library, fw in ((chainrule, cfw), (torch, tfw)):
        fn = _functions(library)[which]
        with fw.dual_level():
            dual = fw.make_dual(library.tensor([1.0, 2.0]), library.tensor([0.5, 0.5]))
            with pytest.raises((NotImplementedError, RuntimeError)) as info:
                fn.apply(dual)
            errors.append((info.type, str(info.value)))
    assert errors[0] == errors[1]


def test_function_without_dual_inputs_needs_no_jvp():
    _, NoJvp, _ = _functions(chainrule)
    with cfw.dual_level():
        out = NoJvp.apply(chainrule.tensor([0.0, 1.0], dtype=chainrule.float64))
    assert cfw.unpack_dual(out).tangent is None
    assert_close(out, np.exp([0.0, 1.0]))


# -- levels, make_dual and unpack_dual -----------------------------------------------------------

def _outcome(call):
    try:
        result = call()
    except Exception as error:  # noqa: BLE001 - the error is the outcome compared
        return type(error), str(error).replace("chainrule.", "torch.")  # (dtypes print their module)
    return "ok", result


def _level_script(library, fw):
    """The same sequence of level misuses; what each step gave."""
    x, t = library.tensor([1.0, 2.0, 3.0]), library.tensor([0.1, 0.2, 0.3])
    steps = [_outcome(lambda: fw.make_dual(x, t)), _outcome(lambda: fw.exit_dual_level())]
    with fw.dual_level() as level:
        steps.append(("level", level))
        steps.append(_outcome(lambda: fw.enter_dual_level()))
        dual = fw.make_dual(x, t)
        steps.append(_outcome(lambda: fw.make_dual(dual, t)))
        steps.append(_outcome(lambda: fw.make_dual(x, t, level=3)))
        steps.append(_outcome(lambda: fw.unpack_dual(dual, level=2)))
        steps.append(_outcome(lambda: fw.exit_dual_level(level=1)))
        steps.append(_outcome(lambda: fw.make_dual(x, library.tensor([1.0, 2.0]))))
        steps.append(_outcome(lambda: fw.make_dual(x, library.tensor([[1.0, 2.0, 3.0]]))))
        steps.append(_outcome(lambda: fw.make_dual(x.long(), t)))
        steps.append(_outcome(lambda: fw.make_dual(x, t.long())))
        steps.append(("detach keeps no tangent", fw.unpack_dual(dual.detach()).tangent is None))
        steps.append(("is the tangent as given", fw.unpack_dual(dual).tangent is t))
        steps.append(("integer result has none", fw.unpack_dual(dual.argmax()).tangent is None))
        steps.append(("comparison has none", fw.unpack_dual(dual > 1).tangent is None))
        kept = dual * 2
    steps.append(("gone after the level", fw.unpack_dual(kept).tangent is None))
    with fw.dual_level() as level:
        steps.append(("level again", level))
    return steps


def test_levels_and_errors_match_pytorch():
    assert _level_script(chainrule, cfw) == _level_script(torch, tfw)


def test_make_dual_aliases_its_primal():
    base = chainrule.tensor([1.0, 2.0], requires_grad=True)
    with cfw.dual_level():
        dual = cfw.make_dual(base, chainrule.tensor([1.0, 1.0]))
        primal = cfw.unpack_dual(dual).primal
        assert type(dual.grad_fn).__name__ == "ViewBackward0"
        assert dual.data_ptr() == base.data_ptr() == primal.data_ptr()
        assert cfw.unpack_dual(primal).tangent is None
        (dual * 3).sum().backward()
    assert_close(base.grad, [3.0, 3.0])


def test_dual_level_as_decorator_and_repr():
    @cfw.dual_level()
    def tangent_of_square(x, v):
        dual = cfw.make_dual(x, v)
        return repr(dual * dual), cfw.unpack_dual(dual * dual).tangent

    shown, tangent = tangent_of_square(chainrule.tensor([3.0]), chainrule.tensor([1.0]))
    assert_close(tangent, [6.0])
    with tfw.dual_level():
        dual = tfw.make_dual(torch.tensor([3.0]), torch.tensor([1.0]))
        assert shown == repr(dual * dual).replace("torch.", "chainrule.")


def test_mixed_tangent_dtype_follows_pytorch():
    found = []
    for library, fw in ((chainrule, cfw), (torch, tfw)):
        with fw.dual_level():
            dual = fw.make_dual(library.tensor([1.0, 2.0], dtype=library.float64), library.tensor([0.5, 1.5]))
            out = fw.unpack_dual(dual * 2).tangent
            found.append((str(out.dtype).split(".")[-1], out.tolist()))
    assert found[0] == found[1]


def test_mlp_tangent_backward_to_the_parameters_matches_pytorch():
    rng = np.random.default_rng(8)
    x, v = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    grads = []
    for library, fw in ((chainrule, cfw), (torch, tfw)):
        # (PyTorch's log_softmax refuses this backward, and PyTorch's layer_norm has wrong third derivatives:
        # tests/nn/test_layers.py::test_layer_norm_third_derivative_is_the_true_one)
        model = _mlp(library, 9, lambda nn: [nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 3),
                                             nn.Softplus()])
        with fw.dual_level():
            tangent = fw.unpack_dual(model(fw.make_dual(library.tensor(x), library.tensor(v)))).tangent
        (tangent ** 2).sum().backward()
        grads.append([p.grad for p in model.parameters()])
    for n, (mine, theirs) in enumerate(zip(*grads)):
        assert_close(mine, theirs, what=f"parameter {n}")
