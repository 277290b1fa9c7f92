"""The real kubectl against a real node: kubectl must be there (in CI it always is: never skip there)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from nodes import KUBECTL, Node, kubectl_present, running_node


@pytest.fixture(scope="session")
def kubectl_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    if not kubectl_present():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{KUBECTL} is missing; the kubectl suite never skips under CI=true (make install puts it there)")
        pytest.skip(f"{KUBECTL} is missing: `make install` installs the pinned kubectl into the virtualenv")
    yield from running_node(tmp_path_factory.mktemp("kubectl-home"))
