"""`minikubelet why` on the real engine: a liveness kill (SIGKILL after the grace, and exit on SIGTERM), a crash
loop, an OOM kill under a memory limit, and an image that cannot be pulled."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from nodes import Node, eventually, running_node

pytestmark = pytest.mark.docker

BUSYBOX = "minikubelet.local/busybox:1.35"
LIVENESS = """      livenessProbe:
        exec: {command: [cat, /tmp/healthy]}
        periodSeconds: 1
        failureThreshold: 2
        terminationGracePeriodSeconds: 2"""
MANIFESTS = f"""apiVersion: v1
kind: Pod
metadata: {{name: why-live}}
spec:
  containers:
    - name: ignores
      image: {BUSYBOX}
      command: [sh, -c, "while true; do sleep 1; done"]
{LIVENESS}
    - name: obeys
      image: {BUSYBOX}
      command: [sh, -c, "trap 'exit 143' TERM; while true; do sleep 0.2; done"]
{LIVENESS}
---
apiVersion: v1
kind: Pod
metadata: {{name: why-crash}}
spec:
  containers:
    - name: app
      image: {BUSYBOX}
      command: [sh, -c, "sleep 0.5; exit 3"]
---
apiVersion: v1
kind: Pod
metadata: {{name: why-oom}}
spec:
  restartPolicy: Never
  containers:
    - name: app
      image: {BUSYBOX}
      command: [sh, -c, "head -c 200m /dev/zero | tail"]
      resources: {{limits: {{memory: 50Mi}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: why-image}}
spec:
  containers:
    - name: app
      image: minikubelet.local/no-such-image:1
"""


@pytest.fixture(scope="module")
def node(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A node with the four pods applied at once, so that they fail side by side."""
    for running in running_node(tmp_path_factory.mktemp("why-home")):
        running.cli("apply", "-f", "-", stdin=MANIFESTS, check=True)
        yield running


def transitions(node: Node, pod: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = node.api(f"/api/v1/namespaces/default/pods/{pod}/lifecycle")["items"]
    return items


def why_json(node: Node, *args: str) -> dict[str, Any]:
    shown = node.cli("why", *args, "-o", "json")
    assert shown.returncode == 0, shown.stderr
    out: dict[str, Any] = json.loads(shown.stdout)
    return out


def test_a_liveness_kill_sigkilled_after_the_grace_and_one_that_exits_on_sigterm(node: Node) -> None:
    def ended(container: str) -> bool:
        return any(t["container"] == container and t["state"] == "terminated" for t in transitions(node, "why-live"))

    assert eventually(lambda: ended("ignores") and ended("obeys"), timeout=60, interval=0.5)
    shown = node.cli("why", "pod/why-live", "-c", "ignores")
    assert shown.returncode == 0, shown.stderr
    assert "container obeys" not in shown.stdout
    assert "liveness exec cat /tmp/healthy failed 2 times in a row (failureThreshold 2, every 1 s)" in shown.stdout
    assert "cat: can't open '/tmp/healthy': No such file or directory" in shown.stdout
    assert "the process ignored it, SIGKILL after the 2 s grace → exit 137 (not OOM)" in shown.stdout
    assert "rule: livenessProbe.failureThreshold" in shown.stdout
    assert "fix: no instance ever passed a probe: check the probe itself first" in shown.stdout
    obeys = why_json(node, "why-live", "-c", "obeys")
    kill = next(f for f in obeys["findings"] if f["kind"] == "liveness-kill")
    assert kill["exitCode"] == 143 and kill["restartCount"] == 0 and kill["container"] == "obeys"
    assert "the kubelet sent SIGTERM and the process exited on it" in kill["text"]
    assert 0.5 < kill["offsetSeconds"] < 30, "two failures a period apart, then the kill"


def test_a_crash_loop(node: Node) -> None:
    def looping() -> bool:
        status = node.pod("why-crash")["status"].get("containerStatuses", [{}])[0]
        return status.get("state", {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"

    assert eventually(looping, timeout=60, interval=0.5)
    out = why_json(node, "pod", "why-crash")
    assert out["kind"] == "PodDiagnosis" and out["metadata"] == {"namespace": "default", "name": "why-crash"}
    kinds = [f["kind"] for f in out["findings"]]
    assert "crash-loop" in kinds and "exited" in kinds, kinds
    exited = [f for f in out["findings"] if f["kind"] == "exited"]
    assert all(f["exitCode"] == 3 and f["rule"] == "restartPolicy" for f in exited)
    assert "the process exited on its own with code 3 after running" in exited[0]["text"]
    loop = next(f for f in out["findings"] if f["kind"] == "crash-loop")
    assert loop["text"].startswith("CrashLoopBackOff: restarted ")
    assert re.search(r"the kubelet now waits back-off \d+s \(10 s doubling to 300 s\)", loop["text"]), loop["text"]
    assert "next restart at " in loop["text"]


def test_an_oom_kill_under_a_memory_limit(node: Node) -> None:
    def oom() -> bool:
        return any(t["reason"] == "OOMKilled" for t in transitions(node, "why-oom"))

    assert eventually(oom, timeout=60, interval=0.5)
    shown = node.cli("why", "why-oom")
    assert shown.returncode == 0, shown.stderr
    assert "OOMKilled after running" in shown.stdout
    assert "the kernel's OOM killer ended it at its memory limit (50Mi) → exit 137; the kubelet did not kill it" in shown.stdout
    assert "rule: resources.limits.memory" in shown.stdout
    assert "not OOM" not in shown.stdout


def test_an_image_that_cannot_be_pulled(node: Node) -> None:
    def failing() -> bool:
        status = node.pod("why-image")["status"].get("containerStatuses", [{}])[0]
        return status.get("state", {}).get("waiting", {}).get("reason") in ("ErrImagePull", "ImagePullBackOff")

    assert eventually(failing, timeout=90, interval=0.5)
    # The Failed event carries the engine's message; the CLI may look between the status write and the event's.
    assert eventually(lambda: "Failed to pull image" in node.cli("why", "why-image").stdout, timeout=20, interval=0.5)
    out = why_json(node, "why-image")
    (pull,) = out["findings"]
    assert pull["kind"] == "image-pull" and pull["severity"] == "cause"
    assert "the image minikubelet.local/no-such-image:1 cannot be pulled; the engine said: " in pull["text"]
    assert 'Failed to pull image "minikubelet.local/no-such-image:1": ' in pull["text"]
    assert out["ready"] is False and out["containers"][0]["state"] == "waiting"


def test_errors(node: Node) -> None:
    missing = node.cli("why", "pod/nope")
    assert missing.returncode == 1 and missing.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'
    wrong = node.cli("why", "why-crash", "-c", "nope")
    assert wrong.returncode == 1 and "container nope is not valid for pod why-crash" in wrong.stderr
    bad = node.cli("why", "why-crash", "-o", "yaml")
    assert bad.returncode == 2 and "text or json" in bad.stderr
