"""One node per state directory: a second daemon refuses to start and leaves the running one's files alone.

A running node holds the home's lock: a second daemon then stops at once and quietly (`LOCKED_OUT_EXIT`, the `up`
that started it waits for the first one). A daemon of an older minikubelet took no lock, but its pid file still
turns a new one away, with a one-line refusal.
"""

from __future__ import annotations

import asyncio
import errno
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from minikubelet.daemon import DaemonConfig, _serve
from minikubelet.errors import MinikubeletError
from minikubelet.node.paths import NodePaths
from minikubelet.node.process import LOCKED_OUT_EXIT, NodeLockedError


@pytest.fixture
def running_node() -> Iterator[int]:
    """A process that passes for a running node (its command line mentions minikubelet)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "minikubelet"])
    try:
        deadline = time.monotonic() + 10
        while b"minikubelet" not in Path(f"/proc/{process.pid}/cmdline").read_bytes():  # until it shows as one
            assert time.monotonic() < deadline and process.poll() is None, "the stand-in node did not start"
            time.sleep(0.01)
        yield process.pid
    finally:
        process.kill()
        process.wait()


async def test_a_second_node_on_one_state_dir_refuses_to_start(tmp_path: Path, running_node: int) -> None:
    paths = NodePaths.from_env(str(tmp_path / "home"))
    paths.ensure_home()
    paths.pid_file.write_text(f"{running_node}\n")
    paths.endpoint_file.write_text('{"host": "127.0.0.1", "port": 1234}')
    with pytest.raises(MinikubeletError, match=rf"already running from .* \(pid {running_node}\)"):
        await asyncio.wait_for(_serve(DaemonConfig(paths=paths, node_name="node-1")), 10)  # a regression would serve
    assert paths.pid_file.read_text() == f"{running_node}\n"
    assert paths.endpoint_file.exists()
    assert not paths.state_db.exists()


@pytest.fixture
def lock_holder(tmp_path: Path) -> Iterator[int]:
    """A process holding the home's lock as a running node does (its command line mentions minikubelet)."""
    code = (
        "import time\nfrom minikubelet.node.paths import NodePaths\nfrom minikubelet.node.process import DaemonLock\n"
        "lock = DaemonLock.acquire(NodePaths.from_env())\nprint('locked', flush=True)\ntime.sleep(60)\n"
    )
    env = {**os.environ, "MINIKUBELET_HOME": str(tmp_path / "home")}
    with subprocess.Popen([sys.executable, "-c", code, "minikubelet"], stdout=subprocess.PIPE, text=True, env=env) as process:
        try:
            assert process.stdout is not None and process.stdout.readline() == "locked\n"
            yield process.pid
        finally:
            process.kill()
            process.wait()


async def test_a_second_daemon_finding_the_lock_held_stops_at_once_and_touches_nothing(
    tmp_path: Path, lock_holder: int
) -> None:
    paths = NodePaths.from_env(str(tmp_path / "home"))
    paths.pid_file.write_text(f"{lock_holder}\n")
    started = time.monotonic()
    with pytest.raises(NodeLockedError, match=rf"\(pid {lock_holder}\)"):
        await asyncio.wait_for(_serve(DaemonConfig(paths=paths, node_name="node-1")), 10)
    assert time.monotonic() - started < 1
    assert paths.pid_file.read_text() == f"{lock_holder}\n"
    assert paths.daemon_lock.read_text() == f"{lock_holder}\n"
    assert not paths.state_db.exists() and not paths.endpoint_file.exists()


def test_the_daemon_turned_away_exits_quietly_with_its_own_code(tmp_path: Path, lock_holder: int) -> None:
    env = {**os.environ, "MINIKUBELET_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "minikubelet", "up", "--foreground", "--node-name", "node-1", "--port", "0"]
    turned_away = subprocess.run(command, capture_output=True, text=True, env=env, timeout=30, check=False)
    assert (turned_away.returncode, turned_away.stdout, turned_away.stderr) == (LOCKED_OUT_EXIT, "", "")
    paths = NodePaths.from_env(str(tmp_path / "home"))
    assert not paths.state_db.exists() and not paths.pid_file.exists()


async def test_a_read_only_home_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = NodePaths.from_env(str(tmp_path / "home"))
    paths.ensure_home()

    def read_only(*args: object, **kwargs: object) -> int:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(paths.daemon_lock))

    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(MinikubeletError) as refused:
        await asyncio.wait_for(_serve(DaemonConfig(paths=paths, node_name="node-1")), 10)
    assert str(refused.value) == f"cannot write {paths.daemon_lock}: Read-only file system"
