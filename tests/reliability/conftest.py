"""Fault tests against a real node: make `tests/integration/nodes.py` importable (as tests/kubectl does) and
reuse the integration suite's Docker fixtures (`docker_client`, `local_images`: skip locally without an
engine, fail under CI=true)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_INTEGRATION = Path(__file__).resolve().parents[1] / "integration"
if str(_INTEGRATION) not in sys.path:
    sys.path.insert(0, str(_INTEGRATION))


def _integration_fixtures() -> object:
    spec = importlib.util.spec_from_file_location("_integration_fixtures", _INTEGRATION / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_fixtures = _integration_fixtures()
docker_client = _fixtures.docker_client  # type: ignore[attr-defined]
local_images = _fixtures.local_images  # type: ignore[attr-defined]
