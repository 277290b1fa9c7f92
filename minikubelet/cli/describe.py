"""`minikubelet describe`: kubectl's describe for pods and nodes (the layout of kubelet-spec.md §6.2)."""

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
) -> None:
    """Show details of pods or nodes, with their events."""
    targets = parse_targets(args)
    failed = False
    texts: list[str] = []
    with connect() as client:
        for target in targets:
            if target.resource not in ("pods", "nodes"):
                eprint(f'error: describe supports pods and nodes, not "{target.resource}"')
                raise typer.Exit(1)
            try:
                texts.extend(_describe(client, target, namespace, selector))
            except StatusError as exc:
                eprint(format_status_error(exc))
                failed = True
    if not texts and not failed:
        eprint(f"No resources found in {namespace} namespace.")
    typer.echo("\n\n".join(texts), nl=False)
    if failed:
        raise typer.Exit(1)


def _describe(client: ApiClient, target: Target, namespace: str, selector: str) -> list[str]:
    ns = namespace if target.resource == "pods" else None
    if target.name:
        objects = [client.get(resource_path(target.resource, ns, target.name))]
    else:
        params = {"labelSelector": selector} if selector else None
        objects = client.get(resource_path(target.resource, ns), params=params)["items"]
    from minikubelet.printing.describe import describe_node, describe_pod  # loads the quantity parser: only here

    now = datetime.now().astimezone()  # kubectl shows local time
    texts = []
    for obj in objects:
        if target.resource == "pods":
            texts.append(describe_pod(obj, _events_for(client, obj), now=now))
        else:
            name = obj["metadata"]["name"]
            pods = client.get(
                resource_path("pods", None),
                params={"fieldSelector": f"spec.nodeName={name},status.phase!=Succeeded,status.phase!=Failed"},
            )["items"]
            # As kubectl: events recorded against the node's uid, then against its name (the kubelet's habit).
            events = _events_for(client, obj) + _events_for(client, obj, uid=name)
            texts.append(describe_node(obj, pods, events, now=now, lease=_lease_of(client, name)))
    return texts


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
