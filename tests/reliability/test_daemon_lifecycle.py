"""One node daemon per state directory, whatever starts it and however many at once; `down` really stops it and
finishes the removals it owes; `up` cleans up after pods that went while no daemon ran; a read-only home is one
line, not a traceback.

- Eight `minikubelet up` at once leave exactly one daemon for the home, and all eight succeed; so do eight
  commands that start the node on their own (`get pods` in a fresh home). `down` then leaves no daemon.
- `delete pods --all --force --grace-period=0` followed at once by `down` leaves no container of the node behind:
  the daemon finishes the removals before it exits.
- A pod removed from the store while its node was dead: the next `up` removes its containers and its emptyDir
  data (`$MINIKUBELET_HOME/pods/<uid>/`).
- `up` and `down` on a read-only home print one `error: cannot write PATH: Read-only file system` line, exit 1.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from nodes import CLI, Node, eventually, pod_yaml, running_node

pytestmark = pytest.mark.docker

INSTANCE_LABEL = "io.minikubelet.instance"
UID_LABEL = "io.minikubelet.pod.uid"
RACERS = 8
TRIALS = 3


# --- helpers ------------------------------------------------------------------------------------------------


def daemons(home: Path) -> list[int]:
    """The live node daemons of `home`: processes running `up --foreground` with MINIKUBELET_HOME=home."""
    marker = f"MINIKUBELET_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if b"up\0--foreground" not in (entry / "cmdline").read_bytes():
                continue
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def kill_daemons(home: Path) -> None:
    """The safety net: SIGKILL whatever daemon of `home` (started by this test) still runs."""
    for pid in daemons(home):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert eventually(lambda: not daemons(home), timeout=10), f"daemons of {home} survived SIGKILL"


@pytest.fixture
def fresh_node(docker_client: docker.DockerClient, tmp_path: Path) -> Iterator[Node]:
    """A home with no node yet; whatever the test starts in it is stopped and removed afterwards."""
    node = Node(tmp_path / "home")
    try:
        yield node
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            node.cli("down", timeout=60)
        kill_daemons(node.home)
        node.remove_containers()


def race(node: Node, *args: str, racers: int = RACERS, timeout: float = 60) -> list[subprocess.CompletedProcess[str]]:
    """Run `minikubelet ARGS` `racers` times at once; every one's result."""
    processes = [
        subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=node.env)
        for _ in range(racers)
    ]
    results = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=timeout)
            results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return results


def ours(client: docker.DockerClient, node: Node, **labels: str) -> list[Any]:
    filters = [f"{INSTANCE_LABEL}={node.instance}", *(f"{key}={value}" for key, value in labels.items())]
    return list(client.containers.list(all=True, filters={"label": filters}, ignore_removed=True))


def pid_of(node: Node) -> int:
    return int((node.home / "daemon.pid").read_text())


# --- one daemon per home ------------------------------------------------------------------------------------


def test_concurrent_ups_start_exactly_one_daemon(fresh_node: Node) -> None:
    node = fresh_node
    for trial in range(TRIALS):
        results = race(node, "up")
        failures = [(r.returncode, r.stdout, r.stderr) for r in results if r.returncode != 0]
        assert not failures, f"trial {trial}: {failures}"
        for result in results:
            assert "is up" in result.stdout or "already running" in result.stdout, result.stdout
        running = daemons(node.home)
        assert len(running) == 1, f"trial {trial}: {len(running)} daemons for one home: {running}"
        status = node.cli("status")
        assert status.returncode == 0 and f"running (pid {running[0]})" in status.stdout, status.stdout
        assert node.cli("get", "pods").returncode == 0

        stopped = node.cli("down", timeout=90)
        assert stopped.returncode == 0 and stopped.stdout == "minikubelet node stopped\n", stopped
        assert daemons(node.home) == [], f"trial {trial}: a daemon outlived `down`"
        status = node.cli("status")
        assert status.returncode == 3 and status.stdout == "minikubelet node: stopped\n"


def test_concurrent_commands_that_start_the_node_all_succeed(docker_client: docker.DockerClient, tmp_path: Path) -> None:
    for trial in range(TRIALS):
        node = Node(tmp_path / f"home-{trial}")
        try:
            results = race(node, "get", "pods")
            failures = [(r.returncode, r.stderr) for r in results if r.returncode != 0]
            assert not failures, f"trial {trial}: {failures}"
            for result in results:
                assert result.stderr.endswith("No resources found in default namespace.\n"), result.stderr
            assert len(daemons(node.home)) == 1, f"trial {trial}: {daemons(node.home)}"
            assert node.cli("down", timeout=90).returncode == 0
            assert daemons(node.home) == []
        finally:
            with contextlib.suppress(subprocess.TimeoutExpired):
                node.cli("down", timeout=60)
            kill_daemons(node.home)
            node.remove_containers()


def test_the_state_files_stay_private(fresh_node: Node) -> None:
    node = fresh_node
    node.cli("up", check=True)
    lock = node.home / "daemon.lock"
    assert oct(lock.stat().st_mode & 0o777) == "0o600"
    assert oct(node.home.stat().st_mode & 0o777) == "0o700"


# --- down finishes what it owes; up cleans up after the dead ------------------------------------------------


@pytest.fixture
def node(docker_client: docker.DockerClient, local_images: Any, tmp_path: Path) -> Iterator[Node]:
    yield from running_node(tmp_path / "home")


def test_force_deleting_every_pod_then_down_leaves_no_container(node: Node, docker_client: docker.DockerClient) -> None:
    pods = [pod_yaml(f"sleeper-{i}", "sleep 3600", grace=30) for i in range(20)]
    node.cli("apply", "-f", "-", stdin="---\n".join(pods), check=True)

    def all_running() -> bool:
        items = node.api("/api/v1/namespaces/default/pods")["items"]
        return len(items) == 20 and all(p.get("status", {}).get("phase") == "Running" for p in items)

    assert eventually(all_running, timeout=90)
    assert len([c for c in ours(docker_client, node) if c.status == "running"]) == 40

    node.cli("delete", "pods", "--all", "--force", "--grace-period=0", check=True, timeout=60)
    stopped = node.cli("down", timeout=90)
    assert stopped.returncode == 0, stopped.stderr
    assert daemons(node.home) == []
    left = ours(docker_client, node)
    assert left == [], f"{len(left)} containers outlived `down`: {[c.name for c in left]}"


EMPTYDIR_EXTRA = """  volumes:
    - name: scratch
      emptyDir: {}
"""


def test_up_removes_the_containers_and_data_of_a_pod_deleted_while_the_node_was_dead(
    node: Node, docker_client: docker.DockerClient
) -> None:
    manifest = pod_yaml("keeper", "echo kept > /scratch/data; exec sleep 3600", grace=1, extra=EMPTYDIR_EXTRA)
    manifest = manifest.replace(
        '      command: ["sh"', "      volumeMounts: [{name: scratch, mountPath: /scratch}]\n" + '      command: ["sh"'
    )
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    assert eventually(lambda: node.pod("keeper")["status"].get("phase") == "Running", timeout=60)
    uid = node.pod("keeper")["metadata"]["uid"]
    data = node.home / "pods" / uid / "volumes" / "scratch" / "data"
    assert eventually(data.exists, timeout=10)
    survivor = pod_yaml("survivor", "exec sleep 3600", grace=1)
    node.cli("apply", "-f", "-", stdin=survivor, check=True)
    assert eventually(lambda: node.pod("survivor")["status"].get("phase") == "Running", timeout=60)
    survivor_uid = node.pod("survivor")["metadata"]["uid"]

    pid = pid_of(node)
    os.kill(pid, signal.SIGKILL)
    assert eventually(lambda: not daemons(node.home), timeout=10)
    from minikubelet.store import Store

    store = Store(node.home / "state.db")  # the node is dead: the pod goes while nobody watches
    try:
        store.delete("Pod", "default", "keeper")
    finally:
        store.close()
    assert ours(docker_client, node, **{UID_LABEL: uid}), "the dead node's containers still exist"

    node.cli("up", check=True)
    assert eventually(lambda: not ours(docker_client, node, **{UID_LABEL: uid}), timeout=30), "containers left"
    assert eventually(lambda: not (node.home / "pods" / uid).exists(), timeout=10), "emptyDir data left"
    assert (node.home / "pods").is_dir()
    assert [c.status for c in ours(docker_client, node, **{UID_LABEL: survivor_uid})] == ["running", "running"]


# --- a read-only home -----------------------------------------------------------------------------------------


def _mount(*args: str) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"cannot mount ({result.stderr.strip()}): needs root")


def _umount(path: Path) -> None:
    subprocess.run(["umount", str(path)], capture_output=True, check=False)


def _one_error_line(result: subprocess.CompletedProcess[str], path: Path, *, after: str = "") -> None:
    """Exit 1 and, on stderr after `after`, one line: `error: cannot write PATH...: Read-only file system`."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "│" not in result.stderr, result.stderr
    assert result.stderr.startswith(after), result.stderr
    error = result.stderr.removeprefix(after)
    assert error.count("\n") == 1, result.stderr
    assert error.startswith(f"error: cannot write {path}"), result.stderr
    assert error.endswith(": Read-only file system\n"), result.stderr


def test_up_on_a_read_only_home_is_one_line(docker_client: docker.DockerClient, tmp_path: Path) -> None:
    home = tmp_path / "ro-home"
    home.mkdir()
    _mount("-t", "tmpfs", "-o", "ro,mode=0700", "tmpfs", str(home))
    try:
        node = Node(home)
        _one_error_line(node.cli("up", timeout=30), home)
        starting = "Starting the minikubelet node in the background (`minikubelet down` stops it)...\n"
        _one_error_line(node.cli("get", "pods", timeout=30), home, after=starting)  # a command that starts the node
        assert node.cli("down", timeout=30).stdout == "minikubelet node is not running\n"
        assert node.cli("status", timeout=30).returncode == 3
        assert daemons(home) == []
    finally:
        _umount(home)


def test_down_on_a_home_made_read_only_is_one_line(fresh_node: Node) -> None:
    node = fresh_node
    node.cli("up", check=True)
    pid = pid_of(node)
    _mount("--bind", str(node.home), str(node.home))
    try:
        _mount("-o", "remount,bind,ro", str(node.home))
        stopping = node.cli("down", timeout=90)
        _one_error_line(stopping, node.home)
        assert pid not in daemons(node.home) and not daemons(node.home), "the daemon still runs"
        assert node.cli("status", timeout=30).returncode == 3
    finally:
        _umount(node.home)
    assert node.cli("status", timeout=30).returncode == 3
    node.cli("up", check=True)  # the files the stopped daemon could not remove do not hold the next one back
    assert len(daemons(node.home)) == 1
