"""The simulated container engine: the fake runtime, with each container's process acting out its behaviour.

`SimRuntime` is the in-memory `FakeRuntime` (runtime/fake.py: Docker's observable rules, every image present)
plus time: a started container's process ends when its behaviour says (`exits 1 at 20m`, `is OOM-killed at
5m`), and a stop takes as long as Docker's would — the process exits on SIGTERM at once (143), after
`stops in D` (143), or, ignoring it, is killed when the grace period given to the stop runs out (137). All of it
on the event loop's clock, so that on a `VirtualClockLoop` an hour passes in no time.

Engine calls take a little time, as Docker's do on a small machine (`COSTS`, measured): so a probe worker's first
tick, at the pod's admission, finds no container running yet, as on a real node.

An exec (a lifecycle hook) succeeds at once, except `sleep N` (alone or under `sh -c`), which takes N seconds,
or times out.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from minikubelet.runtime.fake import FakeContainer, FakeRuntime
from minikubelet.runtime.interface import ContainerID, ContainerSpec, ExecResult, RuntimeContainer, SandboxSpec
from minikubelet.simulate.behaviour import Behaviour

__all__ = ["COSTS", "SimRuntime"]

#: Seconds each engine call takes (Docker on a 2-core machine, roughly): the sandbox (pause container and its
#: network), creating a container, starting it, removing one.
COSTS = {"run_sandbox": 0.4, "create": 0.05, "start": 0.1, "remove": 0.05, "list": 0.005}

_SLEEP = re.compile(r"^\s*sleep\s+([0-9]+(?:\.[0-9]+)?)\s*$")


class SimRuntime(FakeRuntime):
    def __init__(self, behaviours: Mapping[str, Behaviour], *, images: Iterable[str], clock: Callable[[], datetime]) -> None:
        super().__init__(present_images=images, clock=clock, instance="simulate", engine_version="simulate://1.0.0")
        self.behaviours = dict(behaviours)
        self._ends: dict[ContainerID, asyncio.TimerHandle] = {}
        self.exits: list[tuple[str, int]] = []  # (container name, exit code) of every process that ended, in order

    def behaviour(self, record: FakeContainer) -> Behaviour:
        return self.behaviours.get(record.name) or Behaviour(container=record.name)

    def seconds_running(self, container_id: str) -> float | None:
        """How long the container's process has run (None: unknown or not started)."""
        record = self.containers.get(ContainerID(container_id))
        if record is None or record.started_at is None:
            return None
        return (self.clock() - record.started_at).total_seconds()

    # -- the engine's calls, with their cost

    async def run_sandbox(self, spec: SandboxSpec) -> RuntimeContainer:
        await asyncio.sleep(COSTS["run_sandbox"])
        return await super().run_sandbox(spec)

    async def create_container(self, spec: ContainerSpec) -> ContainerID:
        await asyncio.sleep(COSTS["create"])
        return await super().create_container(spec)

    async def start_container(self, container_id: ContainerID) -> None:
        await asyncio.sleep(COSTS["start"])
        await super().start_container(container_id)

    async def list_containers(self, *, pod_uid: str | None = None) -> list[RuntimeContainer]:
        await asyncio.sleep(COSTS["list"])
        return await super().list_containers(pod_uid=pod_uid)

    async def remove_container(self, container_id: ContainerID) -> None:
        await asyncio.sleep(COSTS["remove"])
        await super().remove_container(container_id)

    # -- the process

    def _start(self, record: FakeContainer) -> None:
        super()._start(record)
        if record.kind == "sandbox" or record.state != "running":
            return
        end = self.behaviour(record).process_end()
        if end is not None:
            at, code, oom = end
            self._ends[record.id] = asyncio.get_running_loop().call_later(at, self._process_ends, record.id, code, oom)

    def _process_ends(self, container_id: ContainerID, exit_code: int, oom: bool) -> None:
        record = self.containers.get(container_id)
        if record is not None and record.state == "running":
            self.finish(container_id, exit_code, oom_killed=oom)

    def _exit(self, record: FakeContainer, exit_code: int) -> None:
        handle = self._ends.pop(record.id, None)
        if handle is not None:
            handle.cancel()
        if record.kind != "sandbox" and record.state == "running":
            self.exits.append((record.name, exit_code))
        super()._exit(record, exit_code)

    async def stop_container(self, container_id: ContainerID, *, timeout: int) -> None:
        """docker stop: SIGTERM, then SIGKILL after `timeout` seconds if the process has not exited by then."""
        record = self.containers.get(container_id)
        if record is None or record.state != "running" or record.kind == "sandbox":
            await super().stop_container(container_id, timeout=timeout)
            return
        self._check_available()
        self.calls.append(("stop", record.docker_name, str(timeout)))
        behaviour = self.behaviour(record)
        if behaviour.sigterm == "ignore" or behaviour.stop_seconds >= timeout:
            wait, exit_code = float(timeout), 137
        else:
            wait, exit_code = behaviour.stop_seconds, 143
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while record.state == "running" and loop.time() < deadline:
            changed = record.changed
            try:
                async with asyncio.timeout(deadline - loop.time()):
                    await changed.wait()
            except TimeoutError:
                break
        if record.state == "running":
            self._exit(record, exit_code)
            self._emit(record, "stop")

    async def exec(self, container_id: ContainerID, argv: Sequence[str], *, timeout: float) -> ExecResult:
        result = await super().exec(container_id, argv, timeout=timeout)
        command = " ".join(argv[2:]) if len(argv) > 2 and argv[1] == "-c" else " ".join(argv)
        found = _SLEEP.match(command)
        if found is None:
            return result
        seconds = float(found[1])
        if timeout and seconds > timeout:
            await asyncio.sleep(timeout)
            return ExecResult(exit_code=-1, output=b"", timed_out=True)
        await asyncio.sleep(seconds)
        return result
