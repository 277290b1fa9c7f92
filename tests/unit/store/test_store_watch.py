"""Watches: live events in order, replay from a resourceVersion, Gone, selector transitions, threads, close."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from minikubelet.errors import BadRequestError, GoneError
from minikubelet.store import Store, Watch

TIMEOUT = 5.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "state.db") as opened:
        yield opened


def pod(name: str, namespace: str = "default", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "app", "image": "busybox"}]},
    }


async def next_event(watch: Watch) -> tuple[str, str, str]:
    """(type, name, resourceVersion) of the next event, or a test failure after TIMEOUT."""
    event_type, obj = await asyncio.wait_for(anext(watch), TIMEOUT)
    return event_type, obj["metadata"]["name"], obj["metadata"]["resourceVersion"]


async def events(watch: Watch, count: int) -> list[tuple[str, str, str]]:
    return [await next_event(watch) for _ in range(count)]


def set_label(store: Store, name: str, key: str, value: str) -> None:
    store.update_with("Pod", "default", name, lambda obj: {**obj, "metadata": {**obj["metadata"], "labels": {key: value}}})


async def test_live_events_arrive_in_order(store: Store) -> None:
    async with store.watch("Pod") as watch:
        store.create(pod("web"))
        set_label(store, "web", "app", "web")
        store.delete("Pod", "default", "web")
        assert await events(watch, 3) == [("ADDED", "web", "1"), ("MODIFIED", "web", "2"), ("DELETED", "web", "3")]


async def test_a_watch_starts_now_and_sees_only_its_kind(store: Store) -> None:
    store.create(pod("before"))
    watch = store.watch("Pod", resource_version="0")
    store.create({"kind": "Node", "metadata": {"name": "n1"}})
    store.create({"kind": "Event", "metadata": {"name": "e1", "namespace": "default"}})
    store.create(pod("after"))
    assert await next_event(watch) == ("ADDED", "after", "4")
    watch.close()


async def test_namespace_filtering(store: Store) -> None:
    watch = store.watch("Pod", "a")
    store.create(pod("x", "b"))
    store.create(pod("y", "a"))
    assert await next_event(watch) == ("ADDED", "y", "2")
    watch.close()


async def test_replay_from_a_resource_version_then_live(store: Store) -> None:
    store.create(pod("old"))
    _, rv = store.list("Pod")
    store.create(pod("web"))
    set_label(store, "web", "app", "web")
    store.delete("Pod", "default", "old")
    async with store.watch("Pod", resource_version=rv) as watch:
        store.create(pod("live"))
        assert await events(watch, 4) == [
            ("ADDED", "web", "2"),
            ("MODIFIED", "web", "3"),
            ("DELETED", "old", "4"),
            ("ADDED", "live", "5"),
        ]


async def test_a_resource_version_older_than_the_history_is_gone(tmp_path: Path) -> None:
    with Store(tmp_path / "state.db", history_size=3) as store:
        for name in "abcde":
            store.create(pod(name))
        with pytest.raises(GoneError, match=r"too old resource version: 1 \(2\)") as caught:
            store.watch("Pod", resource_version="1")
        assert caught.value.code == 410
        watch = store.watch("Pod", resource_version="2")
        assert [name for _, name, _ in await events(watch, 3)] == ["c", "d", "e"]
        watch.close()


async def test_a_reopened_store_cannot_replay_what_came_before(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with Store(path) as first:
        first.create(pod("a"))
        first.create(pod("b"))
    with Store(path) as second:
        with pytest.raises(GoneError, match=r"too old resource version: 1 \(2\)"):
            second.watch("Pod", resource_version="1")
        async with second.watch("Pod", resource_version="2") as watch:
            second.create(pod("c"))
            assert await next_event(watch) == ("ADDED", "c", "3")


async def test_a_bad_resource_version_is_a_bad_request(store: Store) -> None:
    with pytest.raises(BadRequestError, match="invalid resource version"):
        store.watch("Pod", resource_version="abc")


async def test_label_selector_transitions(store: Store) -> None:
    store.create(pod("web", app="web"))
    store.create(pod("db", app="db"))
    async with store.watch("Pod", label_selector="app=web") as watch:
        set_label(store, "db", "app", "db2")  # never matched: nothing
        set_label(store, "web", "app", "other")  # stops matching: DELETED
        set_label(store, "web", "app", "web")  # matches again: ADDED
        store.update_with("Pod", "default", "web", lambda obj: {**obj, "status": {"phase": "Running"}})
        deleted = await asyncio.wait_for(anext(watch), TIMEOUT)
        assert deleted[0] == "DELETED"
        assert deleted[1]["metadata"]["labels"] == {"app": "web"}  # the content it last matched with
        assert deleted[1]["metadata"]["resourceVersion"] == "4"  # at the version that ended the match
        assert await events(watch, 2) == [("ADDED", "web", "5"), ("MODIFIED", "web", "6")]


async def test_field_selector_transitions_as_the_scheduler_sees_them(store: Store) -> None:
    store.create(pod("web"))
    watch = store.watch("Pod", field_selector="spec.nodeName=")
    store.create(pod("db"))
    store.update_with("Pod", "default", "web", lambda obj: {**obj, "spec": {**obj["spec"], "nodeName": "node-1"}})
    assert await events(watch, 2) == [("ADDED", "db", "2"), ("DELETED", "web", "3")]
    watch.close()


async def test_replay_applies_selector_transitions_too(store: Store) -> None:
    store.create(pod("web", app="web"))
    set_label(store, "web", "app", "other")
    set_label(store, "web", "app", "web")
    async with store.watch("Pod", resource_version="1", label_selector="app=web") as watch:
        assert await events(watch, 2) == [("DELETED", "web", "2"), ("ADDED", "web", "3")]


async def test_writes_from_another_thread_reach_the_loop(store: Store) -> None:
    names = [f"p{i}" for i in range(50)]

    def writer() -> None:
        for name in names:
            store.create(pod(name))

    async with store.watch("Pod") as watch:
        thread = threading.Thread(target=writer)
        thread.start()
        received = await events(watch, len(names))
        thread.join(TIMEOUT)
    assert [name for _, name, _ in received] == names
    assert [int(rv) for _, _, rv in received] == list(range(1, 51))


async def test_each_watch_gets_its_own_copy(store: Store) -> None:
    one, two = store.watch("Pod"), store.watch("Pod")
    store.create(pod("web"))
    (_, first), (_, second) = await asyncio.wait_for(anext(one), TIMEOUT), await asyncio.wait_for(anext(two), TIMEOUT)
    first["metadata"]["name"] = "changed"
    assert second["metadata"]["name"] == "web"
    one.close()
    two.close()


async def test_closing_a_watch_ends_the_iteration(store: Store) -> None:
    watch = store.watch("Pod")
    store.create(pod("web"))
    watch.close()
    assert watch.closed
    assert [event async for event in watch] == []
    store.create(pod("db"))  # a closed watch is no longer fed
    watch.close()


async def test_closing_from_another_thread_wakes_the_reader(store: Store) -> None:
    watch = store.watch("Pod")
    reader = asyncio.create_task(anext(watch, None))
    await asyncio.to_thread(watch.close)
    assert await asyncio.wait_for(reader, TIMEOUT) is None


async def test_closing_the_store_ends_its_watches(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    watch = store.watch("Pod")
    store.close()
    assert await asyncio.wait_for(anext(watch, None), TIMEOUT) is None


async def test_a_watch_from_a_future_resource_version_skips_up_to_it(store: Store) -> None:
    store.create(pod("a"))
    async with store.watch("Pod", resource_version="2") as watch:
        store.create(pod("b"))
        store.create(pod("c"))
        assert await next_event(watch) == ("ADDED", "c", "3")


def test_watch_needs_a_running_loop(store: Store) -> None:
    with pytest.raises(RuntimeError):
        store.watch("Pod")
