"""What kubectl asks before anything else: /version, /api, /apis, /api/v1 and a minimal OpenAPI v3.

kubectl-api.md A.1: discovery is mandatory (a 404 on /apis breaks every command), the gcloud dispatcher
picks its kubectl binary from /version's minor (so we say 32), and kubectl delegates field validation to
the server only when /openapi/v3 advertises `fieldValidation` on the Pod PATCH operation. Nothing here
changes at run time, so the documents are built once.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
from typing import Any

from minikubelet import KUBERNETES_VERSION, __version__

__all__ = ["RESOURCES", "api_group_list", "api_resource_list", "api_versions", "openapi_root", "openapi_v1", "version"]

_VERBS_FULL = ["create", "delete", "get", "list", "patch", "update", "watch"]

# (plural, kind, namespaced, verbs, shortNames, categories)
RESOURCES: tuple[tuple[str, str, bool, list[str], list[str], list[str]], ...] = (
    ("pods", "Pod", True, _VERBS_FULL, ["po"], ["all"]),
    ("pods/status", "Pod", True, ["get", "patch", "update"], [], []),
    ("pods/log", "Pod", True, ["get"], [], []),
    ("pods/exec", "PodExecOptions", True, ["create", "get"], [], []),
    ("pods/attach", "PodAttachOptions", True, ["create", "get"], [], []),
    ("pods/binding", "Binding", True, ["create"], [], []),
    ("events", "Event", True, _VERBS_FULL, ["ev"], []),
    ("nodes", "Node", False, _VERBS_FULL, ["no"], []),
    ("namespaces", "Namespace", False, ["create", "delete", "get", "list", "patch", "update", "watch"], ["ns"], []),
)


def version() -> dict[str, str]:
    major, minor, _ = KUBERNETES_VERSION.lstrip("v").split(".")
    return {
        "major": major,
        "minor": minor,
        "gitVersion": f"{KUBERNETES_VERSION}-minikubelet.{__version__}",
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "",
        "goVersion": f"python{platform.python_version()}",
        "compiler": "cpython",
        "platform": f"linux/{'amd64' if platform.machine() == 'x86_64' else platform.machine()}",
    }


def api_versions() -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    }


def api_group_list() -> dict[str, Any]:
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": []}


@functools.cache
def api_resource_list() -> dict[str, Any]:
    resources = []
    for plural, kind, namespaced, verbs, short_names, categories in RESOURCES:
        entry: dict[str, Any] = {
            "name": plural,
            "singularName": "" if "/" in plural else kind.lower(),
            "namespaced": namespaced,
            "kind": kind,
            "verbs": verbs,
        }
        if short_names:
            entry["shortNames"] = short_names
        if categories:
            entry["categories"] = categories
        resources.append(entry)
    return {"kind": "APIResourceList", "groupVersion": "v1", "resources": resources}


@functools.cache
def openapi_v1() -> dict[str, Any]:
    """One PATCH operation on pods, carrying the GVK and the `fieldValidation` parameter (run 16-v3min)."""
    gvk = {"group": "", "version": "v1", "kind": "Pod"}
    patch = {
        "description": "partially update the specified Pod",
        "operationId": "patchCoreV1NamespacedPod",
        "parameters": [
            {
                "name": "fieldValidation",
                "in": "query",
                "description": "Strict, Warn or Ignore: what to do with unknown or duplicate fields.",
                "schema": {"type": "string", "uniqueItems": True},
            },
            {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
            {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": True}},
        ],
        "responses": {"200": {"description": "OK"}, "201": {"description": "Created"}},
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": gvk,
    }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
        "paths": {"/api/v1/namespaces/{namespace}/pods/{name}": {"patch": patch}},
        "components": {"schemas": {}},
    }


@functools.cache
def openapi_root() -> dict[str, Any]:
    digest = hashlib.sha512(json.dumps(openapi_v1(), sort_keys=True).encode()).hexdigest().upper()[:128]
    return {"paths": {"api/v1": {"serverRelativeURL": f"/openapi/v3/api/v1?hash={digest}"}}}
