"""chainrule.numpy_errstate: NumPy's error state changed for a block, through its context
variable and through ``numpy.errstate`` (the fallback): the same states, per thread, the
user's own settings kept."""
from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import numpy_errstate as fp_errors


@pytest.fixture(params=["context variable", "numpy.errstate"])
def path(request, monkeypatch):
    """Every test runs on the fast path (where this NumPy has it) and on the fallback."""
    if request.param == "numpy.errstate":
        monkeypatch.setattr(fp_errors, "_STATE", None)
    elif not fp_errors.private_state():
        pytest.skip("this NumPy keeps its error state elsewhere: only the fallback runs")
    return request.param


def _overflow() -> np.ndarray:
    return np.exp(np.array([1000.0], np.float32))


def test_a_block_ignores_overflow_and_restore_puts_the_warning_back(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        token = fp_errors.ignore(fp_errors.OVERFLOW)
        try:
            assert _overflow()[0] == np.inf
            assert np.geterr()["over"] == "ignore"
        finally:
            fp_errors.restore(token)
        assert np.geterr()["over"] == "warn"
        with pytest.raises(RuntimeWarning, match="overflow"):
            _overflow()


def test_the_users_other_settings_stay_in_force_and_a_change_of_them_is_seen(path):
    with np.errstate(divide="raise"):
        token = fp_errors.ignore(fp_errors.OVERFLOW)
        try:
            assert np.geterr()["divide"] == "raise" and np.geterr()["over"] == "ignore"
            with pytest.raises(FloatingPointError):
                np.divide(np.float32(1), np.float32(0))
        finally:
            fp_errors.restore(token)
    with np.errstate(invalid="raise"):  # a new state in force: the prepared one is remade from it
        token = fp_errors.ignore(fp_errors.OVERFLOW)
        try:
            assert np.geterr()["invalid"] == "raise" and np.geterr()["divide"] == "warn"
        finally:
            fp_errors.restore(token)
    assert np.geterr()["invalid"] == "warn"


def test_the_state_is_per_thread(path):
    seen: dict = {}
    entered, checked = threading.Event(), threading.Event()

    def other_thread():
        token = fp_errors.ignore(fp_errors.OVERFLOW)
        seen["other"] = np.geterr()["over"]
        entered.set()
        checked.wait(60)
        fp_errors.restore(token)

    thread = threading.Thread(target=other_thread)
    thread.start()
    assert entered.wait(60)
    seen["main"] = np.geterr()["over"]
    checked.set()
    thread.join(60)
    assert seen == {"other": "ignore", "main": "warn"}


def test_sigmoid_overflows_silently_on_both_paths_and_leaves_the_state_as_it_was(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise"):  # the op's own setting wins inside it, as numpy.errstate's did
            out = chainrule.sigmoid(chainrule.tensor([-1000.0, 0.0, 1000.0]))
            assert np.geterr()["over"] == "raise"
    assert out.tolist() == [0.0, 0.5, 1.0]
    assert repr(fp_errors.OVERFLOW) == "Setting(over='ignore')"
