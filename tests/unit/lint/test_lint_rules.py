"""The lint rules, manifest by manifest: which findings (rule, severity, field) each one gets, and their texts."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from minikubelet.kubelet.start_records import ImageStarts, Start, StartRecords, image_key
from minikubelet.lint import RuleOptions, lint_text
from minikubelet.lint.findings import Finding, Severity


def pod(containers: list[dict[str, Any]], **spec: Any) -> str:
    return yaml.safe_dump(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": containers, **spec}}
    )


def app(**fields: Any) -> dict[str, Any]:
    return {"name": "app", "image": "i:1", **fields}


HTTP = {"httpGet": {"path": "/healthz", "port": 8080}}
PORTS = [{"name": "http", "containerPort": 8080}]


def found(text: str, starts_within: float | None = None) -> list[tuple[str, str, str]]:
    result = lint_text(text, "pod.yml", options=RuleOptions(starts_within=starts_within))
    assert not result.errors, result.errors
    return [(f.rule, f.severity.value, f.field) for f in result.findings]


C0 = "spec.containers[0]"

CASES: list[tuple[str, str, float | None, list[tuple[str, str, str]]]] = [
    ("no probes", pod([app()]), 90, []),
    ("liveness, no start declared", pod([app(livenessProbe=HTTP)]), None, []),
    # rule 1: 0 + (3 - 1) x 10 = 20 < 90
    (
        "liveness kills before the start",
        pod([app(livenessProbe=HTTP)]),
        90,
        [("liveness-window", "warning", f"{C0}.livenessProbe")],
    ),
    # 70 + (3 - 1) x 10 = 90: not before 90
    ("a delay long enough", pod([app(livenessProbe={**HTTP, "initialDelaySeconds": 70})]), 90, []),
    (
        "one second short",
        pod([app(livenessProbe={**HTTP, "initialDelaySeconds": 69})]),
        90,
        [("liveness-window", "warning", f"{C0}.livenessProbe")],
    ),
    # a startupProbe gates liveness: its own window counts, (30 - 1) x 10 = 290 >= 90
    (
        "startup gates liveness",
        pod([app(livenessProbe={**HTTP, "failureThreshold": 1}, startupProbe={**HTTP, "failureThreshold": 30})]),
        90,
        [],
    ),
    # (9 - 1) x 10 = 80 < 90
    (
        "startup too short",
        pod([app(livenessProbe=HTTP, startupProbe={**HTTP, "failureThreshold": 9})]),
        90,
        [("liveness-window", "warning", f"{C0}.startupProbe")],
    ),
    (
        "startup without liveness",
        pod([app(startupProbe={**HTTP, "failureThreshold": 2})]),
        90,
        [("liveness-window", "warning", f"{C0}.startupProbe")],
    ),
    ("readiness never kills", pod([app(readinessProbe=HTTP)]), 90, []),
    # rule 2
    (
        "timeout = period",
        pod([app(readinessProbe={**HTTP, "timeoutSeconds": 10})]),
        None,
        [("timeout-period", "warning", f"{C0}.readinessProbe")],
    ),
    (
        "timeout > period",
        pod([app(startupProbe={**HTTP, "timeoutSeconds": 5, "periodSeconds": 3})]),
        None,
        [("timeout-period", "warning", f"{C0}.startupProbe")],
    ),
    ("timeout < period", pod([app(livenessProbe={**HTTP, "timeoutSeconds": 9})]), None, []),
    # rule 3
    (
        "liveness = readiness",
        pod([app(livenessProbe=HTTP, readinessProbe=HTTP)]),
        None,
        [("liveness-as-readiness", "warning", f"{C0}.livenessProbe")],
    ),
    (
        "same check by port name and number",
        pod([app(ports=PORTS, livenessProbe={"httpGet": {"path": "/healthz", "port": "http"}}, readinessProbe=HTTP)]),
        None,
        [("liveness-as-readiness", "warning", f"{C0}.livenessProbe")],
    ),
    ("liveness slower than readiness", pod([app(livenessProbe={**HTTP, "failureThreshold": 6}, readinessProbe=HTTP)]), None, []),
    (
        "liveness faster than readiness",
        pod([app(livenessProbe={**HTTP, "periodSeconds": 5}, readinessProbe=HTTP)]),
        None,
        [("liveness-as-readiness", "warning", f"{C0}.livenessProbe")],
    ),
    ("different paths", pod([app(livenessProbe={"httpGet": {"path": "/live", "port": 8080}}, readinessProbe=HTTP)]), None, []),
    # rule 4
    ("declared port", pod([app(ports=PORTS, readinessProbe=HTTP)]), None, []),
    (
        "undeclared port",
        pod([app(ports=PORTS, readinessProbe={"tcpSocket": {"port": 8081}})]),
        None,
        [("probe-port", "warning", f"{C0}.readinessProbe.tcpSocket.port")],
    ),
    ("no ports declared", pod([app(readinessProbe={"tcpSocket": {"port": 8081}})]), None, []),
    ("another host", pod([app(ports=PORTS, readinessProbe={"tcpSocket": {"port": 5432, "host": "db"}})]), None, []),
    (
        "grpc undeclared",
        pod([app(ports=PORTS, livenessProbe={"grpc": {"port": 9090}})]),
        None,
        [("probe-port", "warning", f"{C0}.livenessProbe.grpc.port")],
    ),
    (
        "missing named port",
        pod([app(ports=PORTS, readinessProbe={"httpGet": {"port": "htp"}})]),
        None,
        [("probe-port", "error", f"{C0}.readinessProbe.httpGet.port")],
    ),
    (
        "named port, no ports",
        pod([app(startupProbe={"tcpSocket": {"port": "http"}})]),
        None,
        [("probe-port", "error", f"{C0}.startupProbe.tcpSocket.port")],
    ),
    (
        "hooks",
        pod([app(ports=PORTS, lifecycle={"postStart": {"httpGet": {"port": "admin"}}, "preStop": {"httpGet": {"port": 9000}}})]),
        None,
        [
            ("probe-port", "error", f"{C0}.lifecycle.postStart.httpGet.port"),
            ("probe-port", "warning", f"{C0}.lifecycle.preStop.httpGet.port"),
        ],
    ),
    # rule 6
    (
        "readiness delay 30",
        pod([app(readinessProbe={**HTTP, "initialDelaySeconds": 30})]),
        None,
        [("readiness-delay", "info", f"{C0}.readinessProbe.initialDelaySeconds")],
    ),
    ("readiness delay 29", pod([app(readinessProbe={**HTTP, "initialDelaySeconds": 29})]), None, []),
    ("liveness delay", pod([app(livenessProbe={**HTTP, "initialDelaySeconds": 60})]), None, []),
    # sidecars are linted with their own paths
    (
        "sidecar",
        pod(
            [app()],
            initContainers=[
                {"name": "proxy", "image": "i:1", "restartPolicy": "Always", "livenessProbe": {**HTTP, "timeoutSeconds": 10}}
            ],
        ),
        None,
        [("timeout-period", "warning", "spec.initContainers[0].livenessProbe")],
    ),
]


@pytest.mark.parametrize(("manifest", "starts_within", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_findings(manifest: str, starts_within: float | None, expected: list[tuple[str, str, str]]) -> None:
    assert found(manifest, starts_within) == expected


def one(text: str, starts_within: float | None = None) -> Finding:
    findings = lint_text(text, "pod.yml", options=RuleOptions(starts_within=starts_within)).findings
    assert len(findings) == 1, findings
    return findings[0]


def test_liveness_window_message_spells_out_the_arithmetic() -> None:
    finding = one(pod([app(livenessProbe={**HTTP, "initialDelaySeconds": 5})]), 90)
    assert finding.container == "app" and finding.object == "pod/p" and finding.source == "pod.yml"
    assert finding.message == (
        "can kill the container 25s after it starts, before its declared start time of 90s (--starts-within):"
        " earliest kill = initialDelaySeconds 5 + (failureThreshold 3 - 1) x periodSeconds 10 = 25s"
        " (the first attempt can come right at the delay; at the latest 5 + 3 x 10 + timeoutSeconds 1 = 36s);"
        " add a startupProbe with the same handler, periodSeconds 10 and failureThreshold 10 = ceil(90 / 10) + 1,"
        " whose earliest kill (10 - 1) x 10 = 90s is not before 90s; liveness then starts only once it has succeeded"
    )


def test_startup_window_message_proposes_the_threshold() -> None:
    finding = one(pod([app(startupProbe={**HTTP, "failureThreshold": 9, "initialDelaySeconds": 10})]), 120)
    assert "earliest kill = initialDelaySeconds 10 + (failureThreshold 9 - 1) x periodSeconds 10 = 90s" in finding.message
    assert (
        "raise failureThreshold to 12 = ceil((120 - 10) / 10) + 1, whose earliest kill 10 + (12 - 1) x 10 = 120s"
        in finding.message
    )


def test_timeout_message() -> None:
    finding = one(pod([app(readinessProbe={**HTTP, "timeoutSeconds": 12, "periodSeconds": 5})]))
    assert finding.message.startswith("timeoutSeconds 12 >= periodSeconds 5: ")
    assert "failureThreshold 3 of them take 3 x 12 = 36s" in finding.message


def test_missing_named_port_message_says_what_the_kubelet_does() -> None:
    finding = one(pod([app(ports=PORTS, livenessProbe={"httpGet": {"port": "htp"}})]))
    assert finding.severity is Severity.ERROR
    assert finding.message.startswith('named port "htp" is not among the container\'s ports (declared: http 8080/TCP)')
    assert "(`port htp not found`)" in finding.message and "liveness never kills" in finding.message


def test_readiness_delay_message() -> None:
    finding = one(pod([app(readinessProbe={**HTTP, "initialDelaySeconds": 45})]))
    assert "at least 45s and up to 45 + periodSeconds 10 = 55s" in finding.message
    assert "failureThreshold 6 = ceil(45 / 10) + 1" in finding.message


def test_human_line() -> None:
    finding = one(pod([app(readinessProbe={**HTTP, "timeoutSeconds": 10})]))
    assert finding.line().startswith("WARN  spec.containers[0].readinessProbe: timeoutSeconds 10 >= periodSeconds 10")


# ------------------------------------------------------------------------------ rule 7: slow-start-image


def records(image: str, *seconds: float) -> StartRecords:
    """A start record in which `image` started in each of `seconds`, in that order."""
    starts = [
        Start(s, "Readiness", 2, "default/old", "app", f"c{i}", "2026-01-01T12:00:00.000000Z", f"T{i}")
        for i, s in enumerate(seconds)
    ]
    entry = ImageStarts(starts[0], (starts[0],))
    for start in starts[1:]:
        entry = entry.add(start)
    return StartRecords("/node/start-records.json", {image_key(image): entry})


def slow(text: str, record: StartRecords) -> list[Finding]:
    result = lint_text(text, "pod.yml", options=RuleOptions(start_records=record))
    assert not result.errors, result.errors
    return [f for f in result.findings if f.rule == "slow-start-image"]


def test_slow_start_image_speaks_only_for_a_liveness_probe_without_startup_on_an_image_seen_slower() -> None:
    # liveness 0 + (3 - 1) x 10 = 20s
    record = records("i:1", 12.0, 25.5, 8.0)
    assert [(f.severity, f.field, f.container) for f in slow(pod([app(livenessProbe=HTTP)]), record)] == [
        (Severity.WARNING, f"{C0}.livenessProbe", "app")
    ]
    assert not slow(pod([app(livenessProbe=HTTP)]), records("other:1", 99.0)), "another image"
    assert not slow(pod([app(livenessProbe=HTTP)]), records("i:1", 20.0)), "20s is not before 20s"
    assert not slow(pod([app(livenessProbe={**HTTP, "initialDelaySeconds": 6})]), record), "6 + 20 = 26s >= 25.5s"
    assert not slow(pod([app(livenessProbe=HTTP, startupProbe=HTTP)]), record), "a startupProbe gates liveness"
    assert not slow(pod([app(readinessProbe=HTTP)]), record), "readiness never kills"
    assert not found(pod([app(livenessProbe=HTTP)])), "no record: silent"
    # the image as the record keys it: `i:1` and `docker.io/library/i:1` are one image
    assert slow(pod([app(livenessProbe=HTTP, image="docker.io/library/i:1")]), record)


def test_slow_start_image_message_and_its_fix_are_those_of_starts_within() -> None:
    text = pod([app(livenessProbe=HTTP)])
    (finding,) = slow(text, records("i:1", 12.0, 25.5, 8.0))
    # the longest start, 25.5s: F = ceil(25.5 / 10) + 1 = 4, whose earliest kill (4 - 1) x 10 = 30s >= 25.5s
    assert finding.message.startswith(
        "can kill the container 20s after it starts, before the 25.5s its image took to start on this node:"
        " earliest kill = initialDelaySeconds 0 + (failureThreshold 3 - 1) x periodSeconds 10 = 20s"
    )
    (declared,) = lint_text(text, "pod.yml", options=RuleOptions(starts_within=25.5)).findings
    fix = declared.message.partition("); add a startupProbe")[2]
    assert fix.startswith(" with the same handler, periodSeconds 10 and failureThreshold 4 = ceil(25.5 / 10) + 1")
    assert "); add a startupProbe" + fix + ". The start record" in finding.message, "the same proposal, word for word"
    assert finding.message.endswith(
        "The start record (/node/start-records.json) has i:1's longest start: 25.5s from startedAt"
        " 2026-01-01T12:00:00.000000Z to the first successful readiness probe at T1, after 2 failed attempts"
        " (pod default/old, container app); its last starts: 12s, 25.5s, 8s"
    )
