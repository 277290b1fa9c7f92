"""requirements.lock is what `make install` installs: every dependency pyproject.toml names is pinned there
with hashes, and the environment running the suite holds exactly the pinned versions."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)((?:\s*\\\n\s+--hash=sha256:[0-9a-f]{64})+)", re.MULTILINE)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text()
    return {_canonical(name): version for name, version, _hashes in _PIN.findall(text)}


def _requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, requirement
    return _canonical(match.group(0))


def _declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    build = project["build-system"]["requires"]
    runtime = project["project"]["dependencies"]
    dev = project["project"]["optional-dependencies"]["dev"]
    return [_requirement_name(r) for r in [*build, *runtime, *dev]]


def test_every_declared_dependency_is_pinned_with_hashes() -> None:
    pins = _pins()
    missing = [name for name in _declared() if name not in pins]
    assert not missing, f"not in requirements.lock (run `make lock`): {missing}"
    pinned_lines = [line for line in (ROOT / "requirements.lock").read_text().splitlines() if "==" in line]
    assert len(pinned_lines) == len(pins), "every pin carries at least one sha256 hash"


def test_the_environment_is_the_lock() -> None:
    """`make install` installed the lock: a package at another version than pinned means it did not."""
    try:
        metadata.distribution("minikubelet")
    except metadata.PackageNotFoundError:
        pytest.skip("the package is not installed (running from a source tree)")
    wrong = {
        name: (version, installed)
        for name, version in _pins().items()
        if (installed := _installed(name)) is not None and installed != version
    }
    assert not wrong, f"installed versions differ from requirements.lock (pinned, installed): {wrong}"


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
