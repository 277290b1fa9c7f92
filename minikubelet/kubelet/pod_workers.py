"""The pod workers: one task per pod, which syncs its pod whenever told to and requeues itself.

As pkg/kubelet/pod_workers.go: `update_pod` (UpdatePod) wakes the pod's worker, starting it the first time;
a change to the pod, an engine event about one of its containers (the PLEG) and a probe result all come this
way. A worker runs one sync at a time (the kubelet's `sync`, which chooses SyncPod, SyncTerminatingPod or
SyncTerminatedPod), so updates that arrive during a sync are folded into the next one. After a sync the pod
is requeued (completeWork): at the resync interval (1 minute, jittered up to 1.5 times so pods started
together do not resync together) after a sync that went well, after the back-off period (10 s, jittered the
same) after one that failed (an image pull failing, an error from the engine) — except when the failure is a
back-off with a known end (a container in CrashLoopBackOff: upstream's BackoffError and MinBackoffExpiration),
which requeues the pod when the back-off ends, jittered by half of what remains and never later than the resync.
So a crash-looping container restarts between the end of its back-off and half as long again after it, and a
BackOff event is recorded at each sync that finds it still backing off: both as upstream.

The workers belong to a TaskGroup that `run` owns: cancelling `run` ends them all. docs/kubelet.md#pod-workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from minikubelet.errors import ContainerRuntimeError
from minikubelet.runtime.interface import PodRef

__all__ = ["BACKOFF_SECONDS", "DONE", "FAILED", "RESYNC_SECONDS", "SYNCED", "PodWorkers", "SyncResult", "jittered"]

log = logging.getLogger(__name__)

RESYNC_SECONDS = 60.0  # the kubelet's --sync-frequency
BACKOFF_SECONDS = 10.0  # workerBackOffPeriod
JITTER = 0.5  # workerResyncIntervalJitterFactor and workerBackOffPeriodJitterFactor


@dataclass(frozen=True, slots=True)
class SyncResult:
    """How a sync went, which decides when the pod is synced again (completeWork)."""

    done: bool = False  # the pod is gone and cleaned up: the worker ends
    failed: bool = False  # requeue after the back-off period, not the resync interval
    # A back-off that ends in this many seconds (a BackoffError: a container in CrashLoopBackOff): the requeue
    # comes when it ends, not after the back-off period.
    retry_in: float | None = None

    def __bool__(self) -> bool:
        """True while the pod's worker goes on."""
        return not self.done

    def requeue_after(self, *, resync: float, backoff: float) -> float:
        """completeWork's delay before the next sync, jittered by half."""
        if not self.failed:
            return jittered(resync)
        if self.retry_in is not None:
            return jittered(min(max(self.retry_in, 0.0), resync))
        return jittered(backoff)


SYNCED = SyncResult()
FAILED = SyncResult(failed=True)
DONE = SyncResult(done=True)


@dataclass
class _Worker:
    ref: PodRef
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


def jittered(seconds: float, factor: float = JITTER) -> float:
    """wait.Jitter(seconds, factor): a random duration between `seconds` and `seconds * (1 + factor)`."""
    return seconds * (1 + factor * random.random())


class PodWorkers:
    def __init__(
        self,
        sync: Callable[[PodRef], Awaitable[SyncResult]],
        *,
        resync: float = RESYNC_SECONDS,
        backoff: float = BACKOFF_SECONDS,
        on_exit: Callable[[PodRef], None] = lambda ref: None,
    ) -> None:
        self._sync = sync
        self.resync = resync
        self.backoff = backoff
        self._on_exit = on_exit
        self._workers: dict[str, _Worker] = {}
        self._group: asyncio.TaskGroup | None = None

    async def run(self) -> None:
        """Own the workers until cancelled (which cancels them all)."""
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                for worker in self._workers.values():
                    self._start(worker)
                await asyncio.Event().wait()
        finally:
            self._group = None

    def update_pod(self, ref: PodRef) -> None:
        """UpdatePod: sync this pod soon; its worker starts if it has none."""
        worker = self._workers.get(ref.uid)
        if worker is None:
            worker = self._workers[ref.uid] = _Worker(ref)
            if self._group is not None:
                self._start(worker)
        worker.wake.set()

    def wake(self, uid: str) -> None:
        """Sync this pod soon, if it has a worker."""
        worker = self._workers.get(uid)
        if worker is not None:
            worker.wake.set()

    def known(self) -> dict[str, PodRef]:
        """The pods that have a worker, by UID."""
        return {uid: worker.ref for uid, worker in self._workers.items()}

    def ref(self, uid: str) -> PodRef | None:
        """The pod whose worker this is, if it has one (no copy of the others: the probe results' path)."""
        worker = self._workers.get(uid)
        return worker.ref if worker is not None else None

    def _start(self, worker: _Worker) -> None:
        assert self._group is not None
        if worker.task is None or worker.task.done():
            name = f"pod-{worker.ref.namespace}/{worker.ref.name}"
            worker.task = self._group.create_task(self._loop(worker), name=name)

    async def _loop(self, worker: _Worker) -> None:
        """podWorkerLoop: sync, requeue, wait for the requeue or an update; until the pod is done."""
        ref = worker.ref
        try:
            while True:
                worker.wake.clear()
                try:
                    result = await self._sync(ref)
                except ContainerRuntimeError as exc:
                    log.warning("sync of %s/%s: %s", ref.namespace, ref.name, exc)
                    result = FAILED
                except Exception:  # a bug syncing one pod must not end its worker
                    log.exception("sync of %s/%s failed", ref.namespace, ref.name)
                    result = FAILED
                if result.done:
                    return
                delay = result.requeue_after(resync=self.resync, backoff=self.backoff)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await worker.wake.wait()
        finally:
            if self._workers.get(ref.uid) is worker:
                del self._workers[ref.uid]
            self._on_exit(ref)
