"""Every boundary of kubectl's duration formats (docs/kubectl-output.md#durations) and of Go's Duration.String()."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from minikubelet.printing.durations import age, go_duration, human_duration, parse_time, short_human_duration, since

MINUTE, HOUR, DAY, YEAR = 60, 3600, 86400, 365 * 86400


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-3, "<invalid>"),
        (-2, "<invalid>"),
        (-1.9, "0s"),  # int(d.Seconds()) truncates toward zero: -1
        (-1, "0s"),
        (-0.5, "0s"),
        (0, "0s"),
        (0.999, "0s"),
        (1, "1s"),
        (59, "59s"),
        (119, "119s"),
        (119.999, "119s"),
        (2 * MINUTE, "2m"),
        (2 * MINUTE + 10, "2m10s"),
        (10 * MINUTE - 1, "9m59s"),
        (10 * MINUTE, "10m"),
        (10 * MINUTE + 59, "10m"),
        (3 * HOUR - 1, "179m"),
        (3 * HOUR, "3h"),
        (3 * HOUR + 5 * MINUTE, "3h5m"),
        (3 * HOUR + 5 * MINUTE + 59, "3h5m"),
        (8 * HOUR - 1, "7h59m"),
        (8 * HOUR, "8h"),
        (48 * HOUR - 1, "47h"),
        (48 * HOUR, "2d"),
        (2 * DAY + 3 * HOUR, "2d3h"),
        (8 * DAY - 1, "7d23h"),
        (8 * DAY, "8d"),
        (2 * YEAR - 1, "729d"),
        (2 * YEAR, "2y"),
        (2 * YEAR + 3 * DAY, "2y3d"),
        (8 * YEAR - 1, "7y364d"),
        (8 * YEAR, "8y"),
        (20 * YEAR + 100 * DAY, "20y"),
    ],
)
def test_human_duration(seconds: float, expected: str) -> None:
    assert human_duration(seconds) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-2, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (59, "59s"),
        (MINUTE, "1m"),
        (HOUR - 1, "59m"),
        (HOUR, "1h"),
        (DAY - 1, "23h"),
        (DAY, "1d"),
        (YEAR - 1, "364d"),
        (YEAR, "1y"),
        (3 * YEAR + DAY, "3y"),
    ],
)
def test_short_human_duration(seconds: float, expected: str) -> None:
    assert short_human_duration(seconds) == expected


NOW = datetime(2024, 1, 1, 10, 3, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        (None, "<unknown>"),
        ("", "<unknown>"),
        ("2024-01-01T10:00:00Z", "3m10s"),
        ("2024-01-01T10:03:10Z", "0s"),
        ("2024-01-01T10:03:11Z", "0s"),  # 1 s of clock skew reads as now
        ("2024-01-01T10:03:15Z", "<invalid>"),
        ("2024-01-01T10:03:09.500000Z", "0s"),  # MicroTime (eventTime)
        ("2024-01-01T11:00:00+01:00", "3m10s"),
        ("2023-12-30T10:03:10Z", "2d"),
    ],
)
def test_age(timestamp: str | None, expected: str) -> None:
    assert age(timestamp, NOW) == expected


def test_age_accepts_datetimes_and_naive_now_is_utc() -> None:
    assert age(datetime(2024, 1, 1, 10, 0, tzinfo=UTC), NOW) == "3m10s"
    assert age("2024-01-01T10:00:00Z", datetime(2024, 1, 1, 10, 3, 10)) == "3m10s"
    assert since(None, NOW) is None
    assert since("2024-01-01T10:03:00Z", NOW) == 10.0


def test_parse_time() -> None:
    assert parse_time(None) is None
    assert parse_time("2024-01-01T10:00:00Z") == datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert parse_time("2024-01-01T10:00:00") == datetime(2024, 1, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0s"),
        (1e-9, "1ns"),
        (999e-9, "999ns"),
        (1.5e-6, "1.5µs"),
        (0.0001, "100µs"),
        (0.001, "1ms"),
        (0.512, "512ms"),
        (0.1234567, "123.4567ms"),
        (1, "1s"),
        (1.915, "1.915s"),
        (10, "10s"),
        (59.5, "59.5s"),
        (60, "1m0s"),
        (80, "1m20s"),
        (300, "5m0s"),
        (3600, "1h0m0s"),
        (7322.5, "2h2m2.5s"),
        (100 * 3600, "100h0m0s"),
        (-1.5, "-1.5s"),
        (-0.002, "-2ms"),
    ],
)
def test_go_duration(seconds: float, expected: str) -> None:
    assert go_duration(seconds) == expected
