"""`minikubelet run NAME --image IMG`: the pod kubectl run makes (label run=NAME, one container NAME).

With `-i`/`-t` it goes on as `kubectl run -it` does: the container gets stdin (and a TTY), and once it runs
we attach to it (or, if it already finished, print its logs); with restart policy Never or OnFailure we
then wait for the pod to finish, delete it with `--rm`, and exit with the container's exit code.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from minikubelet.api.podutil import pod_status, statuses_of
from minikubelet.api.wire import Pod, as_pod
from minikubelet.cli.common import Target, connect, eprint, format_status_error
from minikubelet.cli.delete import delete_object, deleted_line, wait_gone
from minikubelet.cli.exec import SessionRequest, exit_code_of, open_session, usable_tty
from minikubelet.client import ApiClient, resource_path
from minikubelet.errors import MinikubeletError, StatusError
from minikubelet.node.kubeconfig import read_connection
from minikubelet.node.paths import NodePaths

POD_RUNNING_TIMEOUT = 60.0  # kubectl's --pod-running-timeout default, for both of its waits
_FINISHED = ("Succeeded", "Failed")
PROMPT_HINT = "If you don't see a command prompt, try pressing enter."
RECORDED = (
    "All commands and output from this session will be recorded in container logs, including credentials and "
    "sensitive information passed through the command prompt."
)
PRE_ATTACH_LOGS_SECONDS = 5.0  # kubectl 1.37 gives the logs printed before attaching 5 s


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
    stdin: Annotated[bool, typer.Option("--stdin", "-i", help="Keep stdin open and attach to the container.")] = False,
    tty: Annotated[bool, typer.Option("--tty", "-t", help="Allocate a TTY (needs -i).")] = False,
    rm: Annotated[bool, typer.Option("--rm", help="Delete the pod once it finished (needs -i).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print output from the remote session.")] = False,
) -> None:
    """Create and run a pod with one container."""
    _check_flags(restart, stdin=stdin, tty=tty, rm=rm)
    container: dict[str, Any] = {"name": name, "image": image, "resources": {}}
    if args:
        container["command" if command else "args"] = list(args)
    if port is not None:
        container["ports"] = [{"containerPort": port}]
    if env:
        container["env"] = [dict(zip(("name", "value"), item.split("=", 1), strict=False)) for item in env]
    if image_pull_policy:
        container["imagePullPolicy"] = image_pull_policy
    if stdin:
        container.update({"stdin": True, "stdinOnce": True} | ({"tty": True} if tty else {}))
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
        if not stdin:
            typer.echo(f"pod/{name} created")
            return
        code = _run_attached(client, namespace, name, restart=restart, tty=tty, rm=rm, quiet=quiet)
    if code:
        raise typer.Exit(code)


def _check_flags(restart: str, *, stdin: bool, tty: bool, rm: bool) -> None:
    """kubectl's refusals, in its words."""
    problem = ""
    if restart not in ("Always", "OnFailure", "Never"):
        problem = f"invalid restart policy: {restart}"
    elif tty and not stdin:
        problem = "-i/--stdin is required for containers with -t/--tty=true"
    elif rm and not stdin:
        problem = "--rm should only be used for attached containers"
    if problem:
        eprint(f"error: {problem}")
        raise typer.Exit(1)


def _run_attached(client: ApiClient, namespace: str, name: str, *, restart: str, tty: bool, rm: bool, quiet: bool) -> int:
    """Attach once the pod runs (its logs if it already finished), wait for its end, delete it with `rm`;
    the exit code to exit with."""
    pod = _wait_for(client, namespace, name, _running_and_ready)
    if pod["status"].get("phase") in _FINISHED:
        _print_logs(client, namespace, name)
    else:
        _attach(client, namespace, name, tty=usable_tty(stdin=True, tty=tty, quiet=quiet), quiet=quiet)
    if restart != "Always":  # with Always, the container's end is no end: there is no exit code to wait for
        ends = ("Succeeded",) if restart == "OnFailure" else _FINISHED
        pod = _wait_for(client, namespace, name, lambda p: p["status"].get("phase") in ends)
    if rm:
        target = Target("pods", name)
        deleted = delete_object(client, target, namespace, -1)
        typer.echo(deleted_line(target, namespace))
        wait_gone(client, target, namespace, deleted)
    return 0 if restart == "Always" else _exit_code(as_pod(pod))


def _attach(client: ApiClient, namespace: str, name: str, *, tty: bool, quiet: bool) -> None:
    """kubectl 1.37's attach for run: first the logs the container wrote so far (an attach streams only what
    comes next), then the attach; on failure, a warning and the logs since then instead."""
    since = ""
    try:
        _print_logs(client, namespace, name, timeout=PRE_ATTACH_LOGS_SECONDS)
        since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # metav1.Now(), as the query sends it
    except (MinikubeletError, OSError) as exc:
        eprint(f"warning: couldn't fetch pre-attach logs: {exc}")
    request = SessionRequest(path=resource_path("pods", namespace, name, "attach"), container=name, stdin=True, tty=tty)
    if not quiet:
        eprint(RECORDED)
        eprint(PROMPT_HINT)
    try:
        exit_code_of(open_session(read_connection(NodePaths.from_env()), request))
    except MinikubeletError as exc:
        eprint(f"warning: couldn't attach to pod/{name}, falling back to streaming logs: {exc}")
        _print_logs(client, namespace, name, since=since)
        return
    if tty and not quiet:  # kubectl's reattachMessage (for a raw terminal only); kubectl attach works against the node
        typer.echo(f"Session ended, resume using 'kubectl attach {name} -c {name} -n {namespace} -i -t' command")


def _print_logs(client: ApiClient, namespace: str, name: str, *, since: str = "", timeout: float | None = None) -> None:
    out = sys.stdout.buffer
    params = {"container": name} | ({"sinceTime": since} if since else {})
    deadline = None if timeout is None else time.monotonic() + timeout
    for chunk in client.stream(resource_path("pods", namespace, name, "log"), params=params):
        out.write(chunk)
        out.flush()
        if deadline is not None and time.monotonic() > deadline:
            break


def _wait_for(client: ApiClient, namespace: str, name: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Watch the pod by name (kubectl's list, then watch from there) until `done` holds for it."""
    path = resource_path("pods", namespace)
    selector = {"fieldSelector": f"metadata.name={name}"}
    deadline = time.monotonic() + POD_RUNNING_TIMEOUT
    listing = client.get(path, params=selector)
    found: dict[str, Any] | None = next((p for p in listing.get("items", []) if done(p)), None)
    version = listing["metadata"]["resourceVersion"]
    while found is None and (remaining := deadline - time.monotonic()) > 0:
        params = {**selector, "resourceVersion": version, "timeoutSeconds": max(1, int(remaining))}
        found, version = _first(client.watch(path, params=params), done, name, version)
    if found is None:
        raise MinikubeletError("timed out waiting for the condition")
    return found


def _first(
    events: Iterator[tuple[str, Any]], done: Callable[[dict[str, Any]], bool], name: str, version: str
) -> tuple[dict[str, Any] | None, str]:
    """The first pod of a watch for which `done` holds (None when the watch ends first), and the last
    resourceVersion seen. Returning drops the watch, whose stream then closes."""
    for kind, pod in events:
        version = pod["metadata"].get("resourceVersion", version)
        if kind == "DELETED":
            raise MinikubeletError(f'pods "{name}" not found')
        if done(pod):
            return pod, version
    return None, version


def _running_and_ready(pod: dict[str, Any]) -> bool:
    """kubectl's podRunningAndReady, where a finished pod also ends the wait."""
    status = pod.get("status", {})
    if status.get("phase") in _FINISHED:
        return True
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions", []))
    return status.get("phase") == "Running" and ready


def _exit_code(pod: Pod) -> int:
    """0 when the pod succeeded; its container's exit code when it failed, saying so as kubectl does."""
    status = pod_status(pod)
    if status.get("phase") == "Succeeded":
        return 0
    meta = pod["metadata"]
    statuses = statuses_of(status, "regular")
    terminated = statuses[0].get("state", {}).get("terminated") if statuses else None
    if not terminated or not terminated.get("exitCode"):
        raise MinikubeletError(f"pod {meta['namespace']}/{meta['name']} failed with unknown exit code")
    eprint(f"pod {meta['namespace']}/{meta['name']} terminated ({terminated.get('reason', '')})\n{terminated.get('message', '')}")
    return int(terminated["exitCode"])


def _labels(text: str, name: str) -> dict[str, str]:
    if not text:
        return {"run": name}
    pairs = [item.split("=", 1) for item in text.split(",") if item]
    if any(len(pair) != 2 for pair in pairs):
        eprint(f"error: invalid label spec: {text}")
        raise typer.Exit(1)
    return {k: v for k, v in pairs}
