"""chainrule.utils._pytree against torch.utils._pytree."""
from __future__ import annotations

import warnings
from collections import OrderedDict, defaultdict, deque, namedtuple

import pytest
import torch
import torch.utils._pytree as theirs

import chainrule
import chainrule.utils._pytree as ours

Point = namedtuple("Point", "x y")

TREES = [
    5,
    None,
    [1, None, 2],
    (1, (2, 3), [4]),
    {"b": 1, "a": (2, 3), "c": {"d": [4, 5]}},
    Point(1, [2, 3]),
    OrderedDict(z=1, y=2),
    defaultdict(list, q=1),
    deque([1, 2], maxlen=4),
    [(), {}, [[]]],
]


@pytest.mark.parametrize("tree", TREES, ids=range(len(TREES)))
def test_flatten_unflatten_and_spec_as_pytorch(tree):
    leaves, spec = ours.tree_flatten(tree)
    expected_leaves, expected_spec = theirs.tree_flatten(tree)
    assert leaves == expected_leaves
    assert repr(spec) == repr(expected_spec)
    assert (spec.num_leaves, spec.num_nodes, spec.num_children) == (
        expected_spec.num_leaves, expected_spec.num_nodes, expected_spec.num_children)
    rebuilt = ours.tree_unflatten(leaves, spec)
    assert rebuilt == tree and type(rebuilt) is type(tree)
    assert ours.tree_leaves(tree) == theirs.tree_leaves(tree)
    assert ours.tree_structure(tree) == spec and hash(ours.tree_structure(tree)) == hash(spec)
    assert ours.treespec_pprint(spec) == theirs.treespec_pprint(expected_spec)


def test_map_and_predicates_as_pytorch():
    tree = {"x": 7, "y": (42, 64), "z": None, "w": "s"}
    for f in (lambda x: x is None, lambda x: (x, x)):
        assert ours.tree_map(f, tree) == theirs.tree_map(f, tree)
    assert ours.tree_map(lambda x, y: [x] + y, [5, 6], [[7, 9], [1, 2]]) == [[5, 7, 9], [6, 1, 2]]
    assert ours.tree_map_only(int, lambda x: x + 1, tree) == theirs.tree_map_only(int, lambda x: x + 1, tree)
    assert ours.tree_map_only((int, str), lambda x: x * 2, tree) == theirs.tree_map_only((int, str), lambda x: x * 2, tree)
    assert ours.tree_map([].append, [1]) == [None]
    seen = []
    assert ours.tree_map_(seen.append, [1, (2,)]) == [1, (2,)]
    assert seen == [1, 2]
    for pred in (lambda x: x is None, lambda x: isinstance(x, int)):
        assert ours.tree_all(pred, tree) == theirs.tree_all(pred, tree)
        assert ours.tree_any(pred, tree) == theirs.tree_any(pred, tree)
    assert ours.tree_all_only(int, lambda x: x > 5, tree) == theirs.tree_all_only(int, lambda x: x > 5, tree)
    assert ours.tree_any_only(str, lambda x: x == "t", tree) == theirs.tree_any_only(str, lambda x: x == "t", tree)
    assert ours.tree_leaves([1, (2, 3)], is_leaf=lambda x: isinstance(x, tuple)) == [1, (2, 3)]


@pytest.mark.parametrize("first, second", [([1, 2], [3]), ([1, 2], (3, 4)), ({"a": 1}, {"b": 2})])
def test_mismatched_trees_raise_pytorch_messages(first, second):
    with pytest.raises(ValueError) as expected:
        theirs.tree_map(lambda x, y: x, first, second)
    with pytest.raises(ValueError) as got:
        ours.tree_map(lambda x, y: x, first, second)
    assert str(got.value) == str(expected.value)


def test_unflatten_of_the_wrong_number_of_leaves():
    with pytest.raises(ValueError, match="`leaves` has length 1 but the spec refers to a pytree that holds 2"):
        ours.tree_unflatten([1], ours.tree_structure([1, 2]))


def test_registered_nodes_tensors_and_sizes():
    class Pair:
        def __init__(self, a, b):
            self.a, self.b = a, b

    ours.register_pytree_node(Pair, lambda p: ([p.a, p.b], "pair"), lambda values, context: Pair(*values))
    with pytest.raises(ValueError, match="already registered"):
        ours.register_pytree_node(Pair, lambda p: ([], None), lambda values, context: None)
    leaves, spec = ours.tree_flatten({"p": Pair(chainrule.ones(2), 3)})
    assert leaves[1] == 3 and spec.child(0).type is Pair
    doubled = ours.tree_map_only(chainrule.Tensor, lambda t: t * 2, {"p": Pair(chainrule.ones(2), 3)})
    assert doubled["p"].a.tolist() == [2.0, 2.0] and doubled["p"].b == 3
    assert ours.tree_leaves(chainrule.zeros(2, 3).shape) == [2, 3]

    class Box:
        def __init__(self, item):
            self.item = item

    ours._register_pytree_node(Box, lambda b: ([b.item], None), lambda values, _: Box(*values))
    assert ours.tree_map(lambda v: v + 1, [Box(1)])[0].item == 2
    assert type(ours.tree_map(lambda n: n * 2, chainrule.Size([1, 2]))) is chainrule.Size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        assert repr(ours.LeafSpec()) == repr(theirs.LeafSpec()) == "*"
    assert ours.tree_structure(1).is_leaf()


def test_func_errors_describe_structures_with_the_pytree():
    messages = []
    for lib in (chainrule, torch):
        with pytest.raises(ValueError) as error:
            lib.func.vmap(lambda a: a, in_dims=([0, 0],))(lib.ones(2, 2))
        messages.append(str(error.value))
        with pytest.raises(RuntimeError) as error:
            _, pullback = lib.func.vjp(lambda a: (a, a), lib.ones(2))
            pullback([lib.ones(2), lib.ones(2)])
        messages.append(str(error.value))
    assert messages[:2] == messages[2:]
