"""Volume subPaths on the real engine: no way out of the volume (the shape of CVE-2017-1002101).

A pod's init container plants a symlink in the pod's emptyDir (`ln -s / /v/escape`) and the app container mounts
that volume with `subPath: escape`. Joined onto the volume's host directory and handed to Docker as a string,
the engine would follow the link on the host and give the container the host's root, read-write, on a node
that allows nothing privileged. The kubelet resolves subPaths as upstream's does (kubelet/subpath.py): each
escape shape below leaves the app waiting with `CreateContainerConfigError` and upstream's message, records the
`Failed` event, and the container never runs, so it never sees the marker file this test put on the host
outside the volume. A link that stays inside the volume still works, as upstream allows, and a missing subPath
is created inside the volume.

Also: a home whose pods/ directory cannot be written leaves a pod with an emptyDir Pending, with a
`FailedMount` event (aggregated, retried with a back-off) and one warning line per attempt in daemon.log.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docker
import pytest
from nodes import BUSYBOX, POD_INFRA_IMAGE, Node, eventually, running_node

from minikubelet.kubelet.subpath import HeldSubPaths
from minikubelet.runtime.docker import DockerRuntime
from minikubelet.runtime.interface import LABEL_CONTAINER, LABEL_INSTANCE, LABEL_POD, ContainerSpec, Mount, PodRef, SandboxSpec

pytestmark = pytest.mark.docker

MARKER = "host-marker-7f3a"
PREPARE_FAILED = 'failed to prepare subPath for volumeMount "v" of container "app"'
CREATE_FAILED = 'failed to create subPath directory for volumeMount "v" of container "app"'


@pytest.fixture(scope="module")
def allowed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("volsec-allowed")


@pytest.fixture(scope="module")
def secret_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A host directory outside every volume, holding the marker no container may see."""
    directory = tmp_path_factory.mktemp("volsec-host-secret")
    (directory / MARKER).write_text("the host's\n")
    return directory


@pytest.fixture(scope="module")
def node(docker_client: Any, local_images: Any, tmp_path_factory: pytest.TempPathFactory, allowed_dir: Path) -> Iterator[Node]:
    home = tmp_path_factory.mktemp("volsec-home")
    (home / MARKER).write_text("the home's\n")  # where `../../../..` from pods/<uid>/volumes/v/escape leads
    yield from running_node(home, f"--allow-host-path={allowed_dir}")


def subpath_pod(name: str, setup: str, sub_path: str, *, look: str, volume: str = "{name: v, emptyDir: {}}") -> str:
    """An init container running `setup` with the volume at /v, then `app` mounting `sub_path` of it at /data.
    Were the app to run, its log would say whether /data/<look> (the host's marker) is visible."""
    app = f"if [ -e /data/{look} ]; then echo ESCAPED; else echo contained; fi; sleep 3600"
    return f"""apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
    - name: setup
      image: {BUSYBOX}
      command: ["sh", "-c", {json.dumps(setup)}]
      volumeMounts: [{{name: v, mountPath: /v}}]
  containers:
    - name: app
      image: {BUSYBOX}
      command: ["sh", "-c", {json.dumps(app)}]
      volumeMounts: [{{name: v, mountPath: /data, subPath: {json.dumps(sub_path)}}}]
  volumes:
    - {volume}
"""


def app_status(node: Node, name: str) -> dict[str, Any]:
    statuses = node.pod(name).get("status", {}).get("containerStatuses", [])
    return next((s for s in statuses if s["name"] == "app"), {})


def events_of(node: Node, name: str) -> list[dict[str, Any]]:
    result = node.cli("get", "events", "--field-selector", f"involvedObject.name={name}", "-o", "json", check=True)
    items: list[dict[str, Any]] = json.loads(result.stdout)["items"]
    return items


def app_containers(node: Node, name: str) -> list[str]:
    """Every Docker container (any state) of this node's pod `name` that is its `app`."""
    out = subprocess.run(
        [
            "docker",
            "ps",
            "-aq",
            "--filter",
            f"label={LABEL_INSTANCE}={node.instance}",
            "--filter",
            f"label={LABEL_POD}={name}",
            "--filter",
            f"label={LABEL_CONTAINER}=app",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()


def assert_refused(node: Node, name: str, message: str = PREPARE_FAILED) -> None:
    """The app waits in CreateContainerConfigError with upstream's message, the Failed event is there, and no
    app container was ever made (so nothing saw the host's marker)."""

    def waiting() -> bool:
        return app_status(node, name).get("state", {}).get("waiting", {}).get("reason") == "CreateContainerConfigError"

    assert eventually(waiting, timeout=60), app_status(node, name)
    status = app_status(node, name)
    assert status["state"]["waiting"] == {"reason": "CreateContainerConfigError", "message": message}
    assert "containerID" not in status and status["restartCount"] == 0
    assert node.pod(name)["status"]["phase"] == "Pending"
    failed = [e for e in events_of(node, name) if e["reason"] == "Failed"]
    assert failed, events_of(node, name)
    assert failed[0]["type"] == "Warning"
    assert failed[0]["message"] == f"Error: {message}"
    assert failed[0]["involvedObject"]["fieldPath"] == "spec.containers{app}"
    assert app_containers(node, name) == []
    assert "ESCAPED" not in node.cli("logs", name, "-c", "app").stdout
    describe = node.cli("describe", "pod", name, check=True).stdout
    assert "CreateContainerConfigError" in describe


@pytest.mark.parametrize(
    ("name", "setup", "sub_path", "look"),
    [
        pytest.param("absolute", "ln -s / /v/escape", "escape", "{secret}/" + MARKER, id="absolute-link"),
        pytest.param("relative", "ln -s ../../../.. /v/escape", "escape", MARKER, id="relative-link-out-of-the-volume"),
        pytest.param(
            "to-root",
            "ln -s ../../../../../../../../../../../../.. /v/escape",
            "escape",
            "{secret}/" + MARKER,
            id="relative-link-to-root",
        ),
        pytest.param("middle", "mkdir -p /v/real && ln -s / /v/a", "a{secret}", MARKER, id="link-in-a-middle-component"),
        pytest.param("file", "ln -s {secret}/" + MARKER + " /v/file", "file", "", id="link-to-a-host-file"),
        pytest.param(
            "last", "mkdir -p /v/a/b && ln -s / /v/a/b/c", "a/b/c", "{secret}/" + MARKER, id="link-as-the-last-of-three"
        ),
    ],
)
def test_a_subpath_link_leaving_an_empty_dir_is_refused(
    node: Node, secret_dir: Path, name: str, setup: str, sub_path: str, look: str
) -> None:
    setup, sub_path = setup.format(secret=secret_dir), sub_path.format(secret=secret_dir)
    look = look.format(secret=str(secret_dir).lstrip("/")).lstrip("/")
    node.cli("apply", "-f", "-", stdin=subpath_pod(name, setup, sub_path, look=look), check=True)
    try:
        assert_refused(node, name)
    finally:
        node.cli("delete", "pod", name, "--grace-period=1")


def test_a_dangling_link_is_not_followed_to_create_a_host_directory(node: Node, tmp_path: Path) -> None:
    """SafeMakeDir: a missing subPath is created inside the volume, never through a link; Docker would have
    made the link's target on the host."""
    target = tmp_path / "made-by-the-pod"
    name = "dangling"
    node.cli("apply", "-f", "-", stdin=subpath_pod(name, f"ln -s {target} /v/escape", "escape", look=MARKER), check=True)
    try:
        assert_refused(node, name, CREATE_FAILED)
        assert not target.exists()
    finally:
        node.cli("delete", "pod", name, "--grace-period=1")


def test_a_subpath_link_leaving_a_host_path_volume_is_refused(node: Node, allowed_dir: Path, secret_dir: Path) -> None:
    data = allowed_dir / "data"
    data.mkdir(exist_ok=True)
    name = "hostpath-escape"
    manifest = subpath_pod(
        name,
        "ln -sfn / /v/escape",
        "escape",
        look=f"{str(secret_dir).lstrip('/')}/{MARKER}",
        volume=f"{{name: v, hostPath: {{path: {data}}}}}",
    )
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    try:
        assert_refused(node, name)
    finally:
        node.cli("delete", "pod", name, "--grace-period=1")


@pytest.mark.parametrize(
    ("sub_path", "refusal"),
    [("../x", "must not contain '..'"), ("a/../../x", "must not contain '..'"), ("/etc", "must be a relative path")],
)
def test_a_subpath_with_backsteps_or_absolute_is_refused_by_validation(node: Node, sub_path: str, refusal: str) -> None:
    result = node.cli("apply", "-f", "-", stdin=subpath_pod("backsteps", "true", sub_path, look=MARKER))
    assert result.returncode == 1
    assert f'spec.containers[0].volumeMounts.subPath: Invalid value: "{sub_path}": {refusal}' in result.stderr
    assert "backsteps" not in node.cli("get", "pods", "-o", "name").stdout


def test_a_link_that_stays_inside_the_volume_works(node: Node) -> None:
    """As upstream: links are resolved, and only a result outside the volume is refused."""
    setup = (
        "mkdir -p /v/real/inner /v/x/y && echo inside > /v/real/inner/file"
        " && ln -s real/inner /v/link && ln -s ../../real /v/x/y/up"
    )
    script = "cat /data/file /up/inner/file; echo written > /data/new; ls /made; touch /ro/x 2>/dev/null && echo writable"
    script += "; echo ready; sleep 3600"
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: inside}}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
    - name: setup
      image: {BUSYBOX}
      command: ["sh", "-c", {json.dumps(setup)}]
      volumeMounts: [{{name: v, mountPath: /v}}]
  containers:
    - name: app
      image: {BUSYBOX}
      command: ["sh", "-c", {json.dumps(script)}]
      volumeMounts:
        - {{name: v, mountPath: /data, subPath: link}}
        - {{name: v, mountPath: /up, subPath: x/y/up}}
        - {{name: v, mountPath: /made, subPath: fresh/dir}}
        - {{name: v, mountPath: /ro, subPath: real, readOnly: true}}
  volumes:
    - {{name: v, emptyDir: {{}}}}
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    try:
        assert eventually(lambda: "ready" in node.cli("logs", "inside", "-c", "app").stdout, timeout=60)
        assert node.cli("logs", "inside", "-c", "app").stdout.split() == ["inside", "inside", "ready"]
        uid = node.pod("inside")["metadata"]["uid"]
        volume = node.home / "pods" / uid / "volumes" / "v"
        assert (volume / "real" / "inner" / "new").read_text() == "written\n"  # the link's target, in the volume
        assert (volume / "fresh" / "dir").is_dir() and not (volume / "fresh" / "dir").is_symlink()
        assert app_status(node, "inside")["state"].get("running")
    finally:
        node.cli("delete", "pod", "inside", "--grace-period=1")


# ----------------------------------------------------------------------------- the engine binds the held fd


async def test_the_engine_binds_the_checked_directory_even_when_the_path_is_swapped(
    docker_client: docker.DockerClient, local_images: Any, tmp_path: Path
) -> None:
    """The runtime half of the fix: a pinned mount (a held `/proc/<pid>/fd/<n>`) becomes a `local` volume that
    dockerd binds through the descriptor at start. Between create and start the checked directory is renamed and
    a link to the host directory put in its place: the container still gets the checked directory. The image's
    files at the target are not copied in (no_copy), and removing the container removes the volume."""
    runtime = DockerRuntime(f"mk-test-{uuid.uuid4().hex[:8]}")
    volume = tmp_path / "v"
    (volume / "data").mkdir(parents=True)
    (volume / "data" / "inside").write_text("volume\n")
    (volume / "var").mkdir()
    (tmp_path / MARKER).write_text("the host's\n")
    pod = PodRef(str(uuid.uuid4()), "swap", "default")
    try:
        box = await runtime.run_sandbox(SandboxSpec(pod=pod, image=POD_INFRA_IMAGE, hostname="swap"))
        with HeldSubPaths(tmp_path / "pod") as subpaths:
            data, data_pinned = subpaths.source(volume, "data", volume="v", container="app", index=0)
            var, var_pinned = subpaths.source(volume, "var", volume="v", container="app", index=1)
            assert data_pinned and var_pinned
            spec = ContainerSpec(
                pod=pod,
                name="app",
                kind="app",
                attempt=0,
                image=BUSYBOX,
                sandbox_id=box.id,
                cmd=["sh", "-c", "ls /data; echo written > /data/new; touch /var/x 2>/dev/null && echo writable"],
                mounts=[Mount(data, "/data", pinned=True), Mount(var, "/var", read_only=True, pinned=True)],
            )
            cid = await runtime.create_container(spec)
            (volume / "data").rename(volume / "moved")
            (volume / "data").symlink_to(tmp_path)  # the path now leads to the host's marker
            await runtime.start_container(cid)
        assert subpaths.held == 0

        def exited() -> bool:
            return bool(docker_client.api.inspect_container(cid)["State"]["Status"] == "exited")

        assert eventually(exited, timeout=30)
        assert docker_client.api.logs(cid).decode().split() == ["inside"]
        assert (volume / "moved" / "new").read_text() == "written\n"
        assert not (tmp_path / "new").exists()
        assert sorted(os.listdir(volume / "var")) == []  # not the image's /var
        mounts = docker_client.api.inspect_container(cid)["Mounts"]
        assert {(m["Type"], m["Destination"], m["Driver"]) for m in mounts} == {
            ("volume", "/data", "local"),
            ("volume", "/var", "local"),
        }
        labelled = {"label": f"{LABEL_INSTANCE}={runtime.instance}"}
        assert len(docker_client.volumes.list(filters=labelled)) == 2
        await runtime.remove_container(cid)
        assert docker_client.volumes.list(filters=labelled) == []
    finally:
        await runtime.close()
        for container in docker_client.containers.list(all=True, filters={"label": f"{LABEL_INSTANCE}={runtime.instance}"}):
            container.remove(force=True, v=True)


# ------------------------------------------------------------------------------------------ read-only home


def _mount_read_only_tmpfs(directory: Path) -> bool:
    """A read-only tmpfs over `directory` (root ignores permission bits, not a read-only mount)."""
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(directory)], capture_output=True, check=False
    )
    return result.returncode == 0


def test_a_read_only_pods_directory_reports_failed_mount(docker_client: Any, local_images: Any, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a read-only tmpfs over the node's pods directory")
    home = tmp_path / "home"
    with contextlib.contextmanager(running_node)(home) as node:
        pods = home / "pods"
        pods.mkdir(exist_ok=True)
        if not _mount_read_only_tmpfs(pods):
            pytest.skip("cannot mount a tmpfs here")
        try:
            manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: ro}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: app
      image: {BUSYBOX}
      command: ["sleep", "3600"]
      volumeMounts: [{{name: v, mountPath: /v}}]
  volumes:
    - {{name: v, emptyDir: {{}}}}
"""
            node.cli("apply", "-f", "-", stdin=manifest, check=True)

            def failed_mount() -> list[dict[str, Any]]:
                return [e for e in events_of(node, "ro") if e["reason"] == "FailedMount"]

            assert eventually(lambda: bool(failed_mount()), timeout=30)
            uid = node.pod("ro")["metadata"]["uid"]
            event = failed_mount()[0]
            assert event["type"] == "Warning"
            assert event["message"] == (f'MountVolume.SetUp failed for volume "v" : mkdir {pods / uid}: read-only file system')
            assert "fieldPath" not in event["involvedObject"]
            # Retried with a back-off (0.5 s doubling), aggregated into one event: five attempts take at least
            # 0.5 + 1 + 2 + 4 s (timestamps have whole seconds), where a retry every second would take 4 s.
            assert eventually(lambda: failed_mount()[0]["count"] >= 5, timeout=60)
            event = failed_mount()[0]
            spread = _seconds(event["lastTimestamp"]) - _seconds(event["firstTimestamp"])
            assert spread >= 6, (event["count"], spread)
            pod = node.pod("ro")
            assert pod["status"]["phase"] == "Pending"
            assert pod["status"]["containerStatuses"][0]["state"] == {"waiting": {"reason": "ContainerCreating"}}
            log = (home / "daemon.log").read_text()
            assert "Traceback" not in log
            lines = [line for line in log.splitlines() if "MountVolume.SetUp failed" in line]
            count = failed_mount()[0]["count"]
            assert lines and all("WARNING" in line for line in lines)
            assert count - 1 <= len(lines) <= count + 1, (len(lines), count)
            assert len(failed_mount()) == 1
        finally:
            subprocess.run(["umount", str(pods)], capture_output=True, check=False)
        # The home is writable again: the next attempt sets the volume up and the pod runs.
        assert eventually(lambda: app_status(node, "ro").get("state", {}).get("running") is not None, timeout=180)
        node.cli("delete", "pod", "ro", "--grace-period=1")


def _seconds(timestamp: str) -> float:
    return datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
