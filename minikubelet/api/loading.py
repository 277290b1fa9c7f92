"""Manifest text -> typed objects, with every error a person can act on.

The pipeline mirrors the API server: parse (YAML or JSON) -> check apiVersion/kind -> decode strictly
(unknown fields and wrong types are errors) -> default -> validate. Every error of a document is
reported, not only the first: when decoding fails we drop the offending fields, decode again and run
validation on what is left, so a user sees the misspelled `readinesProbe` and the negative
`periodSeconds` in one go. Errors below a dropped field are not reported (they would only echo it).

No I/O happens here; `minikubelet.manifest` reads files, directories and stdin.
"""

from __future__ import annotations

import copy
import difflib
import json
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from minikubelet.api.meta import K8sModel
from minikubelet.api.pod import Pod
from minikubelet.api.validation import validate_pod
from minikubelet.errors import FieldError, FieldValueError, InvalidError, ManifestError

__all__ = ["MAX_MANIFEST_BYTES", "LoadResult", "Loaded", "check_bounds", "decode_pod", "load_text", "parse_documents"]

#: The API server refuses request bodies over 3 MiB; so do we, for any one manifest.
MAX_MANIFEST_BYTES = 3 * 1024 * 1024
#: Bounds that stop YAML alias bombs ("billion laughs") and absurd nesting before they cost anything.
MAX_NODES = 500_000
MAX_DEPTH = 100

# Fields that are maps with free-form keys: their keys are written `[key]` in field paths.
_MAP_FIELDS = frozenset({"labels", "annotations", "nodeSelector", "limits", "requests", "capacity", "allocatable"})
_SERVED = {("v1", "Pod"): Pod}  # (apiVersion, kind) -> model; Pods are all a user applies
_LIST_KINDS = frozenset({"List", "PodList"})


@dataclass(frozen=True, slots=True)
class Loaded:
    """One object read from a manifest, and where it came from."""

    source: str
    obj: Pod
    raw: dict[str, Any] = field(default_factory=dict)  # the document as written (what `apply` sends)


@dataclass(slots=True)
class LoadResult:
    objects: list[Loaded] = field(default_factory=list)
    errors: list[ManifestError] = field(default_factory=list)

    def extend(self, other: LoadResult) -> None:
        self.objects.extend(other.objects)
        self.errors.extend(other.errors)

    def error_lines(self) -> list[str]:
        return [line for error in self.errors for line in error.lines()]


def parse_documents(
    text: str, source: str, *, fmt: Literal["yaml", "json"] = "yaml"
) -> tuple[list[tuple[str, Any]], list[ManifestError]]:
    """The documents of one manifest's text that pass the size, syntax and nesting checks, each with the prefix
    that names it in a message ("document 2: " when there are several, else ""); the errors of those checks."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_MANIFEST_BYTES:
        return [], [ManifestError(source, [too_large(size)])]
    try:
        documents = _parse_json(text) if fmt == "json" else _parse_yaml(text)
    except _ParseError as exc:
        return [], [ManifestError(source, [str(exc)])]
    numbered = len(documents) > 1
    found: list[tuple[str, Any]] = []
    errors: list[ManifestError] = []
    for index, document in enumerate(documents, start=1):
        where = f"document {index}: " if numbered else ""
        problem = check_bounds(document)
        if problem:
            errors.append(ManifestError(source, [where + problem]))
        else:
            found.append((where, document))
    return found, errors


def load_text(text: str, source: str, *, fmt: Literal["yaml", "json"] = "yaml") -> LoadResult:
    """Parse, decode and validate every document of one manifest."""
    result = LoadResult()
    documents, result.errors = parse_documents(text, source, fmt=fmt)
    for where, document in documents:
        for obj, problems, raw in _decode_document(document):
            # An object's own errors name it ("The Pod "echo" is invalid"); others need the document.
            if isinstance(problems, InvalidError):
                result.errors.append(ManifestError(source, problems.lines()))
            elif isinstance(problems, _Problem):
                result.errors.append(ManifestError(source, [where + problems.text]))
            elif obj is not None:
                result.objects.append(Loaded(source, obj, raw))
    return result


def too_large(size: int) -> str:
    return f"too large: {size} bytes, the limit is {MAX_MANIFEST_BYTES}"


def decode_pod(raw: dict[str, Any]) -> Pod:
    """Decode and validate one Pod; raises InvalidError listing every problem."""
    name = _raw_name(raw)
    pod, causes = _decode(Pod, raw)
    if pod is None or causes:
        raise InvalidError("Pod", name, causes)
    return pod


# ---------------------------------------------------------------------------------------------- parsing


class _ParseError(Exception):
    pass


class _Loader(yaml.CSafeLoader):
    """YAML as Kubernetes reads it: timestamps stay strings, a key set twice in one map is an error.

    libyaml's parser is five times faster than PyYAML's and words its errors as kubectl does
    (go-yaml is a port of libyaml).
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, typing.Hashable):
            raise yaml.constructor.ConstructorError(None, None, "found a key that is not a string or number", key_node.start_mark)
        if key in mapping:
            raise yaml.constructor.ConstructorError(None, None, f"key {key!r} already set in map", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)

#: The YAML loader for anything Kubernetes-shaped (timestamps stay strings, duplicate keys are errors).
YAML_LOADER = _Loader


#: What the parser says when it meets nesting deeper than it allows: libyaml's own limit (PyYAML 6.0.4 on),
#: or Python's recursion limit (older ones). Either way the document is deeper than MAX_DEPTH.
_TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep"


def _parse_yaml(text: str) -> list[Any]:
    try:
        return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" in (exc.problem or ""):
            raise _ParseError(_TOO_DEEP) from None  # one message whichever limit is met first
        raise _ParseError(_describe_yaml_error(exc, text)) from None
    except yaml.YAMLError as exc:  # a reader error (a control character): one line, as every other message
        raise _ParseError("error parsing YAML: " + " ".join(str(exc).split())) from None
    except RecursionError:
        raise _ParseError(_TOO_DEEP) from None


def _describe_yaml_error(exc: yaml.MarkedYAMLError, text: str) -> str:
    """libyaml's words (the same as kubectl's go-yaml), with 1-based positions and a hint where it helps."""
    mark = exc.problem_mark or exc.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = exc.problem or "invalid YAML"
    message = f"error parsing YAML{where}: {problem}"
    if mark and _char_at(text, mark.line, mark.column) == "\t":
        message += " (a tab: YAML is indented with spaces only)"
    elif "block" in problem or "did not find expected" in problem:
        message += " (check the indentation)"
    if exc.context:
        context_mark = exc.context_mark
        context_at = f" (line {context_mark.line + 1}, column {context_mark.column + 1})" if context_mark else ""
        message += f", {exc.context}{context_at}"
    return message


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    return lines[line][column] if line < len(lines) and column < len(lines[line]) else ""


def _parse_json(text: str) -> list[Any]:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise _ParseError(f'error parsing JSON: duplicate field "{key}"')
            out[key] = value
        return out

    try:
        document = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise _ParseError(f"error parsing JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise _ParseError(_TOO_DEEP) from None
    return [] if document is None else [document]


def check_bounds(document: Any) -> str:
    """What makes a decoded document too costly to go on with ("" when nothing): nesting deeper than
    MAX_DEPTH or more than MAX_NODES values, as a YAML alias bomb ("billion laughs") expands to. Walks the
    document once, counting every node reached (aliases included). The API server checks bodies with it too."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    nodes = 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            return f"too many values (more than {MAX_NODES}, counting what YAML aliases repeat)"
        if depth > MAX_DEPTH:
            return _TOO_DEEP
        if isinstance(node, dict):
            stack.extend((value, depth + 1) for value in node.values())
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)
    return ""


# --------------------------------------------------------------------------------------------- decoding


@dataclass(frozen=True, slots=True)
class _Problem:
    """A document-level problem: the object could not even be identified."""

    text: str


_Decoded = tuple[Pod | None, "_Problem | InvalidError | None", dict[str, Any]]


def _decode_document(document: Any) -> Iterator[_Decoded]:
    """Yield (object, None) for each good object and (None, problem) for each bad one."""
    if not isinstance(document, dict):
        yield (
            None,
            _Problem(f"unable to decode: expected an object (a mapping of fields), got {_type_name(document)}"),
            {},
        )
        return
    api_version, kind = document.get("apiVersion"), document.get("kind")
    missing = [f"{key} not set" for key, value in (("apiVersion", api_version), ("kind", kind)) if value in (None, "")]
    if missing:
        yield None, _Problem(f"error validating data: {', '.join(missing)}"), document
        return
    if not isinstance(api_version, str) or not isinstance(kind, str):
        yield None, _Problem("error validating data: apiVersion and kind must be strings"), document
        return
    if kind in _LIST_KINDS and api_version == "v1":
        yield from _decode_list(document)
        return
    if (api_version, kind) not in _SERVED:
        served = ", ".join(f"{k} ({v})" for v, k in _SERVED)
        yield (
            None,
            _Problem(f'no matches for kind "{kind}" in version "{api_version}": minikubelet serves {served}'),
            document,
        )
        return
    try:
        yield decode_pod(document), None, document
    except InvalidError as exc:
        yield None, exc, document


def _decode_list(document: dict[str, Any]) -> Iterator[_Decoded]:
    items = document.get("items")
    if items is None:
        return
    if not isinstance(items, list):
        yield None, _Problem(f"items: must be a list, got {_type_name(items)}"), document
        return
    for index, item in enumerate(items):
        for obj, problem, raw in _decode_document(item):
            yield obj, _Problem(f"items[{index}]: {problem.text}") if isinstance(problem, _Problem) else problem, raw


M = typing.TypeVar("M", bound=K8sModel)


@dataclass(slots=True)
class Decoded(typing.Generic[M]):
    """The outcome of decoding one object, its errors sorted the way the API server reports them."""

    obj: M | None
    unknown: list[FieldError] = field(default_factory=list)  # unknown fields: 400 under Strict, warnings under Warn
    malformed: list[FieldError] = field(default_factory=list)  # wrong types and the like: always 400
    invalid: list[FieldError] = field(default_factory=list)  # validation: 422 Invalid

    def all_errors(self) -> list[FieldError]:
        return _unique(self.unknown + self.malformed + self.invalid)


def decode(model: type[M], raw: dict[str, Any], *, validate: typing.Callable[[M], list[FieldError]]) -> Decoded[M]:
    """Decode `raw` into `model` and validate it, collecting every decoding and validation error.

    A field that fails to decode is dropped and decoding goes on, so validation still sees the rest;
    validation errors below a dropped field are left out (they would only repeat it).
    """
    work = copy.deepcopy(raw)
    outcome: Decoded[M] = Decoded(None)
    dropped: list[str] = []
    for _ in range(8):
        try:
            obj = model.model_validate(work, by_alias=True, by_name=False)
        except ValidationError as exc:
            details = exc.errors(include_url=False)
            for err in details:
                if _written(raw, err):
                    target = outcome.unknown if err["type"] == "extra_forbidden" else outcome.malformed
                    target.append(_field_error(err, raw, model))
                dropped.append(_render_path(_key_loc(err)))
                _drop(work, _key_loc(err), err["type"])
            continue
        outcome.obj = obj
        outcome.invalid = _unique([e for e in validate(obj) if not _under(e.field, dropped)])
        return outcome
    return outcome


def _decode(model: type[M], raw: dict[str, Any]) -> tuple[M | None, list[FieldError]]:
    outcome = decode(model, raw, validate=lambda obj: validate_pod(obj) if isinstance(obj, Pod) else [])
    return outcome.obj, outcome.all_errors()


def _unique(errors: list[FieldError]) -> list[FieldError]:
    """Identical messages are reported once, as apimachinery's aggregate error does."""
    unique: dict[str, FieldError] = {}
    for error in errors:
        unique.setdefault(str(error), error)
    return list(unique.values())


def _written(raw: dict[str, Any], err: ErrorDetails) -> bool:
    """False for errors about values the user did not write (copied there by defaulting)."""
    if err["type"] in ("missing", "extra_forbidden"):
        return True
    return _raw_at(raw, _key_loc(err)) is not None


def _key_loc(err: ErrorDetails) -> tuple[int | str, ...]:
    loc = tuple(err["loc"])
    return loc[:-1] if loc and loc[-1] == "[key]" else loc


def _drop(data: Any, loc: tuple[int | str, ...], error_type: str) -> None:
    """Remove the value at `loc` so decoding can go on without it."""
    if not loc:
        return
    parent = data
    for part in loc[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return
    last = loc[-1]
    if isinstance(parent, dict):
        parent.pop(last, None)
    elif isinstance(parent, list) and isinstance(last, int) and 0 <= last < len(parent):
        if error_type in ("model_type", "dict_type", "model_attributes_type"):
            parent[last] = {}
        else:
            del parent[last]


def _under(path: str, prefixes: list[str]) -> bool:
    return any(path == p or path.startswith((p + ".", p + "[")) for p in prefixes)


def _render_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int) or previous in _MAP_FIELDS:
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
        previous = part
    return out


def _field_error(err: ErrorDetails, raw: dict[str, Any], model: type[K8sModel]) -> FieldError:
    """Translate one pydantic error into the API server's words."""
    kind, value = err["type"], err["input"]
    loc = tuple(err["loc"])
    if loc and loc[-1] == "[key]":
        return FieldError.invalid(_render_path(loc[:-1]), value, "map keys must be strings")
    path = _render_path(loc)
    if kind == "extra_forbidden":
        return FieldError.unknown_field(path, _unknown_field_hint(raw, model, loc))
    if kind == "literal_error" and not isinstance(value, str):
        return FieldError.invalid(path, value, _EXPECTED["string_type"] + " (put it in quotes)" * _is_scalar(value))
    if kind == "literal_error":
        supported = [s.strip("'") for s in _split_expected(str(err.get("ctx", {}).get("expected", "")))]
        return FieldError.not_supported(path, value, supported)
    if kind == "value_error":
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, FieldValueError):
            return FieldError.invalid(path, cause.value, cause.detail)
        return FieldError.invalid(path, value, str(cause or err["msg"]))
    expected = _EXPECTED.get(kind)
    if expected:
        if kind == "string_type" and _is_scalar(value):
            expected += " (put it in quotes)"
        return FieldError.invalid(path, value, expected)
    if kind == "missing":
        return FieldError.required(path)
    return FieldError.invalid(path, value, err["msg"])


_EXPECTED = {
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_from_float": "must be an integer",
    "bool_type": "must be a boolean (true or false)",
    "list_type": "must be a list",
    "dict_type": "must be an object (a mapping of fields)",
    "model_type": "must be an object (a mapping of fields)",
    "model_attributes_type": "must be an object (a mapping of fields)",
    "datetime_type": "must be an RFC 3339 date and time",
    "datetime_parsing": "must be an RFC 3339 date and time",
    "datetime_from_date_parsing": "must be an RFC 3339 date and time",
}


def _split_expected(expected: str) -> list[str]:
    """pydantic writes literal choices as `'A', 'B' or 'C'`."""
    parts = expected.replace(" or ", ", ").split(", ")
    return [p for p in parts if p]


def _is_scalar(value: Any) -> bool:
    return isinstance(value, int | float | bool)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else "null"


def _raw_name(raw: dict[str, Any]) -> str:
    metadata = raw.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else ""


# ------------------------------------------------------------------------------------------------ hints


def _unknown_field_hint(raw: dict[str, Any], model: type[K8sModel], loc: tuple[int | str, ...]) -> str:
    """Say what an unknown field probably meant: a mis-indented key, or a misspelled one."""
    parent_loc, key = loc[:-1], loc[-1]
    parent_model = _model_at(model, parent_loc)
    parent_raw = _raw_at(raw, parent_loc)
    if not isinstance(parent_model, type) or not isinstance(parent_raw, dict):
        return ""
    aliases = _aliases(parent_model)
    # Mis-indentation: walk back over unknown keys to the nearest known one; if it is empty and
    # `key` would be valid inside it, the user most likely meant it one level down.
    keys = list(parent_raw)
    position = keys.index(key) if key in keys else -1
    for previous in reversed(keys[:position] if position > 0 else []):
        if previous not in aliases:
            continue
        if parent_raw[previous] in (None, {}) and _accepts(parent_model, str(previous), key):
            return f'"{previous}:" above it is empty, and "{key}" belongs inside it: indent "{key}" one level more'

        break
    if isinstance(key, str):
        folded = {alias.lower(): alias for alias in aliases}
        close = [folded[k] for k in [key.replace("_", "").lower()] if k in folded]
        close = close or difflib.get_close_matches(key, sorted(aliases), n=1, cutoff=0.75)
        if close:
            return f'did you mean "{close[0]}"?'
    return ""


def _aliases(model: type[BaseModel]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


def _accepts(model: type[BaseModel], field_alias: str, key: Any) -> bool:
    target = _field_type(model, field_alias)
    if target is dict:
        return isinstance(key, str)
    return isinstance(target, type) and issubclass(target, BaseModel) and key in _aliases(target)


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> Any:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue  # list items share their list's item type, already unwrapped
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        current = _field_type(current, part)
    return current


def _field_type(model: type[BaseModel], alias: str) -> Any:
    """The model (or `dict` for maps) a field holds, looking through Optional and list."""
    for name, info in model.model_fields.items():
        if (info.alias or name) == alias:
            return _unwrap(info.annotation)
    return None


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(members[0]) if len(members) == 1 else None
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin is list:
        return _unwrap(typing.get_args(annotation)[0])
    if origin is dict:
        return dict
    return annotation


def _raw_at(raw: Any, loc: tuple[int | str, ...]) -> Any:
    current = raw
    for part in loc:
        try:
            current = current[part]
        except (KeyError, IndexError, TypeError):
            return None
    return current
