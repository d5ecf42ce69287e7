"""Sparse CSR matrices (layout=torch.sparse_csr) against PyTorch: construction and its checks,
printing, accessors, conversions to and from dense and COO, and products with a dense matrix
with the gradients that reach the values and the dense operand."""
import copy
import pickle

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close

pytestmark = pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta state",
                                        "ignore:Sparse invariant checks")

CROW = [0, 2, 2, 5, 6]  # row 1 empty
COL = [0, 3, 0, 1, 3, 2]
VALUES = [3.0, -1.5, 4.0, 2.0, 0.5, -6.0]
SIZE = (4, 4)


def both(fn):
    """``fn(L)`` on chainrule and on PyTorch."""
    return fn(chainrule), fn(torch)


def text(tensor):
    return repr(tensor).replace("chainrule.", "torch.")


def csr(L, dtype="float64", requires_grad=False):
    return L.sparse_csr_tensor(L.tensor(CROW), L.tensor(COL), L.tensor(VALUES, dtype=getattr(L, dtype)), SIZE,
                               requires_grad=requires_grad)


def dense_matrix(L, rng_seed=0, shape=(4, 3), requires_grad=True):
    array = np.random.default_rng(rng_seed).normal(size=shape)
    return L.tensor(array, requires_grad=requires_grad)


# -- layout, construction, printing -------------------------------------------------------------


def test_the_layout_and_flags_are_pytorchs():
    assert repr(chainrule.sparse_csr) == repr(torch.sparse_csr) == "torch.sparse_csr"
    assert isinstance(chainrule.sparse_csr, chainrule.layout)
    mine, theirs = both(csr)
    assert mine.layout is chainrule.sparse_csr and theirs.layout is torch.sparse_csr
    assert (mine.is_sparse, mine.is_sparse_csr) == (theirs.is_sparse, theirs.is_sparse_csr) == (False, True)
    assert chainrule.ones(2).is_sparse_csr is False
    assert tuple(mine.shape) == tuple(theirs.shape) and mine.dim() == 2 and mine._nnz() == theirs._nnz()
    assert (mine.sparse_dim(), mine.dense_dim()) == (theirs.sparse_dim(), theirs.dense_dim())
    assert mine.numel() == theirs.numel() and len(mine) == len(theirs)


@pytest.mark.parametrize("make", [
    lambda L: csr(L),
    lambda L: csr(L, "float32"),
    lambda L: csr(L, requires_grad=True),
    lambda L: L.sparse_csr_tensor(L.tensor([0, 2, 3]), L.tensor([0, 1, 1]),
                                  L.tensor([1.0, 2.0, 3.0], dtype=L.float64, requires_grad=True), (2, 2)),
    lambda L: L.sparse_csr_tensor([0, 2, 3], [0, 1, 1], [1.0, 2.0, 3.0]),
    lambda L: L.sparse_csr_tensor(L.tensor([0, 2, 3], dtype=L.int32), L.tensor([0, 1, 1], dtype=L.int32),
                                  L.tensor([1, 2, 3])),
    lambda L: L.sparse_csr_tensor(L.tensor([0, 0, 0]), L.tensor([], dtype=L.int64), L.tensor([]), (2, 2)),
    lambda L: L.tensor([[0.0, 1.5, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 0.0]]).to_sparse_csr(),
    lambda L: L.tensor(np.arange(60.0).reshape(6, 10) % 7).to_sparse_csr(),
    lambda L: csr(L) * 2,
])
def test_repr_is_pytorchs(make):
    mine, theirs = both(make)
    assert text(mine) == repr(theirs)


def test_accessors_and_inferred_size():
    mine, theirs = both(lambda L: L.sparse_csr_tensor(L.tensor(CROW), L.tensor(COL), L.tensor(VALUES)))
    assert tuple(mine.shape) == tuple(theirs.shape) == (4, 4)
    for name in ("crow_indices", "col_indices", "values"):
        a, e = getattr(mine, name)(), getattr(theirs, name)()
        assert a.dtype == chainrule.int64 if name != "values" else a.dtype == chainrule.float32
        assert_close(a, e, what=name)
    narrow = both(lambda L: L.sparse_csr_tensor(L.tensor([0, 1], dtype=L.int32), L.tensor([2], dtype=L.int32),
                                                L.tensor([1.0])))
    assert narrow[0].crow_indices().dtype == chainrule.int32 and tuple(narrow[0].shape) == tuple(narrow[1].shape)


@pytest.mark.parametrize("crow, col, values, size, message", [
    ([0, 2], COL[:3], VALUES[:3], (2, 2), r"crow_indices.shape\[-1\] must be equal to the number of rows \+ 1 \(=3\), "
                                          r"but got 2"),
    ([1, 2, 3], [0, 1, 1], [1.0, 2.0, 3.0], (2, 2), r"`crow_indices\[..., 0\] == 0` is not satisfied."),
    ([0, 2, 2], [0, 1, 1], [1.0, 2.0, 3.0], (2, 2), r"`crow_indices\[..., -1\] == nnz` is not satisfied."),
    ([0, 3, 3], [0, 1, 1], [1.0, 2.0, 3.0], (2, 2), r"`0 <= crow_indices\[..., 1:\] - crow_indices\[..., :-1\] <= "
                                                    r"ncols` is not satisfied."),
    ([0, 2, 3], [0, 1, 5], [1.0, 2.0, 3.0], (2, 2), r"`0 <= col_indices < ncols` is not satisfied."),
    ([0, 2, 3], [0, 1, -1], [1.0, 2.0, 3.0], (2, 2), r"`0 <= col_indices < ncols` is not satisfied."),
    ([0, 2, 3], [1, 0, 1], [1.0, 2.0, 3.0], (2, 2), r"are sorted and distinct along the last dimension values"),
    ([0, 2, 3], [0, 0, 1], [1.0, 2.0, 3.0], (2, 2), r"are sorted and distinct along the last dimension values"),
    ([0, 2, 3], [0, 1, 1], [1.0, 2.0], (2, 2), r"col_indices.shape\[-1\] must be equal to nnz \(=2\) as defined by "
                                               r"values.shape\[0\], but got 3"),
    ([0, 2, 3], [0, 1, 1], [1.0, 2.0, 3.0], (2,), r"tensor dimensionality must be sum of batch, base, and dense "
                                                  r"dimensionalities \(=0 \+ 2 \+ 0\) but got 1"),
])
def test_invariants_are_checked_with_pytorchs_messages(crow, col, values, size, message):
    # (chainrule checks always, as for COO tensors; PyTorch when asked)
    for L in (chainrule, torch):
        with pytest.raises(RuntimeError, match=message):
            L.sparse_csr_tensor(L.tensor(crow), L.tensor(col), L.tensor(values), size, check_invariants=True)


def test_index_dtypes_must_agree_as_pytorchs():
    for L in (chainrule, torch):
        with pytest.raises(RuntimeError, match="crow_indices and col_indices must have the same dtype, bot got Long "
                                               "and Int, respectively"):
            L.sparse_csr_tensor(L.tensor([0, 2, 3]), L.tensor([0, 1, 1], dtype=L.int32), L.tensor([1.0, 2.0, 3.0]),
                                check_invariants=True)


# -- conversions --------------------------------------------------------------------------------


def test_to_dense_and_its_gradient_to_the_values():
    def run(L):
        values = L.tensor(VALUES, dtype=L.float64, requires_grad=True)
        s = L.sparse_csr_tensor(L.tensor(CROW), L.tensor(COL), values, SIZE)
        dense = s.to_dense()
        weights = L.tensor(np.arange(16.0).reshape(4, 4))
        (grad,) = L.autograd.grad((dense * weights).sum(), values)
        return dense, grad, dense.grad_fn.name(), s.values().grad_fn.name()
    mine, theirs = both(run)
    assert_close(mine[0], theirs[0], what="dense")
    assert_close(mine[1], theirs[1], what="values' gradient")
    assert mine[2:] == theirs[2:]


def test_dense_to_csr_and_back_passes_the_gradient_to_the_dense_tensor():
    def run(L):
        x = L.tensor([[0.0, 1.5, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0], [-3.0, 0.0, 4.0, 0.0]], dtype=L.float64,
                     requires_grad=True)
        s = x.to_sparse_csr()
        (grad,) = L.autograd.grad((s.to_dense() * L.tensor(np.arange(12.0).reshape(3, 4))).sum(), x)
        return s.crow_indices(), s.col_indices(), s.values().detach(), grad, s.grad_fn.name()
    mine, theirs = both(run)
    for a, e in zip(mine[:4], theirs[:4]):
        assert_close(a, e)
    assert mine[4] == theirs[4]


def test_to_sparse_coo_and_from_coo():
    def run(L):
        values = L.tensor(VALUES, dtype=L.float64, requires_grad=True)
        s = L.sparse_csr_tensor(L.tensor(CROW), L.tensor(COL), values, SIZE)
        coo = s.to_sparse_coo()
        back = coo.to_sparse_csr()
        via_layout = L.tensor([[0.0, 2.0], [1.0, 0.0]]).to_sparse(layout=L.sparse_csr)
        return coo, back, via_layout
    mine, theirs = both(run)
    assert mine[0].layout is chainrule.sparse_coo and mine[0].is_coalesced() == theirs[0].is_coalesced()
    assert text(mine[0]) == repr(theirs[0])
    assert text(mine[1]).split("grad_fn")[0] == repr(theirs[1]).split("grad_fn")[0]
    assert text(mine[2]) == repr(theirs[2])


def test_detach_clone_and_scalar_multiplication_stay_csr():
    mine, theirs = both(lambda L: csr(L, requires_grad=True))
    for convert in (lambda s: s.detach(), lambda s: s.clone(), lambda s: s * 2, lambda s: s.to(chainrule.float32)
                    if isinstance(s, chainrule.Tensor) else s.to(torch.float32)):
        a, e = convert(mine), convert(theirs)
        assert a.layout is chainrule.sparse_csr
        assert text(a).split("grad_fn")[0] == repr(e).split("grad_fn")[0]
    assert_close(mine.sum(), theirs.sum())


def test_deepcopy_and_pickle_keep_the_entries():
    mine = csr(chainrule, requires_grad=True)
    for copied in (copy.deepcopy(mine), pickle.loads(pickle.dumps(mine))):
        assert copied.layout is chainrule.sparse_csr and copied.requires_grad
        assert text(copied) == text(mine)


# -- products -----------------------------------------------------------------------------------


PRODUCTS = {
    "matmul": lambda L, s, d: s @ d,
    "mm": lambda L, s, d: L.mm(s, d),
    "sparse.mm": lambda L, s, d: L.sparse.mm(s, d),
    "matmul-vector": lambda L, s, d: L.matmul(s, d[:, 0]),
}


@pytest.mark.parametrize("name", list(PRODUCTS))
def test_products_and_the_gradients_to_the_values_and_the_dense_operand(name):
    def run(L):
        values = L.tensor(VALUES, dtype=L.float64, requires_grad=True)
        s = L.sparse_csr_tensor(L.tensor(CROW), L.tensor(COL), values, SIZE)
        d = dense_matrix(L)
        out = PRODUCTS[name](L, s, d)
        weights = L.tensor(np.random.default_rng(1).normal(size=tuple(out.shape)))
        return (out, *L.autograd.grad((out * weights).sum(), [values, d]), out.grad_fn.name())
    mine, theirs = both(run)
    for a, e in zip(mine[:3], theirs[:3]):
        assert_close(a, e, rtol=1e-12, atol=1e-12)
    assert mine[3] == theirs[3]


@pytest.mark.parametrize("name", ["mm", "matmul", "sparse.mm"])
def test_a_csr_leaf_gets_pytorchs_gradient(name):
    """torch.mm and @ give a sparse leaf a dense gradient; torch.sparse.mm a CSR one with the
    leaf's sparsity."""
    def run(L):
        s = csr(L, requires_grad=True)
        d = dense_matrix(L)
        out = PRODUCTS[name](L, s, d)
        (out * L.tensor(np.random.default_rng(2).normal(size=tuple(out.shape)))).sum().backward()
        return s.grad, d.grad
    mine, theirs = both(run)
    expected_layout = "strided" if theirs[0].layout == torch.strided else "sparse_csr"
    assert mine[0].layout is getattr(chainrule, expected_layout)
    if expected_layout == "sparse_csr":
        assert text(mine[0]).split("values")[0] == repr(theirs[0]).split("values")[0]
        assert_close(mine[0].values(), theirs[0].values(), rtol=1e-12, atol=1e-12)
    else:
        assert_close(mine[0], theirs[0], rtol=1e-12, atol=1e-12)
    assert_close(mine[1], theirs[1], rtol=1e-12, atol=1e-12)


def test_a_larger_random_product_in_float32():
    rng = np.random.default_rng(5)
    matrix = rng.normal(size=(30, 20)) * (rng.random((30, 20)) < 0.2)
    features = rng.normal(size=(20, 8))
    out = []
    for L in (chainrule, torch):
        s = L.tensor(matrix, dtype=L.float32).to_sparse_csr()
        d = L.tensor(features, dtype=L.float32, requires_grad=True)
        product = L.sparse.mm(s, d)
        product.pow(2).sum().backward()
        out.append((product.detach(), d.grad))
    for a, e in zip(*out):
        assert_close(a, e, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("call, error, message", [
    (lambda L: L.mm(csr(L), L.ones(3, 2, dtype=L.float64)), RuntimeError,
     r"mat1 and mat2 shapes cannot be multiplied \(4x4 and 3x2\)"),
    (lambda L: L.mm(csr(L), L.ones(4, 2)), RuntimeError, "expected scalar type Double but found Float"),
    (lambda L: csr(L).indices(), RuntimeError, "indices expected sparse coordinate tensor layout but got SparseCsr"),
    (lambda L: csr(L).coalesce(), RuntimeError, "coalesce expected sparse coordinate tensor layout but got SparseCsr"),
    (lambda L: csr(L).to_dense(L.float32), RuntimeError, "dtype argument is not supported by sparse_csr_to_dense"),
])
def test_errors_are_pytorchs(call, error, message):
    for L in (chainrule, torch):
        with pytest.raises(error, match=message):
            call(L)


def test_ops_without_a_csr_kernel_refuse_naming_the_op_and_layout():
    with pytest.raises(NotImplementedError, match="'aten::exp' with arguments from the 'SparseCsrCPU' backend"):
        chainrule.exp(csr(chainrule))
    with pytest.raises(NotImplementedError, match="CSC"):
        csr(chainrule).t()


def test_csr_names_keep_sparse_loading_on_first_use():
    from fresh_python import fresh_python

    out = fresh_python(
        "import sys, chainrule\n"
        "print(repr(chainrule.sparse_csr), 'chainrule.sparse' in sys.modules)\n"
        "s = chainrule.eye(3).to_sparse_csr()\n"
        "print(s._nnz(), 'chainrule.sparse' in sys.modules)")
    assert out == ["torch.sparse_csr", "False", "3", "True"]


def test_zero_in_place_empties_every_row_as_pytorch():
    dense = [[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]]
    ours, theirs = chainrule.tensor(dense).to_sparse_csr().zero_(), torch.tensor(dense).to_sparse_csr().zero_()
    assert ours.crow_indices().tolist() == theirs.crow_indices().tolist() == [0, 0, 0]
    assert ours.col_indices().tolist() == [] and ours.values().shape == (0,) and ours._nnz() == 0
    assert ours.to_dense().tolist() == theirs.to_dense().tolist()
