"""The kubelet's decisions about ephemeral containers (`kubectl debug`), one sync at a time, against the in-memory
runtime and a real store: started once in the pod's sandbox and its target's process namespace, never restarted,
reported in ephemeralContainerStatuses without touching the pod's phase or readiness, killed with the pod, kept
by a restarted kubelet, and served by logs, exec and attach."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_kubelet_sync import BUSYBOX, NODE, PAUSE, Harness

from minikubelet.apiserver.registry import RESOURCES
from minikubelet.errors import BadRequestError
from minikubelet.kubelet.kubelet import Kubelet
from minikubelet.kubelet.streaming import open_exec
from minikubelet.recorder import EventRecorder
from minikubelet.runtime.interface import ContainerSpec


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path)
    yield harness
    harness.store.close()


def debug(h: Harness, pod: str, name: str = "debugger", **fields: Any) -> None:
    """What `kubectl debug` does: a strategic merge patch of pods/ephemeralcontainers."""
    container = {"name": name, "image": BUSYBOX, "stdin": True, "tty": True, **fields}
    patch = {"spec": {"ephemeralContainers": [container]}}
    h.registry.patch(RESOURCES["pods"], "default", pod, "strategic", patch, subresource="ephemeralcontainers")


def ephemeral_status(h: Harness, pod: str, name: str = "debugger") -> dict[str, Any]:
    statuses: list[dict[str, Any]] = h.pod(pod)["status"]["ephemeralContainerStatuses"]
    return next(s for s in statuses if s["name"] == name)


def field_paths(h: Harness, pod: str) -> list[tuple[str, str]]:
    events, _ = h.store.list("Event", "default", field_selector=f"involvedObject.name={pod}")
    events.sort(key=lambda e: int(e["metadata"]["resourceVersion"]))
    return [(e["reason"], e["involvedObject"].get("fieldPath", "")) for e in events]


async def test_started_once_in_the_sandbox_and_the_targets_process_namespace(h: Harness) -> None:
    ref = h.create("web")
    await h.sync(ref)
    debug(h, "web", targetContainerName="main")
    await h.sync(ref)
    record = h.runtime.by_name(ref, "debugger")
    spec = record.spec
    assert isinstance(spec, ContainerSpec)
    main, sandbox = h.runtime.by_name(ref, "main"), h.runtime.by_name(ref, "POD")
    assert (spec.kind, spec.sandbox_id, spec.pid_namespace_of) == ("ephemeral", sandbox.id, main.id)
    assert (spec.stdin, spec.tty, spec.attempt) == (True, True, 0)
    assert record.labels["io.minikubelet.container.kind"] == "ephemeral"
    where = "spec.ephemeralContainers{debugger}"
    assert field_paths(h, "web")[-3:] == [("Pulled", where), ("Created", where), ("Started", where)]
    status = ephemeral_status(h, "web")
    assert "running" in status["state"] and status["ready"] is False and "started" not in status
    assert status["containerID"] == f"docker://{record.id}"


async def test_without_a_target_it_has_its_own_process_namespace(h: Harness) -> None:
    ref = h.create("web")
    await h.sync(ref)
    debug(h, "web")
    await h.sync(ref)
    spec = h.runtime.by_name(ref, "debugger").spec
    assert isinstance(spec, ContainerSpec) and spec.pid_namespace_of is None


async def test_a_pod_sharing_its_process_namespace_puts_every_container_in_the_sandboxs(h: Harness) -> None:
    ref = h.create("shared", shareProcessNamespace=True)
    await h.sync(ref)
    debug(h, "shared", targetContainerName="main")
    await h.sync(ref)
    sandbox = h.runtime.by_name(ref, "POD").id
    for name in ("main", "debugger"):
        spec = h.runtime.by_name(ref, name).spec
        assert isinstance(spec, ContainerSpec) and spec.pid_namespace_of == sandbox, name


@pytest.mark.parametrize("code", [0, 3])
async def test_never_restarted_and_never_counted(h: Harness, code: int) -> None:
    ref = h.create("web")  # restartPolicy Always
    await h.sync(ref)
    debug(h, "web")
    await h.sync(ref)
    h.runtime.finish(h.runtime.by_name(ref, "debugger").id, code)
    await h.sync(ref)
    h.clock.advance(600)
    await h.sync(ref)
    assert len([c for c in h.runtime.calls_of("create") if "_debugger_" in c[1]]) == 1
    terminated = ephemeral_status(h, "web")["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (code, "Completed" if code == 0 else "Error")
    status = h.pod("web")["status"]
    assert status["phase"] == "Running"
    assert {c["type"]: c["status"] for c in status["conditions"]}["Ready"] == "True"
    assert [s["name"] for s in status["containerStatuses"]] == ["main"]


async def test_statuses_are_sorted_by_name_and_wait_while_the_pod_is_created(h: Harness) -> None:
    ref = h.create("web")
    await h.sync(ref)
    debug(h, "web", name="zeta")
    debug(h, "web", name="alpha", image="example.com/absent:1", imagePullPolicy="Never")
    await h.sync(ref)
    statuses = h.pod("web")["status"]["ephemeralContainerStatuses"]
    assert [s["name"] for s in statuses] == ["alpha", "zeta"]
    assert statuses[0]["state"]["waiting"]["reason"] == "ErrImageNeverPull"


async def test_an_unpullable_image_waits_in_err_image_pull_then_back_off(h: Harness) -> None:
    ref = h.create("web")
    await h.sync(ref)
    debug(h, "web", image="nonexistent.invalid/x:1")
    await h.sync(ref)
    waiting = ephemeral_status(h, "web")["state"]["waiting"]
    assert waiting["reason"] == "ErrImagePull" and "pull access denied" in waiting["message"]
    await h.sync(ref)
    assert ephemeral_status(h, "web")["state"]["waiting"] == {
        "reason": "ImagePullBackOff",
        "message": 'Back-off pulling image "nonexistent.invalid/x:1": ErrImagePull: ' + waiting["message"],
    }
    assert h.pod("web")["status"]["phase"] == "Running"
    where = "spec.ephemeralContainers{debugger}"
    assert ("Failed", where) in field_paths(h, "web") and ("BackOff", where) in field_paths(h, "web")


async def test_a_target_without_an_instance_is_a_config_error_until_it_has_one(h: Harness) -> None:
    ref = h.create("web", image="example.com/absent:1", policy="Never")  # main never starts
    await h.sync(ref)
    debug(h, "web", targetContainerName="main")
    await h.sync(ref)
    assert ephemeral_status(h, "web")["state"]["waiting"] == {
        "reason": "CreateContainerConfigError",
        "message": "unable to find target container main",
    }
    assert ("Failed", "spec.ephemeralContainers{debugger}") in field_paths(h, "web")
    assert not [c for c in h.runtime.calls_of("create") if "_debugger_" in c[1]]


async def test_killed_with_the_pod(h: Harness) -> None:
    ref = h.create("gone", terminationGracePeriodSeconds=5)
    await h.sync(ref)
    debug(h, "gone")
    await h.sync(ref)
    name = h.runtime.by_name(ref, "debugger").docker_name
    h.registry.delete(RESOURCES["pods"], "default", "gone")
    assert not await h.sync(ref)
    assert ("stop", name, "5") in h.runtime.calls
    assert not await h.runtime.list_containers(pod_uid=ref.uid)
    assert ("Killing", "spec.ephemeralContainers{debugger}") in field_paths(h, "gone")


async def test_a_finished_pod_stops_a_debugger_still_running(h: Harness) -> None:
    ref = h.create("job", restart="Never")
    await h.sync(ref)
    debug(h, "job")
    await h.sync(ref)
    h.finish(ref, 0, 0)
    await h.sync(ref)
    assert h.pod("job")["status"]["phase"] == "Succeeded"
    await h.sync(ref)
    assert h.runtime.by_name(ref, "debugger").state == "exited"
    assert ("Killing", "spec.ephemeralContainers{debugger}") in field_paths(h, "job")


async def test_a_restarted_kubelet_keeps_them(h: Harness, tmp_path: Path) -> None:
    ref = h.create("web")
    await h.sync(ref)
    debug(h, "web", name="done")
    debug(h, "web", name="live")
    await h.sync(ref)
    h.runtime.finish(h.runtime.by_name(ref, "done").id, 0)
    await h.sync(ref)
    before = h.pod("web")["status"]["ephemeralContainerStatuses"]
    creates = len(h.runtime.calls_of("create"))
    restarted = Kubelet(
        h.store,
        h.runtime,
        node_name=NODE,
        pod_infra_image=PAUSE,
        state_dir=tmp_path,
        recorder=EventRecorder(h.store, component="kubelet", host=NODE, clock=h.clock),
        host_ip="10.0.0.1",
        clock=h.clock,
        monotonic=h.clock.monotonic,
    )
    await restarted.adopt()
    await restarted.sync(ref)
    assert len(h.runtime.calls_of("create")) == creates, "neither the exited nor the running one is started again"
    assert h.pod("web")["status"]["ephemeralContainerStatuses"] == before


async def test_logs_and_exec_know_them(h: Harness) -> None:
    ref = h.create("web")
    await h.sync(ref)
    debug(h, "web")
    await h.sync(ref)
    h.runtime.write_logs(h.runtime.by_name(ref, "debugger").id, b"from the debugger\n")
    chunks = [chunk async for chunk in await h.kubelet.open_logs("default", "web", container="debugger")]
    assert b"".join(chunks) == b"from the debugger\n"
    session = await open_exec(h.kubelet, "default", "web", container="debugger", command=["ps"], stdin=False, tty=False)
    await session.close()
    with pytest.raises(BadRequestError, match=r"^container nope is not valid for pod web$"):
        await open_exec(h.kubelet, "default", "web", container="nope", command=["ps"], stdin=False, tty=False)
