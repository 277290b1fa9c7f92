"""Back-off for restarting crashed containers and for pulling images (docs/kubelet.md#restart-back-off,
docs/kubelet.md#image-pulls).

One entry per key: 10 s initial delay, doubled on each use, capped at 300 s; an entry untouched for twice
the cap is forgotten, so a container that ran ten minutes restarts at once and starts again from 10 s.
The decision compares the *previous* instance's finish time with the current delay, exactly as the
kubelet's `doBackOff`: the first restart of a crash loop is immediate.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(slots=True)
class _Entry:
    delay: float
    last_update: float


class Backoff:
    def __init__(self, *, initial: float = 10.0, maximum: float = 300.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self._entries: dict[str, _Entry] = {}

    def check(self, key: str, *, finished_at: float, now: float) -> float | None:
        """None: start now (and advance the back-off); else the delay that is still running."""
        entry = self._entries.get(key)
        if entry is None or finished_at - entry.last_update > 2 * self.maximum:
            self._entries[key] = _Entry(self.initial, now)
            return None
        if now - finished_at < entry.delay:
            return entry.delay
        entry.delay = min(entry.delay * 2, self.maximum)
        entry.last_update = now
        return None

    def in_backoff(self, key: str, *, now: float) -> float | None:
        """For image pulls: the running delay when the last failure is more recent than it, else None."""
        entry = self._entries.get(key)
        if entry is None or now - entry.last_update >= entry.delay:
            return None
        return entry.delay

    def failed(self, key: str, *, now: float) -> None:
        """Record a failure (image pulls): the next attempt waits the current delay, which then doubles."""
        entry = self._entries.get(key)
        if entry is None or now - entry.last_update > 2 * self.maximum:
            self._entries[key] = _Entry(self.initial, now)
        else:
            entry.delay = min(entry.delay * 2, self.maximum)
            entry.last_update = now

    def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    def delay(self, key: str) -> float | None:
        entry = self._entries.get(key)
        return entry.delay if entry else None

    def gc(self, *, now: float) -> None:
        for key in [k for k, e in self._entries.items() if now - e.last_update > 2 * self.maximum]:
            del self._entries[key]
