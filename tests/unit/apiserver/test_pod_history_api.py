"""minikubelet's own pod subresources: GET .../pods/<name>/probes (the prober's recorded attempts) and
.../lifecycle (the kubelet's recorded container transitions), both found by the pod's uid, behind the token."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from builders import make_pod
from starlette.exceptions import StarletteDeprecationWarning
from test_apiserver_http import NOW, TOKEN, open_store

from minikubelet.apiserver.app import build_app
from minikubelet.apiserver.registry import RESOURCES, Registry
from minikubelet.kubelet.history import LifecycleHistory
from minikubelet.prober.history import Attempt, ProbeHistory
from minikubelet.prober.results import ProbeKind

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

POD = "/api/v1/namespaces/default/pods/echo"


@dataclass
class Setup:
    client: TestClient
    registry: Registry
    probes: ProbeHistory
    lifecycle: LifecycleHistory

    def create_echo(self) -> str:
        created, _ = self.registry.create(RESOURCES["pods"], "default", make_pod(metadata={"name": "echo"}))
        uid: str = created["metadata"]["uid"]
        return uid


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    probes, lifecycle = ProbeHistory(), LifecycleHistory()
    with open_store(tmp_path) as store:
        registry = Registry(store, clock=lambda: NOW)
        app = build_app(registry, token=TOKEN, probes=probes, lifecycle=lifecycle)
        with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            yield Setup(client, registry, probes, lifecycle)


def test_the_probe_attempts_of_the_pod_come_back_oldest_first(setup: Setup) -> None:
    uid = setup.create_echo()
    failed = Attempt("app", "c1", ProbeKind.LIVENESS, 100.0, 100.002, 0.01, "Failure", "HTTP probe failed with statuscode: 404")
    setup.probes.add(uid, failed)
    setup.probes.add(uid, Attempt("app", "c1", ProbeKind.READINESS, 99.0, 99.5, 0.01, "Success", verdict="Success", manual=True))
    setup.probes.add("another-pod", Attempt("app", "c9", ProbeKind.LIVENESS, 1.0, 1.0, 0.0, "Success"))
    response = setup.client.get(f"{POD}/probes")
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "ProbeAttemptList" and body["apiVersion"] == "minikubelet.dev/v1alpha1"
    assert [(a["probe"], a["result"], a["verdict"], a["manual"]) for a in body["items"]] == [
        ("Readiness", "Success", "Success", True),
        ("Liveness", "Failure", "", False),
    ]
    assert body["items"][0]["latenessSeconds"] == 0.5 and body["items"][0]["start"] == "1970-01-01T00:01:39.500000Z"
    assert body["items"][1]["message"] == "HTTP probe failed with statuscode: 404"


def test_the_transitions_of_the_pod_come_back_oldest_first(setup: Setup) -> None:
    uid = setup.create_echo()
    running = {"containerStatuses": [{"name": "app", "containerID": "docker://c1", "state": {"running": {}}, "restartCount": 0}]}
    setup.lifecycle.killing(uid, "app", "c1", "Container app failed liveness probe, will be restarted", now=120.0)
    setup.lifecycle.observe(uid, running, [], now=100.0)
    setup.lifecycle.killing("another-pod", "app", "c9", "x", now=1.0)
    response = setup.client.get(f"{POD}/lifecycle")
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "ContainerTransitionList" and body["apiVersion"] == "minikubelet.dev/v1alpha1"
    assert [(t["state"], t["containerID"], t["time"]) for t in body["items"]] == [
        ("running", "c1", "1970-01-01T00:01:40.000000Z"),
        ("killing", "c1", "1970-01-01T00:02:00.000000Z"),
    ]
    assert body["items"][1]["reason"] == "Container app failed liveness probe, will be restarted"


@pytest.mark.parametrize("subresource", ["probes", "lifecycle"])
def test_a_missing_pod_is_not_found_and_no_token_is_401(setup: Setup, subresource: str) -> None:
    missing = setup.client.get(f"{POD}/{subresource}")
    assert missing.status_code == 404 and missing.json()["message"] == 'pods "echo" not found'
    assert setup.client.get(f"{POD}/{subresource}", headers={"Authorization": "Bearer nope"}).status_code == 401
