"""`minikubelet`: the typer app, its commands, and the one place errors become exit codes.

Exit codes as kubectl: 0 success, 1 any error we raise on purpose (`MinikubeletError`, printed without
a traceback), 2 usage errors (typer's own).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from minikubelet.cli import apply, version
from minikubelet.errors import MinikubeletError

app = typer.Typer(
    name="minikubelet",
    help="A single-node Kubernetes pod runtime on the local Docker engine, with the kubelet's exact semantics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.command("apply")(apply.apply_command)
app.command("version")(version.version_command)


@contextmanager
def _errors_to_exit_codes() -> Iterator[None]:
    try:
        yield
    except MinikubeletError as exc:
        sys.stderr.write(f"error: {exc}\n" if "\n" not in str(exc) else f"{exc}\n")
        raise SystemExit(1) from None


def main() -> None:
    """Console entry point."""
    with _errors_to_exit_codes():
        app()
