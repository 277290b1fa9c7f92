"""The probe timeline: the model built from scripted attempts and transitions, its terminal and SVG pictures."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from minikubelet.cli.timeline import render
from minikubelet.printing.timeline import (
    GLYPHS,
    axis_rows,
    build_timeline,
    describe_probe,
    format_offset,
    glyph_rows,
    nice_ticks,
    story,
    to_html,
    to_svg,
)

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC).timestamp()
SVG = "{http://www.w3.org/2000/svg}"
KILL = "Container app failed liveness probe, will be restarted"


def at(seconds: float) -> str:
    return datetime.fromtimestamp(T0 + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
    out = {
        "time": at(time),
        "container": "app",
        "containerID": cid,
        "state": state,
        "reason": "",
        "message": "",
        "restartCount": 0,
    }
    out.update(extra)
    return out


POD: dict[str, Any] = {
    "metadata": {"name": "live", "namespace": "default", "creationTimestamp": "2026-01-01T12:00:00Z"},
    "spec": {
        "containers": [
            {
                "name": "app",
                "image": "minikubelet.local/echo:v1",
                "livenessProbe": {"httpGet": {"path": "/not/exist", "port": 8080}, "periodSeconds": 1, "failureThreshold": 2},
                "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1},
            }
        ]
    },
}
NOT_FOUND = "HTTP probe failed with statuscode: 404"
ATTEMPTS = [
    attempt("Readiness", 1.0, "Success", "c1", verdict="Success"),
    attempt("Liveness", 1.5, "Failure", "c1", message=NOT_FOUND),
    attempt("Readiness", 2.0, "Success", "c1"),
    attempt("Liveness", 2.5, "Failure", "c1", verdict="Failure", message=NOT_FOUND),
    attempt("Liveness", 4.3, "Failure", "c2", message=NOT_FOUND),
    attempt("Readiness", 4.4, "Unknown", "c2", message="no pod\nIP\n"),
    attempt("Liveness", 5.3, "Failure", "c2", verdict="Failure", message=NOT_FOUND),
    attempt("Liveness", 16.9, "Success", "c3"),
]
TRANSITIONS = [
    transition(0.0, "waiting", reason="ContainerCreating"),
    transition(0.5, "running", "c1"),
    transition(2.6, "killing", "c1", reason=KILL),
    transition(3.2, "terminated", "c1", reason="Error", exitCode=137),
    transition(3.3, "running", "c2", restartCount=1),
    transition(5.4, "killing", "c2", reason=KILL),
    transition(5.7, "terminated", "c2", reason="Error", exitCode=137, restartCount=1),
    transition(
        5.8,
        "waiting",
        "c2",
        reason="CrashLoopBackOff",
        message="back-off 10s restarting failed container=app pod=live_default(u)",
        restartCount=1,
        backOffUntil=at(15.7),
    ),
    transition(15.9, "running", "c3", restartCount=2),
]
NOW = datetime.fromtimestamp(T0 + 20, UTC)


def timeline() -> Any:
    return build_timeline(POD, ATTEMPTS, TRANSITIONS, now=NOW)


def test_the_model_has_one_lane_per_probe_in_order_with_every_attempt() -> None:
    tl = timeline()
    assert tl.origin == T0 and tl.end == 20.0
    (app,) = tl.containers
    assert [lane.kind for lane in app.lanes] == ["liveness", "readiness"]
    liveness, readiness = app.lanes
    assert [m.cls for m in liveness.marks] == ["failure", "crossed-failure", "failure", "crossed-failure", "success"]
    assert [round(m.at, 1) for m in liveness.marks] == [1.5, 2.5, 4.3, 5.3, 16.9]
    assert [m.cls for m in readiness.marks] == ["crossed-success", "success", "unknown"]
    counts = liveness.counts()
    assert (counts["Success"], counts["Failure"], counts["crossings"]) == (1, 4, 2)
    assert liveness.probe == "httpGet http://:8080/not/exist, every 1s, timeout 1s, failureThreshold 2"


def test_the_states_kills_and_restarts_come_in_order() -> None:
    (app,) = timeline().containers
    assert [(s.cls, s.label) for s in app.spans] == [
        ("waiting", "ContainerCreating"),
        ("running", "running"),
        ("exited", "exit 137"),
        ("running", "running"),
        ("exited", "exit 137"),
        ("backoff", "back-off 10s"),
        ("running", "running"),
    ]
    assert [(round(s.start, 1), round(s.end, 1)) for s in app.spans][-2:] == [(5.8, 15.9), (15.9, 20.0)]
    assert round(app.spans[5].backoff_until or 0, 1) == 15.7
    assert [(m.kind, round(m.at, 1)) for m in app.moments] == [
        ("killing", 2.6),
        ("restart", 3.3),
        ("killing", 5.4),
        ("restart", 15.9),
    ]
    assert app.restarts == 2


def test_the_story_tells_failures_crossings_kills_and_the_back_off() -> None:
    texts = [(m.kind, m.text) for m in story(timeline())]
    kinds = [kind for kind, text in texts if "readiness" not in text]
    assert kinds == [
        "waiting",
        "running",
        "probe",
        "crossing",
        "killing",
        "terminated",
        "running",
        "probe",
        "crossing",
        "killing",
        "terminated",
        "waiting",
        "running",
        "probe",
    ]
    assert ("probe", f"liveness probe Failure: {NOT_FOUND}") in texts
    assert ("crossing", "liveness crossed failureThreshold 2 (2 failures in a row): verdict Failure") in texts
    assert ("killing", f"Killing: {KILL}") in texts
    assert ("probe", "readiness probe Unknown: no pod IP") in texts
    assert ("waiting", "waiting: CrashLoopBackOff, back-off 10s, restart due at +15.7s") in texts
    assert ("running", "running (c3), restart #2") in texts


def test_cells_place_each_mark_and_the_highest_priority_wins() -> None:
    (app,) = timeline().containers
    rows = dict(glyph_rows(app, width=20, end=20.0))
    assert list(rows) == ["state", "events", "liveness", "readiness"]
    assert rows["liveness"][1] == "failure" and rows["liveness"][2] == "crossed-failure" and rows["liveness"][16] == "success"
    assert rows["readiness"][1] == "crossed-success" and rows["readiness"][4] == "unknown"
    assert rows["events"][2] == "killing" and rows["events"][3] == "restart"
    assert rows["state"][3] == "exited" and rows["state"][10] == "backoff" and rows["state"][19] == "running"
    finer = dict(glyph_rows(app, width=40, end=20.0))["state"]
    assert finer[:3] == ["waiting", "running", "running"] and finer[6] == "exited", "a half-second cell shows the wait"
    crowded = dict(glyph_rows(app, width=2, end=20.0))
    assert crowded["liveness"] == ["crossed-failure", "success"]


def test_the_terminal_picture_has_the_lanes_the_axis_and_the_legend() -> None:
    out = io.StringIO()
    render(timeline(), Console(file=out, width=100, color_system=None, highlight=False), tz=UTC)
    text = out.getvalue()
    lines = text.splitlines()
    assert lines[0].startswith("pod default/live   2026-01-01 12:00:00 → 12:00:20")
    assert "container app · 2 restarts" in lines
    for label in ("state", "events", "liveness", "readiness", "seconds", "clock", "legend"):
        assert any(line.lstrip().startswith(label) for line in lines), label
    liveness_row = next(line for line in lines if line.lstrip().startswith("liveness  ") and "httpGet" not in line)
    assert liveness_row.count(GLYPHS["crossed-failure"]) == 2 and liveness_row.count(GLYPHS["success"]) == 1
    assert "12:00:00" in text and "0s" in text and "10s" in text
    assert "1 success, 4 failure, 0 warning, 0 errored, 2 crossings" in text
    assert KILL in text and "what happened" in text


def test_the_svg_parses_and_holds_every_mark() -> None:
    root = ET.fromstring(to_svg(timeline(), tz=UTC))
    assert root.tag == f"{SVG}svg"
    classes = [el.get("class", "") for el in root.iter() if "mark" in el.get("class", "").split()]
    # 8 attempts, plus one sample of each of the 6 mark kinds in the legend
    assert len(classes) == 8 + 6
    assert classes[:5] == ["mark failure", "mark crossed-failure", "mark failure", "mark crossed-failure", "mark success"]
    texts = [el.text for el in root.iter(f"{SVG}text")]
    assert {"liveness", "readiness", "state", "events", "Killing", "↻ restart #1", "back-off 10s"} <= set(texts)
    assert "12:00:10" in texts and "10s" in texts


def test_the_html_page_embeds_the_svg_and_the_story() -> None:
    page = to_html(timeline(), tz=UTC)
    assert page.startswith("<!DOCTYPE html>")
    svg = page[page.index("<svg") : page.index("</svg>") + len("</svg>")]
    ET.fromstring(svg)
    assert "liveness crossed failureThreshold 2" in page and "<td>12:00:02.600</td>" in page
    assert '<tr class="crossing-ok">' in page and '<tr class="crossing">' in page and '<tr class="killing">' in page


def test_since_keeps_the_last_seconds_only() -> None:
    tl = build_timeline(POD, ATTEMPTS, TRANSITIONS, now=NOW, since=5)
    (app,) = tl.containers
    assert tl.end == 5.0
    assert [m.cls for m in app.lanes[0].marks] == ["success"]
    assert [s.cls for s in app.spans] == ["backoff", "running"] and app.spans[0].start == 0.0


def test_a_pod_with_nothing_recorded_and_no_probes() -> None:
    pod = {
        "metadata": {"name": "p", "namespace": "ns", "creationTimestamp": "2026-01-01T12:00:00Z"},
        "spec": {"containers": [{"name": "app"}]},
    }
    tl = build_timeline(pod, [], [], now=NOW)
    assert tl.end == 20.0 and tl.containers[0].lanes == [] and story(tl) == []
    out = io.StringIO()
    render(tl, Console(file=out, width=80, color_system=None), tz=UTC)
    assert "no probes in the spec" in out.getvalue() and "nothing recorded yet" in out.getvalue()
    ET.fromstring(to_svg(tl))


def test_only_the_chosen_container() -> None:
    pod = {**POD, "spec": {"containers": [*POD["spec"]["containers"], {"name": "side", "image": "x"}]}}
    assert [c.name for c in build_timeline(pod, ATTEMPTS, TRANSITIONS, now=NOW).containers] == ["app", "side"]
    assert [c.name for c in build_timeline(pod, ATTEMPTS, TRANSITIONS, now=NOW, container="side").containers] == ["side"]


def test_helpers() -> None:
    assert describe_probe({"exec": {"command": ["cat", "/tmp/ok"]}, "initialDelaySeconds": 3, "successThreshold": 2}) == (
        "exec cat /tmp/ok, delay 3s, every 10s, timeout 1s, failureThreshold 3, successThreshold 2"
    )
    assert [format_offset(s) for s in (0, 4.25, 65, 3725)] == ["+0.0s", "+4.2s", "+1m05s", "+1h02m"]
    assert nice_ticks(20, 5) == [0, 5, 10, 15, 20]
    assert nice_ticks(600, 6) == [0, 120, 240, 360, 480, 600]
    ticks, relative, wall = axis_rows(timeline(), width=40, tz=UTC)
    assert len(ticks) == len(relative) == len(wall) == 40
    assert relative.startswith("0s") and wall.startswith("12:00:00") and ticks.startswith("└")
