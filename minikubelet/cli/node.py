"""`minikubelet up`, `down`, `status`, `kubeconfig`: the node daemon's life cycle.

One home has one daemon (node/process.py: the daemon holds the home's lock for its whole life). `up` starts it, or
finds it running (or starting: then it waits until it answers) and says so; any number of `up`s at once get the one
node. `down` stops it for certain: it waits until the process is gone, SIGKILLing it after a bounded wait.
`status` asks the lock. A state directory that cannot be written is one `error: cannot write PATH: ...` line.
"""

from __future__ import annotations

import os
import time
from typing import Annotated

import typer

from minikubelet.cli.common import connect, eprint, start_node
from minikubelet.client import resource_path
from minikubelet.node.paths import NodePaths, cannot_write
from minikubelet.node.process import (
    DEFAULT_POD_INFRA_IMAGE,
    POD_INFRA_IMAGE_ENV,
    PORT_ENV,
    is_running,
    is_serving,
    read_pid,
    stop_daemon,
)


def up_command(
    foreground: Annotated[bool, typer.Option("--foreground", help="Run the node in this terminal (for debugging).")] = False,
    pod_infra_image: Annotated[
        str, typer.Option("--pod-infra-image", envvar=POD_INFRA_IMAGE_ENV, help="The pod sandbox image.")
    ] = DEFAULT_POD_INFRA_IMAGE,
    node_name: Annotated[str, typer.Option("--node-name", help="The node's name (default: the host name).")] = "",
    port: Annotated[int, typer.Option("--port", envvar=PORT_ENV, help="API port on 127.0.0.1 (0: any).")] = 0,
    allow_privileged: Annotated[
        bool,
        typer.Option(
            "--allow-privileged",
            help="Let pods run privileged, add capabilities, share the host's network, PID and IPC namespaces "
            "and mount any host path (refused otherwise, with 403 Forbidden).",
        ),
    ] = False,
    allow_host_path: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host-path",
            metavar="DIR",
            help="Let hostPath volumes mount DIR and what is under it (repeatable; none otherwise).",
        ),
    ] = None,
) -> None:
    """Start the node (API server, scheduler, kubelet) in the background; return once its API answers."""
    from minikubelet.kubelet.nodestatus import default_node_name

    paths = NodePaths.from_env()
    name = node_name or default_node_name()
    host_paths = tuple(_absolute_dir(path) for path in allow_host_path or [])
    if foreground:
        from minikubelet.daemon import DaemonConfig, serve

        config = DaemonConfig(
            paths=paths,
            node_name=name,
            pod_infra_image=pod_infra_image,
            port=port,
            allow_privileged=allow_privileged,
            allowed_host_paths=host_paths,
        )
        serve(config)
        return
    start = time.monotonic()
    argv = ["--pod-infra-image", pod_infra_image, "--node-name", name, "--port", str(port)]
    argv += ["--allow-privileged"] * allow_privileged + [arg for path in host_paths for arg in ("--allow-host-path", path)]
    if start_node(paths, argv) is None:  # one ran already, or another command started it meanwhile
        typer.echo(f"minikubelet node is already running (pid {read_pid(paths)})")
        if allow_privileged or host_paths:
            eprint("warning: --allow-privileged and --allow-host-path apply when the node starts; `minikubelet down` first")
        return
    typer.echo(f"minikubelet node {name} is up ({time.monotonic() - start:.2f}s); kubeconfig: {paths.kubeconfig}")


def _absolute_dir(path: str) -> str:
    """An --allow-host-path as an absolute path (the daemon may not share our working directory)."""
    if not path.strip():
        raise typer.BadParameter("must not be empty", param_hint="--allow-host-path")
    return os.path.abspath(os.path.expanduser(path))


def down_command(
    delete_pods: Annotated[bool, typer.Option("--delete-pods", help="Delete every pod before stopping.")] = False,
) -> None:
    """Stop the node. Pods stay (and keep running) unless --delete-pods."""
    paths = NodePaths.from_env()
    if not is_running(paths):
        typer.echo("minikubelet node is not running")
        return
    if delete_pods:
        _delete_all_pods()
    try:
        stop_daemon(paths)
    except OSError as exc:  # stopped, but its leftovers cannot be removed (a read-only home)
        if exc.filename is None:
            raise
        raise cannot_write(exc) from None
    typer.echo("minikubelet node stopped")


def status_command() -> None:
    """Say whether the node runs, and where."""
    paths = NodePaths.from_env()
    pid = read_pid(paths)
    if pid is None:
        typer.echo("minikubelet node: stopped")
        raise typer.Exit(3)
    typer.echo(f"minikubelet node: running (pid {pid})")
    typer.echo(f"kubeconfig: {paths.kubeconfig}")
    typer.echo(f"log: {paths.daemon_log}")


def kubeconfig_command() -> None:
    """Print the path of the node's kubeconfig (starting the node if needed), for KUBECONFIG=$(...)."""
    paths = NodePaths.from_env()
    if not is_serving(paths):  # none runs, or one is starting and has not written its kubeconfig yet
        if not is_running(paths):
            eprint("Starting the minikubelet node in the background (`minikubelet down` stops it)...")
        start_node(paths)
    typer.echo(os.fspath(paths.kubeconfig))


def _delete_all_pods(timeout: float = 60.0) -> None:
    """Delete every pod with a 1 s grace period and wait until the kubelet has stopped and removed them."""
    with connect(auto_start=False) as client:
        for pod in client.get(resource_path("pods", None))["items"]:
            meta = pod["metadata"]
            path = resource_path("pods", meta["namespace"], meta["name"])
            client.request("DELETE", path, body={"gracePeriodSeconds": 1})
        deadline = time.monotonic() + timeout
        while client.get(resource_path("pods", None))["items"] and time.monotonic() < deadline:
            time.sleep(0.1)
