"""Probes on the real engine: liveness restarts, readiness gates READY, startup protects (short periods)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from nodes import Node, eventually, running_node

pytestmark = pytest.mark.docker

ECHO = "minikubelet.local/echo:v1"
BUSYBOX = "minikubelet.local/busybox:1.35"


@pytest.fixture(scope="module")
def node(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from running_node(tmp_path_factory.mktemp("probes-home"))


def app_status(node: Node, name: str) -> dict[str, Any]:
    statuses: list[dict[str, Any]] = node.pod(name)["status"].get("containerStatuses", [])
    return statuses[0] if statuses else {}


def messages(node: Node, name: str, reason: str) -> list[str]:
    result = node.cli(
        "get", "events", "--field-selector", f"involvedObject.name={name},reason={reason}", "-o", "json", check=True
    )
    return [e["message"] for e in json.loads(result.stdout)["items"]]


def test_a_failing_liveness_probe_restarts_the_container(node: Node) -> None:
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: live}}
spec:
  containers:
    - name: app
      image: {ECHO}
      livenessProbe:
        httpGet: {{path: /not/exist, port: 8080}}
        periodSeconds: 1
        failureThreshold: 2
        terminationGracePeriodSeconds: 2
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    assert eventually(lambda: app_status(node, "live").get("restartCount", 0) >= 1, timeout=40)
    assert "Container app failed liveness probe, will be restarted" in messages(node, "live", "Killing")
    unhealthy = messages(node, "live", "Unhealthy")
    assert unhealthy and unhealthy[0].startswith('Liveness probe failed: Get "http://')
    assert "connect: connection refused" in unhealthy[0]
    assert app_status(node, "live")["lastState"]["terminated"]["exitCode"] in (0, 137, 143)
    node.cli("delete", "pod", "live", "--grace-period=1", check=True)


def test_a_failing_readiness_probe_never_restarts(node: Node) -> None:
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: unready}}
spec:
  containers:
    - name: app
      image: {ECHO}
      readinessProbe:
        tcpSocket: {{port: 8080}}
        periodSeconds: 1
        failureThreshold: 1
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    assert eventually(lambda: len(messages(node, "unready", "Unhealthy")) >= 1, timeout=30)
    assert eventually(
        lambda: sum(1 for _ in messages(node, "unready", "Unhealthy")) >= 1 and _count(node, "unready", "Unhealthy") >= 3,
        timeout=30,
    )
    status = app_status(node, "unready")
    assert status["ready"] is False and status["restartCount"] == 0 and "running" in status["state"]
    ready = next(c for c in node.pod("unready")["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "False",
        "ContainersNotReady",
        "containers with unready status: [app]",
    )
    row = node.cli("get", "pod", "unready", check=True).stdout.splitlines()[1].split()
    assert row[1:4] == ["0/1", "Running", "0"]
    assert messages(node, "unready", "Unhealthy")[0].startswith("Readiness probe failed: dial tcp ")
    node.cli("delete", "pod", "unready", "--grace-period=1", check=True)


def _count(node: Node, name: str, reason: str) -> int:
    result = node.cli(
        "get", "events", "--field-selector", f"involvedObject.name={name},reason={reason}", "-o", "json", check=True
    )
    return sum(int(e.get("count", 1)) for e in json.loads(result.stdout)["items"])


def test_a_passing_readiness_probe_makes_the_pod_ready(node: Node) -> None:
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: ready}}
spec:
  containers:
    - name: app
      image: {ECHO}
      ports: [{{name: http, containerPort: 3000}}]
      readinessProbe:
        httpGet: {{path: /healthz, port: http, httpHeaders: [{{name: X-Probe, value: "yes"}}]}}
        periodSeconds: 30
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    assert eventually(lambda: app_status(node, "ready").get("ready") is True, timeout=30)
    assert eventually(
        lambda: "X-Probe: yes" in node.cli("logs", "ready").stdout or "GET /healthz" in node.cli("logs", "ready").stdout,
        timeout=10,
    )
    assert "1/1" in node.cli("get", "pod", "ready", check=True).stdout
    node.cli("delete", "pod", "ready", "--grace-period=1", check=True)


def test_a_startup_probe_holds_liveness_and_readiness_back(node: Node) -> None:
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: slow}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: app
      image: {BUSYBOX}
      command: ["sh", "-c", "sleep 3; touch /tmp/started; exec sleep 3600"]
      startupProbe:
        exec: {{command: ["cat", "/tmp/started"]}}
        periodSeconds: 1
        failureThreshold: 30
      livenessProbe:
        exec: {{command: ["cat", "/tmp/started"]}}
        periodSeconds: 1
        failureThreshold: 1
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    assert eventually(lambda: "running" in app_status(node, "slow").get("state", {}), timeout=30)
    early = app_status(node, "slow")
    assert early["started"] is False and early["ready"] is False
    assert eventually(lambda: app_status(node, "slow").get("started") is True, timeout=30)
    assert eventually(lambda: app_status(node, "slow").get("ready") is True, timeout=10)
    assert app_status(node, "slow")["restartCount"] == 0, "liveness never ran before the startup probe succeeded"
    assert any(m.startswith("Startup probe failed: cat: can't open '/tmp/started'") for m in messages(node, "slow", "Unhealthy"))
    assert not [m for m in messages(node, "slow", "Unhealthy") if m.startswith("Liveness")]
    node.cli("delete", "pod", "slow", "--grace-period=1", check=True)


def test_a_named_port_that_does_not_exist_is_an_error_not_a_failure(node: Node) -> None:
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: misnamed}}
spec:
  containers:
    - name: app
      image: {ECHO}
      livenessProbe:
        httpGet: {{path: /, port: http}}
        periodSeconds: 1
        failureThreshold: 1
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    expected = "Liveness probe errored and resulted in unknown state: port http not found"
    assert eventually(lambda: expected in messages(node, "misnamed", "Unhealthy"), timeout=30)
    assert app_status(node, "misnamed")["restartCount"] == 0, "errored probes are not counted"
    node.cli("delete", "pod", "misnamed", "--grace-period=1", check=True)


def test_exec_readiness_flips_false_and_back_true_without_restarts(node: Node) -> None:
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: flip}}
spec:
  containers:
    - name: app
      image: {BUSYBOX}
      command: ["sh", "-c", "touch /tmp/healthy; exec sleep 3600"]
      readinessProbe:
        exec: {{command: ["cat", "/tmp/healthy"]}}
        periodSeconds: 1
        failureThreshold: 1
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    assert eventually(lambda: app_status(node, "flip").get("ready") is True, timeout=30)
    node.cli("exec", "flip", "--", "rm", "/tmp/healthy", check=True)
    assert eventually(lambda: app_status(node, "flip").get("ready") is False, timeout=15)
    node.cli("exec", "flip", "--", "touch", "/tmp/healthy", check=True)
    assert eventually(lambda: app_status(node, "flip").get("ready") is True, timeout=15)
    assert app_status(node, "flip")["restartCount"] == 0
    node.cli("delete", "pod", "flip", "--grace-period=1", check=True)


def test_exec_liveness_fails_when_a_file_disappears_and_a_timeout_is_a_failure(node: Node) -> None:
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: execlive}}
spec:
  terminationGracePeriodSeconds: 600
  containers:
    - name: app
      image: {BUSYBOX}
      command: ["sh", "-c", "touch /tmp/alive; exec sleep 3600"]
      livenessProbe:
        exec: {{command: ["cat", "/tmp/alive"]}}
        periodSeconds: 1
        failureThreshold: 1
        terminationGracePeriodSeconds: 2
    - name: slow
      image: {BUSYBOX}
      command: ["sleep", "3600"]
      readinessProbe:
        exec: {{command: ["sh", "-c", "sleep 10"]}}
        timeoutSeconds: 1
        periodSeconds: 2
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    assert eventually(lambda: node.pod("execlive")["status"].get("phase") == "Running", timeout=30)
    node.cli("exec", "execlive", "-c", "app", "--", "rm", "/tmp/alive", check=True)
    assert eventually(lambda: _restarts(node, "execlive", "app") >= 1, timeout=30), (
        "the probe-level grace (2 s) replaced the pod's 600 s, so the restart came quickly"
    )
    unhealthy = messages(node, "execlive", "Unhealthy")
    assert any(m.startswith("Liveness probe failed: cat: can't open '/tmp/alive'") for m in unhealthy)
    assert eventually(
        lambda: 'Readiness probe failed: command "sh -c sleep 10" timed out' in messages(node, "execlive", "Unhealthy"),
        timeout=30,
    )
    node.cli("delete", "pod", "execlive", "--grace-period=1", check=True)


def _restarts(node: Node, pod: str, container: str) -> int:
    statuses = node.pod(pod)["status"].get("containerStatuses", [])
    return int(next((s["restartCount"] for s in statuses if s["name"] == container), 0))


def test_no_liveness_kill_while_the_pod_terminates(node: Node) -> None:
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: dying}}
spec:
  terminationGracePeriodSeconds: 4
  containers:
    - name: app
      image: {BUSYBOX}
      command: ["sh", "-c", "touch /tmp/alive; trap 'rm /tmp/alive' TERM; while true; do sleep 0.2; done"]
      livenessProbe:
        exec: {{command: ["cat", "/tmp/alive"]}}
        periodSeconds: 1
        failureThreshold: 1
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    assert eventually(lambda: node.pod("dying")["status"].get("phase") == "Running", timeout=30)
    node.cli("delete", "pod", "dying", check=True)
    killing = messages(node, "dying", "Killing") if node.cli("get", "events").returncode == 0 else []
    assert not [m for m in killing if "failed liveness probe" in m]
    assert "Stopping container app" in killing
