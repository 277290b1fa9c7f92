"""`exec`: reserved until the exec stream (WebSocket v5.channel.k8s.io) is served."""

from __future__ import annotations

from typing import Annotated

import typer

from minikubelet.errors import MinikubeletError


def exec_command(args: Annotated[list[str] | None, typer.Argument()] = None) -> None:
    """Run a command in a container (arrives with the kubelet)."""
    raise MinikubeletError("exec is not available yet: the node does not serve exec streams yet")
