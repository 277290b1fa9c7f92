"""Kubernetes' protobuf encoding, read for the few requests kubectl sends that way: the typed clientset it uses
for `auth can-i` and `auth whoami` posts `application/vnd.kubernetes.protobuf` bodies (it accepts JSON answers).

Written by hand (no protobuf schema compiler runs here): the bytes must be read exactly as the API server
reads them. The envelope is apimachinery's runtime/serializer/protobuf: the 4 bytes `k8s\\0`, then a
`runtime.Unknown` message (typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2, contentEncoding = 3,
contentType = 4) whose `raw` is the object's own message. The object messages are those of
k8s.io/api/authorization/v1 and authentication/v1 generated.proto, by field number; only the fields a review
request carries are decoded (metadata is not: nothing here stores or names the review).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from minikubelet.errors import BadRequestError

__all__ = ["MEDIA_TYPE", "decode_review"]

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
_MAGIC = b"k8s\x00"

# message field number -> (JSON name, nested message or None for a string)
_RESOURCE_ATTRIBUTES = {1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource", 6: "subresource", 7: "name"}
_NON_RESOURCE_ATTRIBUTES = {1: "path", 2: "verb"}
_SPECS: dict[str, dict[int, tuple[str, dict[int, str] | None]]] = {
    "SelfSubjectAccessReview": {
        1: ("resourceAttributes", _RESOURCE_ATTRIBUTES),
        2: ("nonResourceAttributes", _NON_RESOURCE_ATTRIBUTES),
    },
    "SelfSubjectRulesReview": {1: ("namespace", None)},
    "SelfSubjectReview": {},
}
_SPEC_FIELD = 2  # the spec of SelfSubjectAccessReview and SelfSubjectRulesReview (metadata = 1, status = 3)


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("a truncated varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of each field of one message: an int for varints, bytes for length-delimited."""
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
            yield number, value
        elif wire == 2:
            length, at = _varint(data, at)
            if at + length > len(data):
                raise ValueError("a truncated field")
            yield number, data[at : at + length]
            at += length
        elif wire in (1, 5):  # fixed 64 / 32 bits: no field we read, skipped
            at += 8 if wire == 1 else 4
        else:
            raise ValueError(f"wire type {wire} is not supported")


def _strings(data: bytes, names: dict[int, str]) -> dict[str, str]:
    return {names[n]: v.decode() for n, v in _fields(data) if n in names and isinstance(v, bytes) and v}  # "" is omitted


def decode_review(body: bytes) -> dict[str, Any]:
    """The review object a protobuf body carries, as JSON would have it (`kind`, `apiVersion`, `spec`)."""
    try:
        if not body.startswith(_MAGIC):
            raise ValueError("the body does not start with the protobuf envelope's magic number")
        unknown = dict(_fields(body[len(_MAGIC) :]))
        type_meta = unknown.get(1, b"")
        raw = unknown.get(2, b"")
        if not isinstance(type_meta, bytes) or not isinstance(raw, bytes):
            raise ValueError("the envelope is malformed")
        meta = _strings(type_meta, {1: "apiVersion", 2: "kind"})
        layout = _SPECS.get(meta.get("kind", ""))
        if layout is None:
            raise ValueError(f"kind {meta.get('kind', '')!r} is not read from protobuf here")
        spec: dict[str, Any] = {}
        for number, value in _fields(raw):
            if number != _SPEC_FIELD or not isinstance(value, bytes) or not layout:
                continue
            for field, inner in _fields(value):
                if field in layout and isinstance(inner, bytes):
                    name, nested = layout[field]
                    spec[name] = _strings(inner, nested) if nested is not None else inner.decode()
        return {"kind": meta["kind"], "apiVersion": meta.get("apiVersion", ""), "spec": spec}
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequestError(f"couldn't decode the request body: {exc}") from None
