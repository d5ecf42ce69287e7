"""Neural-network primitives: softmax and log-softmax, activations (GELU through erf,
SiLU, ELU ...), dropout, embedding, fused normalisation (batch/layer/group norm), fused
cross entropy, NLL and binary cross entropy, constant padding."""
from __future__ import annotations

import math

from typing import Any

import numpy as _np

from .. import numpy_errstate as fp_errors
from ..autograd.function import Op
from ..autograd.sparse_rows import SparseRows
from ..dtypes import not_implemented, scalar_name
from ..backend import CPU, device_of, get_array_module, namespace_of_device, special_function, to_device, to_numpy
from ..mt19937 import CpuSampler, along_memory
from ..random import _generator
from .elementwise import Sigmoid, in_float32, promote, step_scaled, sum_to_shape
from .namespace import plain as _plain


def softmax_kernel(name: str, a: Any, axis: int) -> str:
    """PyTorch's name of its (log-)softmax kernel along ``axis`` of ``a``, in its refusals."""
    return f"{name}_lastdim_kernel_impl" if axis >= a.ndim - 1 else f"{name}_kernel_impl"


@in_float32
class Softmax(Op):
    __slots__ = ("axis",)
    presented_inputs = 1
    derivative = ("d softmax(u)_i/du_j = s_i ([i=j] - s_j)",)

    def forward(self, xp, a, axis):
        if a.dtype.kind not in "fV":
            raise not_implemented(softmax_kernel("softmax", a, axis), a.dtype)
        self.axis = axis
        token = fp_errors.ignore(fp_errors.INVALID)  # a row of -inf only gives NaN, silently, as in PyTorch
        try:
            shifted = a - a.max(axis=axis, keepdims=True) if a.size else a
        finally:
            fp_errors.restore(token)
        out = xp.exp(shifted)
        out /= out.sum(axis=axis, keepdims=True)
        self.saved = (out,)
        return out

    def backward(self, xp, g):
        (out,) = self.saved
        return out * (g - (g * out).sum(axis=self.axis, keepdims=True))


@in_float32
class LogSoftmax(Op):
    __slots__ = ("axis",)
    presented_inputs = 1
    derivative = ("d log_softmax(u)_i/du_j = [i=j] - softmax(u)_j",)

    def forward(self, xp, a, axis):
        if a.dtype.kind not in "fV":
            raise not_implemented(softmax_kernel("log_softmax", a, axis), a.dtype)
        self.axis = axis
        token = fp_errors.ignore(fp_errors.INVALID)  # a row of -inf only gives NaN, silently, as in PyTorch
        try:
            shifted = a - a.max(axis=axis, keepdims=True) if a.size else a
        finally:
            fp_errors.restore(token)
        out = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        self.saved = (out,)
        return out

    def backward(self, xp, g):
        (out,) = self.saved
        return g - xp.exp(out) * g.sum(axis=self.axis, keepdims=True)


# ---------------------------------------------------------------------------------------
# Activations, normalisation, losses: each op's forward and backward side by side.
#
# A backward runs on NumPy arrays, or (under ``create_graph=True``) on Tensors through the
# Tensor namespace.  Saved intermediates (a sigmoid, a normalised input ...) are constants
# in the second case, so where a formula needs one that depends on an input, the recorded
# backward rebuilds it from that input (``_plain(xp)`` tells the two cases apart).
# ---------------------------------------------------------------------------------------

_SQRT_HALF = 0.7071067811865476  # 1/sqrt(2)
_INV_SQRT_2PI = 0.3989422804014327  # 1/sqrt(2 pi)
_TWO_OVER_SQRT_PI = 1.1283791670955126  # 2/sqrt(pi)
_GELU_K0 = 0.7978845608028654  # sqrt(2/pi)
_GELU_K1 = 0.044715


def _error_function(name: str, a):
    """``erf`` or ``erfc`` of an array: SciPy's when it is installed (on a device, the
    device's own: cupyx.scipy.special's on the GPU), else the ``math`` module's elementwise
    (exact, only slower: SciPy is optional); bfloat16 in float32, rounded once."""
    if a.dtype.kind == "V":
        return _error_function(name, a.astype(_np.float32)).astype(a.dtype)
    if type(a) is not _np.ndarray:
        special = special_function(get_array_module(a), name)
        if special is not None:
            return special(a)
    try:
        import scipy.special
    except ImportError:
        return _np.vectorize(getattr(math, name), otypes=[a.dtype])(a)
    return getattr(scipy.special, name)(a)


def _erf_array(a):
    return _error_function("erf", a)


def _erf(xp, a):
    return _erf_array(a) if _plain(xp) else Erf.apply(a)


def _sigmoid(xp, a):
    if not _plain(xp):
        return Sigmoid.apply(a)
    # exp of a non-positive number only: no overflow for large |a|.
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1 / (1 + e), e / (1 + e))


def _softplus_array(xp, z):
    """log(1 + exp(z)) without overflow."""
    return xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))


class Erf(Op):
    __slots__ = ()
    derivative = ("d erf(u)/du = 2/sqrt(pi) exp(-u^2)",)

    def forward(self, xp, a):
        self.saved = (a,)
        return _erf_array(a)

    def backward(self, xp, g):
        (a,) = self.saved
        return g * (xp.exp(-(a * a)) * _TWO_OVER_SQRT_PI)


class Erfc(Op):
    """``1 - erf(u)``, computed without the cancellation for large ``u``."""

    __slots__ = ()
    derivative = ("d erfc(u)/du = -2/sqrt(pi) exp(-u^2)",)

    def forward(self, xp, a):
        self.saved = (a,)
        return _error_function("erfc", a)

    def backward(self, xp, g):
        (a,) = self.saved
        return g * (xp.exp(-(a * a)) * -_TWO_OVER_SQRT_PI)


_ERFINV_A = (0.886226899, -1.645349621, 0.914624893, -0.140543331)
_ERFINV_B = (-2.118377725, 1.442710462, -0.329097515, 0.012229801)
_ERFINV_C = (-1.970840454, -1.624906493, 3.429567803, 1.641345311)
_ERFINV_D = (3.543889200, 1.637067800)


def _erfinv_array(y):
    """erf^-1(y): PyTorch's ``calc_erfinv`` (a rational first guess, central below |y| 0.7 and
    a tail form above, then two Newton steps), NaN outside [-1, 1] and +-inf at +-1."""
    a, b, c, d = _ERFINV_A, _ERFINV_B, _ERFINV_C, _ERFINV_D
    kind = y.dtype
    with _np.errstate(all="ignore"):
        magnitude = _np.abs(y)
        z = y * y
        central = y * (((a[3] * z + a[2]) * z + a[1]) * z + a[0]) / (
            (((b[3] * z + b[2]) * z + b[1]) * z + b[0]) * z + 1.0)
        t = _np.sqrt(-_np.log((1.0 - magnitude) / 2.0))
        tail = _np.copysign(((c[3] * t + c[2]) * t + c[1]) * t + c[0], y) / ((d[1] * t + d[0]) * t + 1.0)
        x = _np.where(magnitude <= 0.7, central, tail).astype(kind)
        for _ in range(2):
            x = (x - (_erf_array(x) - y) / (kind.type(_TWO_OVER_SQRT_PI) * _np.exp(-x * x))).astype(kind)
        x = _np.where(magnitude == 1.0, _np.copysign(_np.inf, y), x)
        return _np.where(magnitude > 1.0, _np.nan, x).astype(kind)


class Erfinv(Op):
    __slots__ = ()
    arguments = "unary"
    derivative = ("d erfinv(u)/du = sqrt(pi)/2 exp(erfinv(u)^2)",)

    def forward(self, xp, a):
        if type(a) is not _np.ndarray:
            special = special_function(get_array_module(a), "erfinv")
            out = special(a) if special is not None else to_device(_erfinv_array(to_numpy(a)), device_of(a))
        else:
            out = _erfinv_array(a)
        self.saved = (out,)
        return out

    def backward(self, xp, g):
        (out,) = self.saved
        return g * (xp.exp(out * out) * (1 / _TWO_OVER_SQRT_PI))


@in_float32
class Gelu(Op):
    """u Phi(u) (``approximate='none'``, Phi through erf) or its tanh approximation."""

    __slots__ = ("approximate",)
    presented_inputs = 1
    derivative = ("d gelu(u)/du = Phi(u) + u phi(u)",)

    def forward(self, xp, a, approximate):
        if a.dtype.kind not in "fcV":
            raise not_implemented("GeluKernelImpl", a.dtype)
        self.approximate = approximate
        if approximate == "tanh":
            t = xp.tanh((a + a * a * a * _GELU_K1) * _GELU_K0)
            self.saved = (a, t)
            return a * 0.5 * (1 + t)
        cdf = (1 + _erf_array(a * _SQRT_HALF)) * 0.5
        self.saved = (a, cdf)
        return a * cdf

    def backward(self, xp, g):
        a, kept = self.saved
        plain = _plain(xp)
        if self.approximate == "tanh":
            a2 = a * a
            t = kept if plain else xp.tanh((a + a2 * a * _GELU_K1) * _GELU_K0)
            inner = (1 + a2 * (3 * _GELU_K1)) * _GELU_K0
            return g * ((1 + t) * 0.5 + a * 0.5 * (1 - t * t) * inner)
        cdf = kept if plain else (1 + _erf(xp, a * _SQRT_HALF)) * 0.5
        pdf = xp.exp(a * a * -0.5) * _INV_SQRT_2PI
        return g * (cdf + a * pdf)


@in_float32
class LeakyRelu(Op):
    __slots__ = ("slope",)
    presented_inputs = 1
    derivative = ("d leaky_relu(u)/du = [u > 0] + slope [u <= 0]",)

    def forward(self, xp, a, slope):
        if a.dtype.kind not in "fcV":
            raise not_implemented("leaky_relu_cpu", a.dtype)
        self.slope = slope
        self.saved = (a,)
        return xp.where(a > 0, a, a * slope)

    def backward(self, xp, g):
        (a,) = self.saved
        return step_scaled(xp, g, a, a > 0, self.slope)


class Elu(Op):
    __slots__ = ("alpha",)
    presented_inputs = 1
    derivative = ("d elu(u)/du = [u > 0] + alpha exp(u) [u <= 0]",)

    def forward(self, xp, a, alpha):
        if a.dtype.kind not in "fcV":
            raise not_implemented("elu_cpu", a.dtype)
        self.alpha = alpha
        self.saved = (a,)
        # expm1 of the non-positive part only: the branch not taken must not overflow.
        return xp.where(a > 0, a, xp.expm1(xp.minimum(a, 0)) * alpha)

    def backward(self, xp, g):
        (a,) = self.saved
        return xp.where(a > 0, g, g * xp.exp(xp.minimum(a, 0)) * self.alpha)


@in_float32
class Silu(Op):
    __slots__ = ()
    derivative = ("d silu(u)/du = s (1 + u (1 - s)), s = sigmoid(u)",)

    def forward(self, xp, a):
        if a.dtype.kind not in "fcV":
            raise not_implemented("silu_cpu", a.dtype)
        s = _sigmoid(xp, a)
        self.saved = (a, s)
        return a * s

    def backward(self, xp, g):
        a, s = self.saved
        if not _plain(xp):
            s = _sigmoid(xp, a)
        return g * s * (1 + a * (1 - s))


@in_float32
class Softplus(Op):
    __slots__ = ("beta", "threshold")
    presented_inputs = 1
    derivative = ("d softplus(u)/du = sigmoid(beta u) (1 where beta u > threshold)",)

    def forward(self, xp, a, beta, threshold):
        if a.dtype.kind not in "fcV":
            raise not_implemented("softplus_cpu", a.dtype)
        self.beta, self.threshold = beta, threshold
        self.saved = (a,)
        z = a * beta
        return xp.where(z > threshold, a, _softplus_array(xp, z) / beta)

    def backward(self, xp, g):
        (a,) = self.saved
        z = a * self.beta
        return xp.where(z > self.threshold, g, g * _sigmoid(xp, z))


@in_float32
class Mish(Op):
    __slots__ = ()
    derivative = ("d mish(u)/du = t + u sigmoid(u) (1 - t^2), t = tanh(softplus(u))",)

    def forward(self, xp, a):
        if a.dtype.kind not in "fcV":
            raise not_implemented("mish_cpu", a.dtype)
        t = xp.tanh(_softplus_array(xp, a))
        self.saved = (a, t)
        return a * t

    def backward(self, xp, g):
        a, t = self.saved
        if not _plain(xp):
            t = xp.tanh(Softplus.apply(a, 1.0, float("inf")))
        return g * (t + a * _sigmoid(xp, a) * (1 - t * t))


class Hardtanh(Op):
    __slots__ = ("low", "high")
    presented_inputs = 1
    derivative = ("d hardtanh(u)/du = [min < u < max]",)

    def forward(self, xp, a, low, high):
        self.low, self.high = low, high
        self.saved = (a,)
        out = xp.minimum(xp.maximum(a, low), high)
        if out.dtype != a.dtype:  # (an integer input keeps its dtype, as in PyTorch; bools are refused)
            if a.dtype.kind == "b":
                raise RuntimeError("Bool inputs not supported for hardtanh")
            out = out.astype(a.dtype)
        return out

    def backward(self, xp, g):
        (a,) = self.saved
        return step_scaled(xp, g, a, (a > self.low) & (a < self.high))


class Threshold(Op):
    __slots__ = ("threshold",)
    presented_inputs = 1
    derivative = ("d threshold(u)/du = [u > threshold]",)

    def forward(self, xp, a, threshold, value):
        if a.dtype.kind == "b":
            raise not_implemented("threshold_cpu", a.dtype)
        self.threshold = threshold
        self.saved = (a,)
        mask = a > threshold
        return xp.where(mask, a, xp.asarray(value, dtype=a.dtype))

    def backward(self, xp, g):
        (a,) = self.saved
        return step_scaled(xp, g, a, a > self.threshold)


class LogSigmoid(Op):
    __slots__ = ()
    derivative = ("d log(sigmoid(u))/du = sigmoid(-u)",)

    def forward(self, xp, a):
        if a.dtype.kind not in "fcV":
            raise not_implemented("log_sigmoid_cpu", a.dtype)
        self.saved = (a,)
        return xp.minimum(a, 0) - xp.log1p(xp.exp(-xp.abs(a)))

    def backward(self, xp, g):
        (a,) = self.saved
        return g * _sigmoid(xp, -a)


def keep_mask(shape: tuple, dtype: Any, p: float, device: Any = CPU, order: tuple | None = None) -> Any:
    """Dropout's mask: 1/(1-p) where an element is kept, 0 where it is dropped; drawn on
    ``device`` from its generator.  As PyTorch's ``bernoulli_(1 - p).div_(1 - p)``: on the CPU
    an element is kept where a double uniform is below 1 - p, and the kept value is 1 / (1 - p)
    divided in the mask's dtype.  ``order`` (see :func:`chainrule.mt19937.visiting_order`): the
    axes from outermost to innermost in the memory of the tensor dropped out, whose order
    PyTorch's mask (``empty_like`` it) keeps and is drawn along."""
    xp = namespace_of_device(device)
    if p == 1:
        return xp.zeros(shape, dtype=dtype)
    rng = _generator(None, device)
    if isinstance(rng, CpuSampler):
        keep = along_memory(tuple(shape), order, lambda drawn: rng.bernoulli(1.0 - p, drawn, dtype))
    else:
        keep = (rng.random(shape, dtype=_np.float32 if dtype == _np.float32 else _np.float64) >= p).astype(dtype)
    # (``div_(1 - p)`` computes in float32 for float16, as PyTorch's opmath)
    scale = xp.asarray(1.0 - p, dtype=_np.float32 if dtype == _np.float16 else dtype)
    return xp.asarray(xp.asarray(keep, dtype=scale.dtype) / scale, dtype=dtype)


class KeepMask(Op):
    """Dropout's mask for a tensor like ``a`` (:func:`keep_mask`), or of ``shape`` with
    ``a``'s dtype and device (attention's dropout of its weights).  An op of its own, never
    differentiable, so that a captured plan (``chainrule.compiler``) draws a new mask at each
    call, from the generator's stream, as eager does."""

    __slots__ = ()
    arguments = "unary"
    differentiable = False
    random = True

    def forward(self, xp, a, p, shape=None, order=None):
        return keep_mask(a.shape if shape is None else shape, a.dtype, p, device_of(a), order)


class RreluSlopes(Op):
    """RReLU's slopes while training: U(lower, upper) at each element at or below zero, 1
    elsewhere.  As PyTorch's CPU kernel, one double uniform is drawn per such element, in
    order, and none for the others.  Never differentiable (the op ``x * slopes`` is)."""

    __slots__ = ()
    arguments = "unary"
    differentiable = False
    random = True

    def forward(self, xp, a, lower, upper):
        rng = _generator(None, device_of(a))
        negative = a <= 0
        slopes = xp.ones(a.shape, dtype=a.dtype)
        if isinstance(rng, CpuSampler):  # (the bounds in the input's dtype, the draw in doubles)
            low, high = float(a.dtype.type(lower)), float(a.dtype.type(upper))
            slopes[negative] = rng.uniform(low, high, int(negative.sum()), dtype=_np.float64, fused=False).astype(a.dtype)
            return slopes
        drawn = (rng.random(a.shape) * (upper - lower) + lower).astype(a.dtype)
        return xp.where(negative, drawn, slopes)


class OneHot(Op):
    """``one_hot``: an int64 row of ``num_classes`` with a 1 at each index.  An op (never
    differentiable) so that a compiled plan encodes the indices of each call."""

    __slots__ = ()
    arguments = "unary"
    differentiable = False

    def forward(self, xp, indices, num_classes):
        if indices.size:  # (checked here, at every call: a compiled plan checks again)
            if indices.min() < 0:
                raise RuntimeError("Class values must be non-negative.")
            if indices.max() >= num_classes:
                raise RuntimeError("Class values must be smaller than num_classes.")
        out = xp.zeros(indices.shape + (num_classes,), dtype=_np.int64)
        xp.put_along_axis(out, indices[..., None].astype(_np.int64), 1, axis=-1)
        return out


class Dropout(Op):
    """``u * mask``: the mask holds 0 for dropped elements and 1/(1-p) for kept ones."""

    __slots__ = ()
    pytorch_name = "MulBackward0"
    derivative = ("d dropout(u)/du = mask / (1 - p)",)
    kernel = _np.multiply

    def forward(self, xp, a, mask):
        self.saved = (mask,)
        return a * mask

    def backward(self, xp, g):
        return g * self.saved[0], None


class Embedding(Op):
    """Rows of ``weight`` picked by integer ``indices``; the gradient sums into those rows.
    With ``sparse`` (the maker of a sparse tensor from :class:`SparseRows`) the weight's
    gradient is those rows alone, PyTorch's COO gradient of ``sparse=True``."""

    __slots__ = ("shape", "indices", "padding_idx", "scale_grad_by_freq", "sparse")
    presented_inputs = 1  # (PyTorch's node has the tensor inputs only: next_functions)
    derivative = ("d weight[i]/d weight = 1 at the picked rows (summed over repeats)",)

    def forward(self, xp, weight, indices, padding_idx, scale_grad_by_freq, sparse=None):
        self.shape, self.indices = weight.shape, indices
        self.padding_idx, self.scale_grad_by_freq, self.sparse = padding_idx, scale_grad_by_freq, sparse
        return xp.take(weight, indices, axis=0)

    def backward(self, xp, g):
        rows, width = self.shape
        flat = self.indices.reshape(-1)
        g2 = g.reshape((flat.shape[0], width))
        if self.sparse is not None and _plain(xp):
            return self._sparse_backward(flat, g2), None, None, None, None
        scale = None
        if self.scale_grad_by_freq:
            counts = _array_module(flat).bincount(flat, minlength=rows)
            scale = 1.0 / counts[flat]
        if self.padding_idx is not None:
            keep = (flat != self.padding_idx).astype(float)
            scale = keep if scale is None else scale * keep
        if scale is not None:
            g2 = g2 * scale.astype(_dtype_of(g)).reshape((-1, 1))
        if _plain(xp):
            out = xp.zeros(self.shape, dtype=g.dtype)
            xp.add.at(out, flat, g2)
            return out, None, None, None
        return xp.index_add_into(self.shape, (flat,), g2), None, None, None

    def _sparse_backward(self, flat, g2):
        """PyTorch's embedding_sparse_backward: the picked rows (but ``padding_idx``'s) and
        their gradients, uncoalesced."""
        if self.scale_grad_by_freq:
            raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse gradients")
        if self.padding_idx is not None:
            keep = flat != self.padding_idx
            flat, g2 = flat[keep], g2[keep]
        else:
            g2 = g2.copy()
        return SparseRows(flat.astype(_np.int64), g2, self.shape, self.sparse)


def _array_module(array):
    return get_array_module(array)


def _dtype_of(x):
    dtype = x.dtype
    return getattr(dtype, "numpy", dtype)


def _mean_over(xp, a, axes):
    """``a.mean(axis=axes, keepdims=True)``. Over the trailing axes of a contiguous array
    (layer norm's), as a matrix-vector product: BLAS, several times faster than NumPy's
    reduction of many short rows."""
    lead = a.ndim - len(axes)
    if not (_plain(xp) and a.size and axes == tuple(range(lead, a.ndim)) and a.flags.c_contiguous):
        return a.mean(axis=axes, keepdims=True)
    rows = math.prod(a.shape[:lead])
    cols = a.size // rows
    means = a.reshape(rows, cols) @ xp.full(cols, 1.0 / cols, dtype=a.dtype)
    return means.reshape(a.shape[:lead] + (1,) * len(axes))


@in_float32
class Normalize(Op):
    """Batch, layer and group normalisation in one node: ``(x - mean) / sqrt(var + eps)``
    over ``axes``, then ``* weight + bias`` (``weight``/``bias`` broadcast as ``bshape``).

    With ``stats=(mean, var)`` those fixed statistics are used (batch norm in eval mode);
    with ``update=(running_mean, running_var, momentum)`` the batch statistics are blended
    into the running ones in place (batch norm in training mode)."""

    __slots__ = ("axes", "eps", "bshape", "pshape", "batch_stats")
    presented_inputs = 3  # input, weight, bias: the rest are options
    derivative = (
        "d norm(u)/du = rstd (gh - mean(gh) - uh mean(gh uh)), gh = G w, uh = normalised u",
        "d norm(u)/dw = sum G uh",
        "d norm(u)/db = sum G",
    )

    def forward(self, xp, x, weight, bias, axes, eps, bshape, stats=None, update=None):
        self.axes, self.eps, self.bshape = axes, eps, bshape
        self.pshape = weight.shape if weight is not None else getattr(bias, "shape", None)
        self.batch_stats = stats is None
        if stats is None:
            mean = _mean_over(xp, x, axes)
            centered = x - mean
            var = _mean_over(xp, centered * centered, axes)
            if update is not None:
                _update_running(xp, update, mean, var, x.size // mean.size)
        else:
            mean, var = stats
            centered = x - mean
        rstd = 1 / xp.sqrt(var + eps)
        centered *= rstd
        xhat = centered
        out = xhat * weight.reshape(bshape) if weight is not None else xhat.copy()
        if bias is not None:
            out += bias.reshape(bshape)
        self.saved = (x, xhat, rstd, weight, mean)
        return out

    def backward(self, xp, g):
        x, xhat, rstd, weight, mean = self.saved
        axes, bshape = self.axes, self.bshape
        if not _plain(xp):
            # Recorded backward: the statistics as functions of x, so that the gradient
            # itself can be differentiated again.
            if self.batch_stats:
                mean = x.mean(axis=axes, keepdims=True)
                centered = x - mean
                var = (centered * centered).mean(axis=axes, keepdims=True)
                rstd = 1 / xp.sqrt(var + self.eps)
                xhat = centered * rstd
            else:
                xhat = (x - mean) * rstd
        gx = gw = gb = None
        if weight is not None and self.needs_grad(1):
            gw = sum_to_shape(g * xhat, bshape).reshape(weight.shape)
        if self.needs_grad(2):
            gb = sum_to_shape(g, bshape).reshape(self.pshape)
        if self.needs_grad(0):
            gh = g * weight.reshape(bshape) if weight is not None else g
            if self.batch_stats:
                gx = (gh - _mean_over(xp, gh, axes) - xhat * _mean_over(xp, gh * xhat, axes)) * rstd
            else:
                gx = gh * rstd
        return gx, gw, gb


def _update_running(xp, update, mean, var, count):
    """Blend the statistics into the running ones (in place).  Statistics per sample (instance
    norm: one more leading dim than the running ones) are blended per sample and then averaged
    over the samples, as PyTorch's batch norm over the (1, N*C, ...) view does."""
    running_mean, running_var, momentum = update
    unbiased = var * (count / max(count - 1, 1))
    for running, stat in ((running_mean, mean), (running_var, unbiased)):
        if running is None:
            continue
        if stat.size == running.size:
            running *= 1 - momentum
            running += stat.reshape(running.shape) * momentum
        else:
            blended = running * (1 - momentum) + stat.reshape((-1,) + running.shape) * momentum
            running[...] = blended.mean(axis=0)


# -- losses ------------------------------------------------------------------------------


def _class_targets(xp, target, n_classes, weight, ignore_index, dtype):
    """Targets made safe to index with (ignored ones point at class 0), and the per-element
    weights ``w[y] * [y != ignore_index]`` (None when every weight is 1).  On a device the
    weights are always an array and nothing is checked on the host: no synchronisation
    (PyTorch's CUDA kernels do not check the targets' range on the host either)."""
    if xp is not _np:
        valid = target != ignore_index
        safe = xp.where(valid, target, 0)
        return safe, (valid.astype(dtype) if weight is None else weight[safe].astype(dtype) * valid)
    if target.size:
        low, high = target.min(), target.max()
        if low >= 0 and high < n_classes and not (
                0 <= ignore_index < n_classes and bool((target == ignore_index).any())):
            # The common case: every target is a class and none is ignored.
            return target, (None if weight is None else weight[target].astype(dtype, copy=False))
    valid = target != ignore_index
    ignored = not bool(valid.all())
    safe = xp.where(valid, target, 0) if ignored else target
    if safe.size:
        bad = (safe < 0) | (safe >= n_classes)
        if bad.any():
            raise IndexError(f"Target {int(safe[bad].reshape(-1)[0])} is out of bounds.")
    w = None
    if weight is not None:
        w = weight[safe].astype(dtype, copy=False)
    if ignored:
        w = valid.astype(dtype) if w is None else w * valid
    return safe, w


def _reduce_weighted(xp, loss, w, reduction):
    """Reduce per-element losses the way nll_loss does; returns (output, coefficient), the
    coefficient being d output / d loss_i (times ``w``) as an array or a Python float."""
    if reduction == "none":
        return loss, (1.0 if w is None else w)
    if reduction == "sum":
        return loss.sum(), (1.0 if w is None else w)
    if w is None:
        count = loss.size
        if count:  # the common case needs no errstate (entering one costs a few microseconds)
            return loss.sum() / count, 1.0 / count
        with _quiet(xp):
            return loss.sum() * float("nan"), 0.0
    total = w.sum()
    with _quiet(xp):
        out = loss.sum() / total
    # All targets ignored: PyTorch's loss is nan (0/0) but its gradient is zero (then w is
    # all zeros: dividing it by 1 gives that, without asking the device what total is).
    if xp is not _np:
        return out, w / xp.where(total == 0, 1, total)
    return out, (w / total if total != 0 else w * 0)


def _quiet(xp):
    return _np.errstate(divide="ignore", invalid="ignore")


def _pick(xp, a, index):
    """``a[n, index[n, ...], ...]``: one entry per position along the class axis 1."""
    if a.ndim == 2:
        return a[xp.arange(a.shape[0]), index]
    return xp.take_along_axis(a, xp.expand_dims(index, 1), axis=1).squeeze(1)


def _onehot(target, shape, dtype):
    xp = _array_module(target)
    out = xp.zeros(shape, dtype=dtype)
    xp.put_along_axis(out, xp.expand_dims(target, 1), 1, axis=1)
    return out


def _subtract_at_targets(xp, out, target, values):
    """``out[n, target[n, ...], ...] -= values`` in place."""
    if out.ndim == 2:
        out[xp.arange(out.shape[0]), target] -= values
        return
    index = xp.expand_dims(target, 1)
    picked = xp.take_along_axis(out, index, axis=1)
    values = xp.broadcast_to(values, target.shape)
    xp.put_along_axis(out, index, picked - xp.expand_dims(values, 1), axis=1)


class MseLoss(Op):
    """``(input - target)^2``, then the reduction, in one node as PyTorch's: the backward is
    ``2 (input - target) / n`` without the squared differences kept."""

    __slots__ = ("reduction", "count", "shapes")
    presented_inputs = 2
    derivative = ("d mse/du = 2 (u - t) / n", "d mse/dt = -2 (u - t) / n")

    def forward(self, xp, a, b, reduction):
        a, b = promote(a, b)
        if a.dtype.kind not in "fcV":
            raise not_implemented("mse_cpu", a.dtype)
        diff = a - b
        self.reduction, self.count = reduction, diff.size
        self.shapes = (a.shape, b.shape)
        self.saved = (a, b)
        square = diff * diff
        if reduction == "mean":
            return square.mean()
        return square.sum() if reduction == "sum" else square

    def backward(self, xp, g):
        a, b = self.saved
        shape_a, shape_b = self.shapes
        scale = g * (2.0 / self.count) if self.reduction == "mean" else g * 2.0
        grad = (a - b) * scale
        return (sum_to_shape(grad, shape_a) if self.needs_grad(0) else None,
                sum_to_shape(-grad, shape_b) if self.needs_grad(1) else None, None)


class CrossEntropy(Op):
    """log_softmax + nll_loss over class indices in one node: the backward is
    ``(softmax - onehot) * w[y] / sum(w[y])``, with no log-probabilities kept."""

    __slots__ = ("target", "coef", "expand")
    presented_inputs = 1  # (PyTorch's node has the tensor inputs only: next_functions)
    pytorch_name = "NllLossBackward0"
    derivative = ("d CE/du = (softmax(u) - onehot(y)) w[y] / sum w[y]",)

    def forward(self, xp, x, target, weight, ignore_index, reduction):
        if x.dtype.kind not in "fV":
            raise not_implemented(softmax_kernel("log_softmax", x, 1), x.dtype)
        safe, w = _class_targets(xp, target, x.shape[1], weight, ignore_index, x.dtype)
        shifted = x - x.max(axis=1, keepdims=True)
        picked = _pick(xp, shifted, safe)
        e = xp.exp(shifted, out=shifted)
        total = e.sum(axis=1, keepdims=True)
        loss = xp.log(total.squeeze(1)) - picked
        if w is not None:
            loss *= w
        out, self.coef = _reduce_weighted(xp, loss, w, reduction)
        e /= total
        # The gradient scale has the target's shape unless it is one number.
        self.target, self.expand = safe, reduction == "none" or not isinstance(self.coef, float)
        self.saved = (x, e)
        return out

    def backward(self, xp, g):
        x, probs = self.saved
        scale = g * self.coef
        if _plain(xp):
            if self.expand:
                grad = probs * xp.expand_dims(scale, 1)
            else:
                grad = probs * scale
            _subtract_at_targets(xp, grad, self.target, scale)
            return grad, None, None, None, None
        probs = Softmax.apply(x, 1)
        onehot = _onehot(self.target, tuple(x.shape), x._data.dtype)
        if self.expand:
            scale = xp.expand_dims(scale, 1)
        return (probs - onehot) * scale, None, None, None, None


class NllLoss(Op):
    """``-w[y] u[n, y]``, reduced like PyTorch's nll_loss (a weighted mean by default)."""

    __slots__ = ("target", "coef", "expand", "shape", "dtype")
    presented_inputs = 1  # (PyTorch's node has the tensor inputs only: next_functions)
    derivative = ("d nll/du = -onehot(y) w[y] / sum w[y]",)

    def forward(self, xp, x, target, weight, ignore_index, reduction):
        if x.dtype.kind not in "fV":
            raise not_implemented("nll_loss_out_frame" if x.ndim <= 2 else "nll_loss2d_forward_out_frame", x.dtype)
        safe, w = _class_targets(xp, target, x.shape[1], weight, ignore_index, x.dtype)
        loss = -_pick(xp, x, safe)
        if w is not None:
            loss *= w
        out, self.coef = _reduce_weighted(xp, loss, w, reduction)
        # The gradient scale has the target's shape unless it is one number.
        self.target, self.expand = safe, reduction == "none" or not isinstance(self.coef, float)
        self.shape, self.dtype = x.shape, x.dtype
        return out

    def backward(self, xp, g):
        scale = g * self.coef
        if _plain(xp):
            grad = xp.zeros(self.shape, dtype=self.dtype)
            _subtract_at_targets(xp, grad, self.target, scale)
            return grad, None, None, None, None
        onehot = _onehot(self.target, self.shape, self.dtype)
        if self.expand:
            scale = xp.expand_dims(scale, 1)
        return -(scale * onehot), None, None, None, None


class BinaryCrossEntropy(Op):
    """``-w (t log(u) + (1 - t) log(1 - u))``, each log clamped at -100 as in PyTorch."""

    __slots__ = ()
    derivative = ("d bce/du = w (u - t) / max(u (1 - u), 1e-12)",
                  "d bce/dt = w (log(1 - u) - log(u))")

    def forward(self, xp, x, t, weight):
        if t.dtype != x.dtype:
            raise RuntimeError(f"Found dtype {scalar_name(t.dtype)} but expected {scalar_name(x.dtype)}")
        if x.dtype.kind not in "fV":
            raise not_implemented("binary_cross_entropy", x.dtype)
        if x.size and ((x < 0) | (x > 1)).any():
            raise RuntimeError("all elements of input should be between 0 and 1")
        with _quiet(xp):
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(xp.log1p(-x), -100)
        loss = (t - 1) * log_1mx - t * log_x
        if weight is not None:
            loss = loss * weight
        self.saved = (x, t, weight, log_x, log_1mx)
        return loss

    def backward(self, xp, g):
        x, t, weight, log_x, log_1mx = self.saved
        if weight is not None:
            g = g * weight
        gx = gt = None
        if self.needs_grad(0):
            gx = g * (x - t) / xp.maximum((1 - x) * x, 1e-12)
        if self.needs_grad(1):
            if not _plain(xp):
                log_x = xp.maximum(xp.log(x), -100.0)
                log_1mx = xp.maximum(xp.log(1 - x), -100.0)
            gt = g * (log_1mx - log_x)
        return gx, gt, None


def _pad_array(xp, a, pads, value):
    """Pad (positive widths) and crop (negative widths) ``a``; ``pads`` is one
    (before, after) pair per dim."""
    crop = tuple(slice(max(-b, 0), n - max(-e, 0)) for (b, e), n in zip(pads, a.shape))
    a = a[crop]
    widths = tuple((max(b, 0), max(e, 0)) for b, e in pads)
    if any(b or e for b, e in widths):
        return xp.pad(a, widths, mode="constant", constant_values=value)
    return a.copy()


class ConstantPad(Op):
    __slots__ = ("pads",)
    presented_inputs = 1  # (PyTorch's node has the tensor inputs only: next_functions)
    pytorch_name = "ConstantPadNdBackward0"
    derivative = ("d pad(u)/du = 1 on u's region (the gradient is cropped back)",)

    def forward(self, xp, a, pads, value):
        self.pads = pads
        return _pad_array(xp, a, pads, value)

    def backward(self, xp, g):
        inverse = tuple((-b, -e) for b, e in self.pads)
        if _plain(xp):
            return _pad_array(xp, g, inverse, 0), None, None
        return ConstantPad.apply(g, inverse, 0), None, None
