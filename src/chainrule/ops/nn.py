"""Neural-network primitives: softmax and log-softmax (more nn ops live beside them)."""
from __future__ import annotations

from ..autograd.function import Op


class Softmax(Op):
    __slots__ = ("axis",)
    derivative = ("d softmax(u)_i/du_j = s_i ([i=j] - s_j)",)

    def forward(self, xp, a, axis):
        self.axis = axis
        shifted = a - a.max(axis=axis, keepdims=True)
        out = xp.exp(shifted)
        out /= out.sum(axis=axis, keepdims=True)
        self.saved = (out,)
        return out

    def backward(self, xp, g):
        (out,) = self.saved
        return out * (g - (g * out).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Op):
    __slots__ = ("axis",)
    derivative = ("d log_softmax(u)_i/du_j = [i=j] - softmax(u)_j",)

    def forward(self, xp, a, axis):
        self.axis = axis
        shifted = a - a.max(axis=axis, keepdims=True)
        out = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        self.saved = (out,)
        return out

    def backward(self, xp, g):
        (out,) = self.saved
        return g - xp.exp(out) * g.sum(axis=self.axis, keepdims=True)
