"""Custom autograd.Function: forward/backward with ctx, saved tensors, needs_input_grad,
mark_non_differentiable, several outputs, setup_context, gradcheck; the same class body
runs on chainrule and on PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close, pair


def make_functions(lib):
    """The same custom Functions, written once, for ``lib`` (chainrule or torch)."""

    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)  # saving an output
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    class MulConst(lib.autograd.Function):
        """A tensor and a Python scalar: the scalar gets no gradient (None)."""

        @staticmethod
        def forward(ctx, x, k):
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.k, None

    class Cube(lib.autograd.Function):
        """Saves its input; backward written with differentiable ops (double backward)."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    class Bilinear(lib.autograd.Function):
        """Two inputs; only the gradients asked for are computed (needs_input_grad)."""

        calls = []

        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b + a

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            Bilinear.calls.append(tuple(ctx.needs_input_grad))
            ga = grad * (b + 1) if ctx.needs_input_grad[0] else None
            gb = grad * a if ctx.needs_input_grad[1] else None
            return ga, gb

    class SortWithIndex(lib.autograd.Function):
        """Two outputs, one marked non-differentiable."""

        @staticmethod
        def forward(ctx, x):
            values, indices = x.sort()
            ctx.mark_non_differentiable(indices)
            ctx.save_for_backward(indices)
            ctx.size = x.shape[-1]
            return values, indices

        @staticmethod
        def backward(ctx, grad_values, grad_indices):
            (indices,) = ctx.saved_tensors
            out = lib.zeros(ctx.size, dtype=grad_values.dtype)
            out = out.scatter_add(0, indices, grad_values)
            return out

    class SinCos(lib.autograd.Function):
        """Two differentiable outputs; a gradient that does not reach one arrives as zeros."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, g_sin, g_cos):
            (x,) = ctx.saved_tensors
            return g_sin * x.cos() - g_cos * x.sin()

    class Square(lib.autograd.Function):
        """PyTorch 2's style: forward without ctx, and setup_context."""

        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * grad * x

    return dict(Exp=Exp, MulConst=MulConst, Cube=Cube, Bilinear=Bilinear, SortWithIndex=SortWithIndex,
                SinCos=SinCos, Square=Square)


C = make_functions(chainrule)
T = make_functions(torch)


@pytest.mark.parametrize("name,call", [
    ("Exp", lambda F, x: F["Exp"].apply(x)),
    ("MulConst", lambda F, x: F["MulConst"].apply(x, 2.5)),
    ("Cube", lambda F, x: F["Cube"].apply(x)),
    ("Square", lambda F, x: F["Square"].apply(x)),
    ("Exp-in-graph", lambda F, x: F["Exp"].apply(x.sin() * 2).sum() * x),
    ("SinCos-both", lambda F, x: F["SinCos"].apply(x)[0] * 2 + F["SinCos"].apply(x)[1]),
    ("SinCos-first-only", lambda F, x: F["SinCos"].apply(x)[0] * 3),
    ("SinCos-second-only", lambda F, x: F["SinCos"].apply(x)[1] * 3),
    ("SinCos-same-call", lambda F, x: (lambda sc: sc[0] * sc[1] + sc[0])(F["SinCos"].apply(x))),
    ("Sort-values", lambda F, x: F["SortWithIndex"].apply(x)[0] * (1.0 + x.detach())),
])
def test_custom_function_matches_torch(name, call):
    cx, tx = pair([0.3, -1.2, 2.0])
    out_c, out_t = call(C, cx), call(T, tx)
    assert_close(out_c, out_t)
    seed = np.array([1.0, -2.0, 0.5])
    out_c.backward(chainrule.tensor(seed))
    out_t.backward(torch.tensor(seed))
    assert_close(cx.grad, tx.grad)


def test_grad_fn_name_and_apply_records_node():
    x = chainrule.tensor([1.0], requires_grad=True)
    y = C["Exp"].apply(x)
    assert y.requires_grad
    assert y.grad_fn.name() == "ExpBackward"
    # As in PyTorch, the node's type is named after the Function and is an instance of it.
    assert type(y.grad_fn).__name__ == "ExpBackward" and isinstance(y.grad_fn, C["Exp"])
    t = make_functions(torch)["Exp"].apply(torch.tensor([1.0], requires_grad=True))
    assert type(t.grad_fn).__name__ == "ExpBackward"


def test_needs_input_grad():
    C["Bilinear"].calls.clear()
    a = chainrule.tensor([1.0, 2.0], requires_grad=True)
    b = chainrule.tensor([3.0, 4.0])
    C["Bilinear"].apply(a, b).sum().backward()
    assert C["Bilinear"].calls == [(True, False)]
    assert_close(a.grad, np.array([4.0, 5.0]))
    assert b.grad is None
    C["Bilinear"].calls.clear()
    b.requires_grad_()
    a.grad = None
    C["Bilinear"].apply(a, b).sum().backward()
    assert C["Bilinear"].calls == [(True, True)]
    assert_close(b.grad, np.array([1.0, 2.0]))


def test_mark_non_differentiable():
    x = chainrule.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, indices = C["SortWithIndex"].apply(x)
    assert values.requires_grad
    assert not indices.requires_grad
    np.testing.assert_array_equal(indices.numpy(), [1, 2, 0])
    (values * chainrule.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert_close(x.grad, np.array([100.0, 1.0, 10.0]))


def test_no_record_when_no_input_requires_grad_or_under_no_grad():
    x = chainrule.tensor([1.0])
    assert C["Exp"].apply(x).grad_fn is None
    x.requires_grad_()
    with chainrule.no_grad():
        y = C["Exp"].apply(x)
    assert y.grad_fn is None and not y.requires_grad


def test_forward_runs_without_recording():
    seen = []

    class Probe(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            inner = x * 2
            seen.append((chainrule.is_grad_enabled(), inner.requires_grad))
            return inner

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = chainrule.tensor([1.0], requires_grad=True)
    Probe.apply(x).sum().backward()
    assert seen == [(False, False)]
    assert_close(x.grad, np.array([2.0]))


def test_returning_an_input_unchanged():
    class Identity(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 3

    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and x.grad_fn is None
    y.sum().backward()
    assert_close(x.grad, np.array([3.0, 3.0]))


def test_double_backward_through_custom_function():
    cx, tx = pair([0.5, -1.5])
    results = []
    for lib, F, x in ((chainrule, C, cx), (torch, T, tx)):
        y = F["Cube"].apply(x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        results.append((g, gg))
    assert_close(results[0][0], results[1][0])
    assert_close(results[0][1], results[1][1])
    assert_close(results[0][1], 6 * np.array([0.5, -1.5]))


def test_second_backward_frees_saved_tensors():
    x = chainrule.tensor([1.0], requires_grad=True)
    y = C["Exp"].apply(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()
    y = C["Exp"].apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert_close(x.grad, np.array([3 * np.e], dtype=np.float32), rtol=1e-6)


def test_wrong_number_of_gradients_raises():
    class Bad(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad

    a = chainrule.tensor([1.0], requires_grad=True)
    b = chainrule.tensor([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(a, b).sum().backward()


def test_wrong_gradient_shape_raises():
    class BadShape(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return chainrule.ones(5)

    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="shape"):
        BadShape.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match="shape"):
        (BadShape.apply(x * 1) * 1).sum().backward()


def _pair_of_functions(lib):
    class Broadcasting(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * 2 + y

        @staticmethod
        def backward(ctx, grad):
            return grad, grad  # (y's gradient has x's broadcast shape)

    class Truncating(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad[:1]

    return Broadcasting, Truncating


def test_a_gradient_of_a_broadcast_shape_is_summed_and_another_is_pytorchs_error():
    results = []
    for lib in (torch, chainrule):
        Broadcasting, Truncating = _pair_of_functions(lib)
        x = lib.ones(3, 2, requires_grad=True)
        row, vector = lib.ones(1, 2, requires_grad=True), lib.ones(2, requires_grad=True)
        Broadcasting.apply(x, row).sum().backward()
        Broadcasting.apply(x, vector).sum().backward()
        with pytest.raises(RuntimeError) as raised:
            Truncating.apply(lib.ones(2, requires_grad=True)).sum().backward()
        results.append((row.grad.tolist(), vector.grad.tolist(), str(raised.value).replace("Truncating", "")))
    assert results[0] == results[1]
    assert "returned an invalid gradient at index 0 - got [1] but expected shape compatible with [2]" in results[1][2]


def test_save_for_backward_takes_tensors_or_none_only():
    for lib in (torch, chainrule):
        class SavesANumber(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, None, 3)
                return x * 1

        with pytest.raises(TypeError, match="save_for_backward can only save variables, but argument 2 is of type int"):
            SavesANumber.apply(lib.ones(1, requires_grad=True))


def test_calling_a_function_instance_is_refused_as_in_pytorch():
    for lib in (torch, chainrule):
        class Double(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        with pytest.raises(RuntimeError, match="Legacy autograd function with non-static forward method"):
            Double()(lib.ones(1))
        with pytest.raises(TypeError, match="'DoubleBackward' object is not callable"):
            Double.apply(lib.ones(1, requires_grad=True)).grad_fn(lib.ones(1))


def test_forward_not_implemented():
    class Empty(chainrule.autograd.Function):
        pass

    with pytest.raises(NotImplementedError):
        Empty.apply(chainrule.tensor([1.0], requires_grad=True))


def test_gradcheck_of_custom_functions():
    gradcheck = chainrule.autograd.gradcheck
    x = chainrule.tensor(np.array([0.3, -0.7, 1.1]), requires_grad=True)
    b = chainrule.tensor(np.array([1.5, 0.2, -0.4]), requires_grad=True)
    assert gradcheck(C["Exp"].apply, (x,))
    assert gradcheck(C["Cube"].apply, (x,))
    assert gradcheck(C["Square"].apply, (x,))
    assert gradcheck(lambda t: C["MulConst"].apply(t, -3.0), (x,))
    assert gradcheck(C["Bilinear"].apply, (x, b))
    assert gradcheck(lambda t: C["SinCos"].apply(t), (x,))
    assert chainrule.autograd.gradgradcheck(C["Cube"].apply, (x,))


def test_gradcheck_catches_a_wrong_backward():
    class Wrong(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x  # should be 2 * x

    x = chainrule.tensor(np.array([0.3, -0.7]), requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        chainrule.autograd.gradcheck(Wrong.apply, (x,))
    assert chainrule.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False) is False


def test_modifying_saved_output_in_place_raises():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    y = C["Exp"].apply(x)
    with chainrule.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="mul_"):
        y.sum().backward()


def test_modifying_saved_input_in_place_raises():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = C["Cube"].apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError) as error:
        y.sum().backward()
    assert "add_" in str(error.value) and "CubeBackward" in str(error.value)


def _add_one_in_place(lib):
    """The same in-place Function, written once, for ``lib`` (chainrule or torch)."""

    class AddOneInPlace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1.0)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2.0

    return AddOneInPlace


def test_mark_dirty_returns_the_input_itself_with_this_history():
    results = []
    for lib, fn in ((torch, _add_one_in_place(torch)), (chainrule, _add_one_in_place(chainrule))):
        a = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = a * 1.0
        c = fn.apply(b)
        assert c is b
        assert c.grad_fn.name().endswith("AddOneInPlaceBackward")
        (c * c).sum().backward()
        results.append((b.detach().numpy().copy(), a.grad.numpy().copy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_mark_dirty_on_a_leaf_that_requires_grad_raises():
    for lib, fn in ((torch, _add_one_in_place(torch)), (chainrule, _add_one_in_place(chainrule))):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            fn.apply(lib.tensor([1.0], requires_grad=True))


def test_once_differentiable_runs_backward_without_recording():
    from chainrule.autograd.function import once_differentiable

    class Square(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    (g,) = chainrule.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    assert g.tolist() == [2.0, 4.0] and not g.requires_grad
