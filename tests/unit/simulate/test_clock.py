"""The virtual clock: asyncio's timers run in order, at once, and a loop with nothing left to wait for says so."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from minikubelet.simulate.clock import SimulationStalled, VirtualClock, VirtualClockLoop


def run(coroutine_function):  # type: ignore[no-untyped-def]
    loop = VirtualClockLoop()
    try:
        return loop.run_until_complete(coroutine_function(loop))
    finally:
        loop.close()


def test_an_hour_of_sleeps_timeouts_and_timers_passes_in_virtual_time_in_order() -> None:
    async def main(loop: VirtualClockLoop) -> list[tuple[float, str]]:
        seen: list[tuple[float, str]] = []
        start = loop.time()

        async def ticker(name: str, period: float, count: int) -> None:
            for _ in range(count):
                await asyncio.sleep(period)
                seen.append((loop.time() - start, name))

        loop.call_later(2.5, lambda: seen.append((loop.time() - start, "timer")))
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await asyncio.Event().wait()
        seen.append((loop.time() - start, "timeout"))
        await asyncio.gather(ticker("a", 1.0, 3600), ticker("b", 1.5, 2))
        return seen

    wall = time.monotonic()
    seen = run(main)
    assert time.monotonic() - wall < 5, "an hour of virtual time took real time"
    assert seen[:5] == [(0.5, "timeout"), (1.5, "a"), (2.0, "b"), (2.5, "timer"), (2.5, "a")] or seen[:5] == [
        (0.5, "timeout"),
        (1.5, "a"),
        (2.0, "b"),
        (2.5, "a"),
        (2.5, "timer"),
    ]
    assert seen[-1] == (3600.5, "a")
    assert [t for t, _ in seen] == sorted(t for t, _ in seen)


def test_the_wall_clock_follows_the_loop() -> None:
    epoch = datetime(2026, 1, 1, tzinfo=UTC)

    async def main(loop: VirtualClockLoop) -> tuple[datetime, float, float]:
        clock = VirtualClock(loop, epoch)
        await asyncio.sleep(90)
        return clock.now(), clock.seconds(), clock.timestamp()

    now, seconds, stamp = run(main)
    assert now == epoch + timedelta(seconds=90) and seconds == 90 and stamp == epoch.timestamp() + 90


def test_a_loop_where_every_task_waits_for_ever_is_stalled() -> None:
    async def main(loop: VirtualClockLoop) -> None:
        await asyncio.Event().wait()

    with pytest.raises(SimulationStalled):
        run(main)
