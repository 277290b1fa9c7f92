"""The seam between the kubelet (which decides) and a container runtime (which does).

The kubelet speaks only this protocol; `docker.py` implements it on the Docker engine and is the only
module that imports `docker`; `fake.py` implements it in memory for unit tests of the kubelet's logic.
Everything is async: the Docker SDK blocks, so the Docker runtime runs it off the event loop.

Every object a runtime creates carries labels (`LABEL_*`), which are how a restarted daemon finds and
adopts what already runs. `instance` separates several nodes sharing one engine (tests run many): a runtime
only ever lists, adopts or removes objects of its own instance.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NewType, Protocol

__all__ = [
    "LABEL_ATTEMPT",
    "LABEL_CONTAINER",
    "LABEL_HASH",
    "LABEL_INSTANCE",
    "LABEL_KIND",
    "LABEL_NAMESPACE",
    "LABEL_POD",
    "LABEL_UID",
    "STDERR",
    "STDOUT",
    "ContainerID",
    "ContainerKind",
    "ContainerRuntime",
    "ContainerSecurity",
    "ContainerSpec",
    "ContainerState",
    "ExecResult",
    "Mount",
    "PodRef",
    "PortBinding",
    "RuntimeContainer",
    "RuntimeEvent",
    "SandboxSpec",
    "StreamSession",
    "container_name",
]

ContainerID = NewType("ContainerID", str)
ContainerKind = Literal["sandbox", "init", "app", "ephemeral"]
ContainerState = Literal["created", "running", "exited", "unknown"]

LABEL_INSTANCE = "io.minikubelet.instance"
LABEL_UID = "io.minikubelet.pod.uid"
LABEL_POD = "io.minikubelet.pod.name"
LABEL_NAMESPACE = "io.minikubelet.pod.namespace"
LABEL_CONTAINER = "io.minikubelet.container.name"
LABEL_KIND = "io.minikubelet.container.kind"
LABEL_ATTEMPT = "io.minikubelet.container.attempt"  # the restart count of this instance
LABEL_HASH = "io.minikubelet.container.hash"  # hash of the container's spec: a change means "definition changed"

STDOUT = 1  # the channel numbers of a StreamSession's output, as in Kubernetes' remotecommand protocol
STDERR = 2

SANDBOX_NAME = "POD"  # the container name of a pod's sandbox, as in the kubelet's dockershim


@dataclass(frozen=True, slots=True)
class PodRef:
    uid: str
    name: str
    namespace: str


def container_name(pod: PodRef, container: str, attempt: int) -> str:
    """`mk_<container>_<pod>_<namespace>_<uid8>_<attempt>` (DESIGN.md)."""
    return f"mk_{container}_{pod.name}_{pod.namespace}_{pod.uid[:8]}_{attempt}"


@dataclass(frozen=True, slots=True)
class PortBinding:
    container_port: int
    protocol: Literal["TCP", "UDP", "SCTP"] = "TCP"
    host_port: int = 0
    host_ip: str = ""


@dataclass(frozen=True, slots=True)
class Mount:
    source: str  # a host path
    target: str  # the path in the container
    read_only: bool = False
    # `source` is `/proc/<pid>/fd/<n>`, a directory the kubelet holds open until the container has started (a
    # resolved subPath, kubelet/subpath.py): the engine must bind what the descriptor holds, not resolve a path.
    pinned: bool = False


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    """The pause container holding a pod's network namespace (and host ports, which belong to it)."""

    pod: PodRef
    image: str
    hostname: str
    attempt: int = 0
    ports: Sequence[PortBinding] = ()
    # The host's namespaces, for pods the node's admission let share them (hostNetwork, hostPID, hostIPC).
    host_network: bool = False
    host_pid: bool = False
    host_ipc: bool = False


@dataclass(frozen=True, slots=True)
class ContainerSecurity:
    """What a container may do beyond the defaults: its securityContext and the pod's host namespaces."""

    privileged: bool = False
    host_pid: bool = False
    host_ipc: bool = False
    host_uts: bool = False  # a pod on the host's network has the host's name too
    user: str = ""  # "uid" or "uid:gid"; "" keeps the image's USER
    read_only_rootfs: bool = False
    no_new_privileges: bool = False  # allowPrivilegeEscalation: false
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """One container instance to create inside a pod's sandbox."""

    pod: PodRef
    name: str
    kind: ContainerKind
    attempt: int
    image: str
    sandbox_id: ContainerID
    entrypoint: Sequence[str] | None = None  # Kubernetes `command`; None keeps the image's ENTRYPOINT
    cmd: Sequence[str] | None = None  # Kubernetes `args`; None keeps the image's CMD (unless entrypoint is set)
    env: Sequence[tuple[str, str]] = ()
    working_dir: str = ""
    mounts: Sequence[Mount] = ()
    memory_bytes: int | None = None
    nano_cpus: int | None = None
    stdin: bool = False
    stdin_once: bool = False
    tty: bool = False
    spec_hash: str = ""
    security: ContainerSecurity = ContainerSecurity()
    # The container whose process (PID) namespace this one joins: an ephemeral container's target, or the sandbox
    # when the pod shares one process namespace; None gives the container its own (unless security.host_pid).
    pid_namespace_of: ContainerID | None = None


@dataclass(frozen=True, slots=True)
class RuntimeContainer:
    """What a runtime knows about one of our containers (sandbox or not)."""

    id: ContainerID
    pod: PodRef
    name: str  # the Kubernetes container name, SANDBOX_NAME for a sandbox
    kind: ContainerKind
    attempt: int
    image: str
    image_id: str
    state: ContainerState
    exit_code: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    created_at: datetime | None = None
    oom_killed: bool = False
    error: str = ""  # why it could not start, when it could not
    ip: str = ""  # a sandbox's pod IP
    spec_hash: str = ""
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExecResult:
    exit_code: int
    output: bytes  # stdout and stderr interleaved
    timed_out: bool = False


@dataclass(frozen=True, slots=True)
class RuntimeEvent:
    """A change to one of our containers, as the engine reports it (start, die, oom, destroy)."""

    container_id: ContainerID
    pod_uid: str
    action: str


class StreamSession(Protocol):
    """An interactive process in a container (an exec, or an attach to the container's own process).

    Output comes as (channel, bytes) with channel `STDOUT` or `STDERR` (a TTY has only STDOUT); `read`
    gives None once the output ended. `wait` gives the exit code: the exec's, or the container's for an
    attach. `close` ends the session (the process may go on running) and is safe to call twice."""

    async def read(self) -> tuple[int, bytes] | None: ...

    async def write(self, data: bytes) -> None: ...

    async def close_stdin(self) -> None: ...

    async def resize(self, width: int, height: int) -> None: ...

    async def wait(self) -> int: ...

    async def close(self) -> None: ...


class ContainerRuntime(Protocol):
    """What the kubelet needs from a container engine."""

    async def version(self) -> str:
        """`docker://20.10.24`: what the Node reports as containerRuntimeVersion."""
        ...

    async def image_id(self, image: str) -> str | None:
        """The local image's ID, or None when the image is not present."""
        ...

    async def image_size(self, image: str) -> int:
        """The size of the local image in bytes (what the kubelet's Pulled event tells)."""
        ...

    async def pull_image(self, image: str) -> str:
        """Pull `image` and return its ID; raises `ImagePullError` with the engine's message."""
        ...

    async def run_sandbox(self, spec: SandboxSpec) -> RuntimeContainer:
        """Create and start a pod's sandbox; returns it with its IP."""
        ...

    async def create_container(self, spec: ContainerSpec) -> ContainerID: ...

    async def start_container(self, container_id: ContainerID) -> None: ...

    async def stop_container(self, container_id: ContainerID, *, timeout: int) -> None:
        """SIGTERM (or the image's STOPSIGNAL), then SIGKILL after `timeout` seconds; no error if already stopped."""
        ...

    async def remove_container(self, container_id: ContainerID) -> None:
        """Remove (forcibly); no error if already gone."""
        ...

    async def list_containers(self, *, pod_uid: str | None = None) -> list[RuntimeContainer]:
        """All our containers (of this instance), or a pod's, running or not."""
        ...

    async def inspect_container(self, container_id: ContainerID) -> RuntimeContainer:
        """Raises `ContainerNotFoundError` when it is gone."""
        ...

    async def exec(self, container_id: ContainerID, argv: Sequence[str], *, timeout: float) -> ExecResult:
        """Run `argv` in the container (no shell); `timed_out` when it outlives `timeout`."""
        ...

    async def exec_stream(self, container_id: ContainerID, argv: Sequence[str], *, stdin: bool, tty: bool) -> StreamSession:
        """Start `argv` in the running container with its streams connected (`kubectl exec`)."""
        ...

    async def attach(self, container_id: ContainerID, *, stdin: bool, tty: bool, replay: bool = False) -> StreamSession:
        """Connect to the running container's own process (`kubectl attach`); with `replay`, its output so far
        comes first. The output is raw when the container has a TTY, whatever `tty` says (it only matters for
        resizes)."""
        ...

    def events(self) -> AsyncIterator[RuntimeEvent]:
        """Changes to our containers as they happen, until the iterator is closed."""
        ...

    def logs(
        self,
        container_id: ContainerID,
        *,
        follow: bool = False,
        tail: int | None = None,
        since: datetime | None = None,
        timestamps: bool = False,
    ) -> AsyncIterator[bytes]:
        """A container's output (stdout and stderr), chunk by chunk; with `follow`, until it exits."""
        ...

    async def close(self) -> None: ...
