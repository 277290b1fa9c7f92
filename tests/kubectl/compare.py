"""kubectl's output against ours at the same moment (shared by the kubectl tests)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from nodes import Node
from typer.testing import CliRunner

from minikubelet.cli.main import app


def ours(node: Node, *args: str) -> str:
    """What `minikubelet <args>` prints, run in this process: the same code as `node.cli`, without the
    interpreter's start-up, so that the moments before and after a kubectl run are close together."""
    result = CliRunner().invoke(app, list(args), env=node.env)
    assert result.exit_code == 0, result.output
    return result.stdout


def agrees(
    node: Node, *args: str, reference: Callable[[], str] | None = None, attempts: int = 5
) -> subprocess.CompletedProcess[str]:
    """Run `kubectl <args>` and assert it printed what `minikubelet <args>` (or `reference`) prints just
    before or just after it. Ages tick between two commands, and objects created at different sub-second
    offsets tick at different instants, so a kubectl reading between ours may match neither: a few attempts
    are allowed, while a real difference shows in every one. Returns kubectl's result."""
    expected = reference or (lambda: ours(node, *args))
    tried = []
    for _ in range(attempts):
        before = expected()
        theirs = node.kubectl(*args)
        assert theirs.returncode == 0, theirs.stderr
        if theirs.stdout == before or theirs.stdout == (after := expected()):
            return theirs
        tried.append(f"kubectl:\n{theirs.stdout}\nours before:\n{before}\nours after:\n{after}")
    raise AssertionError(f"kubectl {' '.join(args)} never printed what we print:\n" + "\n".join(tried))
