"""Recurrent layers over whole sequences: one graph node per layer and direction.

Unrolled into ordinary ops, backpropagation through time records a dozen nodes per time
step.  ``RecurrentLayer`` records one node for a whole layer (one direction) over the whole
sequence, and runs the time loop itself, in NumPy:

* forward: ONE GEMM projects the inputs of every time step at once (``x W_ih^T + b``), then
  one GEMM per step for the recurrence (``h_{t-1} W_hh^T``); the gates are computed in place
  and their activations kept for backward;
* backward: the time loop runs back with those activations, one GEMM per step for
  ``dL/dh_{t-1} = dL/dgates_t W_hh``; the gradients of the weights and of the input come
  from a few large GEMMs over all steps at once (``dW_ih = dgates^T x``, ``dW_hh =
  dgates^T h_prev``, ``dx = dgates W_ih``).

Sequences are in PyTorch's packed layout: the rows of step ``t`` are ``batch_sizes[t]``
consecutive rows, the sequences sorted longest first, so that a step's rows are a prefix of
the previous step's.  A padded ``(T, B, features)`` input is the packed layout with every
batch size ``B``.  The reverse direction runs the steps last to first; a sequence then joins
when its last step comes, starting from its row of the initial state.

The layer's output is ``y`` (every step's hidden state, ``(T, B, P)`` or ``(N, P)``
packed); for an LSTM it is ``y`` and every step's cell state ``c``, raveled one after the
other into one flat array (a node has one output; the cell states are kept for backward
anyway), which the caller takes apart.

Under ``create_graph=True`` the backward records itself instead: the forward is recomputed
step by step with ordinary ops and the same formulas applied to Tensors
(:func:`_recorded_backward`), so second derivatives flow through it.

Gates, as PyTorch (and its weight layout) has them::

    RNN   h' = tanh|relu(x W_ih^T + b_ih + h W_hh^T + b_hh)
    LSTM  i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (x W_ih^T + b_ih + h W_hh^T + b_hh)
          c' = f c + i g,   h' = o tanh(c')   (times W_hr^T with a projection)
    GRU   r, z = sigmoid(x W_i{r,z}^T + b_i{r,z} + h W_h{r,z}^T + b_h{r,z})
          n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn)),   h' = (1 - z) n + z h
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..autograd.function import Op, variant
from .elementwise import Relu, Sigmoid
from .namespace import plain
from .shape import Cat

#: Gates per mode (the rows of W_ih and W_hh are that many blocks of hidden_size).
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def schedule(batch_sizes: Sequence[int], reverse: bool) -> list[tuple[int, int]]:
    """``(first row, batch size)`` of every time step, in the order the layer runs them."""
    steps, start = [], 0
    for size in batch_sizes:
        steps.append((start, int(size)))
        start += int(size)
    return steps[::-1] if reverse else steps


def _previous(states: Any, initial: Any, steps: list, k: int) -> Any:
    """The states step ``k`` starts from: the rows of step ``k - 1`` (a prefix of them,
    sequences being sorted longest first) and, for sequences that join at step ``k`` (the
    reverse direction), their rows of the initial state."""
    size = steps[k][1]
    if k == 0:
        return initial[:size]
    start, before = steps[k - 1]
    if size <= before:
        return states[start:start + size]
    return np.concatenate((states[start:start + before], initial[before:size]))


def _previous_all(states: Any, initial: Any, steps: list, out: Any) -> Any:
    """``out``, row for row: the state each row's step started from. Padded sequences (one
    batch size) take two vectorised copies; packed ones one per step."""
    rows, batch = states.shape[0], steps[0][1]
    if all(size == batch for _, size in steps):
        forward = steps[0][0] == 0
        pairs = [(slice(batch, rows), states[:rows - batch]), (slice(0, batch), initial)] if forward else \
            [(slice(0, rows - batch), states[batch:]), (slice(rows - batch, rows), initial)]
    else:
        pairs = [(slice(start, start + size), _previous(states, initial, steps, k))
                 for k, (start, size) in enumerate(steps)]
    for where, prev in pairs:
        out[where] = prev
    return out


def _sigmoid_(a: Any) -> Any:
    """In place: ``a`` holds tanh(z / 2); sigmoid(z) = (1 + tanh(z / 2)) / 2."""
    a *= 0.5
    a += 0.5
    return a


def _kernel_weights(array: Any, sigmoid_rows: slice, order: Any = None) -> Any:
    """``array``'s gate blocks in the kernel's order (``order``: block indices), the rows of
    the sigmoid gates halved (exactly: a power of two), so that one tanh over all gates
    gives tanh(z / 2) there, from which sigmoid(z) follows; weights come transposed and
    contiguous, ready to be a GEMM's right operand."""
    if order is not None:
        blocks = np.split(array, 4)
        array = np.concatenate([blocks[i] for i in order])
    else:
        array = array.copy()
    array[sigmoid_rows] *= 0.5
    return np.ascontiguousarray(array.T) if array.ndim == 2 else array


#: LSTM gate blocks in the kernel's order (i, f, o, g): the sigmoid gates side by side.
_LSTM_ORDER = (0, 1, 3, 2)


# -- forward kernels (NumPy, in place) --------------------------------------------------------


def _project(x2: Any, w_ih_t: Any, bias: Any) -> Any:
    """Every step's input projection at once: ``x W_ih^T + bias`` (one GEMM)."""
    out = x2 @ w_ih_t
    if bias is not None:
        out += bias
    return out


def _lstm_forward(x2, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, steps):
    hidden = w_ih.shape[0] // 4
    rows, n = x2.shape[0], h0.shape[1]
    sig = slice(0, 3 * hidden)
    bias = None if b_ih is None else _kernel_weights(b_ih + b_hh, sig, _LSTM_ORDER)
    gates = _project(x2, _kernel_weights(w_ih, sig, _LSTM_ORDER), bias)
    w_hh_t = _kernel_weights(w_hh, sig, _LSTM_ORDER)
    out = np.empty(rows * n + rows * hidden, dtype=x2.dtype)
    y = out[:rows * n].reshape(rows, n)
    c_all = out[rows * n:].reshape(rows, hidden)
    m_all = None if w_hr is None else np.empty((rows, hidden), dtype=x2.dtype)
    w_hr_t = None if w_hr is None else np.ascontiguousarray(w_hr.T)
    batch = h0.shape[0]
    recurrent = np.empty((batch, 4 * hidden), dtype=x2.dtype)
    tc = np.empty((batch, hidden), dtype=x2.dtype)
    for k, (start, size) in enumerate(steps):
        h = _previous(y, h0, steps, k)
        c = _previous(c_all, c0, steps, k)
        g = gates[start:start + size]
        rec = recurrent[:size]
        np.matmul(h, w_hh_t, out=rec)
        g += rec
        np.tanh(g, out=g)
        _sigmoid_(g[:, sig])
        ct = c_all[start:start + size]
        t = tc[:size]
        np.multiply(g[:, hidden:2 * hidden], c, out=ct)  # c' = f c + i g
        np.multiply(g[:, :hidden], g[:, 3 * hidden:], out=t)
        ct += t
        np.tanh(ct, out=t)
        if m_all is None:
            np.multiply(g[:, 2 * hidden:3 * hidden], t, out=y[start:start + size])  # h' = o tanh(c')
        else:
            m = m_all[start:start + size]
            np.multiply(g[:, 2 * hidden:3 * hidden], t, out=m)
            np.matmul(m, w_hr_t, out=y[start:start + size])
    return out, (gates, m_all)


def _gru_forward(x2, h0, w_ih, w_hh, b_ih, b_hh, steps):
    hidden = w_ih.shape[0] // 3
    sig = slice(0, 2 * hidden)
    bias = b_hn = None
    if b_ih is not None:
        bias = _kernel_weights(b_ih, sig)
        bias[sig] += 0.5 * b_hh[sig]
        b_hn = b_hh[2 * hidden:]
    gates = _project(x2, _kernel_weights(w_ih, sig), bias)  # (r, z) halved, then n's input part
    w_hh_t = _kernel_weights(w_hh, sig)
    y = np.empty((x2.shape[0], hidden), dtype=x2.dtype)
    hn_all = np.empty((x2.shape[0], hidden), dtype=x2.dtype)
    recurrent = np.empty((h0.shape[0], 3 * hidden), dtype=x2.dtype)
    for k, (start, size) in enumerate(steps):
        h = _previous(y, h0, steps, k)
        g = gates[start:start + size]
        rec = recurrent[:size]
        np.matmul(h, w_hh_t, out=rec)
        rz = g[:, sig]
        rz += rec[:, sig]
        np.tanh(rz, out=rz)
        _sigmoid_(rz)
        r, z, n = g[:, :hidden], g[:, hidden:2 * hidden], g[:, 2 * hidden:]
        hn = hn_all[start:start + size]
        if b_hn is None:
            hn[...] = rec[:, 2 * hidden:]
        else:
            np.add(rec[:, 2 * hidden:], b_hn, out=hn)
        t = rec[:, :hidden]
        np.multiply(r, hn, out=t)
        n += t
        np.tanh(n, out=n)
        ht = y[start:start + size]
        np.subtract(h, n, out=ht)  # h' = n + z (h - n)
        ht *= z
        ht += n
    return y, (gates, hn_all)


def _rnn_forward(x2, h0, w_ih, w_hh, b_ih, b_hh, steps, relu):
    bias = None if b_ih is None else b_ih + b_hh
    y = _project(x2, np.ascontiguousarray(w_ih.T), bias)
    w_hh_t = np.ascontiguousarray(w_hh.T)
    recurrent = np.empty((h0.shape[0], w_hh.shape[0]), dtype=x2.dtype)
    for k, (start, size) in enumerate(steps):
        h = _previous(y, h0, steps, k)
        ht = y[start:start + size]
        rec = recurrent[:size]
        np.matmul(h, w_hh_t, out=rec)
        ht += rec
        if relu:
            np.maximum(ht, 0, out=ht)
        else:
            np.tanh(ht, out=ht)
    return y, ()


# -- backward kernels (NumPy) -----------------------------------------------------------------
#
# The time loop runs back over chunks of consecutive steps (a few hundred kilobytes of gate
# activations each, so that they stay in the CPU's cache). For each chunk, a few vectorised
# passes first compute every factor of the gate gradients that does not depend on the
# gradient flowing back along the recurrence; each step then only multiplies that gradient
# in: a handful of small in-place ops and one GEMM.

#: Bytes of gate activations per chunk of steps.
_CHUNK_BYTES = 1 << 19


def _chunks(steps: list, width: int, itemsize: int):
    """``(ks, lo, hi)``: runs of consecutive steps ``ks`` (last first, as backward takes
    them), covering the rows ``[lo, hi)`` (contiguous: consecutive steps are adjacent)."""
    limit = max(1, _CHUNK_BYTES // (width * itemsize))
    k = len(steps) - 1
    while k >= 0:
        first, rows = k, 0
        while first >= 0 and (rows == 0 or rows + steps[first][1] <= limit):
            rows += steps[first][1]
            first -= 1
        ks = range(k, first, -1)
        bounds = [steps[j][0] for j in ks] + [steps[j][0] + steps[j][1] for j in ks]
        yield ks, min(bounds), max(bounds)
        k = first


class _Carry:
    """The gradient flowing back along the recurrence: ``value[:size]`` is dL/d(state step k
    started from) once step ``k`` is done.  Rows the earlier steps do not continue (sequences
    that joined at step ``k``) belong to the initial state, and go to ``initial``."""

    def __init__(self, batch: int, width: int, dtype: Any, wanted: bool) -> None:
        self.value = np.zeros((batch, width), dtype=dtype)
        self.initial = np.zeros((batch, width), dtype=dtype) if wanted else None

    def hand_on(self, steps: list, k: int) -> None:
        """After step ``k``: the rows step ``k - 1`` has not (all, for k = 0) go to the
        initial state's gradient."""
        size = steps[k][1]
        before = steps[k - 1][1] if k else 0
        if self.initial is not None and size > before:
            self.initial[before:size] += self.value[before:size]


def _one_minus_square(a: Any, out: Any) -> Any:
    np.multiply(a, a, out=out)
    return np.subtract(1, out, out=out)


def _weight_grads(node, gates_h, x2, w_ih, prev, gates_i=None):
    """dx, dW_ih, dW_hh, db_ih, db_hh from every step's gate gradients at once: ``gates_i``
    for the input side (the same as ``gates_h`` except for a GRU's n gate)."""
    gates_i = gates_h if gates_i is None else gates_i
    dx = gates_i @ w_ih if node.needs_grad(0) else None
    dw_ih = gates_i.T @ x2 if node.needs_grad(3) else None
    dw_hh = gates_h.T @ prev() if node.needs_grad(4) else None
    db_ih = gates_i.sum(axis=0) if node.needs_grad(5) else None
    db_hh = None
    if node.needs_grad(6):
        db_hh = gates_h.sum(axis=0) if gates_i is not gates_h or db_ih is None else db_ih.copy()
    return dx, dw_ih, dw_hh, db_ih, db_hh


def _lstm_backward(node, gy, gc, out, acts, x2, h0, c0, w_ih, w_hh, w_hr, steps):
    gates, m_all = acts
    rows, n = gy.shape
    hidden = w_ih.shape[0] // 4
    y = out[:rows * n].reshape(rows, n)
    c_all = out[rows * n:].reshape(rows, hidden)
    dtype, batch = gy.dtype, h0.shape[0]
    blocks = np.empty((rows, 4, hidden), dtype=dtype)  # PyTorch's order: i, f, g, o
    dgates = blocks.reshape(rows, 4 * hidden)
    dh_all = None if w_hr is None else np.empty((rows, n), dtype=dtype)
    carry_h = _Carry(batch, n, dtype, node.needs_grad(1))
    carry_c = _Carry(batch, hidden, dtype, node.needs_grad(2))
    dh_buf = np.empty((batch, n), dtype=dtype)
    dc_buf = np.empty((batch, hidden), dtype=dtype)
    tmp_buf = np.empty((batch, hidden), dtype=dtype)
    most = max(hi - lo for _, lo, hi in _chunks(steps, 4 * hidden, gates.itemsize))
    sd_buf = np.empty((most, 3 * hidden), dtype=dtype)
    per_dc_buf = np.empty((most, hidden), dtype=dtype)  # dc/dm = o (1 - tanh(c)^2)
    per_do_buf = np.empty((most, hidden), dtype=dtype)  # do/dm = tanh(c) o (1 - o)
    per_gates_buf = np.empty((most, 3, hidden), dtype=dtype)  # di, df, dg per unit of dc
    for ks, lo, hi in _chunks(steps, 4 * hidden, gates.itemsize):
        count = hi - lo
        a = gates[lo:hi]
        i, o, g = a[:, :hidden], a[:, 2 * hidden:3 * hidden], a[:, 3 * hidden:]
        sd = np.subtract(1, a[:, :3 * hidden], out=sd_buf[:count])
        sd *= a[:, :3 * hidden]  # s (1 - s) of i, f, o
        per_do = np.tanh(c_all[lo:hi], out=per_do_buf[:count])
        per_dc = _one_minus_square(per_do, per_dc_buf[:count])
        per_dc *= o
        per_do *= sd[:, 2 * hidden:]
        per_gates = per_gates_buf[:count]
        np.multiply(g, sd[:, :hidden], out=per_gates[:, 0])  # di = dc g i (1 - i)
        for k in ks:  # df = dc c_prev f (1 - f)
            start, size = steps[k]
            np.multiply(_previous(c_all, c0, steps, k), sd[start - lo:start - lo + size, hidden:2 * hidden],
                        out=per_gates[start - lo:start - lo + size, 1])
        _one_minus_square(g, per_gates[:, 2])  # dg = dc i (1 - g^2)
        per_gates[:, 2] *= i
        for k in ks:
            start, size = steps[k]
            here, local = slice(start, start + size), slice(start - lo, start - lo + size)
            dh = dh_all[here] if dh_all is not None else dh_buf[:size]
            np.add(gy[here], carry_h.value[:size], out=dh)
            dm = dh if w_hr is None else dh @ w_hr
            np.multiply(dm, per_do[local], out=blocks[here, 3])
            dc = np.add(carry_c.value[:size], gc[here], out=dc_buf[:size])
            dc += np.multiply(dm, per_dc[local], out=tmp_buf[:size])
            np.multiply(dc[:, None, :], per_gates[local], out=blocks[here, :3])
            np.multiply(dc, gates[here, hidden:2 * hidden], out=carry_c.value[:size])
            np.matmul(dgates[here], w_hh, out=carry_h.value[:size])
            carry_h.hand_on(steps, k)
            carry_c.hand_on(steps, k)
    del sd_buf, per_dc_buf, per_do_buf, per_gates_buf

    def prev() -> Any:
        return _previous_all(y, h0, steps, np.empty_like(y))

    dx, dw_ih, dw_hh, db_ih, db_hh = _weight_grads(node, dgates, x2, w_ih, prev)
    dw_hr = dh_all.T @ m_all if w_hr is not None and node.needs_grad(7) else None
    return dx, carry_h.initial, carry_c.initial, dw_ih, dw_hh, db_ih, db_hh, dw_hr


def _gru_backward(node, gy, out, acts, x2, h0, w_ih, w_hh, steps):
    gates, hn_all = acts
    rows, hidden = gy.shape
    dtype, batch = gy.dtype, h0.shape[0]
    dgates_h = np.empty((rows, 3 * hidden), dtype=dtype)  # r, z, and n's recurrent part
    dn_all = np.empty((rows, hidden), dtype=dtype)  # n's input part
    carry = _Carry(batch, hidden, dtype, node.needs_grad(1))
    dh_buf = np.empty((batch, hidden), dtype=dtype)
    tmp_buf = np.empty((batch, hidden), dtype=dtype)
    most = max(hi - lo for _, lo, hi in _chunks(steps, 3 * hidden, gates.itemsize))
    per_dn_buf, per_dz_buf, per_dr_buf = (np.empty((most, hidden), dtype=dtype) for _ in range(3))
    for ks, lo, hi in _chunks(steps, 3 * hidden, gates.itemsize):
        count = hi - lo
        r, z, n = gates[lo:hi, :hidden], gates[lo:hi, hidden:2 * hidden], gates[lo:hi, 2 * hidden:]
        # dn (pre-activation) = dh (1 - z)(1 - n^2), dz = dh (h_prev - n) z (1 - z),
        # dr = dn hn r (1 - r), d(hn) = dn r.
        per_dr = np.subtract(1, z, out=per_dr_buf[:count])  # (1 - z), for now
        per_dn = _one_minus_square(n, per_dn_buf[:count])
        per_dn *= per_dr
        per_dz = per_dz_buf[:count]
        for k in ks:
            start, size = steps[k]
            local = slice(start - lo, start - lo + size)
            np.subtract(_previous(out, h0, steps, k), n[local], out=per_dz[local])
        per_dz *= z
        per_dz *= per_dr
        np.subtract(1, r, out=per_dr)
        per_dr *= r
        per_dr *= hn_all[lo:hi]
        for k in ks:
            start, size = steps[k]
            here, local = slice(start, start + size), slice(start - lo, start - lo + size)
            dh = np.add(gy[here], carry.value[:size], out=dh_buf[:size])
            d = dgates_h[here]
            dn = np.multiply(dh, per_dn[local], out=dn_all[here])
            np.multiply(dh, per_dz[local], out=d[:, hidden:2 * hidden])
            np.multiply(dn, per_dr[local], out=d[:, :hidden])
            np.multiply(dn, gates[here, :hidden], out=d[:, 2 * hidden:])
            step_carry = carry.value[:size]
            np.matmul(d, w_hh, out=step_carry)
            step_carry += np.multiply(dh, gates[here, hidden:2 * hidden], out=tmp_buf[:size])
            carry.hand_on(steps, k)
    del per_dn_buf, per_dz_buf, per_dr_buf

    def prev() -> Any:
        return _previous_all(out, h0, steps, np.empty_like(out))

    gates_i = np.concatenate((dgates_h[:, :2 * hidden], dn_all), axis=1)
    dx, dw_ih, dw_hh, db_ih, db_hh = _weight_grads(node, dgates_h, x2, w_ih, prev, gates_i)
    return dx, carry.initial, None, dw_ih, dw_hh, db_ih, db_hh, None


def _rnn_backward(node, gy, out, x2, h0, w_ih, w_hh, steps, relu):
    rows, hidden = gy.shape
    dgates = np.empty_like(gy)
    carry = _Carry(h0.shape[0], hidden, gy.dtype, node.needs_grad(1))
    for k in range(len(steps) - 1, -1, -1):
        start, size = steps[k]
        here = slice(start, start + size)
        d = np.add(gy[here], carry.value[:size], out=dgates[here])
        if relu:  # dpre = dh act'(pre), the derivative read off the output
            d *= out[here] > 0
        else:
            d *= 1 - out[here] * out[here]
        np.matmul(d, w_hh, out=carry.value[:size])
        carry.hand_on(steps, k)

    def prev() -> Any:
        return _previous_all(out, h0, steps, np.empty_like(out))

    dx, dw_ih, dw_hh, db_ih, db_hh = _weight_grads(node, dgates, x2, w_ih, prev)
    return dx, carry.initial, None, dw_ih, dw_hh, db_ih, db_hh, None


# -- the op -----------------------------------------------------------------------------------


class RecurrentLayer(Op):
    """One direction of one recurrent layer over a whole (padded or packed) sequence.

    ``apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, reverse, batch_sizes)``: ``x`` is
    ``(T, B, I)`` with ``batch_sizes`` None, or packed ``(N, I)`` with its batch sizes;
    ``h0`` ``(B, P)``; ``c0`` ``(B, H)`` for an LSTM, else None; the biases and ``w_hr``
    may be None.  Returns ``y`` (``(T, B, P)`` or ``(N, P)``), for an LSTM followed by every
    step's cell state, as one flat array (see the module's docstring)."""

    __slots__ = ("mode", "steps", "x_shape")
    presented_inputs = 8
    derivative = ("dL/dx_t = dL/dgates_t W_ih (backpropagation through time)",
                  "dL/dh_0 = dL/dgates_1 W_hh", "dL/dc_0 = f_1 dL/dc_1", "dL/dW_ih = sum_t dL/dgates_t^T x_t",
                  "dL/dW_hh = sum_t dL/dgates_t^T h_{t-1}", "dL/db_ih = sum_t dL/dgates_t",
                  "dL/db_hh = sum_t dL/dgates_t", "dL/dW_hr = sum_t dL/dh_t^T (o_t tanh c_t)")

    def forward(self, xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, reverse, batch_sizes):
        if x.ndim == 3:
            length, batch = x.shape[:2]
            batch_sizes = (batch,) * length
        self.mode, self.x_shape = mode, x.shape
        self.steps = steps = schedule(batch_sizes, reverse)
        self.__class__ = _NAMED[mode]
        x2 = x.reshape(-1, x.shape[-1])
        if mode == "LSTM":
            out, acts = _lstm_forward(x2, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, steps)
        elif mode == "GRU":
            out, acts = _gru_forward(x2, h0, w_ih, w_hh, b_ih, b_hh, steps)
        else:
            out, acts = _rnn_forward(x2, h0, w_ih, w_hh, b_ih, b_hh, steps, mode == "RNN_RELU")
        self.saved = (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, out, acts)
        if mode != "LSTM" and x.ndim == 3:
            return out.reshape(x.shape[0], x.shape[1], -1)
        return out

    def backward(self, xp, g):
        if not plain(xp):
            return _recorded_backward(self, xp, g) + (None, None, None)
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, out, acts = self.saved
        x2 = x.reshape(-1, x.shape[-1])
        rows, mode, steps = x2.shape[0], self.mode, self.steps
        if mode == "LSTM":
            n = h0.shape[1]
            flat = g.reshape(-1)
            gy = flat[:rows * n].reshape(rows, n)
            gc = flat[rows * n:].reshape(rows, -1)
            grads = _lstm_backward(self, gy, gc, out, acts, x2, h0, c0, w_ih, w_hh, w_hr, steps)
        elif mode == "GRU":
            grads = _gru_backward(self, g.reshape(rows, -1), out.reshape(rows, -1), acts, x2, h0, w_ih, w_hh,
                                  steps)
        else:
            grads = _rnn_backward(self, g.reshape(rows, -1), out.reshape(rows, -1), x2, h0, w_ih, w_hh, steps,
                                  mode == "RNN_RELU")
        dx = grads[0]
        if dx is not None:
            dx = dx.reshape(self.x_shape)
        return (dx,) + tuple(grads[1:]) + (None, None, None)


_NAMED = {mode: variant(RecurrentLayer, name) for mode, name in (
    ("RNN_TANH", "RnnTanhBackward0"), ("RNN_RELU", "RnnReluBackward0"), ("LSTM", "LstmBackward0"),
    ("GRU", "GruBackward0"))}


# -- the backward, recorded (create_graph) ------------------------------------------------------


def _recorded_backward(node: RecurrentLayer, xp: Any, g: Any) -> tuple:
    """The gradients as ordinary recorded ops on Tensors: the forward recomputed step by step
    from the saved inputs (which carry their history), then the same backward formulas."""
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = node.saved[:8]
    mode, steps = node.mode, node.steps
    x2 = x.reshape((-1, x.shape[-1]))
    rows, n = x2.shape[0], h0.shape[1]
    hidden = w_ih.shape[0] // GATES[mode]
    xw = xp.matmul(x2, xp.swapaxes(w_ih, 0, 1))
    if b_ih is not None:
        xw = xw + b_ih
    w_hh_t = xp.swapaxes(w_hh, 0, 1)

    def previous(states: list, initial: Any, k: int) -> Any:
        size = steps[k][1]
        if k == 0:
            return initial[:size]
        before = steps[k - 1][1]
        if size <= before:
            return states[k - 1][:size]
        return Cat.apply(states[k - 1], initial[before:size], axis=0)

    # Forward, step by step, keeping what the backward formulas use.
    hs, cs, kept = [], [], []
    for k, (start, size) in enumerate(steps):
        h = previous(hs, h0, k)
        pre_x = xw[start:start + size]
        rec = xp.matmul(h, w_hh_t)
        if b_hh is not None:
            rec = rec + b_hh
        if mode == "LSTM":
            pre = pre_x + rec
            i, f = Sigmoid.apply(pre[:, :hidden]), Sigmoid.apply(pre[:, hidden:2 * hidden])
            gg, o = xp.tanh(pre[:, 2 * hidden:3 * hidden]), Sigmoid.apply(pre[:, 3 * hidden:])
            c_prev = previous(cs, c0, k)
            c = f * c_prev + i * gg
            tc = xp.tanh(c)
            m = o * tc
            h_new = m if w_hr is None else xp.matmul(m, xp.swapaxes(w_hr, 0, 1))
            cs.append(c)
            kept.append((i, f, gg, o, c_prev, tc, m))
        elif mode == "GRU":
            r = Sigmoid.apply(pre_x[:, :hidden] + rec[:, :hidden])
            z = Sigmoid.apply(pre_x[:, hidden:2 * hidden] + rec[:, hidden:2 * hidden])
            hn = rec[:, 2 * hidden:]
            nn = xp.tanh(pre_x[:, 2 * hidden:] + r * hn)
            h_new = nn + z * (h - nn)
            kept.append((r, z, nn, hn, h))
        else:
            pre = pre_x + rec
            h_new = Relu.apply(pre) if mode == "RNN_RELU" else xp.tanh(pre)
            kept.append((h_new, h))
        hs.append(h_new)

    # Backward through time.
    flat = g.reshape((-1,))
    gy = flat[:rows * n].reshape((rows, n))
    gc = flat[rows * n:].reshape((rows, hidden)) if mode == "LSTM" else None
    carry_h = carry_c = None
    initial_h, initial_c = [], []  # (row range, gradient) of the initial states
    d_in, d_rec, dh_list = [None] * len(steps), [None] * len(steps), [None] * len(steps)
    for k in range(len(steps) - 1, -1, -1):
        start, size = steps[k]
        dh = _add_prefix(gy[start:start + size], carry_h)
        if mode == "LSTM":
            i, f, gg, o, c_prev, tc, m = kept[k]
            dm = dh if w_hr is None else xp.matmul(dh, w_hr)
            dh_list[k] = dh
            dc = _add_prefix(gc[start:start + size], carry_c) + dm * o * (1 - tc * tc)
            d = Cat.apply(dc * gg * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - gg * gg),
                          dm * tc * o * (1 - o), axis=1)
            d_in[k] = d_rec[k] = d
            carry_c = dc * f
        elif mode == "GRU":
            r, z, nn, hn, h = kept[k]
            dn = dh * (1 - z) * (1 - nn * nn)
            dz = dh * (h - nn) * z * (1 - z)
            dr = dn * hn * r * (1 - r)
            d_in[k] = Cat.apply(dr, dz, dn, axis=1)
            d_rec[k] = Cat.apply(dr, dz, dn * r, axis=1)
        else:
            h_new, h = kept[k]
            if mode == "RNN_RELU":
                d = dh * (h_new._data > 0).astype(h_new._data.dtype)
            else:
                d = dh * (1 - h_new * h_new)
            d_in[k] = d_rec[k] = d
        carry_h = xp.matmul(d_rec[k], w_hh)
        if mode == "GRU":
            carry_h = carry_h + dh * z
        before = steps[k - 1][1] if k else 0
        if size > before:
            initial_h.append((before, size, carry_h[before:size]))
            if mode == "LSTM":
                initial_c.append((before, size, carry_c[before:size]))
            carry_h = carry_h[:before]
            carry_c = carry_c[:before] if mode == "LSTM" else None

    order = np.argsort([start for start, _ in steps], kind="stable")
    dgi = Cat.apply(*[d_in[k] for k in order], axis=0)
    dgh = Cat.apply(*[d_rec[k] for k in order], axis=0)
    prev = Cat.apply(*[previous(hs, h0, k) for k in order], axis=0)
    dx = xp.matmul(dgi, w_ih).reshape(tuple(node.x_shape)) if node.needs_grad(0) else None
    dh0 = _initial(initial_h) if node.needs_grad(1) else None
    dc0 = _initial(initial_c) if mode == "LSTM" and node.needs_grad(2) else None
    dw_ih = xp.matmul(xp.swapaxes(dgi, 0, 1), x2) if node.needs_grad(3) else None
    dw_hh = xp.matmul(xp.swapaxes(dgh, 0, 1), prev) if node.needs_grad(4) else None
    db_ih = dgi.sum(axis=0) if b_ih is not None and node.needs_grad(5) else None
    db_hh = dgh.sum(axis=0) if b_hh is not None and node.needs_grad(6) else None
    dw_hr = None
    if w_hr is not None and node.needs_grad(7):
        dh_all = Cat.apply(*[dh_list[k] for k in order], axis=0)
        m_all = Cat.apply(*[kept[k][6] for k in order], axis=0)
        dw_hr = xp.matmul(xp.swapaxes(dh_all, 0, 1), m_all)
    return dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh, dw_hr


def _add_prefix(a: Any, carry: Any) -> Any:
    """``a`` with ``carry`` added to its first rows (``carry`` may have fewer, or be None)."""
    if carry is None:
        return a
    count = carry.shape[0]
    if count == a.shape[0]:
        return a + carry
    return Cat.apply(a[:count] + carry, a[count:], axis=0)


def _initial(parts: list) -> Any:
    """The initial state's gradient from its row ranges (they tile ``[0, batch)``)."""
    pieces = [grad for _, _, grad in sorted(parts, key=lambda part: part[0])]
    return pieces[0] if len(pieces) == 1 else Cat.apply(*pieces, axis=0)
