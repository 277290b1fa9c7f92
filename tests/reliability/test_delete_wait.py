"""A waiting `minikubelet delete` whose node dies in the middle of the wait never claims the pod is gone.

kubectl prints `pod "g1" deleted` once the DELETE call returns, then waits until the pod is really gone (a 404 or
a DELETED event for its uid), retrying its watch while the server is away, until `--timeout`. So does
`minikubelet delete`: when the node comes back and finishes the deletion, it exits 0; when the timeout passes
first, it says `error: timed out waiting for the condition on pods/g1` and exits 1.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from nodes import CLI, Node, eventually, pod_yaml, running_node

pytestmark = pytest.mark.docker

INSTANCE_LABEL = "io.minikubelet.instance"
UID_LABEL = "io.minikubelet.pod.uid"
STUBBORN = "trap '' TERM; while true; do sleep 0.2; done"  # ignores SIGTERM: the deletion takes its whole grace


@pytest.fixture(scope="module")
def node(docker_client: docker.DockerClient, local_images: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from running_node(tmp_path_factory.mktemp("delete-wait-home"))


def start_stubborn(node: Node, name: str, grace: int) -> str:
    node.cli("apply", "-f", "-", stdin=pod_yaml(name, STUBBORN, grace=grace), check=True)
    assert eventually(lambda: node.pod(name)["status"].get("phase") == "Running", timeout=60)
    return str(node.pod(name)["metadata"]["uid"])


def background_delete(node: Node, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*CLI, "delete", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=node.env)


def terminating(node: Node, name: str) -> bool:
    return bool(node.pod(name)["metadata"].get("deletionTimestamp"))


def kill_daemon(node: Node) -> None:
    pid = int((node.home / "daemon.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    assert eventually(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid), timeout=10), "the daemon survived SIGKILL"


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True


def ours(client: docker.DockerClient, node: Node, uid: str) -> list[Any]:
    filters = [f"{INSTANCE_LABEL}={node.instance}", f"{UID_LABEL}={uid}"]
    return list(client.containers.list(all=True, filters={"label": filters}, ignore_removed=True))


def still_waiting(process: subprocess.Popen[str], seconds: float) -> bool:
    """Whether `process` is still running after `seconds` (a bounded wait, not a sleep)."""
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return True
    return False


def test_a_delete_waiting_while_the_node_stays_down_times_out_with_one_line(
    node: Node, docker_client: docker.DockerClient
) -> None:
    uid = start_stubborn(node, "g1", grace=30)
    deleting = background_delete(node, "pod", "g1", "--timeout=4s")
    try:
        assert eventually(lambda: terminating(node, "g1"), timeout=10)
        assert still_waiting(deleting, 0.5), "delete returned while the pod terminates"
        kill_daemon(node)
        out, err = deleting.communicate(timeout=30)
    finally:
        if deleting.poll() is None:
            deleting.kill()
            deleting.wait()
    assert out == 'pod "g1" deleted from default namespace\n'
    assert deleting.returncode == 1, (deleting.returncode, err)
    assert err == "error: timed out waiting for the condition on pods/g1\n"
    assert [c for c in ours(docker_client, node, uid) if c.status == "running"], "the pod really still runs"

    node.cli("up", check=True)
    assert terminating(node, "g1"), "the deletion goes on after the restart"
    node.cli("delete", "pod", "g1", "--force", "--grace-period=0", check=True)  # not another 30 s
    assert eventually(lambda: not ours(docker_client, node, uid), timeout=30)


def test_a_delete_waiting_through_a_node_restart_succeeds_once_the_pod_is_gone(
    node: Node, docker_client: docker.DockerClient
) -> None:
    uid = start_stubborn(node, "g2", grace=6)
    deleting = background_delete(node, "pod", "g2")
    try:
        assert eventually(lambda: terminating(node, "g2"), timeout=10)
        kill_daemon(node)
        assert still_waiting(deleting, 3), "delete returned while the node was down"
        assert [c for c in ours(docker_client, node, uid) if c.status == "running"]

        node.cli("up", check=True)
        out, err = deleting.communicate(timeout=60)
    finally:
        if deleting.poll() is None:
            deleting.kill()
            deleting.wait()
    assert (deleting.returncode, out, err) == (0, 'pod "g2" deleted from default namespace\n', "")
    assert node.cli("get", "pod", "g2").returncode == 1, "delete said deleted while the pod exists"
    assert not ours(docker_client, node, uid)
