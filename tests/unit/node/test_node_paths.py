"""The state directory layout and private file writes: modes are the security boundary, so they are tested."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from minikubelet.node.paths import NodePaths, write_private


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "state"
    monkeypatch.setenv("MINIKUBELET_HOME", str(home))
    return home


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would make new files world-readable and writable."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_from_env_uses_minikubelet_home(home: Path) -> None:
    paths = NodePaths.from_env()
    assert paths.home == home
    assert paths.state_db == home / "state.db"
    assert paths.daemon_log == home / "daemon.log"
    assert paths.pid_file == home / "daemon.pid"
    assert paths.kubeconfig == home / "kubeconfig"
    assert paths.ca_cert == home / "ca.crt"
    assert paths.ca_key == home / "ca.key"
    assert paths.server_cert == home / "server.crt"
    assert paths.server_key == home / "server.key"
    assert paths.token_file == home / "token"
    assert paths.endpoint_file == home / "endpoint.json"


def test_explicit_home_wins_over_the_environment(home: Path, tmp_path: Path) -> None:
    assert NodePaths.from_env(str(tmp_path / "other")).home == tmp_path / "other"


def test_default_home_is_dot_minikubelet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MINIKUBELET_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert NodePaths.from_env().home == tmp_path / ".minikubelet"


def test_home_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MINIKUBELET_HOME", "relative/state")
    assert NodePaths.from_env().home == tmp_path / "relative" / "state"


def test_ensure_home_creates_a_private_directory(home: Path, open_umask: None) -> None:
    assert NodePaths.from_env().ensure_home() == home
    assert mode(home) == 0o700


def test_ensure_home_tightens_an_existing_directory(home: Path) -> None:
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    NodePaths.from_env().ensure_home()
    assert mode(home) == 0o700


def test_write_private_writes_0600_even_with_an_open_umask(tmp_path: Path, open_umask: None) -> None:
    target = tmp_path / "secret"
    write_private(target, "text ✓")
    assert target.read_text(encoding="utf-8") == "text ✓"
    assert mode(target) == 0o600


def test_write_private_file_is_never_world_readable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_umask: None) -> None:
    """The file is 0600 the moment it is created, and has its full content before it is renamed into place."""
    created: list[int] = []
    seen: list[tuple[int, bytes]] = []
    real_open, real_replace = os.open, os.replace

    def spying_open(path: str | Path, flags: int, mode: int = 0o777) -> int:
        fd = real_open(path, flags, mode)
        created.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return fd

    def spying_replace(src: str | Path, dst: str | Path) -> None:
        seen.append((mode(Path(src)), Path(src).read_bytes()))
        real_replace(src, dst)

    monkeypatch.setattr("minikubelet.node.paths.os.open", spying_open)
    monkeypatch.setattr("minikubelet.node.paths.os.replace", spying_replace)
    write_private(tmp_path / "secret", b"\x00bytes")
    assert created == [0o600]
    assert seen == [(0o600, b"\x00bytes")]
    assert mode(tmp_path / "secret") == 0o600


def test_write_private_replaces_an_existing_file_and_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "secret"
    target.write_text("old, and world-readable")
    os.chmod(target, 0o644)
    write_private(target, b"new")
    assert target.read_bytes() == b"new"
    assert mode(target) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret"]


def test_write_private_leaves_nothing_behind_when_it_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_replace(src: str | Path, dst: str | Path) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr("minikubelet.node.paths.os.replace", failing_replace)
    with pytest.raises(OSError, match="disk on fire"):
        write_private(tmp_path / "secret", b"data")
    assert list(tmp_path.iterdir()) == []
