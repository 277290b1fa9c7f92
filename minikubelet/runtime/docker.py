"""The `ContainerRuntime` on the local Docker engine: the only module that imports `docker`.

Why it looks the way it does:

- The Docker SDK blocks. Short calls run through `asyncio.to_thread`; long-lived streams (events, logs,
  exec output) get a dedicated daemon thread each, so that a few `logs -f` cannot starve the default
  executor every other call needs. A stream hands its items to the event loop through an `asyncio.Queue`
  and a small credit window (back-pressure); closing the async iterator closes the SDK's stream, whose
  blocked read then ends, and with it the thread.
- Docker's errors are translated once, in `_docker_errors()`, into the `ContainerRuntimeError` tree.
- Docker's own timeouts are used: the client's HTTP timeout, `stop(timeout=...)`.
- A pod is a sandbox (the pause container, which owns the network namespace and the host ports) plus
  containers joining it with `network_mode=container:<sandbox>`, as the kubelet's dockershim did. A pod on
  the host's network has a sandbox in the host's network and UTS namespaces (so no hostname of its own);
  hostPID and hostIPC put every container of the pod in the host's PID or IPC namespace. An ephemeral container
  with a target joins the target's PID namespace (`pid_mode=container:<target>`); with shareProcessNamespace every
  container joins the sandbox's, whose pause process is then PID 1.
- What users write reaches the engine as data: argv lists, `KEY=value` environment entries, label values
  and names in JSON fields of the create call, never through a shell or a command line.
- `list_containers` is called on every sync: one list call, and an inspect only for containers whose
  state changed since we last looked (a running or exited container's details do not change), or which
  an event concerned (the list lags the events: right after a "die" it may still say "running").
- An interactive session (exec or attach with streams) is a hijacked HTTP connection: its output is read
  by a thread of its own (demultiplexed from Docker's 8-byte frame headers unless there is a TTY), its
  stdin written by another, so that a process not reading its stdin blocks nothing but its own session.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import re
import socket
import threading
import warnings
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from minikubelet.errors import ContainerNotFoundError, ContainerRuntimeError, ImagePullError, RuntimeUnavailableError
from minikubelet.runtime.interface import (
    LABEL_ATTEMPT,
    LABEL_CONTAINER,
    LABEL_HASH,
    LABEL_INSTANCE,
    LABEL_KIND,
    LABEL_NAMESPACE,
    LABEL_POD,
    LABEL_UID,
    SANDBOX_NAME,
    STDERR,
    STDOUT,
    ContainerID,
    ContainerKind,
    ContainerSpec,
    ContainerState,
    ExecResult,
    PodRef,
    PortBinding,
    RuntimeContainer,
    RuntimeEvent,
    SandboxSpec,
    StreamSession,
    container_name,
)

if TYPE_CHECKING:
    import docker.errors

__all__ = [
    "DEFAULT_API_TIMEOUT",
    "EVENT_ACTIONS",
    "EXEC_OUTPUT_LIMIT",
    "DockerRuntime",
    "LocalImageFiles",
    "container_from_inspect",
    "local_image_files",
    "parse_docker_time",
    "translate_error",
]

T = TypeVar("T")

DEFAULT_API_TIMEOUT = 60.0  # seconds, the SDK's own default: every non-streaming HTTP call to the engine
EXEC_OUTPUT_LIMIT = 10 * 1024  # bytes of exec output kept (the first ones), as the kubelet's probes do
EVENT_ACTIONS = ("start", "die", "oom", "kill", "stop", "destroy")
_LOG_CONFIG = {"type": "json-file", "config": {"max-size": "10m"}}
_STREAM_WINDOW = 64  # items a stream thread may read ahead of its consumer
_MAX_PARALLEL_INSPECTS = 8  # below the SDK's connection pool size (10)
_STREAM_JOIN_TIMEOUT = 5.0
_RECV_SIZE = 64 * 1024
_FRAME_HEADER = 8  # Docker's multiplexed streams: stream type, 3 zero bytes, big-endian payload length
_POLL_LIMIT = 0.1  # seconds between polls for an exit code, at most
_ZERO_TIME = "0001-01-01T00:00:00Z"
_STATES: dict[str, ContainerState] = {
    "created": "created",
    "running": "running",
    "paused": "running",  # frozen, but its processes live: the kubelet's dockershim said "Up ... (Paused)" = running
    "exited": "exited",
    "dead": "exited",  # a container whose removal failed: it does not run, its exit code is known
}
_CACHEABLE_STATES = frozenset({"running", "exited"})  # Docker never changes these details without a state change


# --- errors --------------------------------------------------------------------------------------------


def _api_message(exc: docker.errors.APIError) -> str:
    """What the engine said, as the docker CLI prints it."""
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors="replace")
    return f"Error response from daemon: {explanation}" if explanation else str(exc)


def translate_error(exc: BaseException, *, pull: bool = False) -> ContainerRuntimeError | None:
    """Our error for a Docker SDK (or `requests`) exception, None when `exc` is neither (a bug: let it be)."""
    import docker.errors
    import requests.exceptions

    config_errors = (
        docker.errors.InvalidVersion,
        docker.errors.InvalidConfigFile,
        docker.errors.TLSParameterError,
        docker.errors.ContextException,
        docker.errors.ContextNotFound,
        docker.errors.ContextAlreadyExists,
        docker.errors.MissingContextParameter,
    )
    error_class: type[ContainerRuntimeError]
    if isinstance(exc, docker.errors.APIError):
        if pull:
            error_class = ImagePullError
        elif isinstance(exc, docker.errors.NotFound) and not isinstance(exc, docker.errors.ImageNotFound):
            error_class = ContainerNotFoundError
        else:
            error_class = ContainerRuntimeError
        return error_class(_api_message(exc))
    if isinstance(exc, (requests.exceptions.RequestException, *config_errors)):
        return RuntimeUnavailableError(f"the Docker engine does not answer: {exc}")
    if isinstance(exc, docker.errors.InvalidRepository) and pull:
        return ImagePullError(str(exc))
    if type(exc) is docker.errors.DockerException:  # what from_env() raises when it cannot reach the engine
        return RuntimeUnavailableError(f"the Docker engine does not answer: {exc}")
    if isinstance(exc, docker.errors.DockerException | docker.errors.StreamParseError):
        return ContainerRuntimeError(str(exc) or type(exc).__name__)
    return None


@contextlib.contextmanager
def _docker_errors(*, pull: bool = False) -> Iterator[None]:
    """Translate the Docker SDK's exceptions into ours, keeping the original as `__cause__`."""
    try:
        yield
    except ContainerRuntimeError:
        raise
    except Exception as exc:
        translated = translate_error(exc, pull=pull)
        if translated is None:
            raise
        raise translated from exc


# --- parsing what the engine says ------------------------------------------------------------------------

_TIME = re.compile(r"^(?P<base>[^.Z+]+)(?:\.(?P<fraction>\d+))?(?P<zone>Z|[+-]\d\d:\d\d)$")


def parse_docker_time(text: str | None) -> datetime | None:
    """Docker's RFC3339Nano (`2024-05-01T12:34:56.123456789Z`) as an aware datetime; the zero time is None."""
    if not text or text == _ZERO_TIME:
        return None
    match = _TIME.match(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    fraction = (match["fraction"] or "0")[:6].ljust(6, "0")
    zone = "+00:00" if match["zone"] == "Z" else match["zone"]
    parsed = datetime.fromisoformat(f"{match['base']}.{fraction}{zone}")
    return None if parsed.year == 1 else parsed.astimezone(UTC)


def _timestamp(when: datetime | None) -> float | None:
    """Seconds since the epoch, as the engine's `since` takes them (with a fraction); naive means UTC."""
    if when is None:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _int_label(labels: dict[str, str], key: str) -> int:
    try:
        return int(labels.get(key, "0"))
    except ValueError:
        return 0


def _kind(labels: dict[str, str]) -> ContainerKind:
    kind = labels.get(LABEL_KIND, "app")
    return cast(ContainerKind, kind) if kind in ("sandbox", "init", "app", "ephemeral") else "app"


def _ip(network_settings: dict[str, Any] | None) -> str:
    settings = network_settings or {}
    if settings.get("IPAddress"):
        return str(settings["IPAddress"])
    return next((str(net["IPAddress"]) for net in (settings.get("Networks") or {}).values() if net.get("IPAddress")), "")


def _state_of(info: dict[str, Any]) -> tuple[ContainerState, int | None, datetime | None, datetime | None]:
    """(state, exit code, started, finished), with the kubelet's dockershim reading of a failed start:
    a created container with a zero FinishedAt but a non-zero exit code could not run, and counts as exited
    (started = finished = created; `error` says why)."""
    state = info["State"]
    status = _STATES.get(state.get("Status", ""), "unknown")
    started, finished = parse_docker_time(state.get("StartedAt")), parse_docker_time(state.get("FinishedAt"))
    exit_code = state.get("ExitCode")
    if status == "created" and finished is None and exit_code:
        created = parse_docker_time(info.get("Created"))
        return "exited", int(exit_code), created, created
    return status, (int(exit_code) if status == "exited" and exit_code is not None else None), started, finished


def container_from_inspect(info: dict[str, Any]) -> RuntimeContainer:
    """A RuntimeContainer out of `docker inspect`."""
    labels: dict[str, str] = dict(info["Config"].get("Labels") or {})
    state, exit_code, started_at, finished_at = _state_of(info)
    pod = PodRef(uid=labels.get(LABEL_UID, ""), name=labels.get(LABEL_POD, ""), namespace=labels.get(LABEL_NAMESPACE, ""))
    return RuntimeContainer(
        id=ContainerID(info["Id"]),
        pod=pod,
        name=labels.get(LABEL_CONTAINER, ""),
        kind=_kind(labels),
        attempt=_int_label(labels, LABEL_ATTEMPT),
        image=str(info["Config"].get("Image", "")),
        image_id=str(info.get("Image", "")),
        state=state,
        exit_code=exit_code,
        started_at=started_at,
        finished_at=finished_at,
        created_at=parse_docker_time(info.get("Created")),
        oom_killed=bool(info["State"].get("OOMKilled", False)),
        error=str(info["State"].get("Error") or ""),
        ip=_ip(info.get("NetworkSettings")),
        spec_hash=labels.get(LABEL_HASH, ""),
        labels=labels,
    )


# --- building what the engine needs ---------------------------------------------------------------------


def _port_bindings(ports: Sequence[PortBinding]) -> dict[str, list[tuple[str, int]]]:
    """Docker's `{"80/tcp": [(host_ip, host_port), ...]}`; only ports with a host port are published."""
    bindings: dict[str, list[tuple[str, int]]] = {}
    for port in ports:
        if port.host_port:
            bindings.setdefault(f"{port.container_port}/{port.protocol.lower()}", []).append((port.host_ip, port.host_port))
    return bindings


def _command(entrypoint: Sequence[str] | None, cmd: Sequence[str] | None) -> tuple[list[str] | None, list[str] | None]:
    """(Entrypoint, Cmd) with Kubernetes semantics: an empty list is "not set"; a command without args
    drops the image's CMD (Cmd=[]), args without a command keep the image's ENTRYPOINT."""
    entry = list(entrypoint) if entrypoint else None
    args = list(cmd) if cmd else None
    if entry is not None and args is None:
        args = []
    return entry, args


def _binds(spec: ContainerSpec) -> list[str]:
    # The list form, unlike the dict one, allows one host path mounted at two places.
    return [f"{m.source}:{m.target}:{'ro' if m.read_only else 'rw'}" for m in spec.mounts if not m.pinned]


def _pinned_mounts(spec: ContainerSpec, labels: dict[str, str]) -> list[Any]:
    """Pinned mounts (a resolved subPath held open as `/proc/<pid>/fd/<n>`, kubelet/subpath.py) as anonymous
    `local` volumes binding that descriptor. A bind source of `/proc/<pid>/fd/<n>` fails (runc binds inside the
    container's new mount namespace, and the kernel refuses a mount of another namespace: EINVAL); the volume's
    bind is made by dockerd in the host's namespace when the container starts, through the descriptor, so it is
    the directory the kubelet checked whatever the path names by then. `no_copy`: the image's files at the
    target must not be copied into the pod's directory. Docker refuses a read-only anonymous volume, so a read-only
    mount is a read-only bind (`o=bind,ro`), which the container's bind of it inherits. `rm -v` (remove_container)
    removes the volume."""
    if not any(m.pinned for m in spec.mounts):
        return []
    from docker.types import DriverConfig, Mount

    return [
        Mount(
            m.target,
            None,
            type="volume",
            no_copy=True,
            labels=labels,
            driver_config=DriverConfig("local", {"type": "none", "o": "bind,ro" if m.read_only else "bind", "device": m.source}),
        )
        for m in spec.mounts
        if m.pinned
    ]


# --- the runtime ---------------------------------------------------------------------------------------


def _client_from_env(**kwargs: Any) -> Any:
    """`docker.from_env(**kwargs)`; the SDK (and `requests`) is imported here, in the worker thread that makes the
    client, not with this module: importing it takes longer than the rest of the node's start."""
    import docker

    return docker.from_env(**kwargs)


def _log_config() -> Any:
    from docker.types import LogConfig

    return LogConfig(**_LOG_CONFIG)


class DockerRuntime:
    """`ContainerRuntime` on the Docker engine; every object it makes carries `LABEL_INSTANCE=instance`."""

    def __init__(
        self,
        instance: str,
        *,
        client_factory: Callable[..., Any] = _client_from_env,
        api_timeout: float = DEFAULT_API_TIMEOUT,
        network: str = "bridge",
    ) -> None:
        """`client_factory(timeout=api_timeout)` makes the SDK client, lazily (it talks to the engine)."""
        self.instance = instance
        self.network = network
        self._factory = client_factory
        self._api_timeout = api_timeout
        self._client: Any = None
        self._client_lock = asyncio.Lock()
        self._streams: set[Any] = set()
        self._cache: dict[str, tuple[str, RuntimeContainer]] = {}  # id -> (Docker state, what we made of it)
        self._closed = False

    # -- plumbing

    async def _api(self) -> Any:
        """The SDK's low-level APIClient, made on first use."""
        if self._closed:
            raise RuntimeUnavailableError("the Docker runtime is closed")
        if self._client is None:
            async with self._client_lock:
                if self._client is None:
                    with _docker_errors():
                        self._client = await asyncio.to_thread(self._factory, timeout=self._api_timeout)
        return self._client.api

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """`client.api.<name>(*args, **kwargs)` off the event loop, errors translated."""
        api = await self._api()
        with _docker_errors():
            return await asyncio.to_thread(getattr(api, name), *args, **kwargs)

    def _labels(self, pod: PodRef, name: str, kind: ContainerKind, attempt: int, spec_hash: str) -> dict[str, str]:
        return {
            LABEL_INSTANCE: self.instance,
            LABEL_UID: pod.uid,
            LABEL_POD: pod.name,
            LABEL_NAMESPACE: pod.namespace,
            LABEL_CONTAINER: name,
            LABEL_KIND: kind,
            LABEL_ATTEMPT: str(attempt),
            LABEL_HASH: spec_hash,
        }

    # -- engine and images

    async def version(self) -> str:
        info = await self._call("version")
        return f"docker://{info['Version']}"

    async def image_id(self, image: str) -> str | None:
        try:
            info = await self._call("inspect_image", image)
        except ContainerRuntimeError as exc:
            import docker.errors

            if isinstance(exc.__cause__, docker.errors.NotFound):
                return None
            raise
        return str(info["Id"])

    async def image_size(self, image: str) -> int:
        info = await self._call("inspect_image", image)
        return int(info.get("Size") or 0)

    async def pull_image(self, image: str) -> str:
        from docker.utils import parse_repository_tag

        repository, tag = parse_repository_tag(image)
        api = await self._api()
        with _docker_errors(pull=True):
            await asyncio.to_thread(_pull, api, repository, tag or "latest")
        reference = image if tag else f"{image}:latest"
        image_id = await self.image_id(reference)
        if image_id is None:
            raise ImagePullError(f"the engine pulled {reference} but does not know it")
        return image_id

    # -- containers

    async def run_sandbox(self, spec: SandboxSpec) -> RuntimeContainer:
        api = await self._api()
        bindings = {} if spec.host_network else _port_bindings(spec.ports)  # on the host's network a port is the host's
        host_config = api.create_host_config(
            network_mode="host" if spec.host_network else self.network,
            uts_mode="host" if spec.host_network else None,
            pid_mode="host" if spec.host_pid else None,
            ipc_mode="host" if spec.host_ipc else None,
            port_bindings=bindings,
            init=False,
            restart_policy={"Name": "no"},
            log_config=_log_config(),
        )
        config = api.create_container_config(
            spec.image,
            None,
            hostname=None if spec.host_network else spec.hostname,
            detach=True,
            ports=[tuple(key.split("/")) for key in bindings],
            labels=self._labels(spec.pod, SANDBOX_NAME, "sandbox", spec.attempt, ""),
            host_config=host_config,
        )
        sandbox_id = await self._create(config, container_name(spec.pod, SANDBOX_NAME, spec.attempt))
        try:
            await self.start_container(sandbox_id)
        except ContainerRuntimeError:
            with contextlib.suppress(ContainerRuntimeError):
                await self.remove_container(sandbox_id)  # else the next attempt's name would clash with it
            raise
        return await self.inspect_container(sandbox_id)

    async def create_container(self, spec: ContainerSpec) -> ContainerID:
        api = await self._api()
        entrypoint, command = _command(spec.entrypoint, spec.cmd)
        security = spec.security
        labels = self._labels(spec.pod, spec.name, spec.kind, spec.attempt, spec.spec_hash)
        host_config = api.create_host_config(
            network_mode=f"container:{spec.sandbox_id}",
            binds=_binds(spec) or None,
            mounts=_pinned_mounts(spec, {LABEL_INSTANCE: self.instance, LABEL_UID: spec.pod.uid}) or None,
            mem_limit=spec.memory_bytes,
            memswap_limit=spec.memory_bytes,  # no swap, as on a Kubernetes node
            nano_cpus=spec.nano_cpus,
            log_config=_log_config(),
            privileged=security.privileged,
            pid_mode=_pid_mode(spec),
            ipc_mode="host" if security.host_ipc else None,
            uts_mode="host" if security.host_uts else None,
            read_only=security.read_only_rootfs or None,
            cap_add=list(security.cap_add) or None,
            cap_drop=list(security.cap_drop) or None,
            security_opt=["no-new-privileges"] if security.no_new_privileges else None,
        )
        config = api.create_container_config(
            spec.image,
            command,
            entrypoint=entrypoint,
            environment=[f"{key}={value}" for key, value in spec.env],
            working_dir=spec.working_dir or None,
            detach=True,
            stdin_open=spec.stdin,
            tty=spec.tty,
            user=security.user or None,
            labels=labels,
            host_config=host_config,
        )
        config["StdinOnce"] = spec.stdin_once  # the SDK only sets it for attached containers
        return await self._create(config, container_name(spec.pod, spec.name, spec.attempt))

    async def _create(self, config: dict[str, Any], name: str) -> ContainerID:
        created = await self._call("create_container_from_config", config, name)
        return ContainerID(created["Id"])

    async def start_container(self, container_id: ContainerID) -> None:
        await self._call("start", container_id)

    async def stop_container(self, container_id: ContainerID, *, timeout: int) -> None:
        # Docker sends the image's STOPSIGNAL, then SIGKILL after `timeout` s; the SDK extends its HTTP
        # timeout by as much. A stopped container answers 304, which the SDK does not raise.
        with contextlib.suppress(ContainerNotFoundError):
            await self._call("stop", container_id, timeout=timeout)

    async def remove_container(self, container_id: ContainerID) -> None:
        try:
            await self._call("remove_container", container_id, v=True, force=True)
        except ContainerNotFoundError:
            pass
        except ContainerRuntimeError as exc:
            if "already in progress" not in str(exc):
                raise
        self._cache.pop(container_id, None)

    async def inspect_container(self, container_id: ContainerID) -> RuntimeContainer:
        info = await self._call("inspect_container", container_id)
        container = container_from_inspect(info)
        self._cache[container.id] = (str(info["State"].get("Status", "")), container)
        return container

    async def list_containers(self, *, pod_uid: str | None = None) -> list[RuntimeContainer]:
        labels = [f"{LABEL_INSTANCE}={self.instance}"] + ([f"{LABEL_UID}={pod_uid}"] if pod_uid is not None else [])
        summaries = await self._call("containers", all=True, filters={"label": labels})
        if pod_uid is None:  # a full listing tells which cached containers are gone
            live = {summary["Id"] for summary in summaries}
            self._cache = {cid: entry for cid, entry in self._cache.items() if cid in live}
        limit = asyncio.Semaphore(_MAX_PARALLEL_INSPECTS)
        found = await asyncio.gather(*(self._summary_to_container(summary, limit) for summary in summaries))
        return [container for container in found if container is not None]

    async def _summary_to_container(self, summary: dict[str, Any], limit: asyncio.Semaphore) -> RuntimeContainer | None:
        """The cached container when its Docker state did not change, else a fresh inspect (None: gone)."""
        cached = self._cache.get(summary["Id"])
        if cached is not None and cached[0] == summary.get("State") and cached[0] in _CACHEABLE_STATES:
            return cached[1]
        async with limit:
            try:
                return await self.inspect_container(ContainerID(summary["Id"]))
            except ContainerNotFoundError:
                return None

    # -- exec

    async def exec(self, container_id: ContainerID, argv: Sequence[str], *, timeout: float) -> ExecResult:
        """Run `argv`; on timeout the command keeps running in the container (as in Kubernetes)."""
        created = await self._call("exec_create", container_id, list(argv), stdout=True, stderr=True)
        stream = await self._call("exec_start", created["Id"], stream=True)
        output = bytearray()
        drained = _in_thread(lambda: _drain(stream, output, EXEC_OUTPUT_LIMIT))
        exit_code: int | None = None
        try:
            exit_code = await asyncio.wait_for(self._exec_outcome(created["Id"], drained), timeout)
        except TimeoutError:
            pass
        finally:
            await _close_stream(stream, drained)
        if exit_code is None:
            return ExecResult(exit_code=-1, output=bytes(output), timed_out=True)
        return ExecResult(exit_code=exit_code, output=bytes(output))

    async def _exec_outcome(self, exec_id: str, drained: asyncio.Future[None]) -> int:
        """Wait for the end of the exec's output, then its exit code (which may lag the end of the output)."""
        await asyncio.shield(drained)
        return await self._exec_exit_code(exec_id)

    async def _exec_exit_code(self, exec_id: str) -> int:
        delay = 0.01
        while True:
            info = await self._call("exec_inspect", exec_id)
            if not info.get("Running") and info.get("ExitCode") is not None:
                return int(info["ExitCode"])
            await asyncio.sleep(delay)
            delay = min(delay * 2, _POLL_LIMIT)

    async def _container_exit_code(self, container_id: ContainerID) -> int:
        delay = 0.01
        while (container := await self.inspect_container(container_id)).state != "exited":
            await asyncio.sleep(delay)
            delay = min(delay * 2, _POLL_LIMIT)
        return container.exit_code or 0

    # -- interactive sessions

    async def exec_stream(self, container_id: ContainerID, argv: Sequence[str], *, stdin: bool, tty: bool) -> StreamSession:
        created = await self._call("exec_create", container_id, list(argv), stdin=stdin, stdout=True, stderr=True, tty=tty)
        exec_id = created["Id"]
        sock = await self._call("exec_start", exec_id, socket=True, tty=tty)
        return self._session(
            sock,
            multiplexed=not tty,
            exit_code=lambda: self._exec_exit_code(exec_id),
            resize=lambda width, height: self._call("exec_resize", exec_id, height=height, width=width),
        )

    async def attach(self, container_id: ContainerID, *, stdin: bool, tty: bool, replay: bool = False) -> StreamSession:
        info = await self._call("inspect_container", container_id)
        params = {"stdin": int(stdin), "stdout": 1, "stderr": 1, "stream": 1, "logs": int(replay)}
        sock = await self._call("attach_socket", container_id, params=params)
        return self._session(
            sock,
            multiplexed=not info["Config"].get("Tty"),  # the container's TTY decides the stream's format
            exit_code=lambda: self._container_exit_code(container_id),
            resize=lambda width, height: self._call("resize", container_id, height=height, width=width),
        )

    def _session(
        self,
        sock: Any,
        *,
        multiplexed: bool,
        exit_code: Callable[[], Awaitable[int]],
        resize: Callable[[int, int], Awaitable[Any]],
    ) -> _DockerSession:
        frames = _SocketFrames(sock, multiplexed=multiplexed)
        self._streams.add(frames)
        return _DockerSession(frames, exit_code=exit_code, resize=resize, on_close=lambda: self._streams.discard(frames))

    # -- streams

    async def events(self, *, since: datetime | None = None) -> AsyncGenerator[RuntimeEvent, None]:
        """The protocol's events; `since` (an extra) replays the engine's events from that time on, so that a
        consumer reconnecting after an outage misses nothing."""
        filters = {"type": "container", "event": list(EVENT_ACTIONS), "label": [f"{LABEL_INSTANCE}={self.instance}"]}
        options = {"decode": True, "filters": filters, "since": _timestamp(since)}
        api = await self._api()
        async with contextlib.aclosing(self._stream(lambda: api.events(**options))) as raw_events:
            async for raw in raw_events:
                event = _event(raw)
                if event is not None:
                    # The engine's container list lags its events (a "die" may still be listed as running):
                    # the next look at this container must be an inspect, not the cache.
                    self._cache.pop(event.container_id, None)
                    yield event
        if not self._closed:
            raise RuntimeUnavailableError("the Docker engine ended its event stream")

    async def logs(
        self,
        container_id: ContainerID,
        *,
        follow: bool = False,
        tail: int | None = None,
        since: datetime | None = None,
        timestamps: bool = False,
    ) -> AsyncGenerator[bytes, None]:
        api = await self._api()
        options: dict[str, Any] = {"stream": True, "follow": follow, "tail": "all" if tail is None else tail}
        if since is not None:
            options["since"] = _timestamp(since)
        opened = self._stream(lambda: _open_logs(api, container_id, timestamps=timestamps, **options))
        async with contextlib.aclosing(opened) as chunks:
            async for chunk in chunks:
                yield bytes(chunk)

    async def _stream(self, open_stream: Callable[[], Any]) -> AsyncGenerator[Any, None]:
        """The items of a blocking SDK stream (a `CancellableStream`), read ahead by a thread of its own."""
        with _docker_errors():
            stream = await asyncio.to_thread(open_stream)
        self._streams.add(stream)
        reader = _StreamReader(stream, asyncio.get_running_loop())
        try:
            while (item := await reader.next()) is not _END:
                yield item
        finally:
            self._streams.discard(stream)
            await reader.close()

    async def close(self) -> None:
        """Close every open stream, then the client."""
        self._closed = True
        for stream in list(self._streams):
            with contextlib.suppress(Exception):
                stream.close()
        if self._client is not None:
            self._client.close()
            self._client = None


# --- helpers run in threads ------------------------------------------------------------------------------


def _pid_mode(spec: ContainerSpec) -> str | None:
    """The host's process namespace (hostPID), another container's (an ephemeral container's target, or the sandbox
    of a pod sharing one), or a namespace of its own (None)."""
    if spec.security.host_pid:
        return "host"
    return f"container:{spec.pid_namespace_of}" if spec.pid_namespace_of else None


def _pull(api: Any, repository: str, tag: str) -> None:
    """Pull, reading the progress stream to its end; an error inside the stream becomes ImagePullError."""
    error = ""
    for message in api.pull(repository, tag=tag, stream=True, decode=True):
        if isinstance(message, dict) and message.get("error") and not error:
            error = str(message["error"])
    if error:
        raise ImagePullError(error)


def _open_logs(api: Any, container_id: str, **options: Any) -> Any:
    """The SDK's log stream. The container is inspected first: `api.logs()` of a missing container raises
    NotFound after opening its request, and leaves that response (and its socket) open."""
    api.inspect_container(container_id)
    return api.logs(container_id, stdout=True, stderr=True, **options)


def _drain(stream: Any, output: bytearray, limit: int) -> None:
    """Read `stream` to its end, keeping its first `limit` bytes."""
    for chunk in stream:
        if len(output) < limit:
            output += chunk[: limit - len(output)]


def _event(raw: Any) -> RuntimeEvent | None:
    if not isinstance(raw, dict) or raw.get("Action") not in EVENT_ACTIONS:
        return None
    actor = raw.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    container_id = actor.get("ID") or raw.get("id", "")
    return RuntimeEvent(container_id=ContainerID(container_id), pod_uid=attributes.get(LABEL_UID, ""), action=raw["Action"])


def _in_thread(function: Callable[[], T]) -> asyncio.Future[T]:
    """Run `function` in a new daemon thread; its outcome lands in the returned future (errors translated)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(setter: Callable[[Any], None], value: Any) -> None:
        if not future.done():
            setter(value)

    def run() -> None:
        try:
            with _docker_errors():
                result = function()
        except Exception as exc:
            _post(loop, settle, future.set_exception, exc)
        else:
            _post(loop, settle, future.set_result, result)

    threading.Thread(target=run, name="minikubelet-docker-stream", daemon=True).start()
    return future


def _post(loop: asyncio.AbstractEventLoop, callback: Callable[..., None], *args: Any) -> None:
    """`loop.call_soon_threadsafe`, which a closed loop refuses: nobody waits for the result then."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(callback, *args)


async def _close_stream(stream: Any, reader: asyncio.Future[Any]) -> None:
    """Close an SDK stream whose `reader` thread may be blocked on it, then (that thread gone) its response.

    `CancellableStream.close()` shuts the socket down, which wakes a blocked read, but leaves the HTTP
    response open: closed only after the reader is done, it releases the socket without a ResourceWarning."""
    with contextlib.suppress(Exception):
        stream.close()
    await asyncio.wait({reader}, timeout=_STREAM_JOIN_TIMEOUT)
    if reader.done() and not reader.cancelled():
        reader.exception()  # retrieved: an error after close is of no interest
    response = getattr(stream, "_response", None)
    if response is not None:
        with contextlib.suppress(Exception):  # http.client flushes its already closed reader: ValueError
            response.close()


_END = object()


class _StreamReader:
    """A thread reading a blocking stream into an asyncio.Queue, at most `_STREAM_WINDOW` items ahead."""

    def __init__(self, stream: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._stream = stream
        self._loop = loop
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._credit = threading.Semaphore(_STREAM_WINDOW)
        self._closed = threading.Event()
        self._done = _in_thread(self._pump)
        self._done.add_done_callback(lambda _: self._queue.put_nowait(_END))

    def _pump(self) -> None:
        for item in self._stream:
            self._credit.acquire()
            if self._closed.is_set():
                return
            _post(self._loop, self._queue.put_nowait, item)

    async def next(self) -> Any:
        """The next item, or `_END`; raises what the thread raised."""
        item = await self._queue.get()
        if item is _END:
            self._done.result()
        else:
            self._credit.release()
        return item

    async def close(self) -> None:
        self._closed.set()
        self._credit.release()  # wake the thread if it waits for credit
        await _close_stream(self._stream, self._done)


# --- interactive sessions ------------------------------------------------------------------------------------


class _Demuxer:
    """Docker's multiplexed stream, cut back into (channel, payload): each frame is an 8-byte header (the
    stream type, 1 stdout or 2 stderr, three zero bytes, the payload's big-endian length) and the payload.
    Fed chunks as they come off the socket, it keeps a partial frame until the rest arrives."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self._buffer += data
        frames: list[tuple[int, bytes]] = []
        while len(self._buffer) >= _FRAME_HEADER:
            end = _FRAME_HEADER + int.from_bytes(self._buffer[4:_FRAME_HEADER], "big")
            if len(self._buffer) < end:
                break
            if end > _FRAME_HEADER:
                frames.append((STDERR if self._buffer[0] == STDERR else STDOUT, bytes(self._buffer[_FRAME_HEADER:end])))
            del self._buffer[:end]
        return frames


class _SocketFrames:
    """The output of a hijacked connection as (channel, bytes) items, for a `_StreamReader` thread.

    It reads through the HTTP response's buffered reader, not the bare socket: that reader may already
    hold the first output, read along with the response's headers (docker-py's raw socket loses it).
    `close()` only shuts the socket down (which wakes a blocked read); `release()`, once no thread uses
    the socket any more, closes it."""

    def __init__(self, sock: Any, *, multiplexed: bool) -> None:
        self._io = sock  # the SDK's SocketIO
        self._response = getattr(sock, "_response", None)  # which the SDK keeps there, with its reader
        self.raw: socket.socket = getattr(sock, "_sock", sock)
        self.raw.settimeout(None)  # the SDK's HTTP timeout would end a session that is quiet for a minute
        reader = getattr(getattr(getattr(self._response, "raw", None), "_fp", None), "fp", None)
        self._read: Callable[[int], bytes] = reader.read1 if isinstance(reader, io.BufferedReader) else self.raw.recv
        self._multiplexed = multiplexed
        self._closed = False

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        demuxer = _Demuxer() if self._multiplexed else None
        while chunk := self._recv():
            yield from (demuxer.feed(chunk) if demuxer is not None else [(STDOUT, chunk)])

    def _recv(self) -> bytes:
        try:
            return self._read(_RECV_SIZE)
        except (OSError, ValueError) as exc:  # ValueError: a read on the closed reader
            if self._closed:
                return b""
            raise ContainerRuntimeError(f"the engine's stream broke: {exc}") from exc

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self.raw.shutdown(socket.SHUT_RDWR)

    def release(self) -> None:
        for closable in (self._io, self.raw, self._response):
            with contextlib.suppress(Exception):  # http.client flushes its already closed reader: ValueError
                if closable is not None:
                    closable.close()


class _DockerSession:
    """A `StreamSession` on a hijacked connection: the output through a `_StreamReader`, stdin written by a
    single thread of its own (in order; a process that does not read its stdin blocks only this session)."""

    def __init__(
        self,
        frames: _SocketFrames,
        *,
        exit_code: Callable[[], Awaitable[int]],
        resize: Callable[[int, int], Awaitable[Any]],
        on_close: Callable[[], None],
    ) -> None:
        self._frames = frames
        self._reader = _StreamReader(frames, asyncio.get_running_loop())
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="minikubelet-docker-stdin")
        self._exit_code = exit_code
        self._resize = resize
        self._on_close = on_close
        self._stdin_open = True
        self._ended = False
        self._closed = False

    async def read(self) -> tuple[int, bytes] | None:
        if self._ended:
            return None
        item = await self._reader.next()
        if item is _END:
            self._ended = True
            return None
        return cast(tuple[int, bytes], item)

    async def write(self, data: bytes) -> None:
        if self._stdin_open and data:
            await self._send(self._frames.raw.sendall, data)

    async def close_stdin(self) -> None:
        """A half-close: the process reads EOF, its output keeps coming."""
        if self._stdin_open:
            await self._send(self._frames.raw.shutdown, socket.SHUT_WR)
            self._stdin_open = False

    async def _send(self, function: Callable[..., None], *args: Any) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self._writer, function, *args)
        except (OSError, RuntimeError):  # the process is gone or closed its stdin; the session is closing
            self._stdin_open = False

    async def resize(self, width: int, height: int) -> None:
        with contextlib.suppress(ContainerRuntimeError):  # the process may just have ended
            await self._resize(width, height)

    async def wait(self) -> int:
        return await self._exit_code()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = self._ended = True
        self._stdin_open = False
        self._writer.shutdown(wait=False, cancel_futures=True)
        await self._reader.close()
        self._frames.release()
        self._on_close()


# ------------------------------------------------------------------ image files (`minikubelet lint --check-images`)


class LocalImageFiles:
    """ImageFiles on the local Docker engine (the SDK's low-level client)."""

    def __init__(self, api: Any) -> None:
        self.api = api

    def image_path(self, image: str) -> str | None:
        """The image's PATH ("" when it sets none), or None when the image is not here."""
        try:
            info = self.api.inspect_image(image)
        except Exception:  # not present (NotFound), or any engine error: say nothing
            return None
        env = (info.get("Config") or {}).get("Env") or []
        return next((item.split("=", 1)[1] for item in env if item.startswith("PATH=")), "")

    def existing(self, image: str, paths: list[str]) -> set[str]:
        found: set[str] = set()
        container = self.api.create_container(image, command=["/minikubelet-lint"], labels={"minikubelet.lint": "check-images"})
        try:
            for candidate in paths:
                try:
                    stream, _stat = self.api.get_archive(container["Id"], candidate)
                except Exception:  # NotFound: not there
                    continue
                with contextlib.suppress(Exception):
                    stream.close()
                found.add(candidate)
        finally:
            with contextlib.suppress(Exception):
                self.api.remove_container(container["Id"], force=True)
        return found


def local_image_files(timeout: float = 5.0) -> LocalImageFiles | None:
    """The local engine's image files (`minikubelet lint --check-images`), or None when Docker does not answer."""
    client: Any = None
    with warnings.catch_warnings():
        # When from_env() fails (it asks the engine's API version), the SDK leaves its half-open socket to the
        # garbage collector: collect it here, so that its ResourceWarning does not surface later.
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            import docker

            client = docker.from_env(timeout=timeout)
            client.ping()
        except Exception:
            if client is not None:
                with contextlib.suppress(Exception):
                    client.close()
            client = None
        if client is None:
            gc.collect()  # out of the except block: the exception's frames no longer hold the socket
            return None
    return LocalImageFiles(client.api)
