"""Label and field selectors, parsed and matched as the API server does.

Label selectors follow `k8s.io/apimachinery/pkg/labels/selector.go` closely: the same lexer (whitespace
separates, `=`/`==`/`!=`/`(`/`)`/`,`/`!`/`>`/`<` are symbols, `in`/`notin` are keywords only where an
operator may stand), the same grammar, and the same error strings, because kubectl users see them verbatim
(`unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt`).

Field selectors follow `k8s.io/apimachinery/pkg/fields/selector.go`: `key=value`, `key==value`, `key!=value`,
comma = AND, `\\`, `\\,` and `\\=` escape a value. Unlike labels, fields are named per kind: each kind has a
table of the keys the API server lets you select on, mapped to a function that reads the value from a wire
object (most are dotted paths; Event's `source` is not). A key outside the table is a 400, as it is for
`kubectl get pods --field-selector spec.foo=x`. A missing value reads as "".

Everything here is pure and works on plain wire-format dicts; the store compiles a selector once per list or
watch and calls `matches` per object.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from minikubelet.api.names import is_label_value, is_qualified_name
from minikubelet.errors import BadRequestError, FieldError

__all__ = [
    "FieldSelector",
    "LabelSelector",
    "ObjectSelector",
    "Operator",
    "Requirement",
    "parse_field_selector",
    "parse_label_selector",
    "selectable_fields",
]


# --- label selectors -------------------------------------------------------------------------------------


class Operator(enum.StrEnum):
    """`k8s.io/apimachinery/pkg/selection.Operator`."""

    IN = "in"
    NOT_IN = "notin"
    EQUALS = "="
    DOUBLE_EQUALS = "=="
    NOT_EQUALS = "!="
    GREATER_THAN = "gt"
    LESS_THAN = "lt"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"


_BINARY_OPERATORS = ", ".join(
    op.value for op in Operator if op not in (Operator.EXISTS, Operator.DOES_NOT_EXIST)
)  # "in, notin, =, ==, !=, gt, lt", in Go's order


@dataclass(frozen=True, slots=True)
class Requirement:
    """One term of a label selector: `key <operator> values`."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        value = labels.get(self.key)
        match self.operator:
            case Operator.IN | Operator.EQUALS | Operator.DOUBLE_EQUALS:
                return value is not None and value in self.values
            case Operator.NOT_IN | Operator.NOT_EQUALS:
                return value is None or value not in self.values
            case Operator.EXISTS:
                return value is not None
            case Operator.DOES_NOT_EXIST:
                return value is None
        return _compare(self.operator, value, self.values[0])

    def __str__(self) -> str:
        values = ",".join(sorted(self.values))
        match self.operator:
            case Operator.EXISTS:
                return self.key
            case Operator.DOES_NOT_EXIST:
                return "!" + self.key
            case Operator.IN | Operator.NOT_IN:
                return f"{self.key} {self.operator.value} ({values})"
            case Operator.GREATER_THAN:
                return f"{self.key}>{values}"
            case Operator.LESS_THAN:
                return f"{self.key}<{values}"
        return f"{self.key}{self.operator.value}{values}"


def _compare(operator: Operator, value: str | None, bound: str) -> bool:
    """`gt`/`lt`: both sides must be integers, a label that is not one never matches."""
    number, limit = _to_int(value or ""), _to_int(bound)
    if number is None or limit is None:
        return False
    return number > limit if operator is Operator.GREATER_THAN else number < limit


_INT64 = re.compile(r"[+-]?[0-9]+")


def _to_int(text: str) -> int | None:
    """Go's strconv.ParseInt(text, 10, 64), which is stricter than int() (no blanks, no `_`)."""
    if not _INT64.fullmatch(text):
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 else None


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """An AND of requirements; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(requirement.matches(labels) for requirement in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)


class _Token(enum.Enum):
    END = enum.auto()
    IDENTIFIER = enum.auto()
    CLOSE_PAR = enum.auto()
    COMMA = enum.auto()
    NOT = enum.auto()
    DOUBLE_EQUALS = enum.auto()
    EQUALS = enum.auto()
    GREATER_THAN = enum.auto()
    IN = enum.auto()
    LESS_THAN = enum.auto()
    NOT_EQUALS = enum.auto()
    NOT_IN = enum.auto()
    OPEN_PAR = enum.auto()


_LITERALS = {
    ")": _Token.CLOSE_PAR,
    ",": _Token.COMMA,
    "!": _Token.NOT,
    "==": _Token.DOUBLE_EQUALS,
    "=": _Token.EQUALS,
    ">": _Token.GREATER_THAN,
    "in": _Token.IN,
    "<": _Token.LESS_THAN,
    "!=": _Token.NOT_EQUALS,
    "notin": _Token.NOT_IN,
    "(": _Token.OPEN_PAR,
}
_SYMBOLS = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")
_OPERATORS = {
    _Token.IN: Operator.IN,
    _Token.NOT_IN: Operator.NOT_IN,
    _Token.EQUALS: Operator.EQUALS,
    _Token.DOUBLE_EQUALS: Operator.DOUBLE_EQUALS,
    _Token.NOT_EQUALS: Operator.NOT_EQUALS,
    _Token.GREATER_THAN: Operator.GREATER_THAN,
    _Token.LESS_THAN: Operator.LESS_THAN,
}


def _lex(text: str) -> Iterator[tuple[_Token, str]]:
    """Go's Lexer: symbols are matched longest first (`!=`, `==`), words up to a symbol or a blank."""
    pos = 0
    while True:
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        if pos == len(text):
            yield _Token.END, ""
            return
        if text[pos] in _SYMBOLS:
            literal = text[pos : pos + 2] if text[pos : pos + 2] in ("!=", "==") else text[pos]
        else:
            end = pos
            while end < len(text) and text[end] not in _SYMBOLS and text[end] not in _WHITESPACE:
                end += 1
            literal = text[pos:end]
        pos += len(literal)
        yield _LITERALS.get(literal, _Token.IDENTIFIER), literal


class _SelectorSyntaxError(Exception):
    """A parse error, worded as Go's parser words it; becomes a BadRequestError."""


class _Parser:
    """A port of Go's recursive-descent `Parser`; `in` and `notin` read as values where values stand."""

    def __init__(self, text: str) -> None:
        self._items = list(_lex(text))
        self._position = 0

    def _peek(self, *, values: bool = True) -> tuple[_Token, str]:
        return self._as_value(self._items[self._position], values)

    def _next(self, *, values: bool = True) -> tuple[_Token, str]:
        item = self._items[self._position]
        self._position += 1
        return self._as_value(item, values)

    @staticmethod
    def _as_value(item: tuple[_Token, str], values: bool) -> tuple[_Token, str]:
        if values and item[0] in (_Token.IN, _Token.NOT_IN):
            return _Token.IDENTIFIER, item[1]
        return item

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            token, literal = self._peek()
            if token is _Token.END:
                return requirements
            if token not in (_Token.IDENTIFIER, _Token.NOT):
                raise _SelectorSyntaxError(f"found '{literal}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self._requirement())
            except _SelectorSyntaxError as exc:
                raise _SelectorSyntaxError(f"unable to parse requirement: {exc}") from None
            if self._after_requirement():
                return requirements

    def _after_requirement(self) -> bool:
        """Consume what follows a requirement; True at the end of the selector."""
        token, literal = self._next()
        if token is _Token.END:
            return True
        if token is not _Token.COMMA:
            raise _SelectorSyntaxError(f"found '{literal}', expected: ',' or 'end of string'")
        token, literal = self._peek()
        if token not in (_Token.IDENTIFIER, _Token.NOT):
            raise _SelectorSyntaxError(f"found '{literal}', expected: identifier after ','")
        return False

    def _requirement(self) -> Requirement:
        key, operator = self._key_and_inferred_operator()
        if operator is not None:
            return Requirement(key, operator)
        operator = self._operator()
        values = self._value_set() if operator in (Operator.IN, Operator.NOT_IN) else {self._exact_value()}
        return _new_requirement(key, operator, sorted(values))

    def _key_and_inferred_operator(self) -> tuple[str, Operator | None]:
        token, literal = self._next()
        negated = token is _Token.NOT
        if negated:
            token, literal = self._next()
        if token is not _Token.IDENTIFIER:
            raise _SelectorSyntaxError(f"found '{literal}', expected: identifier")
        if errors := is_qualified_name(literal):
            raise _SelectorSyntaxError(str(FieldError.invalid("<nil>", literal, "; ".join(errors))))
        if negated:
            return literal, Operator.DOES_NOT_EXIST
        if self._peek()[0] in (_Token.END, _Token.COMMA):
            return literal, Operator.EXISTS
        return literal, None

    def _operator(self) -> Operator:
        token, literal = self._next(values=False)
        if token not in _OPERATORS:
            raise _SelectorSyntaxError(f"found '{literal}', expected: {_BINARY_OPERATORS}")
        return _OPERATORS[token]

    def _value_set(self) -> set[str]:
        token, literal = self._next()
        if token is not _Token.OPEN_PAR:
            raise _SelectorSyntaxError(f"found '{literal}' expected: '('")
        token, literal = self._peek()
        if token is _Token.CLOSE_PAR:  # "()"
            self._next()
            return {""}
        if token not in (_Token.IDENTIFIER, _Token.COMMA):
            raise _SelectorSyntaxError(f"found '{literal}', expected: ',', ')' or identifier")
        values = self._identifiers()
        token, literal = self._next()
        if token is not _Token.CLOSE_PAR:
            raise _SelectorSyntaxError(f"found '{literal}', expected: ')'")
        return values

    def _identifiers(self) -> set[str]:
        """A comma-separated list of possibly empty values, up to (not including) the `)`."""
        values: set[str] = set()
        while True:
            token, literal = self._next()
            if token is _Token.IDENTIFIER:
                values.add(literal)
                following, after = self._peek()
                if following is _Token.CLOSE_PAR:
                    return values
                if following is not _Token.COMMA:
                    raise _SelectorSyntaxError(f"found '{after}', expected: ',' or ')'")
            elif token is _Token.COMMA:  # "(,a)", "(a,,b)" and "(a,)" hold an empty value
                following, _ = self._peek()
                if not values or following in (_Token.CLOSE_PAR, _Token.COMMA):
                    values.add("")
                if following is _Token.CLOSE_PAR:
                    return values
            else:
                raise _SelectorSyntaxError(f"found '{literal}', expected: ',', or identifier")

    def _exact_value(self) -> str:
        token, literal = self._peek()
        if token in (_Token.END, _Token.COMMA):
            return ""
        token, literal = self._next()
        if token is not _Token.IDENTIFIER:
            raise _SelectorSyntaxError(f"found '{literal}', expected: identifier")
        return literal


def _new_requirement(key: str, operator: Operator, values: list[str]) -> Requirement:
    """Go's NewRequirement: value checks, reported as one error or a bracketed list of them."""
    errors: list[str] = []
    if operator in (Operator.GREATER_THAN, Operator.LESS_THAN):
        detail = "for 'Gt', 'Lt' operators, the value must be an integer"
        bad = [(i, value) for i, value in enumerate(values) if _to_int(value) is None]
        errors += [str(FieldError.invalid(f"values[{i}]", value, detail)) for i, value in bad]
    for i, value in enumerate(values):
        if messages := is_label_value(value):
            errors.append(str(FieldError.invalid(f"values[{i}][{key}]", value, "; ".join(messages))))
    if len(errors) == 1:
        raise _SelectorSyntaxError(errors[0])
    if errors:
        raise _SelectorSyntaxError("[" + ", ".join(dict.fromkeys(errors)) + "]")
    return Requirement(key, operator, tuple(values))


def parse_label_selector(text: str) -> LabelSelector:
    """Parse `app=web,tier in (a,b),!canary`; a syntax error is a BadRequestError with Go's wording."""
    try:
        requirements = _Parser(text).parse()
    except _SelectorSyntaxError as exc:
        raise BadRequestError(str(exc)) from None
    return LabelSelector(tuple(sorted(requirements, key=lambda requirement: requirement.key)))


# --- field selectors -------------------------------------------------------------------------------------

_Obj = Mapping[str, Any]
_Extractor = Callable[[_Obj], str]


def _path(dotted: str, default: str = "") -> _Extractor:
    keys = dotted.split(".")

    def extract(obj: _Obj) -> str:
        value: Any = obj
        for key in keys:
            if not isinstance(value, Mapping) or value.get(key) is None:
                return default
            value = value[key]
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return extract


def _event_source(obj: _Obj) -> str:
    """`source` is `source.component`, or `reportingComponent` when that is empty (events/strategy.go)."""
    return _path("source.component")(obj) or _path("reportingComponent")(obj)


def _table(*paths: str) -> dict[str, _Extractor]:
    return {path: _path(path) for path in ("metadata.name", "metadata.namespace", *paths)}


# The keys of each kind's ToSelectableFields / field label conversion in Kubernetes.
_FIELDS: dict[str, dict[str, _Extractor]] = {
    "Pod": _table(
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    )
    | {"spec.hostNetwork": _path("spec.hostNetwork", "false")},
    "Event": _table(
        *(f"involvedObject.{key}" for key in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion")),
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "type",
    )
    | {"source": _event_source},
    "Node": _table() | {"spec.unschedulable": _path("spec.unschedulable", "false")},
    "Namespace": _table("status.phase"),
}
_DEFAULT_FIELDS = _table()


def selectable_fields(kind: str) -> tuple[str, ...]:
    """The field selector keys the API server accepts for `kind`."""
    return tuple(_FIELDS.get(kind, _DEFAULT_FIELDS))


@dataclass(frozen=True, slots=True)
class _FieldTerm:
    key: str
    value: str
    negated: bool
    extract: _Extractor

    def matches(self, obj: _Obj) -> bool:
        return (self.extract(obj) == self.value) != self.negated

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")
        return f"{self.key}{'!=' if self.negated else '='}{escaped}"


@dataclass(frozen=True, slots=True)
class FieldSelector:
    """An AND of `key=value` / `key!=value` terms over one kind's selectable fields."""

    terms: tuple[_FieldTerm, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.terms

    def matches(self, obj: _Obj) -> bool:
        return all(term.matches(obj) for term in self.terms)

    def __str__(self) -> str:
        return ",".join(str(term) for term in self.terms)


def _split_terms(text: str) -> list[str]:
    """Split on commas that no backslash escapes (the backslashes stay, for `_unescape`)."""
    terms: list[str] = []
    start, escaped = 0, False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    """The first `!=`, `==` or `=` splits a term (keys cannot be escaped)."""
    for i in range(len(term)):
        for operator in ("!=", "==", "="):
            if term.startswith(operator, i):
                return term[:i], operator, term[i + len(operator) :]
    return None


def _unescape(value: str) -> str:
    out: list[str] = []
    escaped = False
    for char in value:
        if escaped:
            if char not in "\\,=":
                raise BadRequestError(f"invalid field selector: invalid escape sequence: {value}")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            raise BadRequestError(f"invalid field selector: unescaped character in value: {char!r}")
        else:
            out.append(char)
    if escaped:
        raise BadRequestError(f"invalid field selector: invalid escape sequence: {value}")
    return "".join(out)


def parse_field_selector(text: str, kind: str) -> FieldSelector:
    """Parse `spec.nodeName=,status.phase!=Failed` for `kind`; unknown keys and bad syntax are BadRequestErrors."""
    fields = _FIELDS.get(kind, _DEFAULT_FIELDS)
    terms: list[_FieldTerm] = []
    for part in sorted(_split_terms(text)):
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise BadRequestError(f"invalid selector: '{text}'; can't understand '{part}'")
        key, operator, value = split
        key = key.strip()
        if key not in fields:
            raise BadRequestError(f"field label not supported: {key}")
        terms.append(_FieldTerm(key, _unescape(value), operator == "!=", fields[key]))
    return FieldSelector(tuple(terms))


# --- both ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ObjectSelector:
    """What a list or a watch asks for beyond kind and namespace: labels AND fields."""

    labels: LabelSelector = field(default_factory=LabelSelector)
    fields: FieldSelector = field(default_factory=FieldSelector)

    @classmethod
    def parse(cls, kind: str, label_selector: str = "", field_selector: str = "") -> ObjectSelector:
        return cls(parse_label_selector(label_selector), parse_field_selector(field_selector, kind))

    @property
    def empty(self) -> bool:
        return self.labels.empty and self.fields.empty

    def matches(self, obj: _Obj) -> bool:
        metadata = obj.get("metadata")
        labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
        return self.labels.matches(labels if isinstance(labels, Mapping) else None) and self.fields.matches(obj)
