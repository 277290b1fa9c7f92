"""`minikubelet delete`: graceful by default, waiting until the object is gone, as kubectl does."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from minikubelet.cli.common import SINGULAR, Target, connect, eprint, format_status_error, parse_targets
from minikubelet.client import ApiClient, resource_path
from minikubelet.errors import NotFoundError, StatusError

_FORCE_WARNING = (
    "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. "
    "The resource may continue to run on the cluster indefinitely."
)


def delete_command(
    args: Annotated[list[str] | None, typer.Argument(help="TYPE NAME... or TYPE/NAME...")] = None,
    filenames: Annotated[list[str] | None, typer.Option("--filename", "-f", help="Delete what these manifests name.")] = None,
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="The namespace.")] = "default",
    all_: Annotated[bool, typer.Option("--all", help="Delete every object of the type in the namespace.")] = False,
    selector: Annotated[str, typer.Option("--selector", "-l", help="Delete the objects matching this selector.")] = "",
    grace_period: Annotated[int, typer.Option("--grace-period", help="Seconds to let the pod stop; -1: the pod's own.")] = -1,
    force: Annotated[bool, typer.Option("--force", help="With --grace-period=0: remove at once.")] = False,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Return only once the objects are gone.")] = True,
    ignore_not_found: Annotated[bool, typer.Option("--ignore-not-found", help="A missing object is not an error.")] = False,
) -> None:
    """Delete pods (or other objects) by name, by manifest, by selector or all of them."""
    if force and grace_period < 0:
        grace_period = 0
    with connect() as client:
        targets = _targets(client, args or [], filenames or [], namespace, all_=all_, selector=selector)
        if grace_period == 0:
            eprint(_FORCE_WARNING)
        failed = False
        deleted: list[tuple[Target, str, dict[str, Any]]] = []
        for target, ns in targets:
            try:
                obj = delete_object(client, target, ns, grace_period)
            except NotFoundError as exc:
                if not ignore_not_found:
                    eprint(format_status_error(exc))
                    failed = True
                continue
            except StatusError as exc:
                eprint(format_status_error(exc))
                failed = True
                continue
            deleted.append((target, ns, obj))
            forced = " force" if grace_period == 0 else ""
            typer.echo(f'{SINGULAR[target.resource]} "{target.name}"{forced} deleted')
        if wait:
            for target, ns, obj in deleted:
                wait_gone(client, target, ns, obj)
    if failed:
        raise typer.Exit(1)


def _targets(
    client: ApiClient, args: list[str], filenames: list[str], namespace: str, *, all_: bool, selector: str
) -> list[tuple[Target, str]]:
    if filenames:
        from minikubelet.manifest import read_manifests

        result = read_manifests(filenames)
        for line in result.error_lines():
            eprint(line)
        if result.errors:
            raise typer.Exit(1)
        return [(Target("pods", o.obj.metadata.name), o.obj.metadata.namespace or namespace) for o in result.objects]
    targets = parse_targets(args)
    if (all_ or selector) and len(targets) == 1 and not targets[0].name:
        params = {"labelSelector": selector} if selector else None
        items = client.get(resource_path(targets[0].resource, namespace), params=params)["items"]
        if not items:
            eprint(f"No resources found in {namespace} namespace.") if targets[0].resource != "nodes" else None
        return [(Target(targets[0].resource, i["metadata"]["name"]), namespace) for i in items]
    if any(not t.name for t in targets):
        eprint("error: resource(s) were provided, but no name was specified")
        raise typer.Exit(1)
    return [(t, namespace) for t in targets]


def delete_object(client: ApiClient, target: Target, namespace: str, grace_period: int) -> dict[str, Any]:
    body: dict[str, Any] = {"propagationPolicy": "Background"}
    if grace_period >= 0:
        body["gracePeriodSeconds"] = grace_period
    path = resource_path(target.resource, namespace, target.name)
    obj: dict[str, Any] = client.request("DELETE", path, body=body)
    return obj


def wait_gone(client: ApiClient, target: Target, namespace: str, obj: dict[str, Any]) -> None:
    """Watch the object by name until it is deleted (kubectl's reflector: list, then watch from there)."""
    path = resource_path(target.resource, namespace)
    params = {"fieldSelector": f"metadata.name={target.name}"}
    listing = client.get(path, params=params)
    uid = obj.get("metadata", {}).get("uid")
    if not any(i["metadata"].get("uid") == uid for i in listing.get("items", [])):
        return
    params["resourceVersion"] = listing["metadata"]["resourceVersion"]
    for kind, event_obj in client.watch(path, params=params):
        if kind == "DELETED" and event_obj.get("metadata", {}).get("uid") == uid:
            return
