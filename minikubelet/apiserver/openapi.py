"""The OpenAPI v3 document of `api/v1` that kubectl reads: the schemas `kubectl explain` prints, and the PATCH
operations whose `fieldValidation` parameter makes kubectl leave field validation to the server.

The schemas are Kubernetes v1.37's own: the `kubernetes-validate` package ships the official API definitions
of each release (converted to JSON Schema from the OpenAPI document the API server publishes). Nothing here is
written by hand; this module only turns them back into the shape an API server's OpenAPI v3 has:

- `#/$defs/X` references become `#/components/schemas/X`; a reference that carries its own description is
  wrapped as `{"allOf": [{"$ref": ...}], "description": ...}`, as the API server's v3 builder writes it;
- JSON Schema's nullable types (`["string", "null"]`) become the single OpenAPI type, so `IntOrString` and
  `Quantity` are `oneOf` two types with no type of their own, as the API server's v3 has them (kubectl explain
  then names them: `port <IntOrString>`, `limits <map[string]Quantity>`);
- the `enum` the JSON Schema conversion adds to every object's `apiVersion` and `kind` goes.

Only the core group's schemas (io.k8s.api.core.v1.*) and what they use from apimachinery are served, as the
API server's `api/v1` document holds. Reading the 1.7 MB of definitions takes a few hundred milliseconds, so
it happens on the first request for the document (the API server runs it off the event loop), never at start.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import json
from typing import Any

__all__ = ["SCHEMA_RELEASE", "document", "document_hash"]

#: The Kubernetes release whose definitions are served.
SCHEMA_RELEASE = "v1.37.0"
_DEFINITIONS = ("kubernetes-json-schema", f"{SCHEMA_RELEASE}-local", "_definitions.json")
_OURS = ("io.k8s.api.core.v1.", "io.k8s.apimachinery.")


def _definitions() -> dict[str, Any]:
    path = importlib.resources.files("kubernetes_validate")
    for part in _DEFINITIONS:
        path = path / part
    defs: dict[str, Any] = json.loads(path.read_text())["$defs"]
    return defs


def _ref(target: str) -> str:
    return "#/components/schemas/" + target.removeprefix("#/$defs/")


def _convert(node: Any) -> Any:
    """One JSON Schema node of the definitions as the API server's OpenAPI v3 writes it."""
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref":
            continue
        if key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            out[key] = types[0] if len(types) == 1 else types
        elif key == "enum" and isinstance(value, list):
            out[key] = [v for v in value if v is not None]
        elif key in ("properties", "patternProperties"):
            out[key] = {name: _convert(schema) for name, schema in value.items()}
            if key == "properties":
                for name in ("apiVersion", "kind"):
                    if isinstance(out[key].get(name), dict):
                        out[key][name].pop("enum", None)
        else:
            out[key] = _convert(value)
    if "$ref" in node:
        reference = {"$ref": _ref(node["$ref"])}
        if not out:
            return reference
        return {"allOf": [reference], **out}
    return out


def _group_version_kind(name: str, schema: dict[str, Any]) -> list[dict[str, str]] | None:
    given = schema.get("x-kubernetes-group-version-kind")
    if given:
        return list(given)
    props = schema.get("properties", {})
    kinds = (props.get("kind") or {}).get("enum") or []
    versions = (props.get("apiVersion") or {}).get("enum") or []
    if name.startswith("io.k8s.api.core.v1.") and kinds and versions == ["v1"]:
        return [{"group": "", "kind": str(kinds[0]), "version": "v1"}]
    return None


@functools.cache
def schemas() -> dict[str, Any]:
    """components.schemas of the api/v1 document."""
    out: dict[str, Any] = {}
    for name, schema in sorted(_definitions().items()):
        if not name.startswith(_OURS):
            continue
        converted = _convert(schema)
        gvk = _group_version_kind(name, schema)
        if gvk:
            converted["x-kubernetes-group-version-kind"] = gvk
        out[name] = converted
    return out


@functools.cache
def document(paths_json: str, version: str) -> bytes:
    """The api/v1 document, as bytes (built once): the given paths (JSON) and every core schema."""
    body = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": version},
        "paths": json.loads(paths_json),
        "components": {"schemas": schemas()},
    }
    return json.dumps(body, separators=(",", ":")).encode()


def document_hash(paths_json: str, version: str) -> str:
    """What the root's serverRelativeURL carries (clients cache the document by it): a SHA-512, upper-case hex,
    as the API server's, of what decides the document (its paths and the schemas' release), so that the root
    answers without reading the schemas."""
    return hashlib.sha512(f"{paths_json}\n{version}\n{SCHEMA_RELEASE}".encode()).hexdigest().upper()
