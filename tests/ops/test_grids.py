"""affine_grid and grid_sample (ops/grids.py) against PyTorch in float64: every mode, padding
mode and corner alignment; gradients of the input, the grid, and the affine parameters through
both; the warnings and errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule
from op_parity import check

RNG = np.random.default_rng(12)
THETA = np.array([[[0.93, 0.21, 0.137], [-0.113, 1.07, 0.053]], [[1.21, -0.317, 0.29], [0.23, 0.81, -0.217]]])


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample(align_corners, mode, padding_mode):
    def sample(L, x, grid):
        return L.nn.functional.grid_sample(x, grid, mode=mode, padding_mode=padding_mode, align_corners=align_corners)

    grid = RNG.uniform(-1.4, 1.4, (2, 4, 5, 2))  # some places outside the input
    check(sample, RNG.standard_normal((2, 3, 5, 6)), grid)

    def transformer(L, x, theta):  # the spatial-transformer network's two calls
        return sample(L, x, L.nn.functional.affine_grid(theta, (2, 3, 4, 7), align_corners=align_corners) * 1.3)

    check(transformer, RNG.standard_normal((2, 3, 5, 6)), THETA)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_identity_transform_samples_on_pixel_centres_as_torch(dtype, align_corners, padding_mode):
    # A spatial transformer starts at the identity: every sample lies exactly on a pixel centre
    # (or, aligned, on the borders), where the rounding of the grid and of its unnormalisation
    # decides which pixel pair the grid's gradient comes from; the borders send none back.
    # Found by running PyTorch's spatial-transformer tutorial: a gradient off by 16 on fc_loc.
    theta = np.tile(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=dtype), (3, 1, 1))
    image = RNG.standard_normal((3, 2, 28, 28)).astype(dtype)
    weights = RNG.standard_normal((3, 2, 28, 28)).astype(dtype)
    results = []
    for lib in (chainrule, torch):
        x, t = lib.tensor(image, requires_grad=True), lib.tensor(theta, requires_grad=True)
        grid = lib.nn.functional.affine_grid(t, (3, 2, 28, 28), align_corners=align_corners)
        out = lib.nn.functional.grid_sample(x, grid, padding_mode=padding_mode, align_corners=align_corners)
        (out * lib.tensor(weights)).sum().backward()
        results.append([grid.detach().numpy(), out.detach().numpy(), x.grad.numpy(), t.grad.numpy()])
    tolerance = 1e-4 if dtype == "float32" else 1e-10
    np.testing.assert_array_equal(results[0][0], results[1][0])  # the grid bit for bit
    for ours, theirs in zip(results[0][1:], results[1][1:]):
        np.testing.assert_allclose(ours, theirs, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_bicubic_in_float32_and_on_pixel_centres(padding_mode):
    """The sixteen taps' weights in float32 as PyTorch's kernel computes them; on the identity
    transform (every place on a pixel centre) the result is the image itself."""
    image = RNG.standard_normal((1, 2, 6, 7))
    check(lambda L, x, g: L.nn.functional.grid_sample(x.float(), g.float(), mode="bicubic",
                                                      padding_mode=padding_mode, align_corners=False),
          image, RNG.uniform(-1.2, 1.2, (1, 3, 4, 2)), rtol=1e-5, atol=1e-5)
    for lib in (chainrule, torch):
        grid = lib.nn.functional.affine_grid(lib.tensor(THETA[:1] * 0 + [[1, 0, 0], [0, 1, 0]]), (1, 2, 6, 7),
                                             align_corners=True)
        out = lib.nn.functional.grid_sample(lib.tensor(image), grid, mode="bicubic", padding_mode=padding_mode,
                                            align_corners=True)
        np.testing.assert_allclose(out.numpy(), image, atol=1e-12)


@pytest.mark.parametrize("padding_mode", ["border", "reflection"])
def test_bicubic_grid_gradient_on_the_edge_pixels_is_pytorchs_exact_zero(padding_mode):
    """On an edge pixel the reflected taps on both sides read the same values: the
    kernel's derivative formulas cancel exactly there, where the chain rule through the weights'
    polynomials leaves a rounding residue (an optimiser that normalises steps, Adam, turns it
    into a full step).  Found by an unsupervised optical-flow program."""
    image = RNG.standard_normal((1, 3, 4, 5))
    grid = np.stack(np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 4)), -1)[None]
    grads = []
    for lib in (chainrule, torch):
        g = lib.tensor(grid, requires_grad=True)
        lib.nn.functional.grid_sample(lib.tensor(image), g, mode="bicubic", padding_mode=padding_mode,
                                      align_corners=True).sum().backward()
        grads.append(g.grad.numpy())
    if padding_mode == "reflection":
        assert not grads[0][..., 0][:, :, [0, -1]].any() and not grads[1][..., 0][:, :, [0, -1]].any()
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-12)


def test_affine_grid_2d_and_3d():
    check(lambda L, t: [L.nn.functional.affine_grid(t, (2, 1, 3, 4), align_corners=False),
                        L.nn.functional.affine_grid(t, (2, 1, 1, 4), align_corners=False)], THETA)
    theta3 = RNG.standard_normal((2, 3, 4))
    check(lambda L, t: L.nn.functional.affine_grid(t, (2, 1, 2, 3, 4), align_corners=True), theta3)


def test_warnings_and_errors_like_torch():
    for lib in (chainrule, torch):
        with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
            lib.nn.functional.affine_grid(lib.tensor(THETA), (2, 1, 3, 4))
        with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
            lib.nn.functional.grid_sample(lib.zeros(1, 1, 2, 2), lib.zeros(1, 2, 2, 2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or 'bicubic'"):
                lib.nn.functional.grid_sample(lib.zeros(1, 1, 2, 2), lib.zeros(1, 2, 2, 2), mode="area")
            with pytest.raises(ValueError, match="expected padding_mode"):
                lib.nn.functional.grid_sample(lib.zeros(1, 1, 2, 2), lib.zeros(1, 2, 2, 2), padding_mode="wrap")
            with pytest.raises(ValueError, match="Expected a batch of 2D affine matrices"):
                lib.nn.functional.affine_grid(lib.zeros(2, 3, 3), (2, 1, 3, 4))
            with pytest.raises(ValueError, match="Expected theta to have floating point type"):
                lib.nn.functional.affine_grid(lib.zeros(2, 2, 3, dtype=lib.int64), (2, 1, 3, 4))
