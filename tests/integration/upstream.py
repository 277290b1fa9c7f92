"""Helpers shared by the re-creations of upstream's node e2e suites (test_upstream_*.py): the e2e framework's
pod client and wait functions in this project's terms, polling with deadlines (never bare sleeps)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from typing import Any

from nodes import Node, eventually

BUSYBOX = "minikubelet.local/busybox:1.35"
ECHO = "minikubelet.local/echo:v1"
PAUSE = "minikubelet.local/pause:3.10"


def unique(prefix: str) -> str:
    """`<prefix>-<uuid8>`, as upstream names its pods `<prefix>-<uuid>`."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create(node: Node, pod: dict[str, Any]) -> str:
    """podClient.Create: the pod as JSON through the CLI; returns its name."""
    pod.setdefault("apiVersion", "v1")
    pod.setdefault("kind", "Pod")
    node.cli("apply", "-f", "-", stdin=json.dumps(pod), check=True)
    return str(pod["metadata"]["name"])


def get(node: Node, name: str) -> dict[str, Any] | None:
    """The pod, or None once it is gone."""
    result = node.cli("get", "pod", name, "-o", "json")
    if result.returncode != 0:
        if "NotFound" in result.stderr or "not found" in result.stderr:
            return None
        raise AssertionError(f"get pod {name} failed: {result.stderr}")
    pod: dict[str, Any] = json.loads(result.stdout)
    return pod


def must_get(node: Node, name: str) -> dict[str, Any]:
    pod = get(node, name)
    assert pod is not None, f"pod {name} is gone"
    return pod


def statuses(pod: dict[str, Any]) -> list[dict[str, Any]]:
    status = pod.get("status") or {}
    return [*status.get("initContainerStatuses", []), *status.get("containerStatuses", [])]


def container_status(pod: dict[str, Any], container: str) -> dict[str, Any]:
    return next((s for s in statuses(pod) if s.get("name") == container), {})


def restart_count(pod: dict[str, Any], container: str) -> int:
    return int(container_status(pod, container).get("restartCount", 0))


def total_restarts(pod: dict[str, Any]) -> int:
    """getRestartCount: the sum over init and app containers."""
    return sum(int(s.get("restartCount", 0)) for s in statuses(pod))


def is_ready(pod: dict[str, Any] | None) -> bool:
    """podutil.IsPodReady: the Ready condition is True."""
    if pod is None:
        return False
    conditions = (pod.get("status") or {}).get("conditions", [])
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def running_ready(pod: dict[str, Any]) -> bool:
    """testutils.PodRunningReady: phase Running and Ready."""
    return (pod.get("status") or {}).get("phase") == "Running" and is_ready(pod)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def ready_transition(pod: dict[str, Any]) -> datetime:
    """GetTransitionTimeForReadyCondition."""
    condition = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
    return parse_time(condition["lastTransitionTime"])


def started_at(pod: dict[str, Any], container: str) -> datetime:
    """GetContainerStartedTime: state.running.startedAt."""
    running = container_status(pod, container).get("state", {}).get("running")
    assert running is not None, f"container {container} is not running"
    return parse_time(running["startedAt"])


def wait_for(node: Node, name: str, condition: Any, *, timeout: float, what: str) -> dict[str, Any]:
    """e2epod.WaitForPodCondition: poll the pod until `condition(pod)` holds; the last pod seen."""
    seen: dict[str, Any] = {}

    def check() -> bool:
        nonlocal seen
        pod = get(node, name)
        if pod is None:
            return False
        seen = pod
        return bool(condition(pod))

    assert eventually(check, timeout=timeout, interval=0.5), (
        f"pod {name}: timed out waiting for {what}; last: {seen.get('status')}"
    )
    return seen


def wait_ready(node: Node, name: str, *, timeout: float = 60) -> dict[str, Any]:
    return wait_for(node, name, is_ready, timeout=timeout, what="Ready")


def events(node: Node, name: str, reason: str = "") -> list[dict[str, Any]]:
    selector = f"involvedObject.name={name}" + (f",reason={reason}" if reason else "")
    result = node.cli("get", "events", "--field-selector", selector, "-o", "json", check=True)
    items: list[dict[str, Any]] = json.loads(result.stdout)["items"]
    return items


def delete(node: Node, name: str, *extra: str) -> None:
    node.cli("delete", "pod", name, "--wait=false", *extra, check=True)


def force_delete(node: Node, name: str) -> None:
    """The DeferCleanup of upstream's tests: delete with a zero grace period."""
    node.cli("delete", "pod", name, "--grace-period=0", "--force", "--wait=false")


def wait_gone(node: Node, name: str, *, timeout: float) -> None:
    assert eventually(lambda: get(node, name) is None, timeout=timeout, interval=0.5), f"pod {name} still exists"


def logs(node: Node, name: str, container: str = "") -> str:
    args = ["logs", name] + (["-c", container] if container else [])
    return node.cli(*args).stdout


def run_liveness_test(node: Node, pod: dict[str, Any], expect_restarts: int, timeout: float, container: str = "") -> None:
    """runLivenessTest: wait for the container to leave `waiting`, then poll its restart count (it must never go
    down) until `expect_restarts` more are seen (or, expecting none, for the whole `timeout`)."""
    name = create(node, pod)
    container = container or pod["spec"]["containers"][0]["name"]
    try:
        started = wait_for(
            node,
            name,
            lambda p: bool({"running", "terminated"} & set(container_status(p, container).get("state", {}))),
            timeout=timeout,
            what="container not waiting",
        )
        initial = restart_count(started, container)
        deadline = time.monotonic() + timeout + initial * 10
        last, observed = initial, 0
        current = started
        while time.monotonic() < deadline:
            current = must_get(node, name)
            count = restart_count(current, container)
            assert count >= last, f"restart count of {name} went from {last} down to {count}"
            observed = count - initial
            if expect_restarts > 0 and observed >= expect_restarts:
                break
            last = count
            time.sleep(1)  # the poll interval (upstream polls every 2 s)
        if expect_restarts == 0:
            assert observed == 0, f"pod {name}: expected no restarts, found {observed}; status: {current.get('status')}"
        else:
            assert observed >= expect_restarts, (
                f"pod {name}: expected {expect_restarts} restarts, found {observed}; status: {current.get('status')}"
            )
    finally:
        force_delete(node, name)
