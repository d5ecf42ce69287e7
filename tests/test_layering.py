"""The layers of the package, checked on its source (ast: nothing is imported).

Imports point one way (see CONTRIBUTING.md): autograd at the bottom, then tensor.py, the
tensor factories, ops/, the functional layer, and the parts built on it; viz/ and commands/
use only the public faces of the rest.  Imports inside functions count too.
"""
from __future__ import annotations

import ast
import pathlib

import pytest

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "chainrule"
PACKAGE = "chainrule"

def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, pathlib.Path]:
    return {_module_name(p): p for p in SRC.rglob("*.py")}


MODULES = _modules()


def _resolve(current: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The chainrule modules an ``from ... import ...`` statement loads."""
    if node.level:
        base = current.split(".") if is_package else current.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    if not prefix.startswith(PACKAGE):
        return []
    found = []
    for alias in node.names:
        candidate = f"{prefix}.{alias.name}"
        found.append(candidate if candidate in MODULES else prefix)
    return found


def _imports(name: str) -> list[tuple[str, ast.AST, bool]]:
    """(imported chainrule module, the statement, inside a function?) for one module."""
    path = MODULES[name]
    tree = ast.parse(path.read_text())
    is_package = path.name == "__init__.py"
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.ImportFrom):
                found.extend((target, child, in_function) for target in _resolve(name, is_package, child))
            elif isinstance(child, ast.Import):
                found.extend((a.name, child, in_function) for a in child.names if a.name.startswith(PACKAGE))
            visit(child, inside)

    visit(tree, False)
    return found


GRAPH = {name: sorted({target for target, _, _ in _imports(name) if target != name}) for name in MODULES}


def test_no_import_cycle_between_modules():
    """Depth-first search for a back edge; the package's root (its public face, which loads
    heavier subpackages on first use) may import anything and is imported by nothing."""
    state: dict[str, int] = {}
    cycles = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in GRAPH.get(name, ()):
            if target == PACKAGE:
                cycles.append(" -> ".join(path + [target]))
            elif state.get(target) == 1:
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[name] = 2

    for name in sorted(MODULES):
        if name not in state and name != PACKAGE:
            visit(name, [name])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_autograd_imports_only_itself_backend_dtypes_and_the_numpy_error_state():
    allowed = (f"{PACKAGE}.autograd", f"{PACKAGE}.backend", f"{PACKAGE}.dtypes", f"{PACKAGE}.numpy_errstate")
    wrong = [(name, target) for name, targets in GRAPH.items() if name.startswith(f"{PACKAGE}.autograd")
             for target in targets if not target.startswith(allowed)]
    assert not wrong, wrong
    assert GRAPH[f"{PACKAGE}.numpy_errstate"] == []  # (a leaf: below autograd)


def test_no_chainrule_import_inside_a_function():
    """Imports inside functions are for optional heavy dependencies (matplotlib, graphviz ...)
    only: the layers are wired at module level, where the checks above see them."""
    wrong = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [("." * node.level) + (node.module or "")]
                else:
                    continue
                for imported in names:
                    if imported.startswith(".") or imported.startswith(PACKAGE):
                        wrong.append(f"{name}:{node.lineno} imports {imported} inside {function.name}()")
    assert not wrong, "\n".join(sorted(set(wrong)))


@pytest.mark.parametrize("part", ["viz", "commands", "debug", "compiler", "profiler"])
def test_tools_use_only_public_names_of_the_core(part):
    """viz/, commands/, debug/, compiler/ and profiler/ import no underscore name of another part and read no
    ``obj._private`` attribute (their own ``self._x`` aside)."""
    wrong = []
    own = f"{PACKAGE}.{part}"
    for name, path in MODULES.items():
        if not name.startswith(own):
            continue
        tree = ast.parse(path.read_text())
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for target in _resolve(name, is_package, node):
                    if target.startswith(own):
                        continue
                    private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                    hidden = [p for p in target.split(".") if p.startswith("_")]
                    if private or hidden:
                        wrong.append(f"{name}:{node.lineno} imports {private or hidden} from {target}")
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                owner = node.value
                if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                    continue
                wrong.append(f"{name}:{node.lineno} reads .{node.attr}")
    assert not wrong, "\n".join(wrong)


def _public_defs(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}


def test_no_function_is_defined_in_both_functional_layers():
    both = _public_defs(SRC / "functional.py") & _public_defs(SRC / "nn" / "functional.py")
    assert not both, f"defined in chainrule.functional and chainrule.nn.functional: {sorted(both)}"


def test_tensor_is_a_data_holder():
    assert len((SRC / "tensor.py").read_text().splitlines()) <= 700


def test_engine_functions_are_short():
    tree = ast.parse((SRC / "autograd" / "engine.py").read_text())
    long = [(n.name, n.end_lineno - n.lineno + 1) for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef) and n.end_lineno - n.lineno + 1 > 80]
    loops = [n.end_lineno - n.lineno + 1 for n in ast.walk(tree) if isinstance(n, ast.While)]
    assert not long, long
    assert max(loops) <= 40, loops


def test_the_package_shows_its_api_not_its_insides():
    import chainrule

    for leaked in ("np", "E", "L", "N", "R", "S", "builtins", "fmod_", "named", "public"):
        assert not hasattr(chainrule, leaked), leaked
    assert set(chainrule.__all__) <= set(dir(chainrule)) | set(chainrule._LAZY) | {"save", "load", "explain"}
