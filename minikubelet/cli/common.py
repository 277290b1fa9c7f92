"""What every command that talks to the node shares: finding (or starting) the node, resource names,
namespaces, and printing errors in kubectl's words."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import typer

from minikubelet.api.podutil import app_containers, ephemeral_containers, init_containers
from minikubelet.api.wire import Pod
from minikubelet.client import ApiClient
from minikubelet.errors import MinikubeletError, StatusError, UnavailableError
from minikubelet.node.kubeconfig import read_connection
from minikubelet.node.paths import NodePaths, cannot_write
from minikubelet.node.process import NodeLockedError, is_serving, read_pid, spawn_daemon, wait_until_ready

__all__ = [
    "DEFAULT_CONTAINER_ANNOTATION",
    "RESOURCE_ALIASES",
    "Target",
    "connect",
    "default_container",
    "format_status_error",
    "one_pod_name",
    "parse_targets",
    "start_node",
]

START_TIMEOUT = 20.0

# kubectl's names for what we serve: plural, singular, short name.
RESOURCE_ALIASES = {
    **dict.fromkeys(("pods", "pod", "po"), "pods"),
    **dict.fromkeys(("events", "event", "ev"), "events"),
    **dict.fromkeys(("nodes", "node", "no"), "nodes"),
    **dict.fromkeys(("namespaces", "namespace", "ns"), "namespaces"),
}
KINDS = {"pods": "Pod", "events": "Event", "nodes": "Node", "namespaces": "Namespace"}
SINGULAR = {"pods": "pod", "events": "event", "nodes": "node", "namespaces": "namespace"}
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"


def start_node(paths: NodePaths, argv: list[str] | None = None, *, quiet: bool = False) -> int | None:
    """Start the node daemon in the background and return its pid once its API answers; or, when a daemon runs
    already (another command may be starting it this very moment), wait until that one answers and return None.

    The home's lock admits one daemon: a daemon started here that finds another holding it exits at once, and
    then it is that other one we wait for. The node's CA, certificate and token are made here, before the daemon
    starts, so the daemon only ever reuses them and never loads `cryptography` (node/tls.py). Imported here: most
    commands find a node running. A state directory that cannot be written is one line, no traceback."""
    from minikubelet.node.tls import ensure_credentials

    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise UnavailableError(f"the node did not answer within {START_TIMEOUT}s; see {paths.daemon_log}")
            running = read_pid(paths)
            if running is not None:
                try:
                    wait_until_ready(paths, timeout=remaining, process_pid=running)
                    return None
                except MinikubeletError:
                    if read_pid(paths) is not None or time.monotonic() >= deadline:
                        raise
                    continue  # it stopped before it answered (a `down` meanwhile): start one
            ensure_credentials(paths)
            pid = spawn_daemon(paths, argv or [])
            try:
                wait_until_ready(paths, timeout=remaining, process_pid=pid)
            except NodeLockedError:
                continue  # another command's daemon took the lock first: wait for that one
            return pid
    except OSError as exc:
        if exc.filename is None:
            raise
        raise cannot_write(exc) from None


def connect(*, auto_start: bool = True) -> ApiClient:
    """A client for the running node; starts the node first (saying so on stderr) when none runs, and waits for
    one that is starting."""
    paths = NodePaths.from_env()
    if not is_serving(paths):
        starting = read_pid(paths) is not None
        if not auto_start and not starting:
            raise typer.Exit(1)
        if not starting:
            typer.echo("Starting the minikubelet node in the background (`minikubelet down` stops it)...", err=True)
        start_node(paths)
    return ApiClient(read_connection(paths))


@dataclass(frozen=True)
class Target:
    resource: str
    name: str = ""


def parse_targets(args: list[str]) -> list[Target]:
    """`pods`, `pod echo web`, `pod/echo`, `po/echo pod/web`: what kubectl accepts as resource arguments."""
    if not args:
        raise typer.BadParameter("You must specify the type of resource to get.")
    if "/" in args[0]:
        targets = []
        for arg in args:
            kind, _, name = arg.partition("/")
            if not name or "/" in name:
                raise typer.BadParameter(f"arguments in resource/name form must have a single resource and name: {arg}")
            targets.append(Target(_resource(kind), name))
        return targets
    resource = _resource(args[0])
    names = args[1:]
    return [Target(resource, name) for name in names] if names else [Target(resource)]


def one_pod_name(args: list[str]) -> str:
    """The one pod `POD`, `pod/POD` or `pod POD` names (`timeline`, `why`); a usage error otherwise."""
    if len(args) == 1 and "/" not in args[0]:
        return args[0]
    targets = parse_targets(args)
    if len(targets) != 1 or targets[0].resource != "pods" or not targets[0].name:
        raise typer.BadParameter("expected one pod: POD, pod/POD or pod POD")
    return targets[0].name


def _resource(word: str) -> str:
    resource = RESOURCE_ALIASES.get(word.lower())
    if resource is None:
        raise _Unserved(word)
    return resource


class _Unserved(typer.Exit):
    def __init__(self, word: str) -> None:
        typer.echo(f'error: the server doesn\'t have a resource type "{word}"', err=True)
        super().__init__(1)


def format_status_error(error: StatusError) -> str:
    """kubectl's rendering of an API error (cmdutil.CheckErr)."""
    if error.reason == "Invalid":
        head = f'The {error.kind} "{error.name}" is invalid'
        causes = [
            f"{c.get('field', '')}: {c.get('message', '')}" if c.get("field") else str(c.get("message", "")) for c in error.causes
        ]
        if len(causes) == 1:
            return f"{head}: {causes[0]}"
        if causes:
            return f"{head}: \n" + "\n".join(f"* {c}" for c in causes)
        return f"{head}: {error.message}"
    if error.reason == "Unauthorized":
        return "error: You must be logged in to the server (the server has asked for the client to provide credentials)"
    return f"Error from server ({error.reason}): {error.message}"


def parse_duration(text: str, option: str) -> float:
    """`30s`, `5m`, `1h` or plain seconds, as kubectl's duration flags take them."""
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)
    except (ValueError, IndexError):
        raise typer.BadParameter(f"invalid duration: {text}", param_hint=option) from None


def eprint(text: str) -> None:
    sys.stderr.write(text if text.endswith("\n") else text + "\n")


def default_container(pod: Pod, *, quiet: bool = False) -> str:
    """kubectl's choice: the annotated default container, else the first, saying so when there are others."""
    names = [c["name"] for c in app_containers(pod)]
    annotated = pod["metadata"].get("annotations", {}).get(DEFAULT_CONTAINER_ANNOTATION, "")
    if annotated in names:
        return annotated
    if (len(names) > 1 or init_containers(pod) or ephemeral_containers(pod)) and not quiet:
        eprint(f'Defaulted container "{names[0]}" out of: {all_container_names(pod)}')
    return names[0]


def all_container_names(pod: Pod) -> str:
    """kubectl's podcmd.AllContainerNames: `app, debugger (ephem), setup (init)`."""
    names = [c["name"] for c in app_containers(pod)]
    names += [f"{c['name']} (ephem)" for c in ephemeral_containers(pod)]
    names += [f"{c['name']} (init)" for c in init_containers(pod)]
    return ", ".join(names)
