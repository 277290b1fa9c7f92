"""The timing arithmetic of probes, as minikubelet's probe worker runs them (docs/kubelet.md#probe-workers).

A worker's ticks are anchored at the worker's creation (the pod's admission, before the container starts), not
at the container's `startedAt`; on each tick the initial delay is checked against `startedAt` in whole seconds.
So, for a container started at 0 whose probe fails every attempt (`D` initialDelaySeconds, `P` periodSeconds,
`F` failureThreshold, `T` timeoutSeconds):

- the first attempt runs at the first tick at or after `D`: at `D + phase`, `phase` in `[0, P)` (where the ticker's
  grid happens to fall; it is not known from the manifest);
- attempt `k` runs at `D + phase + (k - 1) x P` when `T < P`: the ticker does not wait for an attempt, so
  timeouts do not add up from one attempt to the next;
- the F-th failure, which writes the Failure verdict (the kill, for liveness and startup), is known when that
  attempt ends, `d` in `(0, T]` after it starts (at once for a refused connection, `T` for a probe that hangs).

Hence the kill comes at `D + phase + (F - 1) x P + d`:

    earliest  D + (F - 1) x P          (phase 0, a failure that is immediate)
    latest    D + F x P + T            (never reached: phase < P)

When `T >= P`, an attempt that hangs until its timeout outlasts its period: the worker keeps one missed tick and
drops the others, so the next attempt starts at once and hanging attempts come every `T`; the latest becomes
`D + P + F x T`. The earliest does not change.

The earliest is what a slow start must outlast: `kill_window(...).earliest >= start` is the guarantee. The rule of
thumb `D + F x P` of upstream's documentation (`30 x 10 = 300s`) is the nominal window, one period longer than
what the worker guarantees.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from minikubelet.api.probe import Probe

__all__ = ["KillWindow", "format_seconds", "kill_window", "parse_go_duration", "threshold_for"]


@dataclass(frozen=True, slots=True)
class KillWindow:
    """When a probe that fails every attempt writes its Failure verdict, in seconds after the container's start."""

    delay: int  # initialDelaySeconds
    period: int  # periodSeconds
    threshold: int  # failureThreshold
    timeout: int  # timeoutSeconds

    @property
    def earliest(self) -> int:
        return self.delay + (self.threshold - 1) * self.period

    @property
    def latest(self) -> int:
        if self.timeout >= self.period:
            return self.delay + self.period + self.threshold * self.timeout
        return self.delay + self.threshold * self.period + self.timeout

    def earliest_arithmetic(self) -> str:
        """`initialDelaySeconds 5 + (failureThreshold 3 - 1) x periodSeconds 10 = 25s`"""
        return (
            f"initialDelaySeconds {self.delay} + (failureThreshold {self.threshold} - 1) x periodSeconds {self.period}"
            f" = {format_seconds(self.earliest)}"
        )

    def latest_arithmetic(self) -> str:
        """`5 + 3 x 10 + timeoutSeconds 1 = 36s` (or `5 + periodSeconds 10 + 3 x timeoutSeconds 12 = 51s`)"""
        if self.timeout >= self.period:
            return (
                f"{self.delay} + periodSeconds {self.period} + {self.threshold} x timeoutSeconds {self.timeout}"
                f" = {format_seconds(self.latest)}"
            )
        return f"{self.delay} + {self.threshold} x {self.period} + timeoutSeconds {self.timeout} = {format_seconds(self.latest)}"


def kill_window(probe: Probe) -> KillWindow:
    """The window of a probe whose defaults are applied (decoding does it: docs/kubelet.md#probe-fields-and-defaults)."""
    return KillWindow(probe.initial_delay_seconds, probe.period_seconds, probe.failure_threshold, probe.timeout_seconds)


def threshold_for(start: float, period: int, delay: int = 0) -> int:
    """The smallest failureThreshold whose earliest kill is not before `start`: `delay + (F - 1) x period >= start`,
    so `F = ceil((start - delay) / period) + 1` (at least 1)."""
    return max(1, math.ceil(max(0.0, start - delay) / period) + 1)


def format_seconds(seconds: float) -> str:
    """`90s`, `1.5s`: whole seconds without a fraction."""
    return f"{int(seconds)}s" if float(seconds).is_integer() else f"{seconds:g}s"


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_go_duration(text: str) -> float:
    """Go's time.ParseDuration, in seconds: `90s`, `1m30s`, `1.5h`, `500ms`; `0` alone needs no unit. A sign is
    refused (a start time is not negative). ValueError with Go's words otherwise."""
    if text == "0":
        return 0.0
    position, total = 0, 0.0
    while position < len(text):
        match = _PART.match(text, position)
        if match is None:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise ValueError(f'time: invalid duration "{text}" (Go syntax: 90s, 1m30s, 1.5h)')
    return total
