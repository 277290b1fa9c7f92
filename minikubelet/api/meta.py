"""The base of every API object: camelCase on the wire, snake_case in code, strict decoding.

Kubernetes decodes JSON strictly (`kubectl apply --validate=strict`, the default): unknown fields are
errors, a string is never silently turned into a number, `null` means "unset". Defaulting then runs
(`pkg/apis/core/v1/defaults.go`), and validation last (see `validation.py`). Our models do the first
two while they are built:

- `extra="forbid"`, and the scalar types below are strict (no "10" -> 10, no true -> 1);
- a `null` value is dropped before validation, so the field's default applies;
- fields listed in a model's `_zero_means_default` get their default back when written as 0 or ""
  (Kubernetes' `if x == 0 { x = default }`), everything else is kept as written, so that validation
  can name a bad value (`periodSeconds: -1`) instead of hiding it;
- `_default_raw` lets a model default fields from its siblings (imagePullPolicy from the image tag).

Required fields are not required here: Kubernetes decodes a missing `image` as "" and validation says
`spec.containers[0].image: Required value`; we do the same so that every error of a document is listed.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    SerializerFunctionWrapHandler,
    Strict,
    model_serializer,
    model_validator,
)
from pydantic.alias_generators import to_camel

from minikubelet.errors import FieldValueError

__all__ = [
    "Bool",
    "Int32",
    "Int64",
    "IntOrString",
    "K8sModel",
    "ListMeta",
    "ObjectMeta",
    "OwnerReference",
    "Str",
    "StringMap",
    "Time",
    "TypeMeta",
    "format_time",
]


def _int32(value: int) -> int:
    if not -(2**31) <= value < 2**31:
        raise FieldValueError(value, "must fit in a 32-bit integer")
    return value


def _int64(value: int) -> int:
    if not -(2**63) <= value < 2**63:
        raise FieldValueError(value, "must fit in a 64-bit integer")
    return value


def _int_or_string(value: object) -> int | str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise FieldValueError(value, "must be an integer or a string")
    return value


def format_time(value: datetime) -> str:
    """RFC 3339 with second precision in UTC, as metav1.Time is written."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


Str = Annotated[str, Strict()]
Bool = Annotated[bool, Strict()]
Int64 = Annotated[int, Strict(), AfterValidator(_int64)]
Int32 = Annotated[int, Strict(), AfterValidator(_int32)]
IntOrString = Annotated[int | str, PlainValidator(_int_or_string)]
StringMap = dict[Str, Str]
Time = Annotated[datetime, AfterValidator(_aware), PlainSerializer(format_time, return_type=str, when_used="json")]


class K8sModel(BaseModel):
    """Base of all API models."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
        defer_build=True,  # validators are built on first use, not at import: the node's start waits for no model
    )

    # Wire names of fields whose explicit zero value ("" or 0) means "use the default".
    _zero_means_default: ClassVar[frozenset[str]] = frozenset()
    # Python names of fields written even when empty (Go fields without `omitempty`).
    _always_emit: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _decode(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = {}
        for key, value in data.items():
            if value is None:
                continue
            if key in cls._zero_means_default and type(value) in (int, str) and value in (0, ""):
                continue
            out[key] = value
        return cls._default_raw(out)

    @classmethod
    def _default_raw(cls, data: dict[Any, Any]) -> dict[Any, Any]:
        """Hook for defaults that depend on other fields; `data` is the raw (wire-named) mapping."""
        return data

    @model_serializer(mode="wrap")
    def _omit_empty(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            omit = _omitempty_keys(type(self))
            return {k: v for k, v in data.items() if not (k in omit and (v is False or v in ("", [], {})))}
        return data

    def to_dict(self) -> dict[str, Any]:
        """The object as Kubernetes writes it in JSON (camelCase, unset fields and empty lists omitted)."""
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        return data


@functools.cache
def _omitempty_keys(model: type[K8sModel]) -> frozenset[str]:
    """Fields defaulting to "", false or an empty list or map are left out when empty (Go's `omitempty`)."""
    keys: set[str] = set()
    for name, info in model.model_fields.items():
        empty_default = info.default_factory in (list, dict) or info.default is False or info.default == ""
        if empty_default and name not in model._always_emit:
            keys.add(name)
            if info.alias:
                keys.add(info.alias)
    return frozenset(keys)


class TypeMeta(K8sModel):
    """What every object says it is; the pair picks the model that decodes the rest."""

    model_config = ConfigDict(extra="ignore")

    api_version: Str = ""
    kind: Str = ""


class OwnerReference(K8sModel):
    api_version: Str = ""
    kind: Str = ""
    name: Str = ""
    uid: Str = ""
    controller: Bool | None = None
    block_owner_deletion: Bool | None = None


class ObjectMeta(K8sModel):
    name: Str = ""
    generate_name: Str = ""
    namespace: Str = ""
    uid: Str = ""
    resource_version: Str = ""
    generation: Int64 | None = None
    creation_timestamp: Time | None = None
    deletion_timestamp: Time | None = None
    deletion_grace_period_seconds: Int64 | None = None
    labels: StringMap = Field(default_factory=dict)
    annotations: StringMap = Field(default_factory=dict)
    owner_references: list[OwnerReference] = Field(default_factory=list)
    finalizers: list[Str] = Field(default_factory=list)
    # Written by servers (server-side apply); kept as given so `get -o yaml` output can be re-applied.
    managed_fields: list[dict[str, Any]] = Field(default_factory=list)
    self_link: Str = ""


class ListMeta(K8sModel):
    resource_version: Str = ""
    continue_: Str = Field(default="", alias="continue")
    remaining_item_count: Int64 | None = None
