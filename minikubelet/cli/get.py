"""`minikubelet get`: kubectl's get for pods, events, nodes and namespaces.

The table output comes from server-side tables (kubectl's human-readable printer); every other output
from the objects, printed as kubectl's `printGeneric` does: a single named object as itself, anything else
as a `List` (`{"apiVersion":"v1","items":[...],"kind":"List","metadata":{"resourceVersion":""}}`).
`-o` takes what kubectl 1.37 takes but the Go templates (go-template, template and their files) and
kyaml: wide, json, yaml, name, jsonpath=, jsonpath-file=, jsonpath-as-json=, custom-columns=,
custom-columns-file=. The printers beyond the table and -o name are imported only when their -o is used:
a CLI command is a fresh interpreter, and `get pods` is what people run most.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer

from minikubelet.cli.common import SINGULAR, Target, connect, eprint, format_status_error, parse_targets
from minikubelet.client import ApiClient, resource_path
from minikubelet.errors import StatusError
from minikubelet.printing.render import render_table

if TYPE_CHECKING:
    from minikubelet.printing.render import RememberingTabWriter

OutputOption = Annotated[
    str,
    typer.Option(
        "--output",
        "-o",
        help="json, yaml, name, wide, jsonpath=..., jsonpath-file=..., jsonpath-as-json=..., custom-columns=..., "
        "custom-columns-file=...",
    ),
]
NamespaceOption = Annotated[str, typer.Option("--namespace", "-n", help="The namespace (default: default).")]
SelectorOption = Annotated[str, typer.Option("--selector", "-l", help="Label selector, e.g. app=echo,tier!=db.")]

# kubectl's list, in its error for an -o it does not know.
ALLOWED_FORMATS = (
    "custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,"
    "jsonpath-file,kyaml,name,template,templatefile,wide,yaml"
)
JSONPATH_FORMATS = ("jsonpath", "jsonpath-file", "jsonpath-as-json")
GO_TEMPLATE_FORMATS = ("go-template", "go-template-file", "template", "templatefile")
CUSTOM_COLUMNS_FORMATS = ("custom-columns", "custom-columns-file")
EMPTY_LIST_META = {"resourceVersion": ""}


class GetError(Exception):
    """An error kubectl prints as `error: ...` (exit 1)."""


def get_command(
    args: Annotated[list[str], typer.Argument(help="TYPE [NAME...] or TYPE/NAME...")],
    output: OutputOption = "",
    namespace: NamespaceOption = "default",
    selector: SelectorOption = "",
    field_selector: Annotated[str, typer.Option("--field-selector", help="e.g. status.phase=Running")] = "",
    all_namespaces: Annotated[bool, typer.Option("--all-namespaces", "-A", help="List across namespaces.")] = False,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="After listing, watch for changes.")] = False,
    watch_only: Annotated[bool, typer.Option("--watch-only", help="Watch for changes, without listing first.")] = False,
    output_watch_events: Annotated[
        bool, typer.Option("--output-watch-events", help="With -w: print each change as an event (ADDED, MODIFIED...).")
    ] = False,
    show_labels: Annotated[bool, typer.Option("--show-labels", help="Show labels as the last column.")] = False,
    label_columns: Annotated[
        list[str] | None,
        typer.Option("--label-columns", "-L", help="Labels to show as columns (comma-separated, repeatable)."),
    ] = None,
    sort_by: Annotated[str, typer.Option("--sort-by", help="Sort by a JSONPath, e.g. .metadata.name.")] = "",
    no_headers: Annotated[bool, typer.Option("--no-headers", help="Print no header line.")] = False,
    show_managed_fields: Annotated[
        bool, typer.Option("--show-managed-fields", help="Keep metadata.managedFields in -o json/yaml.")
    ] = False,
    template: Annotated[str, typer.Option("--template", help="The template for -o jsonpath|jsonpath-file.")] = "",
    allow_missing_template_keys: Annotated[
        bool,
        typer.Option(
            "--allow-missing-template-keys/--no-allow-missing-template-keys",
            help="Print nothing for a missing field in a -o jsonpath template, rather than fail.",
        ),
    ] = True,
) -> None:
    """Display one or many resources (pods, events, nodes, namespaces)."""
    if sort_by and watch:
        eprint("warning: --watch requested, --sort-by will be ignored for watch events received")
    elif sort_by and watch_only:
        eprint("warning: --watch-only requested, --sort-by will be ignored")
    targets = parse_targets(args)
    labels = [label for value in label_columns or [] for label in value.split(",") if label]
    options = Options(
        output=output,
        template=template,
        allow_missing_keys=allow_missing_template_keys,
        namespace=namespace,
        all_namespaces=all_namespaces,
        show_labels=show_labels,
        label_columns=labels,
        sort_by=sort_by,
        no_headers=no_headers,
        show_managed_fields=show_managed_fields,
        output_watch_events=output_watch_events,
    )
    try:
        _validate(options, watching=watch or watch_only)
        with connect() as client:
            params = {k: v for k, v in (("labelSelector", selector), ("fieldSelector", field_selector)) if v}
            if watch or watch_only:
                _watch(client, targets[0], options, params, watch_only=watch_only)
            elif options.human:
                _get_tables(client, targets, options, params)
            else:
                _get_objects(client, targets, options, params)
    except GetError as exc:
        eprint(f"error: {exc}")
        raise typer.Exit(1) from None


@dataclass
class Options:
    output: str
    template: str
    allow_missing_keys: bool
    namespace: str
    all_namespaces: bool
    show_labels: bool
    label_columns: list[str]
    sort_by: str
    no_headers: bool
    show_managed_fields: bool
    output_watch_events: bool
    failed: bool = False

    @property
    def human(self) -> bool:
        """kubectl's IsHumanReadablePrinter: the table printers (server-side tables)."""
        return (not self.output and not self.template) or self.output == "wide"

    def namespace_for(self, target: Target) -> str | None:
        return None if self.all_namespaces and not target.name else self.namespace


def _validate(options: Options, *, watching: bool) -> None:
    """kubectl's GetOptions.Validate."""
    if options.show_labels and options.output not in ("", "wide"):
        raise GetError(f"--show-labels option cannot be used with {options.output} printer")
    if options.label_columns and options.output.startswith("custom-columns"):
        raise GetError(f"--label-columns option cannot be used with {options.output} printer")
    if options.output_watch_events and not watching:
        raise GetError("--output-watch-events option can only be used with --watch or --watch-only")


# --- tables ---------------------------------------------------------------------------------------------------------


def _get_tables(client: ApiClient, targets: list[Target], options: Options, params: dict[str, str]) -> None:
    """kubectl's Run for the table printers: one server Table per target, sorted, printed, then errors."""
    tables: list[dict[str, Any]] = []
    query = {**params, "includeObject": "Object"} if options.sort_by else params
    for target in targets:
        try:
            path = resource_path(target.resource, options.namespace_for(target), target.name)
            tables.append(client.get(path, params=query, table=True))
        except StatusError as exc:
            eprint(format_status_error(exc))
            options.failed = True
    if options.sort_by and len(tables) > 1:
        # kubectl's RuntimeSorter sorts several server Tables as objects (they have no .metadata.name...).
        from minikubelet.printing.sorting import SortError, sort_objects

        try:
            tables = sort_objects(tables, options.sort_by)
        except SortError as exc:
            raise GetError(str(exc)) from None
    merged = dict(tables[0]) if tables else {"rows": []}
    merged["rows"] = [row for table in tables for row in _sorted_rows(table, options)]
    text = _render(merged, options)
    if text:
        typer.echo(text, nl=False)
    elif not options.failed:
        target = targets[0]
        cluster_wide = options.all_namespaces or target.resource in ("nodes", "namespaces")
        where = "" if cluster_wide else f" in {options.namespace} namespace"
        eprint(f"No resources found{where}.")
    if options.failed:
        raise typer.Exit(1)


def _sorted_rows(table: dict[str, Any], options: Options) -> list[Any]:
    """kubectl's SortingPrinter on one Table: a sort that fails prints nothing of that table."""
    rows = list(table.get("rows") or [])
    if not options.sort_by or len(rows) < 2:
        return rows
    from minikubelet.printing.sorting import SortError, sort_table_rows

    try:
        return sort_table_rows(rows, options.sort_by)
    except SortError:
        return []  # kubectl drops the printer's error: the table is not printed, and nothing says why


def _render(table: dict[str, Any], options: Options, *, no_headers: bool | None = None, event_type: str = "") -> str:
    return render_table(
        table,
        wide=options.output == "wide",
        no_headers=options.no_headers if no_headers is None else no_headers,
        show_labels=options.show_labels,
        with_namespace=options.all_namespaces,
        label_columns=options.label_columns,
        event_type=event_type,
    )


# --- objects (printGeneric) -----------------------------------------------------------------------------------------


def _get_objects(client: ApiClient, targets: list[Target], options: Options, params: dict[str, str]) -> None:
    """kubectl's printGeneric: one named object as itself, anything else as a List of the items."""
    single = len(targets) == 1 and bool(targets[0].name)
    objects: list[dict[str, Any]] = []
    for target in targets:
        path = resource_path(target.resource, options.namespace_for(target), target.name)
        try:
            answer = client.get(path, params=params)
        except StatusError as exc:
            eprint(format_status_error(exc))
            if single:
                raise typer.Exit(1) from None
            options.failed = True
            continue
        objects.extend(answer.get("items", []) if answer.get("kind", "").endswith("List") else [answer])
    printer = _printer(options, resource=targets[0].resource)
    if single and len(objects) == 1:
        document, kind = objects[0], "object"
    else:
        if options.sort_by and objects:
            from minikubelet.printing.sorting import SortError, sort_objects

            try:
                objects = sort_objects(objects, options.sort_by)
            except SortError as exc:
                raise GetError(str(exc)) from None
        document, kind = {"apiVersion": "v1", "items": objects, "kind": "List", "metadata": dict(EMPTY_LIST_META)}, "list"
    sys.stdout.write(printer.print(document, kind))
    sys.stdout.flush()
    if options.failed:
        raise typer.Exit(1)


@dataclass
class Printer:
    """One of kubectl's ResourcePrinters for objects: `print(obj, kind)` with kind `list`, `object` or `event`
    (an event is `{"type": ..., "object": ...}`)."""

    print_obj: Callable[[Any, str], str]
    tabular: bool = False  # custom-columns: its lines go through a tabwriter
    count: list[int] = field(default_factory=lambda: [0])

    def print(self, obj: Any, kind: str) -> str:
        text = self.print_obj(obj, kind)
        if self.tabular:
            from minikubelet.printing.tabwriter import tabwrite

            return tabwrite(text, minwidth=6, tabwidth=4, padding=3)
        return text


def _printer(options: Options, *, resource: str) -> Printer:
    """kubectl's PrintFlags.ToPrinter for everything but the tables, in its order of trying."""
    output, template = options.output, options.template
    if template and not output:
        output = "go-template"
    name, _, value = output.partition("=")
    if not template and name in JSONPATH_FORMATS and output.startswith(name + "="):
        return _jsonpath_printer(name, value, options)
    if template and output in JSONPATH_FORMATS:
        return _jsonpath_printer(output, template, options)
    if output in JSONPATH_FORMATS:
        raise GetError("template format specified but no template given")
    if name in GO_TEMPLATE_FORMATS:
        raise GetError(
            f"-o {name} is not supported by minikubelet: Go templates need Go's text/template; "
            "use -o jsonpath=... or -o custom-columns=..., or kubectl itself"
        )
    if output.lower() in ("json", "yaml"):
        return _json_yaml_printer(output.lower(), options)
    if output.lower() == "kyaml":
        raise GetError("-o kyaml is not supported by minikubelet; use -o yaml or -o json, or kubectl itself")
    if name in CUSTOM_COLUMNS_FORMATS and (output.startswith(name + "=") or template):
        return _custom_columns_printer(name, template or value, options)
    if output in CUSTOM_COLUMNS_FORMATS:
        raise GetError("custom-columns format specified but no custom columns given")
    if output == "name":
        singular = SINGULAR.get(resource, resource)

        def print_names(obj: Any, kind: str) -> str:
            items = (obj.get("items") or []) if kind == "list" else [obj["object"] if kind == "event" else obj]
            return "".join(f"{singular}/{item.get('metadata', {}).get('name') or '<unknown>'}\n" for item in items)

        return Printer(print_names)
    raise GetError(f'unable to match a printer suitable for the output format "{output}", allowed formats are: {ALLOWED_FORMATS}')


def _without_managed_fields(obj: Any, kind: str) -> Any:
    """kubectl's OmitManagedFieldsPrinter (it cannot see into a watch event, so leaves those alone)."""
    if kind == "event" or not isinstance(obj, dict):
        return obj
    items = obj.get("items") if kind == "list" else [obj]
    copies = []
    for item in items or []:
        metadata = item.get("metadata")
        if isinstance(metadata, dict) and "managedFields" in metadata:
            item = {**item, "metadata": {k: v for k, v in metadata.items() if k != "managedFields"}}
        copies.append(item)
    return {**obj, "items": copies} if kind == "list" else copies[0]


def _json_yaml_printer(output: str, options: Options) -> Printer:
    from minikubelet.printing.gofmt import json_marshal, json_marshal_indent

    printed = [0]

    def print_json_yaml(obj: Any, kind: str) -> str:
        if not options.show_managed_fields:
            obj = _without_managed_fields(obj, kind)
        if output == "json":
            if kind == "event":  # metav1.WatchEvent: a struct, so `type` before `object`, on one line
                return '{"type":' + json_marshal(obj["type"]) + ',"object":' + json_marshal(obj["object"]) + "}\n"
            return json_marshal_indent(obj) + "\n"
        import yaml  # only for -o yaml: PyYAML costs every other `get` ~15 ms of start-up

        printed[0] += 1
        separator = "---\n" if printed[0] > 1 else ""  # kubectl's YAMLPrinter, from its second object on
        return separator + yaml.safe_dump(obj, default_flow_style=False, sort_keys=True, allow_unicode=True)

    return Printer(print_json_yaml)


def _read_file(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        reason = (exc.strerror or str(exc))[:1].lower() + (exc.strerror or str(exc))[1:]
        raise GetError(f"error reading {what} {path}, open {path}: {reason}") from None


def _jsonpath_printer(name: str, value: str, options: Options) -> Printer:
    """cli-runtime's JSONPathPrintFlags.ToPrinter and JSONPathPrinter."""
    from minikubelet.printing.gofmt import go_string, quote
    from minikubelet.printing.jsonpath import JSONPath, JSONPathError

    if not value:
        raise GetError("template format specified but no template given")
    text = _read_file(value, "--template") if name == "jsonpath-file" else value
    parser = JSONPath("out")
    try:
        parser.parse(text)
    except JSONPathError as exc:
        raise GetError(f"error parsing jsonpath {text}, {exc}") from None
    parser.allow_missing_keys(options.allow_missing_keys)
    parser.enable_json_output(name == "jsonpath-as-json")

    def print_jsonpath(obj: Any, kind: str) -> str:
        data = _decoded_as_floats(obj) if kind == "event" else obj  # a WatchEvent goes through json.Unmarshal
        try:
            return parser.execute(data)
        except JSONPathError as exc:
            raise GetError(
                f"error executing jsonpath {quote(text)}: Error executing template: {exc}. Printing more information "
                f"for debugging the template:\n\ttemplate was:\n\t\t{text}\n\tobject given to jsonpath engine was:"
                f"\n\t\t{go_string(data)}\n\n\n"
            ) from None

    return Printer(print_jsonpath)


def _decoded_as_floats(value: Any) -> Any:
    """What Go's json.Unmarshal into interface{} makes of a value: every number a float64."""
    if isinstance(value, dict):
        return {k: _decoded_as_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decoded_as_floats(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _custom_columns_printer(name: str, value: str, options: Options) -> Printer:
    from minikubelet.printing.custom_columns import (
        CustomColumnsError,
        new_custom_columns_printer_from_spec,
        new_custom_columns_printer_from_template,
    )
    from minikubelet.printing.jsonpath import JSONPathError

    try:
        if name == "custom-columns-file":
            try:
                with open(value, encoding="utf-8") as handle:
                    spec = handle.read()
            except OSError as exc:
                reason = (exc.strerror or str(exc))[:1].lower() + (exc.strerror or str(exc))[1:]
                raise GetError(f"error reading template {value}, open {value}: {reason}\n") from None
            printer = new_custom_columns_printer_from_template(spec)
        else:
            printer = new_custom_columns_printer_from_spec(value, no_headers=options.no_headers)
    except CustomColumnsError as exc:
        raise GetError(str(exc)) from None

    def print_columns(obj: Any, kind: str) -> str:
        try:
            return printer.print_obj(obj, kind)
        except JSONPathError as exc:
            raise GetError(str(exc)) from None

    return Printer(print_columns, tabular=True)


# --- watch ----------------------------------------------------------------------------------------------------------


def _watch(client: ApiClient, target: Target, options: Options, params: dict[str, str], *, watch_only: bool) -> None:
    """kubectl's `get -w`/`--watch-only`: the current state, then a line (or object) per change, until
    interrupted; everything goes through one tabwriter that remembers its column widths, flushed each time."""
    from minikubelet.printing.render import RememberingTabWriter

    namespace = options.namespace_for(target)
    path = resource_path(target.resource, namespace, target.name)
    query = {**params, "includeObject": "Object"} if options.sort_by and options.human else params
    try:
        answer = client.get(path, params=query, table=options.human)
    except StatusError as exc:
        eprint(format_status_error(exc))
        raise typer.Exit(1) from None
    writer = RememberingTabWriter()
    show = _table_watch(answer, options, watch_only) if options.human else _object_watch(answer, target, options, watch_only)
    _emit(writer, show.first())
    # A list's resourceVersion starts the watch right after it. One object is watched from "0", which
    # replays it as a first ADDED event: kubectl prints nothing for that first event.
    rv = "0" if target.name else str(answer.get("metadata", {}).get("resourceVersion") or "")
    skip_first = bool(target.name)
    selectors = [params["fieldSelector"]] if params.get("fieldSelector") else []
    if target.name:
        selectors.append(f"metadata.name={target.name}")
    watch_params = {"labelSelector": params.get("labelSelector", ""), "fieldSelector": ",".join(selectors), "resourceVersion": rv}
    try:
        for kind, obj in client.watch(
            resource_path(target.resource, namespace), params={k: v for k, v in watch_params.items() if v}, table=options.human
        ):
            _emit(writer, show.skipped(obj) if skip_first else show.event(kind, obj))
            skip_first = False
    except KeyboardInterrupt:
        return


def _emit(writer: RememberingTabWriter, text: str | list[str]) -> None:
    """Write a printer's text (or a table's chunks, each flushed as printTable flushes) and show it now."""
    writer.write_chunks([text] if isinstance(text, str) else text)
    sys.stdout.write(writer.take())
    sys.stdout.flush()


class _TableWatch:
    """kubectl's HumanReadablePrinter across a watch: the header again only when the columns change, and the
    last columns for a table that comes without any (the server leaves them out of later watch events)."""

    def __init__(self, first: dict[str, Any], options: Options, watch_only: bool) -> None:
        self.table, self.options, self.watch_only = first, options, watch_only
        self.printed_headers = False
        self.last_columns: list[Any] = []

    def _print(self, table: dict[str, Any], event_type: str) -> list[str]:
        from minikubelet.printing.render import table_chunks

        columns = table.get("columnDefinitions") or []
        no_headers = self.options.no_headers or (self.printed_headers and (not columns or columns == self.last_columns))
        if not columns:
            table = {**table, "columnDefinitions": self.last_columns}
        elif columns != self.last_columns:
            self.last_columns = columns
            self.printed_headers = False
        if table.get("rows"):
            self.printed_headers = True
        return table_chunks(
            table,
            wide=self.options.output == "wide",
            no_headers=no_headers,
            show_labels=self.options.show_labels,
            with_namespace=self.options.all_namespaces,
            label_columns=self.options.label_columns,
            event_type=event_type,
        )

    def first(self) -> list[str]:
        table = dict(self.table)
        table["rows"] = [] if self.watch_only else _sorted_rows(table, self.options)  # kubectl's skipPrinter
        return self._print(table, "ADDED" if self.options.output_watch_events else "")

    def event(self, kind: str, table: dict[str, Any]) -> list[str]:
        return self._print(table, kind if self.options.output_watch_events else "")

    def skipped(self, table: dict[str, Any]) -> list[str]:
        """kubectl's skipPrinter: the table without its rows (its columns still count)."""
        return self._print({**table, "rows": []}, "")


class _ObjectWatch:
    """kubectl's other printers across a watch: each object (or `{"type", "object"}` event) on its own."""

    def __init__(self, answer: dict[str, Any], target: Target, options: Options, watch_only: bool) -> None:
        self.answer, self.options, self.watch_only = answer, options, watch_only
        self.printer = _printer(options, resource=target.resource)
        self.printer.tabular = False  # the watch's own tabwriter aligns custom-columns

    def _one(self, obj: dict[str, Any], kind: str) -> str:
        if self.options.output_watch_events:
            return self.printer.print({"type": kind, "object": obj}, "event")
        return self.printer.print(obj, "object")

    def first(self) -> str:
        if self.watch_only:
            return ""
        is_list = self.answer.get("kind", "").endswith("List")
        items = (self.answer.get("items") or []) if is_list else [self.answer]
        return "".join(self._one(item, "ADDED") for item in items)

    def event(self, kind: str, obj: dict[str, Any]) -> str:
        return self._one(obj, kind)

    def skipped(self, obj: dict[str, Any]) -> str:
        return ""


def _table_watch(answer: dict[str, Any], options: Options, watch_only: bool) -> _TableWatch:
    return _TableWatch(answer, options, watch_only)


def _object_watch(answer: dict[str, Any], target: Target, options: Options, watch_only: bool) -> _ObjectWatch:
    return _ObjectWatch(answer, target, options, watch_only)
