"""Client-side rendering of a server Table, as kubectl 1.37's table printer lays it out.

This is cli-runtime's `tableprinter.go` (`decorateTable` + `printTable`) on top of the tabwriter kubectl
uses for `get` (liggitt/tabwriter: minwidth 6, tabwidth 4, padding 3, padchar ' ', RememberWidths):
upper-cased headers, priority-1 columns only with `-o wide`, a NAMESPACE column first for `-A`, `-L`
label columns and a LABELS column last, and nothing at all for an empty table (kubectl then prints `No
resources found in default namespace.` on stderr, which is the caller's business). `render_name` is the
`-o name` printer.

Since 1.37 printTable flushes the tabwriter every 100 rows, and to keep the columns aligned across
flushes it first pads every header but the last visible one (or, with `--no-headers`, the first row's
cells) with spaces up to the longest cell of its column, measured in bytes of the raw cell text (before a
cell is cut at a line break or escaped). For ASCII cells without line breaks the result is what 1.32
printed; a column holding multi-byte or cut cells comes out wider.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from minikubelet.printing.tabwriter import REMEMBER_WIDTHS, TabWriter

__all__ = [
    "RememberingTabWriter",
    "escape_terminal",
    "format_cell",
    "format_labels",
    "render_name",
    "render_table",
    "table_chunks",
]


def escape_terminal(text: str) -> str:
    """cli-runtime `WriteEscaped`: neutralise ESC and CR so a cell cannot drive the terminal."""
    return text.replace("\x1b", "^[").replace("\r", "\\r")


def format_labels(labels: Mapping[str, str] | None) -> str:
    """apimachinery `labels.FormatLabels`: `k=v,k2=v2` sorted by key, `<none>` when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


_FLUSH_INTERVAL = 100  # printTable's flushInterval


def _cell_text(cell: Any) -> str:
    """A cell's text before printTable cuts or escapes it: the string itself, Go `%v` of anything else."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return cell
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def format_cell(cell: Any) -> str:
    """One cell as printTable writes it (appendCellValue): cut at the first line break (plus `...`), with
    ESC and CR escaped."""
    text = _cell_text(cell)
    cut = min((i for i in (text.find(c) for c in "\f\n\r") if i >= 0), default=-1)
    return escape_terminal(text) if cut < 0 else escape_terminal(text[:cut]) + "..."


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


def _max_cell_widths(columns: Sequence[Mapping[str, Any]], rows: Sequence[Sequence[Any]], wide: bool) -> list[int]:
    """printTable's pre-scan: per column, the longest raw cell in bytes (hidden columns and nil cells aside)."""
    widths = [0] * len(columns)
    for cells in rows:
        for index, cell in enumerate(cells[: len(columns)]):
            if cell is not None and _visible(columns[index], wide):
                widths[index] = max(widths[index], len(_cell_text(cell).encode()))
    return widths


def _padding(width: int, used: int) -> str:
    return " " * max(width - used, 0)


def _header_line(columns: Sequence[Mapping[str, Any]], wide: bool, widths: Sequence[int], last: int) -> str:
    names = []
    for index, column in enumerate(columns):
        if _visible(column, wide):
            name = str(column.get("name", "")).upper()
            names.append(name if index == last else name + _padding(widths[index], len(name.encode())))
    return "\t".join(names) + "\n"


def _row_line(
    columns: Sequence[Mapping[str, Any]], cells: Sequence[Any], wide: bool, widths: Sequence[int] | None, last: int
) -> str:
    """A row; `widths` pads its cells (but the last visible one) as printTable pads the first row under
    `--no-headers`."""
    shown = []
    for index, (column, cell) in enumerate(zip(columns, cells, strict=False)):
        if not _visible(column, wide):
            continue
        text = format_cell(cell)
        if widths is not None and index != last:
            text += _padding(widths[index], len(_cell_text(cell).encode()))
        shown.append(text)
    return "\t".join(shown) + "\n"


# printers.formatEventType: the EVENT cell of `--output-watch-events`, padded to the longest type.
_EVENT_TYPES = {"ADDED": "ADDED   ", "MODIFIED": "MODIFIED", "DELETED": "DELETED ", "ERROR": "ERROR   "}


def table_chunks(
    table: Mapping[str, Any],
    *,
    wide: bool = False,
    no_headers: bool = False,
    show_labels: bool = False,
    with_namespace: bool = False,
    label_columns: Sequence[str] = (),
    event_type: str = "",
) -> list[str]:
    """printTable's output as tab-separated lines, in the chunks it flushes its tabwriter after (every 100 rows):
    write each into one remembering tabwriter and flush it (`render_table`, or `get -w` whose writer outlives one
    table). `event_type` (`ADDED`...) adds kubectl's EVENT column first, as `--output-watch-events` does."""
    rows = list(table.get("rows") or [])
    if not rows:
        return []
    base_columns = list(table.get("columnDefinitions") or [])
    columns = _decorate_columns(base_columns, with_namespace=with_namespace, label_columns=label_columns, show_labels=show_labels)
    event: list[Any] = [_EVENT_TYPES.get(event_type, event_type)] if event_type else []
    if event_type:
        columns = [{"name": "Event", "priority": 0}, *columns]
    all_cells = []
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
        all_cells.append(event + cells)
    widths = _max_cell_widths(columns, all_cells, wide)
    last = max((index for index, column in enumerate(columns) if _visible(column, wide)), default=-1)
    chunks = []
    text = "" if no_headers else _header_line(columns, wide, widths, last)
    for index, cells in enumerate(all_cells):
        text += _row_line(columns, cells, wide, widths if no_headers and index == 0 else None, last)
        if (index + 1) % _FLUSH_INTERVAL == 0:
            chunks.append(text)
            text = ""
    if text:
        chunks.append(text)
    return chunks


class RememberingTabWriter(TabWriter):
    """kubectl's tabwriter for `get` (github.com/liggitt/tabwriter with RememberWidths, minwidth 6, tabwidth 4,
    padding 3): a column never gets narrower than it was in an earlier block or flush, so the rows `get -w`
    prints one event at a time stay aligned with the table above them."""

    def __init__(self) -> None:
        super().__init__(6, 4, 3, " ", REMEMBER_WIDTHS)

    def write_chunks(self, chunks: Sequence[str]) -> None:
        for chunk in chunks:
            self.write(chunk)
            self.flush()

    def take(self) -> str:
        """Flush, and return (and forget) what was output so far."""
        self.flush()
        text = self.getvalue()
        self._out.clear()
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
    writer = RememberingTabWriter()
    writer.write_chunks(
        table_chunks(
            table,
            wide=wide,
            no_headers=no_headers,
            show_labels=show_labels,
            with_namespace=with_namespace,
            label_columns=label_columns,
            event_type=event_type,
        )
    )
    return writer.take()


def _name_of(item: Any) -> str:
    if isinstance(item, str):
        return item
    metadata = _row_metadata(item) if "cells" in item else item.get("metadata")
    return str((metadata or {}).get("name", ""))


def render_name(objects_or_rows: Iterable[Any], resource: str) -> str:
    """`kubectl get -o name`: one `<resource>/<name>` line per object, Table row or bare name."""
    return "".join(f"{resource}/{_name_of(item)}\n" for item in objects_or_rows)
