"""The embedded digits and IDX (MNIST / Fashion-MNIST) reading, with every error."""
import gzip
import os
import subprocess
import sys
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


IDX_HEADER = bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in (10, 28, 28))

# Reads each IDX file named on the command line in a fresh process and prints, per file,
# the growth of its peak resident memory (KiB) and the error.
PEAK_SCRIPT = """
import sys
from chainrule.datasets import DatasetError, read_idx

def status(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))

for path in sys.argv[1:]:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status("VmRSS")
    try:
        read_idx(path, 2051)
        message = "read"
    except DatasetError as error:
        message = str(error)
    print(status("VmHWM") - before, message)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_bombs_and_sparse_files_are_refused_within_bounded_memory(tmp_path):
    import zlib

    bomb = tmp_path / "bomb-idx3-ubyte.gz"  # 250 KB that inflate to 256 MiB past a 7,840-item header
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(16 * 2**20)
    bomb.write_bytes(packer.compress(IDX_HEADER) + b"".join(packer.compress(zeros) for _ in range(16)) + packer.flush())
    sparse = tmp_path / "sparse-idx3-ubyte"  # a valid header, then a 1 GiB hole
    with open(sparse, "wb") as f:
        f.write(IDX_HEADER)
        f.truncate(2**30)
    claims = tmp_path / "claims-idx3-ubyte.gz"  # a header claiming 4 GiB of items in 40 bytes
    claims.write_bytes(gzip.compress(bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in (2**22, 32, 32))))
    done = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(bomb), str(sparse), str(claims)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [line.split(" ", 1) for line in done.stdout.splitlines()]
    assert [int(growth) < 24 * 1024 for growth, _ in lines] == [True, True, True], lines
    assert "too long: more than 7856 bytes" in lines[0][1]
    assert f"too long: {2**30} bytes, expected 7856" in lines[1][1]
    assert "truncated" in lines[2][1] and "cannot hold" in lines[2][1]


def test_an_idx_file_with_no_items_is_refused(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((0, 28, 28), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(0, np.uint8))
    expect_error(tmp_path, "train-images-idx3-ubyte", "holds no images")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_fifos_and_devices_are_refused_without_blocking(tmp_path):
    write_set(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").unlink()
    os.mkfifo(tmp_path / "train-images-idx3-ubyte")
    done = subprocess.run([sys.executable, "-c", "import sys; from chainrule.datasets import mnist; mnist(sys.argv[1])",
                           str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert "train-images-idx3-ubyte: is not a regular file" in done.stderr
    with pytest.raises(DatasetError, match="not a regular file"):
        read_idx("/dev/zero")
