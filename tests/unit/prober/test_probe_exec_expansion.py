"""`$(VAR)` in an exec probe's command, as prober.go expands it (ExpandContainerCommandOnlyStatic), and the one
expansion function it shares with command/args (third_party/forked/golang/expansion)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from minikubelet.api.expansion import expand, expand_command_only_static
from minikubelet.prober.manager import ProbeManager
from minikubelet.prober.results import ProbeKind
from minikubelet.runtime.interface import ContainerID, ExecResult


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$(A)", "a"),
        ("x$(A)y$(B)z", "xaybz"),
        ("$(MISSING)", "$(MISSING)"),
        ("$$(A)", "$(A)"),  # escaped: the reference is literal text
        ("$$$(A)", "$a"),
        ("$$", "$"),
        ("$", "$"),
        ("a$", "a$"),
        ("$x", "$x"),
        ("$(A", "$(A"),  # never closed
        ("$(", "$("),
        ("$()", "$()"),
        ("$(A$(B))", "$(A$(B))"),  # the name runs to the first ")": "A$(B", unknown, and nothing inside expands
        ("$(A B)", "$(A B)"),
        ("$(1X)", "one"),  # any name a relaxed env var may have
        ("100%$(A)%", "100%a%"),
    ],
)
def test_expand_follows_go_expansion(text: str, expected: str) -> None:
    assert expand(text, {"A": "a", "B": "b", "1X": "one"}) == expected


def test_static_expansion_uses_the_raw_values_and_valuefrom_as_empty() -> None:
    env = [
        {"name": "A", "value": "a"},
        {"name": "B", "value": "$(A)-b"},  # not expanded first: the raw value is substituted
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "A", "value": "again"},  # a later duplicate wins, as in a Go map
    ]
    command = ["sh", "-c", "echo $(A) $(B) [$(POD)] $(NOPE) $$(A)"]
    assert expand_command_only_static(command, env) == ["sh", "-c", "echo again $(A)-b [] $(NOPE) $(A)"]
    assert expand_command_only_static([], env) == []


class _Runtime:
    def __init__(self) -> None:
        self.argv: list[str] = []

    async def exec(self, container_id: ContainerID, argv: Sequence[str], *, timeout: float) -> ExecResult:
        self.argv = list(argv)
        return ExecResult(exit_code=0, output=b"ok")


async def test_exec_probe_command_is_expanded_from_the_container_env() -> None:
    runtime = _Runtime()
    manager = ProbeManager(store=None, runtime=runtime, recorder=None)  # type: ignore[arg-type]
    container: dict[str, Any] = {
        "name": "app",
        "env": [
            {"name": "FILE", "value": "/tmp/health"},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        ],
        "livenessProbe": {"exec": {"command": ["cat", "$(FILE)", "$(IP)", "$(OTHER)", "$$(FILE)"]}},
    }
    pod = {"metadata": {"name": "p", "namespace": "default", "uid": "u"}, "status": {"podIP": "10.0.0.9"}}
    outcome = await manager.run(ProbeKind.LIVENESS, pod, container, "c1")
    assert outcome.output == "ok"
    assert runtime.argv == ["cat", "/tmp/health", "", "$(OTHER)", "$(FILE)"]
