"""`minikubelet why`: the findings told from recorded pods, events, probe attempts and container transitions."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from minikubelet.printing.why import diagnose, format_seconds, to_json, to_text

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC).timestamp()
LIVENESS_KILL = "Container app failed liveness probe, will be restarted"
STARTUP_KILL = "Container app failed startup probe, will be restarted"
REFUSED = 'Get "http://10.88.0.7:8080/healthz": dial tcp 10.88.0.7:8080: connect: connection refused'


def at(seconds: float) -> str:
    return datetime.fromtimestamp(T0 + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, UTC)


def attempt(probe: str, start: float, result: str, cid: str, *, verdict: str = "", message: str = "") -> dict[str, Any]:
    return {
        "container": "app",
        "containerID": cid,
        "probe": probe,
        "due": at(start),
        "start": at(start),
        "latenessSeconds": 0.0,
        "durationSeconds": 0.002,
        "result": result,
        "message": message,
        "verdict": verdict,
        "manual": False,
    }


def transition(time: float, state: str, cid: str = "", **extra: Any) -> dict[str, Any]:
    out = {"time": at(time), "container": "app", "containerID": cid, "state": state, "reason": "", "message": ""}
    out["restartCount"] = 0
    out.update(extra)
    return out


def event(reason: str, message: str, time: float, *, kind: str = "Warning", count: int = 1) -> dict[str, Any]:
    return {
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default", "fieldPath": "spec.containers{app}"},
        "reason": reason,
        "message": message,
        "type": kind,
        "count": count,
        "firstTimestamp": at(time),
        "lastTimestamp": at(time),
    }


def pod(container: dict[str, Any], status: dict[str, Any], *, ready: bool = False, grace: int = 30) -> dict[str, Any]:
    spec = {"name": "app", "image": "minikubelet.local/echo:v1"} | container
    return {
        "metadata": {"name": "web", "namespace": "default", "uid": "u", "creationTimestamp": at(0)},
        "spec": {"containers": [spec], "terminationGracePeriodSeconds": grace, "restartPolicy": "Always"},
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "Ready", "status": "True"}
                if ready
                else {
                    "type": "Ready",
                    "status": "False",
                    "reason": "ContainersNotReady",
                    "message": "containers with unready status: [app]",
                }
            ],
            "containerStatuses": [{"name": "app", "ready": ready, "started": True} | status],
        },
    }


LIVENESS = {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10, "failureThreshold": 3}


def liveness_killed(exit_code: int, *, stop: float, reason: str = "Error", probe: dict[str, Any] | None = None) -> Any:
    """An app that takes 95 s to start: the first instance is killed at +51 s (failures at +31, +41, +51), the
    second passes its first probe at +95 s."""
    running = {"state": {"running": {"startedAt": at(100)}}, "restartCount": 1, "containerID": "docker://c2"}
    p = pod({"livenessProbe": probe or LIVENESS}, running, ready=True)
    attempts = [
        attempt("Liveness", 31, "Failure", "c1", message=REFUSED),
        attempt("Liveness", 41, "Failure", "c1", message=REFUSED),
        attempt("Liveness", 51, "Failure", "c1", verdict="Failure", message=REFUSED),
        attempt("Liveness", 195, "Success", "c2"),
    ]
    transitions = [
        transition(0, "running", "c1"),
        transition(51.1, "killing", "c1", reason=LIVENESS_KILL),
        transition(51.1 + stop, "terminated", "c1", reason=reason, exitCode=exit_code),
        transition(100, "running", "c2", restartCount=1),
    ]
    return diagnose(p, [], attempts, transitions, now=now(200))


def test_a_liveness_kill_ignored_sigterm_and_was_sigkilled_after_the_grace() -> None:
    d = liveness_killed(137, stop=30.0)
    (kill,) = d.findings
    assert (kill.kind, kill.severity, kill.rule, kill.exit_code, kill.restart_count) == (
        "liveness-kill",
        "cause",
        "livenessProbe.failureThreshold",
        137,
        0,
    )
    assert kill.text == (
        "liveness httpGet :8080/healthz failed 3 times in a row (failureThreshold 3, every 10 s) from +31 s; "
        "the app answered `connection refused` (nothing listening); the kubelet sent SIGTERM, the process ignored it, "
        "SIGKILL after the 30 s grace → exit 137 (not OOM)"
    )
    assert kill.suggestion == "a startupProbe with failureThreshold 12 at period 10 s covers the 95 s start seen here"
    assert round(kill.offset or 0) == 81


def test_a_liveness_kill_that_the_process_obeyed_exits_143_and_the_probe_grace_counts() -> None:
    probe = LIVENESS | {"terminationGracePeriodSeconds": 5}
    (kill,) = liveness_killed(143, stop=0.3, probe=probe).findings
    assert kill.text.endswith("the kubelet sent SIGTERM and the process exited on it after 0.3 s → exit 143")
    (fast,) = liveness_killed(137, stop=5.0, probe=probe).findings
    assert fast.text.endswith("SIGKILL after the 5 s grace → exit 137 (not OOM)")
    (clean,) = liveness_killed(0, stop=1.0).findings
    assert clean.text.endswith("the process exited cleanly after 1.0 s → exit 0")


def test_an_oom_during_the_stop_is_not_called_a_sigkill_after_grace() -> None:
    (kill,) = liveness_killed(137, stop=1.0, reason="OOMKilled").findings
    assert "OOMKilled" in kill.text and "not OOM" not in kill.text


def test_a_liveness_kill_after_the_app_had_been_healthy_suggests_no_startup_probe() -> None:
    p = pod({"livenessProbe": LIVENESS}, {"state": {"running": {}}, "containerID": "docker://c2", "restartCount": 1})
    timeout = 'Get "http://10.88.0.7:8080/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
    attempts = [attempt("Liveness", 10, "Success", "c1")] + [
        attempt("Liveness", t, "Failure", "c1", verdict="Failure" if t == 40 else "", message=timeout) for t in (20, 30, 40)
    ]
    transitions = [
        transition(0, "running", "c1"),
        transition(40.1, "killing", "c1", reason=LIVENESS_KILL),
        transition(40.4, "terminated", "c1", reason="Error", exitCode=143),
        transition(41, "running", "c2", restartCount=1),
    ]
    d = diagnose(p, [], attempts, transitions, now=now(45))
    kill = d.findings[0]
    assert kill.text.startswith("liveness httpGet :8080/healthz passed until +10 s, then failed 3 times in a row")
    assert "did not answer within timeoutSeconds 1 s" in kill.text
    assert kill.suggestion == "the app answered too slowly: timeoutSeconds 2 (now 1) would give it twice as long"


def test_a_probe_that_never_passed_anywhere_points_at_the_probe_first() -> None:
    p = pod({"livenessProbe": LIVENESS}, {"state": {"running": {}}, "containerID": "docker://c1"})
    attempts = [attempt("Liveness", t, "Failure", "c1", verdict="Failure" if t == 30 else "", message="x") for t in (10, 20, 30)]
    transitions = [transition(0, "running", "c1"), transition(30, "killing", "c1", reason=LIVENESS_KILL)]
    (kill,) = diagnose(p, [], attempts, transitions, now=now(31)).findings
    assert kill.text.endswith("the kubelet sent SIGTERM and is waiting up to the 30 s grace")
    assert kill.suggestion.startswith("no instance ever passed a probe: check the probe itself first")
    assert kill.suggestion.endswith("failureThreshold 4 at period 10 s covers a start longer than the 30 s seen here")


def test_a_startup_kill_suggests_a_larger_failure_threshold() -> None:
    probe = {"exec": {"command": ["cat", "/tmp/started"]}, "periodSeconds": 2, "failureThreshold": 5}
    p = pod({"startupProbe": probe}, {"state": {"running": {}}, "containerID": "docker://c2", "restartCount": 1})
    attempts = [
        attempt("Startup", t, "Failure", "c1", verdict="Failure" if t == 10 else "", message="cat: can't open")
        for t in (2, 4, 6, 8, 10)
    ] + [attempt("Startup", 24, "Success", "c2", verdict="Success")]
    transitions = [
        transition(0, "running", "c1"),
        transition(10.1, "killing", "c1", reason=STARTUP_KILL),
        transition(12.2, "terminated", "c1", reason="Error", exitCode=137),
        transition(12.3, "running", "c2", restartCount=1),
    ]
    kill = diagnose(p, [], attempts, transitions, now=now(30)).findings[0]
    assert kill.kind == "startup-kill" and kill.rule == "startupProbe.failureThreshold"
    assert "startup exec cat /tmp/started failed 5 times in a row (failureThreshold 5, every 2 s) from +2.0 s" in kill.text
    assert "the app answered `cat: can't open`" in kill.text
    assert kill.suggestion == "startupProbe failureThreshold 8 at period 2 s (16 s) covers the 12 s start seen here"


def test_a_crash_loop_tells_each_exit_the_back_off_and_the_next_restart() -> None:
    waiting = {"reason": "CrashLoopBackOff", "message": "back-off 20s restarting failed container=app pod=web_default(u)"}
    p = pod({}, {"state": {"waiting": waiting}, "restartCount": 2, "containerID": "docker://c3"})
    transitions = []
    for n, start in enumerate((0.0, 1.0, 12.0)):
        cid = f"c{n + 1}"
        transitions += [
            transition(start, "running", cid, restartCount=n),
            transition(start + 0.2, "terminated", cid, reason="Error", exitCode=1, restartCount=n),
        ]
    transitions.append(
        transition(12.3, "waiting", "c3", reason="CrashLoopBackOff", message=waiting["message"], backOffUntil=at(32.2))
    )
    d = diagnose(p, [], [], transitions, now=now(20))
    kinds = [f.kind for f in d.findings]
    assert kinds == ["exited", "exited", "exited", "crash-loop"]
    assert d.findings[0].text == "the process exited on its own with code 1 after running 0.2 s (Error)"
    loop = d.findings[-1]
    assert loop.rule == "restart back-off"
    assert loop.text == (
        "CrashLoopBackOff: restarted 2 times; the recorded instances ended with exit 1 (Error) ×3 after running 0.2 s; "
        "the kubelet now waits back-off 20s (10 s doubling to 300 s); next restart at 12:00:32 UTC (in 12 s)"
    )
    assert d.summary.startswith("pod default/web: Running, not Ready (ContainersNotReady")
    assert d.summary.endswith("; app restarted 2 times")
    text = to_text(d)
    assert "  ✗ instances #0–#2 (3 times), the last ended at +0.2 s: the process exited on its own with code 1" in text
    assert text.count("rule: restartPolicy") == 1


def test_oom_killed_is_the_memory_limit_not_the_kubelet() -> None:
    container = {"resources": {"limits": {"memory": "50Mi"}}}
    waiting = {"reason": "CrashLoopBackOff", "message": "back-off 10s restarting failed container=app pod=web_default(u)"}
    p = pod(container, {"state": {"waiting": waiting}, "restartCount": 1, "containerID": "docker://c1"})
    transitions = [
        transition(0, "running", "c1"),
        transition(1.5, "terminated", "c1", reason="OOMKilled", exitCode=137),
    ]
    oom = diagnose(p, [], [], transitions, now=now(3)).findings[0]
    assert (oom.kind, oom.rule, oom.exit_code) == ("oom-killed", "resources.limits.memory", 137)
    assert oom.text == (
        "OOMKilled after running 1.5 s: the kernel's OOM killer ended it at its memory limit (50Mi) → exit 137; "
        "the kubelet did not kill it"
    )
    assert oom.suggestion == "raise resources.limits.memory above 50Mi, or make the app use less"


def test_a_bad_image_quotes_the_engine() -> None:
    message = 'Back-off pulling image "nope.invalid/x:1": ErrImagePull: pull access denied'
    p = pod({"image": "nope.invalid/x:1"}, {"state": {"waiting": {"reason": "ImagePullBackOff", "message": message}}})
    engine = 'Failed to pull image "nope.invalid/x:1": Error response from daemon: Get "https://nope.invalid/v2/": dial tcp'
    events = [event("Failed", engine, 1), event("Failed", "Error: ErrImagePull", 1)]
    transitions = [transition(1, "waiting", reason="ErrImagePull"), transition(5, "waiting", reason="ImagePullBackOff")]
    (pull,) = diagnose(p, events, [], transitions, now=now(6)).findings
    assert pull.kind == "image-pull" and pull.rule == "spec.containers[].image"
    assert pull.text.startswith(f"ImagePullBackOff: the image nope.invalid/x:1 cannot be pulled; the engine said: {engine}")
    assert "IfNotPresent" in pull.suggestion


def readiness(results: list[tuple[float, str, str]]) -> Any:
    probe = {"tcpSocket": {"port": 5432}, "periodSeconds": 5, "failureThreshold": 3}
    p = pod({"readinessProbe": probe}, {"state": {"running": {}}, "containerID": "docker://c1", "ready": False})
    attempts = [attempt("Readiness", t, r, "c1", verdict=v, message="dial tcp: connect: connection refused" if r == "Failure"
                        else "") for t, r, v in results]  # fmt: skip
    return diagnose(p, [], attempts, [transition(0, "running", "c1")], now=now(60))


def test_readiness_that_never_passed() -> None:
    (f,) = readiness([(1, "Failure", ""), (6, "Failure", ""), (11, "Failure", "")]).findings
    assert f.kind == "readiness-never" and f.rule == "readinessProbe"
    assert f.text.startswith("not Ready: readiness tcpSocket :5432 has never passed since the start: 3 failures from +1.0 s")


def test_readiness_that_no_longer_passes() -> None:
    d = readiness([(1, "Success", "Success"), (6, "Failure", ""), (11, "Failure", ""), (16, "Failure", "Failure")])
    (f,) = d.findings
    assert f.kind == "readiness-lost" and f.rule == "readinessProbe.failureThreshold"
    assert f.text.startswith(
        "not Ready: readiness tcpSocket :5432 passed until +1.0 s, then failed 3 times in a row "
        "(failureThreshold 3, every 5 s) from +6.0 s"
    )
    assert round(f.offset or 0) == 16


def test_a_probe_that_fails_just_under_its_threshold_is_a_warning() -> None:
    probe = LIVENESS | {"periodSeconds": 1}
    p = pod({"livenessProbe": probe}, {"state": {"running": {}}, "containerID": "docker://c1"}, ready=True)
    attempts, t = [], 0.0
    for _ in range(14):  # fail, fail, pass: 14 times over 42 s
        for result in ("Failure", "Failure", "Success"):
            attempts.append(attempt("Liveness", t, result, "c1", message="context deadline exceeded" * (result == "Failure")))
            t += 1
    (f,) = diagnose(p, [], attempts, [transition(0, "running", "c1")], now=now(t)).findings
    assert (f.kind, f.severity) == ("flapping", "warning")
    assert f.text.startswith("liveness httpGet :8080/healthz failed 2 of 3 in a row 14 times in 41 s")
    assert f.suggestion == "most failures are timeouts: timeoutSeconds 2 (now 1)"
    lone = copy.deepcopy(attempts[:3])
    assert diagnose(p, [], lone, [transition(0, "running", "c1")], now=now(t)).findings[0].kind == "flapping"
    once = [attempt("Liveness", 0, "Failure", "c1"), attempt("Liveness", 1, "Success", "c1")]
    assert not diagnose(p, [], once, [transition(0, "running", "c1")], now=now(t)).findings


def test_a_flapping_warning_says_which_instance_and_when() -> None:
    """Found on a real node (tests/integration/test_why_docker.py): the warning named no instance and no time, so
    its text line had no `instance #N at +T`, unlike every other finding."""
    p = pod({"livenessProbe": LIVENESS | {"periodSeconds": 1}}, {"state": {"running": {}}, "containerID": "docker://c2"})
    attempts = [attempt("Liveness", 5 + t, r, "c2") for t, r in enumerate(["Failure", "Failure", "Success"] * 2)]
    transitions = [transition(0, "running", "c1"), transition(3, "terminated", "c1", exitCode=0),
                   transition(4, "running", "c2", restartCount=1)]  # fmt: skip
    d = diagnose(p, [], attempts, transitions, now=now(20))
    (f,) = [f for f in d.findings if f.kind == "flapping"]
    assert (f.container_id, f.restart_count, f.time, f.offset) == ("c2", 1, T0 + 10, 6.0), "the last near miss, on c2"
    assert "  ! instance #1 at +6.0 s: liveness httpGet :8080/healthz failed 2 of 3 in a row 2 times in 5.0 s" in to_text(d)


def test_hooks() -> None:
    message = 'Exec lifecycle hook ([sh -c exit 1]) for Container "app" in Pod "web_default(u)" failed - error: ...'
    waiting = {"reason": "PostStartHookError", "message": message}
    container = {"lifecycle": {"postStart": {"exec": {"command": ["sh", "-c", "exit 1"]}}, "preStop": {"exec": {}}}}
    p = pod(container, {"state": {"waiting": waiting}, "containerID": "docker://c1"})
    transitions = [
        transition(0, "running", "c1"),
        transition(0.1, "killing", "c1", reason="FailedPostStartHook"),
        transition(0.4, "terminated", "c1", reason="Error", exitCode=143),
        transition(0.5, "waiting", "c1", reason="PostStartHookError", message=message),
    ]
    events = [
        event("FailedPostStartHook", "PostStartHook failed", 0.1),
        event("FailedPreStopHook", "PreStopHook failed", 0.45, count=2),
    ]
    d = diagnose(p, events, [], transitions, now=now(1))
    assert [(f.kind, f.rule) for f in d.findings] == [
        ("post-start-hook", "lifecycle.postStart"),
        ("pre-stop-hook", "lifecycle.preStop"),
        ("post-start-hook", "lifecycle.postStart"),
    ]
    assert d.findings[0].text.startswith("the postStart hook failed, so the kubelet killed the container")
    assert d.findings[1].text.startswith("the preStop hook failed (2 times)")
    assert d.findings[2].text == f"PostStartHookError: {message}"


def test_the_text_and_the_json() -> None:
    d = liveness_killed(137, stop=30.0)
    text = to_text(d)
    assert text.splitlines()[0] == "pod default/web: Running, Ready; app restarted 1 time"
    assert "container app: running, ready, 1 restart" in text
    assert "  ✗ instance #0 ended at +81 s: liveness httpGet :8080/healthz failed 3 times" in text
    assert "      rule: livenessProbe.failureThreshold" in text
    assert "      fix: a startupProbe with failureThreshold 12" in text
    out = to_json(d)
    assert (out["kind"], out["apiVersion"], out["metadata"]) == (
        "PodDiagnosis",
        "minikubelet.dev/v1alpha1",
        {"namespace": "default", "name": "web"},
    )
    assert out["containers"] == [{"name": "app", "state": "running", "reason": "", "ready": True, "restartCount": 1}]
    (f,) = out["findings"]
    assert set(f) == {
        "container",
        "kind",
        "severity",
        "rule",
        "containerID",
        "restartCount",
        "time",
        "offsetSeconds",
        "exitCode",
        "text",
        "suggestion",
    }
    assert (f["containerID"], f["time"], f["offsetSeconds"]) == ("c1", at(81.1), 81.1)


def test_a_healthy_pod_has_nothing_to_explain() -> None:
    p = pod({}, {"state": {"running": {}}, "containerID": "docker://c1"}, ready=True)
    d = diagnose(p, [], [], [transition(0, "running", "c1")], now=now(5))
    assert d.findings == []
    assert "nothing to explain" in to_text(d)


def test_a_single_failure_that_crossed_is_told_as_once() -> None:
    probe = LIVENESS | {"failureThreshold": 1}
    p = pod({"livenessProbe": probe}, {"state": {"running": {}}, "containerID": "docker://c1"})
    attempts = [attempt("Liveness", 5, "Failure", "c1", verdict="Failure", message=REFUSED)]
    transitions = [transition(0, "running", "c1"), transition(5.1, "killing", "c1", reason=LIVENESS_KILL)]
    (kill,) = diagnose(p, [], attempts, transitions, now=now(6)).findings
    assert kill.text.startswith("liveness httpGet :8080/healthz failed once (failureThreshold 1, every 10 s) at +5.0 s;")


def test_format_seconds() -> None:
    assert [format_seconds(s) for s in (0.42, 31.4, 95, 125, 3725)] == ["0.4 s", "31 s", "95 s", "2 min 05 s", "1 h 02 min"]
