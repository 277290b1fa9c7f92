"""Where the node keeps its state, and how private files get there.

The state directory holds a CA key and a bearer token that give full control of the node, so it is 0700 and
every secret in it is 0600. `write_private` creates files with that mode from the start and renames them into
place, so a reader never sees a world-readable file or a half-written one (a kubeconfig cut in the middle would
break kubectl in confusing ways).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from minikubelet.errors import MinikubeletError

__all__ = ["DEFAULT_HOME", "HOME_ENV", "NodePaths", "cannot_write", "write_private"]

HOME_ENV = "MINIKUBELET_HOME"
DEFAULT_HOME = "~/.minikubelet"


@dataclass(frozen=True)
class NodePaths:
    """The files of one node's state directory (`$MINIKUBELET_HOME`, default `~/.minikubelet`)."""

    home: Path

    @classmethod
    def from_env(cls, home: str | None = None) -> NodePaths:
        """The explicit `home`, else `$MINIKUBELET_HOME`, else `~/.minikubelet`; always absolute.

        Absolute because the daemon is handed this path through its environment and may resolve it from
        another working directory.
        """
        raw = home or os.environ.get(HOME_ENV) or DEFAULT_HOME
        return cls(Path(raw).expanduser().absolute())

    @property
    def state_db(self) -> Path:
        return self.home / "state.db"

    @property
    def daemon_log(self) -> Path:
        return self.home / "daemon.log"

    @property
    def pid_file(self) -> Path:
        return self.home / "daemon.pid"

    @property
    def daemon_lock(self) -> Path:
        """Held (flock) by the node daemon for its whole life, so that one home never has two daemons; it holds
        the daemon's pid. Never removed: a lock file that is unlinked and made again lets two processes hold
        "the" lock at once, each on its own inode."""
        return self.home / "daemon.lock"

    @property
    def kubeconfig(self) -> Path:
        return self.home / "kubeconfig"

    @property
    def ca_cert(self) -> Path:
        return self.home / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.home / "ca.key"

    @property
    def server_cert(self) -> Path:
        return self.home / "server.crt"

    @property
    def server_key(self) -> Path:
        return self.home / "server.key"

    @property
    def token_file(self) -> Path:
        return self.home / "token"

    @property
    def credentials_lock(self) -> Path:
        """Held (flock) by whichever process makes the credentials, so that two never make them at once."""
        return self.home / "credentials.lock"

    @property
    def endpoint_file(self) -> Path:
        """`{"host": "127.0.0.1", "port": N, "pid": P}`, written by the daemon once it listens."""
        return self.home / "endpoint.json"

    @property
    def start_records(self) -> Path:
        """How long each image's containers took to start (kubelet/start_records.py), for `minikubelet lint`."""
        return self.home / "start-records.json"

    def ensure_home(self) -> Path:
        """Create the state directory as 0700, and tighten an existing one to 0700."""
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)
        return self.home


def write_private(path: Path, data: bytes | str) -> None:
    """Atomically replace `path` with `data`, mode 0600 from the first byte on.

    The temporary file is opened with mode 0600 and O_EXCL in the same directory (so `os.replace` is a rename,
    not a copy) and is removed again if anything fails.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    temp = path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temp, flags, 0o600)
    try:
        with open(fd, "wb", closefd=True) as file:
            os.fchmod(file.fileno(), 0o600)  # a umask can only remove bits; this also restores owner write
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


def cannot_write(exc: OSError) -> MinikubeletError:
    """A failed write in the state directory, in one line: `cannot write /home/x/.minikubelet: Read-only file
    system` (a read-only or full file system, or a home that is not ours), which the CLI prints without a
    traceback."""
    where = exc.filename if exc.filename is not None else "the state directory"
    return MinikubeletError(f"cannot write {os.fsdecode(where)}: {exc.strerror or exc}")
