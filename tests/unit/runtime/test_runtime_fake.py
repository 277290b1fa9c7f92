"""FakeRuntime keeps the promises of the ContainerRuntime protocol, so kubelet tests built on it mean something."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from minikubelet.errors import ContainerNotFoundError, ContainerRuntimeError, ImagePullError, RuntimeUnavailableError
from minikubelet.runtime.fake import FakeRuntime, fake_image_id, normalize_image
from minikubelet.runtime.interface import (
    LABEL_ATTEMPT,
    LABEL_CONTAINER,
    LABEL_INSTANCE,
    LABEL_KIND,
    LABEL_UID,
    ContainerID,
    ContainerRuntime,
    ContainerSpec,
    ExecResult,
    PodRef,
    RuntimeEvent,
    SandboxSpec,
    container_name,
)

PAUSE = "minikubelet.local/pause:3.10"
BUSYBOX = "minikubelet.local/busybox:1.35"
POD = PodRef(uid="0123456789abcdef", name="web", namespace="default")
OTHER_POD = PodRef(uid="fedcba9876543210", name="db", namespace="prod")


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def runtime(clock: Clock) -> FakeRuntime:
    return FakeRuntime(present_images=[PAUSE, BUSYBOX], clock=clock)


def app_spec(
    sandbox_id: ContainerID, name: str = "app", attempt: int = 0, image: str = BUSYBOX, pod: PodRef = POD
) -> ContainerSpec:
    return ContainerSpec(pod=pod, name=name, kind="app", attempt=attempt, image=image, sandbox_id=sandbox_id, spec_hash="h1")


async def running_app(runtime: FakeRuntime, name: str = "app", pod: PodRef = POD) -> tuple[ContainerID, ContainerID]:
    sandbox = await runtime.run_sandbox(SandboxSpec(pod=pod, image=PAUSE, hostname=pod.name))
    cid = await runtime.create_container(app_spec(sandbox.id, name, pod=pod))
    await runtime.start_container(cid)
    return sandbox.id, cid


async def next_event(events: AsyncIterator[RuntimeEvent]) -> RuntimeEvent:
    return await asyncio.wait_for(anext(events), 1)


def test_fake_satisfies_the_protocol() -> None:
    runtime: ContainerRuntime = FakeRuntime()
    assert runtime is not None


async def test_fake_sandbox_gets_ip_labels_and_name(runtime: FakeRuntime, clock: Clock) -> None:
    first = await runtime.run_sandbox(SandboxSpec(pod=POD, image=PAUSE, hostname="web"))
    second = await runtime.run_sandbox(SandboxSpec(pod=OTHER_POD, image=PAUSE, hostname="db"))
    assert (first.ip, second.ip) == ("10.88.0.2", "10.88.0.3")
    assert (first.kind, first.name, first.state, first.started_at) == ("sandbox", "POD", "running", clock.now)
    assert first.labels[LABEL_KIND] == "sandbox" and first.labels[LABEL_UID] == POD.uid
    assert runtime.calls == [("run_sandbox", container_name(POD, "POD", 0)), ("run_sandbox", container_name(OTHER_POD, "POD", 0))]


async def test_fake_container_lifecycle(runtime: FakeRuntime, clock: Clock) -> None:
    sandbox = await runtime.run_sandbox(SandboxSpec(pod=POD, image=PAUSE, hostname="web"))
    clock.advance(1)
    cid = await runtime.create_container(app_spec(sandbox.id, attempt=2))
    created = await runtime.inspect_container(cid)
    assert (created.state, created.started_at, created.created_at, created.exit_code) == ("created", None, clock.now, None)
    assert created.labels[LABEL_ATTEMPT] == "2" and created.labels[LABEL_CONTAINER] == "app" and created.spec_hash == "h1"
    assert created.image_id == fake_image_id(BUSYBOX)
    clock.advance(1)
    await runtime.start_container(cid)
    assert (await runtime.inspect_container(cid)).started_at == clock.now
    clock.advance(5)
    runtime.finish(cid, 3)
    done = await runtime.inspect_container(cid)
    assert (done.state, done.exit_code, done.finished_at, done.oom_killed) == ("exited", 3, clock.now, False)
    name = container_name(POD, "app", 2)
    assert runtime.calls[1:] == [("create", name), ("start", name)]


async def test_fake_stop_and_remove_tolerate_gone_containers(runtime: FakeRuntime) -> None:
    sandbox_id, cid = await running_app(runtime)
    await runtime.stop_container(cid, timeout=30)
    stopped = await runtime.inspect_container(cid)
    assert (stopped.state, stopped.exit_code) == ("exited", 137)
    await runtime.stop_container(cid, timeout=30)  # already stopped: no error
    await runtime.stop_container(sandbox_id, timeout=2)
    assert (await runtime.inspect_container(sandbox_id)).exit_code == 0  # pause exits 0 on SIGTERM
    await runtime.remove_container(cid)
    await runtime.remove_container(cid)  # already gone: no error
    await runtime.stop_container(cid, timeout=1)
    with pytest.raises(ContainerNotFoundError):
        await runtime.inspect_container(cid)
    name = container_name(POD, "app", 0)
    assert runtime.calls_of("stop")[:2] == [("stop", name, "30"), ("stop", name, "30")]
    assert runtime.calls_of("remove") == [("remove", name), ("remove", cid)]


async def test_fake_stop_exit_code_per_image(runtime: FakeRuntime) -> None:
    runtime.stop_exit_codes[BUSYBOX] = 0
    _, cid = await running_app(runtime)
    await runtime.stop_container(cid, timeout=1)
    assert (await runtime.inspect_container(cid)).exit_code == 0


async def test_fake_list_filters_by_pod(runtime: FakeRuntime) -> None:
    await running_app(runtime, pod=POD)
    await running_app(runtime, pod=OTHER_POD)
    assert len(await runtime.list_containers()) == 4
    mine = await runtime.list_containers(pod_uid=POD.uid)
    assert {(c.name, c.pod) for c in mine} == {("POD", POD), ("app", POD)}
    assert all(c.labels[LABEL_INSTANCE] == "fake" for c in mine)


async def test_fake_images_present_and_pulled(runtime: FakeRuntime) -> None:
    assert await runtime.image_id(BUSYBOX) == fake_image_id(BUSYBOX)
    assert await runtime.image_id("nginx") is None
    runtime.pullable.add("nginx:latest")
    assert await runtime.pull_image("nginx") == fake_image_id("nginx:latest")
    assert await runtime.image_id("nginx:latest") == fake_image_id("nginx")
    assert normalize_image("localhost:5000/app") == "localhost:5000/app:latest"
    assert runtime.calls == [("pull", "nginx")]


async def test_fake_pull_failure_message_is_dockers(runtime: FakeRuntime) -> None:
    with pytest.raises(ImagePullError) as failed:
        await runtime.pull_image("localhost:5000/team/app:v2")
    assert str(failed.value) == (
        "Error response from daemon: pull access denied for localhost:5000/team/app, "
        "repository does not exist or may require 'docker login'"
    )
    runtime.pull_errors["busybox:1.36"] = 'Get "https://registry-1.docker.io/v2/": dial tcp: no such host'
    with pytest.raises(ImagePullError, match=r"registry-1\.docker\.io"):
        await runtime.pull_image("busybox:1.36")


async def test_fake_create_needs_image_sandbox_and_a_free_name(runtime: FakeRuntime) -> None:
    sandbox = await runtime.run_sandbox(SandboxSpec(pod=POD, image=PAUSE, hostname="web"))
    with pytest.raises(ContainerRuntimeError, match="No such image: nginx:latest"):
        await runtime.create_container(app_spec(sandbox.id, image="nginx"))
    with pytest.raises(ContainerNotFoundError):
        await runtime.create_container(app_spec(ContainerID("nope")))
    await runtime.create_container(app_spec(sandbox.id))
    with pytest.raises(ContainerRuntimeError, match="is already in use"):
        await runtime.create_container(app_spec(sandbox.id))


async def test_fake_start_needs_a_running_sandbox(runtime: FakeRuntime) -> None:
    sandbox = await runtime.run_sandbox(SandboxSpec(pod=POD, image=PAUSE, hostname="web"))
    cid = await runtime.create_container(app_spec(sandbox.id))
    await runtime.stop_container(sandbox.id, timeout=2)
    with pytest.raises(ContainerRuntimeError, match="non running container"):
        await runtime.start_container(cid)


async def test_fake_fail_start_leaves_an_exited_container_with_the_error(runtime: FakeRuntime) -> None:
    runtime.fail_start(BUSYBOX, 'exec: "nosuch": executable file not found in $PATH')
    sandbox = await runtime.run_sandbox(SandboxSpec(pod=POD, image=PAUSE, hostname="web"))
    cid = await runtime.create_container(app_spec(sandbox.id))
    with pytest.raises(ContainerRuntimeError, match="executable file not found"):
        await runtime.start_container(cid)
    failed = await runtime.inspect_container(cid)
    assert (failed.state, failed.exit_code) == ("exited", 128)
    assert "executable file not found" in failed.error and failed.started_at == failed.created_at


async def test_fake_failed_sandbox_is_removed(runtime: FakeRuntime) -> None:
    runtime.fail_start(PAUSE, "no")
    with pytest.raises(ContainerRuntimeError):
        await runtime.run_sandbox(SandboxSpec(pod=POD, image=PAUSE, hostname="web"))
    assert await runtime.list_containers() == []


async def test_fake_exec_results_by_argv(runtime: FakeRuntime) -> None:
    _, cid = await running_app(runtime)
    runtime.exec_results[("cat", "/tmp/healthy")] = ExecResult(1, b"cat: can't open '/tmp/healthy'\n")
    runtime.exec_results[("sleep", "9")] = ExecResult(-1, b"", timed_out=True)
    assert await runtime.exec(cid, ["true"], timeout=1) == ExecResult(0, b"")
    assert (await runtime.exec(cid, ["cat", "/tmp/healthy"], timeout=1)).exit_code == 1
    assert (await runtime.exec(cid, ("sleep", "9"), timeout=1)).timed_out
    assert runtime.execs == [(cid, ("true",)), (cid, ("cat", "/tmp/healthy")), (cid, ("sleep", "9"))]
    runtime.finish(cid, 0)
    with pytest.raises(ContainerRuntimeError, match="is not running"):
        await runtime.exec(cid, ["true"], timeout=1)
    with pytest.raises(ContainerNotFoundError):
        await runtime.exec(ContainerID("gone"), ["true"], timeout=1)


async def test_fake_events_in_order(runtime: FakeRuntime) -> None:
    events = runtime.events()
    pending = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0)  # subscribed
    sandbox_id, cid = await running_app(runtime)
    first = await asyncio.wait_for(pending, 1)
    assert first == RuntimeEvent(sandbox_id, POD.uid, "start")
    assert await next_event(events) == RuntimeEvent(cid, POD.uid, "start")
    runtime.finish(cid, 137, oom_killed=True)
    assert [(await next_event(events)).action for _ in range(2)] == ["oom", "die"]
    await runtime.remove_container(cid)
    assert (await next_event(events)).action == "destroy"
    await events.aclose()


async def test_fake_events_end_when_engine_goes_away(runtime: FakeRuntime) -> None:
    events = runtime.events()
    pending = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0)
    runtime.set_available(False)
    with pytest.raises(RuntimeUnavailableError):
        await asyncio.wait_for(pending, 1)
    with pytest.raises(RuntimeUnavailableError):
        await runtime.list_containers()
    runtime.set_available(True)
    assert await runtime.list_containers() == []


async def test_fake_events_end_quietly_on_close(runtime: FakeRuntime) -> None:
    events = runtime.events()
    pending = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0)
    await runtime.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(pending, 1)


async def collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def test_fake_logs_tail_since_timestamps(runtime: FakeRuntime, clock: Clock) -> None:
    _, cid = await running_app(runtime)
    runtime.write_logs(cid, b"one\ntwo\n")
    clock.advance(10)
    runtime.write_logs(cid, b"three\n")
    assert await collect(runtime.logs(cid)) == b"one\ntwo\nthree\n"
    assert await collect(runtime.logs(cid, tail=2)) == b"two\nthree\n"
    assert await collect(runtime.logs(cid, tail=0)) == b""
    assert await collect(runtime.logs(cid, since=clock.now)) == b"three\n"
    assert await collect(runtime.logs(cid, tail=1, timestamps=True)) == b"2024-05-01T12:00:10.000000000Z three\n"
    with pytest.raises(ContainerNotFoundError):
        await collect(runtime.logs(ContainerID("gone")))


async def test_fake_logs_follow_until_exit(runtime: FakeRuntime) -> None:
    _, cid = await running_app(runtime)
    runtime.write_logs(cid, b"before\n")
    following = asyncio.ensure_future(collect(runtime.logs(cid, follow=True)))
    await asyncio.sleep(0)
    runtime.write_logs(cid, b"during\n")
    await asyncio.sleep(0)
    runtime.write_logs(cid, b"more\n")  # while the follower is between two chunks
    await asyncio.sleep(0)
    assert not following.done()
    runtime.write_logs(cid, b"last\n")
    runtime.finish(cid, 0)
    assert await asyncio.wait_for(following, 1) == b"before\nduring\nmore\nlast\n"


async def test_fake_by_name_and_version(runtime: FakeRuntime) -> None:
    _, cid = await running_app(runtime)
    assert runtime.by_name(POD, "app").id == cid
    assert await runtime.version() == "fake://1.0.0"
