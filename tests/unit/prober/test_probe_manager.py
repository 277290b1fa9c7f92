"""The prober manager's side toward the kubelet: UpdatePodStatus, StopLivenessAndStartup, the updates queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from minikubelet.api.wire import PodStatus, as_pod
from minikubelet.prober.manager import ProbeManager
from minikubelet.prober.results import ProbeKind, Update, Verdict
from minikubelet.recorder import EventRecorder
from minikubelet.runtime.fake import FakeRuntime
from minikubelet.store import Store

UID = "uid-1"


def pod() -> dict[str, Any]:
    probe = {"exec": {"command": ["true"]}, "periodSeconds": 3600}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "uid": UID},
        "spec": {"containers": [{"name": "main", "image": "busybox", "startupProbe": probe, "readinessProbe": probe}]},
    }


def running() -> PodStatus:
    return {"containerStatuses": [{"name": "main", "state": {"running": {}}, "containerID": "docker://c1"}]}


@pytest.fixture
async def manager(tmp_path: Path) -> AsyncIterator[ProbeManager]:
    store = Store(tmp_path / "state.db")
    made = ProbeManager(store, FakeRuntime(), EventRecorder(store, component="kubelet", host="n"))
    yield made
    await made.close()
    store.close()


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_started_and_ready_follow_the_results_and_the_workers(manager: ProbeManager) -> None:
    manager.add_pod(pod())
    status = running()
    manager.update_pod_status(as_pod(pod()), status)
    entry = status["containerStatuses"][0]
    assert entry["started"] is False and entry["ready"] is False, "a startup probe still to pass"

    manager.cache.set("c1", ProbeKind.STARTUP, Verdict.SUCCESS, pod_uid=UID)
    status = running()
    manager.update_pod_status(as_pod(pod()), status)
    entry = status["containerStatuses"][0]
    assert entry["started"] is True and entry["ready"] is False
    readiness = manager._workers[(UID, "main", ProbeKind.READINESS)][0]
    assert readiness.trigger.is_set(), "a started container that is not ready gets its readiness probed at once"

    manager.cache.set("c1", ProbeKind.READINESS, Verdict.SUCCESS, pod_uid=UID)
    status = running()
    manager.update_pod_status(as_pod(pod()), status)
    assert status["containerStatuses"][0]["ready"] is True


async def test_a_terminating_pod_stops_liveness_and_startup_and_its_containers_count_as_started(manager: ProbeManager) -> None:
    manager.add_pod(pod())
    manager.stop_liveness_and_startup(UID)
    await settle()
    status = running()
    manager.update_pod_status(as_pod(pod()), status)
    assert status["containerStatuses"][0]["started"] is True, "isContainerStarted: no startup worker, no result"
    assert (UID, "main", ProbeKind.READINESS) in manager._workers, "readiness goes on"


async def test_only_changed_verdicts_are_sent_as_updates(manager: ProbeManager) -> None:
    manager.cache.set("c1", ProbeKind.LIVENESS, Verdict.SUCCESS, pod_uid=UID)
    manager.cache.set("c1", ProbeKind.LIVENESS, Verdict.SUCCESS, pod_uid=UID)
    manager.cache.set("c1", ProbeKind.LIVENESS, Verdict.FAILURE, pod_uid=UID)
    sent = [manager.updates.get_nowait() for _ in range(manager.updates.qsize())]
    assert sent == [
        Update("c1", ProbeKind.LIVENESS, Verdict.SUCCESS, UID),
        Update("c1", ProbeKind.LIVENESS, Verdict.FAILURE, UID),
    ]
