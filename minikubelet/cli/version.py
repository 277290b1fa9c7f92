"""`minikubelet version`."""

from __future__ import annotations

import typer

from minikubelet import KUBERNETES_VERSION, __version__


def version_command() -> None:
    """Print the client version, the Kubernetes release it copies, and the node's version when it runs."""
    from minikubelet.client import ApiClient
    from minikubelet.errors import MinikubeletError
    from minikubelet.node.kubeconfig import read_connection
    from minikubelet.node.paths import NodePaths
    from minikubelet.node.process import is_running

    typer.echo(f"Client Version: minikubelet v{__version__}")
    typer.echo(f"Kubernetes Version: {KUBERNETES_VERSION} (kubelet, scheduler and kubectl semantics)")
    paths = NodePaths.from_env()
    if is_running(paths):
        try:
            with ApiClient(read_connection(paths), timeout=5) as client:
                typer.echo(f"Server Version: {client.get('/version')['gitVersion']}")
        except MinikubeletError:
            return
