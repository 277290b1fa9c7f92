"""`minikubelet apply -f PATH`: validate manifests and (with the node) create or update their objects."""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from minikubelet.errors import MinikubeletError


class DryRun(enum.StrEnum):
    NONE = "none"
    CLIENT = "client"
    SERVER = "server"


def apply_command(
    filenames: Annotated[
        list[str],
        typer.Option("--filename", "-f", help="File, directory or '-' (stdin) holding the manifests to apply."),
    ],
    dry_run: Annotated[
        DryRun,
        typer.Option("--dry-run", help="'client': only validate and print what would be applied; needs no node."),
    ] = DryRun.NONE,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-R", help="Process directories under -f recursively.")
    ] = False,
) -> None:
    """Apply a configuration to pods by file name or stdin (YAML or JSON)."""
    from minikubelet.manifest import read_manifests

    result = read_manifests(filenames, recursive=recursive)
    if dry_run is not DryRun.CLIENT and not result.errors:
        raise MinikubeletError(
            "applying to a node needs the node daemon, which this version does not have yet; "
            "use --dry-run=client to validate manifests"
        )
    for loaded in result.objects:
        typer.echo(f"pod/{loaded.obj.metadata.name or loaded.obj.metadata.generate_name} created (dry run)")
    for line in result.error_lines():
        typer.echo(line, err=True)
    if result.errors:
        raise typer.Exit(1)
    if not result.objects:
        typer.echo("error: no objects passed to apply", err=True)
        raise typer.Exit(1)
