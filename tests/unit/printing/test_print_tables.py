"""Server-side Tables (printers.go) and their client-side rendering (kubectl's table printer).

The STATUS cases walk every rule of docs/kubectl-output.md#kubectl-get-pods; the rendered outputs are the bytes `kubectl get`
prints (the golden two-pod table is the spec's own example).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from minikubelet.printing.render import format_cell, format_labels, render_name, render_table
from minikubelet.printing.tables import (
    EVENT_COLUMNS,
    POD_COLUMNS,
    event_table,
    namespace_table,
    node_table,
    pod_cells,
    pod_status_reason,
    pod_table,
)

NOW = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


RUNNING = {"running": {"startedAt": ago(100)}}


def status(name: str = "app", *, ready: bool = False, restarts: int = 0, **state: Any) -> dict[str, Any]:
    """A container status; `state=`, `lastState=` and `started=` pass through."""
    return {"name": name, "ready": ready, "restartCount": restarts, "image": "busybox", "imageID": "", **state}


def pod(
    *,
    name: str = "echo",
    containers: tuple[str, ...] = ("app",),
    init: tuple[str, ...] = (),
    statuses: list[dict[str, Any]] | None = None,
    init_statuses: list[dict[str, Any]] | None = None,
    phase: str = "Running",
    ready_condition: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "creationTimestamp": ago(600), "labels": {"run": name}},
        "spec": {
            "containers": [{"name": c, "image": "busybox"} for c in containers],
            "nodeName": "minikube",
        },
        "status": {"phase": phase},
    }
    if init:
        body["spec"]["initContainers"] = [{"name": c, "image": "busybox"} for c in init]
    if statuses is not None:
        body["status"]["containerStatuses"] = statuses
    if init_statuses is not None:
        body["status"]["initContainerStatuses"] = init_statuses
    if ready_condition is not None:
        body["status"]["conditions"] = [{"type": "Ready", "status": ready_condition}]
    for key, value in extra.items():
        section, _, field = key.partition("__")
        body[section][field] = value
    return body


def terminated(exit_code: int, reason: str = "", *, signal: int = 0, finished: float = 30) -> dict[str, Any]:
    state: dict[str, Any] = {"exitCode": exit_code, "startedAt": ago(finished + 10), "finishedAt": ago(finished)}
    if reason:
        state["reason"] = reason
    if signal:
        state["signal"] = signal
    return {"terminated": state}


CRASHED_LAST = terminated(1, "Error", finished=120)

STATUS_CASES: list[tuple[str, dict[str, Any], str, str, str]] = [
    # id, pod, READY, STATUS, RESTARTS
    ("pending-no-statuses", pod(phase="Pending"), "0/1", "Pending", "0"),
    (
        "container-creating",
        pod(phase="Pending", statuses=[status(state={"waiting": {"reason": "ContainerCreating"}})]),
        "0/1",
        "ContainerCreating",
        "0",
    ),
    ("running", pod(statuses=[status(ready=True, state=RUNNING)]), "1/1", "Running", "0"),
    ("running-not-ready", pod(statuses=[status(state=RUNNING)]), "0/1", "Running", "0"),
    (
        "crashloop",
        pod(
            statuses=[
                status(restarts=5, state={"waiting": {"reason": "CrashLoopBackOff"}}, lastState=CRASHED_LAST),
            ]
        ),
        "0/1",
        "CrashLoopBackOff",
        "5 (2m ago)",
    ),
    (
        "running-after-restart",
        pod(statuses=[status(ready=True, restarts=2, state=RUNNING, lastState=terminated(137, "Error", finished=45))]),
        "1/1",
        "Running",
        "2 (45s ago)",
    ),
    (
        "err-image-pull",
        pod(phase="Pending", statuses=[status(state={"waiting": {"reason": "ErrImagePull", "message": "x"}})]),
        "0/1",
        "ErrImagePull",
        "0",
    ),
    ("error", pod(phase="Failed", statuses=[status(state=terminated(1, "Error"))]), "0/1", "Error", "0"),
    ("completed", pod(phase="Succeeded", statuses=[status(state=terminated(0, "Completed"))]), "0/1", "Completed", "0"),
    ("oom-killed", pod(statuses=[status(state=terminated(137, "OOMKilled"))]), "0/1", "OOMKilled", "0"),
    ("exit-code", pod(phase="Failed", statuses=[status(state=terminated(1))]), "0/1", "ExitCode:1", "0"),
    ("signal", pod(phase="Failed", statuses=[status(state=terminated(137, signal=9))]), "0/1", "Signal:9", "0"),
    (
        "completed-but-running-ready",
        pod(
            containers=("a", "b"),
            ready_condition="True",
            statuses=[status("a", state=terminated(0, "Completed")), status("b", ready=True, state=RUNNING)],
        ),
        "1/2",
        "Running",
        "0",
    ),
    (
        "completed-but-running-not-ready",
        pod(
            containers=("a", "b"),
            ready_condition="False",
            statuses=[status("a", state=terminated(0, "Completed")), status("b", ready=True, state=RUNNING)],
        ),
        "1/2",
        "NotReady",
        "0",
    ),
    (
        "completed-but-another-failed",  # 1.37: the failure shows, not Completed
        pod(
            phase="Failed",
            containers=("a", "z"),
            statuses=[status("a", state=terminated(0, "Completed")), status("z", state=terminated(1, "Error"))],
        ),
        "0/2",
        "Error",
        "0",
    ),
    (
        "completed-failed-without-reason-and-running",
        pod(
            containers=("a", "b", "c"),
            ready_condition="False",
            statuses=[
                status("a", state=terminated(0, "Completed")),
                status("b", ready=True, state=RUNNING),
                status("c", state=terminated(2)),
            ],
        ),
        "1/3",
        "ExitCode:2",
        "0",
    ),
    (
        "completed-running-ready-beats-a-failure",
        pod(
            containers=("a", "b", "c"),
            ready_condition="True",
            statuses=[
                status("a", state=terminated(0, "Completed")),
                status("b", ready=True, state=RUNNING),
                status("c", state=terminated(1, "Error")),
            ],
        ),
        "1/3",
        "Running",
        "0",
    ),
    (
        "first-failure-wins",
        pod(
            phase="Failed",
            containers=("a", "b", "c"),
            statuses=[
                status("a", state=terminated(0, "Completed")),
                status("b", state=terminated(137, "OOMKilled")),
                status("c", state=terminated(1, "Error")),
            ],
        ),
        "0/3",
        "OOMKilled",
        "0",
    ),
    (
        "first-status-wins",
        pod(
            containers=("a", "b"),
            statuses=[
                status("a", state={"waiting": {"reason": "CrashLoopBackOff"}}),
                status("b", state={"waiting": {"reason": "ErrImagePull"}}),
            ],
        ),
        "0/2",
        "CrashLoopBackOff",
        "0",
    ),
    (
        "init-running",
        pod(phase="Pending", init=("setup",), init_statuses=[status("setup", state=RUNNING)]),
        "0/1",
        "Init:0/1",
        "0",
    ),
    (
        "init-second-of-two",
        pod(
            phase="Pending",
            init=("one", "two"),
            init_statuses=[
                status("one", state=terminated(0, "Completed")),
                status("two", state={"waiting": {"reason": "PodInitializing"}}),
            ],
        ),
        "0/1",
        "Init:1/2",
        "0",
    ),
    (
        "init-crashloop",
        pod(
            phase="Pending",
            init=("setup",),
            init_statuses=[
                status("setup", restarts=3, state={"waiting": {"reason": "CrashLoopBackOff"}}, lastState=CRASHED_LAST)
            ],
            statuses=[status(state={"waiting": {"reason": "PodInitializing"}})],
        ),
        "0/1",
        "Init:CrashLoopBackOff",
        "3 (2m ago)",
    ),
    (
        "init-error",
        pod(phase="Failed", init=("setup",), init_statuses=[status("setup", state=terminated(1, "Error"))]),
        "0/1",
        "Init:Error",
        "0",
    ),
    (
        "init-exit-code",
        pod(phase="Pending", init=("setup",), init_statuses=[status("setup", state=terminated(2))]),
        "0/1",
        "Init:ExitCode:2",
        "0",
    ),
    (
        "init-signal",
        pod(phase="Pending", init=("setup",), init_statuses=[status("setup", state=terminated(137, signal=9))]),
        "0/1",
        "Init:Signal:9",
        "0",
    ),
    (
        "init-done",
        pod(
            init=("setup",),
            init_statuses=[status("setup", state=terminated(0, "Completed"))],
            statuses=[status(ready=True, state=RUNNING)],
        ),
        "1/1",
        "Running",
        "0",
    ),
    (
        "sidecar-counts-in-ready",
        pod(
            init=("proxy",),
            spec__initContainers=[{"name": "proxy", "image": "busybox", "restartPolicy": "Always"}],
            init_statuses=[status("proxy", ready=True, started=True, restarts=1, state=RUNNING)],
            statuses=[status(ready=True, state=RUNNING)],
        ),
        "2/2",
        "Running",
        "1",
    ),
    (
        "terminating",
        pod(statuses=[status(ready=True, state=RUNNING)], metadata__deletionTimestamp=ago(-30)),
        "1/1",
        "Terminating",
        "0",
    ),
    (
        "terminating-not-for-terminal-phase",
        pod(
            phase="Succeeded",
            statuses=[status(state=terminated(0, "Completed"))],
            metadata__deletionTimestamp=ago(-30),
        ),
        "0/1",
        "Completed",
        "0",
    ),
    ("evicted", pod(phase="Failed", status__reason="Evicted"), "0/1", "Evicted", "0"),
    (
        "node-lost",
        pod(status__reason="NodeLost", metadata__deletionTimestamp=ago(-30)),
        "0/1",
        "Unknown",
        "0",
    ),
    (
        "scheduling-gated",
        pod(
            phase="Pending",
            status__conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}],
        ),
        "0/1",
        "SchedulingGated",
        "0",
    ),
]


@pytest.mark.parametrize(("body", "ready", "reason", "restarts"), [c[1:] for c in STATUS_CASES], ids=[c[0] for c in STATUS_CASES])
def test_pod_ready_status_restarts(body: dict[str, Any], ready: str, reason: str, restarts: str) -> None:
    cells = pod_cells(body, now=NOW)
    assert cells[1:4] == [ready, reason, restarts]
    assert pod_status_reason(body) == reason
    assert cells[0] == "echo" and cells[4] == "10m"


def test_wide_cells() -> None:
    body = pod(
        statuses=[status(ready=True, state=RUNNING)],
        status__podIPs=[{"ip": "10.244.0.5"}],
        status__podIP="10.244.0.5",
        status__conditions=[{"type": "Ready", "status": "True"}, {"type": "example.com/gate", "status": "True"}],
        spec__readinessGates=[{"conditionType": "example.com/gate"}, {"conditionType": "example.com/other"}],
    )
    assert pod_cells(body, now=NOW)[5:] == ["10.244.0.5", "minikube", "<none>", "1/2"]
    bare = pod(phase="Pending")
    del bare["spec"]["nodeName"]
    assert pod_cells(bare, now=NOW)[5:] == ["<none>", "<none>", "<none>", "<none>"]


def test_pod_table_shape() -> None:
    body = pod(statuses=[status(ready=True, state=RUNNING)])
    table = pod_table([body], now=NOW, resource_version="42")
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {"resourceVersion": "42"}
    names = [(c["name"], c["priority"]) for c in table["columnDefinitions"]]
    assert names == [
        ("Name", 0),
        ("Ready", 0),
        ("Status", 0),
        ("Restarts", 0),
        ("Age", 0),
        ("IP", 1),
        ("Node", 1),
        ("Nominated Node", 1),
        ("Readiness Gates", 1),
    ]
    assert table["columnDefinitions"][0]["format"] == "name"
    assert all(c["type"] == "string" and c["description"] for c in table["columnDefinitions"])
    row = table["rows"][0]
    assert row["cells"][:5] == ["echo", "1/1", "Running", "0", "10m"]
    assert row["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": body["metadata"],
    }
    assert "conditions" not in row


def test_pod_table_include_object() -> None:
    body = pod()
    assert pod_table([body], now=NOW, include_object="Object")["rows"][0]["object"] == body
    assert "object" not in pod_table([body], now=NOW, include_object="None")["rows"][0]
    with pytest.raises(ValueError):
        pod_table([body], now=NOW, include_object="Everything")
    copied = pod_table([body], now=NOW, include_object="Object")["rows"][0]["object"]
    copied["kind"] = "Changed"  # a row's object is a dict of its own (shallow: tables are encoded, not edited)
    assert body["kind"] == "Pod"
    partial = pod_table([body], now=NOW, include_object="Metadata")["rows"][0]["object"]
    partial["metadata"]["name"] = "changed"
    assert body["metadata"]["name"] == "echo"


def test_pod_table_row_conditions_for_finished_pods() -> None:
    done = pod_table([pod(phase="Succeeded"), pod(phase="Failed")], now=NOW)["rows"]
    assert done[0]["conditions"] == [
        {"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}
    ]
    assert done[1]["conditions"][0]["reason"] == "Failed"


# ---------------------------------------------------------------------------------------------------
# Rendering (kubectl get)


def two_pods() -> list[dict[str, Any]]:
    echo = pod(
        statuses=[status(ready=True, restarts=2, state=RUNNING, lastState=terminated(137, "Error", finished=45))],
        metadata__creationTimestamp=ago(190),
        status__podIPs=[{"ip": "10.244.0.5"}],
    )
    probe = pod(
        name="probe-x",
        statuses=[status(restarts=5, state={"waiting": {"reason": "CrashLoopBackOff"}}, lastState=CRASHED_LAST)],
        metadata__creationTimestamp=ago(12 * 60),
        metadata__labels={"run": "probe-x", "app": "demo"},
        status__podIPs=[{"ip": "10.244.0.6"}],
    )
    return [echo, probe]


def test_render_two_pods_matches_the_spec_example() -> None:
    expected = (
        "NAME      READY   STATUS             RESTARTS      AGE\n"
        "echo      1/1     Running            2 (45s ago)   3m10s\n"
        "probe-x   0/1     CrashLoopBackOff   5 (2m ago)    12m\n"
    )
    output = render_table(pod_table(two_pods(), now=NOW))
    assert [line.rstrip() for line in output.splitlines()] == [line.rstrip() for line in expected.splitlines()]
    assert output == expected  # every line has all cells, so there are no trailing spaces either


def test_render_wide() -> None:
    assert render_table(pod_table(two_pods(), now=NOW), wide=True) == (
        "NAME      READY   STATUS             RESTARTS      AGE     IP           NODE       NOMINATED NODE   "
        "READINESS GATES\n"
        "echo      1/1     Running            2 (45s ago)   3m10s   10.244.0.5   minikube   <none>           <none>\n"
        "probe-x   0/1     CrashLoopBackOff   5 (2m ago)    12m     10.244.0.6   minikube   <none>           <none>\n"
    )


def test_render_all_namespaces_with_labels() -> None:
    table = pod_table(two_pods(), now=NOW)
    assert render_table(table, with_namespace=True, show_labels=True) == (
        "NAMESPACE   NAME      READY   STATUS             RESTARTS      AGE     LABELS\n"
        "default     echo      1/1     Running            2 (45s ago)   3m10s   run=echo\n"
        "default     probe-x   0/1     CrashLoopBackOff   5 (2m ago)    12m     app=demo,run=probe-x\n"
    )


def test_render_label_columns_and_no_headers() -> None:
    table = pod_table(two_pods(), now=NOW)
    assert render_table(table, label_columns=["app.kubernetes.io/app", "app"], no_headers=True) == (
        "echo      1/1   Running            2 (45s ago)   3m10s         \n"
        "probe-x   0/1   CrashLoopBackOff   5 (2m ago)    12m           demo\n"
    )
    header = render_table(table, label_columns=["example.com/tier"]).splitlines()[0]
    assert header == "NAME      READY   STATUS             RESTARTS      AGE     TIER"


def test_render_without_row_objects_pads_with_empty_cells() -> None:
    table = pod_table(two_pods()[:1], now=NOW, include_object="None")
    assert render_table(table, with_namespace=True) == (
        "NAMESPACE   NAME   READY   STATUS    RESTARTS      AGE\n            echo   1/1     Running   2 (45s ago)   3m10s\n"
    )


def _name_message_table(rows: list[tuple[Any, Any]], *, last: str = "") -> dict[str, Any]:
    columns = [{"name": "Name", "priority": 0}, {"name": "Message", "priority": 0}]
    if last:
        columns.append({"name": last, "priority": 0})
    return {"columnDefinitions": columns, "rows": [{"cells": [*cells, *(["x"] if last else [])]} for cells in rows]}


def test_render_pads_headers_to_the_widest_raw_cell_in_bytes() -> None:
    """1.37's printTable pads a header (but the last) to its column's longest raw cell, in bytes: a column of
    multi-byte cells comes out wider than the tabwriter alone (which counts runes) would make it."""
    table = _name_message_table([("crème-brûlée", "a\nlong second line"), ("b", "short")], last="Age")
    assert render_table(table) == (  # 12 runes but 15 bytes; a 4-character cell from 18 raw bytes
        "NAME              MESSAGE              AGE\n"
        "crème-brûlée      a...                 x\n"
        "b                 short                x\n"
    )
    # The last column is never padded: a cut message in it changes nothing.
    assert render_table(_name_message_table([("b", "a\nlong second line")])) == "NAME   MESSAGE\nb      a...\n"


def test_render_no_headers_pads_the_first_row_instead() -> None:
    table = _name_message_table([("é", "cut\nhere"), ("bb", "x")], last="Age")
    assert render_table(table, no_headers=True) == "é     cut...   x\nbb    x        x\n"


def test_render_flushes_every_100_rows_keeping_the_widths() -> None:
    """The tabwriter is flushed every 100 rows; it remembers the widths (RememberWidths), and the padded
    header already holds the widest cell, so a wide cell after row 100 still lines up."""
    rows = [(f"r{i}", "m") for i in range(150)] + [("a-much-longer-name", "m")]
    lines = render_table(_name_message_table(rows)).splitlines()
    assert lines[0] == "NAME                 MESSAGE"
    assert {len(line) - 1 for line in lines[1:]} == {21}  # every MESSAGE cell starts at column 21
    rows = [("a-much-longer-name", "m")] + [(f"r{i}", "m") for i in range(150)]
    lines = render_table(_name_message_table(rows), no_headers=True).splitlines()
    assert {len(line) - 1 for line in lines} == {21}


def test_render_empty_table_prints_nothing() -> None:
    assert render_table(pod_table([], now=NOW)) == ""
    assert render_table(pod_table([], now=NOW), no_headers=True) == ""


def test_render_name() -> None:
    pods = two_pods()
    assert render_name(pods, "pod") == "pod/echo\npod/probe-x\n"
    assert render_name(pod_table(pods, now=NOW)["rows"], "pod") == "pod/echo\npod/probe-x\n"
    assert render_name(["a"], "namespace") == "namespace/a\n"
    assert render_name([], "pod") == ""


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (None, ""),
        ("plain", "plain"),
        ("two\nlines", "two..."),
        ("cr\rx", "cr..."),
        ("esc\x1b[31m", "esc^[[31m"),
        (5, "5"),
        (5.0, "5"),
        (1.5, "1.5"),
        (True, "true"),
    ],
)
def test_format_cell(cell: Any, expected: str) -> None:
    assert format_cell(cell) == expected


def test_format_labels() -> None:
    assert format_labels({}) == "<none>"
    assert format_labels(None) == "<none>"
    assert format_labels({"b": "2", "a": "1"}) == "a=1,b=2"


# ---------------------------------------------------------------------------------------------------
# Events


def event(name: str, reason: str, message: str, *, first: float, last: float, count: int = 1, **extra: Any) -> dict[str, Any]:
    body = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "echo", "namespace": "default", "fieldPath": "spec.containers{app}"},
        "reason": reason,
        "message": message,
        "type": "Normal",
        "source": {"component": "kubelet", "host": "minikube"},
        "firstTimestamp": ago(first),
        "lastTimestamp": ago(last),
        "count": count,
    }
    body.update(extra)
    return body


def events() -> list[dict[str, Any]]:
    scheduled = event("echo.1", "Scheduled", "Successfully assigned default/echo to minikube", first=80, last=80, count=0)
    scheduled.update(
        source={},
        firstTimestamp=None,
        lastTimestamp=None,
        eventTime="2024-01-01T11:58:39.500000Z",  # 80.5 s ago: ages truncate
        reportingController="default-scheduler",
        reportingInstance="default-scheduler-minikube",
    )
    scheduled["involvedObject"] = {"kind": "Pod", "name": "echo", "namespace": "default"}
    pulled = event("echo.2", "Pulled", 'Container image "busybox" already present on machine\n', first=79, last=10, count=2)
    unhealthy = event(
        "echo.3",
        "Unhealthy",
        "Liveness probe failed: HTTP probe failed with statuscode: 404",
        first=25,
        last=15,
        count=3,
    )
    unhealthy["type"] = "Warning"
    return [scheduled, pulled, unhealthy]


def test_event_cells() -> None:
    rows = event_table(events(), now=NOW)["rows"]
    assert rows[0]["cells"] == [
        "80s",
        "Normal",
        "Scheduled",
        "pod/echo",
        "",
        "default-scheduler, default-scheduler-minikube",
        "Successfully assigned default/echo to minikube",
        "80s",
        1,
        "echo.1",
    ]
    assert rows[1]["cells"][0] == "10s" and rows[1]["cells"][6].endswith("machine")
    assert rows[1]["cells"][5] == "kubelet, minikube"
    assert rows[1]["cells"][7:9] == ["79s", 2]


def test_event_series_and_object_without_name() -> None:
    body = event("x", "Started", "m", first=60, last=60)
    body["series"] = {"count": 7, "lastObservedTime": ago(5)}
    body["involvedObject"] = {"kind": "Node"}
    cells = event_table([body], now=NOW)["rows"][0]["cells"]
    assert cells[0] == "5s" and cells[3] == "node" and cells[8] == 7


def test_event_table_columns_follow_printers_go() -> None:
    assert [(c["name"], c["priority"]) for c in EVENT_COLUMNS] == [
        ("Last Seen", 0),
        ("Type", 0),
        ("Reason", 0),
        ("Object", 0),
        ("Subobject", 1),
        ("Source", 1),
        ("Message", 0),
        ("First Seen", 1),
        ("Count", 1),
        ("Name", 1),
    ]
    assert len(POD_COLUMNS) == 9


def test_render_events() -> None:
    table = event_table(events(), now=NOW)
    assert render_table(table) == (
        "LAST SEEN   TYPE      REASON      OBJECT     MESSAGE\n"
        "80s         Normal    Scheduled   pod/echo   Successfully assigned default/echo to minikube\n"
        '10s         Normal    Pulled      pod/echo   Container image "busybox" already present on machine\n'
        "15s         Warning   Unhealthy   pod/echo   Liveness probe failed: HTTP probe failed with statuscode: 404\n"
    )
    # Widths by the rule of docs/kubectl-output.md#tab-writers, max(len(widest cell) + 3, 6): SUBOBJECT 20+3, SOURCE 45+3,
    # MESSAGE 61+3, FIRST SEEN 10+3, COUNT 5+3; NAME is the last column and stays unpadded.
    wide = render_table(table, wide=True).splitlines()
    assert wide[0] == (
        "LAST SEEN   TYPE      REASON      OBJECT     "
        + "SUBOBJECT".ljust(23)
        + "SOURCE".ljust(48)
        + "MESSAGE".ljust(64)
        + "FIRST SEEN   COUNT   NAME"
    )
    assert wide[2] == (
        "10s         Normal    Pulled      pod/echo   "
        + "spec.containers{app}".ljust(23)
        + "kubelet, minikube".ljust(48)
        + 'Container image "busybox" already present on machine'.ljust(64)
        + "79s          2       echo.2"
    )


# ---------------------------------------------------------------------------------------------------
# Nodes and namespaces


def node(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": "minikube",
            "creationTimestamp": ago(3 * 86400),
            "labels": {"kubernetes.io/hostname": "minikube", "node-role.kubernetes.io/control-plane": ""},
        },
        "spec": {},
        "status": {
            "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
            "addresses": [
                {"type": "InternalIP", "address": "192.168.49.2"},
                {"type": "Hostname", "address": "minikube"},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.32.0",
                "osImage": "Ubuntu 22.04.4 LTS",
                "kernelVersion": "6.5.0",
                "containerRuntimeVersion": "docker://27.4.0",
            },
        },
    }
    merged = copy.deepcopy(body)
    for key, value in changes.items():
        section, _, field = key.partition("__")
        merged[section][field] = value
    return merged


def test_node_cells_and_render() -> None:
    table = node_table([node()], now=NOW)
    assert table["rows"][0]["cells"] == [
        "minikube",
        "Ready",
        "control-plane",
        "3d",
        "v1.32.0",
        "192.168.49.2",
        "<none>",
        "Ubuntu 22.04.4 LTS",
        "6.5.0",
        "docker://27.4.0",
    ]
    assert render_table(table) == (
        "NAME       STATUS   ROLES           AGE   VERSION\nminikube   Ready    control-plane   3d    v1.32.0\n"
    )
    assert render_table(table, wide=True).splitlines()[1] == (
        "minikube   Ready    control-plane   3d    v1.32.0   192.168.49.2   <none>        Ubuntu 22.04.4 LTS   6.5.0"
        "            docker://27.4.0"
    )


@pytest.mark.parametrize(
    ("changes", "status_text", "roles"),
    [
        ({"status__conditions": [{"type": "Ready", "status": "False"}]}, "NotReady", "control-plane"),
        ({"status__conditions": [{"type": "Ready", "status": "Unknown"}]}, "NotReady", "control-plane"),
        ({"status__conditions": []}, "Unknown", "control-plane"),
        ({"spec__unschedulable": True}, "Ready,SchedulingDisabled", "control-plane"),
        ({"metadata__labels": {}}, "Ready", "<none>"),
        ({"metadata__labels": {"kubernetes.io/role": "worker", "node-role.kubernetes.io/a": ""}}, "Ready", "a,worker"),
        ({"metadata__labels": {"node-role.kubernetes.io/": ""}}, "Ready", "<none>"),
    ],
)
def test_node_status_and_roles(changes: dict[str, Any], status_text: str, roles: str) -> None:
    cells = node_table([node(**changes)], now=NOW)["rows"][0]["cells"]
    assert cells[1:3] == [status_text, roles]


def test_node_unknown_system_info() -> None:
    cells = node_table([node(status__nodeInfo={}, status__addresses=[])], now=NOW)["rows"][0]["cells"]
    assert cells[4:] == ["", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"]


def test_namespace_table() -> None:
    namespaces = [
        {"metadata": {"name": "default", "creationTimestamp": ago(86400 * 10)}, "status": {"phase": "Active"}},
        {"metadata": {"name": "kube-system", "creationTimestamp": ago(3600)}, "status": {"phase": "Terminating"}},
    ]
    table = namespace_table(namespaces, now=NOW, resource_version="7")
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Status", "Age"]
    assert render_table(table) == (
        "NAME          STATUS        AGE\ndefault       Active        10d\nkube-system   Terminating   60m\n"
    )
