"""validate_pod_update: which pod spec changes an update may make (ValidatePodUpdate, Kubernetes 1.32)."""

from __future__ import annotations

from typing import Any

import pytest
from builders import container, make_pod

from minikubelet.api import Pod
from minikubelet.api.validation import validate_pod_update

FORBIDDEN = (
    "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
    "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)
TOLERATION = {"key": "a", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10}


def pod(**spec: Any) -> Pod:
    return Pod.model_validate(make_pod(spec=spec))


def errors(new: Pod, old: Pod) -> list[str]:
    return [str(e) for e in validate_pod_update(new, old)]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({}, {}),
        ({"containers": [container(image="busybox:1")]}, {"containers": [container(image="busybox:2")]}),
        (
            {"initContainers": [container("init", image="a:1")]},
            {"initContainers": [container("init", image="a:2")]},
        ),
        ({}, {"activeDeadlineSeconds": 100}),
        ({"activeDeadlineSeconds": 100}, {"activeDeadlineSeconds": 50}),
        ({"activeDeadlineSeconds": 100}, {"activeDeadlineSeconds": 100}),
        ({}, {"tolerations": [TOLERATION]}),
        ({"tolerations": [TOLERATION]}, {"tolerations": [TOLERATION, {"key": "b", "operator": "Exists"}]}),
        ({"tolerations": [TOLERATION]}, {"tolerations": [{**TOLERATION, "tolerationSeconds": 5}]}),
        ({"terminationGracePeriodSeconds": -1}, {"terminationGracePeriodSeconds": 1}),
    ],
)
def test_allowed_updates(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert errors(pod(**new), pod(**old)) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ({}, {"restartPolicy": "Never"}, [FORBIDDEN]),
        ({}, {"terminationGracePeriodSeconds": 5}, [FORBIDDEN]),
        ({"terminationGracePeriodSeconds": -1}, {"terminationGracePeriodSeconds": 2}, [FORBIDDEN]),
        ({}, {"nodeName": "elsewhere"}, [FORBIDDEN]),
        ({}, {"containers": [container(env=[{"name": "A", "value": "1"}])]}, [FORBIDDEN]),
        (
            {},
            {"containers": [container(), container("side")]},
            ["spec.containers: Forbidden: pod updates may not add or remove containers"],
        ),
        (
            {},
            {"initContainers": [container("init")]},
            ["spec.initContainers: Forbidden: pod updates may not add or remove containers"],
        ),
        (
            {},
            {"containers": [container(image=" busybox:1")]},
            ['spec.containers[0].image: Invalid value: " busybox:1": must not have leading or trailing whitespace'],
        ),
        ({}, {"containers": [container(image="")]}, ["spec.containers[0].image: Required value"]),
        (
            {"activeDeadlineSeconds": 100},
            {"activeDeadlineSeconds": 200},
            ["spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value"],
        ),
        (
            {"activeDeadlineSeconds": 100},
            {"activeDeadlineSeconds": -1},
            ["spec.activeDeadlineSeconds: Invalid value: -1: must be between 0 and 2147483647, inclusive"],
        ),
        (
            {"activeDeadlineSeconds": 100},
            {},
            ['spec.activeDeadlineSeconds: Invalid value: "null": must not update from a positive integer to nil value'],
        ),
        (
            {"tolerations": [TOLERATION]},
            {"tolerations": [{**TOLERATION, "effect": "NoSchedule"}]},
            ["spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"],
        ),
        (
            {"tolerations": [TOLERATION]},
            {},
            ["spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"],
        ),
    ],
)
def test_refused_updates(old: dict[str, Any], new: dict[str, Any], expected: list[str]) -> None:
    assert errors(pod(**new), pod(**old)) == expected


def test_a_forbidden_change_next_to_an_allowed_one_is_still_forbidden() -> None:
    old = pod(containers=[container(image="a:1")])
    new = pod(containers=[container(image="a:2", workingDir="/tmp")], activeDeadlineSeconds=10)
    assert errors(new, old) == [FORBIDDEN]


def test_a_removed_deadline_does_not_hide_the_spec_change() -> None:
    # Unlike a bad or raised deadline (which stop the checks, as upstream returns early), a removed one does not.
    assert errors(pod(restartPolicy="Never"), pod(activeDeadlineSeconds=100)) == [
        'spec.activeDeadlineSeconds: Invalid value: "null": must not update from a positive integer to nil value',
        FORBIDDEN,
    ]
