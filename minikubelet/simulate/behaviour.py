"""The behaviour language: what each container does over time, as `minikubelet simulate --behaviour` reads it.

One `--behaviour` value describes one container::

    [CONTAINER ":"] clause (";" clause)*

A value without a container prefix applies to every container that no other value names (at most one value may
go without a prefix). A container that no value describes behaves as the default: it listens at once, answers
every probe, runs for ever and exits at once on SIGTERM with 143.

Times are measured from the start of the container *instance*: a restarted container replays its behaviour from 0.
A duration is Go-style (`90s`, `1m30s`, `500ms`, `2h`, `1.5s`) or a bare number of seconds (`90`, `2.5`).

Clauses (keywords are lower case; empty clauses, e.g. after a trailing `;`, are ignored):

`listens after D`
    Before D the application does not listen: httpGet, tcpSocket and grpc probes get "connection refused", exec
    probes fail. Default: 0.
`listens on PORT[, PORT ...]`
    The application listens on these ports only (numbers, or names as the probes give them): probes on any other
    port are refused, for ever — a probe on the wrong port. Default: every port a probe uses.
`TARGET fails [WINDOW]`, `TARGET hangs [WINDOW]`
    The probes that TARGET matches fail (HTTP 500, TCP connection refused, gRPC NOT_SERVING, exec exit 1) or hang
    (time out) while WINDOW covers the instance's age. TARGET is one of

    - `/PATH`: the httpGet probes on that path (the query string is not compared);
    - `:PORT`: the httpGet, tcpSocket and grpc probes on that port, a number or a named container port;
    - `exec`: every exec probe;
    - `liveness`, `readiness`, `startup`: that kind of probe, whatever its handler;
    - `probes`: every probe.

    WINDOW is one of: nothing (always), `from D` (from D on), `from D for D2` (during [D, D+D2)), `until D` and
    `for D` (during [0, D)), `every P for D [from D0]` (flapping: during [D0+kP, D0+kP+D) for k = 0, 1, 2, ...).
`exits CODE at D` (or `exits CODE after D`), `completes at D` (= `exits 0 at D`)
    The process exits on its own with CODE (0-255) at D.
`is OOM-killed at D` (or `oom at D`)
    The kernel's OOM killer ends it at D: exit code 137, reason OOMKilled.
`ignores SIGTERM`
    SIGTERM does nothing: the kubelet's stop waits out the grace period and kills it (exit 137).
`stops in D`
    On SIGTERM it takes D to exit, with 143. The default is to exit at once on SIGTERM with 143.
`N% of probes time out`, `N% of probes fail`
    Each probe attempt (that nothing above decided) hangs, or fails, with that probability (N from 0 to 100).

How a probe attempt is answered (`Behaviour.answer`): before `listens after` it is refused (an exec probe fails);
then the faults whose TARGET matches it and whose WINDOW covers the moment decide (hangs wins over fails); then
the percentages, drawn once per attempt; otherwise it succeeds.

Examples::

    --behaviour 'listens after 20s'
    --behaviour 'app: /healthz fails from 30s; stops in 5s'
    --behaviour 'app: readiness fails every 20s for 5s from 10s' --behaviour 'sidecar: exec hangs for 15s'
    --behaviour 'exits 1 at 3s'
    --behaviour 'db: listens after 1m30s; :5432 hangs from 5m; ignores SIGTERM'
    --behaviour 'web: is OOM-killed at 45s' --behaviour '10% of probes time out; 5% of probes fail'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from minikubelet.lint.timing import parse_go_duration

__all__ = [
    "Behaviour",
    "BehaviourError",
    "Fault",
    "Window",
    "container_of",
    "parse_behaviours",
    "parse_duration",
]

Mode = Literal["fails", "hangs"]
Answer = Literal["ok", "refused", "fails", "hangs"]
PROBE_KINDS = ("liveness", "readiness", "startup")
NETWORK_HANDLERS = ("httpGet", "tcpSocket", "grpc")

EXPECTED = (
    "expected: listens after D, listens on PORT[, PORT], "
    "TARGET fails|hangs [from D] [for D] | [until D] | [every P for D [from D]], "
    "exits CODE at D, completes at D, is OOM-killed at D, ignores SIGTERM, stops in D, "
    "N% of probes time out, N% of probes fail"
)
DURATION_HINT = "expected a duration such as 90s, 1m30s, 500ms, 2h or a number of seconds"


class BehaviourError(ValueError):
    """A `--behaviour` value that does not parse, or does not fit the pod; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Window:
    """When a fault is in force, in seconds since the instance started: [start, end), or, with `every`, the
    interval [start, end) repeated every `every` seconds (end - start is then each occurrence's length)."""

    start: float
    end: float | None
    every: float | None = None

    def covers(self, t: float) -> bool:
        if t < self.start:
            return False
        if self.every is None:
            return self.end is None or t < self.end
        length = (self.end if self.end is not None else float("inf")) - self.start
        return (t - self.start) % self.every < length


ALWAYS = Window(0.0, None)


@dataclass(frozen=True, slots=True)
class Fault:
    """Probes matching `target` fail or hang while `window` covers the instance's age."""

    target: str  # "/path", ":port", "exec", "liveness", "readiness", "startup" or "probes"
    mode: Mode
    window: Window = ALWAYS

    def matches(self, *, kind: str, handler: str, path: str | None, port: int | None, port_name: str | None) -> bool:
        target = self.target
        if target == "probes":
            return True
        if target in PROBE_KINDS:
            return kind == target
        if target == "exec":
            return handler == "exec"
        if target.startswith("/"):
            if handler != "httpGet":
                return False
            requested = (path or "/").split("?", 1)[0]
            if not requested.startswith("/"):
                requested = "/" + requested
            return requested == target
        if target.startswith(":"):
            if handler not in NETWORK_HANDLERS:
                return False
            wanted = target[1:]
            return (port is not None and wanted == str(port)) or (port_name is not None and wanted == port_name)
        return False


@dataclass(frozen=True, slots=True)
class Behaviour:
    """What one container does over time (times in seconds since its instance started)."""

    container: str
    listens_after: float = 0.0
    faults: tuple[Fault, ...] = ()
    exit_code: int | None = None
    exit_at: float | None = None
    oom_at: float | None = None
    sigterm: Literal["exit", "ignore"] = "exit"
    stop_seconds: float = 0.0
    timeout_fraction: float = 0.0
    failure_fraction: float = 0.0
    ports: tuple[str, ...] = ()  # `listens on`: the only ports answered (numbers or names); () = every port

    def answer(
        self,
        *,
        kind: str,
        handler: str,
        path: str | None,
        port: int | None,
        port_name: str | None,
        at: float,
        draw: float,
    ) -> Answer:
        """How one probe attempt at `at` goes; `draw` is a uniform number in [0, 1) the caller draws (seeded)."""
        if at < self.listens_after:
            return "fails" if handler == "exec" else "refused"
        if handler != "exec" and not self.listens_on(port, port_name):
            return "refused"
        modes = {
            fault.mode
            for fault in self.faults
            if fault.window.covers(at) and fault.matches(kind=kind, handler=handler, path=path, port=port, port_name=port_name)
        }
        if "hangs" in modes:
            return "hangs"
        if "fails" in modes:
            return "fails"
        if draw < self.timeout_fraction:
            return "hangs"
        if draw < self.timeout_fraction + self.failure_fraction:
            return "fails"
        return "ok"

    def listens_on(self, port: int | None, port_name: str | None) -> bool:
        """Whether the application listens on this port at all (`listens on`; every port without it)."""
        return not self.ports or str(port) in self.ports or (port_name is not None and port_name in self.ports)

    def process_end(self) -> tuple[float, int, bool] | None:
        """(at, exit code, OOM-killed) of the process's own end, the earlier of its exit and its OOM kill (the OOM
        kill on a tie); None when it runs until it is stopped."""
        ends: list[tuple[float, int, bool]] = []
        if self.oom_at is not None:
            ends.append((self.oom_at, 137, True))
        if self.exit_at is not None and self.exit_code is not None:
            ends.append((self.exit_at, self.exit_code, False))
        if not ends:
            return None
        return min(ends, key=lambda end: (end[0], not end[2]))


# --- parsing -----------------------------------------------------------------------------------------------------

_PREFIX = re.compile(r"\s*([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\s*:(.*)", re.DOTALL)
_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")

_D = r"(\S+)"  # a duration token, checked by parse_duration
_TARGET = r"(/\S*|:\S+|exec|liveness|readiness|startup|probes)"
_CLAUSES: dict[str, re.Pattern[str]] = {
    "listens": re.compile(rf"listens after {_D}"),
    "ports": re.compile(r"listens on (\S+(?:\s*,\s*\S+)*)"),
    "fault": re.compile(rf"{_TARGET} (fails|hangs)(?: (.+))?"),
    "exits": re.compile(rf"exits (\S+) (?:at|after) {_D}"),
    "completes": re.compile(rf"completes (?:at|after) {_D}"),
    "oom": re.compile(rf"(?:is OOM-killed|oom) (?:at|after) {_D}"),
    "ignores": re.compile(r"ignores SIGTERM"),
    "stops": re.compile(rf"stops in {_D}"),
    "percent": re.compile(r"(\S+)% of probes (time out|fail)"),
}
_WINDOWS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("every", re.compile(rf"every {_D} for {_D}(?: from {_D})?")),
    ("from", re.compile(rf"from {_D}(?: for {_D})?")),
    ("until", re.compile(rf"(?:until|for) {_D}")),
)


def parse_duration(text: str) -> float:
    """Seconds in a Go-style duration (`1m30s`, `500ms`: lint's `parse_go_duration`) or a bare number; ValueError when
    it is neither."""
    text = text.strip()
    if _NUMBER.fullmatch(text):
        return float(text)
    return parse_go_duration(text)


@dataclass
class _Clause:
    """The value and clause being parsed, to quote them in errors."""

    value: str
    text: str

    def error(self, what: str) -> BehaviourError:
        return BehaviourError(f'--behaviour "{self.value}": {what} in clause "{self.text}"')

    def duration(self, token: str) -> float:
        try:
            return parse_duration(token)
        except ValueError:
            raise self.error(f'bad duration "{token}" ({DURATION_HINT})') from None


@dataclass
class _Draft:
    """The clauses of one value read so far: which were given (`given`, to refuse repeats) and their numbers."""

    given: set[str] = field(default_factory=set)
    numbers: dict[str, float] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    ports: tuple[str, ...] = ()

    def set(self, clause: _Clause, what: str, **numbers: float) -> None:
        if what in self.given:
            raise clause.error(f"{what} is given twice")
        self.given.add(what)
        self.numbers.update(numbers)


def _window(clause: _Clause, text: str | None) -> Window:
    if text is None:
        return ALWAYS
    for name, pattern in _WINDOWS:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        if name == "every":
            every, length = clause.duration(match[1]), clause.duration(match[2])
            start = clause.duration(match[3]) if match[3] else 0.0
            if every <= 0:
                raise clause.error(f'the period "{match[1]}" must be more than 0')
            return Window(start, start + length, every)
        if name == "from":
            start = clause.duration(match[1])
            return Window(start, start + clause.duration(match[2]) if match[2] else None)
        return Window(0.0, clause.duration(match[1]))
    raise clause.error(f'unknown window "{text}" (expected: from D, from D for D, until D, for D, every P for D [from D])')


def _parse_value(value: str, container: str) -> Behaviour:
    body = value
    prefix = _PREFIX.fullmatch(value)
    if prefix is not None:
        body = prefix[2]
    draft = _Draft()
    texts = [" ".join(part.split()) for part in body.split(";")]
    if not any(texts):
        raise BehaviourError(f'--behaviour "{value}": no clause ({EXPECTED})')
    for text in texts:
        if text:
            _parse_clause(_Clause(value, text), draft)
    given, numbers = draft.given, draft.numbers
    if "ignores SIGTERM" in given and "stops in" in given:
        raise BehaviourError(f'--behaviour "{value}": "ignores SIGTERM" and "stops in" contradict each other')
    timeouts, failures = numbers.get("timeouts", 0.0), numbers.get("failures", 0.0)
    if timeouts + failures > 1.0 + 1e-9:
        raise BehaviourError(f'--behaviour "{value}": the percentages of probes that time out and fail add up to more than 100')
    code = numbers.get("code")
    return Behaviour(
        container=container,
        listens_after=numbers.get("listens_after", 0.0),
        faults=tuple(draft.faults),
        exit_code=None if code is None else int(code),
        exit_at=numbers.get("exit_at"),
        oom_at=numbers.get("oom_at"),
        sigterm="ignore" if "ignores SIGTERM" in given else "exit",
        stop_seconds=numbers.get("stop_seconds", 0.0),
        timeout_fraction=timeouts,
        failure_fraction=failures,
        ports=draft.ports,
    )


def _parse_clause(clause: _Clause, draft: _Draft) -> None:
    text = clause.text
    for name, pattern in _CLAUSES.items():
        match = pattern.fullmatch(text)
        if match is None:
            continue
        if name == "listens":
            draft.set(clause, "listens after", listens_after=clause.duration(match[1]))
        elif name == "ports":
            ports = tuple(port.strip() for port in match[1].split(","))
            bad = [
                p
                for p in ports
                if not re.fullmatch(r"\d{1,5}|[a-z0-9](?:[-a-z0-9]*[a-z0-9])?", p) or (p.isdigit() and not 0 < int(p) < 65536)
            ]
            if bad:
                raise clause.error(f'bad port "{bad[0]}" (expected a port number from 1 to 65535 or a port name)')
            draft.set(clause, "listens on")
            draft.ports = ports
        elif name == "fault":
            target, mode = match[1], match[2]
            draft.faults.append(Fault(target, "hangs" if mode == "hangs" else "fails", _window(clause, match[3])))
        elif name == "exits":
            if not re.fullmatch(r"\d{1,3}", match[1]) or int(match[1]) > 255:
                raise clause.error(f'bad exit code "{match[1]}" (expected a number from 0 to 255)')
            draft.set(clause, "an exit", code=int(match[1]), exit_at=clause.duration(match[2]))
        elif name == "completes":
            draft.set(clause, "an exit", code=0, exit_at=clause.duration(match[1]))
        elif name == "oom":
            draft.set(clause, "an OOM kill", oom_at=clause.duration(match[1]))
        elif name == "ignores":
            draft.set(clause, "ignores SIGTERM")
        elif name == "stops":
            draft.set(clause, "stops in", stop_seconds=clause.duration(match[1]))
        else:
            _percent(clause, draft, match[1], "timeouts" if match[2] == "time out" else "failures")
        return
    raise BehaviourError(f'--behaviour "{clause.value}": unknown clause "{text}" ({EXPECTED})')


def _percent(clause: _Clause, draft: _Draft, number: str, key: str) -> None:
    if not _NUMBER.fullmatch(number):
        raise clause.error(f'bad percentage "{number}%" (expected a number from 0 to 100)')
    if float(number) > 100:
        raise clause.error(f"percentage {number}% is outside 0-100")
    draft.set(clause, f"N% of probes {'time out' if key == 'timeouts' else 'fail'}", **{key: float(number) / 100})


def container_of(spec: str) -> str | None:
    """The container a `--behaviour` value names by its prefix (`app: ...` -> "app"), None without a prefix."""
    prefix = _PREFIX.fullmatch(spec)
    return None if prefix is None else prefix[1]


def parse_behaviours(specs: Sequence[str], containers: Sequence[str]) -> dict[str, Behaviour]:
    """One Behaviour per name in `containers`, from the `--behaviour` values `specs` (the default Behaviour for a
    container none describes). Raises BehaviourError naming the offending value."""
    named: dict[str, str] = {}
    unprefixed: str | None = None
    for value in specs:
        prefix = _PREFIX.fullmatch(value)
        if prefix is None:
            if unprefixed is not None:
                raise BehaviourError(
                    f'--behaviour "{unprefixed}" and --behaviour "{value}": both have no container prefix '
                    "(only one value may describe the containers no other value names)"
                )
            unprefixed = value
            continue
        name = prefix[1]
        if name not in containers:
            known = ", ".join(containers) or "none"
            raise BehaviourError(f'--behaviour "{value}": unknown container "{name}" (the pod\'s containers: {known})')
        if name in named:
            raise BehaviourError(f'--behaviour "{named[name]}" and --behaviour "{value}": both describe container "{name}"')
        named[name] = value
    # Every value is parsed, even an unprefixed one that no container is left for, so that its errors show.
    default = None if unprefixed is None else _parse_value(unprefixed, "")
    result: dict[str, Behaviour] = {}
    for name in containers:
        if name in named:
            result[name] = _parse_value(named[name], name)
        else:
            result[name] = Behaviour(container=name) if default is None else replace(default, container=name)
    return result
