"""Every example in manifests/ does on the engine what its comment and the tutorial say it does.

All examples are applied at once (as `minikubelet apply -f manifests/` does) to one node, then each pod is
checked for its own story: ready, restarted by liveness, kept unready by readiness, protected by startup.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from nodes import Node, eventually, running_node

pytestmark = pytest.mark.docker

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"


@pytest.fixture(scope="module")
def node(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    nodes = running_node(tmp_path_factory.mktemp("examples-home"))
    started = next(nodes)
    try:
        started.cli("apply", "-f", str(MANIFESTS), check=True)
        yield started
    finally:
        nodes.close()  # down --delete-pods, then remove whatever is left


def statuses(node: Node, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = node.pod(name)["status"].get("containerStatuses", [])
    return found


def all_ready(node: Node, name: str) -> bool:
    found = statuses(node, name)
    return bool(found) and all(c.get("ready") for c in found)


def reasons(node: Node, name: str) -> list[str]:
    result = node.cli("get", "events", "--field-selector", f"involvedObject.name={name}", "-o", "json", check=True)
    return [f"{e['reason']}: {e['message']}" for e in json.loads(result.stdout)["items"]]


def restarts(node: Node, name: str) -> int:
    return sum(c.get("restartCount", 0) for c in statuses(node, name))


def ready_without_restarts(name: str, *, timeout: float = 60) -> Callable[[Node], None]:
    def check(node: Node) -> None:
        assert eventually(lambda: all_ready(node, name), timeout=timeout), statuses(node, name)
        assert restarts(node, name) == 0

    return check


def restarted_by_liveness(node: Node) -> None:
    assert eventually(lambda: restarts(node, "echo-lp") >= 1, timeout=90)
    assert "Killing: Container app failed liveness probe, will be restarted" in reasons(node, "echo-lp")


def never_ready_never_restarted(node: Node) -> None:
    failed = "Unhealthy: Readiness probe failed: "
    assert eventually(lambda: any(r.startswith(failed) for r in reasons(node, "echo-rp")), timeout=60)
    (app,) = statuses(node, "echo-rp")
    assert "running" in app["state"] and app["ready"] is False and app["restartCount"] == 0


def liveness_keeps_passing(node: Node) -> None:
    ready_without_restarts("liveness-http")(node)
    assert eventually(lambda: sum(a["result"] == "Success" for a in node.probe_attempts("liveness-http")) >= 2, timeout=30)
    assert restarts(node, "liveness-http") == 0


def slow_start_is_protected(node: Node) -> None:
    assert eventually(lambda: all_ready(node, "slow-start"), timeout=120), statuses(node, "slow-start")
    assert restarts(node, "slow-start") == 0
    assert any(r.startswith("Unhealthy: Startup probe failed: ") for r in reasons(node, "slow-start"))


STORIES: dict[str, Callable[[Node], None]] = {
    "echo-pod.yml": ready_without_restarts("echo"),
    "echo-health.yml": ready_without_restarts("echo-health"),
    "echo-lp.yml": restarted_by_liveness,
    "echo-rp.yml": never_ready_never_restarted,
    "exec-probe.yml": ready_without_restarts("exec-probe"),
    "http-go.yml": ready_without_restarts("http-go"),
    "liveness-http.yml": liveness_keeps_passing,
    "multi-container.yml": ready_without_restarts("multi"),
    "named-port-headers.yml": ready_without_restarts("probe-headers"),
    "tcp-probe.yml": ready_without_restarts("goproxy", timeout=90),
    "startup-probe.yml": slow_start_is_protected,
}


def test_every_example_has_a_story() -> None:
    assert sorted(STORIES) == sorted(p.name for p in MANIFESTS.glob("*.yml"))


@pytest.mark.parametrize("manifest", sorted(STORIES))
def test_the_example_behaves_as_documented(node: Node, manifest: str) -> None:
    STORIES[manifest](node)
