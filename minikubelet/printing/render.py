"""Client-side rendering of a server Table, as kubectl's table printer lays it out.

This is cli-runtime's `tableprinter.go` (`decorateTable` + `printTable`) on top of the tabwriter kubectl
uses for `get` (minwidth 6, tabwidth 4, padding 3, padchar ' '): upper-cased headers, priority-1
columns only with `-o wide`, a NAMESPACE column first for `-A`, `-L` label columns and a LABELS column
last, and nothing at all for an empty table (kubectl then prints `No resources found in default
namespace.` on stderr, which is the caller's business). `render_name` is the `-o name` printer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from minikubelet.printing.tabwriter import TabWriter, tabwrite

__all__ = [
    "RememberingTabWriter",
    "escape_terminal",
    "format_cell",
    "format_labels",
    "render_name",
    "render_table",
    "table_text",
]


def escape_terminal(text: str) -> str:
    """cli-runtime `WriteEscaped`: neutralise ESC and CR so a cell cannot drive the terminal."""
    return text.replace("\x1b", "^[").replace("\r", "\\r")


def format_labels(labels: Mapping[str, str] | None) -> str:
    """apimachinery `labels.FormatLabels`: `k=v,k2=v2` sorted by key, `<none>` when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


def format_cell(cell: Any) -> str:
    """One cell as printTable writes it: strings cut at the first line break (plus `...`), Go `%v` else."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        cut = min((i for i in (cell.find(c) for c in "\f\n\r") if i >= 0), default=-1)
        return escape_terminal(cell) if cut < 0 else escape_terminal(cell[:cut]) + "..."
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return escape_terminal(str(cell))


def _label_header(key: str) -> str:
    return key.split("/")[-1]


def _row_metadata(row: Mapping[str, Any]) -> Mapping[str, Any] | None:
    obj = row.get("object")
    if not isinstance(obj, Mapping) or not isinstance(obj.get("metadata"), Mapping):
        return None
    metadata: Mapping[str, Any] = obj["metadata"]
    return metadata


def _decorate_columns(
    columns: Sequence[Mapping[str, Any]], *, with_namespace: bool, label_columns: Sequence[str], show_labels: bool
) -> list[Mapping[str, Any]]:
    decorated: list[Mapping[str, Any]] = [{"name": "Namespace", "priority": 0}] if with_namespace else []
    decorated.extend(columns)
    decorated.extend({"name": _label_header(key), "priority": 0} for key in label_columns)
    if show_labels:
        decorated.append({"name": "Labels", "priority": 0})
    return decorated


def _decorate_cells(
    row: Mapping[str, Any], width: int, *, with_namespace: bool, label_columns: Sequence[str], show_labels: bool
) -> list[Any]:
    cells = list(row.get("cells") or [])
    metadata = _row_metadata(row)
    if metadata is None:
        # decorateTable's fallback when the row carries no object: a nil namespace cell, then nil padding
        # (its loop compares a growing length with a growing index, so it adds only half of what is missing).
        if with_namespace:
            cells.insert(0, None)
        missing, added = width - len(cells), 0
        while added < missing - added:
            cells.append(None)
            added += 1
        return cells
    if with_namespace:
        cells.insert(0, metadata.get("namespace", ""))
    labels = metadata.get("labels") or {}
    cells.extend(labels.get(key, "") for key in label_columns)
    if show_labels:
        cells.append(format_labels(labels))
    return cells


def _visible(column: Mapping[str, Any], wide: bool) -> bool:
    return wide or not column.get("priority")


def _header_line(columns: Sequence[Mapping[str, Any]], wide: bool) -> str:
    return "\t".join(str(c.get("name", "")).upper() for c in columns if _visible(c, wide)) + "\n"


def _row_line(columns: Sequence[Mapping[str, Any]], cells: Sequence[Any], wide: bool) -> str:
    shown = [format_cell(cell) for column, cell in zip(columns, cells, strict=False) if _visible(column, wide)]
    return "\t".join(shown) + "\n"


# printers.formatEventType: the EVENT cell of `--output-watch-events`, padded to the longest type.
_EVENT_TYPES = {"ADDED": "ADDED   ", "MODIFIED": "MODIFIED", "DELETED": "DELETED ", "ERROR": "ERROR   "}


def table_text(
    table: Mapping[str, Any],
    *,
    wide: bool = False,
    no_headers: bool = False,
    show_labels: bool = False,
    with_namespace: bool = False,
    label_columns: Sequence[str] = (),
    event_type: str = "",
) -> str:
    """The tab-separated lines `render_table` aligns (for a tabwriter that outlives one table: `-w`).
    `event_type` (`ADDED`...) adds kubectl's EVENT column first, as `--output-watch-events` does."""
    rows = list(table.get("rows") or [])
    if not rows:
        return ""
    base_columns = list(table.get("columnDefinitions") or [])
    columns = _decorate_columns(base_columns, with_namespace=with_namespace, label_columns=label_columns, show_labels=show_labels)
    event: list[Any] = [_EVENT_TYPES.get(event_type, event_type)] if event_type else []
    if event_type:
        columns = [{"name": "Event", "priority": 0}, *columns]
    text = "" if no_headers else _header_line(columns, wide)
    for row in rows:
        cells = list(row.get("cells") or [])
        if len(columns) != len(base_columns) + len(event):
            cells = _decorate_cells(
                row,
                len(columns) - len(event),
                with_namespace=with_namespace,
                label_columns=label_columns,
                show_labels=show_labels,
            )
        text += _row_line(columns, event + cells, wide)
    return text


def render_table(
    table: Mapping[str, Any],
    *,
    wide: bool = False,
    no_headers: bool = False,
    show_labels: bool = False,
    with_namespace: bool = False,
    label_columns: Sequence[str] = (),
    event_type: str = "",
) -> str:
    """What `kubectl get` prints for a server Table (`-o wide`, `--no-headers`, `--show-labels`, `-A`, `-L`)."""
    text = table_text(
        table,
        wide=wide,
        no_headers=no_headers,
        show_labels=show_labels,
        with_namespace=with_namespace,
        label_columns=label_columns,
        event_type=event_type,
    )
    return tabwrite(text, minwidth=6, tabwidth=4, padding=3) if text else ""


class RememberingTabWriter(TabWriter):
    """kubectl's tabwriter (github.com/liggitt/tabwriter, flag RememberWidths): a column never gets
    narrower than it was in an earlier block or an earlier flush, so the rows `get -w` prints one event
    at a time stay aligned with the table above them. minwidth 6, tabwidth 4, padding 3."""

    def __init__(self) -> None:
        super().__init__(6, 4, 3)
        self._maxwidths: list[int] = []

    def _measure_block(self, column: int, start: int, line1: int) -> tuple[int, int]:
        width, end = super()._measure_block(column, start, line1)
        widths = self._widths
        if len(self._maxwidths) < len(widths):
            self._maxwidths.extend(widths[len(self._maxwidths) :])
        if len(self._maxwidths) == len(widths):
            self._maxwidths.append(width)
        elif self._maxwidths[len(widths)] > width:
            width = self._maxwidths[len(widths)]
        elif self._maxwidths[len(widths)] < width:
            self._maxwidths[len(widths)] = width
        return width, end

    def take(self) -> str:
        """Flush, and return (and forget) what was output so far."""
        self.flush()
        text = self.getvalue()
        self._out.clear()
        return text


def _name_of(item: Any) -> str:
    if isinstance(item, str):
        return item
    metadata = _row_metadata(item) if "cells" in item else item.get("metadata")
    return str((metadata or {}).get("name", ""))


def render_name(objects_or_rows: Iterable[Any], resource: str) -> str:
    """`kubectl get -o name`: one `<resource>/<name>` line per object, Table row or bare name."""
    return "".join(f"{resource}/{_name_of(item)}\n" for item in objects_or_rows)
