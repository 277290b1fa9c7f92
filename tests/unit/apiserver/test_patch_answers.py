"""What the API server answers to writes, as kubectl 1.32 needs it to print a real cluster's messages: patch errors
(400, 422 without a cause, 500), Go's renderings of values, field validation on patches (Warn by default), pod
update validation, server-side apply (managers, conflicts, pruning) and patches racing the kubelet."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from builders import container, make_pod
from starlette.exceptions import StarletteDeprecationWarning

from minikubelet.apiserver import patching
from minikubelet.apiserver.app import build_app
from minikubelet.apiserver.patching import UnprocessablePatchError, UntypedServerError
from minikubelet.apiserver.registry import Registry
from minikubelet.errors import BadRequestError
from minikubelet.store import Store

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKEN = "t0ken"
PODS = "/api/v1/namespaces/default/pods"
SMP = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
REJECTED = "the server rejected our request due to an error in our request"
Json = dict[str, Any]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "state.db") as opened:
        opened.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}, "status": {"phase": "Active"}})
        yield opened


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    registry = Registry(store, clock=lambda: datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC))
    headers = {"Authorization": f"Bearer {TOKEN}", "User-Agent": "kubectl/v1.32.4 (linux/amd64) kubernetes/abc"}
    with TestClient(build_app(registry, token=TOKEN), headers=headers) as opened:
        yield opened


def create(client: TestClient, **overrides: Any) -> Json:
    response = client.post(f"{PODS}?fieldManager=kubectl-create", json=make_pod(metadata={"name": "echo"}, **overrides))
    assert response.status_code == 201, response.text
    body: Json = response.json()
    return body


def patch(client: TestClient, query: str, body: Any, content_type: str) -> Any:
    return client.patch(f"{PODS}/echo{query}", content=json.dumps(body), headers={"Content-Type": content_type})


def status_of(response: Any, code: int) -> Json:
    assert response.status_code == code, response.text
    body: Json = response.json()
    assert (body["kind"], body["status"], body["code"]) == ("Status", "Failure", code)
    return body


def managers(obj: Json) -> list[tuple[str, str]]:
    return [(e["manager"], e["operation"]) for e in obj["metadata"].get("managedFields", [])]


# --- patching.apply: the patch handler's errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("patch_type", "body", "message"),
    [
        (
            "json",
            {"op": "add"},
            "error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp",
        ),
        ("json", ["add"], "error decoding patch: json: cannot unmarshal string into Go value of type handlers.jsonPatchOp"),
        ("merge", [1], "error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}"),
        ("strategic", "x", "json: cannot unmarshal string into Go value of type map[string]interface {}"),
        ("strategic", True, "json: cannot unmarshal bool into Go value of type map[string]interface {}"),
        ("apply", 3, "error decoding YAML: json: cannot unmarshal number into Go value of type map[string]interface {}"),
    ],
)
def test_a_body_of_the_wrong_json_type_is_400(patch_type: patching.PatchType, body: Any, message: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        patching.apply({"metadata": {}}, patch_type, body, "Pod")
    assert caught.value.message == message


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "remove", "path": "/metadata/labels/nope"}],
        [{"op": "test", "path": "/metadata/name", "value": "other"}],
        [{"op": "frobnicate", "path": "/metadata"}],
    ],
)
def test_a_json_patch_that_does_not_apply_is_422_without_its_cause(operations: list[Any]) -> None:
    with pytest.raises(UnprocessablePatchError) as caught:
        patching.apply({"metadata": {"name": "echo"}}, "json", operations, "Pod")
    assert caught.value.status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": REJECTED,
        "reason": "Invalid",
        "code": 422,
        "details": {},
    }


def test_strategic_merge_patch_errors_have_the_api_servers_codes() -> None:
    live = {"spec": {"containers": [container()]}, "metadata": {"finalizers": ["a"]}}
    with pytest.raises(UntypedServerError) as missing_key:
        patching.apply(live, "strategic", {"spec": {"containers": [{"image": "x"}]}}, "Pod")
    assert missing_key.value.status()["message"] == "map: map[image:x] does not contain declared merge key: name"
    assert "reason" not in missing_key.value.status()
    assert missing_key.value.code == 500
    with pytest.raises(UnprocessablePatchError):
        patching.apply(live, "strategic", {"metadata": {"finalizers": [["b"]]}}, "Pod")
    with pytest.raises(BadRequestError, match="setElementOrder"):
        patching.apply(live, "strategic", {"spec": {"$setElementOrder/containers": {"name": "a"}}}, "Pod")


# --- Go's renderings -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        ({"b": 1, "a": [1, "x", None, True]}, "map[a:[1 x <nil> true] b:1]"),
        (
            {"$setElementOrder/containers": [{"name": "app"}], "containers": []},
            "map[$setElementOrder/containers:[map[name:app]] containers:[]]",
        ),
        ('say "hi"', 'say "hi"'),
        (0.5, "0.5"),
        (-2.0, "-2"),
        (123456.0, "123456"),
        (1000000.0, "1e+06"),
        (1234567.5, "1.2345675e+06"),
        (0.0001, "0.0001"),
        (0.00001234, "1.234e-05"),
        (0.0, "0"),
    ],
)
def test_go_sprint(value: Any, printed: str) -> None:
    assert patching.go_sprint(value) == printed


def test_go_json_sorts_keys_and_escapes_html() -> None:
    assert patching.go_json({"b": "<&>", "a": {"d": 1, "c": [True]}}) == '{"a":{"c":[true],"d":1},"b":"\\u003c\\u0026\\u003e"}'


@pytest.mark.parametrize(
    ("path", "ssa"),
    [
        ("spec.containers[1].readinesProbe", '.spec.containers[name="side"].readinesProbe'),
        ("spec.containers[0].ports[0].bogus", '.spec.containers[name="app"].ports[containerPort=80,protocol="TCP"].bogus'),
        ("spec.containers[0].args[1]", '.spec.containers[name="app"].args[1]'),
        ("metadata.finalizers[0]", '.metadata.finalizers[="a/b"]'),
        ("spec.bogus", ".spec.bogus"),
    ],
)
def test_ssa_path(path: str, ssa: str) -> None:
    obj = {
        "metadata": {"finalizers": ["a/b"]},
        "spec": {"containers": [container(ports=[{"containerPort": 80}], args=["a", "b"]), container("side")]},
    }
    assert patching.ssa_path(obj, path) == ssa


# --- over HTTP -----------------------------------------------------------------------------------------------------


def test_a_patch_with_an_unknown_field_warns_by_default_and_quotes_the_patch_when_strict(client: TestClient) -> None:
    create(client)
    warned = patch(client, "", {"spec": {"bogus": 1}}, SMP)
    assert warned.status_code == 200
    assert warned.headers["warning"] == '299 - "unknown field \\"spec.bogus\\""'
    strict = status_of(patch(client, "?fieldValidation=Strict", {"spec": {"bogus": 1}}, SMP), 422)
    assert (
        strict["message"]
        == ' "" is invalid: patch: Invalid value: "map[spec:map[bogus:1]]": strict decoding error: unknown field "spec.bogus"'
    )
    merge = status_of(patch(client, "?fieldValidation=Strict", {"spec": {"bogus": 1}}, MERGE), 422)
    # A merge patch quotes the whole patched object, as Go's json.Marshal writes it.
    assert merge["details"]["causes"][0]["message"].startswith('Invalid value: "{\\"apiVersion\\":\\"v1\\",\\"kind\\":\\"Pod\\",')


def test_a_json_patch_that_does_not_apply_is_422_over_http(client: TestClient) -> None:
    create(client)
    failed = status_of(patch(client, "", [{"op": "remove", "path": "/metadata/labels/nope"}], JSON_PATCH), 422)
    assert (failed["reason"], failed["message"], failed["details"]) == ("Invalid", REJECTED, {})


def test_a_pod_update_keeps_the_spec_immutable(client: TestClient) -> None:
    create(client, spec={"containers": [container()]})
    added = status_of(patch(client, "", {"spec": {"containers": [container("side")]}}, SMP), 422)
    assert added["message"] == 'Pod "echo" is invalid: spec.containers: Forbidden: pod updates may not add or remove containers'
    grace = status_of(patch(client, "", {"spec": {"terminationGracePeriodSeconds": 5}}, SMP), 422)
    assert grace["details"]["causes"][0]["field"] == "spec"
    assert patch(client, "", {"spec": {"activeDeadlineSeconds": 30}}, SMP).status_code == 200
    lowered = patch(
        client, "", {"spec": {"activeDeadlineSeconds": 10, "containers": [{"name": "app", "image": "busybox:2"}]}}, SMP
    )
    assert lowered.status_code == 200, lowered.text


def test_a_patch_applies_to_the_latest_object_even_if_the_status_changed_meanwhile(client: TestClient, store: Store) -> None:
    """GuaranteedUpdate: a kubelet status write between the GET and the write is no conflict for a patch."""
    create(client)
    real_update_with = store.update_with
    raced = False

    def racing_update_with(kind: str, namespace: str, name: str, mutate: Any) -> Any:
        nonlocal raced
        if not raced:
            raced = True
            real_update_with(kind, namespace, name, lambda pod: {**pod, "status": {**pod["status"], "phase": "Running"}})
        return real_update_with(kind, namespace, name, mutate)

    store.update_with = racing_update_with  # type: ignore[method-assign]
    response = patch(client, "", {"metadata": {"labels": {"x": "y"}}}, MERGE)
    assert response.status_code == 200, response.text
    assert (response.json()["metadata"]["labels"], response.json()["status"]["phase"]) == ({"x": "y"}, "Running")
    stale = patch(client, "", {"metadata": {"resourceVersion": "1", "labels": {"x": "z"}}}, MERGE)
    assert status_of(stale, 409)["reason"] == "Conflict"  # a resourceVersion in the patch is a precondition


def test_writes_record_their_field_managers(client: TestClient) -> None:
    created = create(client)
    assert managers(created) == [("kubectl-create", "Update")]
    labelled = patch(client, "?fieldManager=kubectl-label", {"metadata": {"labels": {"x": "y"}}}, MERGE).json()
    assert managers(labelled) == [("kubectl-create", "Update"), ("kubectl-label", "Update")]
    # Without a fieldManager, the client's name (User-Agent up to "/") manages the fields it changes.
    annotated = patch(client, "", {"metadata": {"annotations": {"a": "b"}}}, MERGE).json()
    assert ("kubectl", "Update") in managers(annotated)


def test_server_side_apply_over_http(client: TestClient) -> None:
    labels = {"app": "echo", "tier": "web"}
    applied = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "echo", "labels": labels},
        "spec": {"containers": [container()]},
    }
    no_manager = status_of(patch(client, "", applied, APPLY), 422)
    assert (
        no_manager["message"]
        == 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'
    )
    assert patch(client, "?fieldManager=kubectl", applied, APPLY).status_code == 201
    assert patch(client, "?fieldManager=kubectl-label", {"metadata": {"labels": {"app": "mine"}}}, MERGE).status_code == 200
    conflict = status_of(patch(client, "?fieldManager=kubectl&force=false", applied, APPLY), 409)
    assert conflict["message"] == 'Apply failed with 1 conflict: conflict with "kubectl-label" using v1: .metadata.labels.app'
    del labels["tier"]
    forced = patch(client, "?fieldManager=kubectl&force=true", applied, APPLY)
    assert forced.status_code == 200, forced.text
    assert forced.json()["metadata"]["labels"] == {"app": "echo"}  # taken over; tier, no longer applied, is gone
    assert managers(forced.json()) == [("kubectl", "Apply")]
