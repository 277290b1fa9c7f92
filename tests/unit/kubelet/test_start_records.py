"""The node's start record (kubelet/start_records.py): what the prober's attempts add to it, the file it writes,
and `minikubelet lint` reading that file afterwards (rule slow-start-image)."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from minikubelet.api.wire import Container, Pod, as_container, as_pod
from minikubelet.cli.main import app
from minikubelet.kubelet.start_records import (
    KEEP_STARTS,
    ImageStarts,
    Start,
    StartRecorder,
    StartRecordsError,
    image_key,
    load,
    start_probe,
)
from minikubelet.prober.history import Attempt
from minikubelet.prober.manager import ProbeManager
from minikubelet.prober.results import ProbeKind
from minikubelet.recorder import EventRecorder
from minikubelet.runtime.fake import FakeRuntime
from minikubelet.store import Store

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC).timestamp()
IMAGE = "minikubelet.local/busybox:1.35"
EXEC = {"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 1}


def container(**probes: Any) -> Container:
    return as_container({"name": "app", "image": IMAGE, **probes})


def pod_with(cid: str, started: float, spec: Container) -> Pod:
    stamp = datetime.fromtimestamp(started, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return as_pod(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "slow", "namespace": "default", "uid": "u1"},
            "spec": {"containers": [dict(spec)]},
            "status": {
                "containerStatuses": [
                    {"name": "app", "containerID": f"docker://{cid}", "state": {"running": {"startedAt": stamp}}}
                ]
            },
        }
    )


def attempt(kind: ProbeKind, cid: str, at: float, result: str) -> Attempt:
    return Attempt("app", cid, kind, T0 + at, T0 + at, 0.01, result)


def run(recorder: StartRecorder, spec: Container, cid: str, results: list[tuple[ProbeKind, float, str]]) -> int:
    """Feed attempts of instance `cid` (started at T0); how many times the pod was read."""
    reads = 0

    def read() -> Pod:
        nonlocal reads
        reads += 1
        return pod_with(cid, T0, spec)

    for kind, at, result in results:
        recorder.observe(attempt(kind, cid, at, result), spec, read)
    return reads


R, S, L = ProbeKind.READINESS, ProbeKind.STARTUP, ProbeKind.LIVENESS


def test_a_start_is_startedat_to_the_first_success_after_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "start-records.json"
    spec = container(readinessProbe=EXEC, livenessProbe=EXEC)
    reads = run(StartRecorder(path), spec, "c1", [(L, 1.0, "Success"), (R, 1.0, "Failure"), (R, 2.0, "Unknown"),
                                                   (R, 3.0, "Failure"), (R, 4.25, "Success"), (R, 5.0, "Success")])  # fmt: skip
    assert reads == 1, "the pod is read once, for the start"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = json.loads(path.read_text())
    assert raw["kind"] == "StartRecords" and list(raw["images"]) == [IMAGE]
    (recent,) = raw["images"][IMAGE]["recent"]
    assert recent == raw["images"][IMAGE]["longest"]
    assert recent["seconds"] == 4.2  # 4.25 rounded to a tenth (half to even)
    assert recent["probe"] == "Readiness" and recent["failuresBefore"] == 2, "the errored attempt is not counted"
    assert (recent["pod"], recent["container"], recent["containerID"]) == ("default/slow", "app", "c1")
    assert recent["startedAt"] == "2026-01-01T12:00:00.000000Z"
    assert recent["passedAt"] == "2026-01-01T12:00:04.250000Z"


def test_the_probe_that_says_up_is_startup_then_readiness_then_liveness() -> None:
    assert start_probe(container(startupProbe=EXEC, readinessProbe=EXEC, livenessProbe=EXEC)) is S
    assert start_probe(container(readinessProbe=EXEC, livenessProbe=EXEC)) is R
    assert start_probe(container(livenessProbe=EXEC)) is L
    assert start_probe(container()) is None


def test_readiness_does_not_count_when_there_is_a_startup_probe(tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    spec = container(startupProbe=EXEC, readinessProbe=EXEC)
    run(StartRecorder(path), spec, "c1", [(R, 1.0, "Failure"), (R, 2.0, "Success")])
    assert not path.exists()
    run(StartRecorder(path), spec, "c1", [(S, 1.0, "Failure"), (S, 7.0, "Success")])
    assert load(path).images[IMAGE].longest.seconds == 7.0


def test_an_instance_up_at_the_first_look_is_not_a_start_seen(tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    reads = run(StartRecorder(path), container(readinessProbe=EXEC), "c1", [(R, 30.0, "Success"), (R, 31.0, "Failure")])
    assert reads == 0 and not path.exists(), "a long initialDelaySeconds must not make an image look slow"


def test_the_longest_and_the_last_starts_are_kept_across_recorders(tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    spec = container(livenessProbe=EXEC)
    seconds = [9.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    for index, at in enumerate(seconds):  # a new recorder each time: a daemon restarted, the file read back
        run(StartRecorder(path), spec, f"c{index}", [(L, 0.5, "Failure"), (L, at, "Success")])
    starts = load(path).images[IMAGE]
    assert starts.longest.seconds == 9.0 and starts.longest.container_id == "c0"
    assert [s.seconds for s in starts.recent] == seconds[-KEEP_STARTS:]


def test_images_are_keyed_as_docker_normalizes_them() -> None:
    assert image_key("busybox") == "docker.io/library/busybox:latest"
    assert image_key("docker.io/library/busybox:latest") == "docker.io/library/busybox:latest"
    assert image_key("registry:5000/team/app:2") == "registry:5000/team/app:2"
    assert image_key("me/app") == "docker.io/me/app:latest"
    digest = "sha256:" + "a" * 64
    assert image_key(f"busybox:1@{digest}") == f"docker.io/library/busybox@{digest}"
    assert image_key("Not A Reference") == "Not A Reference"


def test_a_write_that_fails_does_not_reach_the_worker(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "missing-dir" / "records.json"
    run(StartRecorder(path), container(livenessProbe=EXEC), "c1", [(L, 0.5, "Failure"), (L, 2.0, "Success")])
    assert not path.exists()
    assert "recording the start of c1 failed" in caplog.text


def test_a_broken_file_is_an_error_to_read_and_replaced_by_the_recorder(tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    path.write_text("{not json")
    with pytest.raises(StartRecordsError, match="is not JSON"):
        load(path)
    path.write_text(json.dumps({"kind": "Other", "images": {}}))
    with pytest.raises(StartRecordsError, match="is not a start record"):
        load(path)
    path.write_text(json.dumps({"kind": "StartRecords", "images": {IMAGE: {"longest": {"probe": "Liveness"}, "recent": []}}}))
    with pytest.raises(StartRecordsError, match="seconds"):
        load(path)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "none.json")
    run(StartRecorder(path), container(livenessProbe=EXEC), "c1", [(L, 0.5, "Failure"), (L, 2.0, "Success")])
    assert load(path).images[IMAGE].longest.seconds == 2.0


async def test_the_probe_manager_tells_its_observer_every_attempt_with_the_container_and_its_pod(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    seen: list[tuple[Attempt, str, Pod | None]] = []

    def observe(attempt: Attempt, spec: Container, pod: Callable[[], Pod | None]) -> None:
        seen.append((attempt, spec["name"], pod()))

    manager = ProbeManager(store, FakeRuntime(), EventRecorder(store, component="kubelet", host="n"), on_attempt=observe)
    try:
        raw = dict(pod_with("c1", T0, container(readinessProbe={**EXEC, "periodSeconds": 3600})))
        raw["spec"] = {"nodeName": "n", **raw["spec"]}
        stored = store.create(raw)
        manager.add_pod(stored)
        await asyncio.sleep(0)
        one = attempt(R, "c1", 1.0, "Failure")
        manager.record(stored["metadata"]["uid"], one)
        manager.record("another-uid", one)  # no worker for it: not told
        assert [(a, name, p["metadata"]["name"] if p else None) for a, name, p in seen] == [(one, "app", "slow")]
        assert manager.history.attempts(stored["metadata"]["uid"]) == [one]
    finally:
        await manager.close()
        store.close()


def test_a_record_written_by_a_run_is_what_lint_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One "run" of the node writes the record; lint, offline, reads it from the node's state dir by default."""
    home = tmp_path / "home"
    home.mkdir()
    spec = container(readinessProbe=EXEC)
    run(StartRecorder(home / "start-records.json"), spec, "c1", [(R, 1.0, "Failure"), (R, 6.5, "Success")])
    manifest = tmp_path / "pod.yml"
    probe = "{exec: {command: [cat, /tmp/ready]}, periodSeconds: 2, failureThreshold: 3}"
    manifest.write_text(
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n"
        f"    - name: app\n      image: {IMAGE}\n      livenessProbe: {probe}\n"
    )
    monkeypatch.setenv("MINIKUBELET_HOME", str(home))
    result = CliRunner().invoke(app, ["lint", "-f", str(manifest), "-o", "json"])
    assert result.exit_code == 1, result.output
    (finding,) = json.loads(result.stdout)
    assert (finding["rule"], finding["field"]) == ("slow-start-image", "spec.containers[0].livenessProbe")
    message = finding["message"]
    # 0 + (3 - 1) x 2 = 4 < 6.5; F = ceil(6.5 / 2) + 1 = 5, whose earliest kill (5 - 1) x 2 = 8 >= 6.5
    assert message.startswith("can kill the container 4s after it starts, before the 6.5s its image took to start")
    assert "failureThreshold 5 = ceil(6.5 / 2) + 1, whose earliest kill (5 - 1) x 2 = 8s is not before 6.5s" in message
    assert f"The start record ({home / 'start-records.json'})" in message
    assert (
        "to the first successful readiness probe at 2026-01-01T12:00:06.500000Z, after 1 failed attempt (pod default/slow"
        in message
    )

    explicit = CliRunner().invoke(app, ["lint", "-f", str(manifest), "--records", str(home / "start-records.json")])
    assert explicit.exit_code == 1 and "slow-start-image" not in explicit.stdout  # text output names no rule
    assert "before the 6.5s its image took to start" in explicit.stdout

    monkeypatch.setenv("MINIKUBELET_HOME", str(tmp_path / "empty"))
    silent = CliRunner().invoke(app, ["lint", "-f", str(manifest)])
    assert silent.exit_code == 0 and silent.stdout.endswith("pod/p: nothing found\n"), "no record, no finding"


def test_lint_with_a_record_it_cannot_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = tmp_path / "pod.yml"
    manifest.write_text(f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers: [{{name: a, image: {IMAGE}}}]\n")
    monkeypatch.setenv("MINIKUBELET_HOME", str(tmp_path))
    missing = CliRunner().invoke(app, ["lint", "-f", str(manifest), "--records", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "nope.json:nosuchfile" in _unboxed(missing.stderr)
    (tmp_path / "start-records.json").write_text("[]")
    bad = CliRunner().invoke(app, ["lint", "-f", str(manifest), "--records", str(tmp_path / "start-records.json")])
    assert bad.exit_code == 2 and "isnotastartrecord" in _unboxed(bad.stderr)
    default = CliRunner().invoke(app, ["lint", "-f", str(manifest)])
    assert default.exit_code == 0, "the node's own record, broken, is only a warning"
    assert "warning: the node's start record is not used (rule slow-start-image)" in default.stderr


def _unboxed(text: str) -> str:
    """typer's error box without its frame and line breaks (which may cut a long path anywhere)."""
    return "".join(text.replace("│", "").split())


def test_image_starts_add_keeps_the_longest() -> None:
    one = Start(3.0, "Readiness", 1, "default/a", "app", "c1", "", "")
    two = Start(1.0, "Readiness", 1, "default/a", "app", "c2", "", "")
    starts = ImageStarts(one, (one,)).add(two)
    assert starts.longest is one and starts.recent == (one, two)
