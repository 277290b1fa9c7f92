"""`-o custom-columns` (customcolumn.go) and `--sort-by` (sorter.go, with Go's sort.Sort), as kubectl prints them."""

from __future__ import annotations

from typing import Any

import pytest

from minikubelet.printing.custom_columns import (
    CustomColumnsError,
    new_custom_columns_printer_from_spec,
    new_custom_columns_printer_from_template,
    relaxed_json_path_expression,
)
from minikubelet.printing.sorting import SortError, go_sort, is_less, parse_quantity, sort_objects, sort_table_rows
from minikubelet.printing.tabwriter import tabwrite


def pod(name: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "Pod", "metadata": {"name": name, **extra.pop("metadata", {})}, **extra}


def listing(*items: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "items": list(items), "kind": "List", "metadata": {"resourceVersion": ""}}


@pytest.mark.parametrize("path", ["metadata.name", ".metadata.name", "{metadata.name}", "{.metadata.name}"])
def test_relaxed_json_path_expression(path: str) -> None:
    assert relaxed_json_path_expression(path) == "{.metadata.name}"


def test_custom_columns_as_kubectl_prints_them() -> None:
    printer = new_custom_columns_printer_from_spec(
        "NAME:.metadata.name,lbl:.metadata.labels,CPU:.spec.containers[*].resources.requests.cpu,X:.nope", no_headers=False
    )
    web = pod(
        "web",
        metadata={"labels": {"app": "web", "tier": "front"}},
        spec={"containers": [{"resources": {"requests": {"cpu": "100m"}}}, {"resources": {"requests": {"cpu": "1"}}}]},
    )
    text = tabwrite(printer.print_obj(listing(pod("cache"), web), "list"), minwidth=6, tabwidth=4, padding=3)
    assert text == (
        "NAME    lbl                       CPU      X\n"
        "cache   <none>                    <none>   <none>\n"
        "web     map[app:web tier:front]   100m,1   <none>\n"
    )


def test_custom_columns_header_once_per_kind_and_no_headers() -> None:
    printer = new_custom_columns_printer_from_spec("N:.metadata.name,T:.type", no_headers=False)
    assert printer.print_obj(pod("a"), "object") == "N\tT\na\t<none>\n"
    assert printer.print_obj(pod("b"), "object") == "b\t<none>\n"
    assert printer.print_obj({"type": "ADDED", "object": pod("c")}, "event") == "N\tT\n<none>\tADDED\n"
    quiet = new_custom_columns_printer_from_spec("N:.metadata.name", no_headers=True)
    assert quiet.print_obj(pod("a"), "object") == "a\n"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "custom-columns format specified but no custom columns given"),
        ("A", "unexpected custom-columns spec: A, expected <header>:<json-path-expr>"),
        (
            "A:{.metadata.name",
            "unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'",
        ),
    ],
)
def test_custom_columns_errors(spec: str, message: str) -> None:
    with pytest.raises(CustomColumnsError) as error:
        new_custom_columns_printer_from_spec(spec, no_headers=False)
    assert str(error.value) == message


def test_custom_columns_from_a_template() -> None:
    printer = new_custom_columns_printer_from_template("NAME   NODE\n{metadata.name}   {.spec.nodeName}\n")
    assert printer.print_obj(pod("a", spec={"nodeName": "vm"}), "object") == "NAME\tNODE\na\tvm\n"
    with pytest.raises(CustomColumnsError, match=r"^number of headers \(2\) and field specifications \(1\) don't match$"):
        new_custom_columns_printer_from_template("A B\n.x\n")
    with pytest.raises(CustomColumnsError, match=r"^invalid template, missing spec line"):
        new_custom_columns_printer_from_template("A B\n")


# --- sorting -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "less"),
    [
        (1, 2, True),
        (10, 9, False),
        ("100m", "1", True),  # quantities: 0.1 < 1
        ("2Gi", "64Mi", False),
        ("10", "9", False),  # both quantities: by value, not by text
        ("b", "a", False),
        ("web", "2", False),  # not both quantities: by text
        ("2024-01-01T00:00:02Z", "2024-01-01T00:00:10Z", True),
        (None, "a", True),
        ("a", None, False),
        (None, None, False),
    ],
)
def test_is_less(left: Any, right: Any, less: bool) -> None:
    assert is_less(left, right) is less


@pytest.mark.parametrize(
    ("text", "value"), [("100m", "0.1"), ("1Ki", "1024"), ("1e3", "1000"), ("m", "0"), ("echo", None), ("", None)]
)
def test_parse_quantity_as_go_scans_it(text: str, value: str | None) -> None:
    parsed = parse_quantity(text)
    assert (None if parsed is None else parsed.normalize()) == (None if value is None else type(parsed)(value).normalize())  # type: ignore[misc]


def test_go_sort_orders_ties_and_missing_values_as_go_does() -> None:
    """Go's insertion sort (12 elements or fewer) with kubectl's Less: a missing value is "less" than another
    missing one, so two missing values swap, and equal values keep their order."""
    objects = [pod("x1"), pod("b", spec={"p": 2}), pod("x2"), pod("a", spec={"p": 1}), pod("c", spec={"p": 1})]
    names = [o["metadata"]["name"] for o in sort_objects(objects, ".spec.p")]
    assert names == ["x2", "x1", "a", "c", "b"]


def test_go_sort_is_pdqsort_for_longer_input() -> None:
    values = [(i * 7919) % 101 for i in range(100)]
    order = list(range(len(values)))
    go_sort(
        len(order),
        lambda a, b: values[order[a]] < values[order[b]],
        lambda a, b: order.__setitem__(slice(None), _swapped(order, a, b)),
    )
    assert [values[i] for i in order] == sorted(values)


def _swapped(order: list[int], a: int, b: int) -> list[int]:
    order = list(order)
    order[a], order[b] = order[b], order[a]
    return order


def test_sort_errors_are_kubectls() -> None:
    with pytest.raises(SortError, match=r'^couldn\'t find any field with path "\{\.nope\}" in the list of objects$'):
        sort_objects([pod("a")], ".nope")
    with pytest.raises(SortError, match=r"^sorting error: unclosed action$"):
        sort_table_rows([{"object": pod("a")}, {"object": pod("b")}], "{.metadata.name")


def test_unsortable_values_exit_as_klog_does(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        sort_objects([pod("a", metadata={"labels": {"x": "1"}}), pod("b", metadata={"labels": {}})], ".metadata.labels")
    assert exit_.value.code == 1
    assert capsys.readouterr().err.endswith(
        "sorter.go:329] Field {.metadata.labels} in *unstructured.Unstructured is an unsortable type: interface, "
        "err: unsortable type: map[string]interface {}\n"
    )


def test_table_rows_sort_by_their_objects() -> None:
    rows = [
        {"cells": [n], "object": pod(n, status={"startTime": t})}
        for n, t in (("zz", "2024-01-01T00:00:01Z"), ("aa", "2024-01-01T00:00:00Z"))
    ]
    assert [r["cells"][0] for r in sort_table_rows(rows, ".status.startTime")] == ["aa", "zz"]
