"""What the benchmark suite's scenarios share: private nodes, watches with arrival times, the Docker SDK and
podman baselines, statistics, and a cleanup that also runs on Ctrl-C.

Everything a benchmark makes is tied to this run so that it can be removed whatever happens:
- a node lives in a temporary `MINIKUBELET_HOME`; its Docker containers carry `io.minikubelet.instance`
  (the hash of that home), so they can be found and removed even if `down --delete-pods` could not run;
- the baseline's Docker containers carry `io.minikubelet.bench=<RUN_ID>`;
- podman runs with its own `CONTAINERS_CONF`, storage root, run root and tmp dir inside the run's temp dir,
  so `system reset` and `rm -rf` of that dir take every pod, container and loaded image with them.
`Cleanup` is an `ExitStack` that ignores further Ctrl-C while it unwinds; SIGTERM is turned into
KeyboardInterrupt, so `kill <pid>` cleans up as Ctrl-C does.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import docker
from bench_probes import cli, percentile

from minikubelet.client import ApiClient
from minikubelet.node.kubeconfig import read_connection
from minikubelet.node.paths import NodePaths

T = TypeVar("T")

BUSYBOX = "minikubelet.local/busybox:1.35"
PAUSE = "minikubelet.local/pause:3.10"
ECHO = "minikubelet.local/echo:v1"
IMAGES = (BUSYBOX, PAUSE, ECHO)
BENCH_LABEL = "io.minikubelet.bench"
RUN_ID = secrets.token_hex(4)
# The app of every pod: sleeps, and exits at once on SIGTERM (a bare `sleep` as PID 1 would ignore it and
# make every deletion wait for the kill), so that tearing pods down between repetitions stays quick.
SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
PODMAN_CONF = f"""[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
infra_image = "{PAUSE}"
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- statistics ---------------------------------------------------------------------------------------------


@dataclass
class Series:
    """Repeated measurements of one thing (milliseconds unless `unit` says otherwise)."""

    label: str
    values: list[float] = field(default_factory=list)
    unit: str = "ms"

    def add(self, value: float) -> None:
        self.values.append(value)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.values)
        if not ordered:
            return {"label": self.label, "unit": self.unit, "n": 0}
        return {
            "label": self.label,
            "unit": self.unit,
            "n": len(ordered),
            "min": ordered[0],
            "median": statistics.median(ordered),
            "p99": percentile(ordered, 0.99),
            "max": ordered[-1],
        }


def alternate(rep: int, first: Callable[[], None], second: Callable[[], None]) -> None:
    """Run both, in turn first on even repetitions and second-first on odd ones (no side always goes first)."""
    for step in (first, second) if rep % 2 == 0 else (second, first):
        step()


# --- cleanup ------------------------------------------------------------------------------------------------


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


class Cleanup(contextlib.ExitStack):
    """An ExitStack for the run: SIGTERM raises KeyboardInterrupt inside it, and while it unwinds a second
    Ctrl-C is ignored (it would cut the removal of containers in half)."""

    def __enter__(self) -> Cleanup:
        signal.signal(signal.SIGTERM, _interrupt)
        # Started in the background by a shell (`make bench &`), SIGINT would be ignored: make it Ctrl-C again.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        super().__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> bool:
        if exc_info[0] is not None and issubclass(exc_info[0], KeyboardInterrupt):
            log("interrupted: cleaning up (further Ctrl-C is ignored until done) ...")
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            return bool(super().__exit__(*exc_info))
        finally:
            signal.signal(signal.SIGINT, previous)


def run_child(argv: list[str], *, env: dict[str, str] | None = None, timeout: float = 3600) -> int:
    """Run a child that cleans up after itself on SIGINT (bench_probes.py): on our Ctrl-C it got the SIGINT too,
    so wait for it to finish its cleanup instead of killing it as `subprocess.run` would."""
    process = subprocess.Popen(argv, env=env)
    try:
        return process.wait(timeout=timeout)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            process.wait(timeout=300)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        finally:
            signal.signal(signal.SIGINT, previous)
        raise


# --- a private node ------------------------------------------------------------------------------------------


class Node:
    """A minikubelet node in its own temporary MINIKUBELET_HOME, driven through the real CLI."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._client: ApiClient | None = None

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "MINIKUBELET_HOME": str(self.home),
            "MINIKUBELET_POD_INFRA_IMAGE": PAUSE,
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }

    @property
    def instance(self) -> str:
        """The `io.minikubelet.instance` label of this node's containers (daemon.DaemonConfig.instance)."""
        return hashlib.sha256(str(self.home.resolve()).encode()).hexdigest()[:12]

    @property
    def pid(self) -> int:
        return int((self.home / "daemon.pid").read_text())

    def cli(self, *args: str, stdin: str = "", timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return cli(self.env, *args, stdin=stdin, timeout=timeout)

    def up(self) -> float:
        """Start the node; the seconds `minikubelet up` took (it returns once the API answers)."""
        started = time.monotonic()
        result = self.cli("up", timeout=120)
        took = time.monotonic() - started
        if result.returncode:
            raise SystemExit(f"minikubelet up failed:\n{result.stderr}")
        return took

    @property
    def client(self) -> ApiClient:
        if self._client is None:
            self._client = self.new_client()
        return self._client

    def new_client(self, timeout: float = 60) -> ApiClient:
        return ApiClient(read_connection(NodePaths.from_env(str(self.home))), timeout=timeout)

    def down(self) -> None:
        """`down --delete-pods`, then remove whatever Docker containers the node may have left."""
        if self._client is not None:
            self._client.close()
            self._client = None
        self.cli("down", "--delete-pods", timeout=600)
        remove_docker_containers(f"io.minikubelet.instance={self.instance}")

    def delete_pods(self, label_selector: str, *, timeout: float = 300) -> None:
        """Delete the pods a selector picks (grace 1 s) and wait until the kubelet has removed them."""
        path = "/api/v1/namespaces/default/pods"
        for pod in self.client.get(path, params={"labelSelector": label_selector})["items"]:
            with contextlib.suppress(Exception):  # already gone
                self.client.request("DELETE", f"{path}/{pod['metadata']['name']}", body={"gracePeriodSeconds": 1})
        deadline = time.monotonic() + timeout
        while self.client.get(path, params={"labelSelector": label_selector})["items"]:
            if time.monotonic() > deadline:
                raise SystemExit(f"pods {label_selector} were not removed within {timeout:.0f} s")
            time.sleep(0.1)


def remove_docker_containers(label: str) -> None:
    """`docker rm -f` every container carrying `label` (key=value)."""
    ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={label}"], capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)


# --- watches ---------------------------------------------------------------------------------------------------


class Watch(threading.Thread):
    """Follows a watch of the node's API in a thread, handing each event and its arrival time (monotonic and
    wall clock) to `on_event` under a condition variable, so that the main thread can wait for a state.

    It starts at `resourceVersion` (taken by a list just before), so an object changed before the watch's
    connection is up is still delivered; arrival times are those of this process reading the stream."""

    def __init__(
        self, node: Node, path: str, params: dict[str, str], on_event: Callable[[str, dict[str, Any], float, float], None]
    ) -> None:
        super().__init__(name=f"watch {path}", daemon=True)
        self.node, self.path, self.params, self.on_event = node, path, params, on_event
        self.condition = threading.Condition()
        self._stopped = False
        self._client = node.new_client(timeout=60)
        self.rv = str(self._client.get(path, params=params)["metadata"]["resourceVersion"])
        self.start()

    def run(self) -> None:
        while not self._stopped:
            try:
                params = {**self.params, "resourceVersion": self.rv, "timeoutSeconds": "60"}
                for kind, obj in self._client.watch(self.path, params=params):
                    arrived, wall = time.monotonic(), time.time()
                    self.rv = str(obj.get("metadata", {}).get("resourceVersion", self.rv))
                    with self.condition:
                        self.on_event(kind, obj, arrived, wall)
                        self.condition.notify_all()
            except Exception:  # the node went down, or a hiccup: try again unless stopped
                if self._stopped:
                    return
                time.sleep(0.2)

    def wait_for(self, check: Callable[[], T | None], *, timeout: float, what: str) -> T:
        """Wait until `check()` (called under the lock) returns something other than None."""
        deadline = time.monotonic() + timeout
        with self.condition:
            while (found := check()) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
                self.condition.wait(min(remaining, 0.5))
            return found

    def stop(self) -> None:
        self._stopped = True
        with contextlib.suppress(Exception):
            self._client.close()


@dataclass(frozen=True)
class Seen:
    monotonic: float
    wall: float


class PodTracker:
    """When each pod was first seen Running, and first seen Running again after a restart."""

    def __init__(self, node: Node, label_selector: str) -> None:
        self.running: dict[str, Seen] = {}
        self.restarted: dict[str, Seen] = {}
        self.watch = Watch(node, "/api/v1/namespaces/default/pods", {"labelSelector": label_selector}, self._on_event)

    def _on_event(self, kind: str, pod: dict[str, Any], arrived: float, wall: float) -> None:
        name = pod["metadata"]["name"]
        if kind == "DELETED":
            self.running.pop(name, None)
            self.restarted.pop(name, None)
            return
        status = pod.get("status", {})
        if status.get("phase") == "Running":
            self.running.setdefault(name, Seen(arrived, wall))
        for container in status.get("containerStatuses", []):
            if container.get("restartCount", 0) >= 1 and "running" in container.get("state", {}):
                self.restarted.setdefault(name, Seen(arrived, wall))

    def wait_running(self, names: list[str], *, timeout: float) -> list[Seen]:
        def check() -> list[Seen] | None:
            return [self.running[n] for n in names] if all(n in self.running for n in names) else None

        return self.watch.wait_for(check, timeout=timeout, what=f"{len(names)} pod(s) Running")

    def wait_restarted(self, name: str, *, timeout: float) -> Seen:
        return self.watch.wait_for(lambda: self.restarted.get(name), timeout=timeout, what=f"{name} restarted")


class EventTracker:
    """When the first event with `reason` about each object arrived, and the Event's name (which holds the
    daemon's own creation time in nanoseconds, in hex, after the last dot)."""

    def __init__(self, node: Node, reason: str) -> None:
        self.reason = reason
        self.first: dict[str, tuple[Seen, dict[str, Any]]] = {}
        self.watch = Watch(node, "/api/v1/namespaces/default/events", {"fieldSelector": f"reason={reason}"}, self._on_event)

    def _on_event(self, kind: str, event: dict[str, Any], arrived: float, wall: float) -> None:
        if kind in ("ADDED", "MODIFIED") and event.get("reason") == self.reason:
            self.first.setdefault(event["involvedObject"]["name"], (Seen(arrived, wall), event))

    def wait(self, name: str, *, timeout: float) -> tuple[Seen, dict[str, Any]]:
        return self.watch.wait_for(lambda: self.first.get(name), timeout=timeout, what=f"a {self.reason} event of {name}")


def event_name_time(event: dict[str, Any]) -> float:
    """The daemon's creation time of an Event, from its name `<object>.<hex nanoseconds>` (recorder.py)."""
    return int(event["metadata"]["name"].rsplit(".", 1)[1], 16) / 1e9


# --- manifests -------------------------------------------------------------------------------------------------


def pod_manifest(name: str, labels: dict[str, str]) -> dict[str, Any]:
    """The one-container pod the start scenarios use (local busybox, already present)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "app", "image": BUSYBOX, "imagePullPolicy": "IfNotPresent", "command": SLEEPER}],
        },
    }


# --- the Docker SDK baseline ---------------------------------------------------------------------------------


class DockerBaseline:
    """A pod the way `docker run` makes one: the pause container, then the app joining its network namespace,
    through the same Docker SDK (docker-py) minikubelet uses. Every container carries BENCH_LABEL=RUN_ID.

    Each call borrows an SDK client from a pool made beforehand (`ensure_clients`), so that no timed call pays
    for making one (a client asks the engine its API version), and no client is shared by two threads at once
    (a client's connection pool shared by threads mixed up responses)."""

    def __init__(self) -> None:
        self.labels = {BENCH_LABEL: RUN_ID}
        self._clients: list[docker.DockerClient] = []
        self._idle: queue.SimpleQueue[docker.DockerClient] = queue.SimpleQueue()
        self.ensure_clients(1)

    def ensure_clients(self, count: int) -> None:
        while len(self._clients) < count:
            version = self._clients[0].api.api_version if self._clients else None
            client = docker.from_env(timeout=120, version=version)
            self._clients.append(client)
            self._idle.put(client)

    @contextlib.contextmanager
    def client(self) -> Iterator[docker.DockerClient]:
        client = self._idle.get()
        try:
            yield client
        finally:
            self._idle.put(client)

    def start_pod(self, name: str) -> list[str]:
        """`docker run -d` the pause container, then `docker run -d --network container:<pause>` the app."""
        with self.client() as client:
            pause = client.containers.run(PAUSE, detach=True, name=f"mkbench_{RUN_ID}_{name}_pause", labels=self.labels)
            app = client.containers.run(
                BUSYBOX,
                SLEEPER,
                detach=True,
                name=f"mkbench_{RUN_ID}_{name}_app",
                network_mode=f"container:{pause.id}",
                labels=self.labels,
            )
        return [app.id, pause.id]

    def remove(self, ids: list[str]) -> None:
        with self.client() as client:
            for cid in ids:
                with contextlib.suppress(docker.errors.NotFound):
                    client.api.remove_container(cid, force=True)

    def close(self) -> None:
        remove_docker_containers(f"{BENCH_LABEL}={RUN_ID}")
        for client in self._clients:
            client.close()


# --- podman -------------------------------------------------------------------------------------------------------


class Podman:
    """podman with its own configuration and storage under `directory` (removed by `close`)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        conf = directory / "containers.conf"
        conf.write_text(PODMAN_CONF)
        self.env = {**os.environ, "CONTAINERS_CONF": str(conf)}
        self.base = [
            "podman",
            "--root",
            str(directory / "root"),
            "--runroot",
            str(directory / "run"),
            "--tmpdir",
            str(directory / "tmp"),
        ]

    def run(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([*self.base, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode:
            raise SystemExit(f"podman {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def version(self) -> str:
        return self.run("version", "--format", "{{.Client.Version}}").stdout.strip()

    def load_images(self) -> None:
        """`docker save ... | podman load`: the same local images, in podman's private storage."""
        save = subprocess.Popen(["docker", "save", *IMAGES], stdout=subprocess.PIPE)
        load = subprocess.run([*self.base, "load"], stdin=save.stdout, env=self.env, capture_output=True, text=True)
        if save.stdout is not None:
            save.stdout.close()
        if save.wait() or load.returncode:
            raise SystemExit(f"docker save | podman load failed:\n{load.stderr}")

    def pod_state(self, name: str) -> str:
        return self.run("pod", "inspect", "--format", "{{.State}}", name, check=False).stdout.strip()

    def close(self) -> None:
        self.run("pod", "rm", "--all", "--force", "--time", "0", check=False)
        self.run("system", "reset", "--force", check=False)
        shutil.rmtree(self.directory, ignore_errors=True)
