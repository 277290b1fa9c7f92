"""docs/simulate.md shows real output: the documented commands print it still (all but the wall time)."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from minikubelet.cli.main import app

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "simulate.md").read_text(encoding="utf-8")
WALL = re.compile(r" in \d+\.\d\ds$", re.MULTILINE)


def run(*args: str) -> str:
    result = CliRunner().invoke(app, ["simulate", *args], env={"COLUMNS": "116"})
    assert result.exit_code == 0, result.output
    return WALL.sub(" in Xs", result.stdout)


def test_the_slow_start_picture_events_and_verdict_are_as_documented() -> None:
    out = run("-f", str(ROOT / "manifests/simulate/slow-start.yml"), "-b", "listens after 95s", "--for", "65s")
    assert out.rstrip("\n") in WALL.sub(" in Xs", DOC)


def test_the_suggestions_are_as_documented() -> None:
    out = run("-f", str(ROOT / "manifests/simulate/slow-start.yml"), "-b", "listens after 95s", "--for", "5m", "--suggest")
    shown = out[out.index("Verdict:") :].rstrip("\n")
    assert shown in DOC
