"""The Distribution base class as user code subclasses it (PyTorch's pattern: arg_constraints,
support, _get_checked_instance in expand, validation), and perplexity and sample_n."""
from __future__ import annotations

import warnings

from dist_parity import check


def _folded_normal(lib):
    D = lib.distributions

    class FoldedNormal(D.Distribution):
        arg_constraints = {"loc": D.constraints.real, "scale": D.constraints.positive}
        support = D.constraints.nonnegative
        has_rsample = True

        def __init__(self, loc, scale, validate_args=None):
            self.loc, self.scale = D.utils.broadcast_all(loc, scale)
            super().__init__(self.loc.shape, validate_args=validate_args)

        def expand(self, batch_shape, _instance=None):
            new = self._get_checked_instance(FoldedNormal, _instance)
            new.loc, new.scale = self.loc.expand(batch_shape), self.scale.expand(batch_shape)
            super(FoldedNormal, new).__init__(batch_shape, validate_args=False)
            new._validate_args = self._validate_args
            return new

        def rsample(self, sample_shape=lib.Size()):
            eps = lib.randn(self._extended_shape(sample_shape), dtype=self.loc.dtype)
            return (self.loc + self.scale * eps).abs()

        def log_prob(self, value):
            if self._validate_args:
                self._validate_sample(value)
            normal = D.Normal(self.loc, self.scale)
            return lib.logaddexp(normal.log_prob(value), normal.log_prob(-value))

    return FoldedNormal


def test_a_user_distribution_written_as_for_pytorch():
    def run(lib):
        lib.manual_seed(3)
        FoldedNormal = _folded_normal(lib)
        d = FoldedNormal(lib.tensor([0.5, -1.0], dtype=lib.float64), lib.tensor([1.0, 2.0], dtype=lib.float64),
                         validate_args=True)
        sample = d.rsample((3,))
        wider = d.expand((4, 2))
        out = [sample, d.log_prob(sample), tuple(wider.batch_shape), wider.log_prob(sample[0]), repr(d)]
        for call in (lambda: d.log_prob(lib.tensor([-1.0, 1.0], dtype=lib.float64)),
                     lambda: FoldedNormal(lib.tensor(0.0), lib.tensor(-1.0), validate_args=True),
                     lambda: type("Sub", (FoldedNormal,), {"__init__": lambda self: None})().expand((2,)),
                     lambda: lib.distributions.Distribution().log_prob(lib.tensor(0.0))):
            try:
                out.append(call())
            except Exception as error:  # noqa: BLE001
                out.append(type(error).__name__ + str(error))
        return out
    check(run)


def test_perplexity_and_sample_n():
    def run(lib):
        lib.manual_seed(0)
        d = lib.distributions.Normal(lib.tensor([0.0, 1.0], dtype=lib.float64), lib.tensor([1.0, 3.0],
                                                                                        dtype=lib.float64))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            drawn = d.sample_n(3)
        return [d.perplexity(), drawn, [str(w.message) for w in caught], [w.category.__name__ for w in caught]]
    check(run)


def test_parameters_computed_on_first_read_keep_their_graph():
    """probs from logits (or the reverse) are computed when first read, under enable_grad as in
    PyTorch, even when that read is inside sample()'s no_grad; what __dict__ holds shows in repr."""
    def run(lib):
        out = []
        for build in (lambda D, x: D.Bernoulli(logits=x), lambda D, x: D.Categorical(logits=x),
                      lambda D, x: D.Binomial(4, logits=x), lambda D, x: D.Geometric(logits=x),
                      lambda D, x: D.Categorical(probs=x.sigmoid())):
            lib.manual_seed(1)
            x = lib.tensor([0.3, -1.2, 0.5], dtype=lib.float64, requires_grad=True)
            d = build(lib.distributions, x)
            before = repr(d)
            d.sample((2,))
            out += [before, repr(d), lib.autograd.grad(d.entropy().sum() + d.mean.sum(), x)[0]]
        return out
    check(run)
