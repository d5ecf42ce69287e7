"""Names for what a diagnosis talks about, as the user's code calls them.

The models, optimizers and tensors a script binds to variables are found in its frames (the
locals of each function on the stack outside chainrule, and the script's globals, looking
one level into objects such as a trainer's ``self``).  A parameter is named by its model's
``named_parameters`` (``fc1.weight``; ``G.fc1.weight`` when there are several models), a
plain tensor by its variable (``w``).  Each can also say where it was defined: the line
that assigned the variable, or the ``self.fc1 = ...`` line of the module that owns it.
"""
from __future__ import annotations

import os
import sys
import types
from dataclasses import dataclass
from typing import Any, Iterable

from ..nn import Module
from ..optim import Optimizer
from ..tensor import Tensor
from .sites import Site, attribute_definition, definition_in, is_chainrule_file

#: Objects looked into one level for models, optimizers and tensors: at most this many attributes.
ATTRIBUTES_SCANNED = 200


@dataclass
class Owner:
    """The module that holds a parameter: its path in the model (``fc1``, ``layers.3``;
    "" for the model itself) and the model (``root``) with its variable's name."""

    path: str
    attribute: str
    module: Any
    root: Any
    root_name: str
    label: str  # how reports name the module: its path, prefixed by the model's name if several


class Names:
    """Names of tensors, modules and optimizers bound in the user's code."""

    def __init__(self) -> None:
        self.tensors: dict = {}  # id(tensor) -> name
        self.held: dict = {}  # id(tensor) -> tensor (so the ids stay valid)
        self.places: dict = {}  # id(tensor) -> (file, function, line) of the frame binding it
        self.modules: dict = {}  # variable name -> Module
        self.module_places: dict = {}  # id(Module) -> (file, function, line) of the frame binding it
        self.module_holders: dict = {}  # id(Module) -> (class of the object holding it, attribute)
        self.optimizers: dict = {}  # id -> (name, Optimizer)
        self.owners: dict = {}  # id(parameter) -> Owner
        self.roots: list = []  # (name, model) for models not inside another one

    @classmethod
    def from_frames(cls, frames: Iterable[Any]) -> "Names":
        """The names bound in ``frames`` (innermost first: inner names win)."""
        names = cls()
        seen_globals: set = set()
        for frame in frames:
            place = (frame.f_code.co_filename, frame.f_code.co_name, frame.f_lineno)
            names.scan(frame.f_locals.items(), place)
            if id(frame.f_globals) not in seen_globals:
                seen_globals.add(id(frame.f_globals))
                names.scan(list(frame.f_globals.items()), (frame.f_code.co_filename, "<module>", 1))
        names.finish()
        return names

    def scan(self, items: Iterable, place: tuple, holder: Any = None) -> None:
        """Take the models, optimizers and tensors among ``items`` ((name, value) pairs; the
        attributes of ``holder`` when given)."""
        for name, value in list(items):
            if not isinstance(name, str) or name.startswith("_"):
                continue
            if isinstance(value, Module):
                self.modules.setdefault(name, value)
                self.module_places.setdefault(id(value), place)
                if holder is not None:
                    self.module_holders.setdefault(id(value), (type(holder), name.rpartition(".")[2]))
            elif isinstance(value, Optimizer):
                self.optimizers.setdefault(id(value), (name, value))
            elif isinstance(value, Tensor):
                if id(value) not in self.tensors:
                    self.tensors[id(value)] = name
                    self.held[id(value)] = value
                    self.places[id(value)] = place
            elif holder is None and _user_object(value):
                attributes = list(vars(value).items())[:ATTRIBUTES_SCANNED]
                self.scan(((f"{name}.{key}", item) for key, item in attributes if not key.startswith("_")),
                          place, value)

    def add_model(self, name: str, model: Any) -> None:
        self.modules.setdefault(name, model)

    def finish(self) -> None:
        """Name the parameters of the models found (the outermost ones)."""
        inner = set()
        for model in self.modules.values():
            inner.update(id(m) for _, m in model.named_modules() if m is not model)
        self.roots = [(name, model) for name, model in self.modules.items() if id(model) not in inner]
        unique = {id(model): (name, model) for name, model in self.roots}
        self.roots = list(unique.values())
        # Bare names (fc1.weight) for one model of the user's own class; else the model's name first.
        prefix = len(self.roots) > 1 or any(type(model).__module__.startswith("chainrule") for _, model in self.roots)
        for root_name, model in self.roots:
            for path, module in model.named_modules():
                label = f"{root_name}.{path}" if prefix and path else (path or root_name)
                for attribute, parameter in module.named_parameters(recurse=False):
                    full = f"{path}.{attribute}" if path else attribute
                    if id(parameter) in self.owners:
                        continue
                    self.owners[id(parameter)] = Owner(path, attribute, module, model, root_name, label)
                    self.tensors[id(parameter)] = f"{root_name}.{full}" if prefix else full
                    self.held[id(parameter)] = parameter

    # -- answers ---------------------------------------------------------------------------
    def name(self, tensor: Any, default: str = "tensor") -> str:
        return self.tensors.get(id(tensor), default)

    def owner(self, tensor: Any) -> Owner | None:
        return self.owners.get(id(tensor))

    def definition(self, tensor: Any) -> Site | None:
        """Where ``tensor`` was defined: the module that owns it (``self.fc1 = ...``), or the
        assignment of its variable."""
        owner = self.owner(tensor)
        if owner is not None:
            return attribute_definition(type(owner.module), owner.attribute) or self.module_definition(owner)
        place = self.places.get(id(tensor))
        name = self.tensors.get(id(tensor))
        if place is None or name is None or "." in name:
            return None
        return definition_in(name, *place)

    def module_definition(self, owner: Owner) -> Site | None:
        """The ``self.<name> = ...`` line that created the owner's module (the deepest one in
        the user's classes), else the line that assigned the model's variable."""
        parts = owner.path.split(".") if owner.path else []
        found = None
        module = owner.root
        for part in parts:
            site = attribute_definition(type(module), part)
            if site is not None:
                found = site
            module = dict(module.named_children()).get(part)
            if module is None:
                break
        if found is not None:
            return found
        holder = self.module_holders.get(id(owner.root))
        if holder is not None:
            return attribute_definition(*holder)
        place = self.module_places.get(id(owner.root))
        return definition_in(owner.root_name, *place) if place is not None and "." not in owner.root_name else None

    def optimizer_list(self) -> list:
        return [optimizer for _, optimizer in self.optimizers.values()]


def _user_object(value: Any) -> bool:
    """An instance of a class from the user's own files (a trainer ...), whose attributes may
    hold the model and the optimizer: not a class, function or module, and not of a library
    installed with Python (nor chainrule)."""
    if isinstance(value, (type, types.ModuleType, types.FunctionType, types.MethodType)) or \
            not hasattr(value, "__dict__"):
        return False
    module = sys.modules.get(type(value).__module__)
    filename = getattr(module, "__file__", None)
    if filename is None:
        return type(value).__module__ == "__main__"
    filename = os.path.abspath(filename)
    return not is_chainrule_file(filename) and not filename.startswith(_INSTALLED)


#: Where Python and its installed packages live: objects of classes from there are not the user's.
_INSTALLED = tuple({os.path.abspath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})
