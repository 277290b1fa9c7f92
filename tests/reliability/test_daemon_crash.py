"""The node daemon SIGKILLed under load, then started again: nothing runs twice, nothing is forgotten.

Goes further than the adoption test of tests/integration/test_kubelet_docker.py (one sleeping pod): ten pods,
some probed, one crash-looping; a container that dies while no daemon watches; a pod killed mid-deletion.
After `minikubelet up` every running container is the same Docker container (ID and startedAt), restart
counts and the crash loop's back-off continue from where they were, probes run again, and Docker holds
exactly one running instance of every container.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import docker
import pytest
from nodes import Node, eventually, pod_yaml, running_node

pytestmark = pytest.mark.docker

BUSYBOX = "minikubelet.local/busybox:1.35"
ECHO = "minikubelet.local/echo:v1"
INSTANCE_LABEL = "io.minikubelet.instance"
UID_LABEL = "io.minikubelet.pod.uid"
CONTAINER_LABEL = "io.minikubelet.container.name"
KIND_LABEL = "io.minikubelet.container.kind"
ATTEMPT_LABEL = "io.minikubelet.container.attempt"

SLEEPERS = [f"sleeper-{i}" for i in range(6)]
EXEC_PROBED = ["exec-probed-0", "exec-probed-1"]
HTTP_PROBED = "http-probed"
CRASHER = "crasher"
STEADY = [*SLEEPERS, *EXEC_PROBED, HTTP_PROBED]  # the nine pods that run and stay up
INITIAL_BACKOFF = 10.0


@pytest.fixture(scope="module")
def node(docker_client: docker.DockerClient, local_images: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from running_node(tmp_path_factory.mktemp("crash-home"))


def _pod(name: str, container: str) -> str:
    return f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, labels: {{suite: crash}}}}\nspec:\n{container}"


def _sleeper(name: str) -> str:
    return _pod(
        name,
        f"""  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: {BUSYBOX}
      command: ["sh", "-c", "exec sleep 3600"]
""",
    )


def _exec_probed(name: str) -> str:
    return _pod(
        name,
        f"""  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: {BUSYBOX}
      command: ["sh", "-c", "touch /tmp/ok; exec sleep 3600"]
      readinessProbe: {{exec: {{command: [cat, /tmp/ok]}}, periodSeconds: 1, timeoutSeconds: 5}}
      livenessProbe: {{exec: {{command: [cat, /tmp/ok]}}, periodSeconds: 1, timeoutSeconds: 5, failureThreshold: 5}}
""",
    )


def _http_probed(name: str) -> str:
    return _pod(
        name,
        f"""  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: {ECHO}
      readinessProbe: {{httpGet: {{path: /ready, port: 3000}}, periodSeconds: 1, timeoutSeconds: 5}}
      livenessProbe: {{tcpSocket: {{port: 3000}}, periodSeconds: 1, timeoutSeconds: 5, failureThreshold: 5}}
""",
    )


def _crasher(name: str) -> str:
    return _pod(
        name,
        f"""  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: {BUSYBOX}
      command: ["sh", "-c", "exit 1"]
""",
    )


def manifests() -> str:
    docs = [*map(_sleeper, SLEEPERS), *map(_exec_probed, EXEC_PROBED), _http_probed(HTTP_PROBED), _crasher(CRASHER)]
    return "---\n".join(docs)


# --- observing ----------------------------------------------------------------------------------------------


def pods(node: Node) -> dict[str, dict[str, Any]]:
    listed = node.api("/api/v1/namespaces/default/pods?labelSelector=suite%3Dcrash")
    return {p["metadata"]["name"]: p for p in listed["items"]}


def main_status(pod: dict[str, Any]) -> dict[str, Any]:
    statuses = pod.get("status", {}).get("containerStatuses", [])
    return next((s for s in statuses if s["name"] == "main"), {})


def ready(pod: dict[str, Any]) -> bool:
    status = main_status(pod)
    return pod.get("status", {}).get("phase") == "Running" and status.get("ready") is True


def crash_looping(pod: dict[str, Any], restarts: int) -> bool:
    status = main_status(pod)
    waiting = status.get("state", {}).get("waiting", {})
    return status.get("restartCount") == restarts and waiting.get("reason") == "CrashLoopBackOff"


def events(node: Node, name: str, reason: str) -> list[dict[str, Any]]:
    selector = f"involvedObject.name={name},reason={reason}"
    items: list[dict[str, Any]] = node.api(f"/api/v1/namespaces/default/events?fieldSelector={quote(selector)}")["items"]
    return items


def event_count(node: Node, name: str, reason: str) -> int:
    return sum(int(e.get("count") or 1) for e in events(node, name, reason))


def ours(client: docker.DockerClient, node: Node, **labels: str) -> list[Any]:
    filters = [f"{INSTANCE_LABEL}={node.instance}", *(f"{key}={value}" for key, value in labels.items())]
    return list(client.containers.list(all=True, filters={"label": filters}, ignore_removed=True))


def docker_time(text: str) -> datetime:
    """Docker's RFC 3339 with nanoseconds, to the microsecond."""
    base, _, rest = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{base}.{(rest or '0')[:6].ljust(6, '0')}+00:00")


def api_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def kill_daemon(node: Node) -> None:
    pid = int((node.home / "daemon.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    assert eventually(lambda: _gone(pid), timeout=10), f"the daemon (pid {pid}) survived SIGKILL"


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def assert_one_running_instance_each(client: docker.DockerClient, node: Node, pod: dict[str, Any]) -> None:
    """One running sandbox and one running instance of the app container: nothing was started twice."""
    uid = pod["metadata"]["uid"]
    running = [c for c in ours(client, node, **{UID_LABEL: uid}) if c.status == "running"]
    kinds = sorted((c.labels[KIND_LABEL], c.labels[CONTAINER_LABEL]) for c in running)
    assert kinds == [("app", "main"), ("sandbox", "POD")], (pod["metadata"]["name"], kinds)


# --- the tests ----------------------------------------------------------------------------------------------


def test_ten_pods_survive_a_sigkilled_daemon(node: Node, docker_client: docker.DockerClient) -> None:
    node.cli("apply", "-f", "-", stdin=manifests(), check=True)
    assert eventually(lambda: all(ready(p) for name, p in pods(node).items() if name != CRASHER), timeout=90)
    probed = [*EXEC_PROBED, HTTP_PROBED]
    assert eventually(lambda: all(len(node.probe_attempts(name)) >= 2 for name in probed), timeout=10)
    before = pods(node)
    started_events = {name: event_count(node, name, "Started") for name in STEADY}
    # The crash loop: attempt 0 failed (restarted at once), attempt 1 failed (10 s back-off), attempt 2
    # failed: a 20 s back-off runs, longer than the daemon takes to come back. Kill the daemon right then.
    assert eventually(lambda: crash_looping(pods(node)[CRASHER], 2), timeout=40)
    kill_daemon(node)
    killed_at = datetime.now(UTC)
    node.cli("up", check=True)

    after = pods(node)
    assert sorted(after) == sorted(before), "every pod is still there"
    for name in STEADY:
        old, new = main_status(before[name]), main_status(after[name])
        assert new["containerID"] == old["containerID"], f"{name}: a new container"
        assert new["state"]["running"]["startedAt"] == old["state"]["running"]["startedAt"], f"{name}: restarted"
        assert new["restartCount"] == old["restartCount"] == 0
        assert after[name]["metadata"]["uid"] == before[name]["metadata"]["uid"]
        assert_one_running_instance_each(docker_client, node, after[name])

    # Probes run again, on the same containers, and keep the probed pods ready.
    for name in [*EXEC_PROBED, HTTP_PROBED]:
        container_id = main_status(before[name])["containerID"].removeprefix("docker://")

        def probed_again(name: str = name, container_id: str = container_id) -> bool:
            fresh = [a for a in node.probe_attempts(name) if api_time(a["start"]) > killed_at]
            kinds = {a["probe"] for a in fresh if a["containerID"] == container_id and a["result"] == "Success"}
            return kinds == {"Readiness", "Liveness"}

        assert eventually(probed_again, timeout=15), f"{name}: no probe ran after the restart"
    assert eventually(lambda: all(ready(p) for name, p in pods(node).items() if name != CRASHER), timeout=15)
    for name in STEADY:
        assert event_count(node, name, "Started") == started_events[name], f"{name}: started again"

    # The back-off goes on: the restart count never goes down, and the next restart waits its 20 s.
    restarts_seen: list[int] = []

    def crasher_restarted() -> bool:
        restarts_seen.append(int(main_status(pods(node)[CRASHER]).get("restartCount", -1)))
        return restarts_seen[-1] >= 3

    assert eventually(crasher_restarted, timeout=40, interval=0.2)
    assert min(restarts_seen) >= 2 and restarts_seen == sorted(restarts_seen), f"the restart count went down: {restarts_seen}"
    uid = before[CRASHER]["metadata"]["uid"]
    instances = {int(c.labels[ATTEMPT_LABEL]): c for c in ours(docker_client, node, **{UID_LABEL: uid, KIND_LABEL: "app"})}
    failed = docker_time(instances[2].attrs["State"]["FinishedAt"])
    restarted = docker_time(instances[3].attrs["State"]["StartedAt"])
    waited = (restarted - failed).total_seconds()
    assert waited >= 2 * INITIAL_BACKOFF - 0.5, f"restarted {waited:.1f}s after the failure: the back-off was forgotten"

    # No duplicates anywhere: per pod at most one running sandbox and one running app container.
    running = [c for c in ours(docker_client, node) if c.status == "running"]
    per_container = [(c.labels[UID_LABEL], c.labels[CONTAINER_LABEL]) for c in running]
    assert len(per_container) == len(set(per_container)), per_container
    assert len([c for c in running if c.labels[KIND_LABEL] == "sandbox"]) == 10


def test_a_container_that_died_while_the_daemon_was_down_is_restarted(node: Node, docker_client: docker.DockerClient) -> None:
    name = SLEEPERS[0]
    before = pods(node)
    victim = main_status(before[name])["containerID"].removeprefix("docker://")
    others = {n: main_status(before[n])["containerID"] for n in STEADY if n != name}

    kill_daemon(node)
    docker_client.containers.get(victim).kill()  # nobody listens to the engine's events now
    node.cli("up", check=True)

    def restarted() -> bool:
        status = main_status(pods(node)[name])
        return status.get("restartCount") == 1 and "running" in status.get("state", {})

    assert eventually(restarted, timeout=30)
    status = main_status(pods(node)[name])
    assert status["lastState"]["terminated"]["exitCode"] == 137
    assert status["lastState"]["terminated"]["containerID"] == f"docker://{victim}"
    after = pods(node)
    assert {n: main_status(after[n])["containerID"] for n in others} == others, "only the dead container was replaced"
    assert_one_running_instance_each(docker_client, node, after[name])


def test_a_deletion_cut_short_by_the_crash_finishes_after_the_restart(node: Node, docker_client: docker.DockerClient) -> None:
    manifest = pod_yaml("stubborn", "trap '' TERM; while true; do sleep 0.2; done", grace=30)
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    assert eventually(lambda: node.pod("stubborn")["status"].get("phase") == "Running", timeout=30)
    uid = node.pod("stubborn")["metadata"]["uid"]
    deleting = node.cli("delete", "pod", "stubborn", "--grace-period=4", "--no-wait", check=True)
    assert deleting.stdout == 'pod "stubborn" deleted from default namespace\n'
    assert eventually(lambda: event_count(node, "stubborn", "Killing") >= 1, timeout=10)

    kill_daemon(node)  # in the middle of the grace period: the kubelet was waiting for the container
    killed = time.monotonic()
    assert [c for c in ours(docker_client, node, **{UID_LABEL: uid}) if c.status == "running"], "still running"
    node.cli("up", check=True)

    assert eventually(lambda: node.cli("get", "pod", "stubborn").returncode == 1, timeout=30)
    assert time.monotonic() - killed < 25
    assert ours(docker_client, node, **{UID_LABEL: uid}) == [], "the deleted pod's containers are gone"
