"""Tensors and modules on a GPU, as PyTorch's behave, on the stand-in device
(``tests/device_standin.py``): moves as differentiable copies, Module.to in place, device=
in every factory, PyTorch's errors for host conversion and mixed devices, the host round
trips (.item(), state_dict, save/load), random numbers drawn on the device."""
from __future__ import annotations

import numpy as np
import pytest

import chainrule
import chainrule.nn as nn
from chainrule import backend
from device_parity import assert_on_device
from device_standin import DeviceArray, make_backend, stand_in

CUDA = chainrule.device("cuda", 0)


@pytest.fixture(autouse=True)
def device():
    with stand_in():
        yield


def test_a_move_is_a_differentiable_copy_whose_gradient_comes_back():
    x = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.cuda()
    assert_on_device(y, "x.cuda()")
    assert type(y.grad_fn).__name__ == "ToCopyBackward0" and y.requires_grad
    assert y.device == CUDA and y.is_cuda and not x.is_cuda and x.device == chainrule.device("cpu")
    (y * y).sum().backward()
    assert type(x.grad._data) is np.ndarray and x.grad.tolist() == [2.0, 4.0, 6.0]
    z = y.cpu()
    assert z.device.type == "cpu" and type(z.grad_fn).__name__ == "ToCopyBackward0"
    assert y.to("cuda") is y and y.cuda() is y and x.cpu() is x and y.to(CUDA) is y and y.to(0) is y
    assert y.to("cuda", copy=True) is not y


def test_a_move_with_a_cast_is_one_node_and_double_backward_goes_through_it():
    x = chainrule.tensor([0.5, -1.5], dtype=chainrule.float32, requires_grad=True)
    y = x.to("cuda", chainrule.float64)
    assert y.dtype == chainrule.float64 and type(y.grad_fn).__name__ == "ToCopyBackward0"
    assert y.grad_fn.next_functions[0][0] is not None and len(y.grad_fn.next_functions) == 1
    (g,) = chainrule.autograd.grad((y ** 3).sum(), x, create_graph=True)
    assert g.device.type == "cpu" and g.dtype == chainrule.float32
    np.testing.assert_allclose(g.detach().numpy(), 3 * np.array([0.5, -1.5]) ** 2)
    (gg,) = chainrule.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 6 * np.array([0.5, -1.5]))
    assert x.cuda().long().dtype == chainrule.int64 and not x.to("cuda", chainrule.int64).requires_grad


def test_to_accepts_pytorchs_spellings():
    x = chainrule.ones(2)
    other = chainrule.zeros(1, dtype=chainrule.float64, device="cuda")
    for moved in (x.to(device="cuda"), x.to("cuda", non_blocking=True), x.cuda(0), x.cuda("cuda:0"),
                  x.cuda(non_blocking=True), x.to(other)):
        assert moved.device == CUDA
    assert x.to(other).dtype == chainrule.float64
    assert x.to(chainrule.device("cuda"), chainrule.float16).dtype == chainrule.float16


def test_repr_shows_the_device():
    x = chainrule.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    assert repr(x) == "tensor([1., 2.], device='cuda:0', requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], device='cuda:0', grad_fn=<MulBackward0>)"
    assert repr(chainrule.zeros(0, dtype=chainrule.int64, device="cuda")) == \
        "tensor([], device='cuda:0', dtype=chainrule.int64)"
    assert str(x.device) == "cuda:0" and repr(x.device) == "device(type='cuda', index=0)"


def test_numpy_of_a_gpu_tensor_is_pytorchs_type_error():
    x = chainrule.ones(2, device="cuda")
    message = ("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host "
               "memory first.")
    with pytest.raises(TypeError) as error:
        x.numpy()
    assert str(error.value) == message
    with pytest.raises(TypeError, match="can't convert cuda:0"):
        np.asarray(x)
    assert x.cpu().numpy().tolist() == [1.0, 1.0]


def test_scalars_and_lists_come_through_the_host():
    x = chainrule.tensor([[1.5, -2.0]], device="cuda")
    assert x[0, 0].item() == 1.5 and x.tolist() == [[1.5, -2.0]]
    assert float(x[0, 1]) == -2.0 and int(x[0, 0]) == 1 and bool(x[0, 0])
    assert x.sum().item() == -0.5 and f"{x[0, 0]:.2f}" == "1.50"


def test_mixing_devices_is_pytorchs_runtime_error():
    gpu, cpu = chainrule.ones(2, device="cuda"), chainrule.ones(2)
    message = "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!"
    for mixed in (lambda: gpu + cpu, lambda: cpu * gpu, lambda: chainrule.cat([gpu, cpu]), lambda: gpu @ cpu,
                  lambda: chainrule.where(gpu > 0, gpu, cpu), lambda: chainrule.maximum(cpu, gpu)):
        with pytest.raises(RuntimeError) as error:
            mixed()
        assert str(error.value) == message
    # Python numbers and 0-d CPU tensors are allowed, as in PyTorch.
    for result in (gpu + 2, 2.5 * gpu, gpu * chainrule.tensor(3.0), chainrule.tensor(3.0) - gpu, gpu ** 2):
        assert_on_device(result, "mixed with a number")
    assert (gpu * chainrule.tensor(3.0)).tolist() == [3.0, 3.0]
    scale = chainrule.tensor(3.0, requires_grad=True)  # its gradient comes back to the CPU
    (gpu * scale).sum().backward()
    (gpu * scale).sum().backward()
    assert type(scale.grad._data) is np.ndarray and scale.grad.item() == 4.0


def test_every_factory_honours_device():
    x = chainrule.ones(2, 3, dtype=chainrule.float64, device="cuda")
    made = {
        "tensor": chainrule.tensor([1, 2], device="cuda"), "as_tensor": chainrule.as_tensor([1.0], device="cuda"),
        "zeros": chainrule.zeros(2, device="cuda"), "ones": x, "empty": chainrule.empty(2, device=0),
        "full": chainrule.full((2,), 7, device="cuda"), "eye": chainrule.eye(2, device="cuda"),
        "arange": chainrule.arange(4, device="cuda"), "linspace": chainrule.linspace(0, 1, 5, device="cuda"),
        "logspace": chainrule.logspace(0, 1, 3, device="cuda"), "rand": chainrule.rand(2, device="cuda"),
        "randn": chainrule.randn(2, device="cuda"), "randint": chainrule.randint(0, 5, (3,), device="cuda"),
        "randperm": chainrule.randperm(4, device="cuda"), "normal": chainrule.normal(0.0, 1.0, (2,), device="cuda"),
        "zeros_like": chainrule.zeros_like(x), "ones_like": chainrule.ones_like(x), "empty_like": chainrule.empty_like(x),
        "full_like": chainrule.full_like(x, 2.0), "rand_like": chainrule.rand_like(x), "randn_like": chainrule.randn_like(x),
        "new_tensor": x.new_tensor([1.0]), "new_zeros": x.new_zeros(2), "new_ones": x.new_ones(2),
        "new_empty": x.new_empty(2), "new_full": x.new_full((2,), 3.0),
        "triu_indices": chainrule.triu_indices(3, 3, device="cuda"),
        "tril_indices": chainrule.tril_indices(3, 3, device="cuda"),
        "bernoulli": chainrule.bernoulli(chainrule.full((3,), 0.5, device="cuda")),
        "multinomial": chainrule.multinomial(chainrule.tensor([0.2, 0.8], device="cuda"), 3, replacement=True),
        "normal of tensors": chainrule.normal(x, 1.0),
    }
    for name, tensor in made.items():
        assert_on_device(tensor, name)
    assert made["full"].tolist() == [7, 7] and made["arange"].tolist() == [0, 1, 2, 3]
    assert chainrule.zeros_like(x, device="cpu").device.type == "cpu"
    assert x.new_zeros(2, device="cpu").device.type == "cpu"
    assert set(made["multinomial"].tolist()) <= {0, 1} and sorted(made["randperm"].tolist()) == [0, 1, 2, 3]


def test_random_ops_draw_on_the_device():
    chainrule.manual_seed(0)
    dropped = nn.functional.dropout(chainrule.ones(1000, device="cuda"), 0.5)
    assert_on_device(dropped, "dropout")
    chainrule.manual_seed(0)
    again = nn.functional.dropout(chainrule.ones(1000, device="cuda"), 0.5)
    np.testing.assert_array_equal(dropped.cpu().numpy(), again.cpu().numpy())
    assert set(np.unique(dropped.cpu().numpy())) == {0.0, 2.0}
    for name, tensor in (("dropout2d", nn.functional.dropout2d(chainrule.ones(2, 4, 3, 3, device="cuda"), 0.5)),
                         ("normal_", chainrule.empty(3, device="cuda").normal_()),
                         ("uniform_", chainrule.empty(3, device="cuda").uniform_()),
                         ("init", nn.init.trunc_normal_(chainrule.empty(3, 3, device="cuda"))),
                         ("orthogonal", nn.init.orthogonal_(chainrule.empty(3, 3, device="cuda")))):
        assert_on_device(tensor, name)


def test_erf_and_gelu_use_the_devices_special_function():
    calls = []
    device = make_backend()
    erf = device.special["erf"]
    device.special = {"erf": lambda a: calls.append(a.shape) or erf(a)}
    backend.register_device(device)
    x = chainrule.tensor([-1.0, 0.0, 0.5], requires_grad=True)
    y = nn.functional.gelu(x.cuda())
    y.sum().backward()
    assert calls and y.device == CUDA
    np.testing.assert_array_equal(y.detach().cpu().numpy(), nn.functional.gelu(x).detach().numpy())


def test_module_to_moves_parameters_buffers_and_gradients_in_place():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    parameters = list(model.parameters())
    optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(chainrule.randn(5, 3)).sum().backward()
    assert model.cuda() is model
    assert list(model.parameters()) == parameters and all(a is b for a, b in zip(model.parameters(), parameters))
    for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
        assert_on_device(tensor, name)
    for p in parameters:
        assert_on_device(p.grad, "gradient")
    before = parameters[0].detach().cpu().numpy().copy()
    optimizer.step()  # made before the move: it updates the moved parameters
    assert not np.array_equal(parameters[0].detach().cpu().numpy(), before)
    assert_on_device(optimizer.state[parameters[0]]["momentum_buffer"], "momentum buffer")
    loss = model(chainrule.randn(5, 3, device="cuda")).sum()
    loss.backward()
    assert model.to("cpu") is model and model.cpu() is model
    assert all(type(p._data) is np.ndarray and type(p.grad._data) is np.ndarray for p in parameters)
    assert model.to(chainrule.float64).to("cuda")[0].weight.dtype == chainrule.float64
    assert model.to(device="cuda", dtype=chainrule.float32)[0].weight.device == CUDA


def test_state_dict_and_checkpoints_go_through_the_host(tmp_path):
    chainrule.manual_seed(0)
    model = nn.Linear(3, 2).cuda()
    state = model.state_dict()
    assert all(t.device == CUDA for t in state.values())
    chainrule.save(state, tmp_path / "m.safetensors")
    loaded = chainrule.load(tmp_path / "m.safetensors")
    assert all(t.device.type == "cpu" for t in loaded.values())
    on_gpu = chainrule.load(tmp_path / "m.safetensors", map_location="cuda")
    assert all(t.device == CUDA for t in on_gpu.values())
    cpu_model = nn.Linear(3, 2)
    cpu_model.load_state_dict(state)  # device values into host parameters
    other = nn.Linear(3, 2).cuda()
    other.load_state_dict(loaded)  # host values into device parameters
    for a, b in zip((cpu_model.weight, other.weight.cpu()), (model.weight.cpu(), model.weight.cpu())):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert_on_device(other.weight, "loaded weight")


def test_data_loader_accepts_pin_memory():
    data = chainrule.utils.data.TensorDataset(chainrule.arange(6.0).reshape(3, 2), chainrule.arange(3))
    loader = chainrule.utils.data.DataLoader(data, batch_size=2, pin_memory=True)
    batches = [(x.to("cuda", non_blocking=True), y.cuda(non_blocking=True)) for x, y in loader]
    assert [x.device for x, _ in batches] == [CUDA, CUDA] and batches[1][0].tolist() == [[4.0, 5.0]]


def test_indices_are_made_on_the_device():
    x = chainrule.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]], device="cuda", requires_grad=True)
    values, indices = x.max(1)
    for name, tensor in (("max values", values), ("max indices", indices), ("argmax", x.argmax()),
                         ("sort", x.sort(1)[1]), ("nonzero", (x > 1).nonzero()), ("topk", x.topk(2)[1]),
                         ("where", chainrule.where(x > 1)[0])):
        assert isinstance(tensor._data, DeviceArray), name
    values.sum().backward()
    assert_on_device(x.grad, "gradient of max")
    assert x.grad.tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
