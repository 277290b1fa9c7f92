"""`simulate`: the real kubelet and prober on the simulated engine and the virtual clock.

Each expectation is worked out from the kubelet's rules (docs/kubelet.md), not read off a run: the probe ticks
anchored at the pod's admission, the thresholds, the restart back-off of 10 s doubling (jittered by up to half),
the grace period of a stop.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from minikubelet.errors import InvalidError
from minikubelet.simulate.behaviour import Behaviour, Fault, Window
from minikubelet.simulate.engine import SimEvent, simulate
from minikubelet.simulate.runtime import COSTS

IMAGE = "minikubelet.local/busybox:1.35"
#: What a restart costs on the simulated engine: creating and starting the container (runtime.COSTS).
RESTART = COSTS["create"] + COSTS["start"]
#: How far the engine's own calls (listing containers: milliseconds each) move an instant off its round number:
#: the probe workers are created, and their ticks anchored, after the kubelet's first look at the engine.
SLACK = 0.05


def pod(name: str = "p", *, grace: int = 30, **container: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"terminationGracePeriodSeconds": grace, "containers": [{"name": "app", "image": IMAGE, **container}]},
    }


def http(path: str = "/healthz", **settings: int) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": 8080}, **settings}


def reasons(events: list[SimEvent]) -> list[str]:
    return [e.reason for e in events]


def at(events: list[SimEvent], reason: str) -> list[float]:
    return [e.at for e in events if e.reason == reason]


def test_the_tutorials_liveness_probe_on_a_missing_path_kills_then_backs_off() -> None:
    """initialDelay 5, period 5, failureThreshold 1, and /not/exist answers 500. The ticks fall every 5 s from the
    pod's admission; the container starts about 0.55 s later, so at the 5 s tick only 4.45 s have passed (the delay
    is counted in whole seconds from the engine's start time): the first probe is at 10 s, fails and kills; the
    restarts are immediate, then 10 s, then 20 s of back-off (each jittered by up to half)."""
    sim = simulate(
        pod(livenessProbe=http("/not/exist", initialDelaySeconds=5, periodSeconds=5, timeoutSeconds=2, failureThreshold=1)),
        {"app": Behaviour(container="app", faults=(Fault("/not/exist", "fails", Window(0.0, None)),))},
        duration=120,
    )
    assert reasons(sim.events)[:4] == ["Scheduled", "Pulled", "Created", "Started"]
    unhealthy = [e for e in sim.events if e.reason == "Unhealthy"]
    assert unhealthy[0].message == "Liveness probe failed: HTTP probe failed with statuscode: 500"
    assert unhealthy[0].at == pytest.approx(10.0, abs=SLACK)
    kills = at(sim.events, "Killing")
    assert kills[0] == pytest.approx(10.0, abs=SLACK)
    assert all(e.message == "Container app failed liveness probe, will be restarted" for e in sim.events if e.reason == "Killing")
    starts = at(sim.events, "Started")
    # Each restart waits the back-off after the kill; the first ones are immediate (doBackOff judges the instance
    # before), later ones 10 s, 20 s ... each requeue jittered by up to half of what remains.
    gaps = [start - kill for kill, start in zip(kills, starts[1:], strict=False)]
    assert gaps[0] == pytest.approx(RESTART, abs=SLACK)
    backed_off = [gap for gap in gaps if gap > 1.0]
    assert backed_off and all(10.0 <= gap <= 30.0 + RESTART for gap in backed_off), gaps
    assert "BackOff" in reasons(sim.events)
    verdict = sim.containers["app"]
    assert verdict.liveness_kills == len(kills) and verdict.restarts == len(starts) - 1 and verdict.crash_loop
    assert verdict.exit_codes and set(verdict.exit_codes) == {143}, "SIGTERM ends the process: 128 + 15"


def test_a_slow_start_is_killed_by_liveness_and_a_startup_probe_lets_it_through() -> None:
    """The app listens after 95 s. Liveness every 10 s, failureThreshold 3: ticks at 10, 20, 30 s (the worker
    ticks from the pod's admission; at 0 s the container is not running yet) -> killed at 30 s, and again and
    again. A startupProbe of 10 failures at 10 s (ticks 10 … 90 fail, 100 passes) lets it start: no restart, and
    the pod is Ready after the liveness/readiness gate opens at 100 s."""
    behaviour = {"app": Behaviour(container="app", listens_after=95.0)}
    killed = simulate(pod(livenessProbe=http(periodSeconds=10, failureThreshold=3)), behaviour, duration=300)
    kills = at(killed.events, "Killing")
    assert kills[0] == pytest.approx(30.0, abs=SLACK)
    assert all("connect: connection refused" in e.message for e in killed.events if e.reason == "Unhealthy")
    assert killed.containers["app"].liveness_kills >= 3

    guarded = simulate(
        pod(
            livenessProbe=http(periodSeconds=10, failureThreshold=3),
            startupProbe=http(periodSeconds=10, failureThreshold=10),
        ),
        behaviour,
        duration=300,
    )
    assert "Killing" not in reasons(guarded.events)
    assert guarded.containers["app"].restarts == 0
    assert guarded.ready_at == pytest.approx(100.0, abs=SLACK)
    assert len([e for e in guarded.events if e.reason == "Unhealthy"]) == 9

    short = simulate(
        pod(livenessProbe=http(periodSeconds=10, failureThreshold=3), startupProbe=http(periodSeconds=10, failureThreshold=9)),
        behaviour,
        duration=120,
    )
    assert at(short.events, "Killing")[0] == pytest.approx(90.0, abs=SLACK)
    assert short.containers["app"].startup_kills >= 1


def test_a_process_that_exits_crash_loops_with_the_back_off_doubling() -> None:
    sim = simulate(pod(), {"app": Behaviour(container="app", exit_code=1, exit_at=2.0)}, duration=200)
    starts = at(sim.events, "Started")
    # Ends at 2 s after each start. Restart 1 is immediate (the instance before ran... there was none), then
    # the back-off doubles: 10, 20, 40 s after the end (each requeue jittered by up to half of what remains).
    waits = [b - (a + 2.0) for a, b in itertools.pairwise(starts)]
    assert waits[0] == pytest.approx(RESTART, abs=SLACK)
    for wait, delay in zip(waits[1:4], (10.0, 20.0, 40.0), strict=False):
        assert delay <= wait <= delay * 1.5 + RESTART, waits
    assert sim.containers["app"].crash_loop and set(sim.containers["app"].exit_codes) == {1}
    assert sim.containers["app"].liveness_kills == 0 and sim.ready_at is not None


def test_an_oom_kill_is_reported_as_such() -> None:
    sim = simulate(pod(resources={"limits": {"memory": "64Mi"}}), {"app": Behaviour(container="app", oom_at=30.0)}, duration=35)
    status = sim.pod["status"]["containerStatuses"][0]
    assert status["lastState"]["terminated"]["reason"] == "OOMKilled"
    assert status["lastState"]["terminated"]["exitCode"] == 137
    assert sim.containers["app"].exit_codes == [137]


def test_deleting_a_pod_whose_process_ignores_sigterm_takes_the_grace_period() -> None:
    """Deleted at 20 s with a 7 s grace period: Killing at once, the SIGTERM ignored, SIGKILL at 27 s, gone then.
    Readiness goes on being probed while it terminates; liveness does not."""
    sim = simulate(
        pod(grace=7, readinessProbe=http(periodSeconds=2), livenessProbe=http(periodSeconds=2)),
        {"app": Behaviour(container="app", sigterm="ignore")},
        duration=60,
        delete_at=20.0,
    )
    killing = [e for e in sim.events if e.reason == "Killing"]
    assert [round(e.at, 2) for e in killing] == [20.0]
    assert killing[0].message == "Stopping container app"
    assert sim.deleted_at is not None and 27.0 <= sim.deleted_at <= 28.5
    assert sim.containers["app"].exit_codes == [137]
    assert sim.ready_at is not None and sim.ready_at < 3


def test_a_process_that_stops_on_sigterm_is_gone_at_once() -> None:
    sim = simulate(pod(grace=30), {"app": Behaviour(container="app")}, duration=40, delete_at=10.0)
    assert sim.deleted_at is not None and sim.deleted_at < 12.0
    assert sim.containers["app"].exit_codes == [143]


def test_the_same_seed_gives_the_same_run_and_random_faults_follow_their_share() -> None:
    spec = pod(livenessProbe=http(periodSeconds=1, failureThreshold=3, timeoutSeconds=1))
    behaviour = {"app": Behaviour(container="app", failure_fraction=0.3)}
    one = simulate(spec, behaviour, duration=600, seed=7)
    two = simulate(spec, behaviour, duration=600, seed=7)
    other = simulate(spec, behaviour, duration=600, seed=8)
    assert one.events == two.events and one.attempts == two.attempts
    assert one.events != other.events
    attempts = [a for a in one.attempts if a["probe"] == "Liveness"]
    failures = sum(a["result"] == "Failure" for a in attempts)
    assert 0.2 < failures / len(attempts) < 0.4, (failures, len(attempts))


def test_timeouts_take_the_probes_timeout_of_virtual_time() -> None:
    sim = simulate(
        pod(readinessProbe=http(periodSeconds=5, timeoutSeconds=3)),
        {"app": Behaviour(container="app", faults=(Fault("readiness", "hangs", Window(0.0, None)),))},
        duration=30,
    )
    unhealthy = [e for e in sim.events if e.reason == "Unhealthy"]
    assert unhealthy[0].message.startswith('Readiness probe failed: Get "http://')
    assert unhealthy[0].message.endswith("context deadline exceeded (Client.Timeout exceeded while awaiting headers)")
    # The first attempt comes right after the container starts (the manual trigger of a started, unready
    # container), then every 5 s on the ticker: each reports after its 3 s timeout.
    started = at(sim.events, "Started")[0]
    assert unhealthy[0].at == pytest.approx(started + 3.0, abs=SLACK)
    assert all(b.at - a.at == pytest.approx(5.0, abs=SLACK) for a, b in itertools.pairwise(unhealthy[1:]))
    assert sim.ready_at is None


def test_an_invalid_pod_is_refused_as_the_api_server_refuses_it() -> None:
    with pytest.raises(InvalidError, match=r"spec.containers\[0\].livenessProbe.periodSeconds"):
        simulate(pod(livenessProbe=http(periodSeconds=-1)), {}, duration=10)
