"""The node daemon: one asyncio process running the API server, the scheduler and the kubelet.

This is the composition root (DESIGN.md): it opens the store, makes sure the namespaces and this node's
Node object exist, binds the API socket on 127.0.0.1, and runs every loop in one TaskGroup, so that if
one of them dies the others are stopped and the process exits (non-zero) instead of limping on.

Before anything else it takes the home's lock (node/process.py: one daemon per home, held for its whole life);
a daemon that finds it held by another exits at once with `LOCKED_OUT_EXIT`, saying nothing and touching
nothing. SIGTERM and SIGINT stop it cleanly: the API server stops taking requests, the kubelet finishes the
removals it owes to pods already gone from the store (a force deletion just before `down`, bounded by
`kubelet.SHUTDOWN_SECONDS`), the pid and endpoint files go, then the lock. The containers of pods still in the
store stay in Docker, to be adopted by the next `up`.

`python -m minikubelet up --foreground ...`, the command line `up` starts the daemon with, comes to `main()`
here without the CLI's libraries (typer, click, rich: a tenth of the time `up` waits for): `__main__.py` hands
it over when `foreground_config` understands every argument, and leaves anything else (`--help`, a typo, a value
typer would refuse) to the CLI, so what a user sees does not change.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import uvicorn

from minikubelet.api.namespace import active_namespace
from minikubelet.apiserver.admission import PodSecurityPolicy
from minikubelet.apiserver.app import build_app
from minikubelet.apiserver.registry import Registry
from minikubelet.apiserver.upgrade import LenientWebSocketsProtocol, UpgradableHttpToolsProtocol
from minikubelet.errors import AlreadyExistsError, MinikubeletError, NotFoundError, UnavailableError
from minikubelet.kubelet import nodestatus
from minikubelet.kubelet.kubelet import Kubelet
from minikubelet.kubelet.start_records import StartRecorder
from minikubelet.kubelet.streaming import open_attach, open_exec
from minikubelet.node.kubeconfig import write_kubeconfig
from minikubelet.node.paths import NodePaths, cannot_write, write_private
from minikubelet.node.process import (
    DEFAULT_POD_INFRA_IMAGE,
    LOCKED_OUT_EXIT,
    POD_INFRA_IMAGE_ENV,
    PORT_ENV,
    DaemonLock,
    NodeLockedError,
    read_pid_file,
    remove_pid,
    write_pid,
)
from minikubelet.node.tls import Credentials, ensure_credentials
from minikubelet.prober.manager import ProbeManager
from minikubelet.recorder import EventRecorder
from minikubelet.runtime.interface import ContainerRuntime
from minikubelet.scheduler import Scheduler
from minikubelet.store import Store

__all__ = ["DaemonConfig", "foreground_config", "main", "serve"]

if TYPE_CHECKING:  # lint is imported by `lint --check-images`, not by the daemon's start
    from minikubelet.lint.images import ImageFiles

log = logging.getLogger("minikubelet")

ENGINE_THREADS = 64  # threads for blocking calls (the Docker SDK): how many engine calls may wait at once
NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass(frozen=True)
class DaemonConfig:
    paths: NodePaths
    node_name: str
    pod_infra_image: str = DEFAULT_POD_INFRA_IMAGE
    port: int = 0
    # `up --allow-privileged` and `--allow-host-path`: what pods may do to the host (apiserver/admission.py).
    allow_privileged: bool = False
    allowed_host_paths: tuple[str, ...] = ()
    # Builds the container runtime for an instance id; the default is the Docker engine.
    runtime_factory: Callable[[str], ContainerRuntime] | None = None

    @property
    def instance(self) -> str:
        """Tells this node's containers from another node's on the same engine (tests run several)."""
        return hashlib.sha256(str(self.paths.home.resolve()).encode()).hexdigest()[:12]


# The options of `up --foreground` that take a value (cli/node.py: up_command), with their environment variable.
_VALUE_OPTIONS = {"--pod-infra-image": POD_INFRA_IMAGE_ENV, "--node-name": "", "--port": PORT_ENV}


def foreground_config(argv: list[str]) -> DaemonConfig | None:
    """The config `minikubelet up --foreground <argv>` runs the node with, as the CLI's `up` would build it;
    None when `argv` holds anything but those options (each at most once, with a usable value)."""
    values: dict[str, str] = {}
    host_paths: list[str] = []
    allow_privileged = False
    args = iter(argv)
    for arg in args:
        name, equals, value = arg.partition("=")
        if name == "--allow-privileged" and not equals and not allow_privileged:
            allow_privileged = True
            continue
        if name not in (*_VALUE_OPTIONS, "--allow-host-path") or (name in values):
            return None
        if not equals:
            following = next(args, None)
            if following is None or following.startswith("-"):  # a missing value, or one that is for typer to judge
                return None
            value = following
        if name == "--allow-host-path":
            if not value.strip():
                return None
            host_paths.append(os.path.abspath(os.path.expanduser(value)))
        else:
            values[name] = value
    for name, env in _VALUE_OPTIONS.items():
        if name not in values and env and os.environ.get(env):  # click ignores an empty variable
            values[name] = os.environ[env]
    try:
        port = int(values.get("--port", "0"))
    except ValueError:
        return None
    from minikubelet.kubelet.nodestatus import default_node_name

    return DaemonConfig(
        paths=NodePaths.from_env(),
        node_name=values.get("--node-name") or default_node_name(),
        pod_infra_image=values.get("--pod-infra-image", DEFAULT_POD_INFRA_IMAGE),
        port=port,
        allow_privileged=allow_privileged,
        allowed_host_paths=tuple(host_paths),
    )


def main(config: DaemonConfig) -> int:
    """`serve(config)` as the CLI's `up --foreground` runs it: a refusal is one `error: ...` line and exit code 1;
    another daemon holding the home's lock is no error, only `LOCKED_OUT_EXIT` (the `up` that started this one
    then waits for that one)."""
    try:
        serve(config)
    except NodeLockedError:
        return LOCKED_OUT_EXIT
    except MinikubeletError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _docker_runtime(instance: str) -> ContainerRuntime:
    from minikubelet.runtime.docker import DockerRuntime

    return DockerRuntime(instance)


def local_image_files() -> ImageFiles | None:
    """The local Docker engine's image files, for `minikubelet lint --check-images` (None: Docker does not answer)."""
    from minikubelet.runtime.docker import local_image_files as docker_image_files

    return docker_image_files()


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the daemon owns SIGTERM/SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def serve(config: DaemonConfig) -> None:
    """Run the node in the foreground until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not one line per HTTP probe
    asyncio.run(_serve(config))


async def _serve(config: DaemonConfig) -> None:
    # The Docker SDK blocks: every engine call holds a thread, a stop for its whole grace period. asyncio's
    # default pool (CPUs + 4 threads) would queue the 50 stops of a mass deletion behind one another.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(ENGINE_THREADS, thread_name_prefix="engine"))
    paths = config.paths
    # A second node on one state dir would share the store without sharing its watches, restart a killed container
    # twice, and remove the first one's pid and endpoint files when it stops: the lock comes before anything else.
    try:
        lock = DaemonLock.acquire(paths)
    except OSError as exc:  # a read-only home: one line (`up` shows it), no traceback
        raise cannot_write(exc) from None
    try:
        await _serve_locked(config)
    finally:
        lock.release()


async def _serve_locked(config: DaemonConfig) -> None:
    paths = config.paths
    running = read_pid_file(paths)
    if running is not None and running != os.getpid():
        # A daemon of an older minikubelet takes no lock, but may still run from this home.
        raise MinikubeletError(f"a minikubelet node is already running from {paths.home} (pid {running})")
    credentials = ensure_credentials(paths)
    try:
        store = Store(paths.state_db)
    except UnavailableError as exc:  # damaged, foreign or locked: say so in one line (`up` shows it), no traceback
        raise MinikubeletError(f"cannot start the node: {exc}") from None
    try:
        policy = PodSecurityPolicy(allow_privileged=config.allow_privileged, allowed_host_paths=config.allowed_host_paths)
        registry = Registry(store, admission=policy)
        if config.allow_privileged:
            log.warning("--allow-privileged: pods may run privileged, share the host's namespaces and mount any host path")
        _ensure_namespaces(store)
        _register_node(store, config)
        sock = _bind(paths, config.port)
        port = sock.getsockname()[1]
        write_pid(paths, os.getpid())
        write_kubeconfig(paths, server=f"https://127.0.0.1:{port}", ca_pem=credentials.ca_pem, token=credentials.token)
        write_private(paths.endpoint_file, json.dumps({"host": "127.0.0.1", "port": port, "pid": os.getpid()}))
        log.info("node %s serving the API on https://127.0.0.1:%d", config.node_name, port)
        await _run_all(config, registry, credentials, sock)
    finally:
        store.close()
        try:
            remove_pid(paths)
            paths.endpoint_file.unlink(missing_ok=True)
        except OSError as exc:  # a home made read-only meanwhile: `down` says so; the lock says we are gone
            log.warning("%s", cannot_write(exc))
        log.info("node stopped")


async def _run_all(config: DaemonConfig, registry: Registry, credentials: Credentials, sock: socket.socket) -> None:
    store = registry.store
    scheduler = Scheduler(
        registry, node_name=config.node_name, recorder=EventRecorder(store, component="default-scheduler", host="")
    )
    runtime = (config.runtime_factory or _docker_runtime)(config.instance)
    node = store.get("Node", "", config.node_name)
    host_ip = next((a["address"] for a in node["status"].get("addresses", []) if a["type"] == "InternalIP"), "127.0.0.1")
    recorder = EventRecorder(store, component="kubelet", host=config.node_name)
    probes = ProbeManager(store, runtime, recorder, on_attempt=StartRecorder(config.paths.start_records).observe)
    kubelet = Kubelet(
        store,
        runtime,
        node_name=config.node_name,
        pod_infra_image=config.pod_infra_image,
        state_dir=config.paths.home,
        recorder=recorder,
        host_ip=host_ip,
        prober=probes,
    )
    server = _Server(
        uvicorn.Config(
            build_app(
                registry,
                token=credentials.token,
                logs=kubelet.open_logs,
                probes=probes.history,
                lifecycle=kubelet.lifecycle,
                exec_streams=functools.partial(open_exec, kubelet),
                attach_streams=functools.partial(open_attach, kubelet),
            ),
            http=UpgradableHttpToolsProtocol,  # hands a SPDY/3.1 upgrade's connection over (kubectl's port-forward)
            ws=LenientWebSocketsProtocol,  # takes kubectl's `SPDY/3.1+portforward.k8s.io` subprotocol
            ssl_certfile=str(credentials.server_cert),
            ssl_keyfile=str(credentials.server_key),
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
    )
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    async with asyncio.TaskGroup() as group:
        serving = group.create_task(server.serve(sockets=[sock]), name="apiserver")
        others = [
            group.create_task(scheduler.run(), name="scheduler"),
            group.create_task(_heartbeat(store, config), name="node-heartbeat"),
            group.create_task(kubelet.run(), name="kubelet"),
        ]
        await stopping.wait()
        log.info("stopping")
        server.should_exit = True
        for task in others:
            task.cancel()
        await serving
    await kubelet.shutdown()  # the removals owed to pods already gone (a force deletion just before `down`)
    await probes.close()
    await runtime.close()


def _bind(paths: NodePaths, port: int) -> socket.socket:
    """Bind 127.0.0.1 on the configured port, else the previous one (kubectl caches discovery per port)."""
    candidates = [port] if port else [_previous_port(paths), 0]
    for candidate in candidates:
        if candidate is None:
            continue
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio sets TCP_NODELAY only then
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", candidate))
        except OSError as exc:
            sock.close()
            if port:
                raise MinikubeletError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
            continue
        sock.listen(128)
        sock.set_inheritable(True)
        return sock
    raise MinikubeletError("cannot listen on 127.0.0.1")


def _previous_port(paths: NodePaths) -> int | None:
    try:
        port = json.loads(paths.endpoint_file.read_text()).get("port")
        return int(port) if port else None
    except (OSError, ValueError, AttributeError):
        return None


def _ensure_namespaces(store: Store) -> None:
    for name in NAMESPACES:
        with contextlib.suppress(AlreadyExistsError):
            store.create(active_namespace(name))


def _register_node(store: Store, config: DaemonConfig) -> None:
    node = nodestatus.node_object(config.node_name, now=datetime.now(UTC), state_dir=config.paths.home)
    try:
        current = store.get("Node", "", config.node_name)
    except NotFoundError:
        store.create(node)
        return
    node["metadata"] = {
        **current["metadata"],
        "labels": {**current["metadata"].get("labels", {}), **node["metadata"]["labels"]},
    }
    node["status"]["conditions"] = nodestatus.refresh_conditions(
        current.get("status", {}).get("conditions", []), now=datetime.now(UTC)
    )
    node["spec"] = current.get("spec", {})
    store.update(node)


async def _heartbeat(store: Store, config: DaemonConfig) -> None:
    """Renew the Ready condition's heartbeat; register the node again if someone deleted it."""

    def beat(node: dict[str, Any]) -> dict[str, Any]:
        status = node.setdefault("status", {})
        status["conditions"] = nodestatus.refresh_conditions(status.get("conditions", []), now=datetime.now(UTC))
        return node

    while True:
        await asyncio.sleep(nodestatus.HEARTBEAT_SECONDS)
        try:
            store.update_with("Node", "", config.node_name, beat)
        except NotFoundError:
            _register_node(store, config)
