"""The probe manager: starts and stops the workers, runs the handlers, and answers the kubelet.

Like pkg/kubelet/prober's manager it probes nothing itself: it owns one worker per (pod, container, probe
kind) — created when the kubelet first syncs the pod, cancelled when the pod goes — and the results cache.
For the kubelet it is the `ProbeView`: whether a container instance is started, ready, or failed liveness
or startup. Handlers reach the pod at its IP (httpGet/tcpSocket `host` default), exec runs through the
container runtime; an *errored* probe is retried up to 3 times, as runProbeWithRetries does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from minikubelet.errors import ContainerRuntimeError, NotFoundError
from minikubelet.kubelet.status import ProbeView
from minikubelet.prober import handlers
from minikubelet.prober.handlers import Outcome, ProbeError, Result
from minikubelet.prober.history import Attempt, ProbeHistory
from minikubelet.prober.results import ProbeKind, ResultsCache, Verdict
from minikubelet.prober.worker import Worker
from minikubelet.recorder import EventRecorder
from minikubelet.runtime.interface import ContainerID, ContainerRuntime
from minikubelet.store import Store

__all__ = ["ProbeManager"]

_FIELDS = {ProbeKind.STARTUP: "startupProbe", ProbeKind.LIVENESS: "livenessProbe", ProbeKind.READINESS: "readinessProbe"}
_RETRIES = 3


class ProbeManager(ProbeView):
    def __init__(
        self,
        store: Store,
        runtime: ContainerRuntime,
        recorder: EventRecorder,
        *,
        on_change: Callable[[str], None] = lambda uid: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.runtime = runtime
        self.recorder = recorder
        self.clock = clock
        self.cache = ResultsCache(on_change)
        self.history = ProbeHistory()
        self._started = time.monotonic()
        self._workers: dict[tuple[str, str, ProbeKind], tuple[Worker, asyncio.Task[None]]] = {}
        self._kinds: dict[tuple[str, str], set[ProbeKind]] = {}

    # ------------------------------------------------------------------------------ the kubelet's view

    def started(self, uid: str, container: str, container_id: str) -> bool:
        if ProbeKind.STARTUP not in self._kinds.get((uid, container), ()):
            return True
        return self.cache.get(container_id, ProbeKind.STARTUP) is Verdict.SUCCESS

    def ready(self, uid: str, container: str, container_id: str) -> bool:
        if ProbeKind.READINESS not in self._kinds.get((uid, container), ()):
            return True
        return self.cache.get(container_id, ProbeKind.READINESS) is Verdict.SUCCESS

    def failed(self, uid: str, container: str, container_id: str) -> str:
        """ "liveness" or "startup" when that probe says the running instance must be killed, else ""."""
        for kind in (ProbeKind.LIVENESS, ProbeKind.STARTUP):
            if kind in self._kinds.get((uid, container), ()) and self.cache.get(container_id, kind) is Verdict.FAILURE:
                return kind.value.lower()
        return ""

    def sync_pod(self, pod: dict[str, Any]) -> None:
        """Start the workers a pod needs (once: probes are part of the immutable spec)."""
        meta = pod["metadata"]
        containers = [
            *pod["spec"].get("containers", []),
            *(c for c in pod["spec"].get("initContainers", []) if c.get("restartPolicy") == "Always"),
        ]
        for container in containers:
            for kind, field in _FIELDS.items():
                key = (meta["uid"], container["name"], kind)
                if field not in container or key in self._workers:
                    continue
                self._kinds.setdefault((meta["uid"], container["name"]), set()).add(kind)
                worker = Worker(
                    self, namespace=meta["namespace"], name=meta["name"], uid=meta["uid"], container=container, kind=kind
                )
                task = asyncio.create_task(worker.run(), name=f"probe-{meta['name']}-{container['name']}-{kind}")
                self._workers[key] = (worker, task)

    def after_status(self, uid: str, status: dict[str, Any]) -> None:
        """Re-probe readiness at once for a started container that is not ready yet (the manual trigger)."""
        for entry in status.get("containerStatuses", []):
            if entry.get("started") and not entry.get("ready"):
                found = self._workers.get((uid, entry["name"], ProbeKind.READINESS))
                if found is not None:
                    found[0].trigger.set()

    def forget(self, uid: str) -> None:
        for key in [k for k in self._workers if k[0] == uid]:
            self._workers.pop(key)[1].cancel()
        for pair in [k for k in self._kinds if k[0] == uid]:
            del self._kinds[pair]
        self.history.forget(uid)

    async def close(self) -> None:
        tasks = [task for _, task in self._workers.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers.clear()

    # ------------------------------------------------------------------------------ the workers' context

    def pod(self, namespace: str, name: str, uid: str) -> dict[str, Any] | None:
        try:
            pod = self.store.get("Pod", namespace, name)
        except NotFoundError:
            return None
        return pod if pod["metadata"].get("uid") == uid else None

    def now(self) -> datetime:
        return self.clock()

    def seconds_since_start(self) -> float:
        return time.monotonic() - self._started

    def event(self, pod: dict[str, Any], container: str, event_type: str, reason: str, message: str) -> None:
        self.recorder.record(
            pod, "Warning" if event_type == "Warning" else "Normal", reason, message, field_path=f"spec.containers{{{container}}}"
        )

    def record(self, pod_uid: str, attempt: Attempt) -> None:
        self.history.add(pod_uid, attempt)

    async def run(self, kind: ProbeKind, pod: dict[str, Any], container: dict[str, Any], container_id: str) -> Outcome:
        outcome = Outcome(Result.UNKNOWN)
        for _ in range(_RETRIES):
            outcome = await self._run_once(container[_FIELDS[kind]], pod, container, container_id)
            if not outcome.error:
                break
        return outcome

    async def _run_once(
        self, probe: dict[str, Any], pod: dict[str, Any], container: dict[str, Any], container_id: str
    ) -> Outcome:
        timeout = float(probe.get("timeoutSeconds", 1))
        pod_ip = (pod.get("status") or {}).get("podIP", "")
        try:
            if "exec" in probe:
                return await handlers.probe_exec(self._exec_in(container_id), probe["exec"].get("command", []), timeout=timeout)
            if "httpGet" in probe:
                action = probe["httpGet"]
                headers = [(h["name"], h.get("value", "")) for h in action.get("httpHeaders", [])]
                return await handlers.probe_http(
                    scheme=action.get("scheme", "HTTP"),
                    host=action.get("host") or pod_ip,
                    port=handlers.resolve_port(action.get("port", 0), container),
                    path=action.get("path", "/"),
                    headers=headers,
                    timeout=timeout,
                )
            if "tcpSocket" in probe:
                action = probe["tcpSocket"]
                port = handlers.resolve_port(action.get("port", 0), container)
                return await handlers.probe_tcp(host=action.get("host") or pod_ip, port=port, timeout=timeout)
            if "grpc" in probe:
                action = probe["grpc"]
                return await handlers.probe_grpc(
                    host=pod_ip, port=int(action.get("port", 0)), service=action.get("service"), timeout=timeout
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
