"""Containers killed or removed behind the kubelet's back (`docker kill`, `docker rm -f`).

The kubelet listens to the engine's events, so it notices within a second and does what the kubelet does:
an app container is restarted per restartPolicy (restartCount + 1, lastState = the killed instance, exit
code 137), or the pod fails (Never); a lost sandbox (pause container) means its containers are killed
(`Killing`) and created again in a new sandbox (`SandboxChanged` when the old one is still there to replace,
as SyncPod says it), or the pod fails (Never). Each test measures the time from the kill to the pod's status
(or event) reflecting it, with a generous bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import docker
import pytest
from nodes import Node, eventually, pod_yaml, running_node

pytestmark = pytest.mark.docker

INSTANCE_LABEL = "io.minikubelet.instance"
UID_LABEL = "io.minikubelet.pod.uid"
KIND_LABEL = "io.minikubelet.container.kind"
DETECTION_BOUND = 3.0  # seconds from the kill to the status (or event) saying so; the events make it well under 1 s


@pytest.fixture(scope="module")
def node(docker_client: docker.DockerClient, local_images: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from running_node(tmp_path_factory.mktemp("killed-home"))


def start_pod(node: Node, name: str, *, restart: str = "Always") -> dict[str, Any]:
    manifest = pod_yaml(name, "exec sleep 3600", restart=restart, grace=1)
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    assert eventually(lambda: "running" in main_status(pod(node, name)).get("state", {}), timeout=30)
    return pod(node, name)


def pod(node: Node, name: str) -> dict[str, Any]:
    found: dict[str, Any] = node.api(f"/api/v1/namespaces/default/pods/{name}")
    return found


def main_status(obj: dict[str, Any]) -> dict[str, Any]:
    statuses = obj.get("status", {}).get("containerStatuses", [])
    return next((s for s in statuses if s["name"] == "main"), {})


def events(node: Node, name: str, reason: str) -> list[dict[str, Any]]:
    selector = quote(f"involvedObject.name={name},reason={reason}")
    items: list[dict[str, Any]] = node.api(f"/api/v1/namespaces/default/events?fieldSelector={selector}")["items"]
    return items


def seconds_until(check: Callable[[], bool], *, timeout: float = 20) -> float:
    """How long `check` took to hold (polled every 20 ms); fails the test if it never does."""
    started = time.monotonic()
    assert eventually(check, timeout=timeout, interval=0.02), "never happened"
    return time.monotonic() - started


def ours(client: docker.DockerClient, node: Node, uid: str) -> list[Any]:
    filters = {"label": [f"{INSTANCE_LABEL}={node.instance}", f"{UID_LABEL}={uid}"]}
    return list(client.containers.list(all=True, filters=filters, ignore_removed=True))


def running_kinds(client: docker.DockerClient, node: Node, uid: str) -> list[str]:
    return sorted(c.labels[KIND_LABEL] for c in ours(client, node, uid) if c.status == "running")


def container_id(obj: dict[str, Any]) -> str:
    return str(main_status(obj)["containerID"]).removeprefix("docker://")


def sandbox_of(client: docker.DockerClient, node: Node, uid: str) -> Any:
    return next(c for c in ours(client, node, uid) if c.labels[KIND_LABEL] == "sandbox" and c.status == "running")


# --- app containers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["Always", "OnFailure"])
def test_a_killed_app_container_is_restarted(node: Node, docker_client: docker.DockerClient, policy: str) -> None:
    name = f"kill-app-{policy.lower()}"
    before = start_pod(node, name, restart=policy)
    victim = container_id(before)

    docker_client.containers.get(victim).kill()
    took = seconds_until(lambda: main_status(pod(node, name)).get("restartCount") == 1)

    assert took < DETECTION_BOUND, f"the status took {took:.2f}s to show the restart"
    status = main_status(pod(node, name))
    terminated = status["lastState"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"], terminated["containerID"]) == (137, "Error", f"docker://{victim}")
    assert eventually(lambda: "running" in main_status(pod(node, name))["state"], timeout=10)
    assert container_id(pod(node, name)) != victim
    assert running_kinds(docker_client, node, before["metadata"]["uid"]) == ["app", "sandbox"]
    assert pod(node, name)["status"]["phase"] == "Running"


def test_a_killed_container_of_a_never_pod_fails_it(node: Node, docker_client: docker.DockerClient) -> None:
    name = "kill-app-never"
    before = start_pod(node, name, restart="Never")
    victim = container_id(before)

    docker_client.containers.get(victim).kill()
    took = seconds_until(lambda: pod(node, name)["status"]["phase"] == "Failed")

    assert took < DETECTION_BOUND, f"the status took {took:.2f}s to show the failure"
    status = main_status(pod(node, name))
    assert status["restartCount"] == 0 and status["containerID"] == f"docker://{victim}"
    assert (status["state"]["terminated"]["exitCode"], status["state"]["terminated"]["reason"]) == (137, "Error")
    # Nothing is started again, and the finished pod gives its sandbox up.
    uid = before["metadata"]["uid"]
    assert eventually(lambda: running_kinds(docker_client, node, uid) == [], timeout=10)
    assert [c.id for c in ours(docker_client, node, uid) if c.labels[KIND_LABEL] == "app"] == [victim]


def test_a_removed_app_container_is_replaced_and_counted_as_a_restart(node: Node, docker_client: docker.DockerClient) -> None:
    name = "rm-app"
    before = start_pod(node, name)
    victim = container_id(before)

    docker_client.containers.get(victim).remove(force=True)
    took = seconds_until(lambda: main_status(pod(node, name)).get("containerID", victim).removeprefix("docker://") != victim)

    assert took < DETECTION_BOUND, f"the status took {took:.2f}s to show the replacement"
    assert eventually(lambda: "running" in main_status(pod(node, name))["state"], timeout=10)
    status = main_status(pod(node, name))
    assert status["restartCount"] == 1, "the replacement counts as a restart: the count never goes back to 0"
    assert running_kinds(docker_client, node, before["metadata"]["uid"]) == ["app", "sandbox"]
    assert events(node, name, "SandboxChanged") == []


# --- the sandbox --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["kill", "rm -f"])
def test_a_lost_sandbox_recreates_the_pod(node: Node, docker_client: docker.DockerClient, how: str) -> None:
    name = "sandbox-kill" if how == "kill" else "sandbox-rm"
    before = start_pod(node, name)
    uid, victim = before["metadata"]["uid"], container_id(before)
    sandbox = sandbox_of(docker_client, node, uid)

    if how == "kill":
        sandbox.kill()
    else:
        sandbox.remove(force=True)
    took = seconds_until(lambda: len(events(node, name, "Killing")) == 1)

    assert took < DETECTION_BOUND, f"the kubelet took {took:.2f}s to kill what ran in the lost sandbox"
    killing = events(node, name, "Killing")[0]
    assert (killing["type"], killing["message"]) == ("Normal", "Stopping container main")
    assert killing["involvedObject"]["fieldPath"] == "spec.containers{main}"
    changed = events(node, name, "SandboxChanged")
    if how == "kill":
        assert [(e["type"], e["message"]) for e in changed] == [
            ("Normal", "Pod sandbox changed, it will be killed and re-created.")
        ]
        assert changed[0]["source"] == {"component": "kubelet", "host": before["spec"]["nodeName"]}
    else:
        # `rm -f` is a kill, then a removal: whether the kubelet still saw the dead sandbox (SandboxChanged) or
        # found none (no event, as SyncPod) depends on which it saw first.
        assert len(changed) <= 1

    def recreated() -> bool:
        status = main_status(pod(node, name))
        return (
            status.get("restartCount") == 1
            and "running" in status.get("state", {})
            and bool(pod(node, name)["status"].get("podIP"))
        )

    assert eventually(recreated, timeout=20)
    after = pod(node, name)
    terminated = main_status(after)["lastState"]["terminated"]
    assert (terminated["exitCode"], terminated["containerID"]) == (137, f"docker://{victim}")
    assert after["status"]["phase"] == "Running"
    new_sandbox = sandbox_of(docker_client, node, uid)
    assert new_sandbox.id != sandbox.id
    assert after["status"]["podIP"] == new_sandbox.attrs["NetworkSettings"]["IPAddress"]
    app = docker_client.containers.get(container_id(after))
    assert app.attrs["HostConfig"]["NetworkMode"] == f"container:{new_sandbox.id}", "the app joined the new sandbox"
    assert running_kinds(docker_client, node, uid) == ["app", "sandbox"]
    conditions = {c["type"]: c["status"] for c in after["status"]["conditions"]}
    assert conditions["Ready"] == "True" and conditions["PodReadyToStartContainers"] == "True"


def test_a_lost_sandbox_fails_a_never_pod(node: Node, docker_client: docker.DockerClient) -> None:
    name = "sandbox-never"
    before = start_pod(node, name, restart="Never")
    uid = before["metadata"]["uid"]
    sandbox_of(docker_client, node, uid).kill()

    took = seconds_until(lambda: pod(node, name)["status"]["phase"] == "Failed")

    assert took < DETECTION_BOUND + 2, f"the status took {took:.2f}s to show the failure"  # + the 2 s stop grace
    status = main_status(pod(node, name))
    assert status["restartCount"] == 0 and status["state"]["terminated"]["exitCode"] == 137
    assert events(node, name, "SandboxChanged") == [], "a pod that never restarts gets no new sandbox"
    assert [e["message"] for e in events(node, name, "Killing")] == ["Stopping container main"]
    assert running_kinds(docker_client, node, uid) == []
