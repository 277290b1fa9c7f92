"""GET .../pods/<name>/probes: the prober's recorded attempts of the pod, found by its uid, behind the token."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from builders import make_pod
from starlette.exceptions import StarletteDeprecationWarning
from test_apiserver_http import NOW, TOKEN, open_store

from minikubelet.apiserver.app import build_app
from minikubelet.apiserver.registry import RESOURCES, Registry
from minikubelet.prober.history import Attempt, ProbeHistory
from minikubelet.prober.results import ProbeKind

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

PATH = "/api/v1/namespaces/default/pods/echo/probes"


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[TestClient, Registry, ProbeHistory]]:
    history = ProbeHistory()
    with open_store(tmp_path) as store:
        registry = Registry(store, clock=lambda: NOW)
        app = build_app(registry, token=TOKEN, probes=history)
        with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            yield client, registry, history


def test_the_attempts_of_the_pod_come_back_oldest_first(setup: tuple[TestClient, Registry, ProbeHistory]) -> None:
    client, registry, history = setup
    uid = registry.create(RESOURCES["pods"], "default", make_pod(metadata={"name": "echo"}))[0]["metadata"]["uid"]
    history.add(
        uid, Attempt("app", "c1", ProbeKind.LIVENESS, 100.0, 100.002, 0.01, "Failure", "HTTP probe failed with statuscode: 404")
    )
    history.add(uid, Attempt("app", "c1", ProbeKind.READINESS, 99.0, 99.5, 0.01, "Success", verdict="Success", manual=True))
    history.add("another-pod", Attempt("app", "c9", ProbeKind.LIVENESS, 1.0, 1.0, 0.0, "Success"))
    response = client.get(PATH)
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "ProbeAttemptList"
    assert [(a["probe"], a["result"], a["verdict"], a["manual"]) for a in body["items"]] == [
        ("Readiness", "Success", "Success", True),
        ("Liveness", "Failure", "", False),
    ]
    assert body["items"][0]["latenessSeconds"] == 0.5 and body["items"][0]["start"] == "1970-01-01T00:01:39.500000Z"
    assert body["items"][1]["message"] == "HTTP probe failed with statuscode: 404"


def test_a_missing_pod_is_not_found_and_no_token_is_401(setup: tuple[TestClient, Registry, ProbeHistory]) -> None:
    client, _, _ = setup
    missing = client.get(PATH)
    assert missing.status_code == 404 and missing.json()["message"] == 'pods "echo" not found'
    assert client.get(PATH, headers={"Authorization": "Bearer nope"}).status_code == 401
