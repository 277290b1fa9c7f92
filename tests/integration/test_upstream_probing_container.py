"""Upstream's "Probing container" suite (test/e2e/common/node/container_probe.go, Kubernetes v1.37) re-created on
busybox, one test per `ginkgo.It`, named after it, with the upstream text in the docstring.

What changed, and why:
- Delays and periods are shortened (15 s initial delays become 2-5 s, periods 1 s, observation windows of 10-20 s
  instead of 1-4 min) with the same order between them, so that each case keeps what it proves; deadlines are
  generous, and every wait polls (never a bare sleep).
- agnhost is replaced: `test-webserver` (port 80, `/` answers 200) by busybox `httpd`; `liveness` (port 8080,
  `/healthz` 200 for its first 10 s then 500, `/redirect?loc=` a 302 with Go's `<a href="...">Found</a>.` body)
  by a busybox `nc -ll -e` server (`LIVENESS_SERVER`, a 3 s healthy window); the bash scripts run in busybox sh.
- runReadinessFailTest polls the *live* pod's readiness (upstream re-reads a stale copy).
- "should have monotonically increasing restart count" keeps upstream's 5 restarts: the crash-loop back-off is the
  kubelet's, not the test's (a liveness-killed container restarts at once, then after 10, 20, 40 and 80 s), so
  this case takes about 3 minutes; it allows 5 (upstream: 14, for slow clusters).
- agnhost `grpc-health-checking` (port 5000) becomes `GRPC_HEALTH_SERVER`: busybox `nc -ll -e` answering every
  connection with one canned HTTP/2 exchange: the server's SETTINGS (and an ACK of the client's), then on
  stream 1 the response headers (`:status 200`, `content-type: application/grpc`), a HealthCheckResponse
  `{status: SERVING}` and the trailers `grpc-status: 0`, which is all a Health/Check caller reads.

The "Probing restartable init container" suite (sidecars) is in test_upstream_probing_restartable_init_container.py;
the servers, pod builders and the longer case bodies both share are in upstream.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from nodes import Node, running_node
from upstream import (
    HEALTHY_WINDOW,
    busybox_container,
    check_never_ready,
    check_non_local_redirect_warning,
    check_not_ready_while_terminating,
    check_ready_after_initial_delay,
    check_ready_soon_after_startup,
    exec_handler,
    grpc_container,
    http_get,
    liveness_container,
    plain_pod,
    probed,
    run_liveness_test,
    run_readiness_fail_test,
    terminating_container,
    unique,
    webserver_container,
)

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def node(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from running_node(tmp_path_factory.mktemp("upstream-probing-home"))


# --- upstream's pod builders -------------------------------------------------------------------------------------


def webserver_pod(readiness: dict[str, Any] | None, liveness: dict[str, Any] | None, container: str, port: int) -> dict[str, Any]:
    """testWebServerPodSpec."""
    return plain_pod("test-webserver", probed(webserver_container(container, port), readiness=readiness, liveness=liveness))


def busybox_pod(readiness: dict[str, Any] | None, liveness: dict[str, Any] | None, cmd: list[str]) -> dict[str, Any]:
    """busyBoxPodSpec."""
    container = probed(busybox_container("busybox", cmd), readiness=readiness, liveness=liveness)
    return plain_pod("busybox", container, {"test": "liveness"})


def liveness_pod(readiness: dict[str, Any] | None, liveness: dict[str, Any] | None) -> dict[str, Any]:
    """livenessPodSpec."""
    container = probed(liveness_container("agnhost-container"), readiness=readiness, liveness=liveness)
    return plain_pod("liveness", container, {"test": "liveness"})


def startup_pod(
    startup: dict[str, Any] | None, readiness: dict[str, Any] | None, liveness: dict[str, Any] | None, cmd: list[str]
) -> dict[str, Any]:
    """startupPodSpec."""
    container = probed(busybox_container("busybox", cmd), readiness=readiness, liveness=liveness, startup=startup)
    return plain_pod("startup", container, {"test": "startup"})


def grpc_server_pod(readiness: dict[str, Any] | None, liveness: dict[str, Any] | None, container: str) -> dict[str, Any]:
    """gRPCServerPodSpec."""
    return plain_pod("test-grpc", probed(grpc_container(container), readiness=readiness, liveness=liveness))


# --- the cases ---------------------------------------------------------------------------------------------------


def test_with_readiness_probe_should_not_be_ready_before_initial_delay_and_never_restart(node: Node) -> None:
    """with readiness probe should not be ready before initial delay and never restart"""
    initial_delay = 5
    probe = {**http_get("/", 80), "initialDelaySeconds": initial_delay}
    check_ready_after_initial_delay(node, webserver_pod(probe, None, "test-webserver", 80), "test-webserver", initial_delay)


def test_with_readiness_probe_that_fails_should_never_be_ready_and_never_restart(node: Node) -> None:
    """with readiness probe that fails should never be ready and never restart"""
    probe = http_get("/", 81)  # webserverProbeBuilder.withFailing: nothing listens on 81
    check_never_ready(node, webserver_pod(probe, None, "test-webserver", 80), 15)


def test_should_be_restarted_with_a_exec_cat_tmp_health_liveness_probe(node: Node) -> None:
    """should be restarted with a exec "cat /tmp/health" liveness probe"""
    cmd = ["/bin/sh", "-c", "echo ok >/tmp/health; sleep 2; rm -rf /tmp/health; sleep 600"]
    probe = {
        **exec_handler("cat", "/tmp/health"),
        "initialDelaySeconds": 3,
        "periodSeconds": 1,
        "timeoutSeconds": 5,
        "failureThreshold": 1,
    }
    run_liveness_test(node, busybox_pod(None, probe, cmd), 1, 45)


def test_should_not_be_restarted_with_a_exec_cat_tmp_health_liveness_probe(node: Node) -> None:
    """should *not* be restarted with a exec "cat /tmp/health" liveness probe"""
    cmd = ["/bin/sh", "-c", "echo ok >/tmp/health; sleep 600"]
    probe = {
        **exec_handler("cat", "/tmp/health"),
        "initialDelaySeconds": 3,
        "periodSeconds": 1,
        "timeoutSeconds": 5,
        "failureThreshold": 1,
    }
    run_liveness_test(node, busybox_pod(None, probe, cmd), 0, 15)


def test_should_be_restarted_with_a_healthz_http_liveness_probe(node: Node) -> None:
    """should be restarted with a /healthz http liveness probe"""
    probe = {**http_get("/healthz", 8080), "initialDelaySeconds": HEALTHY_WINDOW + 2, "periodSeconds": 1, "failureThreshold": 1}
    run_liveness_test(node, liveness_pod(None, probe), 1, 45)


def test_should_not_be_restarted_with_a_tcp_8080_liveness_probe(node: Node) -> None:
    """should *not* be restarted with a tcp:8080 liveness probe"""
    probe = {"tcpSocket": {"port": 8080}, "initialDelaySeconds": HEALTHY_WINDOW + 2, "periodSeconds": 1, "failureThreshold": 1}
    run_liveness_test(node, liveness_pod(None, probe), 0, 15)


@pytest.mark.timeout(420)  # the back-off alone is 150 s
def test_should_have_monotonically_increasing_restart_count(node: Node) -> None:
    """should have monotonically increasing restart count"""
    probe = {**http_get("/healthz", 8080), "initialDelaySeconds": 1, "periodSeconds": 1, "failureThreshold": 1}
    # 5 restarts: the back-off waits 0, 10, 20, 40 and 80 s before them, and each instance lives ~4 s.
    run_liveness_test(node, liveness_pod(None, probe), 5, 300)


def test_should_not_be_restarted_with_a_healthz_http_liveness_probe(node: Node) -> None:
    """should *not* be restarted with a /healthz http liveness probe"""
    probe = {**http_get("/", 80), "initialDelaySeconds": 3, "periodSeconds": 1, "timeoutSeconds": 5, "failureThreshold": 5}
    run_liveness_test(node, webserver_pod(None, probe, "test-webserver", 80), 0, 15)


def test_should_be_restarted_with_an_exec_liveness_probe_with_timeout(node: Node) -> None:
    """should be restarted with an exec liveness probe with timeout [MinimumKubeletVersion:1.20]"""
    cmd = ["/bin/sh", "-c", "sleep 600"]
    probe = {**exec_handler("/bin/sh", "-c", "sleep 10"), "initialDelaySeconds": 3, "timeoutSeconds": 1, "failureThreshold": 1}
    run_liveness_test(node, busybox_pod(None, probe, cmd), 1, 45)


def test_should_not_be_ready_with_an_exec_readiness_probe_timeout(node: Node) -> None:
    """should not be ready with an exec readiness probe timeout [MinimumKubeletVersion:1.20]"""
    cmd = ["/bin/sh", "-c", "sleep 600"]
    probe = {**exec_handler("/bin/sh", "-c", "sleep 10"), "initialDelaySeconds": 3, "timeoutSeconds": 1, "failureThreshold": 1}
    run_readiness_fail_test(node, busybox_pod(probe, None, cmd), 15, True)


def test_should_be_restarted_with_a_failing_exec_liveness_probe_that_took_longer_than_the_timeout(node: Node) -> None:
    """should be restarted with a failing exec liveness probe that took longer than the timeout"""
    cmd = ["/bin/sh", "-c", "sleep 600"]
    probe = {
        **exec_handler("/bin/sh", "-c", "sleep 10 & exit 1"),
        "initialDelaySeconds": 3,
        "timeoutSeconds": 1,
        "failureThreshold": 1,
    }
    run_liveness_test(node, busybox_pod(None, probe, cmd), 1, 45)


def test_should_be_restarted_with_a_local_redirect_http_liveness_probe(node: Node) -> None:
    """should be restarted with a local redirect http liveness probe"""
    probe = {
        **http_get("/redirect?loc=%2Fhealthz", 8080),
        "initialDelaySeconds": HEALTHY_WINDOW + 2,
        "periodSeconds": 1,
        "failureThreshold": 1,
    }
    run_liveness_test(node, liveness_pod(None, probe), 1, 45)


def test_should_not_be_restarted_with_a_non_local_redirect_http_liveness_probe(node: Node) -> None:
    """should *not* be restarted with a non-local redirect http liveness probe"""
    probe = {
        **http_get("/redirect?loc=http%3A%2F%2F0.0.0.0%2F", 8080),
        "initialDelaySeconds": HEALTHY_WINDOW + 2,
        "periodSeconds": 1,
        "failureThreshold": 1,
    }
    check_non_local_redirect_warning(node, liveness_pod(None, probe))


def test_should_be_restarted_startup_probe_fails(node: Node) -> None:
    """should be restarted startup probe fails"""
    cmd = ["/bin/sh", "-c", "sleep 600"]
    liveness = {**exec_handler("/bin/true"), "initialDelaySeconds": 3, "failureThreshold": 1}
    startup = {**exec_handler("/bin/false"), "initialDelaySeconds": 3, "periodSeconds": 1, "failureThreshold": 3}
    run_liveness_test(node, startup_pod(startup, None, liveness, cmd), 1, 45)


def test_should_not_be_restarted_by_liveness_probe_because_startup_probe_delays_it(node: Node) -> None:
    """should *not* be restarted by liveness probe because startup probe delays it"""
    cmd = ["/bin/sh", "-c", "sleep 600"]
    liveness = {**exec_handler("/bin/false"), "initialDelaySeconds": 2, "periodSeconds": 1, "failureThreshold": 1}
    startup = {**exec_handler("/bin/false"), "initialDelaySeconds": 2, "periodSeconds": 1, "failureThreshold": 60}
    run_liveness_test(node, startup_pod(startup, None, liveness, cmd), 0, 20)


def test_should_be_restarted_by_liveness_probe_after_startup_probe_enables_it(node: Node) -> None:
    """should be restarted by liveness probe after startup probe enables it"""
    cmd = ["/bin/sh", "-c", "sleep 3; echo ok >/tmp/startup; sleep 600"]
    liveness = {**exec_handler("/bin/false"), "initialDelaySeconds": 1, "periodSeconds": 1, "failureThreshold": 1}
    startup = {**exec_handler("cat", "/tmp/startup"), "initialDelaySeconds": 1, "periodSeconds": 1, "failureThreshold": 60}
    run_liveness_test(node, startup_pod(startup, None, liveness, cmd), 1, 45)


def test_should_be_ready_immediately_after_startupprobe_succeeds(node: Node) -> None:
    """should be ready immediately after startupProbe succeeds"""
    readiness_period = 20
    # The startup file comes after more than one readiness period (upstream: 32 s > 30 s), so that both workers
    # run before it does; readiness must then follow the startup success at once, not at its next tick.
    cmd = ["/bin/sh", "-c", f"echo ok >/tmp/health; sleep {readiness_period + 2}; echo ok >/tmp/startup; sleep 600"]
    readiness = {**exec_handler("/bin/cat", "/tmp/health"), "initialDelaySeconds": 0, "periodSeconds": readiness_period}
    startup = {**exec_handler("/bin/cat", "/tmp/startup"), "initialDelaySeconds": 0, "failureThreshold": 120, "periodSeconds": 1}
    # Upstream allows 25 s against a 30 s readiness period: the next readiness tick is always later.
    check_ready_soon_after_startup(node, startup_pod(startup, readiness, None, cmd), 10)


def test_should_override_timeoutgraceperiodseconds_when_livenessprobe_field_is_set(node: Node) -> None:
    """should override timeoutGracePeriodSeconds when LivenessProbe field is set"""
    cmd = ["/bin/sh", "-c", "sleep 1000"]
    # probe will fail since pod has no http endpoints
    liveness = {**http_get("/healthz", 8080), "initialDelaySeconds": 3, "failureThreshold": 1, "terminationGracePeriodSeconds": 5}
    pod = busybox_pod(None, liveness, cmd)
    pod["spec"]["terminationGracePeriodSeconds"] = 500
    # 3 s delay + 10 s period + 5 s grace << the pod-level 500 s
    run_liveness_test(node, pod, 1, 40)


def test_should_override_timeoutgraceperiodseconds_when_startupprobe_field_is_set(node: Node) -> None:
    """should override timeoutGracePeriodSeconds when StartupProbe field is set"""
    cmd = ["/bin/sh", "-c", "sleep 1000"]
    liveness = {**exec_handler("/bin/true"), "initialDelaySeconds": 15, "failureThreshold": 1}
    pod = busybox_pod(None, liveness, cmd)
    pod["spec"]["terminationGracePeriodSeconds"] = 500
    pod["spec"]["containers"][0]["startupProbe"] = {
        **exec_handler("/bin/cat", "/tmp/startup"),
        "initialDelaySeconds": 3,
        "failureThreshold": 1,
        "terminationGracePeriodSeconds": 5,
    }
    run_liveness_test(node, pod, 1, 40)


def test_should_not_be_restarted_with_a_grpc_liveness_probe(node: Node) -> None:
    """should *not* be restarted with a GRPC liveness probe"""
    probe = {"grpc": {"port": 5000}, "initialDelaySeconds": 3, "periodSeconds": 1, "timeoutSeconds": 5, "failureThreshold": 1}
    run_liveness_test(node, grpc_server_pod(None, probe, "agnhost"), 0, 15)


def test_should_be_restarted_with_a_grpc_liveness_probe(node: Node) -> None:
    """should be restarted with a GRPC liveness probe"""
    probe = {"grpc": {"port": 2333}, "initialDelaySeconds": 3, "timeoutSeconds": 5, "failureThreshold": 1}  # this port is wrong
    run_liveness_test(node, grpc_server_pod(None, probe, "agnhost"), 1, 45)


def test_should_mark_readiness_on_pods_to_false_while_pod_is_in_progress_of_terminating_when_a_pod_has_a_readiness_probe(
    node: Node,
) -> None:
    """should mark readiness on pods to false while pod is in progress of terminating when a pod has a readiness probe"""
    name = unique("probe-test")
    pod = {"metadata": {"name": name}, "spec": {"containers": [terminating_container(name, liveness=False)]}}
    check_not_ready_while_terminating(node, pod, liveness=False)


def test_should_mark_readiness_on_pods_to_false_and_disable_liveness_probes_while_pod_is_in_progress_of_terminating(
    node: Node,
) -> None:
    """should mark readiness on pods to false and disable liveness probes while pod is in progress of terminating"""
    name = unique("probe-test")
    pod = {"metadata": {"name": name}, "spec": {"containers": [terminating_container(name, liveness=True)]}}
    check_not_ready_while_terminating(node, pod, liveness=True)
