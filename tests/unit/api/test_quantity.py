"""Quantity parsing and canonical form, against values Kubernetes' resource.Quantity prints."""

from __future__ import annotations

from decimal import Decimal

import pytest

from minikubelet.api.quantity import Quantity


@pytest.mark.parametrize(
    ("text", "value", "canonical"),
    [
        ("100m", Decimal("0.1"), "100m"),
        ("0.5", Decimal("0.5"), "500m"),
        ("1", Decimal(1), "1"),
        ("1000m", Decimal(1), "1"),
        ("1500", Decimal(1500), "1500"),
        ("2000", Decimal(2000), "2k"),
        ("1.5", Decimal("1.5"), "1500m"),
        ("64Mi", Decimal(64 * 1024**2), "64Mi"),
        ("1024Mi", Decimal(1024**3), "1Gi"),
        ("1.5Gi", Decimal(3 * 512 * 1024**2), "1536Mi"),
        ("0.5Ki", Decimal(512), "512"),
        ("1G", Decimal(10**9), "1G"),
        ("1.5G", Decimal(15 * 10**8), "1500M"),
        ("1e3", Decimal(1000), "1e3"),
        ("1E-2", Decimal("0.01"), "10e-3"),
        ("1n", Decimal("1e-9"), "1n"),
        ("0.1n", Decimal("1e-9"), "1n"),  # precision below 1n is rounded up
        ("-1", Decimal(-1), "-1"),
        ("+2", Decimal(2), "2"),
        ("0", Decimal(0), "0"),
        (".5", Decimal("0.5"), "500m"),
        (1, Decimal(1), "1"),
        (0.25, Decimal("0.25"), "250m"),
    ],
)
def test_parse_and_canonical_form(text: str | int | float, value: Decimal, canonical: str) -> None:
    quantity = Quantity.parse(text)
    assert quantity.value == value
    assert str(quantity) == canonical
    assert Quantity.parse(canonical) == quantity


@pytest.mark.parametrize("text", ["64MB", "1.2.3", "abc", "", "1Mi1", ".", "e3", "1 Gi", "Mi", "1ki", True])
def test_malformed_quantities_are_refused(text: str | bool) -> None:
    with pytest.raises(ValueError, match="quantities must match the regular expression"):
        Quantity.parse(text)


def test_numeric_views_round_up() -> None:
    assert Quantity.parse("64Mi").as_int() == 67_108_864
    assert Quantity.parse("1.5").as_int() == 2
    assert Quantity.parse("100m").milli() == 100
    assert Quantity.parse("0.0001").milli() == 1
    assert Quantity.parse("2").milli() == 2000


def test_quantities_compare_by_value() -> None:
    assert Quantity.parse("1Gi") == Quantity.parse("1024Mi")
    assert Quantity.parse("500m") < Quantity.parse("1")
    assert len({Quantity.parse("1k"), Quantity.parse("1000")}) == 1


def test_plus_keeps_the_receivers_format() -> None:
    assert str(Quantity.parse("1Gi").plus(Quantity.parse("512Mi"))) == "1536Mi"
    assert str(Quantity.parse("500m").plus(Quantity.parse("1Gi"))) == str(Quantity(Decimal(1024**3) + Decimal("0.5")))
    assert str(Quantity.parse("1e3").plus(Quantity.parse("1k"))) == "2e3"


@pytest.mark.parametrize(
    ("raw", "value"), [("250m", Decimal("0.25")), (2, Decimal(2)), ("lots", Decimal(0)), (True, Decimal(0)), (None, Decimal(0))]
)
def test_parse_or_zero(raw: object, value: Decimal) -> None:
    assert Quantity.parse_or_zero(raw).value == value
