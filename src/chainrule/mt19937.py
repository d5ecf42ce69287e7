"""PyTorch's CPU random stream: the same numbers as ``torch`` for the same seed.

PyTorch's CPU generator is a 32-bit Mersenne Twister (MT19937) seeded with the low 32 bits of
the seed by the reference ``init_genrand``; its sampling kernels turn the 32-bit draws into
values in fixed ways, element after element.  NumPy's ``MT19937`` bit generator is the same
twister (its raw output is the same 32-bit stream once it holds the same key), so the draws
come from NumPy's C code; this module seeds it the way PyTorch does and applies PyTorch's
transformations, vectorised:

- ``random64`` is two draws, the first in the high half;
- a uniform float in [0, 1) keeps the mantissa bits of one draw (float32: 24 bits) or of a
  ``random64`` (float64: 53), scaled by 2^-digits, then ``x * (to - from) + from``
  (``to - from`` in the type, the rest in double); float16's kernels compute in float32 and
  round the result; a value that rounds to ``to`` is given as ``from``;
- a normal fill of 16 or more elements of a contiguous tensor draws all its uniforms first,
  then turns each block of 16 into 16 normals by Box-Muller (``1 - u`` of the first 8 for
  the radius, the last 8 for the angle); a tail shorter than 16 draws 16 new uniforms for
  the last 16 elements.  Fewer than 16 elements (or a tensor that is not contiguous) draw
  double normals one at a time, each pair's second value kept for the next draw
  (``torch.randn(1)`` twice gives the pair);
- an in-place fill of a strided view visits its elements in the order of their memory
  (:func:`visiting_order`: PyTorch's TensorIterator), one draw after another;
- integers in a range below 2^28 take one draw modulo the range, wider ranges a ``random64``;
- ``randperm(n)`` swaps element i with i + (draw mod (n - i)), from the front;
- bernoulli with a scalar p compares a double uniform with p; exponential, Cauchy, log-normal
  and geometric values come from one double uniform each (log-normal: from a double normal);
- multinomial: with replacement, a double uniform per sample searched in the row's cumulative
  distribution; without (or one sample), the top-k of p / q with q ~ Exp(1) drawn like p.

Float32 normals may differ from PyTorch's in the last bit or two where PyTorch's vectorised
log/sin/cos round differently from NumPy's.  The float64 values computed with ``log1p``,
``log``, ``tan`` or ``exp`` (exponential, log-normal and Cauchy draws, double normals) differ
in the last bit in a few percent of cases: NumPy's vectorised functions round differently from
glibc's, which PyTorch calls (``math.log1p`` element by element would match, ~20 times slower).
Every other value is bit for bit.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

#: Mantissa digits per float type: how many bits of a draw its uniform keeps (float16's:
#: ``random_()``'s range; its uniforms and normals are float32's, see :func:`_float_type`).
_DIGITS = {np.dtype(np.float64): 53, np.dtype(np.float32): 24, np.dtype(np.float16): 11}
_STATE_WORDS = 624
#: Ranges at or above this take a 64-bit draw per integer (measured against PyTorch 2.13).
_WIDE_RANGE = 1 << 28
#: PyTorch's generator state as a byte tensor: the legacy THGeneratorState (initial seed,
#: left, seeded, next, 624 words, the double normal cache) and the float normal cache.
_STATE_BYTES = 5056
_THIRD_F = float(np.float32(1.0) / np.float32(3.0))
_SQUEEZE_F = float(np.float32(0.0331))
_libm_log1p, _libm_cos, _libm_sin = (np.frompyfunc(f, 1, 1) for f in (math.log1p, math.cos, math.sin))


def seed_key(seed: int) -> np.ndarray:
    """The twister's 624 words for ``seed`` (its low 32 bits), as ``init_genrand``."""
    key = np.empty(_STATE_WORDS, dtype=np.uint32)
    x = key[0] = seed & 0xFFFFFFFF
    for i in range(1, _STATE_WORDS):
        x = (1812433253 * (x ^ (x >> 30)) + i) & 0xFFFFFFFF
        key[i] = x
    return key


def _size(size: Any) -> tuple:
    if size is None:
        return ()
    return (int(size),) if isinstance(size, (int, np.integer)) else tuple(int(n) for n in size)


def _count(shape: tuple) -> int:
    return int(np.prod(shape, dtype=np.int64)) if shape else 1


def fused_multiply_add(a: Any, b: Any, c: Any) -> Any:
    """``a * b + c`` in doubles, rounded once: PyTorch's kernels are compiled with the
    multiply and add fused (x86-64 with FMA), so ``from + u * (to - from)`` and ``mean + z * std``
    round once there.  Dekker's exact product and Knuth's exact sum give the error terms."""
    product = a * b
    split = 134217729.0  # 2^27 + 1: halves of 26 bits, whose products are exact
    t = split * a
    a_high = t - (t - a)
    a_low = a - a_high
    t = split * b
    b_high = t - (t - b)
    b_low = b - b_high
    product_error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
    total = product + c
    back = total - product
    sum_error = (product - (total - back)) + (c - back)
    return total + (sum_error + product_error)


def _real_part(dtype: Any) -> np.dtype:
    """The real type of a complex ``dtype``'s parts (complex64: float32)."""
    return np.finfo(np.dtype(dtype)).dtype


def _as_complex(parts: np.ndarray, size: Any) -> Any:
    """Pairs (real, imaginary) along the last axis of ``parts`` as one complex array
    (``view_as_complex``); a scalar when ``size`` is None."""
    values = np.ascontiguousarray(parts).view(np.result_type(parts.dtype, np.complex64))[..., 0]
    return values if size is not None else values[()]


def _float_type(dtype: Any) -> np.dtype:
    """The type a float kernel computes in (PyTorch's ``opmath_type``): float64, else float32
    (float16's kernels draw and compute in float32 and round the result)."""
    dtype = np.dtype(dtype)
    return dtype if dtype == np.float64 else np.dtype(np.float32)


def visiting_order(array: Any) -> tuple | None:
    """The axes of ``array`` from outermost to innermost in the order PyTorch's serial kernels
    visit its elements (TensorIterator's: by stride, the smaller size inner among equal
    strides); None when that is C order."""
    if array.ndim < 2 or array.flags.c_contiguous:
        return None
    inner_first = sorted(range(array.ndim), key=lambda axis: (abs(array.strides[axis]), array.shape[axis], -axis))
    order = tuple(inner_first[::-1])
    moving = [axis for axis in order if array.shape[axis] != 1]
    return None if moving == sorted(moving) else order


def along_memory(shape: tuple, order: tuple | None, draw: Any) -> Any:
    """``draw(shape)`` made along a strided layout: ``draw`` gets the shape with its axes in
    ``order`` (outermost first in memory, see :func:`visiting_order`) and its result is laid back
    in ``shape``'s axes, so that the k-th draw lands on the k-th element in memory."""
    if order is None:
        return draw(shape)
    return draw(tuple(shape[axis] for axis in order)).transpose(np.argsort(order))


#: Stirling's-series error log(k!) - (k + 1/2) log(k + 1) + (k + 1) - log(2 pi)/2 for k <= 9 (PyTorch's table).
_STIRLING_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
                  0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
                  0.00925546218271273, 0.00833056343336287)


def _stirling_tail(k: float) -> float:
    if k <= 9:
        return _STIRLING_TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


class CpuSampler:
    """PyTorch's CPU stream for one seed, with the NumPy ``Generator`` names chainrule's
    random ops call (each taking the result's ``dtype``, whose width decides the draws)."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._bits = np.random.MT19937(0)
        try:  # NumPy's init_genrand (RandomState's seeding), in C
            self._bits._legacy_seeding(self.seed & 0xFFFFFFFF)
        except AttributeError:
            self._bits.state = {"bit_generator": "MT19937", "state": {"key": seed_key(self.seed), "pos": _STATE_WORDS}}
        self.next_normal: float | None = None  # the second value of the last double Box-Muller pair
        self.fresh = True  # seeded and not drawn from (PyTorch's state then says next = 0)

    # -- raw draws ----------------------------------------------------------------------------------
    def draws32(self, n: int) -> np.ndarray:
        """``n`` 32-bit draws (as uint64)."""
        self.fresh = False
        return self._bits.random_raw(n) if n else np.empty(0, dtype=np.uint64)

    def draws64(self, n: int) -> np.ndarray:
        """``n`` 64-bit draws, each two 32-bit ones, the first in the high half."""
        pairs = self.draws32(2 * n)
        return (pairs[0::2] << np.uint64(32)) | pairs[1::2]

    def unit(self, n: int, dtype: Any = np.float64) -> np.ndarray:
        """``n`` uniforms in [0, 1) as doubles, with ``dtype``'s mantissa bits."""
        digits = _DIGITS[_float_type(dtype)]
        raw = self.draws64(n) if digits > 32 else self.draws32(n)
        return (raw & np.uint64((1 << digits) - 1)) * (2.0 ** -digits)

    # -- uniform ------------------------------------------------------------------------------------
    def random(self, size: Any = None, dtype: Any = np.float64) -> Any:
        """U(0, 1), as ``torch.rand`` (``uniform_(0, 1)``)."""
        return self.uniform(0.0, 1.0, size, dtype)

    def uniform(self, low: float = 0.0, high: float = 1.0, size: Any = None, dtype: Any = np.float64,
                fused: bool = True) -> Any:
        """U(low, high), as ``uniform_``: a value that rounds to ``high`` in ``dtype`` is given
        as ``low``.  ``fused=False`` is RReLU's kernel (built without FMA: the product rounded
        before the sum; no such clamp).  A complex ``dtype`` draws its real and imaginary parts
        as PyTorch does (the fill of ``view_as_real``)."""
        if np.dtype(dtype).kind == "c":
            return _as_complex(self.uniform(low, high, _size(size) + (2,), _real_part(dtype), fused), size)
        shape = _size(size)
        kind = _float_type(dtype)
        low_t, high_t = kind.type(low), kind.type(high)
        span = np.float64(kind.type(high_t - low_t))  # (the type's subtraction, as PyTorch's kernel)
        values = self.unit(_count(shape), kind)
        exact = low_t == 0 and span == 1 and kind == np.dtype(dtype)  # (x * 1 + 0 < 1: nothing to clamp)
        if low_t == 0 and span == 1:
            pass
        elif fused and kind == np.float64:
            values = fused_multiply_add(values, span, np.float64(low_t))
        else:  # (below float64 the product is exact in doubles: one rounding, as fused)
            values = values * span + np.float64(low_t)
        values = values.astype(dtype).reshape(shape)
        if fused and not exact:  # (float16 rounds a draw above 1 - 2^-12 up to 1, for one)
            at_top = values == np.dtype(dtype).type(high)
            if at_top.any():
                values = np.where(at_top, np.dtype(dtype).type(low), values)
        return values if size is not None else values[()]

    # -- normal -------------------------------------------------------------------------------------
    def standard_normal(self, size: Any = None, dtype: Any = np.float64) -> Any:
        return self.normal(0.0, 1.0, size, dtype)

    def normal(self, loc: Any = 0.0, scale: Any = 1.0, size: Any = None, dtype: Any = np.float64,
               contiguous: bool = True) -> Any:
        """N(loc, scale^2): scalars go into the kernel; arrays (``torch.normal(mean, std)``)
        scale a standard draw of the broadcast shape, as PyTorch's ``normal_(0, 1).mul_(std).add_(mean)``.
        ``contiguous=False``: the tensor filled is not contiguous, and PyTorch then draws double
        normals one at a time whatever its size.  A complex ``dtype``: as PyTorch, the fill of
        ``view_as_real`` with ``scale / sqrt(2)`` (each part carries half the variance) and
        ``loc`` on both parts."""
        if np.dtype(dtype).kind == "c" and not (np.ndim(loc) or np.ndim(scale)):
            parts = self.normal(loc, scale / math.sqrt(2), _size(size) + (2,), _real_part(dtype), contiguous)
            return _as_complex(parts, size)
        if np.ndim(loc) or np.ndim(scale):
            shape = _size(size) if size is not None else np.broadcast_shapes(np.shape(loc), np.shape(scale))
            standard = self.normal(0.0, 1.0, shape, dtype)
            return (standard * np.asarray(scale, dtype=dtype) + np.asarray(loc, dtype=dtype)).astype(dtype)
        shape = _size(size)
        n = _count(shape)
        kind = np.dtype(dtype)
        if n >= 16 and contiguous and (kind in _DIGITS or kind.kind == "V"):
            work = _float_type(kind)  # (float16's and bfloat16's in float32, rounded at the end)
            values = self._normal_fill(n, work, work.type(loc), work.type(scale), whole_blocks=kind != work)
            values = values.astype(kind, copy=False)
        else:
            values = fused_multiply_add(self.normals(n), float(scale), float(loc)).astype(dtype)
        values = values.reshape(shape)
        return values if size is not None else values[()]

    def _normal_fill(self, n: int, kind: np.dtype, mean: Any, std: Any, whole_blocks: bool = False) -> np.ndarray:
        """``whole_blocks``: float16's kernel, which draws 16 uniforms per whole block (into a
        float32 buffer) where float32's draws one per element, before the tail's 16."""
        whole = n - n % 16
        data = self.unit(n, kind).astype(kind) if not whole_blocks else np.concatenate(
            [self.unit(whole, kind).astype(kind), np.zeros(n - whole, kind)])
        if whole:
            data[:whole] = self._box_muller16(data[:whole].reshape(-1, 16), mean, std).reshape(-1)
        if n % 16:
            tail = self.unit(16, kind).astype(kind).reshape(1, 16)
            data[n - 16:] = self._box_muller16(tail, mean, std).reshape(-1)
        return data

    @staticmethod
    def _box_muller16(blocks: np.ndarray, mean: Any, std: Any) -> np.ndarray:
        kind = blocks.dtype
        u1 = kind.type(1) - blocks[:, :8]
        radius = np.sqrt(kind.type(-2) * np.log(u1))
        theta = (2.0 * math.pi * blocks[:, 8:].astype(np.float64)).astype(kind)
        out = np.empty_like(blocks)
        out[:, :8] = radius * np.cos(theta)
        out[:, 8:] = radius * np.sin(theta)
        std, mean = float(std), float(mean)
        if std == 1.0 and mean == 0.0:
            return out
        if kind == np.float64:
            return fused_multiply_add(out, std, mean)
        return (out.astype(np.float64) * std + mean).astype(kind)  # (exact product in doubles: one rounding)

    def normals(self, n: int) -> np.ndarray:
        """``n`` double standard normals, one at a time (PyTorch's ``normal_distribution<double>``,
        which keeps each pair's second value for the next draw)."""
        out = np.empty(n)
        start = 0
        if n and self.next_normal is not None:
            out[0], self.next_normal, start = self.next_normal, None, 1
        pairs = (n - start + 1) // 2
        if pairs:
            u = self.unit(2 * pairs).reshape(pairs, 2)
            # (the C library's log1p, cos and sin, as PyTorch's scalar sampler: NumPy's SIMD
            # versions differ from them in the last bit now and then)
            radius = np.sqrt(-2.0 * _libm_log1p(-u[:, 1]).astype(np.float64))
            theta = 2.0 * math.pi * u[:, 0]
            values = np.empty((pairs, 2))
            values[:, 0] = radius * _libm_cos(theta).astype(np.float64)
            values[:, 1] = radius * _libm_sin(theta).astype(np.float64)
            values = values.reshape(-1)
            out[start:] = values[:n - start]
            if (n - start) % 2:
                self.next_normal = float(values[-1])
        return out

    def lognormal(self, mean: float = 0.0, sigma: float = 1.0, size: Any = None, dtype: Any = np.float64) -> Any:
        shape = _size(size)
        values = np.exp(fused_multiply_add(self.normals(_count(shape)), float(sigma), float(mean)))
        values = values.astype(dtype).reshape(shape)
        return values if size is not None else values[()]

    # -- from one double uniform each -----------------------------------------------------------------
    def exponential_rate(self, rate: float = 1.0, size: Any = None, dtype: Any = np.float64) -> Any:
        """Exp(rate): ``-1/rate * log1p(-u)``."""
        shape = _size(size)
        values = ((-1.0 / rate) * np.log1p(-self.unit(_count(shape)))).astype(dtype).reshape(shape)
        return values if size is not None else values[()]

    def exponential(self, scale: float = 1.0, size: Any = None, dtype: Any = np.float64) -> Any:
        return self.exponential_rate(1.0 / scale, size, dtype)

    def cauchy(self, median: float = 0.0, sigma: float = 1.0, size: Any = None, dtype: Any = np.float64) -> Any:
        shape = _size(size)
        u = self.unit(_count(shape))
        values = fused_multiply_add(np.tan(math.pi * (u - 0.5)), float(sigma), float(median)).astype(dtype).reshape(shape)
        return values if size is not None else values[()]

    def standard_cauchy(self, size: Any = None, dtype: Any = np.float64) -> Any:
        return self.cauchy(0.0, 1.0, size, dtype)

    def geometric(self, p: float, size: Any = None, dtype: Any = np.float64) -> Any:
        shape = _size(size)
        u = self.unit(_count(shape))
        values = np.ceil(np.log(u) / math.log1p(-p)).astype(dtype).reshape(shape)
        return values if size is not None else values[()]

    def bernoulli(self, p: Any, size: Any = None, dtype: Any = np.float64) -> Any:
        """1 where a uniform is below ``p``: a double uniform for a scalar ``p`` (and a float64
        array), the array's own width otherwise (PyTorch's ``bernoulli_distribution<float>``)."""
        shape = _size(size)
        n = _count(shape)
        if np.ndim(p) and np.asarray(p).dtype != np.float64:
            u = self.unit(n, np.float32).astype(np.float32).reshape(shape)
            return (u < np.broadcast_to(np.asarray(p, dtype=np.float32), shape)).astype(dtype)
        return (self.unit(n).reshape(shape) < p).astype(dtype)

    # -- integers -------------------------------------------------------------------------------------
    def integers(self, low: int, high: int | None = None, size: Any = None, dtype: Any = np.int64,
                 endpoint: bool = False) -> Any:
        if high is None:
            low, high = 0, low
        if endpoint:
            high += 1
        shape = _size(size)
        n = _count(shape)
        span = int(high) - int(low)
        if span <= 0:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
        raw = self.draws64(n) if span >= _WIDE_RANGE else self.draws32(n)
        values = (raw % np.uint64(span)).astype(np.int64) + int(low)
        values = values.astype(dtype).reshape(shape)
        return values if size is not None else values[()]

    def full_range(self, size: Any, dtype: Any) -> np.ndarray:
        """``Tensor.random_()`` without bounds: [0, 2^mantissa] for floats, [0, max] for integers."""
        kind = np.dtype(dtype)
        shape = _size(size)
        n = _count(shape)
        if kind == np.bool_:
            return (self.draws32(n) % 2).astype(kind).reshape(shape)
        if kind.kind == "f":
            digits = _DIGITS.get(kind, 24)
            raw = self.draws64(n) if digits > 32 else self.draws32(n)
            return (raw % np.uint64((1 << digits) + 1)).astype(kind).reshape(shape)
        top = np.iinfo(kind).max
        raw = self.draws64(n) if kind.itemsize == 8 else self.draws32(n)
        return (raw % np.uint64(top + 1)).astype(kind).reshape(shape)

    def permutation(self, n: Any) -> np.ndarray:
        """``randperm(n)``: element i swapped with i + (draw mod (n - i)), from the front."""
        if not isinstance(n, (int, np.integer)):
            items = np.array(n)
            return items[self.permutation(len(items))]
        n = int(n)
        order = list(range(n))
        if n > 1:
            # (the swaps depend on each other: a Python loop over plain ints, ~0.6 us each)
            targets = (self.draws32(n - 1) % np.arange(n, 1, -1, dtype=np.uint64)).astype(np.int64)
            targets += np.arange(n - 1, dtype=np.int64)
            for i, j in enumerate(targets.tolist()):
                order[i], order[j] = order[j], order[i]
        return np.array(order, dtype=np.int64)

    # -- gamma, Dirichlet, Poisson: rejection samplers, one element after another ----------------------
    def _uniform(self) -> float:
        return float(self.unit(1)[0])

    def _gamma(self, alpha: Any) -> float:
        """One Gamma(alpha, 1) draw: PyTorch's ``sample_gamma`` (Marsaglia and Tsang, alpha < 1
        boosted), its uniforms and normals double draws from this stream; ``alpha`` keeps its
        type (float32 arithmetic where PyTorch's is)."""
        scale = 1.0
        if alpha < 1:
            if alpha == 0:
                return 0.0
            # (PyTorch's exponent is 1.0f / alpha: a float32 quotient for float32 alpha)
            exponent = float(np.float32(1.0) / alpha) if isinstance(alpha, np.float32) else 1.0 / float(alpha)
            scale *= (1 - self._uniform()) ** exponent
            alpha = alpha + type(alpha)(1)
        # (PyTorch's constants are float literals: 1.0f / 3.0f and 0.0331f even in double arithmetic)
        d = float(alpha - np.float32(1.0) / np.float32(3.0)) if isinstance(alpha, np.float32) else alpha - _THIRD_F
        c = 1.0 / math.sqrt(9.0 * d)
        while True:
            while True:
                x = float(self.normals(1)[0])
                y = 1.0 + c * x
                if y > 0:
                    break
            v = y * y * y
            u = 1 - self._uniform()
            xx = x * x
            if u < 1.0 - _SQUEEZE_F * xx * xx:
                return scale * d * v
            if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
                return scale * d * v

    def standard_gamma(self, alpha: np.ndarray) -> np.ndarray:
        """Gamma(alpha, 1) draws of ``alpha``'s shape and dtype (at least the dtype's tiny)."""
        kind = alpha.dtype
        flat = alpha.reshape(-1)
        out = np.array([self._gamma(a) for a in (flat if kind == np.float32 else flat.astype(np.float64))],
                       dtype=np.float64)
        return np.maximum(out.astype(kind), np.finfo(kind).tiny).reshape(alpha.shape)

    def dirichlet(self, alpha: np.ndarray) -> np.ndarray:
        """Dirichlet draws (rows along the last dim): double gammas, normalised, kept inside (0, 1)."""
        gammas = np.array([self._gamma(float(a)) for a in alpha.reshape(-1)], dtype=np.float64)
        gammas = np.maximum(gammas, np.finfo(np.float64).tiny).reshape(alpha.shape)
        ratios = (gammas / gammas.sum(-1, keepdims=True)).astype(alpha.dtype)
        return np.clip(ratios, np.finfo(alpha.dtype).tiny, np.nextafter(alpha.dtype.type(1), alpha.dtype.type(0)))

    def _poisson(self, rate: float) -> int:
        if rate >= 10:  # transformed rejection (Hormann 1993)
            slam, loglam = math.sqrt(rate), math.log(rate)
            b = 0.931 + 2.53 * slam
            a = -0.059 + 0.02483 * b
            invalpha = 1.1239 + 1.1328 / (b - 3.4)
            vr = 0.9277 - 3.6224 / (b - 2)
            while True:
                u = self._uniform() - 0.5
                v = self._uniform()
                us = 0.5 - abs(u)
                k = math.floor((2 * a / us + b) * u + rate + 0.43)
                if us >= 0.07 and v <= vr:
                    return k
                if k < 0 or (us < 0.013 and v > us):
                    continue
                if math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b) <= -rate + k * loglam - math.lgamma(k + 1):
                    return k
        if rate == 0:
            return 0
        count, product, limit = 0, 1.0, math.exp(-rate)  # multiplied uniforms
        while True:
            product *= self._uniform()
            if product > limit:
                count += 1
            else:
                return count

    def poisson(self, rates: np.ndarray) -> np.ndarray:
        """Poisson draws with ``rates``' shape and dtype."""
        if np.any(rates < 0):
            raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
        flat = [self._poisson(float(r)) for r in rates.reshape(-1)]
        return np.array(flat, dtype=np.float64).astype(rates.dtype).reshape(rates.shape)

    def _binomial_inversion(self, count: float, prob: float, rounded: Any) -> float:
        """Geometric waiting times summed past ``count`` (PyTorch's, for count * prob < 10)."""
        geom_sum, num_geom, logprob = 0.0, 0, rounded(math.log1p(-prob))
        while True:
            geom_sum += math.ceil(math.log(self._uniform()) / logprob)
            if geom_sum > count:
                return num_geom
            num_geom += 1

    def _btrs(self, count: float, prob: float, rounded: Any) -> float:
        """Hormann's transformed rejection with squeeze (BTRS), as PyTorch writes it (the terms
        PyTorch computes in the tensor's type rounded to it by ``rounded``)."""
        stddev = math.sqrt(rounded(rounded(count * prob) * rounded(1 - prob)))
        b = 1.15 + 2.53 * stddev
        a = -0.0873 + 0.0248 * b + 0.01 * prob
        c = rounded(count * prob) + 0.5
        v_r = 0.92 - 4.2 / b
        r = rounded(prob / rounded(1 - prob))
        alpha = (2.83 + 5.1 / b) * stddev
        m = math.floor(rounded(rounded(count + 1) * prob))
        while True:
            u = self._uniform() - 0.5
            v = self._uniform()
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + c)
            if k < 0 or k > count:
                continue
            if us >= 0.07 and v <= v_r:
                return k
            v = math.log(v * alpha / (a / (us * us) + b))
            upper = ((m + 0.5) * math.log((m + 1) / (r * (count - m + 1)))
                     + (count + 1) * math.log((count - m + 1) / (count - k + 1))
                     + (k + 0.5) * math.log(r * (count - k + 1) / (k + 1))
                     + _stirling_tail(m) + _stirling_tail(count - m) - _stirling_tail(k) - _stirling_tail(count - k))
            if v <= upper:
                return k

    def _binomial(self, count: float, prob: float, rounded: Any) -> float:
        if count <= 0 or prob <= 0:
            return 0.0
        if prob >= 1:
            return count
        if prob <= 0.5:
            if rounded(count * prob) >= 10:
                return self._btrs(count, prob, rounded)
            return self._binomial_inversion(count, prob, rounded)
        if prob > 0.5:
            q = rounded(1.0 - prob)
            if rounded(count * q) >= 10:
                return count - self._btrs(count, q, rounded)
            return count - self._binomial_inversion(count, q, rounded)
        return math.nan

    def binomial(self, counts: np.ndarray, probs: np.ndarray) -> np.ndarray:
        """Binomial draws (``torch.binomial``) of broadcast ``counts`` and ``probs``, element
        after element, with the counts' dtype (whose precision PyTorch's sampler keeps for the
        count and probability and the terms made of them alone)."""
        counts, probs = np.broadcast_arrays(counts, probs)
        kind = counts.dtype.type
        rounded = (lambda x: x) if kind == np.float64 else (lambda x: float(kind(x)))  # noqa: E731
        flat = [self._binomial(rounded(float(n)), rounded(float(p)), rounded)
                for n, p in zip(counts.reshape(-1), probs.reshape(-1))]
        return np.array(flat, dtype=np.float64).astype(counts.dtype).reshape(counts.shape)

    # -- categorical ----------------------------------------------------------------------------------
    def multinomial(self, rows: np.ndarray, num_samples: int, replacement: bool) -> np.ndarray:
        """Indices drawn from each row of the 2-D array of weights ``rows``, as PyTorch's CPU
        kernel (rows in their own float type)."""
        if not replacement or num_samples == 1:
            q = self.exponential_rate(1.0, rows.shape, rows.dtype)
            keys = rows / q
            if num_samples == 1:
                return np.argmax(keys, axis=-1)[:, None]
            # topk: the largest first; among equal keys the lower index first.
            return np.argsort(-keys, axis=-1, kind="stable")[:, :num_samples]
        cumulative = np.cumsum(rows, axis=1, dtype=rows.dtype)
        totals = cumulative[:, -1:]
        cumulative = np.where(totals > 0, cumulative / totals, cumulative)
        out = np.empty((rows.shape[0], num_samples), dtype=np.int64)
        for r in range(rows.shape[0]):
            out[r] = np.searchsorted(cumulative[r], self.unit(num_samples), side="left")
        return np.minimum(out, rows.shape[1] - 1)

    # -- state ----------------------------------------------------------------------------------------
    def get_state(self) -> np.ndarray:
        """PyTorch's byte layout of a CPU generator's state (``torch.get_rng_state()``)."""
        state = self._bits.state["state"]
        pos = int(state["pos"])
        out = np.zeros(_STATE_BYTES, dtype=np.uint8)
        header = np.array([self.seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64).view(np.uint8)
        out[0:8] = header
        out[8:12] = np.array([_STATE_WORDS + 1 - pos], dtype=np.int32).view(np.uint8)  # left
        out[12:16] = np.array([1], dtype=np.int32).view(np.uint8)  # seeded
        out[16:24] = np.array([0 if self.fresh else pos], dtype=np.uint64).view(np.uint8)  # next
        out[24:24 + 8 * _STATE_WORDS] = np.asarray(state["key"], dtype=np.uint64).view(np.uint8)
        cache = 24 + 8 * _STATE_WORDS  # normal_x, normal_y, normal_rho, normal_is_valid
        if self.next_normal is not None:
            out[cache + 8:cache + 16] = np.array([self.next_normal], dtype=np.float64).view(np.uint8)
            out[cache + 24:cache + 28] = np.array([1], dtype=np.int32).view(np.uint8)
        return out

    def set_state(self, data: np.ndarray) -> None:
        data = np.ascontiguousarray(data, dtype=np.uint8).reshape(-1)
        if data.size != _STATE_BYTES:
            raise RuntimeError(f"Expected either a THGeneratorState of size {_STATE_BYTES - 8} or a "
                               f"CPUGeneratorImplState of size {_STATE_BYTES} but found the input RNG state "
                               f"size to be {data.size}")
        self.seed = int(data[0:8].view(np.uint64)[0])
        left = int(data[8:12].view(np.int32)[0])
        key = data[24:24 + 8 * _STATE_WORDS].view(np.uint64).astype(np.uint32)
        pos = _STATE_WORDS if left <= 1 else _STATE_WORDS + 1 - left
        self._bits.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}
        self.fresh = left <= 1 and int(data[16:24].view(np.uint64)[0]) == 0
        cache = 24 + 8 * _STATE_WORDS
        valid = int(data[cache + 24:cache + 28].view(np.int32)[0])
        self.next_normal = float(data[cache + 8:cache + 16].view(np.float64)[0]) if valid else None
