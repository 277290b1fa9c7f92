"""The `minikubelet test` scenario of the suite ("test-verdict"): how long a CI verdict takes.

Three measurements, each of the whole command as CI runs it (a fresh process, wall time):

- a passing one-pod test with `--hold 0` on the suite's node, already up: target ≤ 1.5 s;
- the same with a home of its own, so that the command starts the node first: target ≤ 2.5 s (the node is
  stopped afterwards, outside the timing);
- a crash-looping pod (readiness never passes, `--max-restarts 5`, so that the kubelet's CrashLoopBackOff is what
  ends it): from the kubelet's record of the CrashLoopBackOff wait (`GET .../pods/<name>/lifecycle`) to the
  command's exit: target ≤ 1 s.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml
from harness import BUSYBOX, Node, Series, log
from scenarios import Context, Result

PODS = "/api/v1/namespaces/default/pods"
CLI = [sys.executable, "-m", "minikubelet", "test"]
COLD_REPS = 5  # each starts and stops a node


def _pod(name: str, command: str, *, never_ready: bool = False) -> dict[str, object]:
    container: dict[str, object] = {"name": "app", "image": BUSYBOX, "command": ["sh", "-c", command]}
    if never_ready:
        container["readinessProbe"] = {"exec": {"command": ["cat", "/nonexistent"]}, "periodSeconds": 1}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"bench": "test-verdict"}},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [container]},
    }


def _run(node: Node, manifest: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run([*CLI, "-f", str(manifest), *args], capture_output=True, text=True, env=node.env, timeout=300)
    return done, time.monotonic() - started


def _check(done: subprocess.CompletedProcess[str], code: int, what: str) -> None:
    if done.returncode != code:
        raise SystemExit(f"minikubelet test ({what}) exited {done.returncode}, not {code}: {(done.stdout + done.stderr)[-500:]}")


def test_verdict(ctx: Context) -> Result:
    node = ctx.node()
    passing = ctx.workdir / "verdict-pass.yml"
    passing.write_text(yaml.safe_dump(_pod("verdict-pass", "sleep 3600")))
    warm = Series("passing pod, --hold 0, node up: whole command")
    cold = Series("passing pod, --hold 0, the command starts the node: whole command")
    crash = Series("crash loop: kubelet's CrashLoopBackOff -> the command's exit")

    _check(_run(node, passing, "--hold", "0")[0], 0, "warm-up")
    for _ in range(ctx.reps):
        done, took = _run(node, passing, "--hold", "0")
        _check(done, 0, "passing pod")
        warm.add(took * 1000)

    for rep in range(min(ctx.reps, COLD_REPS)):
        home = Path(tempfile.mkdtemp(prefix=f"verdict-cold-{rep}-", dir=ctx.workdir))
        fresh = Node(home)
        try:
            done, took = _run(fresh, passing, "--hold", "0")
            _check(done, 0, "passing pod, cold node")
            cold.add(took * 1000)
        finally:
            fresh.down()
            shutil.rmtree(home, ignore_errors=True)

    for rep in range(ctx.reps):
        name = f"verdict-crash-{rep:02d}"
        manifest = ctx.workdir / f"{name}.yml"
        manifest.write_text(yaml.safe_dump(_pod(name, "exit 3", never_ready=True)))
        done, _ = _run(node, manifest, "--max-restarts", "5", "--keep")
        ended = time.time()
        try:
            _check(done, 1, "crash loop")
            if "CrashLoopBackOff after" not in done.stdout:
                raise SystemExit(f"the crash loop ended otherwise: {done.stdout[:300]}")
            items = node.client.get(f"{PODS}/{name}/lifecycle")["items"]
            waits = [t["time"] for t in items if t["state"] == "waiting" and t["reason"] == "CrashLoopBackOff"]
            if not waits:
                raise SystemExit(f"no CrashLoopBackOff in the kubelet's record of {name}")
            reported = datetime.fromisoformat(waits[0].replace("Z", "+00:00")).timestamp()
            crash.add((ended - reported) * 1000)
        finally:
            node.delete_pods("bench=test-verdict")
    log(f"test-verdict: warm {warm.median:.0f} ms, cold {cold.median:.0f} ms, crash loop {crash.median:.0f} ms")
    met = warm.median <= 1500 and cold.median <= 2500 and crash.median <= 1000
    return Result(
        key="test-verdict",
        title="minikubelet test: a CI verdict",
        method=(
            "`minikubelet test -f pod.yml --hold 0` as CI runs it (a new process, wall time to its exit, pod "
            f"cleanup included) on a busybox `sleep` pod without probes: {ctx.reps} times on the suite's node, "
            f"already up, after one warm-up; {min(ctx.reps, COLD_REPS)} times with a new home each, so that the "
            "command starts the node first (the node is stopped afterwards, untimed). Then a pod whose container "
            "exits at once and whose readiness never passes, with `--max-restarts 5 --keep`, so that the kubelet's "
            "CrashLoopBackOff is what ends it: from that wait's time in the kubelet's lifecycle record to the "
            f"command's exit (which includes reading the pod's record and printing the why), {ctx.reps} times."
        ),
        series=[warm, cold, crash],
        target="node up ≤ 1.5 s; node started ≤ 2.5 s; crash loop ≤ 1 s after CrashLoopBackOff",
        verdict=f"{warm.median / 1000:.2f} s; {cold.median / 1000:.2f} s; {crash.median:.0f} ms",
        met=met,
    )


test_verdict.__test__ = False  # type: ignore[attr-defined]  # a scenario, not a pytest test
