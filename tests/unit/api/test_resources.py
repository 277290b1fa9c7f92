"""Pod requests, limits and QoS class, against component-helpers' and the qos helper's own test tables."""

from __future__ import annotations

from typing import Any

import pytest

from minikubelet.api.resources import compute_pod_qos, get_pod_qos, pod_limits, pod_requests, resource_list
from minikubelet.api.wire import Container, Pod, ResourceList, ResourceRequirements


def res(cpu: str = "", memory: str = "", **more: str) -> ResourceList:
    """getResourceList: only the quantities given."""
    found = {"cpu": cpu, "memory": memory, **{k.replace("_", "-"): v for k, v in more.items()}}
    return {name: value for name, value in found.items() if value}


def ctr(name: str, requests: ResourceList | None = None, limits: ResourceList | None = None, **extra: Any) -> Container:
    resources: ResourceRequirements = {}
    if requests:
        resources["requests"] = requests
    if limits:
        resources["limits"] = limits
    container: Container = {"name": name, "image": "busybox", "resources": resources}
    container.update(extra)  # type: ignore[typeddict-item]
    return container


def pod(containers: list[Container], init: list[Container] | None = None, **spec: Any) -> Pod:
    built: Pod = {"metadata": {"name": "p"}, "spec": {"containers": containers}}
    if init:
        built["spec"]["initContainers"] = init
    built["spec"].update(spec)  # type: ignore[typeddict-item]
    return built


def pod_level(requests: ResourceList, limits: ResourceList) -> dict[str, Any]:
    return {"resources": {"requests": requests, "limits": limits}}


# TestComputePodQOS (pkg/apis/core/v1/helper/qos/qos_test.go), with pod-level resources enabled where it does.
QOS_CASES: list[tuple[str, Pod, str]] = [
    ("guaranteed", pod([ctr("g", res("100m", "100Mi"), res("100m", "100Mi"))]), "Guaranteed"),
    (
        "guaranteed-guaranteed",
        pod([ctr("a", res("100m", "100Mi"), res("100m", "100Mi")), ctr("b", res("100m", "100Mi"), res("100m", "100Mi"))]),
        "Guaranteed",
    ),
    ("best-effort-best-effort", pod([ctr("a"), ctr("b")]), "BestEffort"),
    ("best-effort", pod([ctr("a")]), "BestEffort"),
    ("best-effort-burstable", pod([ctr("a"), ctr("b", res("1"), res("2"))]), "Burstable"),
    ("best-effort-guaranteed", pod([ctr("a"), ctr("b", res("10m", "100Mi"), res("10m", "100Mi"))]), "Burstable"),
    ("burstable-cpu-guaranteed-memory", pod([ctr("a", res(memory="100Mi"), res(memory="100Mi"))]), "Burstable"),
    ("burstable-no-limits", pod([ctr("a", res("100m", "100Mi"))]), "Burstable"),
    (
        "burstable-guaranteed",
        pod([ctr("a", res("1", "100Mi"), res("2", "100Mi")), ctr("b", res("100m", "100Mi"), res("100m", "100Mi"))]),
        "Burstable",
    ),
    (
        "burstable-unbounded-but-requests-match-limits",
        pod([ctr("a", res("100m", "100Mi"), res("200m", "200Mi")), ctr("b", res("100m", "100Mi"))]),
        "Burstable",
    ),
    ("burstable-1", pod([ctr("a", res("10m", "100Mi"), res("100m", "200Mi"))]), "Burstable"),
    ("burstable-2", pod([ctr("a", res("0", "0"), res("100m", "200Mi"))]), "Burstable"),
    (
        "best-effort-hugepages",
        pod([ctr("a", res("0", "0", hugepages_2Mi="1Gi"), res("0", "0", hugepages_2Mi="1Gi"))]),
        "BestEffort",
    ),
    ("init-container", pod([ctr("a")], init=[ctr("i", res("10m", "100Mi"), res("100m", "200Mi"))]), "Burstable"),
    (
        "guaranteed-with-pod-level-resources",
        pod([ctr("a")], **pod_level(res("10m", "100Mi"), res("10m", "100Mi"))),
        "Guaranteed",
    ),
    (
        "guaranteed-with-pod-and-container-level-resources",
        pod([ctr("a", res("3m", "10Mi"), res("5m", "20Mi"))], **pod_level(res("10m", "100Mi"), res("10m", "100Mi"))),
        "Guaranteed",
    ),
    ("burstable-with-pod-level-resources", pod([ctr("a")], **pod_level(res("10m", "10Mi"), res("20m", "50Mi"))), "Burstable"),
    (
        "burstable-with-pod-and-container-level-resources",
        pod([ctr("a", res("5m", "10Mi"), res("5m", "10Mi"))], **pod_level(res("10m", "10Mi"), res("20m", "50Mi"))),
        "Burstable",
    ),
    (
        "burstable-with-pod-and-container-level-requests",
        pod([ctr("a", res("5m", "10Mi"))], **pod_level(res("10m", "10Mi"), {})),
        "Burstable",
    ),
    (
        "burstable-with-pod-and-container-level-resources-2",
        pod(
            [ctr("a", res("5m", "10Mi")), ctr("b", res("5m", "10Mi"), res("5m", "10Mi"))],
            **pod_level(res("10m", "10Mi"), res("5m")),
        ),
        "Burstable",
    ),
    # The zero-quantity rule (a resource counts only above zero) and what else follows from the algorithm.
    ("zero-cpu-request", pod([ctr("a", res("0"))]), "BestEffort"),
    ("zero-limits", pod([ctr("a", res("0m", "0"), res("0", "0Mi"))]), "BestEffort"),
    ("only-other-resources", pod([ctr("a", res(ephemeral_storage="1Gi"), res(ephemeral_storage="1Gi"))]), "BestEffort"),
    (
        "guaranteed-ignores-other-resources",
        pod([ctr("a", res("1", "1Gi", ephemeral_storage="1Gi"), res("1", "1Gi", ephemeral_storage="2Gi"))]),
        "Guaranteed",
    ),
    ("equal-values-in-other-units", pod([ctr("a", res("1000m", "1Gi"), res("1", "1024Mi"))]), "Guaranteed"),
    ("limits-only", pod([ctr("a", None, res("1", "1Gi"))]), "Burstable"),  # as stored, requests are defaulted first
    (
        "guaranteed-containers-summed",  # the sums decide, not each container
        pod([ctr("a", res("1", "1Gi"), res("2", "1Gi")), ctr("b", res("2", "1Gi"), res("1", "1Gi"))]),
        "Guaranteed",
    ),
    (
        "guaranteed-init-and-sidecar",
        pod(
            [ctr("a", res("1", "1Gi"), res("1", "1Gi"))],
            init=[ctr("i", res("1", "1Gi"), res("1", "1Gi")), ctr("s", res("1", "1Gi"), res("1", "1Gi"), restartPolicy="Always")],
        ),
        "Guaranteed",
    ),
    ("ephemeral-ignored", pod([ctr("a", res("1", "1Gi"), res("1", "1Gi"))], ephemeralContainers=[{"name": "e"}]), "Guaranteed"),
    (
        "pod-level-unsupported-resource-is-not-set",
        pod([ctr("a", res("1", "1Gi"), res("1", "1Gi"))], resources={"limits": {"storage": "1"}}),
        "Guaranteed",
    ),
]


@pytest.mark.parametrize(("body", "expected"), [(p, q) for _, p, q in QOS_CASES], ids=[n for n, _, _ in QOS_CASES])
def test_compute_pod_qos(body: Pod, expected: str) -> None:
    assert compute_pod_qos(body) == expected


def test_get_pod_qos_prefers_the_stored_class() -> None:
    body = pod([ctr("a")])
    assert get_pod_qos(body) == "BestEffort"
    body["status"] = {"qosClass": "Guaranteed"}
    assert get_pod_qos(body) == "Guaranteed"


def _text(resources: dict[str, Any]) -> dict[str, str]:
    return {name: str(quantity) for name, quantity in resources.items()}


# TestPodRequestsAndLimits / TestPodResourceRequests (component-helpers/resource/helpers_test.go), in short.
REQUEST_CASES: list[tuple[str, Pod, dict[str, str], dict[str, str]]] = [
    ("no-resources", pod([ctr("a")]), {}, {}),
    (
        "containers-summed",
        pod([ctr("a", res("1", "1Gi"), res("2", "2Gi")), ctr("b", res("500m", "512Mi"), res("1", "1Gi"))]),
        {"cpu": "1500m", "memory": "1536Mi"},
        {"cpu": "3", "memory": "3Gi"},
    ),
    (
        "init-container-max",
        pod([ctr("a", res("1"), res("1"))], init=[ctr("i1", res("2"), res("3")), ctr("i2", res("500m"), res("500m"))]),
        {"cpu": "2"},
        {"cpu": "3"},
    ),
    (
        "sidecar-summed-and-counted-beside-later-init",
        pod(
            [ctr("a", res("1"), res("1"))],
            init=[ctr("s", res("1"), res("1"), restartPolicy="Always"), ctr("i", res("1500m"), res("1500m"))],
        ),
        # the sum is 2 (a + s); the init container needs 1.5 beside the sidecar started before it: 2.5.
        {"cpu": "2500m"},
        {"cpu": "2500m"},
    ),
    (
        "init-before-sidecar",
        pod(
            [ctr("a", res("1"))],
            init=[ctr("i", res("3")), ctr("s", res("1"), restartPolicy="Always")],
        ),
        {"cpu": "3"},
        {},
    ),
    (
        "resources-only-in-init",
        pod([ctr("a")], init=[ctr("i", res(memory="1Gi"), res(memory="2Gi"))]),
        {"memory": "1Gi"},
        {"memory": "2Gi"},
    ),
    (
        "overhead",
        pod([ctr("a", res("1", "1Gi"), res("2"))], overhead={"cpu": "250m", "memory": "128Mi"}),
        {"cpu": "1250m", "memory": "1152Mi"},
        {"cpu": "2250m"},  # only on a limit that is set
    ),
    (
        "pod-level",
        pod([ctr("a", res("1", "1Gi"), res("1", "1Gi"))], **pod_level(res("2"), res("4", ephemeral_storage="1Gi"))),
        {"cpu": "2", "memory": "1Gi"},
        {"cpu": "4", "memory": "1Gi"},
    ),
    ("unparsable-is-zero", pod([ctr("a", {"cpu": "lots"})]), {"cpu": "0"}, {}),
]


@pytest.mark.parametrize(
    ("body", "requests", "limits"), [(p, r, lim) for _, p, r, lim in REQUEST_CASES], ids=[n for n, *_ in REQUEST_CASES]
)
def test_pod_requests_and_limits(body: Pod, requests: dict[str, str], limits: dict[str, str]) -> None:
    assert _text(pod_requests(body)) == requests
    assert _text(pod_limits(body)) == limits


def test_use_status_takes_the_larger_of_spec_allocated_and_actual() -> None:
    body = pod([ctr("a", res("1", "1Gi"), res("2", "2Gi"))])
    body["status"] = {
        "containerStatuses": [
            {
                "name": "a",
                "allocatedResources": {"cpu": "1500m"},
                "resources": {"requests": {"memory": "512Mi"}, "limits": {"cpu": "3"}},
            }
        ]
    }
    assert _text(pod_requests(body)) == {"cpu": "1", "memory": "1Gi"}
    assert _text(pod_requests(body, use_status=True)) == {"cpu": "1500m", "memory": "1Gi"}
    assert _text(pod_limits(body, use_status=True)) == {"cpu": "3", "memory": "2Gi"}


def test_resource_list_keeps_the_written_format() -> None:
    assert _text(resource_list({"memory": "1024Mi", "cpu": "0.5", "x": "1e3"})) == {"memory": "1Gi", "cpu": "500m", "x": "1e3"}
