"""The last step of a graceful deletion: a pod of this node marked for deletion is removed (no containers to stop)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from minikubelet.apiserver.registry import RESOURCES, Registry
from minikubelet.errors import NotFoundError
from minikubelet.kubelet.terminating import finish_terminating_pods, remove_if_stopped
from minikubelet.store import Store, Watch

NODE = "node-1"
TIMEOUT = 5.0
Json = dict[str, Any]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "state.db") as opened:
        opened.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}, "status": {"phase": "Active"}})
        yield opened


def make(store: Store, name: str, *, node: str = NODE, marked: bool = False) -> Json:
    meta: Json = {"name": name, "namespace": "default"}
    if marked:
        meta.update(deletionTimestamp="2026-03-01T12:00:30Z", deletionGracePeriodSeconds=30)
    spec: Json = {"containers": [{"name": "app", "image": "busybox:1"}], "nodeName": node}
    return store.create({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec})


def exists(store: Store, name: str) -> bool:
    try:
        store.get("Pod", "default", name)
    except NotFoundError:
        return False
    return True


async def deleted(watch: Watch, name: str) -> None:
    async for kind, obj in watch:
        if kind == "DELETED" and obj["metadata"]["name"] == name:
            return
    raise AssertionError("the watch ended")


def test_remove_if_stopped_removes_only_marked_pods(store: Store) -> None:
    marked = make(store, "going", marked=True)
    kept = make(store, "staying")
    remove_if_stopped(store, marked)
    remove_if_stopped(store, kept)
    assert not exists(store, "going")
    assert exists(store, "staying")
    remove_if_stopped(store, marked)  # already gone: nothing to do


def test_remove_if_stopped_spares_a_new_pod_of_the_same_name(store: Store) -> None:
    old = make(store, "echo", marked=True)
    store.delete("Pod", "default", "echo")
    make(store, "echo")
    remove_if_stopped(store, old)
    assert exists(store, "echo")


async def test_finish_terminating_pods_removes_pods_as_they_are_marked(store: Store) -> None:
    make(store, "marked-before", marked=True)
    make(store, "web")
    make(store, "elsewhere", node="node-2")
    registry = Registry(store, clock=lambda: datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC))
    async with store.watch("Pod", "default") as watch:
        task = asyncio.create_task(finish_terminating_pods(store, node_name=NODE))
        try:
            # The task lists, removes and starts its watch in one step, so once this pod is gone it watches.
            await asyncio.wait_for(deleted(watch, "marked-before"), TIMEOUT)
            marked = registry.delete(RESOURCES["pods"], "default", "web")  # graceful: only marks it
            assert marked["metadata"]["deletionTimestamp"]
            await asyncio.wait_for(deleted(watch, "web"), TIMEOUT)
            assert not exists(store, "web")

            def mark(pod: Json) -> Json:
                pod["metadata"]["deletionTimestamp"] = "2026-03-01T12:00:30Z"
                return pod

            store.update_with("Pod", "default", "elsewhere", mark)  # another node's pod is not ours to remove
            make(store, "late", marked=True)
            await asyncio.wait_for(deleted(watch, "late"), TIMEOUT)
            assert exists(store, "elsewhere")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert task.cancelled()
