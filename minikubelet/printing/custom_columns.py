"""`kubectl get -o custom-columns=...|custom-columns-file=...`: kubectl's `pkg/cmd/get/customcolumn.go`.

Each column is `HEADER:JSONPATH`; the header is printed as written (kubectl does not upper-case it), a
column without a value is `<none>`, several values are joined with `,`, and each value is Go's
`fmt.Sprint` of it (`map[app:web]`, `[a b]`), escaped for the terminal. Lines go through kubectl's
tabwriter (minwidth 6, tabwidth 4, padding 3). The same function names as kubectl's, to read side by side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from minikubelet.printing.gofmt import sprint
from minikubelet.printing.jsonpath import JSONPath
from minikubelet.printing.render import escape_terminal

__all__ = [
    "Column",
    "CustomColumnsError",
    "CustomColumnsPrinter",
    "new_custom_columns_printer_from_spec",
    "new_custom_columns_printer_from_template",
    "relaxed_json_path_expression",
]

_JSON_REGEXP = re.compile(r"^\{\.?([^{}]+)\}\Z|^\.?([^{}]+)\Z")
_TEMPLATE_FORMAT = "Expected format is one line of space separated headers, one line of space separated column specs."


class CustomColumnsError(Exception):
    """A bad column spec or template, with kubectl's message."""


def relaxed_json_path_expression(path_expression: str) -> str:
    """`metadata.name`, `.metadata.name`, `{metadata.name}` and `{.metadata.name}` all become `{.metadata.name}`."""
    if not path_expression:
        return path_expression
    match = _JSON_REGEXP.match(path_expression)
    if match is None:
        raise CustomColumnsError(
            "unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'"
        )
    return "{." + (match.group(1) or match.group(2)) + "}"


@dataclass(frozen=True)
class Column:
    header: str
    field_spec: str  # the JSONPath, e.g. {.metadata.name}


def new_custom_columns_printer_from_spec(spec: str, *, no_headers: bool) -> CustomColumnsPrinter:
    """From `NAME:.metadata.name,IMAGE:.spec.containers[0].image`."""
    if not spec:
        raise CustomColumnsError("custom-columns format specified but no custom columns given")
    columns = []
    for part in spec.split(","):
        header, colon, path = part.partition(":")
        if not colon:
            raise CustomColumnsError(f"unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>")
        columns.append(Column(header, relaxed_json_path_expression(path)))
    return CustomColumnsPrinter(columns, no_headers=no_headers)


def new_custom_columns_printer_from_template(text: str) -> CustomColumnsPrinter:
    """From a file of two lines, whitespace separated: the headers, then the JSONPaths."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if text.endswith("\n"):
        lines.pop()  # bufio.Scanner: no empty last line after a final newline
    if not lines:
        raise CustomColumnsError(f"invalid template, missing header line. {_TEMPLATE_FORMAT}")
    headers = lines[0].split()
    if len(lines) < 2:
        raise CustomColumnsError(f"invalid template, missing spec line. {_TEMPLATE_FORMAT}")
    specs = lines[1].split()
    if len(headers) != len(specs):
        raise CustomColumnsError(f"number of headers ({len(headers)}) and field specifications ({len(specs)}) don't match")
    return CustomColumnsPrinter([Column(h, relaxed_json_path_expression(s)) for h, s in zip(headers, specs, strict=True)])


@dataclass
class CustomColumnsPrinter:
    columns: list[Column]
    no_headers: bool = False
    # The type printed last (a List, an object, a watch event): the header is printed once per type.
    last_type: str = field(default="", init=False)

    def print_obj(self, obj: Any, kind: str) -> str:
        """The lines for `obj` (tab-separated, for the tabwriter); `kind` is `list`, `object` or `event`.
        A List prints one line per item. A JSONPath that does not parse raises JSONPathError."""
        text = ""
        if not self.no_headers and kind != self.last_type:
            text += "\t".join(column.header for column in self.columns) + "\n"
            self.last_type = kind
        parsers = []
        for index, column in enumerate(self.columns):
            parser = JSONPath(f"column{index}").allow_missing_keys(True)
            parser.parse(column.field_spec)
            parsers.append(parser)
        items = (obj.get("items") or []) if kind == "list" else [obj]
        for item in items:
            text += self.print_one_object(item, parsers)
        return text

    def print_one_object(self, obj: Any, parsers: list[JSONPath]) -> str:
        cells = []
        for parser in parsers:
            values = parser.find_results(obj)
            strings = ["<none>"] if not values or not values[0] else []
            strings.extend(escape_terminal(sprint(value)) for found in values for value in found)
            cells.append(",".join(strings))
        return "\t".join(cells) + "\n"
