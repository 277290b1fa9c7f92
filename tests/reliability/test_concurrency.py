"""Many clients at once against one real node: no 500s, no lost writes, nothing left behind.

Twenty threads (each with the CLI's own ApiClient) apply, patch, update and delete fifty pods at once;
every write is acknowledged or refused with a 409 (a stale resourceVersion), which the writer retries. The
final state is the last acknowledged write of every writer. Then several `minikubelet apply` processes race
to create the same pods: each one succeeds (apply retries a lost race). Once every pod is deleted, Docker
holds none of the node's containers.
"""

from __future__ import annotations

import contextlib
import json
import random
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from nodes import CLI, Node, eventually, running_node

from minikubelet.api.loading import load_text
from minikubelet.cli.apply import LAST_APPLIED, apply_object
from minikubelet.client import ApiClient
from minikubelet.errors import ConflictError, NotFoundError, StatusError
from minikubelet.node.kubeconfig import read_connection
from minikubelet.node.paths import NodePaths
from minikubelet.runtime.interface import LABEL_POD

pytestmark = pytest.mark.docker

BUSYBOX = "minikubelet.local/busybox:1.35"
PODS = "/api/v1/namespaces/default/pods"
CLIENTS = 20
POD_COUNT = 50
ROUNDS = 5
PATCHES_PER_ROUND = 4
MERGE_PATCH = "application/merge-patch+json"


@pytest.fixture(scope="module")
def node(docker_client: docker.DockerClient, local_images: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from running_node(tmp_path_factory.mktemp("concurrency-home"))


def manifest(name: str, suite: str, **labels: str) -> str:
    extra = "".join(f", {key}: '{value}'" for key, value in labels.items())
    return f"""apiVersion: v1
kind: Pod
metadata: {{name: {name}, labels: {{suite: {suite}{extra}}}}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: {BUSYBOX}
      command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
"""


def assert_no_server_errors(node: Node) -> None:
    """The daemon logged no unhandled exception (a 500) while serving."""
    log = (node.home / "daemon.log").read_text()
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log[-3000:]


def our_containers(client: docker.DockerClient, node: Node, prefix: str = "") -> list[Any]:
    """The node's containers (of the pods whose name starts with `prefix`)."""
    found = client.containers.list(all=True, filters={"label": f"io.minikubelet.instance={node.instance}"})
    return [c for c in found if c.labels.get(LABEL_POD, "").startswith(prefix)]


class Clients:
    """The writers' shared bookkeeping: what each acknowledged last, and whatever went wrong."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.names = [f"c-{n:02d}" for n in range(POD_COUNT)]
        self.lock = threading.Lock()
        self.barrier = threading.Barrier(CLIENTS, timeout=120)
        # Every client's first create waits here, after its GET said NotFound: all twenty POST the same pod,
        # so nineteen certainly lose the creation race (AlreadyExists) and apply's retry is exercised.
        self.creation_race = threading.Barrier(CLIENTS, timeout=120)
        self.generation: dict[str, int] = {}  # pod -> the last `gen` its owner applied
        self.patched: dict[tuple[str, int], int] = {}  # (pod, client) -> the last label value patched
        self.updated: dict[tuple[str, int], int] = {}  # (pod, client) -> the last annotation value PUT
        self.first_verbs: list[str] = []  # what every client's apply of the first pod said
        self.refusals: dict[str, int] = {}  # reason -> how many times: Conflict (PUT), AlreadyExists (apply's creates)
        self.errors: list[str] = []

    def owned(self, client: int) -> list[str]:
        return [name for n, name in enumerate(self.names) if n % CLIENTS == client]

    def run(self, work: Callable[[int, ApiClient], None]) -> None:
        threads = [threading.Thread(target=self._thread, args=(n, work)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
        assert not any(thread.is_alive() for thread in threads), "a client hangs"

    def _thread(self, client: int, work: Callable[[int, ApiClient], None]) -> None:
        try:
            with CountingClient(self, read_connection(NodePaths.from_env(str(self.node.home))), timeout=60) as api:
                work(client, api)
        except Exception as exc:
            self.fail(f"client {client}: {type(exc).__name__}: {exc}")
            self.barrier.abort()
            self.creation_race.abort()

    def fail(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)

    # --- what each client does

    def apply(self, api: ApiClient, name: str, generation: int) -> str:
        loaded = load_text(manifest(name, "conc", gen=str(generation)), f"{name}.yaml").objects[0]
        return apply_object(api, loaded, "default")

    def create_and_write(self, client: int, api: ApiClient) -> None:
        # All at once, the same manifest: one client creates the pod, the others lose the race and retry.
        self.barrier.wait()
        verb = self.apply(api, self.names[0], 0)
        with self.lock:
            self.first_verbs.append(verb)
        for name in [*self.owned(client), *self.owned((client + 1) % CLIENTS)]:  # each pod by two clients
            self.apply(api, name, 0)
        for name in self.owned(client):
            with self.lock:
                self.generation[name] = 0
        self.barrier.wait()
        rng = random.Random(client)
        for generation in range(1, ROUNDS + 1):
            for name in self.owned(client):
                self.apply(api, name, generation)
                with self.lock:
                    self.generation[name] = generation
            for name in rng.sample(self.names, PATCHES_PER_ROUND):
                patch = {"metadata": {"labels": {f"w{client}": str(generation)}}}
                api.request("PATCH", f"{PODS}/{name}", body=patch, content_type=MERGE_PATCH)
                with self.lock:
                    self.patched[name, client] = generation
            self.update(api, rng.choice(self.names), client, generation)
        self.barrier.wait()

    def update(self, api: ApiClient, name: str, client: int, value: int) -> None:
        """GET, change, PUT with the resourceVersion read; a 409 means someone wrote meanwhile: read again."""
        for _ in range(100):
            pod = api.get(f"{PODS}/{name}")
            pod["metadata"].setdefault("annotations", {})[f"put-w{client}"] = str(value)
            try:
                api.request("PUT", f"{PODS}/{name}", body=pod)
            except ConflictError:
                continue
            with self.lock:
                self.updated[name, client] = value
            return
        self.fail(f"client {client}: 100 conflicts in a row updating {name}")

    def delete(self, client: int, api: ApiClient) -> None:
        for name in [*self.owned(client), *self.owned((client + 1) % CLIENTS)]:  # each pod deleted twice at once
            with contextlib.suppress(NotFoundError):  # the other deleter was first and the pod is already gone
                api.request("DELETE", f"{PODS}/{name}", body={"gracePeriodSeconds": 1})


class CountingClient(ApiClient):
    """The CLI's client, counting what the server refused, by reason (AlreadyExists, Conflict, NotFound)."""

    def __init__(self, clients: Clients, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clients = clients
        self.racing = True  # until this client's first POST

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        if method == "POST" and self.racing:
            self.racing = False
            self.clients.creation_race.wait()
        try:
            return super().request(method, path, **kwargs)
        except StatusError as exc:
            with self.clients.lock:
                self.clients.refusals[exc.reason] = self.clients.refusals.get(exc.reason, 0) + 1
            raise


def test_twenty_clients_apply_patch_update_and_delete_fifty_pods(node: Node, docker_client: docker.DockerClient) -> None:
    clients = Clients(node)
    clients.run(clients.create_and_write)
    assert clients.errors == [], clients.errors[:5]  # StatusError 500s, transport errors, 404s of created pods...
    assert sorted(clients.first_verbs) == ["created"] + ["unchanged"] * (CLIENTS - 1)
    assert clients.refusals.get("AlreadyExists", 0) >= CLIENTS - 1, f"not every loser of the race was refused: {clients.refusals}"

    pods = {p["metadata"]["name"]: p for p in node.api(f"{PODS}?labelSelector=suite%3Dconc")["items"]}
    assert sorted(pods) == clients.names
    for name, pod in pods.items():
        labels, annotations = pod["metadata"]["labels"], pod["metadata"]["annotations"]
        assert labels["gen"] == str(clients.generation[name]), f"{name}: the owner's last apply was lost"
        applied = json.loads(annotations[LAST_APPLIED])
        assert applied["metadata"]["labels"]["gen"] == labels["gen"]
        for (pod_name, client), value in clients.patched.items():
            if pod_name == name:
                assert labels[f"w{client}"] == str(value), f"{name}: client {client}'s last patch was lost"
        for (pod_name, client), value in clients.updated.items():
            if pod_name == name:
                assert annotations[f"put-w{client}"] == str(value), f"{name}: client {client}'s last update was lost"

    clients.run(clients.delete)
    assert clients.errors == [], clients.errors[:5]
    assert eventually(lambda: node.api(f"{PODS}?labelSelector=suite%3Dconc")["items"] == [], timeout=90)
    assert eventually(lambda: our_containers(docker_client, node, "c-") == [], timeout=15), "orphaned containers"
    assert_no_server_errors(node)


def test_racing_cli_applies_of_the_same_pods_all_succeed(node: Node, docker_client: docker.DockerClient, tmp_path: Path) -> None:
    names = [f"cli-{n}" for n in range(6)]
    files = []
    for version in range(8):
        path = tmp_path / f"v{version}.yaml"
        path.write_text("---\n".join(manifest(name, "cli", v=str(version)) for name in names))
        files.append(path)

    processes = [
        subprocess.Popen(
            [*CLI, "apply", "-f", str(path)], env=node.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for path in files
    ]
    outputs = [process.communicate(timeout=120) for process in processes]

    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert (process.returncode, stderr) == (0, ""), stderr
        assert [line.split()[0] for line in stdout.splitlines()] == [f"pod/{name}" for name in names]
    verbs = [line.split()[1] for stdout, _ in outputs for line in stdout.splitlines()]
    assert verbs.count("created") == len(names), "each pod was created exactly once"
    for name in names:
        pod = node.api(f"{PODS}/{name}")
        label = pod["metadata"]["labels"]["v"]
        assert label in {str(version) for version in range(8)}
        applied = json.loads(pod["metadata"]["annotations"][LAST_APPLIED])
        assert applied["metadata"]["labels"]["v"] == label, "the label and the last-applied annotation agree"

    deleters = [
        subprocess.Popen(
            [*CLI, "delete", "pods", "-l", "suite=cli", "--grace-period=1", "--ignore-not-found"],
            env=node.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for deleter in deleters:
        _, stderr = deleter.communicate(timeout=120)
        assert deleter.returncode == 0, stderr
    assert eventually(lambda: node.api(f"{PODS}?labelSelector=suite%3Dcli")["items"] == [], timeout=60)
    assert eventually(lambda: our_containers(docker_client, node, "cli-") == [], timeout=15), "orphaned containers"
    assert_no_server_errors(node)
