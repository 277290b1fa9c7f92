"""Probes on the real engine: liveness restarts, readiness gates READY, startup protects (short periods)."""

from __future__ import annotations

import json
import time
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


def test_a_passing_readiness_probe_makes_the_pod_ready_at_once_by_the_manual_trigger(node: Node) -> None:
    period = 20
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: ready}}
spec:
  containers:
    - name: app
      image: {ECHO}
      ports: [{{name: http, containerPort: 3000}}]
      readinessProbe:
        httpGet: {{path: /healthz, port: http}}
        periodSeconds: {period}
"""
    # In the first period after the daemon starts, workers start with a random sleep of up to one period
    # (the kubelet spreads a restart's herd of probes); past it, the first tick comes at admission.
    started = (node.home / "daemon.pid").stat().st_mtime
    assert eventually(lambda: time.time() - started > period + 1, timeout=period + 5)
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    applied = time.monotonic()
    # The admission tick finds no running container yet and the next tick is 20 s away; the kubelet's
    # status pass re-probes readiness at once for a started container that is not ready yet.
    assert eventually(lambda: app_status(node, "ready").get("ready") is True, timeout=period * 2)
    assert time.monotonic() - applied < period * 0.6, "ready long before the second tick"
    assert eventually(lambda: "GET /healthz HTTP/1.1" in node.cli("logs", "ready").stdout, timeout=10)
    assert "1/1" in node.cli("get", "pod", "ready", check=True).stdout
    attempts = node.probe_attempts("ready")
    became_ready = [a for a in attempts if a["verdict"] == "Success"]
    assert len(became_ready) == 1 and became_ready[0]["result"] == "Success"
    assert became_ready[0]["manual"] is True, attempts
    node.cli("delete", "pod", "ready", "--grace-period=1", check=True)


# A CGI health check for busybox httpd (which passes every request header as HTTP_<NAME>): it answers 200
# only when the probe's custom header, Host and User-Agent all arrived, else 500.
HEALTH_CGI = r"""mkdir -p /www/cgi-bin
cat > /www/cgi-bin/healthz <<'EOF'
#!/bin/sh
env | grep ^HTTP_ > /tmp/last-request
if [ "$HTTP_CUSTOM_HEADER" = Awesome ] && [ "$HTTP_HOST" = probe.example ] && [ "$HTTP_USER_AGENT" = kube-probe/1.37 ]; then
  printf 'Content-Type: text/plain\r\n\r\nok\n'
else
  printf 'Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nmissing header\n'
fi
EOF
chmod +x /www/cgi-bin/healthz
exec httpd -f -p 8080 -h /www"""


def test_http_headers_reach_the_server_through_named_ports_and_tcp_probes_pass(node: Node) -> None:
    script = "\n".join("        " + line for line in HEALTH_CGI.splitlines())
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: headers}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: {BUSYBOX}
      command: ["sh", "-c"]
      args:
      - |
{script}
      ports: [{{name: liveness-port, containerPort: 8080}}]
      livenessProbe:
        httpGet:
          path: /cgi-bin/healthz
          port: liveness-port
          httpHeaders: [{{name: Custom-Header, value: Awesome}}, {{name: Host, value: probe.example}}]
        periodSeconds: 1
        failureThreshold: 1
      readinessProbe:
        httpGet: {{path: /cgi-bin/healthz, port: 8080}}
        periodSeconds: 1
    - name: echo
      image: {ECHO}
      ports: [{{name: http, containerPort: 3000}}]
      readinessProbe:
        tcpSocket: {{port: http}}
        periodSeconds: 1
      livenessProbe:
        tcpSocket: {{port: http}}
        periodSeconds: 1
        failureThreshold: 1
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)

    def passed(container: str, kind: str) -> int:
        wanted = (container, kind, "Success")
        return sum(1 for a in node.probe_attempts("headers") if (a["container"], a["probe"], a["result"]) == wanted)

    # With the headers, liveness passes (failureThreshold 1: one miss would restart the container) ...
    assert eventually(lambda: passed("web", "Liveness") >= 3 and passed("echo", "Liveness") >= 3, timeout=60)
    # ... while the same path without them fails readiness with the server's 500.
    expected = "Readiness probe failed: HTTP probe failed with statuscode: 500"
    assert eventually(lambda: expected in messages(node, "headers", "Unhealthy"), timeout=30)
    statuses = {c["name"]: c for c in node.pod("headers")["status"]["containerStatuses"]}
    assert statuses["echo"]["ready"] is True and statuses["web"]["ready"] is False
    assert statuses["web"]["restartCount"] == 0 and statuses["echo"]["restartCount"] == 0
    assert not [m for m in messages(node, "headers", "Unhealthy") if m.startswith("Liveness")]
    assert "1/2" in node.cli("get", "pod", "headers", check=True).stdout
    seen = node.cli("exec", "headers", "-c", "web", "--", "cat", "/tmp/last-request", check=True).stdout
    assert "HTTP_USER_AGENT=kube-probe/1.37" in seen and "HTTP_ACCEPT=*/*" in seen
    node.cli("delete", "pod", "headers", "--grace-period=1", check=True)


def test_the_tutorials_startup_probe_protects_a_slow_start_from_liveness(node: Node) -> None:
    # The tutorial's shape (failureThreshold 30 x period, liveness failureThreshold 1 on the same named
    # port) with a 1 s period instead of 10 s: the server comes up after 4 s, which liveness alone would
    # punish with a restart at its first attempt.
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: slow}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: app
      image: {BUSYBOX}
      command: ["sh", "-c", "sleep 4; mkdir -p /www; echo ok > /www/healthz; exec httpd -f -p 8080 -h /www"]
      ports:
        - name: liveness-port
          containerPort: 8080
      livenessProbe:
        httpGet: {{path: /healthz, port: liveness-port}}
        failureThreshold: 1
        periodSeconds: 1
      startupProbe:
        httpGet: {{path: /healthz, port: liveness-port}}
        failureThreshold: 30
        periodSeconds: 1
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    assert eventually(lambda: "running" in app_status(node, "slow").get("state", {}), timeout=30)
    early = app_status(node, "slow")
    assert early["started"] is False and early["ready"] is False
    assert eventually(lambda: app_status(node, "slow").get("started") is True, timeout=40)
    assert eventually(lambda: app_status(node, "slow").get("ready") is True, timeout=10)
    assert eventually(lambda: sum(a["probe"] == "Liveness" for a in node.probe_attempts("slow")) >= 2, timeout=10)
    assert app_status(node, "slow")["restartCount"] == 0, "liveness never ran before the startup probe succeeded"

    attempts = node.probe_attempts("slow")
    startup = [a for a in attempts if a["probe"] == "Startup"]
    liveness = [a for a in attempts if a["probe"] == "Liveness"]
    assert [a["result"] for a in startup[:-1]] == ["Failure"] * (len(startup) - 1) and len(startup) >= 3
    assert startup[-1]["result"] == "Success" and startup[-1]["verdict"] == "Success"
    assert all(a["start"] > startup[-1]["start"] for a in liveness), "liveness waits for the startup probe"
    assert all(a["result"] == "Success" for a in liveness)
    refused = [m for m in messages(node, "slow", "Unhealthy") if m.startswith("Startup probe failed: Get ")]
    assert refused and "connect: connection refused" in refused[0]
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
