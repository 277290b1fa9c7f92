"""Ephemeral containers on the real Docker engine, through the API as kubectl debug uses it and the real CLI:
the target's process namespace, a daemon killed and restarted keeping them, exec into a running one, deletion,
and a pod sharing its process namespace (what `kubectl debug --copy-to --share-processes` would make)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nodes import Node, eventually, pod_yaml, running_node

from minikubelet.client import ApiClient
from minikubelet.node.kubeconfig import read_connection
from minikubelet.node.paths import NodePaths

pytestmark = pytest.mark.docker

BUSYBOX = "minikubelet.local/busybox:1.35"


@pytest.fixture(scope="module")
def node(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from running_node(tmp_path_factory.mktemp("ephemeral-home"))


def debug(node: Node, pod: str, container: dict[str, Any]) -> dict[str, Any]:
    """PATCH pods/<pod>/ephemeralcontainers as kubectl debug does (a strategic merge patch)."""
    with ApiClient(read_connection(NodePaths.from_env(str(node.home)))) as client:
        patched: dict[str, Any] = client.request(
            "PATCH",
            f"/api/v1/namespaces/default/pods/{pod}/ephemeralcontainers",
            body={"spec": {"ephemeralContainers": [{"image": BUSYBOX, **container}]}},
            content_type="application/strategic-merge-patch+json",
        )
    return patched


def ephemeral(node: Node, pod: str, name: str) -> dict[str, Any]:
    statuses = node.pod(pod)["status"].get("ephemeralContainerStatuses", [])
    return next((s for s in statuses if s["name"] == name), {})


def running(node: Node, pod: str, name: str) -> bool:
    return "running" in ephemeral(node, pod, name).get("state", {})


def test_a_debugger_in_the_targets_process_namespace_survives_a_daemon_restart(node: Node) -> None:
    node.cli("apply", "-f", "-", stdin=pod_yaml("target", "exec sleep 3600", grace=1), check=True)
    assert eventually(lambda: node.pod("target")["status"].get("phase") == "Running", timeout=30)
    debug(node, "target", {"name": "shell", "command": ["sleep", "3600"], "targetContainerName": "main"})
    debug(node, "target", {"name": "done", "command": ["true"]})
    assert eventually(lambda: running(node, "target", "shell"), timeout=30)
    assert eventually(lambda: "terminated" in ephemeral(node, "target", "done").get("state", {}), timeout=30)

    listed = node.cli("exec", "target", "-c", "shell", "--", "ps", "-o", "args", check=True).stdout
    assert "sleep 3600" in listed.splitlines()[1:2], listed  # the target's process is PID 1 there

    before = {name: ephemeral(node, "target", name)["containerID"] for name in ("shell", "done")}
    pid = int((node.home / "daemon.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    assert eventually(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid), timeout=10)
    node.cli("up", check=True)
    assert eventually(lambda: running(node, "target", "shell"), timeout=30)
    after = {name: ephemeral(node, "target", name)["containerID"] for name in ("shell", "done")}
    assert after == before, "neither the running nor the exited one is started again"
    assert "terminated" in ephemeral(node, "target", "done")["state"]
    assert node.pod("target")["status"]["containerStatuses"][0]["restartCount"] == 0

    node.cli("delete", "pod", "target", "--grace-period=1", check=True)
    assert eventually(lambda: node.cli("get", "pod", "target").returncode == 1, timeout=30)


def test_a_pod_sharing_its_process_namespace(node: Node) -> None:
    extra = "  shareProcessNamespace: true\n"
    node.cli("apply", "-f", "-", stdin=pod_yaml("shared", "exec sleep 3600", grace=1, extra=extra), check=True)
    assert eventually(lambda: node.pod("shared")["status"].get("phase") == "Running", timeout=30)
    listed = node.cli("exec", "shared", "--", "ps", "-o", "pid,args", check=True).stdout
    assert "/pause" in listed and "sleep 3600" in listed, listed  # the sandbox's pause process is PID 1
    node.cli("delete", "pod", "shared", "--grace-period=1", check=True)


def _zombie(pid: int) -> bool:
    try:
        return "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return True
