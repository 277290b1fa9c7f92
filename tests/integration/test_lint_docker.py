"""`minikubelet lint` on the real engine: `--check-images` and the local busybox image (docs/lint.md's example, for
real: programs found and not found, hooks included, and no container left behind); and rule slow-start-image
from the start record a real node writes."""

from __future__ import annotations

import json
import math
import re
import shlex
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from nodes import BUSYBOX, eventually, running_node
from typer.testing import CliRunner

from minikubelet.cli.main import app

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^```\n\$ minikubelet (lint [^\n]*--check-images[^\n]*)\n(.*?)^```$", re.S | re.M)


def test_the_documented_example(
    local_images: tuple[str, ...], docker_client: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MINIKUBELET_HOME", str(tmp_path))  # no node's start record in the output
    [(command, expected)] = BLOCK.findall((ROOT / "docs" / "lint.md").read_text(encoding="utf-8"))
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, shlex.split(command))
    assert result.exit_code == 1, result.output
    assert result.stdout + result.stderr == expected
    assert docker_client.containers.list(all=True, filters={"label": "minikubelet.lint"}) == []
    offline = CliRunner().invoke(app, [arg for arg in shlex.split(command) if arg != "--check-images"])
    assert offline.exit_code == 0
    assert offline.stdout == "manifests/lint/exec-programs.yml: pod/exec-programs: nothing found\n"


SLOW_START = """apiVersion: v1
kind: Pod
metadata: {name: slow-start}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: app
      image: minikubelet.local/busybox:1.35
      command: [sh, -c, "trap 'exit 143' TERM; sleep 3; touch /tmp/ready; while true; do sleep 0.2; done"]
      readinessProbe:
        exec: {command: [cat, /tmp/ready]}
        periodSeconds: 1
"""
LIVENESS_ONLY = """apiVersion: v1
kind: Pod
metadata: {name: eager}
spec:
  containers:
    - name: app
      image: minikubelet.local/busybox:1.35
      livenessProbe:
        exec: {command: [cat, /tmp/ready]}
        periodSeconds: 2
        failureThreshold: 2
"""


def test_a_slow_start_on_a_node_is_recorded_and_lint_reports_it(
    docker_client: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A busybox container that needs 3 s before its readiness probe can pass: the node records the start (from
    startedAt to the first success, after failures) in its state dir, and `lint` on that node, offline, then
    warns of a liveness probe that kills after 2 s on the same image."""
    for node in running_node(tmp_path_factory.mktemp("lint-home")):
        record = node.home / "start-records.json"
        assert node.cli("lint", "-f", "-", stdin=LIVENESS_ONLY).returncode == 0, "no record yet: nothing to say"
        node.cli("apply", "-f", "-", stdin=SLOW_START, check=True)
        assert eventually(record.exists, timeout=60, interval=0.2)
        assert stat.S_IMODE(record.stat().st_mode) == 0o600
        (start,) = json.loads(record.read_text())["images"][BUSYBOX]["recent"]

        # The same start, from the pod's status and the prober's attempts (the API), independently.
        status = node.pod("slow-start")["status"]["containerStatuses"][0]
        cid = status["containerID"].removeprefix("docker://")
        started = _time(status["state"]["running"]["startedAt"])
        mine = [a for a in node.probe_attempts("slow-start") if a["containerID"] == cid and a["probe"] == "Readiness"]
        first = next(i for i, a in enumerate(mine) if a["result"] == "Success")
        assert start["containerID"] == cid and start["pod"] == "default/slow-start" and start["probe"] == "Readiness"
        assert start["failuresBefore"] == sum(a["result"] == "Failure" for a in mine[:first]) >= 1
        assert start["seconds"] == round(_time(mine[first]["start"]) - started, 1)
        # sleep 3 before the file exists; startedAt is truncated to the second, the probe runs every second
        assert 3.0 <= start["seconds"] < 6.0, start

        seconds = start["seconds"]
        needed = math.ceil(seconds / 2) + 1
        linted = node.cli("lint", "-f", "-", stdin=LIVENESS_ONLY)
        assert linted.returncode == 1, linted.stderr
        assert linted.stdout.startswith("<stdin>: pod/eager\nWARN  spec.containers[0].livenessProbe: ")
        assert (
            f"can kill the container 2s after it starts, before the {seconds:g}s its image took to start on this node:"
            " earliest kill = initialDelaySeconds 0 + (failureThreshold 2 - 1) x periodSeconds 2 = 2s"
        ) in linted.stdout
        assert f"failureThreshold {needed} = ceil({seconds:g} / 2) + 1" in linted.stdout
        assert f"The start record ({record}) has {BUSYBOX}'s longest start" in linted.stdout
        assert node.cli("lint", "-f", "-", "--records", str(record), stdin=LIVENESS_ONLY).stdout == linted.stdout


def _time(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
