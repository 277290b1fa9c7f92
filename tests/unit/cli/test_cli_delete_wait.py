"""`delete`'s wait for the pod to be gone, against a scripted API: only a list without the pod (or a 404) or a
DELETED event for its uid ends it; a watch that ends or a node that went away means listing and watching again,
until the timeout, which is kubectl's `timed out waiting for the condition on pods/NAME`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from minikubelet.cli.common import Target
from minikubelet.cli.delete import wait_gone
from minikubelet.client import ApiClient
from minikubelet.errors import MinikubeletError, NotFoundError, UnavailableError

UID = "uid-1"
POD = {"metadata": {"name": "g1", "uid": UID}}
OTHER = {"metadata": {"name": "g1", "uid": "uid-2"}}  # a new pod of the same name


class Script:
    """Answers each list and each watch with the next scripted step: a list of items, a list of watch events
    (then the stream ends), or an exception to raise."""

    def __init__(self, lists: list[Any], watches: list[Any]) -> None:
        self.lists, self.watches = lists, watches
        self.calls: list[str] = []

    def get(self, path: str, *, params: dict[str, Any] | None = None) -> Any:
        self.calls.append("list")
        step = self.lists.pop(0) if self.lists else [POD]
        if isinstance(step, Exception):
            raise step
        return {"metadata": {"resourceVersion": "7"}, "items": step}

    def watch(self, path: str, *, params: dict[str, Any] | None = None) -> Iterator[tuple[str, Any]]:
        self.calls.append("watch")
        assert params is not None and int(params["timeoutSeconds"]) >= 1
        step = self.watches.pop(0) if self.watches else []
        if isinstance(step, Exception):
            raise step
        yield from step


@pytest.fixture(autouse=True)
def no_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINIKUBELET_HOME", str(tmp_path / "home"))  # no kubeconfig: reconnecting keeps the client
    monkeypatch.setattr("minikubelet.cli.delete._RETRY_SECONDS", 0.01)


def wait(script: Script, timeout: float = 5) -> None:
    wait_gone(cast(ApiClient, script), Target("pods", "g1"), "default", POD, timeout=timeout)


def test_a_deleted_event_for_the_pod_ends_the_wait() -> None:
    script = Script(lists=[[POD]], watches=[[("MODIFIED", POD), ("DELETED", OTHER), ("DELETED", POD)]])
    wait(script)
    assert script.calls == ["list", "watch"]


def test_a_watch_that_ends_is_no_answer() -> None:
    script = Script(lists=[[POD], [POD], [OTHER]], watches=[[("MODIFIED", POD)], []])
    wait(script)
    assert script.calls == ["list", "watch", "list", "watch", "list"]


def test_a_node_that_went_away_is_waited_for() -> None:
    down = UnavailableError("the node's API is not reachable: [Errno 111] Connection refused")
    broke = UnavailableError("the watch on the node's API broke: Remote end closed connection")
    script = Script(lists=[[POD], down, down, NotFoundError.of("pods", "g1")], watches=[broke])
    wait(script)
    assert script.calls == ["list", "watch", "list", "list", "list"]


def test_a_cut_line_or_an_expired_watch_means_listing_again() -> None:
    script = Script(lists=[[POD], [POD], []], watches=[ValueError("Unterminated string"), [("ERROR", {"code": 410})]])
    wait(script)
    assert script.calls == ["list", "watch", "list", "watch", "list"]


def test_without_the_pod_seen_gone_it_times_out_in_kubectls_words() -> None:
    down = UnavailableError("the node's API is not reachable: [Errno 111] Connection refused")
    script = Script(lists=[[POD], *[down] * 1000], watches=[[]])
    started = time.monotonic()
    with pytest.raises(MinikubeletError) as caught:
        wait(script, timeout=0.3)
    assert str(caught.value) == "timed out waiting for the condition on pods/g1"
    assert 0.3 <= time.monotonic() - started < 2
