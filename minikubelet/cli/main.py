"""`minikubelet`: the typer app, its commands, and the one place errors become exit codes.

Exit codes as kubectl: 0 success, 1 any error we raise on purpose (printed to stderr in kubectl's words,
without a traceback), 2 usage errors (typer's own). An unknown command gets kubectl's "Did you mean
this?". Bugs keep their tracebacks.
"""

from __future__ import annotations

import difflib
import functools
import sys
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import typer

from minikubelet.cli import apply, delete, describe, exec, get, logs, node, port_forward, run, timeline, version, wait
from minikubelet.cli.common import format_status_error
from minikubelet.errors import InvalidError, ManifestError, MinikubeletError, StatusError

P = ParamSpec("P")
R = TypeVar("R")


app = typer.Typer(
    name="minikubelet",
    help="A single-node Kubernetes pod runtime on the local Docker engine, with the kubelet's exact semantics.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _exit_1_on_our_errors(command: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(command)
    def run_command(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (InvalidError, ManifestError) as exc:
            typer.echo(str(exc), err=True)  # already kubectl's words: 'The Pod "x" is invalid: ...'
        except StatusError as exc:
            typer.echo(format_status_error(exc), err=True)
        except MinikubeletError as exc:
            typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1)

    return run_command


def _register(name: str, command: Callable[..., Any], **settings: Any) -> None:
    app.command(name, **settings)(_exit_1_on_our_errors(command))


_register("apply", apply.apply_command)
_register("create", apply.create_command)
_register("run", run.run_command)
_register("get", get.get_command)
_register("describe", describe.describe_command)
_register("delete", delete.delete_command)
_register("wait", wait.wait_command)
_register("logs", logs.logs_command)
_register("exec", exec.exec_command)
_register("port-forward", port_forward.port_forward_command)
_register("timeline", timeline.timeline_command)
_register("up", node.up_command)
_register("down", node.down_command)
_register("status", node.status_command)
_register("kubeconfig", node.kubeconfig_command)
_register("version", version.version_command)


def main() -> None:
    """Console entry point."""
    _suggest_for_unknown_command(sys.argv[1:])
    sys.argv[1:] = _kubectl_booleans(sys.argv[1:])
    app()


def _kubectl_booleans(argv: list[str]) -> list[str]:
    """kubectl's boolean flags also take a value (`--wait=false`, `--show-labels=true`); click's take none.
    Rewrite `--flag=true` to `--flag` and `--flag=false` to `--no-flag` (or to nothing when there is no
    `--no-` form), for the boolean flags of the command being run, before `--`."""
    if not argv or not any(a.lower().endswith(("=true", "=false")) for a in argv):
        return argv
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
    commands = [c.name for c in app.registered_commands if c.name]
    if not name or name.startswith("-") or name in commands:
        return
    close = difflib.get_close_matches(name, commands, n=1, cutoff=0.6)
    hint = f"\n\nDid you mean this?\n\t{close[0]}\n" if close else "\n"
    sys.stderr.write(f'error: unknown command "{name}" for "minikubelet"{hint}')
    raise SystemExit(1)


__all__ = ["app", "main"]
