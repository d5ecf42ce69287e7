"""PyTorch's ``torch.utils._pytree``: nested containers of values ("pytrees") taken apart into
their leaves and a :class:`TreeSpec` of their structure, and put back together.

Tuples, lists, dicts, named tuples (``return_types`` among them), ``OrderedDict``,
``defaultdict``, ``deque`` and ``chainrule.Size`` are nodes; anything else (None included) is a
leaf.  ``register_pytree_node`` makes other classes nodes.  Dicts keep their insertion order, as
PyTorch's do.  ``chainrule.func`` flattens its arguments and results with these.
"""
from __future__ import annotations

import dataclasses
from collections import OrderedDict, defaultdict, deque, namedtuple
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from ..tensor import Size

__all__ = [
    "PyTree", "Context", "TreeSpec", "LeafSpec", "register_pytree_node", "tree_flatten", "tree_unflatten",
    "tree_iter", "tree_leaves", "tree_structure", "tree_map", "tree_map_", "tree_map_only", "tree_map_only_",
    "tree_all", "tree_any", "tree_all_only", "tree_any_only", "tree_is_leaf", "treespec_pprint",
    "is_namedtuple", "is_namedtuple_class", "is_namedtuple_instance", "SUPPORTED_NODES",
]

PyTree = Any
Context = Any


class NodeDef(NamedTuple):
    """How a node type comes apart: ``flatten_fn(node) -> (children, context)`` and
    ``unflatten_fn(children, context) -> node``."""

    type: type
    flatten_fn: Callable[[Any], tuple[list, Context]]
    unflatten_fn: Callable[[Iterable, Context], Any]


#: The node types, by type (named tuples all under ``namedtuple``).
SUPPORTED_NODES: dict[Any, NodeDef] = {}


def register_pytree_node(cls: type, flatten_fn: Callable[[Any], tuple[list, Context]],
                         unflatten_fn: Callable[[Iterable, Context], Any], *, serialized_type_name: str | None = None,
                         to_dumpable_context: Callable | None = None, from_dumpable_context: Callable | None = None,
                         flatten_with_keys_fn: Callable | None = None) -> None:
    """Make ``cls`` a pytree node: ``flatten_fn(obj)`` gives ``(children, context)`` and
    ``unflatten_fn(children, context)`` rebuilds it.  (The serialization and key-path
    arguments are accepted for PyTorch's signature; chainrule does not serialize specs.)"""
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    SUPPORTED_NODES[cls] = NodeDef(cls, flatten_fn, unflatten_fn)


def _register_pytree_node(cls: type, flatten_fn: Callable[[Any], tuple[list, Context]],
                          unflatten_fn: Callable[[Iterable, Context], Any], to_str_fn: Callable | None = None,
                          maybe_from_str_fn: Callable | None = None, **kwargs: Any) -> None:
    """PyTorch's older spelling of :func:`register_pytree_node` (still called by libraries);
    the string functions are accepted and unused, as in PyTorch."""
    register_pytree_node(cls, flatten_fn, unflatten_fn, **kwargs)


def is_namedtuple_class(cls: type) -> bool:
    """Whether ``cls`` is a named tuple type (``collections.namedtuple``'s or a subclass)."""
    return (isinstance(cls, type) and issubclass(cls, tuple) and isinstance(getattr(cls, "_fields", None), tuple)
            and callable(getattr(cls, "_make", None)))


def is_namedtuple_instance(obj: object) -> bool:
    return is_namedtuple_class(type(obj))


def is_namedtuple(obj: object) -> bool:
    """Whether ``obj`` is a named tuple or a named tuple type."""
    return is_namedtuple_class(obj if isinstance(obj, type) else type(obj))


def _mapping_unflatten(kind: type) -> Callable:
    return lambda values, keys: kind(zip(keys, values))


def _defaultdict_unflatten(values: Iterable, context: Context) -> defaultdict:
    factory, keys = context
    return defaultdict(factory, zip(keys, values))


register_pytree_node(tuple, lambda t: (list(t), None), lambda values, _: tuple(values))
register_pytree_node(list, lambda items: (list(items), None), lambda values, _: list(values))
register_pytree_node(dict, lambda d: (list(d.values()), list(d.keys())), _mapping_unflatten(dict))
register_pytree_node(namedtuple, lambda t: (list(t), type(t)), lambda values, cls: cls(*values))
register_pytree_node(OrderedDict, lambda d: (list(d.values()), list(d.keys())), _mapping_unflatten(OrderedDict))
register_pytree_node(defaultdict, lambda d: (list(d.values()), [d.default_factory, list(d.keys())]),
                     _defaultdict_unflatten)
register_pytree_node(deque, lambda d: (list(d), d.maxlen), lambda values, maxlen: deque(values, maxlen=maxlen))
register_pytree_node(Size, lambda s: (list(s), None), lambda values, _: Size(values))

_BUILTIN = frozenset({tuple, list, dict, namedtuple, OrderedDict, defaultdict, deque})


def _node_type(tree: Any) -> Any:
    kind = type(tree)
    return namedtuple if is_namedtuple_class(kind) else kind


def tree_is_leaf(tree: PyTree, is_leaf: Callable[[PyTree], bool] | None = None) -> bool:
    """Whether ``tree`` is a leaf: not a registered node type, or one ``is_leaf`` accepts."""
    if is_leaf is not None and is_leaf(tree):
        return True
    return _node_type(tree) not in SUPPORTED_NODES


@dataclasses.dataclass(init=False, frozen=True, eq=True, repr=False)
class TreeSpec:
    """The structure of a pytree: the root node's type, its context (a dict's keys, a named
    tuple's class ...) and one spec per child.  A leaf's spec has type None."""

    type: Any
    _context: Context
    _children: list

    def __init__(self, type: Any, context: Context, children_specs: list) -> None:
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "_context", context)
        object.__setattr__(self, "_children", list(children_specs))
        if type is None:
            self.__dict__.update(num_nodes=1, num_leaves=1, num_children=0)
        else:
            self.__dict__.update(num_nodes=1 + sum(c.num_nodes for c in self._children),
                                 num_leaves=sum(c.num_leaves for c in self._children),
                                 num_children=len(self._children))

    @property
    def context(self) -> Context:
        return self._context

    @property
    def children_specs(self) -> list:
        return self._children

    def children(self) -> list:
        return list(self._children)

    def child(self, index: int) -> "TreeSpec":
        return self._children[index]

    def is_leaf(self) -> bool:
        return self.num_nodes == 1 and self.num_leaves == 1

    def __repr__(self, indent: int = 0) -> str:
        if self.type is None:
            return "*"
        inner = ""
        if self._children:
            indent += 2
            inner = self._children[0].__repr__(indent) + ("," if len(self._children) > 1 else "")
            inner += ",".join("\n" + " " * indent + child.__repr__(indent) for child in self._children[1:])
        return f"TreeSpec({self.type.__name__}, {self._context}, [{inner}])"

    def __hash__(self) -> int:
        context = self._context
        if self.type in (dict, OrderedDict, deque) or self.type is None:
            context = tuple(context) if isinstance(context, list) else context
        elif self.type is defaultdict:
            context = (context[0], tuple(context[1]))
        elif self.type not in _BUILTIN:
            context = None  # a user node's context need not be hashable
        return hash((self.type, context, tuple(self._children)))

    def flatten_up_to(self, tree: PyTree) -> list:
        """The subtrees of ``tree`` at this spec's leaves (``tree`` must have this structure
        down to them)."""
        subtrees: list = []
        self._up_to(tree, subtrees)
        return subtrees

    def _up_to(self, tree: PyTree, subtrees: list) -> None:
        if self.is_leaf():
            subtrees.append(tree)
            return
        kind = _node_type(tree)
        if self.type not in _BUILTIN:
            if kind != self.type:
                raise ValueError(f"Type mismatch; expected {self.type!r}, but got {kind!r}.")
        elif self.type in (dict, OrderedDict, defaultdict):
            if not isinstance(tree, dict):
                raise ValueError(f"Node type mismatch; expected {self.type!r}, but got {type(tree)!r}.")
        elif kind != self.type:
            raise ValueError(f"Node type mismatch; expected {self.type!r}, but got {kind!r}.")
        children, context = SUPPORTED_NODES[kind if kind in SUPPORTED_NODES else self.type].flatten_fn(tree)
        if len(children) != self.num_children:
            raise ValueError(f"Node arity mismatch; expected {self.num_children}, but got {len(children)}.")
        if isinstance(tree, dict):
            keys = self._context[1] if self.type is defaultdict else self._context
            given = context[1] if kind is defaultdict else context
            if set(keys) != set(given):
                missing, extra = set(keys) - set(given), set(given) - set(keys)
                raise ValueError(f"Node keys mismatch; missing key(s): {missing}; extra key(s): {extra}.")
            children = [tree[key] for key in keys]
        elif self.type is namedtuple and context != self._context:
            raise ValueError(f"Node context mismatch for namedtuple node type {self.type!r}; "
                             f"expected {self._context!r}, but got {context!r}.")
        for child, spec in zip(children, self._children):
            spec._up_to(child, subtrees)

    def unflatten(self, leaves: Iterable[Any]) -> PyTree:
        """The pytree of this structure holding ``leaves``."""
        if not isinstance(leaves, (list, tuple)):
            leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the spec refers "
                             f"to a pytree that holds {self.num_leaves} items ({self}).")
        if self.is_leaf():
            return leaves[0]
        start, children = 0, []
        for spec in self._children:
            children.append(spec.unflatten(leaves[start:start + spec.num_leaves]))
            start += spec.num_leaves
        return SUPPORTED_NODES[self.type].unflatten_fn(children, self._context)


class LeafSpec(TreeSpec):
    """The spec of a leaf (PyTorch's ``LeafSpec()``)."""

    def __init__(self) -> None:
        super().__init__(None, None, [])


_LEAF = LeafSpec()


def tree_flatten(tree: PyTree, is_leaf: Callable[[PyTree], bool] | None = None) -> tuple[list, TreeSpec]:
    """The leaves of ``tree`` in order and its :class:`TreeSpec`."""
    leaves: list = []

    def walk(node: PyTree) -> TreeSpec:
        if tree_is_leaf(node, is_leaf):
            leaves.append(node)
            return _LEAF
        kind = _node_type(node)
        children, context = SUPPORTED_NODES[kind].flatten_fn(node)
        return TreeSpec(kind, context, [walk(child) for child in children])

    spec = walk(tree)
    return leaves, spec


def tree_unflatten(leaves: Iterable[Any], treespec: TreeSpec) -> PyTree:
    """The pytree of structure ``treespec`` holding ``leaves`` (the inverse of
    :func:`tree_flatten`)."""
    if not isinstance(treespec, TreeSpec):
        if not isinstance(leaves, TreeSpec):
            raise TypeError(f"Expected `treespec` to be an instance of PyTreeSpec but got item of type "
                            f"{type(treespec)}.")
        leaves, treespec = treespec, leaves
    return treespec.unflatten(leaves)


def tree_iter(tree: PyTree, is_leaf: Callable[[PyTree], bool] | None = None) -> Iterator[Any]:
    """The leaves of ``tree``, one at a time."""
    if tree_is_leaf(tree, is_leaf):
        yield tree
        return
    children, _ = SUPPORTED_NODES[_node_type(tree)].flatten_fn(tree)
    for child in children:
        yield from tree_iter(child, is_leaf)


def tree_leaves(tree: PyTree, is_leaf: Callable[[PyTree], bool] | None = None) -> list:
    """The leaves of ``tree`` in order."""
    return list(tree_iter(tree, is_leaf))


def tree_structure(tree: PyTree, is_leaf: Callable[[PyTree], bool] | None = None) -> TreeSpec:
    """The :class:`TreeSpec` of ``tree``."""
    return tree_flatten(tree, is_leaf)[1]


def tree_map(func: Callable[..., Any], tree: PyTree, *rests: PyTree,
             is_leaf: Callable[[PyTree], bool] | None = None) -> PyTree:
    """``tree`` with each leaf ``x`` replaced by ``func(x, *xs)``, ``xs`` the subtrees of
    ``rests`` at that place (each of ``rests`` has ``tree``'s structure, or it as a prefix)."""
    leaves, spec = tree_flatten(tree, is_leaf)
    columns = [leaves] + [spec.flatten_up_to(rest) for rest in rests]
    return spec.unflatten(map(func, *columns))


def tree_map_(func: Callable[..., Any], tree: PyTree, *rests: PyTree,
              is_leaf: Callable[[PyTree], bool] | None = None) -> PyTree:
    """Call ``func`` on each leaf (with the matching subtrees of ``rests``) for its effect;
    returns ``tree`` itself."""
    leaves, spec = tree_flatten(tree, is_leaf)
    columns = [leaves] + [spec.flatten_up_to(rest) for rest in rests]
    for arguments in zip(*columns):
        func(*arguments)
    return tree


def _only(kinds: Any, func: Callable) -> Callable:
    """``func`` applied to the leaves of type ``kinds`` (a type, a tuple of them, or a
    predicate); other leaves pass unchanged."""
    if isinstance(kinds, (type, tuple)):
        wanted = (lambda x: isinstance(x, kinds))
    elif callable(kinds):
        wanted = kinds
    else:
        raise TypeError("Argument must be a type, a tuple of types, or a callable.")
    return lambda x: func(x) if wanted(x) else x


def tree_map_only(type_or_types_or_pred: Any, func: Callable, tree: PyTree,
                  is_leaf: Callable[[PyTree], bool] | None = None) -> PyTree:
    """:func:`tree_map` over the leaves of the given type(s) only (or that a predicate
    accepts); other leaves are kept as they are."""
    return tree_map(_only(type_or_types_or_pred, func), tree, is_leaf=is_leaf)


def tree_map_only_(type_or_types_or_pred: Any, func: Callable, tree: PyTree,
                   is_leaf: Callable[[PyTree], bool] | None = None) -> PyTree:
    """:func:`tree_map_` over the leaves of the given type(s) only."""
    return tree_map_(_only(type_or_types_or_pred, func), tree, is_leaf=is_leaf)


def tree_all(pred: Callable[[Any], bool], tree: PyTree, is_leaf: Callable[[PyTree], bool] | None = None) -> bool:
    """Whether ``pred`` holds for every leaf."""
    return all(map(pred, tree_iter(tree, is_leaf)))


def tree_any(pred: Callable[[Any], bool], tree: PyTree, is_leaf: Callable[[PyTree], bool] | None = None) -> bool:
    """Whether ``pred`` holds for some leaf."""
    return any(map(pred, tree_iter(tree, is_leaf)))


def tree_all_only(type_or_types: Any, pred: Callable[[Any], bool], tree: PyTree,
                  is_leaf: Callable[[PyTree], bool] | None = None) -> bool:
    """Whether ``pred`` holds for every leaf of the given type(s) (others are not asked)."""
    return all(pred(x) for x in tree_iter(tree, is_leaf) if isinstance(x, type_or_types))


def tree_any_only(type_or_types: Any, pred: Callable[[Any], bool], tree: PyTree,
                  is_leaf: Callable[[PyTree], bool] | None = None) -> bool:
    """Whether ``pred`` holds for some leaf of the given type(s)."""
    return any(pred(x) for x in tree_iter(tree, is_leaf) if isinstance(x, type_or_types))


def treespec_pprint(treespec: TreeSpec) -> str:
    """The structure as a pytree with ``*`` at its leaves (``"([*, *], {'a': *})"``)."""
    return repr(tree_unflatten([_Asterisk()] * treespec.num_leaves, treespec))


class _Asterisk(str):
    def __repr__(self) -> str:
        return "*"
