"""Complex tensors (chainrule/complex_numbers.py, ops/complex.py, ops/wirtinger.py): values,
dtypes, node names and gradients against PyTorch's, whose convention for a complex input's
gradient is dL/dx + i dL/dy (``(z.abs() ** 2).sum()`` gives 2z)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close

#: A complex value cast to a real one silently loses its imaginary part: an error here.
pytestmark = pytest.mark.filterwarnings("error::numpy.exceptions.ComplexWarning")

_rng = np.random.default_rng(7)
Z = _rng.normal(size=(3, 4)) + 1j * _rng.normal(size=(3, 4))
W = _rng.normal(size=(3, 4)) + 1j * _rng.normal(size=(3, 4))
X = _rng.normal(size=(3, 4))


def _loss(L, out):
    """A real loss that weighs each real and imaginary part differently, so that a gradient
    with a wrong conjugation or a lost part shows."""
    weights = L.tensor(np.arange(out.numel()).reshape(tuple(out.shape)) * 0.1 + 0.3, dtype=L.float64)
    if out.is_complex():
        return (out.real * weights + out.imag * weights * weights).sum()
    return (out * weights).sum()


def _run(L, fn):
    z, w, x = (L.tensor(v, requires_grad=True) for v in (Z, W, X))
    out = fn(L, z, w, x)
    _loss(L, out).backward()
    return out, (z.grad, w.grad, x.grad)


def _numpy(t):
    return None if t is None else t.detach().resolve_conj().numpy()


CASES = [
    ("mul", lambda L, z, w, x: z * w),
    ("mul-real", lambda L, z, w, x: z * x),
    ("real-mul", lambda L, z, w, x: x * z),
    ("add-real", lambda L, z, w, x: z + x),
    ("real-sub", lambda L, z, w, x: x - z),
    ("div", lambda L, z, w, x: z / w),
    ("real-div", lambda L, z, w, x: x / z),
    ("exp", lambda L, z, w, x: z.exp()),
    ("log", lambda L, z, w, x: z.log()),
    ("sqrt", lambda L, z, w, x: z.sqrt()),
    ("sin", lambda L, z, w, x: z.sin()),
    ("cos", lambda L, z, w, x: L.cos(z)),
    ("tanh", lambda L, z, w, x: z.tanh()),
    ("pow-2", lambda L, z, w, x: z ** 2),
    ("pow-1.5", lambda L, z, w, x: z ** 1.5),
    ("pow-tensor", lambda L, z, w, x: z ** (w * 0.3)),
    ("pow-real-exponent", lambda L, z, w, x: z ** x),
    ("square", lambda L, z, w, x: z.square()),
    ("reciprocal", lambda L, z, w, x: z.reciprocal()),
    ("mul-complex-number", lambda L, z, w, x: z * (2 - 1j)),
    ("real-mul-complex-number", lambda L, z, w, x: x * (2 - 1j)),
    ("real-div-complex-number", lambda L, z, w, x: x / (2 - 1j)),
    ("div-complex-number", lambda L, z, w, x: z / (2 - 1j)),
    ("sum", lambda L, z, w, x: (z * w).sum(0)),
    ("mean", lambda L, z, w, x: (z * w).mean()),
    ("matmul", lambda L, z, w, x: z @ w.T),
    ("matmul-mH", lambda L, z, w, x: z @ w.mH),
    ("matmul-vector", lambda L, z, w, x: z @ w[0]),
    ("abs", lambda L, z, w, x: z.abs()),
    ("abs-squared", lambda L, z, w, x: z.abs() ** 2),
    ("sgn", lambda L, z, w, x: z.sgn() * w),
    ("sgn-fn", lambda L, z, w, x: L.sgn(z * w)),
    ("angle", lambda L, z, w, x: z.angle()),
    ("angle-real", lambda L, z, w, x: x.angle()),
    ("real", lambda L, z, w, x: z.real * w.imag),
    ("imag-fn", lambda L, z, w, x: L.imag(z) * 3),
    ("real-fn", lambda L, z, w, x: L.real(z) * 3),
    ("conj", lambda L, z, w, x: z.conj() * w),
    ("conj-fn", lambda L, z, w, x: L.conj(z) * w),
    ("conj_physical", lambda L, z, w, x: z.conj_physical() * w),
    ("resolve_conj", lambda L, z, w, x: z.conj().resolve_conj() * w),
    ("complex", lambda L, z, w, x: L.complex(x, x * x)),
    ("polar", lambda L, z, w, x: L.polar(x.abs() + 0.1, x * 2)),
    ("view_as_real", lambda L, z, w, x: L.view_as_real(z * w)),
    ("view_as_complex", lambda L, z, w, x: L.view_as_complex(L.stack([x, x * x], -1)) * w),
    ("cast", lambda L, z, w, x: x.to(L.complex128) * w),
    ("reshape-transpose", lambda L, z, w, x: (z.reshape(4, 3) * w.reshape(4, 3)).T),
    ("index", lambda L, z, w, x: z[1:, ::2] * w[0, :2]),
    ("cat", lambda L, z, w, x: L.cat([z, w * z])),
    ("real-path-into-complex", lambda L, z, w, x: z.exp() * x.exp()),
    ("einsum", lambda L, z, w, x: L.einsum("ij,kj->ik", z, w)),
    ("prod", lambda L, z, w, x: z.prod(1)),
    ("prod-all", lambda L, z, w, x: z.prod()),
    ("cumprod", lambda L, z, w, x: z.cumprod(1)),
    ("cumsum", lambda L, z, w, x: (z * w).cumsum(0)),
    ("linear", lambda L, z, w, x: L.nn.functional.linear(z, w, w[0, :3])),
    ("dot", lambda L, z, w, x: L.dot(z[0], w[0])),
    ("vdot", lambda L, z, w, x: L.vdot(z[0], w[0])),
    ("addmm", lambda L, z, w, x: L.addmm(z[:, :3], z, w.T)),
    ("rsqrt", lambda L, z, w, x: z.rsqrt()),
    ("sigmoid", lambda L, z, w, x: z.sigmoid()),
    ("reciprocal-of-number", lambda L, z, w, x: (2 - 1j) / z),
    ("where", lambda L, z, w, x: L.where(x > 0, z, w)),
    ("inv", lambda L, z, w, x: L.linalg.inv(z[:, :3] + 3 * L.eye(3))),
    ("solve", lambda L, z, w, x: L.linalg.solve(z[:, :3] + 3 * L.eye(3), w)),
    ("det", lambda L, z, w, x: L.linalg.det(z[:, :3] * w[:, 1:])),
    ("slogdet", lambda L, z, w, x: L.linalg.slogdet(z[:, :3] + 3 * L.eye(3))[1]),
    ("index-assignment", lambda L, z, w, x: (lambda t: (t.__setitem__(0, w[1]), t)[1])(z * 1)),
    ("norm", lambda L, z, w, x: (z * w).norm()),
    ("norm-dim-1", lambda L, z, w, x: z.norm(p=1, dim=1)),
    ("vector_norm", lambda L, z, w, x: L.linalg.vector_norm(z, dim=0)),
    ("var", lambda L, z, w, x: (z * w).var(dim=1)),
    ("std", lambda L, z, w, x: z.std()),
]


#: Node names other than PyTorch's: computed from other ops for complex inputs (norm, var, std,
#: vdot), or named so for real inputs too (einsum: one node where PyTorch records several;
#: CopySlices without PyTorch's C++ namespace).
_OTHER_NODE_NAMES = {"norm", "norm-dim-1", "vector_norm", "var", "std", "vdot", "einsum", "index-assignment"}


@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients_like_torch(name, fn):
    out, grads = _run(chainrule, fn)
    expected, expected_grads = _run(torch, fn)
    assert_close(_numpy(out), _numpy(expected), what=name)
    assert out.dtype.name == str(expected.dtype).replace("torch.", "")
    if name not in _OTHER_NODE_NAMES:
        assert (out.grad_fn.name() if out.grad_fn else None) == expected.grad_fn.name()
    for got, want in zip(grads, expected_grads):
        assert (got is None) == (want is None)
        if got is not None:
            assert_close(_numpy(got), _numpy(want), what=f"{name} gradient")
            assert got.dtype.name == str(want.dtype).replace("torch.", "")


def test_gradient_of_squared_magnitude_is_2z():
    z = chainrule.tensor([1 + 2j, 3 - 1j], requires_grad=True)
    (z.abs() ** 2).sum().backward()
    assert_close(z.grad.numpy(), 2 * np.array([1 + 2j, 3 - 1j]))


def _second_order(L):
    z = L.tensor(Z[0], requires_grad=True)
    y = (z * z * 0.3).exp().sin() / (z + 1)
    (g,) = L.autograd.grad((y.real + y.imag * 2).sum(), z, create_graph=True)
    (h,) = L.autograd.grad((g.abs() ** 2).sum(), z)
    return g, h


def test_second_order_gradients_like_torch():
    for got, want in zip(_second_order(chainrule), _second_order(torch)):
        assert_close(_numpy(got), _numpy(want))


def _views(L):
    z = L.tensor(Z[0], requires_grad=True) * 1
    z.real = L.tensor([5.0, 6.0, 7.0, 8.0], dtype=L.float64)
    z.imag[0] = 9
    plain = L.tensor(Z[0])
    L.view_as_real(plain)[0, 0] = 100
    w = L.tensor(Z[0], requires_grad=True)
    v = w * 2
    v.real.mul_(3)
    (v.real * v.imag + v.imag).sum().backward()
    return z, plain, w.grad


def test_real_imag_and_view_as_real_are_views():
    for got, want in zip(_views(chainrule), _views(torch)):
        assert_close(_numpy(got), _numpy(want))
    assert repr(_views(chainrule)[0]).endswith("grad_fn=<CopySlices>)")


def test_real_of_a_real_tensor_is_itself_and_conj_is_never_lazy():
    x = chainrule.tensor([1.0, 2.0])
    assert chainrule.real(x) is x and x.conj() is x
    z = chainrule.tensor([1 + 1j])
    assert not z.conj().is_conj() and not chainrule.is_conj(z) and chainrule.is_complex(z)
    assert not chainrule.is_complex(x)


def test_dtypes_like_torch():
    for L in (chainrule, torch):
        assert str(L.tensor([1 + 2j]).dtype).endswith("complex64")
        assert str(L.tensor([1 + 2j]).real.dtype).endswith("float32")
        assert str(L.complex(L.ones(2, dtype=L.float64), L.ones(2, dtype=L.float64)).dtype).endswith("complex128")
        assert str((L.ones(2) * 1j).dtype).endswith("complex64")
        assert str(L.full((2,), 1j).dtype).endswith("complex64")
        for integers in (L.arange(3) * 1j, L.arange(3) / 1j, (L.arange(3) + 1) ** 1j, L.arange(3) + 1j, 1j - L.arange(3)):
            assert str(integers.dtype).endswith("complex64")
        assert str(L.view_as_real(L.ones(2, dtype=L.complex64)).dtype).endswith("float32")
        # a 0-d complex tensor with a dimensioned real one: complex, of the real one's precision
        assert str((L.ones(3) * L.tensor(1j, dtype=L.complex128)).dtype).endswith("complex64")
        assert str((L.ones(3, dtype=L.float64) * L.tensor(1j)).dtype).endswith("complex128")
        assert str((L.ones(3, dtype=L.complex64) * L.tensor(1.0, dtype=L.float64)).dtype).endswith("complex64")


@pytest.mark.parametrize("fn, message", [
    (lambda L: L.imag(L.ones(2)), "imag is not implemented for tensors with non-complex dtypes."),
    (lambda L: L.view_as_real(L.ones(2)), "view_as_real is only supported for complex tensors"),
    (lambda L: L.view_as_complex(L.ones(3)), "Tensor must have a last dimension of size 2"),
    (lambda L: L.view_as_complex(L.ones(2, 2).T), "Tensor must have a last dimension with stride 1"),
    (lambda L: L.complex(L.ones(2), L.ones(2, dtype=L.float64)),
     "Expected object of scalar type Float but got scalar type Double for second argument"),
])
def test_errors_like_torch(fn, message):
    for L in (chainrule, torch):
        with pytest.raises(RuntimeError, match=message):
            fn(L)


def test_compiled_plans_give_eager_gradients():
    # A plan runs each op's forward again on its node: the conjugation is switched on once.
    def loss(z, w):
        y = (z * w).exp() + z.conj() * 2
        return (y.abs() ** 2).sum() + (z.tanh().real * chainrule.fft.rfft(w.imag).abs().sum()).sum()

    compiled = chainrule.compile(loss)
    results = []
    for fn in (loss, compiled, compiled, compiled, compiled):
        z, w = chainrule.tensor(Z[0], requires_grad=True), chainrule.tensor(W[0], requires_grad=True)
        fn(z, w).backward()
        results.append((z.grad.numpy(), w.grad.numpy()))
    for got in results[1:]:
        assert_close(got[0], results[0][0])
        assert_close(got[1], results[0][1])


def test_default_complex_dtype_follows_the_default_float():
    for L in (chainrule, torch):
        L.set_default_dtype(L.float64)
        try:
            made = [L.tensor([1 + 2j]), L.full((1,), 2j), L.tensor([1.0]) * 1j]
            shown = [repr(t).replace("torch.", "chainrule.") for t in made]
        finally:
            L.set_default_dtype(L.float32)
        assert [str(t.dtype).rsplit(".", 1)[-1] for t in made] == ["complex128"] * 3
        assert shown == ["tensor([1.+2.j])", "tensor([0.+2.j])", "tensor([0.+1.j])"]


def test_isreal_adjoint_and_is_neg():
    shown = []
    for lib in (torch, chainrule):
        z = lib.tensor([[1 + 0j, 1 + 2j], [3j, 4 + 0j]])
        with pytest.raises(RuntimeError, match="adjoint\\(\\) is only supported on matrices or batches of matrices"):
            lib.ones(3).adjoint()
        shown.append((lib.isreal(z).tolist(), lib.ones(2).isreal().tolist(), z.adjoint().tolist(),
                      tuple(lib.ones(4, 2, 3).adjoint().shape), z.is_neg(), lib.is_neg(z)))
    assert shown[0] == shown[1]
