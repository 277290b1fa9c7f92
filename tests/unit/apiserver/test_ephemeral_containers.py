"""pods/ephemeralcontainers over HTTP, in process: what `kubectl debug` sends, and upstream's rules for it.

kubectl 1.37's debug GETs the pod, then PATCHes the subresource with a strategic merge patch made by
CreateTwoWayMergePatch (`$setElementOrder/ephemeralContainers` and the new container). Only
spec.ephemeralContainers may change through it (dropNonEphemeralContainerUpdates), existing ones never
(ValidatePodEphemeralContainersUpdate), each is checked by validateEphemeralContainers, and a pod is never
created with one (ValidatePodCreate).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from builders import make_pod
from starlette.exceptions import StarletteDeprecationWarning

from minikubelet.api import Pod
from minikubelet.api.validation import validate_pod_create, validate_pod_ephemeral_containers_update
from minikubelet.apiserver.admission import PodSecurityPolicy
from minikubelet.apiserver.app import build_app
from minikubelet.apiserver.registry import Registry
from minikubelet.store import Store

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKEN = "test-token"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
PODS = "/api/v1/namespaces/default/pods"
SUB = f"{PODS}/echo/ephemeralcontainers"
SMP = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
BUSYBOX = "minikubelet.local/busybox:1.35"
Json = dict[str, Any]

#: What kubectl debug --image=busybox --target=app -it -- sh adds (its general profile adds SYS_PTRACE).
DEBUGGER: Json = {
    "command": ["sh"],
    "image": BUSYBOX,
    "name": "debugger-abcde",
    "resources": {},
    "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}},
    "stdin": True,
    "targetContainerName": "app",
    "terminationMessagePolicy": "File",
    "tty": True,
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "state.db") as opened:
        opened.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}, "status": {"phase": "Active"}})
        yield opened


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    registry = Registry(store, clock=lambda: NOW)
    with TestClient(build_app(registry, token=TOKEN), headers={"Authorization": f"Bearer {TOKEN}"}) as opened:
        created = opened.post(PODS, json=make_pod(metadata={"name": "echo", "labels": {"app": "echo"}}))
        assert created.status_code == 201, created.text
        yield opened


def patch(client: TestClient, body: Any, content_type: str = SMP, url: str = SUB) -> Any:
    return client.patch(url, content=json.dumps(body), headers={"Content-Type": content_type, "User-Agent": "kubectl/v1.37.1"})


def debug(client: TestClient, container: Json | None = None) -> Any:
    """The patch kubectl debug sends, adding `container` (DEBUGGER by default) after the pod's existing ones."""
    container = container or DEBUGGER
    existing = [c["name"] for c in client.get(f"{PODS}/echo").json()["spec"].get("ephemeralContainers", [])]
    order = [{"name": name} for name in [*existing, container["name"]]]
    return patch(client, {"spec": {"$setElementOrder/ephemeralContainers": order, "ephemeralContainers": [container]}})


def invalid(response: Any) -> tuple[str, list[Json]]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["kind"], body["reason"], body["details"]["kind"]) == ("Status", "Invalid", "Pod")
    return body["message"], body["details"]["causes"]


# --- the subresource ------------------------------------------------------------------------------------------------


def test_kubectl_debugs_patch_adds_the_container_with_the_defaults(client: TestClient) -> None:
    before = client.get(f"{PODS}/echo").json()
    response = debug(client)
    assert response.status_code == 200, response.text
    pod = response.json()
    [added] = pod["spec"]["ephemeralContainers"]
    assert added == {
        "name": "debugger-abcde",
        "image": BUSYBOX,
        "imagePullPolicy": "IfNotPresent",
        "command": ["sh"],
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}},
        "stdin": True,
        "tty": True,
        "targetContainerName": "app",
    }
    assert pod["metadata"]["generation"] == before["metadata"]["generation"] + 1
    [entry] = [e for e in pod["metadata"]["managedFields"] if e.get("subresource")]
    assert (entry["manager"], entry["operation"], entry["subresource"]) == ("kubectl", "Update", "ephemeralcontainers")
    assert list(entry["fieldsV1"]["f:spec"]) == ["f:ephemeralContainers"]
    assert list(entry["fieldsV1"]["f:spec"]["f:ephemeralContainers"]) == ['k:{"name":"debugger-abcde"}']
    assert client.get(SUB).json() == pod  # GET answers the pod
    assert client.get(f"{PODS}/echo").json() == pod


def test_a_second_debug_session_keeps_the_first(client: TestClient) -> None:
    assert debug(client).status_code == 200
    second = {**DEBUGGER, "name": "debugger-fghij", "targetContainerName": ""}
    response = debug(client, {k: v for k, v in second.items() if v != ""})
    assert response.status_code == 200, response.text
    assert [c["name"] for c in response.json()["spec"]["ephemeralContainers"]] == ["debugger-abcde", "debugger-fghij"]


def test_only_ephemeral_containers_change_through_the_subresource(client: TestClient) -> None:
    body = {
        "metadata": {"labels": {"app": "other", "new": "x"}},
        "spec": {"containers": [{"name": "app", "image": "other:1"}], "ephemeralContainers": [DEBUGGER]},
        "status": {"phase": "Failed"},
    }
    pod = patch(client, body).json()
    assert pod["metadata"]["labels"] == {"app": "echo"}
    assert pod["spec"]["containers"][0]["image"] == "minikubelet.local/echo:v1"
    assert pod["status"]["phase"] == "Pending"
    assert [c["name"] for c in pod["spec"]["ephemeralContainers"]] == ["debugger-abcde"]


def test_put_merge_and_json_patches_work_too(client: TestClient) -> None:
    current = client.get(f"{PODS}/echo").json()
    current["spec"]["ephemeralContainers"] = [{"name": "one", "image": BUSYBOX}]
    response = client.put(SUB, json=current)
    assert response.status_code == 200, response.text
    merged = patch(
        client, {"spec": {"ephemeralContainers": [{"name": "one", "image": BUSYBOX}, {"name": "two", "image": BUSYBOX}]}}, MERGE
    )
    assert merged.status_code == 200, merged.text
    operation = [{"op": "add", "path": "/spec/ephemeralContainers/-", "value": {"name": "three", "image": BUSYBOX}}]
    added = patch(client, operation, JSON_PATCH)
    assert added.status_code == 200, added.text
    assert [c["name"] for c in added.json()["spec"]["ephemeralContainers"]] == ["one", "two", "three"]


def test_a_stale_put_is_a_conflict(client: TestClient) -> None:
    stale = client.get(f"{PODS}/echo").json()
    assert debug(client).status_code == 200
    stale["spec"]["ephemeralContainers"] = [DEBUGGER, {"name": "x", "image": BUSYBOX}]
    response = client.put(SUB, json=stale)
    assert response.status_code == 409, response.text
    assert response.json()["reason"] == "Conflict"


def test_existing_ephemeral_containers_may_not_be_changed_or_removed(client: TestClient) -> None:
    assert debug(client).status_code == 200
    changed = [{"op": "replace", "path": "/spec/ephemeralContainers/0/image", "value": "busybox:2"}]
    message, causes = invalid(patch(client, changed, JSON_PATCH))
    assert message.startswith(
        'Pod "echo" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger-abcde" may not be '
        "changed\n"
    )
    assert [c["field"] for c in causes] == ["spec.ephemeralContainers"]
    message, _ = invalid(patch(client, [{"op": "remove", "path": "/spec/ephemeralContainers/0"}], JSON_PATCH))
    assert message == (
        'Pod "echo" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger-abcde" may not be '
        "removed\n"
    )


def test_each_ephemeral_container_is_validated(client: TestClient) -> None:
    container = {
        "name": "app",
        "image": BUSYBOX,
        "targetContainerName": "nope",
        "ports": [{"containerPort": 80}],
        "resources": {"limits": {"cpu": "1"}},
        "restartPolicy": "Never",
        "restartPolicyRules": [{"action": "Restart", "exitCodes": {"operator": "In", "values": [42]}}],
        "readinessProbe": {"exec": {"command": ["true"]}},
        "lifecycle": {"preStop": {"exec": {"command": ["true"]}}},
    }
    message, causes = invalid(patch(client, {"spec": {"ephemeralContainers": [container]}}))
    prefix = "spec.ephemeralContainers[0]"
    assert [(c["reason"], c["field"], c["message"]) for c in causes] == [
        ("FieldValueDuplicate", f"{prefix}.name", 'Duplicate value: "app"'),
        ("FieldValueNotFound", f"{prefix}.targetContainerName", 'Not found: "nope"'),
        ("FieldValueForbidden", f"{prefix}.ports", "Forbidden: cannot be set for an Ephemeral Container"),
        ("FieldValueForbidden", f"{prefix}.resources", "Forbidden: cannot be set for an Ephemeral Container"),
        ("FieldValueForbidden", f"{prefix}.restartPolicy", "Forbidden: cannot be set for an Ephemeral Container"),
        ("FieldValueForbidden", f"{prefix}.restartPolicyRules", "Forbidden: cannot be set for an Ephemeral Container"),
        ("FieldValueForbidden", f"{prefix}.readinessProbe", "Forbidden: cannot be set for an Ephemeral Container"),
        ("FieldValueForbidden", f"{prefix}.lifecycle", "Forbidden: cannot be set for an Ephemeral Container"),
    ]
    assert message.startswith(f'Pod "echo" is invalid: [{prefix}.name: Duplicate value: "app", ')


def test_an_ephemeral_container_needs_an_image_and_may_not_use_a_subpath() -> None:
    pod = make_pod(spec={"volumes": [{"name": "v", "emptyDir": {}}]})
    pod["spec"]["ephemeralContainers"] = [{"name": "d", "volumeMounts": [{"name": "v", "mountPath": "/v", "subPath": "x"}]}]
    old = Pod.model_validate(make_pod(spec={"volumes": [{"name": "v", "emptyDir": {}}]}))
    errors = [str(e) for e in validate_pod_ephemeral_containers_update(Pod.model_validate(pod), old)]
    assert errors == [
        "spec.ephemeralContainers[0].image: Required value",
        "spec.ephemeralContainers[0].volumeMounts[0].subPath: Forbidden: cannot be set for an Ephemeral Container",
    ]


def test_the_subresource_of_a_missing_pod_is_not_found(client: TestClient) -> None:
    assert client.get(f"{PODS}/nope/ephemeralcontainers").status_code == 404
    response = patch(client, {"spec": {"ephemeralContainers": [DEBUGGER]}}, url=f"{PODS}/nope/ephemeralcontainers")
    assert (response.status_code, response.json()["reason"]) == (404, "NotFound")


# --- the pod itself -------------------------------------------------------------------------------------------------


def test_a_pod_is_never_created_with_ephemeral_containers(client: TestClient) -> None:
    manifest = make_pod(metadata={"name": "other"})
    manifest["spec"]["ephemeralContainers"] = [{"name": "d", "image": BUSYBOX}]
    message, causes = invalid(client.post(PODS, json=manifest))
    assert message == 'Pod "other" is invalid: spec.ephemeralContainers: Forbidden: cannot be set on create'
    assert causes == [
        {"reason": "FieldValueForbidden", "message": "Forbidden: cannot be set on create", "field": "spec.ephemeralContainers"}
    ]
    errors = validate_pod_create(Pod.model_validate(manifest))
    assert [e.field for e in errors] == ["spec.ephemeralContainers"]


def test_an_ordinary_update_may_not_touch_them(client: TestClient) -> None:
    assert debug(client).status_code == 200
    added = [{"op": "add", "path": "/spec/ephemeralContainers/-", "value": {"name": "x", "image": BUSYBOX}}]
    message, _ = invalid(patch(client, added, JSON_PATCH, url=f"{PODS}/echo"))
    assert message.startswith('Pod "echo" is invalid: spec: Forbidden: pod updates may not change fields other than ')
    labelled = patch(client, {"metadata": {"labels": {"x": "y"}}}, MERGE, url=f"{PODS}/echo")
    assert labelled.status_code == 200, labelled.text  # the rest of the pod may change as ever
    assert [c["name"] for c in labelled.json()["spec"]["ephemeralContainers"]] == ["debugger-abcde"]


def test_every_pod_has_a_security_context_as_kubectl_debug_expects(client: TestClient) -> None:
    # kubectl debug's displayWarning dereferences pod.spec.securityContext, which the API server always defaults.
    assert client.get(f"{PODS}/echo").json()["spec"]["securityContext"] == {}


# --- admission ------------------------------------------------------------------------------------------------------


def test_the_nodes_policy_judges_the_added_containers(client: TestClient) -> None:
    privileged = {"name": "root", "image": BUSYBOX, "securityContext": {"privileged": True}}
    response = debug(client, privileged)
    assert response.status_code == 403, response.text
    assert response.json()["message"] == (
        'pods "echo" is forbidden: violates the node\'s pod security policy: privileged (container "root" must not set '
        'securityContext.privileged=true); a node started with "minikubelet up --allow-privileged" allows this'
    )
    assert response.json()["details"]["causes"][0]["field"] == "spec.ephemeralContainers[0].securityContext.privileged"
    netadmin = {"name": "net", "image": BUSYBOX, "securityContext": {"capabilities": {"add": ["NET_ADMIN", "SYS_PTRACE"]}}}
    assert 'must not include "NET_ADMIN" in securityContext' in debug(client, netadmin).json()["message"]
    assert debug(client).status_code == 200  # SYS_PTRACE alone, as kubectl debug's general profile asks


def test_sys_ptrace_is_allowed_to_ephemeral_containers_only() -> None:
    policy = PodSecurityPolicy()
    ptrace = {"securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}}}
    assert policy.violations({"ephemeralContainers": [{"name": "d", **ptrace}]}) == []
    [violation] = policy.violations({"containers": [{"name": "d", **ptrace}]})
    assert violation.check == "non-default capabilities"


# --- kubectl debug --copy-to ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/vnd.kubernetes.protobuf", "application/cbor"])
def test_a_binary_body_is_415(client: TestClient, content_type: str) -> None:
    # kubectl debug --copy-to (and node debugging) creates its pod with client-go's typed client, in protobuf.
    response = client.post(PODS, content=b"k8s\x00\n\x0b\n\x02v1\x12\x03Pod", headers={"Content-Type": content_type})
    assert response.status_code == 415, response.text
    assert response.json()["reason"] == "UnsupportedMediaType"
    assert response.json()["message"] == (
        "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml"
    )


def test_plain_discovery_lists_the_subresource(client: TestClient) -> None:
    resources = {r["name"]: r for r in client.get("/api/v1").json()["resources"]}
    assert resources["pods/ephemeralcontainers"] == {
        "name": "pods/ephemeralcontainers",
        "singularName": "",
        "namespaced": True,
        "kind": "Pod",
        "verbs": ["get", "patch", "update"],
    }
