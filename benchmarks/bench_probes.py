"""Probe accuracy under load: how late probe attempts run against their schedule, and what it costs.

Starts a private node, applies `--pods` echo pods each with one probe (period `--period`), waits until all
are Running (and Ready, for readiness probes), lets them settle for `--settle` seconds (the last pods'
start-up still delays probes a little while after all are Ready), then lets them run for `--seconds` and reads
every pod's recorded attempts (`GET .../pods/<name>/probes`). Lateness is `start - due` of each ticker attempt
due in the window (manual readiness triggers excluded): the time between the moment the worker's ticker fired
and the moment the probe handler began. It also samples the daemon's CPU (% of one core, from /proc) and RSS.

Run: `.venv/bin/python benchmarks/bench_probes.py [--pods 100] [--seconds 60] [--kind http]` after
`make install docker images`. Everything it creates is removed at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from minikubelet.client import ApiClient
from minikubelet.node.kubeconfig import read_connection
from minikubelet.node.paths import NodePaths

ECHO = "minikubelet.local/echo:v1"
PROBES = {
    "http": "httpGet: {path: /healthz, port: 3000}",
    "tcp": "tcpSocket: {port: 3000}",
    "exec": 'exec: {command: ["true"]}',
}


def manifest(pods: int, kind: str, probe: str, period: int) -> str:
    field = {"readiness": "readinessProbe", "liveness": "livenessProbe"}[kind]
    docs = [
        f"""apiVersion: v1
kind: Pod
metadata: {{name: probed-{i:03d}, labels: {{bench: probes}}}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: app
      image: {ECHO}
      {field}:
        {PROBES[probe]}
        periodSeconds: {period}
        timeoutSeconds: 1
        failureThreshold: 3
"""
        for i in range(pods)
    ]
    return "---\n".join(docs)


def cli(env: dict[str, str], *args: str, stdin: str = "", timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "minikubelet", *args], input=stdin, env=env, capture_output=True, text=True, timeout=timeout
    )


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))]


def wait_all_up(client: ApiClient, pods: int, *, ready: bool, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        items = client.get("/api/v1/namespaces/default/pods", params={"labelSelector": "bench=probes"})["items"]
        up = [
            p
            for p in items
            if p.get("status", {}).get("phase") == "Running"
            and (not ready or all(c.get("ready") for c in p["status"].get("containerStatuses", [])))
        ]
        if len(up) == pods:
            return time.monotonic() - started
        time.sleep(0.5)
    raise SystemExit(f"only {len(up)} of {pods} pods came up within {timeout:.0f} s (the node admits 110 pods)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--settle", type=float, default=10, help="seconds between all pods up and the window")
    parser.add_argument("--period", type=int, default=1)
    parser.add_argument("--probe", choices=sorted(PROBES), default="http")
    parser.add_argument("--kind", choices=["readiness", "liveness"], default="readiness")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--py-spy", type=Path, help="also record the daemon with py-spy over the window (raw stacks)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # clean up on `kill` as on Ctrl-C
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when a shell started us in the background

    home = Path(tempfile.mkdtemp(prefix="bench-probes-"))
    env = {**os.environ, "MINIKUBELET_HOME": str(home), "MINIKUBELET_POD_INFRA_IMAGE": "minikubelet.local/pause:3.10"}
    try:
        up = cli(env, "up", timeout=60)
        if up.returncode:
            raise SystemExit(f"minikubelet up failed: {up.stderr}")
        pid = int((home / "daemon.pid").read_text())
        client = ApiClient(read_connection(NodePaths.from_env(str(home))), timeout=60)
        applied = cli(env, "apply", "-f", "-", stdin=manifest(args.pods, args.kind, args.probe, args.period))
        if applied.returncode:
            raise SystemExit(f"apply failed: {applied.stderr}")
        took = wait_all_up(client, args.pods, ready=args.kind == "readiness", timeout=600)
        window = f"settling {args.settle:.0f} s, measuring {args.seconds:.0f} s"
        print(f"{args.pods} pods up in {took:.1f} s; {window} ...", file=sys.stderr)
        # The last pods' start-up (both cores busy for Docker) still delays probes for a few seconds after every
        # pod is Ready; the load being measured is the steady one that follows.
        time.sleep(args.settle)
        window_start = time.time()
        cpu_before, wall_before = cpu_seconds(pid), time.monotonic()
        rss = [rss_mib(pid)]
        spy = None
        if args.py_spy:  # sampling from outside costs CPU on this machine too: profile runs are not measurement runs
            argv = [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid), "--format", "raw"]
            spy = subprocess.Popen([*argv, "--output", str(args.py_spy), "--nonblocking"], stdout=subprocess.DEVNULL)
        while time.monotonic() - wall_before < args.seconds:
            time.sleep(1)
            rss.append(rss_mib(pid))
        cpu = (cpu_seconds(pid) - cpu_before) / (time.monotonic() - wall_before) * 100
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        window_end = time.time()

        lateness: list[float] = []
        durations: list[float] = []
        failed = 0
        late_by_second: collections.Counter[int] = collections.Counter()  # attempts over 50 ms late, by due second
        for i in range(args.pods):
            for attempt in client.get(f"/api/v1/namespaces/default/pods/probed-{i:03d}/probes")["items"]:
                due = datetime.fromisoformat(attempt["due"].replace("Z", "+00:00")).timestamp()
                if attempt["manual"] or not window_start <= due <= window_end:  # the attempts scheduled in the window
                    continue
                lateness.append(attempt["latenessSeconds"] * 1000)
                if attempt["latenessSeconds"] > 0.05:
                    late_by_second[int(due - window_start)] += 1
                durations.append(attempt["durationSeconds"] * 1000)
                failed += attempt["result"] != "Success"
        client.close()
    finally:
        cli(env, "down", "--delete-pods", timeout=300)
        instance = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:12]
        leftovers = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=io.minikubelet.instance={instance}"], capture_output=True, text=True
        ).stdout.split()
        if leftovers:
            subprocess.run(["docker", "rm", "-f", *leftovers], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)

    if not lateness:
        raise SystemExit("no probe attempts were recorded in the window")
    lateness.sort()
    durations.sort()
    expected = args.pods * args.seconds / args.period
    figures: dict[str, Any] = {
        "pods": args.pods,
        "probe": f"{args.kind} {args.probe}",
        "period_s": args.period,
        "window_s": args.seconds,
        "attempts": len(lateness),
        "attempts_expected": round(expected),
        "failed_attempts": failed,
        "lateness_ms": {
            "min": lateness[0],
            "median": statistics.median(lateness),
            "p99": percentile(lateness, 0.99),
            "max": lateness[-1],
        },
        "within_50ms_pct": 100 * sum(v <= 50 for v in lateness) / len(lateness),
        "probe_duration_ms": {"median": statistics.median(durations), "p99": percentile(durations, 0.99)},
        "daemon_cpu_pct_of_one_core": cpu,
        "daemon_rss_mib": {"median": statistics.median(rss), "max": max(rss)},
        "late_attempts_by_second": dict(sorted(late_by_second.items())),
    }
    late = figures["lateness_ms"]
    print(f"pods {args.pods}, {args.kind} {args.probe} probe every {args.period} s, {args.seconds:.0f} s window")
    print(f"attempts            {len(lateness)} (expected ~{expected:.0f}), {failed} not successful")
    print(f"lateness ms         min {late['min']:.2f}  median {late['median']:.2f}  p99 {late['p99']:.2f}  max {late['max']:.2f}")
    print(f"within 50 ms        {figures['within_50ms_pct']:.2f} %")
    worst = ", ".join(f"{second} s: {count}" for second, count in late_by_second.most_common(5))
    print(f"most late attempts  {worst or 'none'} (second of the window: attempts due then that started over 50 ms late)")
    dur = figures["probe_duration_ms"]
    print(f"probe duration ms   median {dur['median']:.2f}  p99 {dur['p99']:.2f}")
    print(f"daemon CPU          {cpu:.1f} % of one core")
    print(f"daemon RSS MiB      median {figures['daemon_rss_mib']['median']:.1f}  max {figures['daemon_rss_mib']['max']:.1f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
