"""Upstream's "Container Lifecycle Hook" suite and its sleep-action suites ("Lifecycle Sleep Hook", "Lifecycle sleep
action zero value"), from test/e2e/common/node/lifecycle_hook.go (Kubernetes v1.37), re-created on busybox: one
test per `ginkgo.It`, named after it, with the upstream text in the docstring.

How the hook cases are built, as upstream builds them:
- The handler pod (`pod-handle-http-request`, agnhost netexec on 8080) is the echo image on 8080: it logs one
  line per request, `<time> GET /echo?msg=poststart HTTP/1.1`, which the tests match as upstream does
  (`GET /echo\\?msg=poststart`).
- Every hooked pod gets upstream's sidecar `container-redirect` (a restartable init container with a startup
  probe on `/echo?msg=startup`): agnhost netexec becomes a busybox `nc -ll -e` server (`NETEXEC`) that answers
  `/echo` and relays `/dial?host=&port=&request=` to the handler pod, so the httpGet hooks use upstream's very
  path (`netexecConnect`) and reach the hooked pod's own IP, the default `host`.
- Exec hooks run `wget` (busybox) where upstream runs `curl`.
- The HTTPS cases: busybox has no TLS server, so the sidecar speaks plain HTTP (and its startup probe stays
  HTTP). The HTTPS hook then meets an HTTP answer, which the kubelet retries over HTTP (handlers.go
  runHTTPHandler); the request must still arrive, and the `LifecycleHTTPFallback` warning is checked too.
- Delays are shortened (the sleep hooks sleep 5-20 s instead of 50; grace periods scale alike) with upstream's
  bounds kept in proportion; every wait polls with a deadline.
- "valid prestop hook using sleep action" and "reduce GracePeriodSeconds during runtime" hold the pod with a
  finalizer, as upstream does, to read the terminated container's finishedAt after the deletion.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from nodes import Node, running_node
from upstream import (
    BUSYBOX,
    PAUSE,
    container_status,
    create,
    delete,
    exec_hook,
    force_delete,
    hook_handler,
    http_hook,
    must_get,
    parse_time,
    pod_with_hook_test,
    wait_for,
    wait_gone,
)

pytestmark = pytest.mark.docker

FINALIZER = "test/finalizer"


@pytest.fixture(scope="module")
def node(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from running_node(tmp_path_factory.mktemp("upstream-lifecycle-home"))


@pytest.fixture
def handler(node: Node) -> Iterator[tuple[str, str]]:
    """BeforeEach: the pod handling the hooks' requests; (its name, its IP)."""
    yield from hook_handler(node)


def pod_with_hook(name: str, image: str, lifecycle: dict[str, Any], *, command: list[str] | None = None) -> dict[str, Any]:
    """getPodWithHook."""
    container: dict[str, Any] = {"name": name, "image": image, "lifecycle": lifecycle}
    if command is not None:
        container["command"] = command
    return {"metadata": {"name": name}, "spec": {"containers": [container]}}


# --- Container Lifecycle Hook ------------------------------------------------------------------------------------


def test_should_execute_poststart_exec_hook_properly(node: Node, handler: tuple[str, str]) -> None:
    """should execute poststart exec hook properly"""
    handler_pod, target = handler
    pod = pod_with_hook("pod-with-poststart-exec-hook", BUSYBOX, exec_hook("postStart", target), command=["sleep", "600"])
    pod_with_hook_test(node, handler_pod, pod)


def test_should_execute_prestop_exec_hook_properly(node: Node, handler: tuple[str, str]) -> None:
    """should execute prestop exec hook properly"""
    handler_pod, target = handler
    pod = pod_with_hook("pod-with-prestop-exec-hook", BUSYBOX, exec_hook("preStop", target), command=["sleep", "600"])
    pod_with_hook_test(node, handler_pod, pod)


def test_should_execute_poststart_http_hook_properly(node: Node, handler: tuple[str, str]) -> None:
    """should execute poststart http hook properly"""
    handler_pod, target = handler
    pod_with_hook_test(node, handler_pod, pod_with_hook("pod-with-poststart-http-hook", PAUSE, http_hook("postStart", target)))


def test_should_execute_poststart_https_hook_properly(node: Node, handler: tuple[str, str]) -> None:
    """should execute poststart https hook properly"""
    handler_pod, target = handler
    lifecycle = http_hook("postStart", target, "HTTPS")
    pod_with_hook_test(node, handler_pod, pod_with_hook("pod-with-poststart-https-hook", PAUSE, lifecycle))


def test_should_execute_prestop_http_hook_properly(node: Node, handler: tuple[str, str]) -> None:
    """should execute prestop http hook properly"""
    handler_pod, target = handler
    pod_with_hook_test(node, handler_pod, pod_with_hook("pod-with-prestop-http-hook", PAUSE, http_hook("preStop", target)))


def test_should_execute_prestop_https_hook_properly(node: Node, handler: tuple[str, str]) -> None:
    """should execute prestop https hook properly"""
    handler_pod, target = handler
    lifecycle = http_hook("preStop", target, "HTTPS")
    pod_with_hook_test(node, handler_pod, pod_with_hook("pod-with-prestop-https-hook", PAUSE, lifecycle))


# --- Lifecycle Sleep Hook ----------------------------------------------------------------------------------------


def _remove_finalizer(node: Node, name: str) -> None:
    """podClient.RemoveFinalizer."""
    patch = json.dumps({"metadata": {"finalizers": None}})
    node.kubectl("patch", "pod", name, "--type=merge", "-p", patch)


def _terminated(pod: dict[str, Any], container: str) -> dict[str, Any] | None:
    terminated: dict[str, Any] | None = container_status(pod, container).get("state", {}).get("terminated")
    return terminated


def _sleep_hook_termination(node: Node, *, sleep_seconds: int, pod_grace: int, delete_grace: int | None) -> float:
    """The two finalizer cases: create, delete (with `delete_grace` if given), read the deletionTimestamp, wait for
    the container to terminate; the sleep duration as upstream computes it."""
    name = "pod-with-prestop-sleep-hook"
    pod = pod_with_hook(name, PAUSE, {"preStop": {"sleep": {"seconds": sleep_seconds}}})
    pod["metadata"]["finalizers"] = [FINALIZER]
    pod["spec"]["terminationGracePeriodSeconds"] = pod_grace
    create(node, pod)
    try:
        wait_for(node, name, lambda p: p["status"].get("phase") == "Running", timeout=60, what="Running")
        delete(node, name, *([f"--grace-period={delete_grace}"] if delete_grace is not None else []))
        deleting = must_get(node, name)
        assert deleting["metadata"].get("deletionTimestamp"), "no deletionTimestamp after the delete"
        deletion = parse_time(deleting["metadata"]["deletionTimestamp"])
        gone = wait_for(
            node, name, lambda p: _terminated(p, name) is not None, timeout=sleep_seconds * 2, what="container terminated"
        )
        finished = parse_time(_terminated(gone, name)["finishedAt"])  # type: ignore[index]
        grace = delete_grace if delete_grace is not None else pod_grace
        return (finished - deletion).total_seconds() + grace
    finally:
        _remove_finalizer(node, name)
        force_delete(node, name)
        wait_gone(node, name, timeout=60)


def test_valid_prestop_hook_using_sleep_action(node: Node) -> None:
    """valid prestop hook using sleep action"""
    sleep_seconds, grace = 5, 10  # upstream: 50 and 100
    duration = _sleep_hook_termination(node, sleep_seconds=sleep_seconds, pod_grace=grace, delete_grace=None)
    assert sleep_seconds <= duration <= grace, f"unexpected delay duration before killing the pod: {duration:.1f}s"


def test_reduce_graceperiodseconds_during_runtime(node: Node) -> None:
    """reduce GracePeriodSeconds during runtime"""
    sleep_seconds, grace = 20, 6  # upstream: a 50 s sleep, tgps 100, deleted with 30
    duration = _sleep_hook_termination(node, sleep_seconds=sleep_seconds, pod_grace=40, delete_grace=grace)
    assert grace <= duration <= sleep_seconds, f"unexpected delay duration before killing the pod: {duration:.1f}s"


def test_ignore_terminated_container(node: Node) -> None:
    """ignore terminated container"""
    sleep_seconds, grace = 10, 30
    name = "pod-with-prestop-sleep-hook"
    pod = pod_with_hook(name, BUSYBOX, {"preStop": {"sleep": {"seconds": sleep_seconds}}}, command=["/bin/sh"])
    pod["spec"]["terminationGracePeriodSeconds"] = grace
    pod["spec"]["containers"][0]["args"] = ["-c", "sleep 3"]
    pod["spec"]["restartPolicy"] = "Never"
    create(node, pod)
    try:
        done = wait_for(node, name, lambda p: _terminated(p, name) is not None, timeout=grace, what="container terminated")
        terminated = _terminated(done, name)
        assert terminated is not None
        cost = (parse_time(terminated["finishedAt"]) - parse_time(terminated["startedAt"])).total_seconds()
        assert 0 <= cost <= sleep_seconds, f"unexpected delay duration before killing the pod, cost = {cost}s"
    finally:
        delete(node, name)
        wait_gone(node, name, timeout=60)


# --- Lifecycle sleep action zero value ---------------------------------------------------------------------------


def test_prestop_hook_using_sleep_action_with_zero_duration(node: Node) -> None:
    """prestop hook using sleep action with zero duration"""
    name = "pod-with-prestop-sleep-hook-zero-duration"
    create(node, pod_with_hook(name, PAUSE, {"preStop": {"sleep": {"seconds": 0}}}))
    try:
        wait_for(node, name, lambda p: p["status"].get("phase") == "Running", timeout=60, what="Running")
        start = time.monotonic()
        delete(node, name)
        wait_gone(node, name, timeout=60)
        cost = time.monotonic() - start
        assert 0 <= cost <= 30, f"unexpected delay duration before killing the pod, cost = {cost:.1f}s"
    finally:
        force_delete(node, name)
