"""Atomic writes, and the removal of the temporary files that killed writers leave (only
those of the naming pattern, only those of dead processes); see also test_serialization."""
import os
import subprocess
import sys
import time

import pytest

from chainrule.atomic import atomic_write, remove_stale_temps

def test_only_files_of_the_naming_pattern_are_removed(tmp_path):
    path = tmp_path / "metrics.csv"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    names = [f".metrics.csv.{dead}-0badf00d.tmp",        # a dead writer's: removed
             f".metrics.csv.{dead}-0badf00d.tmp.keep",   # not the pattern
             f".metrics.csv.{dead}-XYZ.tmp",             # not the pattern
             f"metrics.csv.{dead}-0badf00d.tmp",         # not hidden: not ours
             f".metrics.csv.x.{dead}-0badf00d.tmp"]      # another target's
    for name in names:
        (tmp_path / name).write_text("old")
    time.sleep(0.01)
    if os.name == "posix":
        assert remove_stale_temps(path) == [tmp_path / names[0]]
    atomic_write(path, "a,b\n")
    assert sorted(os.listdir(tmp_path)) == sorted(names[1:] + ["metrics.csv"])
    assert path.read_text() == "a,b\n"


def test_atomic_write_refuses_missing_folders_and_directories(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write(tmp_path / "missing" / "x.txt", "x")
    with pytest.raises(IsADirectoryError):
        atomic_write(tmp_path, "x")
