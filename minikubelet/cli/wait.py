"""`minikubelet wait --for=condition=Ready pod/echo`: kubectl's wait, for conditions and deletion."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from minikubelet.cli.common import connect, eprint, parse_duration, parse_targets
from minikubelet.client import resource_path
from minikubelet.errors import NotFoundError


def wait_command(
    args: Annotated[list[str], typer.Argument(help="TYPE/NAME or TYPE NAME")],
    for_: Annotated[str, typer.Option("--for", help="condition=Ready, condition=Ready=false, or delete.")],
    timeout: Annotated[str, typer.Option("--timeout", help="How long to wait, e.g. 30s, 2m.")] = "30s",
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="The namespace.")] = "default",
) -> None:
    """Wait until a pod has a condition (or is deleted)."""
    deadline = time.monotonic() + parse_duration(timeout, "--timeout")
    with connect() as client:
        for target in parse_targets(args):
            path = resource_path(target.resource, namespace, target.name)
            while True:
                try:
                    obj = client.get(path)
                except NotFoundError:
                    if for_ == "delete":
                        typer.echo(f"pod/{target.name} condition met")
                        break
                    raise
                if for_ != "delete" and _met(obj, for_):
                    typer.echo(f"pod/{target.name} condition met")
                    break
                if time.monotonic() >= deadline:
                    eprint(f"error: timed out waiting for the condition on pods/{target.name}")
                    raise typer.Exit(1)
                time.sleep(0.1)


def _met(obj: dict[str, Any], wanted: str) -> bool:
    if not wanted.lower().startswith("condition="):
        raise typer.BadParameter(f"unrecognized condition: {wanted!r}", param_hint="--for")
    name, _, value = wanted.split("=", 1)[1].partition("=")
    expected = (value or "true").lower()
    for condition in obj.get("status", {}).get("conditions", []):
        if condition.get("type", "").lower() == name.lower():
            return str(condition.get("status", "")).lower() == expected
    return False
