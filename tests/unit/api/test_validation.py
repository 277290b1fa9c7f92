"""Validation errors, compared line for line with what the Kubernetes API server says
(docs/kubelet.md#probe-fields-and-defaults, docs/manifests.md#validation-as-pkgapiscorevalidationvalidationgo).

Each case turns the minimal valid pod of `builders.make_pod()` into a broken one and lists the exact
`str(FieldError)` lines, `<field path>: <Type>[: <value>][: <detail>]`, that `decode_pod` must raise.
Messages are apimachinery's (`k8s.io/apimachinery/pkg/util/validation`, `.../validation/field`) and
`pkg/apis/core/validation/validation.go`'s, copied here as text rather than imported, so that a change in
`minikubelet/api/names.py` cannot silently change what the tests expect.
"""

from __future__ import annotations

from typing import Any

import pytest
from builders import DELETE, Patch, apply_patch, container, make_pod, patched

from minikubelet.api.loading import decode_pod
from minikubelet.errors import ErrorType, InvalidError

# ------------------------------------------------------------------------------ apimachinery message texts

SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
QUALIFIED = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
    "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
QUALIFIED_NAME_PART = "name part " + QUALIFIED
QUALIFIED_TOO_MANY_SLASHES = (
    "a qualified name " + QUALIFIED + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
)
LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
HTTP_HEADER = (
    "a valid HTTP header must consist of alphanumeric characters or '-' "
    "(e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"
)
ENV_NAME = "a valid environment variable name must consist only of printable ASCII characters other than '='"
PORT_CHARS = "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
PORT_LETTER = "must contain at least one letter (a-z)"
PORT_RANGE = "must be between 1 and 65535, inclusive"
NONNEG = "must be greater than or equal to 0"
NOT_FOR_INIT = "may not be set for init containers without restartPolicy=Always"
ONE_HANDLER = "may not specify more than 1 handler type"
QUANTITY_FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
DOWNWARD_ENV_FIELDS = (
    'supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", '
    '"spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"'
)

C0 = "spec.containers[0]"
EXEC: dict[str, Any] = {"exec": {"command": ["true"]}}


class Unordered(tuple[str, ...]):
    """Expected lines whose order between validators is not meaningful: compared sorted."""

    __slots__ = ()


def causes_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidError) as info:
        decode_pod(raw)
    return [str(cause) for cause in info.value.causes]


def check(patch: Patch, expected: list[str] | Unordered) -> None:
    got = causes_of(patched(patch))
    if isinstance(expected, Unordered):
        assert sorted(got) == sorted(expected)
    else:
        assert got == list(expected)


def _second_container(**fields: Any) -> dict[str, Any]:
    return {"spec.containers[1]": container("other", **fields)}


def _two_hostports(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    return {
        f"{C0}.ports": [{"containerPort": 80, **first}],
        "spec.containers[1]": container("other", ports=[{"containerPort": 81, **second}]),
    }


# ----------------------------------------------------------------------------------------------- metadata

METADATA_CASES = [
    pytest.param(
        {"metadata.name": DELETE}, ["metadata.name: Required value: name or generateName is required"], id="name-absent"
    ),
    pytest.param({"metadata.name": ""}, ["metadata.name: Required value: name or generateName is required"], id="name-empty"),
    pytest.param({"metadata.name": "Echo"}, [f'metadata.name: Invalid value: "Echo": {SUBDOMAIN}'], id="name-uppercase"),
    pytest.param({"metadata.name": "echo_1"}, [f'metadata.name: Invalid value: "echo_1": {SUBDOMAIN}'], id="name-underscore"),
    pytest.param({"metadata.name": "echo-"}, [f'metadata.name: Invalid value: "echo-": {SUBDOMAIN}'], id="name-trailing-dash"),
    pytest.param(
        {"metadata.name": "a" * 254},
        [f'metadata.name: Invalid value: "{"a" * 254}": must be no more than 253 characters'],
        id="name-too-long",
    ),
    pytest.param(
        {"metadata.name": "A" * 254},
        [
            f'metadata.name: Invalid value: "{"A" * 254}": must be no more than 253 characters',
            f'metadata.name: Invalid value: "{"A" * 254}": {SUBDOMAIN}',
        ],
        id="name-too-long-and-uppercase",
    ),
    pytest.param(
        {"metadata.name": DELETE, "metadata.generateName": "Echo-"},
        [f'metadata.generateName: Invalid value: "Echo-": {SUBDOMAIN}'],
        id="generateName-uppercase",
    ),
    pytest.param(
        {"metadata.generateName": "echo_x-"},
        [f'metadata.generateName: Invalid value: "echo_x-": {SUBDOMAIN}'],
        id="generateName-invalid-with-name",
    ),
    pytest.param(
        {"metadata.namespace": "Default"},
        [f'metadata.namespace: Invalid value: "Default": {LABEL}'],
        id="namespace-uppercase",
    ),
    pytest.param(
        {"metadata.namespace": "team.a"},
        ['metadata.namespace: Invalid value: "team.a": must not contain dots'],
        id="namespace-dots",
    ),
    pytest.param(
        {"metadata.namespace": "n" * 64},
        [f'metadata.namespace: Invalid value: "{"n" * 64}": must be no more than 63 characters'],
        id="namespace-too-long",
    ),
    # labels: keys are qualified names, values label values; the field path is the map, without the key
    pytest.param(
        {"metadata.labels": {"bad key": "v"}},
        [f'metadata.labels: Invalid value: "bad key": {QUALIFIED_NAME_PART}'],
        id="label-key-space",
    ),
    pytest.param(
        {"metadata.labels": {"-app": "v"}},
        [f'metadata.labels: Invalid value: "-app": {QUALIFIED_NAME_PART}'],
        id="label-key-leading-dash",
    ),
    pytest.param(
        {"metadata.labels": {"k" * 64: "v"}},
        [f'metadata.labels: Invalid value: "{"k" * 64}": name part must be no more than 63 characters'],
        id="label-key-name-too-long",
    ),
    pytest.param(
        {"metadata.labels": {"example.com/": "v"}},
        [
            'metadata.labels: Invalid value: "example.com/": name part must be non-empty',
            f'metadata.labels: Invalid value: "example.com/": {QUALIFIED_NAME_PART}',
        ],
        id="label-key-empty-name-part",
    ),
    pytest.param(
        {"metadata.labels": {"/app": "v"}},
        ['metadata.labels: Invalid value: "/app": prefix part must be non-empty'],
        id="label-key-empty-prefix",
    ),
    pytest.param(
        {"metadata.labels": {"Example.com/app": "v"}},
        [f'metadata.labels: Invalid value: "Example.com/app": prefix part {SUBDOMAIN}'],
        id="label-key-uppercase-prefix",
    ),
    pytest.param(
        {"metadata.labels": {"a/b/c": "v"}},
        [f'metadata.labels: Invalid value: "a/b/c": {QUALIFIED_TOO_MANY_SLASHES}'],
        id="label-key-two-slashes",
    ),
    pytest.param(
        {"metadata.labels": {"app": "-web"}},
        [f'metadata.labels: Invalid value: "-web": {LABEL_VALUE}'],
        id="label-value-leading-dash",
    ),
    pytest.param(
        {"metadata.labels": {"app": "a b"}},
        [f'metadata.labels: Invalid value: "a b": {LABEL_VALUE}'],
        id="label-value-space",
    ),
    pytest.param(
        {"metadata.labels": {"app": "v" * 64}},
        [f'metadata.labels: Invalid value: "{"v" * 64}": must be no more than 63 characters'],
        id="label-value-too-long",
    ),
    pytest.param(
        {"metadata.annotations": {"bad key": "v"}},
        [f'metadata.annotations: Invalid value: "bad key": {QUALIFIED_NAME_PART}'],
        id="annotation-key-space",
    ),
    pytest.param(
        {"metadata.annotations": {"a/b/c": "v"}},
        [f'metadata.annotations: Invalid value: "a/b/c": {QUALIFIED_TOO_MANY_SLASHES}'],
        id="annotation-key-two-slashes",
    ),
    pytest.param(
        {"metadata.annotations": {"note": "x" * (256 * 1024)}},
        ["metadata.annotations: Too long: must have at most 262144 bytes"],
        id="annotations-too-large",
    ),
]


@pytest.mark.parametrize(("patch", "expected"), METADATA_CASES)
def test_metadata(patch: Patch, expected: list[str]) -> None:
    check(patch, expected)


# ---------------------------------------------------------------------------------------------- containers

CONTAINER_CASES = [
    pytest.param({"spec.containers": []}, ["spec.containers: Required value"], id="containers-empty"),
    pytest.param({"spec.containers": DELETE}, ["spec.containers: Required value"], id="containers-absent"),
    pytest.param({"spec.containers": None}, ["spec.containers: Required value"], id="containers-null"),
    pytest.param({f"{C0}.name": DELETE}, [f"{C0}.name: Required value"], id="name-absent"),
    pytest.param({f"{C0}.name": ""}, [f"{C0}.name: Required value"], id="name-empty"),
    pytest.param({f"{C0}.name": "App"}, [f'{C0}.name: Invalid value: "App": {LABEL}'], id="name-uppercase"),
    pytest.param({f"{C0}.name": "my_app"}, [f'{C0}.name: Invalid value: "my_app": {LABEL}'], id="name-underscore"),
    pytest.param({f"{C0}.name": "my.app"}, [f'{C0}.name: Invalid value: "my.app": must not contain dots'], id="name-dots"),
    pytest.param(
        {f"{C0}.name": "a" * 64},
        [f'{C0}.name: Invalid value: "{"a" * 64}": must be no more than 63 characters'],
        id="name-too-long",
    ),
    pytest.param(
        {"spec.containers[1]": container()},
        ['spec.containers[1].name: Duplicate value: "app"'],
        id="name-duplicate",
    ),
    pytest.param(
        {"spec.initContainers": [container("app", "busybox:1.35")]},
        ['spec.initContainers[0].name: Duplicate value: "app"'],
        id="name-duplicate-init-and-regular",
    ),
    pytest.param(
        {"spec.initContainers": [container("init", "busybox:1.35"), container("init", "busybox:1.35")]},
        ['spec.initContainers[1].name: Duplicate value: "init"'],
        id="name-duplicate-init",
    ),
    pytest.param({f"{C0}.image": DELETE}, [f"{C0}.image: Required value"], id="image-absent"),
    pytest.param({f"{C0}.image": ""}, [f"{C0}.image: Required value"], id="image-empty"),
    pytest.param(
        {f"{C0}.image": " busybox"},
        [f'{C0}.image: Invalid value: " busybox": must not have leading or trailing whitespace'],
        id="image-leading-whitespace",
    ),
    pytest.param(
        {f"{C0}.image": "busybox:1.35\n"},
        [f'{C0}.image: Invalid value: "busybox:1.35\\n": must not have leading or trailing whitespace'],
        id="image-trailing-newline",
    ),
    pytest.param(
        {f"{C0}.imagePullPolicy": "Sometimes"},
        [f'{C0}.imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"'],
        id="imagePullPolicy-unsupported",
    ),
    pytest.param(
        {f"{C0}.terminationMessagePolicy": "Stdout"},
        [f'{C0}.terminationMessagePolicy: Unsupported value: "Stdout": supported values: "File", "FallbackToLogsOnError"'],
        id="terminationMessagePolicy-unsupported",
    ),
]


@pytest.mark.parametrize(("patch", "expected"), CONTAINER_CASES)
def test_container(patch: Patch, expected: list[str]) -> None:
    check(patch, expected)


# --------------------------------------------------------------------------------------------------- ports


def _port(**fields: Any) -> dict[str, Any]:
    return {f"{C0}.ports": [{"containerPort": 8080, **fields}]}


PORT_CASES = [
    pytest.param(
        _port(name="abcdefghijklmnop"),
        [f'{C0}.ports[0].name: Invalid value: "abcdefghijklmnop": must be no more than 15 characters'],
        id="name-too-long",
    ),
    pytest.param(
        _port(name="http_1"),
        [f'{C0}.ports[0].name: Invalid value: "http_1": {PORT_CHARS}'],
        id="name-underscore",
    ),
    pytest.param(
        _port(name="HTTP"),
        [
            f'{C0}.ports[0].name: Invalid value: "HTTP": {PORT_CHARS}',
            f'{C0}.ports[0].name: Invalid value: "HTTP": {PORT_LETTER}',
        ],
        id="name-uppercase",
    ),
    pytest.param(
        _port(name="8080"),
        [f'{C0}.ports[0].name: Invalid value: "8080": {PORT_LETTER}'],
        id="name-no-letter",
    ),
    pytest.param(
        _port(name="h--p"),
        [f'{C0}.ports[0].name: Invalid value: "h--p": must not contain consecutive hyphens'],
        id="name-double-hyphen",
    ),
    pytest.param(
        _port(name="-http"),
        [f'{C0}.ports[0].name: Invalid value: "-http": must not begin or end with a hyphen'],
        id="name-leading-hyphen",
    ),
    pytest.param(
        _port(name="http-"),
        [f'{C0}.ports[0].name: Invalid value: "http-": must not begin or end with a hyphen'],
        id="name-trailing-hyphen",
    ),
    pytest.param(
        _port(name="--------------------"),
        [
            f'{C0}.ports[0].name: Invalid value: "--------------------": must be no more than 15 characters',
            f'{C0}.ports[0].name: Invalid value: "--------------------": {PORT_LETTER}',
            f'{C0}.ports[0].name: Invalid value: "--------------------": must not contain consecutive hyphens',
            f'{C0}.ports[0].name: Invalid value: "--------------------": must not begin or end with a hyphen',
        ],
        id="name-all-hyphens-four-errors",
    ),
    pytest.param(
        {f"{C0}.ports": [{"name": "http", "containerPort": 80}, {"name": "http", "containerPort": 81}]},
        [f'{C0}.ports[1].name: Duplicate value: "http"'],
        id="name-duplicate",
    ),
    pytest.param(
        {f"{C0}.ports": [{"name": "http"}]},
        [f"{C0}.ports[0].containerPort: Required value"],
        id="containerPort-absent",
    ),
    pytest.param(
        _port(containerPort=0),
        [f"{C0}.ports[0].containerPort: Required value"],
        id="containerPort-0",
    ),
    pytest.param(
        _port(containerPort=70000),
        [f"{C0}.ports[0].containerPort: Invalid value: 70000: {PORT_RANGE}"],
        id="containerPort-70000",
    ),
    pytest.param(
        _port(containerPort=-1),
        [f"{C0}.ports[0].containerPort: Invalid value: -1: {PORT_RANGE}"],
        id="containerPort-negative",
    ),
    pytest.param(
        _port(hostPort=70000),
        [f"{C0}.ports[0].hostPort: Invalid value: 70000: {PORT_RANGE}"],
        id="hostPort-70000",
    ),
    pytest.param(
        _port(hostPort=-5),
        [f"{C0}.ports[0].hostPort: Invalid value: -5: {PORT_RANGE}"],
        id="hostPort-negative",
    ),
    pytest.param(
        _port(protocol="ICMP"),
        [f'{C0}.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'],
        id="protocol-unsupported",
    ),
    pytest.param(
        _port(protocol="tcp"),
        [f'{C0}.ports[0].protocol: Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"'],
        id="protocol-lowercase",
    ),
    pytest.param(
        _two_hostports({"hostPort": 8080}, {"hostPort": 8080}),
        ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"'],
        id="hostPort-duplicate-across-containers",
    ),
    pytest.param(
        {f"{C0}.ports": [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 81, "hostPort": 8080}]},
        [f'{C0}.ports[1].hostPort: Duplicate value: "TCP//8080"'],
        id="hostPort-duplicate-in-one-container",
    ),
]


@pytest.mark.parametrize(("patch", "expected"), PORT_CASES)
def test_ports(patch: Patch, expected: list[str]) -> None:
    check(patch, expected)


def test_duplicate_host_port_is_found_on_the_second_claim() -> None:
    """The error is a Duplicate at the second claim."""
    with pytest.raises(InvalidError) as info:
        decode_pod(patched(_two_hostports({"hostPort": 8080}, {"hostPort": 8080})))
    [cause] = info.value.causes
    assert (cause.type, cause.field) == (ErrorType.DUPLICATE, "spec.containers[1].ports[0].hostPort")


# ----------------------------------------------------------------------------------------------------- env


def _env(*variables: dict[str, Any]) -> dict[str, Any]:
    return {f"{C0}.env": list(variables)}


def _field_ref(field_path: str, **extra: Any) -> dict[str, Any]:
    return _env({"name": "X", "valueFrom": {"fieldRef": {"fieldPath": field_path, **extra}}})


ENV_CASES = [
    pytest.param(_env({"value": "1"}), [f"{C0}.env[0].name: Required value"], id="name-absent"),
    pytest.param(_env({"name": "", "value": "1"}), [f"{C0}.env[0].name: Required value"], id="name-empty"),
    pytest.param(
        _env({"name": "A=B", "value": "1"}),
        [f'{C0}.env[0].name: Invalid value: "A=B": {ENV_NAME}'],
        id="name-with-equals",
    ),
    pytest.param(
        _env({"name": "caf\u00e9"}),
        [f'{C0}.env[0].name: Invalid value: "caf\u00e9": {ENV_NAME}'],
        id="name-non-ascii",
    ),
    pytest.param(
        _env({"name": "TAB\tX"}),
        [f'{C0}.env[0].name: Invalid value: "TAB\\tX": {ENV_NAME}'],
        id="name-control-char",
    ),
    pytest.param(
        _env({"name": "A\x01"}),
        [f'{C0}.env[0].name: Invalid value: "A\\x01": {ENV_NAME}'],
        id="name-control-char-rendered-as-go-quotes-it",
    ),
    pytest.param(
        _env({"name": "X", "valueFrom": {}}),
        [
            f'{C0}.env[0].valueFrom: Invalid value: "": must specify one of: '
            "`fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"
        ],
        id="valueFrom-no-source",
    ),
    pytest.param(
        _env({"name": "X", "value": "1", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}),
        [f'{C0}.env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty'],
        id="valueFrom-and-value",
    ),
    pytest.param(
        _field_ref("status.phase"),
        [f'{C0}.env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "status.phase": {DOWNWARD_ENV_FIELDS}'],
        id="fieldRef-path-not-for-env",
    ),
    pytest.param(
        _field_ref("metadata.labels"),
        [f'{C0}.env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "metadata.labels": {DOWNWARD_ENV_FIELDS}'],
        id="fieldRef-labels-without-subscript",
    ),
    pytest.param(
        _field_ref("spec.foo"),
        [
            f'{C0}.env[0].valueFrom.fieldRef.fieldPath: Invalid value: "spec.foo": '
            "error converting fieldPath: field label not supported: spec.foo"
        ],
        id="fieldRef-path-unknown",
    ),
    pytest.param(
        _field_ref("metadata.name", apiVersion="v2"),
        [
            f'{C0}.env[0].valueFrom.fieldRef.fieldPath: Invalid value: "metadata.name": '
            "error converting fieldPath: unsupported pod version: v2"
        ],
        id="fieldRef-apiVersion-unsupported",
    ),
    pytest.param(
        _env({"name": "X", "valueFrom": {"fieldRef": {}}}),
        [f"{C0}.env[0].valueFrom.fieldRef.fieldPath: Required value"],
        id="fieldRef-path-absent",
    ),
    pytest.param(
        _env({"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}),
        [f"{C0}.env[0].valueFrom.secretKeyRef: Forbidden: secretKeyRef is not supported by minikubelet"],
        id="secretKeyRef-forbidden",
    ),
    pytest.param(
        _env({"name": "X", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}),
        [f"{C0}.env[0].valueFrom.configMapKeyRef: Forbidden: configMapKeyRef is not supported by minikubelet"],
        id="configMapKeyRef-forbidden",
    ),
    pytest.param(
        _env({"name": "X", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}}),
        [f"{C0}.env[0].valueFrom.resourceFieldRef: Forbidden: resourceFieldRef is not supported by minikubelet"],
        id="resourceFieldRef-forbidden",
    ),
    pytest.param(
        _env(
            {
                "name": "X",
                "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}, "secretKeyRef": {"name": "s", "key": "k"}},
            }
        ),
        Unordered(
            [
                f'{C0}.env[0].valueFrom: Invalid value: "": may not have more than one field specified at a time',
                f"{C0}.env[0].valueFrom.secretKeyRef: Forbidden: secretKeyRef is not supported by minikubelet",
            ]
        ),
        id="two-sources",
    ),
]


@pytest.mark.parametrize(("patch", "expected"), ENV_CASES)
def test_env(patch: Patch, expected: list[str]) -> None:
    check(patch, expected)


# ----------------------------------------------------------------------------------------------- resources


def _resources(**groups: dict[str, Any]) -> dict[str, Any]:
    return {f"{C0}.resources": groups}


RESOURCE_CASES = [
    pytest.param(
        _resources(requests={"gpu": "1"}),
        [
            f'{C0}.resources.requests[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified',
            f'{C0}.resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers',
        ],
        id="unknown-resource-name",
    ),
    pytest.param(
        _resources(requests={"pods": "1"}),
        [f'{C0}.resources.requests[pods]: Invalid value: "pods": must be a standard resource for containers'],
        id="standard-but-not-container-resource",
    ),
    pytest.param(
        _resources(requests={"cpu": "-1"}),
        [f'{C0}.resources.requests[cpu]: Invalid value: "-1": {NONNEG}'],
        id="negative-request",
    ),
    pytest.param(
        _resources(limits={"memory": "-64Mi"}),
        [
            f'{C0}.resources.limits[memory]: Invalid value: "-64Mi": {NONNEG}',
            f'{C0}.resources.requests[memory]: Invalid value: "-64Mi": {NONNEG}',
        ],
        id="negative-limit-also-defaulted-into-requests",
    ),
    pytest.param(
        _resources(limits={"cpu": "1"}, requests={"cpu": "2"}),
        [f'{C0}.resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1'],
        id="request-above-limit",
    ),
    pytest.param(
        _resources(limits={"example.com/widget": "2"}, requests={"example.com/widget": "1"}),
        [f'{C0}.resources.requests: Invalid value: "1": must be equal to example.com/widget limit of 2'],
        id="extended-resource-request-below-limit",
    ),
    pytest.param(
        _resources(requests={"example.com/widget": "1"}),
        [f"{C0}.resources.limits: Required value: Limit must be set for non overcommitable resources"],
        id="extended-resource-request-without-limit",
    ),
    pytest.param(
        _resources(limits={"cpu": "abc"}),
        [f'{C0}.resources.limits[cpu]: Invalid value: "abc": {QUANTITY_FORMAT}'],
        id="malformed-quantity",
    ),
    pytest.param(
        _resources(requests={"memory": "1GB"}),
        [f'{C0}.resources.requests[memory]: Invalid value: "1GB": {QUANTITY_FORMAT}'],
        id="malformed-suffix",
    ),
    pytest.param(
        _resources(limits={"cpu": True}),
        [f"{C0}.resources.limits[cpu]: Invalid value: true: {QUANTITY_FORMAT}"],
        id="quantity-bool",
    ),
]


@pytest.mark.parametrize(("patch", "expected"), RESOURCE_CASES)
def test_resources(patch: Patch, expected: list[str]) -> None:
    check(patch, expected)


# ------------------------------------------------------------------------------------ volumes and mounts

VOLUME_CASES = [
    pytest.param(
        {"spec.volumes": [{"emptyDir": {}}]},
        ["spec.volumes[0].name: Required value"],
        id="name-absent",
    ),
    pytest.param(
        {"spec.volumes": [{"name": "Data", "emptyDir": {}}]},
        [f'spec.volumes[0].name: Invalid value: "Data": {LABEL}'],
        id="name-invalid",
    ),
    pytest.param(
        {"spec.volumes": [{"name": "data", "emptyDir": {}}, {"name": "data", "emptyDir": {}}]},
        ['spec.volumes[1].name: Duplicate value: "data"'],
        id="name-duplicate",
    ),
    pytest.param(
        {"spec.volumes": [{"name": "data"}]},
        ["spec.volumes[0]: Required value: must specify a volume type"],
        id="no-source",
    ),
    pytest.param(
        {"spec.volumes": [{"name": "data", "emptyDir": {}, "hostPath": {"path": "/tmp"}}]},
        ["spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type"],
        id="two-sources",
    ),
    pytest.param(
        {"spec.volumes": [{"name": "data", "hostPath": {}}]},
        ["spec.volumes[0].hostPath.path: Required value"],
        id="hostPath-path-absent",
    ),
    pytest.param(
        {"spec.volumes": [{"name": "data", "hostPath": {"path": "/tmp/../etc"}}]},
        ["spec.volumes[0].hostPath.path: Invalid value: \"/tmp/../etc\": must not contain '..'"],
        id="hostPath-backsteps",
    ),
    pytest.param(
        {"spec.volumes": [{"name": "data", "hostPath": {"path": "/tmp", "type": "Bogus"}}]},
        [
            'spec.volumes[0].hostPath.type: Unsupported value: "Bogus": supported values: "", "BlockDevice", '
            '"CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"'
        ],
        id="hostPath-type-unsupported",
    ),
    pytest.param(
        {"spec.volumes": [{"name": "data", "emptyDir": {"sizeLimit": "-1Gi"}}]},
        ["spec.volumes[0].emptyDir.sizeLimit: Forbidden: SizeLimit field must be a valid resource quantity"],
        id="emptyDir-negative-sizeLimit",
    ),
    pytest.param(
        {"spec.volumes": [{"name": "data", "emptyDir": {"medium": "HugePages"}}]},
        ['spec.volumes[0].emptyDir.medium: Unsupported value: "HugePages": supported values: "", "Memory"'],
        id="emptyDir-medium-unsupported-by-minikubelet",
    ),
]


@pytest.mark.parametrize(("patch", "expected"), VOLUME_CASES)
def test_volumes(patch: Patch, expected: list[str]) -> None:
    check(patch, expected)


def _mounts(*mounts: dict[str, Any]) -> dict[str, Any]:
    return {"spec.volumes": [{"name": "data", "emptyDir": {}}], f"{C0}.volumeMounts": list(mounts)}


MOUNT_CASES = [
    pytest.param(
        _mounts({"name": "nope", "mountPath": "/data"}),
        [f'{C0}.volumeMounts[0].name: Not found: "nope"'],
        id="unknown-volume",
    ),
    pytest.param(
        {f"{C0}.volumeMounts": [{"name": "data", "mountPath": "/data"}]},
        [f'{C0}.volumeMounts[0].name: Not found: "data"'],
        id="no-volumes-at-all",
    ),
    pytest.param(
        _mounts({"mountPath": "/data"}),
        [f"{C0}.volumeMounts[0].name: Required value", f'{C0}.volumeMounts[0].name: Not found: ""'],
        id="name-absent",
    ),
    pytest.param(
        _mounts({"name": "data"}),
        [f"{C0}.volumeMounts[0].mountPath: Required value"],
        id="mountPath-absent",
    ),
    pytest.param(
        _mounts({"name": "data", "mountPath": "/data"}, {"name": "data", "mountPath": "/data"}),
        [f'{C0}.volumeMounts[1].mountPath: Invalid value: "/data": must be unique'],
        id="mountPath-duplicate",
    ),
    pytest.param(
        _mounts({"name": "data", "mountPath": "/data", "subPath": "/abs"}),
        [f'{C0}.volumeMounts.subPath: Invalid value: "/abs": must be a relative path'],
        id="subPath-absolute",
    ),
    pytest.param(
        _mounts({"name": "data", "mountPath": "/data", "subPath": "a/../../b"}),
        [f"{C0}.volumeMounts.subPath: Invalid value: \"a/../../b\": must not contain '..'"],
        id="subPath-backsteps",
    ),
]


@pytest.mark.parametrize(("patch", "expected"), MOUNT_CASES)
def test_volume_mounts(patch: Patch, expected: list[str]) -> None:
    check(patch, expected)


# -------------------------------------------------------------------------------------------------- probes

PROBE_CASES = [
    pytest.param(
        {f"{C0}.livenessProbe": {}},
        [f"{C0}.livenessProbe: Required value: must specify a handler type"],
        id="no-handler",
    ),
    pytest.param(
        {f"{C0}.readinessProbe": {"periodSeconds": 5}},
        [f"{C0}.readinessProbe: Required value: must specify a handler type"],
        id="no-handler-readiness",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {**EXEC, "httpGet": {"port": 80}}},
        [f"{C0}.livenessProbe.httpGet: Forbidden: {ONE_HANDLER}"],
        id="two-handlers",
    ),
    pytest.param(
        {f"{C0}.startupProbe": {"tcpSocket": {"port": 80}, "grpc": {"port": 90}, "exec": {"command": []}}},
        [
            f"{C0}.startupProbe.exec.command: Required value",
            f"{C0}.startupProbe.tcpSocket: Forbidden: {ONE_HANDLER}",
            f"{C0}.startupProbe.grpc: Forbidden: {ONE_HANDLER}",
        ],
        id="three-handlers-first-is-validated",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {**EXEC, "initialDelaySeconds": -1}},
        [f"{C0}.livenessProbe.initialDelaySeconds: Invalid value: -1: {NONNEG}"],
        id="initialDelaySeconds-negative",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {**EXEC, "timeoutSeconds": -1}},
        [f"{C0}.livenessProbe.timeoutSeconds: Invalid value: -1: {NONNEG}"],
        id="timeoutSeconds-negative",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {**EXEC, "periodSeconds": -1}},
        [f"{C0}.livenessProbe.periodSeconds: Invalid value: -1: {NONNEG}"],
        id="periodSeconds-negative",
    ),
    pytest.param(
        {f"{C0}.readinessProbe": {**EXEC, "successThreshold": -1}},
        [f"{C0}.readinessProbe.successThreshold: Invalid value: -1: {NONNEG}"],
        id="successThreshold-negative",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {**EXEC, "failureThreshold": -3}},
        [f"{C0}.livenessProbe.failureThreshold: Invalid value: -3: {NONNEG}"],
        id="failureThreshold-negative",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {**EXEC, "successThreshold": -1}},
        [
            f"{C0}.livenessProbe.successThreshold: Invalid value: -1: {NONNEG}",
            f"{C0}.livenessProbe.successThreshold: Invalid value: -1: must be 1",
        ],
        id="liveness-successThreshold-negative",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {**EXEC, "successThreshold": 2}},
        [f"{C0}.livenessProbe.successThreshold: Invalid value: 2: must be 1"],
        id="liveness-successThreshold-2",
    ),
    pytest.param(
        {f"{C0}.startupProbe": {**EXEC, "successThreshold": 3}},
        [f"{C0}.startupProbe.successThreshold: Invalid value: 3: must be 1"],
        id="startup-successThreshold-3",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {**EXEC, "terminationGracePeriodSeconds": 0}},
        [f"{C0}.livenessProbe.terminationGracePeriodSeconds: Invalid value: 0: must be greater than 0"],
        id="terminationGracePeriodSeconds-0",
    ),
    pytest.param(
        {f"{C0}.startupProbe": {**EXEC, "terminationGracePeriodSeconds": -5}},
        [f"{C0}.startupProbe.terminationGracePeriodSeconds: Invalid value: -5: must be greater than 0"],
        id="terminationGracePeriodSeconds-negative",
    ),
    pytest.param(
        {f"{C0}.readinessProbe": {**EXEC, "terminationGracePeriodSeconds": 10}},
        [f"{C0}.readinessProbe.terminationGracePeriodSeconds: Invalid value: 10: must not be set for readinessProbes"],
        id="readiness-terminationGracePeriodSeconds-set",
    ),
    pytest.param(
        {f"{C0}.readinessProbe": {**EXEC, "terminationGracePeriodSeconds": 0}},
        [
            f"{C0}.readinessProbe.terminationGracePeriodSeconds: Invalid value: 0: must be greater than 0",
            f"{C0}.readinessProbe.terminationGracePeriodSeconds: Invalid value: 0: must not be set for readinessProbes",
        ],
        id="readiness-terminationGracePeriodSeconds-0",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {"exec": {"command": []}}},
        [f"{C0}.livenessProbe.exec.command: Required value"],
        id="exec-command-empty",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {"exec": {}}},
        [f"{C0}.livenessProbe.exec.command: Required value"],
        id="exec-command-absent",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {"httpGet": {}}},
        [f"{C0}.livenessProbe.httpGet.port: Invalid value: 0: {PORT_RANGE}"],
        id="httpGet-port-absent",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {"httpGet": {"port": 0}}},
        [f"{C0}.livenessProbe.httpGet.port: Invalid value: 0: {PORT_RANGE}"],
        id="httpGet-port-0",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {"httpGet": {"port": 70000}}},
        [f"{C0}.livenessProbe.httpGet.port: Invalid value: 70000: {PORT_RANGE}"],
        id="httpGet-port-70000",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {"httpGet": {"port": "Web_Port"}}},
        [
            f'{C0}.livenessProbe.httpGet.port: Invalid value: "Web_Port": {PORT_CHARS}',
        ],
        id="httpGet-port-bad-name",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {"httpGet": {"port": "8080"}}},
        [f'{C0}.livenessProbe.httpGet.port: Invalid value: "8080": {PORT_LETTER}'],
        id="httpGet-port-number-as-string",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {"httpGet": {"port": "metrics-http-port"}}},
        [f'{C0}.livenessProbe.httpGet.port: Invalid value: "metrics-http-port": must be no more than 15 characters'],
        id="httpGet-port-name-too-long",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {"httpGet": {"port": 80, "scheme": "FTP"}}},
        [f'{C0}.livenessProbe.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS"'],
        id="httpGet-scheme-unsupported",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {"httpGet": {"port": 80, "scheme": "https"}}},
        [f'{C0}.livenessProbe.httpGet.scheme: Unsupported value: "https": supported values: "HTTP", "HTTPS"'],
        id="httpGet-scheme-lowercase",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {"httpGet": {"port": 80, "httpHeaders": [{"name": "X Custom", "value": "1"}]}}},
        [f'{C0}.livenessProbe.httpGet.httpHeaders: Invalid value: "X Custom": {HTTP_HEADER}'],
        id="httpGet-header-name-space",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {"httpGet": {"port": 80, "httpHeaders": [{"value": "1"}]}}},
        [f'{C0}.livenessProbe.httpGet.httpHeaders: Invalid value: "": {HTTP_HEADER}'],
        id="httpGet-header-name-empty",
    ),
    pytest.param(
        {f"{C0}.readinessProbe": {"tcpSocket": {"port": 0}}},
        [f"{C0}.readinessProbe.tcpSocket.port: Invalid value: 0: {PORT_RANGE}"],
        id="tcpSocket-port-0",
    ),
    pytest.param(
        {f"{C0}.readinessProbe": {"tcpSocket": {"port": 65536}}},
        [f"{C0}.readinessProbe.tcpSocket.port: Invalid value: 65536: {PORT_RANGE}"],
        id="tcpSocket-port-65536",
    ),
    pytest.param(
        {f"{C0}.readinessProbe": {"tcpSocket": {"port": "-db"}}},
        [f'{C0}.readinessProbe.tcpSocket.port: Invalid value: "-db": must not begin or end with a hyphen'],
        id="tcpSocket-port-bad-name",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {"grpc": {}}},
        [f"{C0}.livenessProbe.grpc.port: Invalid value: 0: {PORT_RANGE}"],
        id="grpc-port-absent",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {"grpc": {"port": 70000}}},
        [f"{C0}.livenessProbe.grpc.port: Invalid value: 70000: {PORT_RANGE}"],
        id="grpc-port-70000",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {"grpc": {"port": "grpc"}}},
        [f'{C0}.livenessProbe.grpc.port: Invalid value: "grpc": must be an integer'],
        id="grpc-port-name-not-allowed",
    ),
]


@pytest.mark.parametrize(("patch", "expected"), PROBE_CASES)
def test_probes(patch: Patch, expected: list[str]) -> None:
    check(patch, expected)


# ----------------------------------------------------------------------------------------------- lifecycle

# PodLifecycleSleepActionAllowZero is GA (locked on) since 1.34: validateSleepAction accepts 0 and says
# "must be non-negative and less than terminationGracePeriodSeconds (N)", on "...preStop.sleep".
SLEEP_RANGE = "must be non-negative and less than terminationGracePeriodSeconds"

LIFECYCLE_CASES = [
    pytest.param(
        {f"{C0}.lifecycle.preStop": {}},
        [f"{C0}.lifecycle.preStop: Required value: must specify a handler type"],
        id="preStop-no-handler",
    ),
    pytest.param(
        {f"{C0}.lifecycle.postStart": {}},
        [f"{C0}.lifecycle.postStart: Required value: must specify a handler type"],
        id="postStart-no-handler",
    ),
    pytest.param(
        {f"{C0}.lifecycle.postStart": {**EXEC, "sleep": {"seconds": 1}}},
        [f"{C0}.lifecycle.postStart.sleep: Forbidden: {ONE_HANDLER}"],
        id="two-handlers",
    ),
    pytest.param(
        {f"{C0}.lifecycle.preStop": {"exec": {"command": []}}},
        [f"{C0}.lifecycle.preStop.exec.command: Required value"],
        id="exec-command-empty",
    ),
    pytest.param(
        {f"{C0}.lifecycle.preStop": {"httpGet": {"port": 0}}},
        [f"{C0}.lifecycle.preStop.httpGet.port: Invalid value: 0: {PORT_RANGE}"],
        id="httpGet-port-0",
    ),
    pytest.param(
        {f"{C0}.lifecycle.preStop": {"tcpSocket": {"port": "HTTP"}}},
        [
            f'{C0}.lifecycle.preStop.tcpSocket.port: Invalid value: "HTTP": {PORT_CHARS}',
            f'{C0}.lifecycle.preStop.tcpSocket.port: Invalid value: "HTTP": {PORT_LETTER}',
        ],
        id="tcpSocket-port-uppercase-name",
    ),
    pytest.param(
        {f"{C0}.lifecycle.preStop": {"sleep": {"seconds": 31}}},
        [f"{C0}.lifecycle.preStop.sleep: Invalid value: 31: {SLEEP_RANGE} (30)"],
        id="sleep-above-grace-period",
    ),
    pytest.param(
        {f"{C0}.lifecycle.preStop": {"sleep": {"seconds": -1}}},
        [f"{C0}.lifecycle.preStop.sleep: Invalid value: -1: {SLEEP_RANGE} (30)"],
        id="sleep-negative",
    ),
    pytest.param(
        {"spec.terminationGracePeriodSeconds": 5, f"{C0}.lifecycle.postStart": {"sleep": {"seconds": 6}}},
        [f"{C0}.lifecycle.postStart.sleep: Invalid value: 6: {SLEEP_RANGE} (5)"],
        id="sleep-above-pod-grace-period",
    ),
]


@pytest.mark.parametrize(("patch", "expected"), LIFECYCLE_CASES)
def test_lifecycle(patch: Patch, expected: list[str]) -> None:
    check(patch, expected)


def test_zero_second_sleep_is_accepted() -> None:
    """PodLifecycleSleepActionAllowZero: `sleep: {seconds: 0}` is a valid (no-op) hook."""
    pod = decode_pod(patched({f"{C0}.lifecycle.preStop": {"sleep": {"seconds": 0}}}))
    hook = pod.spec.containers[0].lifecycle
    assert hook is not None and hook.pre_stop is not None and hook.pre_stop.sleep is not None
    assert hook.pre_stop.sleep.seconds == 0


def test_sleep_error_is_reported_on_the_sleep_field() -> None:
    with pytest.raises(InvalidError) as info:
        decode_pod(patched({f"{C0}.lifecycle.preStop": {"sleep": {"seconds": 31}}}))
    [cause] = info.value.causes
    assert (cause.type, cause.field, cause.value) == (ErrorType.INVALID, f"{C0}.lifecycle.preStop.sleep", 31)


def test_sleep_out_of_range_is_rejected() -> None:
    """A sleep longer than the grace period is refused."""
    with pytest.raises(InvalidError) as info:
        decode_pod(patched({f"{C0}.lifecycle.preStop": {"sleep": {"seconds": 31}}}))
    [cause] = info.value.causes
    assert cause.type == ErrorType.INVALID
    assert cause.field.startswith(f"{C0}.lifecycle.preStop.sleep")
    assert "terminationGracePeriodSeconds (30)" in cause.detail


# ------------------------------------------------------------------------------- init containers, restarts

I0 = "spec.initContainers[0]"
RESTART_POLICIES = 'supported values: "Always", "Never", "OnFailure"'
EXIT_42: dict[str, Any] = {"exitCodes": {"operator": "In", "values": [42]}}
RESTART_ON_42: dict[str, Any] = {"action": "Restart", **EXIT_42}


def _init(image: str = "busybox:1.35", **fields: Any) -> dict[str, Any]:
    return {"spec.initContainers": [container("init", image, **fields)]}


INIT_CASES = [
    pytest.param(
        _init(livenessProbe=EXEC),
        [f"{I0}.livenessProbe: Forbidden: {NOT_FOR_INIT}"],
        id="init-livenessProbe",
    ),
    pytest.param(
        _init(readinessProbe=EXEC),
        [f"{I0}.readinessProbe: Forbidden: {NOT_FOR_INIT}"],
        id="init-readinessProbe",
    ),
    pytest.param(
        _init(startupProbe=EXEC),
        [f"{I0}.startupProbe: Forbidden: {NOT_FOR_INIT}"],
        id="init-startupProbe",
    ),
    pytest.param(
        _init(lifecycle={"preStop": EXEC}),
        [f"{I0}.lifecycle: Forbidden: {NOT_FOR_INIT}"],
        id="init-lifecycle",
    ),
    pytest.param(
        _init(lifecycle={"preStop": EXEC}, livenessProbe={}, readinessProbe=EXEC, startupProbe=EXEC),
        [
            f"{I0}.lifecycle: Forbidden: {NOT_FOR_INIT}",
            f"{I0}.livenessProbe: Forbidden: {NOT_FOR_INIT}",
            f"{I0}.readinessProbe: Forbidden: {NOT_FOR_INIT}",
            f"{I0}.startupProbe: Forbidden: {NOT_FOR_INIT}",
        ],
        id="init-all-forbidden-probes-not-validated",
    ),
    pytest.param(
        _init(restartPolicy="Sometimes"),
        [f'{I0}.restartPolicy: Unsupported value: "Sometimes": {RESTART_POLICIES}'],
        id="init-restartPolicy-unknown",
    ),
    pytest.param(
        _init(restartPolicy="OnFailure", livenessProbe=EXEC),
        [f"{I0}.livenessProbe: Forbidden: {NOT_FOR_INIT}"],
        id="init-restartPolicy-onfailure-is-no-sidecar",
    ),
    pytest.param(
        _init(restartPolicyRules=[RESTART_ON_42]),
        [f"{I0}.restartPolicy: Required value: must specify restartPolicy when restart rules are used"],
        id="init-rules-without-policy",
    ),
    pytest.param(
        _init(restartPolicy="Always", restartPolicyRules=[RESTART_ON_42]),
        [
            f"{I0}.restartPolicyRules: Forbidden: "
            "restartPolicyRules are not allowed for init containers with restart policy Always"
        ],
        id="sidecar-with-rules",
    ),
    pytest.param(
        _init(restartPolicy="Never", restartPolicyRules=[{"action": "RestartAllContainers", **EXIT_42}]),
        [f'{I0}.restartPolicyRules[0].action: Unsupported value: "RestartAllContainers": supported values: "Restart"'],
        id="init-rule-restart-all-containers-is-alpha",
    ),
    pytest.param(
        _init(restartPolicy="Always", livenessProbe={}),
        [f"{I0}.livenessProbe: Required value: must specify a handler type"],
        id="sidecar-probes-are-validated",
    ),
    pytest.param(
        _init(restartPolicy="Always", startupProbe={**EXEC, "successThreshold": 2}),
        [f"{I0}.startupProbe.successThreshold: Invalid value: 2: must be 1"],
        id="sidecar-startup-successThreshold",
    ),
    pytest.param(
        _init(restartPolicy="Always", lifecycle={"postStart": {}}),
        [f"{I0}.lifecycle.postStart: Required value: must specify a handler type"],
        id="sidecar-lifecycle-is-validated",
    ),
    pytest.param(
        _init(image=""),
        [f"{I0}.image: Required value"],
        id="init-image-required",
    ),
    pytest.param(
        _init(ports=[{"containerPort": 70000}]),
        [f"{I0}.ports[0].containerPort: Invalid value: 70000: {PORT_RANGE}"],
        id="init-ports-validated",
    ),
    pytest.param(
        {f"{C0}.restartPolicy": "Sometimes"},
        [f'{C0}.restartPolicy: Unsupported value: "Sometimes": {RESTART_POLICIES}'],
        id="regular-container-restartPolicy-unknown",
    ),
    pytest.param(
        {f"{C0}.restartPolicy": ""},
        [f'{C0}.restartPolicy: Unsupported value: "": {RESTART_POLICIES}'],
        id="regular-container-restartPolicy-empty-string",
    ),
    pytest.param(
        {f"{C0}.restartPolicyRules": [RESTART_ON_42]},
        [f"{C0}.restartPolicy: Required value: must specify restartPolicy when restart rules are used"],
        id="rules-without-policy",
    ),
    pytest.param(
        {f"{C0}.restartPolicy": "Never", f"{C0}.restartPolicyRules": [{"action": "Restart"}]},
        [f"{C0}.restartPolicyRules[0].exitCodes: Required value: must be specified"],
        id="rule-without-exitCodes",
    ),
    pytest.param(
        {
            f"{C0}.restartPolicy": "Never",
            f"{C0}.restartPolicyRules": [{"action": "", "exitCodes": {"operator": "Equals", "values": [1]}}],
        },
        [
            f'{C0}.restartPolicyRules[0].action: Unsupported value: "": supported values: "Restart"',
            f'{C0}.restartPolicyRules[0].exitCodes.operator: Unsupported value: "Equals": supported values: "In", "NotIn"',
        ],
        id="rule-bad-action-and-operator",
    ),
    pytest.param(
        {f"{C0}.restartPolicy": "Never", f"{C0}.restartPolicyRules": [RESTART_ON_42] * 21},
        [f"{C0}.restartPolicyRules: Too many: 21: must have at most 20 items"],
        id="too-many-rules",
    ),
    pytest.param(
        {
            f"{C0}.restartPolicy": "OnFailure",
            f"{C0}.restartPolicyRules": [{"action": "Restart", "exitCodes": {"operator": "NotIn", "values": [*range(256)]}}],
        },
        [f"{C0}.restartPolicyRules[0].exitCodes.values: Too many: 256: must have at most 255 items"],
        id="too-many-exit-codes",
    ),
]


def test_container_restart_policy_and_rules_are_accepted() -> None:
    """ContainerRestartRules is on by default since 1.35: any container may have its own policy, and rules."""
    pod = decode_pod(
        patched(
            {
                "spec.restartPolicy": "Never",
                f"{C0}.restartPolicy": "Never",
                f"{C0}.restartPolicyRules": [RESTART_ON_42],
                **_init(restartPolicy="OnFailure", restartPolicyRules=[RESTART_ON_42]),
            }
        )
    )
    [rule] = pod.spec.containers[0].restart_policy_rules
    assert (rule.action, rule.exit_codes and rule.exit_codes.operator, rule.exit_codes and rule.exit_codes.values) == (
        "Restart",
        "In",
        [42],
    )
    assert pod.spec.init_containers[0].restart_policy == "OnFailure"
    out = pod.to_dict()["spec"]["containers"][0]
    assert out["restartPolicy"] == "Never"
    assert out["restartPolicyRules"] == [{"action": "Restart", "exitCodes": {"operator": "In", "values": [42]}}]


@pytest.mark.parametrize(("patch", "expected"), INIT_CASES)
def test_init_containers_and_restart_policy(patch: Patch, expected: list[str]) -> None:
    check(patch, expected)


# ---------------------------------------------------------------------------------------------------- spec

SPEC_CASES = [
    pytest.param(
        {"spec.restartPolicy": "Sometimes"},
        ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'],
        id="restartPolicy-unsupported",
    ),
    pytest.param(
        {"spec.dnsPolicy": "Google"},
        [
            'spec.dnsPolicy: Unsupported value: "Google": '
            'supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"'
        ],
        id="dnsPolicy-unsupported",
    ),
    pytest.param(
        {"spec.terminationGracePeriodSeconds": -1},
        [f"spec.terminationGracePeriodSeconds: Invalid value: -1: {NONNEG}"],
        id="terminationGracePeriodSeconds-negative",
    ),
    pytest.param(
        {"spec.activeDeadlineSeconds": 0},
        ["spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"],
        id="activeDeadlineSeconds-0",
    ),
    pytest.param(
        {"spec.activeDeadlineSeconds": -10},
        ["spec.activeDeadlineSeconds: Invalid value: -10: must be between 1 and 2147483647, inclusive"],
        id="activeDeadlineSeconds-negative",
    ),
    pytest.param(
        {"spec.activeDeadlineSeconds": 2**31},
        ["spec.activeDeadlineSeconds: Invalid value: 2147483648: must be between 1 and 2147483647, inclusive"],
        id="activeDeadlineSeconds-too-big",
    ),
    pytest.param(
        {"spec.hostname": "My_Host"},
        [f'spec.hostname: Invalid value: "My_Host": {LABEL}'],
        id="hostname-invalid",
    ),
    pytest.param(
        {"spec.hostname": "host.example"},
        ['spec.hostname: Invalid value: "host.example": must not contain dots'],
        id="hostname-dots",
    ),
    pytest.param(
        {"spec.subdomain": "Sub"},
        [f'spec.subdomain: Invalid value: "Sub": {LABEL}'],
        id="subdomain-invalid",
    ),
    pytest.param(
        {"spec.nodeName": "Node_1"},
        [f'spec.nodeName: Invalid value: "Node_1": {SUBDOMAIN}'],
        id="nodeName-invalid",
    ),
    pytest.param(
        {"spec.nodeName": "n" * 254},
        [f'spec.nodeName: Invalid value: "{"n" * 254}": must be no more than 253 characters'],
        id="nodeName-too-long",
    ),
    pytest.param(
        {"spec.nodeSelector": {"bad key": "linux"}},
        [f'spec.nodeSelector: Invalid value: "bad key": {QUALIFIED_NAME_PART}'],
        id="nodeSelector-key",
    ),
    pytest.param(
        {"spec.nodeSelector": {"kubernetes.io/os": "linux!"}},
        [f'spec.nodeSelector: Invalid value: "linux!": {LABEL_VALUE}'],
        id="nodeSelector-value",
    ),
    pytest.param(
        {"spec.schedulerName": "My Scheduler"},
        [f'spec.schedulerName: Invalid value: "My Scheduler": {SUBDOMAIN}'],
        id="schedulerName-invalid",
    ),
]


@pytest.mark.parametrize(("patch", "expected"), SPEC_CASES)
def test_spec(patch: Patch, expected: list[str]) -> None:
    check(patch, expected)


# ------------------------------------------------------------------------------- valid edge cases accepted

ACCEPTED_CASES = [
    pytest.param({"metadata.name": "echo.v1-2"}, id="name-with-dots"),
    pytest.param({"metadata.name": "a" * 253}, id="name-253-chars"),
    pytest.param({"metadata.name": DELETE, "metadata.generateName": "echo-"}, id="generateName-only"),
    pytest.param({"metadata.generateName": "echo-"}, id="generateName-and-name"),
    pytest.param(
        {"metadata.name": DELETE, "metadata.generateName": "echo_-"},
        id="generateName-masking-drops-two-characters",
    ),
    pytest.param({"metadata.labels": {"app": "", "example.com/tier": "Web_1.x", "A": "b"}}, id="labels-edge-values"),
    pytest.param({"metadata.annotations": {"Example.com/Note": "anything at all: {}"}}, id="annotation-uppercase-key"),
    pytest.param({"metadata.namespace": "kube-system"}, id="namespace"),
    pytest.param({f"{C0}.name": "a" * 63}, id="container-name-63-chars"),
    pytest.param(
        {f"{C0}.ports": [{"name": "http-2", "containerPort": 80}, {"name": "h", "containerPort": 81}]},
        id="port-names",
    ),
    pytest.param(
        {
            f"{C0}.ports": [
                {"containerPort": 53, "hostPort": 53},
                {"containerPort": 53, "hostPort": 53, "protocol": "UDP"},
            ]
        },
        id="same-hostPort-different-protocol",
    ),
    pytest.param(
        _two_hostports({"hostPort": 8080, "hostIP": "127.0.0.1"}, {"hostPort": 8080, "hostIP": "127.0.0.2"}),
        id="same-hostPort-different-hostIP",
    ),
    pytest.param(
        {
            "spec.initContainers": [container("init", "busybox:1.35", ports=[{"containerPort": 1, "hostPort": 8080}])],
            f"{C0}.ports": [{"containerPort": 80, "hostPort": 8080}],
        },
        id="init-and-regular-same-hostPort",
    ),
    pytest.param(
        _env({"name": "my.var-1 x", "value": "1"}, {"name": "_", "value": ""}, {"name": "1ST"}),
        id="relaxed-env-names",
    ),
    pytest.param(_field_ref("metadata.labels['app']"), id="fieldRef-label-subscript"),
    pytest.param(_field_ref("metadata.annotations['example.com/Note']"), id="fieldRef-annotation-subscript"),
    pytest.param(_field_ref("status.podIPs"), id="fieldRef-podIPs"),
    pytest.param(_field_ref("spec.serviceAccountName", apiVersion="v1"), id="fieldRef-explicit-v1"),
    pytest.param(
        _resources(limits={"cpu": "2", "example.com/widget": "1", "hugepages-2Mi": "0"}, requests={"cpu": "2"}),
        id="request-equal-limit-and-extended-resources",
    ),
    pytest.param(
        {
            "spec.volumes": [
                {"name": "data", "emptyDir": {"sizeLimit": "0"}},
                {"name": "h", "hostPath": {"path": "/"}},
            ],
            f"{C0}.volumeMounts": [
                {"name": "data", "mountPath": "/data", "subPath": "a/b"},
                {"name": "data", "mountPath": "/data2", "subPath": "..a"},
                {"name": "h", "mountPath": "/host", "readOnly": True},
            ],
        },
        id="volumes-and-mounts",
    ),
    pytest.param({f"{C0}.readinessProbe": {**EXEC, "successThreshold": 3}}, id="readiness-successThreshold-3"),
    pytest.param(
        {
            f"{C0}.ports": [{"name": "http", "containerPort": 8080}],
            f"{C0}.livenessProbe": {
                "httpGet": {"port": "http", "httpHeaders": [{"name": "X-Custom-1", "value": "a b"}]},
                "terminationGracePeriodSeconds": 1,
            },
        },
        id="named-port-and-header",
    ),
    pytest.param({f"{C0}.lifecycle.preStop": {"sleep": {"seconds": 30}}}, id="sleep-equal-to-grace-period"),
    pytest.param({f"{C0}.lifecycle": {}}, id="lifecycle-without-hooks"),
    pytest.param(
        _init(
            restartPolicy="Always",
            livenessProbe=EXEC,
            readinessProbe=EXEC,
            startupProbe=EXEC,
            lifecycle={"preStop": EXEC},
        ),
        id="sidecar-with-probes",
    ),
    pytest.param({"spec.terminationGracePeriodSeconds": 0}, id="terminationGracePeriodSeconds-0"),
    pytest.param({"spec.activeDeadlineSeconds": 2**31 - 1}, id="activeDeadlineSeconds-max"),
    pytest.param({"spec.nodeName": "node-1.example.com", "spec.hostname": "h", "spec.subdomain": "s"}, id="host-fields"),
]


@pytest.mark.parametrize("patch", ACCEPTED_CASES)
def test_accepted(patch: Patch) -> None:
    decode_pod(patched(patch))


# ---------------------------------------------------------------------------------------- decoding errors

DECODE_CASES = [
    pytest.param(
        {f"{C0}.readinesProbe": EXEC},
        [f'{C0}.readinesProbe: Unknown field: did you mean "readinessProbe"?'],
        id="unknown-field-did-you-mean",
    ),
    pytest.param({"spec.replicas": 3}, ["spec.replicas: Unknown field"], id="unknown-field-no-hint"),
    pytest.param({"extra": True}, ["extra: Unknown field"], id="unknown-top-level-field"),
    pytest.param(
        {f"{C0}.livenessProbe": {**EXEC, "periodSeconds": "10"}},
        [f'{C0}.livenessProbe.periodSeconds: Invalid value: "10": must be an integer'],
        id="string-for-int",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {**EXEC, "periodSeconds": 1.5}},
        [f"{C0}.livenessProbe.periodSeconds: Invalid value: 1.5: must be an integer"],
        id="float-for-int",
    ),
    pytest.param(
        {f"{C0}.image": 5},
        [f"{C0}.image: Invalid value: 5: must be a string (put it in quotes)"],
        id="number-for-string",
    ),
    pytest.param(
        {"metadata.labels": {"version": 1.10}},
        ["metadata.labels[version]: Invalid value: 1.1: must be a string (put it in quotes)"],
        id="number-for-label-value",
    ),
    pytest.param(
        {f"{C0}.image": True},
        [f"{C0}.image: Invalid value: true: must be a string (put it in quotes)"],
        id="bool-for-string",
    ),
    pytest.param(
        {f"{C0}.ports": [{"containerPort": True}]},
        [f"{C0}.ports[0].containerPort: Invalid value: true: must be an integer"],
        id="bool-for-int",
    ),
    pytest.param(
        {f"{C0}.stdin": "yes"},
        [f'{C0}.stdin: Invalid value: "yes": must be a boolean (true or false)'],
        id="string-for-bool",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": []},
        [f"{C0}.livenessProbe: Invalid value: []: must be an object (a mapping of fields)"],
        id="list-for-object",
    ),
    pytest.param(
        {f"{C0}.ports": {"containerPort": 80}},
        [f'{C0}.ports: Invalid value: {{"containerPort":80}}: must be a list'],
        id="object-for-list",
    ),
    pytest.param(
        {f"{C0}.command": "sleep 10"},
        [f'{C0}.command: Invalid value: "sleep 10": must be a list'],
        id="string-for-list",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {"tcpSocket": {"port": True}}},
        [f"{C0}.livenessProbe.tcpSocket.port: Invalid value: true: must be an integer or a string"],
        id="bool-for-int-or-string",
    ),
    pytest.param(
        {f"{C0}.ports": [{"containerPort": 2**31}]},
        [f"{C0}.ports[0].containerPort: Invalid value: 2147483648: must fit in a 32-bit integer"],
        id="int32-overflow",
    ),
    pytest.param(
        {f"{C0}.livenessProbe": {**EXEC, "failureThreshold": -(2**31) - 1}},
        [f"{C0}.livenessProbe.failureThreshold: Invalid value: -2147483649: must fit in a 32-bit integer"],
        id="int32-underflow",
    ),
    pytest.param(
        {"metadata.creationTimestamp": "yesterday"},
        ['metadata.creationTimestamp: Invalid value: "yesterday": must be an RFC 3339 date and time'],
        id="bad-timestamp",
    ),
    pytest.param(
        {"apiVersion": "v2"},
        ['apiVersion: Unsupported value: "v2": supported values: "v1"'],
        id="apiVersion-unsupported",
    ),
    pytest.param(
        {f"{C0}.readinesProbe": {}, f"{C0}.livenessProbe": {**EXEC, "periodSeconds": "often"}},
        Unordered(
            [
                f'{C0}.readinesProbe: Unknown field: did you mean "readinessProbe"?',
                f'{C0}.livenessProbe.periodSeconds: Invalid value: "often": must be an integer',
            ]
        ),
        id="two-decode-errors-in-one-container",
    ),
]


@pytest.mark.parametrize(("patch", "expected"), DECODE_CASES)
def test_decode_errors(patch: Patch, expected: list[str]) -> None:
    check(patch, expected)


def test_int64_overflow_is_an_error() -> None:
    with pytest.raises(InvalidError) as info:
        decode_pod(patched({"spec.terminationGracePeriodSeconds": 2**63}))
    assert [cause.field for cause in info.value.causes] == ["spec.terminationGracePeriodSeconds"]


# ----------------------------------------------------------------------------------- all errors together


def test_every_error_of_a_document_is_listed() -> None:
    raw = patched(
        {
            "metadata.name": "Echo",
            f"{C0}.readinesProbe": {"httpGet": {"port": 8080}},
            f"{C0}.livenessProbe": {**EXEC, "periodSeconds": -1},
            "spec.restartPolicy": "Sometimes",
        }
    )
    assert sorted(causes_of(raw)) == sorted(
        [
            f'metadata.name: Invalid value: "Echo": {SUBDOMAIN}',
            f'{C0}.readinesProbe: Unknown field: did you mean "readinessProbe"?',
            f"{C0}.livenessProbe.periodSeconds: Invalid value: -1: {NONNEG}",
            'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
        ]
    )


def test_errors_in_several_containers_are_all_listed() -> None:
    raw = make_pod(
        spec={
            "initContainers": [container("init", "", livenessProbe=EXEC)],
            "containers": [
                container("app", ports=[{"containerPort": 0}]),
                container("App", env=[{"name": "A=B"}]),
            ],
            "volumes": [{"name": "v"}],
        }
    )
    assert sorted(causes_of(raw)) == sorted(
        [
            "spec.volumes[0]: Required value: must specify a volume type",
            f"{I0}.image: Required value",
            f"{I0}.livenessProbe: Forbidden: {NOT_FOR_INIT}",
            f"{C0}.ports[0].containerPort: Required value",
            f'spec.containers[1].name: Invalid value: "App": {LABEL}',
            f'spec.containers[1].env[0].name: Invalid value: "A=B": {ENV_NAME}',
        ]
    )


def test_invalid_error_names_the_pod_on_every_line() -> None:
    raw = patched({f"{C0}.image": "", f"{C0}.livenessProbe": {}})
    with pytest.raises(InvalidError) as info:
        decode_pod(raw)
    error = info.value
    assert (error.kind, error.name) == ("Pod", "echo")
    assert str(error).splitlines() == [
        f'The Pod "echo" is invalid: {C0}.image: Required value',
        f'The Pod "echo" is invalid: {C0}.livenessProbe: Required value: must specify a handler type',
    ]


def test_invalid_error_without_a_name() -> None:
    with pytest.raises(InvalidError) as info:
        decode_pod(patched({"metadata.name": DELETE}))
    assert info.value.name == ""
    assert str(info.value) == 'The Pod "" is invalid: metadata.name: Required value: name or generateName is required'


def test_builder_patches_do_not_leak_between_pods() -> None:
    first = patched({f"{C0}.ports[0]": {"containerPort": 1}})
    second = make_pod()
    assert "ports" not in second["spec"]["containers"][0]
    assert apply_patch(first, lambda pod: pod["metadata"].update(name="x"))["metadata"]["name"] == "x"
