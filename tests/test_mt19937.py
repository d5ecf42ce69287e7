"""chainrule.mt19937: PyTorch's CPU random stream, checked against PyTorch itself: the same seed
gives the same numbers in every factory, in-place fill, initialiser, dropout mask, sampler
and generator state."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

LIBS = (torch, chainrule)


def both(draw, seed=0):
    """``draw(lib)`` after ``lib.manual_seed(seed)``, for PyTorch and chainrule (tensors as
    NumPy arrays)."""
    out = []
    for lib in LIBS:
        lib.manual_seed(seed)
        value = draw(lib)
        out.append(value.detach().numpy() if hasattr(value, "detach") else value)
    return out


def assert_same(draw, seed=0, float32_normals=False):
    expected, actual = (np.asarray(x) for x in both(draw, seed))
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    if float32_normals:  # PyTorch's vectorised log/sin/cos may round the last bit differently
        np.testing.assert_allclose(actual, expected, rtol=2e-6, atol=2e-6)
    else:
        np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("seed", [0, 42, 2147483647, 2**40 + 7])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rand_and_uniform(seed, dtype):
    assert_same(lambda lib: lib.rand(7, 3, dtype=getattr(lib, dtype)), seed)
    assert_same(lambda lib: lib.empty(11, dtype=getattr(lib, dtype)).uniform_(-2.5, 0.75), seed)


@pytest.mark.parametrize("n", [1, 2, 5, 15, 16, 17, 20, 37, 64, 100])
def test_randn_both_kernels(n):
    """Below 16 elements PyTorch draws double normals one by one; from 16 on it fills in
    blocks of 16, redrawing a short tail."""
    assert_same(lambda lib: lib.randn(n, dtype=lib.float64))
    assert_same(lambda lib: lib.randn(n), float32_normals=True)
    assert_same(lambda lib: lib.empty(n, dtype=lib.float64).normal_(1.5, 0.25))


def test_the_second_normal_of_a_pair_is_kept_for_the_next_draw():
    assert_same(lambda lib: [lib.randn(1, dtype=lib.float64).item() for _ in range(5)])
    assert_same(lambda lib: [lib.randn(1).item(), lib.randn(3, dtype=lib.float64).sum().item(), lib.rand(1).item(),
                             lib.randn(1).item()])
    # a reseed forgets it
    assert_same(lambda lib: [lib.randn(1).item(), lib.manual_seed(3) and lib.randn(1).item()])


def test_normal_with_tensor_mean_and_std():
    mean, std = np.linspace(-1, 1, 20), np.linspace(0.5, 2, 20)
    assert_same(lambda lib: lib.normal(lib.tensor(mean), lib.tensor(std)))
    assert_same(lambda lib: lib.normal(2.0, 3.0, size=(4, 5), dtype=lib.float64))


@pytest.mark.parametrize("low, high", [(0, 2), (0, 10), (-5, 997), (0, 2**28 - 1), (0, 2**28), (0, 2**31),
                                       (-2**40, 2**40)])
def test_randint(low, high):
    assert_same(lambda lib: lib.randint(low, high, (9,)))
    if high - low < 2**31:
        assert_same(lambda lib: lib.randint(low, high, (9,), dtype=lib.int32))


@pytest.mark.parametrize("n", [1, 2, 3, 10, 1000])
def test_randperm(n):
    assert_same(lambda lib: lib.randperm(n))


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "uint8", "bool", "float32", "float64"])
def test_random_without_bounds(dtype):
    assert_same(lambda lib: lib.empty(13, dtype=getattr(lib, dtype)).random_())
    if dtype != "bool":
        assert_same(lambda lib: lib.empty(13, dtype=getattr(lib, dtype)).random_(3, 100))


def test_bernoulli_dropout_and_channel_dropout():
    assert_same(lambda lib: lib.empty(40).bernoulli_(0.3))
    probs = np.linspace(0, 1, 30)
    assert_same(lambda lib: lib.bernoulli(lib.tensor(probs, dtype=lib.float32)))
    assert_same(lambda lib: lib.bernoulli(lib.tensor(probs, dtype=lib.float64)))
    x = np.linspace(-3, 3, 60).reshape(3, 20).astype(np.float32)
    for p in (0.1, 0.5, 0.9):
        assert_same(lambda lib: lib.nn.functional.dropout(lib.tensor(x), p))
        assert_same(lambda lib: lib.nn.Dropout(p)(lib.tensor(x, dtype=lib.float64)))
    images = np.ones((2, 5, 3, 3), dtype=np.float32)
    assert_same(lambda lib: lib.nn.functional.dropout2d(lib.tensor(images), 0.4))


def test_dropout_of_a_view_draws_along_its_memory():
    """PyTorch's mask is empty_like(input): a transposed view's mask has its strides, and the
    draws follow memory order."""
    x = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    assert_same(lambda lib: lib.nn.functional.dropout(lib.tensor(x).permute(2, 0, 1), 0.5))
    assert_same(lambda lib: lib.nn.functional.dropout(lib.tensor(x).transpose(0, 1)[:, :2], 0.5))
    assert_same(lambda lib: lib.nn.functional.dropout(lib.tensor(x).permute(2, 0, 1)[:, :, :2], 0.5))  # (not dense)


@pytest.mark.parametrize("batch_first", [True, False])
def test_transformer_layers_with_dropout_while_training(batch_first):
    x = np.linspace(-1, 1, 2 * 5 * 8).reshape(2, 5, 8).astype(np.float32)

    def run(lib):
        encoder = lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3, batch_first=batch_first)
        model = lib.nn.Transformer(8, 2, 1, 1, 16, dropout=0.2, batch_first=batch_first)
        return lib.cat([encoder(lib.tensor(x)), model(lib.tensor(x), lib.tensor(x))])

    expected, actual = both(run)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=2e-6)


def test_multinomial():
    weights = np.array([[0.1, 0.2, 0.3, 0.4], [5.0, 0.0, 1.0, 2.0]], dtype=np.float32)
    assert_same(lambda lib: lib.multinomial(lib.tensor(weights), 6, replacement=True))
    assert_same(lambda lib: lib.multinomial(lib.tensor(weights), 3))
    assert_same(lambda lib: lib.multinomial(lib.tensor(weights[0]), 1, replacement=True))
    assert_same(lambda lib: lib.multinomial(lib.tensor(weights[1], dtype=lib.float64), 10, replacement=True))


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("weights,count,replacement", [
    ([-1.0, 1.0], 1, False), ([0.0, 0.0], 1, False), ([NAN, 1.0], 1, True), ([INF, 1.0], 1, True),
    ([1.0, 1.0], 3, False), ([[1.0]], 0, True), ([[[1.0]]], 1, True), ([], 1, True), ([], 1, False), ([1, 2], 1, True),
    ([-1.0, 1.0], 2, True), ([0.0, 0.0], 2, True), ([NAN, 1.0], 2, True), ([INF, 1.0], 2, True),
    ([[1.0, 2.0], [0.0, 0.0]], 2, True), ([[1.0, 2.0], [0.0, 0.0]], 1, True), ([[]], 2, True),
    ([[1.0, INF], [-1.0, 0.0]], 3, True),
])
def test_multinomial_refuses_what_pytorch_refuses(weights, count, replacement):
    """Negative, infinite or NaN weights, rows summing to 0, counts it cannot draw: PyTorch's
    error and message, from its fast path (one draw, or without replacement) or its kernel."""
    messages = []
    for lib in (torch, chainrule):
        with pytest.raises(RuntimeError) as raised:
            lib.multinomial(lib.tensor(weights), count, replacement)
        messages.append(str(raised.value))
    assert messages[0] == messages[1]


def test_multinomial_count_must_be_an_integer():
    for lib in (torch, chainrule):
        with pytest.raises(TypeError, match="argument 'num_samples' \\(position 2\\) must be int, not float"):
            lib.multinomial(lib.ones(3), 1.5)
    assert chainrule.multinomial(chainrule.ones(3), chainrule.tensor(2)).shape == (2,)


def test_other_distributions():
    assert_same(lambda lib: lib.empty(9).exponential_(2.5))
    assert_same(lambda lib: lib.empty(9, dtype=lib.float64).cauchy_(1.0, 0.5))
    assert_same(lambda lib: lib.empty(9, dtype=lib.float64).log_normal_(0.5, 0.25))
    assert_same(lambda lib: lib.empty(9).geometric_(0.3))


def test_random_activations_and_likes():
    x = np.linspace(-2, 2, 21).astype(np.float32)
    assert_same(lambda lib: lib.nn.functional.rrelu(lib.tensor(x), training=True))
    assert_same(lambda lib: lib.nn.RReLU(0.1, 0.3)(lib.tensor(x, dtype=lib.float64)))
    assert_same(lambda lib: lib.nn.functional.alpha_dropout(lib.tensor(x), 0.3, training=True))
    assert_same(lambda lib: lib.randint_like(lib.zeros(2, 3, dtype=lib.float64), 3, 9))
    assert_same(lambda lib: lib.rand_like(lib.zeros(4, dtype=lib.float64)))


def test_distributions_sample_pytorchs_values():
    assert_same(lambda lib: lib.distributions.Normal(lib.tensor(1.0), lib.tensor(2.0)).sample((20,)),
                float32_normals=True)
    assert_same(lambda lib: lib.distributions.Categorical(probs=lib.tensor([0.2, 0.3, 0.5])).sample((10,)))
    assert_same(lambda lib: lib.distributions.Bernoulli(probs=lib.tensor([0.2, 0.3, 0.5])).sample((4,)))
    assert_same(lambda lib: lib.distributions.Uniform(lib.tensor(0.0), lib.tensor(2.0)).sample((5,)))


def test_a_generator_object_of_its_own():
    """The makemore way: a generator seeded with 2147483647 passed to each draw."""
    def draw(lib):
        g = lib.Generator().manual_seed(2147483647)
        return [lib.randn((27, 10), generator=g).sum().item(), lib.rand(3, generator=g).tolist(),
                lib.randint(0, 27, (5,), generator=g).tolist(),
                lib.multinomial(lib.tensor([0.5, 0.25, 0.25]), 4, replacement=True, generator=g).tolist()]
    expected, actual = both(draw)
    assert actual[0] == pytest.approx(expected[0], rel=1e-6)
    assert actual[1:] == expected[1:]


@pytest.mark.parametrize("build", [
    lambda lib: lib.nn.Linear(7, 5),
    lambda lib: lib.nn.Conv2d(3, 4, 3),
    lambda lib: lib.nn.Conv1d(2, 3, 5, bias=False),
    lambda lib: lib.nn.Embedding(10, 6),
    lambda lib: lib.nn.RNN(4, 6, num_layers=2),
    lambda lib: lib.nn.LSTM(4, 6, bidirectional=True),
    lambda lib: lib.nn.GRU(3, 5, batch_first=True),
    lambda lib: lib.nn.Bilinear(3, 4, 2),
    lambda lib: lib.nn.MultiheadAttention(8, 2),
    lambda lib: lib.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16),
    lambda lib: lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.LayerNorm(8), lib.nn.Linear(8, 2)),
], ids=["linear", "conv2d", "conv1d", "embedding", "rnn", "lstm", "gru", "bilinear", "mha", "encoder_layer",
        "sequential"])
def test_modules_start_from_pytorchs_weights(build):
    expected, actual = ({k: v.detach().numpy() for k, v in states.items()} for states in
                        (lib.manual_seed(0) and build(lib).state_dict() for lib in LIBS))
    assert list(actual) == list(expected)
    for name in expected:  # (uniform draws bit for bit; float32 normals to their last bit)
        np.testing.assert_allclose(actual[name], expected[name], rtol=2e-6, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("init", [
    lambda lib, t: lib.nn.init.xavier_uniform_(t),
    lambda lib, t: lib.nn.init.xavier_normal_(t),
    lambda lib, t: lib.nn.init.kaiming_uniform_(t, nonlinearity="relu"),
    lambda lib, t: lib.nn.init.kaiming_normal_(t, mode="fan_out"),
    lambda lib, t: lib.nn.init.normal_(t, 0.0, 0.02),
    lambda lib, t: lib.nn.init.uniform_(t, -0.1, 0.1),
    lambda lib, t: lib.nn.init.sparse_(t, 0.5),
], ids=["xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "normal", "uniform", "sparse"])
def test_initialisers(init):
    assert_same(lambda lib: init(lib, lib.empty(6, 5)), float32_normals=True)
    assert_same(lambda lib: init(lib, lib.empty(4, 3, dtype=lib.float64)))


def test_trunc_normal_and_orthogonal_within_rounding():
    for init in (lambda lib, t: lib.nn.init.trunc_normal_(t, 0.0, 1.0, -2.0, 2.0),
                 lambda lib, t: lib.nn.init.orthogonal_(t)):
        expected, actual = both(lambda lib: init(lib, lib.empty(6, 5, dtype=lib.float64)))
        np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-12)


def test_data_order_across_epochs():
    def order(lib):
        data = lib.utils.data
        dataset = data.TensorDataset(lib.arange(23))
        loader = data.DataLoader(dataset, batch_size=5, shuffle=True)
        epochs = [[batch[0].tolist() for batch in loader] for _ in range(3)]
        parts = [list(part.indices) for part in data.random_split(range(10), [0.3, 0.7])]
        drawn = list(data.RandomSampler(range(7), replacement=True, num_samples=40))
        subset = list(data.SubsetRandomSampler([3, 5, 8, 13]))
        weighted = list(data.WeightedRandomSampler([0.1, 0.9, 0.4, 0.0, 2.0], 12))
        return [epochs, parts, drawn, subset, weighted, lib.rand(1).item()]
    expected, actual = both(order)
    assert actual == expected


def test_distributed_sampler_order():
    def order(lib):
        sampler = lib.utils.data.DistributedSampler(range(17), num_replicas=3, rank=1, seed=5)
        sampler.set_epoch(2)
        return list(sampler)
    expected, actual = both(order)
    assert actual == expected


def test_state_is_pytorchs_bytes_and_loads_both_ways():
    for lib in LIBS:
        lib.manual_seed(123)
    assert np.array_equal(chainrule.get_rng_state().numpy(), torch.get_rng_state().numpy())
    for lib in LIBS:
        lib.rand(700)
        lib.randn(1, dtype=lib.float64)  # leaves the pair's second value waiting
    state = torch.get_rng_state()
    assert np.array_equal(chainrule.get_rng_state().numpy(), state.numpy())
    chainrule.manual_seed(0)
    chainrule.set_rng_state(chainrule.tensor(state.numpy()))
    assert chainrule.randn(3, dtype=chainrule.float64).tolist() == torch.randn(3, dtype=torch.float64).tolist()
    torch.set_rng_state(torch.from_numpy(chainrule.get_rng_state().numpy()))
    assert chainrule.rand(4).tolist() == torch.rand(4).tolist()


def test_a_bad_state_is_refused():
    with pytest.raises(RuntimeError, match="5056"):
        chainrule.set_rng_state(chainrule.zeros(10, dtype=chainrule.uint8))


@pytest.mark.parametrize("n", [15, 16, 17, 33, 400])
def test_float16_draws_and_computes_in_float32(n):
    """float16's kernels draw float32 uniforms (24 bits), compute in float32 and round; its
    normal fill draws 16 uniforms per whole block only, then the tail's 16."""
    assert_same(lambda lib: lib.rand(n, dtype=lib.float16))
    assert_same(lambda lib: lib.empty(n, dtype=lib.float16).uniform_(0.1, 0.3))
    expected, actual = both(lambda lib: [lib.randn(n, dtype=lib.float16), lib.rand(2)])
    np.testing.assert_allclose(actual[0], expected[0], rtol=1e-3, atol=1e-3)  # (float32 normals' last bit, rounded)
    assert np.array_equal(actual[1], expected[1])


@pytest.mark.parametrize("n", [3, 8, 9, 20])
def test_complex_draws_fill_the_real_and_imaginary_parts(n):
    """A complex tensor's rand/randn/uniform_/normal_ is the fill of its view_as_real: pairs of
    draws, each normal part with std / sqrt(2) and the mean on both parts."""
    assert_same(lambda lib: lib.rand(n, 2, dtype=lib.complex64))
    assert_same(lambda lib: lib.randn(n, dtype=lib.complex128))
    assert_same(lambda lib: lib.randn(n, dtype=lib.complex64), float32_normals=True)
    assert_same(lambda lib: lib.randn_like(lib.zeros(n, dtype=lib.complex128), generator=lib.Generator().manual_seed(5)))
    assert_same(lambda lib: lib.empty(n, dtype=lib.complex128).uniform_(-2.0, 3.0))
    assert_same(lambda lib: lib.empty(n, dtype=lib.complex128).normal_(1.5, 3.0))
    assert_same(lambda lib: lib.normal(lib.ones(n, dtype=lib.complex128), 2.0))
    assert_same(lambda lib: lib.zeros(4, n, dtype=lib.complex128).t().normal_())


def test_a_uniform_that_rounds_to_the_top_is_the_bottom():
    assert_same(lambda lib: lib.empty(4000, dtype=lib.float16).uniform_())  # (some round up to 1.0)
    assert_same(lambda lib: lib.empty(200, dtype=lib.float64).uniform_(1.0, 1.0 + 2**-52))


@pytest.mark.parametrize("view", [lambda t: t.T, lambda t: t[:, ::2], lambda t: t.permute(1, 0)[1:]],
                         ids=["transposed", "strided", "transposed_slice"])
def test_in_place_fills_of_a_view_draw_along_its_memory(view):
    """PyTorch's kernels visit a view's elements in memory order; normal_ of a tensor that is
    not contiguous draws double normals one at a time, whatever its size."""
    def fill(method, dtype="float64"):
        def draw(lib):
            base = lib.zeros(6, 8, dtype=getattr(lib, dtype))
            method(lib, view(base))
            return base
        return draw

    assert_same(fill(lambda lib, t: t.uniform_(-1, 2)))
    assert_same(fill(lambda lib, t: t.normal_(0.5, 2.0)))
    assert_same(fill(lambda lib, t: t.normal_(), "float32"))
    assert_same(fill(lambda lib, t: t.bernoulli_(0.4)))
    assert_same(fill(lambda lib, t: t.bernoulli_(lib.linspace(0, 1, t.shape[1], dtype=lib.float64))))
    assert_same(fill(lambda lib, t: t.random_(0, 10)))
    assert_same(fill(lambda lib, t: t.exponential_(), "float32"))  # (float64: see the module note on log1p)
    assert_same(fill(lambda lib, t: lib.nn.init.uniform_(t)))
    assert_same(fill(lambda lib, t: lib.nn.init.normal_(t, 0.0, 0.02)))


def test_dropout_masks_of_odd_inputs():
    assert_same(lambda lib: lib.nn.functional.dropout(lib.tensor(1.5), 0.3))
    x = np.linspace(-3, 3, 60).reshape(3, 4, 5).astype(np.float32)
    assert_same(lambda lib: lib.nn.functional.dropout(lib.tensor(x, dtype=lib.float16), 0.3))  # (1/(1-p) in float32)
    assert_same(lambda lib: lib.nn.functional.alpha_dropout(lib.tensor(x).transpose(0, 2), 0.4, training=True))


def test_a_random_sampler_with_a_generator_of_its_own_across_epochs():
    """PyTorch's sampler draws one more permutation (none of it taken) at the end of a pass."""
    def epochs(lib):
        data = lib.utils.data
        sampler = data.RandomSampler(range(10), generator=lib.Generator().manual_seed(1))
        loader = data.DataLoader(data.TensorDataset(lib.arange(23)), batch_size=5, shuffle=True,
                                 generator=lib.Generator().manual_seed(3))
        return [list(sampler), list(sampler), [[batch[0].tolist() for batch in loader] for _ in range(2)]]
    expected, actual = both(epochs)
    assert actual == expected


@pytest.mark.parametrize("call, message", [
    (lambda lib: lib.empty(3).normal_(0, -0.5), "normal expects std >= 0.0, but found std -0.5"),
    (lambda lib: lib.normal(0.0, -2.0, (2,)), "normal expects std >= 0.0, but found std -2"),
    (lambda lib: lib.normal(lib.zeros(2), lib.tensor([1.0, -1.0])), "normal expects all elements of std >= 0.0"),
    (lambda lib: lib.empty(3).uniform_(2.5, 1), "uniform_ expects to return a \\[from, to\\) range, but found from=2.5 > to=1"),
    (lambda lib: lib.randint(5, 5, (3,)), "random_ expects 'from' to be less than 'to', but got from=5 >= to=5"),
])
def test_bad_parameters_are_refused_as_pytorch_refuses_them(call, message):
    for lib in LIBS:
        with pytest.raises(RuntimeError, match=message):
            call(lib)


def test_random_likes_of_a_transposed_view_keep_its_layout_and_draw_along_it():
    def draw(lib):
        x = lib.zeros(3, 4, 5).permute(2, 0, 1)
        results = [lib.randn_like(x), lib.rand_like(x, dtype=lib.float64), lib.randint_like(x, 10),
                   lib.randn_like(x[:, :, :2])]  # (not dense: a contiguous result)
        return [(r.stride(), r.numpy().tolist()) for r in results]
    expected, actual = both(draw)
    assert actual == expected
