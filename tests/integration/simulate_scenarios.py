"""The agreement scenarios of `minikubelet simulate`: each a pod, what its containers do (`--behaviour` values, the
language of minikubelet/simulate/behaviour.py), how long to watch it and, for some, when to delete it.

tests/integration/test_simulate_agreement.py runs every scenario twice — for real on Docker, with each container a
busybox container acting out its behaviour (minikubelet/simulate/script.py), and in the simulator — and requires
the same events at nearly the same times.

Guidelines the scenarios follow, so that the real run is reproducible:

- periods of 1 to 5 s, and at most 90 s each (they run in parallel);
- fault windows whose lengths are whole multiples of the probe's period (a window of length n·period holds n
  attempts whatever the phase of the probe's ticks), and failure thresholds that are not reached by one attempt
  more or fewer where the scenario does not mean to reach them;
- moments at which something changes (`listens after`, a one-off window's edges) about half a period away from
  the probe's ticks, which fall on whole periods after the pod's creation (the container starts a fraction of a
  second after it);
- no probe whose attempts could race the container's own end (an exec probe then errors on Docker);
- no percentages (Docker's draws cannot be the simulator's);
- a deletion's grace period is the pod's `terminationGracePeriodSeconds` (the deletion gives none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from minikubelet.simulate.behaviour import Behaviour, parse_behaviours
from minikubelet.simulate.script import busybox_pod

BUSYBOX = "minikubelet.local/busybox:1.35"


@dataclass(frozen=True)
class Scenario:
    name: str
    pod: Mapping[str, Any]  # the manifest (its images and commands do not matter: busybox_pod replaces them)
    behaviours: tuple[str, ...]  # --behaviour values
    duration: float  # seconds after the pod's creation during which events are compared
    delete_at: float | None = None  # the pod is deleted then (with its own grace period)
    notes: str = field(default="", compare=False)

    @property
    def pod_name(self) -> str:
        return str(self.pod["metadata"]["name"])

    @property
    def container_names(self) -> list[str]:
        spec = self.pod["spec"]
        return [c["name"] for c in [*spec.get("initContainers", ()), *spec["containers"]]]

    def parsed(self) -> dict[str, Behaviour]:
        return parse_behaviours(self.behaviours, self.container_names)

    def manifest(self) -> dict[str, Any]:
        """The pod both sides run: each container a busybox container acting out its behaviour."""
        pod = busybox_pod(self.pod, self.parsed())
        return {"apiVersion": "v1", "kind": "Pod", **pod}

    def period(self, container: str, kind: str) -> float:
        """periodSeconds of the container's `kind` probe (liveness, readiness, startup); 10 (the default) when unset."""
        spec = self.pod["spec"]
        for entry in [*spec.get("initContainers", ()), *spec["containers"]]:
            if entry["name"] == container:
                probe = entry.get(f"{kind}Probe") or {}
                return float(probe.get("periodSeconds", 10))
        raise KeyError(container)


def _pod(
    name: str, *containers: dict[str, Any], grace: int = 2, restart: str = "Always", init: tuple[dict[str, Any], ...] = ()
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "restartPolicy": restart,
        "terminationGracePeriodSeconds": grace,
        "containers": list(containers),
    }
    if init:
        spec["initContainers"] = list(init)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"sim-{name}"}, "spec": spec}


def _container(name: str = "app", **probes: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "image": BUSYBOX, **{f"{kind}Probe": probe for kind, probe in probes.items()}}


def _http(path: str = "/healthz", port: int = 8080, **fields: Any) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": port}, **fields}


def _tcp(port: int = 8080, **fields: Any) -> dict[str, Any]:
    return {"tcpSocket": {"port": port}, **fields}


def _exec(**fields: Any) -> dict[str, Any]:
    return {"exec": {"command": ["cat", "/tmp/healthy"]}, **fields}


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "tutorial-liveness-not-exist",
        _pod(
            "tutorial-liveness-not-exist",
            _container(
                liveness=_http("/not/exist", initialDelaySeconds=5, periodSeconds=5, timeoutSeconds=2, failureThreshold=1)
            ),
        ),
        ("/not/exist fails",),
        duration=60,
        notes="The tutorial's liveness probe on a path that does not exist: killed at its first attempt, restarted, "
        "then restarted after a back-off.",
    ),
    Scenario(
        "tcp-readiness-and-liveness",
        _pod(
            "tcp-readiness-and-liveness",
            _container(
                readiness=_tcp(initialDelaySeconds=2, periodSeconds=2),
                liveness=_tcp(initialDelaySeconds=15, periodSeconds=5, failureThreshold=3),
            ),
        ),
        ("listens after 8.5s",),
        duration=40,
        notes="tcpSocket readiness refused until the app listens at 8.5 s (between two attempts); liveness starts "
        "after it and never fails.",
    ),
    Scenario(
        "slow-start-without-startup-probe",
        _pod(
            "slow-start-without-startup-probe",
            _container(liveness=_http(periodSeconds=3, failureThreshold=2)),
        ),
        ("listens after 20s",),
        duration=60,
        notes="A liveness probe too impatient for a slow starter: killed at ~6 s each time, a crash loop.",
    ),
    Scenario(
        "slow-start-with-startup-probe",
        _pod(
            "slow-start-with-startup-probe",
            _container(
                startup=_http(periodSeconds=2, failureThreshold=15),
                liveness=_http(periodSeconds=3, failureThreshold=2),
            ),
        ),
        ("listens after 18.5s",),
        duration=40,
        notes="The startup probe holds the liveness probe back until the app listens: no restart.",
    ),
    Scenario(
        "flapping-readiness",
        _pod("flapping-readiness", _container(readiness=_http("/ready", periodSeconds=1, failureThreshold=1))),
        ("readiness fails every 10s for 4s from 5.5s",),
        duration=34,
        notes="Readiness fails 4 s in every 10: the Unhealthy event's count goes up 4 at a time, no restart.",
    ),
    Scenario(
        "flapping-liveness-below-threshold",
        _pod("flapping-liveness-below-threshold", _container(liveness=_exec(periodSeconds=2, failureThreshold=4))),
        ("liveness fails every 12s for 4s from 3s",),
        duration=45,
        notes="Two failures in a row at most, against a threshold of 4: warnings, never a kill.",
    ),
    Scenario(
        "liveness-kills-after-threshold",
        _pod("liveness-kills-after-threshold", _container(liveness=_exec(periodSeconds=2, failureThreshold=3))),
        ("liveness fails from 7s; stops in 1s",),
        duration=60,
        notes="Exec liveness fails from 7 s of each instance: killed after three failures, restarted, killed, backed off.",
    ),
    Scenario(
        "crash-loop",
        _pod("crash-loop", _container()),
        ("exits 1 at 2s",),
        duration=45,
        notes="Exits 1 after 2 s, for ever: restarts with back-off 10 s, then 20 s (CrashLoopBackOff).",
    ),
    Scenario(
        "run-to-completion",
        _pod(
            "run-to-completion",
            _container("worker"),
            _container("checker"),
            restart="Never",
        ),
        ("worker: completes at 3s", "checker: exits 2 at 5s"),
        duration=20,
        notes="restartPolicy Never: one container completes, the other fails; nothing restarts.",
    ),
    Scenario(
        "delete-during-probes",
        _pod(
            "delete-during-probes",
            _container(liveness=_http(periodSeconds=2), readiness=_http("/ready", periodSeconds=2)),
            grace=5,
        ),
        ("stops in 3s",),
        duration=25,
        delete_at=10,
        notes="Deleted at 10 s while its probes run; it takes 3 s of its 5 s grace period to stop.",
    ),
    Scenario(
        "delete-ignoring-sigterm",
        _pod("delete-ignoring-sigterm", _container(readiness=_exec(periodSeconds=1)), grace=3),
        ("ignores SIGTERM",),
        duration=25,
        delete_at=8,
        notes="Deleted at 8 s; it ignores SIGTERM, so it is killed when its 3 s grace period is over.",
    ),
    Scenario(
        "oom-kill",
        _pod("oom-kill", _container()),
        ("is OOM-killed at 5s",),
        duration=45,
        notes="The kernel's OOM killer ends every instance at 5 s (137, OOMKilled): restarts with back-off.",
    ),
    Scenario(
        "readiness-comes-and-goes",
        _pod(
            "readiness-comes-and-goes",
            _container(readiness=_http("/ready", periodSeconds=2, failureThreshold=2, successThreshold=2)),
        ),
        ("readiness fails from 7s for 8s; readiness fails from 29s for 6s",),
        duration=50,
        notes="Unready twice (after two failures), ready again after two successes each time.",
    ),
    Scenario(
        "sidecar-with-probes",
        _pod(
            "sidecar-with-probes",
            _container("main"),
            init=(
                {
                    **_container(
                        "sidecar",
                        startup=_http(periodSeconds=1, failureThreshold=10),
                        liveness=_http("/live", periodSeconds=2, failureThreshold=2),
                    ),
                    "restartPolicy": "Always",
                },
            ),
        ),
        ("sidecar: listens after 3s; /live fails from 20s", "main: listens after 0"),
        duration=50,
        notes="A restartable init container whose startup probe holds the main container back until it listens "
        "at 3 s; its liveness fails from 20 s of each instance, so it is restarted beside the running main container.",
    ),
    Scenario(
        "exec-probe-hangs",
        _pod("exec-probe-hangs", _container(liveness=_exec(periodSeconds=3, timeoutSeconds=1, failureThreshold=2))),
        ("liveness hangs from 10s",),
        duration=50,
        notes="The exec liveness probe times out from 10 s: killed after two timeouts, restarted, backed off.",
    ),
)

BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}
