"""`minikubelet lint --check-images` on the real engine and the local busybox image: docs/lint.md's example, for
real (programs found and not found, hooks included), and no container left behind."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from minikubelet.cli.main import app

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^```\n\$ minikubelet (lint [^\n]*--check-images[^\n]*)\n(.*?)^```$", re.S | re.M)


def test_the_documented_example(local_images: tuple[str, ...], docker_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    [(command, expected)] = BLOCK.findall((ROOT / "docs" / "lint.md").read_text(encoding="utf-8"))
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, shlex.split(command))
    assert result.exit_code == 1, result.output
    assert result.stdout + result.stderr == expected
    assert docker_client.containers.list(all=True, filters={"label": "minikubelet.lint"}) == []
    offline = CliRunner().invoke(app, [arg for arg in shlex.split(command) if arg != "--check-images"])
    assert offline.exit_code == 0
    assert offline.stdout == "manifests/lint/exec-programs.yml: pod/exec-programs: nothing found\n"
