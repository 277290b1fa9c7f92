"""The real kubectl against a real node: kubectl must be there (in CI it always is: never skip there)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from nodes import Node, running_node


@pytest.fixture(scope="session")
def kubectl_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    if shutil.which("kubectl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("kubectl is not installed; the kubectl suite never skips under CI=true")
        pytest.skip("kubectl is not installed (it is at /usr/bin/kubectl on the project's machines)")
    yield from running_node(tmp_path_factory.mktemp("kubectl-home"))
