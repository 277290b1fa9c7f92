"""Durations and ages exactly as kubectl prints them.

kubectl's AGE, `(… ago)`, event ages and `Terminating (lasts …)` all come from apimachinery's
`duration.HumanDuration`; image-pull event messages use Go's `time.Duration.String()`. Both have
truncation rules (`9m59s` but `10m`, `47h` but `2d`) that are easy to get subtly wrong, so they are
reproduced here once, from the Go source, and everything else calls them. The clock is always an
argument: nothing here reads the current time.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["age", "go_duration", "human_duration", "parse_time", "short_human_duration", "since"]

_MINUTE = 60
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR


def _truncated_seconds(seconds: float) -> int:
    # Go: int(d.Seconds()) truncates toward zero, so -1.9s is -1 ("0s") and -2s is "<invalid>".
    return int(seconds)


def _near_zero(seconds: float) -> str | None:
    """The shared prefix of both formats: clock skew of under 2 s reads as "now"."""
    whole = _truncated_seconds(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    return None


def human_duration(seconds: float) -> str:
    """apimachinery `duration.HumanDuration`: `119s`, `2m10s`, `179m`, `3h5m`, `47h`, `2d3h`, `729d`, `2y3d`."""
    special = _near_zero(seconds)
    if special is not None:
        return special
    whole = _truncated_seconds(seconds)
    if whole < 2 * _MINUTE:
        return f"{whole}s"
    return _minutes_and_up(whole)


def _minutes_and_up(whole: int) -> str:
    minutes = whole // _MINUTE
    if minutes < 10:
        return _pair(minutes, "m", whole % _MINUTE, "s")
    if minutes < 3 * 60:
        return f"{minutes}m"
    hours = whole // _HOUR
    if hours < 8:
        return _pair(hours, "h", minutes % 60, "m")
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return _pair(hours // 24, "d", hours % 24, "h")
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        return _pair(hours // 24 // 365, "y", (hours // 24) % 365, "d")
    return f"{hours // 24 // 365}y"


def _pair(major: int, major_unit: str, minor: int, minor_unit: str) -> str:
    return f"{major}{major_unit}" if minor == 0 else f"{major}{major_unit}{minor}{minor_unit}"


def short_human_duration(seconds: float) -> str:
    """apimachinery `duration.ShortHumanDuration`: one unit only (`5s`, `3m`, `2h`, `4d`, `1y`)."""
    special = _near_zero(seconds)
    if special is not None:
        return special
    whole = _truncated_seconds(seconds)
    if whole < _MINUTE:
        return f"{whole}s"
    if whole < _HOUR:
        return f"{whole // _MINUTE}m"
    if whole < _DAY:
        return f"{whole // _HOUR}h"
    if whole < 365 * _DAY:
        return f"{whole // _DAY}d"
    return f"{whole // (365 * _DAY)}y"


def parse_time(timestamp: str | None) -> datetime | None:
    """An RFC 3339 timestamp (`2024-01-01T10:00:00Z`, optionally fractional) as an aware datetime."""
    if not timestamp:
        return None
    parsed = datetime.fromisoformat(timestamp)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def since(timestamp: str | datetime | None, now: datetime) -> float | None:
    """Seconds elapsed from `timestamp` to `now` (negative for a future timestamp); None when unset."""
    moment = timestamp if isinstance(timestamp, datetime) else parse_time(timestamp)
    if moment is None:
        return None
    return (_aware(now) - _aware(moment)).total_seconds()


def age(timestamp: str | datetime | None, now: datetime) -> str:
    """kubectl's `translateTimestampSince`: HumanDuration since `timestamp`, `<unknown>` when unset."""
    elapsed = since(timestamp, now)
    return "<unknown>" if elapsed is None else human_duration(elapsed)


_SUBSECOND_UNITS = ((1_000, "ns", 0), (1_000_000, "µs", 3), (1_000_000_000, "ms", 6))


def go_duration(seconds: float) -> str:
    """Go's `time.Duration.String()`: `0s`, `512ms`, `1.915s`, `1m20s`, `5m0s`, `2h0m0.5s`."""
    nanos = round(seconds * 1_000_000_000)
    sign = "-" if nanos < 0 else ""
    nanos = abs(nanos)
    if nanos == 0:
        return "0s"
    if nanos < 1_000_000_000:
        return sign + _subsecond(nanos)
    return sign + _clock(nanos)


def _subsecond(nanos: int) -> str:
    for bound, unit, precision in _SUBSECOND_UNITS:
        if nanos < bound:
            return _fraction(nanos, precision) + unit
    raise AssertionError("unreachable: nanos < 1s")


def _fraction(value: int, precision: int) -> str:
    """`value / 10**precision` with trailing zeros (and a bare point) dropped, as Go's fmtFrac."""
    whole, frac = divmod(value, 10**precision)
    digits = f"{frac:0{precision}d}".rstrip("0") if precision else ""
    return f"{whole}.{digits}" if digits else str(whole)


def _clock(nanos: int) -> str:
    text = _fraction(nanos % (60 * 1_000_000_000), 9) + "s"
    minutes = nanos // (60 * 1_000_000_000)
    if minutes == 0:
        return text
    text = f"{minutes % 60}m{text}"
    hours = minutes // 60
    return f"{hours}h{text}" if hours else text
