"""Upstream's "Probing restartable init container" suite (test/e2e/common/node/container_probe.go, Kubernetes v1.37)
re-created on busybox, one test per `ginkgo.It`, named after it, with the upstream text in the docstring.

Every pod is upstream's sidecar pod: the probed container is the one restartable init container
(`restartPolicy: Always`), beside a regular `main` container that pauses (agnhost pause -> the pause image), and
RunSidecarLivenessTest watches the restart count of that init container.

What changed, and why (as in test_upstream_probing_container.py, whose servers, builders and case bodies this
module shares through upstream.py):
- Delays and periods are shortened (15 s initial delays become 2-5 s, periods 1 s, observation windows of 10-20 s
  instead of 4 min) with the same order between them; deadlines are generous, and every wait polls.
- agnhost `test-webserver`, `liveness` and `grpc-health-checking` are busybox `httpd` and `nc -ll -e` servers
  (upstream.py: WEBSERVER, LIVENESS_SERVER with a 3 s healthy window, GRPC_HEALTH_SERVER); bash scripts run in
  busybox sh.
- The probed processes (busybox sh, nc and httpd as PID 1) ignore SIGTERM, so every liveness or startup kill waits
  out the grace period, as upstream's do; the pods get `terminationGracePeriodSeconds: 5` (upstream: the default
  30 s) so that a restart takes seconds, not half a minute. The two "override timeoutGracePeriodSeconds" cases set
  upstream's 500 s, and the two "terminating" cases upstream's 30 s, as upstream does.
- "should have monotonically increasing restart count" keeps upstream's 5 restarts, so it keeps the kubelet's
  crash-loop back-off: the sync that kills a liveness-failed sidecar restarts it judging by the instance dead
  before (doBackOff), so the 1st, 2nd and 4th restarts come at once and the 3rd and 5th wait 10 and 40 s; with
  instances of ~9 s (3 s healthy, the kill's 5 s) this case takes about 2 minutes.
- "should be ready immediately after startupProbe succeeds": a 20 s readiness period (upstream 30 s) and a bound of
  10 s (upstream 25 s) from the moment `main` is started to Ready.

No case is left out.
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
    probed,
    run_readiness_fail_test,
    run_sidecar_liveness_test,
    sidecar_pod,
    terminating_container,
    webserver_container,
)

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def node(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from running_node(tmp_path_factory.mktemp("upstream-probing-sidecar-home"))


# --- upstream's sidecar pod builders -----------------------------------------------------------------------------

KILL_GRACE = 5  # the pods' terminationGracePeriodSeconds (see the module docstring)


def _pod(prefix: str, container: dict[str, Any], labels: dict[str, str] | None = None) -> dict[str, Any]:
    pod = sidecar_pod(prefix, container, labels)
    pod["spec"]["terminationGracePeriodSeconds"] = KILL_GRACE
    return pod


def webserver_sidecar_pod(
    readiness: dict[str, Any] | None, liveness: dict[str, Any] | None, container: str, port: int
) -> dict[str, Any]:
    """testWebServerSidecarPodSpec."""
    return _pod("test-webserver-sidecar", probed(webserver_container(container, port), readiness=readiness, liveness=liveness))


def busybox_sidecar_pod(readiness: dict[str, Any] | None, liveness: dict[str, Any] | None, cmd: list[str]) -> dict[str, Any]:
    """busyBoxSidecarPodSpec."""
    container = probed(busybox_container("busybox", cmd), readiness=readiness, liveness=liveness)
    return _pod("busybox-sidecar", container, {"test": "liveness"})


def liveness_sidecar_pod(readiness: dict[str, Any] | None, liveness: dict[str, Any] | None) -> dict[str, Any]:
    """livenessSidecarPodSpec."""
    container = probed(liveness_container("sidecar"), readiness=readiness, liveness=liveness)
    return _pod("test-liveness-sidecar", container, {"test": "liveness"})


def startup_sidecar_pod(
    startup: dict[str, Any] | None, readiness: dict[str, Any] | None, liveness: dict[str, Any] | None, cmd: list[str]
) -> dict[str, Any]:
    """startupSidecarPodSpec."""
    container = probed(busybox_container("sidecar", cmd), readiness=readiness, liveness=liveness, startup=startup)
    return _pod("startup-sidecar", container, {"test": "startup"})


def grpc_server_sidecar_pod(readiness: dict[str, Any] | None, liveness: dict[str, Any] | None, container: str) -> dict[str, Any]:
    """gRPCServerSidecarPodSpec."""
    return _pod("test-grpc-sidecar", probed(grpc_container(container), readiness=readiness, liveness=liveness))


def terminating_sidecar_pod(*, liveness: bool) -> dict[str, Any]:
    """The pod of the two "in progress of terminating" cases: the script's container (named after the pod) as the
    sidecar."""
    pod = sidecar_pod("probe-test", terminating_container("probe-test", liveness=liveness))
    pod["spec"]["initContainers"][0]["name"] = pod["metadata"]["name"]
    return pod


# --- the cases ---------------------------------------------------------------------------------------------------


def test_with_readiness_probe_should_not_be_ready_before_initial_delay_and_never_restart(node: Node) -> None:
    """with readiness probe should not be ready before initial delay and never restart"""
    initial_delay = 5
    probe = {**http_get("/", 80), "initialDelaySeconds": initial_delay}
    pod = webserver_sidecar_pod(probe, None, "test-webserver", 80)
    check_ready_after_initial_delay(node, pod, "test-webserver", initial_delay)


def test_with_readiness_probe_that_fails_should_never_be_ready_and_never_restart(node: Node) -> None:
    """with readiness probe that fails should never be ready and never restart"""
    probe = http_get("/", 81)  # webserverProbeBuilder.withFailing: nothing listens on 81
    check_never_ready(node, webserver_sidecar_pod(probe, None, "test-webserver", 80), 15)


def test_should_be_restarted_with_a_exec_cat_tmp_health_liveness_probe(node: Node) -> None:
    """should be restarted with a exec "cat /tmp/health" liveness probe"""
    cmd = ["/bin/sh", "-c", "echo ok >/tmp/health; sleep 2; rm -rf /tmp/health; sleep 600"]
    probe = {**exec_handler("cat", "/tmp/health"), "initialDelaySeconds": 3, "periodSeconds": 1, "timeoutSeconds": 5}
    run_sidecar_liveness_test(node, busybox_sidecar_pod(None, {**probe, "failureThreshold": 1}, cmd), 1, 45)


def test_should_not_be_restarted_with_a_exec_cat_tmp_health_liveness_probe(node: Node) -> None:
    """should *not* be restarted with a exec "cat /tmp/health" liveness probe"""
    cmd = ["/bin/sh", "-c", "echo ok >/tmp/health; sleep 600"]
    probe = {**exec_handler("cat", "/tmp/health"), "initialDelaySeconds": 3, "periodSeconds": 1, "timeoutSeconds": 5}
    run_sidecar_liveness_test(node, busybox_sidecar_pod(None, {**probe, "failureThreshold": 1}, cmd), 0, 15)


def test_should_be_restarted_with_a_healthz_http_liveness_probe(node: Node) -> None:
    """should be restarted with a /healthz http liveness probe"""
    probe = {**http_get("/healthz", 8080), "initialDelaySeconds": HEALTHY_WINDOW + 2, "periodSeconds": 1, "timeoutSeconds": 5}
    run_sidecar_liveness_test(node, liveness_sidecar_pod(None, {**probe, "failureThreshold": 1}), 1, 45)


def test_should_not_be_restarted_with_a_tcp_8080_liveness_probe(node: Node) -> None:
    """should *not* be restarted with a tcp:8080 liveness probe"""
    probe = {"tcpSocket": {"port": 8080}, "initialDelaySeconds": HEALTHY_WINDOW + 2, "periodSeconds": 1, "timeoutSeconds": 5}
    run_sidecar_liveness_test(node, liveness_sidecar_pod(None, {**probe, "failureThreshold": 1}), 0, 15)


@pytest.mark.timeout(420)  # about 2 minutes; 5 minutes of deadline
def test_should_have_monotonically_increasing_restart_count(node: Node) -> None:
    """should have monotonically increasing restart count (5 restarts, about 2 minutes: see the module docstring)"""
    probe = {**http_get("/healthz", 8080), "initialDelaySeconds": 1, "periodSeconds": 1, "failureThreshold": 1}
    run_sidecar_liveness_test(node, liveness_sidecar_pod(None, probe), 5, 300)


def test_should_not_be_restarted_with_a_healthz_http_liveness_probe(node: Node) -> None:
    """should *not* be restarted with a /healthz http liveness probe"""
    probe = {**http_get("/", 80), "initialDelaySeconds": 3, "periodSeconds": 1, "timeoutSeconds": 5, "failureThreshold": 5}
    run_sidecar_liveness_test(node, webserver_sidecar_pod(None, probe, "test-webserver", 80), 0, 15)


def test_should_be_restarted_with_an_exec_liveness_probe_with_timeout(node: Node) -> None:
    """should be restarted with an exec liveness probe with timeout [MinimumKubeletVersion:1.20]"""
    cmd = ["/bin/sh", "-c", "sleep 600"]
    probe = {**exec_handler("/bin/sh", "-c", "sleep 10"), "initialDelaySeconds": 3, "timeoutSeconds": 1, "failureThreshold": 1}
    run_sidecar_liveness_test(node, busybox_sidecar_pod(None, probe, cmd), 1, 45)


def test_should_not_be_ready_with_an_exec_readiness_probe_timeout(node: Node) -> None:
    """should not be ready with an exec readiness probe timeout [MinimumKubeletVersion:1.20]"""
    cmd = ["/bin/sh", "-c", "sleep 600"]
    probe = {**exec_handler("/bin/sh", "-c", "sleep 10"), "initialDelaySeconds": 3, "timeoutSeconds": 1, "failureThreshold": 1}
    run_readiness_fail_test(node, busybox_sidecar_pod(probe, None, cmd), 15, False)


def test_should_be_restarted_with_a_failing_exec_liveness_probe_that_took_longer_than_the_timeout(node: Node) -> None:
    """should be restarted with a failing exec liveness probe that took longer than the timeout"""
    cmd = ["/bin/sh", "-c", "sleep 600"]
    probe = {**exec_handler("/bin/sh", "-c", "sleep 10 & exit 1"), "initialDelaySeconds": 3, "timeoutSeconds": 1}
    run_sidecar_liveness_test(node, busybox_sidecar_pod(None, {**probe, "failureThreshold": 1}, cmd), 1, 45)


def test_should_be_restarted_with_a_local_redirect_http_liveness_probe(node: Node) -> None:
    """should be restarted with a local redirect http liveness probe"""
    probe = {**http_get("/redirect?loc=%2Fhealthz", 8080), "initialDelaySeconds": HEALTHY_WINDOW + 2, "periodSeconds": 1}
    run_sidecar_liveness_test(node, liveness_sidecar_pod(None, {**probe, "failureThreshold": 1}), 1, 45)


def test_should_not_be_restarted_with_a_non_local_redirect_http_liveness_probe(node: Node) -> None:
    """should *not* be restarted with a non-local redirect http liveness probe"""
    path = "/redirect?loc=http%3A%2F%2F0.0.0.0%2F"
    probe = {**http_get(path, 8080), "initialDelaySeconds": HEALTHY_WINDOW + 2, "periodSeconds": 1, "failureThreshold": 1}
    check_non_local_redirect_warning(node, liveness_sidecar_pod(None, probe), "sidecar")


def test_should_be_restarted_startup_probe_fails(node: Node) -> None:
    """should be restarted startup probe fails"""
    cmd = ["/bin/sh", "-c", "sleep 600"]
    liveness = {**exec_handler("/bin/true"), "initialDelaySeconds": 3, "failureThreshold": 1}
    startup = {**exec_handler("/bin/false"), "initialDelaySeconds": 3, "periodSeconds": 1, "failureThreshold": 3}
    run_sidecar_liveness_test(node, startup_sidecar_pod(startup, None, liveness, cmd), 1, 45)


def test_should_not_be_restarted_by_liveness_probe_because_startup_probe_delays_it(node: Node) -> None:
    """should *not* be restarted by liveness probe because startup probe delays it"""
    cmd = ["/bin/sh", "-c", "sleep 600"]
    liveness = {**exec_handler("/bin/false"), "initialDelaySeconds": 2, "periodSeconds": 1, "failureThreshold": 1}
    startup = {**exec_handler("/bin/false"), "initialDelaySeconds": 2, "periodSeconds": 1, "failureThreshold": 60}
    run_sidecar_liveness_test(node, startup_sidecar_pod(startup, None, liveness, cmd), 0, 20)


def test_should_be_restarted_by_liveness_probe_after_startup_probe_enables_it(node: Node) -> None:
    """should be restarted by liveness probe after startup probe enables it"""
    cmd = ["/bin/sh", "-c", "sleep 3; echo ok >/tmp/startup; sleep 600"]
    liveness = {**exec_handler("/bin/false"), "initialDelaySeconds": 1, "periodSeconds": 1, "failureThreshold": 1}
    startup = {**exec_handler("cat", "/tmp/startup"), "initialDelaySeconds": 1, "periodSeconds": 1, "failureThreshold": 60}
    run_sidecar_liveness_test(node, startup_sidecar_pod(startup, None, liveness, cmd), 1, 45)


def test_should_be_ready_immediately_after_startupprobe_succeeds(node: Node) -> None:
    """should be ready immediately after startupProbe succeeds"""
    readiness_period = 20
    # The startup file comes after more than one readiness period (upstream: 32 s > 30 s), so that both workers
    # run before it does; readiness must then follow the startup success at once, not at its next tick.
    cmd = ["/bin/sh", "-c", f"echo ok >/tmp/health; sleep {readiness_period + 2}; echo ok >/tmp/startup; sleep 600"]
    readiness = {**exec_handler("/bin/cat", "/tmp/health"), "initialDelaySeconds": 0, "periodSeconds": readiness_period}
    startup = {**exec_handler("/bin/cat", "/tmp/startup"), "initialDelaySeconds": 0, "failureThreshold": 120, "periodSeconds": 1}
    check_ready_soon_after_startup(node, startup_sidecar_pod(startup, readiness, None, cmd), 10)


def test_should_override_timeoutgraceperiodseconds_when_livenessprobe_field_is_set(node: Node) -> None:
    """should override timeoutGracePeriodSeconds when LivenessProbe field is set"""
    cmd = ["/bin/sh", "-c", "sleep 1000"]
    # probe will fail since pod has no http endpoints
    liveness = {**http_get("/healthz", 8080), "initialDelaySeconds": 3, "failureThreshold": 1, "terminationGracePeriodSeconds": 5}
    pod = busybox_sidecar_pod(None, liveness, cmd)
    pod["spec"]["terminationGracePeriodSeconds"] = 500
    # 3 s delay + 10 s period + 5 s grace << the pod-level 500 s
    run_sidecar_liveness_test(node, pod, 1, 40)


def test_should_override_timeoutgraceperiodseconds_when_startupprobe_field_is_set(node: Node) -> None:
    """should override timeoutGracePeriodSeconds when StartupProbe field is set"""
    cmd = ["/bin/sh", "-c", "sleep 1000"]
    # startup probe will fail since pod will sleep for 1000s before becoming ready
    liveness = {**exec_handler("/bin/true"), "initialDelaySeconds": 15, "failureThreshold": 1}
    pod = busybox_sidecar_pod(None, liveness, cmd)
    pod["spec"]["terminationGracePeriodSeconds"] = 500
    pod["spec"]["initContainers"][0]["startupProbe"] = {
        **exec_handler("/bin/cat", "/tmp/startup"),
        "initialDelaySeconds": 3,
        "failureThreshold": 1,
        "terminationGracePeriodSeconds": 5,
    }
    run_sidecar_liveness_test(node, pod, 1, 40)


def test_should_not_be_restarted_with_a_grpc_liveness_probe(node: Node) -> None:
    """should *not* be restarted with a GRPC liveness probe"""
    probe = {"grpc": {"port": 5000}, "initialDelaySeconds": 3, "periodSeconds": 1, "timeoutSeconds": 5, "failureThreshold": 1}
    run_sidecar_liveness_test(node, grpc_server_sidecar_pod(None, probe, "agnhost"), 0, 15)


def test_should_be_restarted_with_a_grpc_liveness_probe(node: Node) -> None:
    """should be restarted with a GRPC liveness probe"""
    # this port is wrong; the delay is 4 times the others' as upstream's (60 s there)
    probe = {"grpc": {"port": 2333}, "initialDelaySeconds": 12, "timeoutSeconds": 5, "failureThreshold": 1}
    run_sidecar_liveness_test(node, grpc_server_sidecar_pod(None, probe, "agnhost"), 1, 60)


def test_should_mark_readiness_on_pods_to_false_while_pod_is_in_progress_of_terminating_when_a_pod_has_a_readiness_probe(
    node: Node,
) -> None:
    """should mark readiness on pods to false while pod is in progress of terminating when a pod has a readiness probe"""
    check_not_ready_while_terminating(node, terminating_sidecar_pod(liveness=False), liveness=False)


def test_should_mark_readiness_on_pods_to_false_and_disable_liveness_probes_while_pod_is_in_progress_of_terminating(
    node: Node,
) -> None:
    """should mark readiness on pods to false and disable liveness probes while pod is in progress of terminating"""
    check_not_ready_while_terminating(node, terminating_sidecar_pod(liveness=True), liveness=True)
