"""The defaults the models apply while decoding, as `pkg/apis/core/v1/defaults.go` does
(docs/kubelet.md#probe-fields-and-defaults).

Every case decodes a raw wire-format Pod with `decode_pod` (decode + default + validate) and reads one
defaulted field back. Kubernetes defaulting is "if the field is the zero value, set the default", so for
most fields an explicit `0` / `""` / `null` is defaulted exactly like an absent one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from builders import DELETE, container, make_pod, patched

from minikubelet.api import (
    ContainerState,
    ContainerStateTerminated,
    ContainerStatus,
    HostIP,
    Pod,
    PodIP,
    PodStatus,
    Quantity,
)
from minikubelet.api.loading import decode_pod

DIGEST = "sha256:" + "0123456789abcdef" * 4

Getter = Callable[[Pod], Any]


def _c0(pod: Pod) -> Any:
    return pod.spec.containers[0]


def _q(**quantities: str) -> dict[str, Quantity]:
    return {name: Quantity.parse(text) for name, text in quantities.items()}


# ------------------------------------------------------------------------------------------------ probes

PROBE_KINDS = ["livenessProbe", "readinessProbe", "startupProbe"]
_PROBE_ATTR = {"livenessProbe": "liveness_probe", "readinessProbe": "readiness_probe", "startupProbe": "startup_probe"}

PROBE_FIELD_DEFAULTS = [
    pytest.param("periodSeconds", "period_seconds", 10, id="periodSeconds-10"),
    pytest.param("timeoutSeconds", "timeout_seconds", 1, id="timeoutSeconds-1"),
    pytest.param("successThreshold", "success_threshold", 1, id="successThreshold-1"),
    pytest.param("failureThreshold", "failure_threshold", 3, id="failureThreshold-3"),
    pytest.param("initialDelaySeconds", "initial_delay_seconds", 0, id="initialDelaySeconds-0"),
]


@pytest.mark.parametrize("kind", PROBE_KINDS)
@pytest.mark.parametrize(("wire", "attr", "expected"), PROBE_FIELD_DEFAULTS)
@pytest.mark.parametrize("written", ["absent", "zero", "null"])
def test_probe_field_default(kind: str, wire: str, attr: str, expected: int, written: str) -> None:
    probe: dict[str, Any] = {"exec": {"command": ["true"]}}
    if written == "zero":
        probe[wire] = 0
    elif written == "null":
        probe[wire] = None
    pod = decode_pod(patched({f"spec.containers[0].{kind}": probe}))
    assert getattr(getattr(_c0(pod), _PROBE_ATTR[kind]), attr) == expected


@pytest.mark.parametrize(
    ("wire", "attr", "value"),
    [
        pytest.param("periodSeconds", "period_seconds", 7, id="periodSeconds"),
        pytest.param("timeoutSeconds", "timeout_seconds", 5, id="timeoutSeconds"),
        pytest.param("failureThreshold", "failure_threshold", 30, id="failureThreshold"),
        pytest.param("initialDelaySeconds", "initial_delay_seconds", 15, id="initialDelaySeconds"),
        pytest.param("terminationGracePeriodSeconds", "termination_grace_period_seconds", 5, id="probe-tgps"),
    ],
)
def test_probe_explicit_value_kept(wire: str, attr: str, value: int) -> None:
    pod = decode_pod(patched({"spec.containers[0].livenessProbe": {"exec": {"command": ["true"]}, wire: value}}))
    assert getattr(_c0(pod).liveness_probe, attr) == value


def test_probe_termination_grace_period_defaults_to_unset() -> None:
    pod = decode_pod(patched({"spec.containers[0].livenessProbe": {"tcpSocket": {"port": 80}}}))
    assert _c0(pod).liveness_probe.termination_grace_period_seconds is None


def test_readiness_success_threshold_above_one_is_kept() -> None:
    pod = decode_pod(patched({"spec.containers[0].readinessProbe": {"tcpSocket": {"port": 80}, "successThreshold": 3}}))
    assert _c0(pod).readiness_probe.success_threshold == 3


HTTP_GET_CASES = [
    pytest.param({}, "/", "HTTP", id="path-and-scheme-absent"),
    pytest.param({"path": "", "scheme": ""}, "/", "HTTP", id="path-and-scheme-empty"),
    pytest.param({"path": None, "scheme": None}, "/", "HTTP", id="path-and-scheme-null"),
    pytest.param({"path": "/healthz", "scheme": "HTTPS"}, "/healthz", "HTTPS", id="explicit-kept"),
    pytest.param({"path": "/redirect?loc=%2Fhealthz"}, "/redirect?loc=%2Fhealthz", "HTTP", id="query-kept"),
]


@pytest.mark.parametrize(("fields", "path", "scheme"), HTTP_GET_CASES)
def test_http_get_defaults_in_probe(fields: dict[str, Any], path: str, scheme: str) -> None:
    pod = decode_pod(patched({"spec.containers[0].readinessProbe.httpGet": {"port": 8080, **fields}}))
    action = _c0(pod).readiness_probe.http_get
    assert (action.path, action.scheme, action.port, action.host) == (path, scheme, 8080, "")


@pytest.mark.parametrize(("fields", "path", "scheme"), HTTP_GET_CASES)
def test_http_get_defaults_in_lifecycle_hook(fields: dict[str, Any], path: str, scheme: str) -> None:
    pod = decode_pod(patched({"spec.containers[0].lifecycle.preStop.httpGet": {"port": "http", **fields}}))
    action = _c0(pod).lifecycle.pre_stop.http_get
    assert (action.path, action.scheme, action.port) == (path, scheme, "http")


# ------------------------------------------------------------------------------- pod and container fields

FIELD_DEFAULT_CASES = [
    # spec.restartPolicy
    pytest.param({}, lambda p: p.spec.restart_policy, "Always", id="restartPolicy-absent"),
    pytest.param({"spec.restartPolicy": ""}, lambda p: p.spec.restart_policy, "Always", id="restartPolicy-empty"),
    pytest.param({"spec.restartPolicy": None}, lambda p: p.spec.restart_policy, "Always", id="restartPolicy-null"),
    pytest.param({"spec.restartPolicy": "Never"}, lambda p: p.spec.restart_policy, "Never", id="restartPolicy-kept"),
    pytest.param({"spec.restartPolicy": "OnFailure"}, lambda p: p.spec.restart_policy, "OnFailure", id="restartPolicy-onfailure"),
    # spec.terminationGracePeriodSeconds: a pointer, so only nil is defaulted
    pytest.param({}, lambda p: p.spec.termination_grace_period_seconds, 30, id="tgps-absent-30"),
    pytest.param(
        {"spec.terminationGracePeriodSeconds": None},
        lambda p: p.spec.termination_grace_period_seconds,
        30,
        id="tgps-null-30",
    ),
    pytest.param(
        {"spec.terminationGracePeriodSeconds": 0},
        lambda p: p.spec.termination_grace_period_seconds,
        0,
        id="tgps-explicit-0-stays-0",
    ),
    pytest.param(
        {"spec.terminationGracePeriodSeconds": 5},
        lambda p: p.spec.termination_grace_period_seconds,
        5,
        id="tgps-explicit-kept",
    ),
    # spec.dnsPolicy / spec.schedulerName
    pytest.param({}, lambda p: p.spec.dns_policy, "ClusterFirst", id="dnsPolicy-absent"),
    pytest.param({"spec.dnsPolicy": ""}, lambda p: p.spec.dns_policy, "ClusterFirst", id="dnsPolicy-empty"),
    pytest.param({"spec.dnsPolicy": "Default"}, lambda p: p.spec.dns_policy, "Default", id="dnsPolicy-kept"),
    pytest.param({}, lambda p: p.spec.scheduler_name, "default-scheduler", id="schedulerName-absent"),
    pytest.param({"spec.schedulerName": ""}, lambda p: p.spec.scheduler_name, "default-scheduler", id="schedulerName-empty"),
    pytest.param(
        {"spec.schedulerName": "my-scheduler"}, lambda p: p.spec.scheduler_name, "my-scheduler", id="schedulerName-kept"
    ),
    pytest.param({}, lambda p: p.spec.active_deadline_seconds, None, id="activeDeadlineSeconds-unset"),
    # container termination message
    pytest.param({}, lambda p: _c0(p).termination_message_path, "/dev/termination-log", id="terminationMessagePath-absent"),
    pytest.param(
        {"spec.containers[0].terminationMessagePath": ""},
        lambda p: _c0(p).termination_message_path,
        "/dev/termination-log",
        id="terminationMessagePath-empty",
    ),
    pytest.param(
        {"spec.containers[0].terminationMessagePath": "/tmp/msg"},
        lambda p: _c0(p).termination_message_path,
        "/tmp/msg",
        id="terminationMessagePath-kept",
    ),
    pytest.param({}, lambda p: _c0(p).termination_message_policy, "File", id="terminationMessagePolicy-absent"),
    pytest.param(
        {"spec.containers[0].terminationMessagePolicy": ""},
        lambda p: _c0(p).termination_message_policy,
        "File",
        id="terminationMessagePolicy-empty",
    ),
    pytest.param(
        {"spec.containers[0].terminationMessagePolicy": "FallbackToLogsOnError"},
        lambda p: _c0(p).termination_message_policy,
        "FallbackToLogsOnError",
        id="terminationMessagePolicy-kept",
    ),
    # container ports
    pytest.param(
        {"spec.containers[0].ports": [{"containerPort": 80}]},
        lambda p: _c0(p).ports[0].protocol,
        "TCP",
        id="port-protocol-absent",
    ),
    pytest.param(
        {"spec.containers[0].ports": [{"containerPort": 80, "protocol": ""}]},
        lambda p: _c0(p).ports[0].protocol,
        "TCP",
        id="port-protocol-empty",
    ),
    pytest.param(
        {"spec.containers[0].ports": [{"containerPort": 53, "protocol": "UDP"}]},
        lambda p: _c0(p).ports[0].protocol,
        "UDP",
        id="port-protocol-kept",
    ),
    pytest.param(
        {"spec.containers[0].ports": [{"containerPort": 80}]},
        lambda p: (_c0(p).ports[0].host_port, _c0(p).ports[0].host_ip, _c0(p).ports[0].name),
        (0, "", ""),
        id="port-hostPort-unset",
    ),
    # env fieldRef apiVersion
    pytest.param(
        {"spec.containers[0].env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]},
        lambda p: _c0(p).env[0].value_from.field_ref.api_version,
        "v1",
        id="fieldRef-apiVersion-absent",
    ),
    pytest.param(
        {
            "spec.containers[0].env": [
                {"name": "POD", "valueFrom": {"fieldRef": {"apiVersion": "", "fieldPath": "metadata.name"}}}
            ]
        },
        lambda p: _c0(p).env[0].value_from.field_ref.api_version,
        "v1",
        id="fieldRef-apiVersion-empty",
    ),
    # unset things stay unset
    pytest.param({}, lambda p: _c0(p).liveness_probe, None, id="no-probe"),
    pytest.param({}, lambda p: _c0(p).restart_policy, None, id="container-restartPolicy-unset"),
    pytest.param({}, lambda p: p.status, None, id="status-unset"),
    pytest.param({}, lambda p: p.metadata.namespace, "", id="namespace-empty"),
]


@pytest.mark.parametrize(("patch", "get", "expected"), FIELD_DEFAULT_CASES)
def test_field_default(patch: dict[str, Any], get: Getter, expected: Any) -> None:
    assert get(decode_pod(patched(patch))) == expected


# ---------------------------------------------------------------------------------------- imagePullPolicy

PULL_POLICY_CASES = [
    pytest.param("busybox", "Always", id="no-tag"),
    pytest.param("busybox:latest", "Always", id="latest"),
    pytest.param("busybox:1.35", "IfNotPresent", id="tag"),
    pytest.param("docker.io/library/busybox", "Always", id="registry-no-tag"),
    pytest.param("localhost:5000/busybox", "Always", id="registry-port-is-not-a-tag"),
    pytest.param("localhost:5000/busybox:1.0", "IfNotPresent", id="registry-port-and-tag"),
    pytest.param("localhost:5000/busybox:latest", "Always", id="registry-port-and-latest"),
    pytest.param(f"busybox@{DIGEST}", "IfNotPresent", id="digest"),
    pytest.param(f"busybox:1.35@{DIGEST}", "IfNotPresent", id="tag-and-digest"),
    pytest.param(f"busybox:latest@{DIGEST}", "Always", id="latest-and-digest"),
    pytest.param("minikubelet.local/echo:v1", "IfNotPresent", id="local-image"),
    pytest.param(
        "Busybox",
        "IfNotPresent",
        id="unparsable-reference",
    ),
]


@pytest.mark.parametrize(("image", "expected"), PULL_POLICY_CASES)
def test_image_pull_policy_from_tag(image: str, expected: str) -> None:
    pod = decode_pod(patched({"spec.containers[0].image": image}))
    assert _c0(pod).image_pull_policy == expected


@pytest.mark.parametrize(("image", "expected"), PULL_POLICY_CASES[:3])
def test_image_pull_policy_from_tag_init_container(image: str, expected: str) -> None:
    pod = decode_pod(patched({"spec.initContainers": [container("init", image)]}))
    assert pod.spec.init_containers[0].image_pull_policy == expected


@pytest.mark.parametrize(
    ("image", "written", "expected"),
    [
        pytest.param("busybox:latest", "Never", "Never", id="latest-never-kept"),
        pytest.param("busybox:latest", "IfNotPresent", "IfNotPresent", id="latest-ifnotpresent-kept"),
        pytest.param("busybox:1.35", "Always", "Always", id="tag-always-kept"),
        pytest.param("busybox", "Never", "Never", id="no-tag-never-kept"),
        pytest.param("busybox:1.35", "", "IfNotPresent", id="empty-is-defaulted"),
        pytest.param("busybox", None, "Always", id="null-is-defaulted"),
    ],
)
def test_image_pull_policy_explicit(image: str, written: str | None, expected: str) -> None:
    pod = decode_pod(patched({"spec.containers[0]": container(image=image, imagePullPolicy=written)}))
    assert _c0(pod).image_pull_policy == expected


# ---------------------------------------------------------------------------------------------- resources

RESOURCE_CASES = [
    pytest.param(
        {"limits": {"cpu": "500m", "memory": "64Mi"}},
        _q(cpu="500m", memory="64Mi"),
        _q(cpu="500m", memory="64Mi"),
        id="requests-from-limits",
    ),
    pytest.param(
        {"limits": {"cpu": "1", "memory": "128Mi"}, "requests": {"cpu": "250m"}},
        _q(cpu="1", memory="128Mi"),
        _q(cpu="250m", memory="128Mi"),
        id="explicit-request-kept-missing-one-copied",
    ),
    pytest.param(
        {"limits": {"cpu": "1"}, "requests": None},
        _q(cpu="1"),
        _q(cpu="1"),
        id="null-requests-from-limits",
    ),
    pytest.param(
        {"requests": {"cpu": "100m"}},
        {},
        _q(cpu="100m"),
        id="requests-only-no-limits",
    ),
    pytest.param({}, {}, {}, id="empty"),
    pytest.param(
        {"limits": {"example.com/widget": "2"}},
        _q(**{"example.com/widget": "2"}),
        _q(**{"example.com/widget": "2"}),
        id="extended-resource",
    ),
]


@pytest.mark.parametrize(("resources", "limits", "requests"), RESOURCE_CASES)
def test_resource_requests_default_to_limits(
    resources: dict[str, Any], limits: dict[str, Quantity], requests: dict[str, Quantity]
) -> None:
    pod = decode_pod(patched({"spec.containers[0].resources": resources}))
    assert _c0(pod).resources.limits == limits
    assert _c0(pod).resources.requests == requests


def test_resource_requests_default_to_limits_in_init_containers() -> None:
    pod = decode_pod(patched({"spec.initContainers": [container("init", resources={"limits": {"memory": "1Gi"}})]}))
    assert pod.spec.init_containers[0].resources.requests == _q(memory="1Gi")


def test_resource_quantities_are_canonical_on_the_wire() -> None:
    pod = decode_pod(patched({"spec.containers[0].resources": {"limits": {"cpu": "0.5", "memory": "1024Mi"}}}))
    assert pod.to_dict()["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "500m", "memory": "1Gi"},
        "requests": {"cpu": "500m", "memory": "1Gi"},
    }


# ---------------------------------------------------------------------------------------- null means unset

NULL_CASES = [
    pytest.param({"metadata.labels": None}, lambda p: p.metadata.labels, {}, id="labels-null"),
    pytest.param({"metadata.annotations": None}, lambda p: p.metadata.annotations, {}, id="annotations-null"),
    pytest.param(
        {"metadata.creationTimestamp": None}, lambda p: p.metadata.creation_timestamp, None, id="creationTimestamp-null"
    ),
    pytest.param({"metadata.namespace": None}, lambda p: p.metadata.namespace, "", id="namespace-null"),
    pytest.param({"status": None}, lambda p: p.status, None, id="status-null"),
    pytest.param({"status": {}}, lambda p: p.status, PodStatus(), id="status-empty-object"),
    pytest.param({"spec.volumes": None}, lambda p: p.spec.volumes, [], id="volumes-null"),
    pytest.param({"spec.initContainers": None}, lambda p: p.spec.init_containers, [], id="initContainers-null"),
    pytest.param({"spec.nodeSelector": None}, lambda p: p.spec.node_selector, {}, id="nodeSelector-null"),
    pytest.param({"spec.containers[0].ports": None}, lambda p: _c0(p).ports, [], id="ports-null"),
    pytest.param({"spec.containers[0].env": None}, lambda p: _c0(p).env, [], id="env-null"),
    pytest.param({"spec.containers[0].command": None}, lambda p: _c0(p).command, [], id="command-null"),
    pytest.param({"spec.containers[0].livenessProbe": None}, lambda p: _c0(p).liveness_probe, None, id="probe-null"),
    pytest.param({"spec.containers[0].lifecycle": None}, lambda p: _c0(p).lifecycle, None, id="lifecycle-null"),
    pytest.param(
        {"spec.containers[0].resources": None},
        lambda p: (_c0(p).resources.limits, _c0(p).resources.requests),
        ({}, {}),
        id="resources-null",
    ),
    pytest.param(
        {"spec.containers[0].env": [{"name": "A", "value": None}]},
        lambda p: _c0(p).env[0].value,
        "",
        id="env-value-null",
    ),
]


@pytest.mark.parametrize(("patch", "get", "expected"), NULL_CASES)
def test_null_is_unset(patch: dict[str, Any], get: Getter, expected: Any) -> None:
    assert get(decode_pod(patched(patch))) == expected


def test_creation_timestamp_is_parsed_in_utc() -> None:
    pod = decode_pod(patched({"metadata.creationTimestamp": "2024-01-02T03:04:05Z"}))
    assert pod.metadata.creation_timestamp is not None
    assert pod.metadata.creation_timestamp.isoformat() == "2024-01-02T03:04:05+00:00"


# ----------------------------------------------------------------------------------------- wire round trip

RICH_POD: dict[str, Any] = make_pod(
    metadata={
        "name": "echo",
        "namespace": "default",
        "labels": {"app": "echo", "example.com/tier": "web"},
        "annotations": {"example.com/Note": "hello"},
        "creationTimestamp": "2024-01-02T03:04:05Z",
    },
    spec={
        "initContainers": [
            container("init", "busybox:1.35", command=["sh", "-c", "true"]),
            container(
                "sidecar",
                "busybox",
                restartPolicy="Always",
                readinessProbe={"exec": {"command": ["true"]}},
            ),
        ],
        "containers": [
            container(
                "app",
                ports=[
                    {"name": "http", "containerPort": 8080, "hostPort": 18080},
                    {"containerPort": 53, "protocol": "UDP"},
                ],
                env=[
                    {"name": "A", "value": "1"},
                    {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "TIER", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['example.com/tier']"}}},
                ],
                resources={"limits": {"cpu": "500m", "memory": "64Mi"}, "requests": {"cpu": "100m"}},
                volumeMounts=[
                    {"name": "data", "mountPath": "/data"},
                    {"name": "host", "mountPath": "/host", "readOnly": True, "subPath": "sub"},
                ],
                livenessProbe={
                    "httpGet": {"port": "http", "path": "/healthz", "httpHeaders": [{"name": "X-A", "value": "b"}]},
                    "initialDelaySeconds": 3,
                    "terminationGracePeriodSeconds": 5,
                },
                readinessProbe={"tcpSocket": {"port": 8080}, "successThreshold": 2},
                startupProbe={"exec": {"command": ["true"]}, "failureThreshold": 30, "periodSeconds": 1},
                lifecycle={"postStart": {"exec": {"command": ["true"]}}, "preStop": {"sleep": {"seconds": 5}}},
                terminationMessagePolicy="FallbackToLogsOnError",
                stdin=True,
                tty=True,
                workingDir="/work",
                args=["--port", "8080"],
            ),
            container("grpc", "example.com/grpc:2", livenessProbe={"grpc": {"port": 9000, "service": "health"}}),
        ],
        "volumes": [
            {"name": "data", "emptyDir": {"sizeLimit": "1Gi"}},
            {"name": "host", "hostPath": {"path": "/tmp", "type": "Directory"}},
            {"name": "mem", "emptyDir": {"medium": "Memory"}},
        ],
        "restartPolicy": "OnFailure",
        "terminationGracePeriodSeconds": 10,
        "activeDeadlineSeconds": 600,
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "hostname": "echo-host",
        "subdomain": "echo-sub",
        "dnsPolicy": "Default",
    },
    status={
        "phase": "Running",
        "podIP": "10.0.0.7",
        "podIPs": [{"ip": "10.0.0.7"}],
        "hostIP": "192.168.1.2",
        "hostIPs": [{"ip": "192.168.1.2"}],
        "startTime": "2024-01-02T03:04:06Z",
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2024-01-02T03:04:09Z"}],
        "containerStatuses": [
            {
                "name": "app",
                "ready": True,
                "restartCount": 2,
                "image": "minikubelet.local/echo:v1",
                "imageID": "docker-pullable://minikubelet.local/echo@" + DIGEST,
                "containerID": "docker://abc123",
                "started": True,
                "state": {"running": {"startedAt": "2024-01-02T03:04:07Z"}},
                "lastState": {
                    "terminated": {
                        "exitCode": 137,
                        "reason": "Error",
                        "startedAt": "2024-01-02T03:00:00Z",
                        "finishedAt": "2024-01-02T03:04:00Z",
                        "containerID": "docker://old",
                    }
                },
            }
        ],
    },
)


def test_rich_pod_round_trips() -> None:
    pod = decode_pod(RICH_POD)
    assert decode_pod(pod.to_dict()) == pod


def test_rich_pod_to_dict_is_stable() -> None:
    wire = decode_pod(RICH_POD).to_dict()
    assert decode_pod(wire).to_dict() == wire


def test_minimal_pod_to_dict_carries_the_defaults() -> None:
    assert decode_pod(make_pod()).to_dict() == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "echo"},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "minikubelet.local/echo:v1",
                    "imagePullPolicy": "IfNotPresent",
                    "resources": {},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                }
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "schedulerName": "default-scheduler",
            "dnsPolicy": "ClusterFirst",
            "securityContext": {},
        },
    }


def test_probe_to_dict_carries_the_defaults() -> None:
    pod = decode_pod(patched({"spec.containers[0].livenessProbe": {"httpGet": {"port": 8080}}}))
    assert pod.to_dict()["spec"]["containers"][0]["livenessProbe"] == {
        "httpGet": {"path": "/", "port": 8080, "scheme": "HTTP"},
        "initialDelaySeconds": 0,
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }


def test_round_trip_keeps_status_wire_names() -> None:
    status = decode_pod(RICH_POD).to_dict()["status"]
    assert status["podIP"] == "10.0.0.7"
    assert status["podIPs"] == [{"ip": "10.0.0.7"}]
    assert status["hostIP"] == "192.168.1.2"
    assert status["hostIPs"] == [{"ip": "192.168.1.2"}]
    assert status["containerStatuses"][0]["imageID"].startswith("docker-pullable://")
    assert status["containerStatuses"][0]["containerID"] == "docker://abc123"
    assert status["containerStatuses"][0]["lastState"]["terminated"]["containerID"] == "docker://old"


def test_pod_status_wire_names() -> None:
    status = PodStatus(
        phase="Running",
        pod_ip="10.0.0.1",
        pod_ips=[PodIP(ip="10.0.0.1")],
        host_ip="192.168.1.2",
        host_ips=[HostIP(ip="192.168.1.2")],
        qos_class="BestEffort",
    )
    assert status.to_dict() == {
        "phase": "Running",
        "podIP": "10.0.0.1",
        "podIPs": [{"ip": "10.0.0.1"}],
        "hostIP": "192.168.1.2",
        "hostIPs": [{"ip": "192.168.1.2"}],
        "qosClass": "BestEffort",
    }


def test_pod_status_omits_empty_ips() -> None:
    wire = PodStatus().to_dict()
    assert not {"podIP", "podIPs", "hostIP", "hostIPs", "pod_ip", "host_ip"} & set(wire)


def test_container_status_wire_names() -> None:
    status = ContainerStatus(
        name="app",
        image="minikubelet.local/echo:v1",
        image_id="docker-pullable://minikubelet.local/echo@" + DIGEST,
        container_id="docker://abc123",
        state=ContainerState(terminated=ContainerStateTerminated(exit_code=1, container_id="docker://abc123")),
    )
    wire = status.to_dict()
    assert wire["imageID"] == "docker-pullable://minikubelet.local/echo@" + DIGEST
    assert wire["containerID"] == "docker://abc123"
    assert wire["state"]["terminated"] == {"exitCode": 1, "containerID": "docker://abc123"}
    assert not {"image_id", "container_id", "imageId", "containerId"} & set(wire)


def test_container_status_always_emits_name_ready_image_and_image_id() -> None:
    # Go's ContainerStatus has no omitempty on name, ready, restartCount, image and imageID.
    wire = ContainerStatus(name="app").to_dict()
    assert {"name": "app", "ready": False, "restartCount": 0, "image": "", "imageID": ""}.items() <= wire.items()
    assert "containerID" not in wire


@pytest.mark.parametrize(
    ("wire", "attr"),
    [
        pytest.param("podIP", "pod_ip", id="podIP"),
        pytest.param("hostIP", "host_ip", id="hostIP"),
    ],
)
def test_status_wire_names_decode(wire: str, attr: str) -> None:
    pod = decode_pod(patched({f"status.{wire}": "10.1.2.3"}))
    assert getattr(pod.status, attr) == "10.1.2.3"


def test_make_pod_delete_marker() -> None:
    # The builder itself: DELETE removes a key while merging.
    assert "metadata" not in make_pod(metadata=DELETE)
