"""minikubelet against raw Docker and podman: pod start, peer, cold start, burst, probe load, CLI latency and
liveness reaction, each with its target (the benchmarks issue). `make bench` runs it with `--write-docs`.

Each scenario with a baseline runs both sides in the same run, alternating, `--reps` times after one
unrecorded warm-up of each. It prints a table per scenario and a summary; `--write-docs` rewrites its
section of docs/benchmarks.md (machine, versions, date, load, min/median/p99, ratios). With
`--profile-missed`, every scenario whose target was missed runs again (`--profile-reps` times) under py-spy,
and the profile's top findings go into the table and the docs.

Everything it makes (a node in a temporary home, Docker containers labelled with the run, a podman store of
its own) is removed at the end, also on Ctrl-C or SIGTERM.

Run: `.venv/bin/python benchmarks/bench_suite.py [--reps 10] [--only pod-start,burst] [--write-docs]` after
`make install docker images` and `scripts/ensure-podman.sh`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import bench_verdict
import report
import scenarios
from harness import RUN_ID, Cleanup, log
from scenarios import Context, Result

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
ORDER = ("cold-start", "pod-start", "peer", "burst", "cli", "liveness", "kubectl", "simulate", "test-verdict", "probe-load")
HEAVY = ("burst", "probe-load")  # profiled over one repetition only


def runners(args: argparse.Namespace) -> dict[str, Callable[[Context], Result]]:
    probe_pods = [int(n) for n in args.probe_pods.split(",")]
    return {
        "cold-start": scenarios.cold_start,
        "pod-start": scenarios.pod_start,
        "peer": scenarios.peer,
        "burst": lambda ctx: scenarios.burst(ctx, args.burst_pods),
        "cli": lambda ctx: scenarios.cli_latency(ctx, args.cli_pods),
        "liveness": scenarios.liveness,
        "kubectl": scenarios.kubectl_waits,
        "simulate": scenarios.simulate_speed,
        "test-verdict": bench_verdict.test_verdict,
        "probe-load": lambda ctx: scenarios.probe_load(
            ctx, probe_pods, min(args.probe_seconds, 20) if ctx.profile else args.probe_seconds
        ),
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=10, help="repetitions per side (default 10)")
    parser.add_argument("--only", default=",".join(ORDER), help=f"comma-separated scenarios (default all: {','.join(ORDER)})")
    parser.add_argument("--burst-pods", type=int, default=100)
    parser.add_argument("--cli-pods", type=int, default=100)
    parser.add_argument(
        "--probe-pods", default="200,100", help="pod counts to try, the first the machine holds (at most the node's 110)"
    )
    parser.add_argument("--probe-seconds", type=float, default=60)
    parser.add_argument("--profile-missed", action="store_true", help="re-run missed targets under py-spy")
    parser.add_argument("--profile-reps", type=int, default=3)
    parser.add_argument("--write-docs", nargs="?", const=DOCS, type=Path, help=f"rewrite the suite's section of {DOCS}")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args()
    unknown = set(args.only.split(",")) - set(ORDER)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    return args


def attempt(name: str, scenario: Callable[[Context], Result], ctx: Context) -> Result:
    """Run one scenario; one that fails (a timeout, an error) is reported as failed and the run goes on."""
    try:
        return scenario(ctx)
    except (Exception, SystemExit) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        log(f"--- {name} FAILED: {message}")
        if ctx._node is not None:  # what the scenario left on the shared node
            with contextlib.suppress(Exception, SystemExit):
                ctx._node.delete_pods("bench", timeout=600)
        return Result(
            key=name, title=name, method="", series=[], target="-", verdict=f"failed: {message}", met=None, notes=[message]
        )


def stop_shared_node(ctx: Context) -> None:
    """The probe load brings its own node: stop the shared one first, so that it does not compete."""
    if ctx._node is not None:
        ctx._node.down()
        ctx._node = None


def main() -> None:
    args = parse_args()
    selected = [name for name in ORDER if name in args.only.split(",")]
    run = runners(args)
    info: dict[str, Any] = {"load_before": report.load_average(), "other_containers": report.other_containers()}
    info |= report.machine()
    log(f"bench run {RUN_ID}: {', '.join(selected)}; {args.reps} repetitions; load {info['load_before'][0]:.2f}")
    results: list[Result] = []
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{RUN_ID}-"))
    with Cleanup() as stack:
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        ctx = Context(stack=stack, workdir=workdir, reps=args.reps)
        for name in selected:
            if name == "probe-load":
                stop_shared_node(ctx)
            started = time.monotonic()
            log(f"--- {name} ...")
            result = attempt(name, run[name], ctx)
            log(f"--- {name} took {time.monotonic() - started:.0f} s")
            report.print_result(result)
            results.append(result)
        if args.profile_missed:
            for result in results:
                if result.met is False:
                    name = result.key
                    log(f"--- {name}: target missed, profiling {args.profile_reps} more repetitions under py-spy ...")
                    if name == "probe-load":
                        stop_shared_node(ctx)
                    reps = 1 if name in HEAVY else args.profile_reps
                    profiled = attempt(name, run[name], replace(ctx, reps=reps, profile=True))
                    result.profile = profiled.profile
                    report.print_profile(result)
                    if profiled.profile is not None:
                        result.notes.append(f"profiled over {reps} further repetition(s), not counted above")
    info["load_after"] = report.load_average()
    info["shared"] = info["load_before"][0] > 0.5 or info["other_containers"] > 0
    report.print_summary(results)
    print(f"\nload average before {info['load_before']}, after {info['load_after']}")
    if args.write_docs:
        report.write_docs(args.write_docs, report.section(results, info, args.reps))
        log(f"wrote {args.write_docs}")
    if args.json:
        payload = {"machine": info, "results": [_json(r) for r in results]}
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")


def _json(result: Result) -> dict[str, Any]:
    data = asdict(result)
    data["series"] = [s.summary() | {"values": s.values} for s in result.series]
    data["profile"] = result.profile.summary if result.profile is not None else None
    return data


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
