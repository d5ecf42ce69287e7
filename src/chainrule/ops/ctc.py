"""The connectionist temporal classification loss (``F.ctc_loss``): PyTorch's forward-backward
algorithm in log space, vectorised over the batch and the extended label sequence (a Python
loop over time only), and PyTorch's gradient with respect to the log-probabilities.

A sample's extended labels are its targets with a blank before, between and after them
(``2 S + 1`` places); ``alpha[t, s]`` is the log-probability of the paths through place
``s`` at time ``t`` seen from the start, ``beta[t, s]`` from the end, both counting the
log-probability at (t, s) itself, as PyTorch's kernel.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Op
from .namespace import plain


def _logsumexp(xp: Any, *terms: Any) -> Any:
    """log(sum(exp(terms))) elementwise, -inf where every term is -inf."""
    top = terms[0]
    for term in terms[1:]:
        top = xp.maximum(top, term)
    finite = xp.where(xp.isneginf(top), 0, top)
    total = sum(xp.exp(term - finite) for term in terms)
    with np.errstate(divide="ignore"):
        return xp.log(total) + finite


def _shifted(xp: Any, a: Any, by: int, fill: float) -> Any:
    """``a`` (.., L) moved ``by`` places right along its last axis (left for a negative ``by``)."""
    out = xp.full_like(a, fill)
    if by > 0:
        out[..., by:] = a[..., :-by]
    else:
        out[..., :by] = a[..., -by:]
    return out


class CtcLoss(Op):
    """Per sample, -log p(target | log_probs): (T, N, C) log-probabilities in, (N,) out."""

    __slots__ = ("alpha", "beta", "labels", "lengths", "nll", "zero_infinity")
    pytorch_name = "CtcLossBackward0"
    derivative = ("d ctc(lp)/d lp[t, c] = exp(lp[t, c]) - sum over places s labelled c of "
                  "exp(alpha[t, s] + beta[t, s] - lp[t, c]) / p(target) (PyTorch's form)",)

    def forward(self, xp, log_probs, labels, input_lengths, target_lengths, zero_infinity):
        steps, batch, _ = log_probs.shape
        places = labels.shape[1]
        neg_inf = -np.inf
        picked = xp.take_along_axis(log_probs, xp.broadcast_to(labels[None], (steps, batch, places)), axis=2)
        # A place may be reached from two places back: when it holds a label that differs from that one's.
        skip = xp.zeros(labels.shape, dtype=bool)
        skip[:, 2:] = (labels[:, 2:] != labels[:, :-2]) & (xp.arange(places)[2:] % 2 == 1)
        ends = 2 * target_lengths + 1  # places used per sample
        inside = xp.arange(places) < ends[:, None]
        alpha = xp.full((steps, batch, places), neg_inf, dtype=log_probs.dtype)
        first = xp.full((batch, places), neg_inf, dtype=log_probs.dtype)
        first[:, :2] = picked[0, :, :2]
        alpha[0] = xp.where(inside, first, neg_inf)
        for t in range(1, steps):
            prev = alpha[t - 1]
            reach = _logsumexp(xp, prev, _shifted(xp, prev, 1, neg_inf),
                               xp.where(skip, _shifted(xp, prev, 2, neg_inf), neg_inf))
            alpha[t] = xp.where(inside, picked[t] + reach, neg_inf)
        last = xp.clip(input_lengths - 1, 0, None)
        at_end = alpha[last, xp.arange(batch)]  # (N, L): alpha at each sample's last time step
        final = xp.take_along_axis(at_end, (ends - 1)[:, None], axis=1)[:, 0]
        before = xp.take_along_axis(at_end, xp.clip(ends - 2, 0, None)[:, None], axis=1)[:, 0]
        nll = -_logsumexp(xp, final, xp.where(target_lengths > 0, before, neg_inf))
        nll = xp.where(input_lengths == 0, xp.where(target_lengths == 0, 0.0, np.inf), nll).astype(log_probs.dtype)
        self.alpha, self.labels, self.nll, self.zero_infinity = alpha, labels, nll, zero_infinity
        self.lengths = (input_lengths, ends, skip, picked)
        self.saved = (log_probs,)
        return xp.where(xp.isinf(nll), 0.0, nll).astype(nll.dtype) if zero_infinity else nll

    def _beta(self, xp: Any) -> Any:
        input_lengths, ends, skip, picked = self.lengths
        steps, batch, places = picked.shape
        neg_inf = -np.inf
        index = xp.arange(places)
        start = xp.where((index == ends[:, None] - 1) | ((index == ends[:, None] - 2) & (ends[:, None] > 1)),
                         0.0, neg_inf)
        skip_from = _shifted(xp, skip, -2, False)  # place s may go on to s + 2
        beta = xp.full((steps, batch, places), neg_inf, dtype=picked.dtype)
        nxt = xp.full((batch, places), neg_inf, dtype=picked.dtype)
        for t in range(steps - 1, -1, -1):
            reach = _logsumexp(xp, nxt, _shifted(xp, nxt, -1, neg_inf),
                               xp.where(skip_from, _shifted(xp, nxt, -2, neg_inf), neg_inf))
            at_last = (t == input_lengths - 1)[:, None]
            reach = xp.where(at_last, start, xp.where((t < input_lengths - 1)[:, None], reach, neg_inf))
            beta[t] = picked[t] + reach
            nxt = beta[t]
        return beta

    def backward(self, xp, g):
        (log_probs,) = self.saved
        if not plain(xp):  # create_graph: a node of its own, depending on the log-probabilities
            return CtcGradient.apply(g, log_probs, self)
        return ctc_gradient_array(xp, g, log_probs, self)


def ctc_gradient_array(xp: Any, g: Any, log_probs: Any, op: CtcLoss) -> Any:
    """PyTorch's gradient of the per-sample losses with respect to the log-probabilities:
    ``(exp(lp) - exp(log sum_{s: label c} alpha beta + nll - lp)) * g``, zero past each
    sample's length (and for an infinite loss under ``zero_infinity``)."""
    steps, batch, classes = log_probs.shape
    input_lengths = op.lengths[0]
    beta = op._beta(xp)
    both = op.alpha + beta  # (T, N, L)
    top = both.max(axis=2, keepdims=True)
    top = xp.where(xp.isneginf(top), 0, top)
    one_hot = (op.labels[:, :, None] == xp.arange(classes)).astype(log_probs.dtype)  # (N, L, C)
    summed = xp.einsum("tnl,nlc->tnc", xp.exp(both - top), one_hot)
    with np.errstate(divide="ignore"):
        lcab = xp.log(summed) + top
    nll = op.nll[None, :, None]
    with np.errstate(invalid="ignore", over="ignore"):
        grad = (xp.exp(log_probs) - xp.exp(lcab + nll - log_probs)) * g[None, :, None]
    keep = xp.arange(steps)[:, None] < input_lengths[None, :]
    if op.zero_infinity:
        keep = keep & ~xp.isinf(op.nll)[None, :]
    return xp.where(keep[:, :, None], grad, 0).astype(log_probs.dtype)


class CtcGradient(Op):
    """The CTC gradient recorded under ``create_graph``: PyTorch has no derivative of it."""

    __slots__ = ()
    pytorch_name = "NotImplemented"
    derivative = ("d ctc_grad/dg: not implemented (PyTorch has none)",
                  "d ctc_grad/d lp: not implemented (PyTorch has none)")

    def forward(self, xp, g, log_probs, op):
        return ctc_gradient_array(xp, g, log_probs, op)

    def backward(self, xp, grad):
        raise RuntimeError("derivative for aten::_ctc_loss_backward is not implemented")
