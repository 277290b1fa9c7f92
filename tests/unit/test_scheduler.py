"""The scheduler on a real store: binding, kube-scheduler's reasons and events, retries, and the watch-driven loop.

Most tests call `schedule_pending()` directly (one pass, no loop); the last one runs `Scheduler.run()` to show that a
pod created later is bound because the store's watch wakes the loop, long before the retry period.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from minikubelet.api.meta import format_time
from minikubelet.apiserver.registry import RESOURCES, Registry
from minikubelet.recorder import EventRecorder
from minikubelet.scheduler import Scheduler, fit_problems
from minikubelet.store import Store

NODE = "node-1"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
TIMEOUT = 5.0
Json = dict[str, Any]

INSUFFICIENT_CPU = (
    "0/1 nodes are available: 1 Insufficient cpu. "
    "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
)
SELECTOR_MISMATCH = (
    "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. "
    "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
)


def node(allocatable: Json | None = None, labels: Json | None = None, **spec: Any) -> Json:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": NODE, "labels": {"kubernetes.io/hostname": NODE, **(labels or {})}},
        "spec": spec,
        "status": {"allocatable": allocatable or {"cpu": "2", "memory": "1Gi", "pods": "3"}},
    }


def pod(name: str, *, cpu: str = "", memory: str = "", node_name: str = "", **spec: Any) -> Json:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    container: Json = {"name": "app", "image": "busybox:1"}
    if requests:
        container["resources"] = {"requests": requests}
    body: Json = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [container], **spec}}
    if node_name:
        body["spec"]["nodeName"] = node_name
    return body


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "state.db") as opened:
        opened.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}, "status": {"phase": "Active"}})
        opened.create(node())
        yield opened


@pytest.fixture
def registry(store: Store) -> Registry:
    return Registry(store, clock=lambda: NOW)


@pytest.fixture
def scheduler(registry: Registry, store: Store) -> Scheduler:
    recorder = EventRecorder(store, component="default-scheduler", host="", clock=lambda: NOW)
    return Scheduler(registry, node_name=NODE, recorder=recorder, clock=lambda: NOW)


def create(registry: Registry, body: Json) -> Json:
    created, _ = registry.create(RESOURCES["pods"], "default", body)
    return created


def get(store: Store, name: str) -> Json:
    return store.get("Pod", "default", name)


def condition(pod: Json, kind: str = "PodScheduled") -> Json | None:
    return next((c for c in pod.get("status", {}).get("conditions", []) if c["type"] == kind), None)


def events(store: Store, name: str) -> list[tuple[str, str, str, str, int]]:
    items, _ = store.list("Event", "default", field_selector=f"involvedObject.name={name}")
    return [(e["type"], e["reason"], e["source"]["component"], e["message"], e["count"]) for e in items]


def set_node(store: Store, **changes: Any) -> None:
    def change(current: Json) -> Json:
        fresh = node(**changes)
        current["metadata"]["labels"] = fresh["metadata"]["labels"]
        current["spec"], current["status"] = fresh["spec"], fresh["status"]
        return current

    store.update_with("Node", "", NODE, change)


# --- one pass -----------------------------------------------------------------------------------------------------


def test_a_pending_pod_is_bound_with_one_scheduled_event(scheduler: Scheduler, registry: Registry, store: Store) -> None:
    create(registry, pod("web", cpu="500m", memory="128Mi"))
    scheduler.schedule_pending()
    bound = get(store, "web")
    assert bound["spec"]["nodeName"] == NODE
    scheduled = condition(bound)
    assert scheduled is not None
    assert scheduled["status"] == "True"
    assert scheduled["lastTransitionTime"] == format_time(NOW)
    message = f"Successfully assigned default/web to {NODE}"
    assert events(store, "web") == [("Normal", "Scheduled", "default-scheduler", message, 1)]
    event = store.list("Event", "default")[0][0]
    assert event["involvedObject"]["uid"] == bound["metadata"]["uid"]
    assert event["involvedObject"]["kind"] == "Pod"
    scheduler.schedule_pending()  # nothing left to do
    assert events(store, "web") == [("Normal", "Scheduled", "default-scheduler", message, 1)]


def test_a_pod_the_user_bound_is_left_alone(scheduler: Scheduler, registry: Registry, store: Store) -> None:
    created = create(registry, pod("pinned", node_name=NODE))
    scheduler.schedule_pending()
    assert get(store, "pinned") == created
    assert condition(created) is None
    assert store.list("Event")[0] == []


def test_a_pod_for_another_scheduler_is_ignored(scheduler: Scheduler, registry: Registry, store: Store) -> None:
    created = create(registry, pod("custom", schedulerName="my-scheduler"))
    scheduler.schedule_pending()
    assert get(store, "custom") == created
    assert store.list("Event")[0] == []


def test_a_pod_that_does_not_fit_waits_until_room_is_made(scheduler: Scheduler, registry: Registry, store: Store) -> None:
    create(registry, pod("big", cpu="1500m"))
    scheduler.schedule_pending()
    assert get(store, "big")["spec"]["nodeName"] == NODE
    create(registry, pod("waiting", cpu="1"))
    scheduler.schedule_pending()
    waiting = get(store, "waiting")
    assert "nodeName" not in waiting["spec"]
    unschedulable = condition(waiting)
    assert unschedulable is not None
    assert (unschedulable["status"], unschedulable["reason"], unschedulable["message"]) == (
        "False",
        "Unschedulable",
        INSUFFICIENT_CPU,
    )
    assert events(store, "waiting") == [("Warning", "FailedScheduling", "default-scheduler", INSUFFICIENT_CPU, 1)]

    scheduler.schedule_pending()  # nothing changed: no new condition, no new Event object
    assert get(store, "waiting") == waiting
    assert len(events(store, "waiting")) == 1

    store.delete("Pod", "default", "big")
    scheduler.schedule_pending()
    waiting = get(store, "waiting")
    assert waiting["spec"]["nodeName"] == NODE
    # The condition is replaced, as upstream's UpdatePodCondition does: no stale reason or message.
    assert condition(waiting) == {
        "type": "PodScheduled",
        "status": "True",
        "lastProbeTime": None,
        "lastTransitionTime": format_time(NOW),
    }
    assert [e[1] for e in events(store, "waiting")] == ["FailedScheduling", "Scheduled"]


def test_a_pod_that_needs_more_cpu_than_the_node_has(scheduler: Scheduler, registry: Registry, store: Store) -> None:
    create(registry, pod("huge", cpu="3"))
    scheduler.schedule_pending()
    assert "nodeName" not in get(store, "huge")["spec"]
    assert events(store, "huge") == [("Warning", "FailedScheduling", "default-scheduler", INSUFFICIENT_CPU, 1)]


def test_a_node_selector_mismatch(scheduler: Scheduler, registry: Registry, store: Store) -> None:
    create(registry, pod("picky", nodeSelector={"disk": "ssd"}))
    scheduler.schedule_pending()
    picky = get(store, "picky")
    assert "nodeName" not in picky["spec"]
    assert (condition(picky) or {}).get("message") == SELECTOR_MISMATCH
    assert events(store, "picky") == [("Warning", "FailedScheduling", "default-scheduler", SELECTOR_MISMATCH, 1)]
    set_node(store, labels={"disk": "ssd"})
    scheduler.schedule_pending()
    assert get(store, "picky")["spec"]["nodeName"] == NODE


def test_insufficient_memory(scheduler: Scheduler, registry: Registry, store: Store) -> None:
    create(registry, pod("hungry", memory="2Gi"))
    scheduler.schedule_pending()
    message = (
        "0/1 nodes are available: 1 Insufficient memory. "
        "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
    )
    assert (condition(get(store, "hungry")) or {}).get("message") == message


def test_the_pods_limit(scheduler: Scheduler, registry: Registry, store: Store) -> None:
    for name in ("a", "b", "c"):
        create(registry, pod(name))
    scheduler.schedule_pending()
    assert all(get(store, name)["spec"]["nodeName"] == NODE for name in ("a", "b", "c"))
    create(registry, pod("d"))
    scheduler.schedule_pending()
    message = (
        "0/1 nodes are available: 1 Too many pods. "
        "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
    )
    assert (condition(get(store, "d")) or {}).get("message") == message
    registry.update_status(RESOURCES["pods"], "default", "a", {"status": {"phase": "Succeeded"}})
    scheduler.schedule_pending()  # a finished pod no longer counts
    assert get(store, "d")["spec"]["nodeName"] == NODE


def test_the_oldest_pending_pod_goes_first(scheduler: Scheduler, registry: Registry, store: Store) -> None:
    for name, created in (("b-young", "2026-03-01T11:00:00Z"), ("a-old", "2026-03-01T10:00:00Z")):
        body, _ = registry.decode(RESOURCES["pods"], pod(name, cpu="1500m"), namespace="default")
        body["metadata"]["creationTimestamp"] = created
        store.create(body)
    scheduler.schedule_pending()
    assert get(store, "a-old")["spec"].get("nodeName") == NODE
    assert "nodeName" not in get(store, "b-young")["spec"]


def test_an_unschedulable_node(scheduler: Scheduler, registry: Registry, store: Store) -> None:
    set_node(store, unschedulable=True)
    create(registry, pod("web"))
    scheduler.schedule_pending()
    message = (
        "0/1 nodes are available: 1 node(s) were unschedulable. "
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    )
    assert (condition(get(store, "web")) or {}).get("message") == message


def test_without_a_node_nothing_is_bound(scheduler: Scheduler, registry: Registry, store: Store) -> None:
    store.delete("Node", "", NODE)
    create(registry, pod("web"))
    scheduler.schedule_pending()
    assert "nodeName" not in get(store, "web")["spec"]


# --- fit_problems -------------------------------------------------------------------------------------------------


def _containers(*requests: Json, init: tuple[Json, ...] = ()) -> Json:
    spec: Json = {"containers": [{"name": f"c{i}", "resources": {"requests": r}} for i, r in enumerate(requests)]}
    if init:
        spec["initContainers"] = [{"name": f"i{i}", "resources": {"requests": r}} for i, r in enumerate(init)]
    return {"metadata": {"name": "p"}, "spec": spec}


def _with_sidecar(pod: Json, requests: Json) -> Json:
    """`pod` with a sidecar started before its init containers (which then run beside it)."""
    sidecar = {"name": "sidecar", "restartPolicy": "Always", "resources": {"requests": requests}}
    pod["spec"]["initContainers"] = [sidecar, *pod["spec"].get("initContainers", [])]
    return pod


def _bound(cpu: str = "0", memory: str = "0") -> Json:
    return _containers({"cpu": cpu, "memory": memory})


@pytest.mark.parametrize(
    ("candidate", "node_body", "bound", "problems"),
    [
        (_containers({}), node(), [], []),
        (_containers({"cpu": "2"}), node(), [], []),  # exactly the allocatable
        (_containers({"cpu": "2001m"}), node(), [], ["Insufficient cpu"]),
        (_containers({"cpu": "1", "memory": "512Mi"}), node(), [_bound("1", "512Mi")], []),
        (_containers({"cpu": "1", "memory": "513Mi"}), node(), [_bound("1", "512Mi")], ["Insufficient memory"]),
        (_containers({"cpu": "1"}, {"cpu": "1"}), node(), [_bound("1")], ["Insufficient cpu"]),  # containers add up
        (_containers({"cpu": "3", "memory": "2Gi"}), node(), [], ["Insufficient cpu", "Insufficient memory"]),
        (_containers({"cpu": "100m"}, init=({"cpu": "3"},)), node(), [], ["Insufficient cpu"]),  # the largest init
        (_containers({"cpu": "1"}, {"cpu": "1"}, init=({"cpu": "500m"},)), node(), [], []),
        # a sidecar (restartable init container) runs beside the containers: its request adds up (PodRequests)
        (_with_sidecar(_containers({"cpu": "1500m"}), {"cpu": "1"}), node(), [], ["Insufficient cpu"]),
        (_with_sidecar(_containers({"cpu": "1"}), {"cpu": "1"}), node(), [], []),
        (_with_sidecar(_containers({"cpu": "1"}, init=({"cpu": "1500m"},)), {"cpu": "1"}), node(), [], ["Insufficient cpu"]),
        (_containers({}), node(), [_bound(), _bound(), _bound()], ["Too many pods"]),
        (_containers({"cpu": "2"}), node(), [_bound(), _bound(), _bound("1")], ["Too many pods", "Insufficient cpu"]),
        (_containers({"cpu": "100"}), node(allocatable={"pods": "10"}), [], []),  # nothing to compare with
        (_containers({"memory": "1"}), node(allocatable={"memory": "0"}), [], ["Insufficient memory"]),
        (
            {"spec": {"nodeSelector": {"disk": "ssd"}, "containers": [{"name": "c"}]}},
            node(labels={"disk": "hdd"}),
            [],
            ["node(s) didn't match Pod's node affinity/selector"],
        ),
        ({"spec": {"nodeSelector": {"disk": "ssd"}, "containers": [{"name": "c"}]}}, node(labels={"disk": "ssd"}), [], []),
        (_containers({}), node(unschedulable=True), [], ["node(s) were unschedulable"]),
        (  # the NodeUnschedulable filter runs before NodeAffinity
            {"spec": {"nodeSelector": {"disk": "ssd"}, "containers": [{"name": "c"}]}},
            node(labels={"disk": "hdd"}, unschedulable=True),
            [],
            ["node(s) were unschedulable"],
        ),
    ],
)
def test_fit_problems(candidate: Json, node_body: Json, bound: list[Json], problems: list[str]) -> None:
    assert fit_problems(candidate, node_body, bound) == problems


# --- the loop -----------------------------------------------------------------------------------------------------


async def _bound_pod(watch: Any, name: str) -> Json:
    async for _kind, obj in watch:
        if obj["metadata"]["name"] == name and obj["spec"].get("nodeName"):
            return dict(obj)
    raise AssertionError("the watch ended")


async def test_the_loop_binds_a_pod_created_later_because_the_watch_wakes_it(
    registry: Registry, store: Store, scheduler: Scheduler
) -> None:
    scheduler.retry_seconds = 3600.0  # only a watch event can wake the loop in time
    create(registry, pod("first"))
    async with store.watch("Pod", "default") as watch:
        task = asyncio.create_task(scheduler.run())
        try:
            await asyncio.wait_for(_bound_pod(watch, "first"), TIMEOUT)  # the first pass, at start
            create(registry, pod("later"))
            bound = await asyncio.wait_for(_bound_pod(watch, "later"), TIMEOUT)
            assert bound["spec"]["nodeName"] == NODE
            assert [e[1] for e in events(store, "later")] == ["Scheduled"]
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert task.cancelled()
