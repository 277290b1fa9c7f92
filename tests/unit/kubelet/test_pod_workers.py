"""The pod workers: one task per pod, updates folded into the next sync, completeWork's requeue delays."""

from __future__ import annotations

import asyncio

import pytest

from minikubelet.kubelet.pod_workers import DONE, FAILED, SYNCED, PodWorkers, SyncResult, jittered
from minikubelet.runtime.interface import PodRef

REF = PodRef("uid-1", "web", "default")


@pytest.mark.parametrize(
    ("result", "low", "high"),
    [
        (SYNCED, 60.0, 90.0),  # the resync interval, jittered up to 1.5 times
        (FAILED, 10.0, 15.0),  # the back-off period
        (SyncResult(failed=True, retry_in=20.0), 20.0, 30.0),  # a back-off's end (BackoffError)
        (SyncResult(failed=True, retry_in=-3.0), 0.0, 0.0),  # already over: at once
        (SyncResult(failed=True, retry_in=290.0), 60.0, 90.0),  # never later than the resync
    ],
)
def test_complete_work_requeues_as_upstream(result: SyncResult, low: float, high: float) -> None:
    delays = [result.requeue_after(resync=60.0, backoff=10.0) for _ in range(100)]
    assert all(low <= d <= high for d in delays)


def test_jitter_spreads() -> None:
    waits = [jittered(10.0) for _ in range(200)]
    assert max(waits) - min(waits) > 2.5


async def test_updates_during_a_sync_fold_into_one_more_sync_and_done_ends_the_worker() -> None:
    syncs: list[str] = []
    release = asyncio.Event()

    async def sync(ref: PodRef) -> SyncResult:
        syncs.append(ref.uid)
        if len(syncs) == 1:
            await release.wait()
            return SYNCED
        return DONE

    workers = PodWorkers(sync, resync=3600.0)
    running = asyncio.create_task(workers.run())
    try:
        workers.update_pod(REF)
        async with asyncio.timeout(5):
            while not syncs:
                await asyncio.sleep(0.01)
            for _ in range(5):
                workers.update_pod(REF)  # five updates while the first sync runs...
            release.set()
            while REF.uid in workers.known():
                await asyncio.sleep(0.01)
        assert syncs == [REF.uid, REF.uid], "...make one more sync, not five"
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_a_failing_sync_is_retried_after_the_back_off_and_cancelling_run_ends_the_workers() -> None:
    syncs = 0

    async def sync(ref: PodRef) -> SyncResult:
        nonlocal syncs
        syncs += 1
        raise RuntimeError("a bug")

    workers = PodWorkers(sync, resync=3600.0, backoff=0.02)
    running = asyncio.create_task(workers.run())
    workers.update_pod(REF)
    async with asyncio.timeout(5):
        while syncs < 3:
            await asyncio.sleep(0.01)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert not workers.known()
