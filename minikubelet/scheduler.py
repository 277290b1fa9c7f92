"""The scheduler: binds each pending pod to the one node, or says why it cannot.

It mirrors kube-scheduler's observable behaviour for a single node: a pod without `spec.nodeName`
(and with `schedulerName: default-scheduler`) is bound through the binding path when it fits the node's
allocatable cpu, memory and pod count and its `nodeSelector` matches the node's labels; the binding marks
it PodScheduled=True and a `Scheduled` event says where it went. A pod that does not fit gets
PodScheduled=False (reason Unschedulable) and a `FailedScheduling` event with kube-scheduler's words,
and is tried again whenever something changes that could make room (a pod deleted or finished, the node
updated) and at least every `retry_seconds`. A pod whose user set `spec.nodeName` never passes here.

The loop is driven by a watch on pods and nodes, never by polling the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from minikubelet.api.meta import format_time
from minikubelet.api.quantity import Quantity
from minikubelet.api.resources import pod_requests
from minikubelet.api.wire import as_pod
from minikubelet.apiserver.registry import Registry, set_condition
from minikubelet.errors import ConflictError, NotFoundError
from minikubelet.recorder import EventRecorder

__all__ = ["Scheduler", "fit_problems"]

log = logging.getLogger(__name__)

SCHEDULER_NAME = "default-scheduler"
_RESOURCES = ("cpu", "memory")


class Scheduler:
    def __init__(
        self,
        registry: Registry,
        *,
        node_name: str,
        recorder: EventRecorder,
        retry_seconds: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.registry = registry
        self.store = registry.store
        self.node_name = node_name
        self.recorder = recorder
        self.retry_seconds = retry_seconds
        self.clock = clock
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Schedule until cancelled."""
        watchers = [asyncio.create_task(self._watch(kind), name=f"scheduler-watch-{kind}") for kind in ("Pod", "Node")]
        try:
            while True:
                self._wake.clear()
                self.schedule_pending()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.retry_seconds):
                        await self._wake.wait()
        finally:
            for task in watchers:
                task.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)

    async def _watch(self, kind: str) -> None:
        """Wake the loop on every change that could make a pod schedulable."""
        watch = self.store.watch(kind, None, resource_version=self.store.resource_version)
        try:
            async for _event, _obj in watch:
                self._wake.set()
        finally:
            watch.close()

    def schedule_pending(self) -> None:
        """One pass over the pods waiting for a node (oldest first)."""
        pods, _ = self.store.list("Pod", None, field_selector="spec.nodeName=")
        waiting = [p for p in pods if _wants_us(p)]
        for pod in sorted(waiting, key=lambda p: p["metadata"].get("creationTimestamp", "")):
            try:
                self.schedule(pod)
            except (NotFoundError, ConflictError):
                continue  # deleted or bound meanwhile: the next pass sees the truth
            except Exception:
                log.exception("scheduling %s/%s failed", pod["metadata"].get("namespace"), pod["metadata"].get("name"))

    def schedule(self, pod: dict[str, Any]) -> None:
        node = self.store.get("Node", "", self.node_name)
        bound, _ = self.store.list("Pod", None, field_selector=f"spec.nodeName={self.node_name}")
        problems = fit_problems(pod, node, [p for p in bound if not _finished(p)])
        namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        if not problems:
            self.registry.bind(namespace, name, {"target": {"kind": "Node", "name": self.node_name}})
            self.recorder.record(pod, "Normal", "Scheduled", f"Successfully assigned {namespace}/{name} to {self.node_name}")
            return
        message = _unschedulable_message(problems)
        condition = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}
        now = format_time(self.clock())
        changed = False

        def mark(current: dict[str, Any]) -> dict[str, Any] | None:
            nonlocal changed
            changed = set_condition(current, condition, now=now)
            return current if changed else None

        self.store.update_with("Pod", namespace, name, mark)
        if changed:
            self.recorder.record(pod, "Warning", "FailedScheduling", message)


def fit_problems(pod: dict[str, Any], node: dict[str, Any], bound: list[dict[str, Any]]) -> list[str]:
    """Why `pod` does not fit `node` next to `bound` (kube-scheduler's reason strings); empty if it fits."""
    # kube-scheduler's filters in order (NodeUnschedulable, NodeAffinity, NodeResourcesFit); the first that fails speaks.
    if node.get("spec", {}).get("unschedulable"):
        return ["node(s) were unschedulable"]
    labels = node.get("metadata", {}).get("labels", {})
    selector = pod.get("spec", {}).get("nodeSelector", {})
    if any(labels.get(k) != v for k, v in selector.items()):
        return ["node(s) didn't match Pod's node affinity/selector"]
    allocatable = node.get("status", {}).get("allocatable", {})
    problems = []
    if "pods" in allocatable and len(bound) + 1 > Quantity.parse(allocatable["pods"]).value:
        problems.append("Too many pods")
    for resource in _RESOURCES:
        if resource not in allocatable:
            continue
        wanted = _requests(pod, resource)
        if wanted and wanted + sum(_requests(p, resource) for p in bound) > Quantity.parse(allocatable[resource]).value:
            problems.append(f"Insufficient {resource}")
    return problems


def _requests(pod: dict[str, Any], resource: str) -> Decimal:
    """The pod's effective request (component-helpers' PodRequests, as NodeResourcesFit computes it)."""
    quantity = pod_requests(as_pod(pod)).get(resource)
    return quantity.value if quantity is not None else Decimal(0)


def _unschedulable_message(problems: list[str]) -> str:
    reasons = ", ".join(f"1 {p}" for p in sorted(problems))
    resources_short = any(p.startswith(("Insufficient", "Too many")) for p in problems)
    preemption = "No preemption victims found for incoming pod" if resources_short else "Preemption is not helpful for scheduling"
    return f"0/1 nodes are available: {reasons}. preemption: 0/1 nodes are available: 1 {preemption}."


def _wants_us(pod: dict[str, Any]) -> bool:
    spec, meta = pod.get("spec", {}), pod.get("metadata", {})
    return (
        not spec.get("nodeName")
        and not meta.get("deletionTimestamp")
        and spec.get("schedulerName", SCHEDULER_NAME) == SCHEDULER_NAME
    )


def _finished(pod: dict[str, Any]) -> bool:
    return pod.get("status", {}).get("phase") in ("Succeeded", "Failed")
