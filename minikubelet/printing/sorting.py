"""`kubectl get --sort-by=JSONPATH`: kubectl's `pkg/cmd/get/sorter.go`, and the Go `sort.Sort` it relies on.

kubectl compares the first value the JSONPath finds in each object (`isLess`): numbers numerically (an
integer and a float do not compare: the sort fails), strings that both parse as resource quantities by
quantity (`500m` < `1` < `2Gi`), other strings byte-wise (RFC 3339 timestamps sort in time order that
way), a missing value before everything. Maps, lists and booleans are "unsortable": kubectl exits with a
klog fatal line. Its `Less` is not a strict order (a missing value is "less" than another missing value),
and `sort.Sort` is not stable, so the order of ties and missing values is whatever Go's pattern-defeating
quicksort makes of them: `go_sort` is that algorithm (Go's `sort.Sort`, `zsortinterface.go`), call for call,
so rows come out in kubectl's order, not only in a valid one.

`sort_objects` sorts a List's items (`SortObjects`, for `-o json|yaml|name|jsonpath|custom-columns`),
`sort_table_rows` a server Table's rows by their objects (`TableSorter`, for the table output).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from decimal import ROUND_UP, Context, Decimal, InvalidOperation
from typing import Any, NoReturn

from minikubelet.printing.custom_columns import CustomColumnsError, relaxed_json_path_expression
from minikubelet.printing.gofmt import quote
from minikubelet.printing.jsonpath import JSONPath, JSONPathError

__all__ = ["SortError", "go_sort", "is_less", "parse_quantity", "sort_objects", "sort_table_rows"]


class SortError(Exception):
    """An error `kubectl get --sort-by` returns (printed as `error: ...`, exit 1)."""


class UnsortableError(Exception):
    """`isLess` on values it cannot order (kubectl then exits through klog.Exitf)."""


# --- Go's sort.Sort (pdqsort) ---------------------------------------------------------------------------------------


def go_sort(length: int, less: Callable[[int, int], bool], swap: Callable[[int, int], None]) -> None:
    """Go's `sort.Sort` on an Interface of `length` elements: the same calls to `less` and `swap`."""
    if length <= 1:
        return
    _pdqsort(less, swap, 0, length, length.bit_length())


def _insertion_sort(less: Callable[[int, int], bool], swap: Callable[[int, int], None], a: int, b: int) -> None:
    for i in range(a + 1, b):
        j = i
        while j > a and less(j, j - 1):
            swap(j, j - 1)
            j -= 1


def _sift_down(less: Callable[[int, int], bool], swap: Callable[[int, int], None], lo: int, hi: int, first: int) -> None:
    root = lo
    while True:
        child = 2 * root + 1
        if child >= hi:
            return
        if child + 1 < hi and less(first + child, first + child + 1):
            child += 1
        if not less(first + root, first + child):
            return
        swap(first + root, first + child)
        root = child


def _heap_sort(less: Callable[[int, int], bool], swap: Callable[[int, int], None], a: int, b: int) -> None:
    first, lo, hi = a, 0, b - a
    for i in range((hi - 1) // 2, -1, -1):
        _sift_down(less, swap, i, hi, first)
    for i in range(hi - 1, -1, -1):
        swap(first, first + i)
        _sift_down(less, swap, lo, i, first)


_UNKNOWN_HINT, _INCREASING_HINT, _DECREASING_HINT = 0, 1, 2
_MASK64 = (1 << 64) - 1


def _pdqsort(less: Callable[[int, int], bool], swap: Callable[[int, int], None], a: int, b: int, limit: int) -> None:
    max_insertion = 12
    was_balanced = was_partitioned = True
    while True:
        length = b - a
        if length <= max_insertion:
            _insertion_sort(less, swap, a, b)
            return
        if limit == 0:  # fall back to heapsort if too many bad choices were made
            _heap_sort(less, swap, a, b)
            return
        if not was_balanced:  # if the last partitioning was imbalanced, break patterns
            _break_patterns(swap, a, b)
            limit -= 1
        pivot, hint = _choose_pivot(less, a, b)
        if hint == _DECREASING_HINT:
            _reverse_range(swap, a, b)
            pivot = (b - 1) - (pivot - a)
            hint = _INCREASING_HINT
        if was_balanced and was_partitioned and hint == _INCREASING_HINT and _partial_insertion_sort(less, swap, a, b):
            return  # the slice is likely already sorted
        if a > 0 and not less(a - 1, pivot):  # many duplicates: elements equal to the pivot, then greater
            a = _partition_equal(less, swap, a, b, pivot)
            continue
        mid, was_partitioned = _partition(less, swap, a, b, pivot)
        left_len, right_len = mid - a, b - mid
        balance_threshold = length // 8
        if left_len < right_len:
            was_balanced = left_len >= balance_threshold
            _pdqsort(less, swap, a, mid, limit)
            a = mid + 1
        else:
            was_balanced = right_len >= balance_threshold
            _pdqsort(less, swap, mid + 1, b, limit)
            b = mid


def _partition(
    less: Callable[[int, int], bool], swap: Callable[[int, int], None], a: int, b: int, pivot: int
) -> tuple[int, bool]:
    swap(a, pivot)
    i, j = a + 1, b - 1
    while i <= j and less(i, a):
        i += 1
    while i <= j and not less(j, a):
        j -= 1
    if i > j:
        swap(j, a)
        return j, True
    swap(i, j)
    i += 1
    j -= 1
    while True:
        while i <= j and less(i, a):
            i += 1
        while i <= j and not less(j, a):
            j -= 1
        if i > j:
            break
        swap(i, j)
        i += 1
        j -= 1
    swap(j, a)
    return j, False


def _partition_equal(less: Callable[[int, int], bool], swap: Callable[[int, int], None], a: int, b: int, pivot: int) -> int:
    swap(a, pivot)
    i, j = a + 1, b - 1
    while True:
        while i <= j and not less(a, i):
            i += 1
        while i <= j and less(a, j):
            j -= 1
        if i > j:
            break
        swap(i, j)
        i += 1
        j -= 1
    return i


def _partial_insertion_sort(less: Callable[[int, int], bool], swap: Callable[[int, int], None], a: int, b: int) -> bool:
    max_steps, shortest_shifting = 5, 50
    i = a + 1
    for _ in range(max_steps):
        while i < b and not less(i, i - 1):
            i += 1
        if i == b:
            return True
        if b - a < shortest_shifting:
            return False
        swap(i, i - 1)
        if i - a >= 2:  # shift the smaller one to the left
            for j in range(i - 1, 0, -1):
                if not less(j, j - 1):
                    break
                swap(j, j - 1)
        if b - i >= 2:  # shift the greater one to the right
            for j in range(i + 1, b):
                if not less(j, j - 1):
                    break
                swap(j, j - 1)
    return False


def _break_patterns(swap: Callable[[int, int], None], a: int, b: int) -> None:
    length = b - a
    if length >= 8:
        random = length  # xorshift, seeded with the length
        modulus = 1 << length.bit_length()  # nextPowerOfTwo
        for idx in range(a + (length // 4) * 2 - 1, a + (length // 4) * 2 + 2):
            random ^= (random << 13) & _MASK64
            random ^= random >> 7
            random ^= (random << 17) & _MASK64
            other = random & (modulus - 1)
            if other >= length:
                other -= length
            swap(idx, a + other)


def _choose_pivot(less: Callable[[int, int], bool], a: int, b: int) -> tuple[int, int]:
    shortest_ninther, max_swaps = 50, 4 * 3
    length = b - a
    swaps = [0]
    i, j, k = a + length // 4 * 1, a + length // 4 * 2, a + length // 4 * 3
    if length >= 8:
        if length >= shortest_ninther:  # Tukey ninther
            i = _median_adjacent(less, i, swaps)
            j = _median_adjacent(less, j, swaps)
            k = _median_adjacent(less, k, swaps)
        j = _median(less, i, j, k, swaps)  # the median of i, j, k, into j
    if swaps[0] == 0:
        return j, _INCREASING_HINT
    if swaps[0] == max_swaps:
        return j, _DECREASING_HINT
    return j, _UNKNOWN_HINT


def _order2(less: Callable[[int, int], bool], a: int, b: int, swaps: list[int]) -> tuple[int, int]:
    if less(b, a):
        swaps[0] += 1
        return b, a
    return a, b


def _median(less: Callable[[int, int], bool], a: int, b: int, c: int, swaps: list[int]) -> int:
    a, b = _order2(less, a, b, swaps)
    b, c = _order2(less, b, c, swaps)
    a, b = _order2(less, a, b, swaps)
    return b


def _median_adjacent(less: Callable[[int, int], bool], a: int, swaps: list[int]) -> int:
    return _median(less, a - 1, a, a + 1, swaps)


def _reverse_range(swap: Callable[[int, int], None], a: int, b: int) -> None:
    i, j = a, b - 1
    while i < j:
        swap(i, j)
        i += 1
        j -= 1


# --- resource.ParseQuantity, for comparing -------------------------------------------------------------------------

_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_NANO = Decimal("1e-9")
_MAX_INT64 = Decimal(2**63 - 1)
_CONTEXT = Context(prec=200)


def parse_quantity(text: str) -> Decimal | None:
    """The value of `resource.ParseQuantity(text)`, or None where it fails (its scanner, as written in Go:
    `m` alone is a quantity, 0)."""
    if not text:
        return None
    if text == "0":
        return Decimal(0)
    pos, end = 0, len(text)
    negative = text[0] == "-"
    if text[0] in "+-":
        pos += 1
    while pos < end and text[pos] == "0":  # strip leading zeros
        pos += 1
    start = pos
    while pos < end and text[pos] in "0123456789":
        pos += 1
    num = text[start:pos] or "0"
    denom = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in "0123456789":
            pos += 1
        denom = text[start:pos]
    suffix_start = pos
    while pos < end and text[pos] in "eEinumkKMGTP":
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in "0123456789":
        pos += 1
    if pos < end:
        return None  # a non-digit where the exponent should go on
    suffix = text[suffix_start:]
    value = Decimal(f"{num}.{denom or '0'}")
    binary = False
    if suffix in _DECIMAL_SUFFIXES:
        value = value.scaleb(_DECIMAL_SUFFIXES[suffix], context=_CONTEXT)
    elif suffix in _BINARY_SUFFIXES:
        value *= Decimal(2) ** _BINARY_SUFFIXES[suffix]
        binary = True
    elif len(suffix) > 1 and suffix[0] in "eE":
        try:
            exponent = int(suffix[1:], 10)
        except ValueError:
            return None
        if not suffix[1:].lstrip("+-").isdigit() or abs(exponent) > 2**31:
            return None
        try:
            value = value.scaleb(exponent, context=_CONTEXT)
        except InvalidOperation:
            return None
    else:
        return None
    try:
        value = value.quantize(_NANO, rounding=ROUND_UP, context=_CONTEXT)  # rounded up to 1n, as Go does
    except InvalidOperation:
        return None
    if binary and value > _MAX_INT64:
        value = _MAX_INT64
    return -value if negative else value


# --- sorter.go ------------------------------------------------------------------------------------------------------

_GO_TYPES = {bool: "bool", dict: "map[string]interface {}", list: "[]interface {}"}


def is_less(i: Any, j: Any) -> bool:
    """kubectl's `isLess` for two JSON values (found in maps and lists: Go's interface case)."""
    if i is None and j is None:
        return False
    if i is None:
        return True
    if j is None:
        return False
    if isinstance(i, bool | dict | list):
        raise UnsortableError(f"unsortable type: {_GO_TYPES[type(i)]}")
    if isinstance(i, int) and isinstance(j, int) and not isinstance(j, bool):
        return i < j
    if isinstance(i, float) and isinstance(j, float):
        return i < j
    if isinstance(i, str) and isinstance(j, str):
        left, right = parse_quantity(i), parse_quantity(j)
        if left is not None and right is not None:
            return left < right
        return i.encode() < j.encode()
    raise UnsortableError("unsortable interface: interface")


def _klog_exit(message: str, line: int) -> NoReturn:
    """klog.Exitf: a fatal line on stderr in klog's header format, exit 1."""
    now = time.time()
    stamp = time.strftime("%m%d %H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1e6):06d}"
    sys.stderr.write(f"F{stamp} {os.getpid():7d} sorter.go:{line}] {message}\n")
    sys.stderr.flush()
    raise SystemExit(1)


def _parser(field: str, *, sorting_error: bool = False) -> JSONPath:
    parser = JSONPath("sorting").allow_missing_keys(True)
    try:
        parser.parse(field)
    except JSONPathError as exc:
        raise SortError(f"sorting error: {exc}" if sorting_error else str(exc)) from None
    return parser


def _first_values(parser: JSONPath, objects: Sequence[Any]) -> list[list[list[Any]]]:
    try:
        return [parser.find_results(obj if obj is not None else {}) for obj in objects]
    except JSONPathError as exc:
        raise SortError(str(exc)) from None


def _sort(found: list[list[list[Any]]], field: str, what: str, line: int) -> list[int]:
    """Sort positions by their found values with kubectl's Less and Go's sort; the original positions."""
    order = list(range(len(found)))

    def less(a: int, b: int) -> bool:
        left, right = found[order[a]], found[order[b]]
        if not left or not left[0]:
            return True
        if not right or not right[0]:
            return False
        try:
            return is_less(left[0][0], right[0][0])
        except UnsortableError as exc:
            _klog_exit(f"Field {field} in {what} is an unsortable type: interface, err: {exc}", line)

    def swap(a: int, b: int) -> None:
        order[a], order[b] = order[b], order[a]

    go_sort(len(order), less, swap)
    return order


def sort_objects(objects: Sequence[Any], field_input: str) -> list[Any]:
    """`SortObjects`: a List's items in `--sort-by` order; SortError as kubectl words it."""
    try:
        field = relaxed_json_path_expression(field_input)
    except CustomColumnsError as exc:
        raise SortError(str(exc)) from None
    parser = _parser(field)
    found = _first_values(parser, objects)
    if not any(values and values[0] for values in found):
        raise SortError(f"couldn't find any field with path {quote(field)} in the list of objects")
    return [objects[index] for index in _sort(found, field, "*unstructured.Unstructured", 329)]


def sort_table_rows(rows: Sequence[Any], sort_field: str) -> list[Any]:
    """`SortingPrinter` on a Table: its rows in `--sort-by` order, by each row's object."""
    try:
        field = relaxed_json_path_expression(sort_field)
    except CustomColumnsError:
        field = sort_field
    parser = _parser(field, sorting_error=True)
    found = _first_values(parser, [row.get("object") for row in rows])
    if rows and not any(values and values[0] for values in found):
        raise SortError(f"couldn't find any field with path {quote(field)} in the list of objects")
    return [rows[index] for index in _sort(found, field, "[][][]reflect.Value", 375)]
