"""`minikubelet`: the typer app, its commands, and the one place errors become exit codes.

Exit codes as kubectl: 0 success, 1 any error we raise on purpose (`MinikubeletError`, printed to
stderr without a traceback), 2 usage errors (typer's own). Bugs keep their tracebacks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from minikubelet.cli import apply, version
from minikubelet.errors import InvalidError, ManifestError, MinikubeletError

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="minikubelet",
    help="A single-node Kubernetes pod runtime on the local Docker engine, with the kubelet's exact semantics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _exit_1_on_our_errors(command: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (InvalidError, ManifestError) as exc:
            typer.echo(str(exc), err=True)  # already kubectl's words: 'The Pod "x" is invalid: ...'
            raise typer.Exit(1) from None
        except MinikubeletError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None

    return run


app.command("apply")(_exit_1_on_our_errors(apply.apply_command))
app.command("version")(_exit_1_on_our_errors(version.version_command))


def main() -> None:
    """Console entry point."""
    app()
