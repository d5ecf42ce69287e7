"""``chainrule.datasets``: the embedded digits and names, and MNIST / Fashion-MNIST from local IDX files.

The code lives in ``chainrule.data.datasets``; this module is its public name.
"""
from .data.datasets import (  # noqa: F401
    DIGITS_CLASSES, FASHION_MNIST_CLASSES, MNIST_CLASSES, DatasetError, digits, fashion_mnist, mnist, names,
    read_idx, write_idx,
)

__all__ = ["DIGITS_CLASSES", "FASHION_MNIST_CLASSES", "MNIST_CLASSES", "DatasetError", "digits", "fashion_mnist",
           "mnist", "names", "read_idx", "write_idx"]
