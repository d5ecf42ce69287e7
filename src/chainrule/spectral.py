"""Short-time Fourier transforms (``stft``, ``istft``) and the windows they are used with
(``hann_window``, ``hamming_window``, ``blackman_window``, ``bartlett_window``), as PyTorch's.

``stft`` frames the (centre-padded) signal with ``unfold``, weighs each frame by the window
and transforms it with ``chainrule.fft``; ``istft`` transforms back, weighs by the window and
overlap-adds the frames with ``fold``, dividing by the overlap-added squared window.  Every
step is an op with its gradient, so both are differentiable.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from . import fft as _fft
from . import functional as F
from .complex_numbers import view_as_real
from .creation import ones, tensor, zeros
from .dtypes import get_default_dtype, to_numpy
from .ops.bessel import bessel_i
from .ops.conv import fold
from .ops.linalg import _scalar
from .ops.spatial import pad_modes
from .registry import ROWS, public
from .tensor import Tensor


def _window(values: Any, window_length: int, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    values = np.asarray(values, dtype=np.float64).astype(to_numpy(dtype or get_default_dtype()))
    return tensor(values.reshape(window_length), device=device, requires_grad=requires_grad)


def _check(name: str, window_length: int, dtype: Any) -> None:
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    if to_numpy(dtype or get_default_dtype()).kind != "f":
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtype}")


def _cosine_sum(name: str, window_length: int, periodic: bool, coefficients: tuple, dtype: Any, device: Any,
                requires_grad: bool) -> Tensor:
    """sum_k (-1)^k a_k cos(2 pi k n / N), N the length (periodic) or the length - 1."""
    _check(name, window_length, dtype)
    if window_length == 1:
        return _window([1.0], 1, dtype, device, requires_grad)
    span = window_length if periodic else window_length - 1
    phase = 2 * math.pi * np.arange(window_length) / max(span, 1)
    values = sum((-1) ** k * a * np.cos(k * phase) for k, a in enumerate(coefficients))
    return _window(values, window_length, dtype, device, requires_grad)


@public(method=False)
def hann_window(window_length: int, periodic: bool = True, *, dtype: Any = None, device: Any = None,
                requires_grad: bool = False) -> Tensor:
    """The Hann window, ``0.5 - 0.5 cos(2 pi n / N)``."""
    return _cosine_sum("hann_window", window_length, periodic, (0.5, 0.5), dtype, device, requires_grad)


@public(method=False)
def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54, beta: float = 0.46, *,
                   dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The Hamming window, ``alpha - beta cos(2 pi n / N)``."""
    return _cosine_sum("hamming_window", window_length, periodic, (alpha, beta), dtype, device, requires_grad)


@public(method=False)
def blackman_window(window_length: int, periodic: bool = True, *, dtype: Any = None, device: Any = None,
                    requires_grad: bool = False) -> Tensor:
    """The Blackman window, ``0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N)``."""
    return _cosine_sum("blackman_window", window_length, periodic, (0.42, 0.5, 0.08), dtype, device, requires_grad)


@public(method=False)
def bartlett_window(window_length: int, periodic: bool = True, *, dtype: Any = None, device: Any = None,
                    requires_grad: bool = False) -> Tensor:
    """The triangular Bartlett window, ``1 - |2 n / N - 1|``."""
    _check("bartlett_window", window_length, dtype)
    if window_length == 1:
        return _window([1.0], 1, dtype, device, requires_grad)
    span = window_length if periodic else window_length - 1
    values = 1 - np.abs(2 * np.arange(window_length) / max(span, 1) - 1)
    return _window(values, window_length, dtype, device, requires_grad)


@public(method=False)
def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype: Any = None,
                  device: Any = None, requires_grad: bool = False) -> Tensor:
    """The Kaiser window, ``i0(beta sqrt(1 - ((n - a) / a)^2)) / i0(beta)`` with a = (N - 1) / 2."""
    _check("kaiser_window", window_length, dtype)
    if window_length <= 1:
        return _window([1.0] * window_length, window_length, dtype, device, requires_grad)
    span = window_length + 1 if periodic else window_length
    alpha = (span - 1) / 2.0
    n = np.arange(window_length, dtype=np.float64)
    shape = beta * np.sqrt(np.maximum(1 - ((n - alpha) / alpha) ** 2, 0.0))
    values = bessel_i(0, shape, scaled=False) / bessel_i(0, np.array([float(beta)]), scaled=False)
    return _window(values, window_length, dtype, device, requires_grad)


def _full_window(window: Tensor | None, n_fft: int, win_length: int, like: Tensor, name: str) -> Tensor:
    """The window as ``n_fft`` values: a rectangular one when none is given, a shorter one
    centred between zeros."""
    if window is None:
        window = ones(win_length, dtype=like.real.dtype if like.is_complex() else like.dtype, device=like.device)
    elif window.ndim != 1 or window.shape[0] != win_length:
        raise RuntimeError(f"{name}: expected a 1D window tensor of size equal to win_length={win_length}, but got "
                           f"window with size {list(window.shape)}")
    if win_length == n_fft:
        return window
    left = (n_fft - win_length) // 2
    return F.cat([zeros(left, dtype=window.dtype, device=window.device), window,
                  zeros(n_fft - win_length - left, dtype=window.dtype, device=window.device)])


def _center(input: Tensor, pad: int, pad_mode: str) -> Tensor:
    """The signal padded by ``pad`` on both ends of its last dim, in ``pad_mode``."""
    if pad_mode == "constant":
        zero = zeros(*input.shape[:-1], pad, dtype=input.dtype, device=input.device)
        return F.cat([zero, input, zero], -1)
    modes = pad_modes()
    if pad_mode not in modes:
        raise NotImplementedError(f'Padding mode "{pad_mode}" is not supported')
    batched = input.reshape(1, *input.shape) if input.ndim == 1 else input
    extended = batched.reshape(batched.shape[0], 1, batched.shape[1])  # (non-constant padding needs 3 dims)
    padded = modes[pad_mode](extended, ((0, 0), (0, 0), (pad, pad)), None)
    return padded.reshape(*input.shape[:-1], input.shape[-1] + 2 * pad)


@public()
def stft(input: Tensor, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
         window: Tensor | None = None, center: bool = True, pad_mode: str = "reflect", normalized: bool = False,
         onesided: bool | None = None, return_complex: bool | None = None, align_to_window: bool | None = None
         ) -> Tensor:
    """The short-time Fourier transform of a signal (L,) or batch of signals (B, L): the
    spectrum of each window-weighted frame of ``n_fft`` samples, ``hop_length`` apart,
    shaped (B?, frequencies, frames)."""
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    complex_input = input.is_complex() or (window is not None and window.is_complex())
    if return_complex is None:
        if not complex_input:
            raise RuntimeError("stft requires the return_complex parameter be given for real inputs, and will "
                               "further require that return_complex=True in a future PyTorch release.")
        return_complex = True
    if input.ndim not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.ndim}D tensor")
    if window is None:
        warnings.warn("A window was not provided. A rectangular window will be applied,which is known to cause "
                      "spectral leakage. Other windows such as torch.hann_window or torch.hamming_window are "
                      "recommended to reduce spectral leakage.To suppress this warning and use a rectangular "
                      "window, explicitly set `window=torch.ones(n_fft, device=<device>)`.", UserWarning,
                      stacklevel=2)
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if center:
        input = _center(input, n_fft // 2, pad_mode)
    length = input.shape[-1]
    if not 0 < n_fft <= length:
        raise RuntimeError(f"stft: expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop_length <= 0:
        raise RuntimeError(f"stft: expected hop_length > 0, but got hop_length={hop_length}")
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"stft: expected 0 < win_length <= n_fft, but got win_length={win_length}")
    frames = input.unfold(-1, n_fft, hop_length) * _full_window(window, n_fft, win_length, input, "stft")
    norm = "ortho" if normalized else "backward"
    if complex_input:
        if onesided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        spectrum = _fft.fft(frames, dim=-1, norm=norm)
    else:
        spectrum = (_fft.rfft if onesided is None or onesided else _fft.fft)(frames, dim=-1, norm=norm)
    spectrum = spectrum.transpose(-1, -2)
    return spectrum if return_complex else view_as_real(spectrum)


@public()
def istft(input: Tensor, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
          window: Tensor | None = None, center: bool = True, normalized: bool = False,
          onesided: bool | None = None, length: int | None = None, return_complex: bool = False) -> Tensor:
    """The inverse of :func:`stft`: each frame transformed back, weighed by the window and
    overlap-added, divided by the overlap-added squared window."""
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output from stft with "
                           "return_complex=True.")
    if window is None:
        warnings.warn("A window was not provided. A rectangular window will be applied.Please provide the same "
                      "window used by stft to make the inversion lossless.To suppress this warning and use a "
                      "rectangular window, explicitly set `window=torch.ones(n_fft, device=<device>)`.",
                      UserWarning, stacklevel=2)
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if input.ndim not in (2, 3):
        raise RuntimeError(f"istft expected a tensor with 2 or 3 dimensions of complex dtype, but got "
                           f"{input.ndim}D {_scalar(input._data)}")
    batched = input if input.ndim == 3 else input.unsqueeze(0)
    bins, n_frames = batched.shape[1], batched.shape[2]
    onesided = bins != n_fft if onesided is None else onesided
    if onesided and n_fft // 2 + 1 != bins:
        raise RuntimeError(f"istft: expected the frequency dimension (3rd to the last) of the input tensor to match "
                           f"n_fft / 2 + 1 when onesided=True, but got {bins}")
    if not onesided and n_fft != bins:
        raise RuntimeError(f"istft: expected the frequency dimension (3rd to the last) of the input tensor to match "
                           f"n_fft when onesided=False, but got {bins}")
    if not 0 < hop_length <= win_length:
        raise RuntimeError("istft: expected 0 < hop_length <= win_length")
    if not 0 < win_length <= n_fft:
        raise RuntimeError("istft: expected 0 < win_length <= n_fft")
    window = _full_window(window, n_fft, win_length, input, "istft")
    spectra = batched.transpose(1, 2)  # (batch, frames, bins)
    norm = "ortho" if normalized else "backward"
    if return_complex:
        if onesided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        frames = _fft.ifft(spectra, dim=-1, norm=norm)
    else:
        if window.is_complex():
            raise RuntimeError("Complex windows are incompatible with return_complex=False")
        frames = _fft.irfft(spectra if onesided else spectra[..., :n_fft // 2 + 1], n=n_fft, dim=-1, norm=norm)
    signal_length = n_fft + hop_length * (n_frames - 1)

    def overlap_add(blocks: Tensor) -> Tensor:  # (batch, frames, n_fft) -> (batch, signal_length)
        summed = fold(blocks.transpose(1, 2), (1, signal_length), (1, n_fft), stride=(1, hop_length))
        return summed.reshape(blocks.shape[0], signal_length)

    signal = overlap_add(frames * window)
    envelope = overlap_add((window * window).expand(1, n_frames, n_fft))
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else (signal_length - n_fft // 2 if center else signal_length)
    signal, envelope = signal[:, start:end], envelope[:, start:end]
    if bool((envelope.abs() < 1e-11).any()):
        raise RuntimeError("istft: window overlap add min: 1 (the window's overlap-added square is zero somewhere: "
                           "its frames do not cover the signal)")
    signal = signal / envelope
    if end > signal_length:
        padding = zeros(signal.shape[0], end - signal_length, dtype=signal.dtype, device=signal.device)
        signal = F.cat([signal, padding], -1)
    return signal if input.ndim == 3 else signal.squeeze(0)


__all__ = [name for name, row in ROWS.items() if row.function.__module__ == __name__]
