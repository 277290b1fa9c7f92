"""A behaviour acted out by a real busybox container, so that the simulator can be checked against Docker.

`busybox_pod(pod, behaviours)` returns the pod with every container (init containers too) rewritten by
`busybox_container`: image `minikubelet.local/busybox:1.35` (built by `make images`), `command` the shell script of
`busybox_command` (`args` dropped), exec probes `["/bin/sh", "/tmp/sim-probe", KIND]`, httpGet probes given a header
`X-Minikubelet-Probe: KIND` (the HTTP server cannot otherwise tell the liveness probe from the readiness probe on
the same path) and, when the behaviour has an OOM kill, a memory limit (`OOM_MEMORY_LIMIT` unless the container
has one): the kill is real, and needs a limit to happen under.

The script, run by busybox `sh` as the container's PID 1, has this shape:

1. It notes the instance's start, in hundredths of a second of /proc/uptime, in /tmp/sim-start (a restarted
   container is a new container with a new /tmp, so it replays its behaviour from 0), and sets its SIGTERM trap:
   `trap 'exit 143' TERM` (the default), `trap '' TERM` (`ignores SIGTERM`: the kubelet kills it after the grace
   period, 137) or `trap 'sleep D; exit 143' TERM` (`stops in D`).
2. It writes (with the shell's own printf: no process to start, so that the listeners come up within a few
   milliseconds, before the kubelet's first readiness probe) /tmp/sim-verdict, which prints how probe KIND would be
   answered now — `ok`, `refused`, `fails` or `hangs`, the rules of `Behaviour.answer` with each probe's matching
   faults worked out in advance, and `$RANDOM` for the percentages. If an httpGet probe needs it, it writes
   /tmp/sim-http, one HTTP exchange (run by `nc -ll -p PORT -e /bin/sh /tmp/sim-http`, one process per connection,
   as in the echo image): 200, 500, or no answer until after the probe's timeout, per the verdict for the probe its
   header names (200 for a request without one). If an exec probe needs it, it writes /tmp/sim-probe, the exec
   probes' command: exit 0, exit 1, or a sleep past the timeout. Neither prints anything, so that an exec probe's
   failure message (its output) is empty on Docker as in the simulator.
3. It starts, in the background, one listener per port that the httpGet and tcpSocket probes use, after `listens
   after`: the HTTP server on an httpGet port; on a tcpSocket-only port `nc -ll -p PORT -e /bin/true`, or, when
   faults make it refuse connections at times, a loop that starts and kills that listener every 0.1 s as the
   verdict says.
4. It waits — a background `sleep` and `wait`, so that a trap runs at once — until its own end: `exit CODE`, or for
   an OOM kill `exec tail /dev/zero` (tail keeps the never-ending line in memory until the kernel kills it: 137,
   OOMKilled), or for ever.

Some behaviour cannot be acted out with busybox, and `ScriptError` says so: grpc and HTTPS probes, a tcpSocket probe
that hangs (a listening socket accepts at once) or fails at random, tcpSocket probes on one port whose verdicts
differ, and a tcpSocket probe with faults on the port of an httpGet probe.
"""

from __future__ import annotations

import copy
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from minikubelet.prober.handlers import ProbeError, resolve_port
from minikubelet.simulate.behaviour import Behaviour, Fault, Window

__all__ = [
    "BUSYBOX_IMAGE",
    "OOM_MEMORY_LIMIT",
    "PROBE_HEADER",
    "ScriptError",
    "busybox_command",
    "busybox_container",
    "busybox_pod",
    "rewrite_exec_probes",
]

BUSYBOX_IMAGE = "minikubelet.local/busybox:1.35"
PROBE_HEADER = "X-Minikubelet-Probe"
OOM_MEMORY_LIMIT = "32Mi"
KINDS = ("liveness", "readiness", "startup")
HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
TCP_POLL = "0.1"  # seconds between two looks of a tcpSocket port's supervisor loop


class ScriptError(ValueError):
    """A behaviour or a probe that a busybox container cannot act out."""


@dataclass(frozen=True, slots=True)
class _Probe:
    kind: str
    handler: str
    path: str | None
    port: int | None
    port_name: str | None
    timeout: int

    def faults(self, behaviour: Behaviour) -> tuple[Fault, ...]:
        return tuple(
            fault
            for fault in behaviour.faults
            if fault.matches(kind=self.kind, handler=self.handler, path=self.path, port=self.port, port_name=self.port_name)
        )


def _probes(container: Mapping[str, Any]) -> list[_Probe]:
    name = container.get("name", "?")
    found = []
    for kind in KINDS:
        probe = container.get(f"{kind}Probe")
        if not probe:
            continue
        handler = next((h for h in HANDLERS if probe.get(h) is not None), None)
        if handler is None:
            raise ScriptError(f"container {name}: the {kind} probe has no handler")
        if handler == "grpc":
            raise ScriptError(f"container {name}: a busybox container cannot act out the grpc {kind} probe (no gRPC server)")
        timeout = int(probe.get("timeoutSeconds") or 1)
        if handler == "exec":
            found.append(_Probe(kind, handler, None, None, None, timeout))
            continue
        action = probe[handler]
        if str(action.get("scheme", "HTTP")).upper() == "HTTPS":
            raise ScriptError(f"container {name}: a busybox container cannot act out the HTTPS {kind} probe (no TLS)")
        raw = action.get("port")
        try:
            port = resolve_port(raw, container)
        except ProbeError as exc:
            raise ScriptError(f"container {name}: the {kind} probe's port: {exc}") from None
        found.append(
            _Probe(
                kind,
                handler,
                action.get("path") if handler == "httpGet" else None,
                port,
                raw if isinstance(raw, str) else None,
                timeout,
            )
        )
    return found


# --- the shell text ----------------------------------------------------------------------------------------------


def _seconds(seconds: float) -> str:
    """Seconds as busybox `sleep` reads them."""
    return f"{seconds:.2f}".rstrip("0").rstrip(".")


def _cs(seconds: float) -> int:
    """Seconds as whole hundredths, the unit of /proc/uptime."""
    return round(seconds * 100)


def _window_test(window: Window) -> str:
    """A shell test that holds while `window` covers $t (hundredths of a second since the start)."""
    tests = []
    if window.start > 0:
        tests.append(f"[ $t -ge {_cs(window.start)} ]")
    if window.every is not None:
        length = _cs(window.end - window.start) if window.end is not None else None
        if length is not None:
            since = f"(t - {_cs(window.start)})" if window.start > 0 else "t"
            tests.append(f"[ $(( {since} % {_cs(window.every)} )) -lt {length} ]")
    elif window.end is not None:
        tests.append(f"[ $t -lt {_cs(window.end)} ]")
    return " && ".join(tests) or "true"


def _any_window(faults: tuple[Fault, ...]) -> str:
    tests = [_window_test(fault.window) for fault in faults]
    if "true" in tests:
        return "true"
    return " || ".join(f"{{ {test}; }}" if "&&" in test else test for test in tests)


def _verdict_branch(behaviour: Behaviour, probe: _Probe) -> list[str]:
    """The `case` branch of /tmp/sim-verdict for one probe: Behaviour.answer in sh."""
    faults = probe.faults(behaviour)
    steps: list[tuple[str, str]] = []
    if behaviour.listens_after > 0:
        steps.append((f"[ $t -lt {_cs(behaviour.listens_after)} ]", "refused"))
    hangs = tuple(f for f in faults if f.mode == "hangs")
    fails = tuple(f for f in faults if f.mode == "fails")
    if hangs:
        steps.append((_any_window(hangs), "hangs"))
    if fails:
        steps.append((_any_window(fails), "fails"))
    if behaviour.timeout_fraction > 0:
        steps.append((f"[ $r -lt {round(behaviour.timeout_fraction * 10000)} ]", "hangs"))
    if behaviour.failure_fraction > 0:
        steps.append((f"[ $r -lt {round((behaviour.timeout_fraction + behaviour.failure_fraction) * 10000)} ]", "fails"))
    lines = [f"{probe.kind})"]
    for number, (test, verdict) in enumerate(steps):
        lines.append(f"  {'if' if number == 0 else 'elif'} {test}; then echo {verdict}")
    if steps:
        lines += ["  else echo ok", "  fi ;;"]
    else:
        lines[-1] += " echo ok ;;"
    return lines


def _verdict_script(behaviour: Behaviour, probes: list[_Probe]) -> str:
    lines = [
        "# sh /tmp/sim-verdict KIND: how the KIND probe is answered now (ok, refused, fails or hangs)",
        "read now _ </proc/uptime",
        "now=${now%.*}${now#*.}",
        "read start </tmp/sim-start",
        "t=$((now - start))",
        "r=$((RANDOM % 10000))",
        "case $1 in",
    ]
    for probe in probes:
        lines += _verdict_branch(behaviour, probe)
    lines += ["*) echo ok ;;", "esac"]
    return "\n".join(lines)


def _hang_seconds(probes: list[_Probe]) -> int:
    """How long a hanging answer sleeps: past every probe's timeout, then it ends (no process lingers for ever)."""
    return max((probe.timeout for probe in probes), default=1) + 10


def _http_script(hang: int) -> str:
    return f"""# One HTTP exchange on stdin/stdout (nc -ll -e): as /tmp/sim-verdict says for the probe the
# {PROBE_HEADER} header names; 200 for a request without one.
cr=$(printf '\\r')
IFS= read -r -t 10 request || exit 0
kind=''
while IFS= read -r -t 10 line; do
  line=${{line%"$cr"}}
  [ -n "$line" ] || break
  case $line in {PROBE_HEADER}:*|{PROBE_HEADER.lower()}:*) kind=$(echo ${{line#*:}}) ;; esac
done
verdict=ok
[ -z "$kind" ] || verdict=$(sh /tmp/sim-verdict "$kind")
case $verdict in
hangs) exec sleep {hang} ;;
ok) status='200 OK' ;;
*) status='500 Internal Server Error' ;;
esac
printf 'HTTP/1.1 %s\\r\\nContent-Type: text/plain\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n' "$status"
"""


def _probe_script(hang: int) -> str:
    return f"""# sh /tmp/sim-probe KIND: the exec probe KIND, as /tmp/sim-verdict says; it prints nothing.
case $(sh /tmp/sim-verdict "$1") in
ok) exit 0 ;;
hangs) exec sleep {hang} ;;
*) exit 1 ;;
esac"""


def _sleep_until(label: str, seconds: float) -> list[str]:
    """Wait (in the background, so that a trap runs at once) until `seconds` after the start."""
    return [
        f"# {label}",
        "read now _ </proc/uptime",
        "now=${now%.*}${now#*.}",
        f"left=$(( {_cs(seconds)} - (now - $(cat /tmp/sim-start)) ))",
        "[ $left -gt 0 ] || left=0",
        'sleep "$((left / 100)).$((left % 100 / 10))$((left % 10))" & wait $!',
    ]


def _listeners(behaviour: Behaviour, probes: list[_Probe], name: str) -> list[str]:
    # `listens on`: a probe on another port finds nothing listening (connection refused).
    probes = [p for p in probes if behaviour.listens_on(p.port, p.port_name)]
    http_ports = sorted({p.port for p in probes if p.handler == "httpGet" and p.port is not None})
    tcp: dict[int, list[_Probe]] = {}
    for probe in probes:
        if probe.handler == "tcpSocket" and probe.port is not None:
            tcp.setdefault(probe.port, []).append(probe)
    lines: list[str] = []

    def listen(port: int, program: str) -> str:
        if behaviour.listens_after > 0:
            return f"(sleep {_seconds(behaviour.listens_after)}; exec nc -ll -p {port} -e {program}) &"
        return f"nc -ll -p {port} -e {program} &"

    for port in http_ports:
        lines.append(listen(port, "/bin/sh /tmp/sim-http"))
    for port, on_port in sorted(tcp.items()):
        faulty = [p for p in on_port if p.faults(behaviour)]
        for probe in on_port:
            if any(f.mode == "hangs" for f in probe.faults(behaviour)):
                raise ScriptError(f"container {name}: a busybox container cannot make the tcpSocket {probe.kind} probe hang")
            if behaviour.timeout_fraction or behaviour.failure_fraction:
                raise ScriptError(
                    f"container {name}: a busybox container cannot make the tcpSocket {probe.kind} probe fail or hang at random"
                )
        if port in http_ports:
            if faulty:
                raise ScriptError(
                    f"container {name}: the tcpSocket {faulty[0].kind} probe has faults on port {port}, "
                    "where the HTTP server of an httpGet probe listens"
                )
            continue
        if len({p.faults(behaviour) for p in on_port}) > 1:
            raise ScriptError(f"container {name}: the tcpSocket probes on port {port} would answer differently")
        if not faulty:
            lines.append(listen(port, "/bin/true"))
            continue
        lines += [
            f"# port {port}: listening only while the {on_port[0].kind} probe's verdict is ok",
            "(",
            "  pid=''",
            "  while :; do",
            f'    if [ "$(sh /tmp/sim-verdict {on_port[0].kind})" = ok ]; then',
            f'      [ -n "$pid" ] || {{ nc -ll -p {port} -e /bin/true & pid=$!; }}',
            '    elif [ -n "$pid" ]; then',
            '      kill "$pid"; wait "$pid"; pid=\'\'',
            "    fi",
            f"    sleep {TCP_POLL}",
            "  done",
            ") &",
        ]
    return lines


def _write(path: str, text: str) -> list[str]:
    """Write `text` to `path` with the shell's own printf (no process to start: the listeners come up sooner)."""
    return [f"printf '%s\\n' {shlex.quote(text.rstrip(chr(10)))} >{path}"]


def busybox_command(behaviour: Behaviour, container: Mapping[str, Any]) -> list[str]:
    """`["/bin/sh", "-c", SCRIPT]`: the command that makes a busybox container act out `behaviour` for the probes of
    `container` (a Kubernetes container dict, with its probes as `busybox_container` rewrites them or not)."""
    name = str(container.get("name", "?"))
    probes = _probes(container)
    hang = _hang_seconds(probes)
    if behaviour.sigterm == "ignore":
        trap = "trap '' TERM"
    elif behaviour.stop_seconds > 0:
        trap = f"trap 'sleep {_seconds(behaviour.stop_seconds)}; exit 143' TERM"
    else:
        trap = "trap 'exit 143' TERM"
    lines = [
        f"# minikubelet simulate: container {name} acting out its behaviour",
        "read now _ </proc/uptime",
        'echo "${now%.*}${now#*.}" >/tmp/sim-start',
        trap,
        *_write("/tmp/sim-verdict", _verdict_script(behaviour, probes)),
    ]
    if any(probe.handler == "httpGet" for probe in probes):
        lines += _write("/tmp/sim-http", _http_script(hang))
    if any(probe.handler == "exec" for probe in probes):
        lines += _write("/tmp/sim-probe", _probe_script(hang))
    lines += _listeners(behaviour, probes, name)
    end = behaviour.process_end()
    if end is None:
        lines += ["# runs until it is stopped", "while :; do sleep 3600 & wait $!; done"]
    else:
        at, code, oom = end
        if oom:
            lines += [*_sleep_until(f"OOM-killed at {at:g}s", at), "exec tail /dev/zero"]
        else:
            lines += [*_sleep_until(f"exits {code} at {at:g}s", at), f"exit {code}"]
    return ["/bin/sh", "-c", "\n".join(lines) + "\n"]


def rewrite_exec_probes(container: Mapping[str, Any]) -> dict[str, Any]:
    """The container with each exec probe's command `["/bin/sh", "/tmp/sim-probe", KIND]` and each httpGet probe
    sending `X-Minikubelet-Probe: KIND` (a copy; `container` is left alone)."""
    rewritten = copy.deepcopy(dict(container))
    for kind in KINDS:
        probe = rewritten.get(f"{kind}Probe")
        if not probe:
            continue
        if probe.get("exec") is not None:
            probe["exec"] = {"command": ["/bin/sh", "/tmp/sim-probe", kind]}
        if probe.get("httpGet") is not None:
            headers = [h for h in probe["httpGet"].get("httpHeaders") or () if h.get("name", "").lower() != PROBE_HEADER.lower()]
            probe["httpGet"]["httpHeaders"] = [*headers, {"name": PROBE_HEADER, "value": kind}]
    return rewritten


def busybox_container(container: Mapping[str, Any], behaviour: Behaviour) -> dict[str, Any]:
    """The container as a busybox container acting out `behaviour` (image, command, probes, memory limit)."""
    rewritten = rewrite_exec_probes(container)
    rewritten["image"] = BUSYBOX_IMAGE
    rewritten.pop("args", None)
    rewritten["command"] = busybox_command(behaviour, rewritten)
    if behaviour.oom_at is not None:
        resources = rewritten.setdefault("resources", {})
        limits = resources.setdefault("limits", {})
        limits.setdefault("memory", OOM_MEMORY_LIMIT)
    return rewritten


def busybox_pod(pod: Mapping[str, Any], behaviours: dict[str, Behaviour]) -> dict[str, Any]:
    """The same pod with every container (init containers too) acting out its behaviour for real (the default
    Behaviour for a container `behaviours` lacks)."""
    rewritten = copy.deepcopy(dict(pod))
    spec = rewritten.get("spec") or {}
    for field in ("initContainers", "containers"):
        spec[field] = [
            busybox_container(container, behaviours.get(container["name"]) or Behaviour(container["name"]))
            for container in spec.get(field) or ()
        ]
        if not spec[field]:
            del spec[field]
    return rewritten
