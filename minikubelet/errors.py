"""The error tree of minikubelet.

    MinikubeletError                     anything we raise on purpose; the CLI prints it and exits 1
    ├── InvalidError(kind, name, causes)  an object failed validation   (API: 422 Invalid)
    ├── ManifestError(source, messages)   a manifest could not be read, decoded or validated
    ├── ContainerRuntimeError             the container engine said no (never named RuntimeError: a builtin)
    │   ├── RuntimeUnavailableError        the engine does not answer
    │   ├── ImagePullError                 an image could not be pulled   -> waiting reason ErrImagePull
    │   └── ContainerNotFoundError         the container is gone
    └── StatusError(code, reason, message) an API error, carried as a Kubernetes Status object
        ├── BadRequestError                400 BadRequest
        ├── UnauthorizedError              401 Unauthorized
        ├── NotFoundError                  404 NotFound       pods "x" not found
        ├── AlreadyExistsError             409 AlreadyExists  pods "x" already exists
        ├── ConflictError                  409 Conflict       stale resourceVersion
        ├── GoneError                      410 Expired        watch from a resourceVersion too old
        ├── RequestEntityTooLargeError     413 RequestEntityTooLarge  a body or a JSON patch over the API server's limits
        └── UnavailableError               503 ServiceUnavailable (the node is not running, ...)

Bugs stay builtins (ValueError, AssertionError, ...) and keep their tracebacks.

A `FieldError` is data, rendered exactly as Kubernetes' apimachinery does
(`k8s.io/apimachinery/pkg/util/validation/field`): `<field>: <Type>[: <value>][: <detail>]`, e.g.
`spec.containers[0].livenessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0`.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "NO_VALUE",
    "AlreadyExistsError",
    "BadRequestError",
    "ConflictError",
    "ContainerNotFoundError",
    "ContainerRuntimeError",
    "FieldError",
    "FieldValueError",
    "GoneError",
    "ImagePullError",
    "InvalidError",
    "ManifestError",
    "MinikubeletError",
    "NotFoundError",
    "RequestEntityTooLargeError",
    "RuntimeUnavailableError",
    "StatusError",
    "UnauthorizedError",
    "UnavailableError",
    "render_value",
]


class ErrorType(enum.StrEnum):
    """The `field.ErrorType` strings of apimachinery."""

    NOT_FOUND = "Not found"
    REQUIRED = "Required value"
    DUPLICATE = "Duplicate value"
    INVALID = "Invalid value"
    NOT_SUPPORTED = "Unsupported value"
    FORBIDDEN = "Forbidden"
    TOO_LONG = "Too long"
    TOO_MANY = "Too many"
    INTERNAL = "Internal error"
    UNKNOWN_FIELD = "Unknown field"


class _NoValue:
    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE = _NoValue()

# Types whose rendering carries no value (as in apimachinery's ErrorBody).
_VALUELESS = {ErrorType.REQUIRED, ErrorType.FORBIDDEN, ErrorType.TOO_LONG, ErrorType.INTERNAL, ErrorType.UNKNOWN_FIELD}


def render_value(value: object) -> str:
    """Render a bad value as Go's validation errors do: strings quoted, numbers and booleans bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    text = json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
    return text if len(text) <= 80 else text[:77] + "..."


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(text: str) -> str:
    """Go's strconv.Quote (`%q`), which apimachinery uses for string values in errors."""
    out = ['"']
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One validation error at one field path."""

    type: ErrorType
    field: str
    detail: str = ""
    value: object = NO_VALUE

    def body(self) -> str:
        text = str(self.type)
        if self.type not in _VALUELESS and self.value is not NO_VALUE:
            text += f": {render_value(self.value)}"
        if self.detail:
            text += f": {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}" if self.field else self.body()

    # Constructors named as in apimachinery's field package.
    @classmethod
    def required(cls, path: str, detail: str = "") -> FieldError:
        return cls(ErrorType.REQUIRED, path, detail)

    @classmethod
    def invalid(cls, path: str, value: object, detail: str) -> FieldError:
        return cls(ErrorType.INVALID, path, detail, value)

    @classmethod
    def duplicate(cls, path: str, value: object) -> FieldError:
        return cls(ErrorType.DUPLICATE, path, "", value)

    @classmethod
    def not_found(cls, path: str, value: object) -> FieldError:
        return cls(ErrorType.NOT_FOUND, path, "", value)

    @classmethod
    def forbidden(cls, path: str, detail: str) -> FieldError:
        return cls(ErrorType.FORBIDDEN, path, detail)

    @classmethod
    def too_long(cls, path: str, detail: str) -> FieldError:
        return cls(ErrorType.TOO_LONG, path, detail)

    @classmethod
    def too_many(cls, path: str, actual: int, maximum: int) -> FieldError:
        """field.TooMany: the count is the value, "must have at most N items" the detail."""
        return cls(ErrorType.TOO_MANY, path, f"must have at most {maximum} {'item' if maximum == 1 else 'items'}", actual)

    @classmethod
    def not_supported(cls, path: str, value: object, supported: Sequence[str]) -> FieldError:
        detail = "supported values: " + ", ".join(json.dumps(s) for s in supported)
        return cls(ErrorType.NOT_SUPPORTED, path, detail, value)

    @classmethod
    def unknown_field(cls, path: str, hint: str = "") -> FieldError:
        return cls(ErrorType.UNKNOWN_FIELD, path, hint)


class FieldValueError(ValueError):
    """Raised by a field's own validator: the bad value and why (becomes `Invalid value: <v>: <detail>`)."""

    def __init__(self, value: object, detail: str) -> None:
        super().__init__(f"Invalid value: {render_value(value)}: {detail}")
        self.value = value
        self.detail = detail


class MinikubeletError(Exception):
    """Base of every error we raise on purpose. The CLI prints `str(err)` and exits 1."""


@dataclass(eq=False)
class InvalidError(MinikubeletError):
    """An object failed validation: `The Pod "echo" is invalid: <cause>`, one line per cause."""

    kind: str
    name: str
    causes: list[FieldError] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def lines(self) -> list[str]:
        prefix = f"The {self.kind} {json.dumps(self.name)} is invalid: "
        return [prefix + str(cause) for cause in self.causes] or [prefix.rstrip(": ")]

    def __str__(self) -> str:
        return "\n".join(self.lines())


@dataclass(eq=False)
class ManifestError(MinikubeletError):
    """A manifest (file, directory entry or stdin) that could not be used; every line names the source."""

    source: str
    messages: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def lines(self) -> list[str]:
        return [f"{self.source}: {message}" for message in self.messages]

    def __str__(self) -> str:
        return "\n".join(self.lines())


class ContainerRuntimeError(MinikubeletError):
    """The container engine refused or failed an operation."""


class RuntimeUnavailableError(ContainerRuntimeError):
    """The container engine does not answer."""


class ImagePullError(ContainerRuntimeError):
    """An image could not be pulled; the message is the engine's."""


class ContainerNotFoundError(ContainerRuntimeError):
    """The container is gone."""


class StatusError(MinikubeletError):
    """An API error; `status()` is the Kubernetes Status object the API server answers with."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, kind: str = "", name: str = "", causes: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.name = name
        self.causes = causes or []

    def status(self) -> dict[str, object]:
        details: dict[str, object] = {}
        if self.name:
            details["name"] = self.name
        if self.kind:
            details["kind"] = self.kind
        if self.causes:
            details["causes"] = self.causes
        body: dict[str, object] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if details:
            body["details"] = details
        return body

    @classmethod
    def from_status(cls, body: dict[str, object], code: int) -> StatusError:
        """Rebuild the error a Status body describes (the client side of `status()`)."""
        reason = str(body.get("reason", ""))
        message = str(body.get("message", "")) or f"the server answered {code}"
        details = body.get("details") if isinstance(body.get("details"), dict) else {}
        assert isinstance(details, dict)
        error_class = next((c for c in _STATUS_ERRORS if c.reason == reason and c.code == code), None)
        error = (error_class or StatusError)(
            message,
            kind=str(details.get("kind", "")),
            name=str(details.get("name", "")),
            causes=list(details.get("causes", []) or []),
        )
        if error_class is None:
            error.code, error.reason = code, reason or "Unknown"
        return error


class BadRequestError(StatusError):
    code, reason = 400, "BadRequest"


class UnauthorizedError(StatusError):
    code, reason = 401, "Unauthorized"


class NotFoundError(StatusError):
    code, reason = 404, "NotFound"

    @classmethod
    def of(cls, resource: str, name: str) -> NotFoundError:
        return cls(f'{resource} "{name}" not found', kind=resource, name=name)


class AlreadyExistsError(StatusError):
    code, reason = 409, "AlreadyExists"

    @classmethod
    def of(cls, resource: str, name: str) -> AlreadyExistsError:
        return cls(f'{resource} "{name}" already exists', kind=resource, name=name)


class ConflictError(StatusError):
    code, reason = 409, "Conflict"

    @classmethod
    def of(cls, resource: str, name: str) -> ConflictError:
        message = (
            f'Operation cannot be fulfilled on {resource} "{name}": the object has been modified; '
            "please apply your changes to the latest version and try again"
        )
        return cls(message, kind=resource, name=name)


class GoneError(StatusError):
    code, reason = 410, "Expired"


class UnavailableError(StatusError):
    code, reason = 503, "ServiceUnavailable"


class RequestEntityTooLargeError(StatusError):
    """apimachinery's NewRequestEntityTooLargeError: the message is `Request entity too large: <why>`."""

    code, reason = 413, "RequestEntityTooLarge"

    @classmethod
    def because(cls, why: str) -> RequestEntityTooLargeError:
        return cls(f"Request entity too large: {why}")


_STATUS_ERRORS: tuple[type[StatusError], ...] = (
    BadRequestError,
    UnauthorizedError,
    NotFoundError,
    AlreadyExistsError,
    ConflictError,
    GoneError,
    UnavailableError,
    RequestEntityTooLargeError,
)
