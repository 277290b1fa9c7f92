"""The node's state on disk: state.db survives a SIGKILL mid-write, `down` + `up` keeps everything, and a
state.db that is not ours (garbage, another program's SQLite file, a damaged one) stops `up` with one clear
line instead of a traceback, leaving the file as it was."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import docker
import pytest
from nodes import Node, eventually, pod_yaml, running_node

from minikubelet.client import ApiClient
from minikubelet.errors import MinikubeletError
from minikubelet.node.kubeconfig import read_connection
from minikubelet.node.paths import NodePaths
from minikubelet.store import Store

EVENTS = "/api/v1/namespaces/default/events"
WRITERS = 4
COUNTER = "counter"


@pytest.fixture(scope="module")
def node(docker_client: docker.DockerClient, local_images: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from running_node(tmp_path_factory.mktemp("state-home"))


def client(node: Node) -> ApiClient:
    return ApiClient(read_connection(NodePaths.from_env(str(node.home))), timeout=10)


def event(name: str, message: str = "") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "writer", "namespace": "default"},
        "reason": "Written",
        "message": message,
        "type": "Normal",
    }


def kill_daemon(node: Node) -> None:
    pid = int((node.home / "daemon.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    assert eventually(lambda: not _alive(pid), timeout=10)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


# --- SIGKILL mid-write --------------------------------------------------------------------------------------


class Writers:
    """Threads writing as fast as the API answers: creates (one new event per write) and updates (one
    event's message counting up). Only what the API acknowledged counts; the writers stop at the first
    error (the daemon is gone)."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.created: list[set[str]] = [set() for _ in range(WRITERS)]
        self.counted = 0  # the last value the counter's update was acknowledged with
        self.resource_versions: list[int] = []
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._create, args=(n,)) for n in range(WRITERS)]
        self.threads.append(threading.Thread(target=self._count))

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for thread in self.threads:
            thread.join(timeout=30)

    def acknowledged(self) -> int:
        return sum(len(names) for names in self.created) + self.counted

    def _create(self, writer: int) -> None:
        with client(self.node) as api:
            for n in range(100_000):
                name = f"w{writer}-{n}"
                try:
                    created = api.request("POST", EVENTS, body=event(name))
                except MinikubeletError as exc:
                    self.errors.append(str(exc))
                    return
                self.created[writer].add(name)
                self.resource_versions.append(int(created["metadata"]["resourceVersion"]))

    def _count(self) -> None:
        with client(self.node) as api:
            for n in range(1, 100_000):
                try:
                    api.request(
                        "PATCH", f"{EVENTS}/{COUNTER}", body={"message": str(n)}, content_type="application/merge-patch+json"
                    )
                except MinikubeletError as exc:
                    self.errors.append(str(exc))
                    return
                self.counted = n


@pytest.mark.docker
def test_every_acknowledged_write_survives_a_sigkill_mid_write(node: Node) -> None:
    with client(node) as api:
        api.request("POST", EVENTS, body=event(COUNTER, "0"))
    with Writers(node) as writers:
        assert eventually(lambda: writers.acknowledged() >= 300, timeout=30)
        kill_daemon(node)  # the writers are mid-request: some writes were sent and never answered
    assert len(writers.errors) == WRITERS + 1, "every writer stopped on the dead daemon"

    node.cli("up", check=True)  # the store opens (and passes its integrity check) after the crash

    with client(node) as api:
        stored = {e["metadata"]["name"]: e for e in api.get(EVENTS)["items"]}
        for names in writers.created:
            missing = names - stored.keys()
            assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {sorted(missing)[:3]}"
        counted = int(stored[COUNTER]["message"])
        assert writers.counted <= counted <= writers.counted + 1, "the last acknowledged update is there (or the next one)"
        fresh = api.request("POST", EVENTS, body=event("after-restart"))
    assert int(fresh["metadata"]["resourceVersion"]) > max(writers.resource_versions), "resourceVersions only go up"


# --- down and up --------------------------------------------------------------------------------------------


@pytest.mark.docker
def test_down_then_up_keeps_pods_events_and_containers(node: Node, docker_client: docker.DockerClient) -> None:
    manifest = pod_yaml("keeper", "exec sleep 3600", grace=1)
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    assert eventually(lambda: node.pod("keeper")["status"].get("phase") == "Running", timeout=30)
    before = node.pod("keeper")
    container = before["status"]["containerStatuses"][0]
    selector = quote("involvedObject.name=keeper")
    events_before = {e["metadata"]["name"]: e for e in node.api(f"{EVENTS}?fieldSelector={selector}")["items"]}
    assert {e["reason"] for e in events_before.values()} >= {"Scheduled", "Created", "Started"}

    assert node.cli("down", check=True).stdout == "minikubelet node stopped\n"
    assert node.cli("status").returncode == 3
    running = docker_client.containers.get(container["containerID"].removeprefix("docker://"))
    assert running.status == "running", "`down` leaves the pods running"
    node.cli("up", check=True)

    after = node.pod("keeper")
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["metadata"]["creationTimestamp"] == before["metadata"]["creationTimestamp"]
    assert after["status"]["containerStatuses"][0]["containerID"] == container["containerID"]
    assert after["status"]["containerStatuses"][0]["state"] == container["state"]
    assert after["status"]["containerStatuses"][0]["restartCount"] == 0
    events_after = {e["metadata"]["name"]: e for e in node.api(f"{EVENTS}?fieldSelector={selector}")["items"]}
    for name, old in events_before.items():
        new = events_after[name]
        assert (new["reason"], new["message"], new.get("count")) == (old["reason"], old["message"], old.get("count"))
    assert events_after.keys() == events_before.keys(), "nothing was created or started again"
    node.cli("delete", "pod", "keeper", "--grace-period=1", check=True)


# --- a state.db that is not ours ----------------------------------------------------------------------------


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(64 * 1024))


def _foreign(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customers (name) VALUES ('ada')")
    conn.close()


def _damaged(path: Path) -> None:
    """Our own file with pages overwritten: the header is fine, the tables are not."""
    with Store(path) as store:
        for n in range(300):
            store.create(event(f"e{n}", "x" * 300))
    data = bytearray(path.read_bytes())
    data[3 * 4096 : 8 * 4096] = os.urandom(5 * 4096)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_garbage, "not a minikubelet state database: file is not a database"),
        (_foreign, "not a minikubelet state database: it holds another application's data"),
        (_damaged, "the state database is damaged: "),
    ],
    ids=["garbage", "foreign", "damaged"],
)
def test_up_refuses_a_state_db_that_is_not_ours_in_one_line(tmp_path: Path, make: Any, reason: str) -> None:
    node = Node(tmp_path / "home")
    node.home.mkdir()
    state = node.home / "state.db"
    make(state)
    content = state.read_bytes()

    result = node.cli("up", timeout=60)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: cannot start the node: {state}: {reason}"), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert state.read_bytes() == content, "the file is left exactly as it was"
    assert node.cli("status").returncode == 3 and not (node.home / "daemon.pid").exists()
    again = node.cli("get", "pods")  # a command that starts the node says the same
    assert again.returncode == 1 and again.stderr.splitlines()[-1] == result.stderr.strip()
