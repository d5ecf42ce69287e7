"""The embedded digits and IDX (MNIST / Fashion-MNIST) reading, with every error."""
import gzip
from pathlib import Path

import numpy as np
import pytest

import chainrule
from chainrule.datasets import DatasetError, digits, fashion_mnist, mnist, read_idx, write_idx


def test_digits_shapes_labels_and_classes():
    images, labels = digits()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == chainrule.float32
    assert labels.shape == (1797,) and labels.dtype == chainrule.int64
    counts = np.bincount(labels.numpy())
    assert len(counts) == 10 and counts.tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    pixels = images.numpy()
    assert pixels.min() == 0.0 and pixels.max() == 1.0
    assert np.allclose(pixels * 16, np.round(pixels * 16))  # counts 0..16 scaled by 1/16
    flat, same = digits(flatten=True)
    assert flat.shape == (1797, 64) and np.array_equal(flat.numpy(), pixels.reshape(1797, 64))
    assert np.array_equal(same.numpy(), labels.numpy())


def test_digits_file_and_attribution_ship_with_the_package():
    folder = Path(chainrule.__file__).parent / "data"
    assert (folder / "digits.npz").stat().st_size < 100_000
    attribution = (folder / "ATTRIBUTION-digits.txt").read_text()
    assert "Alpaydin" in attribution and "CC BY 4.0" in attribution


def write_set(root, prefix="train", n=5, gz=False, rows=4, cols=3):
    images = (np.arange(n * rows * cols) % 256).astype(np.uint8).reshape(n, rows, cols)
    labels = (np.arange(n) % 10).astype(np.uint8)
    ext = ".gz" if gz else ""
    write_idx(root / f"{prefix}-images-idx3-ubyte{ext}", images)
    write_idx(root / f"{prefix}-labels-idx1-ubyte{ext}", labels)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_idx_files(tmp_path, gz):
    images, labels = write_set(tmp_path, "t10k", gz=gz)
    x, y = mnist(tmp_path, train=False)
    assert x.shape == (5, 1, 4, 3) and x.dtype == chainrule.float32 and y.dtype == chainrule.int64
    assert np.allclose(x.numpy()[:, 0], images / 255.0) and y.tolist() == labels.tolist()
    flat, _ = fashion_mnist(tmp_path, train=False, flatten=True)
    assert flat.shape == (5, 12)


def test_mnist_finds_torchvision_layout(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    write_set(raw, gz=True)
    assert fashion_mnist(tmp_path)[0].shape == (5, 1, 4, 3)


def test_missing_files_and_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such directory"):
        mnist(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        mnist(tmp_path)
    write_set(tmp_path, "t10k")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        mnist(tmp_path, train=True)


def expect_error(root, name, *pieces):
    with pytest.raises(DatasetError) as info:
        mnist(root)
    message = str(info.value)
    assert name in message and "\n" not in message
    for piece in pieces:
        assert piece in message
    return message


def test_swapped_files_name_the_magic_numbers(tmp_path):
    images, labels = write_set(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte", labels)
    expect_error(tmp_path, "train-images-idx3-ubyte", "magic number 2049", "expected 2051")


def test_truncated_and_overlong_files(tmp_path):
    write_set(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    data = path.read_bytes()
    path.write_bytes(data[:-7])
    expect_error(tmp_path, "train-images-idx3-ubyte", "truncated", f"{len(data) - 7} bytes", f"expected {len(data)}",
                 "5 x 4 x 3")
    path.write_bytes(data + b"\0")
    expect_error(tmp_path, "train-images-idx3-ubyte", "too long")
    path.write_bytes(data[:10])
    expect_error(tmp_path, "train-images-idx3-ubyte", "truncated header")
    path.write_bytes(b"\0\0")
    expect_error(tmp_path, "train-images-idx3-ubyte", "truncated", "4-byte")


def test_corrupt_and_truncated_gzip(tmp_path):
    write_set(tmp_path, gz=True)
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    expect_error(tmp_path, "train-labels-idx1-ubyte.gz", "gzip")
    path.write_bytes(b"not gzip at all")
    expect_error(tmp_path, "train-labels-idx1-ubyte.gz", "gzip")


def test_mismatched_counts_and_bad_labels(tmp_path):
    write_set(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4, np.uint8))
    expect_error(tmp_path, "train-labels-idx1-ubyte", "4 labels for 5 images")
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.full(5, 12, np.uint8))
    expect_error(tmp_path, "train-labels-idx1-ubyte", "label 12")


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "x.idx"
    path.write_bytes(b"hello, world")
    with pytest.raises(DatasetError, match="expected 2051"):
        read_idx(path, 2051)
    with pytest.raises(DatasetError, match="unsigned bytes"):
        read_idx(path)
    assert issubclass(DatasetError, ValueError)
    with gzip.open(tmp_path / "ok.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 9]))
    assert read_idx(tmp_path / "ok.gz", 2049).tolist() == [7, 9]
