"""`minikubelet timeline` on the real engine: a liveness probe that always fails, seen attempt by attempt."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from nodes import Node, eventually, running_node

pytestmark = pytest.mark.docker

BUSYBOX = "minikubelet.local/busybox:1.35"
SVG = "{http://www.w3.org/2000/svg}"
KILL = "Container app failed liveness probe, will be restarted"
MANIFEST = f"""apiVersion: v1
kind: Pod
metadata: {{name: tl}}
spec:
  containers:
    - name: app
      image: {BUSYBOX}
      command: [sh, -c, "trap 'exit 143' TERM; while true; do sleep 0.2; done"]
      livenessProbe:
        exec: {{command: [cat, /tmp/healthy]}}
        periodSeconds: 1
        failureThreshold: 2
        terminationGracePeriodSeconds: 1
      readinessProbe:
        exec: {{command: ["true"]}}
        periodSeconds: 1
"""


@pytest.fixture(scope="module")
def node(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from running_node(tmp_path_factory.mktemp("timeline-home"))


@pytest.fixture(scope="module")
def crashed(node: Node) -> Iterator[list[dict[str, Any]]]:
    """The pod, run until its second kill put it in CrashLoopBackOff; its lifecycle transitions then."""
    node.cli("apply", "-f", "-", stdin=MANIFEST, check=True)

    def transitions() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = node.api("/api/v1/namespaces/default/pods/tl/lifecycle")["items"]
        return items

    assert eventually(lambda: any(t["reason"] == "CrashLoopBackOff" for t in transitions()), timeout=60)
    yield transitions()
    node.cli("delete", "pod", "tl", "--grace-period=1")


def stamp(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_the_lifecycle_holds_each_instance_its_kill_and_the_back_off(crashed: list[dict[str, Any]]) -> None:
    """doBackOff judges a liveness kill by the instance before the one killed: the first kill has none (the
    restart is at once, and no back-off starts), the second finds one and starts the back-off at 10 s (at once
    again), the third finds the second ended less than 10 s ago: CrashLoopBackOff."""
    steps = [(t["state"], t["reason"]) for t in crashed]
    first = steps.index(("running", ""))
    assert steps[first:] == [
        ("running", ""),
        ("killing", KILL),
        ("terminated", "Error"),
        ("running", ""),
        ("killing", KILL),
        ("terminated", "Error"),
        ("running", ""),
        ("killing", KILL),
        ("terminated", "Error"),
        ("waiting", "CrashLoopBackOff"),
    ]
    runs = crashed[first:]
    one, two, three = runs[0]["containerID"], runs[3]["containerID"], runs[6]["containerID"]
    assert len({one, two, three}) == 3, "each restart is a new container"
    assert [t["containerID"] for t in runs] == [one] * 3 + [two] * 3 + [three] * 4
    assert runs[2]["exitCode"] == runs[5]["exitCode"] == runs[8]["exitCode"] == 143
    assert [t["restartCount"] for t in runs if t["state"] == "running"] == [0, 1, 2]
    times = [stamp(t["time"]) for t in runs]
    assert times == sorted(times)
    back_off = runs[9]
    assert back_off["message"].startswith("back-off 10s restarting failed container=app")
    assert abs(stamp(back_off["backOffUntil"]) - (stamp(runs[8]["time"]) + 10)) < 1.0


def test_the_attempts_fail_cross_and_then_stop_until_the_new_container(node: Node, crashed: list[dict[str, Any]]) -> None:
    runs = crashed[[t["state"] for t in crashed].index("running") :]
    one, two = runs[0]["containerID"], runs[3]["containerID"]
    liveness = [a for a in node.probe_attempts("tl") if a["probe"] == "Liveness"]
    assert [(a["containerID"], a["result"], a["verdict"]) for a in liveness][:4] == [
        (one, "Failure", ""),
        (one, "Failure", "Failure"),
        (two, "Failure", ""),
        (two, "Failure", "Failure"),
    ], "two failures cross failureThreshold 2; the worker then holds until the next instance"
    assert "No such file or directory" in liveness[0]["message"]
    for crossing, killing in ((liveness[1], runs[1]), (liveness[3], runs[4])):
        assert stamp(crossing["start"]) <= stamp(killing["time"]), "the kill follows the crossing"
    readiness = [a for a in node.probe_attempts("tl") if a["probe"] == "Readiness"]
    assert readiness and readiness[0]["result"] == "Success" and readiness[0]["verdict"] == "Success"


def test_the_timeline_command_draws_it_in_the_terminal_and_as_svg(
    node: Node, crashed: list[dict[str, Any]], tmp_path: Path
) -> None:
    shown = node.cli("timeline", "pod/tl")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    for label in ("state", "events", "liveness", "readiness", "legend"):
        assert any(line.lstrip().startswith(label) for line in lines), label
    assert re.search(r"^container app · [12] restarts?$", shown.stdout, re.MULTILINE) and "↻" in shown.stdout
    assert f"Killing: {KILL}" in shown.stdout
    assert "liveness crossed failureThreshold 2 (2 failures in a row): verdict Failure" in shown.stdout
    assert "waiting: CrashLoopBackOff, back-off 10s" in shown.stdout
    picture = tmp_path / "tl.svg"
    written = node.cli("timeline", "tl", "-c", "app", "--output", str(picture))
    assert written.returncode == 0, written.stderr
    root = ET.parse(picture).getroot()
    assert root.tag == f"{SVG}svg"
    marks = [el.get("class", "") for el in root.iter() if "mark" in el.get("class", "").split()]
    assert marks.count("mark crossed-failure") >= 2 + 1, "both crossings, and the legend's sample"
    assert {"liveness", "readiness", "Killing"} <= {el.text for el in root.iter(f"{SVG}text")}
    page = tmp_path / "tl.html"
    assert node.cli("timeline", "tl", "--output", str(page)).returncode == 0
    assert page.read_text().startswith("<!DOCTYPE html>") and KILL in page.read_text()


def test_errors(node: Node, crashed: list[dict[str, Any]]) -> None:
    missing = node.cli("timeline", "pod/nope")
    assert missing.returncode == 1 and missing.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'
    wrong = node.cli("timeline", "tl", "-c", "nope")
    assert wrong.returncode == 1 and "container nope is not valid for pod tl" in wrong.stderr
    bad = node.cli("timeline", "tl", "--output", "x.png")
    assert bad.returncode == 2 and ".svg or .html" in bad.stderr
