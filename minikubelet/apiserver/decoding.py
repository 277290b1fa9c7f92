"""Request bodies and query parameters, read as the API server reads them. The answers to what cannot be read must
match kube-apiserver v1.37 word for word, so their texts are written here by hand from upstream's.

- A body's `Content-Type` picks its decoder, as negotiation.NegotiateInputSerializer does for create, update,
  delete and binding: none means JSON; `application/json` and `application/yaml` are read (any case, any
  parameters: the media type is parsed as Go's mime.ParseMediaType parses it); anything else, or a header that
  does not parse, is 415 UnsupportedMediaType, `the body of the request was in an unknown format - accepted media
  types include: ...`. Upstream's list goes on with application/vnd.kubernetes.protobuf (and application/cbor
  when its CBOR feature gate is on); this node reads neither, so its list names only the two it reads.
- A YAML body is one document, read with the YAML rules of manifests (timestamps stay strings, a key set twice
  is an error) and held to the JSON body's bounds: MAX_BODY_BYTES (3 MiB) before it is parsed, MAX_DEPTH and
  MAX_NODES after (an alias bomb is refused before it expands).
- Integer query parameters are converted as apimachinery's parameter codec converts them, with Go's
  strconv.ParseInt(s, 10, 64): anything else is 400 with Go's error, `strconv.ParseInt: parsing "abc": invalid
  syntax` or `...: value out of range`.
- DeleteOptions are checked as ValidateDeleteOptions checks them (meta/v1/validation): a propagationPolicy
  that is none of Foreground, Background and Orphan, or one set beside orphanDependents, is 422 Invalid for
  `DeleteOptions.meta.k8s.io`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from minikubelet.api.loading import MAX_DEPTH, YAML_LOADER, check_bounds
from minikubelet.errors import BadRequestError, FieldError, InvalidError, RequestEntityTooLargeError, StatusError, go_quote

__all__ = [
    "BODY_MEDIA_TYPES",
    "JSON",
    "MAX_BODY_BYTES",
    "YAML",
    "DeleteOptions",
    "UnsupportedMediaTypeError",
    "body_media_type",
    "decode_body",
    "delete_options",
    "int64_parameters",
    "media_type",
    "parse_int64",
    "query_flag",
    "too_large",
]

#: The largest request body the API server reads (its MaxRequestBodyBytes, 3 MiB).
MAX_BODY_BYTES = 3 * 1024 * 1024
#: Go's http.Server reads at most DefaultMaxHeaderBytes (1 MiB) of request line and headers, plus 4096 bytes of
#: slack; past that it answers 431 with this plain-text body and hangs up.
MAX_HEADER_BYTES = 1024 * 1024 + 4096
HEADERS_TOO_LARGE = b"431 Request Header Fields Too Large"
JSON = "application/json"
YAML = "application/yaml"
#: The media types a create, update, delete or binding body may have, in the API server's order.
BODY_MEDIA_TYPES = (JSON, YAML)

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_MEDIA_TYPE = re.compile(rf"({_TOKEN})(?:/({_TOKEN}))?")
_PARAMETER = re.compile(rf'\s*;\s*{_TOKEN}\s*=\s*(?:{_TOKEN}|"(?:[^"\\]|\\.)*")')
_PROPAGATION_POLICIES = ("Foreground", "Background", "Orphan")
_INT64_MAX = 2**63 - 1
_UINT64_MAX = 2**64 - 1


class UnsupportedMediaTypeError(StatusError):
    """negotiation.NewUnsupportedMediaTypeError: 415, naming the media types the endpoint reads."""

    code, reason = 415, "UnsupportedMediaType"

    def __init__(self, accepted: Sequence[str]) -> None:
        accepted_types = ", ".join(accepted)
        super().__init__(f"the body of the request was in an unknown format - accepted media types include: {accepted_types}")


def too_large() -> RequestEntityTooLargeError:
    """What the API server answers a body over MAX_BODY_BYTES (rest.go's limitedReadBody)."""
    return RequestEntityTooLargeError.because(f"limit is {MAX_BODY_BYTES}")


def media_type(header: str) -> str | None:
    """The media type of a Content-Type header, lowercased and without its parameters, as Go's mime.ParseMediaType
    reads it; None when it does not parse (the API server then finds no decoder for it either)."""
    base = header.partition(";")[0]
    mediatype = base.lower().strip()
    if _MEDIA_TYPE.fullmatch(mediatype) is None:
        return None
    rest = header[len(base) :]
    while rest := rest.lstrip():
        parameter = _PARAMETER.match(rest)
        if parameter is None:
            return None if rest.strip() != ";" else mediatype  # only a trailing semicolon is no error
        rest = rest[parameter.end() :]
    return mediatype


def body_media_type(header: str | None, accepted: Sequence[str] = BODY_MEDIA_TYPES) -> str:
    """The media type to decode a body with: JSON when the request names none, else one of `accepted`, else 415."""
    if not header:
        return accepted[0]
    parsed = media_type(header)
    if parsed is None or parsed not in accepted:
        raise UnsupportedMediaTypeError(accepted)
    return parsed


def decode_body(data: bytes, media: str) -> Any:
    """A body of at most MAX_BODY_BYTES as JSON (`application/json`) or one YAML document (anything else),
    within the depth and size bounds of manifests; None when it is empty. 400 when it does not parse."""
    if len(data) > MAX_BODY_BYTES:
        raise too_large()
    if not data.strip():
        return None
    try:
        body = json.loads(data) if media == JSON else yaml.load(data, Loader=YAML_LOADER)
    except (ValueError, yaml.YAMLError) as exc:
        raise BadRequestError(f"couldn't decode the request body: {exc}") from None
    except RecursionError:
        raise BadRequestError(f"couldn't decode the request body: nested more than {MAX_DEPTH} levels deep") from None
    problem = check_bounds(body)
    if problem:
        raise BadRequestError(f"couldn't decode the request body: {problem}")
    return body


def query_flag(value: str | None) -> bool:
    """A boolean query parameter (`watch`, `force`, `allowWatchBookmarks`): set when it says true."""
    return value in ("true", "1", "True")


def parse_int64(text: str) -> int:
    """Go's strconv.ParseInt(text, 10, 64), failing with Go's NumError text (BadRequestError)."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not digits:
        raise _num_error(text, "invalid syntax")
    value = 0
    for char in digits:  # as ParseUint: the first bad digit is a syntax error, an overflow before it a range error
        if not "0" <= char <= "9":
            raise _num_error(text, "invalid syntax")
        value = value * 10 + ord(char) - ord("0")
        if value > _UINT64_MAX:
            raise _num_error(text, "value out of range")
    negative = text.startswith("-")
    if value > (_INT64_MAX + 1 if negative else _INT64_MAX):
        raise _num_error(text, "value out of range")
    return -value if negative else value


def int64_parameters(query: Mapping[str, str], *names: str) -> dict[str, int]:
    """The integer query parameters among `names` that the query gives (the first value of each), parsed as the
    parameter codec parses them: `?limit=` is a syntax error too, as Go converts [""]."""
    return {name: parse_int64(query[name]) for name in names if name in query}


@dataclass(frozen=True, slots=True)
class DeleteOptions:
    """What a delete asks for: a grace period, and preconditions on the object's uid and resourceVersion."""

    grace_period: int | None = None
    uid: str | None = None
    resource_version: str | None = None


def delete_options(body: Any, query: Mapping[str, str]) -> DeleteOptions:
    """The DeleteOptions of a delete: its body (a decoded DeleteOptions object, or None), else its query; a query
    gracePeriodSeconds wins over the body's. 400 when they do not decode, 422 when ValidateDeleteOptions fails."""
    options = {} if body is None else body
    if not isinstance(options, dict):
        raise BadRequestError("the body of a delete must be a DeleteOptions object")
    given = query.get("gracePeriodSeconds")
    grace: Any = parse_int64(given) if given is not None else options.get("gracePeriodSeconds")
    try:
        grace = None if grace is None else int(grace)
    except (TypeError, ValueError):
        raise BadRequestError(f"invalid gracePeriodSeconds: {grace}") from None
    preconditions = options.get("preconditions") or {}
    if not isinstance(preconditions, dict):
        raise BadRequestError("the preconditions of a delete must be an object")
    source: Mapping[str, Any] = options if body is not None else query
    policy, orphan = source.get("propagationPolicy"), source.get("orphanDependents")
    if body is None and orphan is not None:
        orphan = not (orphan == "0" or orphan.lower() == "false")  # Convert_Slice_string_To_bool
    if not isinstance(policy, str | None) or not isinstance(orphan, bool | None):
        raise BadRequestError("propagationPolicy must be a string and orphanDependents a boolean")
    causes = []
    if orphan is not None and policy is not None:
        both = "orphanDependents and deletionPropagation cannot be both set"
        causes.append(FieldError.invalid("propagationPolicy", policy, both))
    if policy is not None and policy not in _PROPAGATION_POLICIES:
        causes.append(FieldError.not_supported("propagationPolicy", policy, [*_PROPAGATION_POLICIES, "nil"]))
    if causes:
        raise InvalidError("DeleteOptions.meta.k8s.io", "", causes)
    return DeleteOptions(grace, preconditions.get("uid"), preconditions.get("resourceVersion"))


def _num_error(text: str, why: str) -> BadRequestError:
    return BadRequestError(f"strconv.ParseInt: parsing {go_quote(text)}: {why}")
