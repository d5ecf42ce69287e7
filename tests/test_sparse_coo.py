"""Sparse COO tensors and torch.sparse against PyTorch: construction, printing, conversions,
coalescing, reductions, products, and the gradients that reach the values and the dense
operand."""
import copy
import pickle

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks", "ignore:torch.sparse.SparseTensor")

INDICES = [[0, 1, 1, 2, 1], [2, 0, 2, 1, 0]]  # (1, 0) twice: uncoalesced
VALUES = [3.0, 4.0, 5.0, -6.0, 0.5]


def both(fn):
    """``fn(L)`` on chainrule and on PyTorch."""
    return fn(chainrule), fn(torch)


def text(tensor):
    return repr(tensor).replace("chainrule.", "torch.")


def assert_same_sparse(actual, expected, rtol=1e-9, atol=1e-9):
    assert actual.is_sparse and expected.is_sparse
    assert tuple(actual.shape) == tuple(expected.shape)
    assert actual.is_coalesced() == expected.is_coalesced()
    assert_close(actual._indices(), expected._indices(), what="indices")
    assert_close(actual._values().detach(), expected._values().detach(), rtol, atol, "values")


def sparse(L, dtype="float64", requires_grad=False, coalesce=False):
    s = L.sparse_coo_tensor(L.tensor(INDICES), L.tensor(VALUES, dtype=getattr(L, dtype)), (3, 3),
                            requires_grad=requires_grad)
    return s.coalesce() if coalesce else s


# -- layouts, construction, printing ---------------------------------------------------------


def test_layouts_print_and_compare_as_pytorch():
    assert repr(chainrule.strided) == repr(torch.strided) == "torch.strided"
    assert repr(chainrule.sparse_coo) == repr(torch.sparse_coo) == "torch.sparse_coo"
    assert isinstance(chainrule.sparse_coo, chainrule.layout)
    dense, s = chainrule.ones(2), sparse(chainrule)
    assert dense.layout is chainrule.strided and not dense.is_sparse
    assert s.layout is chainrule.sparse_coo and s.is_sparse
    assert isinstance(s, chainrule.Tensor)


@pytest.mark.parametrize("make", [
    lambda L: sparse(L),
    lambda L: sparse(L, "float32").coalesce(),
    lambda L: sparse(L, requires_grad=True),
    lambda L: L.sparse_coo_tensor([[0, 1], [1, 0]], [1, 2]),
    lambda L: L.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 2], dtype=L.float64),
    lambda L: L.sparse_coo_tensor(L.tensor(INDICES), L.ones(5, 2)),
    lambda L: L.sparse_coo_tensor(L.zeros(2, 0, dtype=L.long), L.zeros(0), (2, 2)),
    lambda L: L.tensor([[0.0, 1.5], [2.0, 0.0]]).to_sparse(),
    lambda L: L.tensor([[0.0, 1.5], [2.0, 0.0]]).to_sparse(1),
    lambda L: L.eye(3).to_sparse_coo(),
    lambda L: sparse(L).to_sparse_coo(),
    lambda L: L.sparse.FloatTensor(L.tensor([[0, 1], [1, 0]]), L.tensor([1.0, 2.0]), L.Size([2, 2])),
    lambda L: L.sparse.softmax(sparse(L, requires_grad=True), 1),
])
def test_repr_is_pytorch(make):
    mine, theirs = both(make)
    assert text(mine) == repr(theirs)


def test_metadata_and_accessors():
    mine, theirs = both(sparse)
    assert mine.shape == theirs.shape and mine.size() == theirs.size() and mine.size(-1) == theirs.size(-1)
    assert (mine.sparse_dim(), mine.dense_dim(), mine._nnz()) == (theirs.sparse_dim(), theirs.dense_dim(), theirs._nnz())
    assert str(mine.dtype).replace("chainrule", "torch") == str(theirs.dtype)
    assert str(mine.device) == str(theirs.device) and mine.dim() == theirs.dim() and mine.numel() == theirs.numel()
    assert mine.is_coalesced() is theirs.is_coalesced() is False
    assert_close(mine._indices(), theirs._indices())
    assert_close(mine._values(), theirs._values())
    for accessor in ("indices", "values"):
        with pytest.raises(RuntimeError) as error:
            getattr(mine, accessor)()
        with pytest.raises(RuntimeError) as expected:
            getattr(theirs, accessor)()
        assert str(error.value) == str(expected.value)
    mine, theirs = mine.coalesce(), theirs.coalesce()
    assert_close(mine.indices(), theirs.indices())
    assert_close(mine.values(), theirs.values())
    assert mine.type() == theirs.type() == "torch.sparse.DoubleTensor"


def test_size_is_inferred_with_dense_dimensions():
    mine, theirs = both(lambda L: L.sparse_coo_tensor(L.tensor(INDICES), L.ones(5, 2)))
    assert mine.shape == theirs.shape == (3, 3, 2)
    assert mine.dense_dim() == theirs.dense_dim() == 1
    assert_close(mine.to_dense(), theirs.to_dense())


@pytest.mark.parametrize("indices, values, size", [
    ([[0, 1], [0, 2]], [1.0, 2.0], (2, 2)),          # index past the size
    ([[0, -1], [0, 0]], [1.0, 2.0], (2, 3)),         # negative index
    ([[0, 1], [0, 1]], [1.0, 2.0, 3.0], (2, 2)),     # nnz of indices and values differ
    ([[0, 1], [0, 1]], [1.0, 2.0], (2,)),            # size has too few dimensions
    ([0, 1], [1.0, 2.0], (2, 2)),                    # indices not 2-D
])
def test_invariants_are_checked_with_pytorch_messages(indices, values, size):
    with pytest.raises(RuntimeError) as error:
        chainrule.sparse_coo_tensor(indices, values, size)
    with pytest.raises(RuntimeError) as expected:
        torch.sparse_coo_tensor(torch.tensor(indices), torch.tensor(values), size, check_invariants=True)
    assert str(error.value).split(",")[0] == str(expected.value).split(",")[0]


def test_requires_grad_of_integer_values_is_refused():
    with pytest.raises(RuntimeError, match="floating point"):
        chainrule.sparse_coo_tensor([[0], [0]], [1], (2, 2), requires_grad=True)


# -- conversions and coalescing ----------------------------------------------------------------


def test_coalesce_sorts_and_sums_repeats_with_the_gradient_to_the_values():
    def run(L):
        values = L.tensor(VALUES, dtype=L.float64, requires_grad=True)
        s = L.sparse_coo_tensor(L.tensor(INDICES), values, (3, 3)).coalesce()
        (s.values() * L.arange(1.0, s._nnz() + 1, dtype=L.float64)).sum().backward()
        return s, values.grad
    (mine, mine_grad), (theirs, theirs_grad) = both(run)
    assert_same_sparse(mine, theirs)
    assert_close(mine_grad, theirs_grad)
    assert text(mine.detach()) == repr(theirs.detach())


def test_coalesce_of_a_coalesced_tensor_is_itself():
    s = sparse(chainrule).coalesce()
    assert s.coalesce() is s


def test_to_dense_sums_repeats_and_gives_a_leaf_a_sparse_gradient():
    def run(L):
        s = sparse(L, requires_grad=True)
        dense = s.to_dense()
        (dense * L.arange(9.0, dtype=L.float64).reshape(3, 3)).sum().backward()
        return dense, s.grad
    (mine, mine_grad), (theirs, theirs_grad) = both(run)
    assert_close(mine, theirs)
    assert mine.grad_fn.name() == "ToDenseBackward0"
    assert_same_sparse(mine_grad, theirs_grad)


def test_sum_over_a_sparse_dimension_is_sparse():
    mine, theirs = both(lambda L: sparse(L).sum(1))
    assert_same_sparse(mine, theirs)


def test_to_sparse_keeps_the_nonzeros_and_passes_their_gradient_back():
    array = np.array([[0.0, 1.5, 0.0], [-2.0, 0.0, 3.0]])

    def run(L, sparse_dim):
        x = L.tensor(array, requires_grad=True)
        s = x.to_sparse() if sparse_dim is None else x.to_sparse(sparse_dim)
        (s.to_dense() * L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=L.float64)).sum().backward()
        return s, x.grad
    for sparse_dim in (None, 1):
        (mine, mine_grad), (theirs, theirs_grad) = both(lambda L: run(L, sparse_dim))
        assert_same_sparse(mine, theirs)
        assert_close(mine_grad, theirs_grad)


def test_a_dense_tensor_is_its_own_dense_form():
    x = chainrule.ones(2)
    assert x.to_dense() is x


def test_to_dtype_and_detach_and_clone():
    mine, theirs = both(lambda L: sparse(L, "float32", requires_grad=True))
    for convert in (lambda s: s.double(), lambda s: s.to(chainrule.float64 if isinstance(s, chainrule.Tensor)
                                                          else torch.float64), lambda s: s.detach()):
        assert text(convert(mine)).split("grad_fn")[0] == repr(convert(theirs)).split("grad_fn")[0]
    clone = mine.detach().clone()
    assert_same_sparse(clone, theirs.detach())
    assert clone._values() is not mine._values()


# -- elementwise, transpose, reductions -------------------------------------------------------


@pytest.mark.parametrize("op", [
    lambda L, s: s * 2.5,
    lambda L, s: 2.5 * s,
    lambda L, s: s / 4,
    lambda L, s: -s,
    lambda L, s: s.mul(L.tensor(3.0, dtype=L.float64)),
    lambda L, s: s.t(),
    lambda L, s: s.transpose(0, 1),
    lambda L, s: s.coalesce().t(),
    lambda L, s: L.t(s),
    lambda L, s: L.transpose(s, 1, 0),
    lambda L, s: L.sparse.sum(s, 0),
    lambda L, s: L.sparse.sum(s, dim=1),
    lambda L, s: L.sparse.softmax(s, 1),
    lambda L, s: L.sparse.softmax(s, 0),
    lambda L, s: L.sparse.log_softmax(s, 1),
])
def test_sparse_results_and_the_gradient_of_the_values(op):
    def run(L):
        values = L.tensor(VALUES, dtype=L.float64, requires_grad=True)
        out = op(L, L.sparse_coo_tensor(L.tensor(INDICES), values, (3, 3)))
        weights = L.arange(1.0, out.numel() + 1, dtype=L.float64).reshape(out.shape)
        (out.to_dense() * weights).sum().backward()
        return out, values.grad
    (mine, mine_grad), (theirs, theirs_grad) = both(run)
    assert_same_sparse(mine.coalesce(), theirs.coalesce(), rtol=1e-12, atol=1e-12)
    assert_close(mine_grad, theirs_grad, 1e-12, 1e-12)


@pytest.mark.parametrize("op", [
    lambda L, s: s + s,
    lambda L, s: s.coalesce() + s.coalesce(),
    lambda L, s: s.coalesce() + 2 * s.coalesce().t().coalesce(),
    lambda L, s: s - s.t(),
    lambda L, s: s.add(s.coalesce(), alpha=2.0),
])
def test_sums_of_sparse_tensors_have_pytorchs_values(op):
    def run(L):
        values = L.tensor(VALUES, dtype=L.float64, requires_grad=True)
        out = op(L, L.sparse_coo_tensor(L.tensor(INDICES), values, (3, 3)))
        (out.to_dense() * L.arange(9.0, dtype=L.float64).reshape(3, 3)).sum().backward()
        return out, values.grad
    (mine, mine_grad), (theirs, theirs_grad) = both(run)
    assert mine.is_sparse and mine.is_coalesced() == theirs.is_coalesced()
    assert_close(mine.to_dense(), theirs.to_dense())
    assert_close(mine_grad, theirs_grad)
    if theirs.is_coalesced() or mine._nnz() == theirs._nnz():  # the same entries, not only the same sums
        assert_same_sparse(mine, theirs)


def test_dense_plus_sparse_is_dense_and_sparse_plus_dense_is_refused():
    for L in (chainrule, torch):
        s, x = sparse(L), L.ones(3, 3, dtype=L.float64)
        with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
            s + x
    mine, theirs = both(lambda L: (L.ones(3, 3, dtype=L.float64) + sparse(L), L.ones(3, 3, dtype=L.float64) - sparse(L)))
    for a, e in zip(mine, theirs):
        assert not a.is_sparse
        assert_close(a, e)


@pytest.mark.parametrize("op", [
    lambda L, s: L.sparse.sum(s),
    lambda L, s: s.sum(),
    lambda L, s: L.sparse.sum(s, (0, 1)),
    lambda L, s: L.sparse.sum(L.sparse_coo_tensor(s.coalesce().indices(), s.coalesce().values()[:, None]
                                                  * L.ones(1, 2, dtype=L.float64), (3, 3, 2)), (0, 1)),
])
def test_full_sums_are_dense(op):
    def run(L):
        values = L.tensor(VALUES, dtype=L.float64, requires_grad=True)
        out = op(L, L.sparse_coo_tensor(L.tensor(INDICES), values, (3, 3)))
        (out * L.arange(1.0, out.numel() + 1, dtype=L.float64).reshape(out.shape)).sum().backward()
        return out, values.grad
    (mine, mine_grad), (theirs, theirs_grad) = both(run)
    assert not mine.is_sparse
    assert_close(mine, theirs)
    assert_close(mine_grad, theirs_grad)


# -- products ----------------------------------------------------------------------------------


PRODUCTS = {
    "sparse.mm": lambda L, s, x: L.sparse.mm(s, x),
    "spmm": lambda L, s, x: L.spmm(s, x),
    "mm": lambda L, s, x: L.mm(s, x),
    "matmul": lambda L, s, x: L.matmul(s, x),
    "@": lambda L, s, x: s @ x,
    "method mm": lambda L, s, x: s.mm(x),
    "dense @ sparse": lambda L, s, x: (x.t() @ s.t()).t(),
    "mm(dense, sparse)": lambda L, s, x: L.mm(x.t(), s.t()).t(),
    "mv": lambda L, s, x: L.stack([L.mv(s, x[:, 0]), s @ x[:, 1]], 1),
    "sparse.addmm": lambda L, s, x: L.sparse.addmm(L.ones(3, 2, dtype=x.dtype), s, x, beta=0.5, alpha=2.0),
    "addmm": lambda L, s, x: L.addmm(L.ones(3, 2, dtype=x.dtype), s, x),
}


@pytest.mark.parametrize("name", PRODUCTS)
def test_products_and_their_gradients_match_pytorch(name, rng):
    x_array = rng.standard_normal((3, 2))
    g_array = rng.standard_normal((3, 2))

    def run(L):
        values = L.tensor(VALUES, dtype=L.float64, requires_grad=True)
        x = L.tensor(x_array, requires_grad=True)
        out = PRODUCTS[name](L, L.sparse_coo_tensor(L.tensor(INDICES), values, (3, 3)), x)
        out.backward(L.tensor(g_array))
        return out, x.grad, values.grad
    mine, theirs = both(run)
    for a, e, what in zip(mine, theirs, ("product", "dense gradient", "values gradient")):
        assert_close(a, e, 1e-12, 1e-12, f"{name}: {what}")


def test_node_names_are_pytorchs():
    x = chainrule.ones(3, 2, dtype=chainrule.float64, requires_grad=True)
    s = sparse(chainrule)
    assert chainrule.sparse.mm(s, x).grad_fn.name() == "SparseAddmmBackward0"
    assert chainrule.spmm(s, x).grad_fn.name() == "MmBackward0"
    assert (s @ x).grad_fn.name() == "MmBackward0"


def test_sparse_mm_gives_a_sparse_leaf_a_gradient_with_its_sparsity(rng):
    x_array = rng.standard_normal((3, 4))

    def run(L):
        s = sparse(L, requires_grad=True)
        x = L.tensor(x_array, requires_grad=True)
        (L.sparse.mm(s, x) ** 2).sum().backward()
        return s, x.grad
    (mine, mine_x), (theirs, theirs_x) = both(run)
    assert mine.is_leaf and mine.grad_fn is None
    assert_same_sparse(mine.grad, theirs.grad, 1e-12, 1e-12)
    assert_close(mine_x, theirs_x, 1e-12, 1e-12)
    mine.grad = None
    assert mine.grad is None


@pytest.mark.parametrize("products", [("mm",), ("spmm", "@"), ("mm", "sparse.mm")])
def test_torch_mm_gives_a_sparse_leaf_a_dense_gradient(products, rng):
    x_array = rng.standard_normal((3, 2))

    def run(L):
        s = sparse(L, requires_grad=True)
        x = L.tensor(x_array)
        for product in products:
            (PRODUCTS[product](L, s, x) ** 2).sum().backward()
        return s.grad
    mine, theirs = both(run)
    assert not mine.is_sparse and not theirs.is_sparse
    assert_close(mine, theirs, 1e-12, 1e-12)


def test_float32_products_agree_to_rounding(rng):
    n, nnz = 60, 400
    indices = np.stack([rng.integers(0, n, nnz), rng.integers(0, n, nnz)])
    values, x_array = rng.standard_normal(nnz).astype(np.float32), rng.standard_normal((n, 8)).astype(np.float32)

    def run(L):
        x = L.tensor(x_array, requires_grad=True)
        out = L.sparse.mm(L.sparse_coo_tensor(L.tensor(indices), L.tensor(values), (n, n)), x)
        out.sum().backward()
        return out, x.grad
    (mine, mine_grad), (theirs, theirs_grad) = both(run)
    assert mine.dtype == chainrule.float32
    assert_close(mine, theirs, 1e-5, 1e-5)
    assert_close(mine_grad, theirs_grad, 1e-5, 1e-5)


def test_second_order_gradient_through_the_product(rng):
    x_array = rng.standard_normal((3, 2))

    def run(L):
        values = L.tensor(VALUES, dtype=L.float64, requires_grad=True)
        x = L.tensor(x_array, requires_grad=True)
        out = L.sparse.mm(L.sparse_coo_tensor(L.tensor(INDICES), values, (3, 3)), x)
        (grad_x,) = L.autograd.grad((out ** 3).sum(), x, create_graph=True)
        grad_x.sum().backward()
        return grad_x, x.grad, values.grad
    for a, e in zip(*both(run)):
        assert_close(a, e, 1e-12, 1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda L, s, x: L.sparse.mm(s, L.ones(2, 3, dtype=L.float64)), "Expected dim 0 size 3, got 2"),
    (lambda L, s, x: L.sparse.mm(s, L.ones(3, 2)), "expected scalar type Double but found Float"),
])
def test_product_errors_are_pytorchs(call, message):
    for L in (chainrule, torch):
        with pytest.raises(RuntimeError, match=message):
            call(L, sparse(L), None)


# -- what a sparse tensor does not do -----------------------------------------------------------


@pytest.mark.parametrize("call, op", [
    (lambda s: chainrule.exp(s), "exp"),
    (lambda s: s.exp(), "exp"),
    (lambda s: s.view(9), "view"),
    (lambda s: chainrule.nn.functional.relu(s), "relu"),
    (lambda s: s + 1, "add"),
    (lambda s: s * chainrule.ones(3, 3), "mul"),
    (lambda s: chainrule.cat([s, s]), "cat"),
    (lambda s: s.sum(0, keepdim=True), "sum"),
])
def test_unsupported_ops_raise_naming_the_op_and_layout(call, op):
    with pytest.raises(NotImplementedError) as error:
        call(sparse(chainrule))
    assert str(error.value).startswith(f"Could not run 'aten::{op}' with arguments from the 'SparseCPU' backend")
    assert "layout=torch.sparse_coo" in str(error.value)


def test_numpy_of_a_sparse_tensor_is_pytorchs_type_error():
    for s in both(sparse):
        with pytest.raises(TypeError, match="can't convert Sparse layout tensor to numpy"):
            s.numpy()


# -- copies, pickling, modules -----------------------------------------------------------------


def test_deepcopy_and_pickle_keep_the_entries():
    s = sparse(chainrule, requires_grad=True)
    for copied in (copy.deepcopy(s), pickle.loads(pickle.dumps(s))):
        assert_same_sparse(copied, s)
        assert copied.requires_grad and copied._values() is not s._values()


def test_a_sparse_buffer_follows_the_module():
    module = chainrule.nn.Linear(2, 2)
    module.register_buffer("adj", sparse(chainrule, "float32"))
    module.double()
    assert module.adj.is_sparse and module.adj.dtype == chainrule.float64
    state = module.state_dict()
    assert state["adj"].is_sparse
    other = chainrule.nn.Linear(2, 2).double()
    other.register_buffer("adj", chainrule.sparse_coo_tensor([[0], [0]], [1.0], (3, 3), dtype=chainrule.float64))
    other.load_state_dict(state)
    assert_same_sparse(other.adj, module.adj)
