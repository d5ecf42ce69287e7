"""``torch.backends.cuda``: CUDA matmul switches, kept and read back (chainrule's GPU GEMMs are
CuPy's float32 GEMMs whatever they say)."""
from __future__ import annotations

from types import SimpleNamespace

#: ``torch.backends.cuda.matmul.allow_tf32 = True`` and its fellows.
matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)


def is_built() -> bool:
    """False: chainrule is not built with CUDA (its GPU is CuPy's, see ``chainrule.cuda``)."""
    return False
