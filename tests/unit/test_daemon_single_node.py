"""One node per state directory: a second daemon refuses to start and leaves the running one's files alone."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from minikubelet.daemon import DaemonConfig, _serve
from minikubelet.errors import MinikubeletError
from minikubelet.node.paths import NodePaths


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
