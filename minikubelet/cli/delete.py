"""`minikubelet delete`: graceful by default, waiting until the object is gone, as kubectl does.

kubectl prints `pod "x" deleted` once the DELETE call returns, then waits until the pod is really gone: a list
without it (or a 404), or a DELETED event for its uid. A watch that ends, or a node that went away in the middle
(killed, restarted), is no answer: it lists and watches again until `--timeout` (0, the default, is kubectl's
week), and the node may come back and finish the deletion. Only then does it give up, with kubectl's
`error: timed out waiting for the condition on pods/x` and exit code 1; it never says a pod is gone that it has
not seen go.
"""

from __future__ import annotations

import math
import time
from typing import Annotated, Any

import typer

from minikubelet.cli.common import SINGULAR, Target, connect, eprint, format_status_error, parse_duration, parse_targets
from minikubelet.client import ApiClient, is_namespaced, resource_path
from minikubelet.errors import GoneError, MinikubeletError, NotFoundError, StatusError, UnavailableError
from minikubelet.node.kubeconfig import read_connection
from minikubelet.node.paths import NodePaths

_FORCE_WARNING = (
    "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. "
    "The resource may continue to run on the cluster indefinitely."
)
WAIT_FOREVER = 7 * 24 * 3600.0  # kubectl's delete waits a week when --timeout is 0
_RETRY_SECONDS = 0.5  # between attempts to list and watch again while the node is away


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
    timeout: Annotated[
        str, typer.Option("--timeout", help="How long to wait for the objects to be gone, e.g. 30s, 2m (0: a week).")
    ] = "0s",
) -> None:
    """Delete pods (or other objects) by name, by manifest, by selector or all of them."""
    if force and grace_period < 0:
        grace_period = 0
    patience = parse_duration(timeout, "--timeout") or WAIT_FOREVER
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
            typer.echo(deleted_line(target, ns, forced=grace_period == 0))
        if wait:
            deadline = time.monotonic() + patience
            for target, ns, obj in deleted:
                wait_gone(client, target, ns, obj, timeout=max(0.0, deadline - time.monotonic()))
    if failed:
        raise typer.Exit(1)


def deleted_line(target: Target, namespace: str, *, forced: bool = False) -> str:
    """kubectl 1.37's line for a deleted object: `pod "echo" deleted from default namespace` (`force deleted`
    with a zero grace period; no namespace for a cluster-scoped object)."""
    operation = "force deleted" if forced else "deleted"
    if is_namespaced(target.resource):
        operation += f" from {namespace} namespace"
    return f'{SINGULAR[target.resource]} "{target.name}" {operation}'


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


def wait_gone(client: ApiClient, target: Target, namespace: str, obj: dict[str, Any], *, timeout: float = WAIT_FOREVER) -> None:
    """Wait until the object `obj` (as DELETE returned it) is gone, as kubectl's reflector does: list by name,
    then watch from there for its DELETED event. A watch that ends or breaks, or a node that does not answer, means
    listing and watching again (with the kubeconfig read again: a restarted node may listen elsewhere), until
    `timeout` seconds have passed; then MinikubeletError, in kubectl's words."""
    path = resource_path(target.resource, namespace)
    selector = {"fieldSelector": f"metadata.name={target.name}"}
    uid = obj.get("metadata", {}).get("uid")
    deadline = time.monotonic() + timeout
    current, fresh = client, None
    try:
        while True:
            try:
                if _gone(current, path, selector, uid, deadline):
                    return
            except UnavailableError:  # the node went away: it may come back and finish the deletion
                if fresh is not None:
                    fresh.close()
                fresh = _reconnect()
                current = fresh or client
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise MinikubeletError(f"timed out waiting for the condition on {target.resource}/{target.name}")
            time.sleep(min(_RETRY_SECONDS, remaining))
    finally:
        if fresh is not None:
            fresh.close()


def _gone(client: ApiClient, path: str, selector: dict[str, str], uid: str | None, deadline: float) -> bool:
    """One list and one watch: True once the object is seen gone; False when the watch ended first."""
    try:
        listing = client.get(path, params=selector)
    except NotFoundError:
        return True
    if not any(i["metadata"].get("uid") == uid for i in listing.get("items", [])):
        return True
    remaining = math.ceil(deadline - time.monotonic())
    if remaining <= 0:
        return False
    params = {**selector, "resourceVersion": listing["metadata"]["resourceVersion"], "timeoutSeconds": remaining}
    try:
        for kind, event_obj in client.watch(path, params=params):
            if kind == "DELETED" and event_obj.get("metadata", {}).get("uid") == uid:
                return True
            if kind == "ERROR":  # the watch's resourceVersion expired: list again
                return False
    except (GoneError, ValueError):  # expired, or a line cut short by a node that died mid-event
        return False
    return False


def _reconnect() -> ApiClient | None:
    """A client for the node as its kubeconfig now says where it listens; None if there is no kubeconfig."""
    try:
        return ApiClient(read_connection(NodePaths.from_env()))
    except MinikubeletError:
        return None
