"""Starting, finding, waiting for and stopping the background node daemon.

The daemon is `python -m minikubelet up --foreground` in a session of its own, so it outlives the command that
started it and a Ctrl-C in that terminal does not reach it. It is started with `posix_spawn` rather than
`subprocess.Popen` because the parent never waits for it: a dropped Popen object would warn that its child is
still running. Its output goes to `daemon.log`, the only place to look when it dies before it is ready, which is
why `wait_until_ready` quotes the log's tail in that case -- or only the daemon's own one-line `error: ...` when it
refused to start (a state.db that is not ours, a port in use): that line is the whole story, a traceback is not.

The daemon writes the pid file itself (the parent's idea of "its child" is not what a later `down` needs), and
`endpoint.json` once it listens. A pid file alone is not trusted: after a crash and a reboot the pid may belong
to anything, so a pid counts only while `/proc/<pid>/cmdline` still mentions minikubelet.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import sys
import time
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

from minikubelet.errors import MinikubeletError, UnavailableError
from minikubelet.node.kubeconfig import Connection, read_connection
from minikubelet.node.paths import NodePaths, write_private

__all__ = [
    "DEFAULT_POD_INFRA_IMAGE",
    "POD_INFRA_IMAGE_ENV",
    "PORT_ENV",
    "daemon_command",
    "is_running",
    "log_tail",
    "read_pid",
    "remove_pid",
    "spawn_daemon",
    "stop_daemon",
    "wait_until_ready",
    "write_pid",
]

# The daemon's options that an environment variable may set, and the sandbox image's default: one definition for
# the CLI's `up` (typer) and the daemon's own reading of the command line `up` spawns it with.
DEFAULT_POD_INFRA_IMAGE = "registry.k8s.io/pause:3.10"
POD_INFRA_IMAGE_ENV = "MINIKUBELET_POD_INFRA_IMAGE"
PORT_ENV = "MINIKUBELET_PORT"

POLL_INTERVAL = 0.02
LOG_TAIL_LINES = 20
_KILL_GRACE = 5.0  # how long to wait for the kernel after SIGKILL
_MARKER = b"minikubelet"
_REFUSAL = "error: "  # how the CLI prints a MinikubeletError, the daemon's (`up --foreground`) included
_log_starts: dict[int, int] = {}  # pid -> where the daemon's output begins in daemon.log


def daemon_command() -> list[str]:
    """The command line of the node daemon, before any extra arguments."""
    return [sys.executable, "-m", "minikubelet", "up", "--foreground"]


# --- the pid file -----------------------------------------------------------------------------------------------


def read_pid(paths: NodePaths) -> int | None:
    """The daemon's pid, or None if the pid file is missing, garbled or stale (no such process, or not ours)."""
    try:
        pid = int(paths.pid_file.read_text(encoding="ascii").strip())
    except (OSError, UnicodeError, ValueError):
        return None
    return pid if pid > 0 and _is_ours(pid) else None


def write_pid(paths: NodePaths, pid: int) -> None:
    paths.ensure_home()
    write_private(paths.pid_file, f"{pid}\n")


def remove_pid(paths: NodePaths) -> None:
    paths.pid_file.unlink(missing_ok=True)


def is_running(paths: NodePaths) -> bool:
    return read_pid(paths) is not None


def _is_ours(pid: int) -> bool:
    """Whether `pid` is a live process whose command line mentions minikubelet (zombies have an empty one)."""
    try:
        return _MARKER in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        return _alive(pid)  # no /proc here: settle for "some process has this pid"


def _poll(pid: int) -> tuple[bool, int | None]:
    """Whether `pid` still runs, and its exit code if it is our child and was collected just now.

    An exited child of ours is collected here, so it does not linger as a zombie.
    """
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return _running(pid, our_child=False), None
    if done == pid:
        return False, os.waitstatus_to_exitcode(status)
    return _running(pid, our_child=True), None


def _alive(pid: int) -> bool:
    return _poll(pid)[0]


def _running(pid: int, *, our_child: bool) -> bool:
    """Whether `pid` runs by `/proc`: a zombie counts as gone, unless it is our child still to be collected
    (a multi-threaded child stays uncollectable for a moment while its other threads exit)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    except (OSError, UnicodeError, IndexError):
        return _signalable(pid)
    return our_child or state not in ("Z", "X")


def _signalable(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- starting ---------------------------------------------------------------------------------------------------


def spawn_daemon(paths: NodePaths, argv: list[str], *, command: list[str] | None = None) -> int:
    """Start the daemon detached from this terminal and return its pid; it writes its own pid file.

    `command` replaces `daemon_command()` (tests start a fake daemon this way); `argv` is appended to either.
    """
    paths.ensure_home()
    full = [*(command if command is not None else daemon_command()), *argv]
    env = {**os.environ, "MINIKUBELET_HOME": str(paths.home)}
    log_fd = os.open(paths.daemon_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.fchmod(log_fd, 0o600)
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, log_fd, 1),
            (os.POSIX_SPAWN_DUP2, log_fd, 2),
        ]
        log_start = os.lseek(log_fd, 0, os.SEEK_END)
        pid = os.posix_spawnp(full[0], full, env, file_actions=actions, setsid=True)
        _log_starts[pid] = log_start
        return pid
    finally:
        os.close(log_fd)


# --- waiting ----------------------------------------------------------------------------------------------------


def wait_until_ready(paths: NodePaths, *, timeout: float, process_pid: int | None = None) -> Connection:
    """Poll until the daemon answers `GET /readyz` with 200 and return how to reach it.

    With `process_pid`, a daemon that exits first fails at once, quoting the tail of its log.
    """
    deadline = time.monotonic() + timeout
    with _Prober() as prober:
        while True:
            if process_pid is not None:
                _check_exited(paths, process_pid)
            connection = prober.probe(paths, process_pid)
            if connection is not None:
                return connection
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise UnavailableError(f"the node did not answer within {timeout}s; see {paths.daemon_log}")
            time.sleep(min(POLL_INTERVAL, remaining))


def _check_exited(paths: NodePaths, pid: int) -> None:
    running, code = _poll(pid)
    if running:
        return
    refusal = _refusal(paths, pid)
    if refusal:
        raise MinikubeletError(refusal)
    status = f" with status {code}" if code is not None else ""
    raise UnavailableError(
        f"the node daemon exited{status} before it was ready; the last lines of {paths.daemon_log}:\n"
        + log_tail(paths.daemon_log)
    )


def _refusal(paths: NodePaths, pid: int) -> str:
    """Why the daemon refused to start, when it said so itself: its last words are one `error: ...` line (a
    damaged state.db, a port in use), which is then all `up` reports. A crash leaves a traceback instead."""
    try:
        with paths.daemon_log.open("rb") as file:
            end = file.seek(0, os.SEEK_END)
            file.seek(max(_log_starts.pop(pid, 0), end - 4096))
            lines = file.read().decode("utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    last = lines[-1] if lines else ""
    return last.removeprefix(_REFUSAL) if last.startswith(_REFUSAL) else ""


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last `lines` lines of a log file ("" if there is none); reads at most the last 64 KiB."""
    try:
        with path.open("rb") as file:
            file.seek(max(0, file.seek(0, os.SEEK_END) - 65536))
            text = file.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(deque(text.splitlines(), maxlen=lines))


class _Prober:
    """Asks `/readyz`, reusing one kept-alive connection for as long as the daemon's endpoint and the kubeconfig's
    CA and token stay the same (stdlib `http.client`: the CLI does not import httpx, see `minikubelet.client`)."""

    def __init__(self) -> None:
        self._http: http.client.HTTPSConnection | None = None
        self._key: tuple[tuple[str, int], Connection] | None = None

    def __enter__(self) -> _Prober:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._close()

    def probe(self, paths: NodePaths, process_pid: int | None) -> Connection | None:
        """The connection if the daemon is ready, else None (not listening yet, files not written yet, ...)."""
        endpoint = _read_endpoint(paths, process_pid)
        if endpoint is None:
            return None
        try:
            connection = read_connection(paths)
        except UnavailableError:
            return None
        if urlsplit(connection.server).port != endpoint[1]:
            return None  # a kubeconfig left from an earlier run, about to be rewritten
        if self._http is None or self._key != (endpoint, connection):
            self._close()
            self._http = http.client.HTTPSConnection(*endpoint, timeout=1.0, context=connection.ssl_context())
            self._key = (endpoint, connection)
        try:
            self._http.request("GET", "/readyz", headers={"Authorization": f"Bearer {connection.token}"})
            response = self._http.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            self._close()
            return None
        if response.will_close:
            self._close()
        return connection if response.status == 200 else None

    def _close(self) -> None:
        if self._http is not None:
            self._http.close()
        self._http = None


def _read_endpoint(paths: NodePaths, process_pid: int | None) -> tuple[str, int] | None:
    """(host, port) of `endpoint.json`, if it is there and was written by the daemon we wait for."""
    try:
        data = json.loads(paths.endpoint_file.read_text(encoding="utf-8"))
        host, port, pid = str(data.get("host", "127.0.0.1")), int(data["port"]), int(data["pid"])
    except (OSError, UnicodeError, ValueError, KeyError, TypeError, AttributeError):
        return None
    expected = pid == process_pid if process_pid is not None else _alive(pid)
    return (host, port) if expected else None


# --- stopping ---------------------------------------------------------------------------------------------------


def stop_daemon(paths: NodePaths, *, timeout: float = 10.0) -> bool:
    """SIGTERM the daemon, SIGKILL it after `timeout` seconds; False if none was running.

    The pid and endpoint files are removed either way, so stale ones do not outlive this call.
    """
    pid = read_pid(paths)
    try:
        if pid is None:
            return False
        if not _signal_and_wait(pid, signal.SIGTERM, timeout):
            _signal_and_wait(pid, signal.SIGKILL, _KILL_GRACE)
        return True
    finally:
        remove_pid(paths)
        paths.endpoint_file.unlink(missing_ok=True)


def _signal_and_wait(pid: int, signum: signal.Signals, timeout: float) -> bool:
    """Send `signum` and poll until `pid` is gone; False if it still runs after `timeout` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)
    deadline = time.monotonic() + timeout
    while _alive(pid):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(POLL_INTERVAL, remaining))
    return True
