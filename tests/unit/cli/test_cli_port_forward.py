"""`minikubelet port-forward` and `logs` on their own side, without a node: kubectl's port arguments, named ports,
listen addresses, and the flag checks kubectl makes before any request, in kubectl's words."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from minikubelet.cli import logs
from minikubelet.cli.main import app
from minikubelet.cli.port_forward import PortSpec, listen_addresses, parse_port_specs, resolve_remote
from minikubelet.errors import MinikubeletError

runner = CliRunner()
POD: dict[str, Any] = {
    "metadata": {"name": "web"},
    "spec": {
        "containers": [
            {"name": "app", "ports": [{"name": "http", "containerPort": 3000}]},
            {"name": "side", "ports": [{"name": "metrics", "containerPort": 9090}]},
        ]
    },
}


def test_kubectls_port_forms() -> None:
    assert parse_port_specs(["8080:3000", "3000", ":3000", "8080:http", "http"]) == [
        PortSpec(8080, 3000),
        PortSpec(3000, 3000),
        PortSpec(0, 3000),
        PortSpec(8080, "http"),
        PortSpec("http", "http"),
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1:2:3", "invalid port format '1:2:3'"),
        ("abc:3000", "Error parsing local port 'abc': invalid syntax"),
        ("70000:3000", "Error parsing local port '70000': value out of range"),
        ("8080:", "Error parsing remote port '': invalid syntax"),
        ("8080:70000", "Error parsing remote port '70000': value out of range"),
        ("8080:0", "remote port must be > 0"),
    ],
)
def test_bad_ports_are_refused_in_kubectls_words(value: str, message: str) -> None:
    with pytest.raises(MinikubeletError) as refused:
        parse_port_specs([value])
    assert str(refused.value) == message


def test_named_ports_are_the_pods_container_ports() -> None:
    assert [resolve_remote(POD, port) for port in (3000, "http", "metrics")] == [3000, 3000, 9090]
    with pytest.raises(MinikubeletError, match=r"^Pod 'web' does not have a named port 'grpc'$"):
        resolve_remote(POD, "grpc")


def test_listen_addresses() -> None:
    assert listen_addresses("127.0.0.1") == ["127.0.0.1"]
    assert listen_addresses("localhost,127.0.0.1, ::1") == ["127.0.0.1", "::1"]
    with pytest.raises(MinikubeletError, match=r"^example\.com is not a valid IP$"):
        listen_addresses("example.com")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["port-forward", "svc/web", "80"], "minikubelet port-forward forwards to pods only (pod/NAME or NAME), not svc/web"),
        (["port-forward", "pod/web", "1:2:3"], "invalid port format '1:2:3'"),
        (["port-forward", "pod/web", "80", "--address", "nowhere"], "nowhere is not a valid IP"),
        (
            ["logs", "web", "--since=1s", "--since-time=2030-01-01T00:00:00Z"],
            "at most one of `sinceTime` or `sinceSeconds` may be specified",
        ),
        (
            ["logs", "web", "--all-containers", "-c", "app"],
            "--all-containers=true should not be specified with container name app",
        ),
        (["logs", "web", "app", "-c", "app"], "only one of -c or an inline [CONTAINER] arg is allowed"),
        (["logs", "web", "--limit-bytes=-1"], "--limit-bytes must be greater than 0"),
        (["logs", "web", "--tail=-2"], "--tail must be greater than or equal to -1"),
    ],
)
def test_checked_before_any_request(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {message}\n")


def test_log_lines_are_prefixed_whole() -> None:
    chunks = [b"one\ntw", b"o\n", b"", b"three"]
    assert b"".join(logs._prefixed(chunks, b"[pod/web/app] ")) == b"[pod/web/app] one\n[pod/web/app] two\n[pod/web/app] three"
    assert list(logs._prefixed([b"a\nb\n"], b"")) == [b"a\nb\n"]
