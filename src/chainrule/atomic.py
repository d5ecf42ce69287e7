"""Writing files atomically: a temporary file beside the target, then one rename, so a reader
never sees half a file and a failed write leaves the old file as it was.

The temporary file is named ``.<name>.<pid>-<8 hex>.tmp``: the writer's process id is in the
name. A writer killed outright (``kill -9``, power loss) cannot remove its temporary file, so
every write first removes the temporary files of its own target whose writer process is gone
(on this machine: a folder shared between machines may hold a live writer's file whose
process id means nothing here, and that file would be removed too).
"""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

_TEMP = re.compile(r"\.(?P<pid>\d+)-[0-9a-f]{8}\.tmp")


def temp_path(path: Path) -> Path:
    """A fresh temporary file name beside ``path`` that names this process."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process, or a number kill() refuses: not provably dead
    return True


def remove_stale_temps(path: Path) -> list[Path]:
    """Remove the temporary files of writes to ``path`` whose writer process has died; the
    paths removed are returned. POSIX only (elsewhere nothing is removed)."""
    if os.name != "posix":
        return []
    folder = path.parent if str(path.parent) else Path(".")
    prefix = f".{path.name}"
    removed = []
    try:
        entries = [entry.name for entry in os.scandir(folder) if entry.name.startswith(prefix)]
    except OSError:
        return []
    for name in entries:
        match = _TEMP.fullmatch(name, len(prefix))
        if match is None or _alive(int(match["pid"])):
            continue
        try:
            os.unlink(folder / name)
        except OSError:
            continue  # removed by another writer meanwhile, or not ours to remove
        removed.append(folder / name)
    return removed


def check_target(path: str | os.PathLike) -> Path:
    """``path`` as a Path, after checking that it can be written: its folder exists and it is
    not a directory (before any work is spent on what to write there)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {folder} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a directory")
    return path


def atomic_write(path: str | os.PathLike, data: bytes | str, *, durable: bool = False) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically and return the path; the folder
    must exist. ``durable``: flush the bytes to the disk before the rename (fsync), so that
    a power loss leaves the old file or the new one, never an empty one."""
    path = check_target(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    remove_stale_temps(path)
    temp = temp_path(path)
    # os.open with 0o666 lets the umask decide the permissions, as open() would.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    return path
