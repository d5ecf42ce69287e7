"""The ``torch.*`` spellings of ops chainrule keeps in ``nn.functional`` and on ``Tensor``.

PyTorch exposes many of its ops at the top of its namespace as well: ``torch.conv2d``,
``torch.dropout(input, p, train)``, ``torch.embedding(weight, indices)``, the losses with an
integer ``reduction`` (0 none, 1 mean, 2 sum; left out it is 0 there, not "mean"), an
in-place function for most in-place methods (``torch.relu_(x)`` is ``x.relu_()``) and a few
questions (``torch.is_nonzero(x)``), and the recurrent cells' one-step functions
(``torch.lstm_cell(input, (h, c), w_ih, w_hh, b_ih, b_hh)`` ...).  Each form here calls the one implementation
(``nn.functional``'s or the Tensor method) with the top-level signature PyTorch gives it;
``chainrule.<name>`` loads this module on first use (it needs ``nn``, which
``import chainrule`` leaves unloaded).
"""
from __future__ import annotations

from typing import Any, Callable

from ..tensor import Tensor
from . import functional as F
from .functional_rnn import gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell

#: ``reduction`` as PyTorch's top-level losses take it (``at::Reduction``).
_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}

#: ``nn.functional`` ops PyTorch also exposes as ``torch.<name>`` with the same arguments.
_SAME_AS_FUNCTIONAL = (
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "adaptive_avg_pool1d", "pixel_shuffle", "pixel_unshuffle", "prelu", "hardshrink", "bilinear",
    "layer_norm", "group_norm", "rms_norm", "selu", "celu", "threshold", "alpha_dropout",
    "feature_alpha_dropout",
)

#: In-place methods PyTorch also exposes as ``torch.<name>_(input, ...)``.
_INPLACE_METHODS = (
    "abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_", "asin_",
    "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_",
    "deg2rad_", "detach_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_",
    "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_",
    "reciprocal_", "relu_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_",
    "tanh_", "trunc_", "xlogy_", "zero_", "index_put_", "gcd_", "lcm_", "ldexp_", "i0_",
)


def _reduction(reduction: int | str) -> str:
    if isinstance(reduction, str):
        return reduction
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return _REDUCTIONS[reduction]


def _stride(stride: Any) -> Any:
    """PyTorch's top-level pooling takes ``stride=[]`` for "the kernel size"."""
    return None if stride is None or (isinstance(stride, (list, tuple)) and not stride) else stride


#: Questions PyTorch also asks as ``torch.<name>(input, ...)``.
_QUESTIONS = ("is_nonzero", "is_same_size", "is_signed")


def _method_form(name: str) -> Callable:
    def form(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        return getattr(input, name)(*args, **kwargs)

    form.__name__ = form.__qualname__ = name
    form.__doc__ = f"``input.{name}(...)``" + (": the tensor changed in place and returned." if name.endswith("_") else ".")
    return form


# -- dropout, with PyTorch's ``train`` ---------------------------------------------------------

def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """``F.dropout(input, p, training=train)``."""
    return F.dropout(input, p, train)


def dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """:func:`dropout` in place."""
    return F.dropout(input, p, train, inplace=True)


def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """``F.alpha_dropout`` in place."""
    return F.alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """``F.feature_alpha_dropout`` in place."""
    return F.feature_alpha_dropout(input, p, train, inplace=True)


def selu_(input: Tensor) -> Tensor:
    """``F.selu`` in place."""
    return F.selu(input, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``F.celu`` in place."""
    return F.celu(input, alpha, inplace=True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """``F.threshold`` in place."""
    return F.threshold(input, threshold, value, inplace=True)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          generator: Any = None) -> Tensor:
    """``F.rrelu`` (random slopes while training, drawn from the default generator)."""
    _default_generator_only(generator, "rrelu")
    return F.rrelu(input, lower, upper, training)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
           generator: Any = None) -> Tensor:
    """:func:`rrelu` in place."""
    _default_generator_only(generator, "rrelu_")
    return F.rrelu(input, lower, upper, training, inplace=True)


def _default_generator_only(generator: Any, name: str) -> None:
    if generator is not None:
        raise NotImplementedError(f"chainrule.{name}: a generator other than the default one is not supported")


# -- layers whose top-level form orders its arguments differently ------------------------------

def embedding(weight: Tensor, indices: Tensor, padding_idx: int = -1, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """Rows of ``weight`` at ``indices`` (``torch.embedding``: the weight first, ``padding_idx``
    -1 for none)."""
    return F.embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: Tensor | None,
               running_var: Tensor | None, training: bool, momentum: float, eps: float,
               cudnn_enabled: bool = True) -> Tensor:
    """``F.batch_norm`` with ``torch.batch_norm``'s order of arguments."""
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: Tensor | None,
                  running_var: Tensor | None, use_input_stats: bool, momentum: float, eps: float,
                  cudnn_enabled: bool = True) -> Tensor:
    """``F.instance_norm`` with ``torch.instance_norm``'s order of arguments."""
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def constant_pad_nd(input: Tensor, pad: Any, value: float = 0) -> Tensor:
    """``F.pad(input, pad, "constant", value)``."""
    return F.pad(input, pad, "constant", value)


# -- pooling, with ``stride=[]`` ---------------------------------------------------------------

def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """``F.avg_pool1d`` (an empty ``stride``: the kernel size)."""
    return F.avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode, count_include_pad)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    """``F.max_pool1d`` (an empty ``stride``: the kernel size)."""
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False) -> tuple:
    """:func:`max_pool1d` and the positions of the maxima."""
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode, return_indices=True)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    """``F.max_pool2d`` (an empty ``stride``: the kernel size)."""
    return F.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    """``F.max_pool3d`` (an empty ``stride``: the kernel size)."""
    return F.max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def adaptive_max_pool1d(input: Tensor, output_size: Any) -> tuple:
    """``F.adaptive_max_pool1d`` with the positions of the maxima (the top-level form returns both)."""
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


# -- losses, with an integer ``reduction`` -----------------------------------------------------

def kl_div(input: Tensor, target: Tensor, reduction: int = 0, log_target: bool = False) -> Tensor:
    """``F.kl_div``; ``reduction`` 0 none (the default), 1 mean (per element), 2 sum."""
    return F._kl_div_terms(input, target, _reduction(reduction), log_target)  # (no warning about "mean": torch's has none)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     pos_weight: Tensor | None = None, reduction: int = 0) -> Tensor:
    """``F.binary_cross_entropy_with_logits``; ``reduction`` 0 none (the default), 1 mean, 2 sum."""
    return F.binary_cross_entropy_with_logits(input, target, weight, reduction=_reduction(reduction),
                                              pos_weight=pos_weight)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction: int = 0) -> Tensor:
    """``F.cosine_embedding_loss``; ``reduction`` 0 none (the default), 1 mean, 2 sum."""
    return F.cosine_embedding_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        reduction: int = 0) -> Tensor:
    """``F.margin_ranking_loss``; ``reduction`` 0 none (the default), 1 mean, 2 sum."""
    return F.margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, reduction: int = 0) -> Tensor:
    """``F.hinge_embedding_loss``; ``reduction`` 0 none (the default), 1 mean, 2 sum."""
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, reduction: int = 0) -> Tensor:
    """``F.triplet_margin_loss``; ``reduction`` 0 none (the default), 1 mean, 2 sum."""
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction=_reduction(reduction))


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float,
                     reduction: int) -> Tensor:
    """``F.poisson_nll_loss``, every argument given; ``reduction`` 0 none (the default), 1 mean, 2 sum."""
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=_reduction(reduction))


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: int = 0, zero_infinity: bool = False) -> Tensor:
    """``F.ctc_loss``; ``reduction`` 0 none (the default), 1 mean (over target lengths), 2 sum."""
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, _reduction(reduction),
                      zero_infinity)


for _name in _SAME_AS_FUNCTIONAL:
    globals()[_name] = getattr(F, _name)
for _name in _INPLACE_METHODS + _QUESTIONS:
    globals()[_name] = _method_form(_name)
del _name

__all__ = [*_SAME_AS_FUNCTIONAL, *_INPLACE_METHODS, *_QUESTIONS, "dropout", "dropout_", "alpha_dropout_", "feature_alpha_dropout_",
           "selu_", "celu_", "threshold_", "rrelu", "rrelu_", "embedding", "batch_norm", "instance_norm",
           "constant_pad_nd", "avg_pool1d", "max_pool1d", "max_pool1d_with_indices", "max_pool2d", "max_pool3d",
           "adaptive_max_pool1d", "kl_div", "binary_cross_entropy_with_logits", "cosine_embedding_loss",
           "margin_ranking_loss", "hinge_embedding_loss", "triplet_margin_loss", "poisson_nll_loss", "ctc_loss",
           "lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"]
