"""The Docker engine restarting under a running node: the kubelet reconnects and brings its pods back.

This stops and starts dockerd itself, so it runs only where the test owns the engine: under CI=true (or
with MINIKUBELET_TEST_OWNS_ENGINE=1) and as root.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nodes import Node, eventually, running_node

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(
        not (os.environ.get("CI") == "true" or os.environ.get("MINIKUBELET_TEST_OWNS_ENGINE") == "1") or os.geteuid() != 0,
        reason="restarts dockerd: only where the test owns the engine (CI=true or MINIKUBELET_TEST_OWNS_ENGINE=1, as root)",
    ),
]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def node(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from running_node(tmp_path_factory.mktemp("engine-home"))


def engine_answers() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


def test_the_kubelet_resyncs_after_the_engine_restarts(node: Node) -> None:
    node.cli("apply", "-f", str(ROOT / "manifests" / "echo-pod.yml"), check=True)
    assert node.cli("wait", "--for=condition=Ready", "pod/echo", "--timeout=30s").returncode == 0
    subprocess.run(["pkill", "-x", "dockerd"], check=False)
    assert eventually(lambda: not engine_answers(), timeout=30)
    subprocess.run(["bash", str(ROOT / "scripts" / "ensure-docker.sh")], check=True, capture_output=True)
    assert engine_answers()

    def recovered() -> bool:
        pod = node.pod("echo")
        statuses = pod["status"].get("containerStatuses", [])
        return bool(statuses) and statuses[0].get("ready") is True and statuses[0].get("restartCount", 0) >= 1

    assert eventually(recovered, timeout=60)
    reasons = node.cli("get", "events", "--field-selector", "involvedObject.name=echo", check=True).stdout
    assert "SandboxChanged" in reasons
    status = node.cli("status")
    assert status.returncode == 0, "the daemon survived losing its engine"
    node.cli("delete", "pod", "echo", "--grace-period=1", check=True)
