"""bfloat16 tensors (ml_dtypes' NumPy dtype, the ``bfloat16`` extra), against PyTorch: casts
and elementwise ops bit for bit, products and reductions to bfloat16's tolerance, autocast,
safetensors, and the one-line hint without ml_dtypes."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import chainrule

ml_dtypes = pytest.importorskip("ml_dtypes")  # (the test extra installs it)


def bits(tensor):
    """The bfloat16 bit patterns of a chainrule or torch tensor."""
    if isinstance(tensor, torch.Tensor):
        assert tensor.dtype == torch.bfloat16
        return tensor.view(torch.int16).numpy()
    assert tensor.dtype == chainrule.bfloat16
    return np.ascontiguousarray(tensor._data).view(np.int16)


def values(seed=0, shape=(6, 40), scale=3.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def pair(array):
    return chainrule.tensor(array).bfloat16(), torch.tensor(array).bfloat16()


EDGES = np.array([0.0, -0.0, 1.0, 1.00390625, 1.01171875, 1.0078125 + 2**-9, 3.3895313892515355e38, 3.4e38, 1e-39,
                  -1e-40, 1e-45, np.inf, -np.inf, 65504.0, 1.1, -2.7, 0.1, 1 / 3], dtype=np.float32)


def test_casts_round_to_nearest_even_as_pytorch():
    powers = np.float32(2.0) ** np.arange(-130, 128, 7, dtype=np.float32)
    source = np.concatenate([EDGES, values(1).reshape(-1), powers])
    ours, theirs = pair(source)
    np.testing.assert_array_equal(bits(ours), bits(theirs))
    from_double = chainrule.tensor(source.astype(np.float64)).to(chainrule.bfloat16)
    np.testing.assert_array_equal(bits(from_double), bits(torch.tensor(source.astype(np.float64)).to(torch.bfloat16)))
    nan = chainrule.tensor([float("nan")]).bfloat16()
    assert np.isnan(nan.float().numpy()).all()
    for target, torch_target in ((chainrule.float32, torch.float32), (chainrule.float64, torch.float64),
                                 (chainrule.float16, torch.float16), (chainrule.int64, torch.int64)):
        finite = np.isfinite(source) & (np.abs(source) < 6e4)
        got = pair(source[finite])
        np.testing.assert_array_equal(got[0].to(target).numpy(), got[1].to(torch_target).numpy())


def test_the_dtype_and_its_tensors_describe_themselves_as_pytorchs():
    x, t = pair(np.array([1.5, -2.25, 1e-3], np.float32))
    assert x.dtype is chainrule.bfloat16 and x.is_floating_point() and x.element_size() == 2
    assert chainrule.bfloat16.itemsize == 2 and chainrule.bfloat16.is_floating_point
    assert repr(x).replace("chainrule.", "torch.") == repr(t)
    assert repr(chainrule.ones(2, 3, dtype=chainrule.bfloat16) * 3).replace("chainrule.", "torch.") == \
        repr(torch.ones(2, 3, dtype=torch.bfloat16) * 3)
    assert repr(chainrule.finfo(chainrule.bfloat16)) == repr(torch.finfo(torch.bfloat16))
    assert x.tolist() == t.tolist() and x[0].item() == t[0].item()
    assert chainrule.tensor([1.1], dtype=chainrule.bfloat16).dtype == chainrule.bfloat16
    assert chainrule.promote_types(chainrule.bfloat16, chainrule.float16) == chainrule.float32


@pytest.mark.parametrize("name", ["zeros", "ones", "arange", "linspace", "full", "randn", "rand", "randint"])
def test_factories_give_pytorchs_values(name):
    def make(lib):
        lib.manual_seed(3)
        if name == "full":
            return lib.full((3, 7), 1.1, dtype=lib.bfloat16)
        if name == "arange":
            return lib.arange(0, 5, 0.3, dtype=lib.bfloat16)
        if name == "linspace":
            return lib.linspace(-1, 1, 9, dtype=lib.bfloat16)
        if name == "randint":
            return lib.randint(0, 100, (40,), dtype=lib.bfloat16)
        return getattr(lib, name)(5, 9, dtype=lib.bfloat16)
    np.testing.assert_array_equal(bits(make(chainrule)), bits(make(torch)))


UNARY = ["exp", "log", "tanh", "sigmoid", "sin", "cos", "sqrt", "abs", "neg", "relu", "expm1", "log1p", "erf",
         "reciprocal", "square", "floor", "sign"]


@pytest.mark.parametrize("name", UNARY)
def test_unary_ops_compute_in_float32_and_round_once(name):
    ours, theirs = pair(values(2))
    if name in ("log", "sqrt", "log1p"):
        ours, theirs = ours.abs(), theirs.abs()
    np.testing.assert_array_equal(bits(getattr(chainrule, name)(ours)), bits(getattr(torch, name)(theirs)))


@pytest.mark.parametrize("name", ["gelu", "silu", "softmax", "softplus", "leaky_relu", "layer_norm", "mish"])
def test_several_step_ops_compute_in_float32_and_round_once(name):
    ours, theirs = pair(values(16))

    def run(functional, x):
        if name == "softmax":
            return functional.softmax(x, -1)
        if name == "layer_norm":
            return functional.layer_norm(x, (40,))
        return getattr(functional, name)(x)
    got, want = run(chainrule.nn.functional, ours), run(torch.nn.functional, theirs)
    if name == "gelu":  # (PyTorch's vectorised float32 erf differs in its last bits where 1 + erf cancels)
        np.testing.assert_allclose(got.float().numpy(), want.float().numpy(), rtol=2**-7, atol=1e-6)
    else:
        np.testing.assert_array_equal(bits(got), bits(want))
    ours, theirs = ours.requires_grad_(), theirs.requires_grad_()
    (run(chainrule.nn.functional, ours) * 3).sum().backward()
    (run(torch.nn.functional, theirs) * 3).sum().backward()
    assert ours.grad.dtype == chainrule.bfloat16
    np.testing.assert_allclose(ours.grad.float().numpy(), theirs.grad.float().numpy(), rtol=2**-7, atol=2**-5)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv", "pow"])
def test_binary_ops_with_tensors_and_numbers_as_pytorch(op):
    import operator
    fn = getattr(operator, op)
    (a, ta), (b, tb) = pair(values(3)), pair(values(4) + 10)
    if op == "pow":
        a, ta = a.abs(), ta.abs()
    np.testing.assert_array_equal(bits(fn(a, b)), bits(fn(ta, tb)))
    for number in (1.1, 3, -0.7, 2, -2, 0.5):
        np.testing.assert_array_equal(bits(fn(a, number)), bits(fn(ta, number)), err_msg=str(number))
    # Mixed dtypes promote as PyTorch's: bfloat16 with an integer tensor stays bfloat16.
    assert fn(a, chainrule.ones(a.shape, dtype=chainrule.int64)).dtype == chainrule.bfloat16
    assert fn(a, chainrule.ones(a.shape)).dtype == chainrule.float32


@pytest.mark.parametrize("method", ["add_", "sub_", "mul_", "div_"])
def test_in_place_ops_compute_in_float32_and_round_once(method):
    (a, ta), (b, tb) = pair(values(17)), pair(values(18) + 10)
    for other, their_other in ((b, tb), (1.1, 1.1), (-0.7, -0.7)):
        np.testing.assert_array_equal(bits(getattr(a.clone(), method)(other)),
                                      bits(getattr(ta.clone(), method)(their_other)))
    if method in ("add_", "sub_"):  # (PyTorch's vectorised body and scalar tail round alpha * other differently)
        np.testing.assert_allclose(getattr(a.clone(), method)(b, alpha=0.1).float().numpy(),
                                   getattr(ta.clone(), method)(tb, alpha=0.1).float().numpy(), rtol=2**-8, atol=2**-6)


def test_methods_and_errors_as_pytorchs():
    x, t = pair(np.array([1.5, -2.25, 3.0], np.float32))
    assert x.view(chainrule.int16).tolist() == t.view(torch.int16).tolist()
    assert x.type() == t.type().replace("torch.", "chainrule.")
    assert torch.cat([t, t.float()]).dtype == torch.float32 and chainrule.cat([x, x.float()]).dtype == chainrule.float32
    assert x.sort().values.tolist() == t.sort().values.tolist() and x.cumsum(0).tolist() == t.cumsum(0).tolist()
    assert x.max().item() == t.max().item() and chainrule.where(x > 0, x, 0.0).dtype == chainrule.bfloat16
    chainrule.testing.assert_close(x, x.clone())
    chainrule.testing.assert_close(x, x * 1.01)  # (within bfloat16's tolerance, as PyTorch's)
    torch.testing.assert_close(t, t * 1.01)
    with pytest.raises(AssertionError):
        chainrule.testing.assert_close(x, x * 1.05)
    with pytest.raises(RuntimeError, match="expected both vectors to have same dtype, but found BFloat16 and Float"):
        x @ x.float()
    with pytest.raises(RuntimeError) as theirs:
        torch.mm(t[None], t[:, None].float())
    with pytest.raises(RuntimeError, match=str(theirs.value).replace("(", r"\(").replace(")", r"\)")):
        chainrule.mm(x[None], x[:, None].float())


def test_products_accumulate_in_float32_and_round_once():
    (a, ta), (b, tb) = pair(values(5, (32, 48))), pair(values(6, (48, 24)))
    np.testing.assert_array_equal(bits(a @ b), bits(ta @ tb))
    bias = pair(values(7, (24,)))
    weight = pair(values(8, (24, 48)))
    np.testing.assert_array_equal(bits(chainrule.nn.functional.linear(a, weight[0], bias[0])),
                                  bits(torch.nn.functional.linear(ta, weight[1], bias[1])))
    image, kernel = pair(values(9, (2, 3, 8, 8))), pair(values(10, (4, 3, 3, 3)))
    ours = chainrule.nn.functional.conv2d(image[0], kernel[0])
    theirs = torch.nn.functional.conv2d(image[1], kernel[1])
    assert ours.dtype == chainrule.bfloat16
    np.testing.assert_allclose(ours.float().numpy(), theirs.float().numpy(), rtol=2**-7, atol=0.1)


def test_reductions_accumulate_in_float32():
    ours, theirs = pair(values(11, (64, 300)) + 1)
    for dim in (None, 0, 1):
        for reduction in ("sum", "mean"):
            got = getattr(ours, reduction)() if dim is None else getattr(ours, reduction)(dim)
            want = getattr(theirs, reduction)() if dim is None else getattr(theirs, reduction)(dim)
            assert got.dtype == chainrule.bfloat16
            np.testing.assert_allclose(got.float().numpy(), want.float().numpy(), rtol=2**-8, atol=1e-2)


def test_gradients_of_bfloat16_leaves_are_bfloat16():
    def run(lib, data):
        x = lib.tensor(data).bfloat16().requires_grad_()
        w = lib.tensor(data.T[:, :5].copy()).bfloat16().requires_grad_()
        loss = (lib.sigmoid(x @ w) * 3 + x.sum(1, keepdim=True)).sum()
        loss.backward()
        return x.grad, w.grad
    data = values(12, (8, 16))
    for ours, theirs in zip(run(chainrule, data), run(torch, data)):
        assert ours.dtype == chainrule.bfloat16
        np.testing.assert_allclose(ours.float().numpy(), theirs.float().numpy(), rtol=2**-7, atol=2**-6)


def _mlp(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(6, 16), lib.nn.ReLU(), lib.nn.Linear(16, 3))


def test_autocast_cpu_casts_products_to_bfloat16_and_losses_to_float32():
    data, target = values(13, (10, 6)), values(14, (10, 3))
    seen = {}
    for lib in (chainrule, torch):
        model = _mlp(lib)
        optimizer = lib.optim.SGD(model.parameters(), lr=0.05)
        x, y = lib.tensor(data), lib.tensor(target)
        losses = []
        for _ in range(3):
            with lib.autocast("cpu"):
                out = model(x)
                loss = lib.nn.functional.mse_loss(out, y)
                inner = (x @ x.T).dtype, lib.mm(x, x.T).dtype, (x + 1).dtype
                with lib.autocast("cpu", enabled=False):
                    inner += ((x @ x.T).dtype,)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        seen[lib.__name__] = (str(out.dtype), str(loss.dtype), [str(d) for d in inner],
                              str(model[0].weight.grad.dtype), losses)
    ours, theirs = seen["chainrule"], seen["torch"]
    assert [s.replace("chainrule.", "torch.") for s in ours[:2]] == list(theirs[:2])
    assert list(theirs[:2]) == ["torch.bfloat16", "torch.float32"]
    assert [s.replace("chainrule.", "torch.") for s in ours[2]] == theirs[2]
    assert ours[3] == "chainrule.float32"
    np.testing.assert_allclose(ours[4], theirs[4], rtol=1e-5)


def test_module_bfloat16_runs_inference_as_pytorch():
    data = values(15, (10, 6))
    ours = _mlp(chainrule).bfloat16()
    theirs = _mlp(torch).bfloat16()
    assert all(p.dtype == chainrule.bfloat16 for p in ours.parameters())
    np.testing.assert_array_equal(bits(ours(chainrule.tensor(data).bfloat16())),
                                  bits(theirs(torch.tensor(data).bfloat16())))


def test_safetensors_round_trip_and_pytorchs_bfloat16_checkpoints(tmp_path):
    from safetensors.torch import save_file

    model = _mlp(chainrule).bfloat16()
    chainrule.save(model.state_dict(), tmp_path / "ours.safetensors")
    loaded = chainrule.load(tmp_path / "ours.safetensors")
    for key, tensor in model.state_dict().items():
        assert loaded[key].dtype == chainrule.bfloat16
        np.testing.assert_array_equal(bits(loaded[key]), bits(tensor))
    theirs = _mlp(torch).bfloat16()
    save_file(theirs.state_dict(), str(tmp_path / "theirs.safetensors"))
    fresh = _mlp(chainrule).bfloat16()
    fresh.load_state_dict(chainrule.load(tmp_path / "theirs.safetensors"))
    for (key, ours), (_, want) in zip(fresh.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_array_equal(bits(ours), bits(want), err_msg=key)


def _run_without_ml_dtypes(code):
    """``code`` in a fresh interpreter where importing ml_dtypes fails."""
    prelude = "import sys\nsys.modules['ml_dtypes'] = None\n"
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True,
                          env={**os.environ}, timeout=120)


def test_without_ml_dtypes_bfloat16_is_named_and_its_tensors_say_which_extra():
    done = _run_without_ml_dtypes("""
        import chainrule
        assert chainrule.bfloat16.is_floating_point and repr(chainrule.bfloat16) == "chainrule.bfloat16"
        with chainrule.autocast("cpu"):
            pass
        for make in (lambda: chainrule.zeros(2, dtype=chainrule.bfloat16), lambda: chainrule.ones(2).bfloat16()):
            try:
                make()
            except ImportError as error:
                print(type(error).__name__, error)
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        'MissingDependency a bfloat16 tensor needs ml_dtypes, which is not installed: pip install "chainrule[bfloat16]"'
    ] * 2


def test_import_chainrule_does_not_import_ml_dtypes():
    done = subprocess.run([sys.executable, "-c", "import sys, chainrule\n"
                                                 "chainrule.autocast('cpu', dtype=chainrule.bfloat16)\n"
                                                 "print('ml_dtypes' in sys.modules)"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
