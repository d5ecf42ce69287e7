"""Functional forms of the recurrent layers and cells (PyTorch's ``torch.lstm``,
``torch.gru``, ``torch.rnn_tanh``, ``torch.rnn_relu`` and their ``_cell`` forms): argument
handling, then one :class:`~chainrule.ops.rnn.RecurrentLayer` node per layer and direction.
The modules in ``chainrule.nn.rnn`` call these."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import dtypes
from .. import functional as _C
from ..autograd.function import named
from ..ops.rnn import RecurrentLayer
from ..tensor import Tensor
from . import functional as F

#: One layer and direction's parameters: (w_ih, w_hh, b_ih, b_hh, w_hr), absent ones None.
LayerWeights = Sequence[Any]


def _final_rows(batch_sizes: tuple) -> np.ndarray:
    """For a packed sequence: the row of every sequence's last step."""
    starts = np.concatenate(([0], np.cumsum(batch_sizes)[:-1]))
    batch = batch_sizes[0]
    lengths = (np.asarray(batch_sizes)[None, :] > np.arange(batch)[:, None]).sum(axis=1)
    return (starts[lengths - 1] + np.arange(batch)).astype(np.int64)


def _final(states: Tensor, reverse: bool, batch: int, last_rows: np.ndarray | None) -> Tensor:
    """The state a direction ends in: the last step's (the first's, in reverse), per sequence
    (``states`` is (T, B, n), or one row per packed row)."""
    if states.ndim == 3:
        return states[0] if reverse else states[-1]
    return states[:batch] if reverse else states[last_rows]


def layer(mode: str, input: Tensor, h0: Tensor, c0: Tensor | None, weights: LayerWeights, reverse: bool = False,
          batch_sizes: tuple | None = None) -> tuple[Tensor, Tensor, Tensor | None]:
    """One direction of one layer over the whole sequence: ``(output, h_n, c_n)`` (``c_n``
    None but for an LSTM). ``input`` is ``(T, B, I)``, or packed ``(N, I)`` with
    ``batch_sizes``."""
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    out = RecurrentLayer.apply(input, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, reverse, batch_sizes)
    batch = h0.shape[0]
    last_rows = _final_rows(batch_sizes) if batch_sizes is not None and not reverse else None
    if mode != "LSTM":
        return out, _final(out, reverse, batch, last_rows), None
    n = h0.shape[-1]
    rows = input.shape[0] * input.shape[1] if input.ndim == 3 else input.shape[0]
    y = out[:rows * n].reshape(tuple(input.shape[:-1]) + (n,))
    cells = out[rows * n:].reshape(rows, -1)
    if input.ndim == 3:
        c_n = cells[:batch] if reverse else cells[rows - batch:]
    else:
        c_n = _final(cells, reverse, batch, last_rows)
    return y, _final(y, reverse, batch, last_rows), c_n


def recurrent(mode: str, input: Tensor, hx: Tensor, cx: Tensor | None, weights: Sequence[LayerWeights],
              num_layers: int, dropout: float, train: bool, bidirectional: bool, batch_first: bool = False,
              batch_sizes: Any = None) -> tuple[Tensor, Tensor, Tensor | None]:
    """A stack of recurrent layers (``mode``: RNN_TANH, RNN_RELU, LSTM or GRU), as
    ``torch.lstm`` and siblings: ``(output, h_n, c_n)``.

    ``weights`` holds one entry per layer and direction (forward first); ``hx`` (and ``cx``)
    are ``(num_layers * directions, B, n)``. Dropout (when ``train``) applies to every layer's
    output but the last. ``batch_sizes`` given: ``input`` is a packed sequence's data."""
    directions = 2 if bidirectional else 1
    sizes = None if batch_sizes is None else tuple(int(n) for n in np.asarray(
        batch_sizes._data if isinstance(batch_sizes, Tensor) else batch_sizes).reshape(-1))
    x = input.transpose(0, 1) if batch_first and sizes is None else input
    hs, cs = [], []
    for index in range(num_layers):
        outputs = []
        for direction in range(directions):
            slot = index * directions + direction
            y, h_n, c_n = layer(mode, x, hx[slot], None if cx is None else cx[slot], weights[slot],
                                direction == 1, sizes)
            outputs.append(y)
            hs.append(h_n)
            cs.append(c_n)
        x = outputs[0] if directions == 1 else _C.cat(outputs, dim=-1)
        if dropout and train and index < num_layers - 1:
            x = F.dropout(x, dropout, True)
    if directions == 1:
        named(x, _output_node(mode, x, sizes is not None, weights[-1][4] is not None))
    output = x.transpose(0, 1) if batch_first and sizes is None else x
    if output is not x and mode != "LSTM":
        named(output, "TransposeBackward1")  # PyTorch's RNN and GRU transpose their output in place
    return output, _C.stack(hs), None if cx is None else _C.stack(cs)


def _output_node(mode: str, output: Tensor, packed: bool, projected: bool) -> str:
    """The node PyTorch's CPU kernels leave on a one-direction stack's output: the steps'
    outputs concatenated (packed) or stacked, or oneDNN's fused layer for an LSTM in float32
    or bfloat16 without projections."""
    if packed:
        return "CatBackward0"
    if mode == "LSTM" and not projected and output.dtype in (dtypes.float32, dtypes.bfloat16):
        return "MkldnnRnnLayerBackward0"
    return "StackBackward0"


# -- cells: one step, the same kernels (their outputs named as PyTorch's last op of the step) -----


def _cell(mode: str, input: Tensor, hx: Tensor, cx: Tensor | None, w_ih: Tensor, w_hh: Tensor,
          b_ih: Tensor | None, b_hh: Tensor | None) -> Tensor:
    # One step of the layer op: a (B, I) input is a packed sequence of one step of B rows.
    return RecurrentLayer.apply(input, hx, cx, w_ih, w_hh, b_ih, b_hh, None, mode, False, (input.shape[0],))


def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
                  b_hh: Tensor | None = None) -> Tensor:
    """``tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` for a batch ``(B, I)``."""
    return named(_cell("RNN_TANH", input, hx, None, w_ih, w_hh, b_ih, b_hh), "TanhBackward0")


def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
                  b_hh: Tensor | None = None) -> Tensor:
    """``relu(x W_ih^T + b_ih + h W_hh^T + b_hh)`` for a batch ``(B, I)``."""
    return named(_cell("RNN_RELU", input, hx, None, w_ih, w_hh, b_ih, b_hh), "ReluBackward0")


def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    """One GRU step for a batch ``(B, I)``: the new hidden state (``n + z (h - n)``)."""
    return named(_cell("GRU", input, hx, None, w_ih, w_hh, b_ih, b_hh), "AddBackward0")


def lstm_cell(input: Tensor, hx: Sequence[Tensor], w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step for a batch ``(B, I)``: ``(h', c')`` (``o tanh(c')`` and ``f c + i g``)."""
    h, c = hx
    out = _cell("LSTM", input, h, c, w_ih, w_hh, b_ih, b_hh)
    size = h.shape[0] * h.shape[1]
    return (named(out[:size].reshape(h.shape[0], -1), "MulBackward0"),
            named(out[size:].reshape(c.shape[0], -1), "AddBackward0"))
