"""Builders of raw (wire-format) Pod manifests for the unit tests.

`make_pod()` returns a fresh, minimal, valid Pod dict; keyword arguments are deep-merged into it
(`make_pod(spec={"restartPolicy": "Never"})`). `set_path` / `del_path` / `patched` change one nested key
addressed by a dotted path with list indexes, e.g. `"spec.containers[0].livenessProbe.periodSeconds"`.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "DELETE",
    "IMAGE",
    "Patch",
    "apply_patch",
    "container",
    "del_path",
    "make_pod",
    "patched",
    "set_path",
]

IMAGE = "minikubelet.local/echo:v1"

_MINIMAL_POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "echo"},
    "spec": {"containers": [{"name": "app", "image": IMAGE}]},
}


class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


#: Use as a value in a patch mapping to remove the key instead of setting it.
DELETE: Any = _Delete()

#: A change to a raw pod: either `{dotted.path: value, ...}` or a function that edits the pod in place.
Patch = Mapping[str, Any] | Callable[[dict[str, Any]], None]

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _parse(path: str) -> list[str | int]:
    parts: list[str | int] = []
    position = 0
    while position < len(path):
        if path[position] == ".":
            position += 1
            continue
        match = _TOKEN.match(path, position)
        if match is None:
            raise ValueError(f"bad path {path!r} at {position}")
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    if not parts:
        raise ValueError("empty path")
    return parts


def _child(parent: Any, key: str | int, next_key: str | int) -> Any:
    """parent[key], created (as a dict or list, matching `next_key`) when missing."""
    empty: Any = [] if isinstance(next_key, int) else {}
    if isinstance(key, int):
        if key == len(parent):
            parent.append(empty)
        return parent[key]
    if parent.get(key) is None:
        parent[key] = empty
    return parent[key]


def set_path(obj: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set `obj[...path...] = value` (deep-copied), creating missing maps and lists; index == len appends."""
    parts = _parse(path)
    parent: Any = obj
    for key, next_key in itertools.pairwise(parts):
        parent = _child(parent, key, next_key)
    last = parts[-1]
    if value is DELETE:
        del parent[last]
    elif isinstance(last, int) and last == len(parent):
        parent.append(copy.deepcopy(value))
    else:
        parent[last] = copy.deepcopy(value)
    return obj


def del_path(obj: dict[str, Any], path: str) -> dict[str, Any]:
    """Remove the key or list item at `path`."""
    return set_path(obj, path, DELETE)


def apply_patch(obj: dict[str, Any], patch: Patch) -> dict[str, Any]:
    if callable(patch):
        patch(obj)
    else:
        for path, value in patch.items():
            set_path(obj, path, value)
    return obj


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if value is DELETE:
            base.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def make_pod(**overrides: Any) -> dict[str, Any]:
    """A fresh minimal valid Pod; `overrides` are deep-merged (maps merge, lists and scalars replace)."""
    return _merge(copy.deepcopy(_MINIMAL_POD), overrides)


def patched(patch: Patch, **overrides: Any) -> dict[str, Any]:
    """`make_pod(**overrides)` with `patch` applied."""
    return apply_patch(make_pod(**overrides), patch)


def container(name: str = "app", image: str = IMAGE, **fields: Any) -> dict[str, Any]:
    """A raw container: name and image plus any wire-named fields."""
    return {"name": name, "image": image, **copy.deepcopy(fields)}
