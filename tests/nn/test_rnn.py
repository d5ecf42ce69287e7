"""Recurrent layers and cells against PyTorch (float64, the same weights): outputs, final
states, and the gradients of the input, the initial states and every parameter, over the
layers' options; state_dicts both ways; gradcheck and double backward of the fused op."""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn as nn
from chainrule.nn import functional_rnn
from chainrule.nn.utils import rnn as rnn_utils
from conftest import assert_close

KINDS = ("RNN", "RNN_relu", "LSTM", "GRU")


def make(lib, kind, *args, **kwargs):
    if kind == "RNN_relu":
        return lib.nn.RNN(*args, nonlinearity="relu", **kwargs)
    return getattr(lib.nn, kind)(*args, **kwargs)


def twins(kind, *args, **kwargs):
    """(chainrule module, torch module), float64, torch's weights in both."""
    t = make(torch, kind, *args, **kwargs).double()
    c = make(chainrule, kind, *args, **kwargs).double()
    c.load_state_dict(t.state_dict())
    return c, t


def tensors(array, requires_grad=True):
    return (chainrule.tensor(array, requires_grad=requires_grad), torch.tensor(array, requires_grad=requires_grad))


def flat(outputs):
    """A module's outputs as a flat list of tensors (output, h_n[, c_n])."""
    out, hidden = outputs
    if isinstance(out, (rnn_utils.PackedSequence, torch.nn.utils.rnn.PackedSequence)):
        out = out.data
    return [out] + (list(hidden) if isinstance(hidden, tuple) else [hidden])


def backward_and_compare(c_outs, t_outs, c_leaves, t_leaves, c_module, t_module, seed=1):
    """Compare outputs, then backpropagate the same random upstream gradients through all of
    them and compare the leaves' and parameters' gradients."""
    rng = np.random.default_rng(seed)
    for i, (c, t) in enumerate(zip(c_outs, t_outs)):
        assert_close(c, t, what=f"output {i}")
    upstream = [rng.standard_normal(tuple(t.shape)) for t in t_outs]
    torch.autograd.backward(t_outs, [torch.tensor(u) for u in upstream])
    chainrule.autograd.backward(c_outs, [chainrule.tensor(u) for u in upstream])
    for i, (c, t) in enumerate(zip(c_leaves, t_leaves)):
        assert_close(c.grad, t.grad, what=f"grad of input {i}")
    t_params = dict(t_module.named_parameters())
    for name, p in c_module.named_parameters():
        assert_close(p.grad, t_params[name].grad, what=f"grad of {name}")


OPTIONS = [dict(num_layers=layers, bidirectional=bidi, batch_first=bf, bias=bias)
           for layers, bidi, bf, bias in itertools.product((1, 2), (False, True), (False, True), (True, False))
           if not (bias is False and layers == 2 and bidi)]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_layer_matches_torch(kind, options):
    c, t = twins(kind, 3, 5, **options)
    rng = np.random.default_rng(0)
    shape = (2, 4, 3) if options["batch_first"] else (4, 2, 3)
    cx, tx = tensors(rng.standard_normal(shape))
    backward_and_compare(flat(c(cx)), flat(t(tx)), [cx], [tx], c, t)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bidirectional", (False, True))
def test_initial_states_get_gradients(kind, bidirectional):
    c, t = twins(kind, 3, 4, num_layers=2, bidirectional=bidirectional)
    rng = np.random.default_rng(2)
    layers = 4 if bidirectional else 2
    cx, tx = tensors(rng.standard_normal((5, 3, 3)))
    ch, th = tensors(rng.standard_normal((layers, 3, 4)))
    leaves_c, leaves_t = [cx, ch], [tx, th]
    if kind == "LSTM":
        cc, tc = tensors(rng.standard_normal((layers, 3, 4)))
        leaves_c.append(cc)
        leaves_t.append(tc)
        c_out, t_out = c(cx, (ch, cc)), t(tx, (th, tc))
    else:
        c_out, t_out = c(cx, ch), t(tx, th)
    backward_and_compare(flat(c_out), flat(t_out), leaves_c, leaves_t, c, t)


@pytest.mark.parametrize("options", [dict(), dict(num_layers=2, bidirectional=True), dict(batch_first=True),
                                     dict(num_layers=2, bias=False)], ids=str)
def test_lstm_projection_matches_torch(options):
    c, t = twins("LSTM", 3, 6, proj_size=4, **options)
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in t.named_parameters()]
    rng = np.random.default_rng(3)
    cx, tx = tensors(rng.standard_normal((2, 4, 3) if options.get("batch_first") else (4, 2, 3)))
    layers = 2 * (2 if options.get("bidirectional") else 1) if options.get("num_layers") else 1
    ch, th = tensors(rng.standard_normal((layers, 2, 4)))
    cc, tc = tensors(rng.standard_normal((layers, 2, 6)))
    backward_and_compare(flat(c(cx, (ch, cc))), flat(t(tx, (th, tc))), [cx, ch, cc], [tx, th, tc], c, t)


@pytest.mark.parametrize("kind", KINDS)
def test_unbatched_input(kind):
    c, t = twins(kind, 3, 4, num_layers=2)
    rng = np.random.default_rng(4)
    cx, tx = tensors(rng.standard_normal((5, 3)))
    ch, th = tensors(rng.standard_normal((2, 4)))
    if kind == "LSTM":
        cc, tc = tensors(rng.standard_normal((2, 4)))
        c_out, t_out = c(cx, (ch, cc)), t(tx, (th, tc))
        leaves = ([cx, ch, cc], [tx, th, tc])
    else:
        c_out, t_out = c(cx, ch), t(tx, th)
        leaves = ([cx, ch], [tx, th])
    assert [tuple(o.shape) for o in flat(c_out)] == [tuple(o.shape) for o in flat(t_out)]
    backward_and_compare(flat(c_out), flat(t_out), *leaves, c, t)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("enforce_sorted", (True, False))
@pytest.mark.parametrize("bidirectional", (False, True))
def test_packed_input(kind, enforce_sorted, bidirectional):
    c, t = twins(kind, 3, 4, num_layers=2, bidirectional=bidirectional)
    rng = np.random.default_rng(5)
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    cx, tx = tensors(rng.standard_normal((5, 4, 3)))
    c_packed = rnn_utils.pack_padded_sequence(cx, lengths, enforce_sorted=enforce_sorted)
    t_packed = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, enforce_sorted=enforce_sorted)
    assert_close(c_packed.batch_sizes, t_packed.batch_sizes)
    layers = 4 if bidirectional else 2
    ch, th = tensors(rng.standard_normal((layers, 4, 4)))
    if kind == "LSTM":
        cc, tc = tensors(rng.standard_normal((layers, 4, 4)))
        c_out, t_out = c(c_packed, (ch, cc)), t(t_packed, (th, tc))
        leaves = ([cx, ch, cc], [tx, th, tc])
    else:
        c_out, t_out = c(c_packed, ch), t(t_packed, th)
        leaves = ([cx, ch], [tx, th])
    c_padded, c_lengths = rnn_utils.pad_packed_sequence(c_out[0], padding_value=-1.0)
    t_padded, t_lengths = torch.nn.utils.rnn.pad_packed_sequence(t_out[0], padding_value=-1.0)
    assert_close(c_lengths, t_lengths)
    c_all = [c_padded] + flat(c_out)[1:]
    t_all = [t_padded] + flat(t_out)[1:]
    backward_and_compare(c_all, t_all, *leaves, c, t)


@pytest.mark.parametrize("kind", KINDS)
def test_dropout_zero_and_train_eval_match(kind):
    c, t = twins(kind, 3, 4, num_layers=3, dropout=0.0)
    rng = np.random.default_rng(6)
    for mode in ("train", "eval"):
        getattr(c, mode)()
        getattr(t, mode)()
        cx, tx = tensors(rng.standard_normal((4, 2, 3)))
        c.zero_grad()
        t.zero_grad()
        backward_and_compare(flat(c(cx)), flat(t(tx)), [cx], [tx], c, t)


def test_dropout_between_layers_only_in_training():
    chainrule.manual_seed(0)
    lstm = nn.LSTM(3, 8, num_layers=2, dropout=0.5).double()
    x = chainrule.tensor(np.random.default_rng(0).standard_normal((6, 2, 3)))
    lstm.eval()
    first, second = lstm(x)[0], lstm(x)[0]
    assert_close(first, second)
    lstm.train()
    noisy = lstm(x)[0]
    assert not np.allclose(noisy.detach().numpy(), first.detach().numpy())
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)


@pytest.mark.parametrize("kind", ("RNNCell", "LSTMCell", "GRUCell"))
@pytest.mark.parametrize("bias", (True, False))
@pytest.mark.parametrize("batched", (True, False))
def test_cells_match_torch(kind, bias, batched):
    t = getattr(torch.nn, kind)(3, 4, bias=bias).double()
    c = getattr(nn, kind)(3, 4, bias=bias).double()
    c.load_state_dict(t.state_dict())
    rng = np.random.default_rng(7)
    shape = (2,) if batched else ()
    cx, tx = tensors(rng.standard_normal(shape + (3,)))
    ch, th = tensors(rng.standard_normal(shape + (4,)))
    if kind == "LSTMCell":
        cc, tc = tensors(rng.standard_normal(shape + (4,)))
        c_out, t_out = list(c(cx, (ch, cc))), list(t(tx, (th, tc)))
        leaves = ([cx, ch, cc], [tx, th, tc])
    else:
        c_out, t_out = [c(cx, ch)], [t(tx, th)]
        leaves = ([cx, ch], [tx, th])
    backward_and_compare(c_out, t_out, *leaves, c, t)
    assert repr(c) == repr(t)


def test_relu_cell_and_zero_state():
    t = torch.nn.RNNCell(3, 4, nonlinearity="relu").double()
    c = nn.RNNCell(3, 4, nonlinearity="relu").double()
    c.load_state_dict(t.state_dict())
    cx, tx = tensors(np.random.default_rng(8).standard_normal((2, 3)))
    backward_and_compare([c(cx)], [t(tx)], [cx], [tx], c, t)
    assert repr(c) == repr(t) == "RNNCell(3, 4, nonlinearity=relu)"


def test_cell_unrolled_equals_layer():
    """An LSTMCell stepped by hand gives the LSTM layer's numbers and gradients."""
    chainrule.manual_seed(0)
    layer = nn.LSTM(3, 4).double()
    cell = nn.LSTMCell(3, 4).double()
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = chainrule.tensor(np.random.default_rng(9).standard_normal((5, 2, 3)), requires_grad=True)
    out, (h_n, c_n) = layer(x)
    h = c = chainrule.zeros(2, 4, dtype=chainrule.float64)
    steps = []
    for t in range(5):
        h, c = cell(x[t], (h, c))
        steps.append(h)
    assert_close(chainrule.stack(steps), out)
    assert_close(c, c_n[0])
    (g_layer,) = chainrule.autograd.grad(out.sum() + c_n.sum(), x)
    (g_cell,) = chainrule.autograd.grad(chainrule.stack(steps).sum() + c.sum(), x)
    assert_close(g_cell, g_layer)


# -- parameters, state_dicts, init, repr, errors ---------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_parameters_names_shapes_and_state_dicts_both_ways(kind):
    options = dict(num_layers=2, bidirectional=True)
    t = make(torch, kind, 3, 5, **options)
    c = make(chainrule, kind, 3, 5, **options)
    assert [(n, tuple(p.shape)) for n, p in c.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    assert c._flat_weights_names == t._flat_weights_names
    assert [[tuple(p.shape) for p in ws] for ws in c.all_weights] == \
        [[tuple(p.shape) for p in ws] for ws in t.all_weights]
    x = np.random.default_rng(10).standard_normal((4, 2, 3)).astype(np.float32)
    # PyTorch's weights into chainrule, and chainrule's into PyTorch: the same outputs.
    c.load_state_dict(t.state_dict())
    assert_close(flat(c(chainrule.tensor(x)))[0], flat(t(torch.tensor(x)))[0], rtol=1e-5, atol=1e-6)
    fresh_c = make(chainrule, kind, 3, 5, **options)
    t2 = make(torch, kind, 3, 5, **options)
    t2.load_state_dict({k: torch.tensor(v.numpy()) for k, v in fresh_c.state_dict().items()})
    for a, b in zip(flat(fresh_c(chainrule.tensor(x))), flat(t2(torch.tensor(x)))):
        assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_state_dict_through_a_file(tmp_path):
    t = torch.nn.LSTM(3, 5, num_layers=2, proj_size=2)
    c = nn.LSTM(3, 5, num_layers=2, proj_size=2)
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in t.state_dict().items()}, str(tmp_path / "lstm.safetensors"))
    c.load_state_dict(chainrule.load(tmp_path / "lstm.safetensors"))
    x = np.random.default_rng(11).standard_normal((3, 1, 3)).astype(np.float32)
    assert_close(c(chainrule.tensor(x))[0], t(torch.tensor(x))[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS + ("LSTMCell", "GRUCell", "RNNCell"))
def test_default_initialisation_is_uniform_in_one_over_sqrt_hidden(kind):
    chainrule.manual_seed(0)
    module = make(chainrule, kind, 7, 16, **({} if "Cell" in kind else {"num_layers": 2}))
    values = np.concatenate([p.detach().numpy().ravel() for p in module.parameters()])
    bound = 1 / np.sqrt(16)
    assert values.min() >= -bound and values.max() <= bound
    assert values.min() < -0.9 * bound and values.max() > 0.9 * bound
    assert abs(values.mean()) < 0.02 and abs(values.std() - bound / np.sqrt(3)) < 0.01


def test_repr_matches_torch():
    for args, kwargs in [((3, 4), {}), ((3, 4, 2), dict(batch_first=True, dropout=0.5, bidirectional=True)),
                         ((3, 4), dict(bias=False, proj_size=2))]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert repr(nn.LSTM(*args, **kwargs)) == repr(torch.nn.LSTM(*args, **kwargs))
    assert repr(nn.RNN(3, 4, nonlinearity="relu")) == repr(torch.nn.RNN(3, 4, nonlinearity="relu"))


def test_flatten_parameters_is_a_no_op():
    lstm = nn.LSTM(2, 3)
    before = [p.detach().numpy().copy() for p in lstm.parameters()]
    assert lstm.flatten_parameters() is None
    assert all(np.array_equal(a, p.detach().numpy()) for a, p in zip(before, lstm.parameters()))


@pytest.mark.parametrize("build, message", [
    (lambda lib: lib.nn.GRU(3, 4, proj_size=2), "proj_size argument is only supported for LSTM"),
    (lambda lib: lib.nn.LSTM(3, 4, proj_size=4), "proj_size has to be smaller than hidden_size"),
    (lambda lib: lib.nn.RNN(3, 4, nonlinearity="gelu"), "Unknown nonlinearity 'gelu'"),
    (lambda lib: lib.nn.LSTM(3, 0), "hidden_size must be greater than zero"),
    (lambda lib: lib.nn.LSTM(3, 4, num_layers=0), "num_layers must be greater than zero"),
    (lambda lib: lib.nn.LSTM(3, 4, dropout=1.5), "dropout should be a number in range"),
])
def test_constructor_errors_match_torch(build, message):
    for lib in (torch, chainrule):
        with pytest.raises(ValueError, match=message):
            build(lib)


def test_forward_errors_match_torch():
    for lib in (torch, chainrule):
        lstm = lib.nn.LSTM(3, 4)
        with pytest.raises(RuntimeError, match=r"input.size\(-1\) must be equal to input_size. Expected 3, got 2"):
            lstm(lib.zeros(5, 2, 2))
        with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(1, 2, 4\), got \[1, 3, 4\]"):
            lstm(lib.zeros(5, 2, 3), (lib.zeros(1, 3, 4), lib.zeros(1, 2, 4)))
        with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D instead"):
            lstm(lib.zeros(5, 2, 3, 1))
        with pytest.raises(ValueError, match="does not match weight dtype"):
            lstm(lib.zeros(5, 2, 3, dtype=lib.float64))
        gru = lib.nn.GRU(3, 4)
        with pytest.raises(RuntimeError, match="For batched 3-D input, hx should also be 3-D but got 2-D tensor"):
            gru(lib.zeros(5, 2, 3), lib.zeros(2, 4))


# -- the fused op: one node per layer and direction, gradcheck, double backward ------------------


def _graph_nodes(tensor):
    seen, stack = set(), [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen or not hasattr(node, "next_functions"):
            continue
        seen.add(node)
        stack.extend(fn for fn, _ in node.next_functions)
    return [type(n).__name__ for n in seen]


def test_one_node_per_layer_and_direction():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    short = _graph_nodes(lstm(chainrule.randn(5, 2, 3))[0])
    long = _graph_nodes(lstm(chainrule.randn(500, 2, 3))[0])
    assert long.count("LstmBackward0") == 4
    assert sorted(long) == sorted(short)  # the graph does not grow with the sequence



@pytest.mark.parametrize("kind, options", [
    (kind, options) for kind in KINDS
    for options in ({}, {"batch_first": True}, {"bidirectional": True}, {"num_layers": 2}, {"packed": True})
] + [("LSTM", {"proj_size": 2})])
@pytest.mark.parametrize("dtype", ("float32", "float64"))
@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
def test_output_and_state_nodes_are_named_as_pytorch(kind, options, dtype):
    """What a printed output shows as its grad_fn: PyTorch's CPU kernels stack the steps
    (StackBackward0), concatenate packed rows, transpose RNN/GRU outputs in place
    (TransposeBackward1), and run a float32 LSTM through oneDNN (MkldnnRnnLayerBackward0)."""
    options = dict(options)
    packed = options.pop("packed", False)
    names = []
    for lib in (chainrule, torch):
        module = make(lib, kind, 3, 4, **options).to(getattr(lib, dtype))
        x = lib.ones(5, 2, 3, dtype=getattr(lib, dtype))
        if packed:
            output, hidden = module(lib.nn.utils.rnn.pack_padded_sequence(x, [5, 3]))
            output = output.data
        else:
            output, hidden = module(x)
        states = hidden if isinstance(hidden, tuple) else (hidden,)
        names.append([t.grad_fn.name() for t in (output,) + states])
    assert names[0] == names[1]


@pytest.mark.parametrize("cell, options", [("LSTMCell", {}), ("GRUCell", {}), ("RNNCell", {}),
                                           ("RNNCell", {"nonlinearity": "relu"})])
@pytest.mark.parametrize("shape", ((2, 4), (4,)))
def test_cell_outputs_are_named_as_pytorch(cell, options, shape):
    """A cell's outputs show PyTorch's last op of the step: h' = o tanh(c') (MulBackward0),
    c' = f c + i g and the GRU's n + z (h - n) (AddBackward0), tanh or relu; unbatched,
    the squeeze."""
    names = []
    for lib in (chainrule, torch):
        out = getattr(lib.nn, cell)(4, 3, **options)(lib.ones(*shape))
        names.append([t.grad_fn.name() for t in (out if isinstance(out, tuple) else (out,))])
    assert names[0] == names[1]

MODES = {"RNN": "RNN_TANH", "RNN_relu": "RNN_RELU", "LSTM": "LSTM", "GRU": "GRU"}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("packed", (False, True))
def test_gradcheck_and_gradgradcheck(kind, packed):
    """The fused op (both directions, a projection for the LSTM) against finite differences,
    first and second order, in every input: sequence, initial states, weights."""
    mode = MODES[kind]
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1)
    hidden, n = 3, (2 if mode == "LSTM" else 3)
    rng = np.random.default_rng(12)

    def leaf(*shape):
        return chainrule.tensor(rng.uniform(-0.8, 0.8, shape), requires_grad=True)

    shapes = [(gates * hidden, 2), (gates * hidden, n), (gates * hidden,), (gates * hidden,)]
    if mode == "LSTM":
        shapes.append((n, hidden))
    weights = [leaf(*shape) for _ in range(2) for shape in shapes]
    count = len(shapes)
    x = leaf(3, 2, 2)
    h0 = leaf(2, 2, n)
    c0 = leaf(2, 2, hidden) if mode == "LSTM" else None
    lengths = [3, 2]

    def run(x, h0, *rest):
        c0, ws = (rest[0], rest[1:]) if mode == "LSTM" else (None, rest)
        layers = [tuple(ws[i:i + count]) + (None,) * (5 - count) for i in (0, count)]
        sizes = None
        if packed:
            packed_x = rnn_utils.pack_padded_sequence(x, lengths)
            x, sizes = packed_x.data, packed_x.batch_sizes
        out, h_n, c_n = functional_rnn.recurrent(mode, x, h0, c0, layers, 1, 0.0, False, True,
                                                 batch_sizes=sizes)
        return (out, h_n) if c_n is None else (out, h_n, c_n)

    inputs = (x, h0) + ((c0,) if c0 is not None else ()) + tuple(weights)
    assert chainrule.autograd.gradcheck(run, inputs, eps=1e-6, atol=1e-5)
    assert chainrule.autograd.gradgradcheck(run, inputs, eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_double_backward_matches_torch(kind):
    c, t = twins(kind, 2, 3, num_layers=2)
    rng = np.random.default_rng(13)
    cx, tx = tensors(rng.standard_normal((4, 2, 2)))
    c_out, t_out = flat(c(cx)), flat(t(tx))
    c_loss = sum((o * o).sum() for o in c_out)
    t_loss = sum((o * o).sum() for o in t_out)
    c_params, t_params = list(c.parameters()), list(t.parameters())
    c_grads = chainrule.autograd.grad(c_loss, [cx] + c_params, create_graph=True)
    t_grads = torch.autograd.grad(t_loss, [tx] + t_params, create_graph=True)
    for a, b in zip(c_grads, t_grads):
        assert_close(a, b)
    c_penalty = sum((g * g).sum() for g in c_grads)
    t_penalty = sum((g * g).sum() for g in t_grads)
    c_second = chainrule.autograd.grad(c_penalty, [cx] + c_params)
    t_second = torch.autograd.grad(t_penalty, [tx] + t_params)
    for i, (a, b) in enumerate(zip(c_second, t_second)):
        assert_close(a, b, what=f"second-order gradient {i}")


@pytest.mark.parametrize("kind", KINDS)
def test_backward_in_many_chunks_matches_torch(kind, monkeypatch):
    """The backward's time loop runs over chunks of steps; tiny chunks (a step or two, cut
    inside the packed batch sizes) give the same numbers."""
    from chainrule.ops import rnn as rnn_ops

    monkeypatch.setattr(rnn_ops, "_CHUNK_BYTES", 200)
    c, t = twins(kind, 3, 4, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(14)
    cx, tx = tensors(rng.standard_normal((6, 5, 3)))
    lengths = [6, 5, 3, 3, 1]
    c_out = c(rnn_utils.pack_padded_sequence(cx, lengths))
    t_out = t(torch.nn.utils.rnn.pack_padded_sequence(tx, lengths))
    backward_and_compare(flat(c_out), flat(t_out), [cx], [tx], c, t)
    c2, t2 = twins(kind, 3, 4)
    cx2, tx2 = tensors(rng.standard_normal((7, 2, 3)))
    backward_and_compare(flat(c2(cx2)), flat(t2(tx2)), [cx2], [tx2], c2, t2)
