"""The kubelet's decisions, one sync at a time, against the in-memory runtime and a real store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from minikubelet.apiserver.registry import RESOURCES, Registry
from minikubelet.kubelet.kubelet import Kubelet
from minikubelet.recorder import EventRecorder
from minikubelet.runtime.fake import FakeRuntime, normalize_image
from minikubelet.runtime.interface import PodRef
from minikubelet.store import Store

NODE = "node-1"
PAUSE = "minikubelet.local/pause:3.10"
BUSYBOX = "minikubelet.local/busybox:1.35"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Harness:
    def __init__(self, tmp_path: Path) -> None:
        self.clock = Clock()
        self.store = Store(tmp_path / "state.db")
        self.registry = Registry(self.store, clock=self.clock)
        self.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
        self.runtime = FakeRuntime(present_images=[PAUSE, BUSYBOX], clock=self.clock)
        self.recorder = EventRecorder(self.store, component="kubelet", host=NODE, clock=self.clock)
        self.kubelet = Kubelet(
            self.store,
            self.runtime,
            node_name=NODE,
            pod_infra_image=PAUSE,
            state_dir=tmp_path,
            recorder=self.recorder,
            host_ip="10.0.0.1",
            clock=self.clock,
            monotonic=self.clock.monotonic,
        )

    def create(self, name: str, *, restart: str = "Always", image: str = BUSYBOX, policy: str = "", **spec: Any) -> PodRef:
        container: dict[str, Any] = {"name": "main", "image": image}
        if policy:
            container["imagePullPolicy"] = policy
        body = {"metadata": {"name": name}, "spec": {"restartPolicy": restart, "containers": [container], **spec}}
        pod, _ = self.registry.create(RESOURCES["pods"], "default", body)
        self.registry.bind("default", name, {"target": {"name": NODE}})
        return PodRef(pod["metadata"]["uid"], name, "default")

    async def sync(self, ref: PodRef) -> bool:
        return await self.kubelet.sync(ref)

    def pod(self, name: str) -> dict[str, Any]:
        return self.store.get("Pod", "default", name)

    def main_status(self, name: str) -> dict[str, Any]:
        statuses: list[dict[str, Any]] = self.pod(name)["status"]["containerStatuses"]
        return statuses[0]

    def reasons(self, name: str) -> list[str]:
        events, _ = self.store.list("Event", "default", field_selector=f"involvedObject.name={name}")
        events.sort(key=lambda e: int(e["metadata"]["resourceVersion"]))
        return [e["reason"] for e in events]

    def finish(self, ref: PodRef, attempt: int, code: int) -> None:
        self.runtime.finish(self.runtime.by_name(ref, "main", attempt).id, code)


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path)
    yield harness
    harness.store.close()


async def test_a_new_pod_gets_a_sandbox_and_its_container(h: Harness) -> None:
    ref = h.create("web")
    assert await h.sync(ref)
    assert [c[0] for c in h.runtime.calls] == ["run_sandbox", "create", "start"]
    pod = h.pod("web")
    assert pod["status"]["phase"] == "Running"
    assert pod["status"]["podIP"] and pod["status"]["hostIP"] == "10.0.0.1"
    main = h.main_status("web")
    assert "running" in main["state"] and main["ready"] is True and main["restartCount"] == 0
    assert h.reasons("web") == ["Pulled", "Created", "Started"]
    conditions = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
    assert conditions["Ready"] == "True" and conditions["PodReadyToStartContainers"] == "True"


async def test_a_second_sync_changes_nothing(h: Harness) -> None:
    ref = h.create("web")
    await h.sync(ref)
    rv = h.pod("web")["metadata"]["resourceVersion"]
    calls = len(h.runtime.calls)
    await h.sync(ref)
    assert len(h.runtime.calls) == calls
    assert h.pod("web")["metadata"]["resourceVersion"] == rv, "an unchanged status is not written"


async def test_crash_loop_back_off_first_restart_immediate_then_10s_then_20s(h: Harness) -> None:
    ref = h.create("crash")
    await h.sync(ref)
    h.finish(ref, 0, 1)
    await h.sync(ref)
    assert h.main_status("crash")["restartCount"] == 1, "the first restart is immediate"
    h.clock.advance(1)
    h.finish(ref, 1, 1)
    await h.sync(ref)
    waiting = h.main_status("crash")["state"]["waiting"]
    assert waiting["reason"] == "CrashLoopBackOff"
    assert waiting["message"].startswith("back-off 10s restarting failed container=main pod=crash_default(")
    assert h.main_status("crash")["lastState"]["terminated"]["exitCode"] == 1
    assert h.pod("crash")["status"]["phase"] == "Running"
    h.clock.advance(5)
    await h.sync(ref)
    assert h.main_status("crash")["restartCount"] == 1, "still backing off"
    h.clock.advance(6)
    await h.sync(ref)
    assert h.main_status("crash")["restartCount"] == 2
    h.finish(ref, 2, 1)
    await h.sync(ref)
    assert "back-off 20s" in h.main_status("crash")["state"]["waiting"]["message"]
    assert "BackOff" in h.reasons("crash")


@pytest.mark.parametrize(
    ("restart", "code", "phase", "restarted"),
    [
        ("Never", 0, "Succeeded", False),
        ("Never", 2, "Failed", False),
        ("OnFailure", 0, "Succeeded", False),
        ("OnFailure", 2, "Running", True),
        ("Always", 0, "Running", True),
    ],
)
async def test_restart_policy(h: Harness, restart: str, code: int, phase: str, restarted: bool) -> None:
    ref = h.create("job", restart=restart)
    await h.sync(ref)
    h.finish(ref, 0, code)
    await h.sync(ref)
    assert h.pod("job")["status"]["phase"] == phase
    assert (h.main_status("job")["restartCount"] == 1) is restarted
    if not restarted:
        terminated = h.main_status("job")["state"]["terminated"]
        assert terminated["reason"] == ("Completed" if code == 0 else "Error")
        await h.sync(ref)
        assert h.runtime.calls_of("stop"), "a finished pod's sandbox is stopped"


async def test_an_unpullable_image_gives_err_image_pull_then_image_pull_back_off(h: Harness) -> None:
    ref = h.create("public", image="busybox:1.36")
    await h.sync(ref)
    waiting = h.main_status("public")["state"]["waiting"]
    assert waiting["reason"] == "ErrImagePull"
    assert h.pod("public")["status"]["phase"] == "Pending"
    await h.sync(ref)
    backing_off = h.main_status("public")["state"]["waiting"]
    assert backing_off["reason"] == "ImagePullBackOff"
    # Since v1.32 the waiting message carries the last pull's error (the BackOff event does not).
    assert backing_off["message"] == f'Back-off pulling image "busybox:1.36": ErrImagePull: {waiting["message"]}'
    assert h.runtime.calls_of("pull") == [("pull", "busybox:1.36")], "no pull while backing off"
    h.clock.advance(11)
    await h.sync(ref)
    assert len(h.runtime.calls_of("pull")) == 2
    assert {"Pulling", "Failed", "BackOff"} <= set(h.reasons("public"))


async def test_never_pull_policy_with_an_absent_image(h: Harness) -> None:
    ref = h.create("never", image="example.com/absent:1", policy="Never")
    await h.sync(ref)
    waiting = h.main_status("never")["state"]["waiting"]
    assert waiting == {
        "reason": "ErrImageNeverPull",
        "message": 'Container image "example.com/absent:1" is not present with pull policy of Never',
    }
    assert not h.runtime.calls_of("pull")


async def test_an_invalid_image_name(h: Harness) -> None:
    ref = h.create("bad", image="Busybox")
    await h.sync(ref)
    assert h.main_status("bad")["state"]["waiting"]["reason"] == "InvalidImageName"


async def test_graceful_deletion_stops_removes_and_deletes_the_object(h: Harness) -> None:
    ref = h.create("gone", terminationGracePeriodSeconds=7)
    await h.sync(ref)
    name = h.runtime.by_name(ref, "main").docker_name
    h.registry.delete(RESOURCES["pods"], "default", "gone")
    assert not await h.sync(ref)
    assert ("stop", name, "7") in h.runtime.calls
    assert not await h.runtime.list_containers(pod_uid=ref.uid)
    assert "Killing" in h.reasons("gone")
    with pytest.raises(Exception, match="not found"):
        h.pod("gone")


async def test_the_grace_period_has_a_2s_floor(h: Harness) -> None:
    ref = h.create("quick", terminationGracePeriodSeconds=0)
    await h.sync(ref)
    name = h.runtime.by_name(ref, "main").docker_name
    h.registry.delete(RESOURCES["pods"], "default", "quick", grace_period=1)
    await h.sync(ref)
    assert ("stop", name, "2") in h.runtime.calls


async def test_adoption_keeps_known_pods_and_removes_orphans(h: Harness) -> None:
    kept = h.create("kept")
    await h.sync(kept)
    orphan = h.create("orphan")
    await h.sync(orphan)
    h.store.delete("Pod", "default", "orphan")
    calls = len(h.runtime.calls_of("create"))
    await h.kubelet.adopt()
    assert not await h.runtime.list_containers(pod_uid=orphan.uid)
    await h.sync(kept)
    assert len(h.runtime.calls_of("create")) == calls, "a running container is adopted, not recreated"
    assert h.main_status("kept")["restartCount"] == 0


async def test_a_dead_sandbox_is_recreated_with_its_containers(h: Harness) -> None:
    ref = h.create("sandboxed")
    await h.sync(ref)
    sandbox = next(c for c in await h.runtime.list_containers(pod_uid=ref.uid) if c.kind == "sandbox")
    h.runtime.finish(sandbox.id, 137)
    await h.sync(ref)
    assert "SandboxChanged" in h.reasons("sandboxed")
    sandboxes = [c for c in await h.runtime.list_containers(pod_uid=ref.uid) if c.kind == "sandbox"]
    assert [s.attempt for s in sandboxes] == [1]


async def test_init_containers_run_one_by_one_before_the_app(h: Harness) -> None:
    init = [{"name": "one", "image": BUSYBOX}, {"name": "two", "image": BUSYBOX}]
    ref = h.create("inits", initContainers=init)
    await h.sync(ref)
    assert [c[1].split("_")[1] for c in h.runtime.calls_of("create")] == ["one"]
    assert h.pod("inits")["status"]["phase"] == "Pending"
    h.runtime.finish(h.runtime.by_name(ref, "one").id, 0)
    await h.sync(ref)
    h.runtime.finish(h.runtime.by_name(ref, "two").id, 0)
    await h.sync(ref)
    assert [c[1].split("_")[1] for c in h.runtime.calls_of("create")] == ["one", "two", "main"]
    status = h.pod("inits")["status"]
    assert status["phase"] == "Running"
    assert [s["state"]["terminated"]["reason"] for s in status["initContainerStatuses"]] == ["Completed", "Completed"]


async def test_a_failed_init_container_with_restart_never_fails_the_pod(h: Harness) -> None:
    ref = h.create("initfail", restart="Never", initContainers=[{"name": "one", "image": BUSYBOX}])
    await h.sync(ref)
    h.runtime.finish(h.runtime.by_name(ref, "one").id, 3)
    await h.sync(ref)
    assert h.pod("initfail")["status"]["phase"] == "Failed"
    assert not [c for c in h.runtime.calls_of("create") if "_main_" in c[1]]


async def test_env_expansion_and_downward_api(h: Harness) -> None:
    env = [
        {"name": "GREETING", "value": "hello"},
        {"name": "MESSAGE", "value": "$(GREETING) from $(POD)$$"},
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
    ]
    body = {"metadata": {"name": "envy"}, "spec": {"containers": [{"name": "main", "image": BUSYBOX, "env": env}]}}
    pod, _ = h.registry.create(RESOURCES["pods"], "default", body)
    h.registry.bind("default", "envy", {"target": {"name": NODE}})
    ref = PodRef(pod["metadata"]["uid"], "envy", "default")
    await h.sync(ref)
    spec = h.runtime.by_name(ref, "main").spec
    assert spec is not None
    values = dict(spec.env)
    assert values["MESSAGE"] == "hello from $(POD)$", "only variables defined before are expanded"
    assert values["POD"] == "envy" and values["IP"].startswith("10.88.0.")


def test_pod_resyncs_are_jittered_as_pod_workers_do() -> None:
    """wait.Jitter(resyncInterval, 0.5): between 1 and 1.5 times the interval, spread rather than in step."""
    from minikubelet.kubelet.pod_workers import RESYNC_SECONDS, jittered

    waits = [jittered(RESYNC_SECONDS) for _ in range(200)]
    assert all(RESYNC_SECONDS <= wait <= 1.5 * RESYNC_SECONDS for wait in waits)
    assert max(waits) - min(waits) > RESYNC_SECONDS / 4


async def test_a_deleted_pod_held_by_a_finalizer_keeps_its_final_status(h: Harness) -> None:
    """SyncTerminatingPod writes the final status (phase and terminated containers); the kubelet's deletion then
    waits for the finalizer, and the pod is not synced again, so that status stays for whoever holds it."""
    ref = h.create("held", terminationGracePeriodSeconds=2)
    h.store.update_with("Pod", "default", "held", lambda p: {**p, "metadata": {**p["metadata"], "finalizers": ["test/f"]}})
    await h.sync(ref)
    h.registry.delete(RESOURCES["pods"], "default", "held")
    assert not await h.sync(ref), "the worker ends once the pod is terminated"
    pod = h.pod("held")
    assert pod["metadata"]["deletionGracePeriodSeconds"] == 0
    main = pod["status"]["containerStatuses"][0]
    assert "terminated" in main["state"] and pod["status"]["phase"] in ("Succeeded", "Failed")
    assert await h.runtime.list_containers(pod_uid=ref.uid) == [], "its containers are removed"
    rv = pod["metadata"]["resourceVersion"]
    assert not await h.sync(ref)
    assert h.pod("held")["metadata"]["resourceVersion"] == rv, "not synced again"


async def test_each_sync_in_back_off_records_back_off_and_requeues_at_its_end(h: Harness) -> None:
    """doBackOff records a BackOff event at every sync that finds the container waiting (the recorder folds them
    into one event's count), and its BackoffError makes the pod worker come back when the back-off ends."""
    ref = h.create("loop")
    await h.sync(ref)
    h.finish(ref, 0, 1)
    await h.sync(ref)  # the first restart: at once
    h.clock.advance(1)
    h.finish(ref, 1, 1)
    first = await h.sync(ref)
    assert first.failed and first.retry_in == pytest.approx(10.0)
    h.clock.advance(4)
    second = await h.sync(ref)
    assert second.retry_in == pytest.approx(6.0)
    events, _ = h.store.list("Event", "default", field_selector="involvedObject.name=loop")
    back_off = [e for e in events if e["reason"] == "BackOff"]
    assert len(back_off) == 1 and back_off[0]["count"] == 2


async def test_a_pulled_image_is_told_with_its_time_and_size(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    try:
        harness.runtime.pullable = {normalize_image("registry.local/app:1")}
        ref = harness.create("pull", image="registry.local/app:1")
        await harness.sync(ref)
        events, _ = harness.store.list("Event", "default", field_selector="involvedObject.name=pull")
        pulled = next(e["message"] for e in events if e["reason"] == "Pulled")
        size = await harness.runtime.image_size("registry.local/app:1")
        assert re.fullmatch(
            rf'Successfully pulled image "registry\.local/app:1" in \S+ \(\S+ including waiting\)\. Image size: {size} bytes\.',
            pulled,
        ), pulled
    finally:
        harness.store.close()


async def test_a_failed_pod_is_not_ready_with_reason_pod_failed(h: Harness) -> None:
    ref = h.create("failed", restart="Never")
    await h.sync(ref)
    h.finish(ref, 0, 3)
    await h.sync(ref)
    status = h.pod("failed")["status"]
    assert status["phase"] == "Failed"
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Ready"]["reason"] == conditions["ContainersReady"]["reason"] == "PodFailed"
    assert status["observedGeneration"] == h.pod("failed")["metadata"]["generation"]
