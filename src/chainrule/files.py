"""Opening a file to read, only if it is a regular file: a FIFO, a device or a socket named
by mistake is refused at once instead of blocking the reader (a FIFO waits for a writer, a
device never ends). The writing counterpart is :mod:`chainrule.atomic`."""
from __future__ import annotations

import os
import stat
from typing import BinaryIO

__all__ = ["NotARegularFile", "open_regular_file"]


class NotARegularFile(OSError):
    """The path names something other than a regular file or a directory; ``kind`` says what
    (``"a FIFO (named pipe)"``, ``"a character device"`` ...)."""

    def __init__(self, path: str | os.PathLike, kind: str) -> None:
        super().__init__(f"{os.fspath(path)}: is {kind}, not a regular file")
        self.kind = kind


def open_regular_file(path: str | os.PathLike) -> tuple[BinaryIO, int]:
    """``path`` opened for binary reading, and its size. Raises what ``open`` raises
    (FileNotFoundError, IsADirectoryError, PermissionError ...), and NotARegularFile."""
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(f"{os.fspath(path)}: is a directory")
        raise NotARegularFile(path, _kind(info.st_mode))
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb"), info.st_size


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"
