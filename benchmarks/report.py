"""The suite's output: the machine it ran on, a table on the terminal, and its section of docs/benchmarks.md.

The section is written between two markers; everything outside them (the probe accuracy write-up, the
profile findings) is left as it is. Without the markers yet, the section goes before the first `## ` heading.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scenarios import KUBECTL, Result

import minikubelet

BEGIN = "<!-- make bench: begin (written by benchmarks/bench_suite.py; edit outside these markers) -->"
END = "<!-- make bench: end -->"


def _run(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def other_containers() -> int:
    """Running Docker containers, counted before the suite makes any."""
    return len(_run(["docker", "ps", "-q"]).split())


def machine() -> dict[str, Any]:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = 0.0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = int(line.split()[1]) / 1024 / 1024
    kubectl = ""
    with contextlib.suppress(ValueError, KeyError):
        kubectl = json.loads(_run([KUBECTL, "version", "--client", "-o", "json"]) or "{}")["clientVersion"]["gitVersion"]
    commit = _run(["git", "-C", str(Path(__file__).parents[1]), "rev-parse", "--short", "HEAD"])
    dirty = bool(_run(["git", "-C", str(Path(__file__).parents[1]), "status", "--porcelain", "--untracked-files=no"]))
    podman = _run(["podman", "version", "--format", "{{.Client.Version}}"])
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{os.cpu_count()} x {cpu}",
        "memory_gib": round(memory, 1),
        "kernel": platform.release(),
        "docker": _run(["docker", "version", "--format", "{{.Server.Version}}"]),
        "podman": podman,
        "kubectl": kubectl,
        "python": platform.python_version(),
        "minikubelet": f"{minikubelet.__version__} ({commit}{', with uncommitted changes' if dirty else ''})",
    }


# --- the terminal -------------------------------------------------------------------------------------------------


def _cells(result: Result) -> list[list[str]]:
    rows = []
    for series in result.series:
        s = series.summary()
        if not s["n"]:
            continue
        ratio = ""
        if result.baseline is not None and series.label == result.subject:
            baseline = next(x for x in result.series if x.label == result.baseline)
            ratio = f"{series.median / baseline.median:.2f}x"
        rows.append([series.label, str(s["n"]), f"{s['min']:.0f}", f"{s['median']:.0f}", f"{s['p99']:.0f}", ratio])
    return rows


def _status(result: Result) -> str:
    return {True: "met", False: "MISSED", None: "-"}[result.met]


def print_result(result: Result) -> None:
    out = sys.stdout
    print(f"\n== {result.title}", file=out)
    rows = [["", "n", "min ms", "median ms", "p99 ms", "vs baseline"], *_cells(result)]
    if len(rows) == 1:
        rows = []
    widths = [max((len(r[i]) for r in rows), default=0) for i in range(6)]
    for row in rows:
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))))
    for note in result.notes:
        print(f"  {note}")
    print(f"  target: {result.target}; measured: {result.verdict} -> {_status(result)}")


def print_profile(result: Result) -> None:
    for line in _profile(result):
        print(f"  {line}" if line else "")


def print_summary(results: list[Result]) -> None:
    print("\n== Summary")
    for result in results:
        print(f"  {_status(result):6}  {result.title}: {result.verdict}  (target: {result.target})")


# --- docs/benchmarks.md ----------------------------------------------------------------------------------------------


def _table(result: Result) -> list[str]:
    rows = _cells(result)
    if not rows:
        return []
    lines = ["| | n | min ms | median ms | p99 ms | ratio to baseline |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return [*lines, ""]


def _probe_table(figures: dict[str, Any]) -> list[str]:
    late, duration, rss = figures["lateness_ms"], figures["probe_duration_ms"], figures["daemon_rss_mib"]
    return [
        "| figure | value |",
        "| --- | --- |",
        f"| attempts in the window | {figures['attempts']} (expected ~{figures['attempts_expected']}), "
        f"{figures['failed_attempts']} not successful |",
        f"| lateness min / median / p99 / max | {late['min']:.2f} / {late['median']:.2f} / {late['p99']:.2f} / "
        f"{late['max']:.2f} ms |",
        f"| attempts within 50 ms of their schedule | {figures['within_50ms_pct']:.2f} % |",
        f"| probe duration median / p99 (HTTP round trip) | {duration['median']:.2f} / {duration['p99']:.2f} ms |",
        f"| daemon CPU | {figures['daemon_cpu_pct_of_one_core']:.1f} % of one core |",
        f"| daemon RSS median / max | {rss['median']:.1f} / {rss['max']:.1f} MiB |",
        "",
    ]


def _profile(result: Result) -> list[str]:
    profile = result.profile
    if profile is None:
        return []
    if profile.error and not profile.summary:
        return [f"Profile: could not be taken ({profile.error.strip().splitlines()[-1] if profile.error.strip() else '?'}).", ""]
    summary = profile.summary
    if not summary:
        return []
    busy = f"{summary['samples']} samples, {summary['busy_seconds']:.1f} s of busy threads"
    lines = [f"Profile of minikubelet's side (py-spy, {busy}), top findings:", ""]
    lines += [f"- self: `{frame}` {share:.1f} %" for frame, share in summary["self"][:6]]
    lines += [f"- on the stack: `{frame}` {share:.1f} %" for frame, share in summary["inclusive"][:8]]
    return [*lines, ""]


def section(results: list[Result], info: dict[str, Any], reps: int) -> str:
    before, after = info["load_before"], info["load_after"]
    lines = [
        BEGIN,
        "## Against raw Docker and podman (`make bench`)",
        "",
        "`make bench` runs `benchmarks/bench_suite.py`, which prints these tables and rewrites this section. "
        f"Each scenario with a baseline runs both sides in the same run, alternating which goes first, {reps} "
        "repetitions each after one unrecorded warm-up of each side; with so few repetitions p99 is the slowest one.",
        "",
        f"Measured {info['date']}: {info['cpu']}, {info['memory_gib']} GiB RAM, Linux {info['kernel']}; "
        f"Docker Engine {info['docker']}, podman {info['podman']} (runc, cgroupfs), kubectl {info['kubectl']}, "
        f"Python {info['python']}, minikubelet {info['minikubelet']}.",
        "",
        f"Load average (1 / 5 / 15 min) before the run: {before[0]:.2f} / {before[1]:.2f} / {before[2]:.2f}, "
        f"after: {after[0]:.2f} / {after[1]:.2f} / {after[2]:.2f}; {info['other_containers']} other containers "
        "were running when it began.",
    ]
    if info["shared"]:
        lines += [
            "**The machine was busy during this run** (a 1-minute load average above 0.5 before the run, "
            "or other containers running): these figures are noisy and pessimistic; compare them with a run "
            "on a quiet machine."
        ]
    lines += ["", "| scenario | target | measured | |", "| --- | --- | --- | --- |"]
    lines += [f"| {r.title} | {r.target} | {r.verdict} | {_status(r)} |" for r in results]
    lines.append("")
    for number, result in enumerate(results, 1):
        lines += [f"### {number}. {result.title}", "", result.method, ""]
        lines += _table(result)
        if "figures" in result.extra:
            lines += _probe_table(result.extra["figures"])
        if "importtime" in result.extra:
            importtime = result.extra["importtime"]
            heaviest = ", ".join(f"`{name}` {ms:.0f} ms" for name, ms in importtime["top"][:8])
            total = importtime["total_ms"]
            lines += [f"Import time of `python -m minikubelet get pods`: {total:.0f} ms; heaviest: {heaviest}.", ""]
        lines += [f"- {note}" for note in result.notes]
        if result.notes:
            lines.append("")
        lines += [f"Target: {result.target}. Measured: {result.verdict}: **{_status(result)}**.", ""]
        lines += _profile(result)
    lines.append(END)
    return "\n".join(lines) + "\n"


def write_docs(path: Path, text: str) -> None:
    """Replace the marked section of `path`, or insert it before the first `## ` heading."""
    current = path.read_text() if path.exists() else "# Benchmarks\n\n"
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text, current, count=1)
    else:
        at = current.find("\n## ")
        updated = current + "\n" + text if at < 0 else current[: at + 1] + text + "\n" + current[at + 1 :]
    path.write_text(updated)
