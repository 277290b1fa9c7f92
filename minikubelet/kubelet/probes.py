"""What the kubelet asks of the prober, and the prober of a kubelet that has none.

The kubelet receives its prober at construction (the daemon makes a `prober.manager.ProbeManager`); the prober
never calls back into the kubelet: its results reach the kubelet's sync loop through `updates`, as upstream's
results managers' Updates() channels (docs/kubelet.md#probe-results).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol

from minikubelet.api.wire import Pod, PodStatus
from minikubelet.kubelet.status import NoProber
from minikubelet.prober.results import ProbeKind, Update, Verdict

__all__ = ["NoProbes", "Prober"]


class Prober(Protocol):
    """prober.Manager with the liveness, readiness and startup results managers."""

    @property
    def updates(self) -> asyncio.Queue[Update]: ...

    def result(self, kind: ProbeKind, container_id: str) -> Verdict | None: ...

    def add_pod(self, pod: Mapping[str, Any]) -> None:
        """AddPod, of the pod as the store gave it (kubelet.py passes the store's dict)."""
        ...

    def remove_pod(self, uid: str) -> None: ...

    def stop_liveness_and_startup(self, uid: str) -> None: ...

    def update_pod_status(self, pod: Pod, status: PodStatus) -> None: ...


class NoProbes(NoProber):
    """No prober (unit tests of the kubelet's logic): no results, every running container started and ready."""

    def __init__(self) -> None:
        self._updates: asyncio.Queue[Update] = asyncio.Queue()

    @property
    def updates(self) -> asyncio.Queue[Update]:
        return self._updates

    def result(self, kind: ProbeKind, container_id: str) -> Verdict | None:
        return None

    def add_pod(self, pod: Mapping[str, Any]) -> None:
        pass

    def remove_pod(self, uid: str) -> None:
        pass

    def stop_liveness_and_startup(self, uid: str) -> None:
        pass
