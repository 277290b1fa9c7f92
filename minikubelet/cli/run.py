"""`minikubelet run NAME --image IMG`: the pod kubectl run makes (label run=NAME, one container NAME)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from minikubelet.cli.common import connect, eprint, format_status_error
from minikubelet.client import resource_path
from minikubelet.errors import StatusError


def run_command(
    name: Annotated[str, typer.Argument(help="The pod's name.")],
    image: Annotated[str, typer.Option("--image", help="The container image.")],
    args: Annotated[list[str] | None, typer.Argument(help="Arguments (or, with --command, the command).")] = None,
    restart: Annotated[str, typer.Option("--restart", help="Always, OnFailure or Never.")] = "Always",
    port: Annotated[int | None, typer.Option("--port", help="The container port to expose.")] = None,
    env: Annotated[list[str] | None, typer.Option("--env", help="KEY=VALUE environment variables.")] = None,
    labels: Annotated[str, typer.Option("--labels", "-l", help="k=v,k2=v2 (default run=NAME).")] = "",
    command: Annotated[bool, typer.Option("--command", help="ARGS are the command, not the arguments.")] = False,
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="The namespace.")] = "default",
    image_pull_policy: Annotated[str, typer.Option("--image-pull-policy", help="Always, IfNotPresent or Never.")] = "",
) -> None:
    """Create and run a pod with one container."""
    if restart not in ("Always", "OnFailure", "Never"):
        eprint(f"error: invalid restart policy: {restart}")
        raise typer.Exit(1)
    container: dict[str, Any] = {"name": name, "image": image, "resources": {}}
    if args:
        container["command" if command else "args"] = list(args)
    if port is not None:
        container["ports"] = [{"containerPort": port}]
    if env:
        container["env"] = [dict(zip(("name", "value"), item.split("=", 1), strict=False)) for item in env]
    if image_pull_policy:
        container["imagePullPolicy"] = image_pull_policy
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": _labels(labels, name)},
        "spec": {"containers": [container], "restartPolicy": restart, "dnsPolicy": "ClusterFirst"},
        "status": {},
    }
    with connect() as client:
        try:
            client.request("POST", resource_path("pods", namespace), params={"fieldManager": "kubectl-run"}, body=pod)
        except StatusError as exc:
            eprint(format_status_error(exc))
            raise typer.Exit(1) from None
    typer.echo(f"pod/{name} created")


def _labels(text: str, name: str) -> dict[str, str]:
    if not text:
        return {"run": name}
    pairs = [item.split("=", 1) for item in text.split(",") if item]
    if any(len(pair) != 2 for pair in pairs):
        eprint(f"error: invalid label spec: {text}")
        raise typer.Exit(1)
    return {k: v for k, v in pairs}
