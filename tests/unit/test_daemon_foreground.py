"""`python -m minikubelet up --foreground ...` runs the daemon without the CLI's libraries, with the same config.

`__main__.py` hands the command line `up` starts the daemon with to `daemon.foreground_config`; whatever that
does not understand goes to typer as before. The config must be the one typer's `up --foreground` would build.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from minikubelet import daemon
from minikubelet.cli.main import build_app
from minikubelet.daemon import DaemonConfig, foreground_config
from minikubelet.errors import MinikubeletError
from minikubelet.node.process import daemon_command


@pytest.fixture(autouse=True)
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINIKUBELET_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MINIKUBELET_PORT", raising=False)
    monkeypatch.delenv("MINIKUBELET_POD_INFRA_IMAGE", raising=False)


def typer_config(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> DaemonConfig:
    """The config the CLI's `up --foreground <argv>` passes to `daemon.serve`."""
    seen: list[DaemonConfig] = []
    monkeypatch.setattr(daemon, "serve", seen.append)
    result = CliRunner().invoke(build_app(["up"]), ["up", "--foreground", *argv])
    assert result.exit_code == 0, result.output
    assert len(seen) == 1
    return seen[0]


@pytest.mark.parametrize(
    "argv",
    [
        # What `up` spawns (cli/node.py), with and without the host-access options.
        ["--pod-infra-image", "registry.k8s.io/pause:3.10", "--node-name", "vm", "--port", "0"],
        ["--pod-infra-image", "p:1", "--node-name", "n", "--port", "6443", "--allow-privileged"],
        ["--node-name", "n", "--port", "0", "--allow-host-path", "/data", "--allow-host-path", "rel/dir"],
        # What a user may type.
        [],
        ["--port=7443", "--node-name="],
        ["--allow-host-path", "~/x", "--pod-infra-image=img:2"],
    ],
)
def test_same_config_as_the_cli(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert foreground_config(argv) == typer_config(argv, monkeypatch)


def test_environment_variables_as_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINIKUBELET_PORT", "7444")
    monkeypatch.setenv("MINIKUBELET_POD_INFRA_IMAGE", "from-env:1")
    config = foreground_config(["--node-name", "n"])
    assert config is not None and (config.port, config.pod_infra_image) == (7444, "from-env:1")
    assert config == typer_config(["--node-name", "n"], monkeypatch)
    assert foreground_config(["--port", "1", "--pod-infra-image", "x"]) == typer_config(
        ["--port", "1", "--pod-infra-image", "x"], monkeypatch
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--port", "eighty"],
        ["--port"],
        ["--node-name", "a", "--node-name", "b"],
        ["--allow-privileged=true"],
        ["--allow-host-path", " "],
        ["--verbose"],
        ["extra"],
        ["--node-name", "--port", "1"],
    ],
)
def test_anything_else_is_left_to_the_cli(argv: list[str]) -> None:
    assert foreground_config(argv) is None


def test_a_refusal_is_one_error_line_and_exit_code_1(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(config: DaemonConfig) -> None:
        raise MinikubeletError("cannot start the node: no")

    monkeypatch.setattr(daemon, "serve", refuse)
    config = foreground_config([])
    assert config is not None
    assert daemon.main(config) == 1
    assert capsys.readouterr().err == "error: cannot start the node: no\n"


def test_the_daemon_command_line_skips_the_cli(tmp_path: Path) -> None:
    """The real command line, refused (its port is taken): the CLI's one-line error, and typer never imported."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        command = [*daemon_command(), "--node-name", "n", "--port", str(port)]
        assert command[0] == sys.executable and command[1:3] == ["-m", "minikubelet"]
        result = subprocess.run(
            [sys.executable, "-X", "importtime", *command[1:]], capture_output=True, text=True, timeout=60, check=False
        )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [f"error: cannot listen on 127.0.0.1:{port}: Address already in use"]
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "minikubelet.daemon" in imported
    assert not imported & {"typer", "rich", "minikubelet.cli.main"}  # click comes with uvicorn
