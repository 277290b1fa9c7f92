"""Resource quantities (`100m`, `0.5`, `64Mi`, `1G`, `1e3`), as `k8s.io/apimachinery/pkg/api/resource`.

A quantity is a decimal number with an optional suffix: binary (Ki Mi Gi Ti Pi Ei), decimal
(n u m "" k M G T P E) or a decimal exponent (e3, E-2). Its value is exact (Decimal); precision below
1n is rounded up, as Kubernetes does. `str()` gives Kubernetes' canonical form, which keeps the family
of the suffix that was written: `0.5` -> `500m`, `1000m` -> `1`, `1024Mi` -> `1Gi`, `1.5Gi` -> `1536Mi`.
"""

from __future__ import annotations

import decimal
import re
from decimal import Decimal
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from minikubelet.errors import FieldValueError

__all__ = ["QUANTITY_REGEX", "Quantity"]

QUANTITY_REGEX = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
_QUANTITY = re.compile(QUANTITY_REGEX)
_NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_FORMAT_ERROR = f"quantities must match the regular expression '{QUANTITY_REGEX}'"

_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -3, "u": -2, "m": -1, "": 0, "k": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}
_DECIMAL_SUFFIX = {power: suffix for suffix, power in _DECIMAL.items()}
_BINARY_SUFFIX = {power: suffix for suffix, power in _BINARY.items()}
_NANO = Decimal("1e-9")
_CONTEXT = decimal.Context(prec=60)


class Quantity:
    """An exact resource quantity; compares by value, prints canonically."""

    __slots__ = ("_format", "value")

    def __init__(self, value: Decimal, fmt: str = "DecimalSI") -> None:
        if value != value.quantize(_NANO, rounding=decimal.ROUND_CEILING, context=_CONTEXT):
            value = value.quantize(_NANO, rounding=decimal.ROUND_CEILING, context=_CONTEXT)
        self.value = value
        self._format = fmt

    @classmethod
    def parse(cls, text: str | int | float) -> Quantity:
        """Parse a quantity; raises ValueError with Kubernetes' message on a malformed one."""
        if isinstance(text, bool):
            raise ValueError(_FORMAT_ERROR)
        raw = text if isinstance(text, str) else _number_text(text)
        match = _QUANTITY.match(raw)
        if not match or not _NUMBER.match(match.group(1)):
            raise ValueError(_FORMAT_ERROR)
        try:
            return cls._from_parts(Decimal(match.group(1)), match.group(2))
        except decimal.DecimalException:  # too large or too small for any resource (1e999999999)
            raise ValueError(_FORMAT_ERROR) from None

    @classmethod
    def _from_parts(cls, number: Decimal, suffix: str) -> Quantity:
        if suffix in _BINARY:
            return cls(number * (Decimal(1024) ** _BINARY[suffix]), "BinarySI")
        if suffix in _DECIMAL:
            return cls(number.scaleb(3 * _DECIMAL[suffix], context=_CONTEXT), "DecimalSI")
        exponent = re.fullmatch(r"[eE]([-+]?[0-9]+)", suffix)
        if exponent is None:
            raise ValueError(_FORMAT_ERROR)
        return cls(number.scaleb(int(exponent.group(1)), context=_CONTEXT), "DecimalExponent")

    @classmethod
    def parse_or_zero(cls, raw: object) -> Quantity:
        """`raw` (a quantity's text, or a number) parsed; 0 when it is not a quantity (as the resource helpers
        read a quantity that a real API server would have refused)."""
        try:
            return cls.parse(raw if isinstance(raw, str | int | float) else str(raw))
        except ValueError:
            return cls(Decimal(0))

    def plus(self, other: Quantity) -> Quantity:
        """The sum, in this quantity's format (Go's `q.Add(other)` keeps the receiver's)."""
        return Quantity(self.value + other.value, self._format)

    # Numeric views used by the runtime (Docker wants bytes and nano-CPUs).
    def as_int(self) -> int:
        """The value rounded up to a whole number (bytes, for memory)."""
        return int(self.value.to_integral_value(rounding=decimal.ROUND_CEILING))

    def milli(self) -> int:
        """The value in thousandths, rounded up (millicores, for cpu)."""
        return int((self.value * 1000).to_integral_value(rounding=decimal.ROUND_CEILING))

    def __str__(self) -> str:
        if self.value == 0:
            return "0"
        if self._format == "BinarySI" and self.value == self.value.to_integral_value():
            whole = int(self.value)
            for power in range(6, 0, -1):
                unit = 1024**power
                if abs(whole) >= unit and whole % unit == 0:
                    return f"{whole // unit}{_BINARY_SUFFIX[power]}"
            return str(whole)
        for power in range(6, -4, -1):
            mantissa = self.value.scaleb(-3 * power, context=_CONTEXT)
            if mantissa == mantissa.to_integral_value():
                if self._format == "DecimalExponent":
                    return f"{int(mantissa)}e{3 * power}" if power else str(int(mantissa))
                return f"{int(mantissa)}{_DECIMAL_SUFFIX[power]}"
        raise AssertionError(f"quantity {self.value!r} is not a whole number of nanos")

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Quantity) and self.value == other.value

    def __lt__(self, other: Quantity) -> bool:
        return self.value < other.value

    def __hash__(self) -> int:
        return hash(self.value)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        def validate(value: Any) -> Quantity:
            if isinstance(value, Quantity):
                return value
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise FieldValueError(value, _FORMAT_ERROR)
            try:
                return cls.parse(value)
            except ValueError:
                raise FieldValueError(value, _FORMAT_ERROR) from None

        return core_schema.no_info_plain_validator_function(
            validate, serialization=core_schema.plain_serializer_function_ser_schema(str)
        )


def _number_text(number: int | float) -> str:
    if isinstance(number, float):
        if number != number or number in (float("inf"), float("-inf")):
            return str(number)
        return format(Decimal(repr(number)), "f")
    return str(number)
