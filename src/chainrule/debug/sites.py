"""Lines of the user's code: where an op was called, a graph cut, a module defined.

A :class:`Site` is a file and a line outside chainrule: the innermost frame of the calling
stack that is not chainrule's own (nor the import system's).  Sites are interned per code
object and line, so recording one per op costs a short frame walk and a dict lookup.
"""
from __future__ import annotations

import ast
import inspect
import linecache
import os
from dataclasses import dataclass
from typing import Any

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class Site:
    """A line of the user's code: ``str(site)`` is ``file:line``."""

    file: str
    line: int
    function: str = "<module>"

    def __str__(self) -> str:
        return f"{display_path(self.file)}:{self.line}"

    @property
    def code(self) -> str:
        """The line's source text, stripped ("" when the file cannot be read)."""
        return linecache.getline(self.file, self.line).strip()


def display_path(path: str) -> str:
    """``path`` relative to the working folder when it lies inside it."""
    if not os.path.isabs(path):
        return path
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


_inside: dict = {}  # file name -> whether it is chainrule's (or the import system's)
_sites: dict = {}  # (code object, line) -> Site


def is_chainrule_file(filename: str) -> bool:
    inside = _inside.get(filename)
    if inside is None:
        inside = _inside[filename] = filename.startswith("<frozen") or \
            os.path.abspath(filename).startswith(_PACKAGE_DIR)
    return inside


def user_frame(frame: Any = None) -> Any:
    """The innermost frame outside chainrule, from ``frame`` (default: the caller's) out."""
    if frame is None:
        frame = inspect.currentframe().f_back
    while frame is not None and is_chainrule_file(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


def user_site(frame: Any = None) -> Site | None:
    """The :class:`Site` of the innermost frame outside chainrule (None if there is none)."""
    frame = user_frame(frame if frame is not None else inspect.currentframe().f_back)
    if frame is None:
        return None
    code = frame.f_code
    key = (code, frame.f_lineno)
    site = _sites.get(key)
    if site is None:
        site = _sites[key] = Site(code.co_filename, frame.f_lineno, code.co_name)
    return site


def user_frames(frame: Any = None) -> list:
    """Every frame outside chainrule on the stack, innermost first."""
    frame = frame if frame is not None else inspect.currentframe().f_back
    found = []
    while frame is not None:
        if not is_chainrule_file(frame.f_code.co_filename):
            found.append(frame)
        frame = frame.f_back
    return found


# -- definitions: where a name was first assigned ------------------------------------------------

_trees: dict = {}  # file -> parsed module (None when unreadable)


def _tree(filename: str) -> Any:
    if filename not in _trees:
        source = "".join(linecache.getlines(filename))
        try:
            _trees[filename] = ast.parse(source) if source else None
        except SyntaxError:
            _trees[filename] = None
    return _trees[filename]


def _assigned_names(target: Any) -> list:
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _assigned_names(element)]
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
        return [f"{target.value.id}.{target.attr}"]
    return []


def _assignments(node: Any) -> list:
    """(target names, line) of each assignment directly in ``node``'s body (nested blocks
    included, nested functions and classes not)."""
    found = []
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(child, ast.Assign):
            found.append(([n for t in child.targets for n in _assigned_names(t)], child.lineno))
        elif isinstance(child, (ast.AnnAssign, ast.AugAssign)):
            found.append((_assigned_names(child.target), child.lineno))
        elif isinstance(child, (ast.For, ast.With)):
            targets = [child.target] if isinstance(child, ast.For) else [i.optional_vars for i in child.items]
            found.append(([n for t in targets if t is not None for n in _assigned_names(t)], child.lineno))
        stack.extend(ast.iter_child_nodes(child))
    return found


def _scope(tree: Any, function: str, line: int) -> Any:
    """The function definition named ``function`` that holds ``line`` (the module for
    ``<module>``)."""
    if function == "<module>":
        return tree
    best = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function \
                and node.lineno <= line <= (node.end_lineno or line):
            best = node
    return best


def definition_in_frame(name: str, frame: Any) -> Site | None:
    """Where the variable ``name`` of ``frame``'s function (or module) is first assigned."""
    return definition_in(name, frame.f_code.co_filename, frame.f_code.co_name, frame.f_lineno)


def definition_in(name: str, filename: str, function: str, line: int) -> Site | None:
    """Where the variable ``name`` is first assigned in ``function`` (the one of that name
    around ``line``; ``"<module>"``: the module level) of ``filename``."""
    tree = _tree(filename)
    scope = _scope(tree, function, line) if tree is not None else None
    if scope is None:
        return None
    lines = sorted(line for names, line in _assignments(scope) if name in names)
    return Site(filename, lines[0], function) if lines else None


def attribute_definition(cls: type, attribute: str) -> Site | None:
    """Where ``self.<attribute>`` is first assigned in the methods of ``cls`` (or of the
    classes it inherits from, outside chainrule)."""
    for klass in cls.__mro__:
        try:
            filename = inspect.getsourcefile(klass)
            _, start = inspect.getsourcelines(klass)
        except (TypeError, OSError):
            continue
        if filename is None or is_chainrule_file(filename):
            continue
        tree = _tree(filename)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == klass.__name__ and node.lineno >= start:
                for method in node.body:
                    if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        lines = sorted(line for names, line in _assignments(method) if f"self.{attribute}" in names)
                        if lines:
                            return Site(filename, lines[0], method.name)
                break
    return None
