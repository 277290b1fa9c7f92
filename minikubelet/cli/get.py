"""`minikubelet get`: kubectl's get for pods, events, nodes and namespaces, from server-side tables."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from minikubelet.cli.common import SINGULAR, Target, connect, eprint, format_status_error, parse_targets
from minikubelet.client import ApiClient, resource_path
from minikubelet.errors import StatusError
from minikubelet.printing.render import render_table

OutputOption = Annotated[str, typer.Option("--output", "-o", help="wide, yaml, json or name.")]
NamespaceOption = Annotated[str, typer.Option("--namespace", "-n", help="The namespace (default: default).")]
SelectorOption = Annotated[str, typer.Option("--selector", "-l", help="Label selector, e.g. app=echo,tier!=db.")]


def get_command(
    args: Annotated[list[str], typer.Argument(help="TYPE [NAME...] or TYPE/NAME...")],
    output: OutputOption = "",
    namespace: NamespaceOption = "default",
    selector: SelectorOption = "",
    field_selector: Annotated[str, typer.Option("--field-selector", help="e.g. status.phase=Running")] = "",
    all_namespaces: Annotated[bool, typer.Option("--all-namespaces", "-A", help="List across namespaces.")] = False,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="After listing, watch for changes.")] = False,
    show_labels: Annotated[bool, typer.Option("--show-labels", help="Show labels as the last column.")] = False,
    no_headers: Annotated[bool, typer.Option("--no-headers", help="Print no header line.")] = False,
    show_managed_fields: Annotated[
        bool, typer.Option("--show-managed-fields", help="Keep metadata.managedFields in -o json/yaml.")
    ] = False,
) -> None:
    """Display one or many resources (pods, events, nodes, namespaces)."""
    if output not in ("", "wide", "yaml", "json", "name"):
        raise typer.BadParameter(f"unable to match a printer suitable for the output format {output!r}", param_hint="-o")
    targets = parse_targets(args)
    with connect() as client:
        failed = False
        objects: list[dict[str, Any]] = []
        tables: list[dict[str, Any]] = []
        for target in targets:
            ns = None if all_namespaces and not target.name else namespace
            params = {k: v for k, v in (("labelSelector", selector), ("fieldSelector", field_selector)) if v}
            path = resource_path(target.resource, ns, target.name)
            try:
                answer = client.get(path, params=params, table=output in ("", "wide"))
            except StatusError as exc:
                eprint(format_status_error(exc))
                failed = True
                continue
            if output in ("", "wide"):
                tables.append(answer)
            else:
                found = answer.get("items", []) if answer.get("kind", "").endswith("List") else [answer]
                if not show_managed_fields:  # kubectl's printers drop them unless asked
                    for obj in found:
                        obj.get("metadata", {}).pop("managedFields", None)
                objects.extend(found)
        single = len(targets) == 1 and bool(targets[0].name)
        _print(
            targets[0],
            output,
            tables,
            objects,
            single=single,
            wide=output == "wide",
            show_labels=show_labels,
            no_headers=no_headers,
            all_namespaces=all_namespaces,
            namespace=namespace,
            failed=failed,
        )
        if watch:
            _watch(
                client,
                targets[0],
                namespace=None if all_namespaces else namespace,
                selector=selector,
                field_selector=field_selector,
                wide=output == "wide",
                show_labels=show_labels,
                all_namespaces=all_namespaces,
                rv=_resource_version(tables, objects),
            )
    if failed:
        raise typer.Exit(1)


def _print(
    target: Target,
    output: str,
    tables: list[dict[str, Any]],
    objects: list[dict[str, Any]],
    *,
    single: bool,
    wide: bool,
    show_labels: bool,
    no_headers: bool,
    all_namespaces: bool,
    namespace: str,
    failed: bool,
) -> None:
    if output in ("", "wide"):
        merged = dict(tables[0]) if tables else {"rows": []}
        merged["rows"] = [row for table in tables for row in table.get("rows", [])]
        if not merged["rows"]:
            if not failed:
                where = "" if all_namespaces or target.resource in ("nodes", "namespaces") else f" in {namespace} namespace"
                eprint(f"No resources found{where}.")
            return
        typer.echo(
            render_table(merged, wide=wide, no_headers=no_headers, show_labels=show_labels, with_namespace=all_namespaces),
            nl=False,
        )
        return
    if output == "name":
        for obj in objects:
            typer.echo(f"{SINGULAR.get(target.resource, target.resource)}/{obj['metadata']['name']}")
        return
    document: Any = (
        objects[0]
        if single and len(objects) == 1
        else {
            "apiVersion": "v1",
            "items": objects,
            "kind": "List",
            "metadata": {"resourceVersion": ""},
        }
    )
    if output == "json":
        typer.echo(json.dumps(document, indent=4, ensure_ascii=False))
    else:
        import yaml  # only for -o yaml: PyYAML costs every other `get` ~15 ms of start-up

        typer.echo(yaml.safe_dump(document, default_flow_style=False, sort_keys=True, allow_unicode=True), nl=False)


def _resource_version(tables: list[dict[str, Any]], objects: list[dict[str, Any]]) -> str:
    for table in tables:
        rv = table.get("metadata", {}).get("resourceVersion")
        if rv:
            return str(rv)
    return ""


def _watch(
    client: ApiClient,
    target: Target,
    *,
    namespace: str | None,
    selector: str,
    field_selector: str,
    wide: bool,
    show_labels: bool,
    all_namespaces: bool,
    rv: str,
) -> None:
    """Print a row for every change after the list, as `kubectl get -w` does, until interrupted."""
    selectors = [field_selector] if field_selector else []
    if target.name:
        selectors.append(f"metadata.name={target.name}")
    params = {"labelSelector": selector, "fieldSelector": ",".join(selectors), "resourceVersion": rv}
    path = resource_path(target.resource, namespace)
    try:
        for _kind, table in client.watch(path, params={k: v for k, v in params.items() if v}, table=True):
            table = dict(table)
            typer.echo(
                render_table(table, wide=wide, no_headers=True, show_labels=show_labels, with_namespace=all_namespaces),
                nl=False,
            )
    except KeyboardInterrupt:
        return
