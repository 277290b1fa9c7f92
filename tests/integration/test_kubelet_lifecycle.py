"""Lifecycle hooks, resource limits, volumes and host ports on the real engine."""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nodes import Node, eventually, running_node

pytestmark = pytest.mark.docker

BUSYBOX = "minikubelet.local/busybox:1.35"


@pytest.fixture(scope="module")
def node(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    # The hook test mounts a hostPath under pytest's temporary directory: allow just that.
    yield from running_node(tmp_path_factory.mktemp("lifecycle-home"), f"--allow-host-path={tmp_path_factory.getbasetemp()}")


def running(node: Node, name: str) -> bool:
    return bool(node.pod(name)["status"].get("phase") == "Running")


def inspect(node: Node, name: str, container: str) -> dict[str, Any]:
    ids = subprocess.run(
        [
            "docker",
            "ps",
            "-q",
            "--filter",
            f"label=io.minikubelet.instance={node.instance}",
            "--filter",
            f"label=io.minikubelet.pod.name={name}",
            "--filter",
            f"label=io.minikubelet.container.name={container}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert len(ids) == 1, ids
    details: list[dict[str, Any]] = json.loads(
        subprocess.run(["docker", "inspect", ids[0]], capture_output=True, check=True).stdout
    )
    return details[0]


def test_post_start_and_pre_stop_exec_hooks(node: Node, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: hooked}}
spec:
  terminationGracePeriodSeconds: 5
  containers:
    - name: main
      image: {BUSYBOX}
      command: ["sh", "-c", "while [ ! -f /out/started ]; do sleep 0.1; done; cat /out/started; exec sleep 3600"]
      lifecycle:
        postStart:
          exec: {{command: ["sh", "-c", "echo hooked > /out/started"]}}
        preStop:
          exec: {{command: ["sh", "-c", "echo bye > /out/stopped"]}}
      volumeMounts: [{{name: out, mountPath: /out}}]
  volumes:
    - name: out
      hostPath: {{path: {out}, type: Directory}}
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    assert eventually(lambda: running(node, "hooked"), timeout=30)
    assert eventually(lambda: "hooked" in node.cli("logs", "hooked").stdout, timeout=20)
    node.cli("delete", "pod", "hooked", check=True)
    assert (out / "stopped").read_text() == "bye\n", "preStop ran before the container was stopped"


def test_limits_become_docker_memory_and_cpu(node: Node) -> None:
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: limited}}
spec:
  containers:
    - name: main
      image: {BUSYBOX}
      command: ["sleep", "3600"]
      resources: {{limits: {{memory: 64Mi, cpu: 500m}}}}
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    assert eventually(lambda: running(node, "limited"), timeout=30)
    host_config = inspect(node, "limited", "main")["HostConfig"]
    assert host_config["Memory"] == 64 * 1024 * 1024
    assert host_config["NanoCpus"] == 500_000_000
    assert node.pod("limited")["status"]["qosClass"] == "Guaranteed"
    node.cli("delete", "pod", "limited", "--grace-period=1", check=True)


def test_a_host_port_reaches_the_pod(node: Node) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: published}}
spec:
  containers:
    - name: app
      image: minikubelet.local/echo:v1
      ports: [{{containerPort: 3000, hostPort: {port}, hostIP: 127.0.0.1}}]
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    assert eventually(lambda: running(node, "published"), timeout=30)

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/via-host-port", timeout=2) as response:
                return b"GET /via-host-port" in response.read()
        except OSError:
            return False

    assert eventually(answers, timeout=20)
    node.cli("delete", "pod", "published", "--grace-period=1", check=True)


def test_an_empty_dir_is_shared_and_removed_with_the_pod(node: Node) -> None:
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: sharing}}
spec:
  containers:
    - name: writer
      image: {BUSYBOX}
      command: ["sh", "-c", "echo shared > /data/note; exec sleep 3600"]
      volumeMounts: [{{name: data, mountPath: /data}}]
    - name: reader
      image: {BUSYBOX}
      command: ["sh", "-c", "until cat /data/note; do sleep 0.1; done; exec sleep 3600"]
      volumeMounts: [{{name: data, mountPath: /data, readOnly: true}}]
  volumes:
    - name: data
      emptyDir: {{}}
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    assert eventually(lambda: running(node, "sharing"), timeout=30)
    assert eventually(lambda: "shared" in node.cli("logs", "sharing", "-c", "reader").stdout, timeout=20)
    uid = node.pod("sharing")["metadata"]["uid"]
    assert (node.home / "pods" / uid / "volumes" / "data" / "note").exists()
    node.cli("delete", "pod", "sharing", "--grace-period=1", check=True)
    assert not (node.home / "pods" / uid).exists()
