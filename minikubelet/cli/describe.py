"""`minikubelet describe`: kubectl's describe for pods and nodes (the layout of
docs/kubectl-output.md#kubectl-describe-pod).

As kubectl 1.37: the objects are looked up first, and the Events section is shown only when exactly one
object was found and nothing failed, unless `--show-events` says otherwise. `describe TYPE NAME` for a
NAME that does not exist describes the objects whose names start with it (kubectl's prefix matching).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from minikubelet.cli.common import Target, connect, eprint, format_status_error, parse_targets
from minikubelet.client import ApiClient, resource_path
from minikubelet.errors import StatusError


def describe_command(
    args: Annotated[list[str], typer.Argument(help="TYPE [NAME...] or TYPE/NAME")],
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="The namespace.")] = "default",
    selector: Annotated[str, typer.Option("--selector", "-l", help="Label selector.")] = "",
    show_events: Annotated[
        bool | None,
        typer.Option(
            "--show-events/--no-show-events",
            help="Show the events about the object. Defaults to true for a single object, false for several.",
        ),
    ] = None,
) -> None:
    """Show details of pods or nodes, with their events."""
    targets = parse_targets(args)
    for target in targets:
        if target.resource not in ("pods", "nodes"):
            eprint(f'error: describe supports pods and nodes, not "{target.resource}"')
            raise typer.Exit(1)
    errors: list[StatusError] = []
    found: list[tuple[str, dict[str, Any]]] = []
    with connect() as client:
        for target in targets:
            try:
                found.extend((target.resource, obj) for obj in _objects(client, target, namespace, selector))
            except StatusError as exc:
                errors.append(exc)
        with_events = show_events if show_events is not None else not errors and len(found) <= 1
        if len(errors) == 1 and errors[0].reason == "NotFound" and len(args) == 2 and "/" not in args[0]:
            _describe_matching(client, targets[0], namespace, errors[0], with_events=bool(show_events))
            return
        texts = [_describe(client, resource, obj, with_events=with_events) for resource, obj in found]
    typer.echo("\n\n".join(texts), nl=False)
    for error in errors:  # kubectl reports them after the descriptions
        eprint(format_status_error(error))
    if not found and not errors:
        eprint(f"No resources found in {namespace} namespace.")
    if errors:
        raise typer.Exit(1)


def _objects(client: ApiClient, target: Target, namespace: str, selector: str) -> list[dict[str, Any]]:
    ns = namespace if target.resource == "pods" else None
    if target.name:
        return [client.get(resource_path(target.resource, ns, target.name))]
    params = {"labelSelector": selector} if selector else None
    items: list[dict[str, Any]] = client.get(resource_path(target.resource, ns), params=params)["items"]
    return items


def _describe_matching(client: ApiClient, target: Target, namespace: str, error: StatusError, *, with_events: bool) -> None:
    """kubectl's DescribeMatchingResources: every object of the type whose name starts with the one asked
    for, each followed by a newline; the original NotFound when there is none."""
    matching = [
        obj for obj in _objects(client, Target(target.resource), namespace, "") if obj["metadata"]["name"].startswith(target.name)
    ]
    if not matching:
        eprint(format_status_error(error))
        raise typer.Exit(1)
    for obj in matching:
        typer.echo(_describe(client, target.resource, obj, with_events=with_events))


def _describe(client: ApiClient, resource: str, obj: dict[str, Any], *, with_events: bool) -> str:
    from minikubelet.printing.describe import describe_node, describe_pod  # loads the quantity parser: only here

    now = datetime.now().astimezone()  # kubectl shows local time
    if resource == "pods":
        return describe_pod(obj, _events_for(client, obj) if with_events else None, now=now)
    name = obj["metadata"]["name"]
    pods = client.get(
        resource_path("pods", None),
        params={"fieldSelector": f"spec.nodeName={name},status.phase!=Succeeded,status.phase!=Failed"},
    )["items"]
    # As kubectl: events recorded against the node's uid, then against its name (the kubelet's habit).
    events = _events_for(client, obj) + _events_for(client, obj, uid=name) if with_events else None
    return describe_node(obj, pods, events, now=now, lease=_lease_of(client, name))


def _lease_of(client: ApiClient, node: str) -> dict[str, Any] | str:
    """The node's Lease, or the error text kubectl shows in its place."""
    try:
        lease: dict[str, Any] = client.get(f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{node}")
    except StatusError as exc:
        return exc.message
    return lease


def _events_for(client: ApiClient, obj: dict[str, Any], *, uid: str | None = None) -> list[dict[str, Any]]:
    """kubectl's searchEvents: the events about `obj` (by name, namespace, kind for nodes, and uid)."""
    meta = obj["metadata"]
    selector = f"involvedObject.name={meta['name']},involvedObject.namespace={meta.get('namespace', '')}"
    if not meta.get("namespace"):
        selector += f",involvedObject.kind={obj.get('kind') or 'Node'}"
    selector += f",involvedObject.uid={meta.get('uid', '') if uid is None else uid}"
    namespace = meta.get("namespace") or None  # cluster-scoped objects: events in every namespace
    events: list[dict[str, Any]] = client.get(resource_path("events", namespace), params={"fieldSelector": selector})["items"]
    return events
