"""Starting, finding, waiting for and stopping the background node daemon.

The daemon is `python -m minikubelet up --foreground` in a session of its own, so it outlives the command that
started it and a Ctrl-C in that terminal does not reach it. It is started with `posix_spawn` rather than
`subprocess.Popen` because the parent never waits for it: a dropped Popen object would warn that its child is
still running. Its output goes to `daemon.log`, the only place to look when it dies before it is ready, which is
why `wait_until_ready` quotes the log's tail in that case -- or only the daemon's own one-line `error: ...` when it
refused to start (a state.db that is not ours, a port in use): that line is the whole story, a traceback is not.

One home has one daemon, always. The daemon takes an exclusive flock on `daemon.lock` (0600, never removed) before
it touches anything else and holds it for its whole life; the kernel lets go of it when the process ends, however
it ends. A daemon that cannot take it exits at once and quietly (exit code `LOCKED_OUT_EXIT`), leaving state.db and
the pid file alone, and the command that started it waits for the daemon that holds the lock instead: so eight
`up`s at once, or eight commands that start the node on their own, all get the one node. The lock file holds the
holder's pid, written once it has the lock and cleared before it lets go.

Whether a node runs is the lock's word, not a pid file's: a node runs while someone holds the lock, and its pid is
the one written in the lock file, counted only while `/proc/<pid>/cmdline` still mentions minikubelet. Asking
takes the lock shared for an instant (`LOCK_NB`); a daemon starting at that very instant finds it taken by a
process that is no daemon and tries again for a moment (`LOCK_PATIENCE`), so asking never turns a start away.

The daemon also writes `daemon.pid` (kept for scripts and for an older daemon's sake), and `endpoint.json` once
it listens. `stop_daemon` waits until the daemon's process is gone, SIGKILLs it after a bounded wait, and
removes what a killed daemon left behind while it holds the lock itself, so that no daemon starting meanwhile
loses its fresh files.
"""

from __future__ import annotations

import contextlib
import fcntl
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
    "LOCKED_OUT_EXIT",
    "POD_INFRA_IMAGE_ENV",
    "PORT_ENV",
    "STOP_TIMEOUT",
    "DaemonLock",
    "NodeLockedError",
    "daemon_command",
    "is_running",
    "is_serving",
    "log_tail",
    "read_pid",
    "read_pid_file",
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
# How long `down` lets the daemon stop after SIGTERM before it SIGKILLs it: more than the daemon's own bound on
# finishing the removals it owes (kubelet.SHUTDOWN_SECONDS), so that a working daemon is never cut short.
STOP_TIMEOUT = 45.0
LOCKED_OUT_EXIT = 75  # a daemon that found another one holding the home's lock (EX_TEMPFAIL): not an error
LOCK_PATIENCE = 2.0  # how long a starting daemon retries a lock held by something that is no daemon
_PID_WAIT = 1.0  # how long to wait for the lock's holder to write its pid (it does so right after locking)
_KILL_GRACE = 5.0  # how long to wait for the kernel after SIGKILL
_MARKER = b"minikubelet"
_REFUSAL = "error: "  # how the CLI prints a MinikubeletError, the daemon's (`up --foreground`) included
_log_starts: dict[int, int] = {}  # pid -> where the daemon's output begins in daemon.log


def daemon_command() -> list[str]:
    """The command line of the node daemon, before any extra arguments."""
    return [sys.executable, "-m", "minikubelet", "up", "--foreground"]


# --- the lock -------------------------------------------------------------------------------------------------


class NodeLockedError(MinikubeletError):
    """Another daemon holds the home's lock: this one must not start (the daemon then exits quietly)."""


class DaemonLock:
    """The home's `daemon.lock`, held by this process (the node daemon) until `release()` or its end."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, paths: NodePaths, *, patience: float = LOCK_PATIENCE) -> DaemonLock:
        """Take the lock and write our pid into it; NodeLockedError when another daemon holds it.

        A lock held by a process that is no daemon (a command asking whether a node runs, or `down` cleaning up)
        is let go of within moments: that is waited for, up to `patience` seconds. OSError when the lock file
        cannot be made or opened (a read-only home)."""
        paths.ensure_home()
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(paths.daemon_lock, flags, 0o600)
        try:
            os.fchmod(fd, 0o600)
            deadline = time.monotonic() + patience
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    holder = _pid_in(fd)
                    daemon = holder is not None and holder != os.getpid() and _is_ours(holder)
                    if daemon or time.monotonic() >= deadline:
                        where = f" (pid {holder})" if daemon else ""
                        raise NodeLockedError(f"a minikubelet node is already running from {paths.home}{where}") from None
                    time.sleep(POLL_INTERVAL)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        except BaseException:
            os.close(fd)
            raise
        return cls(fd)

    def release(self) -> None:
        """Clear our pid from the lock file and let go of it (the files this daemon wrote are gone by then)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)


def _pid_in(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii").strip()
        return int(text) if text else None
    except (OSError, UnicodeError, ValueError):
        return None


def _holder(paths: NodePaths) -> tuple[bool, int | None]:
    """Whether some process holds the home's lock, and the pid written in it then. Asking takes the lock shared
    for an instant when nobody holds it."""
    fd = _open_lock(paths)
    if fd is None:
        return False, None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True, _pid_in(fd)
    except OSError:
        return False, None
    finally:
        os.close(fd)  # releases the shared lock, if it was taken
    return False, None


def _open_lock(paths: NodePaths) -> int | None:
    """The lock file opened for reading (enough for flock, and it works in a read-only home); None if missing."""
    try:
        return os.open(paths.daemon_lock, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None


# --- the running daemon -----------------------------------------------------------------------------------------


def read_pid(paths: NodePaths) -> int | None:
    """The running daemon's pid: the one written in the lock file by whoever holds the lock; None if nobody does
    (or if the holder is no daemon of ours, which `stop_daemon` must then not signal)."""
    deadline = time.monotonic() + _PID_WAIT
    while True:
        held, pid = _holder(paths)
        if not held:
            return None
        if pid is not None and pid > 0 and _is_ours(pid):
            return pid
        if time.monotonic() >= deadline:  # held by no daemon of ours, or one that never wrote its pid
            return None
        time.sleep(POLL_INTERVAL)  # a daemon that has just taken it writes its pid next


def is_running(paths: NodePaths) -> bool:
    """Whether a node daemon runs for this home (it may still be starting)."""
    return read_pid(paths) is not None


def is_serving(paths: NodePaths) -> bool:
    """Whether the running daemon has said where it listens (endpoint.json names it): it answers, or is about to
    (its socket listens, the kernel queues connections until the API server takes them)."""
    pid = read_pid(paths)
    return pid is not None and _endpoint_pid(paths) == pid


# --- the pid file -----------------------------------------------------------------------------------------------


def read_pid_file(paths: NodePaths) -> int | None:
    """The pid in `daemon.pid`, or None if the file is missing, garbled or stale (no such process, or not ours).

    Only the daemon asks (a daemon of an older minikubelet, which took no lock, may still run from this home);
    everything else asks `read_pid`, the lock's word."""
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
    if code == LOCKED_OUT_EXIT:
        _log_starts.pop(pid, None)
        raise NodeLockedError(f"another minikubelet node daemon holds {paths.daemon_lock}")
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
    endpoint = _endpoint(paths)
    if endpoint is None:
        return None
    host, port, pid = endpoint
    expected = pid == process_pid if process_pid is not None else _alive(pid)
    return (host, port) if expected else None


def _endpoint(paths: NodePaths) -> tuple[str, int, int] | None:
    try:
        data = json.loads(paths.endpoint_file.read_text(encoding="utf-8"))
        return str(data.get("host", "127.0.0.1")), int(data["port"]), int(data["pid"])
    except (OSError, UnicodeError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _endpoint_pid(paths: NodePaths) -> int | None:
    endpoint = _endpoint(paths)
    return endpoint[2] if endpoint is not None else None


# --- stopping ---------------------------------------------------------------------------------------------------


def stop_daemon(paths: NodePaths, *, timeout: float = STOP_TIMEOUT) -> bool:
    """SIGTERM the daemon and wait until its process is gone, SIGKILL it after `timeout` seconds; False if none
    was running.

    The daemon removes its pid and endpoint files itself; whatever a killed one left is removed here, with the lock
    held for that moment (OSError if they cannot be removed, in a read-only home)."""
    pid = read_pid(paths)
    if pid is not None and not _signal_and_wait(pid, signal.SIGTERM, timeout):
        _signal_and_wait(pid, signal.SIGKILL, _KILL_GRACE)
    _remove_leftovers(paths)
    return pid is not None


def _remove_leftovers(paths: NodePaths) -> None:
    """Remove the pid and endpoint files of a daemon that is gone, unless a daemon holds the lock: a new one may
    have started meanwhile, and those would be its own."""
    fd = _open_lock(paths)
    try:
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return
        for leftover in (paths.pid_file, paths.endpoint_file):
            if os.path.lexists(leftover):  # unlinking even a missing file fails in a read-only home
                leftover.unlink(missing_ok=True)
    finally:
        if fd is not None:
            os.close(fd)


def _signal_and_wait(pid: int, signum: signal.Signals, timeout: float) -> bool:
    """Send `signum` and poll until `pid` is gone (and with it its hold on the lock: the kernel lets go of an flock
    when the process's last descriptor closes, before it is a zombie); False if it still runs after `timeout`."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)
    deadline = time.monotonic() + timeout
    while _alive(pid):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(POLL_INTERVAL, remaining))
    return True
