"""The array-namespace seam, and the devices tensors live on.

Every op asks the arrays it holds for their namespace instead of naming ``numpy``: NumPy
arrays answer ``numpy``, a device's arrays its namespace (CuPy's answer ``cupy``).  A device
other than the CPU is a :class:`DeviceBackend` (its namespace, its array type, how arrays move
to it and back to the host); ``"cuda"`` is CuPy's, made on first use, so the CPU path never
imports CuPy.  :func:`register_device` puts another in its place (the test suite's stand-in
device, which runs the whole device path on NumPy without a GPU).

The devices and the default device are decided here, in one place: :func:`check_device`.
"""
from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

import numpy as np

ndarray = np.ndarray

#: The one-line hint for a machine without CuPy.
CUPY_HINT = ("chainrule's CUDA backend is CuPy: pip install 'chainrule[cuda]' (cupy-cuda12x; "
             "cupy-cuda13x for CUDA 13 drivers)")


class device:
    """A device, as ``torch.device``: ``device('cpu')``, ``device('cuda', 0)``,
    ``device('cuda:0')``."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        name, _, number = str(type).partition(":")
        if number:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed "
                                   f"explicitly: {type}")
            if not number.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(number)
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative (got {index})")
        self.type = name
        self.index = index

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None else ")")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self) -> tuple:
        return device, (self.type, self.index)


CPU = device("cpu")


@dataclass
class DeviceBackend:
    """A device type other than the CPU, as chainrule uses it.

    ``to_device(array, index)`` copies a host (or another device's) array onto device
    ``index``; ``to_host(array)`` copies a device array into a new NumPy array;
    ``context(index)`` makes ``index`` the device the namespace creates arrays on.
    ``generator(seed, index)`` makes the sampler random ops draw from on that device (NumPy's
    ``Generator`` names: random, standard_normal, integers, permutation, normal, uniform;
    its draws are device arrays).  ``special`` maps ``"erf"``/``"erfinv"`` to the namespace's
    special functions.  ``memory_pool`` is an object with CuPy's ``MemoryPool`` methods
    (used_bytes, total_bytes, free_all_blocks), or None.  ``fuse(function)`` compiles one of
    the :data:`FUSABLE` elementwise chains into one kernel (``cupy.fuse``); None: the device
    runs them op by op."""

    name: str
    namespace: Any
    array_type: type
    to_device: Callable[[Any, int], Any]
    to_host: Callable[[Any], np.ndarray]
    index_of: Callable[[Any], int] = lambda array: 0
    device_count: Callable[[], int] = lambda: 1
    current_device: Callable[[], int] = lambda: 0
    set_device: Callable[[int], None] = lambda index: None
    synchronize: Callable[[int], None] = lambda index: None
    device_name: Callable[[int], str] = lambda index: "device"
    context: Callable[[int], Any] = lambda index: nullcontext()
    generator: Callable[[int, int], Any] | None = None
    special: dict = field(default_factory=dict)
    memory_pool: Any = None
    fuse: Callable[[Callable], Callable] | None = None
    fused: dict = field(default_factory=dict)  # the FUSABLE chains compiled so far, by name


#: Registered device backends by device type, and by array type for the lookups of ops.
_BACKENDS: dict[str, DeviceBackend] = {}
_BY_ARRAY_TYPE: dict[type, DeviceBackend] = {}
#: The array types of the registered devices (``type(x) in DEVICE_ARRAY_TYPES``: a device array).
DEVICE_ARRAY_TYPES: set = set()
#: Why the CuPy backend could not be made (None: not tried yet, or it was made).
_cuda_failure: str | None = None


def register_device(backend: DeviceBackend) -> DeviceBackend | None:
    """Make ``backend`` the device type ``backend.name`` (``"cuda"``, or a new name); returns
    the backend it replaces, if any (give it back to :func:`register_device` to restore it)."""
    previous = _BACKENDS.get(backend.name)
    if previous is not None:
        unregister_device(backend.name)
    _BACKENDS[backend.name] = backend
    _BY_ARRAY_TYPE[backend.array_type] = backend
    DEVICE_ARRAY_TYPES.add(backend.array_type)
    _forget_types()
    return previous


def unregister_device(name: str) -> None:
    """Forget the backend of device type ``name`` (``"cuda"`` falls back to CuPy's)."""
    backend = _BACKENDS.pop(name, None)
    if backend is not None:
        for kind in [k for k, b in _BY_ARRAY_TYPE.items() if b is backend]:
            del _BY_ARRAY_TYPE[kind]
            DEVICE_ARRAY_TYPES.discard(kind)
    _forget_types()


def _forget_types() -> None:
    """After a (un)registration: types once found to be no device's may be one's now."""
    _HOST_TYPES.clear()
    _DEVICES.clear()


def registered_backend(name: str) -> DeviceBackend | None:
    """The backend registered (or made) for device type ``name`` so far, without making one."""
    return _BACKENDS.get(name)


def device_backend(name: str) -> DeviceBackend:
    """The backend of device type ``name``; RuntimeError (saying why) when it has none here."""
    backend = _BACKENDS.get(name)
    if backend is not None:
        return backend
    if name == "cuda":
        return _cupy_backend()
    if name not in _PYTORCH_DEVICE_TYPES:
        raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {name}")
    raise RuntimeError(f"chainrule has no '{name}' backend: its devices are cpu and cuda")


#: The device types PyTorch knows (the others are not devices at all).
_PYTORCH_DEVICE_TYPES = frozenset({
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
    "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone"})


def cuda_available() -> bool:
    """True when the ``cuda`` device works here (CuPy installed and a GPU it can use); never
    raises, and answers at once after the first call."""
    try:
        return device_backend("cuda").device_count() > 0
    except RuntimeError:
        return False


#: Makes the CuPy backend (``chainrule.cuda`` registers it: the CuPy code lives there).
_cuda_loader: Callable[[], DeviceBackend] | None = None


def bind_cuda_loader(loader: Callable[[], DeviceBackend]) -> None:
    """Register ``loader()``: it imports CuPy and returns the ``cuda`` backend, or raises
    RuntimeError saying why it cannot (no CuPy, no GPU)."""
    global _cuda_loader
    _cuda_loader = loader


def _cupy_backend() -> DeviceBackend:
    """CuPy as the ``cuda`` backend, made once (and registered) when it can compute here."""
    global _cuda_failure
    if _cuda_failure is not None:
        raise RuntimeError(_cuda_failure)
    if _cuda_loader is None:
        raise RuntimeError(f"CUDA is not available: {CUPY_HINT}")
    try:
        backend = _cuda_loader()
    except RuntimeError as error:
        _cuda_failure = str(error)
        raise
    register_device(backend)
    return backend


def check_device(spec: Any) -> device:
    """``spec`` (a device, a name such as ``"cpu"`` or ``"cuda:0"``, or a GPU index) as a
    device tensors can be put on now: RuntimeError for a device type chainrule has no
    backend for or that is not available here (no CuPy, no GPU), or an index past the last
    device; TypeError for what is not a device at all."""
    if isinstance(spec, device):
        dev = spec
    elif isinstance(spec, str) or (isinstance(spec, int) and not isinstance(spec, bool)):
        dev = device(spec)
    else:
        raise TypeError(f"expected a device, a device name or an index, got {type(spec).__name__}")
    if dev.type == "cpu":
        return dev
    backend = device_backend(dev.type)
    if dev.index is not None and dev.index >= backend.device_count():
        raise RuntimeError(f"CUDA error: invalid device ordinal (device {dev} was asked for; "
                           f"{backend.device_count()} {dev.type} device(s) here)")
    return dev


def resolve_device(spec: Any) -> device:
    """``check_device(spec)`` with the index filled in (the current device of its type), or
    the default device for None: where a new tensor goes."""
    if spec is None:
        return _default_device
    dev = check_device(spec)
    if dev.type == "cpu" or dev.index is not None:
        return dev
    return _device(dev.type, _BACKENDS[dev.type].current_device())


# -- the default device ----------------------------------------------------------------------

_default_device = CPU


def set_default_device(spec: Any) -> None:
    """Set the device new tensors are created on (``None``: back to the CPU)."""
    global _default_device
    _default_device = CPU if spec is None else resolve_device(spec)


def get_default_device() -> device:
    """The device new tensors are created on (``device(type='cpu')`` unless set)."""
    return _default_device


# -- arrays and their devices ------------------------------------------------------------------

_DEVICES: dict[tuple, device] = {}


def _device(name: str, index: int) -> device:
    key = (name, index)
    found = _DEVICES.get(key)
    if found is None:
        found = _DEVICES[key] = device(name, index)
    return found


#: Types known to be no device's (NumPy scalars, Python numbers ...), so looked up once.
_HOST_TYPES: set = set()


def _backend_of_type(kind: type) -> DeviceBackend | None:
    backend = _BY_ARRAY_TYPE.get(kind)
    if backend is None and kind not in _HOST_TYPES:
        backend = _find_backend(kind)
    return backend


def _find_backend(kind: type) -> DeviceBackend | None:
    """The backend of an array type not seen yet: a subclass of a registered device's array
    type, or CuPy's (made now); None (and remembered) for any other type."""
    for backend in list(_BACKENDS.values()):
        if issubclass(kind, backend.array_type):
            break
    else:
        backend = None
        if kind.__module__.startswith("cupy"):
            try:
                backend = _cupy_backend()
            except RuntimeError:
                backend = None
    if backend is None:
        _HOST_TYPES.add(kind)
    else:
        _BY_ARRAY_TYPE[kind] = backend
        DEVICE_ARRAY_TYPES.add(kind)
    return backend


def get_array_module(array: Any) -> ModuleType:
    """Return the array namespace (``numpy``, ``cupy``, a registered device's) that owns ``array``."""
    kind = type(array)
    if kind is ndarray:
        return np
    backend = _backend_of_type(kind)
    return np if backend is None else backend.namespace


def array_backend(array: Any) -> DeviceBackend | None:
    """The device backend ``array`` lives on; None for a host (NumPy) array or scalar."""
    kind = type(array)
    return None if kind is ndarray else _backend_of_type(kind)


def device_of(array: Any) -> device:
    """The device ``array`` lives on, with its index (``cuda:0``)."""
    kind = type(array)
    if kind is ndarray:
        return CPU
    backend = _backend_of_type(kind)
    return CPU if backend is None else _device(backend.name, backend.index_of(array))


def to_numpy(array: Any) -> np.ndarray:
    """Bring any backend array to host memory as a NumPy array (a copy for a device array)."""
    kind = type(array)
    if kind is ndarray:
        return array
    backend = _backend_of_type(kind)
    if backend is not None:
        return backend.to_host(array)
    return np.asarray(array)


def to_device(array: Any, dev: device) -> Any:
    """``array`` on ``dev`` (a checked device with its index): itself when it is there."""
    source = array_backend(array)
    if dev.type == "cpu":
        return array if source is None else source.to_host(array)
    target = _BACKENDS[dev.type]
    if source is target and target.index_of(array) == dev.index:
        return array
    if source is not None and source is not target:
        array = source.to_host(array)
    return target.to_device(array, dev.index)


def namespace_of_device(dev: device) -> Any:
    """The array namespace of a (checked) device."""
    return np if dev.type == "cpu" else _BACKENDS[dev.type].namespace


def build_on(dev: device, build: Callable[[Any], Any]) -> Any:
    """``build(xp)`` with the (checked) device's namespace, on that device: an array made there."""
    if dev.type == "cpu":
        return build(np)
    backend = _BACKENDS[dev.type]
    with backend.context(dev.index):
        return build(backend.namespace)


#: Elementwise chains a device may compile into one kernel: name -> a function written with
#: Python operators only (``+=``, ``*``, ``** 0.5`` ...), so that it runs as it is on NumPy
#: arrays and traces under ``cupy.fuse``.  The layers above register theirs (the Adam update).
FUSABLE: dict[str, Callable] = {}
#: Whether devices that can fuse do (``CHAINRULE_FUSE=0`` in the environment: never, to
#: compare or to rule the fused kernels out).
FUSION = os.environ.get("CHAINRULE_FUSE", "1") != "0"


def register_fusable(name: str, function: Callable) -> None:
    """Offer ``function`` (see :data:`FUSABLE`) to the devices that fuse, as ``name``."""
    FUSABLE[name] = function


def fused(array: Any, name: str) -> Callable | None:
    """The chain ``name`` compiled for the device ``array`` lives on; None on the CPU and on a
    device that does not fuse (the caller then runs its ops one by one)."""
    if type(array) is ndarray or not FUSION:
        return None
    backend = array_backend(array)
    if backend is None or backend.fuse is None:
        return None
    kernel = backend.fused.get(name)
    if kernel is None:
        kernel = backend.fused[name] = backend.fuse(FUSABLE[name])
    return kernel


def special_function(xp: Any, name: str) -> Callable | None:
    """The device namespace ``xp``'s special function ``name`` (``"erf"``), or None for NumPy
    (which has none) and for a device that does not provide it."""
    if xp is np:
        return None
    for backend in _BACKENDS.values():
        if backend.namespace is xp:
            return backend.special.get(name)
    return None


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse instead of handing it back to the OS.

    A training step allocates and frees the same few-megabyte arrays every iteration.  By
    default glibc returns them (munmap, heap trimming), so each new array pays a page fault
    per 4 KiB on its first write: measured at over half of a small CNN's training step.
    Arrays up to 32 MiB are then served from the heap, and up to 256 MiB of freed heap is
    kept.  Skipped off glibc, when the user tunes malloc through MALLOC_* variables or
    GLIBC_TUNABLES, and when CHAINRULE_MALLOC_TUNING=0.  Returns (and ``MALLOC_TUNED``
    says) whether it was applied.

    This changes the whole process, so importing chainrule never does it: the ``chainrule``
    command-line jobs do, and a training script may opt in by calling this once."""
    import ctypes
    import sys

    global MALLOC_TUNED
    if (not sys.platform.startswith("linux") or os.environ.get("CHAINRULE_MALLOC_TUNING") == "0"
            or any(k.startswith("MALLOC_") for k in os.environ)
            or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", "")):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    MALLOC_TUNED = bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 256 << 20))
    return MALLOC_TUNED


#: Whether ``keep_freed_memory`` changed malloc's thresholds in this process.
MALLOC_TUNED = False
