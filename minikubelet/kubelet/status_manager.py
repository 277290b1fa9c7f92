"""The status manager: writes a pod's status into the store, whole or one container's readiness at a time.

As pkg/kubelet/status/status_manager.go: `set_pod_status` (SetPodStatus) writes a generated status when it
differs from the stored one; `set_container_readiness` and `set_container_startup` (SetContainerReadiness,
SetContainerStartup) change one container's `ready` / `started` in the stored status and the conditions that
follow from it, at once, without waiting for the pod's worker, which may be busy killing the pod's containers
(a readiness probe failing during a graceful deletion shows as `0/1 Terminating` while the grace period runs).
Every write is guarded by the pod's UID: a pod deleted and created again under its name is not touched.
docs/kubelet.md#probe-results.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal

from minikubelet.api.podutil import pod_status, statuses_of
from minikubelet.api.wire import PodStatus, as_pod
from minikubelet.errors import NotFoundError
from minikubelet.kubelet.status import ready_conditions
from minikubelet.runtime.interface import PodRef
from minikubelet.store import Store

__all__ = ["StatusManager"]


class StatusManager:
    def __init__(self, store: Store, *, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def set_pod_status(self, stored: Mapping[str, Any], status: PodStatus) -> None:
        """SetPodStatus: write `status` unless the stored one is the same. `stored` is the pod as the store gave
        it (kubelet.py passes the store's dict)."""
        pod = as_pod(stored)
        if pod_status(pod) == status:
            return
        meta = pod["metadata"]

        # The store's read-modify-write hands the mutation its own untyped copy of the object.
        def replace(current: dict[str, Any]) -> dict[str, Any] | None:
            if current["metadata"].get("uid") != meta["uid"] or current.get("status") == status:
                return None
            current["status"] = status
            return current

        with contextlib.suppress(NotFoundError):
            self.store.update_with("Pod", meta["namespace"], meta["name"], replace)

    def set_container_readiness(self, ref: PodRef, container_id: str, ready: bool) -> None:
        """SetContainerReadiness."""
        self._set_container(ref, container_id, "ready", ready)

    def set_container_startup(self, ref: PodRef, container_id: str, started: bool) -> None:
        """SetContainerStartup."""
        self._set_container(ref, container_id, "started", started)

    def _set_container(self, ref: PodRef, container_id: str, key: Literal["ready", "started"], value: bool) -> None:
        now = self.clock()

        def update(stored: dict[str, Any]) -> dict[str, Any] | None:
            pod = as_pod(stored)
            if pod["metadata"].get("uid") != ref.uid:
                return None
            status = pod_status(pod)
            if status.get("phase") in ("Succeeded", "Failed"):
                return None
            wanted = f"docker://{container_id}"
            entry = next(
                (e for e in [*statuses_of(status, "regular"), *statuses_of(status, "init")] if e.get("containerID") == wanted),
                None,
            )
            if entry is None or entry.get(key) == value or "running" not in entry.get("state", {}):
                return None  # a container the status does not show running yet: its next sync tells
            entry[key] = value
            if key == "started" and not value:
                entry["ready"] = False
            status["conditions"] = ready_conditions(pod, status, now=now)
            return stored

        with contextlib.suppress(NotFoundError):
            self.store.update_with("Pod", ref.namespace, ref.name, update)
