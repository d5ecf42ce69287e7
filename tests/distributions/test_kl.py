"""kl_divergence's choice of function as PyTorch's: the most specific registered pair, a
user's registration for subclasses, the ambiguity warning, and the error for none."""
from __future__ import annotations

import warnings

from dist_parity import check


def test_dispatch_picks_pytorchs_function_and_warns_as_it_does():
    def run(lib):
        D = lib.distributions

        class MyNormal(D.Normal):
            pass

        class Other(D.Distribution):
            pass

        D.register_kl(MyNormal, D.Distribution)(lambda p, q: "mine, p side")
        D.register_kl(D.Distribution, MyNormal)(lambda p, q: "mine, q side")
        normal = D.Normal(lib.tensor(0.0), lib.tensor(1.0))
        mine = MyNormal(lib.tensor(0.5), lib.tensor(2.0))
        out = []
        for p, q in ((mine, normal), (normal, mine), (mine, mine), (normal, normal)):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out.append([D.kl_divergence(p, q), [str(w.message) for w in caught]])
        try:
            D.kl_divergence(Other(), normal)
        except NotImplementedError as error:
            out.append(str(error))
        return out
    check(run)
