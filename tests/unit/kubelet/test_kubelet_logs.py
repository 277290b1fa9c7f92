"""Which run's logs the kubelet serves (its validateContainerLogStatus), one sync at a time against the
in-memory runtime: the current run, the previous one after a restart, the last run twice over in a crash
loop, and the refusals in the kubelet's words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_kubelet_sync import Harness

from minikubelet.errors import BadRequestError
from minikubelet.kubelet.kubelet import _log_source
from minikubelet.runtime.interface import PodRef


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path)
    yield harness
    harness.store.close()


async def logs(h: Harness, name: str, **options: Any) -> bytes:
    return b"".join([chunk async for chunk in await h.kubelet.open_logs("default", name, **options)])


def run(h: Harness, ref: PodRef, attempt: int, text: str, *, exit_code: int | None = None) -> None:
    """Run `attempt` of the pod's container prints `text` (and exits with `exit_code`)."""
    cid = h.runtime.by_name(ref, "main", attempt).id
    h.runtime.write_logs(cid, text.encode())
    if exit_code is not None:
        h.runtime.finish(cid, exit_code)


async def test_current_then_previous_after_a_restart(h: Harness) -> None:
    ref = h.create("web")
    await h.sync(ref)
    run(h, ref, 0, "first\n")
    assert await logs(h, "web") == b"first\n"
    with pytest.raises(BadRequestError, match=r'^previous terminated container "main" in pod "web" not found$'):
        await logs(h, "web", previous=True)
    run(h, ref, 0, "", exit_code=1)
    await h.sync(ref)  # restarted at once
    run(h, ref, 1, "second\n")
    assert await logs(h, "web") == b"second\n"
    assert await logs(h, "web", previous=True) == b"first\n"


async def test_in_a_crash_loop_both_are_the_last_run(h: Harness) -> None:
    ref = h.create("crash")
    await h.sync(ref)
    run(h, ref, 0, "run 1\n", exit_code=1)
    await h.sync(ref)
    h.clock.advance(1)
    run(h, ref, 1, "run 2\n", exit_code=1)
    await h.sync(ref)
    assert h.main_status("crash")["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert await logs(h, "crash") == b"run 2\n"
    assert await logs(h, "crash", previous=True) == b"run 2\n"


async def test_a_finished_container_keeps_its_logs(h: Harness) -> None:
    ref = h.create("once", restart="Never")
    await h.sync(ref)
    run(h, ref, 0, "done\n", exit_code=0)
    await h.sync(ref)
    assert await logs(h, "once") == b"done\n"
    with pytest.raises(BadRequestError, match=r"^previous terminated container"):
        await logs(h, "once", previous=True)


async def test_a_container_not_started_yet(h: Harness) -> None:
    h.create("new")
    with pytest.raises(BadRequestError, match=r'^container "main" in pod "new" is waiting to start: ContainerCreating$'):
        await logs(h, "new")


@pytest.mark.parametrize(
    ("status", "previous", "outcome"),
    [
        ({"state": {"running": {}}, "containerID": "docker://b"}, False, "docker://b"),
        ({"state": {"running": {}}, "lastState": {"terminated": {"containerID": "docker://a"}}}, True, "docker://a"),
        ({"state": {"terminated": {"containerID": "docker://c"}}}, False, "docker://c"),
        ({"state": {"terminated": {}}, "lastState": {"terminated": {"containerID": "docker://a"}}}, False, "docker://a"),
        ({"state": {"terminated": {}}}, False, 'container "c" in pod "p" is terminated'),
        (
            {"state": {"waiting": {"reason": "ErrImagePull"}}},
            False,
            'container "c" in pod "p" is waiting to start: image can\'t be pulled',
        ),
        (
            {"state": {"waiting": {"reason": "ImagePullBackOff"}}},
            False,
            'container "c" in pod "p" is waiting to start: trying and failing to pull image',
        ),
        (
            {"state": {"waiting": {"reason": "PodInitializing"}}},
            False,
            'container "c" in pod "p" is waiting to start: PodInitializing',
        ),
        ({"state": {}}, False, 'container "c" in pod "p" is waiting to start - no logs yet'),
        ({"state": {"running": {}}, "containerID": "docker://b"}, True, 'previous terminated container "c" in pod "p" not found'),
    ],
)
def test_the_kubelets_choice_and_words(status: dict[str, Any], previous: bool, outcome: str) -> None:
    if outcome.startswith("docker://"):
        assert _log_source("p", "c", status, previous=previous) == outcome
    else:
        with pytest.raises(BadRequestError) as refused:
            _log_source("p", "c", status, previous=previous)
        assert refused.value.message == outcome
