"""`minikubelet simulate -f pod.yml --behaviour '...'`: what the kubelet would do to a pod, on a virtual clock.

No kubectl counterpart, and no node or Docker needed: the real scheduler, kubelet and prober run on a simulated
engine (minikubelet.simulate), each container acting out its `--behaviour`. Prints the timeline picture (as
`minikubelet timeline` draws it), the Events a `describe` would list at the end, and the verdict; `--suggest` adds
the smallest probe settings that avoid the restarts, `-o json` gives it all to tools. Exit codes: 0, 2 for bad
input (manifest, flag, behaviour), 1 for a pod the API server would refuse.
"""

from __future__ import annotations

import concurrent.futures
import enum
import functools
import io
import json
import os
import shutil
import sys
import time
from datetime import UTC
from typing import TYPE_CHECKING, Annotated, Any

import typer

from minikubelet.cli.common import eprint

if TYPE_CHECKING:
    from minikubelet.simulate.engine import Simulation

__all__ = ["simulate_command"]


class Output(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


def simulate_command(
    filenames: Annotated[list[str], typer.Option("--filename", "-f", help="File, directory or '-' (stdin) holding the pod(s).")],
    behaviours: Annotated[
        list[str],
        typer.Option(
            "--behaviour",
            "-b",
            help="What a container does over time, e.g. 'app: listens after 90s; /healthz fails from 5m for 40s; "
            "exits 1 at 20m; 5% of probes time out' (docs/simulate.md). Once per container.",
        ),
    ] = [],  # noqa: B006  (typer reads the default; it is never mutated)
    duration: Annotated[str, typer.Option("--for", help="How much virtual time to run (Go duration: 90s, 10m, 1h).")] = "10m",
    seed: Annotated[int, typer.Option("--seed", help="Seed for the random parts (percentages, the kubelet's jitter).")] = 0,
    delete_after: Annotated[
        str, typer.Option("--delete-after", help="Delete the pod this long after its creation, as kubectl delete would.")
    ] = "",
    grace_period: Annotated[
        int | None, typer.Option("--grace-period", help="The deletion's grace period (default: the pod's).")
    ] = None,
    suggest: Annotated[
        bool,
        typer.Option(
            "--suggest", help="Also search the smallest startupProbe / failureThreshold / periodSeconds that avoid the restarts."
        ),
    ] = False,
    recursive: Annotated[bool, typer.Option("--recursive", "-R", help="Process directories under -f recursively.")] = False,
    output: Annotated[Output, typer.Option("--output", "-o", help="text, or json.")] = Output.TEXT,
) -> None:
    """Run pods on a virtual clock with the real kubelet and prober, and print what would happen."""
    from minikubelet.lint.timing import parse_go_duration
    from minikubelet.manifest import read_manifests
    from minikubelet.simulate.behaviour import BehaviourError, container_of, parse_behaviours

    def seconds(text: str, option: str) -> float:
        try:
            return parse_go_duration(text)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint=option) from None

    length = seconds(duration, "--for")
    if length <= 0:
        raise typer.BadParameter("must be longer than 0s", param_hint="--for")
    delete_at = seconds(delete_after, "--delete-after") if delete_after else None
    result = read_manifests(filenames, recursive=recursive)
    for line in result.error_lines():
        eprint(line)
    if result.errors or not result.objects:
        if not result.errors:
            eprint("error: no objects passed to simulate")
        raise typer.Exit(2)
    runs = []
    pods = [[c.name for c in [*loaded.obj.spec.init_containers, *loaded.obj.spec.containers]] for loaded in result.objects]
    anywhere = {name for names in pods for name in names}
    for loaded, names in zip(result.objects, pods, strict=True):
        # With several pods, a value naming a container of another pod only is for that pod.
        mine = [spec for spec in behaviours if container_of(spec) in (None, *names) or container_of(spec) not in anywhere]
        try:
            parsed = parse_behaviours(mine, names)
        except BehaviourError as exc:
            eprint(f"error: {exc}")
            raise typer.Exit(2) from None
        runs.append((loaded.source, loaded.raw, parsed))
    job = functools.partial(
        _run_one, length=length, seed=seed, delete_at=delete_at, grace=grace_period, suggest=suggest, text=output is Output.TEXT
    )
    if len(runs) == 1:
        results = [job(runs[0])]
    else:  # pods are simulated independently: one process per core
        with concurrent.futures.ProcessPoolExecutor(max_workers=min(len(runs), os.cpu_count() or 1)) as pool:
            results = list(pool.map(job, runs))
    for text, _ in results:
        if output is Output.TEXT:
            typer.echo(text, nl=False)
    if output is Output.JSON:
        reports = [report for _, report in results]
        typer.echo(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2, ensure_ascii=False))


def _run_one(
    run: tuple[str, dict[str, Any], Any],
    *,
    length: float,
    seed: int,
    delete_at: float | None,
    grace: int | None,
    suggest: bool,
    text: bool,
) -> tuple[str, dict[str, Any]]:
    """One pod's simulation: its text (when asked for) and its JSON report."""
    from minikubelet.simulate.engine import simulate
    from minikubelet.simulate.report import to_json
    from minikubelet.simulate.suggest import suggest as search

    _, raw, behaviours = run
    started = time.perf_counter()
    sim = simulate(raw, behaviours, duration=length, seed=seed, delete_at=delete_at, delete_grace=grace)
    wall = time.perf_counter() - started
    found, notes = search(raw, behaviours, sim, duration=length, seed=seed) if suggest else (None, None)
    shown = _text(sim, seed=seed, wall=wall, suggestions=found, notes=notes) if text else ""
    return shown, to_json(sim, seed=seed, suggestions=found, notes=notes)


def _text(sim: Simulation, *, seed: int, wall: float, suggestions: Any, notes: list[str] | None) -> str:
    """The timeline picture, the Events and the verdict, as the terminal will show them (coloured on a terminal)."""
    from rich.console import Console
    from rich.text import Text

    from minikubelet.cli.timeline import render
    from minikubelet.printing.describe import describe_events
    from minikubelet.printing.durations import go_duration
    from minikubelet.printing.timeline import build_timeline
    from minikubelet.simulate.report import verdict_lines

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        highlight=False,
        soft_wrap=False,
        force_terminal=sys.stdout.isatty(),
        width=shutil.get_terminal_size().columns,
    )
    meta = sim.pod.get("metadata") or {}
    console.print(
        Text(
            f"Simulated pod/{meta.get('name', '')} for {go_duration(round(sim.duration))} of virtual time "
            f"(seed {seed}) in {wall:.2f}s",
            style="bold",
        )
    )
    console.print()
    render(build_timeline(sim.pod, sim.attempts, sim.transitions, now=sim.end), console, tz=UTC)
    console.print()
    buffer.write(describe_events(sim.event_objects, now=sim.end))  # as describe prints it: not wrapped
    console.print()
    console.print(Text("Verdict:", style="bold"))
    for line in verdict_lines(sim):
        buffer.write(line + "\n")
    if suggestions is not None:
        console.print()
        console.print(Text("Suggestions:", style="bold"))
        for line in [*(notes or []), *(s.text for s in suggestions)] or ["nothing to change: no container was restarted"]:
            buffer.write(f"  {line}\n")
    return buffer.getvalue()
