"""The version of chainrule, and ``torch.version``'s build facts (a CPU build: no CUDA, HIP or
ROCm), which scripts print or test."""

__version__ = "0.1.0"

#: The CUDA, HIP, ROCm and XPU versions the build is for: none.
cuda = None
hip = None
rocm = None
xpu = None
#: Whether this is a debug build.
debug = False
