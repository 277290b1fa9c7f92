"""`minikubelet`: the typer app, its commands, and the one place errors become exit codes.

Exit codes as kubectl: 0 success, 1 any error we raise on purpose (printed to stderr in kubectl's words,
without a traceback), 2 usage errors (typer's own). An unknown command gets kubectl's "Did you mean
this?". Bugs keep their tracebacks.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar

import typer

from minikubelet.errors import InvalidError, ManifestError, MinikubeletError, StatusError

P = ParamSpec("P")
R = TypeVar("R")

HELP = "A single-node Kubernetes pod runtime on the local Docker engine, with the kubelet's exact semantics."

# Every command: its name, and the module and function under minikubelet.cli that implement it. A command's
# module is imported only when that command runs (or for the full help): each one brings its own libraries
# (websockets for exec, asyncio for port-forward, PyYAML for apply, ...), and a CLI command is a fresh
# interpreter whose start-up is most of `get pods`'s time (docs/benchmarks.md).
COMMANDS: dict[str, tuple[str, str]] = {
    "apply": ("apply", "apply_command"),
    "create": ("apply", "create_command"),
    "run": ("run", "run_command"),
    "get": ("get", "get_command"),
    "describe": ("describe", "describe_command"),
    "delete": ("delete", "delete_command"),
    "wait": ("wait", "wait_command"),
    "logs": ("logs", "logs_command"),
    "exec": ("exec", "exec_command"),
    "port-forward": ("port_forward", "port_forward_command"),
    "timeline": ("timeline", "timeline_command"),
    "why": ("why", "why_command"),
    "lint": ("lint", "lint_command"),
    "simulate": ("simulate", "simulate_command"),
    "test": ("test", "test_command"),
    "up": ("node", "up_command"),
    "down": ("node", "down_command"),
    "status": ("node", "status_command"),
    "kubeconfig": ("node", "kubeconfig_command"),
    "version": ("version", "version_command"),
}


def build_app(names: Iterable[str] = COMMANDS) -> typer.Typer:
    """The typer app with the named commands (all of them by default)."""
    app = typer.Typer(name="minikubelet", help=HELP, no_args_is_help=True, pretty_exceptions_show_locals=False)
    app.callback()(_group)  # a group even with one command: `minikubelet get pods`, never `minikubelet pods`
    for name in names:
        module, function = COMMANDS[name]
        command = getattr(importlib.import_module(f"minikubelet.cli.{module}"), function)
        app.command(name)(_exit_1_on_our_errors(command))
    return app


def _group() -> None:
    pass


def _exit_1_on_our_errors(command: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(command)
    def run_command(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (InvalidError, ManifestError) as exc:
            typer.echo(str(exc), err=True)  # already kubectl's words: 'The Pod "x" is invalid: ...'
        except StatusError as exc:
            from minikubelet.cli.common import format_status_error

            typer.echo(format_status_error(exc), err=True)
        except MinikubeletError as exc:
            typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1)

    return run_command


def main() -> None:
    """Console entry point: builds the app with only the command being run (all of them for the help)."""
    argv = sys.argv[1:]
    _suggest_for_unknown_command(argv)
    app = build_app([argv[0]] if argv and argv[0] in COMMANDS else COMMANDS)
    sys.argv[1:] = _kubectl_booleans(argv, app)
    app()


@functools.cache
def __getattr__(name: str) -> Any:
    """`app`, with every command, built on first use (tests drive it with typer's CliRunner)."""
    if name == "app":
        return build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _kubectl_booleans(argv: list[str], app: typer.Typer | None = None) -> list[str]:
    """kubectl's boolean flags also take a value (`--wait=false`, `--show-labels=true`); click's take none.
    Rewrite `--flag=true` to `--flag` and `--flag=false` to `--no-flag` (or to nothing when there is no
    `--no-` form), for the boolean flags of the command being run, before `--`."""
    if not argv or not any(a.lower().endswith(("=true", "=false")) for a in argv):
        return argv
    if app is None:
        app = build_app([argv[0]] if argv[0] in COMMANDS else ())
    commands: dict[str, Any] = getattr(typer.main.get_command(app), "commands", {})  # built only now: it costs time
    params: list[Any] = getattr(commands.get(argv[0]), "params", [])
    flags: dict[str, list[str]] = {
        name: list(getattr(option, "secondary_opts", []))
        for option in params
        if getattr(option, "is_flag", False)
        for name in option.opts
    }
    out: list[str] = []
    for index, arg in enumerate(argv):
        if arg == "--":
            return out + argv[index:]
        name, _, value = arg.partition("=")
        if name in flags and value.lower() in ("true", "false"):
            if value.lower() == "true":
                out.append(name)
            elif flags[name]:
                out.append(flags[name][0])
            continue
        out.append(arg)
    return out


def _suggest_for_unknown_command(argv: list[str]) -> None:
    """kubectl's answer to a typo (`desribe` -> `Did you mean this? describe`), exit 1."""
    name = argv[0] if argv else ""
    commands = list(COMMANDS)
    if not name or name.startswith("-") or name in commands:
        return
    import difflib

    close = difflib.get_close_matches(name, commands, n=1, cutoff=0.6)
    hint = f"\n\nDid you mean this?\n\t{close[0]}\n" if close else "\n"
    sys.stderr.write(f'error: unknown command "{name}" for "minikubelet"{hint}')
    raise SystemExit(1)


__all__ = ["COMMANDS", "app", "build_app", "main"]  # noqa: F822 (app: module __getattr__)
