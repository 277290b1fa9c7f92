"""What `kubectl get pods -w` shows through a pod's life, on the real engine, against kubectl 1.37.

Each sequence is one a kubelet user sees on a cluster: the kubelet writes the pod's status before it acts
(ContainerCreating), between a crash and its back-off (Error, then CrashLoopBackOff), between a failed pull and
its back-off (ErrImagePull, then ImagePullBackOff), while a sidecar starts (Init:0/1), and while a pod with a
readiness probe terminates (1/1 Terminating, 0/1 Terminating, then its final phase, then gone).
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.nodes import BUSYBOX, KUBECTL, Node, kubectl_present, kubectl_requests, pod_yaml, running_node

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    if not kubectl_present():
        pytest.fail(f"no kubectl at {KUBECTL} (make install puts kubectl 1.37 there)")
    yield from running_node(tmp_path_factory.mktemp("sequences"))


class Watch:
    """`kubectl get pods --field-selector metadata.name=NAME -w --output-watch-events`: every row it prints,
    as (event, ready, status, restarts)."""

    def __init__(self, node: Node, name: str) -> None:
        self.name = name
        env = {**node.env, "KUBECONFIG": str(node.kubeconfig), "HOME": str(node.home)}
        self.process = subprocess.Popen(
            [
                *(KUBECTL, "get", "pods", "--field-selector", f"metadata.name={name}"),
                *("-w", "--output-watch-events", "--no-headers", "-v=6"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.rows: list[tuple[str, str, str, str]] = []
        self.listed = threading.Event()  # kubectl's watch is open (from its list's version: nothing is missed)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._errors = threading.Thread(target=self._read_errors, daemon=True)
        self._errors.start()

    def _read_errors(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if any(method == "GET" and "watch=true" in path for method, path, _ in kubectl_requests(line)):
                self.listed.set()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            fields = line.split()
            if len(fields) >= 5:
                self.rows.append((fields[0], fields[2], fields[3], fields[4]))

    def statuses(self) -> list[str]:
        """The STATUS column, repeats folded."""
        out: list[str] = []
        for row in list(self.rows):
            if not out or out[-1] != row[2]:
                out.append(row[2])
        return out

    def wait_for(self, wanted: list[str], *, timeout: float) -> list[str]:
        """Until `wanted` is a subsequence of the statuses shown; the statuses then."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _subsequence(wanted, self.statuses()):
                return self.statuses()
            time.sleep(0.1)
        raise AssertionError(f"never showed {wanted}: {self.rows}")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self._reader.join(timeout=10)
        self._errors.join(timeout=10)
        assert self.process.stdout is not None and self.process.stderr is not None
        self.process.stdout.close()
        self.process.stderr.close()


def _subsequence(wanted: list[str], seen: list[str]) -> bool:
    it = iter(seen)
    return all(any(s == w for s in it) for w in wanted)


def apply(node: Node, manifest: str) -> None:
    node.kubectl("apply", "-f", "-", stdin=manifest).check_returncode()


@pytest.fixture
def watch(node: Node, request: pytest.FixtureRequest) -> Iterator[Watch]:
    name = request.node.name.removeprefix("test_").replace("_", "-")[:40].strip("-")
    watcher = Watch(node, name)
    assert watcher.listed.wait(timeout=30), "kubectl never watched"  # every row of the pod's life follows
    try:
        yield watcher
    finally:
        watcher.close()
        node.kubectl("delete", "pod", name, "--grace-period=0", "--force", "--wait=false")


def test_pending_then_containercreating_then_running(node: Node, watch: Watch) -> None:
    apply(node, pod_yaml(watch.name, "sleep 3600"))
    seen = watch.wait_for(["Pending", "ContainerCreating", "Running"], timeout=60)
    assert seen[-1] == "Running"


def test_running_then_error_then_crashloopbackoff_then_running(node: Node, watch: Watch) -> None:
    apply(node, pod_yaml(watch.name, "sleep 2; exit 1"))
    # The first restart is at once; the second waits the 10 s back-off, shown as CrashLoopBackOff.
    watch.wait_for(["Running", "Error", "Running", "Error", "CrashLoopBackOff", "Running"], timeout=90)
    restarts = [int(row[3]) for row in watch.rows if row[2] == "Running"]
    assert max(restarts) >= 2


def test_containercreating_then_errimagepull_then_imagepullbackoff(node: Node, watch: Watch) -> None:
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: {watch.name}}}
spec:
  containers:
    - name: main
      image: minikubelet.local/no-such-image:1
"""
    apply(node, manifest)
    watch.wait_for(["ContainerCreating", "ErrImagePull", "ImagePullBackOff"], timeout=90)
    pod = node.pod(watch.name)
    waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] in ("ImagePullBackOff", "ErrImagePull")
    if waiting["reason"] == "ImagePullBackOff":
        assert waiting["message"].startswith('Back-off pulling image "minikubelet.local/no-such-image:1": ErrImagePull: ')


def test_sidecar_init_then_running_2_of_2_with_the_sidecar_restarting(node: Node, watch: Watch) -> None:
    name = watch.name
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  initContainers:
    - name: sidecar
      image: {BUSYBOX}
      restartPolicy: Always
      command: ["sh", "-c", "sleep 4; exit 1"]
  containers:
    - name: main
      image: {BUSYBOX}
      command: ["sleep", "3600"]
"""
    apply(node, manifest)
    watch.wait_for(["Init:0/1", "Running"], timeout=60)
    assert any(row[1] == "2/2" and row[2] == "Running" for row in watch.rows), watch.rows

    def sidecar_restarted() -> bool:
        pod = node.pod(name)
        sidecar = pod["status"]["initContainerStatuses"][0]
        return int(sidecar["restartCount"]) >= 1 and pod["status"]["phase"] == "Running"

    deadline = time.monotonic() + 60
    while not sidecar_restarted():
        assert time.monotonic() < deadline, node.pod(name)["status"]
        time.sleep(0.5)
    main = node.pod(name)["status"]["containerStatuses"][0]
    assert main["restartCount"] == 0 and "running" in main["state"], "the sidecar restarts alone"


def test_terminating_with_readiness_probed_and_no_liveness_kill(node: Node, watch: Watch, tmp_path: Path) -> None:
    name = watch.name
    script = (
        "trap 'rm -f /tmp/ready /tmp/alive; sleep 6; exit 0' TERM; touch /tmp/ready /tmp/alive; "
        "while true; do sleep 1; done"
    )
    probes = """      readinessProbe:
        exec: {command: [cat, /tmp/ready]}
        periodSeconds: 1
        failureThreshold: 1
      livenessProbe:
        exec: {command: [cat, /tmp/alive]}
        periodSeconds: 1
        failureThreshold: 1
"""
    apply(node, pod_yaml(name, script, grace=30, extra=probes))
    deadline = time.monotonic() + 60
    while not any(row[1] == "1/1" and row[2] == "Running" for row in watch.rows):
        assert time.monotonic() < deadline, watch.rows
        time.sleep(0.1)
    node.kubectl("delete", "pod", name, "--wait=false").check_returncode()
    deadline = time.monotonic() + 60
    while not any(row[0] == "DELETED" for row in watch.rows):
        assert time.monotonic() < deadline, watch.rows
        time.sleep(0.1)
    shown = [(row[1], row[2]) for row in watch.rows]
    assert ("1/1", "Terminating") in shown, shown
    assert ("0/1", "Terminating") in shown, f"readiness probed while terminating: {shown}"
    assert shown.index(("0/1", "Terminating")) > shown.index(("1/1", "Terminating"))
    assert shown[-1] == ("0/1", "Completed"), f"the final status before the pod goes: {shown}"
    events = json.loads(node.kubectl("get", "events", "-o", "json", "--field-selector", f"involvedObject.name={name}").stdout)
    messages = [e["message"] for e in events["items"] if e["reason"] == "Killing"]
    assert messages and not any("liveness" in m for m in messages), messages
