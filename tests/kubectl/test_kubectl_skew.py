"""A short skew check: an older kubectl (1.32, where the machine has one) still works against the node, which
answers as Kubernetes v1.37 does. Runs only when OLD_KUBECTL exists (it is no part of what `make install` puts in
place; the main kubectl suite runs the pinned 1.37)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from compare import ours
from nodes import OLD_KUBECTL, Node, eventually, kubectl_present

ROOT = Path(__file__).resolve().parents[2]
ECHO = str(ROOT / "manifests" / "echo-pod.yml")

pytestmark = pytest.mark.skipif(not kubectl_present(OLD_KUBECTL), reason=f"no older kubectl at {OLD_KUBECTL}")


@pytest.fixture
def node(kubectl_node: Node) -> Node:
    kubectl_node.cli("delete", "pods", "--all", "--grace-period=0", "--force")
    return kubectl_node


def old(node: Node, *args: str) -> subprocess.CompletedProcess[str]:
    return node.kubectl(*args, binary=OLD_KUBECTL, timeout=90)


def test_an_older_kubectl_applies_gets_waits_and_deletes(node: Node) -> None:
    client = json.loads(old(node, "version", "-o", "json").stdout)["clientVersion"]
    assert int(client["minor"].rstrip("+")) < 37  # distribution builds say "32+"
    assert "exceeds the supported minor version skew" in old(node, "version").stderr  # as a 1.37 cluster says
    applied = old(node, "apply", "-f", ECHO)
    assert (applied.returncode, applied.stdout) == (0, "pod/echo created\n"), applied.stderr
    ready = old(node, "wait", "--for=condition=Ready", "pod/echo", "--timeout=60s")
    assert (ready.returncode, ready.stdout) == (0, "pod/echo condition met\n"), ready.stderr
    assert eventually(lambda: old(node, "get", "pods").stdout == ours(node, "get", "pods"))
    logs = old(node, "logs", "echo")
    assert logs.returncode == 0 and logs.stdout, logs.stderr
    deleted = old(node, "delete", "pod/echo", "--grace-period=1")
    assert (deleted.returncode, deleted.stdout) == (0, 'pod "echo" deleted\n'), deleted.stderr  # 1.32's words
    assert old(node, "get", "pod", "echo").returncode == 1
