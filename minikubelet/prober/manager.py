"""The probe manager: starts and stops the workers, runs the handlers, and answers the kubelet.

Like pkg/kubelet/prober's manager it probes nothing itself: it owns one worker per (pod, container, probe
kind) — created when the kubelet first syncs the pod (AddPod), gone when the worker stops or the pod goes
(RemovePod) — and the results cache, whose changes reach the kubelet through `updates`. Status generation asks
it `update_pod_status` (UpdatePodStatus); computePodActions reads `result`. Handlers reach the pod at its IP
(httpGet/tcpSocket `host` default), exec runs through the container runtime with `$(VAR)` in its command
expanded from the container's static env; an *errored* probe is retried up to 3 times, as runProbeWithRetries
does.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from minikubelet.api.expansion import expand_command_only_static
from minikubelet.api.podutil import app_containers, init_containers, is_restartable_init_container, pod_status, statuses_of
from minikubelet.api.wire import Container, ContainerStatus, Pod, PodStatus, Probe, as_pod
from minikubelet.errors import ContainerRuntimeError, NotFoundError
from minikubelet.prober import handlers
from minikubelet.prober.handlers import Outcome, ProbeError, Result
from minikubelet.prober.history import Attempt, ProbeHistory
from minikubelet.prober.results import ProbeKind, ResultsCache, Update, Verdict
from minikubelet.prober.worker import Worker, container_probe, has_probe
from minikubelet.recorder import EventRecorder
from minikubelet.runtime.interface import ContainerID, ContainerRuntime
from minikubelet.store import Store

__all__ = ["AttemptObserver", "ProbeManager"]

# The order in which a container's workers are started.
_KINDS = (ProbeKind.STARTUP, ProbeKind.LIVENESS, ProbeKind.READINESS)
_RETRIES = 3

#: Told of every attempt, with the container probed and a way to read its pod (kubelet/start_records.py's
#: StartRecorder.observe, which the daemon passes); it must not raise.
AttemptObserver = Callable[[Attempt, Container, Callable[[], Pod | None]], None]


class ProbeManager:
    def __init__(
        self,
        store: Store,
        runtime: ContainerRuntime,
        recorder: EventRecorder,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        on_attempt: AttemptObserver | None = None,
    ) -> None:
        self.store = store
        self.on_attempt = on_attempt
        self.runtime = runtime
        self.recorder = recorder
        self.clock = clock
        self.cache = ResultsCache()
        self.history = ProbeHistory()
        self.monotonic = monotonic
        self._started = monotonic()
        self._workers: dict[tuple[str, str, ProbeKind], tuple[Worker, asyncio.Task[None]]] = {}
        self._pods: dict[tuple[str, str], tuple[str, Pod | None]] = {}  # (namespace, name) -> (store revision, pod)

    # ------------------------------------------------------------------------------ the kubelet's side

    @property
    def updates(self) -> asyncio.Queue[Update]:
        """results_manager.go's Updates(): every changed verdict, for the kubelet's sync loop."""
        return self.cache.updates

    def result(self, kind: ProbeKind, container_id: str) -> Verdict | None:
        """The liveness / readiness / startup results manager's Get."""
        return self.cache.get(container_id, kind)

    def add_pod(self, stored: Mapping[str, Any]) -> None:
        """AddPod: start the workers the pod's probes need (once: probes are part of the immutable spec). `stored`
        is the pod as the store gave it (kubelet.py passes the store's dict)."""
        pod = as_pod(stored)
        meta = pod["metadata"]
        containers = [*app_containers(pod), *(c for c in init_containers(pod) if is_restartable_init_container(c))]
        for container in containers:
            for kind in _KINDS:
                key = (meta["uid"], container["name"], kind)
                if not has_probe(container, kind) or key in self._workers:
                    continue
                worker = Worker(
                    self, namespace=meta["namespace"], name=meta["name"], uid=meta["uid"], container=container, kind=kind
                )
                task = asyncio.create_task(worker.run(), name=f"probe-{meta['name']}-{container['name']}-{kind}")
                self._workers[key] = (worker, task)
                task.add_done_callback(functools.partial(self._remove_worker, key))

    def _remove_worker(self, key: tuple[str, str, ProbeKind], task: asyncio.Task[None]) -> None:
        """removeWorker: a worker that stopped (its pod finished, or is being deleted for liveness and startup)
        no longer counts: a container without a startup worker is started, one without a readiness worker ready."""
        if key in self._workers and self._workers[key][1] is task:
            del self._workers[key]

    def stop_liveness_and_startup(self, uid: str) -> None:
        """StopLivenessAndStartup: a terminating pod's containers are not killed by a probe; readiness goes on."""
        for key in [k for k in self._workers if k[0] == uid and k[2] is not ProbeKind.READINESS]:
            self._workers[key][1].cancel()

    def remove_pod(self, uid: str) -> None:
        """RemovePod: stop every worker of the pod."""
        for key in [k for k in self._workers if k[0] == uid]:
            self._workers.pop(key)[1].cancel()
        self.history.forget(uid)
        for cached in [k for k, (_, pod) in self._pods.items() if pod is None or pod["metadata"].get("uid") == uid]:
            del self._pods[cached]

    def update_pod_status(self, pod: Pod, status: PodStatus) -> None:
        """UpdatePodStatus: `started` and `ready` of each container status from the results, and an immediate
        readiness probe (the manual trigger) for a started container that is not ready yet."""
        uid = pod["metadata"]["uid"]
        sidecars = {c["name"] for c in init_containers(pod) if is_restartable_init_container(c)}
        for entry in statuses_of(status, "regular"):
            self._update_container(uid, entry)
        for entry in statuses_of(status, "init"):
            if entry["name"] in sidecars:
                self._update_container(uid, entry)
            else:
                entry["started"] = "running" in entry["state"]

    def _update_container(self, uid: str, entry: ContainerStatus) -> None:
        name, container_id = entry["name"], str(entry.get("containerID", "")).removeprefix("docker://")
        running = "running" in entry["state"]
        started = running and self._started_by(uid, name, container_id)
        entry["started"] = started
        if not started:
            entry["ready"] = False
            return
        if self.cache.get(container_id, ProbeKind.READINESS) is Verdict.SUCCESS:
            entry["ready"] = True
            return
        found = self._workers.get((uid, name, ProbeKind.READINESS))
        entry["ready"] = found is None  # no readiness probe: ready
        if found is not None:
            found[0].trigger.set()

    def _started_by(self, uid: str, name: str, container_id: str) -> bool:
        """isContainerStarted: the startup result, else whether a startup probe is still to pass."""
        verdict = self.cache.get(container_id, ProbeKind.STARTUP)
        if verdict is not None:
            return verdict is Verdict.SUCCESS
        return (uid, name, ProbeKind.STARTUP) not in self._workers

    async def close(self) -> None:
        tasks = [task for _, task in self._workers.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers.clear()

    # ------------------------------------------------------------------------------ the workers' context

    def pod(self, namespace: str, name: str, uid: str) -> Pod | None:
        """The pod as stored now. Read once per store revision: the workers of a pod (and of every pod, between
        two writes) share one decoded copy, which they only read."""
        revision = self.store.resource_version
        cached = self._pods.get((namespace, name))
        if cached is None or cached[0] != revision:
            try:
                pod: Pod | None = as_pod(self.store.get("Pod", namespace, name))
            except NotFoundError:
                pod = None
            cached = self._pods[(namespace, name)] = (revision, pod)
        pod = cached[1]
        return pod if pod is not None and pod["metadata"].get("uid") == uid else None

    def now(self) -> datetime:
        return self.clock()

    async def started_at(self, container_id: str) -> datetime | None:
        """The instance's start to the engine's precision (an inspect; the worker asks once per instance)."""
        try:
            return (await self.runtime.inspect_container(ContainerID(container_id))).started_at
        except ContainerRuntimeError:
            return None

    def seconds_since_start(self) -> float:
        return self.monotonic() - self._started

    def event(self, pod: Pod, container: str, event_type: str, reason: str, message: str) -> None:
        self.recorder.record(
            pod, "Warning" if event_type == "Warning" else "Normal", reason, message, field_path=f"spec.containers{{{container}}}"
        )

    def record(self, pod_uid: str, attempt: Attempt) -> None:
        self.history.add(pod_uid, attempt)
        found = self._workers.get((pod_uid, attempt.container, attempt.kind))
        if self.on_attempt is not None and found is not None:
            worker = found[0]
            self.on_attempt(attempt, worker.container, lambda: self.pod(worker.namespace, worker.name, pod_uid))

    async def run(self, kind: ProbeKind, pod: Pod, container: Container, container_id: str) -> Outcome:
        outcome = Outcome(Result.UNKNOWN)
        for _ in range(_RETRIES):
            outcome = await self._run_once(container_probe(container, kind), pod, container, container_id)
            if not outcome.error:
                break
        return outcome

    async def _run_once(self, probe: Probe, pod: Pod, container: Container, container_id: str) -> Outcome:
        timeout = float(probe.get("timeoutSeconds", 1))
        pod_ip = pod_status(pod).get("podIP", "")
        try:
            if "exec" in probe:
                # prober.go: the command's `$(VAR)` references expand against the container's static env only.
                command = expand_command_only_static(probe["exec"].get("command") or [], container.get("env") or [])
                return await handlers.probe_exec(self._exec_in(container_id), command, timeout=timeout)
            if "httpGet" in probe:
                http = probe["httpGet"]
                headers = [(h["name"], h.get("value", "")) for h in http.get("httpHeaders", [])]
                return await handlers.probe_http(
                    scheme=http.get("scheme", "HTTP"),
                    host=http.get("host") or pod_ip,
                    port=handlers.resolve_port(http.get("port", 0), container),
                    path=http.get("path", "/"),
                    headers=headers,
                    timeout=timeout,
                )
            if "tcpSocket" in probe:
                tcp = probe["tcpSocket"]
                port = handlers.resolve_port(tcp.get("port", 0), container)
                return await handlers.probe_tcp(host=tcp.get("host") or pod_ip, port=port, timeout=timeout)
            if "grpc" in probe:
                grpc = probe["grpc"]
                return await handlers.probe_grpc(
                    host=pod_ip, port=int(grpc.get("port", 0)), service=grpc.get("service"), timeout=timeout
                )
        except ProbeError as exc:
            return Outcome(Result.UNKNOWN, error=str(exc))
        return Outcome(Result.UNKNOWN, error="missing probe handler")

    def _exec_in(self, container_id: str) -> Callable[..., Any]:
        async def run(argv: Any, timeout: float) -> tuple[int, bytes, bool]:
            try:
                result = await self.runtime.exec(ContainerID(container_id), list(argv), timeout=timeout)
            except ContainerRuntimeError as exc:
                raise RuntimeError(str(exc)) from exc
            return result.exit_code, result.output, result.timed_out

        return run
