"""`minikubelet version`."""

from __future__ import annotations

import typer

from minikubelet import KUBERNETES_VERSION, __version__


def version_command() -> None:
    """Print the client version and the Kubernetes release whose behaviour it copies."""
    typer.echo(f"Client Version: minikubelet v{__version__}")
    typer.echo(f"Kubernetes Version: {KUBERNETES_VERSION} (kubelet, scheduler and kubectl semantics)")
