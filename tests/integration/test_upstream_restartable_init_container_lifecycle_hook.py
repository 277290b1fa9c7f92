"""Upstream's "Restartable Init Container Lifecycle Hook" suite (test/e2e/common/node/lifecycle_hook.go, Kubernetes
v1.37) re-created on busybox: one test per `ginkgo.It`, named after it, with the upstream text in the docstring.

The hooked container is a restartable init container (getSidecarPodWithHook: `restartPolicy: Always`, beside a
`main` pause container), and testPodWithHook puts upstream's relay sidecar `container-redirect` in front of it, so
the pod's init containers are [container-redirect, the hooked sidecar]. The preStop cases thus also check the
termination order of sidecars: `main` stops first, then the hooked sidecar (whose preStop goes through
`container-redirect`), then `container-redirect`.

Built as test_upstream_lifecycle_hook.py builds its cases (upstream.py: hook_handler, pod_with_hook_test, NETEXEC):
- the handler pod is the echo image on 8080, whose log is matched for `GET /echo\\?msg=poststart|prestop`;
- the relay sidecar is a busybox `nc -ll -e` netexec (`/echo`, `/dial`), reached by the httpGet hooks through
  upstream's netexecConnect path on the hooked pod's own IP;
- exec hooks run busybox `wget` where upstream runs `curl`, in a busybox sidecar that sleeps (upstream's agnhost);
- HTTPS: busybox has no TLS server, so the relay answers plain HTTP and the HTTPS hook must reach it through the
  kubelet's HTTP fallback (its `LifecycleHTTPFallback` warning is checked too);
- the waits keep upstream's deletion grace of 15 s; postStart is awaited 60 s (upstream: 2 minutes).

No case is left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from nodes import Node, running_node
from upstream import BUSYBOX, PAUSE, exec_hook, hook_handler, http_hook, pod_with_hook_test

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def node(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from running_node(tmp_path_factory.mktemp("upstream-sidecar-lifecycle-home"))


@pytest.fixture
def handler(node: Node) -> Iterator[tuple[str, str]]:
    """BeforeEach: the pod handling the hooks' requests; (its name, its IP)."""
    yield from hook_handler(node)


def sidecar_pod_with_hook(
    name: str, image: str, lifecycle: dict[str, Any], *, command: list[str] | None = None
) -> dict[str, Any]:
    """getSidecarPodWithHook."""
    sidecar: dict[str, Any] = {"name": name, "image": image, "lifecycle": lifecycle, "restartPolicy": "Always"}
    if command is not None:
        sidecar["command"] = command
    return {"metadata": {"name": name}, "spec": {"initContainers": [sidecar], "containers": [{"name": "main", "image": PAUSE}]}}


def test_should_execute_poststart_exec_hook_properly(node: Node, handler: tuple[str, str]) -> None:
    """should execute poststart exec hook properly"""
    handler_pod, target = handler
    lifecycle = exec_hook("postStart", target)
    pod = sidecar_pod_with_hook("pod-with-poststart-exec-hook", BUSYBOX, lifecycle, command=["sleep", "600"])
    pod_with_hook_test(node, handler_pod, pod)


def test_should_execute_prestop_exec_hook_properly(node: Node, handler: tuple[str, str]) -> None:
    """should execute prestop exec hook properly"""
    handler_pod, target = handler
    lifecycle = exec_hook("preStop", target)
    pod = sidecar_pod_with_hook("pod-with-prestop-exec-hook", BUSYBOX, lifecycle, command=["sleep", "600"])
    pod_with_hook_test(node, handler_pod, pod)


def test_should_execute_poststart_http_hook_properly(node: Node, handler: tuple[str, str]) -> None:
    """should execute poststart http hook properly"""
    handler_pod, target = handler
    pod = sidecar_pod_with_hook("pod-with-poststart-http-hook", PAUSE, http_hook("postStart", target))
    pod_with_hook_test(node, handler_pod, pod)


def test_should_execute_poststart_https_hook_properly(node: Node, handler: tuple[str, str]) -> None:
    """should execute poststart https hook properly"""
    handler_pod, target = handler
    pod = sidecar_pod_with_hook("pod-with-poststart-https-hook", PAUSE, http_hook("postStart", target, "HTTPS"))
    pod_with_hook_test(node, handler_pod, pod)


def test_should_execute_prestop_http_hook_properly(node: Node, handler: tuple[str, str]) -> None:
    """should execute prestop http hook properly"""
    handler_pod, target = handler
    pod = sidecar_pod_with_hook("pod-with-prestop-http-hook", PAUSE, http_hook("preStop", target))
    pod_with_hook_test(node, handler_pod, pod)


def test_should_execute_prestop_https_hook_properly(node: Node, handler: tuple[str, str]) -> None:
    """should execute prestop https hook properly"""
    handler_pod, target = handler
    pod = sidecar_pod_with_hook("pod-with-prestop-https-hook", PAUSE, http_hook("preStop", target, "HTTPS"))
    pod_with_hook_test(node, handler_pod, pod)
