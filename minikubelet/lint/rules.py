"""The probe rules of `minikubelet lint`, on a decoded (defaulted and valid) Pod. Pure: no I/O.

Every rule returns findings whose message carries its arithmetic, so that the numbers can be checked by hand
(the timing model is minikubelet.lint.timing's docstring, from docs/kubelet.md#probe-workers).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from minikubelet.api.pod import Container, PodSpec
from minikubelet.api.probe import GRPCAction, HTTPGetAction, Probe, TCPSocketAction
from minikubelet.lint.findings import Finding, Severity
from minikubelet.lint.timing import KillWindow, format_seconds, kill_window, threshold_for

if TYPE_CHECKING:  # the record's types only: rules stay pure, the CLI reads the file
    from minikubelet.kubelet.start_records import StartRecords

__all__ = ["LONG_READINESS_DELAY", "RuleOptions", "containers_at", "lint_spec"]

#: A readiness initialDelaySeconds from which rule `readiness-delay` speaks: three default periods (3 x 10 s).
#: Shorter delays hold the pod out of service for little longer than the first periods would anyway.
LONG_READINESS_DELAY = 30


@dataclass(frozen=True, slots=True)
class RuleOptions:
    starts_within: float | None = None  # --starts-within, in seconds: the container's declared start time
    start_records: StartRecords | None = None  # the node's record of how long images took to start (--records)


def lint_spec(spec: PodSpec, path: str = "spec", options: RuleOptions | None = None) -> list[Finding]:
    """Every rule on every container of a pod spec found at `path` (`spec`, or `spec.template.spec`)."""
    options = options or RuleOptions()
    findings: list[Finding] = []
    for at, container in containers_at(spec, path):
        findings += _container_findings(container, at, options)
    return findings


def containers_at(spec: PodSpec, path: str) -> Iterator[tuple[str, Container]]:
    """The init and regular containers of a pod spec, each with its field path under `path`."""
    for index, init in enumerate(spec.init_containers):
        yield f"{path}.initContainers[{index}]", init
    for index, container in enumerate(spec.containers):
        yield f"{path}.containers[{index}]", container


def _container_findings(container: Container, at: str, options: RuleOptions) -> list[Finding]:
    out: list[Finding] = []
    if options.starts_within is not None:
        out += _start_window(container, at, options.starts_within)
    for kind, probe in _probes(container):
        out += _timeout_period(probe, f"{at}.{kind}Probe")
    out += _liveness_as_readiness(container, at)
    out += _probe_ports(container, at)
    out += _readiness_delay(container, at)
    if options.start_records is not None:
        out += _slow_start(container, at, options.start_records)
    return [Finding(f.rule, f.severity, f.field, f.message, container=container.name) for f in out]


def _probes(container: Container) -> list[tuple[str, Probe]]:
    named = (
        ("liveness", container.liveness_probe),
        ("readiness", container.readiness_probe),
        ("startup", container.startup_probe),
    )
    return [(kind, probe) for kind, probe in named if probe is not None]


# ------------------------------------------------------------------------------ rule 1: liveness-window


def _start_window(container: Container, at: str, start: float) -> list[Finding]:
    """Whether liveness (or the startup probe that gates it) can kill the container before its declared start."""
    declared = f"its declared start time of {format_seconds(start)} (--starts-within)"
    startup, liveness = container.startup_probe, container.liveness_probe
    if startup is not None:
        window = kill_window(startup)
        if window.earliest >= start:
            return []
        needed = threshold_for(start, window.period, window.delay)
        message = (
            f"can give up, and kill the container, {format_seconds(window.earliest)} after it starts, before {declared}:"
            f" earliest kill = {window.earliest_arithmetic()} (the first attempt can come right at the delay;"
            f" at the latest {window.latest_arithmetic()}); raise failureThreshold to {needed}"
            f" = ceil(({start:g} - {window.delay}) / {window.period}) + 1, whose earliest kill"
            f" {window.delay} + ({needed} - 1) x {window.period} = {format_seconds(window.delay + (needed - 1) * window.period)}"
            f" is not before {format_seconds(start)}"
        )
        return [Finding("liveness-window", Severity.WARNING, f"{at}.startupProbe", message)]
    if liveness is None:
        return []
    window = kill_window(liveness)
    if window.earliest >= start:
        return []
    return [Finding("liveness-window", Severity.WARNING, f"{at}.livenessProbe", _startup_fix(window, start, declared))]


def _startup_fix(window: KillWindow, start: float, before: str) -> str:
    """A liveness probe (no startupProbe) whose earliest kill is before `start`: the arithmetic, and the startupProbe
    that covers `start` (rules `liveness-window` and `slow-start-image`)."""
    needed = threshold_for(start, window.period)
    return (
        f"can kill the container {format_seconds(window.earliest)} after it starts, before {before}:"
        f" earliest kill = {window.earliest_arithmetic()} (the first attempt can come right at the delay;"
        f" at the latest {window.latest_arithmetic()}); add a startupProbe with the same handler,"
        f" periodSeconds {window.period} and failureThreshold {needed} = ceil({start:g} / {window.period}) + 1,"
        f" whose earliest kill ({needed} - 1) x {window.period} = {format_seconds((needed - 1) * window.period)}"
        f" is not before {format_seconds(start)}; liveness then starts only once it has succeeded"
    )


# ------------------------------------------------------------------------------ rule 2: timeout-period


def _timeout_period(probe: Probe, at: str) -> list[Finding]:
    t, p, f = probe.timeout_seconds, probe.period_seconds, probe.failure_threshold
    if t < p:
        return []
    message = (
        f"timeoutSeconds {t} >= periodSeconds {p}: an attempt that hangs until its timeout takes its whole period or"
        f" more; the worker keeps one missed tick and drops the others, so the next attempt starts as soon as it ends:"
        f" hanging attempts come back to back, every timeoutSeconds {t}, and failureThreshold {f} of them take"
        f" {f} x {t} = {format_seconds(f * t)} from the first, which itself comes up to one period ({format_seconds(p)})"
        f" after the delay; keep timeoutSeconds below periodSeconds, so that a probe that hangs is a failure like any other"
    )
    return [Finding("timeout-period", Severity.WARNING, at, message)]


# ------------------------------------------------------------------------------ rule 3: liveness-as-readiness


def _liveness_as_readiness(container: Container, at: str) -> list[Finding]:
    liveness, readiness = container.liveness_probe, container.readiness_probe
    if liveness is None or readiness is None or _handler(liveness, container) != _handler(readiness, container):
        return []
    live, ready = kill_window(liveness), kill_window(readiness)
    live_after = (live.threshold - 1) * live.period
    ready_after = (ready.threshold - 1) * ready.period
    if live_after > ready_after:
        return []
    same = "the same check as readinessProbe" + (", with the same timing" if _timing(liveness) == _timing(readiness) else "")
    message = (
        f"{same}, failing as fast: once the check starts failing, liveness gives up after"
        f" (failureThreshold {live.threshold} - 1) x periodSeconds {live.period} = {format_seconds(live_after)} more,"
        f" readiness after ({ready.threshold} - 1) x {ready.period} = {format_seconds(ready_after)}, so the kubelet"
        f" restarts the container no later than it takes it out of service. Harmful when the check can fail while"
        f" the process is fine (overload, a slow or down dependency): a restart, losing its work and warm state,"
        f" where leaving the endpoints was all that was needed, and every replica restarting at once."
        f" Harmless when the check only tells whether the process itself is wedged (a deadlock): then restarting"
        f" is the cure. Either way, let readiness act first: give liveness a larger failureThreshold"
        f" (or a cheaper check of the process alone)"
    )
    return [Finding("liveness-as-readiness", Severity.WARNING, f"{at}.livenessProbe", message)]


def _handler(probe: Probe, container: Container) -> tuple[str, object]:
    """The handler with named ports resolved to numbers, so that `port: http` and `port: 3000` compare equal."""
    if probe.http_get is not None:
        get = probe.http_get
        port = _resolve(get.port, container)
        headers = tuple((h.name, h.value) for h in get.http_headers)
        return "httpGet", (get.scheme, get.host, port, get.path, headers)
    if probe.tcp_socket is not None:
        return "tcpSocket", (probe.tcp_socket.host, _resolve(probe.tcp_socket.port, container))
    if probe.grpc is not None:
        return "grpc", (probe.grpc.port, probe.grpc.service or "")
    if probe.exec is not None:
        return "exec", tuple(probe.exec.command)
    return "", None


def _timing(probe: Probe) -> tuple[int, int, int, int]:
    return probe.initial_delay_seconds, probe.period_seconds, probe.timeout_seconds, probe.failure_threshold


def _resolve(port: int | str, container: Container) -> int | str:
    if isinstance(port, int):
        return port
    return next((p.container_port for p in container.ports if p.name == port), port)


# ------------------------------------------------------------------------------ rule 4: probe-port


def _probe_ports(container: Container, at: str) -> list[Finding]:
    targets: list[tuple[str, HTTPGetAction | TCPSocketAction | GRPCAction, str]] = []
    for kind, probe in _probes(container):
        for name, handler in (("httpGet", probe.http_get), ("tcpSocket", probe.tcp_socket), ("grpc", probe.grpc)):
            if handler is not None:
                targets.append((f"{at}.{kind}Probe.{name}.port", handler, f"the {kind} probe"))
    lifecycle = container.lifecycle
    if lifecycle is not None:
        for hook, hook_handler in (("postStart", lifecycle.post_start), ("preStop", lifecycle.pre_stop)):
            if hook_handler is not None and hook_handler.http_get is not None:
                targets.append((f"{at}.lifecycle.{hook}.httpGet.port", hook_handler.http_get, f"the {hook} hook"))
    declared_numbers = {p.container_port for p in container.ports}
    declared = ", ".join(f"{p.name or '(no name)'} {p.container_port}/{p.protocol}" for p in container.ports) or "none"
    out: list[Finding] = []
    for field, handler, what in targets:
        port = handler.port
        if isinstance(port, str):
            if any(p.name == port for p in container.ports):
                continue
            consequence = _MISSING_PORT[what.split()[1]]
            message = (
                f'named port "{port}" is not among the container\'s ports (declared: {declared}): the kubelet looks'
                f" the name up in ports[].name and {what} errors (`port {port} not found`): {consequence}"
            )
            out.append(Finding("probe-port", Severity.ERROR, field, message))
        elif container.ports and port not in declared_numbers and not getattr(handler, "host", ""):
            message = (
                f"port {port} is not among the ports the container declares ({declared}): the kubelet uses it"
                f" anyway (declaring a port is informational), but {what} then targets a port the container does not"
                f" say it listens on; a typo?"
            )
            out.append(Finding("probe-port", Severity.WARNING, field, message))
    return out


_MISSING_PORT = {
    "liveness": "an errored attempt is not counted, so liveness never kills: the container has no liveness check at all",
    "readiness": "an errored attempt is not counted, so the container never becomes Ready",
    "startup": "an errored attempt is not counted, so the container never counts as started: never Ready, no liveness",
    "postStart": "the hook fails and the kubelet kills the container (FailedPostStartHook)",
    "preStop": "the hook fails (FailedPreStopHook) and the container is killed without it",
}


# ------------------------------------------------------------------------------ rule 6: readiness-delay


def _readiness_delay(container: Container, at: str) -> list[Finding]:
    readiness = container.readiness_probe
    if readiness is None or readiness.initial_delay_seconds < LONG_READINESS_DELAY:
        return []
    d, p = readiness.initial_delay_seconds, readiness.period_seconds
    gated = container.startup_probe is not None
    advice = (
        "the startupProbe already holds readiness back until the app answers: drop the delay"
        if gated
        else f"drop the delay, or, to keep those early failures quiet, add a startupProbe (periodSeconds {p},"
        f" failureThreshold {threshold_for(d, p)} = ceil({d} / {p}) + 1: earliest kill"
        f" ({threshold_for(d, p)} - 1) x {p} = {format_seconds((threshold_for(d, p) - 1) * p)}): it gates readiness"
        f" and ends at its first success, however early"
    )
    message = (
        f"initialDelaySeconds {d} (>= {LONG_READINESS_DELAY}s, three default periods): after every start, restarts"
        f" included, the pod stays out of service at least {format_seconds(d)} and up to"
        f" {d} + periodSeconds {p} = {format_seconds(d + p)} (the first tick at or after the delay), even when the app"
        f" is ready in a second. Readiness starts as Failure and never kills, so probing early costs only"
        f" Unhealthy events; {advice}"
    )
    return [Finding("readiness-delay", Severity.INFO, f"{at}.readinessProbe.initialDelaySeconds", message)]


# ------------------------------------------------------------------------------ rule 7: slow-start-image


def _slow_start(container: Container, at: str, records: StartRecords) -> list[Finding]:
    """A liveness probe (no startupProbe) that can kill the container before the longest start its image had on
    the node, as the node's start record has it (minikubelet.kubelet.start_records)."""
    liveness = container.liveness_probe
    if liveness is None or container.startup_probe is not None:
        return []
    seen = records.for_image(container.image)
    if seen is None:
        return []
    longest = seen.longest
    window = kill_window(liveness)
    if window.earliest >= longest.seconds:
        return []
    recent = ", ".join(format_seconds(start.seconds) for start in seen.recent)
    before = f"the {format_seconds(longest.seconds)} its image took to start on this node"
    message = (
        f"{_startup_fix(window, longest.seconds, before)}. The start record ({records.source}) has {container.image}'s"
        f" longest start: {format_seconds(longest.seconds)} from startedAt {longest.started_at} to the first successful"
        f" {longest.probe.lower()} probe at {longest.passed_at}, after {longest.failures} failed attempt"
        f"{'s' if longest.failures != 1 else ''}"
        f" (pod {longest.pod}, container {longest.container}); its last starts: {recent}"
    )
    return [Finding("slow-start-image", Severity.WARNING, f"{at}.livenessProbe", message)]
