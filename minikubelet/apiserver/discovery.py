"""What kubectl asks before anything else: /version, discovery (/api, /apis and each group version) and
a minimal OpenAPI v3.

kubectl-api.md A.1: discovery is mandatory (a 404 on /apis breaks every command), the gcloud dispatcher
picks its kubectl binary from /version's minor (so we say 32), and kubectl delegates field validation to
the server only when /openapi/v3 advertises `fieldValidation` on the Pod PATCH operation.

kubectl 1.32 first asks /api and /apis for *aggregated* discovery (`apidiscovery.k8s.io/v2`
`APIGroupDiscoveryList`): one answer per endpoint that carries every resource of every version, so a cold
cache costs two requests instead of one per group version. Clients that ask for plain JSON get the
classic `APIVersions`, `APIGroupList`, `APIGroup` and `APIResourceList` documents. Both are built from
`GROUPS`, which lists exactly what the API server serves: the core group, the read-only node Lease of
`coordination.k8s.io` (what `kubectl describe node` shows), and the reviews `kubectl auth can-i` and
`kubectl auth whoami` create (reviews.py). `categories: ["all"]` on pods is what
`kubectl get all` expands. Nothing here changes at run time, so the documents are built once.
"""

from __future__ import annotations

import functools
import json
import platform
from dataclasses import dataclass
from typing import Any

from minikubelet import KUBERNETES_VERSION, __version__
from minikubelet.apiserver import openapi

__all__ = [
    "AGGREGATED_CONTENT_TYPE",
    "GROUPS",
    "Served",
    "aggregated_discovery",
    "api_group",
    "api_group_list",
    "api_resource_list",
    "api_versions",
    "openapi_root",
    "openapi_v1",
    "version",
    "wants_aggregated",
]

AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

_VERBS_FULL = ("create", "delete", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True, slots=True)
class Served:
    """One resource or subresource (`pods/log`) as discovery advertises it."""

    name: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...]
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def subresource(self) -> bool:
        return "/" in self.name


# group name ("" is the core group, served at /api) -> version -> resources
GROUPS: dict[str, dict[str, tuple[Served, ...]]] = {
    "": {
        "v1": (
            Served("pods", "Pod", True, _VERBS_FULL, ("po",), ("all",)),
            Served("pods/status", "Pod", True, ("get", "patch", "update")),
            Served("pods/ephemeralcontainers", "Pod", True, ("get", "patch", "update")),
            Served("pods/log", "Pod", True, ("get",)),
            Served("pods/exec", "PodExecOptions", True, ("create", "get")),
            Served("pods/attach", "PodAttachOptions", True, ("create", "get")),
            Served("pods/portforward", "PodPortForwardOptions", True, ("create", "get")),
            Served("pods/binding", "Binding", True, ("create",)),
            Served("events", "Event", True, _VERBS_FULL, ("ev",)),
            Served("nodes", "Node", False, _VERBS_FULL, ("no",)),
            Served("namespaces", "Namespace", False, _VERBS_FULL, ("ns",)),
        ),
    },
    "coordination.k8s.io": {
        "v1": (Served("leases", "Lease", True, ("get", "list")),),
    },
    "authentication.k8s.io": {
        "v1": (Served("selfsubjectreviews", "SelfSubjectReview", False, ("create",)),),
    },
    "authorization.k8s.io": {
        "v1": (
            Served("selfsubjectaccessreviews", "SelfSubjectAccessReview", False, ("create",)),
            Served("selfsubjectrulesreviews", "SelfSubjectRulesReview", False, ("create",)),
        ),
    },
}


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


def wants_aggregated(accept: str) -> bool:
    """Whether an Accept header prefers `apidiscovery.k8s.io/v2` over plain JSON (we serve no v2beta1)."""
    for entry in accept.split(","):
        media, *raw_params = (part.strip() for part in entry.split(";"))
        params = dict(p.partition("=")[::2] for p in raw_params)
        if media in ("application/json", "application/*", "*/*") and params.get("g") == "apidiscovery.k8s.io":
            if params.get("v") == "v2" and params.get("as") == "APIGroupDiscoveryList":
                return True
        elif media in ("application/json", "application/*", "*/*") and "as" not in params:
            return False
    return False


# --- plain discovery ---------------------------------------------------------------------------------------


def api_versions() -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": list(GROUPS[""]),
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    }


def _group_entry(name: str) -> dict[str, Any]:
    versions = [{"groupVersion": f"{name}/{v}", "version": v} for v in GROUPS[name]]
    return {"name": name, "versions": versions, "preferredVersion": versions[0]}


def api_group_list() -> dict[str, Any]:
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group_entry(name) for name in GROUPS if name]}


def api_group(name: str) -> dict[str, Any] | None:
    """`/apis/<group>`, or None for a group we do not serve."""
    if not name or name not in GROUPS:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_entry(name)}


@functools.cache
def api_resource_list(group: str = "", group_version: str = "v1") -> dict[str, Any] | None:
    """`/api/v1` (group "") or `/apis/<group>/<version>`, or None for a version we do not serve."""
    served = GROUPS.get(group, {}).get(group_version)
    if served is None:
        return None
    resources = []
    for resource in served:
        entry: dict[str, Any] = {
            "name": resource.name,
            "singularName": "" if resource.subresource else resource.kind.lower(),
            "namespaced": resource.namespaced,
            "kind": resource.kind,
            "verbs": list(resource.verbs),
        }
        if resource.short_names:
            entry["shortNames"] = list(resource.short_names)
        if resource.categories:
            entry["categories"] = list(resource.categories)
        resources.append(entry)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{group_version}" if group else group_version,
        "resources": resources,
    }


# --- aggregated discovery (apidiscovery.k8s.io/v2) ---------------------------------------------------------


def _gvk(group: str, group_version: str, kind: str) -> dict[str, str]:
    return {"group": group, "version": group_version, "kind": kind}


def _aggregated_resources(group: str, group_version: str, served: tuple[Served, ...]) -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = []
    for resource in served:
        if resource.subresource:
            continue
        entry: dict[str, Any] = {
            "resource": resource.name,
            "responseKind": _gvk(group, group_version, resource.kind),
            "scope": "Namespaced" if resource.namespaced else "Cluster",
            "singularResource": resource.kind.lower(),
            "verbs": list(resource.verbs),
        }
        if resource.short_names:
            entry["shortNames"] = list(resource.short_names)
        if resource.categories:
            entry["categories"] = list(resource.categories)
        subresources = [
            {
                "subresource": sub.name.partition("/")[2],
                "responseKind": _gvk(group, group_version, sub.kind),
                "verbs": list(sub.verbs),
            }
            for sub in served
            if sub.name.partition("/")[0] == resource.name and sub.subresource
        ]
        if subresources:
            entry["subresources"] = subresources
        resources.append(entry)
    return resources


@functools.cache
def aggregated_discovery(*, core: bool) -> dict[str, Any]:
    """The `APIGroupDiscoveryList` of /api (`core=True`: the core group) or of /apis (every other group)."""
    items = []
    for name, versions in GROUPS.items():
        if (name == "") != core:
            continue
        items.append(
            {
                "metadata": {"name": name, "creationTimestamp": None} if name else {"creationTimestamp": None},
                "versions": [
                    {"version": v, "resources": _aggregated_resources(name, v, served), "freshness": "Current"}
                    for v, served in versions.items()
                ],
            }
        )
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}


# --- OpenAPI -----------------------------------------------------------------------------------------------


def _patch_operation(kind: str, *, namespaced: bool) -> dict[str, Any]:
    return {
        "description": f"partially update the specified {kind}",
        "operationId": f"patchCoreV1{'Namespaced' if namespaced else ''}{kind}",
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
        "x-kubernetes-group-version-kind": {"group": "", "version": "v1", "kind": kind},
    }


@functools.cache
def openapi_paths() -> str:
    """One PATCH operation per patchable core kind, carrying the GVK and the `fieldValidation` parameter
    (run 16-v3min): kubectl then leaves validation to the server for that kind (`create -f`, `apply -f`).
    As JSON, the key of the cached document (openapi.py adds the schemas)."""
    paths = {}
    for resource in GROUPS[""]["v1"]:
        if resource.subresource or "patch" not in resource.verbs:
            continue
        scope = "/namespaces/{namespace}" if resource.namespaced else ""
        paths[f"/api/v1{scope}/{resource.name}/{{name}}"] = {
            "patch": _patch_operation(resource.kind, namespaced=resource.namespaced)
        }
    return json.dumps(paths, sort_keys=True)


def openapi_v1() -> bytes:
    """The api/v1 OpenAPI v3 document: our paths, and Kubernetes' own schemas of the core group (openapi.py).
    The first call reads the schemas (a few hundred ms): call it off the event loop."""
    return openapi.document(openapi_paths(), KUBERNETES_VERSION)


@functools.cache
def openapi_root() -> dict[str, Any]:
    digest = openapi.document_hash(openapi_paths(), KUBERNETES_VERSION)
    return {"paths": {"api/v1": {"serverRelativeURL": f"/openapi/v3/api/v1?hash={digest}"}}}
