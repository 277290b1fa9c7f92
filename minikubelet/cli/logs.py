"""`minikubelet logs`: a container's output through the API server, as `kubectl logs`."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from minikubelet.cli.common import connect, eprint, parse_duration
from minikubelet.client import resource_path

DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"


def logs_command(
    name: Annotated[str, typer.Argument(help="POD or pod/POD")],
    container: Annotated[str, typer.Option("--container", "-c", help="The container (default: the first).")] = "",
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep streaming new output.")] = False,
    previous: Annotated[bool, typer.Option("--previous", "-p", help="The previous instance's output.")] = False,
    tail: Annotated[int, typer.Option("--tail", help="Only the last N lines (-1: all).")] = -1,
    timestamps: Annotated[bool, typer.Option("--timestamps", help="Prefix each line with its RFC 3339 time.")] = False,
    since: Annotated[str, typer.Option("--since", help="Only newer output, e.g. 10s, 5m, 1h.")] = "",
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="The namespace.")] = "default",
) -> None:
    """Print the logs of a container in a pod."""
    pod_name = name.split("/", 1)[1] if name.startswith(("pod/", "pods/", "po/")) else name
    with connect() as client:
        pod = client.get(resource_path("pods", namespace, pod_name))
        params: dict[str, Any] = {"container": container or _default_container(pod)}
        if follow:
            params["follow"] = "true"
        if previous:
            params["previous"] = "true"
        if tail >= 0:
            params["tailLines"] = tail
        if timestamps:
            params["timestamps"] = "true"
        if since:
            params["sinceSeconds"] = int(parse_duration(since, "--since"))
        out = sys.stdout.buffer
        try:
            for chunk in client.stream(resource_path("pods", namespace, pod_name, "log"), params=params):
                out.write(chunk)
                out.flush()
        except KeyboardInterrupt:
            return


def _default_container(pod: dict[str, Any]) -> str:
    """kubectl's choice: the annotated default container, else the first, saying so when there are several."""
    names = [c["name"] for c in pod["spec"].get("containers", [])]
    chosen = pod["metadata"].get("annotations", {}).get(DEFAULT_CONTAINER_ANNOTATION) or names[0]
    if len(names) > 1 and DEFAULT_CONTAINER_ANNOTATION not in pod["metadata"].get("annotations", {}):
        eprint(f'Defaulted container "{chosen}" out of: {", ".join(names)}')
    return str(chosen)
