"""The kubelet: makes the runtime match the pods bound to this node, and reports what it sees.

In upstream's shape (pkg/kubelet), so that each part has one counterpart there (docs/kubelet.md#pod-workers):
- the sync loop (`run`, syncLoopIteration): pod changes from the store, the engine's container events (the
  PLEG) and the prober's result updates each go to the pod's worker (`PodWorkers.update_pod`); readiness and
  startup results are first written into the pod's status by the status manager;
- a pod worker runs `sync`, which picks SyncPod, SyncTerminatingPod or SyncTerminatedPod for the pod;
- `sync_pod` (kubelet.go SyncPod): generate the status from what runs and write it, then
  `compute_pod_actions` (kubelet/actions.py, pure) and `_execute` (kuberuntime's SyncPod: kill, sandbox,
  ephemeral, init, then regular containers, each start behind doBackOff), then generate and write the status
  again, so `get pods -w` sees `ContainerCreating` before `Running` and `Error` before `CrashLoopBackOff`;
- `sync_terminating_pod` (SyncTerminatingPod): status written, liveness and startup probes stopped, every
  container killed within the grace period (readiness goes on being probed and written meanwhile), the final
  status written; `sync_terminated_pod`: containers, sandbox and emptyDirs removed, the API object deleted.

At start the kubelet adopts what it finds: containers of pods still in the store are kept as they are
(running ones are not restarted, restart counts continue from their labels, and so does the restart
back-off of a crash loop), containers of pods that are gone are removed. A container or sandbox removed
behind the kubelet's back is replaced as a restart (the count goes on from the pod's status).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from minikubelet.api.images import parse_image
from minikubelet.api.podutil import (
    all_statuses,
    container_kind,
    container_names,
    container_should_restart,
    find_container,
    find_status,
    pod_status,
)
from minikubelet.api.wire import (
    Container,
    ContainerState,
    ContainerStateTerminated,
    ContainerStatus,
    LifecycleHandler,
    Pod,
    as_container,
    as_pod,
)
from minikubelet.errors import (
    BadRequestError,
    ConflictError,
    ContainerNotFoundError,
    ContainerRuntimeError,
    ImagePullError,
    NotFoundError,
)
from minikubelet.kubelet.actions import (
    KillInfo,
    PodActions,
    compute_pod_actions,
    find_exited,
    find_latest,
    is_restartable_init_container,
)
from minikubelet.kubelet.backoff import Backoff
from minikubelet.kubelet.containers import build_spec, sandbox_spec, spec_hash, volume_dirs
from minikubelet.kubelet.history import LifecycleHistory
from minikubelet.kubelet.lifecycle import run_handler
from minikubelet.kubelet.pod_workers import DONE, SYNCED, PodWorkers, SyncResult
from minikubelet.kubelet.probes import NoProbes, Prober
from minikubelet.kubelet.status import Waiting, compute_status, instances_by_name, latest_sandbox
from minikubelet.kubelet.status_manager import StatusManager
from minikubelet.kubelet.subpath import HeldSubPaths, SubPathError
from minikubelet.printing.durations import go_duration
from minikubelet.prober.results import ProbeKind, Verdict
from minikubelet.recorder import EventRecorder
from minikubelet.runtime.interface import (
    ContainerKind,
    ContainerRuntime,
    PodRef,
    PortBinding,
    RuntimeContainer,
)
from minikubelet.store import Store

__all__ = ["SHUTDOWN_SECONDS", "Kubelet"]

log = logging.getLogger(__name__)

MIN_GRACE_SECONDS = 2
TERMINATION_POLL_SECONDS = 0.5  # how often a terminating pod is checked for a shorter grace period
KEEP_INSTANCES = 2  # the current instance and the previous one (lastState, logs --previous)
SHUTDOWN_SECONDS = 20.0  # how long `shutdown` may take to finish the removals owed to pods that are gone


@dataclass
class _PodState:
    """What the kubelet remembers between syncs of one pod."""

    # The reason cache: why each container could not start at the last try (CrashLoopBackOff, ErrImagePull…),
    # which the status shows as its waiting reason until it starts.
    waiting: dict[str, Waiting] = field(default_factory=dict)
    # Retries of a failed volume set-up: nestedpendingoperations' exponential back-off, 0.5 s doubling to 2m2s.
    mount_backoff: Backoff = field(default_factory=lambda: Backoff(initial=0.5, maximum=122.0))


@dataclass
class _SyncErrors:
    """What went wrong in one SyncPod (the PodSyncResult): whether it failed, and the earliest back-off end."""

    failed: bool = False
    retry_in: float | None = None

    def backoff(self, seconds: float) -> None:
        self.failed = True
        self.retry_in = seconds if self.retry_in is None else min(self.retry_in, seconds)

    def result(self) -> SyncResult:
        if not self.failed:
            return SYNCED
        return SyncResult(failed=True, retry_in=self.retry_in)


class Kubelet:
    def __init__(
        self,
        store: Store,
        runtime: ContainerRuntime,
        *,
        node_name: str,
        pod_infra_image: str,
        state_dir: Path,
        recorder: EventRecorder,
        host_ip: str = "",
        prober: Prober | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.runtime = runtime
        self.node_name = node_name
        self.pod_infra_image = pod_infra_image
        self.state_dir = state_dir
        self.recorder = recorder
        self.host_ip = host_ip
        self.prober: Prober = prober or NoProbes()
        self.clock = clock
        self.monotonic = monotonic
        self.status_manager = StatusManager(store, clock=clock)
        self.pod_workers = PodWorkers(self.sync, on_exit=self._forget)
        self.restart_backoff = Backoff()
        self.pull_backoff = Backoff()
        # The last failed pull's error by pull back-off key, which the ImagePullBackOff message carries (v1.32+).
        self._pull_errors: dict[str, str] = {}
        # Image pulls one at a time (the kubelet's serializeImagePulls, on by default): the Pulled event tells the
        # pull's own time and the time including the wait for the pulls before it.
        self._pull_lock = asyncio.Lock()
        self.lifecycle = LifecycleHistory()  # what each container went through, for `minikubelet timeline`
        self._pods: dict[str, _PodState] = {}
        # Pods whose termination is complete (SyncTerminatedPod done) while their object remains, held by a
        # finalizer: not synced again, so their final status is not overwritten.
        self._terminated: set[str] = set()

    # ------------------------------------------------------------------------------------------- loops

    async def run(self) -> None:
        """Adopt, then keep every pod of this node in sync until cancelled (the sync loop)."""
        while True:
            try:
                await self.adopt()
                await self._report_runtime()
                break
            except ContainerRuntimeError as exc:
                log.warning("the container engine does not answer (%s); trying again", exc)
                await asyncio.sleep(2.0)
        async with asyncio.TaskGroup() as group:
            group.create_task(self.pod_workers.run(), name="kubelet-pod-workers")
            group.create_task(self._watch_pods(), name="kubelet-pods")
            group.create_task(self._watch_runtime(), name="kubelet-pleg")
            group.create_task(self._watch_probes(), name="kubelet-probe-results")

    async def adopt(self) -> None:
        """Keep the containers of pods still in the store; remove those of pods that are gone, and their emptyDir
        data (`pods/<uid>/`), which a pod deleted while no daemon ran would otherwise leave on disk for ever."""
        pods, _ = self.store.list("Pod", None, field_selector=f"spec.nodeName={self.node_name}")
        kept: dict[str, list[RuntimeContainer]] = {}
        for container in await self._remove_leftovers({p["metadata"]["uid"] for p in pods}):
            kept.setdefault(container.pod.uid, []).append(container)
        for pod in pods:
            self._restore_backoffs(as_pod(pod), kept.get(pod["metadata"]["uid"], []))

    async def shutdown(self, timeout: float = SHUTDOWN_SECONDS) -> None:
        """Before the daemon exits (`down`, after `run()` is cancelled, which ended the pod workers): finish what
        is owed to pods that are gone.

        A pod force-deleted just before `down` is gone from the store while its containers may still run: the
        containers and emptyDir data of every pod no longer in the store are removed (the watch may not have told
        the kubelet of the last deletions). The containers of pods still in the store keep running, for the next
        start to adopt, and a graceful deletion under way goes on after it. At most `timeout` seconds; whatever
        is left then, the next start's `adopt()` removes."""
        try:
            async with asyncio.timeout(timeout):
                await self._remove_leftovers(self._known_uids())
        except TimeoutError:
            log.warning("stopping with removals left after %.0fs; the next start finishes them", timeout)
        except ContainerRuntimeError as exc:
            log.warning("stopping with removals left (%s); the next start finishes them", exc)

    def _known_uids(self) -> set[str]:
        pods, _ = self.store.list("Pod", None, field_selector=f"spec.nodeName={self.node_name}")
        return {p["metadata"]["uid"] for p in pods}

    async def _remove_leftovers(self, known: set[str]) -> list[RuntimeContainer]:
        """Remove the containers and the volume directories of pods not in `known`, pod by pod in parallel;
        the containers of `known` pods, which are kept."""
        gone: dict[str, list[RuntimeContainer]] = {}
        kept: list[RuntimeContainer] = []
        for container in await self.runtime.list_containers():
            if container.pod.uid in known:
                kept.append(container)
            else:
                log.info("removing container %s of a pod that is gone (%s)", container.id[:12], container.pod.name)
                gone.setdefault(container.pod.uid, []).append(container)

        results = await asyncio.gather(*(self._remove_pod_containers(c) for c in gone.values()), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        with contextlib.suppress(OSError):
            for directory in (self.state_dir / "pods").iterdir():
                if directory.name not in known and directory.is_dir() and not directory.is_symlink():
                    log.info("removing the volumes of a pod that is gone (%s)", directory.name)
                    self._remove_volumes(directory.name)
        return kept

    def _restore_backoffs(self, pod: Pod, observed: list[RuntimeContainer]) -> None:
        """A restarted daemon goes on with each container's restart back-off instead of starting a crash loop
        afresh. The delay is rebuilt from the latest instance: every restart doubled it from 10 s (capped at
        5 min), unless the instance before ran long enough to reset it; it counts from that instance's creation."""
        groups = instances_by_name(observed)
        for container in [*pod["spec"].get("initContainers", []), *pod["spec"].get("containers", [])]:
            instances = groups.get(container["name"], [])
            since = (instances[0].created_at or instances[0].started_at) if instances else None
            if not instances or instances[0].attempt < 1 or since is None:
                continue
            previous = instances[1] if len(instances) > 1 else None
            reset = (
                previous is not None
                and previous.finished_at is not None
                and previous.created_at is not None
                and (previous.finished_at - previous.created_at).total_seconds() > 2 * self.restart_backoff.maximum
            )
            key = _backoff_key(pod, container)
            # Backoff.failed() starts an entry at 10 s, then doubles it: once per restart rebuilds the delay.
            for _ in range(1 if reset else min(instances[0].attempt, 16)):
                self.restart_backoff.failed(key, now=since.timestamp())

    async def _report_runtime(self) -> None:
        """The Node tells which engine runs its pods (containerRuntimeVersion)."""
        version = await self.runtime.version()

        def report(node: dict[str, Any]) -> dict[str, Any] | None:
            info = node.setdefault("status", {}).setdefault("nodeInfo", {})
            if info.get("containerRuntimeVersion") == version:
                return None
            info["containerRuntimeVersion"] = version
            return node

        with contextlib.suppress(NotFoundError):
            self.store.update_with("Node", "", self.node_name, report)

    async def _watch_pods(self) -> None:
        """The config source: every pod bound to this node, then every change to one."""
        pods, rv = self.store.list("Pod", None, field_selector=f"spec.nodeName={self.node_name}")
        for pod in pods:
            self._update_pod(as_pod(pod))
        watch = self.store.watch("Pod", None, resource_version=rv, field_selector=f"spec.nodeName={self.node_name}")
        try:
            async for _kind, pod in watch:
                self._update_pod(as_pod(pod))
        finally:
            watch.close()

    def _update_pod(self, pod: Pod) -> None:
        meta = pod["metadata"]
        self.pod_workers.update_pod(PodRef(meta["uid"], meta["name"], meta["namespace"]))

    async def _watch_runtime(self) -> None:
        """The PLEG: an engine event about a container wakes its pod's worker; after losing the engine's events,
        every pod is synced again."""
        while True:
            try:
                async for event in self.runtime.events():
                    self.pod_workers.wake(event.pod_uid)
            except ContainerRuntimeError as exc:
                log.warning("lost the container engine's events (%s); resyncing", exc)
            for uid in self.pod_workers.known():
                self.pod_workers.wake(uid)
            await asyncio.sleep(1.0)

    async def _watch_probes(self) -> None:
        """The probe result updates (syncLoopIteration's livenessManager / readinessManager / startupManager
        cases): readiness and startup are written into the status at once; then the pod is synced
        (handleProbeSync), for a liveness result only when it is a failure."""
        updates = self.prober.updates
        while True:
            update = await updates.get()
            ref = self.pod_workers.ref(update.pod_uid)
            if ref is None:
                continue
            if update.kind is ProbeKind.READINESS:
                self.status_manager.set_container_readiness(ref, update.container_id, update.verdict is Verdict.SUCCESS)
            elif update.kind is ProbeKind.STARTUP:
                self.status_manager.set_container_startup(ref, update.container_id, update.verdict is Verdict.SUCCESS)
            elif update.verdict is not Verdict.FAILURE:
                continue
            self.pod_workers.wake(update.pod_uid)

    def _forget(self, ref: PodRef) -> None:
        """The pod's worker ended (the pod is gone): forget what was kept for it."""
        self._pods.pop(ref.uid, None)

    # -------------------------------------------------------------------------------------------- sync

    async def sync(self, ref: PodRef) -> SyncResult:
        """One pod worker pass: SyncPod for a pod that runs, SyncTerminatingPod then SyncTerminatedPod for one
        being deleted (or gone), the kill of what still runs for one that finished. DONE ends the worker."""
        pod = self._current(ref)
        observed = await self.runtime.list_containers(pod_uid=ref.uid)
        if pod is None:  # force-deleted, or gone while this kubelet did not look
            await self.sync_terminated_pod(ref, observed)
            self._terminated.discard(ref.uid)
            return DONE
        if ref.uid in self._terminated:
            return DONE  # terminated, its object kept by a finalizer: its last status stays as it was written
        state = self._pods.setdefault(ref.uid, _PodState())
        self.prober.add_pod(pod)
        if pod["metadata"].get("deletionTimestamp"):
            await self.sync_terminating_pod(pod, observed, state)
            await self.sync_terminated_pod(ref, await self.runtime.list_containers(pod_uid=ref.uid))
            self._terminated.add(ref.uid)
            meta = pod["metadata"]
            with contextlib.suppress(NotFoundError, ConflictError):
                self.store.delete("Pod", meta["namespace"], meta["name"], uid=meta["uid"])
            return DONE
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            await self._kill_pod(pod, observed, grace=None)  # what still runs of a finished pod: sidecars, debuggers
            return SYNCED
        return await self.sync_pod(pod, observed, state)

    def _current(self, ref: PodRef) -> Pod | None:
        try:
            pod = as_pod(self.store.get("Pod", ref.namespace, ref.name))
        except NotFoundError:
            return None
        if pod["metadata"].get("uid") != ref.uid or pod.get("spec", {}).get("nodeName") != self.node_name:
            return None
        return pod

    async def sync_pod(self, pod: Pod, observed: list[RuntimeContainer], state: _PodState) -> SyncResult:
        """kubelet.go SyncPod: the status first (generateAPIPodStatus, then the status manager), then the runtime's
        SyncPod with the actions computePodActions chose, then the status of what that did."""
        self._write_status(pod, observed, state)
        actions = compute_pod_actions(pod, observed, self.prober.result)
        errors = _SyncErrors()
        await self._collect_garbage(instances_by_name(observed))
        if actions.changes_nothing():
            return errors.result()  # what runs is what the status just written shows
        await self._execute(pod, observed, actions, state, errors)
        after = await self.runtime.list_containers(pod_uid=pod["metadata"]["uid"])
        self._write_status(
            self._current(PodRef(pod["metadata"]["uid"], pod["metadata"]["name"], pod["metadata"]["namespace"])) or pod,
            after,
            state,
        )
        return errors.result()

    async def _execute(
        self, pod: Pod, observed: list[RuntimeContainer], actions: PodActions, state: _PodState, errors: _SyncErrors
    ) -> None:
        """kuberuntime_manager.go SyncPod, steps 2 to 8, for the actions computed."""
        spec = pod["spec"]
        if actions.create_sandbox and actions.sandbox_id:
            self.recorder.record(pod, "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
        if actions.kill_pod:
            # The network of a sandbox that died is gone: what ran in it is stopped with the short grace.
            await self._kill_pod(pod, observed, grace=MIN_GRACE_SECONDS if actions.create_sandbox else None)
            if actions.create_sandbox:
                await self._purge_sandboxes(observed)
        else:
            results = await asyncio.gather(
                *(self._kill(pod, cid, info) for cid, info in actions.containers_to_kill.items()), return_exceptions=True
            )
            for result in results:
                if isinstance(result, BaseException):
                    raise result
        if not actions.create_sandbox and actions.kill_pod:
            return
        sandbox = latest_sandbox(observed)
        if actions.create_sandbox:
            sandbox = await self._create_sandbox(pod, actions.attempt, errors)
            if sandbox is None:
                return
        assert sandbox is not None
        groups = instances_by_name(observed)
        for index in actions.ephemeral_containers_to_start:
            await self._start(
                pod, spec["ephemeralContainers"][index], "ephemeral", observed, sandbox, state, errors, groups=groups
            )
        for index in actions.init_containers_to_start:
            container = spec["initContainers"][index]
            if not await self._start(pod, container, "init", observed, sandbox, state, errors):
                if is_restartable_init_container(container):
                    continue
                return
        for index in actions.containers_to_start:
            await self._start(pod, spec["containers"][index], "app", observed, sandbox, state, errors)

    async def _kill_pod(self, pod: Pod, observed: list[RuntimeContainer], *, grace: int | None) -> None:
        """killPodWithSyncResult: every running container stopped — the regular ones together, then the sidecars one
        by one in the reverse of their start order — then the sandbox (which stays, stopped, for the pod's last
        status)."""
        running = [c for c in observed if c.kind != "sandbox" and c.state == "running"]
        sidecars = {c["name"] for c in pod["spec"].get("initContainers", []) if is_restartable_init_container(c)}

        async def stop(instances: list[RuntimeContainer], grace: int | None) -> None:
            await asyncio.gather(*(self._kill(pod, c.id, _stopping(pod, c), grace=grace) for c in instances))

        budget, started = grace if grace is not None else _deletion_grace(pod), self.monotonic()
        await stop([c for c in running if c.name not in sidecars], grace)
        order = [c["name"] for c in pod["spec"].get("initContainers", []) if c["name"] in sidecars]
        for name in reversed(order):  # the sidecars last, the one started last first (terminationOrdering)...
            left = max(budget - int(self.monotonic() - started), 0)  # ...within what is left of the grace period
            await stop([c for c in running if c.name == name], left)
        for sandbox in (c for c in observed if c.kind == "sandbox" and c.state == "running"):
            await self.runtime.stop_container(sandbox.id, timeout=MIN_GRACE_SECONDS)

    async def _purge_sandboxes(self, observed: list[RuntimeContainer]) -> None:
        """A new sandbox replaces the old: the old one goes, and so do the init containers' instances
        (purgeInitContainers), which must run again in the new sandbox."""
        for container in observed:
            if container.kind in ("sandbox", "init"):
                await self._remove_quietly(container)

    async def sync_terminating_pod(self, pod: Pod, observed: list[RuntimeContainer], state: _PodState) -> None:
        """SyncTerminatingPod: write the status, stop the liveness and startup probes (readiness goes on, and the
        status manager writes what it finds), kill every container in parallel within the grace period, then
        write the final status, in which the pod's phase is Succeeded or Failed.

        While the containers stop, a second delete may shorten the grace period (or force-delete the object);
        as the kubelet's pod worker does with a shorter override, the containers are then stopped again with
        the shorter period (never under the 2 s floor)."""
        meta = pod["metadata"]
        ref = PodRef(meta["uid"], meta["name"], meta["namespace"])
        self._write_status(pod, observed, state)
        self.prober.stop_liveness_and_startup(meta["uid"])
        running = [c for c in observed if c.kind != "sandbox" and c.state == "running"]
        kills = asyncio.ensure_future(self._kill_pod(pod, observed, grace=None))
        grace = _deletion_grace(pod)
        shorter: list[asyncio.Task[None]] = []
        try:
            while not (await asyncio.wait({kills}, timeout=TERMINATION_POLL_SECONDS))[0]:
                current = self._current(ref)
                now = 0 if current is None else _deletion_grace(current)
                if now < grace:
                    grace = now
                    timeout = max(now, MIN_GRACE_SECONDS)
                    shorter.extend(asyncio.create_task(self.runtime.stop_container(c.id, timeout=timeout)) for c in running)
            await kills
        finally:
            kills.cancel()
            await asyncio.gather(*shorter, return_exceptions=True)
        self.prober.remove_pod(meta["uid"])
        current = self._current(ref)
        if current is not None:
            stopped = await self.runtime.list_containers(pod_uid=meta["uid"])
            self._write_status(current, stopped, state, terminal=True)

    async def sync_terminated_pod(self, ref: PodRef, observed: list[RuntimeContainer]) -> None:
        """SyncTerminatedPod and the cleanup after it: the pod's containers, sandbox and emptyDirs removed."""
        self.prober.remove_pod(ref.uid)
        self.lifecycle.forget(ref.uid)
        self._forget_pull_errors(ref.uid)
        await self._remove_pod_containers(observed)
        self._remove_volumes(ref.uid)

    # ---------------------------------------------------------------------------------------- starting

    async def _start(
        self,
        pod: Pod,
        container: Container,
        kind: ContainerKind,
        observed: list[RuntimeContainer],
        sandbox: RuntimeContainer,
        state: _PodState,
        errors: _SyncErrors,
        *,
        groups: dict[str, list[RuntimeContainer]] | None = None,
    ) -> bool:
        """SyncPod's `start`: doBackOff against what the sync observed at its start, then startContainer (the
        image, the container's config, create, start, the postStart hook). False when it did not start.
        `groups` (the pod's instances by name) finds an ephemeral container's target."""
        name = container["name"]
        meta = pod["metadata"]
        exited = find_exited(observed, name)
        if exited is not None and kind != "ephemeral":
            key = _backoff_key(pod, container)
            finished = exited.finished_at.timestamp() if exited.finished_at else 0.0
            now = self.clock().timestamp()
            delay = self.restart_backoff.check(key, finished_at=finished, now=now)
            if delay is not None:
                # The timeline notes the wait on the instance the status shows. When that is one this sync just
                # killed (a liveness kill judged by the instance before it), the next sync judges again by the
                # killed one, whose back-off then runs from now.
                shown = find_latest(observed, name) or exited
                until = finished + delay if shown.id == exited.id else now + delay
                self.lifecycle.backoff(meta["uid"], name, shown.id, until=until)
                pod_id = f"{meta['name']}_{meta['namespace']}({meta['uid']})"
                message = f"back-off {go_duration(delay)} restarting failed container={name} pod={pod_id}"
                state.waiting[name] = Waiting("CrashLoopBackOff", message)
                self.recorder.record(
                    pod,
                    "Warning",
                    "BackOff",
                    f"Back-off restarting failed container {name} in pod {pod_id}",
                    field_path=_field_path(pod, name),
                )
                errors.backoff(finished + delay - now)  # a BackoffError: the worker requeues when it ends
                return False
        image_id = await self._ensure_image(pod, container, state)
        if image_id is None:
            errors.failed = True
            return False
        target = None
        target_name = str(container.get("targetContainerName") or "")
        if target_name:
            # startSpec.getTargetID: the target's latest instance, whatever its state (the engine then says whether
            # its process namespace can be joined).
            instances = (groups or {}).get(target_name, [])
            if not instances:
                message = f"unable to find target container {target_name}"
                state.waiting[name] = Waiting("CreateContainerConfigError", message)
                self.recorder.record(pod, "Warning", "Failed", f"Error: {message}", field_path=_field_path(pod, name))
                errors.failed = True
                return False
            target = instances[0].id
        latest = find_latest(observed, name)
        attempt = latest.attempt + 1 if latest is not None else _attempt_after_vanished(pod, name)
        # The resolved subPaths stay open until the engine has bound them, at start (kubelet/subpath.py), and are
        # closed however this ends.
        with HeldSubPaths(self.state_dir / "pods" / meta["uid"]) as subpaths:
            try:
                spec = build_spec(
                    pod,
                    container,
                    kind=kind,
                    attempt=attempt,
                    sandbox_id=sandbox.id,
                    pod_ip=sandbox.ip,
                    host_ip=self.host_ip,
                    volumes=self._volumes(pod),
                    subpaths=subpaths,
                    target=target,
                )
            except SubPathError as exc:
                self._config_error(pod, name, exc, state)
                errors.failed = True
                return False
            try:
                cid = await self.runtime.create_container(spec)
            except ContainerRuntimeError as exc:
                state.waiting[name] = Waiting("CreateContainerError", str(exc))
                self.recorder.record(pod, "Warning", "Failed", f"Error: {exc}", field_path=_field_path(pod, name))
                errors.failed = True
                return False
            self.recorder.record(pod, "Normal", "Created", "Container created", field_path=_field_path(pod, name))
            try:
                await self.runtime.start_container(cid)
            except ContainerRuntimeError as exc:
                state.waiting[name] = Waiting("RunContainerError", str(exc))
                self.recorder.record(pod, "Warning", "Failed", f"Error: {exc}", field_path=_field_path(pod, name))
                errors.failed = True
                return False
        state.waiting.pop(name, None)
        self.recorder.record(pod, "Normal", "Started", "Container started", field_path=_field_path(pod, name))
        hook = (container.get("lifecycle") or {}).get("postStart")
        if hook:
            # startContainer's step 4: the postStart hook, with no deadline of its own. A failure is told without its
            # message (which may hold secrets), the container is killed and waits with the message.
            failure = await self._run_hook(pod, container, cid, hook, timeout=None, pod_ip=sandbox.ip)
            if failure is not None:
                where = _field_path(pod, name)
                self.recorder.record(pod, "Warning", "FailedPostStartHook", "PostStartHook failed", field_path=where)
                await self._kill(pod, cid, KillInfo(name, container, "FailedPostStartHook"))
                state.waiting[name] = Waiting("PostStartHookError", failure)
                errors.failed = True
                return False
        return True

    def _config_error(self, pod: Pod, name: str, exc: SubPathError, state: _PodState) -> None:
        """startContainer when generateContainerConfig fails (kuberuntime_container.go): the container waits in
        CreateContainerConfigError with the message, a `Failed` event says `Error: <message>`, and the pod is
        synced again after the pod worker's back-off. The host details go to the log only, as makeMounts logs
        them."""
        meta = pod["metadata"]
        detail = "" if exc.detail == exc.message else f": {exc.detail}"
        log.warning("pod %s/%s: %s%s", meta["namespace"], meta["name"], exc.message, detail)
        state.waiting[name] = Waiting("CreateContainerConfigError", exc.message)
        self.recorder.record(pod, "Warning", "Failed", f"Error: {exc.message}", field_path=_field_path(pod, name))

    async def _ensure_image(self, pod: Pod, container: Container, state: _PodState) -> str | None:
        """EnsureImageExists: imagePullPolicy with the kubelet's events and its own pull back-off; None: not now."""
        name, image = container["name"], container["image"]
        where = _field_path(pod, name)
        ref = parse_image(image)
        if ref is None:
            message = (
                f'Failed to apply default image tag "{image}": couldn\'t parse image name "{image}": invalid reference format'
            )
            state.waiting[name] = Waiting("InvalidImageName", message)
            self.recorder.record(pod, "Warning", "InspectFailed", message, field_path=where)
            return None
        policy = container.get("imagePullPolicy", "IfNotPresent")
        present = await self.runtime.image_id(image)
        if present is not None and policy != "Always":
            message = f'Container image "{image}" already present on machine and can be accessed by the pod'
            self.recorder.record(pod, "Normal", "Pulled", message, field_path=where)
            return present
        if policy == "Never":
            message = f'Container image "{image}" is not present with pull policy of Never'
            state.waiting[name] = Waiting("ErrImageNeverPull", message)
            self.recorder.record(pod, "Warning", "ErrImageNeverPull", message, field_path=where)
            return None
        key = f"{pod['metadata']['uid']}_{image}"
        if self.pull_backoff.in_backoff(key, now=self.monotonic()) is not None:
            # The waiting message wraps the last pull's error; the event does not (image_manager.go pullImage).
            message = f'Back-off pulling image "{image}"'
            if key in self._pull_errors:
                message += f": {self._pull_errors[key]}"
            state.waiting[name] = Waiting("ImagePullBackOff", message)
            self.recorder.record(pod, "Normal", "BackOff", f'Back-off pulling image "{image}"', field_path=where)
            self.recorder.record(pod, "Warning", "Failed", "Error: ImagePullBackOff", field_path=where)
            return None
        self._pull_errors.pop(key, None)
        self.recorder.record(pod, "Normal", "Pulling", f'Pulling image "{image}"', field_path=where)
        queued = self.monotonic()
        async with self._pull_lock:
            started = self.monotonic()
            try:
                image_id = await self.runtime.pull_image(image)
            except ImagePullError as exc:
                self.pull_backoff.failed(key, now=self.monotonic())
                self._pull_errors[key] = f"ErrImagePull: {exc}"
                state.waiting[name] = Waiting("ErrImagePull", str(exc))
                self.recorder.record(pod, "Warning", "Failed", f'Failed to pull image "{image}": {exc}', field_path=where)
                self.recorder.record(pod, "Warning", "Failed", "Error: ErrImagePull", field_path=where)
                return None
            done = self.monotonic()
        took, waited = go_duration(round(done - started, 3)), go_duration(round(done - queued, 3))
        size = await self.runtime.image_size(image)
        message = f'Successfully pulled image "{image}" in {took} ({waited} including waiting). Image size: {size} bytes.'
        self.recorder.record(pod, "Normal", "Pulled", message, field_path=where)
        self.pull_backoff.reset(key)
        return image_id

    def _forget_pull_errors(self, uid: str) -> None:
        for key in [key for key in self._pull_errors if key.startswith(f"{uid}_")]:
            del self._pull_errors[key]

    async def _create_sandbox(self, pod: Pod, attempt: int, errors: _SyncErrors) -> RuntimeContainer | None:
        """createPodSandbox, after the pod's volumes are set up (WaitForAttachAndMount)."""
        meta = pod["metadata"]
        if not self._set_up_volumes(pod, self._pods[meta["uid"]]):
            errors.failed = True
            return None
        if await self.runtime.image_id(self.pod_infra_image) is None:
            try:
                await self.runtime.pull_image(self.pod_infra_image)
            except ImagePullError as exc:
                self.recorder.record(
                    pod,
                    "Warning",
                    "FailedCreatePodSandBox",
                    f'Failed to create pod sandbox: failed to pull image "{self.pod_infra_image}": {exc}',
                )
                errors.failed = True
                return None
        ports = [
            PortBinding(p["containerPort"], p.get("protocol", "TCP"), p["hostPort"], p.get("hostIP", ""))
            for c in pod["spec"].get("containers", [])
            for p in c.get("ports", [])
            if p.get("hostPort")
        ]
        hostname = pod["spec"].get("hostname") or meta["name"]
        try:
            spec = sandbox_spec(pod, image=self.pod_infra_image, hostname=hostname[:63], attempt=attempt, ports=ports)
            return await self.runtime.run_sandbox(spec)
        except ContainerRuntimeError as exc:
            self.recorder.record(pod, "Warning", "FailedCreatePodSandBox", f"Failed to create pod sandbox: {exc}")
            errors.failed = True
            return None

    def _set_up_volumes(self, pod: Pod, state: _PodState) -> bool:
        """The pod's emptyDirs, as the volume manager's MountVolume.SetUp; False while one cannot be made.

        A failure (a read-only or full home) is told as the operation executor does: a `FailedMount` event
        `MountVolume.SetUp failed for volume "v" : mkdir ...: read-only file system` on the pod (the recorder
        folds the repeats into its count) and one warning line in the log, then retried after an exponential
        back-off (0.5 s doubling to 2 min 2 s, as nestedpendingoperations), not at every sync. Meanwhile the pod
        stays Pending, its containers waiting in ContainerCreating."""
        now = self.monotonic()
        if state.mount_backoff.in_backoff("volumes", now=now) is not None:
            return False
        for name, (directory, owned) in self._volumes(pod).items():
            if not owned:
                continue
            try:
                step = "mkdir"
                directory.mkdir(parents=True, exist_ok=True)
                step = "chmod"
                directory.chmod(0o777)  # as the kubelet's emptyDir: writable whatever runAsUser is
            except OSError as exc:
                message = f'MountVolume.SetUp failed for volume "{name}" : {_go_os_error(step, exc)}'
                meta = pod["metadata"]
                log.warning("pod %s/%s: %s", meta["namespace"], meta["name"], message)
                self.recorder.record(pod, "Warning", "FailedMount", message)
                state.mount_backoff.failed("volumes", now=now)
                return False
        state.mount_backoff.reset("volumes")
        return True

    # ---------------------------------------------------------------------------------------- stopping

    async def _kill(self, pod: Pod, container_id: str, info: KillInfo, *, grace: int | None = None) -> None:
        """killContainer: Killing event, preStop within the grace period, then stop with a 2 s floor. The grace
        period is setTerminationGracePeriod's: the deletion's, else the killing probe's own, else the pod's."""
        name = info.name
        if grace is None:
            grace = _kill_grace(pod, info)
        self.recorder.record(pod, "Normal", "Killing", info.message, field_path=_field_path(pod, name))
        self.lifecycle.killing(pod["metadata"]["uid"], name, container_id, info.message, now=self.clock().timestamp())
        hook = (info.container.get("lifecycle") or {}).get("preStop")
        if hook and grace > 0:
            # executePreStopHook: the hook within the grace period; what it took comes off the grace period.
            started = self.monotonic()
            try:
                async with asyncio.timeout(grace):
                    failure = await self._run_hook(pod, as_container(info.container), container_id, hook, timeout=None)
            except TimeoutError:
                log.info("preStop hook of %s not completed in grace period", name)
            else:
                if failure is not None:
                    where = _field_path(pod, name)
                    self.recorder.record(pod, "Warning", "FailedPreStopHook", "PreStopHook failed", field_path=where)
            grace -= int(self.monotonic() - started)
        await self.runtime.stop_container(container_id, timeout=max(grace, MIN_GRACE_SECONDS))  # type: ignore[arg-type]

    async def _collect_garbage(self, groups: dict[str, list[RuntimeContainer]]) -> None:
        for instances in groups.values():
            for old in instances[KEEP_INSTANCES:]:
                if old.state != "running":
                    await self._remove_quietly(old)

    async def _remove_pod_containers(self, containers: list[RuntimeContainer]) -> None:
        """A pod's containers gone, as killPodWithSyncResult orders it: every container first, the sandbox last.
        The sandbox holds the pod's IP: removed while a container still runs in its network namespace, its
        address would be free for the next pod while that namespace, still answering for it on the bridge,
        lives on with the container."""
        await asyncio.gather(*(self._remove_quietly(c) for c in containers if c.kind != "sandbox"))
        for sandbox in (c for c in containers if c.kind == "sandbox"):
            await self._remove_quietly(sandbox)

    async def _remove_quietly(self, container: RuntimeContainer) -> None:
        try:
            if container.state == "running":
                await self.runtime.stop_container(container.id, timeout=MIN_GRACE_SECONDS)
            await self.runtime.remove_container(container.id)
        except ContainerNotFoundError:
            pass

    def _remove_volumes(self, uid: str) -> None:
        shutil.rmtree(self.state_dir / "pods" / uid, ignore_errors=True)

    def _volumes(self, pod: Pod) -> dict[str, tuple[Path, bool]]:
        return volume_dirs(pod, self.state_dir)

    async def _run_hook(
        self,
        pod: Pod,
        container: Container,
        container_id: str,
        hook: LifecycleHandler,
        *,
        timeout: float | None,
        pod_ip: str | None = None,
    ) -> str | None:
        """The lifecycle handler runner (kubelet/lifecycle.py): None when the hook succeeded, else its message."""

        def warn(reason: str, message: str) -> None:
            self.recorder.record(pod, "Warning", reason, message)

        return await run_handler(self.runtime, pod, container, container_id, hook, timeout=timeout, pod_ip=pod_ip, warn=warn)

    # -------------------------------------------------------------------------------------------- logs

    async def open_logs(
        self,
        namespace: str,
        name: str,
        *,
        container: str = "",
        previous: bool = False,
        follow: bool = False,
        tail: int | None = None,
        since: datetime | None = None,
        timestamps: bool = False,
    ) -> AsyncIterator[bytes]:
        """A container's output, as `GET .../pods/<name>/log` serves it; errors in the API server's words."""
        pod = as_pod(self.store.get("Pod", namespace, name))
        names = container_names(pod)
        if not container:
            regular = [c["name"] for c in pod["spec"].get("containers", [])]
            if len(regular) != 1:
                raise BadRequestError(f"a container name must be specified for pod {name}, choose one of: [{' '.join(regular)}]")
            container = regular[0]
        if container not in names:
            raise BadRequestError(f"container {container} is not valid for pod {name}")
        observed = await self.runtime.list_containers(pod_uid=pod["metadata"]["uid"])
        instances = instances_by_name(observed).get(container, [])
        reported = find_status(pod_status(pod), container)
        if reported is None:  # no status written yet
            if previous or not instances:
                waiting = self._pods.get(pod["metadata"]["uid"], _PodState()).waiting.get(container)
                reason = waiting.reason if waiting else "ContainerCreating"
                reported = ContainerStatus(name=container, state={"waiting": {"reason": reason}})
            else:
                reported = ContainerStatus(name=container, state={"running": {}}, containerID=instances[0].id)
        wanted = _log_source(name, container, reported, previous=previous)
        chosen = next((c for c in instances if wanted in (c.id, f"docker://{c.id}")), None)
        if chosen is None:
            raise BadRequestError(f'container "{container}" in pod "{name}" is not available')
        return self.runtime.logs(chosen.id, follow=follow, tail=tail, since=since, timestamps=timestamps)

    # ------------------------------------------------------------------------------------------ status

    def _write_status(self, pod: Pod, observed: list[RuntimeContainer], state: _PodState, *, terminal: bool = False) -> None:
        """generateAPIPodStatus, then the status manager's SetPodStatus (which writes only a change). The reason
        cache gives a waiting reason only to a container that is to be started again."""
        waiting = {name: w for name, w in state.waiting.items() if _to_start_again(pod, observed, name)}
        status = compute_status(
            pod, observed, waiting=waiting, now=self.clock(), host_ip=self.host_ip, prober=self.prober, terminal=terminal
        )
        self.lifecycle.observe(pod["metadata"]["uid"], status, observed, now=self.clock().timestamp())
        self.status_manager.set_pod_status(pod, status)


def _to_start_again(pod: Pod, observed: list[RuntimeContainer], name: str) -> bool:
    """convertToAPIContainerStatuses' filter of the reason cache: an init container that succeeded, or a regular
    container its restart policy does not restart (ContainerShouldRestart), shows how it ended, not why it would
    wait."""
    latest = find_latest(observed, name)
    kind = container_kind(pod, name)
    container = find_container(pod, name)
    if latest is None or latest.state != "exited" or container is None or kind == "ephemeral":
        return True
    if kind == "init":
        return latest.exit_code != 0
    return container_should_restart(container, pod["spec"], latest.exit_code)


def _log_source(pod: str, container: str, status: ContainerStatus, *, previous: bool) -> str:
    """The kubelet's validateContainerLogStatus: from a container's reported status, the ID of the instance
    whose logs to serve, or the refusal (BadRequestError). In a crash loop (waiting, with a last state) the
    current logs are those of the last run, and so are the previous ones."""
    state: ContainerState = status.get("state") or {}
    last: ContainerStateTerminated | dict[str, str] = (status.get("lastState") or {}).get("terminated") or {}
    if previous:
        wanted = last.get("containerID", "")
        message = f'previous terminated container "{container}" in pod "{pod}" not found'
    elif "running" in state:
        wanted, message = status.get("containerID", ""), f'container "{container}" in pod "{pod}" is not available'
    elif "terminated" in state or last:
        ended = state.get("terminated")
        wanted = (ended.get("containerID") if ended else "") or last.get("containerID", "")
        message = f'container "{container}" in pod "{pod}" is terminated'
    else:
        wanted, reason = "", (state.get("waiting") or {}).get("reason", "")
        words = {"ErrImagePull": "image can't be pulled", "ImagePullBackOff": "trying and failing to pull image"}
        message = f'container "{container}" in pod "{pod}" is waiting to start: {words.get(reason, reason)}'
        if not reason:
            message = f'container "{container}" in pod "{pod}" is waiting to start - no logs yet'
    if not wanted:
        raise BadRequestError(message)
    return str(wanted)


def _deletion_grace(pod: Pod) -> int:
    deletion = pod["metadata"].get("deletionGracePeriodSeconds")
    return int(deletion if deletion is not None else pod["spec"].get("terminationGracePeriodSeconds", 30))


def _attempt_after_vanished(pod: Pod, name: str) -> int:
    """The attempt of a container the engine holds no instance of: 0 at first, but one more than the restart
    count in the pod's status when an instance existed (someone removed it: its replacement is a restart)."""
    for previous in all_statuses(pod_status(pod)):
        if previous.get("name") == name and previous.get("containerID"):
            return int(previous.get("restartCount", 0)) + 1
    return 0


def _backoff_key(pod: Pod, container: Container) -> str:
    """The restart back-off's key, as the kubelet's: a changed definition starts a new back-off."""
    meta = pod["metadata"]
    return f"{meta['name']}_{meta['namespace']}_{meta['uid']}_{container['name']}_{spec_hash(container)}"


def _field_path(pod: Pod, container: str) -> str:
    """The field path of an event about `container`, as the kubelet's container reference gives it."""
    group = {"init": "initContainers", "ephemeral": "ephemeralContainers"}.get(container_kind(pod, container) or "", "containers")
    return f"spec.{group}{{{container}}}"


def _go_os_error(op: str, exc: OSError) -> str:
    """An OSError in Go's words (`mkdir /x/y: read-only file system`), as the kubelet's messages carry them."""
    text = exc.strerror or str(exc)
    text = text[:1].lower() + text[1:]
    return f"{op} {exc.filename}: {text}" if exc.filename else f"{op}: {text}"


def _stopping(pod: Pod, container: RuntimeContainer) -> KillInfo:
    """The kill of a pod's container when the whole pod stops (killContainersWithSyncResult)."""
    spec = find_container(pod, container.name) or Container(name=container.name)
    return KillInfo(container.name, spec, f"Stopping container {container.name}")


def _kill_grace(pod: Pod, info: KillInfo) -> int:
    """setTerminationGracePeriod: a deletion's grace period, else the killing probe's own
    terminationGracePeriodSeconds, else the pod's."""
    deletion = pod["metadata"].get("deletionGracePeriodSeconds")
    if deletion is not None:
        return int(deletion)
    probe_field = {"liveness": "livenessProbe", "startup": "startupProbe"}.get(info.reason)
    if probe_field:
        value = (info.container.get(probe_field) or {}).get("terminationGracePeriodSeconds")
        if value is not None:
            return int(value)
    return int(pod["spec"].get("terminationGracePeriodSeconds", 30))
