"""DockerRuntime against the real engine: the Docker facts the kubelet builds on (shared pod network, command
semantics, stop grace, exec timeouts, states, events, logs, pull failures) hold on this engine.

Each test has its own `instance` (`mk-test-<uuid8>`): it sees only its own containers, and they are all
force-removed at teardown.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import docker
import docker.errors
import httpx
import pytest

from minikubelet.errors import ContainerNotFoundError, ContainerRuntimeError, ImagePullError
from minikubelet.runtime.docker import EXEC_OUTPUT_LIMIT, DockerRuntime
from minikubelet.runtime.interface import (
    LABEL_INSTANCE,
    LABEL_KIND,
    ContainerID,
    ContainerRuntime,
    ContainerSpec,
    Mount,
    PodRef,
    PortBinding,
    RuntimeContainer,
    RuntimeEvent,
    SandboxSpec,
)

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("local_images")]

BUSYBOX = "minikubelet.local/busybox:1.35"
PAUSE = "minikubelet.local/pause:3.10"
ECHO = "minikubelet.local/echo:v1"
DEADLINE = 10.0


def remove_instance(client: docker.DockerClient, instance: str) -> None:
    for container in client.containers.list(all=True, filters={"label": f"{LABEL_INSTANCE}={instance}"}, ignore_removed=True):
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # removal already in progress
                raise


class Instances:
    """Makes DockerRuntimes, each with a fresh instance; closes them and removes their containers at the end."""

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        self.runtimes: list[DockerRuntime] = []

    def new(self) -> DockerRuntime:
        runtime = DockerRuntime(f"mk-test-{uuid.uuid4().hex[:8]}")
        self.runtimes.append(runtime)
        return runtime

    async def close(self) -> None:
        for runtime in self.runtimes:
            await runtime.close()
            remove_instance(self.client, runtime.instance)
        await wait_until(no_stream_threads, what="the end of every stream thread")


async def no_stream_threads() -> bool:
    """Closed streams end their reading threads (DockerRuntime names them minikubelet-docker-stream)."""
    return not any(thread.name == "minikubelet-docker-stream" for thread in threading.enumerate())


@pytest.fixture
async def instances(docker_client: docker.DockerClient) -> AsyncIterator[Instances]:
    made = Instances(docker_client)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
def runtime(instances: Instances) -> DockerRuntime:
    return instances.new()


def new_pod(name: str = "web") -> PodRef:
    return PodRef(uid=str(uuid.uuid4()), name=name, namespace="default")


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float = DEADLINE, what: str = "condition") -> None:
    async def poll() -> None:
        while not await check():
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        pytest.fail(f"{what} not reached within {timeout} s")


async def wait_exited(runtime: DockerRuntime, cid: ContainerID, timeout: float = DEADLINE) -> RuntimeContainer:
    async def exited() -> bool:
        return (await runtime.inspect_container(cid)).state == "exited"

    await wait_until(exited, timeout, f"exit of {cid[:12]}")
    return await runtime.inspect_container(cid)


async def text_logs(runtime: DockerRuntime, cid: ContainerID, **options: Any) -> str:
    chunks = [chunk async for chunk in runtime.logs(cid, **options)]
    return b"".join(chunks).decode()


async def sandbox(runtime: DockerRuntime, pod: PodRef, ports: Sequence[PortBinding] = ()) -> RuntimeContainer:
    return await runtime.run_sandbox(SandboxSpec(pod=pod, image=PAUSE, hostname=pod.name, ports=ports))


async def run(
    runtime: DockerRuntime,
    pod: PodRef,
    sandbox_id: ContainerID,
    name: str,
    image: str = BUSYBOX,
    *,
    entrypoint: Sequence[str] | None = None,
    cmd: Sequence[str] | None = None,
    start: bool = True,
    **spec: Any,
) -> ContainerID:
    container = ContainerSpec(
        pod=pod, name=name, kind="app", attempt=0, image=image, sandbox_id=sandbox_id, entrypoint=entrypoint, cmd=cmd, **spec
    )
    cid = await runtime.create_container(container)
    if start:
        await runtime.start_container(cid)
    return cid


async def output_of(runtime: DockerRuntime, pod: PodRef, sandbox_id: ContainerID, name: str, **spec: Any) -> tuple[int, str]:
    cid = await run(runtime, pod, sandbox_id, name, **spec)
    done = await wait_exited(runtime, cid)
    assert done.exit_code is not None
    return done.exit_code, await text_logs(runtime, cid)


async def wait_for_log(runtime: DockerRuntime, cid: ContainerID, text: str) -> None:
    async def logged() -> bool:
        return text in await text_logs(runtime, cid)

    await wait_until(logged, what=f"log line {text!r}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# --- the sandbox and the pod network ---------------------------------------------------------------------


async def test_docker_runtime_satisfies_the_protocol_and_reports_its_version(runtime: DockerRuntime) -> None:
    checked: ContainerRuntime = runtime
    assert re.fullmatch(r"docker://\d+\.\d+\.\d+\S*", await checked.version())


async def test_run_sandbox_returns_its_ip(runtime: DockerRuntime) -> None:
    pod = new_pod()
    box = await sandbox(runtime, pod)
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", box.ip)
    assert (box.state, box.kind, box.name, box.pod) == ("running", "sandbox", "POD", pod)
    assert box.labels[LABEL_KIND] == "sandbox" and box.labels[LABEL_INSTANCE] == runtime.instance
    assert box.started_at is not None and box.image == PAUSE and box.image_id.startswith("sha256:")


async def test_containers_of_a_pod_share_localhost(runtime: DockerRuntime) -> None:
    pod = new_pod()
    box = await sandbox(runtime, pod)
    server = await run(runtime, pod, box.id, "echo", ECHO)
    fetch = "for i in $(seq 100); do wget -q -O - http://127.0.0.1:3000/x && exit 0; sleep 0.1; done; exit 1"
    code, body = await output_of(runtime, pod, box.id, "client", cmd=["sh", "-c", fetch])
    assert code == 0 and "GET /x" in body
    await wait_for_log(runtime, server, "GET /x")


async def test_host_port_reaches_the_pod(runtime: DockerRuntime) -> None:
    pod, port = new_pod(), free_port()
    box = await sandbox(runtime, pod, ports=[PortBinding(container_port=3000, host_port=port, host_ip="127.0.0.1")])
    server = await run(runtime, pod, box.id, "echo", ECHO)
    await wait_for_log(runtime, server, "listening")

    async def answered() -> bool:
        async with httpx.AsyncClient() as client:
            try:
                response = await client.get(f"http://127.0.0.1:{port}/through-the-host-port")
            except httpx.TransportError:
                return False
            return response.status_code == 200 and "GET /through-the-host-port" in response.text

    await wait_until(answered, what="an answer on the host port")


# --- container options ------------------------------------------------------------------------------------


async def test_command_without_args_drops_the_image_cmd(runtime: DockerRuntime) -> None:
    pod = new_pod()
    box = await sandbox(runtime, pod)
    # busybox's CMD is ["sh"]: were it kept, echo would print "only-command sh".
    assert await output_of(runtime, pod, box.id, "cmd", entrypoint=["echo", "only-command"]) == (0, "only-command\n")
    assert await output_of(runtime, pod, box.id, "args", cmd=["echo", "only-args"]) == (0, "only-args\n")
    both = await output_of(runtime, pod, box.id, "both", entrypoint=["sh", "-c"], cmd=["echo both $0", "zero"])
    assert both == (0, "both zero\n")


async def test_args_without_command_keep_the_image_entrypoint(runtime: DockerRuntime, docker_client: docker.DockerClient) -> None:
    pod = new_pod()
    box = await sandbox(runtime, pod)
    cid = await run(runtime, pod, box.id, "pause", PAUSE, cmd=["ignored"])
    config = docker_client.api.inspect_container(cid)["Config"]
    assert (config["Entrypoint"], config["Cmd"]) == (["/pause"], ["ignored"])
    assert (await runtime.inspect_container(cid)).state == "running"


async def test_env_and_working_dir(runtime: DockerRuntime) -> None:
    pod = new_pod()
    box = await sandbox(runtime, pod)
    spec = {"env": [("GREETING", "hello"), ("EMPTY", "")], "working_dir": "/tmp"}
    code, out = await output_of(runtime, pod, box.id, "env", cmd=["sh", "-c", 'echo "$GREETING [$EMPTY] $(pwd)"'], **spec)
    assert (code, out) == (0, "hello [] /tmp\n")


async def test_bind_mounts(runtime: DockerRuntime, tmp_path: Path) -> None:
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "file").write_text("from the host\n")
    (tmp_path / "rw").mkdir()
    mounts = [Mount(str(tmp_path / "ro"), "/data", read_only=True), Mount(str(tmp_path / "rw"), "/out")]
    script = "cat /data/file; touch /data/nope 2>/dev/null && echo writable; echo written > /out/file"
    pod = new_pod()
    box = await sandbox(runtime, pod)
    assert await output_of(runtime, pod, box.id, "mounts", cmd=["sh", "-c", script], mounts=mounts) == (0, "from the host\n")
    assert (tmp_path / "rw" / "file").read_text() == "written\n"


async def test_resource_limits_reach_docker(runtime: DockerRuntime, docker_client: docker.DockerClient) -> None:
    pod = new_pod()
    box = await sandbox(runtime, pod)
    cid = await run(
        runtime, pod, box.id, "limited", cmd=["sleep", "1"], start=False, memory_bytes=64 << 20, nano_cpus=250_000_000
    )
    host_config = docker_client.api.inspect_container(cid)["HostConfig"]
    assert (host_config["Memory"], host_config["NanoCpus"]) == (64 << 20, 250_000_000)
    assert host_config["NetworkMode"] == f"container:{box.id}"
    assert host_config["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "10m"}}


# --- stop, states, removal ---------------------------------------------------------------------------------


async def test_stop_kills_a_term_ignoring_container_after_the_grace_period(runtime: DockerRuntime) -> None:
    pod = new_pod()
    box = await sandbox(runtime, pod)
    stubborn = await run(runtime, pod, box.id, "stubborn", cmd=["sh", "-c", 'trap "" TERM; echo ready; sleep 100'])
    await wait_for_log(runtime, stubborn, "ready")
    started = time.monotonic()
    await runtime.stop_container(stubborn, timeout=2)
    elapsed = time.monotonic() - started
    stopped = await runtime.inspect_container(stubborn)
    assert 1.9 <= elapsed < 6, elapsed
    assert (stopped.state, stopped.exit_code, stopped.oom_killed) == ("exited", 137, False)


async def test_stop_of_a_term_handling_container_is_fast(runtime: DockerRuntime) -> None:
    pod = new_pod()
    box = await sandbox(runtime, pod)
    server = await run(runtime, pod, box.id, "echo", ECHO)
    await wait_for_log(runtime, server, "listening")
    started = time.monotonic()
    await runtime.stop_container(server, timeout=10)
    assert time.monotonic() - started < 2
    assert (await runtime.inspect_container(server)).exit_code == 0
    await runtime.stop_container(server, timeout=10)  # already stopped: no error


async def test_states_timestamps_and_exit_codes(runtime: DockerRuntime) -> None:
    pod = new_pod()
    box = await sandbox(runtime, pod)
    before = datetime.now(UTC) - timedelta(seconds=2)  # the engine's clock is ours, give or take
    cid = await run(runtime, pod, box.id, "three", cmd=["sh", "-c", "sleep 0.3; exit 3"], start=False)
    created = await runtime.inspect_container(cid)
    assert (created.state, created.exit_code, created.started_at, created.finished_at) == ("created", None, None, None)
    assert created.created_at is not None and created.created_at >= before
    await runtime.start_container(cid)
    running = await runtime.inspect_container(cid)
    assert running.state == "running" and running.started_at is not None and running.exit_code is None
    done = await wait_exited(runtime, cid)
    assert (done.exit_code, done.oom_killed, done.error) == (3, False, "")
    assert done.finished_at is not None and done.started_at == running.started_at and done.finished_at > running.started_at
    listed = {c.id: c for c in await runtime.list_containers(pod_uid=pod.uid)}
    assert set(listed) == {box.id, cid} and listed[cid] == done
    assert (await runtime.list_containers(pod_uid=pod.uid)) == list(listed.values())  # the cached answer is the same


async def test_a_failed_start_is_an_exited_container_with_the_error(runtime: DockerRuntime) -> None:
    pod = new_pod()
    box = await sandbox(runtime, pod)
    cid = await run(runtime, pod, box.id, "broken", entrypoint=["/no/such/binary"], start=False)
    with pytest.raises(ContainerRuntimeError, match="no such file or directory"):
        await runtime.start_container(cid)
    failed = await runtime.inspect_container(cid)
    assert failed.state == "exited" and failed.exit_code in (127, 128)
    assert "no such file or directory" in failed.error and failed.started_at == failed.finished_at == failed.created_at


async def test_remove_twice_and_gone_containers(runtime: DockerRuntime) -> None:
    pod = new_pod()
    box = await sandbox(runtime, pod)
    cid = await run(runtime, pod, box.id, "gone", cmd=["sleep", "100"])
    await runtime.remove_container(cid)
    await runtime.remove_container(cid)
    await runtime.stop_container(cid, timeout=1)
    with pytest.raises(ContainerNotFoundError):
        await runtime.inspect_container(cid)
    assert [c.id for c in await runtime.list_containers()] == [box.id]


async def test_instances_do_not_see_each_other(instances: Instances) -> None:
    mine, theirs = instances.new(), instances.new()
    my_box = await sandbox(mine, new_pod("mine"))
    their_box = await sandbox(theirs, new_pod("theirs"))
    assert [c.id for c in await mine.list_containers()] == [my_box.id]
    assert [c.id for c in await theirs.list_containers()] == [their_box.id]


# --- exec -----------------------------------------------------------------------------------------------------


async def test_exec_exit_code_output_and_limit(runtime: DockerRuntime) -> None:
    pod = new_pod()
    box = await sandbox(runtime, pod)
    cid = await run(runtime, pod, box.id, "shell", cmd=["sleep", "100"])
    result = await runtime.exec(cid, ["sh", "-c", "echo out; echo err >&2; exit 4"], timeout=5)
    assert (result.exit_code, result.timed_out) == (4, False)
    assert sorted(result.output.splitlines()) == [b"err", b"out"]  # two pipes: their order is not kept
    big = await runtime.exec(cid, ["sh", "-c", "head -c 50000 /dev/zero"], timeout=5)
    assert (big.exit_code, len(big.output)) == (0, EXEC_OUTPUT_LIMIT)
    missing = await runtime.exec(cid, ["no-such-command"], timeout=5)  # Docker: not an error, exit code 126
    assert missing.exit_code == 126 and b"executable file not found" in missing.output


async def test_exec_timeout(runtime: DockerRuntime) -> None:
    pod = new_pod()
    box = await sandbox(runtime, pod)
    cid = await run(runtime, pod, box.id, "shell", cmd=["sleep", "100"])
    started = time.monotonic()
    result = await runtime.exec(cid, ["sh", "-c", "echo early; sleep 30"], timeout=0.5)
    assert result.timed_out and result.exit_code == -1 and result.output == b"early\n"
    assert time.monotonic() - started < 3
    assert (await runtime.exec(cid, ["true"], timeout=5)).exit_code == 0  # the runtime is still usable


async def test_exec_in_a_stopped_container_fails(runtime: DockerRuntime) -> None:
    pod = new_pod()
    box = await sandbox(runtime, pod)
    cid = await run(runtime, pod, box.id, "done", cmd=["true"])
    await wait_exited(runtime, cid)
    with pytest.raises(ContainerRuntimeError, match="is not running"):
        await runtime.exec(cid, ["true"], timeout=5)


# --- events and logs ---------------------------------------------------------------------------------------------


async def test_events_report_start_and_die(runtime: DockerRuntime) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    pod = new_pod()
    box = await sandbox(runtime, pod)
    cid = await run(runtime, pod, box.id, "short", cmd=["true"])
    seen: list[RuntimeEvent] = []

    async def until_die() -> None:
        async for event in runtime.events(since=since):
            seen.append(event)
            if event.container_id == cid and event.action == "die":
                return

    await asyncio.wait_for(until_die(), DEADLINE)
    assert RuntimeEvent(box.id, pod.uid, "start") in seen and RuntimeEvent(cid, pod.uid, "start") in seen


async def test_events_stream_live_and_ends_on_close(runtime: DockerRuntime) -> None:
    pod = new_pod()
    events = runtime.events()
    first = asyncio.ensure_future(anext(events))
    box = await sandbox(runtime, pod)

    async def keep_starting() -> None:  # the stream may open after the first start: start more until one is seen
        for attempt in range(1, 100):
            if first.done():
                return
            cid = await run(runtime, pod, box.id, f"tick{attempt}", cmd=["true"])
            await wait_exited(runtime, cid)

    ticker = asyncio.ensure_future(keep_starting())
    event = await asyncio.wait_for(first, DEADLINE)
    await asyncio.wait_for(ticker, DEADLINE)  # not cancelled: a cancelled create would still make its container
    assert event.pod_uid == pod.uid and event.action in ("start", "die")
    pending = asyncio.ensure_future(anext(events))
    await runtime.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(pending, DEADLINE)


async def test_logs_whole_tail_and_timestamps(runtime: DockerRuntime) -> None:
    pod = new_pod()
    box = await sandbox(runtime, pod)
    talk = ["sh", "-c", "echo one; echo two; echo three"]
    assert await output_of(runtime, pod, box.id, "talker", cmd=talk) == (0, "one\ntwo\nthree\n")
    cid = next(c.id for c in await runtime.list_containers() if c.name == "talker")
    assert await text_logs(runtime, cid, tail=1) == "three\n"
    stamped = (await text_logs(runtime, cid, timestamps=True)).splitlines()
    assert len(stamped) == 3
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z (one|two|three)", line) for line in stamped), stamped
    assert await text_logs(runtime, cid, since=datetime.now(UTC) + timedelta(seconds=5)) == ""
    with pytest.raises(ContainerNotFoundError):
        await text_logs(runtime, ContainerID("no-such-container"))


async def test_logs_hold_stdout_and_stderr(runtime: DockerRuntime) -> None:
    pod = new_pod()
    box = await sandbox(runtime, pod)
    code, out = await output_of(runtime, pod, box.id, "both", cmd=["sh", "-c", "echo out; echo err >&2"])
    assert code == 0 and sorted(out.splitlines()) == ["err", "out"]  # two pipes: their order is not kept


async def test_logs_follow_until_exit(runtime: DockerRuntime) -> None:
    pod = new_pod()
    box = await sandbox(runtime, pod)
    cid = await run(runtime, pod, box.id, "slow", cmd=["sh", "-c", "echo a; sleep 0.5; echo b"])
    started = time.monotonic()
    followed = await asyncio.wait_for(text_logs(runtime, cid, follow=True), DEADLINE)
    assert followed == "a\nb\n" and time.monotonic() - started >= 0.3


async def test_closing_a_follow_stream_early(runtime: DockerRuntime) -> None:
    pod = new_pod()
    box = await sandbox(runtime, pod)
    cid = await run(runtime, pod, box.id, "forever", cmd=["sh", "-c", "while true; do echo tick; sleep 0.1; done"])
    stream = runtime.logs(cid, follow=True)
    assert (await asyncio.wait_for(anext(stream), DEADLINE)).startswith(b"tick")
    await asyncio.wait_for(stream.aclose(), DEADLINE)


# --- images -----------------------------------------------------------------------------------------------------


async def test_image_id_present_and_absent(runtime: DockerRuntime, docker_client: docker.DockerClient) -> None:
    assert await runtime.image_id(BUSYBOX) == docker_client.images.get(BUSYBOX).id
    assert await runtime.image_id("minikubelet.local/no-such-image:0") is None


async def test_pull_from_an_unreachable_registry_fails_with_the_engines_message(runtime: DockerRuntime) -> None:
    with pytest.raises(ImagePullError) as failed:
        await asyncio.wait_for(runtime.pull_image("busybox:1.36"), 30)
    assert "registry-1.docker.io" in str(failed.value)
