"""`minikubelet why`: why a pod's containers restarted, or why the pod is not Ready, in a few sentences.

No kubectl counterpart. It reads the pod, its events, the prober's attempts (`.../pods/<name>/probes`) and the
kubelet's record of each container's state changes (`.../pods/<name>/lifecycle`), as `timeline` does, and
prints the findings of `printing/why.py`: each one naming the rule that fired, with times relative to the
start of the container instance, and the smallest setting change that would have avoided a probe's kill.
`-o json` prints the same as a `PodDiagnosis` (the schema is in docs/why.md).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from minikubelet.api.podutil import container_names
from minikubelet.api.wire import Pod
from minikubelet.cli.common import connect, eprint, one_pod_name
from minikubelet.client import ApiClient, resource_path
from minikubelet.printing.render import escape_terminal
from minikubelet.printing.why import diagnose, to_json, to_text

__all__ = ["why_command"]


def why_command(
    args: Annotated[list[str], typer.Argument(help="POD, pod/POD or pod POD")],
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="The namespace.")] = "default",
    container: Annotated[str, typer.Option("--container", "-c", help="Only this container.")] = "",
    output: Annotated[str, typer.Option("--output", "-o", help="Output format: text (default) or json.")] = "",
) -> None:
    """Explain why a pod's containers restarted or why it is not Ready, from the kubelet's own record."""
    name = one_pod_name(args)
    if output not in ("", "text", "json"):
        raise typer.BadParameter(f"unsupported output format {output!r}: text or json", param_hint="--output")
    with connect() as client:
        pod: Pod = client.get(resource_path("pods", namespace, name))
        if container and container not in container_names(pod, ephemeral=False):
            eprint(f"error: container {container} is not valid for pod {name}")
            raise typer.Exit(1)
        events = _events(client, pod)
        attempts = client.get(resource_path("pods", namespace, name, "probes"))["items"]
        transitions = client.get(resource_path("pods", namespace, name, "lifecycle"))["items"]
    diagnosis = diagnose(pod, events, attempts, transitions, now=datetime.now(UTC), container=container)
    if output == "json":
        typer.echo(json.dumps(to_json(diagnosis), indent=2, ensure_ascii=False))
        return
    typer.echo(escape_terminal(to_text(diagnosis)), nl=False)




def _events(client: ApiClient, pod: Pod) -> list[dict[str, Any]]:
    """The pod's events, as describe finds them (by name, namespace and uid), oldest first."""
    meta = pod["metadata"]
    selector = (
        f"involvedObject.name={meta['name']},involvedObject.namespace={meta.get('namespace', '')},"
        f"involvedObject.uid={meta.get('uid', '')}"
    )
    items: list[dict[str, Any]] = client.get(
        resource_path("events", meta.get("namespace") or None), params={"fieldSelector": selector}
    )["items"]
    return sorted(items, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))
