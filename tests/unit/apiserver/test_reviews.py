"""`kubectl auth can-i` and `kubectl auth whoami`: the reviews, posted as JSON or as kubectl's typed clients post
them (protobuf), answered for the node's one all-powerful user and never stored."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from minikubelet.apiserver import protobuf
from minikubelet.apiserver.app import build_app
from minikubelet.apiserver.registry import Registry
from minikubelet.store import Store

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKEN = "t0ken"
ACCESS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
RULES = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"
WHOAMI = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with Store(tmp_path / "state.db") as store, TestClient(
        build_app(Registry(store), token=TOKEN), headers={"Authorization": f"Bearer {TOKEN}"}
    ) as opened:
        yield opened


# A tiny protobuf writer, to make the bodies kubectl sends (field numbers from k8s.io/api generated.proto).
def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = _field(1, api_version.encode()) + _field(2, kind.encode())
    return b"k8s\x00" + _field(1, type_meta) + _field(2, raw) + _field(4, b"application/vnd.kubernetes.protobuf")


def test_can_i_as_kubectl_posts_it_in_protobuf(client: TestClient) -> None:
    attributes = _field(1, b"default") + _field(2, b"create") + _field(3, b"") + _field(5, b"pods")
    body = _envelope("authorization.k8s.io/v1", "SelfSubjectAccessReview", _field(1, b"") + _field(2, _field(1, attributes)))
    answer = client.post(ACCESS, content=body, headers={"Content-Type": protobuf.MEDIA_TYPE})
    assert answer.status_code == 201, answer.text
    review = answer.json()
    assert (review["kind"], review["apiVersion"]) == ("SelfSubjectAccessReview", "authorization.k8s.io/v1")
    assert review["spec"] == {"resourceAttributes": {"namespace": "default", "verb": "create", "resource": "pods"}}
    assert review["status"]["allowed"] is True


def test_can_i_in_json_and_for_a_url(client: TestClient) -> None:
    body = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1"}
    body["spec"] = {"nonResourceAttributes": {"path": "/healthz", "verb": "get"}}  # type: ignore[assignment]
    review = client.post(ACCESS, json=body).json()
    assert review["spec"] == body["spec"]
    assert review["status"]["allowed"] is True


def test_can_i_list_names_every_rule(client: TestClient) -> None:
    raw = _field(2, _field(1, b"default"))
    body = _envelope("authorization.k8s.io/v1", "SelfSubjectRulesReview", raw)
    review = client.post(RULES, content=body, headers={"Content-Type": protobuf.MEDIA_TYPE}).json()
    assert review["spec"] == {"namespace": "default"}
    assert review["status"]["resourceRules"] == [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]


def test_whoami_names_the_kubeconfigs_user(client: TestClient) -> None:
    body = _envelope("authentication.k8s.io/v1", "SelfSubjectReview", _field(1, b""))
    review = client.post(WHOAMI, content=body, headers={"Content-Type": protobuf.MEDIA_TYPE}).json()
    assert review["status"]["userInfo"] == {"username": "minikubelet", "groups": ["system:masters", "system:authenticated"]}


@pytest.mark.parametrize(
    "body",
    [b"not protobuf", b"k8s\x00\x0a\xff", b"k8s\x00" + _field(1, _field(2, b"Pod")), b"k8s\x00\x0b"],
    ids=["no-magic", "truncated", "another-kind", "bad-wire-type"],
)
def test_a_malformed_protobuf_body_is_400(client: TestClient, body: bytes) -> None:
    answer = client.post(ACCESS, content=body, headers={"Content-Type": protobuf.MEDIA_TYPE})
    assert (answer.status_code, answer.json()["reason"]) == (400, "BadRequest")
    assert answer.json()["message"].startswith("couldn't decode the request body: ")


def test_a_review_of_another_kind_is_400_and_nothing_is_stored(client: TestClient) -> None:
    answer = client.post(ACCESS, json={"kind": "Pod", "apiVersion": "authorization.k8s.io/v1"})
    assert (answer.status_code, answer.json()["reason"]) == (400, "BadRequest")
    assert client.get(ACCESS).status_code == 405
