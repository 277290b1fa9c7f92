"""minikubelet's own pod subresource GET .../pods/<name>/why: `minikubelet why`'s diagnosis (a PodDiagnosis), made
from the pod, its events and the recorded probe attempts and transitions."""

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
from minikubelet.kubelet.history import LifecycleHistory
from minikubelet.prober.history import Attempt, ProbeHistory
from minikubelet.prober.results import ProbeKind

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

POD = "/api/v1/namespaces/default/pods/echo"
KILL = "Container app failed liveness probe, will be restarted"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    probes, lifecycle = ProbeHistory(), LifecycleHistory()
    with open_store(tmp_path) as store:
        registry = Registry(store, clock=lambda: NOW)
        spec = {"containers": [{"name": "app", "image": "x:1", "livenessProbe": {"exec": {"command": ["false"]}}}]}
        created, _ = registry.create(RESOURCES["pods"], "default", make_pod(metadata={"name": "echo"}, spec=spec))
        uid = created["metadata"]["uid"]
        running = {"containerStatuses": [{"name": "app", "containerID": "docker://c1", "state": {"running": {}}}]}
        lifecycle.observe(uid, running, [], now=100.0)
        for n, at in enumerate((110.0, 120.0, 130.0)):
            verdict = "Failure" if n == 2 else ""
            probes.add(uid, Attempt("app", "c1", ProbeKind.LIVENESS, at, at, 0.01, "Failure", "no", verdict=verdict))
        lifecycle.killing(uid, "app", "c1", KILL, now=130.1)
        for name, about in (("echo.1", uid), ("echo.2", "another-uid")):  # only the events about this pod count
            involved = {"kind": "Pod", "name": "echo", "namespace": "default", "uid": about, "fieldPath": "spec.containers{app}"}
            event = {"metadata": {"name": name}, "involvedObject": involved, "reason": "FailedPreStopHook", "type": "Warning"}
            event |= {"message": "PreStopHook failed", "count": 1, "lastTimestamp": "1970-01-01T00:02:10Z"}
            registry.create(RESOURCES["events"], "default", event)
        app = build_app(registry, token=TOKEN, probes=probes, lifecycle=lifecycle)
        with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            yield client


def test_the_diagnosis_of_the_pod(client: TestClient) -> None:
    response = client.get(f"{POD}/why")
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "PodDiagnosis" and body["apiVersion"] == "minikubelet.dev/v1alpha1"
    hook, kill = body["findings"]  # the hook's event (+130 s) comes before the kill's Killing (+130.1 s)
    assert hook["kind"] == "pre-stop-hook" and hook["text"].startswith("the preStop hook failed (event FailedPreStopHook")
    assert (kill["kind"], kill["rule"], kill["containerID"]) == ("liveness-kill", "livenessProbe.failureThreshold", "c1")
    assert kill["text"].startswith("liveness exec false failed 3 times in a row (failureThreshold 3, every 10 s) from +10 s")
    assert client.get(f"{POD}/why", params={"container": "app"}).json()["findings"] == body["findings"]


def test_a_missing_pod_or_container(client: TestClient) -> None:
    missing = client.get("/api/v1/namespaces/default/pods/nope/why")
    assert missing.status_code == 404 and missing.json()["reason"] == "NotFound"
    wrong = client.get(f"{POD}/why", params={"container": "nope"})
    assert wrong.status_code == 400 and wrong.json()["message"] == "container nope is not valid for pod echo"
