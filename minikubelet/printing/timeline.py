"""A pod's probe timeline, as plain data, as rows of glyphs and as an SVG picture: what `minikubelet timeline` draws.

Pure, like the other printers: the pod (wire form), the prober's attempts (`GET .../probes`, a
`ProbeAttemptList`) and the kubelet's container transitions (`GET .../lifecycle`, a `ContainerTransitionList`)
in; a `Timeline` out. Per container it holds the spans of its states (waiting with a reason, running,
terminated), the instants that matter (a kill, a restart) and one lane of marks per probe kind, each mark
one attempt, the attempt that changed the cached verdict flagged as a crossing. Times are seconds since the
first thing recorded (t = 0), with the wall clock of t = 0 kept beside them.

`glyph_rows` lays a container out on a grid of terminal cells (the CLI colours it with rich: only `cli/`
may import rich), `story` tells what happened in words, and `to_svg` / `to_html` draw the same picture as
a standalone SVG (or an HTML page embedding it, with the story as a table).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from minikubelet.api.podutil import all_containers, probe_of
from minikubelet.api.wire import Container, Probe, ProbeKind, as_pod
from minikubelet.printing.durations import parse_time

__all__ = [
    "GLYPHS",
    "KINDS",
    "ContainerTimeline",
    "Lane",
    "Mark",
    "Moment",
    "Span",
    "Timeline",
    "axis_rows",
    "build_timeline",
    "clock",
    "describe_probe",
    "format_offset",
    "glyph_rows",
    "nice_ticks",
    "story",
    "to_html",
    "to_svg",
]

KINDS: tuple[ProbeKind, ...] = ("startup", "liveness", "readiness")

# One terminal cell per class; a cell that holds several marks shows the one first in _PRIORITY.
GLYPHS = {
    "running": "━",
    "waiting": "╌",
    "backoff": "░",
    "exited": "┃",
    "killing": "K",
    "restart": "↻",
    "success": "●",
    "failure": "✗",
    "warning": "!",
    "unknown": "?",
    "crossed-failure": "▼",
    "crossed-success": "▲",
}
LEGEND = {
    "running": "running",
    "waiting": "waiting",
    "backoff": "CrashLoopBackOff wait",
    "exited": "exited",
    "killing": "Killing",
    "restart": "restarted",
    "success": "success",
    "failure": "failure",
    "warning": "warning",
    "unknown": "errored (not counted)",
    "crossed-failure": "crossed failureThreshold: verdict Failure",
    "crossed-success": "crossed successThreshold: verdict Success",
}
_PRIORITY = ("crossed-failure", "crossed-success", "failure", "unknown", "warning", "success")
_BACKOFF = re.compile(r"^back-off (\S+)")


@dataclass(frozen=True, slots=True)
class Mark:
    """One probe attempt."""

    at: float
    result: str  # Success, Failure, Warning, Unknown
    verdict: str  # the verdict this attempt set by crossing a threshold, else ""
    message: str
    container_id: str
    duration: float = 0.0
    lateness: float = 0.0
    manual: bool = False

    @property
    def cls(self) -> str:
        if self.verdict:
            return f"crossed-{self.verdict.lower()}"
        return self.result.lower() if self.result.lower() in ("success", "failure", "warning") else "unknown"


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of one state of a container, from `start` to `end`."""

    start: float
    end: float
    state: str  # waiting, running or terminated
    reason: str = ""
    message: str = ""
    exit_code: int | None = None
    container_id: str = ""
    restart_count: int = 0
    backoff_until: float | None = None

    @property
    def cls(self) -> str:
        if self.state == "terminated":
            return "exited"
        if self.state == "waiting" and self.reason == "CrashLoopBackOff":
            return "backoff"
        return self.state

    @property
    def label(self) -> str:
        if self.state == "terminated":
            return f"exit {self.exit_code}" if self.exit_code is not None else "exited"
        if self.cls == "backoff":
            found = _BACKOFF.match(self.message)
            return f"back-off {found.group(1)}" if found else "back-off"
        if self.state == "waiting":
            return self.reason or "waiting"
        return "running"


@dataclass(frozen=True, slots=True)
class Moment:
    """Something worth a line in the story (and, for killing and restart, a mark of its own)."""

    at: float
    container: str
    kind: str  # waiting, running, terminated, killing, restart, probe, crossing
    text: str


@dataclass
class Lane:
    kind: str  # startup, liveness, readiness
    probe: str  # what the spec asks for, in words
    marks: list[Mark] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        """Attempts by result (Success, Failure, Warning, Unknown) and crossings."""
        counted = Counter(m.result for m in self.marks)
        counted["crossings"] = sum(1 for m in self.marks if m.verdict)
        return counted


@dataclass
class ContainerTimeline:
    name: str
    spans: list[Span] = field(default_factory=list)
    moments: list[Moment] = field(default_factory=list)  # killing and restart instants
    lanes: list[Lane] = field(default_factory=list)
    thresholds: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind: (failure, success)

    @property
    def restarts(self) -> int:
        return max((s.restart_count for s in self.spans), default=0)


@dataclass
class Timeline:
    namespace: str
    pod: str
    origin: float  # Unix seconds at t = 0
    end: float  # seconds since origin: now
    containers: list[ContainerTimeline]

    def wall(self, at: float, tz: tzinfo | None = None) -> datetime:
        return datetime.fromtimestamp(self.origin + at, tz or UTC)


# ---------------------------------------------------------------------------------------------- the model


def build_timeline(
    pod: Mapping[str, Any],
    attempts: Sequence[dict[str, Any]],
    transitions: Sequence[dict[str, Any]],
    *,
    now: datetime,
    container: str = "",
    since: float | None = None,
) -> Timeline:
    """The timeline of `pod` (only `container` when given; only the last `since` seconds when given)."""
    specs = all_containers(as_pod(pod))
    if container:
        specs = [c for c in specs if c["name"] == container]
    names = {c["name"] for c in specs}
    attempts = [a for a in attempts if a.get("container") in names]
    transitions = [t for t in transitions if t.get("container") in names]
    times = [_seconds(a["start"]) for a in attempts] + [_seconds(t["time"]) for t in transitions]
    created = parse_time(pod.get("metadata", {}).get("creationTimestamp"))
    now_s = max([now.timestamp(), *times])
    origin = min(times) if times else (created.timestamp() if created else now_s)
    if since is not None:
        origin = max(origin, now_s - since)
    timeline = Timeline(
        pod.get("metadata", {}).get("namespace", ""), pod.get("metadata", {}).get("name", ""), origin, now_s - origin, []
    )
    for c in specs:
        mine = [t for t in transitions if t["container"] == c["name"]]
        timeline.containers.append(_container(c, [a for a in attempts if a["container"] == c["name"]], mine, timeline))
    return timeline


def _container(
    spec: Container, attempts: list[dict[str, Any]], transitions: list[dict[str, Any]], tl: Timeline
) -> ContainerTimeline:
    out = ContainerTimeline(spec["name"])
    states = sorted((t for t in transitions if t["state"] != "killing"), key=lambda t: _seconds(t["time"]))
    seen_running: set[str] = set()
    for i, t in enumerate(states):
        start = _seconds(t["time"]) - tl.origin
        end = _seconds(states[i + 1]["time"]) - tl.origin if i + 1 < len(states) else tl.end
        until = _seconds(t["backOffUntil"]) - tl.origin if t.get("backOffUntil") else None
        span = Span(
            max(start, 0.0),
            end,
            t["state"],
            t.get("reason", ""),
            t.get("message", ""),
            t.get("exitCode"),
            t.get("containerID", ""),
            int(t.get("restartCount", 0)),
            until,
        )
        restarted = (seen_running or span.restart_count > 0) and span.container_id not in seen_running
        if span.state == "running" and restarted and start >= 0:
            out.moments.append(Moment(start, out.name, "restart", f"restart #{span.restart_count}"))
        if span.state == "running":
            seen_running.add(span.container_id)
        if end > 0:
            out.spans.append(span)
    for t in transitions:
        at = _seconds(t["time"]) - tl.origin
        if t["state"] == "killing" and at >= 0:
            out.moments.append(Moment(at, out.name, "killing", t.get("reason", "")))
    out.moments.sort(key=lambda m: m.at)
    for kind in KINDS:
        probe = probe_of(spec, kind)
        marks = [_mark(a, tl) for a in attempts if str(a.get("probe", "")).lower() == kind]
        marks = [m for m in marks if m.at >= 0]
        if probe is None and not marks:
            continue
        out.lanes.append(Lane(kind, describe_probe(probe) if probe else "", marks))
        found: Probe = probe or {}
        out.thresholds[kind] = (int(found.get("failureThreshold", 3)), int(found.get("successThreshold", 1)))
    return out


def _mark(attempt: dict[str, Any], tl: Timeline) -> Mark:
    return Mark(
        _seconds(attempt["start"]) - tl.origin,
        str(attempt.get("result", "Unknown")),
        str(attempt.get("verdict", "")),
        str(attempt.get("message", "")),
        str(attempt.get("containerID", "")),
        float(attempt.get("durationSeconds", 0.0)),
        float(attempt.get("latenessSeconds", 0.0)),
        bool(attempt.get("manual", False)),
    )


def describe_probe(probe: Probe) -> str:
    """`httpGet http://:8080/healthz, every 1s, timeout 1s, failureThreshold 2`: a probe in a line."""
    if "exec" in probe:
        handler = "exec " + " ".join(str(a) for a in probe["exec"].get("command", []))
    elif "httpGet" in probe:
        action = probe["httpGet"]
        scheme = str(action.get("scheme", "HTTP")).lower()
        handler = f"httpGet {scheme}://{action.get('host', '')}:{action.get('port')}{action.get('path', '/')}"
    elif "tcpSocket" in probe:
        handler = f"tcpSocket {probe['tcpSocket'].get('host', '')}:{probe['tcpSocket'].get('port')}"
    elif "grpc" in probe:
        handler = f"grpc :{probe['grpc'].get('port')}"
    else:
        handler = "no handler"
    parts = [handler]
    if probe.get("initialDelaySeconds"):
        parts.append(f"delay {probe['initialDelaySeconds']}s")
    parts.append(f"every {probe.get('periodSeconds', 10)}s")
    parts.append(f"timeout {probe.get('timeoutSeconds', 1)}s")
    parts.append(f"failureThreshold {probe.get('failureThreshold', 3)}")
    if int(probe.get("successThreshold", 1)) != 1:
        parts.append(f"successThreshold {probe['successThreshold']}")
    return ", ".join(parts)


def _seconds(stamp: str) -> float:
    parsed = parse_time(stamp)
    return parsed.timestamp() if parsed else 0.0


# ---------------------------------------------------------------------------------------------- the story


def story(timeline: Timeline) -> list[Moment]:
    """What happened, in order: state changes, kills, crossings, and each change of a probe's result."""
    moments: list[Moment] = []
    for c in timeline.containers:
        for span in c.spans:
            moments.append(Moment(span.start, c.name, span.state, _span_text(span)))
        moments.extend(Moment(m.at, m.container, m.kind, f"Killing: {m.text}") for m in c.moments if m.kind == "killing")
        for lane in c.lanes:
            moments.extend(_lane_story(c, lane))
    order = {"probe": 0, "crossing": 1, "killing": 2, "terminated": 3}  # cause before effect at equal times
    moments = [Moment(m.at, m.container, m.kind, " ".join(m.text.split())) for m in moments]  # one line each
    return sorted(moments, key=lambda m: (m.at, order.get(m.kind, 4)))


def _span_text(span: Span) -> str:
    cid = f" ({span.container_id[:12]})" if span.container_id else ""
    if span.state == "running":
        again = f", restart #{span.restart_count}" if span.restart_count else ""
        return f"running{cid}{again}"
    if span.state == "terminated":
        text = f"terminated: {span.reason or 'exited'}, exit code {span.exit_code}{cid}"
        return f"{text}: {span.message}" if span.message else text
    if span.cls == "backoff":
        due = f", restart due at {format_offset(span.backoff_until)}" if span.backoff_until is not None else ""
        return f"waiting: CrashLoopBackOff, {span.label}{due}"
    return f"waiting: {span.reason}" + (f": {span.message}" if span.message else "")


def _lane_story(c: ContainerTimeline, lane: Lane) -> list[Moment]:
    out: list[Moment] = []
    previous: tuple[str, str] = ("", "")
    streak = 0
    failure_threshold, success_threshold = c.thresholds.get(lane.kind, (3, 1))
    for mark in lane.marks:
        counted = "Success" if mark.result in ("Success", "Warning") else mark.result
        streak = streak + 1 if (mark.container_id, counted) == previous else 1
        if (mark.container_id, counted) != previous or mark.result == "Unknown":
            detail = f": {mark.message}" if mark.message else ""
            out.append(Moment(mark.at, c.name, "probe", f"{lane.kind} probe {mark.result}{detail}"))
        previous = (mark.container_id, counted)
        if mark.verdict:
            threshold = (
                f"failureThreshold {failure_threshold}" if mark.verdict == "Failure" else f"successThreshold {success_threshold}"
            )
            nth = f"{streak} {mark.result.lower()}{'s' if streak > 1 else ''} in a row"
            out.append(Moment(mark.at, c.name, "crossing", f"{lane.kind} crossed {threshold} ({nth}): verdict {mark.verdict}"))
    return out


def clock(timeline: Timeline, at: float, tz: tzinfo | None = None) -> str:
    """The wall clock of a moment, to the millisecond: `12:00:04.250`."""
    return timeline.wall(at, tz).strftime("%H:%M:%S.%f")[:-3]


def format_offset(seconds: float) -> str:
    """`+4.2s`, `+1m05s`, `+1h02m`: a moment relative to t = 0."""
    if seconds < 60:
        return f"+{seconds:.1f}s"
    whole = int(seconds)
    if whole < 3600:
        return f"+{whole // 60}m{whole % 60:02d}s"
    return f"+{whole // 3600}h{whole % 3600 // 60:02d}m"


# ---------------------------------------------------------------------------------------- terminal cells


def glyph_rows(c: ContainerTimeline, *, width: int, end: float) -> list[tuple[str, list[str]]]:
    """The container on `width` cells spanning [0, end]: (label, class per cell; "" is empty) per row:
    `state`, `events`, then one row per probe lane."""
    scale = max(end, 1e-9) / width

    def cell(at: float) -> int:
        return min(width - 1, max(0, int(at / scale)))

    state = [""] * width
    for i in range(width):
        middle = (i + 0.5) * scale
        covering = [s for s in c.spans if s.start <= middle < s.end]
        state[i] = covering[-1].cls if covering else ""
    for s in c.spans:
        if s.state == "terminated":
            state[cell(s.start)] = "exited"
    events = [""] * width
    for m in c.moments:
        at = cell(m.at)
        while events[at] and at < width - 1:
            at += 1
        events[at] = events[at] or m.kind
    rows = [("state", state), ("events", events)]
    for lane in c.lanes:
        cells = [""] * width
        for mark in lane.marks:
            at = cell(mark.at)
            if not cells[at] or _PRIORITY.index(mark.cls) < _PRIORITY.index(cells[at]):
                cells[at] = mark.cls
        rows.append((lane.kind, cells))
    return rows


def nice_ticks(end: float, slots: int) -> list[float]:
    """Tick positions (seconds) over [0, end] with a round step, at most about `slots` of them."""
    step = next((s for s in _STEPS if end / s <= max(slots, 1)), _STEPS[-1])
    return [i * step for i in range(math.floor(end / step) + 1)]


_STEPS = (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)


def axis_rows(timeline: Timeline, *, width: int, tz: tzinfo | None = None) -> tuple[str, str, str]:
    """Three lines under the cells: tick marks, relative seconds, wall clock."""
    scale = max(timeline.end, 1e-9) / width
    marks, relative, wall = ["─"] * width, [" "] * width, [" "] * width
    for tick in nice_ticks(timeline.end, width // 10):
        at = min(width - 1, int(tick / scale))
        marks[at] = "┴" if at else "└"
        _put(relative, at, f"{tick:g}s")
        _put(wall, at, timeline.wall(tick, tz).strftime("%H:%M:%S"))
    return "".join(marks), "".join(relative), "".join(wall)


def _put(line: list[str], at: int, text: str) -> None:
    at = min(at, len(line) - len(text))
    if at < 0 or any(ch != " " for ch in line[max(0, at - 1) : at + len(text) + 1]):
        return
    line[at : at + len(text)] = list(text)


# --------------------------------------------------------------------------------------------------- SVG

_COLOURS = {
    "running": "#43a047",
    "waiting": "#fbc02d",
    "backoff": "#fb8c00",
    "exited": "#c62828",
    "killing": "#b71c1c",
    "restart": "#1565c0",
    "success": "#2e7d32",
    "failure": "#c62828",
    "warning": "#f9a825",
    "unknown": "#757575",
    "crossed-failure": "#c62828",
    "crossed-success": "#2e7d32",
}
_W, _LEFT, _RIGHT = 1100, 112, 30  # the row labels end 12 px left of the chart
_CHART = _W - _LEFT - _RIGHT
_FONT = "font-family='DejaVu Sans, Helvetica, Arial, sans-serif'"


def to_svg(timeline: Timeline, *, tz: tzinfo | None = None) -> str:
    """A standalone SVG document (no XML prolog: it embeds as is in HTML)."""
    body: list[str] = []
    y = 56.0
    ticks = nice_ticks(timeline.end, _CHART // 80)
    title = f"pod {timeline.namespace}/{timeline.pod}"
    start, stop = timeline.wall(0, tz), timeline.wall(timeline.end, tz)
    body.append(_text(12, 24, title, size=17, weight="bold"))
    span = f"{start:%Y-%m-%d %H:%M:%S} → {stop:%H:%M:%S} ({format_offset(timeline.end)[1:]})"
    body.append(_text(12, 42, span, size=12, fill="#555"))
    top = y
    for c in timeline.containers:
        y = _svg_container(body, c, timeline, y)
    grid = [
        f"<line x1='{_x(timeline, t):.1f}' y1='{top:.1f}' x2='{_x(timeline, t):.1f}' y2='{y:.1f}' stroke='#e0e0e0'/>"
        for t in ticks
    ]
    y = _svg_axis(body, timeline, ticks, y, tz)
    y = _svg_legend(body, y + 14)
    height = math.ceil(y + 10)
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{_W}' height='{height}' viewBox='0 0 {_W} {height}' {_FONT}>"
        f"<title>{escape(title)} timeline</title><rect width='100%' height='100%' fill='white'/>"
        + "".join(grid)
        + "".join(body)
        + "</svg>"
    )


def _x(timeline: Timeline, at: float) -> float:
    return _LEFT + at / max(timeline.end, 1e-9) * _CHART


def _svg_container(body: list[str], c: ContainerTimeline, tl: Timeline, y: float) -> float:
    restarts = f" · {c.restarts} restart{'s' if c.restarts != 1 else ''}" if c.restarts else ""
    body.append(_text(12, y + 14, f"container {c.name}{restarts}", size=14, weight="bold"))
    y += 22
    block_top = y
    body.append(_text(_LEFT - 12, y + 15, "state", anchor="end"))
    for s in c.spans:
        x0, x1 = _x(tl, s.start), _x(tl, s.end)
        width = max(x1 - x0, 3.0)
        tip = f"{format_offset(s.start)} {_span_text(s)}"
        body.append(
            f"<rect x='{x0:.1f}' y='{y + 3:.1f}' width='{width:.1f}' height='16' rx='2' fill='{_COLOURS[s.cls]}'>"
            f"<title>{escape(tip)}</title></rect>"
        )
        if width > 7 * len(s.label) + 8:
            fill = "white" if s.cls in ("running", "exited") else "#222"
            body.append(_text(x0 + 4, y + 15, s.label, size=11, fill=fill))
        if s.backoff_until is not None and 0 <= s.backoff_until <= tl.end:
            xu = _x(tl, s.backoff_until)
            body.append(
                f"<line x1='{xu:.1f}' y1='{y + 1:.1f}' x2='{xu:.1f}' y2='{y + 21:.1f}' stroke='#e65100' stroke-width='2'/>"
            )
    y += 22
    body.append(_text(_LEFT - 12, y + 13, "events", anchor="end"))
    events_y = y
    y += 34
    lanes_bottom = y + 22 * len(c.lanes)
    _svg_moments(body, c, tl, events_y, block_top, lanes_bottom)
    for i, lane in enumerate(c.lanes):
        if i % 2 == 0:
            body.append(f"<rect x='{_LEFT}' y='{y:.1f}' width='{_CHART}' height='22' fill='#f6f6f6'/>")
        body.append(_text(_LEFT - 12, y + 15, lane.kind, anchor="end"))
        for mark in lane.marks:
            body.append(_svg_mark(mark, _x(tl, mark.at), y + 11, lane.kind))
        y += 22
    for lane in c.lanes:
        n = lane.counts()
        tally = (
            f"{n['Success']} success, {n['Failure']} failure, {n['Warning']} warning, {n['Unknown']} errored, "
            f"{n['crossings']} crossings"
        )
        body.append(_text(_LEFT, y + 14, f"{lane.kind}: {lane.probe or 'not in the spec'} — {tally}", size=11, fill="#444"))
        y += 16
    return y + 14


def _svg_moments(body: list[str], c: ContainerTimeline, tl: Timeline, y: float, top: float, bottom: float) -> None:
    lines = [float("-inf"), float("-inf")]  # where the last label of each line ends
    for m in c.moments:
        x = _x(tl, m.at)
        colour = _COLOURS[m.kind]
        if m.kind == "killing":
            body.append(
                f"<line x1='{x:.1f}' y1='{top:.1f}' x2='{x:.1f}' y2='{bottom:.1f}' stroke='{colour}' stroke-width='1.5' "
                f"stroke-dasharray='4 3'><title>{escape(format_offset(m.at) + ' Killing: ' + m.text)}</title></line>"
            )
        label = "Killing" if m.kind == "killing" else f"↻ {m.text}"
        for i, free_from in enumerate(lines):
            if x >= free_from:
                body.append(_text(x + 3, y + 12 + 14 * i, label, size=11, fill=colour, weight="bold", tip=m.text))
                lines[i] = x + 3 + 7 * len(label)
                break


def _svg_mark(mark: Mark, x: float, y: float, kind: str) -> str:
    cls = mark.cls
    colour = _COLOURS[cls]
    late = f", {mark.lateness * 1000:.0f} ms late" if mark.lateness >= 0.0005 else ""
    manual = ", manual trigger" if mark.manual else ""
    detail = f": {mark.message}" if mark.message else ""
    crossed = f" → verdict {mark.verdict}" if mark.verdict else ""
    said = f"{format_offset(mark.at)} {kind} {mark.result}{crossed}{detail} (took {mark.duration * 1000:.0f} ms{late}{manual})"
    tip = f"<title>{escape(said)}</title>"
    if cls.startswith("crossed"):
        points = f"{x:.1f},{y - 8:.1f} {x + 8:.1f},{y:.1f} {x:.1f},{y + 8:.1f} {x - 8:.1f},{y:.1f}"
        return f"<polygon class='mark {cls}' points='{points}' fill='{colour}' stroke='black' stroke-width='1.2'>{tip}</polygon>"
    if cls == "failure":
        path = f"M{x - 4:.1f},{y - 4:.1f}L{x + 4:.1f},{y + 4:.1f}M{x - 4:.1f},{y + 4:.1f}L{x + 4:.1f},{y - 4:.1f}"
        return f"<path class='mark {cls}' d='{path}' stroke='{colour}' stroke-width='2.4' fill='none'>{tip}</path>"
    if cls == "warning":
        points = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y + 4:.1f} {x - 5:.1f},{y + 4:.1f}"
        return f"<polygon class='mark {cls}' points='{points}' fill='{colour}'>{tip}</polygon>"
    if cls == "unknown":
        ring = f"fill='white' stroke='{colour}' stroke-width='1.6'"
        return f"<circle class='mark {cls}' cx='{x:.1f}' cy='{y:.1f}' r='4' {ring}>{tip}</circle>"
    return f"<circle class='mark {cls}' cx='{x:.1f}' cy='{y:.1f}' r='4' fill='{colour}'>{tip}</circle>"


def _svg_axis(body: list[str], tl: Timeline, ticks: Iterable[float], y: float, tz: tzinfo | None) -> float:
    body.append(f"<line x1='{_LEFT}' y1='{y:.1f}' x2='{_LEFT + _CHART}' y2='{y:.1f}' stroke='#333'/>")
    body.append(_text(_LEFT - 12, y + 16, "seconds", anchor="end", size=11, fill="#555"))
    body.append(_text(_LEFT - 12, y + 30, "clock", anchor="end", size=11, fill="#555"))
    for tick in ticks:
        x = _x(tl, tick)
        body.append(f"<line x1='{x:.1f}' y1='{y:.1f}' x2='{x:.1f}' y2='{y + 5:.1f}' stroke='#333'/>")
        anchor = "start" if tick == 0 else "middle"
        body.append(_text(x, y + 16, f"{tick:g}s", anchor=anchor, size=11))
        body.append(_text(x, y + 30, tl.wall(tick, tz).strftime("%H:%M:%S"), anchor=anchor, size=10, fill="#555"))
    return y + 36


def _svg_legend(body: list[str], y: float) -> float:
    body.append(_text(12, y + 12, "legend", size=12, weight="bold"))
    x, row = float(_LEFT), 0
    for cls, meaning in LEGEND.items():
        width = 26 + 6.5 * len(meaning)
        if x + width > _W - _RIGHT:
            x, row = float(_LEFT), row + 1
        cy = y + 8 + 20 * row
        if cls in ("running", "waiting", "backoff", "exited"):
            body.append(f"<rect x='{x:.1f}' y='{cy - 6:.1f}' width='16' height='12' rx='2' fill='{_COLOURS[cls]}'/>")
        elif cls == "killing":
            dashes = f"stroke='{_COLOURS[cls]}' stroke-width='1.5' stroke-dasharray='4 3'"
            body.append(f"<line x1='{x + 8:.1f}' y1='{cy - 8:.1f}' x2='{x + 8:.1f}' y2='{cy + 8:.1f}' {dashes}/>")
        elif cls == "restart":
            body.append(_text(x + 2, cy + 5, "↻", size=13, fill=_COLOURS[cls], weight="bold"))
        else:
            verdict = cls.removeprefix("crossed-").title() if cls.startswith("crossed") else ""
            body.append(_svg_mark(Mark(0, cls.title(), verdict, "", ""), x + 8, cy, ""))
        body.append(_text(x + 22, cy + 4, meaning, size=11))
        x += width
    return y + 20 * (row + 1) + 4


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: int = 12,
    anchor: str = "start",
    fill: str = "#222",
    weight: str = "normal",
    tip: str = "",
) -> str:
    title = f"<title>{escape(tip)}</title>" if tip else ""
    return (
        f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}' fill='{fill}' font-weight='{weight}'>"
        f"{escape(text)}{title}</text>"
    )


# -------------------------------------------------------------------------------------------------- HTML


def to_html(timeline: Timeline, *, tz: tzinfo | None = None) -> str:
    """A page with the SVG, the probes as the spec has them, and the story as a table."""
    title = f"timeline of pod {timeline.namespace}/{timeline.pod}"
    rows = "".join(
        f"<tr class={quoteattr(_row_class(m))}><td>{escape(format_offset(m.at))}</td><td>{clock(timeline, m.at, tz)}</td>"
        f"<td>{escape(m.container)}</td><td>{escape(m.text)}</td></tr>"
        for m in story(timeline)
    )
    probes = "".join(
        f"<li><b>{escape(c.name)}</b> {escape(lane.kind)}: {escape(lane.probe or 'not in the spec')}</li>"
        for c in timeline.containers
        for lane in c.lanes
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>{to_svg(timeline, tz=tz)}"
        f"<h2>Probes</h2><ul>{probes or '<li>none</li>'}</ul>"
        f"<h2>What happened</h2><table><tr><th>t</th><th>clock</th><th>container</th><th></th></tr>{rows}</table>"
        "</body></html>\n"
    )


def _row_class(m: Moment) -> str:
    return "crossing-ok" if m.kind == "crossing" and m.text.endswith("Success") else m.kind


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:24px;color:#222}"
    "table{border-collapse:collapse;font-size:13px}td,th{padding:2px 10px;text-align:left;border-bottom:1px solid #eee}"
    "td:first-child,td:nth-child(2){font-variant-numeric:tabular-nums;white-space:nowrap}"
    ".killing td,.terminated td,.crossing td{color:#b71c1c}.running td,.crossing-ok td{color:#2e7d32}.waiting td{color:#8d6e00}"
)
