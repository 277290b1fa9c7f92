"""kubelet/subpath.py on a temporary directory: every way out of a volume is refused, what stays inside works,
a link swapped in after the check changes nothing, and the descriptors are closed.

And the kubelet around it (the in-memory runtime): a refused subPath leaves the container waiting in
CreateContainerConfigError with upstream's message and a `Failed` event, holds nothing open, and is tried again
at the next sync; a pods directory that cannot be written gives `FailedMount`, retried with a back-off."""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from minikubelet.apiserver.registry import RESOURCES, Registry
from minikubelet.kubelet.kubelet import Kubelet
from minikubelet.kubelet.subpath import HeldSubPaths, SubPathError, path_within_base, safe_make_dir, safe_open
from minikubelet.recorder import EventRecorder
from minikubelet.runtime.fake import FakeRuntime
from minikubelet.runtime.interface import ContainerID, ContainerSpec, PodRef
from minikubelet.store import Store

NODE = "node-1"
PAUSE = "minikubelet.local/pause:3.10"
BUSYBOX = "minikubelet.local/busybox:1.35"
PREPARE = 'failed to prepare subPath for volumeMount "v" of container "app"'
CREATE = 'failed to create subPath directory for volumeMount "v" of container "app"'


@pytest.fixture
def volume(tmp_path: Path) -> Path:
    """pods/<uid>/volumes/v, mode 0777 as an emptyDir, beside a host file that must stay out of reach."""
    directory = tmp_path / "pods" / "uid" / "volumes" / "v"
    directory.mkdir(parents=True)
    directory.chmod(0o777)
    (tmp_path / "host-secret").write_text("the host's\n")
    return directory


@pytest.fixture
def held(tmp_path: Path) -> Iterator[HeldSubPaths]:
    with HeldSubPaths(tmp_path / "pods" / "uid") as subpaths:
        yield subpaths


def source(held: HeldSubPaths, volume: Path, sub_path: str, index: int = 0) -> tuple[str, bool]:
    return held.source(volume, sub_path, volume="v", container="app", index=index)


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def same_file(path: str, other: Path) -> bool:
    a, b = os.stat(path), os.stat(other)
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


# --------------------------------------------------------------------------------------------- escapes


@pytest.mark.parametrize(
    "plant",
    [
        pytest.param(lambda v: (v / "escape").symlink_to("/"), id="absolute-link"),
        pytest.param(lambda v: (v / "escape").symlink_to("../../../.."), id="relative-link-out-of-the-volume"),
        pytest.param(lambda v: (v / "escape").symlink_to("../" * 30), id="relative-link-to-root"),
        pytest.param(lambda v: (v / "escape").symlink_to(v.parent), id="link-to-the-volumes-parent"),
        pytest.param(lambda v: (v / "escape").symlink_to(v.parents[3] / "host-secret"), id="link-to-a-host-file"),
        pytest.param(lambda v: ((v / "a").mkdir(), (v / "a" / "escape").symlink_to("/")), id="link-in-a-subdirectory"),
    ],
)
def test_a_link_out_of_the_volume_is_refused(volume: Path, held: HeldSubPaths, plant: Any) -> None:
    plant(volume)
    sub_path = "a/escape" if (volume / "a").is_dir() else "escape"
    with pytest.raises(SubPathError) as refused:
        source(held, volume, sub_path)
    assert refused.value.message == PREPARE
    assert "not within volume path" in refused.value.detail
    assert held.held == 0


def test_a_link_in_a_middle_component_is_refused(volume: Path, tmp_path: Path, held: HeldSubPaths) -> None:
    (tmp_path / "outside" / "b").mkdir(parents=True)
    (volume / "a").symlink_to(tmp_path / "outside")
    with pytest.raises(SubPathError, match=r"^failed to prepare subPath") as refused:
        source(held, volume, "a/b")
    assert str(tmp_path / "outside" / "b") in refused.value.detail  # the host path is for the log only
    assert str(tmp_path) not in refused.value.message


def test_a_dangling_link_is_not_followed_to_create_its_target(volume: Path, tmp_path: Path, held: HeldSubPaths) -> None:
    (volume / "escape").symlink_to(tmp_path / "made-by-the-pod")
    with pytest.raises(SubPathError) as refused:
        source(held, volume, "escape/deeper")
    assert refused.value.message == CREATE
    assert not (tmp_path / "made-by-the-pod").exists()


@pytest.mark.parametrize(
    ("sub_path", "message"),
    [
        ("/etc", "error SubPath `/etc` must not be an absolute path"),
        ("../x", "unable to provision SubPath `../x`: must not contain '..'"),
        ("a/../../x", "unable to provision SubPath `a/../../x`: must not contain '..'"),
    ],
)
def test_absolute_and_backstep_subpaths_are_refused_as_make_mounts_does(
    volume: Path, held: HeldSubPaths, sub_path: str, message: str
) -> None:
    with pytest.raises(SubPathError) as refused:
        source(held, volume, sub_path)
    assert refused.value.message == message


def test_a_link_loop_is_refused(volume: Path, held: HeldSubPaths) -> None:
    (volume / "loop").symlink_to("loop")
    with pytest.raises(SubPathError, match=r"^failed to"):
        source(held, volume, "loop")


def test_a_nul_byte_is_refused_not_raised(volume: Path, held: HeldSubPaths) -> None:
    with pytest.raises(SubPathError):
        source(held, volume, "a\0b")


# ------------------------------------------------------------------------------------------ what works


def test_a_directory_is_held_and_pinned(volume: Path, held: HeldSubPaths) -> None:
    (volume / "data").mkdir()
    path, pinned = source(held, volume, "data")
    assert pinned and path == f"/proc/{os.getpid()}/fd/{path.rsplit('/', 1)[1]}"
    assert same_file(path, volume / "data") and held.held == 1


def test_a_link_that_stays_inside_the_volume_is_resolved(volume: Path, held: HeldSubPaths) -> None:
    (volume / "real" / "inner").mkdir(parents=True)
    (volume / "link").symlink_to("real/inner")
    (volume / "x" / "y").mkdir(parents=True)
    (volume / "x" / "y" / "up").symlink_to("../../real")  # `..` inside a link is fine while it stays inside
    (volume / "abs").symlink_to(volume / "real")  # so is an absolute link to the volume itself
    assert same_file(source(held, volume, "link")[0], volume / "real" / "inner")
    assert same_file(source(held, volume, "x/y/up")[0], volume / "real")
    assert same_file(source(held, volume, "abs/inner")[0], volume / "real" / "inner")
    assert same_file(source(held, volume, ".")[0], volume)


def test_a_missing_subpath_is_created_inside_with_the_volumes_mode(volume: Path, held: HeldSubPaths) -> None:
    old = os.umask(0o077)
    try:
        path, pinned = source(held, volume, "new/deeper/dir")
    finally:
        os.umask(old)
    assert pinned and same_file(path, volume / "new" / "deeper" / "dir")
    for directory in (volume / "new", volume / "new" / "deeper", volume / "new" / "deeper" / "dir"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o777 and not directory.is_symlink()


def test_a_file_gets_a_hard_link_the_pod_cannot_touch(volume: Path, tmp_path: Path, held: HeldSubPaths) -> None:
    (volume / "conf").write_text("setting\n")
    path, pinned = source(held, volume, "conf", index=3)
    assert not pinned
    assert path == str(tmp_path / "pods" / "uid" / "volume-subpaths" / "v" / "app" / "3")
    assert same_file(path, volume / "conf")
    # Swapped for a link to a host file after the check: the staged name still holds the file that was checked.
    (volume / "conf").unlink()
    (volume / "conf").symlink_to(tmp_path / "host-secret")
    assert Path(path).read_text() == "setting\n"
    # A later start of the same container replaces the staged link.
    (volume / "conf2").write_text("other\n")
    again, _ = source(held, volume, "conf2", index=3)
    assert again == path and Path(path).read_text() == "other\n"


def test_a_file_in_a_host_path_volume_on_its_own_filesystem_is_bound_by_path(tmp_path: Path) -> None:
    """No hard link across filesystems (/dev/shm is a tmpfs): the resolved string is the fallback."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs /dev/shm on a filesystem of its own")
    volume = Path(os.path.realpath(shm)) / f"mk-subpath-{os.getpid()}"
    volume.mkdir()
    try:
        (volume / "conf").write_text("x")
        with HeldSubPaths(tmp_path / "pods" / "uid") as subpaths:
            path, pinned = subpaths.source(volume, "conf", volume="v", container="app", index=0)
        assert (path, pinned) == (str(volume / "conf"), False)
    finally:
        (volume / "conf").unlink()
        volume.rmdir()


# ------------------------------------------------------------------------------------------- the races


def test_a_link_swapped_in_after_the_check_leaves_the_held_directory(volume: Path, tmp_path: Path, held: HeldSubPaths) -> None:
    """Between resolution and use (the engine's bind at start) the directory is renamed and a link to / put in
    its place: the descriptor still names the original directory, not what the path now leads to."""
    (volume / "data").mkdir()
    (volume / "data" / "inside").write_text("volume\n")
    path, pinned = source(held, volume, "data")
    (volume / "data").rename(volume / "moved")
    (volume / "data").symlink_to("/")
    assert pinned
    assert sorted(os.listdir(path)) == ["inside"]
    assert same_file(path, volume / "moved")
    assert os.readlink(path) == str(volume / "moved")


def test_a_link_swapped_in_before_the_walk_is_refused(volume: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check (realpath) passes, then a component becomes a link before the walk opens it: the openat with
    O_NOFOLLOW finds a symlink and refuses it."""
    (volume / "a" / "b").mkdir(parents=True)
    real_realpath = os.path.realpath
    swapped = []

    def realpath_then_swap(path: Any, *, strict: bool = False) -> str:
        result = real_realpath(path, strict=strict)
        if str(path).endswith("a/b") and not swapped:
            swapped.append(True)
            (volume / "a").rename(volume / "a-moved")
            (volume / "a").symlink_to("/")
        return result

    monkeypatch.setattr(os.path, "realpath", realpath_then_swap)
    with HeldSubPaths(volume.parent) as subpaths, pytest.raises(SubPathError) as refused:
        subpaths.source(volume, "a/b", volume="v", container="app", index=0)
    assert swapped and refused.value.message == PREPARE
    assert "unexpected symlink" in refused.value.detail


def test_safe_open_refuses_any_link_on_the_way(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    fd = safe_open(str(tmp_path / "real"), str(tmp_path))
    os.close(fd)
    with pytest.raises(OSError) as refused:
        safe_open(str(tmp_path / "link"), str(tmp_path))
    assert refused.value.errno == errno.ELOOP
    with pytest.raises(OSError):
        safe_open("/etc", str(tmp_path))


def test_safe_make_dir_does_not_follow_a_link_to_outside(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (tmp_path / "outside").mkdir()
    (base / "a").symlink_to(tmp_path / "outside")
    with pytest.raises(OSError):
        safe_make_dir("a/b", str(base), 0o755)
    assert not (tmp_path / "outside" / "b").exists()
    safe_make_dir("c/d", str(base), 0o750)
    assert stat.S_IMODE((base / "c" / "d").stat().st_mode) == 0o750


def test_path_within_base() -> None:
    assert path_within_base("/a/b", "/a") and path_within_base("/a", "/a") and path_within_base("/a/..b", "/a")
    assert not path_within_base("/a/../b", "/a") and not path_within_base("/ab", "/a") and not path_within_base("/", "/a")


# ------------------------------------------------------------------------------------------ descriptors


def test_every_descriptor_is_closed_on_close_and_on_failure(volume: Path, tmp_path: Path) -> None:
    (volume / "one").mkdir()
    (volume / "two").write_text("x")
    (volume / "escape").symlink_to("/")
    before = open_fds()
    with HeldSubPaths(tmp_path / "pods" / "uid") as subpaths:
        source(subpaths, volume, "one")
        source(subpaths, volume, "two", index=1)
        with pytest.raises(SubPathError):
            source(subpaths, volume, "escape", index=2)
        assert subpaths.held == 2
    assert subpaths.held == 0
    assert open_fds() == before


# ------------------------------------------------------------------------------- the kubelet around it


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Node:
    """A kubelet on the in-memory runtime with a real store, its state directory in tmp_path."""

    def __init__(self, tmp_path: Path) -> None:
        self.state_dir = tmp_path
        self.clock = Clock()
        self.store = Store(tmp_path / "state.db")
        self.registry = Registry(self.store, clock=self.clock)
        self.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
        self.runtime = FakeRuntime(present_images=[PAUSE, BUSYBOX], clock=self.clock)
        self.kubelet = Kubelet(
            self.store,
            self.runtime,
            node_name=NODE,
            pod_infra_image=PAUSE,
            state_dir=tmp_path,
            recorder=EventRecorder(self.store, component="kubelet", host=NODE, clock=self.clock),
            host_ip="10.0.0.1",
            clock=self.clock,
            monotonic=self.clock.monotonic,
        )

    def create(self, name: str, sub_path: str) -> PodRef:
        container = {
            "name": "app",
            "image": BUSYBOX,
            "volumeMounts": [{"name": "v", "mountPath": "/data", "subPath": sub_path}],
        }
        spec = {"containers": [container], "volumes": [{"name": "v", "emptyDir": {}}]}
        pod, _ = self.registry.create(RESOURCES["pods"], "default", {"metadata": {"name": name}, "spec": spec})
        self.registry.bind("default", name, {"target": {"name": NODE}})
        return PodRef(pod["metadata"]["uid"], name, "default")

    def volume(self, ref: PodRef) -> Path:
        return self.state_dir / "pods" / ref.uid / "volumes" / "v"

    def app(self, name: str) -> dict[str, Any]:
        status: dict[str, Any] = self.store.get("Pod", "default", name)["status"]["containerStatuses"][0]
        return status

    def events(self, name: str, reason: str) -> list[dict[str, Any]]:
        events, _ = self.store.list("Event", "default", field_selector=f"involvedObject.name={name}")
        return [e for e in events if e["reason"] == reason]


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    n = Node(tmp_path)
    yield n
    n.store.close()


async def test_a_refused_subpath_is_a_create_container_config_error_retried_at_the_next_sync(
    node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    ref = node.create("esc", "escape")
    node.volume(ref).mkdir(parents=True)  # as an init container would have left it
    (node.volume(ref) / "escape").symlink_to("/")
    before = open_fds()
    with caplog.at_level(logging.WARNING, logger="minikubelet.kubelet.kubelet"):
        assert await node.kubelet.sync(ref)
    assert node.runtime.calls_of("create") == []
    assert node.app("esc")["state"] == {"waiting": {"reason": "CreateContainerConfigError", "message": PREPARE}}
    assert node.store.get("Pod", "default", "esc")["status"]["phase"] == "Pending"
    [failed] = node.events("esc", "Failed")
    assert (failed["type"], failed["message"]) == ("Warning", f"Error: {PREPARE}")
    assert failed["involvedObject"]["fieldPath"] == "spec.containers{app}"
    assert open_fds() == before
    [line] = [r for r in caplog.records if "subPath" in r.getMessage()]
    assert line.levelname == "WARNING" and "not within volume path" in line.getMessage()  # the details: log only
    # The next sync tries again (the resync: not every second), and the event counts it.
    node.clock.advance(10)
    await node.kubelet.sync(ref)
    assert node.events("esc", "Failed")[0]["count"] == 2
    assert node.runtime.calls_of("create") == []
    # Fixed (the link replaced by a directory): the container starts.
    (node.volume(ref) / "escape").unlink()
    (node.volume(ref) / "escape").mkdir()
    node.clock.advance(10)
    await node.kubelet.sync(ref)
    assert "running" in node.app("esc")["state"]
    assert open_fds() == before


async def test_a_directory_subpath_is_held_open_until_the_container_has_started(node: Node) -> None:
    ref = node.create("held", "data")
    seen: list[tuple[str, bool, str]] = []
    start = node.runtime.start_container

    async def start_and_look(container_id: ContainerID) -> None:
        spec = node.runtime.containers[container_id].spec
        assert isinstance(spec, ContainerSpec)
        [mount] = spec.mounts
        seen.append((mount.source, mount.pinned, os.readlink(mount.source)))
        await start(container_id)

    node.runtime.start_container = start_and_look  # type: ignore[method-assign]
    before = open_fds()
    await node.kubelet.sync(ref)
    [(source_path, pinned, target)] = seen
    assert pinned and source_path.startswith(f"/proc/{os.getpid()}/fd/")
    assert target == str(node.volume(ref) / "data")  # created (SafeMakeDir), and held while the engine starts it
    assert open_fds() == before, "closed once started"
    assert "running" in node.app("held")["state"]


async def test_the_descriptors_are_closed_when_the_engine_fails(node: Node) -> None:
    ref = node.create("broken", "data")
    node.runtime.fail_start(BUSYBOX, "OCI runtime create failed")
    before = open_fds()
    await node.kubelet.sync(ref)
    assert node.app("broken")["state"]["waiting"]["reason"] in ("RunContainerError", "CrashLoopBackOff")
    assert open_fds() == before


async def test_an_unwritable_pods_directory_is_failed_mount_retried_with_a_back_off(
    node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    ref = node.create("ro", "data")
    (node.state_dir / "pods").write_text("")  # not a directory: every mkdir under it fails, even as root
    with caplog.at_level(logging.WARNING, logger="minikubelet.kubelet.kubelet"):
        await node.kubelet.sync(ref)
        [event] = node.events("ro", "FailedMount")
        assert event["type"] == "Warning" and "fieldPath" not in event["involvedObject"]
        assert event["message"].startswith('MountVolume.SetUp failed for volume "v" : mkdir ')
        assert event["message"].endswith(": not a directory")
        assert node.runtime.calls_of("run_sandbox") == []
        pod = node.store.get("Pod", "default", "ro")
        assert pod["status"]["phase"] == "Pending"
        assert node.app("ro")["state"] == {"waiting": {"reason": "ContainerCreating"}}
        # 0.5 s, then doubling: syncs in between do not try again.
        counts = []
        for _ in range(8):
            node.clock.advance(0.5)
            await node.kubelet.sync(ref)
            counts.append(node.events("ro", "FailedMount")[0]["count"])
        assert counts == [2, 2, 3, 3, 3, 3, 4, 4]  # attempts at 0, 0.5, 1.5 and 3.5 s
        assert len(node.events("ro", "FailedMount")) == 1, "one event, its count grows"
    lines = [r for r in caplog.records if "MountVolume.SetUp failed" in r.getMessage()]
    assert len(lines) == 4 and all(r.levelname == "WARNING" and r.exc_info is None for r in lines)
    # Writable again: the next attempt after the back-off sets the volume up and the pod runs.
    (node.state_dir / "pods").unlink()
    node.clock.advance(4)
    await node.kubelet.sync(ref)
    assert node.runtime.calls_of("run_sandbox") and "running" in node.app("ro")["state"]
    assert node.volume(ref).is_dir()
