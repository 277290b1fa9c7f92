"""`minikubelet timeline`: a pod's containers over time, for seeing what probes do.

No kubectl counterpart. It reads the pod, the prober's attempts (`.../pods/<name>/probes`) and the kubelet's
record of each container's state changes (`.../pods/<name>/lifecycle`), then draws, per container, its
states (waiting with the reason, running, exited), the kills and restarts, and one lane per probe kind with
every attempt as a mark, the attempt that crossed a threshold set apart; a time axis in seconds and wall
clock, a legend, and the story in words under it. `--output x.svg` (or `x.html`) writes the same picture as
a file instead. The layout is `printing/timeline.py`; only the colouring (rich) is here.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from minikubelet.api.podutil import container_names
from minikubelet.api.wire import Pod
from minikubelet.cli.common import connect, eprint, one_pod_name, parse_duration
from minikubelet.client import resource_path
from minikubelet.printing.render import escape_terminal
from minikubelet.printing.timeline import (
    GLYPHS,
    LEGEND,
    ContainerTimeline,
    Timeline,
    axis_rows,
    build_timeline,
    clock,
    format_offset,
    glyph_rows,
    story,
    to_html,
    to_svg,
)

if TYPE_CHECKING:  # rich is imported when the picture is drawn, not when the CLI starts
    from rich.console import Console

__all__ = ["render", "timeline_command"]

LABEL = 10  # the width of the row labels ("readiness" and a space)
STORY_LINES = 60  # the story shows its last lines only

STYLES = {
    "running": "green",
    "waiting": "yellow",
    "backoff": "dark_orange",
    "exited": "bold red",
    "killing": "bold red",
    "restart": "bold blue",
    "success": "green",
    "failure": "red",
    "warning": "yellow",
    "unknown": "magenta",
    "crossed-failure": "bold white on red",
    "crossed-success": "bold white on green",
}
_STORY_STYLES = {"killing": "bold red", "terminated": "red", "running": "green", "waiting": "yellow", "restart": "blue"}


def timeline_command(
    args: Annotated[list[str], typer.Argument(help="POD, pod/POD or pod POD")],
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="The namespace.")] = "default",
    container: Annotated[str, typer.Option("--container", "-c", help="Only this container.")] = "",
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the picture to this file (.svg or .html) instead of the terminal.")
    ] = None,
    since: Annotated[str, typer.Option("--since", help="Only the last DURATION (30s, 5m, 1h).")] = "",
) -> None:
    """Draw a pod's containers over time: states, every probe attempt, kills, restarts and back-offs."""
    name = one_pod_name(args)
    window = parse_duration(since, "--since") if since else None
    if output is not None and output.suffix.lower() not in (".svg", ".html", ".htm"):
        raise typer.BadParameter(f"the file name must end in .svg or .html: {output}", param_hint="--output")
    with connect() as client:
        pod: Pod = client.get(resource_path("pods", namespace, name))
        every = container_names(pod, ephemeral=False)
        if container and container not in every:
            eprint(f"error: container {container} is not valid for pod {name}")
            raise typer.Exit(1)
        attempts = client.get(resource_path("pods", namespace, name, "probes"))["items"]
        transitions = client.get(resource_path("pods", namespace, name, "lifecycle"))["items"]
    timeline = build_timeline(pod, attempts, transitions, now=datetime.now(UTC), container=container, since=window)
    tz = datetime.now().astimezone().tzinfo  # wall clock in local time, as describe shows it
    if output is None:
        from rich.console import Console

        render(timeline, Console(highlight=False, soft_wrap=False), tz=tz)
        return
    if output.suffix.lower() == ".svg":
        output.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + to_svg(timeline, tz=tz) + "\n", encoding="utf-8")
    else:
        output.write_text(to_html(timeline, tz=tz), encoding="utf-8")
    eprint(f"timeline of pod/{name} written to {output}")




def render(timeline: Timeline, console: Console, *, tz: tzinfo | None = None) -> None:
    """The picture in the terminal: each container's rows, the axis, the legend, then the story."""
    from rich.text import Text

    width = max(20, min(console.width - LABEL - 2, 200))
    start, stop = timeline.wall(0, tz), timeline.wall(timeline.end, tz)
    head = Text(f"pod {timeline.namespace}/{timeline.pod}", style="bold")
    head.append(f"   {start:%Y-%m-%d %H:%M:%S} → {stop:%H:%M:%S}  ({format_offset(timeline.end)[1:]})", style="dim")
    console.print(head)
    for c in timeline.containers:
        console.print()
        _render_container(console, c, timeline, width, tz)
    console.print()
    _render_legend(console)
    _render_story(console, timeline, tz)


def _render_container(console: Console, c: ContainerTimeline, timeline: Timeline, width: int, tz: tzinfo | None) -> None:
    from rich.text import Text

    restarts = f" · {c.restarts} restart{'s' if c.restarts != 1 else ''}" if c.restarts else ""
    console.print(Text(f"container {c.name}{restarts}", style="bold"))
    for label, cells in glyph_rows(c, width=width, end=timeline.end):
        line = Text(f"{label:>{LABEL}}  ", style="dim")
        for cls in cells:
            line.append(GLYPHS.get(cls, " "), style=STYLES.get(cls, ""))
        console.print(line, no_wrap=True, crop=True)
    if not c.spans and not any(lane.marks for lane in c.lanes):
        console.print(Text(f"{'':>{LABEL}}  nothing recorded yet", style="dim"))
    ticks, relative, wall = axis_rows(timeline, width=width, tz=tz)
    for label, text in (("", ticks), ("seconds", relative), ("clock", wall)):
        console.print(Text(f"{label:>{LABEL}}  {text}", style="dim"), no_wrap=True, crop=True)
    for lane in c.lanes:
        n = lane.counts()
        console.print(Text(f"{lane.kind:>{LABEL}}  ", style="dim") + Text(lane.probe or "not in the spec"))
        line = Text(" " * (LABEL + 2) + f"{n['Success']} success, ", style="dim")
        line.append(f"{n['Failure']} failure", style="red" if n["Failure"] else "dim")
        line.append(f", {n['Warning']} warning, {n['Unknown']} errored, ", style="dim")
        line.append(f"{n['crossings']} crossings", style="bold" if n["crossings"] else "dim")
        console.print(line)
    if not c.lanes:
        console.print(Text(f"{'':>{LABEL}}  no probes in the spec", style="dim"))


def _render_legend(console: Console) -> None:
    from rich.text import Text

    line = Text(f"{'legend':>{LABEL}}  ", style="dim")
    for cls, meaning in LEGEND.items():
        if len(line) + len(meaning) + 2 > console.width:
            console.print(line)
            line = Text(" " * (LABEL + 2))
        line.append(GLYPHS[cls], style=STYLES[cls])
        line.append(f" {meaning}   ")
    console.print(line)


def _render_story(console: Console, timeline: Timeline, tz: tzinfo | None) -> None:
    from rich.text import Text

    moments = story(timeline)
    console.print()
    console.print(Text("what happened", style="bold"))
    if len(moments) > STORY_LINES:
        console.print(
            Text(f"  ({len(moments) - STORY_LINES} earlier moments not shown; --since narrows the window)", style="dim")
        )
        moments = moments[-STORY_LINES:]
    for m in moments:
        line = Text(f"  {format_offset(m.at):>9}  {clock(timeline, m.at, tz)}  ", style="dim")
        line.append(f"{m.container}  ")
        line.append(escape_terminal(m.text), style=_story_style(m.kind, m.text))
        console.print(line)
    if not moments:
        console.print(Text("  nothing recorded yet", style="dim"))


def _story_style(kind: str, text: str) -> str:
    if kind == "crossing":
        return "bold red" if text.endswith("Failure") else "bold green"
    if kind == "probe":
        return "green" if " probe Success" in text else "red" if " probe Failure" in text else "magenta"
    return _STORY_STYLES.get(kind, "")
