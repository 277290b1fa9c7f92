"""Whatever a manifest holds, loading it ends in objects or clear errors, never an exception."""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minikubelet.api.loading import decode_pod, load_text
from minikubelet.api.validation import validate_pod

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["", "0", "-1", "http", "TCP", "Always", "100m", "64Mi", "/", "app", "v1", "Pod"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)

PROBE_KEYS = [
    "httpGet",
    "tcpSocket",
    "exec",
    "grpc",
    "periodSeconds",
    "timeoutSeconds",
    "successThreshold",
    "failureThreshold",
    "initialDelaySeconds",
    "terminationGracePeriodSeconds",
]
CONTAINER_KEYS = [
    "name",
    "image",
    "imagePullPolicy",
    "command",
    "args",
    "ports",
    "env",
    "resources",
    "volumeMounts",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "bogusField",
]
SPEC_KEYS = ["restartPolicy", "terminationGracePeriodSeconds", "volumes", "initContainers", "nodeName", "hostname"]


def shaped(keys: list[str], value: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(keys), value, max_size=len(keys))


probes = shaped(PROBE_KEYS, json_values | shaped(["port", "path", "command", "host", "scheme"], json_values))
containers = shaped(
    CONTAINER_KEYS,
    json_values
    | probes
    | st.lists(json_values | shaped(["name", "containerPort", "protocol", "value"], json_values), max_size=3),
)
pods = st.fixed_dictionaries(
    {
        "apiVersion": st.just("v1"),
        "kind": st.just("Pod"),
        "metadata": json_values | shaped(["name", "labels", "annotations", "namespace"], json_values),
        "spec": json_values
        | st.builds(
            lambda extra, cs: {**extra, "containers": cs},
            shaped(SPEC_KEYS, json_values),
            st.lists(containers, max_size=3),
        ),
    }
)


def check(text: str, fmt: str) -> None:
    result = load_text(text, "fuzz.yml", fmt=fmt)  # type: ignore[arg-type]
    for line in result.error_lines():
        assert line.startswith("fuzz.yml: ")
        assert "Traceback" not in line
    for loaded in result.objects:
        assert validate_pod(loaded.obj) == []
        assert decode_pod(loaded.obj.to_dict()) == loaded.obj


@FUZZ
@given(st.text(max_size=300))
def test_any_text_as_yaml(text: str) -> None:
    check(text, "yaml")


@FUZZ
@given(json_values)
def test_any_json_document(document: Any) -> None:
    check(json.dumps(document), "json")
    check(yaml.safe_dump(document), "yaml")


@FUZZ
@given(pods)
def test_pod_shaped_documents(document: dict[str, Any]) -> None:
    check(json.dumps(document), "json")
    check(yaml.safe_dump(document, sort_keys=False), "yaml")


dns_labels = st.from_regex(r"[a-z]([-a-z0-9]{0,12}[a-z0-9])?", fullmatch=True)


@FUZZ
@given(
    name=dns_labels,
    container=dns_labels,
    period=st.integers(min_value=0, max_value=3600),
    threshold=st.integers(min_value=0, max_value=100),
    port=st.integers(min_value=1, max_value=65535),
    cpu=st.sampled_from(["100m", "0.5", "1", "2", 1, 0.25]),
)
def test_valid_pods_always_load_with_defaults(
    name: str, container: str, period: int, threshold: int, port: int, cpu: str | float
) -> None:
    document = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "containers": [
                {
                    "name": container,
                    "image": "minikubelet.local/echo:v1",
                    "ports": [{"name": "http", "containerPort": port}],
                    "resources": {"limits": {"cpu": cpu}},
                    "readinessProbe": {
                        "httpGet": {"port": "http"},
                        "periodSeconds": period,
                        "failureThreshold": threshold,
                    },
                }
            ]
        },
    }
    result = load_text(yaml.safe_dump(document), "pod.yml")
    assert result.error_lines() == []
    (loaded,) = result.objects
    probe = loaded.obj.spec.containers[0].readiness_probe
    assert probe is not None
    assert probe.period_seconds == (period or 10)
    assert probe.failure_threshold == (threshold or 3)
    assert loaded.obj.spec.containers[0].resources.requests["cpu"] == loaded.obj.spec.containers[0].resources.limits["cpu"]
