"""How Go prints JSON-decoded values, for the printers that must match kubectl byte for byte.

kubectl decodes what the server sends into Go's `map[string]interface{}` (strings, int64, float64, bool,
nil, `[]interface{}` and nested maps) and then prints those values with one of four Go functions. Python's
own `str`/`json.dumps`/`repr` differ from each of them in small ways (`1.0` against `1`, `True` against
`true`, `<` left as is against `\\u003c`, `{'a': 1}` against `map[a:1]`), so each is written out here:

- `sprint`: `fmt.Sprint(v)` (`%v`): what `-o custom-columns` prints and jsonpath prints for scalars;
- `json_marshal` / `json_marshal_indent`: `encoding/json`'s `Marshal` and `MarshalIndent(v, "", "    ")`,
  map keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped as Go escapes them, floats as Go writes them;
- `go_string`: `fmt.Sprintf("%#v", v)`, the Go-syntax dump in kubectl's "error executing jsonpath" message;
- `quote`: `strconv.Quote(s)` (`%q`).

Floats: Go's shortest representation (the same digits as Python's `repr`), laid out as `strconv` does for
`%v` (`'g'`: an exponent when it is below -4 or, for the shortest form, 6 or more, hence `1e+06`) and as
`encoding/json` does (`'f'`, or `'e'` below 1e-6 and from 1e21 on, with `e-7` rather than `e-07`).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from minikubelet.errors import go_quote

__all__ = ["format_float_json", "format_float_v", "go_string", "json_marshal", "json_marshal_indent", "quote", "sprint"]


# --- floats ---------------------------------------------------------------------------------------------------------


def _shortest_digits(value: float) -> tuple[str, int]:
    """The shortest decimal digits that read back as `abs(value)`, and Go's `dp` (value = 0.DIGITS x 10**dp)."""
    _sign, digits, exponent = Decimal(repr(abs(value))).as_tuple()
    text = "".join(map(str, digits)).rstrip("0")
    assert isinstance(exponent, int)
    if not text:
        return "0", 1
    exponent += len(digits) - len(text)
    return text, len(text) + exponent


def _fmt_e(negative: bool, digits: str, dp: int) -> str:
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    exp = dp - 1 if digits != "0" else 0
    return f"{'-' if negative else ''}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"


def _fmt_f(negative: bool, digits: str, dp: int) -> str:
    if dp <= 0:
        text = "0." + "0" * -dp + digits
    elif dp >= len(digits):
        text = digits + "0" * (dp - len(digits))
    else:
        text = digits[:dp] + "." + digits[dp:]
    return ("-" if negative else "") + text


def format_float_v(value: float) -> str:
    """`fmt.Sprint(float64)`: `strconv.FormatFloat(f, 'g', -1, 64)`: `1`, `2.5`, `1e+06`, `1e-05`."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    negative = math.copysign(1.0, value) < 0
    digits, dp = _shortest_digits(value)
    exp = dp - 1
    eprec = 6  # strconv: "if precision was the shortest possible, use precision 6 for this decision"
    if digits != "0" and (exp < -4 or exp >= eprec):
        return _fmt_e(negative, digits, dp)
    if digits == "0":
        return "-0" if negative else "0"
    return _fmt_f(negative, digits, dp)


def format_float_json(value: float) -> str:
    """`encoding/json`'s float64: `'f'` shortest, or `'e'` (as `1e-7`, `1e+21`) outside [1e-6, 1e21)."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"json: unsupported value: {format_float_v(value)}")
    negative = math.copysign(1.0, value) < 0
    digits, dp = _shortest_digits(value)
    if digits == "0":
        return "-0" if negative else "0"
    magnitude = abs(value)
    if magnitude < 1e-6 or magnitude >= 1e21:
        text = _fmt_e(negative, digits, dp)
        if text[-4:-2] in ("e-", "e+") and text[-2] == "0" and text[-3] == "-":
            text = text[:-2] + text[-1]  # e-07 -> e-7 (Go cleans up only negative exponents)
        return text
    return _fmt_f(negative, digits, dp)


# --- fmt %v ---------------------------------------------------------------------------------------------------------


def sprint(value: Any) -> str:
    """`fmt.Sprint` of a JSON-decoded value: `map[k:v ...]` (keys sorted), `[a b]`, `<nil>`, `true`, `1`."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float_v(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{sprint(k)}:{sprint(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(sprint(item) for item in value) + "]"
    return str(value)


# --- encoding/json --------------------------------------------------------------------------------------------------

_HTML_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _json_string(text: str) -> str:
    # Python escapes the same control characters as Go 1.22+ (\b \f \n \r \t, others \u00xx, lower-case hex).
    return json.dumps(text, ensure_ascii=False).translate(_HTML_SAFE)


def _json_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float_json(value)
    if isinstance(value, str):
        return _json_string(value)
    raise TypeError(f"json: unsupported type: {type(value).__name__}")


def json_marshal(value: Any) -> str:
    """`json.Marshal(v)`: compact, map keys sorted, HTML-safe escapes."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{_json_string(str(k))}:{json_marshal(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(json_marshal(item) for item in value) + "]"
    return _json_scalar(value)


def json_marshal_indent(value: Any, indent: str = "    ", prefix: str = "") -> str:
    """`json.MarshalIndent(v, "", indent)`: empty maps and lists stay `{}` and `[]`."""
    inner = prefix + indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{_json_string(str(k))}: {json_marshal_indent(value[k], indent, inner)}" for k in sorted(value)]
        return "{\n" + ",\n".join(items) + "\n" + prefix + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(inner + json_marshal_indent(item, indent, inner) for item in value) + "\n" + prefix + "]"
    return _json_scalar(value)


# --- strconv.Quote and %#v ------------------------------------------------------------------------------------------


def quote(text: str) -> str:
    """`strconv.Quote`: printable runes kept, the rest escaped as Go escapes them (errors.go_quote)."""
    return go_quote(text)


def go_string(value: Any, *, top: bool = True) -> str:
    """`fmt.Sprintf("%#v", v)` of a JSON-decoded value held in an `interface{}` (a map at the top)."""
    if value is None:
        return "interface {}(nil)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float_v(value)
    if isinstance(value, dict):
        items = ", ".join(f"{quote(str(k))}:{go_string(value[k], top=False)}" for k in sorted(value))
        return "map[string]interface {}{" + items + "}"
    if isinstance(value, list | tuple):
        return "[]interface {}{" + ", ".join(go_string(item, top=False) for item in value) + "}"
    return str(value)
