"""The event recorder: client-go's de-duplication (one Event whose count grows), names, references, recreation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from minikubelet.api.meta import format_time
from minikubelet.recorder import EventRecorder
from minikubelet.store import Store

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
Json = dict[str, Any]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "state.db") as opened:
        yield opened


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def recorder(store: Store, clock: Clock) -> EventRecorder:
    return EventRecorder(store, component="kubelet", host="node-1", clock=clock)


@pytest.fixture
def pod(store: Store) -> Json:
    return store.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "echo", "namespace": "default"},
            "spec": {"containers": [{"name": "app", "image": "busybox:1"}]},
        }
    )


def stored_events(store: Store) -> list[Json]:
    return store.list("Event")[0]


def test_identical_events_are_merged(recorder: EventRecorder, store: Store, clock: Clock, pod: Json) -> None:
    first = recorder.record(pod, "Warning", "BackOff", "Back-off restarting failed container")
    assert first["count"] == 1
    assert first["firstTimestamp"] == first["lastTimestamp"] == format_time(T0)
    for count in (2, 3):
        clock.advance(10)
        again = recorder.record(pod, "Warning", "BackOff", "Back-off restarting failed container")
        assert again["count"] == count
        assert again["metadata"]["name"] == first["metadata"]["name"]
        assert again["firstTimestamp"] == format_time(T0)
        assert again["lastTimestamp"] == format_time(clock.now)
    [event] = stored_events(store)
    assert event["count"] == 3
    assert event["firstTimestamp"] == format_time(T0)
    assert event["lastTimestamp"] == format_time(T0 + timedelta(seconds=20))


@pytest.mark.parametrize(
    ("second", "field_path"),
    [
        (("Warning", "BackOff", "Back-off restarting failed container"), ""),  # only the field path differs
        (("Warning", "BackOff", "another message"), "spec.containers{app}"),
        (("Warning", "Unhealthy", "Back-off restarting failed container"), "spec.containers{app}"),
        (("Normal", "BackOff", "Back-off restarting failed container"), "spec.containers{app}"),
    ],
)
def test_events_that_differ_are_kept_apart(
    recorder: EventRecorder, store: Store, pod: Json, second: tuple[Any, str, str], field_path: str
) -> None:
    recorder.record(pod, "Warning", "BackOff", "Back-off restarting failed container", field_path="spec.containers{app}")
    recorder.record(pod, *second, field_path=field_path)  # at the very same instant
    events = stored_events(store)
    assert len(events) == 2
    assert [e["count"] for e in events] == [1, 1]
    assert len({e["metadata"]["name"] for e in events}) == 2


def test_events_about_different_objects_are_kept_apart(recorder: EventRecorder, store: Store, pod: Json) -> None:
    other = {**pod, "metadata": {**pod["metadata"], "uid": "another-uid"}}
    recorder.record(pod, "Normal", "Pulled", "pulled")
    recorder.record(other, "Normal", "Pulled", "pulled")
    assert [e["count"] for e in stored_events(store)] == [1, 1]


def test_the_event_and_its_references(recorder: EventRecorder, store: Store, pod: Json) -> None:
    event = recorder.record(pod, "Normal", "Started", "Started container app", field_path="spec.containers{app}")
    name = event["metadata"]["name"]
    assert re.fullmatch(r"echo\.[0-9a-f]+", name)
    nanoseconds = int(name.split(".")[1], 16)
    assert abs(nanoseconds - int(T0.timestamp()) * 10**9 - T0.microsecond * 1000) < 1000
    assert event["metadata"]["namespace"] == "default"
    assert event["involvedObject"] == {
        "kind": "Pod",
        "namespace": "default",
        "name": "echo",
        "uid": pod["metadata"]["uid"],
        "apiVersion": "v1",
        "resourceVersion": pod["metadata"]["resourceVersion"],
        "fieldPath": "spec.containers{app}",
    }
    assert event["source"] == {"component": "kubelet", "host": "node-1"}
    assert (event["type"], event["reason"], event["message"]) == ("Normal", "Started", "Started container app")
    assert event["reportingComponent"] == "kubelet"
    assert event["reportingInstance"] == "node-1"
    assert stored_events(store) == [event]


def test_without_a_field_path_there_is_none(recorder: EventRecorder, pod: Json) -> None:
    event = recorder.record(pod, "Normal", "Scheduled", "assigned")
    assert "fieldPath" not in event["involvedObject"]


def test_an_event_about_a_node_goes_to_default(recorder: EventRecorder, store: Store) -> None:
    node = store.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}})
    event = recorder.record(node, "Normal", "NodeReady", "Node node-1 status is now: NodeReady")
    assert event["metadata"]["namespace"] == "default"
    assert "namespace" not in event["involvedObject"]
    assert event["involvedObject"]["kind"] == "Node"
    assert event["metadata"]["name"].startswith("node-1.")


def test_a_deleted_event_is_recreated(recorder: EventRecorder, store: Store, clock: Clock, pod: Json) -> None:
    first = recorder.record(pod, "Warning", "BackOff", "back-off")
    recorder.record(pod, "Warning", "BackOff", "back-off")
    store.delete("Event", "default", first["metadata"]["name"])
    clock.advance(5)
    again = recorder.record(pod, "Warning", "BackOff", "back-off")
    assert again["count"] == 1
    assert again["firstTimestamp"] == format_time(clock.now)
    assert stored_events(store) == [again]
    clock.advance(5)
    assert recorder.record(pod, "Warning", "BackOff", "back-off")["count"] == 2
    assert len(stored_events(store)) == 1
