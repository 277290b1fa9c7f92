"""The kubelet after faults, against the in-memory runtime and a real store: a restarted kubelet goes on with
the restart back-off; a container or sandbox removed behind its back is replaced as a restart; a pod that
never restarts is not given a new sandbox. (tests/reliability/ has the same on the real engine.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from minikubelet.apiserver.registry import RESOURCES, Registry
from minikubelet.kubelet.kubelet import Kubelet
from minikubelet.recorder import EventRecorder
from minikubelet.runtime.fake import DEFAULT_STOP_EXIT_CODE, FakeRuntime
from minikubelet.runtime.interface import ContainerSpec, PodRef
from minikubelet.store import Store

NODE = "node-1"
PAUSE = "minikubelet.local/pause:3.10"
BUSYBOX = "minikubelet.local/busybox:1.35"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Harness:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.clock = Clock()
        self.store = Store(tmp_path / "state.db")
        self.registry = Registry(self.store, clock=self.clock)
        self.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
        self.runtime = FakeRuntime(present_images=[PAUSE, BUSYBOX], clock=self.clock)
        self.kubelet = self.new_kubelet()

    def new_kubelet(self) -> Kubelet:
        """A kubelet as a (re)started daemon makes it: same store and engine, nothing in memory."""
        return Kubelet(
            self.store,
            self.runtime,
            node_name=NODE,
            pod_infra_image=PAUSE,
            state_dir=self.tmp_path,
            recorder=EventRecorder(self.store, component="kubelet", host=NODE, clock=self.clock),
            host_ip="10.0.0.1",
            clock=self.clock,
            monotonic=lambda: self.clock.now.timestamp(),
        )

    def create(self, name: str, *, restart: str = "Always") -> PodRef:
        body = {
            "metadata": {"name": name},
            "spec": {"restartPolicy": restart, "containers": [{"name": "main", "image": BUSYBOX}]},
        }
        pod, _ = self.registry.create(RESOURCES["pods"], "default", body)
        self.registry.bind("default", name, {"target": {"name": NODE}})
        return PodRef(pod["metadata"]["uid"], name, "default")

    def pod(self, name: str) -> dict[str, Any]:
        return self.store.get("Pod", "default", name)

    def main_status(self, name: str) -> dict[str, Any]:
        statuses: list[dict[str, Any]] = self.pod(name)["status"]["containerStatuses"]
        return statuses[0]

    def reasons(self, name: str) -> dict[str, int]:
        """Each event reason of the pod, with its count (the recorder folds repeats into one event)."""
        events, _ = self.store.list("Event", "default", field_selector=f"involvedObject.name={name}")
        return {e["reason"]: int(e.get("count") or 1) for e in events}

    def finish(self, ref: PodRef, attempt: int, code: int) -> None:
        self.runtime.finish(self.runtime.by_name(ref, "main", attempt).id, code)

    def sandbox(self, ref: PodRef, attempt: int = 0) -> Any:
        return self.runtime.by_name(ref, "POD", attempt)


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path)
    yield harness
    harness.store.close()


def waiting_message(h: Harness, name: str) -> str:
    message: str = h.main_status(name)["state"]["waiting"]["message"]
    return message


async def test_a_restarted_kubelet_goes_on_with_the_back_off(h: Harness) -> None:
    ref = h.create("crash")
    await h.kubelet.sync(ref)
    h.finish(ref, 0, 1)
    await h.kubelet.sync(ref)  # the first restart is immediate
    h.clock.advance(1)
    h.finish(ref, 1, 1)
    h.clock.advance(11)
    await h.kubelet.sync(ref)  # after 10 s of back-off: attempt 2
    h.finish(ref, 2, 1)
    await h.kubelet.sync(ref)
    assert waiting_message(h, "crash").startswith("back-off 20s ")

    restarted = h.new_kubelet()
    await restarted.adopt()
    await restarted.sync(ref)
    assert h.main_status("crash")["restartCount"] == 2, "not restarted at once"
    assert waiting_message(h, "crash").startswith("back-off 20s ")
    h.clock.advance(19)
    await restarted.sync(ref)
    assert h.main_status("crash")["restartCount"] == 2
    h.clock.advance(2)
    await restarted.sync(ref)
    assert h.main_status("crash")["restartCount"] == 3
    h.finish(ref, 3, 1)
    await restarted.sync(ref)
    assert waiting_message(h, "crash").startswith("back-off 40s "), "the delay doubles on, as before the restart"


async def test_a_long_run_before_the_last_restart_reset_the_back_off(h: Harness) -> None:
    ref = h.create("crash")
    await h.kubelet.sync(ref)
    h.finish(ref, 0, 1)
    await h.kubelet.sync(ref)  # attempt 1, at once; the back-off is 10 s
    h.clock.advance(700)  # attempt 1 runs longer than twice the maximum back-off...
    h.finish(ref, 1, 1)
    await h.kubelet.sync(ref)  # ...so attempt 2 starts at once and the back-off starts again from 10 s
    assert h.main_status("crash")["restartCount"] == 2

    restarted = h.new_kubelet()
    await restarted.adopt()
    h.clock.advance(1)
    h.finish(ref, 2, 1)
    await restarted.sync(ref)
    assert waiting_message(h, "crash").startswith("back-off 10s ")


async def test_a_removed_container_is_replaced_and_counted_as_a_restart(h: Harness) -> None:
    ref = h.create("web")
    await h.kubelet.sync(ref)
    await h.runtime.remove_container(h.runtime.by_name(ref, "main", 0).id)  # `docker rm -f`
    await h.kubelet.sync(ref)
    status = h.main_status("web")
    assert status["restartCount"] == 1 and "running" in status["state"]
    assert h.runtime.by_name(ref, "main", 1).state == "running"
    assert "SandboxChanged" not in h.reasons("web")


async def test_a_removed_sandbox_recreates_the_pod(h: Harness) -> None:
    ref = h.create("web")
    await h.kubelet.sync(ref)
    first = h.runtime.by_name(ref, "main", 0)
    await h.runtime.remove_container(h.sandbox(ref).id)  # the app still runs, in a network that is gone
    await h.kubelet.sync(ref)
    # As SyncPod: the running container is killed; SandboxChanged only when there was an old sandbox to replace.
    assert h.reasons("web") == {"Pulled": 2, "Created": 2, "Started": 2, "Killing": 1}
    assert first.state == "exited" and first.exit_code == DEFAULT_STOP_EXIT_CODE
    status = h.main_status("web")
    assert status["restartCount"] == 1 and "running" in status["state"]
    assert status["lastState"]["terminated"]["containerID"] == f"docker://{first.id}"
    replacement = h.runtime.by_name(ref, "main", 1)
    assert isinstance(replacement.spec, ContainerSpec)
    assert replacement.spec.sandbox_id == h.sandbox(ref).id, "the new container joined the new sandbox"


async def test_a_dead_sandbox_is_a_sandbox_change(h: Harness) -> None:
    ref = h.create("web")
    await h.kubelet.sync(ref)
    h.runtime.finish(h.sandbox(ref).id, 137)  # `docker kill` of the pause container
    await h.kubelet.sync(ref)
    assert h.reasons("web") == {"Pulled": 2, "Created": 2, "Started": 2, "SandboxChanged": 1, "Killing": 1}
    assert h.sandbox(ref, 1).state == "running"
    status = h.main_status("web")
    assert status["restartCount"] == 1 and "running" in status["state"]
    assert status["lastState"]["terminated"]["exitCode"] == DEFAULT_STOP_EXIT_CODE


async def test_a_dead_sandbox_fails_a_pod_that_never_restarts(h: Harness) -> None:
    ref = h.create("once", restart="Never")
    await h.kubelet.sync(ref)
    h.runtime.finish(h.sandbox(ref).id, 137)
    await h.kubelet.sync(ref)
    assert h.pod("once")["status"]["phase"] == "Failed"
    assert h.main_status("once")["state"]["terminated"]["exitCode"] == DEFAULT_STOP_EXIT_CODE
    assert h.reasons("once") == {"Pulled": 1, "Created": 1, "Started": 1, "Killing": 1}, "killed; no new sandbox"
    assert [c for c in h.runtime.calls if c[0] == "run_sandbox"] == [("run_sandbox", h.sandbox(ref).docker_name)]
