"""Rule `schema`: a document checked against Kubernetes v1.37's own OpenAPI schemas, as a second opinion
independent of minikubelet's validation.

The schemas are those of the `kubernetes-validate` package (the API server's OpenAPI converted to JSON Schema;
minikubelet.apiserver.openapi serves the same definitions to `kubectl explain`), in their strict form: a field
the API does not have is an error (`additionalProperties`). Unlike `kubernetes_validate.validate`, which stops at
the first error, every error of a document is reported. The schemas say what the API accepts in shape only:
types, required fields, unknown fields, enums; the rules of the API server's validation (names, ranges, one
handler per probe) are minikubelet's own validation, reported as rule `invalid`.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
from collections.abc import Iterable
from typing import Any

from minikubelet.lint.findings import Finding, Severity

__all__ = ["SCHEMA_RELEASE", "has_schema", "schema_findings"]

SCHEMA_RELEASE = "v1.37.0"
_MESSAGE_LIMIT = 200
# Maps with free-form keys: their keys are written `[key]`, as minikubelet.api.loading writes them.
_MAP_FIELDS = frozenset({"labels", "annotations", "nodeSelector", "limits", "requests", "capacity", "allocatable"})


def _schema_dir() -> Any:
    return importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema" / f"{SCHEMA_RELEASE}-local-strict"


def _file_name(api_version: str, kind: str) -> str:
    """kubernetes-validate's naming: `apps/v1` Deployment -> `deployment-apps-v1.json`, `v1` Pod -> `pod-v1.json`."""
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{group_version}.json"


def has_schema(api_version: str, kind: str) -> bool:
    return (
        bool(re.fullmatch(r"[A-Za-z0-9.\-/]+", api_version + kind)) and (_schema_dir() / _file_name(api_version, kind)).is_file()
    )


@functools.cache
def _definitions() -> Any:
    from referencing import Resource  # type: ignore[import-not-found,unused-ignore]

    return Resource.from_contents(json.loads((_schema_dir() / "_definitions.json").read_text()))


@functools.cache
def _validator(api_version: str, kind: str) -> Any:
    import jsonschema  # type: ignore[import-untyped,unused-ignore]
    from referencing import Registry, Resource  # type: ignore[import-not-found,unused-ignore]

    schema = json.loads((_schema_dir() / _file_name(api_version, kind)).read_text())
    registry = _definitions() @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def schema_findings(document: dict[str, Any], path: str = "") -> list[Finding]:
    """Every error of `document` (an object with apiVersion and kind that has_schema) against its schema; field
    paths are written as Kubernetes writes them, under `path` (`items[2]` for an item of a List)."""
    validator = _validator(str(document["apiVersion"]), str(document["kind"]))
    findings: list[Finding] = []
    for error in sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]):
        where = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = set(error.schema.get("properties", {}))
            for name in sorted(set(error.instance) - known, key=str):
                findings.append(_finding(path, [*where, name], "unknown field"))
            continue
        if error.validator == "required" and isinstance(error.validator_value, list) and isinstance(error.instance, dict):
            for name in [n for n in error.validator_value if n not in error.instance]:
                findings.append(_finding(path, [*where, name], "required field is missing"))
            continue
        findings.append(_finding(path, where, _message(error)))
    unique: dict[tuple[str, str], Finding] = {}
    for finding in findings:  # a schema reached through two paths (allOf, a $ref) reports its error twice
        unique.setdefault((finding.field, finding.message), finding)
    return list(unique.values())


def _finding(prefix: str, where: Iterable[Any], message: str) -> Finding:
    return Finding("schema", Severity.ERROR, field_path(where, prefix), f"{message} (Kubernetes {SCHEMA_RELEASE} OpenAPI schema)")


def field_path(parts: Iterable[Any], prefix: str = "") -> str:
    """`['spec', 'containers', 0, 'image']` -> `spec.containers[0].image`."""
    out, parent = prefix, ""
    for part in parts:
        if isinstance(part, int) or parent in _MAP_FIELDS:
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
        parent = "" if parent in _MAP_FIELDS else str(part)
    return out


def _message(error: Any) -> str:
    message = str(error.message).replace(", 'null'", "")  # the conversion's nullable types: not the API's
    if error.validator in ("oneOf", "anyOf") and error.schema.get("oneOf"):
        types = [_type_name(s.get("type")) for s in error.schema["oneOf"] if isinstance(s, dict) and s.get("type")]
        if types:
            message = f"{json.dumps(error.instance)[:60]} is neither {' nor '.join(types)}"
    return message if len(message) <= _MESSAGE_LIMIT else message[: _MESSAGE_LIMIT - 3] + "..."


def _type_name(json_type: Any) -> str:
    types = [t for t in json_type if t != "null"] if isinstance(json_type, list) else [json_type]
    return "/".join(str(t) for t in types)
