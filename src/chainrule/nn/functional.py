"""``chainrule.nn.functional``: the functional forms of every layer, activation and loss.

Argument handling in PyTorch's spellings, then one op from ``chainrule/ops`` (or a short
composite of them); the modules in ``chainrule.nn`` call these functions.
"""
from __future__ import annotations

import builtins
import math
import warnings
from typing import Any, Callable, Sequence

import numpy as np

from .. import functional as _C
from ..dtypes import cast_error, int64 as _int64, not_implemented, scalar_name
from ..composites import channel_shuffle, pdist
from ..functional import cosine_similarity, log_softmax, pairwise_distance, relu, sigmoid, softmax, tanh
from .. import tensor_namespace
from .. import upcalls as _upcalls
from ..inplace import apply_inplace
from ..mt19937 import visiting_order
from ..ops import attention as A
from ..ops import ctc as _ctc
from ..ops import elementwise as E
from ..ops import linalg as L
from ..ops import nn as N
from ..amp import full_precision, lower_precision
from ..autograd.function import broadcast_shape, named
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..backend import get_array_module
from ..creation import arange as _arange, ones_like as _ones_like, rand as _rand, zeros as _zeros
from ..tensor import Tensor, _dim, _make

# -- helpers ---------------------------------------------------------------------------------


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else _make(np.asarray(x))


def _array(x: Any) -> Any:
    if x is None:
        return None
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _floating(input: Tensor, kernel: str) -> None:
    """PyTorch's refusal of an integer or bool input by a kernel that computes in floats
    (the composites' and the normalisations'; an op's forward checks its own input)."""
    if input._data.dtype.kind not in "fcV":
        raise not_implemented(kernel, input._data.dtype)


def _apply(input: Tensor, inplace: bool, op: Any, name: str, *args: Any) -> Tensor:
    """``op(input, *args)``, written into ``input`` when ``inplace`` (``F.elu(x, inplace=True)``):
    the tensor then becomes the op's output in the graph."""
    return apply_inplace(input, name, op.apply, *args) if inplace else op.apply(input, *args)


# -- activations (relu, sigmoid, tanh, softmax, log_softmax: chainrule.functional's) ----------


def relu_(input: Tensor) -> Tensor:
    return input.relu_()


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _apply(input, inplace, N.Hardtanh, "hardtanh_", min_val, max_val)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return _apply(input, inplace, N.LeakyRelu, "leaky_relu_", negative_slope)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Leaky ReLU with a random slope per element, drawn from U(lower, upper), while training
    (PyTorch's draws: one per element at or below zero); the mean slope (lower + upper) / 2
    otherwise."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)

    def randomized(x: Tensor) -> Tensor:
        return x * N.RreluSlopes.apply(x, lower, upper)

    return _composite(input, inplace, randomized)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    return rrelu(input, lower, upper, training, inplace=True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x where x > 0, weight * x elsewhere; a weight of C values applies along dim 1."""
    if weight.numel() > 1:
        if input.ndim < 2 or input.shape[1] != weight.numel():
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{weight.numel()} and channel size = {input.shape[1] if input.ndim >= 2 else 1}.")
        weight = weight.reshape((1, -1) + (1,) * (input.ndim - 2))
    return _C.where(input > 0, input, weight * input)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _apply(input, inplace, N.Elu, "elu_", alpha)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _composite(input: Tensor, inplace: bool, fn: Callable[[Tensor], Tensor]) -> Tensor:
    """An activation made of several ops, in place when asked: computed from a copy (the ops
    save their input, which the write would otherwise change under them), then written back."""
    if not inplace:
        return fn(input)
    return input.copy_(fn(input.clone()))


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    return _composite(input, inplace, lambda x: N.Elu.apply(x, _SELU_ALPHA) * _SELU_SCALE)


def selu_(input: Tensor) -> Tensor:
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _composite(input, inplace, lambda x: N.Elu.apply(x / alpha, 1.0) * alpha)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, inplace=True)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    return _apply(input, inplace, N.Threshold, "threshold_", threshold, value)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return _apply(input, True, N.Threshold, "threshold_", threshold, value)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) with Phi the standard normal CDF (through erf), or its tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return N.Gelu.apply(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return _apply(input, inplace, N.Silu, "silu_")


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    return _apply(input, inplace, N.Mish, "mish_")


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    _floating(input, "hardsigmoid_cpu")
    out = N.Hardtanh.apply(input + 3.0, 0.0, 6.0) / 6.0
    return input.copy_(out) if inplace else out


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    _floating(input, "hardswish_cpu")
    return _composite(input, inplace, lambda x: x * (N.Hardtanh.apply(x + 3.0, 0.0, 6.0) / 6.0))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""
    return N.Softplus.apply(input, beta, threshold)


def logsigmoid(input: Tensor) -> Tensor:
    return N.LogSigmoid.apply(input)


def softsign(input: Tensor) -> Tensor:
    return input / (E.Abs.apply(input) + 1)


def tanhshrink(input: Tensor) -> Tensor:
    return input - E.Tanh.apply(input)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``input`` where ``|input| > lambd``, else 0 (the gradient flows where it is kept)."""
    inside = E.Abs.apply(input) <= lambd  # (NaN is not inside: it passes, as in PyTorch)
    zero = get_array_module(input._data).zeros((), dtype=input._data.dtype)
    return named(E.Where.apply(inside._data, zero, input), "HardshrinkBackward0")


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``input`` moved ``lambd`` towards 0, and 0 within ``[-lambd, lambd]``."""
    limit = float(np.finfo(input._data.dtype).max) if input._data.dtype.kind == "f" else float("inf")
    if not 0 <= lambd <= limit:
        kind = input.dtype.scalar_name
        raise RuntimeError(f"lambda must be in range [0, {limit:g}] for input dtype {kind}, but found {lambd:g}")
    return named(input - input.clamp(-lambd, lambd), "SoftshrinkBackward0")


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """softmax of -x."""
    return softmax(-input, dim, _stacklevel + 1, dtype)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    size = input.shape[_dim(dim, input.ndim)]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {size}")
    a, b = _C.chunk(input, 2, dim)
    return a * E.Sigmoid.apply(b)


# -- linear layers, dropout, embedding -------------------------------------------------------


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` as one fused node."""
    return L.Linear.apply(*lower_precision(input, weight, bias))


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_k = x1^T W_k x2 + b_k`` for every leading index."""
    lead = input1.shape[:-1]
    x1 = input1.reshape(-1, input1.shape[-1])
    x2 = input2.reshape(-1, input2.shape[-1])
    # (n, 1, 1, i) @ (k, i, j) -> (n, k, 1, j); times x2 and summed over j.
    left = _C.matmul(x1.reshape(x1.shape[0], 1, 1, x1.shape[1]), weight)
    out = (left.reshape(x1.shape[0], weight.shape[0], x2.shape[1]) * x2.reshape(x2.shape[0], 1, x2.shape[1])).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(tuple(lead) + (weight.shape[0],))


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """A sample of the Gumbel-softmax (concrete) distribution over ``logits``' classes: the
    softmax of ``(logits + Gumbel noise) / tau``; ``hard``: the one-hot argmax in the forward
    pass, the soft sample's gradient in the backward (the straight-through estimator)."""
    gumbels = -logits.new_empty(logits.shape).exponential_().log()  # Gumbel(0, 1) noise
    soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return soft
    index = soft.argmax(dim, keepdim=True)
    one_hot = logits.new_zeros(logits.shape).scatter_(dim, index, 1.0)
    return one_hot - soft.detach() + soft


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (training
    only); the mask comes from chainrule's global generator."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0 or input._data.size == 0:
        return input
    if input._data.dtype.kind not in "fcV":  # (PyTorch multiplies it by a float mask in place)
        raise cast_error(np.float32, input._data.dtype)
    # A view keeps PyTorch's strides, and PyTorch draws the mask along them (an op's own
    # layout here may differ from PyTorch's contiguous result: those draw in C order).
    order = visiting_order(input._data) if input._view_of is not None else None
    return _apply(input, inplace, N.Dropout, "dropout_", N.KeepMask.apply(input, p, None, order))


#: SELU's alpha * scale: the value a SELU network's activations saturate at, -1.7581.
_SELU_SATURATION = 1.7580993408473766


def _alpha_dropout(input: Tensor, p: float, training: bool, inplace: bool, feature: bool) -> Tensor:
    """Dropout for SELU networks: dropped elements (or channels, ``feature``) are set to SELU's
    saturation value, then an affine map ``a x + b`` keeps the mean 0 and the variance 1."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0 or input._data.size == 0:
        return input
    if feature and input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if p == 1:
        return _composite(input, inplace, lambda x: x * 0.0)
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2) if feature else None
    # (an element-wise mask of a view is drawn along its memory, as dropout's)
    order = visiting_order(input._data) if input._view_of is not None and not feature else None
    keep = (N.KeepMask.apply(input, p, shape, order) != 0).to(input.dtype)
    a = 1.0 / math.sqrt((_SELU_SATURATION ** 2 * p + 1) * (1 - p))
    shift = (keep - 1) * (_SELU_SATURATION * a) + _SELU_SATURATION * a * p
    return _composite(input, inplace, lambda x: x * (keep * a) + shift)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout of each element (for SELU networks), while training."""
    return _alpha_dropout(input, p, training, inplace, feature=False)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels (dim 1), while training."""
    return _alpha_dropout(input, p, training, inplace, feature=True)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(query @ key^T * scale + mask) @ value`` as one node: a boolean ``attn_mask``
    says which positions may be attended to, a float one is added to the scores;
    ``is_causal`` masks the future; ``dropout_p`` drops attention weights."""
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    if enable_gqa and key.shape[-3] != query.shape[-3]:
        groups = query.shape[-3] // key.shape[-3]
        key, value = key.repeat_interleave(groups, -3), value.repeat_interleave(groups, -3)
    scale = 1.0 / float(np.sqrt(query.shape[-1])) if scale is None else scale
    keep = None
    if dropout_p > 0.0:
        batch = broadcast_shape(tuple(query.shape[:-2]), tuple(key.shape[:-2]))
        keep = N.KeepMask.apply(query, dropout_p, batch + (query.shape[-2], key.shape[-2]))
    mask = _t(attn_mask) if attn_mask is not None else None
    out = A.Attention.apply(query, key, value, mask, scale, is_causal, keep)
    # PyTorch's CPU kernel takes 4-D inputs without dropout or a mask that needs a gradient;
    # its math fallback ends in a matmul.
    if query.ndim != 4 or keep is not None or (mask is not None and mask.requires_grad):
        named(out, "UnsafeViewBackward0")
    return out


def _pixel_shuffle_check(name: str, input: Tensor, factor: Any, kind: str) -> int:
    factor = int(factor)
    if factor <= 0:
        raise RuntimeError(f"{name} expects a positive {kind}, but got {factor}")
    if input.ndim < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    return factor


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) to (*, C, H r, W r): each block of r^2 channels becomes an r x r patch
    (a view and a permutation; sub-pixel convolution's upsampling)."""
    r = _pixel_shuffle_check("pixel_shuffle", input, upscale_factor, "upscale_factor")
    *lead, channels, height, width = input.shape
    if channels % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
                           f"of upscale_factor, but input.size(-3)={channels} is not divisible by {r * r}")
    n = len(lead)
    blocks = input.reshape(tuple(lead) + (channels // (r * r), r, r, height, width))
    patches = blocks.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return named(patches.reshape(tuple(lead) + (channels // (r * r), height * r, width * r)),
                 "PixelShuffleBackward0")


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) to (*, C r^2, H, W): pixel_shuffle undone."""
    r = _pixel_shuffle_check("pixel_unshuffle", input, downscale_factor, "downscale_factor")
    *lead, channels, height, width = input.shape
    for size, dim, side in ((height, -2, "height"), (width, -1, "width")):
        if size % r:
            raise RuntimeError(f"pixel_unshuffle expects {side} to be divisible by downscale_factor, but "
                               f"input.size({dim})={size} is not divisible by {r}")
    n = len(lead)
    patches = input.reshape(tuple(lead) + (channels, height // r, r, width // r, r))
    blocks = patches.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return named(blocks.reshape(tuple(lead) + (channels * r * r, height // r, width // r)),
                 "PixelUnshuffleBackward0")


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    data = _array(tensor)
    if data.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        _C._reads(tensor, "one_hot() without num_classes (a shape that depends on the values)")
        num_classes = int(data.max()) + 1
    return N.OneHot.apply(_t(tensor), int(num_classes))


def _embedding_renorm(weight: Tensor, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    rows = np.unique(indices.reshape(-1))
    picked = weight._data[rows]
    norms = np.linalg.norm(picked, ord=norm_type, axis=1)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(weight._data.dtype)
    weight._data[rows] = picked * scale[:, None]
    weight._version_counter().bump("embedding_renorm_")


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by the integer tensor ``input``; no gradient reaches row
    ``padding_idx``."""
    indices = _array(input)
    if indices.dtype.kind not in "iu":
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: "
            f"Long, Int; but got chainrule.{scalar_name(_array(indices).dtype)}Tensor instead (while checking "
            "arguments for embedding)"
        )
    rows = weight.shape[0]
    if padding_idx is not None:
        if padding_idx > 0 and padding_idx >= rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
        if padding_idx < 0:
            if padding_idx < -rows:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx += rows
    if indices.size and (indices.min() < 0 or indices.max() >= rows):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _embedding_renorm(weight, indices, max_norm, norm_type)
    # A sparse gradient for a weight that is a leaf (PyTorch's COO gradient, a SparseTensor).
    rows_to_sparse = _upcalls.sparse().from_rows if sparse and weight.grad_fn is None else None
    return N.Embedding.apply(weight, indices, padding_idx, scale_grad_by_freq, rows_to_sparse)


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """The sum, mean or max of the ``weight`` rows picked by each bag of indices: the rows of a
    2-D ``input`` (bags of one length), or the pieces of a 1-D ``input`` that start at
    ``offsets``.  Entries equal to ``padding_idx`` belong to no bag."""
    input = _t(input)
    if weight.dtype == _int64 and input.is_floating_point():
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage `embedding_bag(weight, "
                      "input, ...)` is deprecated, and should now be `embedding_bag(input, weight, ...)`.",
                      stacklevel=2)
        weight, input = input, weight
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it "
                         f"must have the same shape as the input ({input.shape})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if max_norm is not None:
        _embedding_renorm(weight, _array(input), max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for mode='sum' "
            f"(got mode='{mode}'). Please open a feature request on GitHub.")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    entries = input._data.reshape(-1)
    outside = (entries < 0) | (entries >= weight.shape[0])
    if outside.any():
        place = int(np.argmax(outside))
        raise RuntimeError(f"Index {place} of input takes value {int(entries[place])} which is not in the valid "
                           f"range [0, {weight.shape[0]})")
    rows = embedding(input, weight, padding_idx, None, norm_type, scale_grad_by_freq, sparse)
    if input.ndim == 2:  # (bags, length): every place holds an entry
        entries, kept, weights, member = input, rows, per_sample_weights, None
    else:
        entries, kept, weights, member = _bags(input, rows, offsets, per_sample_weights, include_last_offset)
    if padding_idx is not None:
        kept_out = entries != padding_idx
        member = kept_out if member is None else _C.logical_and(member, kept_out)
    return _bag_reduce(kept, member, weights, mode)


def _bags(input: Tensor, rows: Tensor, offsets: Tensor, per_sample_weights: Tensor | None,
          include_last_offset: bool) -> tuple:
    """The entries of a 1-D ``input`` laid out as (bags, longest bag), with their rows, their
    weights and which places hold one (a short bag's other places repeat entry 0).  The layout
    comes from the offsets' values: a graph capture stops here."""
    _C._reads(offsets, "embedding_bag with offsets (bags whose sizes depend on the values)")
    starts = [int(o) for o in offsets.tolist()]
    count = input.shape[0]
    if starts and starts[0] != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                           f"position 0. However, got {starts[0]}")
    if starts and starts[-1] > count:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {count} but got offsets[-1] of "
                           f"{starts[-1]}")
    if any(later < earlier for earlier, later in zip(starts, starts[1:])):
        raise RuntimeError(f"offsets must not decrease, but got {starts}")
    ends = starts[1:] if include_last_offset else starts[1:] + [count]
    if include_last_offset:
        starts = starts[:-1]
    longest = builtins.max([builtins.max(end - start, 0) for start, end in zip(starts, ends)] + [1])
    positions = np.zeros((len(starts), longest), dtype=np.int64)
    present = np.zeros((len(starts), longest), dtype=bool)
    for bag, (start, end) in enumerate(zip(starts, ends)):
        span = builtins.max(end - start, 0)
        positions[bag, :span] = np.arange(start, start + span)
        present[bag, :span] = True
    if count == 0:  # no entries at all: every bag is empty (zeros, still on the weight's graph)
        return _make(positions), rows.sum(0).expand(positions.shape + (rows.shape[1],)), None, _make(present)
    where = _make(positions)
    weights = None if per_sample_weights is None else per_sample_weights[where]
    return input[where], rows[where], weights, _make(present)


def _bag_reduce(rows: Tensor, member: Tensor | None, weights: Tensor | None, mode: str) -> Tensor:
    """(bags, length, dim) rows to (bags, dim): the sum, mean or max over the members of each
    bag (``member`` None: every place is one; an empty bag gives zeros)."""
    if weights is not None:
        rows = rows * weights.unsqueeze(-1)
    if member is None:
        return {"sum": rows.sum, "mean": rows.mean, "max": rows.amax}[mode](1)
    inside = member.unsqueeze(-1)
    if mode == "max":
        largest = _C.where(inside, rows, float("-inf")).amax(1)
        return _C.where(member.any(1).unsqueeze(-1), largest, 0.0)
    total = _C.where(inside, rows, 0.0).sum(1)
    if mode == "sum":
        return total
    return total / _C.clamp_min(member.sum(1, keepdim=True), 1).to(total.dtype)


# -- normalisation ---------------------------------------------------------------------------


def _check_param(param: Tensor | None, count: int, name: str) -> None:
    if param is not None and param._data.size != count:
        raise RuntimeError(f"{name} should contain {count} elements not {param._data.size}")


def _normalize_updating(input: Tensor, weight: Tensor | None, bias: Tensor | None, axes: tuple, eps: float,
                        bshape: tuple, running_mean: Tensor | None, running_var: Tensor | None, momentum: float,
                        name: str) -> Tensor:
    """Normalise with the statistics over ``axes``, blending them into the running statistics
    (when given) inside the op, whose in-place change of them is then recorded as ``name``'s."""
    update = None
    if running_mean is not None or running_var is not None:
        update = (_array(running_mean), _array(running_var), momentum)
    out = N.Normalize.apply(input, weight, bias, axes, eps, bshape, None, update)
    for buffer in (running_mean, running_var):
        if buffer is not None:
            buffer._version_counter().bump(name)
    return out


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise over every dim but the channel dim 1 (batch statistics in training, which
    also update the running ones in place; the running statistics otherwise)."""
    _floating(input, "batch_norm")
    shape = input.shape
    if input.ndim < 2:
        raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")
    channels = shape[1]
    for param, name in ((running_mean, "running_mean"), (running_var, "running_var"),
                        (weight, "weight"), (bias, "bias")):
        _check_param(param, channels, name)
    axes = (0,) + tuple(range(2, input.ndim))
    bshape = (1, channels) + (1,) * (input.ndim - 2)
    if training:
        if input._data.size // channels == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {shape!r}")
        out = _normalize_updating(input, weight, bias, axes, eps, bshape, running_mean, running_var, momentum,
                                  "batch_norm")
        return named(out, "NativeBatchNormBackward0")
    if running_mean is None or running_var is None:
        raise RuntimeError(f"{'running_mean' if running_mean is None else 'running_var'} must be defined in evaluation mode")
    stats = (running_mean._data.reshape(bshape), running_var._data.reshape(bshape))
    return named(N.Normalize.apply(input, weight, bias, axes, eps, bshape, stats), "NativeBatchNormBackward0")


def _trailing_axes(input: Tensor, normalized_shape: Any, weight: Tensor | None, bias: Tensor | None,
                   separator: str = ", ") -> tuple:
    """(shape, axes) of layer_norm's and rms_norm's ``normalized_shape``, checked against the
    input's trailing dims and the weight's and bias's shapes, with PyTorch's messages."""
    shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape [*{separator}"
            f"{', '.join(str(n) for n in shape)}], but got input of size{list(input.shape)}"
        )
    for param, name in ((weight, "weight"), (bias, "bias")):
        if param is not None and tuple(param.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of "
                               f"shape {list(param.shape)} and normalized_shape = {list(shape)}")
    return shape, tuple(range(input.ndim - k, input.ndim))


def layer_norm(input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dims of each sample."""
    _floating(input, "LayerNormKernelImpl")
    shape, axes = _trailing_axes(input, normalized_shape, weight, bias)
    return named(N.Normalize.apply(input, weight, bias, axes, eps, shape), "NativeLayerNormBackward0")


def rms_norm(input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``input / sqrt(mean(input^2) + eps) * weight`` over the trailing ``normalized_shape``
    dims (PyTorch's composite, op for op); ``eps`` defaults to the dtype's machine epsilon."""
    _, axes = _trailing_axes(input, normalized_shape, weight, None, separator="")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    out = input * _C.rsqrt(input.pow(2).mean(axes, keepdim=True) + eps)
    return out if weight is None else out * weight


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise each sample over groups of ``C / num_groups`` channels (and all spatial dims)."""
    _floating(input, "GroupNormKernelImpl")
    shape = tuple(input.shape)
    if input.ndim < 2 or shape[1] % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input of "
            f"shape {list(shape)} and num_groups={num_groups}"
        )
    batch, channels, spatial = shape[0], shape[1], shape[2:]
    for param, name in ((weight, "weight"), (bias, "bias")):
        if param is not None and (param.ndim != 1 or param._data.size != channels):
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in input, but got "
                f"{name} of shape {list(param.shape)} and input of shape {list(shape)}"
            )
    grouped = input.reshape((batch, num_groups, channels // num_groups) + spatial)
    axes = tuple(range(2, grouped.ndim))
    bshape = (1, num_groups, channels // num_groups) + (1,) * len(spatial)
    return named(N.Normalize.apply(grouped, weight, bias, axes, eps, bshape).reshape(shape), "NativeGroupNormBackward0")


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample over its spatial dims (``use_input_stats``; the
    running statistics, if given, are updated with the samples' mean statistics), or with
    the running statistics (``use_input_stats=False``), as PyTorch's instance_norm."""
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    _floating(input, "batch_norm")
    shape = input.shape
    spatial = int(np.prod(shape[2:])) if input.ndim > 2 else 1
    if spatial <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {shape!r}")
    channels = shape[1]
    for param, name in ((running_mean, "running_mean"), (running_var, "running_var"),
                        (weight, "weight"), (bias, "bias")):
        _check_param(param, channels, name)
    axes = tuple(range(2, input.ndim))
    bshape = (1, channels) + (1,) * (input.ndim - 2)
    # (statistics per sample: the op blends them per sample and averages over the samples)
    out = _normalize_updating(input, weight, bias, axes, eps, bshape, running_mean, running_var, momentum,
                              "instance_norm")
    return named(out, "ViewBackward0")


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """Each element divided by ``(k + alpha * mean of the squares of its ``size`` neighbouring
    channels) ** beta`` (AlexNet's normalisation across channels, dim 1)."""
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)")
    if input._data.size == 0:
        return input
    channels = input.shape[1]
    pads = ((0, 0), (size // 2, (size - 1) // 2)) + ((0, 0),) * (input.ndim - 2)
    squares = N.ConstantPad.apply(input * input, pads, 0)
    window = squares.narrow(1, 0, channels)
    for offset in range(1, size):
        window = window + squares.narrow(1, offset, channels)
    return input / ((window / size) * alpha + k) ** beta


# -- losses ----------------------------------------------------------------------------------


def _legacy_reduction(size_average: Any, reduce: Any) -> str:
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else ("sum" if reduce else "none")
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
        stacklevel=3,
    )
    return reduction


def _reduction(reduction: str, size_average: Any = None, reduce: Any = None) -> str:
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _warn_broadcast(input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
            stacklevel=3,
        )


def _weighted(loss: Tensor, weight: Tensor, input: Tensor, reduction: str, mean_by_weight: bool) -> Tensor:
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """mean((input - target)^2)."""
    input, target = full_precision(input, target)
    _warn_broadcast(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    if weight is None:
        return N.MseLoss.apply(input, target, reduction)
    loss = E.Square.apply(input - target)
    return named(_weighted(loss, weight, input, reduction, True), "MseLossBackward0")


def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """mean(|input - target|)."""
    input, target = full_precision(input, target)
    _warn_broadcast(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    loss = E.Abs.apply(input - target)
    if weight is not None:
        return _weighted(loss, weight, input, reduction, True)
    return _reduce(loss, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, |d| - beta / 2 elsewhere (d = input - target)."""
    input, target = full_precision(input, target)
    _warn_broadcast(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    diff = input - target
    _floating(diff, "smooth_l1_cpu")
    size = E.Abs.apply(diff)
    if beta == 0:
        return _reduce(size, reduction)
    # (the mask through the comparison op: a compiled plan finds it again at each call)
    loss = E.Where.apply((size < beta)._data, diff * diff * (0.5 / beta), size - 0.5 * beta)
    return named(_reduce(loss, reduction), "SmoothL1LossBackward0")


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 d^2 where |d| < delta, delta (|d| - delta / 2) elsewhere (d = input - target)."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    input, target = full_precision(input, target)
    _warn_broadcast(input, target)
    reduction = _reduction(reduction)
    diff = input - target
    _floating(diff, "huber_cpu")
    size = E.Abs.apply(diff)
    loss = E.Where.apply((size < delta)._data, diff * diff * 0.5, (size - 0.5 * delta) * delta)
    if weight is not None:
        return _weighted(loss, weight, input, reduction, False)
    return named(_reduce(loss, reduction), "HuberLossBackward0")


def _class_weight(weight: Tensor | None, classes: int) -> Any:
    if weight is None:
        return None
    if weight._data.size != classes or weight.ndim != 1:
        raise RuntimeError(
            f"weight tensor should be defined either for all {classes} classes or no classes but got "
            f"weight tensor of shape: {list(weight.shape)}"
        )
    return weight._data


def _class_index_args(input: Tensor, target: Any) -> tuple:
    """(input as (N, C, ...), target array as (N, ...), whether the input was unbatched)."""
    target_data = _array(target)
    if target_data.dtype.type is not np.int64 and target_data.dtype.type is not np.uint8:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {scalar_name(target_data.dtype)}")
    if input.ndim == 1:
        if target_data.ndim != 0:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        return input.reshape(1, input.shape[0]), target_data.reshape(1), True
    if input.ndim == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if target_data.ndim == 0 or input.shape[0] != target_data.shape[0]:
        raise ValueError(
            f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
            f"({target_data.shape[0] if target_data.ndim else 0})."
        )
    expected = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target_data.shape) != expected:
        raise RuntimeError(f"Expected target size {list(expected)}, got {list(target_data.shape)}")
    return input, target_data, False


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """-input[n, target[n]] * weight[target[n]], averaged over the weights by default."""
    input, target = full_precision(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    x, target_data, unbatched = _class_index_args(input, target)
    w = _class_weight(weight, x.shape[1])
    out = N.NllLoss.apply(x, target_data.astype(np.int64, copy=False), w, ignore_index, reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
                  ignore_index: int = -100, reduce: Any = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """log_softmax over dim 1 and the negative log-likelihood of the target: class indices
    (one fused node) or class probabilities (same shape as the input)."""
    input, target = full_precision(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    target_data = _array(target)
    if target_data.dtype.kind == "f" and tuple(target_data.shape) == tuple(input.shape):
        return _cross_entropy_probabilities(input, _t(target), weight, reduction, label_smoothing)
    x, target_data, unbatched = _class_index_args(input, target)
    target_data = target_data.astype(np.int64, copy=False)
    w = _class_weight(weight, x.shape[1])
    if label_smoothing == 0.0:
        out = N.CrossEntropy.apply(x, target_data, w, ignore_index, reduction)
    else:
        out = _cross_entropy_smoothed(x, target_data, weight, w, ignore_index, reduction, label_smoothing)
    return out.reshape(()) if unbatched and reduction == "none" else out


def _class_broadcast(weight: Tensor, ndim: int) -> Tensor:
    return weight.reshape((1, -1) + (1,) * (ndim - 2))


def _cross_entropy_smoothed(x: Tensor, target: np.ndarray, weight: Tensor | None, w: Any, ignore_index: int,
                            reduction: str, smoothing: float) -> Tensor:
    classes = x.shape[1]
    logp = _C.log_softmax(x, 1)
    nll = N.NllLoss.apply(logp, target, w, ignore_index, reduction)
    weighted = logp * _class_broadcast(weight, x.ndim) if weight is not None else logp
    kept = target != ignore_index
    smooth = -weighted.sum(1) * kept.astype(x._data.dtype)
    if reduction == "mean":
        if weight is not None:
            smooth = smooth.sum() / float(w[target[kept]].sum())
        else:
            smooth = smooth.sum() / float(kept.sum())
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1 - smoothing) + smooth * (smoothing / classes)


def _cross_entropy_probabilities(x: Tensor, target: Tensor, weight: Tensor | None, reduction: str,
                                 smoothing: float) -> Tensor:
    if x.ndim == 1:
        x, target = x.reshape(1, -1), target.reshape(1, -1)
        unbatched = True
    else:
        unbatched = False
    classes = x.shape[1]
    _class_weight(weight, classes)
    logp = _C.log_softmax(x, 1)
    if smoothing > 0:
        target = target * (1 - smoothing) + smoothing / classes
    terms = logp * target
    if weight is not None:
        terms = terms * _class_broadcast(weight, x.ndim)
    if reduction == "none":
        out = -terms.sum(1)
        return out.reshape(()) if unbatched else out
    total = -terms.sum()
    if reduction == "sum":
        return total
    count = x._data.size // classes
    return total / count if count else total * float("nan")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """-w (t log(x) + (1 - t) log(1 - x)) for probabilities ``x``; logs clamped at -100."""
    input, target = full_precision(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    target = _t(target)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}) "
            "is deprecated. Please ensure they have the same size."
        )
    w = None
    if weight is not None:
        w = np.broadcast_to(_array(weight), broadcast_shape(weight.shape, target.shape))
    return _reduce(N.BinaryCrossEntropy.apply(input, target, w), reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid and binary cross entropy in the stable form ``(1 - t) x - log(sigmoid(x))``
    (``log(sigmoid(x))`` weighted by ``1 + (pos_weight - 1) t``): finite for any logit."""
    input, target = full_precision(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    target = _t(target)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    if target._data.dtype.kind in "iu":  # (PyTorch computes the loss in the target's dtype, in place)
        raise cast_error(input._data.dtype, target._data.dtype)
    log_sig = N.LogSigmoid.apply(input)
    if pos_weight is not None:
        log_sig = log_sig * ((pos_weight - 1) * target + 1)
    loss = (1 - target) * input - log_sig
    if weight is not None:
        loss = loss * weight
    return named(_reduce(loss, reduction), "BinaryCrossEntropyWithLogitsBackward0")


def kl_div(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target || exp(input)) pointwise: ``target (log(target) - input)`` (0 where the target
    is 0), with ``log_target`` when the target is given as log-probabilities."""
    input, target = full_precision(input, target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the support size."
                "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                stacklevel=2,
            )
        if reduction not in ("none", "mean", "sum", "batchmean"):
            raise ValueError(f"{reduction} is not a valid value for reduction")
    return _kl_div_terms(input, target, reduction, log_target)


def _kl_div_terms(input: Tensor, target: Tensor, reduction: str, log_target: bool) -> Tensor:
    """:func:`kl_div` with a checked ``reduction`` and no warnings (``torch.kl_div``'s kernel)."""
    target = _t(target)
    if input._data.dtype.kind in "biu" or target._data.dtype.kind in "biu":
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if log_target:
        loss = E.Exp.apply(target) * (target - input)
    else:
        positive = (target > 0)._data  # (through the comparison op, so that a plan finds it again)
        safe = E.Where.apply(positive, target, 1.0)
        loss = E.Where.apply(positive, target * E.Log.apply(safe), 0.0) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim != 0 else total
    return _reduce(loss, reduction)


# -- margin and embedding losses ------------------------------------------------------------
# Written as PyTorch writes them (ATen's composite losses, op for op), so that the values and
# the gradients (of the target too, where PyTorch's formula has one) are PyTorch's. Masks from
# the target go through comparison ops: a compiled plan computes them again at each call.


def _not_differentiable(function: str, argument: str, value: Any) -> None:
    """PyTorch's refusal of a gradient its kernel does not compute (soft_margin_loss's target)."""
    if isinstance(value, Tensor) and value.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{function}' is not differentiable with respect to argument "
                           f"'{argument}'. This input cannot have requires_grad True.")


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """max(0, -target (input1 - input2) + margin): ``target`` 1 ranks input1 above input2."""
    reduction = _reduction(reduction, size_average, reduce)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: input1: "
            f"{input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    return _reduce(_C.clamp_min(-target * (input1 - input2) + margin, 0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``input`` where the target is 1, max(0, margin - input) where it is -1."""
    reduction = _reduction(reduction, size_average, reduce)
    target = _t(target)
    below_margin = E.Where.apply((target != 1)._data, _C.clamp_min(margin - input, 0), 0.0)
    return _reduce(below_margin + E.Where.apply((target != -1)._data, input, 0.0), reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + exp(-target input)), the two-class logistic loss for targets of 1 and -1."""
    reduction = _reduction(reduction, size_average, reduce)
    _not_differentiable("soft_margin_loss", "target", target)
    loss = (-input * _t(target)).exp().log1p()
    return named(_reduce(loss, reduction), "SoftMarginLossBackward0")


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """The mean over classes of each class's binary cross entropy with logits, per sample."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(dim=input.ndim - 1) / input.shape[input.ndim - 1]
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """1 - cos(input1, input2) where the target is 1, max(0, cos - margin) where it is -1
    (the cosine along the last dim, its squared norms kept off zero by 1e-12)."""
    reduction = _reduction(reduction, size_average, reduce)
    target = _t(target)
    if target.ndim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    expected = target.ndim + 1
    if input1.ndim != expected or input2.ndim != expected:
        raise RuntimeError(
            f"{target.ndim}D target tensor expects {expected}D input tensors, but found inputs with sizes "
            f"{list(input1.shape)} and {list(input2.shape)}.")
    dim = target.ndim
    dot = (input1 * input2).sum(dim)
    squares1 = (input1 * input1).sum(dim) + 1e-12
    squares2 = (input2 * input2).sum(dim) + 1e-12
    cos = dot / (squares1 * squares2).sqrt()
    similar = E.Where.apply((target == 1)._data, 1 - cos, 0.0)
    dissimilar = E.Where.apply((target == -1)._data, _C.clamp_min(cos - margin, 0), 0.0)
    return _reduce(similar + dissimilar, reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                      size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """The multi-class hinge loss: per sample, the mean over the other classes ``i`` of
    max(0, margin - input[target] + input[i])^p (times ``weight[target]``)."""
    reduction = _reduction(reduction, size_average, reduce)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    _not_differentiable("multi_margin_loss", "weight", weight)
    target = _t(target)
    x = input if input.ndim == 2 else input.reshape(1, -1)
    samples, classes = x.shape
    if input.ndim > 2 or (input.ndim == 2 and target.ndim != 1) or target.numel() != samples:
        raise RuntimeError(
            f"multi_margin_loss: target tensor should be 1-D with size equal to the number of input samples "
            f"(batch size). Expected target size [{samples}], but got {list(target.shape)}. Input has shape "
            f"{list(input.shape)}.")
    labels = target.reshape(samples, 1)
    data = target._data
    if data.size and (int(data.min()) < 0 or int(data.max()) >= classes):
        raise RuntimeError("target out of range")
    picked = _C.gather(x, 1, labels)  # (gather checks the range again at each replay of a plan)
    loss = _C.clamp_min(margin - picked + x, 0)
    if p == 2:
        loss = loss * loss
    if weight is not None:
        loss = loss * _C.index_select(weight.detach(), 0, target.reshape(-1)).reshape(samples, 1)
    others = labels != _arange(classes, device=x.device)
    loss = E.Where.apply(others._data, loss, 0.0).sum(1) / classes
    if input.ndim < 2:
        loss = loss.reshape(())
    return named(_reduce(loss, reduction), "MultiMarginLossBackward0")


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                           reduction: str = "mean") -> Tensor:
    """The multi-class multi-label hinge loss: per sample, the sum over its target classes
    ``j`` (``target``'s leading entries up to the first -1) and its other classes ``i`` of
    max(0, 1 - (input[j] - input[i])), divided by the number of classes."""
    reduction = _reduction(reduction, size_average, reduce)
    target = _t(target)
    shape = list(input.shape)
    if input.ndim not in (1, 2) or shape[-1] == 0:
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: {shape}")
    if list(target.shape) != shape:
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {shape}")
    if target._data.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {target.dtype.scalar_name}")
    x, labels = input.reshape(-1, shape[-1]), target.reshape(-1, shape[-1])
    data = labels._data
    if data.size and (int(data.min()) < -1 or int(data.max()) >= shape[-1]):
        raise RuntimeError("argument #2 'target' is out of range")
    xp = get_array_module(data)
    # A sample's targets are its entries before the first -1; the other classes are not targets.
    listed = xp.cumprod(data != -1, axis=1).astype(bool)
    is_target = ((data[:, :, None] == xp.arange(shape[-1])) & listed[:, :, None]).any(axis=1)
    picked = _C.gather(x, 1, Tensor._wrap(xp.where(listed, data, 0)))
    pairs = relu(1.0 - picked.unsqueeze(2) + x.unsqueeze(1))  # (sample, target slot j, class i)
    counted = listed[:, :, None] & ~is_target[:, None, :]
    loss = E.Where.apply(counted, pairs, 0.0).sum((1, 2)) / shape[-1]
    if input.ndim == 1:
        loss = loss.reshape(())
    return named(_reduce(loss, reduction), "MultilabelMarginLossBackward0")


def _lengths(name: str, lengths: Any, batch: int) -> np.ndarray:
    values = np.asarray(_array(lengths) if isinstance(lengths, Tensor) else lengths, dtype=np.int64).reshape(-1)
    if values.size != batch:
        raise RuntimeError(f"{name} must be of size batch_size")
    if values.size and values.min() < 0:
        raise RuntimeError(f"Expected {name} to have value at least 0, but got value {int(values.min())} "
                           f"(while checking arguments for ctc_loss_allocate_outputs)")
    return values


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """The connectionist temporal classification loss of (T, N, C) (or (T, C)) log-probabilities
    and targets padded (N, S) or concatenated (sum(target_lengths),): -log p(target), by the
    forward-backward algorithm; 'mean' divides each loss by its target length first.
    ``zero_infinity`` makes impossible alignments (infinite losses) and their gradients zero."""
    reduction = _reduction(reduction)
    targets = _t(targets)
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs, targets = log_probs.unsqueeze(1), targets.unsqueeze(0)
    steps, batch, classes = log_probs.shape
    if blank < 0 or blank >= classes:
        raise RuntimeError("blank must be in label range")
    inputs = _lengths("input_lengths", input_lengths, batch)
    lengths = _lengths("target_lengths", target_lengths, batch)
    if inputs.size and inputs.max() > steps:
        raise RuntimeError(f"Expected input_lengths to have value at most {steps}, but got value "
                           f"{int(inputs.max())} (while checking arguments for ctc_loss_allocate_outputs)")
    data = np.asarray(_array(targets)).astype(np.int64)
    checking = "for argument #2 'targets' (while checking arguments for ctc_loss_allocate_outputs)"
    if data.ndim not in (1, 2):
        raise RuntimeError(f"Expected 1 to 2 dimensions, but got {data.ndim}-dimensional tensor {checking}")
    longest = int(lengths.max()) if lengths.size else 0
    if data.ndim == 1:
        if data.size != lengths.sum():
            raise RuntimeError(f"Expected tensor to have size {int(lengths.sum())} at dimension 0, but got size "
                               f"{data.size} {checking}")
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        padded = np.zeros((batch, longest), dtype=np.int64)
        for n in range(batch):
            padded[n, :lengths[n]] = data[starts[n]:starts[n] + lengths[n]]
        data = padded
    elif data.shape[1] < longest:
        raise RuntimeError(f"Expected tensor to have size at least {longest} at dimension 1, but got size "
                           f"{data.shape[1]} {checking}")
    labels = np.full((batch, 2 * longest + 1), blank, dtype=np.int64)
    labels[:, 1::2] = data[:, :longest]
    labels[:, 1::2][np.arange(longest) >= lengths[:, None]] = blank
    xp = get_array_module(log_probs._data)
    loss = _ctc.CtcLoss.apply(log_probs, xp.asarray(labels), xp.asarray(inputs), xp.asarray(lengths),
                              zero_infinity)
    if reduction == "mean":
        divisor = Tensor._wrap(xp.asarray(np.maximum(lengths, 1).astype(log_probs._data.dtype)))
        return (loss / divisor).mean()
    if reduction == "sum":
        return loss.sum()
    return loss.squeeze(0) if unbatched else loss


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d the pairwise p-norm
    distance (``swap``: the negative's distance is the smaller of its distances to the anchor
    and to the positive)."""
    reduction = _reduction(reduction, size_average, reduce)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    return _triplet(anchor, positive, negative, lambda a, b: pairwise_distance(a, b, p, eps), margin, swap,
                    reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
                                      margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> Tensor:
    """:func:`triplet_margin_loss` with any distance (pairwise distance by default)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    return _triplet(anchor, positive, negative, distance_function or pairwise_distance, margin, swap, reduction)


def _triplet(anchor: Tensor, positive: Tensor, negative: Tensor, distance: Callable, margin: float, swap: bool,
             reduction: str) -> Tensor:
    dims = (anchor.ndim, positive.ndim, negative.ndim)
    if len(set(dims)) != 1:
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number of dimensions, "
            f"but got: anchor {dims[0]}D, positive {dims[1]}D, and negative {dims[2]}D inputs")
    to_positive = distance(anchor, positive)
    to_negative = distance(anchor, negative)
    if swap:
        to_negative = _C.minimum(to_negative, distance(positive, negative))
    return _reduce(_C.clamp_min(margin + to_positive - to_negative, 0), reduction)


# -- likelihood losses -------------------------------------------------------------------------


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: Any = None, eps: float = 1e-8, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """The negative log-likelihood of ``target`` under Poisson(rate): ``exp(input) - target
    input`` for a log rate, ``input - target log(input + eps)`` for a rate (``full``: plus
    Stirling's approximation of log(target!) where the target exceeds 1)."""
    reduction = _reduction(reduction, size_average, reduce)
    target = _t(target)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        # Stirling's term counts only where target > 1: computed on 1 elsewhere (PyTorch's values,
        # without log(0) on the way; the target's own gradient there is 0 where PyTorch's is NaN).
        small = (target <= 1)._data
        safe = E.Where.apply(small, 1.0, target)
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + E.Where.apply(small, 0.0, stirling)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """The negative log-likelihood of ``target`` under Normal(input, var):
    ``0.5 (log(var) + (input - target)^2 / var)``, the variance clamped at ``eps`` (the clamp
    outside the graph, as PyTorch's), ``full`` adding 0.5 log(2 pi)."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * _ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and sum(
                v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# -- padding and similarity -----------------------------------------------------------------


def _pad_constant(input: Tensor, pairs: tuple, value: Any) -> Tensor:
    return N.ConstantPad.apply(input, pairs, 0 if value is None else value)


#: ``pad`` modes: name -> fn(input, (before, after) pairs for every dim, value).
_PAD_MODES: dict[str, Callable[[Tensor, tuple, Any], Tensor]] = {"constant": _pad_constant}


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims: ``pad = (left, right, top, bottom, ...)`` starting
    from the last dim; negative widths crop."""
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got "
            f"padding length {len(pad)} and input of dimension {input.ndim}"
        )
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Padding mode \"{mode}\" is not supported")
    pairs = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        pairs[input.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return _PAD_MODES[mode](input, tuple(pairs), value)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Any = None) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``."""
    denom = _C.clamp_min(_C.norm(input, p, dim, keepdim=True), eps)
    result = input / denom
    if out is not None:
        out.copy_(result)
        return out
    return result


# -- convolution, pooling and resampling: chainrule.ops.conv / pooling / spatial ---------------

from ..ops import conv as _conv, pooling as _pooling, spatial as _spatial  # noqa: E402
from ..ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, fold, unfold  # noqa: E402
from ..ops.pooling import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d  # noqa: E402
from ..ops.volumetric import avg_pool3d, conv3d, conv_transpose3d, max_pool3d  # noqa: E402
from ..ops.grids import affine_grid, grid_sample  # noqa: E402
from ..ops.spatial import (  # noqa: E402
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d, check_adaptive_input, dropout1d, dropout2d, dropout3d, interpolate, pad_modes,
)

_PAD_MODES.update(pad_modes())
# Their backward formulas, recorded under create_graph, find these kernels in the Tensor namespace.
for _module in (_conv, _pooling, _spatial):
    tensor_namespace.extend(_module.namespace_functions())
del _module


def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = False) -> tuple:
    """``max_pool1d`` with its indices, whatever ``return_indices`` says."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = False) -> tuple:
    """``max_pool2d`` with its indices, whatever ``return_indices`` says."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = False) -> tuple:
    """``max_pool3d`` with its indices, whatever ``return_indices`` says."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def _adaptive_max_pool(input: Tensor, output_size: tuple, return_indices: bool, name: str) -> Any:
    """Max over PyTorch's adaptive windows [floor(i*n/o), ceil((i+1)*n/o)) of the last
    len(output_size) dims. The argmax of each window is found on the values, the maxima are
    gathered there: the gradient goes to that one element, as in PyTorch."""
    k = len(output_size)
    data = input._data
    check_adaptive_input(name, data.shape, k)
    sizes = data.shape[-k:]
    output_size = tuple(s if o is None else int(o) for o, s in zip(output_size, sizes))
    if any(o < 0 for o in output_size):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(output_size)}: "
                           f"{list(data.shape[:-k]) + list(output_size)}")
    lead = data.shape[:-k]
    indices = _pooling.AdaptiveMaxIndices.apply(input, output_size)
    flat = input.reshape(lead + (-1,))
    out = flat.gather(-1, indices.reshape(lead + (-1,))).reshape(lead + output_size)
    return (out, indices) if return_indices else out


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling of (N, C, L) to a fixed length (and the argmax positions)."""
    output_size = (output_size,) if not isinstance(output_size, (list, tuple)) else tuple(output_size)
    return _adaptive_max_pool(input, output_size, return_indices, "adaptive_max_pool1d")


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling of (N, C, H, W) to a fixed (H_out, W_out) (and the argmax positions in
    each H*W plane); ``adaptive_max_pool2d(x, 1)`` is global max pooling."""
    output_size = (output_size,) * 2 if not isinstance(output_size, (list, tuple)) else tuple(output_size)
    return _adaptive_max_pool(input, output_size, return_indices, "adaptive_max_pool2d")


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling of (N, C, D, H, W) to a fixed (D_out, H_out, W_out) (and the argmax
    positions in each D*H*W volume)."""
    output_size = (output_size,) * 3 if not isinstance(output_size, (list, tuple)) else tuple(output_size)
    if len(output_size) != 3:
        raise RuntimeError("adaptive_max_pool3d(): internal error: output_size.size() must be 3")
    return _adaptive_max_pool(input, output_size, return_indices, "adaptive_max_pool3d")


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any, return_indices: bool = False) -> tuple:
    """``adaptive_max_pool1d`` with its indices, whatever ``return_indices`` says."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: Any, return_indices: bool = False) -> tuple:
    """``adaptive_max_pool2d`` with its indices, whatever ``return_indices`` says."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size: Any, return_indices: bool = False) -> tuple:
    """``adaptive_max_pool3d`` with its indices, whatever ``return_indices`` says."""
    return adaptive_max_pool3d(input, output_size, True)



def _fractional_max_pool(input: Tensor, kernel_size: Any, output_size: Any, samples: Tensor, dims: int) -> tuple:
    """Fractional max pooling of the last ``dims`` dims with the windows the per-plane
    ``samples`` place (PyTorch's checks and messages), and the flat index of each maximum."""
    name = f"fractional_max_pool{dims}d"
    prefix = name + ("(): " if dims == 2 else "_out(): ")
    ints = "Ints" if dims == 2 else "three Ints"
    kernel = tuple(kernel_size) if isinstance(kernel_size, (list, tuple)) else (kernel_size,) * dims
    if len(kernel) != dims:
        raise RuntimeError(f"{name}: kernel_size must either be a single Int or tuple of {ints}")
    output_size = tuple(output_size) if isinstance(output_size, (list, tuple)) else (output_size,) * dims
    if len(output_size) != dims:
        raise RuntimeError(f"{name}: output_size must either be a single Int or tuple of {ints}")
    shape = list(input.shape)
    if input.dim() not in (dims + 1, dims + 2):
        raise RuntimeError(f"{prefix}Expected {dims + 1}D or {dims + 2}D tensor, but got: {shape}")
    for i in range(1, input.dim()):
        if shape[i] <= 0:
            raise RuntimeError(f"{prefix}Expected input to have non-zero size for non-batch dimensions, but got"
                               f"{shape} with dimension {i} being empty.")
    x = input.unsqueeze(0) if input.dim() == dims + 1 else input
    if samples.dtype != input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if samples.dim() != 3:
        raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got {samples.dim()}")
    if samples.shape[0] < x.shape[0]:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if samples.shape[1] != x.shape[1]:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if samples.shape[2] != dims:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {dims}; got {samples.shape[2]}.")
    for label, k, out, size in zip(("time", "height", "width")[-dims:], kernel, output_size, x.shape[2:]):
        if out + k - 1 > size:
            raise RuntimeError(f"{prefix}pool {label} {k} too large relative to input {label} {size}")
    n, c = x.shape[:2]
    indices = _pooling.FractionalMaxIndices.apply(x, kernel, output_size, samples)
    out = x.reshape(n, c, math.prod(x.shape[2:])).gather(2, indices.reshape(n, c, math.prod(output_size)))
    out = out.reshape(indices.shape)
    if x is not input:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return out, indices


def _fractional_samples(input: Tensor, dims: int) -> Tensor:
    """The windows' random placement, drawn as PyTorch draws it: ``rand(N, C, dims)`` in the
    input's dtype (the same numbers after the same ``manual_seed``)."""
    n_batch = 1 if input.dim() == dims + 1 else input.size(0)
    return _rand(n_batch, input.size(-dims - 1), dims, dtype=input.dtype, device=input.device)


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size: Any, output_size: Any = None,
                                       output_ratio: Any = None, return_indices: bool = False,
                                       _random_samples: Tensor | None = None) -> tuple:
    """2-D fractional max pooling of (N, C, H, W) or (C, H, W): max over ``kernel_size``
    windows placed at pseudo-random fractional strides so that the output is ``output_size``
    (or ``output_ratio`` of the input); with the flat H*W index of each maximum."""
    if output_size is None and output_ratio is None:
        raise ValueError("fractional_max_pool2d requires specifying either an output_size or an output_ratio")
    if output_size is None:
        if len(output_ratio) > 2:
            raise ValueError("fractional_max_pool2d requires output_ratio to either be a single Int or tuple of Ints.")
        ratio = output_ratio if isinstance(output_ratio, (list, tuple)) else (output_ratio,) * 2
        output_size = [int(input.size(-2) * ratio[0]), int(input.size(-1) * ratio[1])]
    if _random_samples is None:
        _random_samples = _fractional_samples(input, 2)
    return _fractional_max_pool(input, kernel_size, output_size, _random_samples, 2)


def fractional_max_pool3d_with_indices(input: Tensor, kernel_size: Any, output_size: Any = None,
                                       output_ratio: Any = None, return_indices: bool = False,
                                       _random_samples: Tensor | None = None) -> tuple:
    """3-D fractional max pooling of (N, C, T, H, W) or (C, T, H, W), as
    :func:`fractional_max_pool2d_with_indices`; the indices are flat T*H*W ones."""
    if output_size is None and output_ratio is None:
        raise ValueError("fractional_max_pool3d requires specifying either an output_size or an output_ratio")
    if output_size is None:
        ratio = tuple(output_ratio) if isinstance(output_ratio, (list, tuple)) else (output_ratio,) * 3
        output_size = [int(input.size(-3) * ratio[0]), int(input.size(-2) * ratio[1]),
                       int(input.size(-1) * ratio[2])]
    if _random_samples is None:
        _random_samples = _fractional_samples(input, 3)
    return _fractional_max_pool(input, kernel_size, output_size, _random_samples, 3)


def fractional_max_pool2d(input: Tensor, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                          return_indices: bool = False, _random_samples: Tensor | None = None) -> Any:
    """2-D fractional max pooling (see :func:`fractional_max_pool2d_with_indices`); the
    indices too when ``return_indices``."""
    out = fractional_max_pool2d_with_indices(input, kernel_size, output_size, output_ratio, return_indices,
                                             _random_samples)
    return out if return_indices else out[0]


def fractional_max_pool3d(input: Tensor, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                          return_indices: bool = False, _random_samples: Tensor | None = None) -> Any:
    """3-D fractional max pooling (see :func:`fractional_max_pool3d_with_indices`); the
    indices too when ``return_indices``."""
    out = fractional_max_pool3d_with_indices(input, kernel_size, output_size, output_ratio, return_indices,
                                             _random_samples)
    return out if return_indices else out[0]


def _unpool_output_size(input: Tensor, kernel: tuple, stride: tuple, padding: tuple, output_size: Any) -> tuple:
    default = [(input.shape[-len(kernel) + d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(len(kernel))]
    if output_size is None:
        return tuple(default)
    output_size = list(output_size)
    if len(output_size) == len(kernel) + 2:
        output_size = output_size[2:]
    if len(output_size) != len(kernel):
        raise ValueError(f"output_size should be a sequence containing {len(kernel)} or {len(kernel) + 2} elements, "
                         f"but it has a length of '{len(output_size)}'")
    for d in range(len(kernel)):
        low, high = default[d] - stride[d], default[d] + stride[d]
        if not low < output_size[d] < high:
            raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {low} and {high})')
    return tuple(int(n) for n in output_size)


def _max_unpool(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any, padding: Any, output_size: Any,
                dims: int) -> Tensor:
    """Each value of ``input`` written at its flat position ``indices`` of a zero plane (the
    partial inverse of max pooling with ``return_indices``)."""
    kernel = _conv._int_tuple(kernel_size, dims)
    steps = kernel if stride is None else _conv._int_tuple(stride, dims)
    size = _unpool_output_size(input, kernel, steps, _conv._int_tuple(padding, dims), output_size)
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}")
    lead = tuple(input.shape[:-dims])
    plane = int(np.prod(size))
    flat = _array(indices).reshape(-1)
    if flat.size and (flat.min() < 0 or flat.max() >= plane):
        bad = int(flat[(flat < 0) | (flat >= plane)][0])
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{'x'.join(str(n) for n in size)}")
    zeros = _zeros(lead + (plane,), dtype=input.dtype)
    written = zeros.scatter(-1, indices.reshape(lead + (-1,)), input.reshape(lead + (-1,)))
    return written.reshape(lead + size)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """The partial inverse of ``max_pool1d``: maxima back at their positions, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """The partial inverse of ``max_pool2d``: maxima back at their positions, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """The partial inverse of ``max_pool3d``: maxima back at their positions, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3)


def _lp_pool(input: Tensor, norm_type: float, kernel_size: Any, stride: Any, ceil_mode: bool, dims: int) -> Tensor:
    """The p-norm of each window: ``(sum of x^p) ** (1/p)`` through an average pool (infinite
    p: the max of |x|)."""
    max_pool, avg_pool = {1: (max_pool1d, avg_pool1d), 2: (max_pool2d, avg_pool2d), 3: (max_pool3d, avg_pool3d)}[dims]
    if norm_type == float("inf"):
        return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    window = int(np.prod(_conv._int_tuple(kernel_size, dims)))
    out = avg_pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (_C.sign(out) * relu(_C.abs(out))).mul(window).pow(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> Tensor:
    """Power-average pooling over (N, C, L)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> Tensor:
    """Power-average pooling over (N, C, H, W)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> Tensor:
    """Power-average pooling over (N, C, D, H, W)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3)


def _deprecated_upsample(name: str) -> None:
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=3)


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: Any = None) -> Tensor:
    """Deprecated in PyTorch in favour of ``interpolate``; the same function (and PyTorch's warning)."""
    _deprecated_upsample("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: ``interpolate(..., mode='nearest')`` (and PyTorch's warning)."""
    _deprecated_upsample("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)`` (and PyTorch's warning)."""
    _deprecated_upsample("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# -- multi-head attention ----------------------------------------------------------------------


def _none_or_dtype(input: Tensor | None) -> Any:
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _canonical_mask(mask: Tensor | None, mask_name: str, other_type: Any, other_name: str, target_type: Any,
                    check_other: bool = True) -> Tensor | None:
    """A boolean mask (True: masked out) as the float mask it stands for (-inf / 0); a float
    mask unchanged. Masks of two different types are accepted with PyTorch's warning."""
    if mask is None:
        return None
    kind = mask._data.dtype
    if kind != np.bool_ and kind.kind != "f":
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both "
                      "instead.", stacklevel=3)
    if kind == np.bool_:
        dtype = target_type.numpy if hasattr(target_type, "numpy") else target_type
        # Through the Where op, so that a plan (chainrule.compiler) reads the mask at each call.
        xp = get_array_module(mask._data)
        return E.Where.apply(mask._data, xp.asarray(-np.inf, dtype=dtype), xp.asarray(0, dtype=dtype))
    return mask


def _mha_shape_check(query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None,
                     attn_mask: Tensor | None, num_heads: int) -> bool:
    """Whether the inputs are batched (3-D) or not (2-D); anything else is an error."""
    if query.dim() not in (2, 3):
        raise AssertionError(
            f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query tensor")
    batched = query.dim() == 3
    kind, dims = ("batched (3-D)", 3) if batched else ("unbatched (2-D)", 2)
    if key.dim() != dims or value.dim() != dims:
        raise AssertionError(f"For {kind} `query`, expected `key` and `value` to be {dims}-D but found "
                             f"{key.dim()}-D and {value.dim()}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.dim() != dims - 1:
        raise AssertionError(f"For {kind} `query`, expected `key_padding_mask` to be `None` or {dims - 1}-D but "
                             f"found {key_padding_mask.dim()}-D tensor instead")
    if attn_mask is not None:
        if attn_mask.dim() not in (2, 3):
            raise AssertionError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                                 f"{attn_mask.dim()}-D tensor instead")
        if not batched and attn_mask.dim() == 3:
            expected = (num_heads, query.shape[0], key.shape[0])
            if tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
    return batched


def _in_projection_packed(q: Tensor, k: Tensor, v: Tensor, w: Tensor, b: Tensor | None = None) -> list:
    """q, k and v projected by the three row blocks of ``w`` (and ``b``)."""
    w_q, w_k, w_v = _C.chunk(w, 3)
    b_q, b_k, b_v = _C.chunk(b, 3) if b is not None else (None, None, None)
    return [linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)]


def _in_projection(q: Tensor, k: Tensor, v: Tensor, w_q: Tensor, w_k: Tensor, w_v: Tensor,
                   b_q: Tensor | None = None, b_k: Tensor | None = None, b_v: Tensor | None = None) -> tuple:
    """q, k and v projected by their own weights (keys and values may have other widths)."""
    eq, ek, ev = q.size(-1), k.size(-1), v.size(-1)
    for name, w, shape in (("query", w_q, (eq, eq)), ("key", w_k, (eq, ek)), ("value", w_v, (eq, ev))):
        if tuple(w.shape) != shape:
            raise AssertionError(f"expecting {name} weights shape of {shape}, but got {w.shape}")
    for name, b in (("query", b_q), ("key", b_k), ("value", b_v)):
        if b is not None and tuple(b.shape) != (eq,):
            raise AssertionError(f"expecting {name} bias shape of {(eq,)}, but got {b.shape}")
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def multi_head_attention_forward(
    query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
    in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None, bias_v: Tensor | None,
    add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor, out_proj_bias: Tensor | None,
    training: bool = True, key_padding_mask: Tensor | None = None, need_weights: bool = True,
    attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False, q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
    static_v: Tensor | None = None, average_attn_weights: bool = True, is_causal: bool = False, *,
    batch_first: bool = False,
) -> tuple:
    """Multi-head attention, as ``nn.MultiheadAttention`` computes it: inputs (L, N, E) (or
    unbatched (L, E)); returns the output and, with ``need_weights``, the attention weights
    (averaged over heads unless ``average_attn_weights`` is False).

    ``batch_first`` (a chainrule extension, keyword only) takes batched inputs as (N, L, E)
    and returns (N, L, E), without transposing them: the heads are split and merged in
    whichever layout the inputs have."""
    batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
        batch_first = False
    seq_axis, batch_axis = (1, 0) if batch_first else (0, 1)
    tgt_len, bsz, embed_dim = query.shape[seq_axis], query.shape[batch_axis], query.shape[2]
    src_len = key.shape[seq_axis]

    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask),
                                       "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        # The hint alone will do: the attention core masks the future itself.
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False  # the merged mask is no longer the causal one

    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f"{value.shape[:2]}")
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")

    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is None")
        b_q, b_k, b_v = _C.chunk(in_proj_bias, 3) if in_proj_bias is not None else (None, None, None)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight, b_q, b_k, b_v)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        # bias_k is (1, 1, E): one more key (and value) position for every sequence.
        extra = (bsz, 1, 1) if batch_first else (1, bsz, 1)
        k = _C.cat([k, bias_k.reshape(1, 1, embed_dim).repeat(*extra)], seq_axis)
        v = _C.cat([v, bias_v.reshape(1, 1, embed_dim).repeat(*extra)], seq_axis)
        attn_mask = pad(attn_mask, (0, 1)) if attn_mask is not None else None
        key_padding_mask = pad(key_padding_mask, (0, 1)) if key_padding_mask is not None else None
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")

    # Heads: (.., E) -> (N, H, L, D), views of the projections in whichever layout they have.
    split = (0, 2, 1, 3) if batch_first else (1, 2, 0, 3)

    def heads(x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], x.shape[1], num_heads, head_dim).permute(*split)

    q = heads(q)
    k = heads(k) if static_k is None else _static(static_k, "static_k", bsz, num_heads, head_dim)
    v = heads(v) if static_v is None else _static(static_v, "static_v", bsz, num_heads, head_dim)
    if add_zero_attn:
        k = _C.cat([k, _zeros(tuple(k.shape[:2]) + (1, head_dim), dtype=k.dtype, device=k.device)], 2)
        v = _C.cat([v, _zeros(tuple(v.shape[:2]) + (1, head_dim), dtype=v.dtype, device=v.device)], 2)
        attn_mask = pad(attn_mask, (0, 1)) if attn_mask is not None else None
        key_padding_mask = pad(key_padding_mask, (0, 1)) if key_padding_mask is not None else None
    src_len = k.shape[2]

    # One float mask for the (N, H, L, S) scores.
    if attn_mask is not None:
        attn_mask = attn_mask.reshape(1, 1, tgt_len, src_len) if attn_mask.shape[0] == 1 else \
            attn_mask.reshape(bsz, num_heads, tgt_len, src_len)
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            which, want, got = (0, bsz, key_padding_mask.shape[0]) if key_padding_mask.shape[0] != bsz else \
                (1, src_len, key_padding_mask.shape[1])
            raise AssertionError(f"Expected key_padded_mask.shape[{which}] to be {want}, but got {got}")
        padding = key_padding_mask.reshape(bsz, 1, 1, src_len)
        attn_mask = padding if attn_mask is None else attn_mask + padding
    if not training:
        dropout_p = 0.0

    if need_weights:
        # The weights are an output: softmax, dropout and the product as separate nodes.
        scores = _C.matmul(q * math.sqrt(1.0 / float(head_dim)), k.transpose(-2, -1))
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = softmax(scores, dim=-1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = _C.matmul(weights, v)
    else:
        out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    # (L, N, E), batch first or not, then a transposed view as PyTorch's: its layout decides the
    # order in which a dropout after it draws its mask.
    out = out.permute(2, 0, 1, 3).reshape(out.shape[2], out.shape[0], embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias)
    if batch_first:
        out = out.transpose(0, 1)
    if not batched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    if average_attn_weights:
        weights = weights.mean(dim=1)
    if not batched:
        weights = weights.squeeze(0)
    return out, weights


def _static(tensor: Tensor, name: str, bsz: int, num_heads: int, head_dim: int) -> Tensor:
    """``static_k`` / ``static_v`` (N * H, S, D) as (N, H, S, D)."""
    if tensor.size(0) != bsz * num_heads:
        raise AssertionError(f"expecting {name}.size(0) of {bsz * num_heads}, but got {tensor.size(0)}")
    if tensor.size(2) != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {tensor.size(2)}")
    return tensor.reshape(bsz, num_heads, tensor.size(1), head_dim)
