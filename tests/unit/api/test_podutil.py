"""The pod helpers: containers, statuses and probes in Kubernetes' order, tolerant of missing lists."""

from __future__ import annotations

from minikubelet.api import podutil
from minikubelet.api.wire import Container, Pod, PodStatus


def _pod() -> Pod:
    return {
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {
            "initContainers": [{"name": "init"}, {"name": "sidecar", "restartPolicy": "Always"}],
            "containers": [
                {"name": "app", "livenessProbe": {"periodSeconds": 5}, "startupProbe": {"failureThreshold": 9}},
                {"name": "web"},
            ],
            "ephemeralContainers": [{"name": "debugger", "targetContainerName": "app"}],
        },
        "status": {
            "containerStatuses": [{"name": "app", "restartCount": 1}, {"name": "web"}],
            "initContainerStatuses": [{"name": "init"}, {"name": "sidecar"}],
            "ephemeralContainerStatuses": [{"name": "debugger"}],
        },
    }


def test_container_lists_in_kubernetes_order() -> None:
    pod = _pod()
    assert [c["name"] for c in podutil.init_containers(pod)] == ["init", "sidecar"]
    assert [c["name"] for c in podutil.app_containers(pod)] == ["app", "web"]
    assert [c["name"] for c in podutil.ephemeral_containers(pod)] == ["debugger"]
    assert podutil.container_names(pod) == ["init", "sidecar", "app", "web", "debugger"]
    assert podutil.container_names(pod, ephemeral=False) == ["init", "sidecar", "app", "web"]
    assert [c["name"] for c in podutil.all_containers(pod)] == podutil.container_names(pod)
    assert [(kind, c["name"]) for kind, c in podutil.visit_containers(pod)] == [
        ("init", "init"),
        ("init", "sidecar"),
        ("regular", "app"),
        ("regular", "web"),
        ("ephemeral", "debugger"),
    ]


def test_missing_or_null_lists_are_empty() -> None:
    pod: Pod = {"metadata": {}, "spec": {"containers": [{"name": "a"}], "initContainers": None}}  # type: ignore[typeddict-item]
    assert podutil.container_names(pod) == ["a"]
    assert podutil.init_containers(pod) == []
    assert podutil.pod_status(pod) == {}
    assert podutil.all_statuses(podutil.pod_status(pod)) == []
    assert podutil.find_status({}, "a") is None


def test_the_lists_are_copies() -> None:
    pod = _pod()
    podutil.app_containers(pod).clear()
    podutil.all_statuses(podutil.pod_status(pod)).clear()
    assert len(pod["spec"]["containers"]) == 2
    assert podutil.find_status(podutil.pod_status(pod), "web") is not None


def test_find_container_and_kind() -> None:
    pod = _pod()
    found = podutil.find_container(pod, "debugger")
    assert found is not None and found.get("targetContainerName") == "app"
    assert podutil.find_container(pod, "nope") is None
    assert podutil.container_kind(pod, "sidecar") == "init"
    assert podutil.container_kind(pod, "web") == "regular"
    assert podutil.container_kind(pod, "debugger") == "ephemeral"
    assert podutil.container_kind(pod, "nope") is None


def test_statuses() -> None:
    status: PodStatus = podutil.pod_status(_pod())
    assert [s["name"] for s in podutil.all_statuses(status)] == ["init", "sidecar", "app", "web", "debugger"]
    assert [s["name"] for s in podutil.statuses_of(status, "regular")] == ["app", "web"]
    assert [s["name"] for s in podutil.statuses_of(status, "init")] == ["init", "sidecar"]
    assert [s["name"] for s in podutil.statuses_of(status, "ephemeral")] == ["debugger"]
    found = podutil.find_status(status, "app")
    assert found is not None and found.get("restartCount") == 1
    assert podutil.find_status(status, "nope") is None


def test_restartable_init_container() -> None:
    init, sidecar = podutil.init_containers(_pod())
    assert not podutil.is_restartable_init_container(init)
    assert podutil.is_restartable_init_container(sidecar)
    never: Container = {"name": "x", "restartPolicy": "Never"}  # type: ignore[typeddict-item]
    assert not podutil.is_restartable_init_container(never)


def test_probe_of() -> None:
    app = podutil.app_containers(_pod())[0]
    assert podutil.probe_of(app, "liveness") == {"periodSeconds": 5}
    assert podutil.probe_of(app, "startup") == {"failureThreshold": 9}
    assert podutil.probe_of(app, "readiness") is None
