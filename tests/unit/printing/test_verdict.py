"""`minikubelet test`'s judgement of a pod: what ends its test at once, and what it may still survive."""

from __future__ import annotations

from typing import Any

import pytest

from minikubelet.printing.verdict import check_event, check_pod, is_ready, ready_message, restarts


def pod(
    *statuses: dict[str, Any],
    phase: str = "Running",
    ready: bool = False,
    policy: str = "Always",
    inits: list[dict[str, Any]] | None = None,
    init_statuses: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "namespace": "default", "uid": "u"},
        "spec": {
            "restartPolicy": policy,
            "containers": [{"name": s["name"], "image": "i"} for s in statuses],
            "initContainers": inits or [],
        },
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": list(statuses),
            "initContainerStatuses": init_statuses or [],
        },
    }


def running(
    name: str = "app", restart_count: int = 0, *, ready: bool = True, last: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "ready": ready,
        "restartCount": restart_count,
        "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
        "lastState": {"terminated": last} if last else {},
    }


def waiting(reason: str, message: str = "", name: str = "app", restart_count: int = 0) -> dict[str, Any]:
    return {
        "name": name,
        "ready": False,
        "restartCount": restart_count,
        "state": {"waiting": {"reason": reason, "message": message}},
    }


def terminated(code: int, reason: str = "Error", name: str = "app", restart_count: int = 0) -> dict[str, Any]:
    ended = {"exitCode": code, "reason": reason, "finishedAt": "2026-01-01T00:00:05Z"}
    return {"name": name, "ready": False, "restartCount": restart_count, "state": {"terminated": ended}}


def test_a_running_ready_pod_is_fine() -> None:
    p = pod(running(), ready=True)
    assert check_pod(p, max_restarts=0) is None
    assert is_ready(p)


@pytest.mark.parametrize(
    "reason",
    [
        "CrashLoopBackOff",
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "CreateContainerError",
        "CreateContainerConfigError",
        "RunContainerError",
    ],
)
def test_waiting_reasons_that_do_not_go_away_fail_at_once_whatever_max_restarts(reason: str) -> None:
    failure = check_pod(pod(waiting(reason, "the engine said no")), max_restarts=100)
    assert failure is not None
    assert failure.reason == reason
    assert failure.message == "container app: the engine said no"


def test_container_creating_is_not_a_failure() -> None:
    assert check_pod(pod(waiting("ContainerCreating"), phase="Pending"), max_restarts=0) is None


def test_an_init_container_in_crash_loop_fails_the_pod() -> None:
    p = pod(
        waiting("PodInitializing"),
        phase="Pending",
        inits=[{"name": "setup"}],
        init_statuses=[waiting("CrashLoopBackOff", name="setup")],
    )
    failure = check_pod(p, max_restarts=0)
    assert failure is not None and failure.reason == "CrashLoopBackOff"
    assert "container setup" in failure.message


def test_oom_killed_in_the_last_state_fails_even_when_restarts_are_allowed() -> None:
    p = pod(running(restart_count=1, last={"exitCode": 137, "reason": "OOMKilled"}))
    failure = check_pod(p, max_restarts=5)
    assert failure is not None
    assert (failure.reason, failure.message) == ("OOMKilled", "container app was OOMKilled (exit code 137)")


def test_a_restart_over_the_limit_fails_with_the_exit_that_caused_it() -> None:
    p = pod(running(restart_count=1, last={"exitCode": 3, "reason": "Error", "finishedAt": "2026-01-01T00:00:01Z"}))
    failure = check_pod(p, max_restarts=0)
    assert failure is not None
    assert failure.reason == "Restarted"
    assert failure.message == "1 restart, more than --max-restarts 0: container app exited with code 3 (Error)"
    assert check_pod(p, max_restarts=1) is None


def test_an_exit_that_will_restart_counts_before_the_restart_happens() -> None:
    p = pod(terminated(3))
    failure = check_pod(p, max_restarts=0)
    assert failure is not None and failure.reason == "Restarted"
    assert check_pod(p, max_restarts=1) is None


def test_an_exit_nothing_restarts_fails_a_pod_meant_to_stay_up() -> None:
    p = pod(terminated(0, "Completed"), running("other"), policy="OnFailure")
    failure = check_pod(p, max_restarts=3)
    assert failure is not None
    assert failure.reason == "Exited"
    assert failure.message == "container app exited with code 0 (Completed) and its restart policy does not start it again"


def test_an_init_container_that_succeeded_is_fine() -> None:
    p = pod(running(), inits=[{"name": "setup"}], init_statuses=[terminated(0, "Completed", name="setup")], ready=True)
    assert check_pod(p, max_restarts=0) is None


@pytest.mark.parametrize(("phase", "reason"), [("Failed", "Failed"), ("Succeeded", "Succeeded")])
def test_a_pod_that_ended_fails(phase: str, reason: str) -> None:
    p = pod(terminated(1), phase=phase, policy="Never")
    failure = check_pod(p, max_restarts=0)
    assert failure is not None and failure.reason == reason


def test_probe_kills_are_told_by_the_killing_event() -> None:
    liveness = check_event({"reason": "Killing", "message": "Container app failed liveness probe, will be restarted"})
    startup = check_event({"reason": "Killing", "message": "Container app failed startup probe, will be restarted"})
    assert liveness is not None and liveness.reason == "LivenessKill"
    assert startup is not None and startup.reason == "StartupKill"
    assert check_event({"reason": "Killing", "message": "Stopping container app"}) is None
    assert check_event({"reason": "Unhealthy", "message": "Liveness probe failed: boom"}) is None


def test_ready_message_names_what_is_not_ready() -> None:
    p = pod(running(ready=False), waiting("ContainerCreating", name="side"))
    assert ready_message(p) == "phase Running, container app running, not ready, container side waiting (ContainerCreating)"
    assert restarts(pod(running(restart_count=2), running("b", restart_count=1))) == 3
