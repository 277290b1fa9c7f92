"""The Docker engine restarting under a running node: the kubelet reconnects and brings its pods back.

This stops and starts dockerd itself (and once freezes it, as a wedged engine), so it runs only where the
test owns the engine: under CI=true (or with MINIKUBELET_TEST_OWNS_ENGINE=1) and as root.

What it holds the node to: the daemon lives through the outage (the same process, still answering the API,
no traceback in its log); once the engine is back every pod comes back per its restartPolicy (Always and
OnFailure: a new sandbox, `SandboxChanged`, the container restarted; Never: Failed, not run again; a pod
that had already succeeded stays so); and the kubelet listens to the engine's events again (a container
killed afterwards is noticed at once, not at the next resync).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from nodes import Node, eventually, pod_yaml, running_node

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(
        not (os.environ.get("CI") == "true" or os.environ.get("MINIKUBELET_TEST_OWNS_ENGINE") == "1") or os.geteuid() != 0,
        reason="restarts dockerd: only where the test owns the engine (CI=true or MINIKUBELET_TEST_OWNS_ENGINE=1, as root)",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
BUSYBOX = "minikubelet.local/busybox:1.35"
# Exits 1 on the SIGTERM the engine sends its containers when it stops (a plain `sleep` as PID 1 would
# ignore it and hold the engine's shutdown for its 10 s stop timeout).
SLEEPER = "trap 'exit 1' TERM; sleep 3600 & wait"


@pytest.fixture(scope="module")
def node(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from running_node(tmp_path_factory.mktemp("engine-home"))


def engine_answers() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


def pod(node: Node, name: str) -> dict[str, Any]:
    found: dict[str, Any] = node.api(f"/api/v1/namespaces/default/pods/{name}")  # in-process: quick to poll
    return found


def status_of(node: Node, name: str) -> dict[str, Any]:
    statuses: list[dict[str, Any]] = pod(node, name)["status"].get("containerStatuses", [])
    return statuses[0] if statuses else {}


def reasons(node: Node, name: str) -> list[str]:
    selector = quote(f"involvedObject.name={name}")
    return [e["reason"] for e in node.api(f"/api/v1/namespaces/default/events?fieldSelector={selector}")["items"]]


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def test_the_kubelet_resyncs_after_the_engine_restarts(node: Node) -> None:
    node.cli("apply", "-f", str(ROOT / "manifests" / "echo-pod.yml"), check=True)
    node.cli("apply", "-f", "-", stdin=pod_yaml("on-failure", SLEEPER, restart="OnFailure", grace=1), check=True)
    node.cli("apply", "-f", "-", stdin=pod_yaml("never", SLEEPER, restart="Never", grace=1), check=True)
    node.cli("apply", "-f", "-", stdin=pod_yaml("done", "exit 0", restart="Never", grace=1), check=True)
    assert node.cli("wait", "--for=condition=Ready", "pod/echo", "--timeout=30s").returncode == 0
    assert eventually(lambda: all(pod(node, n)["status"].get("phase") == "Running" for n in ("on-failure", "never")), timeout=30)
    assert eventually(lambda: pod(node, "done")["status"].get("phase") == "Succeeded", timeout=30)
    done_before = status_of(node, "done")
    pid = int((node.home / "daemon.pid").read_text())

    subprocess.run(["pkill", "-x", "dockerd"], check=False)
    assert eventually(lambda: not engine_answers(), timeout=30)
    down = datetime.now(UTC).replace(microsecond=0)  # whatever runs later was started by the engine's next life
    # Without its engine the node still serves its API (`node.cli` would start a new daemon if it had died:
    # the pid says it is the same one).
    listed = node.cli("get", "pods")
    assert listed.returncode == 0 and alive(pid), listed.stderr
    assert int((node.home / "daemon.pid").read_text()) == pid
    subprocess.run(["bash", str(ROOT / "scripts" / "ensure-docker.sh")], check=True, capture_output=True)
    assert engine_answers()

    # Always: a new sandbox and the container restarted in it (started since the engine went down: a status
    # written before the outage does not count).
    def recovered(name: str) -> bool:
        status = status_of(node, name)
        started = status.get("state", {}).get("running", {}).get("startedAt")
        fresh = started is not None and datetime.fromisoformat(started.replace("Z", "+00:00")) >= down
        return fresh and status.get("ready") is True and status.get("restartCount", 0) >= 1

    assert eventually(lambda: recovered("echo"), timeout=60)
    assert "SandboxChanged" in reasons(node, "echo")
    # OnFailure: killed by the engine's shutdown (a non-zero exit), so restarted too.
    assert eventually(lambda: recovered("on-failure"), timeout=60)
    assert "SandboxChanged" in reasons(node, "on-failure")
    # Never: the pod failed with its container, and nothing runs it again.
    assert eventually(lambda: pod(node, "never")["status"].get("phase") == "Failed", timeout=30)
    never = status_of(node, "never")
    assert never["restartCount"] == 0 and never["state"]["terminated"]["exitCode"] != 0
    assert "SandboxChanged" not in reasons(node, "never")
    # A pod that had already succeeded is left as it was.
    assert pod(node, "done")["status"]["phase"] == "Succeeded"
    assert status_of(node, "done") == done_before

    # The kubelet listens to the engine again: a container killed now is seen at once (a resync takes 10 s).
    killed = status_of(node, "echo")["containerID"].removeprefix("docker://")
    subprocess.run(["docker", "kill", killed], check=True, capture_output=True)
    started = time.monotonic()

    def noticed() -> bool:  # restarted at once, or waiting out its back-off: either way no longer the killed one
        status = status_of(node, "echo")
        return status.get("containerID") != f"docker://{killed}" or "running" not in status.get("state", {})

    assert eventually(noticed, timeout=15)
    assert time.monotonic() - started < 3, "the kill was noticed by a resync, not by the engine's events"

    # The same daemon all along, and it logged no crash.
    assert alive(pid) and int((node.home / "daemon.pid").read_text()) == pid
    assert node.cli("status").returncode == 0
    log = (node.home / "daemon.log").read_text()
    assert "Traceback" not in log, log[-3000:]
    for name in ("echo", "on-failure", "never", "done"):
        node.cli("delete", "pod", name, "--grace-period=1", check=True)


def test_make_docker_replaces_a_wedged_engine() -> None:
    """A dockerd that runs but no longer answers (Docker 20.10 can deadlock under heavy churn) would hang
    `make test` for good; `scripts/ensure-docker.sh` gives it a deadline, kills it and starts a new one."""
    wedged = subprocess.run(["pgrep", "-x", "dockerd"], capture_output=True, text=True, check=True).stdout.split()
    subprocess.run(["pkill", "-STOP", "-x", "dockerd"], check=True)
    try:
        result = subprocess.run(
            ["bash", str(ROOT / "scripts" / "ensure-docker.sh")],
            env={**os.environ, "DOCKERD_ANSWER_SECONDS": "3"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        subprocess.run(["pkill", "-CONT", "-x", "dockerd"], check=False)  # a failed run must not leave it stopped
    assert result.returncode == 0, result.stderr
    assert "has not answered for 3 s (wedged)" in result.stderr
    assert engine_answers()
    now = subprocess.run(["pgrep", "-x", "dockerd"], capture_output=True, text=True, check=True).stdout.split()
    assert set(now).isdisjoint(wedged), "the stopped dockerd was not replaced"
