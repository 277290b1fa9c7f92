"""Who owns which field: `metadata.managedFields`, and server-side apply's conflicts and pruning.

Why this exists: `kubectl apply --server-side` means "these fields are mine, as written here". The API server
remembers, per field manager, the fields it set (k8s.io/apimachinery/pkg/util/managedfields over
sigs.k8s.io/structured-merge-diff), so that an apply can (1) refuse to change a field another manager set to
something else (a 409 listing the conflicts, unless `force=true` takes the fields over) and (2) remove the fields
this manager applied last time and no longer does, when nobody else claims them. Every other write (create, put,
patch) is an "Update" operation: its manager takes over the fields it changed.

The model, on plain JSON objects (the wire form):

- A field set maps paths to values. A path is a tuple of FieldsV1 elements: `f:<field>`, `k:{"name":"app"}` (an
  element of a list named by its map keys), `v:"x"` (an element of a set). Leaves are scalars, atomic lists and
  empty objects; list elements are members too. `apiVersion`, `kind`, `status` and the metadata the server sets
  are not tracked (upstream strips them as well).
- `managedFields` entries are kept sorted as upstream sorts them (operation, time, manager).

Simplified on purpose: the merge itself is the strategic merge of `patching`; there is no cap on the number of
Update entries; one API version (v1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from minikubelet.apiserver import patching
from minikubelet.errors import StatusError

__all__ = ["ApplyConflictError", "apply", "update"]

FieldPath = tuple[str, ...]
FieldSet = dict[FieldPath, Any]

_ELEMENT = object()  # the "value" of a list element path: membership only
_ABSENT = object()
_UNTRACKED = frozenset({"apiVersion", "kind", "status"})
_UNTRACKED_METADATA = frozenset(
    {
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
    }
)
_BEFORE_FIRST_APPLY = "before-first-apply"


@dataclass
class _Manager:
    name: str
    operation: str  # "Apply" or "Update"
    time: str
    fields: set[FieldPath] = field(default_factory=set)
    subresource: str = ""

    def identifier(self) -> str:
        """Upstream BuildManagerIdentifier: what names the manager in conflicts (JSON, Go's field order)."""
        entry: dict[str, str] = {"manager": self.name, "operation": self.operation}
        if self.operation == "Update":
            entry["apiVersion"] = "v1"
        if self.subresource:
            entry["subresource"] = self.subresource
        return json.dumps(entry, separators=(",", ":"))

    def printed(self) -> str:
        """Upstream printManager: `"kubectl-label" using v1` for an updater, `"kubectl"` for an applier."""
        text = json.dumps(self.name)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        return f"{text} using v1" if self.operation == "Update" else text


class ApplyConflictError(StatusError):
    """409 Conflict of an apply that would change fields other managers own (upstream NewApplyConflict)."""

    code, reason = 409, "Conflict"


# --- Operations ----------------------------------------------------------------------------------------------------


def update(old: dict[str, Any] | None, new: dict[str, Any], *, manager: str, now: str, kind: str, subresource: str = "") -> None:
    """Record in `new["metadata"]["managedFields"]` that `manager` changed `old` (None: created) into `new`
    (through `subresource`, e.g. `ephemeralcontainers`, which gets an entry of its own).

    The manager's Update entry gains what was added or changed, every other entry loses it, and what was removed
    leaves every entry. Entries given in `new` (a client may send them) are the starting point, else `old`'s."""
    managers = _managers(new) or _managers(old or {})
    old_fields, new_fields = _fields(old or {}, kind), _fields(new, kind)
    changed = _changed(old_fields, new_fields)
    removed = set(old_fields) - set(new_fields)
    if changed or removed:
        mine = _entry(managers, manager, "Update", now, subresource)
        for other in managers:
            other.fields -= removed if other is mine else changed | removed
        mine.fields |= changed
        mine.time = now
    _store(new, managers)


def apply(
    live: dict[str, Any] | None, applied: dict[str, Any], *, manager: str, force: bool, now: str, kind: str
) -> dict[str, Any]:
    """Server-side apply of the configuration `applied` by `manager` onto `live` (None: create it).

    Returns the merged object with its managedFields; ApplyConflictError if fields other managers own would
    change (unless `force`, which takes them over). Fields this manager applied before and no longer does are
    removed, unless another manager owns them."""
    live = live or {}
    managers = _managers(live)
    if live and not managers:
        managers = [_Manager(_BEFORE_FIRST_APPLY, "Update", now, set(_fields(live, kind)))]
    merged = patching.apply(live, "apply", _without_nulls(applied), kind)
    applied_fields = set(_fields(applied, kind))
    changed = _changed(_fields(live, kind), _fields(merged, kind))
    mine = _entry(managers, manager, "Apply", now)
    others = [m for m in managers if m is not mine]
    conflicts = [(other, path) for other in others for path in sorted(other.fields & changed)]
    if conflicts and not force:
        raise _conflict_error(conflicts)
    for other in others:
        other.fields -= changed
    claimed: set[FieldPath] = set().union(*(other.fields for other in others))
    for path in sorted(mine.fields - applied_fields, key=len, reverse=True):
        if not any(owned[: len(path)] == path for owned in claimed):  # nobody owns it, or anything in it
            _remove(merged, path)
    if mine.fields != applied_fields or changed:
        mine.time = now
    mine.fields = applied_fields
    _store(merged, managers)
    return merged


def _conflict_error(conflicts: list[tuple[_Manager, FieldPath]]) -> ApplyConflictError:
    causes = [
        {"reason": "FieldManagerConflict", "message": f"conflict with {m.printed()}", "field": _dotted(p)} for m, p in conflicts
    ]
    if len(conflicts) == 1:
        manager, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {manager.printed()}: {_dotted(path)}"
    else:
        lines: list[str] = []
        for manager in sorted({m.identifier(): m for m, _ in conflicts}.values(), key=_Manager.identifier):
            lines.append(f"conflicts with {manager.printed()}:")
            lines += [f"- {_dotted(p)}" for m, p in conflicts if m is manager]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApplyConflictError(message, causes=causes)


# --- managedFields entries -----------------------------------------------------------------------------------------


def _managers(obj: dict[str, Any]) -> list[_Manager]:
    entries = (obj.get("metadata") or {}).get("managedFields") or []
    managers = []
    for entry in entries:
        if isinstance(entry, dict) and entry.get("fieldsType", "FieldsV1") == "FieldsV1":
            fields = _decode_fields(entry.get("fieldsV1") or {}, ())
            managers.append(
                _Manager(str(entry.get("manager", "")), str(entry.get("operation", "Update")), str(entry.get("time", "")), fields)
            )
            managers[-1].subresource = str(entry.get("subresource", ""))
    return managers


def _entry(managers: list[_Manager], name: str, operation: str, now: str, subresource: str = "") -> _Manager:
    for manager in managers:
        if (manager.name, manager.operation, manager.subresource) == (name, operation, subresource):
            return manager
    managers.append(_Manager(name, operation, now, subresource=subresource))
    return managers[-1]


def _store(obj: dict[str, Any], managers: list[_Manager]) -> None:
    """Write the non-empty entries, sorted as upstream sorts them (operation, time, manager)."""
    kept = sorted((m for m in managers if m.fields), key=lambda m: (m.operation, m.time, m.name, m.subresource))
    entries = []
    for manager in kept:
        entry: dict[str, Any] = {"manager": manager.name, "operation": manager.operation, "apiVersion": "v1"}
        entry.update(time=manager.time, fieldsType="FieldsV1", fieldsV1=_encode_fields(manager.fields))
        if manager.subresource:
            entry["subresource"] = manager.subresource
        entries.append(entry)
    metadata = obj.setdefault("metadata", {})
    if entries:
        metadata["managedFields"] = entries
    else:
        metadata.pop("managedFields", None)


def _encode_fields(paths: set[FieldPath]) -> dict[str, Any]:
    """FieldsV1: nested objects keyed by path element; `"."` marks a list element owned as such."""
    root: dict[str, Any] = {}
    for path in paths:
        node = root
        for element in path:
            node = node.setdefault(element, {})
        if path[-1][0] in "kv":
            node["."] = {}
    return root


def _decode_fields(node: dict[str, Any], prefix: FieldPath) -> set[FieldPath]:
    paths: set[FieldPath] = set()
    for key, child in node.items():
        if key == ".":
            paths.add(prefix)
        elif isinstance(child, dict) and child:
            paths |= _decode_fields(child, (*prefix, key))
        else:
            paths.add((*prefix, key))
    return paths


def _dotted(path: FieldPath) -> str:
    """A path as structured-merge-diff prints it: `.spec.containers[name="app"].image`."""
    out = []
    for element in path:
        kind, text = element[0], element[2:]
        if kind == "f":
            out.append("." + text)
        elif kind == "k":
            out.append("[" + ",".join(f"{k}={patching.go_json(v)}" for k, v in json.loads(text).items()) + "]")
        else:
            out.append(f"[={text}]" if kind == "v" else f"[{text}]")
    return "".join(out)


# --- Field sets of objects -----------------------------------------------------------------------------------------


def _fields(obj: dict[str, Any], kind: str) -> FieldSet:
    """Every owned path of `obj` with its value (`_ELEMENT` for list elements)."""
    out: FieldSet = {}
    schema = patching.ssa_root(kind)
    for key, value in obj.items():
        if key in _UNTRACKED:
            continue
        if key == "metadata" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in _UNTRACKED_METADATA}
            if not value:
                continue
        _walk(key, value, schema, (), out)
    return out


def _walk(name: str, value: Any, schema: patching.Schema, prefix: FieldPath, out: FieldSet) -> None:
    shape = patching.ssa_shape(schema, name)
    path = (*prefix, f"f:{name}")
    if value is None:
        return
    if isinstance(value, dict) and value:
        for key, child in value.items():
            _walk(key, child, shape.children, path, out)
    elif isinstance(value, list) and value and (shape.keys or shape.is_set):
        for item in value:
            if shape.keys and isinstance(item, dict):
                element = (*path, "k:" + patching.go_json(patching.ssa_key(item, shape.keys)))
                out[element] = _ELEMENT
                for key, child in item.items():
                    _walk(key, child, shape.children, element, out)
            else:
                out[(*path, "v:" + patching.go_json(item))] = _ELEMENT
    else:
        out[path] = value


def _changed(before: FieldSet, after: FieldSet) -> set[FieldPath]:
    """Paths added, or whose value changed, from `before` to `after`."""
    return {
        path
        for path, value in after.items()
        if path not in before or (value is not _ELEMENT and not patching.json_equal(before[path], value))
    }


def _remove(obj: dict[str, Any], path: FieldPath) -> None:
    """Remove the field or list element at `path`, if it is there."""
    parent: Any = obj
    for element in path[:-1]:
        parent = _child(parent, element)
        if parent is _ABSENT:
            return
    last = path[-1]
    if last.startswith("f:") and isinstance(parent, dict):
        parent.pop(last[2:], None)
    elif isinstance(parent, list):
        parent[:] = [item for item in parent if not _matches(item, last)]


def _child(value: Any, element: str) -> Any:
    if element.startswith("f:"):
        return value.get(element[2:], _ABSENT) if isinstance(value, dict) else _ABSENT
    if isinstance(value, list):
        return next((item for item in value if _matches(item, element)), _ABSENT)
    return _ABSENT


def _matches(item: Any, element: str) -> bool:
    wanted = json.loads(element[2:])
    if element.startswith("k:"):
        return isinstance(item, dict) and patching.json_equal(patching.ssa_key(item, tuple(wanted)), wanted)
    return element.startswith("v:") and patching.json_equal(item, wanted)


def _without_nulls(value: Any) -> Any:
    """An applied configuration's `null`s mean "not set", not "delete" as in a merge patch."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value
