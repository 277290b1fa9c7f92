"""`logs` and `exec`: reserved until the kubelet runs containers (the kubelet-on-Docker issue)."""

from __future__ import annotations

from typing import Annotated

import typer

from minikubelet.errors import MinikubeletError


def logs_command(args: Annotated[list[str] | None, typer.Argument()] = None) -> None:
    """Print a container's logs (arrives with the kubelet)."""
    raise MinikubeletError("logs needs the kubelet on Docker, which this version does not have yet")


def exec_command(args: Annotated[list[str] | None, typer.Argument()] = None) -> None:
    """Run a command in a container (arrives with the kubelet)."""
    raise MinikubeletError("exec needs the kubelet on Docker, which this version does not have yet")
