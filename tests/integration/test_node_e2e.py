"""End to end through the real CLI and a real daemon: up, apply, scheduled with its event, delete, down."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from nodes import Node, eventually, running_node

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from running_node(tmp_path_factory.mktemp("home"))


def test_up_writes_private_state_and_a_kubeconfig(node: Node) -> None:
    assert stat.S_IMODE(node.home.stat().st_mode) == 0o700
    for name in ("state.db", "kubeconfig", "token", "ca.key", "server.key", "daemon.pid"):
        assert stat.S_IMODE((node.home / name).stat().st_mode) == 0o600, name
    assert node.cli("kubeconfig", check=True).stdout.strip() == str(node.kubeconfig)
    status = node.cli("status")
    assert status.returncode == 0 and "running" in status.stdout


def test_the_daemon_of_a_new_home_never_loads_cryptography(node: Node) -> None:
    """`up` makes the CA and certificates before it starts the daemon, which only reuses them: the
    long-running process is spared the `cryptography` bindings (about 12 MiB of resident memory)."""
    pid = int((node.home / "daemon.pid").read_text())
    mapped = Path(f"/proc/{pid}/maps").read_text()
    assert "pydantic_core" in mapped, "not the daemon's memory map"
    assert "cryptography" not in mapped
    assert (node.home / "ca.crt").exists() and (node.home / "server.key").exists()


def test_apply_schedules_the_pod_with_an_event_and_delete_removes_it(node: Node) -> None:
    manifest = str(ROOT / "manifests" / "echo-pod.yml")
    created = node.cli("apply", "-f", manifest, check=True)
    assert created.stdout == "pod/echo created\n"
    assert node.cli("apply", "-f", manifest, check=True).stdout == "pod/echo unchanged\n"

    def scheduled() -> bool:
        pod = json.loads(node.cli("get", "pod", "echo", "-o", "json", check=True).stdout)
        return bool(pod["spec"].get("nodeName"))

    assert eventually(scheduled)
    pod = json.loads(node.cli("get", "pod", "echo", "-o", "json", check=True).stdout)
    node_name = pod["spec"]["nodeName"]
    conditions = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
    assert conditions["PodScheduled"] == "True"
    events = node.cli("get", "events", check=True).stdout
    assert f"Successfully assigned default/echo to {node_name}" in events
    described = node.cli("describe", "pod/echo", check=True).stdout
    assert re.search(
        rf"Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default/echo to {node_name}", described
    )

    table = node.cli("get", "pods", check=True).stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    name, ready, status = table[1].split()[:3]
    assert name == "echo" and ready in ("0/1", "1/1") and status in ("Pending", "ContainerCreating", "Running")

    deleted = node.cli("delete", "pod/echo", check=True)
    assert deleted.stdout == 'pod "echo" deleted from default namespace\n'
    gone = node.cli("get", "pods")
    assert gone.stdout == "" and gone.stderr == "No resources found in default namespace.\n"


def test_not_found_is_kubectls_error(node: Node) -> None:
    result = node.cli("get", "pod", "nope")
    assert result.returncode == 1
    assert result.stderr == 'Error from server (NotFound): pods "nope" not found\n'


def test_a_pod_that_does_not_fit_stays_pending_with_failed_scheduling(node: Node) -> None:
    manifest = """apiVersion: v1
kind: Pod
metadata: {name: huge}
spec:
  containers:
    - name: app
      image: minikubelet.local/busybox:1.35
      resources: {requests: {cpu: "10000"}}
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)

    def unschedulable() -> bool:
        pod = json.loads(node.cli("get", "pod", "huge", "-o", "json", check=True).stdout)
        return any(c.get("reason") == "Unschedulable" for c in pod["status"].get("conditions", []))

    assert eventually(unschedulable)
    events = node.cli("get", "events", "--field-selector", "involvedObject.name=huge", check=True).stdout
    assert "FailedScheduling" in events
    assert "0/1 nodes are available: 1 Insufficient cpu." in events
    node.cli("delete", "pod", "huge", check=True)


def test_unknown_commands_suggest_the_nearest(node: Node) -> None:
    result = node.cli("desribe", "pod/echo")
    assert result.returncode == 1
    assert result.stderr == 'error: unknown command "desribe" for "minikubelet"\n\nDid you mean this?\n\tdescribe\n'


def test_all_namespaces_and_name_output(node: Node) -> None:
    node.cli("run", "ns-probe", "--image", "minikubelet.local/busybox:1.35", check=True)
    table = node.cli("get", "pods", "-A", check=True).stdout.splitlines()
    assert table[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert any(line.split()[:2] == ["default", "ns-probe"] for line in table[1:])
    assert "pod/ns-probe" in node.cli("get", "pods", "-o", "name", check=True).stdout.splitlines()
    assert node.cli("delete", "pod", "ns-probe", check=True).stdout == 'pod "ns-probe" deleted from default namespace\n'


def test_our_watch_prints_a_row_per_change(node: Node) -> None:
    import queue
    import subprocess
    import threading

    from nodes import CLI

    node.cli("run", "watched", "--image", "minikubelet.local/busybox:1.35", check=True)
    lines: queue.Queue[str] = queue.Queue()
    with subprocess.Popen([*CLI, "get", "pods", "-w"], stdout=subprocess.PIPE, text=True, env=node.env) as watcher:
        assert watcher.stdout is not None
        stream = watcher.stdout
        threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
        try:
            assert lines.get(timeout=20).split()[:2] == ["NAME", "READY"]
            assert lines.get(timeout=20).startswith("watched ")
            node.cli("delete", "pod", "watched", "--grace-period=0", "--force", check=True)
            assert lines.get(timeout=20).startswith("watched "), "the deletion shows as a new row"
        finally:
            watcher.terminate()


def test_delete_by_manifest_and_describe_all(node: Node) -> None:
    manifest = str(ROOT / "manifests" / "multi-container.yml")
    node.cli("apply", "-f", manifest, check=True)
    node.cli("run", "other", "--image", "minikubelet.local/busybox:1.35", check=True)
    described = node.cli("describe", "pods", check=True).stdout
    assert "Name:         multi" in described and "Name:         other" in described
    assert "POD_NAME:   (v1:metadata.name)" in described or "POD_NAME:" in described
    assert node.cli("delete", "-f", manifest, check=True).stdout == 'pod "multi" deleted from default namespace\n'
    assert node.cli("delete", "pod/other", check=True).stdout == 'pod "other" deleted from default namespace\n'
