"""`minikubelet why` on the real engine: a liveness kill (SIGKILL after the grace, and exit on SIGTERM), a crash
loop, an OOM kill under a memory limit, an image that cannot be pulled, a liveness kill of a slow start (the
startupProbe fix), and a probe that keeps failing just under its threshold (the flapping warning)."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from nodes import Node, eventually, running_node

from minikubelet.printing.durations import parse_time
from minikubelet.printing.why import format_seconds

pytestmark = pytest.mark.docker

BUSYBOX = "minikubelet.local/busybox:1.35"
LIVENESS = """      livenessProbe:
        exec: {command: [cat, /tmp/healthy]}
        periodSeconds: 1
        failureThreshold: 2
        terminationGracePeriodSeconds: 2"""
MANIFESTS = f"""apiVersion: v1
kind: Pod
metadata: {{name: why-live}}
spec:
  containers:
    - name: ignores
      image: {BUSYBOX}
      command: [sh, -c, "while true; do sleep 1; done"]
{LIVENESS}
    - name: obeys
      image: {BUSYBOX}
      command: [sh, -c, "trap 'exit 143' TERM; while true; do sleep 0.2; done"]
{LIVENESS}
---
apiVersion: v1
kind: Pod
metadata: {{name: why-crash}}
spec:
  containers:
    - name: app
      image: {BUSYBOX}
      command: [sh, -c, "sleep 0.5; exit 3"]
---
apiVersion: v1
kind: Pod
metadata: {{name: why-oom}}
spec:
  restartPolicy: Never
  containers:
    - name: app
      image: {BUSYBOX}
      command: [sh, -c, "head -c 200m /dev/zero | tail"]
      resources: {{limits: {{memory: 50Mi}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: why-image}}
spec:
  containers:
    - name: app
      image: minikubelet.local/no-such-image:1
"""


UP: dict[str, float] = {}  # when the module's node came up (time.monotonic())


@pytest.fixture(scope="module")
def node(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A node with the four pods applied at once, so that they fail side by side."""
    for running in running_node(tmp_path_factory.mktemp("why-home")):
        UP["since"] = time.monotonic()
        running.cli("apply", "-f", "-", stdin=MANIFESTS, check=True)
        yield running


def transitions(node: Node, pod: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = node.api(f"/api/v1/namespaces/default/pods/{pod}/lifecycle")["items"]
    return items


def why_json(node: Node, *args: str) -> dict[str, Any]:
    shown = node.cli("why", *args, "-o", "json")
    assert shown.returncode == 0, shown.stderr
    out: dict[str, Any] = json.loads(shown.stdout)
    return out


def test_a_liveness_kill_sigkilled_after_the_grace_and_one_that_exits_on_sigterm(node: Node) -> None:
    def ended(container: str) -> bool:
        return any(t["container"] == container and t["state"] == "terminated" for t in transitions(node, "why-live"))

    assert eventually(lambda: ended("ignores") and ended("obeys"), timeout=60, interval=0.5)
    shown = node.cli("why", "pod/why-live", "-c", "ignores")
    assert shown.returncode == 0, shown.stderr
    assert "container obeys" not in shown.stdout
    assert "liveness exec cat /tmp/healthy failed 2 times in a row (failureThreshold 2, every 1 s)" in shown.stdout
    assert "cat: can't open '/tmp/healthy': No such file or directory" in shown.stdout
    assert "the process ignored it, SIGKILL after the 2 s grace → exit 137 (not OOM)" in shown.stdout
    assert "rule: livenessProbe.failureThreshold" in shown.stdout
    assert "fix: no instance ever passed a probe: check the probe itself first" in shown.stdout
    obeys = why_json(node, "why-live", "-c", "obeys")
    kill = next(f for f in obeys["findings"] if f["kind"] == "liveness-kill")
    assert kill["exitCode"] == 143 and kill["restartCount"] == 0 and kill["container"] == "obeys"
    assert "the kubelet sent SIGTERM and the process exited on it" in kill["text"]
    assert 0.5 < kill["offsetSeconds"] < 30, "two failures a period apart, then the kill"


def test_a_crash_loop(node: Node) -> None:
    def looping() -> bool:
        status = node.pod("why-crash")["status"].get("containerStatuses", [{}])[0]
        return status.get("state", {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"

    assert eventually(looping, timeout=60, interval=0.5)
    out = why_json(node, "pod", "why-crash")
    assert out["kind"] == "PodDiagnosis" and out["metadata"] == {"namespace": "default", "name": "why-crash"}
    kinds = [f["kind"] for f in out["findings"]]
    assert "crash-loop" in kinds and "exited" in kinds, kinds
    exited = [f for f in out["findings"] if f["kind"] == "exited"]
    assert all(f["exitCode"] == 3 and f["rule"] == "restartPolicy" for f in exited)
    assert "the process exited on its own with code 3 after running" in exited[0]["text"]
    loop = next(f for f in out["findings"] if f["kind"] == "crash-loop")
    assert loop["text"].startswith("CrashLoopBackOff: restarted ")
    assert re.search(r"the kubelet now waits back-off \d+s \(10 s doubling to 300 s\)", loop["text"]), loop["text"]
    assert "next restart at " in loop["text"]


def test_an_oom_kill_under_a_memory_limit(node: Node) -> None:
    def oom() -> bool:
        return any(t["reason"] == "OOMKilled" for t in transitions(node, "why-oom"))

    assert eventually(oom, timeout=60, interval=0.5)
    shown = node.cli("why", "why-oom")
    assert shown.returncode == 0, shown.stderr
    assert "OOMKilled after running" in shown.stdout
    assert "the kernel's OOM killer ended it at its memory limit (50Mi) → exit 137; the kubelet did not kill it" in shown.stdout
    assert "rule: resources.limits.memory" in shown.stdout
    assert "not OOM" not in shown.stdout


def test_an_image_that_cannot_be_pulled(node: Node) -> None:
    def failing() -> bool:
        status = node.pod("why-image")["status"].get("containerStatuses", [{}])[0]
        return status.get("state", {}).get("waiting", {}).get("reason") in ("ErrImagePull", "ImagePullBackOff")

    assert eventually(failing, timeout=90, interval=0.5)
    # The Failed event carries the engine's message; the CLI may look between the status write and the event's.
    assert eventually(lambda: "Failed to pull image" in node.cli("why", "why-image").stdout, timeout=20, interval=0.5)
    out = why_json(node, "why-image")
    (pull,) = out["findings"]
    assert pull["kind"] == "image-pull" and pull["severity"] == "cause"
    assert "the image minikubelet.local/no-such-image:1 cannot be pulled; the engine said: " in pull["text"]
    assert 'Failed to pull image "minikubelet.local/no-such-image:1": ' in pull["text"]
    assert out["ready"] is False and out["containers"][0]["state"] == "waiting"


def test_errors(node: Node) -> None:
    missing = node.cli("why", "pod/nope")
    assert missing.returncode == 1 and missing.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'
    wrong = node.cli("why", "why-crash", "-c", "nope")
    assert wrong.returncode == 1 and "container nope is not valid for pod why-crash" in wrong.stderr
    bad = node.cli("why", "why-crash", "-o", "yaml")
    assert bad.returncode == 2 and "text or json" in bad.stderr


SLOW = f"""apiVersion: v1
kind: Pod
metadata: {{name: why-slow}}
spec:
  terminationGracePeriodSeconds: 2
  initContainers:
    - name: warm-up
      image: {BUSYBOX}
      command: [sleep, "6.5"]
  containers:
    - name: app
      image: {BUSYBOX}
      command: [sh, -c, "trap 'exit 143' TERM; sleep 4; touch /tmp/healthy; while true; do sleep 0.2; done"]
      livenessProbe:
        exec: {{command: [cat, /tmp/healthy]}}
        periodSeconds: 10
        failureThreshold: 1
"""


def _at(stamp: str) -> float:
    parsed = parse_time(stamp)
    assert parsed is not None, stamp
    return parsed.timestamp()


def test_a_slow_start_killed_by_liveness_gets_the_startup_probe_that_covers_it(node: Node) -> None:
    """An app that needs 4 s before its liveness check can pass, probed every 10 s with failureThreshold 1.

    Where in its life an instance's first check lands is the phase of the probe's ticker (anchored at the pod's
    admission: docs/lint.md#the-timing-model). The init container (6.5 s) makes the first instance start about
    8 s after admission, so its first check comes about 2 s into it: it fails and kills. The second instance
    starts just after that kill, so its first check comes nearly a period (10 s) into it: it passes. `why` then
    has a start it saw, and proposes the startupProbe that covers it."""
    # A worker made in the daemon's first period waits a random part of it first (the herd's jitter): not here.
    assert eventually(lambda: time.monotonic() - UP["since"] > 11, timeout=15, interval=0.2)
    node.cli("apply", "-f", "-", stdin=SLOW, check=True)

    def passed_once_restarted() -> bool:
        status = node.pod("why-slow")["status"].get("containerStatuses", [{}])[0]
        cid = str(status.get("containerID", "")).removeprefix("docker://")
        attempts = node.probe_attempts("why-slow")
        return status.get("restartCount", 0) >= 1 and any(a["containerID"] == cid and a["result"] == "Success" for a in attempts)

    assert eventually(passed_once_restarted, timeout=60, interval=0.5)
    runs = [t for t in transitions(node, "why-slow") if t["container"] == "app"]
    starts = {t["containerID"]: _at(t["time"]) for t in runs if t["state"] == "running"}
    attempts = [a for a in node.probe_attempts("why-slow") if a["container"] == "app"]
    first, second = sorted(starts, key=starts.__getitem__)[:2]
    # the scenario: the first instance failed its one check and was killed; the second passed its first one
    mine = [a for a in attempts if a["containerID"] == first]
    assert [a["result"] for a in mine] == ["Failure"] and mine[0]["verdict"] == "Failure", mine
    kill = next(t for t in runs if t["containerID"] == first and t["state"] == "killing")
    assert "failed liveness probe" in kill["message"] + kill["reason"]
    ok = next(a for a in attempts if a["containerID"] == second)
    assert ok["result"] == "Success", ok

    seen = _at(ok["start"]) - starts[second]
    assert _at(kill["time"]) - starts[first] < seen, "the start seen is the longest the record has"
    threshold = math.ceil(seen * 1.25 / 10)
    expected = (
        f"a startupProbe with failureThreshold {threshold} at period 10 s covers the {format_seconds(seen)} start seen here"
    )
    out = why_json(node, "why-slow", "-c", "app")
    (found,) = [f for f in out["findings"] if f["kind"] == "liveness-kill"]
    assert found["containerID"] == first and found["restartCount"] == 0 and found["rule"] == "livenessProbe.failureThreshold"
    assert found["text"].startswith("liveness exec cat /tmp/healthy failed once (failureThreshold 1, every 10 s) at +")
    assert found["suggestion"] == expected
    shown = node.cli("why", "pod/why-slow", "-c", "app")
    assert shown.returncode == 0 and f"      fix: {expected}\n" in shown.stdout, shown.stdout


FLAP_CHECK = "n=$(cat /tmp/n 2>/dev/null || echo 0); echo $((n + 1)) > /tmp/n; [ $n -ge 12 ] || [ $((n % 3)) -eq 2 ]"
FLAP = f"""apiVersion: v1
kind: Pod
metadata: {{name: why-flap}}
spec:
  containers:
    - name: app
      image: {BUSYBOX}
      command: [sh, -c, "trap 'exit 143' TERM; while true; do sleep 0.2; done"]
      livenessProbe:
        exec: {{command: [sh, -c, {json.dumps(FLAP_CHECK)}]}}
        periodSeconds: 1
        failureThreshold: 3
"""


def _parse_span(text: str) -> float:
    """why's format_seconds back to seconds: `4.0 s`, `41 s`, `2 min 05 s`."""
    found = re.fullmatch(r"(?:(\d+) min )?([\d.]+) s", text)
    assert found is not None, text
    return int(found.group(1) or 0) * 60 + float(found.group(2))


def test_a_probe_failing_just_under_its_threshold_is_a_flapping_warning(node: Node) -> None:
    """A liveness check that fails twice, then passes, four times over (then passes for good): failureThreshold 3
    is never crossed, so no kill, and `why` warns that one more failure in a row would have been one."""
    node.cli("apply", "-f", "-", stdin=FLAP, check=True)

    def liveness() -> list[dict[str, Any]]:
        return [a for a in node.probe_attempts("why-flap") if a["probe"] == "Liveness"]

    assert eventually(lambda: len(liveness()) >= 14, timeout=60, interval=0.5)
    before = liveness()
    out = why_json(node, "why-flap")
    after = liveness()
    results = [a["result"] for a in before]
    assert "Unknown" not in results, results
    # runs of failures ended by a success, from the attempts themselves
    runs: list[int] = []
    run = 0
    for result in results:
        if result == "Failure":
            run += 1
            continue
        if run:
            runs.append(run)
        run = 0
    assert runs and max(runs) == 2, results
    worst = runs.count(max(runs))
    (flap,) = [f for f in out["findings"] if f["kind"] == "flapping"]
    assert (flap["severity"], flap["rule"], flap["container"]) == ("warning", "livenessProbe.failureThreshold", "app")
    head = f"liveness exec sh -c {FLAP_CHECK} failed 2 of 3 in a row {worst} times in "
    assert flap["text"].startswith(head), flap["text"]
    span, _, rest = flap["text"].removeprefix(head).partition(" (")
    assert rest.startswith(f"{len(runs)} runs of failures, none crossing); one more failure in a row means a kill")
    low = _at(before[-1]["start"]) - _at(before[0]["start"])
    high = _at(after[-1]["start"]) - _at(after[0]["start"])
    assert low - 0.5 <= _parse_span(span) <= high + 0.5, (span, low, high)  # whole seconds from 10 s on
    assert out["containers"][0]["restartCount"] == 0 and "liveness-kill" not in [f["kind"] for f in out["findings"]]
    cid = node.pod("why-flap")["status"]["containerStatuses"][0]["containerID"].removeprefix("docker://")
    assert flap["containerID"] == cid and flap["restartCount"] == 0 and flap["offsetSeconds"] > 0
    shown = node.cli("why", "why-flap")
    assert shown.returncode == 0 and f"  ! instance #0 at +{format_seconds(flap['offsetSeconds'])}: {head}" in shown.stdout, (
        shown.stdout
    )
