"""The API server over HTTP, in process: what real kubectl 1.32 sends and needs back (kubectl-api.md).

Each test builds the app the daemon builds (`build_app(Registry(Store(path)), token=...)`) on a store that holds
what the daemon creates at start (the namespaces and this node's Node object), and talks to it with starlette's
TestClient. Watches are asked for with `timeoutSeconds=1`, so the stream ends and its NDJSON lines can be read.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from builders import make_pod
from starlette.exceptions import StarletteDeprecationWarning
from starlette.websockets import WebSocketDisconnect

from minikubelet.api.meta import format_time
from minikubelet.apiserver.app import MAX_BODY_BYTES, build_app
from minikubelet.apiserver.registry import Registry
from minikubelet.kubelet import nodestatus
from minikubelet.store import Store

with warnings.catch_warnings():
    # starlette 1.x would rather have httpx2; httpx is what this project has.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient, WebSocketDenialResponse

TOKEN = "test-token-123"
NODE = "node-1"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
PODS = "/api/v1/namespaces/default/pods"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
SMP = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
Json = dict[str, Any]


# --- fixtures -----------------------------------------------------------------------------------------------------


def open_store(path: Path, **options: Any) -> Store:
    """A store holding what the daemon creates at start: the namespaces and this node."""
    store = Store(path / "state.db", **options)
    for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
        store.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "spec": {}, "status": {"phase": "Active"}}
        )
    store.create(nodestatus.node_object(NODE, now=NOW, state_dir=path))
    return store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path) as opened:
        yield opened


@pytest.fixture
def registry(store: Store) -> Registry:
    return Registry(store, clock=lambda: NOW)


@pytest.fixture
def client(registry: Registry) -> Iterator[TestClient]:
    with TestClient(build_app(registry, token=TOKEN), headers={"Authorization": f"Bearer {TOKEN}"}) as opened:
        yield opened


@pytest.fixture
def anonymous(registry: Registry) -> Iterator[TestClient]:
    with TestClient(build_app(registry, token=TOKEN)) as opened:
        yield opened


# --- helpers ------------------------------------------------------------------------------------------------------


def pod(name: str = "echo", **overrides: Any) -> Json:
    """A pod manifest as kubectl sends it: one container `app`."""
    return make_pod(metadata={"name": name, **overrides.pop("metadata", {})}, **overrides)


def create(client: TestClient, name: str = "echo", namespace: str = "default", **overrides: Any) -> Json:
    response = client.post(f"/api/v1/namespaces/{namespace}/pods", json=pod(name, **overrides))
    assert response.status_code == 201, response.text
    body: Json = response.json()
    return body


def bind(client: TestClient, name: str, namespace: str = "default") -> None:
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name}, "target": {"kind": "Node", "name": NODE}}
    response = client.post(f"/api/v1/namespaces/{namespace}/pods/{name}/binding", json=binding)
    assert response.status_code == 201, response.text


def patch(client: TestClient, url: str, body: Any, content_type: str) -> Any:
    text = body if isinstance(body, str) else json.dumps(body)
    return client.patch(url, content=text, headers={"Content-Type": content_type})


def names(listing: Json) -> list[str]:
    return [item["metadata"]["name"] for item in listing["items"]]


def assert_status(response: Any, code: int, reason: str, message: str | None = None) -> Json:
    """A Kubernetes Status body with this code, reason (and message); returns it."""
    assert response.status_code == code, response.text
    assert response.headers["content-type"] == "application/json"
    status: Json = response.json()
    assert status["kind"] == "Status"
    assert status["apiVersion"] == "v1"
    assert status["status"] == "Failure"
    assert status["reason"] == reason
    assert status["code"] == code
    if message is not None:
        assert status["message"] == message
    return status


def watch_lines(response: Any) -> list[Json]:
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines() if line]


def events_of(lines: list[Json]) -> list[tuple[str, str]]:
    return [(line["type"], line["object"]["metadata"]["name"]) for line in lines]


def watch_while(client: TestClient, store: Store, url: str, changes: Callable[[], None], **kwargs: Any) -> list[Json]:
    """GET a watch `url` on another thread, make `changes` once the server watches the store, read the stream."""
    watching = threading.Event()
    real_watch = store.watch

    def watch(*args: Any, **options: Any) -> Any:
        opened = real_watch(*args, **options)
        watching.set()
        return opened

    store.watch = watch  # type: ignore[method-assign]
    result: dict[str, Any] = {}

    def get() -> None:
        result["response"] = client.get(url, **kwargs)

    thread = threading.Thread(target=get)
    thread.start()
    try:
        assert watching.wait(5), "the server never opened a store watch"
        changes()
    finally:
        thread.join(10)
        store.watch = real_watch  # type: ignore[method-assign]
    assert not thread.is_alive(), "the watch did not end at timeoutSeconds"
    return watch_lines(result["response"])


# --- discovery ----------------------------------------------------------------------------------------------------


def test_version_reports_minor_37_without_a_token(anonymous: TestClient) -> None:
    response = anonymous.get("/version?timeout=5s")
    assert response.status_code == 200
    version = response.json()
    assert (version["major"], version["minor"]) == ("1", "37")
    assert version["gitVersion"].startswith("v1.37.")
    assert {"gitCommit", "gitTreeState", "buildDate", "goVersion", "compiler", "platform"} <= version.keys()


def test_api_and_apis(client: TestClient) -> None:
    api = client.get("/api").json()
    assert api["kind"] == "APIVersions"
    assert api["versions"] == ["v1"]
    groups = client.get("/apis").json()
    names = [g["name"] for g in groups["groups"]]
    assert (groups["kind"], names) == ("APIGroupList", ["coordination.k8s.io", "authentication.k8s.io", "authorization.k8s.io"])


def test_api_v1_lists_the_resources(client: TestClient) -> None:
    listing = client.get("/api/v1").json()
    assert listing["kind"] == "APIResourceList"
    assert listing["groupVersion"] == "v1"
    resources = {r["name"]: r for r in listing["resources"]}
    assert {"pods", "pods/status", "pods/binding", "events", "nodes", "namespaces"} <= resources.keys()
    pods = resources["pods"]
    assert pods["shortNames"] == ["po"]
    assert pods["kind"] == "Pod"
    assert pods["singularName"] == "pod"
    assert pods["namespaced"] is True
    assert {"create", "delete", "get", "list", "patch", "update", "watch"} <= set(pods["verbs"])
    assert resources["events"]["shortNames"] == ["ev"]
    assert resources["nodes"]["namespaced"] is False
    assert resources["namespaces"]["namespaced"] is False
    assert resources["namespaces"]["shortNames"] == ["ns"]


def test_openapi_v3_advertises_field_validation_on_the_pod_patch(client: TestClient) -> None:
    root = client.get("/openapi/v3").json()
    url = root["paths"]["api/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/api/v1?hash=")
    document = client.get(url).json()
    operation = document["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert "fieldValidation" in [p["name"] for p in operation["parameters"] if p["in"] == "query"]
    assert operation["x-kubernetes-group-version-kind"] == {"group": "", "version": "v1", "kind": "Pod"}


# --- authentication -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/api", "/apis", "/api/v1", "/openapi/v3", PODS, f"{PODS}/echo", f"{PODS}?watch=true&timeoutSeconds=1", "/api/v1/nodes"],
)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "])
def test_a_missing_or_wrong_token_is_401(anonymous: TestClient, path: str, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    status = assert_status(anonymous.get(path, headers=headers), 401, "Unauthorized")
    assert status["message"] == "Unauthorized"


def test_a_write_without_a_token_changes_nothing(anonymous: TestClient, store: Store) -> None:
    assert_status(anonymous.post(PODS, json=pod()), 401, "Unauthorized")
    assert store.list("Pod")[0] == []


def test_a_websocket_upgrade_needs_the_token_too(anonymous: TestClient) -> None:
    url = f"{PODS}/echo/exec?command=ls&container=app&stdout=true"
    with pytest.raises(WebSocketDenialResponse) as refused, anonymous.websocket_connect(url, subprotocols=["v5.channel.k8s.io"]):
        pass
    assert refused.value.status_code == 401  # an HTTP answer to the upgrade, as the API server gives
    assert refused.value.json()["reason"] == "Unauthorized"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with pytest.raises(WebSocketDisconnect) as no_route, anonymous.websocket_connect(url, headers=headers):
        pass
    assert not isinstance(no_route.value, WebSocketDenialResponse)  # past the token check (no such pod)


@pytest.mark.parametrize("path", ["/version", "/readyz", "/livez", "/healthz"])
def test_health_and_version_are_open(anonymous: TestClient, path: str) -> None:
    assert anonymous.get(path).status_code == 200


# --- pods: create -------------------------------------------------------------------------------------------------


def test_create_pod(client: TestClient) -> None:
    response = client.post(f"{PODS}?fieldManager=kubectl-create&fieldValidation=Strict", json=pod())
    assert response.status_code == 201
    created = response.json()
    meta = created["metadata"]
    assert meta["name"] == "echo"
    assert meta["namespace"] == "default"
    assert meta["uid"]
    assert meta["resourceVersion"].isdigit()
    assert datetime.strptime(meta["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
    assert created["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    assert created["spec"]["restartPolicy"] == "Always"  # defaulted
    assert created["spec"]["schedulerName"] == "default-scheduler"
    assert "nodeName" not in created["spec"]
    assert client.get(f"{PODS}/echo").json() == created


def test_create_resets_status_and_server_metadata(client: TestClient) -> None:
    body = pod(
        metadata={"uid": "mine", "resourceVersion": "99", "deletionTimestamp": "2020-01-01T00:00:00Z"},
        status={"phase": "Running", "podIP": "10.0.0.9"},
    )
    created = client.post(PODS, json=body).json()
    assert created["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    assert created["metadata"]["uid"] != "mine"
    assert "deletionTimestamp" not in created["metadata"]


@pytest.mark.parametrize(
    ("resources", "qos"),
    [
        ({}, "BestEffort"),
        ({"requests": {"cpu": "100m"}}, "Burstable"),
        ({"limits": {"cpu": "1", "memory": "64Mi"}}, "Guaranteed"),  # requests default to limits
        ({"limits": {"cpu": "1", "memory": "64Mi"}, "requests": {"cpu": "500m", "memory": "64Mi"}}, "Burstable"),
        # GetPodQOS counts a resource only with a quantity above zero.
        ({"requests": {"cpu": "0"}}, "BestEffort"),
        ({"requests": {"cpu": "0m", "memory": "0"}}, "BestEffort"),
        ({"limits": {"cpu": "0"}}, "BestEffort"),
        ({"requests": {"ephemeral-storage": "1Gi"}}, "BestEffort"),  # only cpu and memory count
        ({"limits": {"cpu": "1", "memory": "64Mi", "ephemeral-storage": "1Gi"}}, "Guaranteed"),
        ({"limits": {"cpu": "1000m", "memory": "64Mi"}, "requests": {"cpu": "1"}}, "Guaranteed"),  # equal values
    ],
)
def test_create_sets_the_qos_class(client: TestClient, resources: Json, qos: str) -> None:
    body = pod(spec={"containers": [{"name": "app", "image": "busybox:1", "resources": resources}]})
    assert client.post(PODS, json=body).json()["status"]["qosClass"] == qos


def test_create_with_generate_name(client: TestClient) -> None:
    body = pod()
    body["metadata"] = {"generateName": "web-"}
    created = client.post(PODS, json=body).json()
    assert created["metadata"]["name"].startswith("web-")
    assert len(created["metadata"]["name"]) == len("web-") + 5


def test_create_keeps_the_last_applied_annotation(client: TestClient) -> None:
    last = json.dumps(pod())
    created = create(client, metadata={"annotations": {"kubectl.kubernetes.io/last-applied-configuration": last}})
    assert created["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] == last


def test_create_twice_is_409_already_exists(client: TestClient) -> None:
    create(client)
    status = assert_status(client.post(PODS, json=pod()), 409, "AlreadyExists", 'pods "echo" already exists')
    assert status["details"] == {"name": "echo", "kind": "pods"}


def test_invalid_pod_is_422_with_causes(client: TestClient, store: Store) -> None:
    body = pod("bad", spec={"containers": [{"name": "app"}]})
    status = assert_status(
        client.post(PODS, json=body), 422, "Invalid", 'Pod "bad" is invalid: spec.containers[0].image: Required value'
    )
    assert status["details"] == {
        "name": "bad",
        "kind": "Pod",
        "causes": [{"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers[0].image"}],
    }
    assert store.list("Pod")[0] == []


def test_an_unsupported_enum_value_is_422_not_400(client: TestClient) -> None:
    body = pod("bad", spec={"restartPolicy": "Sometimes"})
    unsupported = 'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'
    status = assert_status(
        client.post(PODS, json=body), 422, "Invalid", f'Pod "bad" is invalid: spec.restartPolicy: {unsupported}'
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueNotSupported",
            "message": unsupported,
            "field": "spec.restartPolicy",
        }
    ]


def test_several_invalid_fields_are_aggregated(client: TestClient) -> None:
    body = pod("bad", spec={"containers": [{"name": "app", "imagePullPolicy": "Sometimes"}], "restartPolicy": "Sometimes"})
    status = assert_status(client.post(PODS, json=body), 422, "Invalid")
    assert status["message"].startswith('Pod "bad" is invalid: [')
    fields = [cause["field"] for cause in status["details"]["causes"]]
    assert sorted(fields) == ["spec.containers[0].image", "spec.containers[0].imagePullPolicy", "spec.restartPolicy"]
    assert all(cause["reason"].startswith("FieldValue") for cause in status["details"]["causes"])


def test_a_wrong_type_next_to_an_unsupported_value_is_400(client: TestClient) -> None:
    body = pod("bad", spec={"restartPolicy": "Sometimes", "terminationGracePeriodSeconds": "x"})
    status = assert_status(client.post(PODS, json=body), 400, "BadRequest")
    assert "terminationGracePeriodSeconds" in status["message"]


def _with_typo() -> Json:
    body = pod()
    body["spec"]["containers"][0]["readinesProbe"] = {"periodSeconds": 5}
    return body


UNKNOWN = 'unknown field "spec.containers[0].readinesProbe"'


def test_unknown_field_is_400_strict_decoding_error(client: TestClient, store: Store) -> None:
    message = f'Pod in version "v1" cannot be handled as a Pod: strict decoding error: {UNKNOWN}'
    assert_status(client.post(f"{PODS}?fieldValidation=Strict", json=_with_typo()), 400, "BadRequest", message)
    assert store.list("Pod")[0] == []


@pytest.mark.parametrize("query", ["?fieldValidation=Warn", ""])  # Warn is the API server's default
def test_unknown_field_with_warn_is_created_with_a_warning_header(client: TestClient, query: str) -> None:
    response = client.post(PODS + query, json=_with_typo())
    assert response.status_code == 201
    assert response.headers["warning"] == '299 - "unknown field \\"spec.containers[0].readinesProbe\\""'
    assert "readinesProbe" not in response.json()["spec"]["containers"][0]


def test_unknown_field_with_ignore_is_created_silently(client: TestClient) -> None:
    response = client.post(f"{PODS}?fieldValidation=Ignore", json=_with_typo())
    assert response.status_code == 201
    assert "warning" not in response.headers
    assert "readinesProbe" not in response.json()["spec"]["containers"][0]


def test_a_bad_field_validation_value_is_400(client: TestClient) -> None:
    assert_status(client.post(f"{PODS}?fieldValidation=Loose", json=pod()), 400, "BadRequest")


@pytest.mark.parametrize(
    ("path", "value", "detail"),
    [
        ("containers", "nope", 'spec.containers: Invalid value: "nope": must be a list'),
        ("terminationGracePeriodSeconds", "x", 'spec.terminationGracePeriodSeconds: Invalid value: "x": must be an integer'),
    ],
)
def test_malformed_types_are_400(client: TestClient, path: str, value: Any, detail: str) -> None:
    body = pod()
    body["spec"][path] = value
    message = f'Pod in version "v1" cannot be handled as a Pod: {detail}'
    assert_status(client.post(PODS, json=body), 400, "BadRequest", message)


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'"a pod"'])
def test_a_body_that_is_not_a_json_object_is_400(client: TestClient, content: bytes) -> None:
    assert_status(client.post(PODS, content=content), 400, "BadRequest")


def test_a_wrong_kind_is_400(client: TestClient) -> None:
    body = pod()
    body["kind"] = "Node"
    assert_status(client.post(PODS, json=body), 400, "BadRequest")


def test_namespace_mismatch_is_400(client: TestClient) -> None:
    message = "the namespace of the provided object does not match the namespace sent on the request"
    assert_status(client.post(PODS, json=pod(metadata={"namespace": "kube-system"})), 400, "BadRequest", message)


def test_a_missing_namespace_is_404(client: TestClient) -> None:
    response = client.post("/api/v1/namespaces/nope/pods", json=pod())
    status = assert_status(response, 404, "NotFound", 'namespaces "nope" not found')
    assert status["details"] == {"name": "nope", "kind": "namespaces"}


def test_a_body_over_3_mib_is_413(client: TestClient, store: Store) -> None:
    body = pod(metadata={"annotations": {"big": "x" * MAX_BODY_BYTES}})
    assert_status(client.post(PODS, json=body), 413, "RequestEntityTooLarge")
    assert store.list("Pod")[0] == []


def test_dry_run_creates_nothing(client: TestClient, store: Store) -> None:
    response = client.post(f"{PODS}?dryRun=All", json=pod())
    assert response.status_code == 201
    assert response.json()["metadata"]["name"] == "echo"
    assert response.json()["status"]["phase"] == "Pending"
    assert store.list("Pod")[0] == []
    assert_status(client.get(f"{PODS}/echo"), 404, "NotFound")


def test_dry_run_still_validates(client: TestClient) -> None:
    assert_status(client.post(f"{PODS}?dryRun=All&fieldValidation=Strict", json=_with_typo()), 400, "BadRequest")
    assert_status(client.post(f"{PODS}?dryRun=Some", json=pod()), 400, "BadRequest")


# --- pods: get and list -------------------------------------------------------------------------------------------


def test_get_a_missing_pod_is_404_status(client: TestClient) -> None:
    status = assert_status(client.get(f"{PODS}/x"), 404, "NotFound", 'pods "x" not found')
    assert status["details"] == {"name": "x", "kind": "pods"}


def test_an_unknown_resource_is_404(client: TestClient) -> None:
    assert_status(client.get("/api/v1/namespaces/default/widgets"), 404, "NotFound")


def test_list_pods(client: TestClient) -> None:
    create(client, "b")
    create(client, "a")
    listing = client.get(f"{PODS}?limit=500").json()
    assert listing["kind"] == "PodList"
    assert listing["apiVersion"] == "v1"
    assert int(listing["metadata"]["resourceVersion"]) >= 2
    assert names(listing) == ["a", "b"]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", ["web-1", "web-2"]),
        ("app=web,tier=front", ["web-1"]),
        ("app!=web", ["db"]),
        ("app in (db,cache)", ["db"]),
        ("tier", ["web-1"]),
        ("!tier", ["db", "web-2"]),
    ],
)
def test_list_with_a_label_selector(client: TestClient, selector: str, expected: list[str]) -> None:
    create(client, "web-1", metadata={"labels": {"app": "web", "tier": "front"}})
    create(client, "web-2", metadata={"labels": {"app": "web"}})
    create(client, "db", metadata={"labels": {"app": "db"}})
    assert names(client.get(PODS, params={"labelSelector": selector}).json()) == expected


def test_list_with_field_selectors(client: TestClient) -> None:
    create(client, "a")
    create(client, "b")
    bind(client, "b")
    patch(client, f"{PODS}/b/status", {"status": {"phase": "Running"}}, MERGE)

    def listed(selector: str) -> list[str]:
        return names(client.get(PODS, params={"fieldSelector": selector}).json())

    assert listed("metadata.name=a") == ["a"]
    assert listed("metadata.name!=a") == ["b"]
    assert listed("status.phase=Running") == ["b"]
    assert listed("status.phase=Pending") == ["a"]
    assert listed(f"spec.nodeName={NODE}") == ["b"]
    assert listed("spec.nodeName=") == ["a"]
    assert listed("metadata.name=a,status.phase=Running") == []


def test_a_bad_selector_is_400(client: TestClient) -> None:
    assert_status(client.get(PODS, params={"fieldSelector": "spec.image=x"}), 400, "BadRequest")
    assert_status(client.get(PODS, params={"labelSelector": "a in b"}), 400, "BadRequest")


def test_list_across_namespaces(client: TestClient) -> None:
    create(client, "a")
    create(client, "b", namespace="kube-system")
    assert names(client.get(PODS).json()) == ["a"]
    everywhere = client.get("/api/v1/pods").json()
    assert [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in everywhere["items"]] == [
        ("default", "a"),
        ("kube-system", "b"),
    ]
    assert names(client.get("/api/v1/pods", params={"fieldSelector": "metadata.namespace=kube-system"}).json()) == ["b"]


# --- pods: update -------------------------------------------------------------------------------------------------


def test_put_with_a_stale_resource_version_is_409_conflict(client: TestClient) -> None:
    stale = create(client)
    fresh = client.get(f"{PODS}/echo").json()
    fresh["metadata"]["labels"] = {"v": "1"}
    assert client.put(f"{PODS}/echo", json=fresh).status_code == 200
    stale["metadata"]["labels"] = {"v": "2"}
    message = (
        'Operation cannot be fulfilled on pods "echo": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert_status(client.put(f"{PODS}/echo", json=stale), 409, "Conflict", message)
    assert client.get(f"{PODS}/echo").json()["metadata"]["labels"] == {"v": "1"}


def test_put_changes_labels_and_image_but_keeps_status(client: TestClient) -> None:
    current = create(client)
    current["metadata"]["labels"] = {"app": "echo"}
    current["spec"]["containers"][0]["image"] = "busybox:2"
    current["status"] = {"phase": "Running"}
    response = client.put(f"{PODS}/echo", json=current)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["metadata"]["labels"] == {"app": "echo"}
    assert updated["spec"]["containers"][0]["image"] == "busybox:2"
    assert updated["status"]["phase"] == "Pending"
    assert int(updated["metadata"]["resourceVersion"]) > int(current["metadata"]["resourceVersion"])
    assert updated["metadata"]["uid"] == current["metadata"]["uid"]


def test_put_of_a_missing_pod_is_404(client: TestClient) -> None:
    assert_status(client.put(f"{PODS}/x", json=pod("x")), 404, "NotFound", 'pods "x" not found')


def test_put_with_another_name_is_400(client: TestClient) -> None:
    create(client)
    assert_status(client.put(f"{PODS}/echo", json=pod("other")), 400, "BadRequest")


FORBIDDEN = 'Pod "echo" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`'


@pytest.mark.parametrize(
    "change",
    [
        {"restartPolicy": "Never"},
        {"containers": [{"name": "app", "image": "busybox:1", "command": ["sh"]}]},
        {"nodeSelector": {"disk": "ssd"}},
    ],
)
def test_put_changing_the_spec_is_422_forbidden(client: TestClient, change: Json) -> None:
    current = create(client, spec={"containers": [{"name": "app", "image": "busybox:1"}]})
    current["spec"].update(change)
    status = assert_status(client.put(f"{PODS}/echo", json=current), 422, "Invalid")
    assert status["message"].startswith(FORBIDDEN)
    assert status["details"]["causes"][0]["field"] == "spec"
    assert status["details"]["causes"][0]["reason"] == "FieldValueForbidden"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (MERGE, {"spec": {"restartPolicy": "Never"}}),
        (SMP, {"spec": {"restartPolicy": "Never"}}),
        (JSON_PATCH, [{"op": "replace", "path": "/spec/restartPolicy", "value": "Never"}]),
        (SMP, {"spec": {"containers": [{"name": "app", "env": [{"name": "A", "value": "1"}]}]}}),
    ],
)
def test_patch_changing_the_spec_is_422_forbidden(client: TestClient, content_type: str, body: Any) -> None:
    create(client)
    status = assert_status(patch(client, f"{PODS}/echo", body, content_type), 422, "Invalid")
    assert status["message"].startswith(FORBIDDEN)
    assert client.get(f"{PODS}/echo").json()["spec"]["restartPolicy"] == "Always"


# --- pods: patch --------------------------------------------------------------------------------------------------


def test_strategic_merge_patch_as_kubectl_apply_sends_it(client: TestClient) -> None:
    create(client)
    body = {
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
        "spec": {"$setElementOrder/containers": [{"name": "app"}], "containers": [{"name": "app", "image": "new:2"}]},
    }
    response = patch(client, f"{PODS}/echo?fieldManager=kubectl-client-side-apply&fieldValidation=Strict", body, SMP)
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["spec"]["containers"][0]["image"] == "new:2"
    assert patched["spec"]["containers"][0]["name"] == "app"
    assert patched["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"  # the rest of the container stays
    assert patched["metadata"]["annotations"] == {"kubectl.kubernetes.io/last-applied-configuration": "{}"}
    assert client.get(f"{PODS}/echo").json() == patched


def test_strategic_merge_patch_merges_containers_by_name(client: TestClient) -> None:
    containers = [{"name": "a", "image": "busybox:1"}, {"name": "b", "image": "busybox:1"}]
    create(client, spec={"containers": containers})
    response = patch(client, f"{PODS}/echo", {"spec": {"containers": [{"name": "b", "image": "busybox:2"}]}}, SMP)
    assert response.status_code == 200, response.text
    assert [(c["name"], c["image"]) for c in response.json()["spec"]["containers"]] == [("a", "busybox:1"), ("b", "busybox:2")]


def test_merge_patch_sets_and_removes_labels(client: TestClient) -> None:
    create(client, metadata={"labels": {"app": "echo", "old": "yes"}})
    response = patch(client, f"{PODS}/echo", {"metadata": {"labels": {"tier": "front", "old": None}}}, MERGE)
    assert response.status_code == 200
    assert response.json()["metadata"]["labels"] == {"app": "echo", "tier": "front"}


def test_json_patch_adds_a_label(client: TestClient) -> None:
    create(client, metadata={"labels": {"app": "echo"}})
    operations = [{"op": "add", "path": "/metadata/labels/tier", "value": "front"}]
    response = patch(client, f"{PODS}/echo", operations, JSON_PATCH)
    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["labels"] == {"app": "echo", "tier": "front"}


def test_json_patch_with_a_failing_test_is_422_and_changes_nothing(client: TestClient) -> None:
    before = create(client, metadata={"labels": {"app": "echo"}})
    operations = [
        {"op": "add", "path": "/metadata/labels/tier", "value": "front"},
        {"op": "test", "path": "/metadata/labels/app", "value": "other"},
    ]
    message = "the server rejected our request due to an error in our request"  # NewGenericServerResponse
    assert_status(patch(client, f"{PODS}/echo", operations, JSON_PATCH), 422, "Invalid", message)
    assert client.get(f"{PODS}/echo").json() == before


def test_json_patch_that_is_not_a_list_is_400(client: TestClient) -> None:
    create(client)
    assert_status(patch(client, f"{PODS}/echo", {"op": "add"}, JSON_PATCH), 400, "BadRequest")


def test_apply_patch_creates_then_updates(client: TestClient) -> None:
    url = f"{PODS}/echo?fieldManager=kubectl&fieldValidation=Strict&force=false"
    first = patch(client, url, pod(metadata={"labels": {"v": "1"}}), APPLY)
    assert first.status_code == 201, first.text
    assert first.json()["status"]["phase"] == "Pending"
    manifest = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: echo\n  labels: {v: '2'}\n"
        "spec:\n  containers:\n  - {name: app, image: 'new:3'}\n"
    )
    second = patch(client, url, manifest, APPLY)
    assert second.status_code == 200, second.text
    updated = second.json()
    assert updated["metadata"]["labels"] == {"v": "2"}
    assert updated["spec"]["containers"][0]["image"] == "new:3"
    assert updated["metadata"]["uid"] == first.json()["metadata"]["uid"]


def test_apply_patch_creating_another_name_is_400(client: TestClient, store: Store) -> None:
    assert_status(patch(client, f"{PODS}/echo?fieldManager=test", pod("other"), APPLY), 400, "BadRequest")
    assert store.list("Pod")[0] == []


@pytest.mark.parametrize("validation", ["Strict", "Ignore"])
def test_apply_patch_refuses_unknown_fields_whatever_the_validation(client: TestClient, store: Store, validation: str) -> None:
    url = f"{PODS}/echo?fieldManager=test&fieldValidation={validation}"
    response = patch(client, url, _with_typo(), APPLY)
    assert response.status_code == 500
    assert response.json()["message"] == (
        'failed to create typed patch object (/echo; /v1, Kind=Pod): .spec.containers[name="app"].readinesProbe: '
        "field not declared in schema"
    )
    assert store.list("Pod")[0] == []


def test_patch_with_an_unknown_field(client: TestClient) -> None:
    create(client)
    body = {"spec": {"containers": [{"name": "app", "readinesProbe": {"periodSeconds": 5}}]}}
    status = assert_status(patch(client, f"{PODS}/echo?fieldValidation=Strict", body, SMP), 422, "Invalid")
    assert [(c["field"], c["reason"]) for c in status["details"]["causes"]] == [("patch", "FieldValueInvalid")]
    assert "kind" not in status["details"]
    assert status["message"] == (
        ' "" is invalid: patch: Invalid value: "map[spec:map[containers:[map[name:app readinesProbe:map[periodSeconds:5]]]]]": '
        f"strict decoding error: {UNKNOWN}"
    )
    response = patch(client, f"{PODS}/echo?fieldValidation=Warn", {"metadata": {"labels": {"a": "b"}, "bogus": 1}}, MERGE)
    assert response.status_code == 200
    assert response.headers["warning"] == '299 - "unknown field \\"metadata.bogus\\""'


def test_patch_of_a_missing_pod_is_404(client: TestClient) -> None:
    assert_status(patch(client, f"{PODS}/x", {"metadata": {"labels": {"a": "b"}}}, MERGE), 404, "NotFound", 'pods "x" not found')


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "application/yaml"])
def test_patch_with_an_unsupported_content_type_is_415(client: TestClient, content_type: str) -> None:
    create(client)
    status = assert_status(patch(client, f"{PODS}/echo", {"metadata": {}}, content_type), 415, "UnsupportedMediaType")
    assert "application/strategic-merge-patch+json" in status["message"]


def test_patch_content_type_parameters_are_ignored(client: TestClient) -> None:
    create(client)
    response = patch(client, f"{PODS}/echo", {"metadata": {"labels": {"a": "b"}}}, f"{MERGE}; charset=utf-8")
    assert response.status_code == 200


# --- pods: status and binding -------------------------------------------------------------------------------------


def test_status_get(client: TestClient) -> None:
    created = create(client)
    assert client.get(f"{PODS}/echo/status").json() == created


def test_status_put_changes_only_the_status(client: TestClient) -> None:
    current = create(client)
    current["status"] = {"phase": "Running", "podIP": "10.1.0.5", "qosClass": "BestEffort"}
    current["metadata"]["labels"] = {"sneaky": "yes"}
    current["spec"]["restartPolicy"] = "Never"
    response = client.put(f"{PODS}/echo/status", json=current)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["status"]["phase"] == "Running"
    assert updated["status"]["podIP"] == "10.1.0.5"
    assert "labels" not in updated["metadata"]
    assert updated["spec"]["restartPolicy"] == "Always"


def test_status_put_with_a_stale_resource_version_is_409(client: TestClient) -> None:
    stale = create(client)
    patch(client, f"{PODS}/echo/status", {"status": {"phase": "Running"}}, MERGE)
    stale["status"] = {"phase": "Failed"}
    assert_status(client.put(f"{PODS}/echo/status", json=stale), 409, "Conflict")


def test_status_patch_changes_only_the_status(client: TestClient) -> None:
    create(client)
    body = {"metadata": {"labels": {"sneaky": "yes"}}, "spec": {"restartPolicy": "Never"}, "status": {"phase": "Running"}}
    response = patch(client, f"{PODS}/echo/status", body, MERGE)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["status"]["phase"] == "Running"
    assert updated["status"]["qosClass"] == "BestEffort"
    assert "labels" not in updated["metadata"]
    assert updated["spec"]["restartPolicy"] == "Always"
    assert client.get(f"{PODS}/echo").json() == updated


def test_status_keeps_observed_generations_a_write_leaves_out(client: TestClient) -> None:
    """PodObservedGenerationTracking (GA in 1.35), podStatusStrategy's preserveOldObservedGeneration: a status write
    without observedGeneration (of the pod, or of a condition of the same type) keeps the stored one."""
    create(client)
    conditions = [
        {"type": "PodScheduled", "status": "True", "observedGeneration": 1},
        {"type": "Ready", "status": "False", "observedGeneration": 1},
    ]
    written = patch(client, f"{PODS}/echo/status", {"status": {"observedGeneration": 1, "conditions": conditions}}, MERGE)
    assert written.status_code == 200, written.text
    assert written.json()["status"]["observedGeneration"] == 1
    stale = client.get(f"{PODS}/echo").json()
    stale["status"] = {
        "phase": "Running",
        "observedGeneration": 0,
        "conditions": [{"type": "Ready", "status": "True"}, {"type": "Initialized", "status": "True"}],
    }
    status = client.put(f"{PODS}/echo/status", json=stale).json()["status"]
    assert status["observedGeneration"] == 1
    assert status["conditions"] == [
        {"type": "Ready", "status": "True", "observedGeneration": 1},
        {"type": "Initialized", "status": "True"},
    ]
    newer = {"status": {"observedGeneration": 2, "conditions": [{"type": "Ready", "status": "True", "observedGeneration": 2}]}}
    status = patch(client, f"{PODS}/echo/status", newer, MERGE).json()["status"]
    assert (status["observedGeneration"], status["conditions"][0]["observedGeneration"]) == (2, 2)


def test_generation_is_one_on_create_and_binding_keeps_it(client: TestClient) -> None:
    """PrepareForCreate sets metadata.generation to 1 whatever the body says; pods/binding writes spec.nodeName
    outside the pod strategy, so a scheduled pod is still at generation 1."""
    assert create(client, metadata={"generation": 7})["metadata"]["generation"] == 1
    bind(client, "echo")
    assert client.get(f"{PODS}/echo").json()["metadata"]["generation"] == 1


def test_status_of_a_missing_pod_is_404(client: TestClient) -> None:
    assert_status(client.get(f"{PODS}/x/status"), 404, "NotFound")
    assert_status(patch(client, f"{PODS}/x/status", {"status": {}}, MERGE), 404, "NotFound")


def test_binding_assigns_the_node_once(client: TestClient) -> None:
    create(client)
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "echo"}, "target": {"kind": "Node", "name": NODE}}
    response = client.post(f"{PODS}/echo/binding", json=binding)
    assert response.status_code == 201
    assert response.json()["status"] == "Success"
    bound = client.get(f"{PODS}/echo").json()
    assert bound["spec"]["nodeName"] == NODE
    scheduled = [c for c in bound["status"]["conditions"] if c["type"] == "PodScheduled"]
    assert len(scheduled) == 1
    assert scheduled[0]["status"] == "True"
    assert scheduled[0]["lastTransitionTime"] == format_time(NOW)
    again = client.post(f"{PODS}/echo/binding", json=binding)
    status = assert_status(again, 409, "Conflict")
    assert NODE in status["message"]


def test_binding_needs_a_target_and_a_pod(client: TestClient) -> None:
    create(client)
    assert_status(client.post(f"{PODS}/echo/binding", json={"target": {}}), 400, "BadRequest")
    assert_status(client.post(f"{PODS}/x/binding", json={"target": {"name": NODE}}), 404, "NotFound")


# --- pods: delete -------------------------------------------------------------------------------------------------


def test_delete_of_an_unscheduled_pod_removes_it_at_once(client: TestClient) -> None:
    created = create(client)
    response = client.request("DELETE", f"{PODS}/echo", json={"propagationPolicy": "Background"})
    assert response.status_code == 200
    assert response.json()["metadata"]["uid"] == created["metadata"]["uid"]
    assert_status(client.get(f"{PODS}/echo"), 404, "NotFound")


@pytest.mark.parametrize(
    ("query", "options", "grace"),
    [
        ("", {"propagationPolicy": "Background"}, 30),
        ("?gracePeriodSeconds=5", {}, 5),
        ("", {"gracePeriodSeconds": 7}, 7),
    ],
)
def test_delete_of_a_bound_pod_marks_it(client: TestClient, query: str, options: Json, grace: int) -> None:
    create(client)
    bind(client, "echo")
    response = client.request("DELETE", f"{PODS}/echo{query}", json=options)
    assert response.status_code == 200, response.text
    marked = response.json()
    assert marked["metadata"]["deletionGracePeriodSeconds"] == grace
    assert marked["metadata"]["deletionTimestamp"] == format_time(NOW + timedelta(seconds=grace))
    assert client.get(f"{PODS}/echo").json() == marked


def test_delete_uses_the_pods_termination_grace_period(client: TestClient) -> None:
    create(client, spec={"terminationGracePeriodSeconds": 12})
    bind(client, "echo")
    assert client.delete(f"{PODS}/echo").json()["metadata"]["deletionGracePeriodSeconds"] == 12


def test_the_first_graceful_delete_bumps_the_generation(client: TestClient) -> None:
    """rest.BeforeDelete: setting the deletionTimestamp is a generation bump; shortening the grace period is not."""
    create(client)
    bind(client, "echo")
    assert client.get(f"{PODS}/echo").json()["metadata"]["generation"] == 1
    assert client.delete(f"{PODS}/echo?gracePeriodSeconds=10").json()["metadata"]["generation"] == 2
    assert client.delete(f"{PODS}/echo?gracePeriodSeconds=3").json()["metadata"]["generation"] == 2


def test_a_second_delete_only_shortens_the_grace_period(client: TestClient) -> None:
    create(client)
    bind(client, "echo")
    client.delete(f"{PODS}/echo?gracePeriodSeconds=10")
    assert client.delete(f"{PODS}/echo?gracePeriodSeconds=20").json()["metadata"]["deletionGracePeriodSeconds"] == 10
    assert client.delete(f"{PODS}/echo?gracePeriodSeconds=3").json()["metadata"]["deletionGracePeriodSeconds"] == 3


def test_delete_with_grace_zero_removes_a_bound_pod_at_once(client: TestClient) -> None:
    create(client)
    bind(client, "echo")
    assert client.request("DELETE", f"{PODS}/echo", json={"gracePeriodSeconds": 0}).status_code == 200
    assert_status(client.get(f"{PODS}/echo"), 404, "NotFound")


def test_delete_of_a_finished_bound_pod_removes_it_at_once(client: TestClient) -> None:
    create(client)
    bind(client, "echo")
    patch(client, f"{PODS}/echo/status", {"status": {"phase": "Succeeded"}}, MERGE)
    assert client.delete(f"{PODS}/echo").status_code == 200
    assert_status(client.get(f"{PODS}/echo"), 404, "NotFound")


@pytest.mark.parametrize("bound", [False, True])
def test_delete_with_a_wrong_uid_precondition_is_409(client: TestClient, bound: bool) -> None:
    created = create(client)
    if bound:
        bind(client, "echo")
    response = client.request("DELETE", f"{PODS}/echo", json={"preconditions": {"uid": "not-the-uid"}})
    assert_status(response, 409, "Conflict")
    after = client.get(f"{PODS}/echo").json()
    assert "deletionTimestamp" not in after["metadata"]
    response = client.request("DELETE", f"{PODS}/echo", json={"preconditions": {"uid": created["metadata"]["uid"]}})
    assert response.status_code == 200


@pytest.mark.parametrize("bound", [False, True])
def test_delete_with_a_stale_resource_version_precondition_is_409(client: TestClient, bound: bool) -> None:
    created = create(client)
    if bound:
        bind(client, "echo")
    stale = created["metadata"]["resourceVersion"] if bound else "1"
    response = client.request("DELETE", f"{PODS}/echo", json={"preconditions": {"resourceVersion": stale}})
    assert_status(response, 409, "Conflict")
    assert "deletionTimestamp" not in client.get(f"{PODS}/echo").json()["metadata"]


def test_delete_of_a_missing_pod_is_404(client: TestClient) -> None:
    assert_status(client.delete(f"{PODS}/x"), 404, "NotFound", 'pods "x" not found')


@pytest.mark.parametrize(("query", "body"), [("?gracePeriodSeconds=soon", b""), ("", b"[1]"), ("", b'"now"')])
def test_delete_with_bad_options_is_400(client: TestClient, query: str, body: bytes) -> None:
    create(client)
    assert_status(client.request("DELETE", f"{PODS}/echo{query}", content=body), 400, "BadRequest")
    assert client.get(f"{PODS}/echo").status_code == 200


# --- tables -------------------------------------------------------------------------------------------------------


def table(client: TestClient, url: str, **params: str) -> Json:
    response = client.get(url, headers={"Accept": TABLE}, params=params)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    assert body["kind"] == "Table"
    assert body["apiVersion"] == "meta.k8s.io/v1"
    return body


def columns(body: Json, priority: int) -> list[str]:
    return [c["name"] for c in body["columnDefinitions"] if c["priority"] == priority]


def test_pods_as_a_table(client: TestClient) -> None:
    create(client, "a", metadata={"labels": {"app": "a"}})
    create(client, "b")
    body = table(client, PODS)
    assert columns(body, 0) == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert columns(body, 1) == ["IP", "Node", "Nominated Node", "Readiness Gates"]
    assert body["metadata"]["resourceVersion"] == client.get(PODS).json()["metadata"]["resourceVersion"]
    assert [row["cells"][:4] for row in body["rows"]] == [["a", "0/1", "Pending", "0"], ["b", "0/1", "Pending", "0"]]
    assert body["rows"][0]["cells"][5:] == ["<none>", "<none>", "<none>", "<none>"]
    row_object = body["rows"][0]["object"]
    assert row_object["kind"] == "PartialObjectMetadata"
    assert row_object["apiVersion"] == "meta.k8s.io/v1"
    assert row_object["metadata"]["labels"] == {"app": "a"}
    assert "spec" not in row_object


def test_a_table_with_the_whole_object(client: TestClient) -> None:
    created = create(client)
    body = table(client, PODS, includeObject="Object")
    assert body["rows"][0]["object"] == created


def test_a_table_of_one_pod_and_a_label_selector(client: TestClient) -> None:
    create(client, "a", metadata={"labels": {"app": "a"}})
    create(client, "b")
    assert [row["cells"][0] for row in table(client, f"{PODS}/b")["rows"]] == ["b"]
    assert [row["cells"][0] for row in table(client, PODS, labelSelector="app=a")["rows"]] == ["a"]


def test_a_bad_include_object_is_400(client: TestClient) -> None:
    create(client)
    assert_status(client.get(PODS, headers={"Accept": TABLE}, params={"includeObject": "Everything"}), 400, "BadRequest")


def test_json_is_the_default(client: TestClient) -> None:
    create(client)
    assert client.get(PODS, headers={"Accept": "application/json"}).json()["kind"] == "PodList"
    assert (
        client.get(f"{PODS}/echo", headers={"Accept": "application/vnd.kubernetes.protobuf,application/json"}).json()["kind"]
        == "Pod"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/api/v1/nodes", ["Name", "Status", "Roles", "Age", "Version"]),
        ("/api/v1/namespaces", ["Name", "Status", "Age"]),
        ("/api/v1/namespaces/default/events", ["Last Seen", "Type", "Reason", "Object", "Message"]),
        ("/api/v1/events", ["Last Seen", "Type", "Reason", "Object", "Message"]),
    ],
)
def test_tables_of_nodes_namespaces_and_events(client: TestClient, url: str, expected: list[str]) -> None:
    client.post("/api/v1/namespaces/default/events", json=event("echo.1", "echo"))
    body = table(client, url)
    assert columns(body, 0) == expected
    assert body["rows"]
    assert all(row["object"]["kind"] == "PartialObjectMetadata" for row in body["rows"])


def test_node_and_namespace_rows(client: TestClient) -> None:
    nodes = table(client, "/api/v1/nodes")
    assert [row["cells"][:3] for row in nodes["rows"]] == [[NODE, "Ready", "<none>"]]
    namespaces = table(client, "/api/v1/namespaces")
    assert [row["cells"][:2] for row in namespaces["rows"]] == [
        ["default", "Active"],
        ["kube-node-lease", "Active"],
        ["kube-public", "Active"],
        ["kube-system", "Active"],
    ]
    assert [row["cells"][0] for row in table(client, f"/api/v1/nodes/{NODE}")["rows"]] == [NODE]


# --- watch --------------------------------------------------------------------------------------------------------


def test_watch_without_a_resource_version_sends_existing_objects_then_changes(
    client: TestClient, store: Store, registry: Registry
) -> None:
    create(client, "a")
    create(client, "b")

    def changes() -> None:
        store.update_with("Pod", "default", "a", lambda p: {**p, "metadata": {**p["metadata"], "labels": {"x": "1"}}})
        store.delete("Pod", "default", "b")
        store.create({**pod("c"), "metadata": {"name": "c", "namespace": "default"}})

    lines = watch_while(client, store, f"{PODS}?watch=true&timeoutSeconds=1", changes)
    assert events_of(lines) == [("ADDED", "a"), ("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b"), ("ADDED", "c")]
    assert lines[2]["object"]["metadata"]["labels"] == {"x": "1"}
    versions = [int(line["object"]["metadata"]["resourceVersion"]) for line in lines[2:]]
    assert versions == sorted(versions)


def test_watch_from_a_list_resource_version_sends_only_later_changes(client: TestClient) -> None:
    create(client, "a")
    rv = client.get(PODS).json()["metadata"]["resourceVersion"]
    create(client, "b")
    patch(client, f"{PODS}/a", {"metadata": {"labels": {"x": "1"}}}, MERGE)
    client.delete(f"{PODS}/b")
    response = client.get(PODS, params={"watch": "true", "resourceVersion": rv, "timeoutSeconds": "1"})
    assert response.headers["content-type"] == "application/json"
    lines = watch_lines(response)
    assert events_of(lines) == [("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b")]
    assert all(int(line["object"]["metadata"]["resourceVersion"]) > int(rv) for line in lines)


def test_a_table_watch_sends_column_definitions_only_first(client: TestClient) -> None:
    create(client, "a")
    rv = client.get(PODS).json()["metadata"]["resourceVersion"]
    create(client, "b")
    patch(client, f"{PODS}/b", {"metadata": {"labels": {"x": "1"}}}, MERGE)
    client.delete(f"{PODS}/b")
    params = {"watch": "true", "resourceVersion": rv, "timeoutSeconds": "1"}
    lines = watch_lines(client.get(PODS, headers={"Accept": TABLE}, params=params))
    assert [line["type"] for line in lines] == ["ADDED", "MODIFIED", "DELETED"]
    tables = [line["object"] for line in lines]
    assert all(t["kind"] == "Table" and [row["cells"][0] for row in t["rows"]] == ["b"] for t in tables)
    assert columns(tables[0], 0) == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert columns(tables[0], 1) == ["IP", "Node", "Nominated Node", "Readiness Gates"]
    assert not tables[1]["columnDefinitions"]
    assert not tables[2]["columnDefinitions"]
    assert tables[1]["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert tables[1]["rows"][0]["object"]["metadata"]["labels"] == {"x": "1"}


def test_a_watch_filtered_by_name_as_client_go_asks(client: TestClient) -> None:
    create(client, "a")
    create(client, "b")
    listing = client.get(PODS, params={"fieldSelector": "metadata.name=a", "limit": "500", "resourceVersion": "0"}).json()
    assert names(listing) == ["a"]
    patch(client, f"{PODS}/a", {"metadata": {"labels": {"x": "1"}}}, MERGE)
    patch(client, f"{PODS}/b", {"metadata": {"labels": {"x": "1"}}}, MERGE)
    client.delete(f"{PODS}/a")
    client.delete(f"{PODS}/b")
    params = {
        "allowWatchBookmarks": "true",
        "fieldSelector": "metadata.name=a",
        "resourceVersion": listing["metadata"]["resourceVersion"],
        "timeoutSeconds": "1",
        "watch": "true",
    }
    assert events_of(watch_lines(client.get(PODS, params=params))) == [("MODIFIED", "a"), ("DELETED", "a")]


def test_a_watch_with_a_label_selector_across_namespaces(client: TestClient) -> None:
    create(client, "a", metadata={"labels": {"app": "x"}})
    create(client, "b", namespace="kube-system", metadata={"labels": {"app": "x"}})
    create(client, "c", namespace="kube-system")
    lines = watch_lines(client.get("/api/v1/pods", params={"watch": "true", "labelSelector": "app=x", "timeoutSeconds": "1"}))
    assert [(line["object"]["metadata"]["namespace"], line["object"]["metadata"]["name"]) for line in lines] == [
        ("default", "a"),
        ("kube-system", "b"),
    ]


def test_a_watch_from_a_resource_version_too_old_is_one_error_event_410(tmp_path: Path) -> None:
    """As the watch cache answers (cacher.go: once the version parsed, errors are an ERROR event, not a status
    code): 200, then one ERROR event carrying the 410 Expired Status; the client lists again."""
    with open_store(tmp_path, history_size=3) as store:
        app = build_app(Registry(store), token=TOKEN)
        with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            for name in ("a", "b", "c", "d"):
                create(client, name)
            lines = watch_lines(client.get(PODS, params={"watch": "true", "resourceVersion": "1"}))
            assert [line["type"] for line in lines] == ["ERROR"]
            status = lines[0]["object"]
            assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")
            assert status["message"].startswith("too old resource version: 1 (")


# --- streaming lists (watch-list), as client-go's reflector asks for them in kubectl 1.37 --------------------------

WATCH_LIST = {"watch": "true", "sendInitialEvents": "true", "resourceVersionMatch": "NotOlderThan", "allowWatchBookmarks": "true"}


def test_a_streaming_list_sends_the_state_then_the_initial_events_end_bookmark(client: TestClient, store: Store) -> None:
    create(client, "a")
    create(client, "b")
    rv = client.get(PODS).json()["metadata"]["resourceVersion"]

    def changes() -> None:
        store.delete("Pod", "default", "a")

    lines = watch_while(client, store, PODS, changes, params={**WATCH_LIST, "timeoutSeconds": "1"})
    assert [line["type"] for line in lines] == ["ADDED", "ADDED", "BOOKMARK", "DELETED"]
    assert events_of([lines[0], lines[1], lines[3]]) == [("ADDED", "a"), ("ADDED", "b"), ("DELETED", "a")]
    mark = lines[2]["object"]
    assert mark == {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": rv, "annotations": {"k8s.io/initial-events-end": "true"}},
    }


def test_a_streaming_list_from_a_resource_version_sends_the_current_state(client: TestClient) -> None:
    create(client, "a")
    rv = client.get(PODS).json()["metadata"]["resourceVersion"]
    create(client, "b")
    client.delete(f"{PODS}/a")
    lines = watch_lines(client.get(PODS, params={**WATCH_LIST, "resourceVersion": rv, "timeoutSeconds": "1"}))
    assert [line["type"] for line in lines] == ["ADDED", "BOOKMARK"]
    assert lines[0]["object"]["metadata"]["name"] == "b"
    assert int(lines[1]["object"]["metadata"]["resourceVersion"]) > int(rv)
    assert lines[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_a_streaming_list_of_nothing_is_just_the_bookmark(client: TestClient) -> None:
    params = {**WATCH_LIST, "fieldSelector": "metadata.name=none", "timeoutSeconds": "1"}
    lines = watch_lines(client.get(PODS, params=params))
    assert [line["type"] for line in lines] == ["BOOKMARK"]


def test_a_watch_that_allows_bookmarks_gets_one_when_nothing_happens(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from minikubelet.apiserver import watchlist

    monkeypatch.setattr(watchlist, "BOOKMARK_SECONDS", 0.2)
    create(client, "a")
    rv = client.get(PODS).json()["metadata"]["resourceVersion"]
    params = {"watch": "true", "allowWatchBookmarks": "true", "resourceVersion": rv, "timeoutSeconds": "1"}
    lines = watch_lines(client.get(PODS, params=params))
    assert lines and {line["type"] for line in lines} == {"BOOKMARK"}
    assert all(line["object"]["metadata"] == {"resourceVersion": rv} for line in lines)
    plain = watch_lines(client.get(PODS, params={"watch": "true", "resourceVersion": rv, "timeoutSeconds": "1"}))
    assert plain == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"watch": "true", "sendInitialEvents": "true"},
            'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
            "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
        ),
        (
            {"watch": "true", "resourceVersionMatch": "NotOlderThan"},
            'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
            "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
        ),
        (
            {"sendInitialEvents": "true"},
            'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list',
        ),
        (
            {"resourceVersionMatch": "Exact"},
            'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
            "resourceVersionMatch is forbidden unless resourceVersion is provided",
        ),
    ],
)
def test_malformed_streaming_list_requests_are_422(client: TestClient, params: dict[str, str], message: str) -> None:
    assert_status(client.get(PODS, params={**params, "timeoutSeconds": "1"}), 422, "Invalid", message)


def test_a_watch_with_a_bad_resource_version_is_400(client: TestClient) -> None:
    assert_status(client.get(PODS, params={"watch": "true", "resourceVersion": "abc"}), 400, "BadRequest")


@pytest.mark.parametrize(
    ("params", "accept"),
    [({"timeoutSeconds": "soon"}, "application/json"), ({"includeObject": "Everything", "timeoutSeconds": "1"}, TABLE)],
)
def test_a_watch_with_bad_parameters_is_400_and_opens_nothing(
    client: TestClient, store: Store, params: dict[str, str], accept: str
) -> None:
    opened: list[Any] = []
    real_watch = store.watch

    def watch(*args: Any, **options: Any) -> Any:
        opened.append(real_watch(*args, **options))
        return opened[-1]

    store.watch = watch  # type: ignore[method-assign]
    try:
        assert_status(client.get(PODS, headers={"Accept": accept}, params={"watch": "true", **params}), 400, "BadRequest")
    finally:
        store.watch = real_watch  # type: ignore[method-assign]
    assert opened == []


def test_watch_of_nodes(client: TestClient) -> None:
    lines = watch_lines(client.get("/api/v1/nodes", params={"watch": "true", "timeoutSeconds": "1"}))
    assert events_of(lines) == [("ADDED", NODE)]


# --- events, nodes, namespaces ------------------------------------------------------------------------------------


def event(name: str, involved: str, uid: str = "uid-1", reason: str = "Scheduled") -> Json:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": "default"},
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": involved, "uid": uid, "apiVersion": "v1"},
        "reason": reason,
        "message": f"about {involved}",
        "type": "Normal",
        "source": {"component": "default-scheduler"},
        "count": 1,
        "firstTimestamp": format_time(NOW),
        "lastTimestamp": format_time(NOW),
    }


def test_events_create_and_list_by_involved_object(client: TestClient) -> None:
    for name, involved, uid in (("echo.1", "echo", "u1"), ("echo.2", "echo", "u2"), ("other.1", "other", "u3")):
        response = client.post("/api/v1/namespaces/default/events", json=event(name, involved, uid))
        assert response.status_code == 201, response.text
    url = "/api/v1/namespaces/default/events"
    listing = client.get(url, params={"fieldSelector": "involvedObject.name=echo"}).json()
    assert listing["kind"] == "EventList"
    assert names(listing) == ["echo.1", "echo.2"]
    describe = "involvedObject.name=echo,involvedObject.namespace=default,involvedObject.uid=u2"
    assert names(client.get(url, params={"fieldSelector": describe, "limit": "500"}).json()) == ["echo.2"]
    assert names(client.get("/api/v1/events", params={"fieldSelector": "involvedObject.name=other"}).json()) == ["other.1"]
    got = client.get(f"{url}/echo.1").json()
    assert got["source"] == {"component": "default-scheduler"}
    assert got["count"] == 1


def test_an_event_in_a_missing_namespace_is_404(client: TestClient) -> None:
    body = event("x.1", "x")
    body["metadata"]["namespace"] = "nope"
    assert_status(client.post("/api/v1/namespaces/nope/events", json=body), 404, "NotFound", 'namespaces "nope" not found')


def test_nodes_get_and_list(client: TestClient) -> None:
    listing = client.get("/api/v1/nodes").json()
    assert listing["kind"] == "NodeList"
    assert names(listing) == [NODE]
    node = client.get(f"/api/v1/nodes/{NODE}").json()
    assert node["kind"] == "Node"
    assert "namespace" not in node["metadata"]
    assert node["status"]["allocatable"]["pods"] == "110"
    assert_status(client.get("/api/v1/nodes/nope"), 404, "NotFound", 'nodes "nope" not found')


def test_namespaces_get_list_and_create(client: TestClient) -> None:
    assert names(client.get("/api/v1/namespaces").json()) == ["default", "kube-node-lease", "kube-public", "kube-system"]
    assert client.get("/api/v1/namespaces/default").json()["status"] == {"phase": "Active"}
    response = client.post("/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    assert response.status_code == 201
    assert response.json()["status"] == {"phase": "Active"}
    create(client, "a", namespace="team")
    assert names(client.get("/api/v1/namespaces/team/pods").json()) == ["a"]
    bad = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "Not_A_Label"}}
    assert_status(client.post("/api/v1/namespaces", json=bad), 422, "Invalid")
    assert_status(client.get("/api/v1/namespaces/nope"), 404, "NotFound", 'namespaces "nope" not found')
