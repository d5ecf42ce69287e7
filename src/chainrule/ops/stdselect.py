"""PyTorch's CPU ``topk`` selection, step for step, for rows whose equal values make the choice.

PyTorch's CPU kernel selects the top ``k`` of a row with the C++ standard library (GCC's
libstdc++): ``std::partial_sort`` when ``k * 64 <= n``, else ``std::nth_element`` followed,
when ``sorted``, by ``std::sort`` of the first ``k - 1``.  Neither is stable, so among equal
values which indices are kept, and in which order, is whatever those algorithms leave.  A row
whose top ``k + 1`` values are all distinct has one answer (the stable argsort's, which
``topk`` uses); for the others this module runs the same algorithms on the row's ranks, so the
indices are PyTorch's (magnitude pruning of tied weights prunes the same entries).

The functions work on a list of ``(key, index)`` pairs in place, ``key`` an int that orders
as PyTorch's comparator (equal values share a key), and use only ``key < key``.
"""
from __future__ import annotations

_SORT_THRESHOLD = 16  # libstdc++'s _S_threshold


def _lg(n: int) -> int:
    return n.bit_length() - 1


def _push_heap(q: list, first: int, hole: int, top: int, value: tuple) -> None:
    parent = (hole - 1) // 2
    while hole > top and q[first + parent][0] < value[0]:
        q[first + hole] = q[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    q[first + hole] = value


def _adjust_heap(q: list, first: int, hole: int, length: int, value: tuple) -> None:
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if q[first + child][0] < q[first + child - 1][0]:
            child -= 1
        q[first + hole] = q[first + child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        q[first + hole] = q[first + child - 1]
        hole = child - 1
    _push_heap(q, first, hole, top, value)


def _make_heap(q: list, first: int, last: int) -> None:
    length = last - first
    if length < 2:
        return
    parent = (length - 2) // 2
    while True:
        _adjust_heap(q, first, parent, length, q[first + parent])
        if parent == 0:
            return
        parent -= 1


def _pop_heap(q: list, first: int, last: int, result: int) -> None:
    value = q[result]
    q[result] = q[first]
    _adjust_heap(q, first, 0, last - first, value)


def _heap_select(q: list, first: int, middle: int, last: int) -> None:
    _make_heap(q, first, middle)
    for i in range(middle, last):
        if q[i][0] < q[first][0]:
            _pop_heap(q, first, middle, i)


def _sort_heap(q: list, first: int, last: int) -> None:
    while last - first > 1:
        last -= 1
        _pop_heap(q, first, last, last)


def partial_sort(q: list, first: int, middle: int, last: int) -> None:
    """``std::partial_sort``: the smallest ``middle - first`` in order at the front."""
    _heap_select(q, first, middle, last)
    _sort_heap(q, first, middle)


def _move_median_to_first(q: list, result: int, a: int, b: int, c: int) -> None:
    ka, kb, kc = q[a][0], q[b][0], q[c][0]
    if ka < kb:
        pick = b if kb < kc else (c if ka < kc else a)
    elif ka < kc:
        pick = a
    elif kb < kc:
        pick = c
    else:
        pick = b
    q[result], q[pick] = q[pick], q[result]


def _unguarded_partition(q: list, first: int, last: int, pivot: int) -> int:
    key = q[pivot][0]
    while True:
        while q[first][0] < key:
            first += 1
        last -= 1
        while key < q[last][0]:
            last -= 1
        if not first < last:
            return first
        q[first], q[last] = q[last], q[first]
        first += 1


def _unguarded_partition_pivot(q: list, first: int, last: int) -> int:
    mid = first + (last - first) // 2
    _move_median_to_first(q, first, first + 1, mid, last - 1)
    return _unguarded_partition(q, first + 1, last, first)


def _unguarded_linear_insert(q: list, last: int) -> None:
    value = q[last]
    previous = last - 1
    while value[0] < q[previous][0]:
        q[last] = q[previous]
        last = previous
        previous -= 1
    q[last] = value


def _insertion_sort(q: list, first: int, last: int) -> None:
    if first == last:
        return
    for i in range(first + 1, last):
        if q[i][0] < q[first][0]:
            value = q[i]
            q[first + 1:i + 1] = q[first:i]
            q[first] = value
        else:
            _unguarded_linear_insert(q, i)


def _introsort_loop(q: list, first: int, last: int, depth_limit: int) -> None:
    while last - first > _SORT_THRESHOLD:
        if depth_limit == 0:
            partial_sort(q, first, last, last)
            return
        depth_limit -= 1
        cut = _unguarded_partition_pivot(q, first, last)
        _introsort_loop(q, cut, last, depth_limit)
        last = cut


def sort(q: list, first: int, last: int) -> None:
    """``std::sort`` (introsort, then insertion sort)."""
    if first == last:
        return
    _introsort_loop(q, first, last, _lg(last - first) * 2)
    if last - first > _SORT_THRESHOLD:
        _insertion_sort(q, first, first + _SORT_THRESHOLD)
        for i in range(first + _SORT_THRESHOLD, last):
            _unguarded_linear_insert(q, i)
    else:
        _insertion_sort(q, first, last)


def nth_element(q: list, first: int, nth: int, last: int) -> None:
    """``std::nth_element`` (introselect)."""
    if first == last or nth == last:
        return
    depth_limit = _lg(last - first) * 2
    while last - first > 3:
        if depth_limit == 0:
            _heap_select(q, first, nth + 1, last)
            q[first], q[nth] = q[nth], q[first]
            return
        depth_limit -= 1
        cut = _unguarded_partition_pivot(q, first, last)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(q, first, last)


def topk_row(keys: list, k: int, sorted: bool) -> list:
    """The indices PyTorch's CPU ``topk`` returns for a row whose comparator order is that of
    ``keys`` (smaller first), as PyTorch's ``topk_impl_loop`` selects them."""
    n = len(keys)
    if k == 0:
        return []
    q = list(zip(keys, range(n)))
    if k * 64 <= n:
        partial_sort(q, 0, k, n)
    else:
        nth_element(q, 0, k - 1, n)
        if sorted:
            sort(q, 0, k - 1)
    return [index for _, index in q[:k]]
