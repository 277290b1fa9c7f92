"""The kubelet on the real Docker engine, through the real CLI and daemon (local images only)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nodes import Node, eventually, pod_yaml, running_node

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
BUSYBOX = "minikubelet.local/busybox:1.35"


@pytest.fixture(scope="module")
def node(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from running_node(tmp_path_factory.mktemp("kubelet-home"))


def status_of(node: Node, name: str, container: str = "main") -> dict[str, Any]:
    statuses = node.pod(name)["status"].get("containerStatuses", [])
    return next((s for s in statuses if s["name"] == container), {})


def events_of(node: Node, name: str) -> list[dict[str, Any]]:
    result = node.cli("get", "events", "--field-selector", f"involvedObject.name={name}", "-o", "json", check=True)
    items: list[dict[str, Any]] = json.loads(result.stdout)["items"]
    return sorted(items, key=lambda e: (e.get("firstTimestamp", ""), e["metadata"].get("resourceVersion", "0").zfill(12)))


def test_the_echo_pod_runs_with_the_kubelets_events(node: Node) -> None:
    node.cli("apply", "-f", str(ROOT / "manifests" / "echo-pod.yml"), check=True)
    assert eventually(lambda: node.pod("echo")["status"].get("phase") == "Running", timeout=30)
    pod = node.pod("echo")
    assert pod["status"]["podIP"] and pod["status"]["podIPs"] == [{"ip": pod["status"]["podIP"]}]
    conditions = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
    assert conditions == {
        "PodReadyToStartContainers": "True",
        "Initialized": "True",
        "Ready": "True",
        "ContainersReady": "True",
        "PodScheduled": "True",
    }
    app = status_of(node, "echo", "app")
    assert app["ready"] is True and app["restartCount"] == 0 and app["containerID"].startswith("docker://")
    reasons = [e["reason"] for e in events_of(node, "echo")]
    assert reasons == ["Scheduled", "Pulled", "Created", "Started"], reasons
    row = node.cli("get", "pods", "echo", check=True).stdout.splitlines()[1].split()
    assert row[1:4] == ["1/1", "Running", "0"]
    node.cli("delete", "pod", "echo", check=True)


def test_containers_of_a_pod_share_localhost(node: Node) -> None:
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: pair}}
spec:
  restartPolicy: Never
  containers:
    - name: server
      image: minikubelet.local/echo:v1
    - name: client
      image: {BUSYBOX}
      command: ["sh", "-c", "for i in $(seq 100); do wget -q -O- http://127.0.0.1:3000/x && exit 0; sleep 0.1; done; exit 1"]
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    assert eventually(lambda: "terminated" in status_of(node, "pair", "client").get("state", {}), timeout=30)
    assert status_of(node, "pair", "client")["state"]["terminated"]["exitCode"] == 0
    node.cli("delete", "pod", "pair", "--grace-period=1", check=True)


@pytest.mark.parametrize(
    ("restart", "code", "phase", "reason"),
    [("Never", 0, "Succeeded", "Completed"), ("Never", 1, "Failed", "Error"), ("OnFailure", 0, "Succeeded", "Completed")],
)
def test_finished_pods_reach_their_phase(node: Node, restart: str, code: int, phase: str, reason: str) -> None:
    name = f"finish-{restart.lower()}-{code}"
    node.cli("apply", "-f", "-", stdin=pod_yaml(name, f"exit {code}", restart=restart), check=True)
    assert eventually(lambda: node.pod(name)["status"].get("phase") == phase, timeout=30)
    state = status_of(node, name)["state"]["terminated"]
    assert (state["exitCode"], state["reason"]) == (code, reason)
    assert status_of(node, name)["restartCount"] == 0
    table = node.cli("get", "pod", name, check=True).stdout.splitlines()[1].split()
    assert table[2] == reason
    node.cli("delete", "pod", name, check=True)


@pytest.mark.parametrize(("restart", "code"), [("Always", 0), ("Always", 1), ("OnFailure", 1)])
def test_restarting_pods_enter_crash_loop_back_off(node: Node, restart: str, code: int) -> None:
    name = f"crash-{restart.lower()}-{code}"
    node.cli("apply", "-f", "-", stdin=pod_yaml(name, f"exit {code}", restart=restart), check=True)
    # The first restart is immediate, the next one waits 10 s: the container waits in CrashLoopBackOff.
    assert eventually(lambda: status_of(node, name).get("restartCount", 0) >= 1, timeout=30)

    def backing_off() -> bool:
        waiting = status_of(node, name).get("state", {}).get("waiting", {})
        return waiting.get("reason") == "CrashLoopBackOff"

    assert eventually(backing_off, timeout=30)
    status = status_of(node, name)
    assert "back-off 10s restarting failed container=main" in status["state"]["waiting"]["message"]
    assert status["lastState"]["terminated"]["exitCode"] == code
    assert node.pod(name)["status"]["phase"] == "Running"
    assert "CrashLoopBackOff" in node.cli("get", "pod", name, check=True).stdout
    reasons = [e["reason"] for e in events_of(node, name)]
    assert "BackOff" in reasons
    node.cli("delete", "pod", name, check=True)


def test_back_off_doubles(node: Node) -> None:
    node.cli("apply", "-f", "-", stdin=pod_yaml("doubling", "exit 1"), check=True)
    assert eventually(lambda: status_of(node, "doubling").get("restartCount", 0) >= 2, timeout=40)

    def twenty() -> bool:
        return "back-off 20s" in status_of(node, "doubling").get("state", {}).get("waiting", {}).get("message", "")

    assert eventually(twenty, timeout=20)
    node.cli("delete", "pod", "doubling", check=True)


def test_init_containers_run_first(node: Node) -> None:
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: initialized}}
spec:
  initContainers:
    - name: prepare
      image: {BUSYBOX}
      command: ["sh", "-c", "echo ready > /work/flag"]
      volumeMounts: [{{name: work, mountPath: /work}}]
  containers:
    - name: main
      image: {BUSYBOX}
      command: ["sh", "-c", "cat /work/flag && exec sleep 3600"]
      volumeMounts: [{{name: work, mountPath: /work}}]
  volumes:
    - name: work
      emptyDir: {{}}
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    assert eventually(lambda: node.pod("initialized")["status"].get("phase") == "Running", timeout=30)
    pod = node.pod("initialized")
    init = pod["status"]["initContainerStatuses"][0]
    assert init["state"]["terminated"]["reason"] == "Completed"
    assert status_of(node, "initialized")["restartCount"] == 0, "main found the emptyDir file the init container wrote"
    started = [e["involvedObject"].get("fieldPath") for e in events_of(node, "initialized") if e["reason"] == "Started"]
    assert started == ["spec.initContainers{prepare}", "spec.containers{main}"]
    node.cli("delete", "pod", "initialized", "--grace-period=1", check=True)


def test_delete_honours_the_grace_period_of_a_container_ignoring_sigterm(node: Node) -> None:
    node.cli("apply", "-f", "-", stdin=pod_yaml("stubborn", 'trap "" TERM; while true; do sleep 1; done', grace=3), check=True)
    assert eventually(lambda: node.pod("stubborn")["status"].get("phase") == "Running", timeout=30)
    started = time.monotonic()
    assert node.cli("delete", "pod", "stubborn", check=True).stdout == 'pod "stubborn" deleted from default namespace\n'
    took = time.monotonic() - started
    assert 2.5 <= took < 20, took
    ids = subprocess.run(
        [
            "docker",
            "ps",
            "-aq",
            "--filter",
            "label=io.minikubelet.pod.name=stubborn",
            "--filter",
            f"label=io.minikubelet.instance={node.instance}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert ids == [], "the pod's containers and sandbox are removed"


def pod_containers(node: Node, name: str) -> list[str]:
    labels = [f"label=io.minikubelet.pod.name={name}", f"label=io.minikubelet.instance={node.instance}"]
    filters = [arg for label in labels for arg in ("--filter", label)]
    return subprocess.run(["docker", "ps", "-aq", *filters], capture_output=True, text=True, check=True).stdout.split()


@pytest.mark.parametrize("second", [["--grace-period=1"], ["--force", "--grace-period=0"]], ids=["shorter", "force"])
def test_a_second_delete_with_a_shorter_grace_period_stops_the_containers_sooner(node: Node, second: list[str]) -> None:
    name = f"slow-stop-{second[0].strip('-').split('=')[0]}"
    script = 'trap "" TERM; while true; do sleep 1; done'
    node.cli("apply", "-f", "-", stdin=pod_yaml(name, script, grace=120), check=True)
    assert eventually(lambda: node.pod(name)["status"].get("phase") == "Running", timeout=30)
    node.cli("delete", "pod", name, "--wait=false", check=True)
    assert eventually(lambda: any(e["reason"] == "Killing" for e in events_of(node, name)), timeout=10)
    started = time.monotonic()
    node.cli("delete", "pod", name, *second, "--wait=false", check=True)
    # The first delete would hold the containers for 120 s; the second one stops them within its own period.
    assert eventually(lambda: pod_containers(node, name) == [], timeout=30), pod_containers(node, name)
    assert time.monotonic() - started < 30
    assert eventually(lambda: node.cli("get", "pod", name).returncode == 1, timeout=10)


def test_a_public_image_fails_with_err_image_pull(node: Node) -> None:
    manifest = """apiVersion: v1
kind: Pod
metadata: {name: public}
spec:
  containers:
    - name: main
      image: busybox:1.36
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)

    def reason() -> str:
        return str(status_of(node, "public").get("state", {}).get("waiting", {}).get("reason", ""))

    assert eventually(lambda: reason() in ("ErrImagePull", "ImagePullBackOff"), timeout=60)
    assert eventually(lambda: reason() == "ImagePullBackOff", timeout=30)
    messages = [e["message"] for e in events_of(node, "public")]
    assert any(m.startswith('Failed to pull image "busybox:1.36": ') for m in messages)
    assert 'Pulling image "busybox:1.36"' in messages
    node.cli("delete", "pod", "public", check=True)


def test_the_daemon_killed_and_restarted_adopts_running_containers(node: Node) -> None:
    node.cli("apply", "-f", "-", stdin=pod_yaml("survivor", "exec sleep 3600"), check=True)
    assert eventually(lambda: node.pod("survivor")["status"].get("phase") == "Running", timeout=30)
    before = status_of(node, "survivor")["containerID"]
    pid = int((node.home / "daemon.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    assert eventually(lambda: not Path(f"/proc/{pid}").exists() or "zombie" in _proc_state(pid), timeout=10)
    node.cli("up", check=True)
    assert eventually(lambda: node.pod("survivor")["status"].get("phase") == "Running", timeout=30)
    after = status_of(node, "survivor")
    assert after["containerID"] == before and after["restartCount"] == 0
    created = [e for e in events_of(node, "survivor") if e["reason"] == "Created"]
    assert len(created) == 1 and created[0].get("count", 1) == 1
    node.cli("delete", "pod", "survivor", "--grace-period=1", check=True)


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


def test_logs_previous_tail_and_follow(node: Node) -> None:
    script = 'echo "attempt $(cat /proc/1/stat | cut -d" " -f1)"; echo line2; echo line3; sleep 1; exit 1'
    node.cli("apply", "-f", "-", stdin=pod_yaml("chatty", script), check=True)
    assert eventually(lambda: status_of(node, "chatty").get("restartCount", 0) >= 1, timeout=30)
    current = node.cli("logs", "chatty")
    assert current.returncode == 0, current.stderr
    assert "line2\nline3\n" in current.stdout or current.stdout == ""
    previous = node.cli("logs", "chatty", "--previous", check=True).stdout
    assert previous.splitlines()[1:] == ["line2", "line3"]
    assert node.cli("logs", "chatty", "--previous", "--tail", "1", check=True).stdout == "line3\n"
    stamped = node.cli("logs", "chatty", "--previous", "--timestamps", check=True).stdout.splitlines()
    assert all(line[:4].isdigit() and "Z " in line for line in stamped)
    node.cli("delete", "pod", "chatty", check=True)


def test_logs_follow_ends_when_the_container_exits(node: Node) -> None:
    node.cli(
        "apply",
        "-f",
        "-",
        stdin=pod_yaml("follow", "for i in 1 2 3; do echo tick $i; sleep 0.3; done", restart="Never"),
        check=True,
    )
    assert eventually(
        lambda: (
            "running" in status_of(node, "follow").get("state", {}) or "terminated" in status_of(node, "follow").get("state", {})
        ),
        timeout=30,
    )
    followed = node.cli("logs", "-f", "follow", timeout=30, check=True).stdout
    assert followed.splitlines()[-1] == "tick 3"
    node.cli("delete", "pod", "follow", check=True)


def test_logs_errors_and_real_kubectl(node: Node) -> None:
    node.cli("apply", "-f", str(ROOT / "manifests" / "multi-container.yml"), check=True)
    assert eventually(lambda: node.pod("multi")["status"].get("phase") == "Running", timeout=30)
    assert eventually(lambda: "GET /from-sidecar" in node.cli("logs", "multi", "-c", "app").stdout, timeout=20)
    defaulted = node.cli("logs", "multi")
    assert defaulted.stderr.startswith('Defaulted container "app" out of: app, sidecar')
    bad = node.cli("logs", "multi", "-c", "nope")
    # Refused client-side, as kubectl does.
    assert bad.returncode == 1 and bad.stderr == "error: container nope is not valid for pod multi out of: app, sidecar\n"
    theirs = node.kubectl("logs", "multi", "-c", "app")
    assert theirs.returncode == 0, theirs.stderr
    assert "GET /from-sidecar" in theirs.stdout
    node.cli("delete", "pod", "multi", "--grace-period=1", check=True)


def test_force_delete_removes_the_object_at_once_and_the_kubelet_still_cleans_up(node: Node) -> None:
    node.cli("apply", "-f", "-", stdin=pod_yaml("forced", 'trap "" TERM; while true; do sleep 1; done'), check=True)
    assert eventually(lambda: node.pod("forced")["status"].get("phase") == "Running", timeout=30)
    result = node.cli("delete", "pod", "forced", "--grace-period=0", "--force", check=True)
    assert result.stdout == 'pod "forced" force deleted from default namespace\n'
    assert node.cli("get", "pod", "forced").returncode == 1, "the API object is gone at once"

    def containers() -> list[str]:
        return subprocess.run(
            [
                "docker",
                "ps",
                "-aq",
                "--filter",
                "label=io.minikubelet.pod.name=forced",
                "--filter",
                f"label=io.minikubelet.instance={node.instance}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()

    assert eventually(lambda: containers() == [], timeout=30), "the kubelet removed the containers afterwards"


def test_two_pods_start_while_a_third_fails_to_pull(node: Node) -> None:
    stuck = """apiVersion: v1
kind: Pod
metadata: {name: stuck}
spec:
  containers: [{name: main, image: "busybox:1.36"}]
"""
    node.cli("apply", "-f", "-", stdin=stuck, check=True)
    node.cli("apply", "-f", "-", stdin=pod_yaml("free-a", "exec sleep 3600"), check=True)
    node.cli("apply", "-f", "-", stdin=pod_yaml("free-b", "exec sleep 3600"), check=True)
    assert eventually(lambda: all(node.pod(n)["status"].get("phase") == "Running" for n in ("free-a", "free-b")), timeout=30)
    for name in ("stuck", "free-a", "free-b"):
        node.cli("delete", "pod", name, "--grace-period=1", check=True)
