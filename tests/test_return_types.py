"""The named tuples of ``chainrule.return_types`` against ``torch.return_types``: the same
type name, fields and printed form for every function that returns one, and they pickle."""
from __future__ import annotations

import pickle
import re
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule.return_types import structseq

NUMBER = re.compile(r"-?\d+\.?\d*(e[-+]\d+)?")
MATRIX = np.array([[4.0, 1.0, 2.0], [1.0, 3.0, 0.5], [2.0, 0.5, 5.0]])

CALLS = {
    "max": lambda lib, x: lib.max(x, 1),
    "min": lambda lib, x: x.min(dim=0, keepdim=True),
    "sort": lambda lib, x: lib.sort(x, descending=True),
    "topk": lambda lib, x: x.topk(2),
    "median": lambda lib, x: x.median(1),
    "kthvalue": lambda lib, x: lib.kthvalue(x, 2, 0),
    "mode": lambda lib, x: lib.mode(x, 1),
    "nanmedian": lambda lib, x: lib.nanmedian(x, 1),
    "cummax": lambda lib, x: lib.cummax(x, 1),
    "cummin": lambda lib, x: x.cummin(0),
    "aminmax": lambda lib, x: lib.aminmax(x),
    "slogdet": lambda lib, x: lib.slogdet(x),
    "linalg_slogdet": lambda lib, x: lib.linalg.slogdet(x),
    "linalg_eigh": lambda lib, x: lib.linalg.eigh(x),
    "linalg_svd": lambda lib, x: lib.linalg.svd(x),
    "svd": lambda lib, x: lib.svd(x),
    "linalg_qr": lambda lib, x: lib.linalg.qr(x),
    "linalg_inv_ex": lambda lib, x: lib.linalg.inv_ex(x),
    "linalg_cholesky_ex": lambda lib, x: lib.linalg.cholesky_ex(x),
    "linalg_solve_ex": lambda lib, x: lib.linalg.solve_ex(x, x[:, :1]),
}


def results(call):
    return call(chainrule, chainrule.tensor(MATRIX)), call(torch, torch.tensor(MATRIX))


@pytest.mark.parametrize("name", CALLS)
def test_type_fields_and_printed_form_are_pytorchs(name):
    ours, theirs = results(CALLS[name])
    assert type(ours).__name__ == type(theirs).__name__ == name
    assert type(ours).__module__ == "chainrule.return_types"
    assert ours.n_fields == theirs.n_fields == len(ours) == len(theirs)
    # The printed form around the numbers (factorizations' vectors may differ in sign).
    assert NUMBER.sub("#", repr(ours).replace("chainrule.", "torch.")) == NUMBER.sub("#", repr(theirs))
    assert NUMBER.sub("#", str([ours]).replace("chainrule.", "torch.")) == NUMBER.sub("#", str([theirs]))
    for field in ours._fields:
        np.testing.assert_allclose(np.abs(getattr(ours, field).numpy()), np.abs(getattr(theirs, field).numpy()),
                                   rtol=1e-9, atol=1e-9, err_msg=field)


@pytest.mark.parametrize("name", ("max", "min", "sort", "topk", "median", "kthvalue", "mode", "cummax", "cummin",
                                  "aminmax", "slogdet", "linalg_slogdet", "linalg_inv_ex", "linalg_solve_ex"))
def test_printed_exactly_as_pytorch(name):
    ours, theirs = results(CALLS[name])
    assert repr(ours).replace("chainrule.", "torch.") == repr(theirs)


def test_torch_qr_is_qr_and_linalg_qr_is_linalg_qr():
    with warnings.catch_warnings():  # torch.qr is deprecated (PyTorch warns once a process)
        warnings.simplefilter("ignore")
        theirs = torch.qr(torch.tensor(MATRIX))
    assert type(chainrule.qr(chainrule.tensor(MATRIX))).__name__ == type(theirs).__name__ == "qr"


@pytest.mark.parametrize("name", ("max", "sort", "linalg_svd"))
def test_they_pickle_and_unpack(name):
    ours = CALLS[name](chainrule, chainrule.tensor(MATRIX))
    back = pickle.loads(pickle.dumps(ours))
    assert type(back) is type(ours) and isinstance(back, tuple)
    first, *rest = back
    np.testing.assert_array_equal(first.numpy(), ours[0].numpy())
    assert getattr(chainrule.return_types, name) is type(ours)


def test_a_name_is_made_once_with_its_fields():
    assert structseq("max", ["values", "indices"]) is chainrule.return_types.max
    with pytest.raises(ValueError, match="return type max exists with the fields"):
        structseq("max", ["a", "b"])
