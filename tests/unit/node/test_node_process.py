"""Starting, waiting for and stopping the node daemon, against a fake daemon; and the home's lock.

The fake speaks the daemon's side of the protocol for real: it takes the home's lock (`DaemonLock`), writes the
pid file, the kubeconfig and `endpoint.json` into `$MINIKUBELET_HOME` and serves HTTPS `/readyz` with the node's
certificate and token. Its file name contains "minikubelet", as the real daemon's command line does, so
`read_pid` accepts it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from minikubelet.errors import UnavailableError
from minikubelet.node.paths import NodePaths, write_private
from minikubelet.node.process import (
    LOCKED_OUT_EXIT,
    DaemonLock,
    NodeLockedError,
    daemon_command,
    is_running,
    is_serving,
    read_pid,
    read_pid_file,
    remove_pid,
    spawn_daemon,
    stop_daemon,
    wait_until_ready,
    write_pid,
)
from minikubelet.node.tls import Credentials, ensure_credentials

FAKE_DAEMON = '''
"""A stand-in for `minikubelet up --foreground`. Modes: serve (default), ignore-term, never-ready, exit."""
import json, os, signal, ssl, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from minikubelet.node.kubeconfig import write_kubeconfig
from minikubelet.node.paths import NodePaths, write_private
from minikubelet.node.process import LOCKED_OUT_EXIT, DaemonLock, NodeLockedError
from minikubelet.node.tls import ensure_credentials

mode = sys.argv[1] if len(sys.argv) > 1 else "serve"
if mode == "exit":
    for number in range(30):
        print(f"fake log line {number}", file=sys.stderr)
    sys.exit(3)
if mode == "ignore-term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
else:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # before any thread starts: sigwait gets it

paths = NodePaths.from_env()
try:
    lock = DaemonLock.acquire(paths)
except NodeLockedError:
    sys.exit(LOCKED_OUT_EXIT)
write_private(paths.pid_file, f"{os.getpid()}\\n")
if mode == "never-ready":
    signal.sigwait({signal.SIGTERM})
    sys.exit(0)
creds = ensure_credentials(paths)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.path == "/readyz" and self.headers.get("Authorization") == f"Bearer {creds.token}"
        body = b"ok" if ok else b"Unauthorized"
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(creds.server_cert, creds.server_key)
server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
threading.Thread(target=server.serve_forever, daemon=True).start()
port = server.server_address[1]
write_kubeconfig(paths, server=f"https://127.0.0.1:{port}", ca_pem=creds.ca_pem, token=creds.token)
write_private(paths.endpoint_file, json.dumps({"host": "127.0.0.1", "port": port, "pid": os.getpid()}))
print("fake daemon ready", flush=True)
if mode == "ignore-term":
    threading.Event().wait()
signal.sigwait({signal.SIGTERM})
print("fake daemon stopping", flush=True)
server.shutdown()
server.server_close()
paths.pid_file.unlink(missing_ok=True)
paths.endpoint_file.unlink(missing_ok=True)
lock.release()
'''

Spawn = Callable[..., int]


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> NodePaths:
    monkeypatch.setenv("MINIKUBELET_HOME", str(tmp_path / "state"))
    return NodePaths.from_env()


@pytest.fixture
def creds(paths: NodePaths) -> Credentials:
    """Made before any fake starts, so the fake only reads them (no race over who writes them)."""
    return ensure_credentials(paths)


@pytest.fixture
def spawn(paths: NodePaths, tmp_path: Path) -> Iterator[Spawn]:
    """Start the fake daemon (or `command`); whatever still runs at the end of the test is killed and reaped."""
    script = tmp_path / "fake_minikubelet_daemon.py"
    script.write_text(FAKE_DAEMON)
    pids: list[int] = []

    def start(*argv: str, command: list[str] | None = None) -> int:
        pid = spawn_daemon(paths, list(argv), command=command or [sys.executable, str(script)])
        pids.append(pid)
        return pid

    yield start
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def wait_for_exit(pid: int, timeout: float = 5.0) -> int:
    """Reap our child `pid` and return its exit code, failing the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    pytest.fail(f"process {pid} still runs after {timeout}s")


def wait_for_zombie(pid: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return
        time.sleep(0.01)
    pytest.fail(f"process {pid} did not exit within {timeout}s")


def gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


# --- the pid file -----------------------------------------------------------------------------------------------


def test_write_read_and_remove_pid(paths: NodePaths) -> None:
    with subprocess.Popen(["minikubelet-fake", "30"], executable="/bin/sleep") as proc:
        try:
            write_pid(paths, proc.pid)
            assert stat.S_IMODE(paths.pid_file.stat().st_mode) == 0o600
            assert read_pid_file(paths) == proc.pid
            assert read_pid(paths) is None and not is_running(paths), "a pid file alone is no running node"
        finally:
            proc.kill()
    remove_pid(paths)
    remove_pid(paths)
    assert read_pid_file(paths) is None
    assert not is_running(paths)


def test_missing_or_garbled_pid_file_means_no_daemon(paths: NodePaths) -> None:
    assert read_pid_file(paths) is None
    write_private(paths.ensure_home() / "daemon.pid", "not a pid\n")
    assert read_pid_file(paths) is None
    write_pid(paths, -1)
    assert read_pid_file(paths) is None


def test_pid_of_an_exited_process_is_stale(paths: NodePaths) -> None:
    with subprocess.Popen(["minikubelet-fake"], executable="/bin/true") as proc:
        pass
    write_pid(paths, proc.pid)
    assert read_pid_file(paths) is None
    assert not is_running(paths)


def test_pid_of_someone_elses_process_is_stale(paths: NodePaths) -> None:
    with subprocess.Popen(["/bin/sleep", "30"]) as proc:
        try:
            write_pid(paths, proc.pid)
            assert read_pid_file(paths) is None
        finally:
            proc.kill()


def test_pid_of_an_unreaped_zombie_is_stale(paths: NodePaths, spawn: Spawn) -> None:
    pid = spawn(command=[sys.executable, "-c", "pass", "minikubelet"])
    wait_for_zombie(pid)
    write_pid(paths, pid)
    assert read_pid_file(paths) is None
    assert stop_daemon(paths) is False


# --- the lock ---------------------------------------------------------------------------------------------------

HOLDER = """
import sys, time
from minikubelet.node.paths import NodePaths
from minikubelet.node.process import DaemonLock
lock = DaemonLock.acquire(NodePaths.from_env())
print("locked", flush=True)
time.sleep(60)
"""


@pytest.fixture
def holder(paths: NodePaths) -> Iterator[subprocess.Popen[str]]:
    """A process holding the home's lock as a daemon does (its command line mentions minikubelet)."""
    env = {**os.environ, "MINIKUBELET_HOME": str(paths.home)}
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, "minikubelet"], stdout=subprocess.PIPE, text=True, env=env
    ) as process:
        try:
            assert process.stdout is not None and process.stdout.readline() == "locked\n"
            yield process
        finally:
            process.kill()
            process.wait()


def test_the_lock_names_its_holder_and_is_private(paths: NodePaths, holder: subprocess.Popen[str]) -> None:
    assert read_pid(paths) == holder.pid and is_running(paths)
    assert not is_serving(paths), "it has not said where it listens"
    assert paths.daemon_lock.read_text() == f"{holder.pid}\n"
    assert stat.S_IMODE(paths.daemon_lock.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.home.stat().st_mode) == 0o700


def test_a_second_holder_is_turned_away_at_once(paths: NodePaths, holder: subprocess.Popen[str]) -> None:
    started = time.monotonic()
    with pytest.raises(NodeLockedError, match=rf"already running from {paths.home} \(pid {holder.pid}\)"):
        DaemonLock.acquire(paths)
    assert time.monotonic() - started < 1
    assert read_pid(paths) == holder.pid


def test_the_kernel_lets_go_of_a_killed_holders_lock(paths: NodePaths, holder: subprocess.Popen[str]) -> None:
    holder.kill()
    holder.wait()
    assert read_pid(paths) is None and not is_running(paths)
    lock = DaemonLock.acquire(paths)
    try:
        assert paths.daemon_lock.read_text() == f"{os.getpid()}\n"
    finally:
        lock.release()
    assert paths.daemon_lock.read_text() == "", "the pid goes before the lock"
    assert read_pid(paths) is None


def test_asking_whether_a_node_runs_never_turns_a_starting_daemon_away(paths: NodePaths) -> None:
    """A command asking takes the lock shared for an instant; a daemon starting then waits that instant out."""
    paths.ensure_home()
    paths.daemon_lock.touch(mode=0o600)
    fd = os.open(paths.daemon_lock, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_SH)  # an asker, caught in the act...
    timer = threading.Timer(0.3, os.close, [fd])  # ...lets go a moment later
    timer.start()
    try:
        started = time.monotonic()
        lock = DaemonLock.acquire(paths)
        assert 0.2 < time.monotonic() - started < 2
        lock.release()
    finally:
        timer.join()


def test_only_one_of_many_racing_holders_wins(paths: NodePaths) -> None:
    env = {**os.environ, "MINIKUBELET_HOME": str(paths.home)}
    code = (
        "import sys\nfrom minikubelet.node.paths import NodePaths\nfrom minikubelet.node.process import *\n"
        "try:\n    lock = DaemonLock.acquire(NodePaths.from_env())\nexcept NodeLockedError:\n"
        "    sys.exit(LOCKED_OUT_EXIT)\nprint('won', flush=True)\nsys.stdin.read()\n"
    )
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", code, "minikubelet"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        for _ in range(8)
    ]
    try:
        deadline = time.monotonic() + 20
        while sum(r.poll() is not None for r in racers) < 7:
            assert time.monotonic() < deadline, "the losers did not give up"
            time.sleep(0.01)
        winners = [r for r in racers if r.poll() is None]
        assert len(winners) == 1
        assert {r.returncode for r in racers if r is not winners[0]} == {LOCKED_OUT_EXIT}
        assert read_pid(paths) == winners[0].pid
    finally:
        for racer in racers:
            racer.kill()
            racer.communicate()


# --- spawning ---------------------------------------------------------------------------------------------------


def test_daemon_command_runs_up_in_the_foreground() -> None:
    assert daemon_command() == [sys.executable, "-m", "minikubelet", "up", "--foreground"]


def test_spawned_process_is_detached_with_its_output_in_the_log(
    paths: NodePaths, spawn: Spawn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MINIKUBELET_HOME", str(tmp_path / "elsewhere"))  # the child gets paths.home regardless
    code = "import os, sys; print(os.environ['MINIKUBELET_HOME'], os.getsid(0) == os.getpid(), repr(sys.stdin.read()))"
    pid = spawn("extra", command=[sys.executable, "-c", code + "; print(sys.argv[1:], file=sys.stderr)"])
    assert wait_for_exit(pid) == 0
    assert paths.daemon_log.read_text().splitlines() == [f"{paths.home} True ''", "['extra']"]
    assert stat.S_IMODE(paths.daemon_log.stat().st_mode) == 0o600
    pid = spawn(command=[sys.executable, "-c", "print('appended')"])
    assert wait_for_exit(pid) == 0
    assert paths.daemon_log.read_text().splitlines()[-1] == "appended"


# --- ready, and stopped -----------------------------------------------------------------------------------------


def test_spawn_wait_and_stop(paths: NodePaths, creds: Credentials, spawn: Spawn) -> None:
    pid = spawn()
    connection = wait_until_ready(paths, timeout=10, process_pid=pid)
    port = json.loads(paths.endpoint_file.read_text())["port"]
    assert connection.server == f"https://127.0.0.1:{port}"
    assert (connection.ca_pem, connection.token) == (creds.ca_pem, creds.token)
    assert read_pid(paths) == pid and is_running(paths)
    with httpx.Client(verify=connection.ssl_context(), trust_env=False, timeout=5) as client:
        url = f"{connection.server}/readyz"
        assert client.get(url, headers={"Authorization": f"Bearer {connection.token}"}).status_code == 200
        assert client.get(url).status_code == 401

    assert stop_daemon(paths) is True
    assert gone(pid)
    assert not paths.pid_file.exists() and not paths.endpoint_file.exists()
    assert not is_running(paths)
    assert "fake daemon stopping" in paths.daemon_log.read_text()
    assert stop_daemon(paths) is False


def test_a_daemon_that_ignores_sigterm_is_killed(paths: NodePaths, creds: Credentials, spawn: Spawn) -> None:
    pid = spawn("ignore-term")
    wait_until_ready(paths, timeout=10)  # without a pid: any live daemon's endpoint will do
    started = time.monotonic()
    assert stop_daemon(paths, timeout=0.2) is True
    assert time.monotonic() - started < 5
    assert gone(pid)
    assert not paths.pid_file.exists() and not paths.endpoint_file.exists()


def test_a_daemon_that_exits_at_once_fails_with_its_log_tail(paths: NodePaths, spawn: Spawn) -> None:
    pid = spawn("exit")
    started = time.monotonic()
    with pytest.raises(UnavailableError) as caught:
        wait_until_ready(paths, timeout=10, process_pid=pid)
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert message.startswith("the node daemon exited with status 3 before it was ready")
    assert str(paths.daemon_log) in message
    assert message.splitlines()[1:] == [f"fake log line {number}" for number in range(10, 30)]
    assert gone(pid)


def test_a_daemon_that_never_answers_times_out(paths: NodePaths, creds: Credentials, spawn: Spawn) -> None:
    paths.ensure_home()
    write_private(paths.endpoint_file, json.dumps({"host": "127.0.0.1", "port": 1, "pid": 1}))  # stale
    pid = spawn("never-ready")
    with pytest.raises(UnavailableError) as caught:
        wait_until_ready(paths, timeout=0.3, process_pid=pid)
    assert str(caught.value) == f"the node did not answer within 0.3s; see {paths.daemon_log}"
    deadline = time.monotonic() + 5
    while read_pid(paths) != pid and time.monotonic() < deadline:  # the fake writes it first thing
        time.sleep(0.01)
    assert stop_daemon(paths) is True
    assert gone(pid)
    assert not paths.endpoint_file.exists()


def test_stop_without_a_daemon_cleans_up_stale_files(paths: NodePaths) -> None:
    paths.ensure_home()
    write_private(paths.endpoint_file, "{}")
    write_pid(paths, 2**22 + 1)
    assert stop_daemon(paths) is False
    assert not paths.pid_file.exists() and not paths.endpoint_file.exists()
