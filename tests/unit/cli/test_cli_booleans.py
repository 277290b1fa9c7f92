"""kubectl's boolean flags take values (`--wait=false`); ours are rewritten to click's forms before parsing."""

from __future__ import annotations

import pytest

from minikubelet.cli.main import _kubectl_booleans


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["delete", "pod", "x", "--wait=false"], ["delete", "pod", "x", "--no-wait"]),
        (["delete", "pod", "x", "--wait=TRUE"], ["delete", "pod", "x", "--wait"]),
        (["get", "pods", "--show-labels=true", "--watch=false"], ["get", "pods", "--show-labels"]),
        (["get", "pods", "--output=json"], ["get", "pods", "--output=json"]),
        (["exec", "p", "--", "echo", "--wait=false"], ["exec", "p", "--", "echo", "--wait=false"]),
        (["delete", "pod", "x", "--wait=maybe"], ["delete", "pod", "x", "--wait=maybe"]),
    ],
)
def test_boolean_flags_with_values_become_clicks_forms(argv: list[str], expected: list[str]) -> None:
    assert _kubectl_booleans(argv) == expected
