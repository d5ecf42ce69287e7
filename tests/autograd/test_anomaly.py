"""detect_anomaly: a backward that produces NaN raises, naming the op and the user's source
line of the forward call that created it."""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import torch

import chainrule

THIS_FILE = __file__


def _line_of(marker: str) -> int:
    """The line number in this file of the source line containing ``marker``."""
    lines, start = inspect.getsourcelines(inspect.getmodule(_line_of))
    for number, line in enumerate(lines, start=start or 1):
        if marker in line and "_line_of" not in line:
            return number
    raise AssertionError(marker)


def test_sqrt_at_zero_names_op_and_line():
    x = chainrule.tensor([0.0, 1.0], requires_grad=True)
    with chainrule.autograd.detect_anomaly():
        y = x.sqrt()  # MARK-sqrt
        z = (y * 0).sum()
        with pytest.raises(RuntimeError) as error:
            z.backward()
    message = str(error.value)
    assert "SqrtBackward" in message
    assert "nan" in message
    assert f"{THIS_FILE}:{_line_of('MARK-sqrt')}" in message


def test_log_at_zero_names_op_and_line_and_the_forward():
    x = chainrule.tensor([0.0, 2.0], requires_grad=True)
    with chainrule.autograd.detect_anomaly():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = chainrule.log(x)  # MARK-log
        z = (y * 0).sum()
        with pytest.raises(RuntimeError) as error:
            z.backward()
    message = str(error.value)
    assert "LogBackward" in message
    assert f"{THIS_FILE}:{_line_of('MARK-log')}" in message
    forward = [str(w.message) for w in caught if "produced NaN/inf" in str(w.message)]
    assert forward and "Log" in forward[0] and f":{_line_of('MARK-log')}" in forward[0]


def test_torch_raises_for_the_same_graphs():
    # The oracle agrees these backward passes produce NaN in SqrtBackward / LogBackward.
    for fn, name in ((lambda t: t.sqrt(), "SqrtBackward"), (lambda t: t.log(), "LogBackward")):
        x = torch.tensor([0.0, 1.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with torch.autograd.detect_anomaly():
                z = (fn(x) * 0).sum()
                with pytest.raises(RuntimeError, match=name):
                    z.backward()


def test_nan_deep_in_a_graph_names_the_first_bad_node():
    x = chainrule.tensor([1.0, -1.0], requires_grad=True)
    with chainrule.autograd.detect_anomaly():
        a = x * 2
        b = a.abs() - 2  # zero at both entries
        c = b.sqrt()  # MARK-deep
        loss = (c * 0 + a).sum()
        with pytest.raises(RuntimeError) as error:
            loss.backward()
    message = str(error.value)
    assert "SqrtBackward" in message and f":{_line_of('MARK-deep')}" in message


def test_without_anomaly_mode_nan_gradient_is_returned():
    for lib in (chainrule, torch):
        x = lib.tensor([0.0, 1.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (x.sqrt() * 0).sum().backward()
        g = x.grad.numpy()
        assert np.isnan(g[0]) and g[1] == 0.0


def test_check_nan_false_does_not_raise():
    x = chainrule.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with chainrule.autograd.detect_anomaly(check_nan=False):
            (x.sqrt() * 0).sum().backward()
    assert np.isnan(x.grad.numpy()[0])


def test_set_detect_anomaly_and_decorator():
    x = chainrule.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with chainrule.autograd.set_detect_anomaly(True):
            z = (x.sqrt() * 0).sum()
            with pytest.raises(RuntimeError, match="SqrtBackward"):
                z.backward()

        @chainrule.autograd.detect_anomaly()
        def run():
            (x.log() * 0).sum().backward()

        with pytest.raises(RuntimeError, match="LogBackward"):
            run()
    assert not chainrule.autograd.anomaly.is_anomaly_enabled()


def test_finite_backward_in_anomaly_mode_matches_plain():
    x = chainrule.tensor([0.5, 1.5], requires_grad=True)
    with chainrule.autograd.detect_anomaly():
        (x.sqrt() * x.log()).sum().backward()
    expected = 1 / (2 * np.sqrt([0.5, 1.5])) * np.log([0.5, 1.5]) + np.sqrt([0.5, 1.5]) / [0.5, 1.5]
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


def test_anomaly_with_create_graph():
    x = chainrule.tensor([0.0, 1.0], dtype=chainrule.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with chainrule.autograd.detect_anomaly():
            y = (x.sqrt() * 0).sum()  # MARK-create-graph
            with pytest.raises(RuntimeError) as error:
                chainrule.autograd.grad(y, x, create_graph=True)
    assert "SqrtBackward" in str(error.value)
    assert f":{_line_of('MARK-create-graph')}" in str(error.value)
