"""nn.DataParallel on a machine without GPUs, as PyTorch's: the module held and called
unchanged, state_dict keys under ``module.``, state_dicts loading across."""
import numpy as np
import torch

import chainrule
from conftest import assert_close


def test_data_parallel_without_gpus_as_torch():
    def run(L):
        L.manual_seed(0)
        model = L.nn.DataParallel(L.nn.Sequential(L.nn.Linear(3, 4), L.nn.ReLU(), L.nn.Linear(4, 2)))
        x = L.tensor(np.linspace(-1, 1, 6).reshape(2, 3), dtype=L.float32)
        out = model(x)
        out.sum().backward()
        return model, out, model.module[0].weight.grad

    (model_t, out_t, grad_t), (model_c, out_c, grad_c) = run(torch), run(chainrule)
    assert model_c.device_ids == model_t.device_ids == []
    assert list(model_c.state_dict()) == list(model_t.state_dict())
    assert repr(model_c) == repr(model_t)
    assert_close(out_c, out_t)
    assert_close(grad_c, grad_t)
    model_c.load_state_dict({k: chainrule.from_numpy(v.numpy()) for k, v in model_t.state_dict().items()})
    assert_close(model_c.module[2].bias, model_t.module[2].bias)
    assert isinstance(model_c.module, chainrule.nn.Sequential) and isinstance(model_c, chainrule.nn.parallel.DataParallel)
