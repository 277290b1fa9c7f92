"""Volume subPaths, resolved without leaving the volume, as the kubelet does on Linux (the fix of CVE-2017-1002101).

A subPath names a path inside a volume that the pod itself can write. A container can plant a symlink there
(`ln -s / /v/escape`, or a link in a middle component of `a/b`); joined onto the volume's host directory and
handed to the engine as a string, the engine would follow it on the host and give the next container the host's
root. This module mirrors:

- `makeMounts` (pkg/kubelet/kubelet_pods.go): an absolute subPath (`error SubPath `%s` must not be an absolute
  path`) or one with `..` (`unable to provision SubPath `%s`: must not contain '..'`) is refused (validation
  refuses both first); a subPath that does not exist is created with `SafeMakeDir`, with the volume's mode; any
  failure of the safe open is reported as `failed to prepare subPath for volumeMount "v" of container "app"`
  (or `failed to create subPath directory ...`), without host details, which go to the log only;
- `SafeMakeDir`, `doSafeMakeDir` and `findExistingPrefix` (pkg/volume/util/subpath/subpath_linux.go): the
  missing directories are made one by one with mkdirat() under a descriptor opened without following links,
  each opened again with O_NOFOLLOW, then fchmod()ed. Upstream passes mkdirat() the absolute path (so the
  kernel follows links in it); here it gets the component's name, relative to the parent's descriptor;
- `doBindSubPath`, `safeOpenSubPath` and `doSafeOpen`: EvalSymlinks (os.path.realpath, strict) of the volume
  path and of the joined path, `PathWithinBase` of the result, then a walk of each component with
  openat(O_PATH|O_NOFOLLOW) from the volume's descriptor, refusing a symlink met on the way: a link swapped in
  after the check is refused too, and the descriptor at the end holds what was checked, whatever the path
  later names;
- `PathWithinBase` (k8s.io/mount-utils).

What the engine binds. Upstream bind-mounts `/proc/<kubelet pid>/fd/<fd>` itself, in the host's mount namespace,
and gives the runtime that mount. Here Docker does the mounts, and passing it `/proc/<pid>/fd/<n>` as a bind
source does not work (measured on Docker 20.10 with runc 1.1): runc makes the bind inside the container's new
mount namespace, where the descriptor's mount belongs to another namespace, and the kernel answers EINVAL. So:

- a directory is given to Docker as an anonymous volume of the `local` driver with `type=none,o=bind,
  device=/proc/<pid>/fd/<n>` (`Mount.pinned`, runtime/docker.py). dockerd makes that bind in the host's
  namespace, when the container starts, through the descriptor: the container gets the directory that was
  checked even if the path was swapped for a link since (tests/integration/test_volume_security.py measures it);
- anything else (a file, a socket, ...) cannot be bound onto the volume's directory that way. It gets a hard
  link in a directory of the kubelet's own (`pods/<uid>/volume-subpaths/<volume>/<container>/<index>`, as
  upstream's bind target), made from the descriptor, and that path is bound: no pod can change a component of
  it. When no hard link can be made (the file is on another filesystem than the node's home, or the daemon does
  not own it and `fs.protected_hardlinks` is set) its resolved path is bound as a string: between the check and
  runc's bind, well under a second, another container of the pod that writes to the volume could swap the file
  for a link. That window is the one residue (docs/differences.md).

The descriptors are held until the container has started (runc binds at start, not at create) and closed
then, and on every failure path (`HeldSubPaths.close`).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
from pathlib import Path
from types import TracebackType

__all__ = ["HeldSubPaths", "SubPathError", "path_within_base", "safe_make_dir", "safe_open"]

log = logging.getLogger(__name__)

# doSafeOpen's flags: the base is opened O_RDONLY|O_NOFOLLOW (here also O_DIRECTORY, so that a FIFO put in its
# place cannot block the kubelet), each component O_PATH|O_NOFOLLOW (a symlink is then opened as itself, and
# refused by its type).
_BASE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC
_COMPONENT_FLAGS = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC


class SubPathError(Exception):
    """A subPath that cannot be used: `message` is for the container's status and the `Failed` event (no host
    details, as upstream's), `detail` for the daemon's log."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or message


def path_within_base(full_path: str, base_path: str) -> bool:
    """mount-utils' PathWithinBase: `full_path` is `base_path` or under it, by the strings (no link is read)."""
    rel = os.path.relpath(full_path, base_path)
    return rel != ".." and not rel.startswith("../")


def safe_open(pathname: str, base: str) -> int:
    """doSafeOpen: a descriptor (O_PATH) of `pathname`, reached from `base` one component at a time without
    following any link. Both must already be free of links (realpath'd); raises OSError otherwise."""
    pathname, base = os.path.normpath(pathname), os.path.normpath(base)
    segments = os.path.relpath(pathname, base).split(os.sep)
    parent = os.open(base, _BASE_FLAGS)
    try:
        current = base
        for segment in segments:
            current = os.path.join(current, segment)
            if not path_within_base(current, base):
                raise OSError(errno.EXDEV, f"path {current} is outside of allowed base {base}")
            child = os.open(segment, _COMPONENT_FLAGS, dir_fd=parent)
            os.close(parent)
            parent = child
            if stat.S_ISLNK(os.fstat(child).st_mode):
                raise OSError(errno.ELOOP, f"unexpected symlink found {current}")
        found, parent = parent, -1
        return found
    finally:
        if parent >= 0:
            os.close(parent)


def safe_make_dir(sub_path: str, base: str, perm: int) -> None:
    """SafeMakeDir: create `base/sub_path` and its missing parents inside `base`, never through a link."""
    real_base = os.path.realpath(base, strict=True)
    _do_safe_make_dir(os.path.join(real_base, sub_path), real_base, perm)


def _do_safe_make_dir(pathname: str, base: str, perm: int) -> None:
    if not path_within_base(pathname, base):
        raise OSError(errno.EXDEV, f"path {pathname} is outside of allowed base {base}")
    try:
        found = os.stat(pathname)
    except FileNotFoundError:
        pass
    else:
        if stat.S_ISDIR(found.st_mode):
            return  # it exists (maybe outside the base: the safe open that follows refuses that)
        raise NotADirectoryError(errno.ENOTDIR, "mkdir", pathname)
    existing, to_create = _find_existing_prefix(base, pathname)
    full_existing = os.path.realpath(existing, strict=True)
    if not path_within_base(full_existing, base):
        raise OSError(errno.EXDEV, f"path {full_existing} is outside of allowed base {base}")
    parent = safe_open(full_existing, base)
    try:
        current = full_existing
        for name in to_create:
            current = os.path.join(current, name)
            os.mkdir(name, perm, dir_fd=parent)
            # Opened again without following links: it may have been replaced since mkdirat (by a link: refused;
            # by a file: the next mkdirat fails, or the file is what gets mounted, which the pod could read anyway).
            child = os.open(name, _BASE_FLAGS, dir_fd=parent)
            os.close(parent)
            parent = child
            os.fchmod(parent, perm)  # mkdirat's mode went through the umask
    finally:
        os.close(parent)


def _find_existing_prefix(base: str, pathname: str) -> tuple[str, list[str]]:
    """findExistingPrefix: the longest existing prefix of `pathname` under `base` (opened, links followed, as
    upstream) and the directories after it that do not exist yet."""
    dirs = os.path.relpath(pathname, base).split(os.sep)
    current = base
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for i, name in enumerate(dirs):
            try:
                child = os.open(name, os.O_PATH | os.O_CLOEXEC, dir_fd=fd)  # O_PATH: a FIFO cannot block it
            except FileNotFoundError:
                return current, dirs[i:]
            os.close(fd)
            fd = child
            current = os.path.join(current, name)
        return pathname, []
    finally:
        os.close(fd)


def _go_error(exc: BaseException) -> str:
    """An OSError as Go words one (`mkdir /x: read-only file system`), for the log."""
    if isinstance(exc, OSError) and exc.errno and exc.strerror:
        text = exc.strerror[:1].lower() + exc.strerror[1:]
        return f"{exc.filename}: {text}" if exc.filename else text
    return str(exc)


class HeldSubPaths:
    """The subPaths of one container start: resolved, created when missing, and held open until the container
    has started. Use as a context manager (or call `close`), on the success path and on every failure path."""

    def __init__(self, pod_dir: Path) -> None:
        self.pod_dir = pod_dir  # the kubelet's own directory of the pod (`pods/<uid>`)
        self._fds: list[int] = []

    def __enter__(self) -> HeldSubPaths:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        fds, self._fds = self._fds, []
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)

    @property
    def held(self) -> int:
        """How many descriptors are open (tests)."""
        return len(self._fds)

    def source(self, volume_path: Path, sub_path: str, *, volume: str, container: str, index: int) -> tuple[str, bool]:
        """makeMounts for one volumeMount with a subPath: (the bind source, whether it is pinned, i.e. a
        `/proc/<pid>/fd/<n>` of a directory the engine must bind through the descriptor). Raises SubPathError."""
        if sub_path.startswith("/"):
            raise SubPathError(f"error SubPath `{sub_path}` must not be an absolute path")
        if ".." in sub_path.split("/"):
            raise SubPathError(f"unable to provision SubPath `{sub_path}`: must not contain '..'")
        volume_dir = str(volume_path)
        host_path = os.path.join(volume_dir, sub_path)
        where = f'volumeMount "{volume}" of container "{container}"'
        if not self._exists(host_path):
            # Created now (and not by the engine, through whatever link is there), with the volume's mode.
            try:
                perm = stat.S_IMODE(os.stat(volume_dir).st_mode)
            except OSError as exc:
                raise SubPathError(f"stat {_go_error(exc)}") from exc  # GetMode's error, as upstream returns it
            try:
                safe_make_dir(sub_path, volume_dir, perm)
            except (OSError, ValueError) as exc:
                raise SubPathError(f"failed to create subPath directory for {where}", _go_error(exc)) from exc
        try:
            fd = self._open(host_path, volume_dir)
        except (OSError, ValueError) as exc:
            raise SubPathError(f"failed to prepare subPath for {where}", _go_error(exc)) from exc
        self._fds.append(fd)
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            return f"/proc/{os.getpid()}/fd/{fd}", True
        return self._stage(fd, volume, container, index), False

    @staticmethod
    def _exists(path: str) -> bool:
        """mount-utils' PathExists as makeMounts uses it: an error other than "not found" counts as existing
        (the safe open then reports it)."""
        try:
            os.stat(path)
        except FileNotFoundError:
            return False
        except (OSError, ValueError):
            return True
        return True

    @staticmethod
    def _open(host_path: str, volume_dir: str) -> int:
        """doBindSubPath up to the descriptor: links resolved once, the result within the volume, then the safe walk."""
        volume_real = os.path.realpath(volume_dir, strict=True)
        path_real = os.path.realpath(host_path, strict=True)
        if not path_within_base(path_real, volume_real):
            raise OSError(errno.EXDEV, f"subpath {path_real!r} not within volume path {volume_real!r}")
        return safe_open(path_real, volume_real)

    def _stage(self, fd: int, volume: str, container: str, index: int) -> str:
        """A path for a held non-directory that no pod can change: a hard link made from the descriptor in the
        kubelet's `volume-subpaths/<volume>/<container>/<index>` (upstream's bind target); else the string."""
        target = self.pod_dir / "volume-subpaths" / volume / container / str(index)
        try:
            target.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            proc = os.open("/proc/self/fd", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                # linkat(/proc/self/fd, "<fd>", AT_SYMLINK_FOLLOW): links the descriptor's inode, not a path.
                os.link(str(fd), target, src_dir_fd=proc, follow_symlinks=True)
            finally:
                os.close(proc)
            return str(target)
        except OSError as exc:
            resolved = os.readlink(f"/proc/self/fd/{fd}")
            log.info("subPath file %s cannot be linked into %s (%s): bound by its path", resolved, target, _go_error(exc))
            return resolved
