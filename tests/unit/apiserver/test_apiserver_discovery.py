"""Discovery as kubectl 1.32 reads it (aggregated `apidiscovery.k8s.io/v2` first, the plain documents for
other clients), the OpenAPI that hands field validation to the server, and the node Lease derived from
the Node (`coordination.k8s.io/v1`, read-only), over HTTP in process."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from minikubelet.apiserver import discovery, leases
from minikubelet.apiserver.app import build_app
from minikubelet.apiserver.registry import Registry
from minikubelet.kubelet import nodestatus
from minikubelet.store import Store

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKEN = "discovery-token"
NODE = "node-1"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
KUBECTL_DISCOVERY = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
Json = dict[str, Any]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "state.db") as opened:
        for name in ("default", "kube-node-lease"):
            opened.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "status": {"phase": "Active"}})
        opened.create(nodestatus.node_object(NODE, now=NOW, state_dir=tmp_path))
        yield opened


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    app = build_app(Registry(store, clock=lambda: NOW), token=TOKEN)
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as opened:
        yield opened


def by_name(items: list[Json], key: str) -> dict[str, Json]:
    return {item[key]: item for item in items}


# --- aggregated discovery ------------------------------------------------------------------------------------


def test_api_answers_kubectl_with_aggregated_discovery_of_the_core_group(client: TestClient) -> None:
    response = client.get("/api", headers={"Accept": KUBECTL_DISCOVERY})
    assert response.headers["content-type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    body = response.json()
    assert (body["kind"], body["apiVersion"]) == ("APIGroupDiscoveryList", "apidiscovery.k8s.io/v2")
    [core] = body["items"]
    assert "name" not in core["metadata"]
    [v1] = core["versions"]
    assert (v1["version"], v1["freshness"]) == ("v1", "Current")
    resources = by_name(v1["resources"], "resource")
    assert set(resources) == {"pods", "events", "nodes", "namespaces"}
    pods = resources["pods"]
    assert pods["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert (pods["scope"], pods["singularResource"], pods["shortNames"], pods["categories"]) == (
        "Namespaced",
        "pod",
        ["po"],
        ["all"],
    )
    subresources = by_name(pods["subresources"], "subresource")
    assert set(subresources) == {"status", "ephemeralcontainers", "log", "exec", "attach", "portforward", "binding"}
    assert subresources["ephemeralcontainers"] == {  # what kubectl debug patches
        "subresource": "ephemeralcontainers",
        "responseKind": {"group": "", "version": "v1", "kind": "Pod"},
        "verbs": ["get", "patch", "update"],
    }
    assert subresources["exec"] == {
        "subresource": "exec",
        "responseKind": {"group": "", "version": "v1", "kind": "PodExecOptions"},
        "verbs": ["create", "get"],
    }
    assert resources["nodes"]["scope"] == "Cluster"
    assert "categories" not in resources["events"] and "subresources" not in resources["events"]


def test_apis_answers_kubectl_with_the_coordination_and_review_groups(client: TestClient) -> None:
    response = client.get("/apis", headers={"Accept": KUBECTL_DISCOVERY})
    assert response.headers["content-type"] == discovery.AGGREGATED_CONTENT_TYPE
    groups = {item["metadata"]["name"]: item for item in response.json()["items"]}
    assert list(groups) == ["coordination.k8s.io", "authentication.k8s.io", "authorization.k8s.io"]
    reviews = by_name(groups["authorization.k8s.io"]["versions"][0]["resources"], "resource")
    assert reviews["selfsubjectaccessreviews"]["verbs"] == ["create"]
    assert reviews["selfsubjectaccessreviews"]["scope"] == "Cluster"
    [lease] = groups["coordination.k8s.io"]["versions"][0]["resources"]
    assert lease == {
        "resource": "leases",
        "responseKind": {"group": "coordination.k8s.io", "version": "v1", "kind": "Lease"},
        "scope": "Namespaced",
        "singularResource": "lease",
        "verbs": ["get", "list"],
    }


@pytest.mark.parametrize(
    ("accept", "aggregated"),
    [
        (KUBECTL_DISCOVERY, True),
        ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", True),
        ("application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json", False),
        ("application/json", False),
        ("application/json, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", False),
        ("*/*", False),
        ("", False),
    ],
)
def test_aggregated_only_when_preferred(client: TestClient, accept: str, aggregated: bool) -> None:
    assert discovery.wants_aggregated(accept) is aggregated
    response = client.get("/apis", headers={"Accept": accept})
    assert (response.json()["kind"] == "APIGroupDiscoveryList") is aggregated
    assert (response.headers["content-type"] == discovery.AGGREGATED_CONTENT_TYPE) is aggregated


# --- plain discovery -----------------------------------------------------------------------------------------


def test_plain_group_documents(client: TestClient) -> None:
    listed = client.get("/apis").json()["groups"]
    version = {"groupVersion": "coordination.k8s.io/v1", "version": "v1"}
    assert listed[0] == {"name": "coordination.k8s.io", "versions": [version], "preferredVersion": version}
    assert [group["name"] for group in listed] == ["coordination.k8s.io", "authentication.k8s.io", "authorization.k8s.io"]
    group = client.get("/apis/coordination.k8s.io").json()
    assert (group["kind"], group["name"], group["preferredVersion"]) == ("APIGroup", "coordination.k8s.io", version)
    resources = client.get("/apis/coordination.k8s.io/v1").json()
    assert (resources["kind"], resources["groupVersion"]) == ("APIResourceList", "coordination.k8s.io/v1")
    assert resources["resources"] == [
        {"name": "leases", "singularName": "lease", "namespaced": True, "kind": "Lease", "verbs": ["get", "list"]}
    ]


@pytest.mark.parametrize("path", ["/apis/apps", "/apis/apps/v1", "/apis/coordination.k8s.io/v2"])
def test_an_unserved_group_or_version_is_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert (response.json()["reason"], response.json()["message"]) == (
        "NotFound",
        "the server could not find the requested resource",
    )


def _list_path(group: str, group_version: str, resource: discovery.Served) -> str:
    root = f"/apis/{group}/{group_version}" if group else f"/api/{group_version}"
    return f"{root}/namespaces/default/{resource.name}" if resource.namespaced else f"{root}/{resource.name}"


@pytest.mark.parametrize(
    ("group", "group_version", "resource"),
    [
        (group, group_version, resource)
        for group, versions in discovery.GROUPS.items()
        for group_version, served in versions.items()
        for resource in served
        if not resource.subresource and "list" in resource.verbs
    ],
    ids=lambda value: value.name if isinstance(value, discovery.Served) else str(value),
)
def test_every_advertised_resource_lists_as_a_table_and_as_json(
    client: TestClient, group: str, group_version: str, resource: discovery.Served
) -> None:
    """What discovery says is served is served: kubectl's `get <resource>` (a Table) and `-o json` (a list)."""
    path = _list_path(group, group_version, resource)
    table = client.get(path, headers={"Accept": TABLE})
    assert (table.status_code, table.json()["kind"]) == (200, "Table")
    assert "Name" in [column["name"] for column in table.json()["columnDefinitions"]]
    listing = client.get(path).json()
    assert listing["kind"] == f"{resource.kind}List"


def test_openapi_hands_validation_to_the_server_for_every_patchable_core_kind(client: TestClient) -> None:
    document = client.get(client.get("/openapi/v3").json()["paths"]["api/v1"]["serverRelativeURL"]).json()
    kinds = {}
    for path, item in document["paths"].items():
        operation = item["patch"]
        assert "fieldValidation" in [p["name"] for p in operation["parameters"] if p["in"] == "query"]
        kinds[operation["x-kubernetes-group-version-kind"]["kind"]] = path
    assert kinds == {
        "Pod": "/api/v1/namespaces/{namespace}/pods/{name}",
        "Event": "/api/v1/namespaces/{namespace}/events/{name}",
        "Node": "/api/v1/nodes/{name}",
        "Namespace": "/api/v1/namespaces/{name}",
    }


def test_openapi_serves_kubernetes_own_core_schemas_in_the_v3_shape(client: TestClient) -> None:
    """The schemas come from the official v1.37 definitions (kubernetes-validate), in the API server's v3 shape."""
    import importlib.resources

    document = client.get(client.get("/openapi/v3").json()["paths"]["api/v1"]["serverRelativeURL"]).json()
    schemas = document["components"]["schemas"]
    source = json.loads(
        (importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema" / "v1.37.0-local" / "_definitions.json")
        .read_text()
    )["$defs"]
    pod = schemas["io.k8s.api.core.v1.Pod"]
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    assert pod["description"] == source["io.k8s.api.core.v1.Pod"]["description"]
    described = source["io.k8s.api.core.v1.Pod"]["properties"]["apiVersion"]["description"]
    assert pod["properties"]["apiVersion"] == {"description": described, "type": "string"}
    probe = schemas["io.k8s.api.core.v1.Container"]["properties"]["livenessProbe"]
    assert probe == {
        "allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.Probe"}],
        "description": source["io.k8s.api.core.v1.Container"]["properties"]["livenessProbe"]["description"],
    }
    assert schemas["io.k8s.api.core.v1.Probe"]["properties"]["periodSeconds"]["type"] == "integer"
    assert "type" not in schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]  # kubectl explain: <IntOrString>
    assert not [name for name in schemas if not name.startswith(("io.k8s.api.core.v1.", "io.k8s.apimachinery."))]
    assert not [ref for ref in _refs(schemas) if ref.removeprefix("#/components/schemas/") not in schemas]
    assert "Node" in {gvk[0]["kind"] for s in schemas.values() if (gvk := s.get("x-kubernetes-group-version-kind"))}


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


# --- the node Lease ------------------------------------------------------------------------------------------


def test_the_node_lease_is_read_from_the_node(client: TestClient, store: Store) -> None:
    node = store.get("Node", "", NODE)
    lease = client.get(f"{LEASES}/{NODE}").json()
    assert (lease["kind"], lease["apiVersion"]) == ("Lease", "coordination.k8s.io/v1")
    assert lease["metadata"]["namespace"] == "kube-node-lease"
    assert lease["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "Node", "name": NODE, "uid": node["metadata"]["uid"]}
    ]
    heartbeat = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")["lastHeartbeatTime"]
    assert heartbeat == "2026-03-01T12:00:00Z"
    assert lease["spec"] == {"holderIdentity": NODE, "leaseDurationSeconds": 40, "renewTime": "2026-03-01T12:00:00.000000Z"}
    assert client.get(f"{LEASES}/{NODE}").json()["metadata"]["uid"] == lease["metadata"]["uid"], "a stable uid"


def test_the_lease_follows_the_heartbeat(client: TestClient, store: Store) -> None:
    later = datetime(2026, 3, 1, 12, 0, 20, tzinfo=UTC)

    def beat(node: Json) -> Json:
        node["status"]["conditions"] = nodestatus.refresh_conditions(node["status"]["conditions"], now=later)
        return node

    store.update_with("Node", "", NODE, beat)
    assert client.get(f"{LEASES}/{NODE}").json()["spec"]["renewTime"] == "2026-03-01T12:00:20.000000Z"


def test_leases_elsewhere_and_missing(client: TestClient) -> None:
    missing = client.get(f"{LEASES}/other")
    assert missing.status_code == 404
    assert (missing.json()["reason"], missing.json()["message"]) == ("NotFound", 'leases.coordination.k8s.io "other" not found')
    assert client.get(f"/apis/coordination.k8s.io/v1/namespaces/default/leases/{NODE}").status_code == 404
    assert client.get("/apis/coordination.k8s.io/v1/namespaces/default/leases").json()["items"] == []
    everywhere = client.get("/apis/coordination.k8s.io/v1/leases").json()
    assert (everywhere["kind"], [item["metadata"]["name"] for item in everywhere["items"]]) == ("LeaseList", [NODE])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"fieldSelector": f"metadata.name={NODE}"}, [NODE]),
        ({"fieldSelector": "metadata.name=other"}, []),
        ({"labelSelector": "app"}, []),
        ({"labelSelector": "!app"}, [NODE]),
    ],
)
def test_leases_honour_selectors(client: TestClient, query: dict[str, str], expected: list[str]) -> None:
    assert [item["metadata"]["name"] for item in client.get(LEASES, params=query).json()["items"]] == expected


def test_lease_tables(client: TestClient) -> None:
    table = client.get(LEASES, headers={"Accept": TABLE}).json()
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Holder", "Age"]
    [row] = table["rows"]
    assert row["cells"][:2] == [NODE, NODE]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    one = client.get(f"{LEASES}/{NODE}", headers={"Accept": TABLE}, params={"includeObject": "Object"}).json()
    assert one["rows"][0]["object"]["spec"]["holderIdentity"] == NODE


def test_leases_cannot_be_watched_or_written(client: TestClient) -> None:
    watch = client.get(LEASES, params={"watch": "true"})
    assert (watch.status_code, watch.json()["reason"]) == (405, "MethodNotAllowed")
    assert client.post(LEASES, json={"metadata": {"name": "x"}}).status_code == 405
    assert client.delete(f"{LEASES}/{NODE}").status_code == 405


def test_a_node_without_a_heartbeat_has_a_lease_without_a_renew_time() -> None:
    lease = leases.node_lease({"metadata": {"name": "n", "uid": "u"}, "status": {}})
    assert lease["spec"] == {"holderIdentity": "n", "leaseDurationSeconds": 40}
    assert leases.node_leases([{"metadata": {"name": "n"}}], "default") == []
