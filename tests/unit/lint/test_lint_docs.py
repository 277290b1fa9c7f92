"""docs/lint.md's examples are real: each `$ minikubelet lint ...` block is what the command prints today."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from minikubelet.cli.main import app

ROOT = Path(__file__).resolve().parents[3]
BLOCK = re.compile(r"^```\n\$ minikubelet (lint [^\n]*)\n(.*?)^```$", re.S | re.M)
ALL = BLOCK.findall((ROOT / "docs" / "lint.md").read_text(encoding="utf-8"))
# --check-images asks Docker: its example is checked by tests/integration/test_lint_docker.py.
EXAMPLES = [(command, output) for command, output in ALL if "--check-images" not in command]


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize(("command", "expected"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_example(command: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, shlex.split(command))
    assert result.exit_code in (0, 1, 2)
    assert result.stdout + result.stderr == expected
