"""``torch.utils.data.distributed`` under its PyTorch name: ``chainrule.data``'s sampler."""
from ...data.distributed import DistributedSampler

__all__ = ["DistributedSampler"]
