"""The example manifests: every one in manifests/ is valid, every one in manifests/invalid/ says why not."""

from __future__ import annotations

from pathlib import Path

import pytest

from minikubelet.manifest import read_manifests

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
VALID = sorted(p for p in MANIFESTS.iterdir() if p.suffix in (".yml", ".yaml"))
LOCAL_IMAGES = ("minikubelet.local/echo:v1", "minikubelet.local/busybox:1.35")

# One telling fragment per broken manifest; each file is checked in full by tests/unit/api.
INVALID = {
    "echo-pod.yml": 'metadata.app: Unknown field: "labels:" above it is empty, and "app" belongs inside it',
    "misspelled-probe.yml": 'spec.containers[0].readinesProbe: Unknown field: did you mean "readinessProbe"?',
    "negative-period.yml": "spec.containers[0].livenessProbe.periodSeconds: Invalid value: -1: must be greater than or"
    " equal to 0",
    "bad-yaml.yml": "error parsing YAML at line 8, column 6",
    "deployment.yml": 'no matches for kind "Deployment" in version "apps/v1"',
    "duplicate-names.yml": 'spec.containers[1].name: Duplicate value: "app"',
    "two-handlers.yml": "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler",
    "wrong-types.yml": "metadata.labels[version]: Invalid value: 1.0: must be a string (put it in quotes)",
}


def test_there_are_examples() -> None:
    assert len(VALID) >= 8


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_example_is_valid_and_uses_local_images(path: Path) -> None:
    result = read_manifests([str(path)])
    assert result.error_lines() == []
    assert result.objects
    for loaded in result.objects:
        for container in loaded.obj.spec.all_containers():
            assert container.image in LOCAL_IMAGES
            assert container.image_pull_policy == "IfNotPresent"


def test_every_invalid_example_is_listed() -> None:
    assert sorted(p.name for p in (MANIFESTS / "invalid").iterdir()) == sorted(INVALID)


@pytest.mark.parametrize(("name", "fragment"), sorted(INVALID.items()))
def test_invalid_example_fails_with_a_clear_message(name: str, fragment: str) -> None:
    path = MANIFESTS / "invalid" / name
    result = read_manifests([str(path)])
    assert result.objects == []
    lines = result.error_lines()
    assert lines and all(line.startswith(f"{path}: ") for line in lines)
    assert any(fragment in line for line in lines), lines
