"""The patch formats of the Kubernetes API, on plain JSON values (the wire format, not our models).

Why this exists: kubectl rarely sends a whole object to change one. `kubectl patch` sends one of three patch types,
and the default `kubectl apply` (client-side) computes a strategic merge patch from three documents and PATCHes it
(`$setElementOrder/containers` and all, as recorded from kubectl 1.32). If the server merges that patch differently
from a real API server, `apply` silently drops containers, env vars or finalizers, so the strategic merge follows
k8s.io/apimachinery/pkg/util/strategicpatch step by step, including its list-ordering rules.

- `json_merge_patch`       RFC 7386, `application/merge-patch+json`.
- `json_patch`             RFC 6902, `application/json-patch+json`; `copy` operations may add at most `copy_limit`
                           bytes (json-patch's AccumulatedCopySizeLimit, which the API server sets to 3 MiB).
- `strategic_merge_patch`  `application/strategic-merge-patch+json` (upstream `StrategicMergeMapPatch`).
- `three_way_merge_patch`  the patch kubectl's client-side apply sends (upstream `CreateThreeWayMergePatch`,
                           overwrite=true).
- `apply`                  the API server's entry point: any patch type, failing with the API server's codes and
                           words (400 worded as Go's decoder, 422 without a cause, 500), which kubectl then prints.
- `go_sprint`, `go_json`   Go's `%+v` and `json.Marshal` of a value, which error messages quote.
- `ssa_*`                  how server-side apply names fields and list elements (`fieldmanager` builds on them).

A strategic merge needs to know, per field, whether a list is merged (and by which key) or replaced. Upstream reads the
`patchStrategy`/`patchMergeKey` struct tags of k8s.io/api/core/v1; `_SCHEMAS` spells them out for the kinds we serve.
Fields not listed there merge as maps and replace as lists, which is what their (absent) tags mean upstream.

Nothing here mutates its arguments. A malformed patch raises `BadRequestError` (`apply` turns the few the API server
answers otherwise into `UnprocessablePatchError` or `UntypedServerError`); an unknown kind is a bug (ValueError).

The API server's limits hold in `apply`, so that one request costs bounded time and memory: a JSON patch has at most
MAX_JSON_PATCH_OPERATIONS operations (413, patch.go's maxJSONPatchOperations) and its copies add at most
MAX_COPY_BYTES (its JSONPatchMaxCopyBytes), counted as the Go library counts them (the size of the copied value's
JSON, Go's escapes included); the error texts are upstream's, word for word.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from minikubelet.api.loading import check_bounds
from minikubelet.errors import BadRequestError, RequestEntityTooLargeError, StatusError

__all__ = [
    "MAX_COPY_BYTES",
    "MAX_JSON_PATCH_OPERATIONS",
    "PatchType",
    "SsaShape",
    "UnprocessablePatchError",
    "UntypedServerError",
    "apply",
    "check_operations",
    "check_shape",
    "go_json",
    "go_sprint",
    "json_equal",
    "json_merge_patch",
    "json_patch",
    "ssa_key",
    "ssa_path",
    "ssa_root",
    "ssa_shape",
    "strategic_merge_patch",
    "three_way_merge_patch",
]

PatchType = Literal["strategic", "merge", "json", "apply"]

#: The most operations one JSON patch may have (patch.go's maxJSONPatchOperations).
MAX_JSON_PATCH_OPERATIONS = 10_000
#: How many bytes the `copy` operations of one JSON patch may add (the API server's JSONPatchMaxCopyBytes, 3 MiB,
#: which it sets as json-patch's AccumulatedCopySizeLimit).
MAX_COPY_BYTES = 3 * 1024 * 1024


# --- JSON values ---------------------------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    """The JSON type of a decoded value; bool is not a number, and 1 and 1.0 are the same number (as in Go)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return f"<{type(value).__name__}>"


def _equal(left: Any, right: Any) -> bool:
    """JSON equality: Python's `==` would call `True == 1`."""
    kind = _kind(left)
    if kind != _kind(right):
        return False
    if kind == "object":
        return left.keys() == right.keys() and all(_equal(left[key], right[key]) for key in left)
    if kind == "array":
        return len(left) == len(right) and all(_equal(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


def _hashable(value: Any) -> Hashable:
    """A hashable stand-in for a decoded JSON value: two values are `_equal` exactly when theirs are equal. Lists
    and sets of elements are indexed by it, so that merging long lists costs no more than their length."""
    kind = _kind(value)
    if kind == "object":
        return kind, frozenset((key, _hashable(item)) for key, item in value.items())
    if kind == "array":
        return kind, tuple(_hashable(item) for item in value)
    if kind.startswith("<"):
        return kind, id(value)
    return kind, value


def _contains(values: list[Any], wanted: Any) -> bool:
    return any(_equal(value, wanted) for value in values)


def _unique(values: list[Any]) -> list[Any]:
    """`values` without repeats, first occurrences in their order."""
    seen: set[Hashable] = set()
    result: list[Any] = []
    for value in values:
        key = _hashable(value)
        if key not in seen:
            seen.add(key)
            result.append(value)
    return result


# --- RFC 7386: JSON merge patch ------------------------------------------------------------------------------------


def json_merge_patch(original: dict[str, Any], patch: Any) -> Any:
    """Apply an RFC 7386 merge patch: objects merge recursively, `null` deletes, anything else replaces."""
    return _merge_patch_into(_clone(original), patch)


def _merge_patch_into(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return _clone(patch)
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = _merge_patch_into(target.get(key), value)
    return target


# --- RFC 6902: JSON patch ------------------------------------------------------------------------------------------

_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")
_BAD_ESCAPE = re.compile(r"~(?![01])")


def json_patch(original: Any, operations: list[Any], *, copy_limit: int = 0) -> Any:
    """Apply an RFC 6902 patch (add, remove, replace, move, copy, test), all or nothing.

    `copy_limit` (0: none) caps the bytes the `copy` operations add, as json-patch's AccumulatedCopySizeLimit: each
    copy adds the size of its value's JSON, and the one that takes the sum past the limit fails."""
    if not isinstance(operations, list):
        raise BadRequestError("a JSON patch must be a JSON array of operations")
    copies = _CopyBudget(copy_limit)
    document = _clone(original)
    try:
        for operation in operations:
            document = _apply_operation(document, operation, copies)
    except RecursionError:  # copies of a value into itself nest it one level deeper each time
        raise BadRequestError("the patched document is nested too deeply") from None
    return document


@dataclass
class _CopyBudget:
    """The bytes `copy` operations have added so far, against json-patch's AccumulatedCopySizeLimit (0: no limit)."""

    limit: int
    used: int = 0

    def spend(self, value: Any) -> None:
        self.used += _go_json_size(value)
        if self.limit > 0 and self.used > self.limit:
            raise BadRequestError(
                f"Unable to complete the copy, the accumulated size increase of copy is {self.used}, "
                f"exceeding the limit {self.limit}"
            )


def _go_json_size(value: Any) -> int:
    """The length of json.Marshal(value) in bytes (key order does not change it): UTF-8, with `<`, `>`, `&`,
    U+2028 and U+2029 escaped as `\\u003c` and so on, as Go's encoder writes them."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    size = len(text.encode("utf-8", "surrogatepass"))
    return size + 5 * (text.count("<") + text.count(">") + text.count("&")) + 3 * (text.count("\u2028") + text.count("\u2029"))


def _clone(value: Any) -> Any:
    """A deep copy of a decoded JSON value (several times faster than copy.deepcopy, which keeps a memo)."""
    if isinstance(value, dict):
        return {key: _clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clone(item) for item in value]
    return value


def _apply_operation(document: Any, operation: Any, copies: _CopyBudget) -> Any:
    if not isinstance(operation, dict):
        raise BadRequestError(f"a JSON patch operation must be a JSON object, not {_kind(operation)}")
    op = operation.get("op")
    if op == "copy":
        return _op_copy(document, operation, _member(operation, "path"), copies)
    handler = _OPERATIONS.get(op) if isinstance(op, str) else None
    if handler is None:
        raise BadRequestError(f"Unexpected kind: {op}")
    return handler(document, operation, _member(operation, "path"))


def _member(operation: dict[str, Any], name: str) -> Any:
    """A required member of an operation (`path`, `from` and `value`); pointers must be strings."""
    if name not in operation or (name != "value" and not isinstance(operation[name], str)):
        raise BadRequestError(f'jsonpatch {operation["op"]} operation is missing a valid "{name}"')
    return operation[name]


def _missing(op: str, path: str, what: str = "path") -> BadRequestError:
    return BadRequestError(f'jsonpatch {op} operation does not apply: doc is missing {what}: "{path}"')


def _pointer(path: str) -> list[str]:
    """The reference tokens of an RFC 6901 JSON pointer, unescaped (`~1` is `/`, `~0` is `~`)."""
    if path == "":
        return []
    if not path.startswith("/") or _BAD_ESCAPE.search(path):
        raise BadRequestError(f'invalid JSON pointer: "{path}"')
    return [token.replace("~1", "/").replace("~0", "~") for token in path[1:].split("/")]


def _array_index(array: list[Any], token: str, op: str, path: str, *, insert: bool = False) -> int:
    """An array index token; `-` (and len) only where a value is being inserted."""
    if insert and token == "-":
        return len(array)
    if not _ARRAY_INDEX.fullmatch(token) or int(token) > len(array) - (0 if insert else 1):
        raise _missing(op, path)
    return int(token)


def _resolve(document: Any, tokens: list[str], op: str, path: str, what: str = "path") -> Any:
    """The value `tokens` points at, or a "doc is missing path" error."""
    value = document
    for token in tokens:
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token != "-":
            value = value[_array_index(value, token, op, path)]
        else:
            raise _missing(op, path, what)
    return value


def _put(document: Any, path: str, value: Any, op: str, *, insert: bool) -> Any:
    """Add (insert=True) or replace the value at `path`; returns the new document."""
    tokens = _pointer(path)
    if not tokens:
        return value
    parent = _resolve(document, tokens[:-1], op, path)
    last = tokens[-1]
    if isinstance(parent, dict) and (insert or last in parent):
        parent[last] = value
    elif isinstance(parent, list):
        index = _array_index(parent, last, op, path, insert=insert)
        parent[index : index + (0 if insert else 1)] = [value]
    else:
        raise _missing(op, path)
    return document


def _take(document: Any, path: str, op: str, what: str = "path") -> Any:
    """Remove the value at `path` and return it."""
    tokens = _pointer(path)
    if not tokens:
        raise BadRequestError(f"jsonpatch {op} operation does not apply: cannot remove the whole document")
    parent = _resolve(document, tokens[:-1], op, path, what)
    last = tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last != "-":
        return parent.pop(_array_index(parent, last, op, path))
    raise _missing(op, path, what)


def _op_add(document: Any, operation: dict[str, Any], path: str) -> Any:
    return _put(document, path, _clone(_member(operation, "value")), "add", insert=True)


def _op_remove(document: Any, operation: dict[str, Any], path: str) -> Any:
    _take(document, path, "remove")
    return document


def _op_replace(document: Any, operation: dict[str, Any], path: str) -> Any:
    return _put(document, path, _clone(_member(operation, "value")), "replace", insert=False)


def _op_move(document: Any, operation: dict[str, Any], path: str) -> Any:
    source = _member(operation, "from")
    if path.startswith(source + "/"):
        raise BadRequestError(f'jsonpatch move operation does not apply: "{source}" is a prefix of "{path}"')
    if source == path:
        _resolve(document, _pointer(path), "move", path, "from path")
        return document
    return _put(document, path, _take(document, source, "move", "from path"), "move", insert=True)


def _op_copy(document: Any, operation: dict[str, Any], path: str, copies: _CopyBudget) -> Any:
    source = _member(operation, "from")
    value = _resolve(document, _pointer(source), "copy", source, "from path")
    copies.spend(value)  # before the value is copied: a copy past the limit costs nothing
    return _put(document, path, _clone(value), "copy", insert=True)


def _op_test(document: Any, operation: dict[str, Any], path: str) -> Any:
    if not _equal(_resolve(document, _pointer(path), "test", path), _member(operation, "value")):
        raise BadRequestError(f"testing value {path} failed")
    return document


_OPERATIONS: dict[str, Callable[[Any, dict[str, Any], str], Any]] = {
    "add": _op_add,
    "remove": _op_remove,
    "replace": _op_replace,
    "move": _op_move,
    "test": _op_test,
}


# --- Patch metadata of the kinds we serve (the struct tags of k8s.io/api/core/v1) ----------------------------------


@dataclass(frozen=True)
class _Field:
    """How one field merges: `merge` lists are merged (by `merge_key` for lists of objects), others replaced."""

    merge: bool = False
    merge_key: str = ""
    retain_keys: bool = False
    children: Mapping[str, _Field] = field(default_factory=dict)  # of the object, or of the list's elements


Schema = Mapping[str, _Field]
_PLAIN = _Field()


def _by(merge_key: str, children: Schema | None = None, *, retain_keys: bool = False) -> _Field:
    """A list merged by key: `patchStrategy:"merge" patchMergeKey:"<merge_key>"`."""
    return _Field(merge=True, merge_key=merge_key, retain_keys=retain_keys, children=children or {})


def _object(children: Schema) -> _Field:
    return _Field(children=children)


_PRIMITIVE_SET = _Field(merge=True)  # `patchStrategy:"merge"` on a list of strings: a set union
_METADATA = _object({"finalizers": _PRIMITIVE_SET, "ownerReferences": _by("uid")})
_CONDITIONS = _by("type")
_CONTAINER: Schema = {
    "ports": _by("containerPort"),
    "env": _by("name"),
    "volumeMounts": _by("mountPath"),
    "volumeDevices": _by("devicePath"),
}
_POD_SPEC: Schema = {
    "containers": _by("name", _CONTAINER),
    "initContainers": _by("name", _CONTAINER),
    "ephemeralContainers": _by("name", _CONTAINER),
    "volumes": _by("name", retain_keys=True),
    "imagePullSecrets": _by("name"),
    "hostAliases": _by("ip"),
    "topologySpreadConstraints": _by("topologyKey"),
    "schedulingGates": _by("name"),
    "resourceClaims": _by("name", retain_keys=True),
}
_POD_STATUS: Schema = {
    "conditions": _CONDITIONS,
    "podIPs": _by("ip"),
    "hostIPs": _by("ip"),
    "resourceClaimStatuses": _by("name", retain_keys=True),
}
_SCHEMAS: dict[str, Schema] = {
    "Pod": {"metadata": _METADATA, "spec": _object(_POD_SPEC), "status": _object(_POD_STATUS)},
    "Node": {
        "metadata": _METADATA,
        "spec": _object({"podCIDRs": _PRIMITIVE_SET}),
        "status": _object({"conditions": _CONDITIONS, "addresses": _by("type")}),
    },
    "Namespace": {"metadata": _METADATA, "status": _object({"conditions": _CONDITIONS})},
    "Event": {"metadata": _METADATA},
}


def _schema(kind: str) -> Schema:
    if kind not in _SCHEMAS:
        raise ValueError(f"no strategic merge patch metadata for kind {kind!r} (known: {', '.join(_SCHEMAS)})")
    return _SCHEMAS[kind]


def _lookup(schema: Schema, key: str) -> _Field:
    return schema.get(key, _PLAIN)


# --- Strategic merge patch: the directives -------------------------------------------------------------------------

_DIRECTIVE = "$patch"
_REPLACE, _DELETE, _MERGE = "replace", "delete", "merge"
_RETAIN_KEYS = "$retainKeys"
_ORDER_PREFIX = "$setElementOrder/"
_DELETE_PREFIX = "$deleteFromPrimitiveList/"
_ABSENT = object()


def _identity(item: Any, merge_key: str) -> Any:
    """What identifies a list element: its merge key's value, or the element itself in a list of primitives."""
    if not merge_key:
        return item
    return item.get(merge_key, _ABSENT) if isinstance(item, dict) else _ABSENT


class _Positions:
    """Where each identity first appears in a list: the index of the element an item names, in constant time."""

    def __init__(self, items: list[Any], merge_key: str) -> None:
        self.merge_key = merge_key
        self.first: dict[Hashable, int] = {}
        for index, item in enumerate(items):
            self.add(item, index)

    def add(self, item: Any, index: int) -> None:
        identity = _identity(item, self.merge_key)
        if identity is not _ABSENT:
            self.first.setdefault(_hashable(identity), index)

    def of(self, item: Any) -> int:
        """The index of the first element with `item`'s identity, -1 if none (or if `item` has none)."""
        wanted = _identity(item, self.merge_key)
        return -1 if wanted is _ABSENT else self.first.get(_hashable(wanted), -1)


def _find(items: list[Any], merge_key: str, value: Any) -> int | None:
    if value is _ABSENT:
        return None
    return next((i for i, item in enumerate(items) if _equal(_identity(item, merge_key), value)), None)


def _require_key(item: dict[str, Any], merge_key: str) -> Any:
    if merge_key not in item:
        raise _Untyped(f"map: {go_sprint(item)} does not contain declared merge key: {merge_key}")
    return item[merge_key]


def _is_delete(item: Any) -> bool:
    return isinstance(item, dict) and item.get(_DIRECTIVE) == _DELETE


def _elements_kind(*lists: list[Any]) -> str:
    """The JSON type shared by all elements ("" if there are none): lists must not mix types or nest lists."""
    kinds = {_kind(item) for items in lists for item in items}
    if "array" in kinds:
        raise _NotApplicable("lists of lists are not supported")
    if len(kinds) > 1:
        raise BadRequestError(f"list element types are not identical: {sorted(kinds)}")
    return kinds.pop() if kinds else ""


def _sorted_by(items: list[Any], order: list[Any], merge_key: str) -> list[Any]:
    """Stable sort by position in `order`; unknown items next, `$patch: delete` entries last (upstream)."""
    positions = _Positions(order, merge_key)

    def rank(item: Any) -> tuple[int, int]:
        if merge_key and _is_delete(item):
            return (2, 0)
        position = positions.of(item)
        return (0, position) if position >= 0 else (1, 0)

    return sorted(items, key=rank)


def _interleave(left: list[Any], right: list[Any], server_order: list[Any], merge_key: str) -> list[Any]:
    """Upstream `mergeSortedSlice`: server-only items (left) go before a patch item (right) only if they came
    before it in the live list; so new items land before the server-only items that follow them."""
    result: list[Any] = []
    positions = _Positions(server_order, merge_key)
    i = j = 0
    while i < len(left) and j < len(right):
        left_at = positions.of(left[i])
        right_at = positions.of(right[j])
        if 0 <= left_at < right_at:
            result.append(left[i])
            i += 1
        else:
            result.append(right[j])
            j += 1
    return result + left[i:] + right[j:]


def _order(merged: list[Any], patch_order: list[Any], server_order: list[Any], merge_key: str) -> list[Any]:
    """Upstream `normalizeElementOrder`: items named by the patch in the patch's order, the rest in live order."""
    positions = _Positions(patch_order, merge_key)
    in_patch = [item for item in merged if positions.of(item) >= 0]
    server_only = [item for item in merged if positions.of(item) < 0]
    return _interleave(
        _sorted_by(server_only, server_order, merge_key),
        _sorted_by(in_patch, patch_order, merge_key),
        server_order,
        merge_key,
    )


# --- Strategic merge patch: applying -------------------------------------------------------------------------------


def strategic_merge_patch(original: dict[str, Any], patch: dict[str, Any], kind: str = "Pod") -> dict[str, Any]:
    """Apply a strategic merge patch to an object of `kind` (Pod, Node, Namespace or Event), as the API server does."""
    schema = _schema(kind)
    if not isinstance(patch, dict):
        raise BadRequestError(f"a strategic merge patch must be a JSON object, not {_kind(patch)}")
    return _merge_map(_clone(original), _clone(patch), schema)


def _merge_map(original: dict[str, Any], patch: dict[str, Any], schema: Schema) -> dict[str, Any]:
    """Merge `patch` into `original` (both ours to change): upstream `mergeMap` with MergeParallelList."""
    directive = patch.pop(_DIRECTIVE, _MERGE)
    if directive == _REPLACE:
        return _merge_map({}, patch, schema)
    if directive == _DELETE:
        return {}
    if directive != _MERGE:
        raise BadRequestError(f"unknown patch type: {directive} in map: {patch}")
    _apply_retain_keys(original, patch)
    _apply_element_orders(original, patch, schema)
    deletions = {key: patch.pop(key) for key in list(patch) if key.startswith(_DELETE_PREFIX)}
    for key, value in patch.items():
        _merge_field(original, key, value, _lookup(schema, key))
    for key, values in deletions.items():
        _delete_from_primitive_list(original, key.removeprefix(_DELETE_PREFIX), values)
    return original


def _merge_field(original: dict[str, Any], key: str, value: Any, meta: _Field) -> None:
    current = original.get(key)
    if value is None:
        original.pop(key, None)
    elif isinstance(current, dict) and isinstance(value, dict):
        original[key] = _merge_map(current, value, meta.children)
    elif isinstance(current, list) and isinstance(value, list) and meta.merge:
        original[key] = _merge_list(current, value, meta)
    else:
        original[key] = _fresh(value, meta)


def _fresh(value: Any, meta: _Field) -> Any:
    """A patch value that replaces (or creates) a field, with its directives applied and its nulls dropped."""
    if isinstance(value, dict):
        return _merge_map({}, value, meta.children)
    if isinstance(value, list) and meta.merge:
        return _merge_list([], value, meta)
    return value


def _merge_list(original: list[Any], patch: list[Any], meta: _Field) -> list[Any]:
    """Upstream `mergeSlice`: a set union for primitives, a merge by key for objects; then the order rules."""
    if not original and not patch:
        return original
    if _elements_kind(original, patch) != "object":
        return _order(_unique(original + patch), patch, original, "")
    if not meta.merge_key:
        raise BadRequestError("cannot merge lists of objects without a merge key")
    original, patch = _apply_list_directives(original, patch, meta.merge_key)
    merged = list(original)
    positions = _Positions(merged, meta.merge_key)
    for item in patch:
        key = _hashable(_require_key(item, meta.merge_key))
        index = positions.first.get(key)
        if index is None:
            positions.add(item, len(merged))
            merged.append(_merge_map({}, item, meta.children))
            if _identity(merged[-1], meta.merge_key) is _ABSENT:  # a null merge key: gone from the element
                positions = _Positions(merged, meta.merge_key)
        else:
            merged[index] = _merge_map(merged[index], item, meta.children)
            if _identity(merged[index], meta.merge_key) is _ABSENT:
                positions = _Positions(merged, meta.merge_key)
    return _order(merged, patch, original, meta.merge_key)


def _apply_list_directives(original: list[Any], patch: list[Any], merge_key: str) -> tuple[list[Any], list[dict[str, Any]]]:
    """Handle `{"$patch": "delete", key: v}` and `{"$patch": "replace"}` elements; returns (original, patch)."""
    plain: list[dict[str, Any]] = []
    replace_all = False
    deleted: set[Hashable] = set()
    for item in patch:
        directive = item.get(_DIRECTIVE)
        if directive == _DELETE:
            deleted.add(_hashable(_require_key(item, merge_key)))
        elif directive == _REPLACE:
            replace_all = True
        elif directive is None or (directive == _MERGE and merge_key in item):
            plain.append(item)
        elif directive != _MERGE:
            raise BadRequestError(f"unknown patch type: {directive} in map: {item}")
    if replace_all:
        return [], plain
    kept = [
        other for other in original if (identity := _identity(other, merge_key)) is _ABSENT or _hashable(identity) not in deleted
    ]
    return kept, plain


def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    """`$retainKeys`: drop the original's keys not listed; the patch itself may only set listed keys."""
    if _RETAIN_KEYS not in patch:
        return
    keep = patch.pop(_RETAIN_KEYS)
    if not isinstance(keep, list) or not all(isinstance(key, str) for key in keep):
        raise BadRequestError("invalid patch format of retainKeys")
    for key, value in patch.items():
        if value is not None and not key.startswith("$") and key not in keep:
            raise _NotApplicable(f"patch content doesn't match retainKeys list: {key!r} is not in {keep}")
    for key in [key for key in original if key not in keep]:
        del original[key]


def _apply_element_orders(original: dict[str, Any], patch: dict[str, Any], schema: Schema) -> None:
    """`$setElementOrder/<list>`: merge that list now and put it in the given order (upstream
    `mergePatchIntoOriginal`): listed items in that order, unlisted live items where they were."""
    for directive in [key for key in patch if key.startswith(_ORDER_PREFIX)]:
        order = patch.pop(directive)
        name = directive.removeprefix(_ORDER_PREFIX)
        meta = _lookup(schema, name)
        if not isinstance(order, list):
            raise BadRequestError("invalid patch format of setElementOrder list")
        base = original.get(name) if isinstance(original.get(name), list) else None
        incoming = patch.get(name)
        if not meta.merge or not isinstance(incoming, list | None) or (base is None and incoming is None):
            continue
        patch.pop(name, None)
        _check_order(incoming or [], order, meta.merge_key)
        merged = _merge_list(list(base or []), incoming or [], meta)
        original[name] = _order(merged, order, base or [], meta.merge_key)


def _check_order(patch_list: list[Any], order: list[Any], merge_key: str) -> None:
    """The patch list's items must appear in `$setElementOrder` and in the same relative order."""
    pending = [item for item in patch_list if not (isinstance(item, dict) and _DIRECTIVE in item)]
    matched = 0
    for entry in order:
        if matched < len(pending) and _equal(_identity(pending[matched], merge_key), _identity(entry, merge_key)):
            matched += 1
    if order and matched < len(pending):
        raise BadRequestError(f"The order in patch list: {patch_list} doesn't match $setElementOrder list: {order}")


def _delete_from_primitive_list(original: dict[str, Any], name: str, values: Any) -> None:
    if not isinstance(values, list):
        raise BadRequestError("invalid patch format of primitive list")
    current = original.get(name)
    if isinstance(current, list):
        gone = {_hashable(value) for value in values}
        original[name] = [item for item in current if _hashable(item) not in gone]


# --- Three-way merge patch (kubectl's client-side apply) -----------------------------------------------------------


@dataclass(frozen=True)
class _DiffOptions:
    ignore_changes: bool = False  # leave additions and changes out (the deletions half)
    ignore_deletions: bool = False  # leave deletions out (the changes half)
    retain_keys: bool = False  # add `$retainKeys` (the elements of `volumes` and `resourceClaims`)


def three_way_merge_patch(
    original: dict[str, Any] | None, modified: dict[str, Any], current: dict[str, Any], kind: str = "Pod"
) -> dict[str, Any]:
    """The strategic merge patch `kubectl apply` sends: deletions from `original` (the last-applied configuration,
    None on first apply) to `modified` (the new manifest), plus every change from `current` (the live object) to
    `modified`. Fields only in `current` (defaults, status) are left alone; `{}` means unchanged."""
    schema = _schema(kind)
    deletions = _diff_maps(original or {}, modified, schema, _DiffOptions(ignore_changes=True))
    changes = _diff_maps(current, modified, schema, _DiffOptions(ignore_deletions=True))
    return _combine(deletions, changes, schema)


def _diff_maps(original: dict[str, Any], modified: dict[str, Any], schema: Schema, options: _DiffOptions) -> dict[str, Any]:
    """Upstream `diffMaps`: a patch taking `original` to `modified` (minus what `options` leave out)."""
    patch: dict[str, Any] = {}
    for key, new in modified.items():
        if key not in original:
            if not options.ignore_changes:
                patch[key] = copy.deepcopy(new)
        else:
            _diff_field(patch, key, original[key], new, _lookup(schema, key), options)
    if not options.ignore_deletions:
        patch.update({key: None for key in original if key not in modified})
    retained = sorted(key for key, value in modified.items() if value is not None)
    if options.retain_keys and retained and (patch or _has_extra_field(original, modified)):
        patch[_RETAIN_KEYS] = retained
    return patch


def _has_extra_field(original: dict[str, Any], modified: dict[str, Any]) -> bool:
    return any(value is not None and key not in modified for key, value in original.items())


def _diff_field(patch: dict[str, Any], key: str, old: Any, new: Any, meta: _Field, options: _DiffOptions) -> None:
    nested = replace(options, retain_keys=meta.retain_keys)
    if isinstance(old, dict) and isinstance(new, dict):
        if sub := _diff_maps(old, new, meta.children, nested):
            patch[key] = sub
    elif isinstance(old, list) and isinstance(new, list) and meta.merge:
        changes, deletions, order = _diff_lists(old, new, meta, nested)
        if changes:
            patch[key] = changes
        if deletions:
            patch[_DELETE_PREFIX + key] = deletions
        if order:
            patch[_ORDER_PREFIX + key] = order
    elif not options.ignore_changes and not _equal(old, new):
        patch[key] = copy.deepcopy(new)


def _diff_lists(old: list[Any], new: list[Any], meta: _Field, options: _DiffOptions) -> tuple[list[Any], list[Any], list[Any]]:
    """Upstream `diffLists` of a merge list: (patch list, `$deleteFromPrimitiveList`, `$setElementOrder`)."""
    if not old:
        return ([] if options.ignore_changes else copy.deepcopy(new)), [], []
    if _elements_kind(old, new) == "object":
        return _diff_lists_of_maps(old, new, meta, options)
    return _diff_lists_of_scalars(old, new, options)


def _diff_lists_of_scalars(old: list[Any], new: list[Any], options: _DiffOptions) -> tuple[list[Any], list[Any], list[Any]]:
    additions = [] if options.ignore_changes else _unique([value for value in new if not _contains(old, value)])
    deletions = [] if options.ignore_deletions else _unique([value for value in old if not _contains(new, value)])
    wants_order = (not options.ignore_deletions and deletions) or (not options.ignore_changes and not _equal(old, new))
    return additions, sorted(deletions, key=str), copy.deepcopy(new) if wants_order else []


def _diff_lists_of_maps(
    old: list[Any], new: list[Any], meta: _Field, options: _DiffOptions
) -> tuple[list[Any], list[Any], list[Any]]:
    key = meta.merge_key
    if not key:
        raise BadRequestError("cannot merge lists of objects without a merge key")
    for item in old + new:
        _require_key(item, key)
    patch_list = _changed_elements(old, new, meta, options)
    if not options.ignore_deletions:
        gone = [item[key] for item in old if _find(new, key, item[key]) is None]
        patch_list += [{key: value, _DIRECTIVE: _DELETE} for value in sorted(gone, key=str)]
    same_order = len(old) == len(new) and all(_equal(a[key], b[key]) for a, b in zip(old, new, strict=True))
    wants_order = (not options.ignore_changes and (patch_list or not same_order)) or (not options.ignore_deletions and patch_list)
    return patch_list, [], [{key: copy.deepcopy(item[key])} for item in new] if wants_order else []


def _changed_elements(old: list[Any], new: list[Any], meta: _Field, options: _DiffOptions) -> list[Any]:
    """The added elements whole, the changed ones as their merge key plus the changed fields, in `new`'s order."""
    key = meta.merge_key
    changes: list[Any] = []
    for item in new:
        index = _find(old, key, item[key])
        if index is None:
            if not options.ignore_changes:
                changes.append(copy.deepcopy(item))
        elif sub := _diff_maps(old[index], item, meta.children, options):
            sub[key] = copy.deepcopy(item[key])
            changes.append(sub)
    return changes


def _combine(base: dict[str, Any], patch: dict[str, Any], schema: Schema) -> dict[str, Any]:
    """Merge the changes half into the deletions half, keeping directives and nulls (upstream `mergeMap` without
    MergeParallelList). Directives that both halves carry are equal: both are computed from `modified`."""
    for key, value in patch.items():
        meta = _lookup(schema, key)
        old = base.get(key)
        if key.startswith("$") or old is None:
            base[key] = value
        elif isinstance(old, dict) and isinstance(value, dict):
            base[key] = _combine(old, value, meta.children)
        elif isinstance(old, list) and isinstance(value, list) and meta.merge:
            order = patch.get(_ORDER_PREFIX + key) or base.get(_ORDER_PREFIX + key) or value
            base[key] = _combine_lists(old, value, meta, order)
        else:
            base[key] = value
    return base


def _combine_lists(base: list[Any], patch: list[Any], meta: _Field, order: list[Any]) -> list[Any]:
    """Both halves' entries for one merge list: merged by key, in `modified`'s order, deletions last."""
    if _elements_kind(base, patch) != "object":
        return _unique(base + patch)
    key = meta.merge_key
    merged = list(base)
    for item in patch:
        index = _find(merged, key, item.get(key, _ABSENT))
        if index is None:
            merged.append(item)
        else:
            merged[index] = _combine(merged[index], item, meta.children)
    return _sorted_by(merged, order, key)


# --- The API server's side: one entry point, its errors, and Go's renderings of values -----------------------------

_REJECTED = "the server rejected our request due to an error in our request"


class _NotApplicable(BadRequestError):
    """A well-formed patch that does not apply to this object (the API server answers 422, see `apply`)."""


class _Untyped(BadRequestError):
    """A patch error the API server passes on as a plain Go error (it answers 500, see `apply`)."""


class UnprocessablePatchError(StatusError):
    """422 Invalid as apimachinery's NewGenericServerResponse words it: the cause is not sent (`str()` keeps it)."""

    code, reason = 422, "Invalid"

    def status(self) -> dict[str, object]:
        return {**super().status(), "message": _REJECTED, "details": {}}


class UntypedServerError(StatusError):
    """A plain Go error reaching the API server's error writer: 500 with no reason."""

    code, reason = 500, ""

    def status(self) -> dict[str, object]:
        body = super().status()
        del body["reason"]
        return body


def apply(current: dict[str, Any], patch_type: PatchType, patch: Any, kind: str) -> dict[str, Any]:
    """Apply a decoded patch body of `patch_type` to `current`, failing as the API server's patch handler does.

    The body must be of the right JSON type (400, worded as Go's decoder words it); a JSON patch whose
    operations do not apply is a 422 with apimachinery's generic message, as are a strategic merge patch's
    lists of lists and `$retainKeys` mismatches; a missing merge key is a 500. An apply patch (server-side
    apply) is merged as a strategic merge patch of the applied configuration."""
    check_shape(patch_type, patch)
    if patch_type == "json":
        result = _apply_json_patch(current, patch)
    elif patch_type == "merge":
        result = json_merge_patch(current, patch)
    else:
        try:
            result = strategic_merge_patch(current, patch, kind)
        except _NotApplicable as exc:
            raise UnprocessablePatchError(exc.message) from None
        except _Untyped as exc:
            raise UntypedServerError(exc.message) from None
    if not isinstance(result, dict):
        raise BadRequestError("the patched object is not a JSON object")
    problem = check_bounds(result)  # moves and copies can nest a value deeper than any body may be
    if problem:
        raise UnprocessablePatchError(f"the patched object is {problem}")
    return result


def check_operations(operations: list[Any] | None) -> None:
    """patch.go: a JSON patch of more than MAX_JSON_PATCH_OPERATIONS operations is 413, before it is applied."""
    count = len(operations or [])
    if count > MAX_JSON_PATCH_OPERATIONS:
        raise RequestEntityTooLargeError.because(
            f"The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, got {count}"
        )


def check_shape(patch_type: PatchType, patch: Any) -> None:
    """A patch body of the wrong JSON type is a 400, worded as Go's decoder words it."""
    if patch_type == "json":
        go_type = "[]handlers.jsonPatchOp"
        if not isinstance(patch, list | None):
            raise BadRequestError(
                f"error decoding patch: json: cannot unmarshal {_go_kind(patch)} into Go value of type {go_type}"
            )
        for operation in patch or []:
            if not isinstance(operation, dict):
                kind = _go_kind(operation)
                raise BadRequestError(f"error decoding patch: json: cannot unmarshal {kind} into Go value of type {go_type[2:]}")
    elif not isinstance(patch, dict):
        decoded = f"json: cannot unmarshal {_go_kind(patch)} into Go value of type map[string]interface {{}}"
        prefix = {"merge": "error decoding patch: ", "apply": "error decoding YAML: "}.get(patch_type, "")
        raise BadRequestError(prefix + decoded)


def _apply_json_patch(current: dict[str, Any], operations: list[Any] | None) -> dict[str, Any]:
    check_operations(operations)
    try:
        result = json_patch(current, operations or [], copy_limit=MAX_COPY_BYTES)
    except BadRequestError as exc:
        raise UnprocessablePatchError(exc.message) from None
    if not isinstance(result, dict):
        raise UnprocessablePatchError("the patched document is not a JSON object")
    return result


def _go_kind(value: Any) -> str:
    """How Go's encoding/json names a JSON value's type in `cannot unmarshal <kind>` errors."""
    return {"boolean": "bool", "null": "null"}.get(_kind(value), _kind(value))


def go_sprint(value: Any) -> str:
    """A decoded JSON value as Go's `%+v` prints it: `map[k:v]` with sorted keys, `[a b]`, `<nil>`."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{key}:{go_sprint(value[key])}" for key in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_sprint(item) for item in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    return str(value)


def _go_float(value: float) -> str:
    """strconv.FormatFloat(value, 'g', -1, 64): the shortest digits, an exponent below 1e-4 and from 1e6."""
    sign, digit_tuple, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)  # finite: JSON has no NaN or infinities
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + exponent
    magnitude = point - 1
    if digits == "0":
        text = "0"
    elif magnitude < -4 or magnitude >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        text = f"{mantissa}e{'-' if magnitude < 0 else '+'}{abs(magnitude):02d}"
    elif point <= 0:
        text = "0." + "0" * -point + digits
    elif point >= len(digits):
        text = digits + "0" * (point - len(digits))
    else:
        text = digits[:point] + "." + digits[point:]
    return ("-" if sign else "") + text


def go_json(value: Any) -> str:
    """json.Marshal of a decoded JSON value: sorted keys, no spaces, `<`, `>` and `&` escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


# Server-side apply names list elements by their x-kubernetes-list-map-keys, where these differ from the
# strategic merge key, and fills in a key's default.
_SSA_KEYS: dict[str, tuple[str, ...]] = {
    "ports": ("containerPort", "protocol"),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
}
_SSA_KEY_DEFAULTS: dict[str, Any] = {"protocol": "TCP"}
_PATH_TOKEN = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True)
class SsaShape:
    """How server-side apply sees one field: the schema of its children (of its elements, for a list), and for
    a list, its map keys (elements are named by them) or whether it is a set (elements are named by value)."""

    children: Schema
    keys: tuple[str, ...] = ()
    is_set: bool = False


def ssa_root(kind: str) -> Schema:
    """The schema of an object of `kind` (ValueError for a kind we do not serve)."""
    return _schema(kind)


def ssa_shape(schema: Schema, name: str) -> SsaShape:
    meta = _lookup(schema, name)
    if meta.merge and meta.merge_key:
        return SsaShape(meta.children, _SSA_KEYS.get(name, (meta.merge_key,)))
    return SsaShape(meta.children, is_set=meta.merge)


def ssa_key(item: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The key fields of a list-map element (a missing `protocol` is TCP, as the schema defaults it)."""
    return {key: item.get(key, _SSA_KEY_DEFAULTS.get(key)) for key in sorted(keys)}


def json_equal(left: Any, right: Any) -> bool:
    """Equality of decoded JSON values (`True` is not 1)."""
    return _equal(left, right)


def ssa_path(obj: dict[str, Any], path: str, kind: str = "Pod") -> str:
    """A field path of ours (`spec.containers[0].readinesProbe`) as server-side apply writes it for `obj`
    (`.spec.containers[name="app"].readinesProbe`): keyed list elements by key, sets by value, others by index."""
    out: list[str] = []
    schema: Schema = _schema(kind)
    shape = SsaShape({})
    value: Any = obj
    for match in _PATH_TOKEN.finditer(path):
        if match.group(1) is not None:
            name = match.group(1)
            shape = ssa_shape(schema, name)
            schema = shape.children
            value = value.get(name) if isinstance(value, dict) else None
            out.append("." + name)
            continue
        index = int(match.group(2))
        item = value[index] if isinstance(value, list) and index < len(value) else None
        if shape.keys and isinstance(item, dict):
            out.append("[" + ",".join(f"{k}={go_json(v)}" for k, v in ssa_key(item, shape.keys).items()) + "]")
        elif shape.is_set and item is not None:
            out.append(f"[={go_json(item)}]")
        else:
            out.append(f"[{index}]")
        value = item
    return "".join(out)
