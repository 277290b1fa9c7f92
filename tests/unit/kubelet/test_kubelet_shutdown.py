"""What the kubelet owes before the daemon exits, and what it cleans up when it starts again.

`shutdown()` (the daemon's SIGTERM, `down`) finishes the removals of pods already gone from the store, a force
deletion just before `down`, even those the watch had not told it of, and leaves the containers of the pods that
remain for the next start; it is bounded. `adopt()` removes the containers and the emptyDir data (`pods/<uid>/`)
of pods that went while no daemon ran.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from minikubelet.apiserver.registry import RESOURCES, Registry
from minikubelet.kubelet.kubelet import Kubelet
from minikubelet.recorder import EventRecorder
from minikubelet.runtime.fake import FakeRuntime
from minikubelet.runtime.interface import ContainerID, PodRef
from minikubelet.store import Store

NODE = "node-1"
PAUSE = "minikubelet.local/pause:3.10"
BUSYBOX = "minikubelet.local/busybox:1.35"


class StuckRuntime(FakeRuntime):
    """Stopping a container of one image never ends (an engine that hangs)."""

    stuck_image = "stuck:1"

    async def stop_container(self, container_id: ContainerID, *, timeout: int) -> None:
        record = self.containers.get(container_id)
        if record is not None and record.image == self.stuck_image:
            await asyncio.Event().wait()
        await super().stop_container(container_id, timeout=timeout)


class Node:
    def __init__(self, tmp_path: Path, runtime: FakeRuntime | None = None) -> None:
        self.state_dir = tmp_path
        self.store = Store(tmp_path / "state.db")
        self.registry = Registry(self.store)
        self.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
        self.runtime = runtime or FakeRuntime(present_images=[PAUSE, BUSYBOX])
        self.kubelet = self.new_kubelet()

    def new_kubelet(self) -> Kubelet:
        return Kubelet(
            self.store,
            self.runtime,
            node_name=NODE,
            pod_infra_image=PAUSE,
            state_dir=self.state_dir,
            recorder=EventRecorder(self.store, component="kubelet", host=NODE),
        )

    def create(self, name: str, *, image: str = BUSYBOX, volumes: bool = False) -> str:
        spec: dict[str, Any] = {"containers": [{"name": "main", "image": image}]}
        if volumes:
            spec["volumes"] = [{"name": "scratch", "emptyDir": {}}]
            spec["containers"][0]["volumeMounts"] = [{"name": "scratch", "mountPath": "/scratch"}]
        pod, _ = self.registry.create(RESOURCES["pods"], "default", {"metadata": {"name": name}, "spec": spec})
        self.registry.bind("default", name, {"target": {"name": NODE}})
        return str(pod["metadata"]["uid"])

    def force_delete(self, name: str) -> None:
        self.registry.delete(RESOURCES["pods"], "default", name, grace_period=0)

    async def containers(self, uid: str) -> list[str]:
        return [c.state for c in await self.runtime.list_containers(pod_uid=uid)]


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    created = Node(tmp_path)
    yield created
    created.store.close()


async def eventually(check: Callable[[], Any], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.01)


async def stop_running(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_shutdown_finishes_the_removals_of_pods_gone_and_keeps_the_others(node: Node) -> None:
    kept = node.create("kept")
    gone = [node.create(f"gone-{i}") for i in range(5)]
    running = asyncio.create_task(node.kubelet.run())
    try:

        async def all_running() -> bool:
            return all([await _running(node, uid) for uid in [kept, *gone]])

        await eventually(all_running)
        for i in range(5):
            node.force_delete(f"gone-{i}")  # then `down` at once: the watch may not have told the workers
    finally:
        await stop_running(running)
    await node.kubelet.shutdown(timeout=5)
    for uid in gone:
        assert await node.containers(uid) == [], "a force-deleted pod's containers outlived the shutdown"
    assert await _running(node, kept), "a pod still in the store keeps running"
    assert not node.kubelet.pod_workers.known(), "every worker has ended"


async def test_shutdown_removes_the_containers_of_a_pod_gone_without_a_worker(node: Node) -> None:
    uid = node.create("orphan", volumes=True)
    await node.new_kubelet().sync(PodRef(uid, "orphan", "default"))  # an earlier daemon's kubelet
    assert await _running(node, uid) and (node.state_dir / "pods" / uid).is_dir()
    node.force_delete("orphan")
    await node.kubelet.shutdown(timeout=5)  # a kubelet that never had a worker for it
    assert await node.containers(uid) == []
    assert not (node.state_dir / "pods" / uid).exists()


async def test_shutdown_is_bounded(tmp_path: Path) -> None:
    node = Node(tmp_path, StuckRuntime(present_images=[PAUSE, BUSYBOX, StuckRuntime.stuck_image]))
    try:
        uid = node.create("stuck", image=StuckRuntime.stuck_image)
        running = asyncio.create_task(node.kubelet.run())
        try:
            await eventually(lambda: _running(node, uid))
            node.force_delete("stuck")
        finally:
            await stop_running(running)
        started = time.monotonic()
        await node.kubelet.shutdown(timeout=0.5)
        assert time.monotonic() - started < 2
        assert not node.kubelet.pod_workers.known()
    finally:
        node.store.close()


async def _running(node: Node, uid: str) -> bool:
    return await node.containers(uid) == ["running", "running"]


async def test_adoption_removes_the_volumes_of_pods_gone_while_no_daemon_ran(node: Node) -> None:
    kept = node.create("kept", volumes=True)
    gone = node.create("gone", volumes=True)
    for name, uid in (("kept", kept), ("gone", gone)):
        await node.kubelet.sync(PodRef(uid, name, "default"))
        data = node.state_dir / "pods" / uid / "volumes" / "scratch"
        assert data.is_dir()
        (data / "file").write_text("data")
    node.store.delete("Pod", "default", "gone")  # while no daemon ran

    await node.new_kubelet().adopt()
    assert await node.containers(gone) == []
    assert not (node.state_dir / "pods" / gone).exists()
    assert (node.state_dir / "pods" / kept / "volumes" / "scratch" / "file").read_text() == "data"
    assert await _running(node, kept)
