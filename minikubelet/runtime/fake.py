"""An in-memory `ContainerRuntime`, for unit tests of the kubelet (shipped in the package, like httpx's
MockTransport, so that any test suite can drive a kubelet without a Docker engine).

It keeps Docker's observable rules where the kubelet depends on them: a container's image must be present
to create it, names are unique, a container joins a running sandbox, stop/remove of a gone container is
no error, exited containers keep their exit code and timestamps. Nothing runs: a test decides what
happens with the controls (`finish`, `fail_start`, `exec_results`, `write_logs`, `set_available`, ...),
and asserts on `calls`, the record of every mutating call the kubelet made.

Interactive sessions (`exec_stream`, `attach`) are `FakeSession`s: the output of `exec_results` (on
stdout), then whatever is written to stdin echoed back on stdout until stdin is closed; the exit code
is the `exec_results` one (0 without), the container's own for an attach. `sessions` keeps them all.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

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
    STDOUT,
    ContainerID,
    ContainerKind,
    ContainerSpec,
    ContainerState,
    ExecResult,
    PodRef,
    RuntimeContainer,
    RuntimeEvent,
    SandboxSpec,
    container_name,
)

__all__ = ["DEFAULT_STOP_EXIT_CODE", "FakeContainer", "FakeRuntime", "FakeSession", "fake_image_id", "normalize_image"]

DEFAULT_STOP_EXIT_CODE = 137  # a busybox shell as PID 1 ignores SIGTERM: Docker kills it after the grace period
_SANDBOX_STOP_EXIT_CODE = 0  # pause exits 0 on SIGTERM


def normalize_image(image: str) -> str:
    """`busybox` -> `busybox:latest`, as the engine reads a reference without tag or digest."""
    last = image.rsplit("/", 1)[-1]
    return image if ":" in last or "@" in last else f"{image}:latest"


def fake_image_id(image: str) -> str:
    """`sha256:<hex>`, a stable ID per (normalized) image name."""
    return "sha256:" + hashlib.sha256(normalize_image(image).encode()).hexdigest()


def _repository(image: str) -> str:
    reference = image.split("@", 1)[0]
    head, _, last = reference.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


@dataclass
class FakeContainer:
    """One container (or sandbox) of the fake engine; tests may read and change it."""

    id: ContainerID
    docker_name: str
    pod: PodRef
    name: str
    kind: ContainerKind
    attempt: int
    image: str
    labels: dict[str, str]
    spec: ContainerSpec | SandboxSpec
    created_at: datetime
    state: ContainerState = "created"
    exit_code: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    oom_killed: bool = False
    error: str = ""
    ip: str = ""
    spec_hash: str = ""
    logs: list[tuple[datetime, bytes]] = field(default_factory=list)  # (when written, one line)
    changed: asyncio.Event = field(default_factory=asyncio.Event)  # set on new logs and exit; then replaced

    def snapshot(self) -> RuntimeContainer:
        return RuntimeContainer(
            id=self.id,
            pod=self.pod,
            name=self.name,
            kind=self.kind,
            attempt=self.attempt,
            image=self.image,
            image_id=fake_image_id(self.image),
            state=self.state,
            exit_code=self.exit_code,
            started_at=self.started_at,
            finished_at=self.finished_at,
            created_at=self.created_at,
            oom_killed=self.oom_killed,
            error=self.error,
            ip=self.ip,
            spec_hash=self.spec_hash,
            labels=dict(self.labels),
        )

    def notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


class FakeRuntime:
    """`ContainerRuntime` in memory. Controls for tests are the public attributes and the methods below the
    protocol's; `calls` records `("pull", image)`, `("run_sandbox", name)`, `("create", name)`,
    `("start", name)`, `("stop", name, str(timeout))`, `("remove", name)`, where `name` is the Docker-style
    `container_name(pod, container, attempt)` (the id for a container the fake never knew)."""

    def __init__(
        self,
        *,
        present_images: Iterable[str] = (),
        pullable: Iterable[str] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        instance: str = "fake",
        engine_version: str = "fake://1.0.0",
    ) -> None:
        self.instance = instance
        self.engine_version = engine_version
        self.clock = clock
        self.present_images: set[str] = {normalize_image(image) for image in present_images}
        self.pullable: set[str] = {normalize_image(image) for image in pullable}
        self.pull_errors: dict[str, str] = {}  # image -> the engine's message, instead of "pull access denied"
        self.start_errors: dict[str, str] = {}  # image -> why every start of its containers fails
        self.stop_exit_codes: dict[str, int] = {}  # image -> exit code after a stop
        self.exec_results: dict[tuple[str, ...], ExecResult] = {}
        self.execs: list[tuple[ContainerID, tuple[str, ...]]] = []
        self.sessions: list[FakeSession] = []
        self.calls: list[tuple[str, ...]] = []
        self.containers: dict[ContainerID, FakeContainer] = {}
        self.available = True
        self._closed = False
        self._subscribers: list[asyncio.Queue[RuntimeEvent | None]] = []
        self._serial = 0
        self._next_ip = 2

    # -- the protocol

    async def version(self) -> str:
        self._check_available()
        return self.engine_version

    async def image_id(self, image: str) -> str | None:
        self._check_available()
        return fake_image_id(image) if normalize_image(image) in self.present_images else None

    async def image_size(self, image: str) -> int:
        """A made-up but stable size: the length of the reference, in MiB."""
        self._check_available()
        return len(normalize_image(image)) << 20

    async def pull_image(self, image: str) -> str:
        self._check_available()
        self.calls.append(("pull", image))
        reference = normalize_image(image)
        if reference in self.pull_errors or image in self.pull_errors:
            raise ImagePullError(self.pull_errors.get(image) or self.pull_errors[reference])
        if reference not in self.pullable:
            raise ImagePullError(
                f"Error response from daemon: pull access denied for {_repository(image)}, "
                "repository does not exist or may require 'docker login'"
            )
        self.present_images.add(reference)
        return fake_image_id(image)

    async def run_sandbox(self, spec: SandboxSpec) -> RuntimeContainer:
        self._check_available()
        name = container_name(spec.pod, SANDBOX_NAME, spec.attempt)
        self.calls.append(("run_sandbox", name))
        record = self._new(name, spec, SANDBOX_NAME, "sandbox", spec.attempt, "")
        record.ip = f"10.88.{self._next_ip >> 8}.{self._next_ip & 0xFF}"
        self._next_ip += 1
        try:
            self._start(record)
        except ContainerRuntimeError:
            del self.containers[record.id]  # as DockerRuntime does, so that a retry's name does not clash
            raise
        return record.snapshot()

    async def create_container(self, spec: ContainerSpec) -> ContainerID:
        self._check_available()
        name = container_name(spec.pod, spec.name, spec.attempt)
        self.calls.append(("create", name))
        if spec.sandbox_id not in self.containers:
            raise ContainerNotFoundError(f"Error response from daemon: No such container: {spec.sandbox_id}")
        return self._new(name, spec, spec.name, spec.kind, spec.attempt, spec.spec_hash).id

    async def start_container(self, container_id: ContainerID) -> None:
        self._check_available()
        record = self._get(container_id)
        self.calls.append(("start", record.docker_name))
        if isinstance(record.spec, ContainerSpec):
            sandbox = self.containers.get(record.spec.sandbox_id)
            if sandbox is None or sandbox.state != "running":
                raise ContainerRuntimeError(
                    f"Error response from daemon: cannot join network of a non running container: {record.spec.sandbox_id}"
                )
        self._start(record)

    async def stop_container(self, container_id: ContainerID, *, timeout: int) -> None:
        self._check_available()
        record = self.containers.get(container_id)
        self.calls.append(("stop", record.docker_name if record else container_id, str(timeout)))
        if record is None or record.state != "running":
            return
        default = _SANDBOX_STOP_EXIT_CODE if record.kind == "sandbox" else DEFAULT_STOP_EXIT_CODE
        self._exit(record, self.stop_exit_codes.get(record.image, default))
        self._emit(record, "stop")

    async def remove_container(self, container_id: ContainerID) -> None:
        self._check_available()
        record = self.containers.pop(container_id, None)
        self.calls.append(("remove", record.docker_name if record else container_id))
        if record is None:
            return
        if record.state == "running":
            self._exit(record, DEFAULT_STOP_EXIT_CODE)
        self._emit(record, "destroy")

    async def list_containers(self, *, pod_uid: str | None = None) -> list[RuntimeContainer]:
        self._check_available()
        return [c.snapshot() for c in self.containers.values() if pod_uid is None or c.pod.uid == pod_uid]

    async def inspect_container(self, container_id: ContainerID) -> RuntimeContainer:
        self._check_available()
        return self._get(container_id).snapshot()

    async def exec(self, container_id: ContainerID, argv: Sequence[str], *, timeout: float) -> ExecResult:
        self._check_available()
        record = self._get(container_id)
        if record.state != "running":
            raise ContainerRuntimeError(f"Error response from daemon: Container {container_id} is not running")
        self.execs.append((container_id, tuple(argv)))
        return self.exec_results.get(tuple(argv), ExecResult(exit_code=0, output=b""))

    async def exec_stream(self, container_id: ContainerID, argv: Sequence[str], *, stdin: bool, tty: bool) -> FakeSession:
        result = await self.exec(container_id, argv, timeout=0)
        return self._new_session(container_id, tuple(argv), result.output, stdin=stdin, tty=tty, exit_code=result.exit_code)

    async def attach(self, container_id: ContainerID, *, stdin: bool, tty: bool, replay: bool = False) -> FakeSession:
        self._check_available()
        record = self._get(container_id)
        if record.state != "running":
            raise ContainerRuntimeError(f"Error response from daemon: Container {container_id} is not running")
        output = b"".join(line for _, line in record.logs) if replay else b""
        return self._new_session(container_id, (), output, stdin=stdin, tty=tty, exit_code=None)

    def _new_session(
        self, container_id: ContainerID, argv: tuple[str, ...], output: bytes, *, stdin: bool, tty: bool, exit_code: int | None
    ) -> FakeSession:
        record = self._get(container_id)
        session = FakeSession(container_id=container_id, argv=argv, stdin=stdin, tty=tty, exit_code=exit_code, record=record)
        if output:
            session.output.put_nowait(output)
        if not stdin:
            session.output.put_nowait(None)
        self.sessions.append(session)
        return session

    async def events(self) -> AsyncGenerator[RuntimeEvent, None]:
        self._check_available()
        queue: asyncio.Queue[RuntimeEvent | None] = asyncio.Queue()
        self._subscribers.append(queue)
        try:
            while (event := await queue.get()) is not None:
                yield event
        finally:
            self._subscribers.remove(queue)
        if not self._closed:
            raise RuntimeUnavailableError("the fake engine went away")

    async def logs(
        self,
        container_id: ContainerID,
        *,
        follow: bool = False,
        tail: int | None = None,
        since: datetime | None = None,
        timestamps: bool = False,
    ) -> AsyncGenerator[bytes, None]:
        self._check_available()
        record = self._get(container_id)
        lines = [(when, line) for when, line in record.logs if since is None or when >= since]
        sent = len(record.logs)
        for when, line in lines[-tail:] if tail is not None and tail > 0 else ([] if tail == 0 else lines):
            yield _log_line(when, line, timestamps)
        while follow:
            batch = record.logs[sent:]
            sent += len(batch)
            for when, line in batch:
                yield _log_line(when, line, timestamps)
            if len(record.logs) == sent:  # nothing new since the batch (no await in between: no lost wake-up)
                if record.state not in ("created", "running"):
                    return
                await record.changed.wait()

    async def close(self) -> None:
        self._closed = True
        for queue in self._subscribers:
            queue.put_nowait(None)

    # -- controls for tests

    def finish(self, container_id: ContainerID, exit_code: int, *, oom_killed: bool = False) -> None:
        """The running container exits now with `exit_code` (an "oom" event first when `oom_killed`)."""
        record = self._get(container_id)
        if record.state != "running":
            raise AssertionError(f"{record.docker_name} is {record.state}, not running")
        record.oom_killed = oom_killed
        if oom_killed:
            self._emit(record, "oom")
        self._exit(record, exit_code)

    def fail_start(self, image: str, error: str) -> None:
        """Every start of a container of `image` fails with `error`, until `start_errors.pop(image)`."""
        self.start_errors[image] = error

    def write_logs(self, container_id: ContainerID, data: bytes) -> None:
        """Append `data` to the container's output, line by line, stamped with the clock."""
        record = self._get(container_id)
        now = self.clock()
        record.logs.extend((now, line) for line in data.splitlines(keepends=True))
        record.notify()

    def set_available(self, available: bool) -> None:
        """Make the engine answer (or not): every call then raises RuntimeUnavailableError, event streams end."""
        self.available = available
        if not available:
            for queue in self._subscribers:
                queue.put_nowait(None)

    def emit(self, container_id: ContainerID, action: str) -> None:
        """Report an event for the container, as the engine would."""
        self._emit(self._get(container_id), action)

    def calls_of(self, operation: str) -> list[tuple[str, ...]]:
        return [call for call in self.calls if call[0] == operation]

    def by_name(self, pod: PodRef, container: str, attempt: int = 0) -> FakeContainer:
        """The record of `container_name(pod, container, attempt)`."""
        name = container_name(pod, container, attempt)
        return next(c for c in self.containers.values() if c.docker_name == name)

    # -- internals

    def _check_available(self) -> None:
        if not self.available:
            raise RuntimeUnavailableError("Cannot connect to the Docker daemon at unix:///var/run/docker.sock")

    def _get(self, container_id: ContainerID) -> FakeContainer:
        record = self.containers.get(container_id)
        if record is None:
            raise ContainerNotFoundError(f"Error response from daemon: No such container: {container_id}")
        return record

    def _new(
        self, docker_name: str, spec: ContainerSpec | SandboxSpec, name: str, kind: ContainerKind, attempt: int, spec_hash: str
    ) -> FakeContainer:
        if normalize_image(spec.image) not in self.present_images:
            raise ContainerRuntimeError(f"Error response from daemon: No such image: {normalize_image(spec.image)}")
        clash = next((c for c in self.containers.values() if c.docker_name == docker_name), None)
        if clash is not None:
            raise ContainerRuntimeError(
                f'Error response from daemon: Conflict. The container name "/{docker_name}" is already in use by '
                f'container "{clash.id}". You have to remove (or rename) that container to be able to reuse that name.'
            )
        self._serial += 1
        record = FakeContainer(
            id=ContainerID(hashlib.sha256(f"{self.instance}/{self._serial}".encode()).hexdigest()),
            docker_name=docker_name,
            pod=spec.pod,
            name=name,
            kind=kind,
            attempt=attempt,
            image=spec.image,
            labels=self._labels(spec.pod, name, kind, attempt, spec_hash),
            spec=spec,
            created_at=self.clock(),
            spec_hash=spec_hash,
        )
        self.containers[record.id] = record
        return record

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

    def _start(self, record: FakeContainer) -> None:
        """Start as Docker does: a failed start leaves an exited container with exit code 128 and the error."""
        if record.state != "created":
            return  # Docker: starting a started container is a no-op
        error = self.start_errors.get(record.image)
        if error is not None:
            record.state, record.exit_code, record.error = "exited", 128, error
            record.started_at = record.finished_at = record.created_at
            raise ContainerRuntimeError(f"Error response from daemon: {error}")
        record.state, record.started_at = "running", self.clock()
        self._emit(record, "start")

    def _exit(self, record: FakeContainer, exit_code: int) -> None:
        record.state, record.exit_code, record.finished_at = "exited", exit_code, self.clock()
        record.notify()
        self._emit(record, "die")

    def _emit(self, record: FakeContainer, action: str) -> None:
        event = RuntimeEvent(container_id=record.id, pod_uid=record.pod.uid, action=action)
        for queue in self._subscribers:
            queue.put_nowait(event)


@dataclass
class FakeSession:
    """An exec or attach of the fake engine. Tests read `written`, `resizes`, `stdin_closed`, `closed`."""

    container_id: ContainerID
    argv: tuple[str, ...]  # () for an attach
    stdin: bool
    tty: bool
    exit_code: int | None  # None: the container's own (an attach)
    record: FakeContainer
    output: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    written: list[bytes] = field(default_factory=list)
    resizes: list[tuple[int, int]] = field(default_factory=list)
    stdin_closed: bool = False
    closed: bool = False

    async def read(self) -> tuple[int, bytes] | None:
        if self.closed:
            return None
        data = await self.output.get()
        if data is None:
            self.output.put_nowait(None)  # the end stays the end
            return None
        return STDOUT, data

    async def write(self, data: bytes) -> None:
        if self.stdin and not self.stdin_closed and not self.closed:
            self.written.append(data)
            self.output.put_nowait(data)

    async def close_stdin(self) -> None:
        if self.stdin and not self.stdin_closed:
            self.stdin_closed = True
            self.output.put_nowait(None)

    async def resize(self, width: int, height: int) -> None:
        self.resizes.append((width, height))

    async def wait(self) -> int:
        if self.exit_code is not None:
            return self.exit_code
        while self.record.state in ("created", "running"):
            await self.record.changed.wait()
        return self.record.exit_code or 0

    async def close(self) -> None:
        self.closed = True
        self.output.put_nowait(None)


def _log_line(when: datetime, line: bytes, timestamps: bool) -> bytes:
    if not timestamps:
        return line
    stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
    return stamp.encode() + b" " + line
