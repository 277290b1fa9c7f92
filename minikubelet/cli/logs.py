"""`minikubelet logs`: a container's output through the API server, printed as `kubectl logs` prints it.

The server does what the kubelet does (tail, since, timestamps, previous, the byte limit, following until
the container ends); what kubectl decides on its own side is decided here the same way: the container
defaults to the annotated default, else the first one (saying so on stderr when the pod has others); a
container the pod does not have is refused before any request; `--all-containers` prints the init
containers' logs, then the containers', one after the other (side by side, line by line, with `-f`);
`--prefix` starts every line with `[pod/NAME/CONTAINER] `.
"""

from __future__ import annotations

import math
import queue
import sys
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from minikubelet.api.podutil import container_names
from minikubelet.api.wire import Pod
from minikubelet.cli.common import (
    DEFAULT_CONTAINER_ANNOTATION,
    all_container_names,
    connect,
    default_container,
    eprint,
    parse_duration,
)
from minikubelet.client import ApiClient, resource_path
from minikubelet.errors import MinikubeletError

__all__ = ["logs_command"]

_POD_PREFIXES = ("pod/", "pods/", "po/")


def logs_command(
    name: Annotated[str, typer.Argument(help="POD or pod/POD")],
    container_arg: Annotated[str, typer.Argument(metavar="[CONTAINER]", help="The container (as -c).")] = "",
    container: Annotated[str, typer.Option("--container", "-c", help="The container (default: the first).")] = "",
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep streaming new output.")] = False,
    previous: Annotated[bool, typer.Option("--previous", "-p", help="The previous instance's output.")] = False,
    tail: Annotated[int, typer.Option("--tail", help="Only the last N lines (-1: all).")] = -1,
    timestamps: Annotated[bool, typer.Option("--timestamps", help="Prefix each line with its RFC 3339 time.")] = False,
    since: Annotated[str, typer.Option("--since", help="Only newer output, e.g. 10s, 5m, 1h.")] = "",
    since_time: Annotated[str, typer.Option("--since-time", help="Only output after this RFC 3339 time.")] = "",
    limit_bytes: Annotated[int, typer.Option("--limit-bytes", help="At most this many bytes (0: no limit).")] = 0,
    all_containers: Annotated[bool, typer.Option("--all-containers", help="Every container's logs.")] = False,
    prefix: Annotated[bool, typer.Option("--prefix", help="Start each line with [pod/NAME/CONTAINER].")] = False,
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="The namespace.")] = "default",
) -> None:
    """Print the logs of a container in a pod."""
    pod_name = name.split("/", 1)[1] if name.startswith(_POD_PREFIXES) else name
    if container and container_arg:
        raise MinikubeletError("only one of -c or an inline [CONTAINER] arg is allowed")
    container = container or container_arg
    params = _params(
        follow=follow, previous=previous, tail=tail, timestamps=timestamps, since=since, since_time=since_time, limit=limit_bytes
    )
    if all_containers and container:
        raise MinikubeletError(f"--all-containers=true should not be specified with container name {container}")
    with connect() as client:
        pod: Pod = client.get(resource_path("pods", namespace, pod_name))
        names = _every_container(pod) if all_containers else [_chosen_container(pod, container)]
        streams = [_lines_of(client, pod, c, params, prefix=prefix) for c in names]
        try:
            if follow and len(streams) > 1:
                _side_by_side(streams)
            else:
                for stream in streams:
                    _write(stream)
        except KeyboardInterrupt:
            return


def _params(
    *, follow: bool, previous: bool, tail: int, timestamps: bool, since: str, since_time: str, limit: int
) -> dict[str, Any]:
    """The query of `.../log`, after kubectl's own checks of the flags."""
    if since and since_time:
        raise MinikubeletError("at most one of `sinceTime` or `sinceSeconds` may be specified")
    if limit < 0:
        raise MinikubeletError("--limit-bytes must be greater than 0")
    if tail < -1:
        raise MinikubeletError("--tail must be greater than or equal to -1")
    params: dict[str, Any] = {}
    if follow:
        params["follow"] = "true"
    if previous:
        params["previous"] = "true"
    if tail >= 0:
        params["tailLines"] = tail
    if timestamps:
        params["timestamps"] = "true"
    if limit:
        params["limitBytes"] = limit
    if since:
        seconds = parse_duration(since, "--since")
        if seconds < 0:
            raise MinikubeletError("--since must be greater than 0")
        params["sinceSeconds"] = math.ceil(seconds)  # kubectl rounds up to whole seconds
    if since_time:
        params["sinceTime"] = _rfc3339(since_time)
    return params


def _rfc3339(text: str) -> str:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{text} is not an RFC 3339 time", param_hint="--since-time") from None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _chosen_container(pod: Pod, container: str) -> str:
    """kubectl's choice, made on its side: the named container if the pod has it, else the default one."""
    name = pod["metadata"]["name"]
    every = _every_container(pod)
    if container:
        if container not in every:
            raise MinikubeletError(f"container {container} is not valid for pod {name} out of: {all_container_names(pod)}")
        return container
    annotated = str(pod["metadata"].get("annotations", {}).get(DEFAULT_CONTAINER_ANNOTATION, ""))
    if annotated in every:
        return annotated
    if annotated:
        eprint(f'Default container name "{annotated}" not found in pod {name}')
    return default_container(pod)


def _every_container(pod: Pod) -> list[str]:
    """The init, regular and ephemeral containers, in kubectl's order for `--all-containers`."""
    return container_names(pod)


def _lines_of(client: ApiClient, pod: Pod, container: str, params: dict[str, Any], *, prefix: bool) -> Iterable[bytes]:
    """One container's output as it comes (a lazy request), every line prefixed when asked."""
    meta = pod["metadata"]
    chunks = client.stream(
        resource_path("pods", meta["namespace"], meta["name"], "log"), params={**params, "container": container}
    )
    return _prefixed(chunks, f"[pod/{meta['name']}/{container}] ".encode()) if prefix else chunks


def _prefixed(chunks: Iterable[bytes], prefix: bytes) -> Iterator[bytes]:
    """Whole lines, each after `prefix` (a last line without its newline too, at the end)."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        if lines:
            yield b"".join(prefix + line + b"\n" for line in lines)
    if pending:
        yield prefix + pending


def _write(chunks: Iterable[bytes]) -> None:
    out = sys.stdout.buffer
    for chunk in chunks:
        out.write(chunk)
        out.flush()


def _side_by_side(streams: list[Iterable[bytes]]) -> None:
    """Follow several containers at once, writing whole lines; the first error ends it all."""
    results: queue.SimpleQueue[BaseException | None] = queue.SimpleQueue()
    lock = threading.Lock()

    def follow(stream: Iterable[bytes]) -> None:
        try:
            for chunk in _prefixed(stream, b""):
                with lock:
                    _write([chunk])
        except Exception as exc:  # handed to the main thread, which raises it
            results.put(exc)
            return
        results.put(None)

    for stream in streams:
        threading.Thread(target=follow, args=(stream,), name="minikubelet-logs", daemon=True).start()
    for _ in streams:
        error = results.get()
        if error is not None:
            raise error
