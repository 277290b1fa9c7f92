"""Every lint test runs against an empty node state dir: `minikubelet lint` reads the node's start record
(rule slow-start-image) by default, and the developer's own `~/.minikubelet` must not change the findings."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def no_node_record(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("lint-home")
    monkeypatch.setenv("MINIKUBELET_HOME", str(home))
    return home
