"""A virtual clock for asyncio: an event loop on which time passes only when every task waits.

`VirtualClockLoop` is asyncio's own selector loop with two changes: `time()` reads a number the loop keeps
instead of the monotonic clock, and when the loop would block in `select` until its next timer, it moves
that number to the timer instead of sleeping. Everything built on the loop's time — `asyncio.sleep`,
`asyncio.timeout`, `call_later`, the probe workers' ticks, the pod workers' requeues — then runs at once
in virtual time, in the order and at the (virtual) instants it would in real time, with no change to the
code that runs on it. Real I/O still works (the loop's self-pipe is polled), but nothing waits for it: code
meant for this loop does no real I/O and uses no threads (`run_in_executor` would race the clock).

`VirtualClock` turns the loop's time into the wall-clock and monotonic readings that the kubelet, the prober,
the recorder and the runtime take as their `clock` / `monotonic` arguments.
"""

from __future__ import annotations

import asyncio
import selectors
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["SimulationStalled", "VirtualClock", "VirtualClockLoop"]


class SimulationStalled(RuntimeError):
    """Every task waits and no timer is set: nothing can ever happen again (a bug, or a run with no end)."""


class _VirtualSelector(selectors.BaseSelector):
    """A real selector (for the loop's self-pipe) that, instead of blocking, advances the loop's clock."""

    def __init__(self, loop: VirtualClockLoop) -> None:
        self._real = selectors.DefaultSelector()
        self._loop = loop

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._real.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._real.select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            raise SimulationStalled("every task waits and no timer is set")
        self._loop.advance(timeout)
        return []

    def close(self) -> None:
        self._real.close()

    def get_map(self) -> Any:
        return self._real.get_map()


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """asyncio's selector loop on a virtual clock that starts at `start` seconds."""

    def __init__(self, start: float = 0.0) -> None:
        self._virtual = start
        super().__init__(_VirtualSelector(self))

    def time(self) -> float:
        return self._virtual

    def advance(self, seconds: float) -> None:
        """Move the clock forward (the loop does it itself whenever all its tasks wait)."""
        if seconds > 0:
            self._virtual += seconds


class VirtualClock:
    """The wall clock and the monotonic clock of a simulation: `epoch` plus the loop's virtual seconds."""

    def __init__(self, loop: VirtualClockLoop, epoch: datetime) -> None:
        self.loop = loop
        self.epoch = epoch.astimezone(UTC)
        self._base = loop.time()

    def seconds(self) -> float:
        """Virtual seconds since the simulation began."""
        return self.loop.time() - self._base

    def now(self) -> datetime:
        return self.epoch + timedelta(seconds=self.seconds())

    def monotonic(self) -> float:
        return self.loop.time()

    def timestamp(self) -> float:
        return self.epoch.timestamp() + self.seconds()
