"""`minikubelet test`: flags, bad input, exit codes, the per-pod lines, cleanup and --junit, against a fake node
(the real engine's answers are in tests/integration/test_verdict_docker.py)."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from minikubelet.cli import test as verdict_cli
from minikubelet.cli.main import app
from minikubelet.errors import NotFoundError, StatusError, UnavailableError

runner = CliRunner()
POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n    - name: app\n      image: i:1\n"


def manifest(tmp_path: Path, *names: str, file: str = "pods.yml") -> str:
    path = tmp_path / file
    path.write_text("---\n".join(POD.format(name=n) for n in names))
    return str(path)


def status(phase: str = "Running", *, ready: bool = False, **container: Any) -> dict[str, Any]:
    entry = {"name": "app", "ready": ready, "restartCount": 0, "state": {"running": {}}} | container
    return {
        "phase": phase,
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        "containerStatuses": [entry],
    }


class FakeNode:
    """The API the command uses: dry runs, deletes and creates are recorded; each watch plays its script once."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.cleaned: list[str] = []  # the deletes of the pods the run created (uid preconditions)
        self.pods: dict[str, dict[str, Any]] = {}
        self.pod_script: list[tuple[str, str, dict[str, Any]]] = []  # (pod name, watch type, status)
        self.event_script: list[tuple[str, dict[str, Any]]] = []  # (pod name, event)
        self.invalid: set[str] = set()
        self.existing: set[str] = set()
        self.statuses: dict[str, dict[str, Any]] = {}
        self.broken_watch = False

    def __enter__(self) -> FakeNode:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def close(self) -> None:
        pass

    def get(self, path: str, *, params: dict[str, Any] | None = None, table: bool = False) -> Any:
        if path in ("/api/v1/pods", "/api/v1/events") or path.endswith(("/events", "/probes", "/lifecycle")):
            return {"metadata": {"resourceVersion": "1"}, "items": []}
        name = path.rsplit("/", 1)[1]
        if name not in self.pods:
            raise NotFoundError(f'pods "{name}" not found')
        return self.pods[name] | {"status": self.statuses.get(name, self.pods[name]["status"])}

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None, **kw: Any) -> Any:
        self.requests.append((method, path, params or {}))
        if method == "DELETE" and "preconditions" in body:
            self.cleaned.append(path)
        if method == "POST":
            name = body["metadata"]["name"]
            if name in self.invalid:
                details = {"kind": "Pod", "name": name, "causes": [{"field": "spec", "message": "Forbidden: no"}]}
                raise StatusError.from_status({"reason": "Invalid", "message": "invalid", "details": details}, 422)
            if (params or {}).get("dryRun"):
                return body
            pod = copy.deepcopy(body)
            pod["metadata"]["uid"] = f"uid-{name}"
            pod["status"] = status("Pending")
            self.pods[name] = pod
            return pod
        if method == "DELETE":
            name = path.rsplit("/", 1)[1]
            if name in self.existing:
                self.existing.discard(name)
                return {}
            if self.pods.pop(name, None) is None:
                raise NotFoundError(f'pods "{name}" not found')
            return {}
        raise AssertionError(method)

    def watch(self, path: str, *, params: dict[str, Any] | None = None, table: bool = False) -> Iterator[tuple[str, Any]]:
        if self.broken_watch:
            raise UnavailableError("the watch on the node's API broke: connection reset")
        if path == "/api/v1/pods":
            script, self.pod_script = self.pod_script, []
            for name, type_, st in script:
                self.statuses[name] = st
                yield type_, {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"}, "spec": {}, "status": st}
        else:
            events, self.event_script = self.event_script, []
            for name, event in events:
                yield "ADDED", event | {"involvedObject": {"uid": f"uid-{name}"}}

    def stream(self, path: str, *, params: dict[str, Any] | None = None) -> Iterator[bytes]:
        yield b"log of " + path.split("/")[-2].encode() + b"\n"


@pytest.fixture
def node(monkeypatch: pytest.MonkeyPatch) -> FakeNode:
    fake = FakeNode()
    monkeypatch.setattr(verdict_cli, "_connect", lambda paths: fake)
    return fake


def deletes(fake: FakeNode) -> list[str]:
    return fake.cleaned


def test_help_lists_the_flags() -> None:
    result = runner.invoke(app, ["test", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for flag in ("--filename", "--ready-within", "--hold", "--max-restarts", "--junit", "--artifacts", "--keep", "--home"):
        assert flag in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ready-within", "soon"], "invalid duration: soon"),
        (["--hold=-1s"], "must not be negative"),
        (["--max-restarts", "-1"], "must be 0 or more"),
    ],
)
def test_bad_flags_are_bad_input(tmp_path: Path, node: FakeNode, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["test", "-f", manifest(tmp_path, "web"), *args])
    assert result.exit_code == verdict_cli.EXIT_BAD_INPUT == 2
    assert message in result.stderr
    assert node.requests == []


def test_invalid_files_end_with_apply_s_errors_before_anything_is_sent(tmp_path: Path, node: FakeNode) -> None:
    good = manifest(tmp_path, "good", file="good.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text(POD.format(name="-bad"))
    result = runner.invoke(app, ["test", "-f", good, "-f", str(bad), "-f", str(tmp_path / "missing.yml")])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f'{bad}: The Pod "-bad" is invalid: metadata.name: Invalid value')
    assert lines[-1] == f"{tmp_path / 'missing.yml'}: the path does not exist"
    assert node.requests == []


def test_a_deployment_gets_the_only_pods_message(tmp_path: Path, node: FakeNode) -> None:
    path = tmp_path / "deploy.yml"
    path.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {}\n")
    result = runner.invoke(app, ["test", "-f", str(path)])
    assert result.exit_code == 2
    assert result.stderr == (
        f'{path}: no matches for kind "Deployment" in version "apps/v1": minikubelet serves Pod (v1)\n'
        "error: minikubelet test runs only Pods (kind: Pod, apiVersion: v1), not Deployment: "
        "put the pod template (its spec.template) in a Pod manifest of its own\n"
    )


def test_nothing_to_test_and_a_pod_named_twice_are_bad_input(tmp_path: Path, node: FakeNode) -> None:
    empty = tmp_path / "empty.yml"
    empty.write_text("# nothing\n")
    assert runner.invoke(app, ["test", "-f", str(empty)]).stderr == "error: no objects passed to test\n"
    twice = runner.invoke(app, ["test", "-f", manifest(tmp_path, "web", "web")])
    assert twice.exit_code == 2
    assert "error: pod/web is in the manifests twice" in twice.stderr


def test_the_server_s_refusal_is_bad_input_and_nothing_is_created(tmp_path: Path, node: FakeNode) -> None:
    node.invalid = {"second"}
    result = runner.invoke(app, ["test", "-f", manifest(tmp_path, "first", "second")])
    assert result.exit_code == 2
    assert 'The Pod "second" is invalid' in result.stderr
    assert all(params.get("dryRun") == "All" for method, _, params in node.requests if method == "POST")


def test_a_pod_that_becomes_ready_passes(tmp_path: Path, node: FakeNode) -> None:
    node.pod_script = [("web", "MODIFIED", status("Running", ready=True))]
    result = runner.invoke(app, ["test", "-f", manifest(tmp_path, "web"), "--hold", "0"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("PASS    pod/web  Ready after ")
    assert "1 pod: 1 passed, 0 failed, 0 not Ready in time" in result.stdout
    assert deletes(node) == ["/api/v1/namespaces/default/pods/web"]  # cleaned up


def test_keep_leaves_the_pods(tmp_path: Path, node: FakeNode) -> None:
    node.pod_script = [("web", "MODIFIED", status("Running", ready=True))]
    result = runner.invoke(app, ["test", "-f", manifest(tmp_path, "web"), "--hold", "0", "--keep"])
    assert result.exit_code == 0
    assert deletes(node) == []


def test_a_pod_left_from_an_earlier_run_is_replaced(tmp_path: Path, node: FakeNode) -> None:
    node.existing = {"web"}
    node.pod_script = [("web", "MODIFIED", status("Running", ready=True))]
    result = runner.invoke(app, ["test", "-f", manifest(tmp_path, "web"), "--hold", "0"])
    assert result.exit_code == 0
    assert "pod/web was on the node already" in result.stderr
    assert [path for method, path, _ in node.requests if method == "DELETE"] == ["/api/v1/namespaces/default/pods/web"] * 2


def test_crash_loop_fails_at_once_with_the_why(tmp_path: Path, node: FakeNode) -> None:
    crash = status("Running", state={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s restarting"}})
    node.pod_script = [("ok", "MODIFIED", status("Running", ready=True)), ("crash", "MODIFIED", crash)]
    result = runner.invoke(app, ["test", "-f", manifest(tmp_path, "ok", "crash"), "--hold", "0", "--max-restarts", "3"])
    assert result.exit_code == verdict_cli.EXIT_FAILED == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("PASS    pod/ok")
    assert lines[1].startswith("FAIL    pod/crash  CrashLoopBackOff after ")
    assert lines[1].endswith(": container app: back-off 10s restarting")
    assert "--- pod/crash: why" in result.stdout
    assert "2 pods: 1 passed, 1 failed, 0 not Ready in time" in result.stdout


def test_a_liveness_kill_fails_from_its_event(tmp_path: Path, node: FakeNode) -> None:
    node.pod_script = [("web", "MODIFIED", status("Running", ready=True))]
    message = "Container app failed liveness probe, will be restarted"
    node.event_script = [("web", {"reason": "Killing", "message": message})]
    result = runner.invoke(app, ["test", "-f", manifest(tmp_path, "web"), "--hold", "30s", "--max-restarts", "5"])
    assert result.exit_code == 1
    assert "LivenessKill after " in result.stdout and message in result.stdout


def test_a_pod_never_ready_ends_at_its_deadline_with_code_3(tmp_path: Path, node: FakeNode) -> None:
    node.pod_script = [("slow", "MODIFIED", status("Running"))]
    result = runner.invoke(app, ["test", "-f", manifest(tmp_path, "slow"), "--ready-within", "0.3", "--hold", "0"])
    assert result.exit_code == verdict_cli.EXIT_DEADLINE == 3
    assert "TIMEOUT pod/slow  DeadlineExceeded after 0.3" in result.stdout
    assert "not Ready within 0.30s: phase Running, container app running, not ready" in result.stdout


def test_a_failure_outranks_a_deadline(tmp_path: Path, node: FakeNode) -> None:
    node.pod_script = [("gone", "DELETED", status("Running")), ("slow", "MODIFIED", status("Running"))]
    result = runner.invoke(app, ["test", "-f", manifest(tmp_path, "gone", "slow"), "--ready-within", "0.2"])
    assert result.exit_code == 1
    assert "FAIL    pod/gone  Deleted after" in result.stdout


def test_a_node_that_cannot_start_is_code_4_and_the_report_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(paths: Any) -> Any:
        raise UnavailableError("the node did not answer within 20.0s; see daemon.log")

    monkeypatch.setattr(verdict_cli, "_connect", refuse)
    report = tmp_path / "report.xml"
    result = runner.invoke(app, ["test", "-f", manifest(tmp_path, "web"), "--junit", str(report)])
    assert result.exit_code == verdict_cli.EXIT_NODE == 4
    assert result.stderr == "error: the node could not start: the node did not answer within 20.0s; see daemon.log\n"
    error = ET.parse(report).getroot().find("testsuite/testcase/error")
    assert error is not None and error.attrib["type"] == "NodeUnavailable"


def test_a_node_that_stops_answering_is_code_4(tmp_path: Path, node: FakeNode) -> None:
    node.broken_watch = True
    result = runner.invoke(app, ["test", "-f", manifest(tmp_path, "web")])
    assert result.exit_code == 4
    assert "error: the node stopped answering: the watch on the node's API broke: connection reset" in result.stderr
    assert "ERROR   pod/web  NodeUnavailable" in result.stdout


def test_junit_has_a_suite_per_file_and_the_logs(tmp_path: Path, node: FakeNode) -> None:
    crash = status("Running", state={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}})
    node.pod_script = [("a", "MODIFIED", status("Running", ready=True)), ("b", "MODIFIED", crash)]
    report = tmp_path / "out.xml"
    one, two = manifest(tmp_path, "a", file="one.yml"), manifest(tmp_path, "b", file="two.yml")
    result = runner.invoke(app, ["test", "-f", one, "-f", two, "--hold", "0", "--junit", str(report)])
    assert result.exit_code == 1
    root = ET.parse(report).getroot()
    assert (root.attrib["tests"], root.attrib["failures"], root.attrib["errors"]) == ("2", "1", "0")
    assert [s.attrib["name"] for s in root.findall("testsuite")] == [one, two]
    case = root.find("testsuite/testcase")
    assert case is not None and case.attrib["name"] == "pod/a" and case.attrib["classname"] == one
    assert case.findtext("system-out") == "==> container app <==\nlog of a\n"
    failure = root.find("testsuite[2]/testcase/failure")
    assert failure is not None and failure.attrib["type"] == "CrashLoopBackOff"
    assert "pod default/b" in (failure.text or "")  # the why narrative
