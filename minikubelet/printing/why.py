"""Why a pod's containers restarted, or why the pod is not Ready: what `minikubelet why` says (docs/why.md).

Pure, like the other printers: the pod (wire form), its events, the prober's attempts (`GET .../probes`, a
`ProbeAttemptList`) and the kubelet's container transitions (`GET .../lifecycle`, a `ContainerTransitionList`)
in; a `Diagnosis` out, a list of `Finding`s, each naming the rule that fired (`livenessProbe.failureThreshold`,
`restartPolicy`, `resources.limits.memory`, ...), with times relative to the start of the container instance
it is about, and, where a probe setting caused a kill, the smallest change that would have avoided it.

The findings, per container, in the order they happened:

- each instance that ended: killed for a failed liveness or startup probe (the run of failures that crossed
  `failureThreshold`, what the app answered, the grace period and how the process ended: 143 or 0 on SIGTERM,
  137 after the grace, OOMKilled), killed because its postStart hook failed, or exited on its own (OOMKilled,
  or its exit code and how long it ran);
- the container's present trouble: CrashLoopBackOff (the exits, the back-off and the next restart), an image
  that cannot be pulled (the engine's message), another waiting reason, or running but not Ready (readiness
  never passed, or no longer passes; startup not passed yet);
- warnings: a probe that keeps failing just under its threshold, a preStop hook that failed.

`to_json` is the stable schema of `why -o json`; `to_text` the narrative.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from minikubelet.api.podutil import all_containers, probe_of
from minikubelet.api.wire import Container, Probe, ProbeKind, as_pod
from minikubelet.printing.durations import parse_time

__all__ = [
    "API_VERSION",
    "KIND",
    "Diagnosis",
    "Finding",
    "diagnose",
    "format_seconds",
    "startup_suggestion",
    "to_json",
    "to_text",
]

KIND = "PodDiagnosis"
API_VERSION = "minikubelet.dev/v1alpha1"
MARGIN = 1.25  # a suggested probe window covers the time seen here and a quarter more
PULL_REASONS = ("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName")
_BACKOFF = re.compile(r"^back-off (\S+)")
_STATUS = re.compile(r"statuscode: (\d+)")
_KINDS: tuple[ProbeKind, ...] = ("startup", "liveness", "readiness")


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing that happened to a container, or one thing wrong with it now.

    `kind`: liveness-kill, startup-kill, post-start-hook, oom-killed, exited, killed, crash-loop, image-pull,
    waiting, readiness-never, readiness-lost, startup-pending, flapping, pre-stop-hook.
    `severity`: cause (it restarted the container or keeps it or the pod from running / Ready), warning, info.
    `offset`: seconds since the start of the instance `container_id` (None when no instance ran).
    """

    container: str
    kind: str
    severity: str
    rule: str
    text: str
    container_id: str = ""
    restart_count: int | None = None
    time: float | None = None  # Unix seconds
    offset: float | None = None
    exit_code: int | None = None
    suggestion: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "container": self.container,
            "kind": self.kind,
            "severity": self.severity,
            "rule": self.rule,
            "containerID": self.container_id,
            "restartCount": self.restart_count,
            "time": _rfc3339(self.time) if self.time is not None else None,
            "offsetSeconds": round(self.offset, 3) if self.offset is not None else None,
            "exitCode": self.exit_code,
            "text": self.text,
            "suggestion": self.suggestion,
        }


@dataclass
class ContainerSummary:
    name: str
    state: str  # waiting, running, terminated, unknown
    reason: str
    ready: bool
    restart_count: int


@dataclass
class Diagnosis:
    namespace: str
    pod: str
    phase: str
    ready: bool
    now: float
    summary: str
    containers: list[ContainerSummary] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------ the record


@dataclass
class _Instance:
    """One container instance, as the lifecycle record has it."""

    container_id: str
    start: float | None = None
    restart_count: int = 0
    kill: dict[str, Any] | None = None
    end: dict[str, Any] | None = None


def _instances(transitions: Sequence[Mapping[str, Any]]) -> list[_Instance]:
    out: dict[str, _Instance] = {}
    for t in sorted(transitions, key=lambda t: _seconds(t["time"])):
        cid = str(t.get("containerID", ""))
        if not cid or t["state"] == "waiting":
            continue
        instance = out.setdefault(cid, _Instance(cid, restart_count=int(t.get("restartCount", 0))))
        if t["state"] == "running" and instance.start is None:
            instance.start = _seconds(t["time"])
            instance.restart_count = int(t.get("restartCount", 0))
        elif t["state"] == "killing" and instance.kill is None:
            instance.kill = dict(t)
        elif t["state"] == "terminated" and instance.end is None:
            instance.end = dict(t)
    return sorted(out.values(), key=lambda i: (i.start if i.start is not None else math.inf, i.restart_count))


# -------------------------------------------------------------------------------------------------- analysis


def diagnose(
    pod: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
    attempts: Sequence[Mapping[str, Any]],
    transitions: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    container: str = "",
) -> Diagnosis:
    """The findings about `pod` (only `container` when given), from the kubelet's own record."""
    meta = pod.get("metadata", {})
    status = pod.get("status", {}) or {}
    statuses = {s["name"]: s for key in ("initContainerStatuses", "containerStatuses") for s in status.get(key, []) or []}
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions", []) or [])
    diagnosis = Diagnosis(meta.get("namespace", ""), meta.get("name", ""), status.get("phase", ""), ready, now.timestamp(), "")
    specs = [c for c in all_containers(as_pod(pod), ephemeral=False) if not container or c["name"] == container]
    for spec in specs:
        name = spec["name"]
        mine_t = [t for t in transitions if t.get("container") == name]
        mine_a = sorted((a for a in attempts if a.get("container") == name), key=lambda a: _seconds(a["start"]))
        mine_e = sorted((e for e in events if _event_container(e) == name), key=lambda e: _event_time(e) or 0.0)
        entry = statuses.get(name, {})
        diagnosis.containers.append(_summary(name, entry))
        diagnosis.findings.extend(_container_findings(pod, spec, entry, mine_e, mine_a, mine_t, now.timestamp()))
    diagnosis.summary = _pod_summary(diagnosis, status)
    return diagnosis


def _summary(name: str, entry: Mapping[str, Any]) -> ContainerSummary:
    state = entry.get("state") or {}
    kind = next(iter(state), "unknown")
    reason = str((state.get(kind) or {}).get("reason", "")) if kind != "running" else ""
    return ContainerSummary(name, kind, reason, bool(entry.get("ready", False)), int(entry.get("restartCount", 0)))


def _container_findings(
    pod: Mapping[str, Any],
    spec: Container,
    entry: Mapping[str, Any],
    events: list[Mapping[str, Any]],
    attempts: list[Mapping[str, Any]],
    transitions: list[Mapping[str, Any]],
    now: float,
) -> list[Finding]:
    name = spec["name"]
    instances = _instances(transitions)
    out: list[Finding] = []
    for instance in instances:
        if instance.end is not None or instance.kill is not None:
            out.append(_ending(pod, spec, instance, attempts, instances))
    out.extend(_present(pod, spec, entry, events, attempts, transitions, instances, now))
    out.extend(_flapping(spec, attempts, instances))
    for e in events:
        if e.get("reason") == "FailedPreStopHook":
            at = _event_time(e)
            count = int(e.get("count", 1) or 1)
            times = f" ({count} times)" if count > 1 else ""
            out.append(
                Finding(
                    name,
                    "pre-stop-hook",
                    "warning",
                    "lifecycle.preStop",
                    f"the preStop hook failed{times} (event FailedPreStopHook: {e.get('message', '')}); the stop went on "
                    "without it",
                    time=at,
                    suggestion="run the hook's command in the container by hand (`minikubelet exec`) to see its error",
                )
            )
    return sorted(out, key=lambda f: f.time if f.time is not None else math.inf)


def _ending(
    pod: Mapping[str, Any], spec: Container, inst: _Instance, attempts: list[Mapping[str, Any]], instances: list[_Instance]
) -> Finding:
    """Why one instance ended (or is being stopped)."""
    name = spec["name"]
    end, kill = inst.end, inst.kill
    start = inst.start
    code = end.get("exitCode") if end else None
    oom = bool(end and end.get("reason") == "OOMKilled")
    ran = _seconds(end["time"]) - start if end and start is not None else None
    at = _seconds(end["time"]) if end else _seconds(kill["time"]) if kill else None
    common: dict[str, Any] = {"container_id": inst.container_id, "restart_count": inst.restart_count, "exit_code": code}
    reason = str(kill.get("reason", "")) if kill else ""
    kind: ProbeKind | None = (
        "liveness" if "failed liveness probe" in reason else "startup" if "failed startup probe" in reason else None
    )
    if kind is not None:
        probe: Probe = probe_of(spec, kind) or {}
        grace = _grace(pod, probe)
        text, suggestion = _probe_kill(kind, probe, inst, attempts, instances)
        text += "; " + _how_it_ended(inst, grace)
        return Finding(name, f"{kind}-kill", "cause", f"{kind}Probe.failureThreshold", text,
                       time=at, offset=_off(at, start), suggestion=suggestion, **common)  # fmt: skip
    if reason == "FailedPostStartHook":
        text = "the postStart hook failed, so the kubelet killed the container (event FailedPostStartHook)"
        text += "; " + _how_it_ended(inst, _grace(pod, {}))
        return Finding(name, "post-start-hook", "cause", "lifecycle.postStart", text, time=at, offset=_off(at, start),
                       suggestion="the hook's error is in the PostStartHookError waiting message below", **common)  # fmt: skip
    if kill is not None:
        text = f"the kubelet stopped it ({reason})"
        text += "; " + _how_it_ended(inst, _grace(pod, {}))
        return Finding(name, "killed", "info", "", text, time=at, offset=_off(at, start), **common)
    assert end is not None
    lasted = f" after running {format_seconds(ran)}" if ran is not None else ""
    if oom:
        limit = ((spec.get("resources") or {}).get("limits") or {}).get("memory")
        where = f"its memory limit ({limit})" if limit else "the node's memory"
        text = f"OOMKilled{lasted}: the kernel's OOM killer ended it at {where} → exit {code}; the kubelet did not kill it"
        hint = f"raise resources.limits.memory above {limit}, or make the app use less" if limit else "set memory requests"
        return Finding(name, "oom-killed", "cause", "resources.limits.memory", text, time=at, offset=_off(at, start),
                       suggestion=hint, **common)  # fmt: skip
    message = f" ({end.get('message')})" if end.get("message") else ""
    word = end.get("reason") or ("Completed" if code == 0 else "Error")
    text = f"the process exited on its own with code {code}{lasted} ({word}){message}"
    severity = "info" if code == 0 else "cause"
    return Finding(name, "exited", severity, "restartPolicy", text, time=at, offset=_off(at, start), **common)


def _probe_kill(
    kind: ProbeKind, probe: Probe, inst: _Instance, attempts: list[Mapping[str, Any]], instances: list[_Instance]
) -> tuple[str, str]:
    """The run of failures that killed `inst`, in words, and the smallest change that would have avoided it."""
    mine = [a for a in attempts if a.get("containerID") == inst.container_id and _kind(a) == kind]
    threshold = int(probe.get("failureThreshold", 3))
    period = int(probe.get("periodSeconds", 10))
    crossing = next((i for i, a in enumerate(mine) if a.get("verdict") == "Failure"), None)
    head = f"{kind} {describe_handler(probe)}"
    if crossing is None:
        text = f"{head} reached failureThreshold {threshold} (every {period} s); the attempts are no longer recorded"
        return text, ""
    run = [mine[crossing]]
    for a in reversed(mine[:crossing]):
        if a.get("result") == "Failure":
            run.insert(0, a)
        elif a.get("result") == "Unknown":
            continue
        else:
            break
    first = _seconds(run[0]["start"])
    said = _answer(str(run[-1].get("message", "")), probe)
    text = (
        f"{head} failed {_in_a_row(len(run))} (failureThreshold {threshold}, every {period} s)"
        f" {'at' if len(run) == 1 else 'from'} {_plus(first, inst.start)}; {said}"
    )
    passed = [a for a in mine[:crossing] if a.get("result") in ("Success", "Warning")]
    if kind == "liveness" and passed:
        text = f"{head} passed until {_plus(_seconds(passed[-1]['start']), inst.start)}, then " + text.removeprefix(head + " ")
        if _is_timeout(str(run[-1].get("message", ""))):
            timeout = int(probe.get("timeoutSeconds", 1))
            return text, f"the app answered too slowly: timeoutSeconds {timeout * 2} (now {timeout}) would give it twice as long"
        return text, ""
    return text, startup_suggestion(kind, probe, inst, attempts, instances)


def startup_suggestion(
    kind: ProbeKind, probe: Probe, inst: _Instance, attempts: Sequence[Mapping[str, Any]], instances: Sequence[_Instance]
) -> str:
    """For an instance killed before it ever passed (a slow start): a startupProbe (or, for a startup kill, a
    failureThreshold) whose window covers the longest start seen: from an instance's start to its first
    successful probe, or to the kill when none succeeded, with a quarter more."""
    need, exact = 0.0, False
    for other in instances:
        if other.start is None:
            continue
        ok = [
            _seconds(a["start"])
            for a in attempts
            if a.get("containerID") == other.container_id and a.get("result") in ("Success", "Warning")
        ]
        if ok and min(ok) - other.start > need:
            need, exact = min(ok) - other.start, True
        elif not ok and other.kill is not None and _seconds(other.kill["time"]) - other.start > need:
            need, exact = _seconds(other.kill["time"]) - other.start, False
    if need <= 0:
        return ""
    period = int(probe.get("periodSeconds", 10))
    threshold = max(math.ceil(need * MARGIN / period), 1)
    seen = f"{'the' if exact else 'a start longer than the'} {format_seconds(need)} {'start ' if exact else ''}seen here"
    if kind == "startup":
        delay = int(probe.get("initialDelaySeconds", 0))
        window = f"{delay} s + " if delay else ""
        change = f"startupProbe failureThreshold {threshold} at period {period} s ({window}{threshold * period} s) covers {seen}"
    else:
        change = f"a startupProbe with failureThreshold {threshold} at period {period} s covers {seen}"
    if not exact:
        return f"no instance ever passed a probe: check the probe itself first; if the app only starts slowly, {change}"
    return change


def _how_it_ended(inst: _Instance, grace: int) -> str:
    """What the stop did: SIGTERM, then the process's exit or SIGKILL after the grace period."""
    grace = max(grace, 2)
    if inst.end is None:
        return f"the kubelet sent SIGTERM and is waiting up to the {grace} s grace"
    code = inst.end.get("exitCode")
    took = _seconds(inst.end["time"]) - _seconds(inst.kill["time"]) if inst.kill else None
    after = f" after {format_seconds(took)}" if took is not None else ""
    if inst.end.get("reason") == "OOMKilled":
        return f"it was OOMKilled while stopping{after} → exit {code} (OOMKilled)"
    if code == 143:
        return f"the kubelet sent SIGTERM and the process exited on it{after} → exit 143"
    if code == 0:
        return f"the kubelet sent SIGTERM and the process exited cleanly{after} → exit 0"
    if code == 137:
        if took is None or took >= grace - 1:
            return f"the kubelet sent SIGTERM, the process ignored it, SIGKILL after the {grace} s grace → exit 137 (not OOM)"
        return f"the kubelet sent SIGTERM; the process ended by SIGKILL{after}, within the {grace} s grace → exit 137 (not OOM)"
    return f"the kubelet sent SIGTERM and the process exited{after} → exit {code}"


def _present(
    pod: Mapping[str, Any],
    spec: Container,
    entry: Mapping[str, Any],
    events: list[Mapping[str, Any]],
    attempts: list[Mapping[str, Any]],
    transitions: list[Mapping[str, Any]],
    instances: list[_Instance],
    now: float,
) -> list[Finding]:
    """The container's trouble now, from its status."""
    name = spec["name"]
    state = entry.get("state") or {}
    restarts = int(entry.get("restartCount", 0))
    waiting = state.get("waiting")
    if waiting:
        reason, message = str(waiting.get("reason", "")), str(waiting.get("message", ""))
        since = _waiting_since(transitions, reason)
        if reason == "CrashLoopBackOff":
            return [_crash_loop(name, message, restarts, transitions, instances, now)]
        if reason in PULL_REASONS:
            image = spec.get("image", "")
            failed = [e for e in events if e.get("reason") == "Failed" and "Failed to pull image" in str(e.get("message", ""))]
            engine = str(failed[-1]["message"]) if failed else message
            text = f"{reason}: the image {image} cannot be pulled; the engine said: {engine}"
            if reason == "ImagePullBackOff":
                text += " (the kubelet retries with a back-off: 10 s doubling to 300 s)"
            return [Finding(name, "image-pull", "cause", "spec.containers[].image", text, time=since, restart_count=restarts,
                            suggestion="check the image's name and tag; a local image needs imagePullPolicy IfNotPresent "
                            "or Never")]  # fmt: skip
        if reason == "PostStartHookError":
            text = f"PostStartHookError: {message}" if message else "PostStartHookError"
            return [Finding(name, "post-start-hook", "cause", "lifecycle.postStart", text, time=since, restart_count=restarts)]
        if reason in ("ContainerCreating", "PodInitializing"):
            return []
        text = f"waiting: {reason}" + (f": {message}" if message else "")
        return [Finding(name, "waiting", "cause", "", text, time=since, restart_count=restarts)]
    if "running" in state and not entry.get("ready", False):
        return _not_ready(spec, entry, attempts, instances, now)
    return []


def _crash_loop(
    name: str, message: str, restarts: int, transitions: list[Mapping[str, Any]], instances: list[_Instance], now: float
) -> Finding:
    ended = [i for i in instances if i.end is not None]
    exits: dict[str, list[float]] = {}  # "exit 3 (Error)": how long each such instance ran
    for i in ended:
        assert i.end is not None
        why = "killed" if i.kill else str(i.end.get("reason") or "")
        ran = _seconds(i.end["time"]) - i.start if i.start is not None else math.nan
        exits.setdefault(f"exit {i.end.get('exitCode')}" + (f" ({why})" if why else ""), []).append(ran)
    parts = []
    for label, runs in exits.items():
        known = [r for r in runs if not math.isnan(r)]
        lasted = ""
        if known:
            low, high = format_seconds(min(known)), format_seconds(max(known))
            lasted = f" after running {low}" if low == high else f" after running {low} to {high}"
        parts.append(f"{label} ×{len(runs)}{lasted}")
    found = _BACKOFF.match(message)
    delay = found.group(1) if found else "?"
    backoffs = [t for t in transitions if t.get("reason") == "CrashLoopBackOff" and t.get("backOffUntil")]
    until = _seconds(backoffs[-1]["backOffUntil"]) if backoffs else None
    at = _seconds(backoffs[-1]["time"]) if backoffs else None
    nxt = ""
    if until is not None:
        clock = datetime.fromtimestamp(until, UTC).strftime("%H:%M:%S")
        left = until - now
        nxt = f"; next restart at {clock} UTC ({'in ' + format_seconds(left) if left > 0 else 'due now'})"
    text = (
        f"CrashLoopBackOff: restarted {restarts} times; the recorded instances ended with {', '.join(parts) or 'nothing'}; "
        f"the kubelet now waits back-off {delay} (10 s doubling to 300 s){nxt}"
    )
    return Finding(name, "crash-loop", "cause", "restart back-off", text, time=at, restart_count=restarts)


def _not_ready(
    spec: Container, entry: Mapping[str, Any], attempts: list[Mapping[str, Any]], instances: list[_Instance], now: float
) -> list[Finding]:
    name = spec["name"]
    cid = str(entry.get("containerID", "")).partition("://")[2] or str(entry.get("containerID", ""))
    inst = next((i for i in instances if i.container_id == cid), None)
    start = inst.start if inst else _seconds((entry.get("state", {}).get("running") or {}).get("startedAt", ""))
    restarts = int(entry.get("restartCount", 0))
    startup = probe_of(spec, "startup")
    if startup is not None and not entry.get("started", False):
        mine = [a for a in attempts if a.get("containerID") == cid and _kind(a) == "startup"]
        threshold = int(startup.get("failureThreshold", 3))
        failures = sum(1 for a in mine if a.get("result") == "Failure")
        last = f"; last answer: {_answer(str(mine[-1].get('message', '')), startup)}" if mine and mine[-1].get("message") else ""
        text = (
            f"not started yet: startup {describe_handler(startup)} has not passed ({failures} of failureThreshold "
            f"{threshold} failures so far, every {startup.get('periodSeconds', 10)} s){last}; liveness and readiness "
            "wait for it"
        )
        return [Finding(name, "startup-pending", "cause", "startupProbe", text, cid, restarts, now, _off(now, start))]
    probe = probe_of(spec, "readiness")
    if probe is None:
        return []
    mine = [a for a in attempts if a.get("containerID") == cid and _kind(a) == "readiness"]
    threshold, period = int(probe.get("failureThreshold", 3)), int(probe.get("periodSeconds", 10))
    head = f"readiness {describe_handler(probe)}"
    ok = [a for a in mine if a.get("result") in ("Success", "Warning")]
    if not mine:
        text = f"not Ready: {head} has not run yet on this instance (every {period} s)"
        return [Finding(name, "readiness-never", "cause", "readinessProbe", text, cid, restarts, now, _off(now, start))]
    if not ok:
        failed = [a for a in mine if a.get("result") == "Failure"]
        said = _answer(str(mine[-1].get("message", "")), probe)
        text = (
            f"not Ready: {head} has never passed since the start: {len(failed)} failures "
            f"from {_plus(_seconds(mine[0]['start']), start)} to {_plus(_seconds(mine[-1]['start']), start)}; {said}; "
            "readiness does not restart the container: the pod stays out of Service endpoints"
        )
        return [Finding(name, "readiness-never", "cause", "readinessProbe", text, cid, restarts,
                        _seconds(mine[-1]["start"]), _off(_seconds(mine[-1]["start"]), start))]  # fmt: skip
    last_ok = _seconds(ok[-1]["start"])
    after = [a for a in mine if _seconds(a["start"]) > last_ok and a.get("result") == "Failure"]
    crossing = next((a for a in after if a.get("verdict") == "Failure"), after[-1] if after else mine[-1])
    said = _answer(str(after[-1].get("message", "")) if after else "", probe)
    text = (
        f"not Ready: {head} passed until {_plus(last_ok, start)}, then failed {_in_a_row(len(after))} "
        f"(failureThreshold {threshold}, every {period} s) from "
        f"{_plus(_seconds(after[0]['start']), start) if after else '?'}; {said}; the container keeps running"
    )
    at = _seconds(crossing["start"])
    return [Finding(name, "readiness-lost", "cause", "readinessProbe.failureThreshold", text, cid, restarts, at, _off(at, start))]


def _flapping(spec: Container, attempts: list[Mapping[str, Any]], instances: list[_Instance]) -> list[Finding]:
    """Probes whose failures in a row stop just under the threshold: the next slow moment crosses it."""
    out: list[Finding] = []
    for kind in _KINDS:
        probe = probe_of(spec, kind)
        if probe is None:
            continue
        threshold = int(probe.get("failureThreshold", 3))
        if threshold < 2:
            continue
        mine = [a for a in attempts if _kind(a) == kind and a.get("result") != "Unknown"]
        runs: list[tuple[float, int, str]] = []  # (when the run ended by a success, its length, its instance)
        run, cid = 0, ""
        for a in mine:
            if a.get("containerID") != cid:
                run, cid = 0, str(a.get("containerID"))
            if a.get("result") == "Failure":
                run = 0 if a.get("verdict") == "Failure" else run + 1
            else:
                if run:
                    runs.append((_seconds(a["start"]), run, cid))
                run = 0
        if not runs:
            continue
        worst = max(n for _, n, _ in runs)
        near = [(t, c) for t, n, c in runs if n == worst]
        if worst < threshold - 1 and len(runs) < 3:
            continue
        span = _seconds(mine[-1]["start"]) - _seconds(mine[0]["start"])
        times = f"{len(near)} time{'s' if len(near) != 1 else ''}"
        effect = {"readiness": "not Ready", "liveness": "a kill", "startup": "a kill"}[kind]
        text = (
            f"{kind} {describe_handler(probe)} failed {worst} of {threshold} in a row {times} in "
            f"{format_seconds(span)} ({len(runs)} runs of failures, none crossing); one more failure in a row "
            f"means {effect}"
        )
        messages = [str(a.get("message", "")) for a in mine if a.get("result") == "Failure"]
        hint = ""
        if messages and sum(_is_timeout(m) for m in messages) * 2 >= len(messages):
            timeout = int(probe.get("timeoutSeconds", 1))
            hint = f"most failures are timeouts: timeoutSeconds {timeout * 2} (now {timeout})"
        elif messages:
            hint = f"the failures say: {_answer(messages[-1], probe).removeprefix('the app answered ')}"
        at, cid = near[-1]
        inst = next((i for i in instances if i.container_id == cid), None)  # the last near miss's instance
        start = inst.start if inst is not None else None
        out.append(Finding(spec["name"], "flapping", "warning", f"{kind}Probe.failureThreshold", text,
                           container_id=cid if inst is not None else "",
                           restart_count=inst.restart_count if inst is not None else None,
                           time=at, offset=_off(at, start), suggestion=hint))  # fmt: skip
    return out


def _pod_summary(d: Diagnosis, status: Mapping[str, Any]) -> str:
    parts = [f"pod {d.namespace}/{d.pod}: {d.phase or 'Pending'}"]
    if d.ready:
        parts.append("Ready")
    else:
        cond: Mapping[str, Any] = next((c for c in status.get("conditions", []) or [] if c.get("type") == "Ready"), {})
        said = ": ".join(str(cond[k]) for k in ("reason", "message") if cond.get(k))
        reason = f" ({said})" if said else ""
        parts.append(f"not Ready{reason}")
    restarted = [f"{c.name} restarted {c.restart_count} time{'s' if c.restart_count != 1 else ''}"
                 for c in d.containers if c.restart_count]  # fmt: skip
    return ", ".join(parts) + ("; " + ", ".join(restarted) if restarted else "")


# ------------------------------------------------------------------------------------------------- the words


def describe_handler(probe: Mapping[str, Any]) -> str:
    """`httpGet :8080/healthz`, `exec cat /tmp/healthy`, `tcpSocket :5432`, `grpc :9000`."""
    if "exec" in probe:
        return "exec " + " ".join(str(a) for a in probe["exec"].get("command", []))
    if "httpGet" in probe:
        action = probe["httpGet"]
        scheme = "https://" if str(action.get("scheme", "HTTP")).upper() == "HTTPS" else ""
        return f"httpGet {scheme}{action.get('host', '')}:{action.get('port')}{action.get('path', '/')}"
    if "tcpSocket" in probe:
        return f"tcpSocket {probe['tcpSocket'].get('host', '')}:{probe['tcpSocket'].get('port')}"
    if "grpc" in probe:
        return f"grpc :{probe['grpc'].get('port')}"
    return "probe"


def _answer(message: str, probe: Mapping[str, Any]) -> str:
    """What the app answered, short: `connection refused`, `HTTP 500`, a timeout, or the probe's output."""
    text = " ".join(message.split())
    if not text:
        return "the attempts gave no output"
    if "connection refused" in text:
        return "the app answered `connection refused` (nothing listening)"
    found = _STATUS.search(text)
    if found:
        return f"the app answered HTTP {found.group(1)}"
    if _is_timeout(text):
        return f"the app did not answer within timeoutSeconds {probe.get('timeoutSeconds', 1)} s"
    return f"the app answered `{text[:160]}`"


def _in_a_row(n: int) -> str:
    return "once" if n == 1 else f"{n} times in a row"


def _is_timeout(message: str) -> bool:
    return any(s in message for s in ("timed out", "deadline exceeded", "Client.Timeout", "i/o timeout"))


def format_seconds(seconds: float) -> str:
    """`0.4 s`, `31 s`, `2 min 05 s`, `1 h 02 min`."""
    if seconds < 10:
        return f"{max(seconds, 0):.1f} s"
    whole = round(seconds)
    if whole < 120:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def _plus(at: float, start: float | None) -> str:
    if start is None:
        return datetime.fromtimestamp(at, UTC).strftime("%H:%M:%S UTC")
    return "+" + format_seconds(at - start)


def _off(at: float | None, start: float | None) -> float | None:
    return at - start if at is not None and start is not None else None


def _grace(pod: Mapping[str, Any], probe: Mapping[str, Any]) -> int:
    """The kill's grace period (docs/kubelet.md#killing-a-container): the probe's own, else the pod's."""
    if probe.get("terminationGracePeriodSeconds") is not None:
        return int(probe["terminationGracePeriodSeconds"])
    return int((pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30))


def _kind(attempt: Mapping[str, Any]) -> str:
    return str(attempt.get("probe", "")).lower()


def _waiting_since(transitions: list[Mapping[str, Any]], reason: str) -> float | None:
    same = [t for t in transitions if t.get("state") == "waiting" and t.get("reason") == reason]
    return _seconds(same[-1]["time"]) if same else None


def _event_container(event: Mapping[str, Any]) -> str:
    path = str((event.get("involvedObject") or {}).get("fieldPath", ""))
    found = re.search(r"\{(.+)\}", path)
    return found.group(1) if found else ""


def _event_time(event: Mapping[str, Any]) -> float | None:
    stamp = event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp")
    parsed = parse_time(stamp) if stamp else None
    return parsed.timestamp() if parsed else None


def _seconds(stamp: str) -> float:
    parsed = parse_time(stamp)
    return parsed.timestamp() if parsed else 0.0


def _rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------------------------------------- the outputs


def to_json(d: Diagnosis) -> dict[str, Any]:
    """`why -o json`: the schema documented in docs/why.md."""
    return {
        "kind": KIND,
        "apiVersion": API_VERSION,
        "metadata": {"namespace": d.namespace, "name": d.pod},
        "time": _rfc3339(d.now),
        "phase": d.phase,
        "ready": d.ready,
        "summary": d.summary,
        "containers": [
            {"name": c.name, "state": c.state, "reason": c.reason, "ready": c.ready, "restartCount": c.restart_count}
            for c in d.containers
        ],
        "findings": [f.to_dict() for f in d.findings],
    }


def to_text(d: Diagnosis) -> str:
    """The narrative: the pod's line, then per container its findings in order, each with its fix."""
    lines = [d.summary]
    for c in d.containers:
        mine = [f for f in d.findings if f.container == c.name]
        state = c.state + (f" ({c.reason})" if c.reason else "") + (", ready" if c.ready else ", not ready")
        lines.append("")
        lines.append(f"container {c.name}: {state}, {c.restart_count} restart{'s' if c.restart_count != 1 else ''}")
        if not mine:
            lines.append("  nothing to explain: no restart, no failing probe recorded")
        for group in _groups(mine):
            f = group[-1]
            if len(group) > 1:
                where = f"instances #{group[0].restart_count}–#{f.restart_count} ({len(group)} times), the last"
            else:
                where = f"instance #{f.restart_count}" if f.restart_count is not None and f.container_id else ""
            verb = "ended at" if f.kind in _ENDINGS else "at"
            at = f"{verb} {_plus(f.time, f.time - f.offset)}" if f.time is not None and f.offset is not None else ""
            head = " ".join(p for p in (where, at) if p)
            mark = {"cause": "✗", "warning": "!", "info": "·"}.get(f.severity, "·")
            lines.append(f"  {mark} {head + ': ' if head else ''}{f.text}")
            if f.rule:
                lines.append(f"      rule: {f.rule}")
            if f.suggestion:
                lines.append(f"      fix: {f.suggestion}")
    return "\n".join(lines) + "\n"


_ENDINGS = ("liveness-kill", "startup-kill", "post-start-hook", "oom-killed", "exited", "killed")


def _groups(findings: list[Finding]) -> list[list[Finding]]:
    """Consecutive endings of instances for the same reason (kind, rule, exit code, fix) told once."""
    out: list[list[Finding]] = []
    for f in findings:
        last = out[-1][-1] if out else None
        same = (
            last is not None
            and f.kind in _ENDINGS
            and f.container_id
            and last.container_id
            and (last.kind, last.rule, last.exit_code, last.suggestion) == (f.kind, f.rule, f.exit_code, f.suggestion)
        )
        if same:
            out[-1].append(f)
        else:
            out.append([f])
    return out
