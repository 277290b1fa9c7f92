"""The prober of a simulation: the real probe manager and workers, with handlers that ask the behaviour.

`SimProber` is `ProbeManager` itself — the same workers, ticks, thresholds, results cache, events and history —
with one change: `run` (what a worker calls to probe once) asks the container's behaviour what the target
would do at this moment of the instance's life, instead of dialling it, and turns the answer into the outcome
the real handler would report, in its words (`handlers.answered`; exec probes go through `probe_exec` itself,
with a runner that exits 0, exits 1 or never returns). A probe that hangs takes its whole timeoutSeconds of
(virtual) time, as a real one does. The random parts (`5% of probes time out`) draw from a generator seeded
by `--seed`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from datetime import datetime

from minikubelet.api.podutil import pod_status
from minikubelet.api.wire import Container, Pod
from minikubelet.prober import handlers
from minikubelet.prober.handlers import Outcome, ProbeError, Result
from minikubelet.prober.manager import ProbeManager
from minikubelet.prober.results import ProbeKind
from minikubelet.prober.worker import container_probe
from minikubelet.recorder import EventRecorder
from minikubelet.simulate.runtime import SimRuntime
from minikubelet.store import Store

__all__ = ["SimProber"]


class SimProber(ProbeManager):
    def __init__(
        self,
        store: Store,
        runtime: SimRuntime,
        recorder: EventRecorder,
        *,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float],
        seed: int = 0,
    ) -> None:
        super().__init__(store, runtime, recorder, clock=clock, monotonic=monotonic)
        self.sim = runtime
        self.random = random.Random(seed)

    def seconds_since_start(self) -> float:
        """The simulated node has been up a long time: no first-period jitter (a pod applied to a running node)."""
        return float("inf")

    async def run(self, kind: ProbeKind, pod: Pod, container: Container, container_id: str) -> Outcome:
        probe = container_probe(container, kind)
        timeout = float(probe.get("timeoutSeconds", 1))
        record = self.sim.containers.get(container_id)  # type: ignore[call-overload]
        running = self.sim.seconds_running(container_id)
        behaviour = self.sim.behaviour(record) if record is not None else None
        if behaviour is None or running is None:
            return Outcome(Result.UNKNOWN, error=f"container {container_id} is not known")
        draw = self.random.random()
        pod_ip = pod_status(pod).get("podIP", "")
        scheme, host, path, service = "HTTP", pod_ip, None, None
        try:
            if "exec" in probe:
                answer = behaviour.answer(
                    kind=kind.value.lower(), handler="exec", path=None, port=None, port_name=None, at=running, draw=draw
                )
                return await handlers.probe_exec(_exec_runner(answer), probe["exec"].get("command") or [], timeout=timeout)
            if "httpGet" in probe:
                handler, raw_port = "httpGet", probe["httpGet"].get("port", 0)
                scheme, path = probe["httpGet"].get("scheme", "HTTP"), probe["httpGet"].get("path", "/")
                host = probe["httpGet"].get("host") or pod_ip
            elif "tcpSocket" in probe:
                handler, raw_port = "tcpSocket", probe["tcpSocket"].get("port", 0)
                host = probe["tcpSocket"].get("host") or pod_ip
            elif "grpc" in probe:
                handler, raw_port = "grpc", probe["grpc"].get("port", 0)
                service = probe["grpc"].get("service")
            else:
                return Outcome(Result.UNKNOWN, error="missing probe handler")
            port = handlers.resolve_port(raw_port, container)
        except ProbeError as exc:
            return Outcome(Result.UNKNOWN, error=str(exc))
        answer = behaviour.answer(
            kind=kind.value.lower(),
            handler=handler,
            path=path,
            port=port,
            port_name=raw_port if isinstance(raw_port, str) else None,
            at=running,
            draw=draw,
        )
        del service  # the health service's name changes no answer
        if answer == "hangs":
            await asyncio.sleep(timeout)
        return handlers.answered(handler, answer, scheme=scheme, host=host, port=port, path=path or "/", timeout=timeout)


def _exec_runner(answer: str) -> Callable[[Sequence[str], float], asyncio.Future[tuple[int, bytes, bool]]]:
    async def run(argv: Sequence[str], timeout: float) -> tuple[int, bytes, bool]:
        if answer == "hangs":
            await asyncio.sleep(timeout)
            return -1, b"", True
        return (0 if answer == "ok" else 1), b"", False

    return run  # type: ignore[return-value]
