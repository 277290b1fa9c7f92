"""The kubelet's record of container state changes (kubelet/history.py), driven by real syncs on the fake runtime."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_kubelet_sync import Harness

from minikubelet.apiserver.registry import RESOURCES
from minikubelet.kubelet.history import LifecycleHistory, Transition
from minikubelet.kubelet.probes import NoProbes
from minikubelet.prober.results import ProbeKind, Verdict
from minikubelet.runtime.interface import PodRef


class LivenessFails(NoProbes):
    """A prober whose liveness verdict is Failure for the instances listed in `failing`."""

    def __init__(self) -> None:
        super().__init__()
        self.failing: set[str] = set()

    def result(self, kind: ProbeKind, container_id: str) -> Verdict | None:
        return Verdict.FAILURE if kind is ProbeKind.LIVENESS and container_id in self.failing else None


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path)
    yield harness
    harness.store.close()


def steps(h: Harness, ref: PodRef) -> list[tuple[str, str, int | None]]:
    return [(t.state, t.reason, t.exit_code) for t in h.kubelet.lifecycle.transitions(ref.uid)]


def instance(h: Harness, ref: PodRef, attempt: int) -> str:
    return str(h.runtime.by_name(ref, "main", attempt).id)


async def test_a_crash_loop_is_recorded_instance_by_instance_with_the_back_off_end(h: Harness) -> None:
    ref = h.create("crash")
    await h.sync(ref)
    h.clock.advance(2)
    h.finish(ref, 0, 1)
    await h.sync(ref)  # the first restart is immediate: the exit is seen only in lastState
    h.clock.advance(1)
    h.finish(ref, 1, 3)
    await h.sync(ref)
    h.clock.advance(5)
    await h.sync(ref)  # still backing off: nothing new
    h.clock.advance(6)
    await h.sync(ref)
    assert steps(h, ref) == [
        ("waiting", "ContainerCreating", None),  # the status written before the sync acts
        ("running", "", None),
        ("terminated", "Error", 1),
        ("running", "", None),
        ("terminated", "Error", 3),
        ("waiting", "CrashLoopBackOff", None),
        ("running", "", None),
    ]
    found = h.kubelet.lifecycle.transitions(ref.uid)
    assert [t.container_id for t in found] == ["", *(instance(h, ref, a) for a in (0, 0, 1, 1, 1, 2))]
    assert [t.restart_count for t in found if t.state == "running"] == [0, 1, 2]
    crashed = h.runtime.by_name(ref, "main", 1)
    assert crashed.finished_at is not None
    assert found[4].time == crashed.finished_at.timestamp(), "an end is stamped with the engine's finish time"
    assert found[5].backoff_until == crashed.finished_at.timestamp() + 10, "the first back-off of the loop is 10 s"
    assert found[5].message.startswith("back-off 10s restarting failed container=main")


async def test_a_liveness_kill_is_recorded_before_the_end_and_the_new_instance(h: Harness) -> None:
    probes = LivenessFails()
    h.kubelet.prober = probes
    ref = h.create("live")
    await h.sync(ref)
    h.clock.advance(3)
    probes.failing.add(instance(h, ref, 0))
    await h.sync(ref)
    because = "Container main failed liveness probe, will be restarted"
    assert steps(h, ref) == [
        ("waiting", "ContainerCreating", None),  # the status written before the sync acts
        ("running", "", None),
        ("killing", because, None),
        ("terminated", "Error", 137),
        ("running", "", None),
    ]
    killing = h.kubelet.lifecycle.transitions(ref.uid)[2]
    assert killing.container_id == instance(h, ref, 0)
    as_json = h.kubelet.lifecycle(ref.uid)
    assert [t["state"] for t in as_json] == ["waiting", "running", "killing", "terminated", "running"]
    assert as_json[3]["exitCode"] == 137 and "exitCode" not in as_json[1]


async def test_an_unchanged_state_records_nothing_and_a_deleted_pod_is_forgotten(h: Harness) -> None:
    ref = h.create("web")
    await h.sync(ref)
    await h.sync(ref)
    h.clock.advance(30)
    await h.sync(ref)
    assert steps(h, ref) == [("waiting", "ContainerCreating", None), ("running", "", None)]
    h.registry.delete(RESOURCES["pods"], "default", "web")
    assert not await h.sync(ref)
    assert h.kubelet.lifecycle.transitions(ref.uid) == []


def test_the_ring_keeps_the_last_entries_of_each_container() -> None:
    history = LifecycleHistory(limit=3)
    for i in range(5):
        history.killing("uid", "app", f"c{i}", f"kill {i}", now=float(i))
    history.killing("uid", "side", "s0", "kill side", now=2.5)
    assert [t.reason for t in history.transitions("uid")] == ["kill 2", "kill side", "kill 3", "kill 4"]
    assert isinstance(history.transitions("uid")[0], Transition)
    history.forget("uid")
    assert history("uid") == []
