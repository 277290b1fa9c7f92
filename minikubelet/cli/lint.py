"""`minikubelet lint -f pod.yml`: offline checks of a manifest's probes, restarts and ports (docs/lint.md).

No kubectl counterpart, and no node needed. Exit codes: 0 when no finding is a warning or an error, 1 when one is,
2 for bad input (a manifest that cannot be read or parsed, a bad flag), printed as `apply -f` prints it. The
checks live in minikubelet.lint; this module only reads the flags and prints.
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from minikubelet.cli.common import eprint

if TYPE_CHECKING:  # minikubelet.lint (pydantic, the schemas) is imported when the command runs
    from minikubelet.kubelet.start_records import StartRecords
    from minikubelet.lint import Finding

__all__ = ["lint_command"]


class Output(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


def lint_command(
    filenames: Annotated[
        list[str], typer.Option("--filename", "-f", help="File, directory or '-' (stdin) holding the manifests.")
    ],
    recursive: Annotated[bool, typer.Option("--recursive", "-R", help="Process directories under -f recursively.")] = False,
    starts_within: Annotated[
        str,
        typer.Option(
            "--starts-within",
            help="How long the containers may take to start (Go duration: 90s, 2m, 1m30s): warn when a liveness "
            "or startup probe can kill them sooner.",
        ),
    ] = "",
    check_images: Annotated[
        bool,
        typer.Option(
            "--check-images",
            help="Also look for exec probes' and hooks' programs in the local images (asks Docker; nothing is pulled "
            "or run; skipped when Docker does not answer).",
        ),
    ] = False,
    records: Annotated[
        str,
        typer.Option(
            "--records",
            help="The start record to check liveness probes against (rule slow-start-image): how long each image "
            "took to start on a node. Default: the node's own (start-records.json in $MINIKUBELET_HOME or "
            "~/.minikubelet), when it has one.",
        ),
    ] = "",
    output: Annotated[Output, typer.Option("--output", "-o", help="text, or json: a list of findings.")] = Output.TEXT,
) -> None:
    """Check pod manifests' probes offline: kill windows, timeouts, ports, and the Kubernetes v1.37 schema."""
    from minikubelet.lint import RuleOptions, lint_sources, parse_go_duration, read_sources

    start: float | None = None
    if starts_within:
        try:
            start = parse_go_duration(starts_within)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--starts-within") from None
    image_check = None
    if check_images:
        from minikubelet.daemon import local_image_files
        from minikubelet.lint.images import image_check as check_with

        files = local_image_files()
        image_check = check_with(files) if files is not None else None
    start_records = _start_records(records)
    sources, errors = read_sources(filenames, recursive=recursive)
    result = lint_sources(sources, RuleOptions(starts_within=start, start_records=start_records), image_check)
    errors += result.errors
    if output is Output.JSON:
        typer.echo(json.dumps([finding.to_json() for finding in result.findings], indent=2, ensure_ascii=False))
    else:
        _print_text(result.objects, result.findings)
    for error in errors:
        for line in error.lines():
            eprint(line)
    if errors or not result.objects:
        if not errors:
            eprint("error: no objects passed to lint")
        raise typer.Exit(2)
    if any(finding.severity != "info" for finding in result.findings):
        raise typer.Exit(1)


def _start_records(explicit: str) -> StartRecords | None:
    """The record `--records` names (bad parameter when it cannot be read), else the node's own when it has one
    (a warning, and no record, when it cannot be read)."""
    from minikubelet.kubelet.start_records import StartRecordsError, load
    from minikubelet.node.paths import NodePaths

    path = Path(explicit) if explicit else NodePaths.from_env().start_records
    try:
        return load(path)
    except FileNotFoundError:
        if explicit:
            raise typer.BadParameter(f"{explicit}: no such file", param_hint="--records") from None
        return None
    except StartRecordsError as exc:
        if explicit:
            raise typer.BadParameter(str(exc), param_hint="--records") from None
        eprint(f"warning: the node's start record is not used (rule slow-start-image): {exc}")
        return None


def _print_text(objects: list[tuple[str, str]], findings: list[Finding]) -> None:
    by_object: dict[tuple[str, str], list[Finding]] = {key: [] for key in objects}
    for finding in findings:
        by_object.setdefault((finding.source, finding.object), []).append(finding)
    for (source, label), found in by_object.items():
        if not found:
            typer.echo(f"{source}: {label}: nothing found")
            continue
        typer.echo(f"{source}: {label}")
        for finding in found:
            typer.echo(finding.line())
