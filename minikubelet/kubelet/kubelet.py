"""The kubelet: makes the runtime match the pods bound to this node, and reports what it sees.

Shaped like the real one (pkg/kubelet): one worker per pod, each a task that syncs its pod when told to
(a change to the pod in the store, an event from the engine about one of its containers) and at least
every `RESYNC_SECONDS`; a sync looks at the runtime, decides, acts (sandbox, image, create/start, kill,
restart with back-off), then computes the status and writes it only when it changed. Workers never share
state except the back-offs and the recorder, and a slow image pull blocks only its own pod.

At start the kubelet adopts what it finds: containers of pods still in the store are kept as they are
(running ones are not restarted, restart counts continue from their labels, and so does the restart
back-off of a crash loop), containers of pods that are gone are removed. A container or sandbox removed
behind the kubelet's back is replaced as a restart (the count goes on from the pod's status); a lost
sandbox takes the pod's containers with it (`SandboxChanged`), except for a pod that never restarts.
Deletion follows kubelet-spec.md §8: preStop, SIGTERM, the grace period (2 s floor), SIGKILL, then the
sandbox and the pod's emptyDirs go, and the API object is removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import shutil
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from minikubelet.api.images import parse_image
from minikubelet.errors import (
    BadRequestError,
    ConflictError,
    ContainerNotFoundError,
    ContainerRuntimeError,
    ImagePullError,
    NotFoundError,
)
from minikubelet.kubelet.backoff import Backoff
from minikubelet.kubelet.containers import build_spec, sandbox_spec, spec_hash, volume_dirs
from minikubelet.kubelet.history import LifecycleHistory
from minikubelet.kubelet.status import ProbeView, Waiting, compute_status, instances_by_name, latest_sandbox
from minikubelet.kubelet.subpath import HeldSubPaths, SubPathError
from minikubelet.printing.durations import go_duration
from minikubelet.recorder import EventRecorder
from minikubelet.runtime.interface import (
    ContainerKind,
    ContainerRuntime,
    PodRef,
    PortBinding,
    RuntimeContainer,
)
from minikubelet.store import Store

__all__ = ["RESYNC_SECONDS", "SHUTDOWN_SECONDS", "Kubelet"]

log = logging.getLogger(__name__)

RESYNC_SECONDS = 10.0
# pod_workers.go: each pod's next resync is wait.Jitter(resyncInterval, 0.5), i.e. 1 to 1.5 times the interval,
# so pods started together do not all resync together (110 pods resyncing in one burst delayed probes ~200 ms).
RESYNC_JITTER = 0.5
MIN_GRACE_SECONDS = 2
TERMINATION_POLL_SECONDS = 0.5  # how often a terminating pod is checked for a shorter grace period
KEEP_INSTANCES = 2  # the current instance and the previous one (lastState, logs --previous)
SHUTDOWN_SECONDS = 20.0  # how long `shutdown` may take to finish the removals owed to pods that are gone


@dataclass
class _PodState:
    """What a worker remembers between syncs of one pod."""

    waiting: dict[str, Waiting] = field(default_factory=dict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    soon: bool = False  # something is due within a second (a back-off ending)
    backoff_told: set[str] = field(default_factory=set)  # instances whose BackOff event was recorded
    # Retries of a failed volume set-up: nestedpendingoperations' exponential back-off, 0.5 s doubling to 2m2s.
    mount_backoff: Backoff = field(default_factory=lambda: Backoff(initial=0.5, maximum=122.0))


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
        probes: ProbeView | None = None,
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
        self.probes = probes or ProbeView()
        self.clock = clock
        self.monotonic = monotonic
        self.restart_backoff = Backoff()
        self.pull_backoff = Backoff()
        # The last failed pull's error by pull back-off key, which the ImagePullBackOff message carries (v1.32+).
        self._pull_errors: dict[str, str] = {}
        self.lifecycle = LifecycleHistory()  # what each container went through, for `minikubelet timeline`
        self._pods: dict[str, _PodState] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    # ------------------------------------------------------------------------------------------- loops

    async def run(self) -> None:
        """Adopt, then keep every pod of this node in sync until cancelled."""
        while True:
            try:
                await self.adopt()
                await self._report_runtime()
                break
            except ContainerRuntimeError as exc:
                log.warning("the container engine does not answer (%s); trying again", exc)
                await asyncio.sleep(2.0)
        async with asyncio.TaskGroup() as group:
            group.create_task(self._watch_pods(), name="kubelet-pods")
            group.create_task(self._watch_runtime(), name="kubelet-runtime")

    async def adopt(self) -> None:
        """Keep the containers of pods still in the store; remove those of pods that are gone, and their emptyDir
        data (`pods/<uid>/`), which a pod deleted while no daemon ran would otherwise leave on disk for ever."""
        pods, _ = self.store.list("Pod", None, field_selector=f"spec.nodeName={self.node_name}")
        kept: dict[str, list[RuntimeContainer]] = {}
        for container in await self._remove_leftovers({p["metadata"]["uid"] for p in pods}):
            kept.setdefault(container.pod.uid, []).append(container)
        for pod in pods:
            self._restore_backoffs(pod, kept.get(pod["metadata"]["uid"], []))

    async def shutdown(self, timeout: float = SHUTDOWN_SECONDS) -> None:
        """Before the daemon exits (`down`, after `run()` is cancelled): finish what is owed to pods that are gone.

        A pod force-deleted just before `down` is gone from the store while its containers still run, and only
        its worker would remove them. So the workers of pods that are gone are woken and awaited, and then the
        containers and emptyDir data of any pod no longer in the store are removed (the watch may not have told
        the kubelet of the last deletions). The workers of pods still in the store are cancelled: their containers
        keep running, for the next start to adopt, and a graceful deletion under way goes on after it. At most
        `timeout` seconds; whatever is left then, the next start's `adopt()` removes."""
        known = self._known_uids()
        owed = []
        for uid, task in list(self._workers.items()):
            if uid in known:
                task.cancel()
            else:
                owed.append(task)
                self.poke(uid)
        try:
            async with asyncio.timeout(timeout):
                await asyncio.gather(*owed, return_exceptions=True)
                await self._remove_leftovers(self._known_uids())
        except TimeoutError:
            log.warning("stopping with removals left after %.0fs; the next start finishes them", timeout)
        except ContainerRuntimeError as exc:
            log.warning("stopping with removals left (%s); the next start finishes them", exc)
        finally:
            workers = list(self._workers.values())
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

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

    def _restore_backoffs(self, pod: dict[str, Any], observed: list[RuntimeContainer]) -> None:
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
        pods, rv = self.store.list("Pod", None, field_selector=f"spec.nodeName={self.node_name}")
        for pod in pods:
            self._poke(pod["metadata"]["uid"], pod)
        watch = self.store.watch("Pod", None, resource_version=rv, field_selector=f"spec.nodeName={self.node_name}")
        try:
            async for _kind, pod in watch:
                self._poke(pod["metadata"]["uid"], pod)
        finally:
            watch.close()

    async def _watch_runtime(self) -> None:
        while True:
            try:
                async for event in self.runtime.events():
                    if event.pod_uid in self._workers:
                        self._poke(event.pod_uid)
            except ContainerRuntimeError as exc:
                log.warning("lost the container engine's events (%s); resyncing", exc)
            for uid in list(self._workers):
                self._poke(uid)
            await asyncio.sleep(1.0)

    def poke(self, uid: str) -> None:
        """Sync this pod soon (the prober calls this when a verdict changes)."""
        if uid in self._pods:
            self._pods[uid].wake.set()

    def _poke(self, uid: str, pod: dict[str, Any] | None = None) -> None:
        state = self._pods.setdefault(uid, _PodState())
        state.wake.set()
        if uid not in self._workers and pod is not None:
            ref = PodRef(uid, pod["metadata"]["name"], pod["metadata"]["namespace"])
            self._workers[uid] = asyncio.create_task(self._worker(ref), name=f"pod-{ref.namespace}/{ref.name}")

    async def _worker(self, ref: PodRef) -> None:
        state = self._pods[ref.uid]
        try:
            while True:
                state.wake.clear()
                state.soon = False
                try:
                    if not await self.sync(ref):
                        return
                except ContainerRuntimeError as exc:
                    log.warning("sync of %s/%s: %s", ref.namespace, ref.name, exc)
                    state.soon = True
                except Exception:
                    log.exception("sync of %s/%s failed", ref.namespace, ref.name)
                    state.soon = True
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0 if state.soon else _jittered(RESYNC_SECONDS)):
                        await state.wake.wait()
        finally:
            self._workers.pop(ref.uid, None)
            self._pods.pop(ref.uid, None)

    # -------------------------------------------------------------------------------------------- sync

    async def sync(self, ref: PodRef) -> bool:
        """One pass over one pod; False once the pod is gone and cleaned up (the worker then ends)."""
        pod = self._current(ref)
        observed = await self.runtime.list_containers(pod_uid=ref.uid)
        if pod is None:
            self.probes.forget(ref.uid)
            self.lifecycle.forget(ref.uid)
            self._forget_pull_errors(ref.uid)
            await self._remove_pod_containers(observed)
            self._remove_volumes(ref.uid)
            return False
        self.probes.sync_pod(pod)
        if pod["metadata"].get("deletionTimestamp"):
            await self._terminate(pod, observed)
            self.probes.forget(ref.uid)
            self.lifecycle.forget(ref.uid)
            self._forget_pull_errors(ref.uid)
            return False
        state = self._pods.setdefault(ref.uid, _PodState())
        if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            await self._stop_finished(pod, observed)
        else:
            observed = await self._converge(pod, observed, state)
        self._write_status(pod, observed, state)
        return True

    def _current(self, ref: PodRef) -> dict[str, Any] | None:
        try:
            pod = self.store.get("Pod", ref.namespace, ref.name)
        except NotFoundError:
            return None
        if pod["metadata"].get("uid") != ref.uid or pod.get("spec", {}).get("nodeName") != self.node_name:
            return None
        return pod

    async def _converge(self, pod: dict[str, Any], observed: list[RuntimeContainer], state: _PodState) -> list[RuntimeContainer]:
        sandbox = latest_sandbox(observed)
        if sandbox is None or sandbox.state != "running":
            sandbox = await self._new_sandbox(pod, observed, sandbox)
            observed = await self.runtime.list_containers(pod_uid=pod["metadata"]["uid"])  # it stopped what ran
            if sandbox is None:
                return observed
        groups = instances_by_name(observed)
        spec = pod["spec"]
        policy = spec.get("restartPolicy", "Always")
        # computePodActions: an ephemeral container that never ran is started (before the init containers, so that
        # a pod stuck initializing can be debugged); one that ran is never started again, whatever the policy.
        for container in spec.get("ephemeralContainers", []):
            if not groups.get(container["name"]):
                await self._start_if_due(pod, container, "ephemeral", None, sandbox, state, groups=groups)
        for container in spec.get("initContainers", []):
            instances = groups.get(container["name"], [])
            latest = instances[0] if instances else None
            if latest is not None and latest.state == "exited" and latest.exit_code == 0:
                continue
            if latest is not None and latest.state in ("running", "created"):
                break
            if latest is not None and policy == "Never":
                break  # failed for good: the pod is Failed
            await self._start_if_due(pod, container, "init", latest, sandbox, state)
            break
        else:
            for container in spec.get("containers", []):
                instances = groups.get(container["name"], [])
                latest = instances[0] if instances else None
                if latest is not None and latest.state == "running":
                    reason = self._kill_reason(pod, container, latest)
                    if reason:
                        grace = self._probe_grace(pod, container, reason)
                        await self._kill(pod, latest, reason, grace=grace)
                        latest = await self.runtime.inspect_container(latest.id)
                    else:
                        state.waiting.pop(container["name"], None)
                        continue
                if latest is not None and not _should_restart(policy, latest):
                    state.waiting.pop(container["name"], None)
                    continue
                await self._start_if_due(pod, container, "app", latest, sandbox, state)
        await self._collect_garbage(groups)
        return await self.runtime.list_containers(pod_uid=pod["metadata"]["uid"])

    def _kill_reason(self, pod: dict[str, Any], container: dict[str, Any], running: RuntimeContainer) -> str:
        """computePodActions: a changed definition, then a failed liveness, then a failed startup probe."""
        name = container["name"]
        suffix = "" if pod["spec"].get("restartPolicy") == "Never" else ", will be restarted"
        if running.spec_hash and running.spec_hash != spec_hash(container):
            return f"Container {name} definition changed, will be restarted"
        failed = self.probes.failed(pod["metadata"]["uid"], name, running.id)
        return f"Container {name} failed {failed} probe{suffix}" if failed else ""

    def _probe_grace(self, pod: dict[str, Any], container: dict[str, Any], reason: str) -> int | None:
        """A probe's own terminationGracePeriodSeconds replaces the pod's for the kill it causes (§3.2)."""
        for kind, probe_field in (("liveness", "livenessProbe"), ("startup", "startupProbe")):
            if f"failed {kind} probe" in reason:
                value = (container.get(probe_field) or {}).get("terminationGracePeriodSeconds")
                if value is not None and not pod["metadata"].get("deletionGracePeriodSeconds"):
                    return int(value)
        return None

    async def _start_if_due(
        self,
        pod: dict[str, Any],
        container: dict[str, Any],
        kind: ContainerKind,
        latest: RuntimeContainer | None,
        sandbox: RuntimeContainer,
        state: _PodState,
        *,
        groups: dict[str, list[RuntimeContainer]] | None = None,
    ) -> None:
        """Start a new instance of `container` unless its restart back-off says not yet. `groups` (the pod's
        instances by name) finds an ephemeral container's target."""
        name = container["name"]
        meta = pod["metadata"]
        if latest is not None and latest.state == "exited":
            key = _backoff_key(pod, container)
            finished = latest.finished_at.timestamp() if latest.finished_at else 0.0
            wall_now = self.clock().timestamp()
            delay = self.restart_backoff.check(key, finished_at=finished, now=wall_now)
            if delay is not None:
                self.lifecycle.backoff(meta["uid"], name, latest.id, until=finished + delay)
                pod_id = f"{meta['name']}_{meta['namespace']}({meta['uid']})"
                message = f"back-off {go_duration(delay)} restarting failed container={name} pod={pod_id}"
                state.waiting[name] = Waiting("CrashLoopBackOff", message)
                state.soon = True
                if latest.id not in state.backoff_told:  # once per crashed instance, not at every re-check
                    state.backoff_told.add(latest.id)
                    self.recorder.record(
                        pod,
                        "Warning",
                        "BackOff",
                        f"Back-off restarting failed container {name} in pod {pod_id}",
                        field_path=_field_path(pod, name),
                    )
                return
        image_id = await self._ensure_image(pod, container, state)
        if image_id is None:
            return
        target = None
        if container.get("targetContainerName"):
            # startSpec.getTargetID: the target's latest instance, whatever its state (the engine then says whether
            # its process namespace can be joined).
            instances = (groups or {}).get(container["targetContainerName"], [])
            if not instances:
                message = f"unable to find target container {container['targetContainerName']}"
                state.waiting[name] = Waiting("CreateContainerConfigError", message)
                self.recorder.record(pod, "Warning", "Failed", f"Error: {message}", field_path=_field_path(pod, name))
                return
            target = instances[0].id
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
                return
            try:
                cid = await self.runtime.create_container(spec)
            except ContainerRuntimeError as exc:
                state.waiting[name] = Waiting("CreateContainerError", str(exc))
                self.recorder.record(pod, "Warning", "Failed", f"Error: {exc}", field_path=_field_path(pod, name))
                state.soon = True
                return
            self.recorder.record(pod, "Normal", "Created", f"Created container: {name}", field_path=_field_path(pod, name))
            try:
                await self.runtime.start_container(cid)
            except ContainerRuntimeError as exc:
                state.waiting[name] = Waiting("RunContainerError", str(exc))
                self.recorder.record(pod, "Warning", "Failed", f"Error: {exc}", field_path=_field_path(pod, name))
                return
        state.waiting.pop(name, None)
        self.recorder.record(pod, "Normal", "Started", f"Started container {name}", field_path=_field_path(pod, name))
        hook = (container.get("lifecycle") or {}).get("postStart")
        if hook and not await self._run_hook(cid, hook, timeout=float(pod["spec"].get("terminationGracePeriodSeconds", 30))):
            self.recorder.record(pod, "Warning", "FailedPostStartHook", "PostStartHook failed", field_path=_field_path(pod, name))
            instance = await self.runtime.inspect_container(cid)
            await self._kill(pod, instance, "FailedPostStartHook")

    def _config_error(self, pod: dict[str, Any], name: str, exc: SubPathError, state: _PodState) -> None:
        """startContainer when generateContainerConfig fails (kuberuntime_container.go): the container waits in
        CreateContainerConfigError with the message, a `Failed` event says `Error: <message>`, and the pod's next
        sync tries again (the resync, as the pod worker's 10 s back-off: no retry every second). The host details
        go to the log only, as makeMounts logs them."""
        meta = pod["metadata"]
        detail = "" if exc.detail == exc.message else f": {exc.detail}"
        log.warning("pod %s/%s: %s%s", meta["namespace"], meta["name"], exc.message, detail)
        state.waiting[name] = Waiting("CreateContainerConfigError", exc.message)
        self.recorder.record(pod, "Warning", "Failed", f"Error: {exc.message}", field_path=_field_path(pod, name))

    async def _ensure_image(self, pod: dict[str, Any], container: dict[str, Any], state: _PodState) -> str | None:
        """imagePullPolicy with the kubelet's events and its own pull back-off (§3.6); None: not now."""
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
            self.recorder.record(
                pod, "Normal", "Pulled", f'Container image "{image}" already present on machine', field_path=where
            )
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
            if f"pull:{key}" not in state.backoff_told:  # once per failed pull, not at every re-check
                state.backoff_told.add(f"pull:{key}")
                self.recorder.record(pod, "Normal", "BackOff", f'Back-off pulling image "{image}"', field_path=where)
                self.recorder.record(pod, "Warning", "Failed", "Error: ImagePullBackOff", field_path=where)
            state.soon = True
            return None
        state.backoff_told.discard(f"pull:{key}")
        self._pull_errors.pop(key, None)
        self.recorder.record(pod, "Normal", "Pulling", f'Pulling image "{image}"', field_path=where)
        started = self.monotonic()
        try:
            image_id = await self.runtime.pull_image(image)
        except ImagePullError as exc:
            self.pull_backoff.failed(key, now=self.monotonic())
            self._pull_errors[key] = f"ErrImagePull: {exc}"
            state.waiting[name] = Waiting("ErrImagePull", str(exc))
            self.recorder.record(pod, "Warning", "Failed", f'Failed to pull image "{image}": {exc}', field_path=where)
            self.recorder.record(pod, "Warning", "Failed", "Error: ErrImagePull", field_path=where)
            state.soon = True
            return None
        took = go_duration(round(self.monotonic() - started, 3))
        self.recorder.record(
            pod, "Normal", "Pulled", f'Successfully pulled image "{image}" in {took} ({took} including waiting)', field_path=where
        )
        self.pull_backoff.reset(key)
        return image_id

    def _forget_pull_errors(self, uid: str) -> None:
        for key in [key for key in self._pull_errors if key.startswith(f"{uid}_")]:
            del self._pull_errors[key]

    async def _new_sandbox(
        self, pod: dict[str, Any], observed: list[RuntimeContainer], old: RuntimeContainer | None
    ) -> RuntimeContainer | None:
        meta = pod["metadata"]
        ran = [c for c in observed if c.kind != "sandbox"]
        if old is not None or ran:  # the pod's sandbox died, or someone removed it: what runs in it goes too
            # computePodActions: a pod that never restarts gets no new sandbox; its killed containers fail it.
            # SyncPod says SandboxChanged only when there is an old sandbox (not after a `docker rm -f`).
            recreate = old is None or not ran or pod["spec"].get("restartPolicy") != "Never"
            if recreate and old is not None:
                self.recorder.record(pod, "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
            running = [c for c in ran if c.state == "running"]
            message = "Stopping container {}"  # killPodWithSyncResult, with a short grace: the network is gone
            await asyncio.gather(*(self._kill(pod, c, message.format(c.name), grace=MIN_GRACE_SECONDS) for c in running))
            if not recreate:
                return None
            if old is not None:
                await self._remove_quietly(old)
        if not self._set_up_volumes(pod, self._pods[meta["uid"]]):  # before the sandbox, as WaitForAttachAndMount
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
                self._pods[meta["uid"]].soon = True
                return None
        ports = [
            PortBinding(p["containerPort"], p.get("protocol", "TCP"), p["hostPort"], p.get("hostIP", ""))
            for c in pod["spec"].get("containers", [])
            for p in c.get("ports", [])
            if p.get("hostPort")
        ]
        hostname = pod["spec"].get("hostname") or meta["name"]
        attempt = old.attempt + 1 if old is not None else 0
        try:
            spec = sandbox_spec(pod, image=self.pod_infra_image, hostname=hostname[:63], attempt=attempt, ports=ports)
            return await self.runtime.run_sandbox(spec)
        except ContainerRuntimeError as exc:
            self.recorder.record(pod, "Warning", "FailedCreatePodSandBox", f"Failed to create pod sandbox: {exc}")
            self._pods[meta["uid"]].soon = True
            return None

    def _set_up_volumes(self, pod: dict[str, Any], state: _PodState) -> bool:
        """The pod's emptyDirs, as the volume manager's MountVolume.SetUp; False while one cannot be made.

        A failure (a read-only or full home) is told as the operation executor does: a `FailedMount` event
        `MountVolume.SetUp failed for volume "v" : mkdir ...: read-only file system` on the pod (the recorder
        folds the repeats into its count) and one warning line in the log, then retried after an exponential
        back-off (0.5 s doubling to 2 min 2 s, as nestedpendingoperations), not at every sync. Meanwhile the pod
        stays Pending, its containers waiting in ContainerCreating."""
        now = self.monotonic()
        if state.mount_backoff.in_backoff("volumes", now=now) is not None:
            state.soon = True
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
                state.soon = True
                return False
        state.mount_backoff.reset("volumes")
        return True

    # ---------------------------------------------------------------------------------------- stopping

    async def _kill(self, pod: dict[str, Any], container: RuntimeContainer, message: str, *, grace: int | None = None) -> None:
        """killContainer (§3.2): Killing event, preStop within the grace period, then stop with a 2 s floor."""
        spec: dict[str, Any] = next((c for c in _all_containers(pod) if c["name"] == container.name), {})
        if grace is None:
            grace = int(pod["metadata"].get("deletionGracePeriodSeconds") or pod["spec"].get("terminationGracePeriodSeconds", 30))
        self.recorder.record(pod, "Normal", "Killing", message, field_path=_field_path(pod, container.name))
        self.lifecycle.killing(pod["metadata"]["uid"], container.name, container.id, message, now=self.clock().timestamp())
        hook = (spec.get("lifecycle") or {}).get("preStop")
        if hook and grace > 0 and container.state == "running":
            started = self.monotonic()
            if not await self._run_hook(container.id, hook, timeout=grace):
                self.recorder.record(
                    pod, "Warning", "FailedPreStopHook", "PreStopHook failed", field_path=_field_path(pod, container.name)
                )
            grace -= int(self.monotonic() - started)
        await self.runtime.stop_container(container.id, timeout=max(grace, MIN_GRACE_SECONDS))

    async def _terminate(self, pod: dict[str, Any], observed: list[RuntimeContainer]) -> None:
        """Graceful deletion: stop every running container in parallel, clean up, remove the object.

        While the containers stop, a second delete may shorten the grace period (or force-delete the object);
        as the kubelet's pod worker does with a shorter override, the containers are then stopped again with
        the shorter period (never under the 2 s floor)."""
        meta = pod["metadata"]
        running = [c for c in observed if c.kind != "sandbox" and c.state == "running"]
        kills = asyncio.ensure_future(asyncio.gather(*(self._kill(pod, c, f"Stopping container {c.name}") for c in running)))
        grace = _deletion_grace(pod)
        shorter: list[asyncio.Task[None]] = []
        try:
            while not (await asyncio.wait({kills}, timeout=TERMINATION_POLL_SECONDS))[0]:
                current = self._current(PodRef(meta["uid"], meta["name"], meta["namespace"]))
                now = 0 if current is None else _deletion_grace(current)
                if now < grace:
                    grace = now
                    timeout = max(now, MIN_GRACE_SECONDS)
                    shorter.extend(asyncio.create_task(self.runtime.stop_container(c.id, timeout=timeout)) for c in running)
            await kills
        finally:
            kills.cancel()
            await asyncio.gather(*shorter, return_exceptions=True)
        await self._remove_pod_containers(await self.runtime.list_containers(pod_uid=pod["metadata"]["uid"]))
        self._remove_volumes(pod["metadata"]["uid"])
        meta = pod["metadata"]
        with contextlib.suppress(NotFoundError, ConflictError):
            self.store.delete("Pod", meta["namespace"], meta["name"], uid=meta["uid"])

    async def _stop_finished(self, pod: dict[str, Any], observed: list[RuntimeContainer]) -> None:
        """A finished pod (Succeeded/Failed) keeps its exited containers but not its sandbox, nor a debugging
        (ephemeral) container still running in it."""
        debugging = [c for c in observed if c.kind == "ephemeral" and c.state == "running"]
        await asyncio.gather(*(self._kill(pod, c, f"Stopping container {c.name}") for c in debugging))
        for container in observed:
            if container.kind == "sandbox" and container.state == "running":
                await self.runtime.stop_container(container.id, timeout=MIN_GRACE_SECONDS)

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

    def _volumes(self, pod: dict[str, Any]) -> dict[str, tuple[Path, bool]]:
        return volume_dirs(pod, self.state_dir)

    async def _run_hook(self, container_id: str, hook: dict[str, Any], *, timeout: float) -> bool:
        if "exec" in hook:
            result = await self.runtime.exec(container_id, hook["exec"].get("command", []), timeout=timeout)  # type: ignore[arg-type]
            return result.exit_code == 0 and not result.timed_out
        if "sleep" in hook:
            await asyncio.sleep(min(float(hook["sleep"].get("seconds", 0)), timeout))
            return True
        return True  # httpGet hooks arrive with the prober's HTTP client

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
        pod = self.store.get("Pod", namespace, name)
        names = [c["name"] for c in _all_containers(pod)]
        if not container:
            regular = [c["name"] for c in pod["spec"].get("containers", [])]
            if len(regular) != 1:
                raise BadRequestError(f"a container name must be specified for pod {name}, choose one of: [{' '.join(regular)}]")
            container = regular[0]
        if container not in names:
            raise BadRequestError(f"container {container} is not valid for pod {name}")
        observed = await self.runtime.list_containers(pod_uid=pod["metadata"]["uid"])
        instances = instances_by_name(observed).get(container, [])
        reported = next((s for s in _all_statuses(pod.get("status") or {}) if s.get("name") == container), None)
        if reported is None:  # no status written yet
            if previous or not instances:
                waiting = self._pods.get(pod["metadata"]["uid"], _PodState()).waiting.get(container)
                reason = waiting.reason if waiting else "ContainerCreating"
                reported = {"state": {"waiting": {"reason": reason}}}
            else:
                reported = {"state": {"running": {}}, "containerID": instances[0].id}
        wanted = _log_source(name, container, reported, previous=previous)
        chosen = next((c for c in instances if wanted in (c.id, f"docker://{c.id}")), None)
        if chosen is None:
            raise BadRequestError(f'container "{container}" in pod "{name}" is not available')
        return self.runtime.logs(chosen.id, follow=follow, tail=tail, since=since, timestamps=timestamps)

    # ------------------------------------------------------------------------------------------ status

    def _write_status(self, pod: dict[str, Any], observed: list[RuntimeContainer], state: _PodState) -> None:
        status = compute_status(pod, observed, waiting=state.waiting, now=self.clock(), host_ip=self.host_ip, probes=self.probes)
        self.probes.after_status(pod["metadata"]["uid"], status)
        self.lifecycle.observe(pod["metadata"]["uid"], status, observed, now=self.clock().timestamp())
        if (pod.get("status") or {}) == status:
            return
        meta = pod["metadata"]

        def replace(current: dict[str, Any]) -> dict[str, Any] | None:
            if current["metadata"].get("uid") != meta["uid"]:
                return None
            current["status"] = status
            return current

        with contextlib.suppress(NotFoundError):
            self.store.update_with("Pod", meta["namespace"], meta["name"], replace)


def _log_source(pod: str, container: str, status: dict[str, Any], *, previous: bool) -> str:
    """The kubelet's validateContainerLogStatus: from a container's reported status, the ID of the instance
    whose logs to serve, or the refusal (BadRequestError). In a crash loop (waiting, with a last state) the
    current logs are those of the last run, and so are the previous ones."""
    state, last = status.get("state", {}), (status.get("lastState") or {}).get("terminated") or {}
    if previous:
        wanted = last.get("containerID", "")
        message = f'previous terminated container "{container}" in pod "{pod}" not found'
    elif "running" in state:
        wanted, message = status.get("containerID", ""), f'container "{container}" in pod "{pod}" is not available'
    elif "terminated" in state or last:
        wanted = (state.get("terminated") or {}).get("containerID") or last.get("containerID", "")
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


def _deletion_grace(pod: dict[str, Any]) -> int:
    deletion = pod["metadata"].get("deletionGracePeriodSeconds")
    return int(deletion if deletion is not None else pod["spec"].get("terminationGracePeriodSeconds", 30))


def _should_restart(policy: str, container: RuntimeContainer) -> bool:
    if container.state != "exited":
        return True
    if policy == "Never":
        return False
    return policy == "Always" or container.exit_code != 0


def _attempt_after_vanished(pod: dict[str, Any], name: str) -> int:
    """The attempt of a container the engine holds no instance of: 0 at first, but one more than the restart
    count in the pod's status when an instance existed (someone removed it: its replacement is a restart)."""
    for previous in _all_statuses(pod.get("status") or {}):
        if previous.get("name") == name and previous.get("containerID"):
            return int(previous.get("restartCount", 0)) + 1
    return 0


def _backoff_key(pod: dict[str, Any], container: dict[str, Any]) -> str:
    """The restart back-off's key, as the kubelet's: a changed definition starts a new back-off."""
    meta = pod["metadata"]
    return f"{meta['name']}_{meta['namespace']}_{meta['uid']}_{container['name']}_{spec_hash(container)}"


def _field_path(pod: dict[str, Any], container: str) -> str:
    """The field path of an event about `container`, as the kubelet's container reference gives it."""
    group = next(
        (key for key in _CONTAINER_GROUPS if any(c["name"] == container for c in pod["spec"].get(key, []))), "containers"
    )
    return f"spec.{group}{{{container}}}"


_CONTAINER_GROUPS = ("containers", "initContainers", "ephemeralContainers")


def _all_containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    """The init, regular and ephemeral containers of a pod's spec (names are unique across the three)."""
    spec = pod["spec"]
    return [*spec.get("initContainers", []), *spec.get("containers", []), *spec.get("ephemeralContainers", [])]


def _all_statuses(status: dict[str, Any]) -> list[dict[str, Any]]:
    keys = ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses")
    return [entry for key in keys for entry in status.get(key, [])]


def _go_os_error(op: str, exc: OSError) -> str:
    """An OSError in Go's words (`mkdir /x/y: read-only file system`), as the kubelet's messages carry them."""
    text = exc.strerror or str(exc)
    text = text[:1].lower() + text[1:]
    return f"{op} {exc.filename}: {text}" if exc.filename else f"{op}: {text}"


def _jittered(seconds: float) -> float:
    """wait.Jitter(seconds, RESYNC_JITTER): a random duration between `seconds` and `seconds * (1 + RESYNC_JITTER)`."""
    return seconds * (1 + RESYNC_JITTER * random.random())
