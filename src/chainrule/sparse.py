"""Sparse COO tensors (``layout=torch.sparse_coo``) and ``torch.sparse``: what graph networks
written in PyTorch use, a normalized adjacency times node features (``torch.spmm(adj, x)``),
trained with autograd.

A :class:`SparseTensor` is its nonzero entries: an int64 ``indices`` array of shape
(sparse_dim, nnz) and a dense ``values`` tensor of shape (nnz, *dense_shape), at ``size``.
Everything differentiable flows through ``values``, an ordinary tensor: scaling, transposing,
coalescing and ``to_dense`` are ops on it, and a product's gradient with respect to the
sparse operand is the gradient of its values (the dense gradient read at the nonzero
positions, as PyTorch's ``torch.sparse.mm`` gives it; ``torch.mm`` gives a sparse leaf the
dense gradient, as PyTorch's does).  A dense op handed a sparse tensor refuses it with
PyTorch's NotImplementedError rather than compute a wrong result.

>>> adj = torch.sparse_coo_tensor([[0, 1, 1], [1, 0, 1]], [1.0, 2.0, 3.0], (2, 2))
>>> torch.spmm(adj, torch.ones(2, 3))
tensor([[1., 1., 1.],
        [5., 5., 5.]])

Sparse CSR matrices (``layout=torch.sparse_csr``, :class:`SparseCsrTensor`) are the same
entries addressed row by row (``crow_indices``, ``col_indices``); they share the COO tensor's
products, ``to_dense`` and gradients.
"""
from __future__ import annotations

import builtins
import math
import os
import sys
from typing import Any

import numpy as np

from . import dtypes as _dt
from . import functional as F
from ._repr import compressed_repr, sparse_repr
from .autograd.function import named
from .backend import CPU, resolve_device, to_numpy
from .composites import _scaled_sum
from .creation import tensor as _new_tensor
from .ops.shape import IndexAddInto
from .ops.sparse import Segments, SparseMatmul
from .registry import public
from .tensor import Size, Tensor, _dim, _make

__all__ = ["addmm", "log_softmax", "mm", "softmax", "sum", "DoubleTensor", "FloatTensor"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _called_name(frame: Any) -> str:
    """The name of the chainrule function a frame runs: a generated form's own name (the
    unary and bitwise forms are closures named ``form``; ``out=`` wraps a form in ``with_out``)."""
    name, local = frame.f_code.co_name, frame.f_locals
    if name == "with_out":
        return getattr(local.get("fn"), "__name__", name)
    if name == "form":
        op = local.get("op")
        return local.get("name") or (op.op_name.lower() if op is not None else name)
    return name


_SUPPORTED = {
    "SparseCPU": "chainrule's sparse COO tensors (layout=torch.sparse_coo) support to_dense, coalesce, transpose, "
                 "addition, scalar multiplication, torch.sparse.sum/softmax and products with a dense matrix "
                 "(torch.sparse.mm, torch.spmm, torch.mm, @); convert with .to_dense() first",
    "SparseCsrCPU": "chainrule's sparse CSR tensors (layout=torch.sparse_csr) support crow_indices, col_indices, "
                    "values, to_dense, to_sparse_coo, scalar multiplication, sum() and products with a dense matrix "
                    "(torch.sparse.mm, torch.mm, @); convert with .to_dense() or .to_sparse_coo() first",
}


def _unsupported(backend: str = "SparseCPU") -> NotImplementedError:
    """PyTorch's error for an op without a sparse kernel, naming the op: the outermost
    chainrule function on the stack, the one the user called (``exp`` of ``torch.exp(s)``)."""
    frame, name = sys._getframe(1), "operation"
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        name = _called_name(frame)
        frame = frame.f_back
    return NotImplementedError(
        f"Could not run 'aten::{name.strip('_')}' with arguments from the '{backend}' backend: {_SUPPORTED[backend]}")


class SparseTensor(Tensor):
    """A sparse COO tensor: ``values`` (a tensor of shape (nnz, *dense_shape)) at ``indices``
    (an int64 array of shape (sparse_dim, nnz)) in a tensor of ``size``; repeated positions add
    up until :meth:`coalesce`.  Made by :func:`sparse_coo_tensor` and ``Tensor.to_sparse()``."""

    layout = _dt.sparse_coo
    is_sparse = True

    # The dense storage every dense op reads: a sparse tensor has none, and says so.
    @property
    def _data(self) -> Any:
        raise _unsupported()

    @property
    def _rg(self) -> bool:
        return self._coo_values._rg

    @property
    def grad_fn(self) -> Any:
        return self._coo_values.grad_fn

    # -- metadata ---------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._coo_size)

    def size(self, dim: int | None = None) -> Any:
        return Size(self._coo_size) if dim is None else self._coo_size[_dim(dim, len(self._coo_size))]

    @property
    def dtype(self) -> _dt.dtype:
        return self._coo_values.dtype

    @property
    def device(self) -> Any:
        return CPU

    @property
    def ndim(self) -> int:
        return len(self._coo_size)

    def dim(self) -> int:
        return len(self._coo_size)

    ndimension = dim

    def numel(self) -> int:
        return math.prod(self._coo_size)

    nelement = numel

    def element_size(self) -> int:
        return self._coo_values.element_size()

    def __len__(self) -> int:
        return self._coo_size[0]

    def is_floating_point(self) -> bool:
        return self._coo_values.is_floating_point()

    def is_complex(self) -> bool:
        return self._coo_values.is_complex()

    def is_contiguous(self, memory_format: Any = None) -> bool:
        return False

    def sparse_dim(self) -> int:
        """The number of leading dimensions stored by coordinates."""
        return self._coo_indices.shape[0]

    def dense_dim(self) -> int:
        """The number of trailing dimensions stored densely in each value."""
        return len(self._coo_size) - self._coo_indices.shape[0]

    def _nnz(self) -> int:
        return self._coo_indices.shape[1]

    def is_coalesced(self) -> bool:
        """Whether the indices are sorted and without repeats."""
        return self._coo_coalesced

    def _indices(self) -> Tensor:
        return _make(self._coo_indices)

    def _values(self) -> Tensor:
        return self._coo_values

    def indices(self) -> Tensor:
        """The coordinates of the entries, (sparse_dim, nnz); the tensor must be coalesced."""
        if not self._coo_coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
        return _make(self._coo_indices)

    def values(self) -> Tensor:
        """The entries' values, (nnz, *dense_shape); the tensor must be coalesced."""
        if not self._coo_coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() first")
        return self._coo_values

    # -- autograd: through the values -------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._coo_values._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self._coo_values.requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> "SparseTensor":
        self._coo_values.requires_grad_(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        return self._coo_values.grad_fn is None

    @property
    def grad(self) -> Any:
        """A leaf's gradient: sparse from ``torch.sparse.mm`` and ``to_dense`` (the dense
        gradient at each of the leaf's positions once), dense from ``torch.mm`` (and then the
        sum of both), as PyTorch's."""
        grad, dense = self._coo_values.grad, self.__dict__.get("_coo_dense_leaf")
        dense = None if dense is None else dense.grad
        if grad is None:
            return dense
        if self._coo_coalesced:  # (PyTorch does not flag its gradient coalesced)
            sparse = _coo(self._coo_indices, grad, self._coo_size, False)
        else:  # repeats of a position share its gradient: the sorted positions, each's first repeat
            first = np.unique(_flat_positions(self), return_index=True)[1]
            sparse = _coo(self._coo_indices[:, first], grad[first], self._coo_size, False)
        return sparse if dense is None else dense + sparse.to_dense()

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is not None:
            raise RuntimeError("chainrule: a sparse tensor's grad can only be reset to None")
        self._coo_values.grad = None
        self.__dict__.pop("_coo_dense_leaf", None)

    def detach(self) -> "SparseTensor":
        return self._with_values(self._coo_values.detach())

    @property
    def data(self) -> "SparseTensor":
        return self.detach()

    def clone(self, *, memory_format: Any = None) -> "SparseTensor":
        return _coo(self._coo_indices.copy(), self._coo_values.clone(), self._coo_size, self._coo_coalesced)

    def __deepcopy__(self, memo: dict) -> "SparseTensor":
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.")
        copied = _coo(self._coo_indices.copy(), self._coo_values.__deepcopy__({}), self._coo_size, self._coo_coalesced)
        memo[id(self)] = copied
        return copied

    def __reduce_ex__(self, protocol: int) -> Any:
        return (_rebuild, (self._coo_indices, to_numpy(self._coo_values._data), self._coo_size, self._coo_coalesced,
                           self.requires_grad))

    def copy_(self, src: Any, non_blocking: bool = False) -> "SparseTensor":
        """Take ``src``'s entries (a sparse tensor of the same size), as PyTorch's sparse copy_."""
        if not isinstance(src, SparseTensor):
            raise _unsupported()
        if src.shape != self.shape:
            raise RuntimeError(f"copy_: expected a sparse tensor of size {list(self.shape)}, got {list(src.shape)}")
        self._coo_indices = src._coo_indices.copy()
        values = _make(to_numpy(src._coo_values._data).astype(to_numpy(self._coo_values._data).dtype))
        self._coo_values = values.requires_grad_(self._coo_values.requires_grad)
        self._coo_coalesced = src._coo_coalesced
        self.__dict__.pop("_coo_segments", None)
        return self

    def zero_(self) -> "SparseTensor":
        """No entries left (nnz 0, coalesced), as PyTorch's sparse ``zero_``."""
        self._coo_indices = self._coo_indices[:, :0].copy()
        values = self._coo_values
        self._coo_values = _make(to_numpy(values._data)[:0].copy()).requires_grad_(values.requires_grad)
        self._coo_coalesced = True
        self.__dict__.pop("_coo_segments", None)
        return self

    # -- conversions ------------------------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() first.")

    def to_dense(self, dtype: Any = None, *, masked_grad: bool | None = None) -> Tensor:
        """The dense tensor (repeated positions summed); its gradient flows to the values."""
        values = self._coo_values if dtype is None else self._coo_values.to(dtype)
        sparse_shape = self._coo_size[:self.sparse_dim()]
        flat = _flat_positions(self)
        dense = IndexAddInto.apply(values, (math.prod(sparse_shape),) + values.shape[1:], (flat,))
        return named(dense.reshape(self._coo_size), "ToDenseBackward0")

    def to_sparse(self, sparse_dim: int | None = None, **_: Any) -> "SparseTensor":
        if sparse_dim is not None and sparse_dim != self.sparse_dim():
            raise RuntimeError("chainrule: to_sparse() of a sparse tensor keeps its sparse_dim; convert with "
                               ".to_dense() first")
        return self

    to_sparse_coo = to_sparse

    def coalesce(self) -> "SparseTensor":
        """The same tensor with its indices sorted and repeated positions summed."""
        if self._coo_coalesced:
            return self
        sparse_shape = self._coo_size[:self.sparse_dim()]
        flat = _flat_positions(self)
        unique, inverse = np.unique(flat, return_inverse=True)
        indices = np.stack(np.unravel_index(unique, sparse_shape)).astype(np.int64).reshape(len(sparse_shape), -1)
        values = self._coo_values
        if unique.size != flat.size or np.any(flat[1:] < flat[:-1]):
            values = IndexAddInto.apply(values, (unique.size,) + values.shape[1:], (inverse.reshape(-1),))
        return _coo(indices, _derived(values, self._coo_values, "CoalesceBackward0"), self._coo_size, True)

    def to(self, *args: Any, **kwargs: Any) -> "SparseTensor":
        values = self._coo_values.to(*args, **kwargs)
        if values.device != CPU:
            raise NotImplementedError("chainrule: sparse tensors live on the CPU only")
        return self if values is self._coo_values else self._with_values(values)

    def cpu(self, *args: Any, **kwargs: Any) -> "SparseTensor":
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> "SparseTensor":
        raise NotImplementedError("chainrule: sparse tensors live on the CPU only")

    def type(self, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
        if dtype is None:
            return "torch.sparse." + self._coo_values.type().rpartition(".")[2]
        raise NotImplementedError("chainrule: type(dtype) of a sparse tensor; use .to(dtype)")

    def double(self) -> "SparseTensor":
        return self.to(_dt.float64)

    def float(self) -> "SparseTensor":
        return self.to(_dt.float32)

    def half(self) -> "SparseTensor":
        return self.to(_dt.float16)

    def long(self) -> "SparseTensor":
        return self.to(_dt.int64)

    # -- ops --------------------------------------------------------------------------------
    def _with_values(self, values: Tensor) -> "SparseTensor":
        return _coo(self._coo_indices, values, self._coo_size, self._coo_coalesced)

    def mul(self, other: Any) -> "SparseTensor":
        """The tensor times a number (or a one-element tensor)."""
        if isinstance(other, SparseTensor) or (isinstance(other, Tensor) and other.dim() != 0):
            raise _unsupported()
        return self._with_values(self._coo_values * other)

    __mul__ = __rmul__ = mul

    def div(self, other: Any) -> "SparseTensor":
        if isinstance(other, SparseTensor) or (isinstance(other, Tensor) and other.dim() != 0):
            raise _unsupported()
        return self._with_values(self._coo_values / other)

    __truediv__ = div

    def add(self, other: Any, *, alpha: Any = 1) -> "SparseTensor":
        """The sum with another sparse tensor of the same size (``alpha`` times it): sparse,
        coalesced when both are, and with the shared positions added when both have the same
        indices; a dense ``other`` is PyTorch's error (``dense + sparse`` is dense)."""
        if not isinstance(other, SparseTensor):
            if isinstance(other, Tensor):
                raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
            raise _unsupported()
        if other.shape != self.shape:
            raise RuntimeError(f"add: expected 'self' and 'other' to have same size, but self has size "
                               f"{list(self.shape)} while other has size {list(other.shape)}")
        theirs = other._coo_values if alpha == 1 else other._coo_values * alpha
        if np.array_equal(self._coo_indices, other._coo_indices):
            return self._with_values(self._coo_values + theirs)
        total = _coo(np.concatenate([self._coo_indices, other._coo_indices], axis=1),
                     F.cat([self._coo_values, theirs]), self._coo_size, False)
        return total.coalesce() if self._coo_coalesced and other._coo_coalesced else total

    __add__ = add

    def __radd__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor):  # dense + sparse: dense
            return other + self.to_dense()
        raise _unsupported()

    def sub(self, other: Any, *, alpha: Any = 1) -> "SparseTensor":
        return self.add(other, alpha=-alpha)

    __sub__ = sub

    def __rsub__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor):  # dense - sparse: dense
            return other - self.to_dense()
        raise _unsupported()

    def neg(self) -> "SparseTensor":
        return self._with_values(-self._coo_values)

    __neg__ = neg

    def transpose(self, dim0: int, dim1: int) -> "SparseTensor":
        """The tensor with two sparse dimensions swapped (its values shared)."""
        ndim = len(self._coo_size)
        a, b = _dim(dim0, ndim), _dim(dim1, ndim)
        if builtins.max(a, b) >= self.sparse_dim():
            raise _unsupported()
        order = list(range(ndim))
        order[a], order[b] = order[b], order[a]
        indices = self._coo_indices[order[:self.sparse_dim()]]
        size = tuple(self._coo_size[i] for i in order)
        values = _derived(self._coo_values, self._coo_values, "TransposeBackward0")
        return _coo(indices, values, size, self._coo_coalesced and a == b)

    def t(self) -> "SparseTensor":
        if len(self._coo_size) > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {len(self._coo_size)}D")
        return self.transpose(0, 1) if len(self._coo_size) == 2 else self

    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        if keepdim:
            raise _unsupported()
        return sum(self, dim, dtype=dtype)

    def mm(self, mat2: Tensor) -> Tensor:
        return _product(self, mat2, "MmBackward0")

    def matmul(self, other: Tensor) -> Tensor:
        if isinstance(other, Tensor) and not other.is_sparse and other.dim() == 1:
            return named(_product(self, other.unsqueeze(1), "MvBackward0").squeeze(1), "MvBackward0")
        return _product(self, other, "MmBackward0")

    __matmul__ = matmul

    def __rmatmul__(self, other: Any) -> Tensor:
        if not isinstance(other, Tensor) or other.dim() != 2:
            raise _unsupported()
        return _product(self.t(), other.t(), "MmBackward0").t()

    def __repr__(self) -> str:
        grad_fn = self._coo_values.grad_fn
        suffix = (f"grad_fn=<{grad_fn.name()}>" if grad_fn is not None
                  else "requires_grad=True" if self.requires_grad else None)
        return sparse_repr(self._coo_indices, to_numpy(self._coo_values._data), self._coo_size, suffix)

    __str__ = __repr__


def _coo(indices: np.ndarray, values: Tensor, size: tuple, coalesced: bool, kind: type = SparseTensor) -> Any:
    """The one constructor: no checks, no copies (``kind``: SparseTensor or SparseCsrTensor)."""
    tensor = object.__new__(kind)
    tensor._grad = None
    tensor._vc = None
    tensor._coo_indices = indices
    tensor._coo_values = values
    tensor._coo_size = tuple(size)
    tensor._coo_coalesced = coalesced
    return tensor


def from_rows(rows: Any) -> SparseTensor:
    """The sparse COO tensor of a :class:`~chainrule.autograd.sparse_rows.SparseRows`
    gradient (an embedding's with ``sparse=True``): one sparse dim, uncoalesced, as PyTorch's."""
    return _coo(to_numpy(rows.rows).reshape(1, -1), _make(rows.values), rows.shape, False)


def _derived(values: Tensor, source: Tensor, name: str) -> Tensor:
    """The values of a sparse tensor computed from another (``source`` its values), recorded
    as PyTorch's node ``name``: never the source's leaf itself, so that the result is no leaf."""
    if values is source and source.requires_grad:
        values = values.view(values.shape)
    return named(values, name)


def _flat_positions(sparse: SparseTensor) -> np.ndarray:
    """Each entry's position in the flattened sparse dimensions (C order)."""
    indices = sparse._coo_indices
    if not indices.shape[1]:
        return np.zeros(0, np.int64)
    return np.ravel_multi_index(tuple(indices), sparse._coo_size[:indices.shape[0]])


def _rebuild(indices: np.ndarray, values: np.ndarray, size: tuple, coalesced: bool, requires_grad: bool) -> SparseTensor:
    return _coo(indices, _make(values), size, coalesced).requires_grad_(requires_grad)


def _index_array(indices: Any) -> np.ndarray:
    array = to_numpy(indices._data) if isinstance(indices, Tensor) else np.asarray(indices)
    if array.dtype.kind not in "iu":
        if array.size:
            raise RuntimeError(f"indices must be an int64 tensor (got {_dt.from_numpy(array.dtype)})")
        array = array.astype(np.int64)
    return array.astype(np.int64)


def _check_indices(indices: np.ndarray, values: Tensor, size: tuple) -> None:
    """PyTorch's invariants of a COO tensor (checked always: an index out of range would
    otherwise give a wrong result, not an error)."""
    sparse_dim, nnz = indices.shape
    if nnz != values.shape[0]:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: {nnz}, "
                           f"nnz from values: {values.shape[0]}")
    dense_dim = values.dim() - 1
    if len(size) != sparse_dim + dense_dim:
        raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = {len(size)}, "
                           f"sparse_dim = {sparse_dim}, dense_dim = {dense_dim}")
    if tuple(values.shape[1:]) != tuple(size[sparse_dim:]):
        raise RuntimeError(f"values has incorrect size, expected {list(size[:1]) + list(size[sparse_dim:])}, "
                           f"got {list(values.shape)}")
    if nnz:
        for d in range(sparse_dim):
            low, high = int(indices[d].min()), int(indices[d].max())
            if low < 0:
                raise RuntimeError(f"found negative index {low} for dim {d}")
            if high >= size[d]:
                raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is {size[d]} but found "
                                   f"index {high}")


def sparse_coo_tensor(indices: Any, values: Any, size: Any = None, *, dtype: Any = None, device: Any = None,
                      requires_grad: bool = False, check_invariants: bool | None = None,
                      is_coalesced: bool | None = None) -> SparseTensor:
    """A sparse COO tensor with ``values[k]`` at the coordinates ``indices[:, k]``.

    ``size`` defaults to the smallest that holds the indices (and the values' trailing
    dimensions).  Values that require grad stay in the graph (the gradient reaches them);
    ``requires_grad=True`` makes the result a leaf whose ``.grad`` is sparse."""
    if device is not None and resolve_device(device) != CPU:
        raise NotImplementedError("chainrule: sparse tensors live on the CPU only")
    index = _index_array(indices)
    if index.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(index.shape)}")
    if isinstance(values, Tensor):
        values = values if dtype is None else values.to(dtype)
    else:
        values = _new_tensor(values, dtype=dtype)
    if values.dim() == 0:
        raise RuntimeError("values must have at least one dimension (nnz)")
    if size is None:
        counts = index.max(axis=1) + 1 if index.shape[1] else np.zeros(index.shape[0], np.int64)
        size = tuple(int(n) for n in counts) + tuple(values.shape[1:])
    size = tuple(int(n) for n in size)
    _check_indices(index, values, size)
    if requires_grad:
        values = values.detach().requires_grad_(True)
    elif values.requires_grad:  # not a leaf: the gradient goes on to the values given
        values = named(values.view(values.shape), "SparseCooTensorWithDimsAndTensorsBackward0")
    return _coo(index, values, size, bool(is_coalesced))


@public(aliases=("to_sparse_coo",), method=False)  # (Tensor.to_sparse, in tensor_methods, loads this module)
def to_sparse(input: Tensor, sparse_dim: int | None = None, *, layout: Any = None, blocksize: Any = None,
              dense_dim: Any = None) -> SparseTensor:
    """The sparse COO tensor of this tensor's nonzero entries (the first ``sparse_dim``
    dimensions by coordinates, the rest dense in each value); its values' gradient flows back
    to this tensor."""
    if layout is _dt.sparse_csr and blocksize is None:
        return to_sparse_csr(input, dense_dim)
    if layout not in (None, _dt.sparse_coo) or blocksize is not None:
        raise NotImplementedError(f"chainrule: to_sparse(layout={layout}): only torch.sparse_coo and torch.sparse_csr "
                                  f"are supported")
    ndim = input.dim()
    sparse_dim = ndim if sparse_dim is None else sparse_dim
    if not 0 < sparse_dim <= ndim:
        raise RuntimeError(f"sparse_dim must be in (0, {ndim}], got {sparse_dim}")
    array = to_numpy(input._data)
    mask = array != 0
    if sparse_dim < ndim:
        mask = mask.reshape(array.shape[:sparse_dim] + (-1,)).any(axis=-1)
    where = np.nonzero(mask)
    indices = np.stack(where).astype(np.int64).reshape(sparse_dim, -1)
    return _coo(indices, named(input[where], "ToSparseBackward0"), tuple(input.shape), True)


@public(method=False)
def to_dense(input: Tensor, dtype: Any = None, *, masked_grad: bool | None = None) -> Tensor:
    """A dense tensor is its own dense form."""
    return input if dtype is None else input.to(dtype)


# -- compressed sparse rows ---------------------------------------------------------------


class SparseCsrTensor(SparseTensor):
    """A sparse CSR matrix (``layout=torch.sparse_csr``): row ``i``'s entries are
    ``values[crow[i]:crow[i + 1]]``, in the columns ``col_indices[crow[i]:crow[i + 1]]`` (sorted,
    distinct).  It also keeps each entry's (row, column), so that ``to_dense``, the products
    with a dense matrix and the gradients are the COO tensor's; what would give another layout
    (transposes: CSC) refuses.  Made by :func:`sparse_csr_tensor` and ``Tensor.to_sparse_csr()``."""

    layout = _dt.sparse_csr
    is_sparse = False
    is_sparse_csr = True

    @property
    def _data(self) -> Any:
        raise _unsupported("SparseCsrCPU")

    def zero_(self) -> "SparseCsrTensor":
        """No entries left (every row empty, nnz 0), as PyTorch's CSR ``zero_``."""
        super().zero_()
        self._csr_crow = np.zeros_like(self._csr_crow)
        self._csr_col = self._csr_col[:0].copy()
        return self

    def crow_indices(self) -> Tensor:
        """Where each row's entries start in ``col_indices`` and ``values`` (then nnz)."""
        return _make(self._csr_crow)

    def col_indices(self) -> Tensor:
        """Each entry's column, row after row."""
        return _make(self._csr_col)

    def values(self) -> Tensor:
        """The entries' values, row after row (the gradient flows back to them)."""
        return _derived(self._coo_values, self._coo_values, "ValuesBackward0")

    def indices(self) -> Tensor:
        raise RuntimeError("indices expected sparse coordinate tensor layout but got SparseCsr")

    def _indices(self) -> Tensor:
        raise _unsupported("SparseCsrCPU")

    def coalesce(self) -> "SparseTensor":
        raise RuntimeError("coalesce expected sparse coordinate tensor layout but got SparseCsr")

    def is_coalesced(self) -> bool:
        raise RuntimeError("is_coalesced expected sparse coordinate tensor layout but got SparseCsr")

    def _csr_grad(self) -> Any:
        """A leaf's gradient: CSR with the leaf's sparsity from ``torch.sparse.mm`` and
        ``to_dense``, dense from ``torch.mm`` and ``@`` (and then the sum of both), as PyTorch's."""
        grad, dense = self._coo_values.grad, self.__dict__.get("_coo_dense_leaf")
        dense = None if dense is None else dense.grad
        if grad is None:
            return dense
        sparse = self._with_values(grad)
        return sparse if dense is None else dense + sparse.to_dense()

    grad = property(_csr_grad, SparseTensor.grad.fset)

    def _with_values(self, values: Tensor) -> "SparseCsrTensor":
        return _csr(self._csr_crow, self._csr_col, self._coo_indices, values, self._coo_size)

    def clone(self, *, memory_format: Any = None) -> "SparseCsrTensor":
        return _csr(self._csr_crow.copy(), self._csr_col.copy(), self._coo_indices.copy(), self._coo_values.clone(),
                    self._coo_size)

    def __deepcopy__(self, memo: dict) -> "SparseCsrTensor":
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.")
        copied = _csr(self._csr_crow.copy(), self._csr_col.copy(), self._coo_indices.copy(),
                      self._coo_values.__deepcopy__({}), self._coo_size)
        memo[id(self)] = copied
        return copied

    def __reduce_ex__(self, protocol: int) -> Any:
        return (_rebuild_csr, (self._csr_crow, self._csr_col, to_numpy(self._coo_values._data), self._coo_size,
                               self.requires_grad))

    def copy_(self, src: Any, non_blocking: bool = False) -> "SparseCsrTensor":
        raise _unsupported("SparseCsrCPU")

    def type(self, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
        raise RuntimeError("Unimplemented backend SparseCsrCPU")

    def to_dense(self, dtype: Any = None, *, masked_grad: bool | None = None) -> Tensor:
        if dtype is not None:
            raise RuntimeError("dtype argument is not supported by sparse_csr_to_dense")
        return super().to_dense()

    def to_sparse(self, sparse_dim: int | None = None, *, layout: Any = None, **_: Any) -> SparseTensor:
        """The COO tensor of the same entries (coalesced); ``layout=torch.sparse_csr``: this one."""
        if layout is _dt.sparse_csr:
            return self
        if sparse_dim not in (None, 2):
            raise RuntimeError(f"sparse_dim must be 2 for a sparse CSR matrix, got {sparse_dim}")
        return _coo(self._coo_indices, _derived(self._coo_values, self._coo_values, "ToSparseBackward1"),
                    self._coo_size, True)

    def to_sparse_coo(self) -> SparseTensor:
        return self.to_sparse()

    def to_sparse_csr(self, dense_dim: int | None = None) -> "SparseCsrTensor":
        return self

    def add(self, other: Any, *, alpha: Any = 1) -> "SparseCsrTensor":
        """The sum with a CSR tensor of the same sparsity (``alpha`` times it); a dense
        ``other`` is PyTorch's error (``dense + sparse`` is dense)."""
        if not isinstance(other, SparseCsrTensor) or not (
                np.array_equal(self._csr_crow, other._csr_crow) and np.array_equal(self._csr_col, other._csr_col)):
            if isinstance(other, Tensor) and not isinstance(other, SparseTensor):
                raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
            raise _unsupported("SparseCsrCPU")
        return self._with_values(self._coo_values + (other._coo_values if alpha == 1 else other._coo_values * alpha))

    __add__ = add

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        raise NotImplementedError("chainrule: the transpose of a sparse CSR matrix is a CSC one, which chainrule does "
                                  "not have; transpose its .to_sparse_coo() or .to_dense()")

    def t(self) -> Tensor:
        return self.transpose(0, 1)

    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        if dim is not None or keepdim:
            raise _unsupported("SparseCsrCPU")
        return (self._coo_values if dtype is None else self._coo_values.to(dtype)).sum()

    def __rmatmul__(self, other: Any) -> Tensor:
        raise _unsupported("SparseCsrCPU")

    def __repr__(self) -> str:
        grad_fn = self._coo_values.grad_fn
        suffix = (f"grad_fn=<{grad_fn.name()}>" if grad_fn is not None
                  else "requires_grad=True" if self.requires_grad else None)
        return compressed_repr(self._csr_crow, self._csr_col, to_numpy(self._coo_values._data), self._coo_size, suffix)

    __str__ = __repr__


def _csr(crow: np.ndarray, col: np.ndarray, indices: np.ndarray, values: Tensor, size: tuple) -> SparseCsrTensor:
    """The CSR constructor: no checks, no copies (``indices``: each entry's (row, column), int64)."""
    tensor = _coo(indices, values, size, True, SparseCsrTensor)
    tensor._csr_crow, tensor._csr_col = crow, col
    return tensor


def _entry_rows(crow: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(crow.shape[0] - 1, dtype=np.int64), np.diff(crow))


def _rebuild_csr(crow: np.ndarray, col: np.ndarray, values: np.ndarray, size: tuple,
                 requires_grad: bool) -> SparseCsrTensor:
    indices = np.stack([_entry_rows(crow), col.astype(np.int64)])
    return _csr(crow, col, indices, _make(values), size).requires_grad_(requires_grad)


def _compressed_index(indices: Any) -> np.ndarray:
    """An index argument as an array of its integer dtype (a list: int64)."""
    array = to_numpy(indices._data) if isinstance(indices, Tensor) else np.asarray(indices)
    return array.astype(np.int64) if array.dtype.kind == "f" and not array.size else array


def _check_csr(crow: np.ndarray, col: np.ndarray, values: Tensor, size: tuple) -> None:
    """PyTorch's invariants of a CSR matrix, with its messages (checked always, as the COO
    tensor's: a broken one would give wrong results, not an error)."""
    if crow.dtype != col.dtype:
        raise RuntimeError(f"crow_indices and col_indices must have the same dtype, bot got "
                           f"{_dt.from_numpy(crow.dtype).scalar_name} and {_dt.from_numpy(col.dtype).scalar_name}, "
                           f"respectively")
    if crow.dtype not in (np.int32, np.int64):
        raise RuntimeError(f"crow_indices and col_indices must be an int32 or int64 type, but got: "
                           f"{_dt.from_numpy(crow.dtype).scalar_name}")
    if crow.ndim != 1 or col.ndim != 1 or values.dim() != 1:
        raise NotImplementedError("chainrule: sparse CSR tensors with batch or dense dimensions are not supported "
                                  "(crow_indices, col_indices and values must be 1-D)")
    if len(size) != 2:
        raise RuntimeError(f"tensor dimensionality must be sum of batch, base, and dense dimensionalities "
                           f"(=0 + 2 + 0) but got {len(size)}")
    nrows, ncols = size
    nnz = values.shape[0]
    if crow.shape[0] != nrows + 1:
        raise RuntimeError(f"crow_indices.shape[-1] must be equal to the number of rows + 1 (={nrows + 1}), "
                           f"but got {crow.shape[0]}")
    if col.shape[0] != nnz:
        raise RuntimeError(f"col_indices.shape[-1] must be equal to nnz (={nnz}) as defined by values.shape[0], "
                           f"but got {col.shape[0]}")
    if crow[0] != 0:
        raise RuntimeError("`crow_indices[..., 0] == 0` is not satisfied.")
    if crow[-1] != nnz:
        raise RuntimeError("`crow_indices[..., -1] == nnz` is not satisfied.")
    counts = np.diff(crow)
    if np.any(counts < 0) or np.any(counts > ncols):
        raise RuntimeError("`0 <= crow_indices[..., 1:] - crow_indices[..., :-1] <= ncols` is not satisfied.")
    if nnz and (col.min() < 0 or col.max() >= ncols):
        raise RuntimeError("`0 <= col_indices < ncols` is not satisfied.")
    same_row = np.diff(_entry_rows(crow)) == 0
    if np.any(np.diff(col)[same_row] <= 0):
        raise RuntimeError("`col_indices[..., crow_indices[..., i - 1]:crow_indices[..., i]] for all i = 1, ..., "
                           "nrows are sorted and distinct along the last dimension values` is not satisfied.")


def sparse_csr_tensor(crow_indices: Any, col_indices: Any, values: Any, size: Any = None, *, dtype: Any = None,
                      device: Any = None, pin_memory: bool = False, requires_grad: bool = False,
                      check_invariants: bool | None = None) -> SparseCsrTensor:
    """A sparse CSR matrix: row ``i`` holds ``values[crow_indices[i]:crow_indices[i + 1]]`` in the
    columns ``col_indices[crow_indices[i]:crow_indices[i + 1]]``.

    ``size`` defaults to (rows of ``crow_indices``, one past the largest column).  Values that
    require grad stay in the graph; ``requires_grad=True`` makes the result a leaf."""
    if device is not None and resolve_device(device) != CPU:
        raise NotImplementedError("chainrule: sparse tensors live on the CPU only")
    crow, col = _compressed_index(crow_indices), _compressed_index(col_indices)
    if isinstance(values, Tensor):
        values = values if dtype is None else values.to(dtype)
    else:
        values = _new_tensor(values, dtype=dtype)
    if size is None:
        size = (crow.shape[-1] - 1, int(col.max()) + 1 if col.size else 0)
    size = tuple(int(n) for n in size)
    _check_csr(crow, col, values, size)
    if requires_grad:
        values = values.detach().requires_grad_(True)
    elif values.requires_grad:  # not a leaf: the gradient goes on to the values given
        values = named(values.view(values.shape), "SparseCompressedTensorBackward0")
    return _csr(crow, col, np.stack([_entry_rows(crow), col.astype(np.int64)]), values, size)


@public(method=False)  # (Tensor.to_sparse_csr, in tensor_methods, loads this module)
def to_sparse_csr(input: Tensor, dense_dim: int | None = None) -> SparseCsrTensor:
    """The sparse CSR matrix of this matrix's nonzero entries (of a COO matrix's entries); its
    values' gradient flows back to this tensor."""
    if dense_dim:
        raise NotImplementedError("chainrule: sparse CSR tensors with dense dimensions are not supported")
    if input.layout is _dt.sparse_csr:
        return input
    if input.dim() != 2:
        raise NotImplementedError(f"chainrule: to_sparse_csr converts matrices (2-D tensors), got a {input.dim()}-D "
                                  f"tensor (batched CSR tensors are not supported)")
    if input.is_sparse:
        if input.dense_dim():
            raise NotImplementedError("chainrule: sparse CSR tensors with dense dimensions are not supported")
        coo = input.coalesce()
        rows, cols = coo._coo_indices
        values = _derived(coo._coo_values, coo._coo_values, "ToSparseCsrBackward0")
    else:
        rows, cols = np.nonzero(to_numpy(input._data))
        values = named(input[rows, cols], "ToSparseCsrBackward0")
    nrows = input.shape[0]
    crow = np.concatenate([np.zeros(1, np.int64), np.cumsum(np.bincount(rows, minlength=nrows))]).astype(np.int64)
    indices = np.stack([rows, cols]).astype(np.int64).reshape(2, -1)
    return _csr(crow, indices[1].copy(), indices, values, tuple(input.shape))


# -- products -----------------------------------------------------------------------------


def _segments(sparse: SparseTensor, dim: int) -> Segments:
    """The plan for summing a 2-D sparse tensor's products by its rows (``dim`` 0) or columns
    (1), made once per tensor (a graph's adjacency is multiplied at every layer and step)."""
    plans = sparse.__dict__.setdefault("_coo_segments", {})
    if dim not in plans:
        plans[dim] = Segments(sparse._coo_indices[dim], sparse._coo_indices[1 - dim])
    return plans[dim]


def _product(sparse: SparseTensor, dense: Any, name: str) -> Tensor:
    """``sparse @ dense`` for a 2-D sparse tensor (no dense dimensions) and a 2-D dense one."""
    if isinstance(dense, SparseTensor):
        raise _unsupported()
    if sparse.dense_dim() or sparse.dim() != 2 or dense.dim() != 2:
        raise RuntimeError(f"sparse @ dense: expected a 2-D sparse tensor and a 2-D dense one, got sizes "
                           f"{list(sparse.shape)} and {list(dense.shape)}")
    if sparse.shape[1] != dense.shape[0]:
        if sparse.layout is _dt.sparse_csr:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sparse.shape[0]}x{sparse.shape[1]} and "
                               f"{dense.shape[0]}x{dense.shape[1]})")
        raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size {sparse.shape[1]}, got {dense.shape[0]}")
    if sparse.dtype != dense.dtype:
        raise RuntimeError(f"expected scalar type {sparse.dtype.scalar_name} but found {dense.dtype.scalar_name}")
    values, whole = sparse._coo_values, None
    if name == "MmBackward0" and sparse.requires_grad and sparse.is_leaf:
        # torch.mm gives a sparse leaf a dense gradient (g @ D.T), torch.sparse.mm a sparse one.
        values, whole = values.detach(), _dense_gradient_leaf(sparse)
    out = SparseMatmul.apply(values, dense, _segments(sparse, 0), _segments(sparse, 1), sparse.shape[0], whole)
    return named(out, name)


def _dense_gradient_leaf(sparse: SparseTensor) -> Tensor:
    """The leaf that collects a sparse leaf's dense gradients: a tensor of its shape and dtype
    (all zeros, stored as one element) that requires grad."""
    leaf = sparse.__dict__.get("_coo_dense_leaf")
    if leaf is None:
        zeros = np.broadcast_to(np.zeros((), to_numpy(sparse._coo_values._data).dtype), sparse._coo_size)
        leaf = sparse._coo_dense_leaf = _make(zeros, requires_grad=True)
    return leaf




@public(method=False)
def spmm(input: Tensor, mat2: Tensor) -> Tensor:
    """``input @ mat2`` for a sparse (or dense) ``input`` and a dense ``mat2`` (``torch.spmm``)."""
    return F.mm(input, mat2)


def mm(mat1: Tensor, mat2: Tensor, reduce: str = "sum") -> Tensor:
    """``torch.sparse.mm``: ``mat1 @ mat2`` for a sparse ``mat1``; the gradient of a sparse
    leaf is sparse, with its sparsity."""
    if reduce != "sum":
        raise NotImplementedError(f"chainrule: torch.sparse.mm(reduce={reduce!r}): only 'sum' is supported")
    if mat1.layout is _dt.strided:
        return F.mm(mat1, mat2)
    return _product(mat1, mat2, "SparseAddmmBackward0")


def addmm(mat: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * mat + alpha * (mat1 @ mat2)`` for a sparse ``mat1`` (``torch.sparse.addmm``)."""
    return _scaled_sum(mat, mm(mat1, mat2), beta, alpha, "SparseAddmmBackward0")


# -- reductions -----------------------------------------------------------------------------


def sum(input: Tensor, dim: Any = None, dtype: Any = None) -> Tensor:
    """``torch.sparse.sum``: the sum of all entries (a dense 0-d tensor), or over ``dim``: a
    sparse tensor while sparse dimensions remain, else a dense one."""
    if not input.is_sparse:
        return input.sum() if dim is None else input.sum(dim)
    values = input._coo_values if dtype is None else input._coo_values.to(dtype)
    if dim is None:
        return values.sum()
    ndim, sparse_dim = input.dim(), input.sparse_dim()
    dims = sorted({_dim(d, ndim) for d in ((dim,) if isinstance(dim, int) else dim)})
    dense_axes = [d - sparse_dim + 1 for d in dims if d >= sparse_dim]
    if dense_axes:
        values = values.sum(tuple(dense_axes))
    kept = [d for d in range(sparse_dim) if d not in dims]
    size = tuple(n for d, n in enumerate(input.shape) if d not in dims)
    if not kept:
        return values.sum(0)
    return _coo(input._coo_indices[kept], values, size, False).coalesce()


# -- softmax over the stored entries ---------------------------------------------------------


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """``torch.sparse.softmax``: the softmax along ``dim`` over the stored entries only (the
    others count as -inf and stay unstored)."""
    return _softmax(input, dim, dtype, log=False)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """``torch.sparse.log_softmax``: the log of :func:`softmax` over the stored entries."""
    return _softmax(input, dim, dtype, log=True)


def _softmax(input: Tensor, dim: int, dtype: Any, log: bool) -> Tensor:
    if not input.is_sparse:
        return (F.log_softmax if log else F.softmax)(input, dim, dtype=dtype)
    sparse = input.coalesce()
    values = sparse._coo_values if dtype is None else sparse._coo_values.to(dtype)
    ndim, sparse_dim = sparse.dim(), sparse.sparse_dim()
    dim = _dim(dim, ndim)
    if dim >= sparse_dim:  # along a dense dimension: each value's own softmax
        result = (F.log_softmax if log else F.softmax)(values, dim - sparse_dim + 1)
    else:
        others = [d for d in range(sparse_dim) if d != dim]
        groups = np.unique(sparse._coo_indices[others].T, axis=0, return_inverse=True)[1].reshape(-1)
        count = int(groups.max()) + 1 if groups.size else 0
        shape = (count,) + tuple(values.shape[1:])
        peak = np.full(shape, -np.inf, dtype=to_numpy(values._data).dtype)
        np.maximum.at(peak, groups, to_numpy(values._data))
        shifted = values - _make(peak[groups])
        total = IndexAddInto.apply(shifted.exp(), shape, (groups,))
        result = shifted - total.log()[groups] if log else shifted.exp() / total[groups]
    name = "SparseLogSoftmaxBackward0" if log else "SparseSoftmaxBackward0"
    return _coo(sparse._coo_indices, named(result, name), sparse._coo_size, True)


# -- the legacy constructors: torch.sparse.FloatTensor(indices, values, size) ---------------------


def FloatTensor(indices: Any, values: Any, size: Any = None) -> SparseTensor:
    """``torch.sparse.FloatTensor(indices, values, size)``: a float32 sparse COO tensor."""
    return sparse_coo_tensor(indices, values, size, dtype=_dt.float32)


def DoubleTensor(indices: Any, values: Any, size: Any = None) -> SparseTensor:
    """``torch.sparse.DoubleTensor(indices, values, size)``: a float64 sparse COO tensor."""
    return sparse_coo_tensor(indices, values, size, dtype=_dt.float64)
