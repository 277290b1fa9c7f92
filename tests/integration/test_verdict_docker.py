"""`minikubelet test` on the real engine, each test with a node of its own that the command starts itself
(`--home`): a passing pod, a crash loop failing within a bound of the kubelet's CrashLoopBackOff (not at the
deadline), a liveness kill, an image that cannot be pulled, a pod never Ready (the deadline's code), --junit and
--artifacts, and the cleanup (pods gone afterwards; kept with --keep)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from nodes import CLI, Node, eventually, pod_yaml

pytestmark = pytest.mark.docker

NEVER_READY = """      readinessProbe:
        exec: {command: [cat, /nonexistent]}
        periodSeconds: 1"""
READY = """      readinessProbe:
        exec: {command: ["true"]}
        periodSeconds: 1"""


@pytest.fixture
def node(docker_client: Any, local_images: Any, tmp_path: Path) -> Iterator[Node]:
    """A home of its own; no node runs in it until `minikubelet test` starts one. Stopped afterwards."""
    node = Node(tmp_path / "home")
    try:
        yield node
    finally:
        node.cli("down", "--delete-pods", timeout=120)
        node.remove_containers()


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def run(node: Node, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return node.cli("test", "--home", str(node.home), *args, timeout=timeout)


def pod_names(node: Node) -> list[str]:
    return [p["metadata"]["name"] for p in node.api("/api/v1/namespaces/default/pods")["items"]]


def created(node: Node, name: str) -> bool:
    """The pod exists (False while the node the command starts does not answer yet)."""
    try:
        return name in pod_names(node)
    except Exception:
        return False


def node_containers(node: Node) -> list[str]:
    found = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=io.minikubelet.instance={node.instance}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.split()


def test_a_passing_pod_passes_and_is_cleaned_up(node: Node, tmp_path: Path) -> None:
    path = write(tmp_path, "ok.yml", pod_yaml("ok", "echo hello; sleep 3600", grace=1, extra=READY))
    result = run(node, "-f", path, "--hold", "2s")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("PASS    pod/ok  Ready after ")
    assert ", held 2s, 0 restarts" in result.stdout
    assert "Starting the minikubelet node" in result.stderr
    assert pod_names(node) == []
    assert eventually(lambda: not node_containers(node), timeout=30)


def test_keep_leaves_the_pods_running(node: Node, tmp_path: Path) -> None:
    path = write(tmp_path, "ok.yml", pod_yaml("kept", "sleep 3600", grace=1))
    result = run(node, "-f", path, "--hold", "0", "--keep")
    assert result.returncode == 0, result.stderr
    assert pod_names(node) == ["kept"]
    assert node.pod("kept")["status"]["phase"] == "Running"


def test_a_crash_loop_fails_within_a_second_of_crash_loop_back_off(node: Node, tmp_path: Path) -> None:
    path = write(tmp_path, "crash.yml", pod_yaml("crash", "echo dying; exit 3", extra=NEVER_READY))
    started = time.monotonic()
    result = run(node, "-f", path, "--ready-within", "60s", "--max-restarts", "5", "--keep")
    ended_at, took = time.time(), time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("FAIL    pod/crash  CrashLoopBackOff after ")
    assert "--- pod/crash: why" in result.stdout and "CrashLoopBackOff" in result.stdout.split("why", 1)[1]
    transitions = node.api("/api/v1/namespaces/default/pods/crash/lifecycle")["items"]
    backoff = [t for t in transitions if t["state"] == "waiting" and t["reason"] == "CrashLoopBackOff"]
    assert backoff, transitions
    reported = datetime.fromisoformat(backoff[0]["time"].replace("Z", "+00:00")).timestamp()
    # The verdict falls on the status change; the process then reads the pod's record and prints the why.
    assert ended_at - reported < 1.5, (ended_at - reported, result.stdout)
    assert took < 30  # nowhere near the 60 s deadline


def test_a_liveness_kill_fails_at_the_kill(node: Node, tmp_path: Path) -> None:
    liveness = """      livenessProbe:
        exec: {command: [cat, /tmp/healthy]}
        periodSeconds: 1
        failureThreshold: 1"""
    command = "touch /tmp/healthy; sleep 1; rm /tmp/healthy; sleep 3600"
    path = write(tmp_path, "live.yml", pod_yaml("live", command, grace=30, extra=liveness))
    started = time.monotonic()
    result = run(node, "-f", path, "--hold", "60s", "--max-restarts", "5")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL    pod/live  LivenessKill after " in result.stdout
    assert "Container main failed liveness probe, will be restarted" in result.stdout
    assert "livenessProbe.failureThreshold" in result.stdout  # the why narrative's rule
    assert time.monotonic() - started < 30  # the kill, not the 30 s grace period nor the 60 s hold


def test_an_image_that_cannot_be_pulled_fails_at_once(node: Node, tmp_path: Path) -> None:
    manifest = """apiVersion: v1
kind: Pod
metadata: {name: image}
spec:
  containers:
    - name: app
      image: minikubelet.local/no-such-image:1
"""
    result = run(node, "-f", write(tmp_path, "image.yml", manifest), "--ready-within", "60s")
    assert result.returncode == 1, result.stdout + result.stderr
    line = result.stdout.splitlines()[0]
    assert line.startswith(("FAIL    pod/image  ErrImagePull after ", "FAIL    pod/image  ImagePullBackOff after ")), line
    assert "minikubelet.local/no-such-image:1 cannot be pulled" in result.stdout


def test_a_pod_never_ready_ends_at_its_deadline(node: Node, tmp_path: Path) -> None:
    path = write(tmp_path, "never.yml", pod_yaml("never", "sleep 3600", grace=1, extra=NEVER_READY))
    result = run(node, "-f", path, "--ready-within", "3s")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "TIMEOUT pod/never  DeadlineExceeded after 3" in result.stdout
    assert "not Ready within 3s" in result.stdout
    assert "readiness exec cat /nonexistent has never passed" in result.stdout
    assert pod_names(node) == []


def test_junit_and_artifacts(node: Node, tmp_path: Path) -> None:
    ok = write(tmp_path, "ok.yml", pod_yaml("ok", "echo hello from ok; sleep 3600", grace=1, extra=READY))
    crash = write(tmp_path, "crash.yml", pod_yaml("crash", "echo dying; exit 3", extra=NEVER_READY))
    report, artifacts = tmp_path / "report.xml", tmp_path / "artifacts"
    result = run(
        node, "-f", ok, "-f", crash, "--hold", "1s", "--max-restarts", "5", "--junit", str(report), "--artifacts", str(artifacts)
    )
    assert result.returncode == 1, result.stdout + result.stderr
    root = ET.parse(report).getroot()
    assert (root.attrib["tests"], root.attrib["failures"], root.attrib["errors"]) == ("2", "1", "0")
    suites = {s.attrib["name"]: s for s in root.findall("testsuite")}
    assert list(suites) == [ok, crash]
    passed = suites[ok].find("testcase")
    assert passed is not None and passed.find("failure") is None
    assert "hello from ok" in (passed.findtext("system-out") or "")
    failure = suites[crash].find("testcase/failure")
    assert failure is not None and failure.attrib["type"] == "CrashLoopBackOff"
    assert "pod default/crash" in (failure.text or "")
    for name in ("ok", "crash"):
        directory = artifacts / "default" / name
        files = {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}
        expected = {"verdict.json", "pod.json", "events.json", "probes.json", "lifecycle.json", "describe.txt", "why.txt"}
        assert expected | {"timeline.svg", "logs/main.log"} <= files, files
        assert (directory / "timeline.svg").read_text().startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg')
        assert (directory / "describe.txt").read_text().startswith("Name:")
        assert json.loads((directory / "probes.json").read_text())["items"] or name == "crash"  # it dies before a probe
        assert json.loads((directory / "lifecycle.json").read_text())["items"]
    assert "dying" in (artifacts / "default" / "crash" / "logs" / "main.previous.log").read_text()
    verdict = json.loads((artifacts / "default" / "crash" / "verdict.json").read_text())
    assert (verdict["outcome"], verdict["reason"]) == ("failed", "CrashLoopBackOff")
    assert pod_names(node) == []


def test_bad_input_applies_nothing_and_starts_no_node(node: Node, tmp_path: Path) -> None:
    good = write(tmp_path, "good.yml", pod_yaml("good", "sleep 3600"))
    deploy = write(tmp_path, "deploy.yml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {}\n")
    result = run(node, "-f", good, "-f", deploy)
    assert result.returncode == 2
    assert "minikubelet test runs only Pods" in result.stderr
    assert not (node.home / "daemon.lock").exists()


def test_ctrl_c_deletes_the_pods(node: Node, tmp_path: Path) -> None:
    path = write(tmp_path, "slow.yml", pod_yaml("slow", "sleep 3600", grace=1))
    command = [*CLI, "test", "--home", str(node.home), "-f", path, "--hold", "120s"]
    process = subprocess.Popen(command, env=node.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert eventually(lambda: created(node, "slow"), timeout=60)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, out + err
    assert "interrupted: the pods were deleted" in err
    assert pod_names(node) == []
