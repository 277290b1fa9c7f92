"""The real /usr/bin/kubectl (1.32) against a real node: the commands a pods tutorial uses first."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from pathlib import Path

import pytest
from compare import agrees
from nodes import KUBECTL, Node, eventually

ROOT = Path(__file__).resolve().parents[2]
ECHO = str(ROOT / "manifests" / "echo-pod.yml")


@pytest.fixture
def node(kubectl_node: Node) -> Node:
    kubectl_node.cli("delete", "pods", "--all", "--grace-period=0", "--force")
    return kubectl_node


def test_version_reports_minor_37_without_a_skew_warning(node: Node) -> None:
    result = node.kubectl("version", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["serverVersion"]["minor"] == "37"
    assert "skew" not in node.kubectl("version").stderr


def test_apply_created_unchanged_configured(node: Node, tmp_path: Path) -> None:
    first = node.kubectl("apply", "-f", ECHO)
    assert (first.returncode, first.stdout) == (0, "pod/echo created\n"), first.stderr
    again = node.kubectl("apply", "-f", ECHO)
    assert (again.returncode, again.stdout) == (0, "pod/echo unchanged\n"), again.stderr
    edited = tmp_path / "echo.yml"
    edited.write_text(Path(ECHO).read_text().replace("app: echo", "app: echo\n    tier: web"))
    changed = node.kubectl("apply", "-f", str(edited))
    assert (changed.returncode, changed.stdout) == (0, "pod/echo configured\n"), changed.stderr
    labels = json.loads(node.kubectl("get", "pod", "echo", "-o", "json").stdout)["metadata"]["labels"]
    assert labels == {"app": "echo", "tier": "web"}
    # Our own apply agrees with what kubectl left behind.
    assert node.cli("apply", "-f", str(edited)).stdout == "pod/echo unchanged\n"


def test_misspelled_field_is_refused_by_server_side_validation(node: Node, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(Path(ECHO).read_text() + "      readinesProbe:\n        tcpSocket: {port: 3000}\n")
    result = node.kubectl("apply", "-f", str(bad))
    assert result.returncode == 1
    assert 'strict decoding error: unknown field "spec.containers[0].readinesProbe"' in result.stderr
    warn = node.kubectl("apply", "--validate=warn", "-f", str(bad))
    assert warn.returncode == 0, warn.stderr
    assert 'unknown field "spec.containers[0].readinesProbe"' in warn.stderr


def test_get_pods_is_byte_identical_with_ours(node: Node) -> None:
    node.kubectl("apply", "-f", ECHO)
    node.cli("run", "web", "--image", "minikubelet.local/busybox:1.35", check=True)
    theirs = agrees(node, "get", "pods")
    assert theirs.stdout.splitlines()[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    wide_theirs, wide_ours = node.kubectl("get", "pods", "-o", "wide"), node.cli("get", "pods", "-o", "wide")
    assert wide_theirs.stdout.splitlines()[0].split() == wide_ours.stdout.splitlines()[0].split()
    assert "NOMINATED NODE" in wide_theirs.stdout.splitlines()[0]


def test_get_yaml_describe_and_events(node: Node) -> None:
    node.kubectl("apply", "-f", ECHO)
    assert eventually(lambda: "Scheduled" in node.kubectl("get", "events").stdout)
    assert eventually(lambda: node.pod("echo")["status"].get("phase") == "Running", timeout=30)
    pod = node.kubectl("get", "pod", "echo", "-o", "yaml")
    assert pod.returncode == 0 and "kind: Pod" in pod.stdout and "last-applied-configuration" in pod.stdout
    described = node.kubectl("describe", "pod/echo")
    assert described.returncode == 0, described.stderr
    assert "Successfully assigned default/echo to" in described.stdout
    ours = node.cli("describe", "pod/echo").stdout
    keys = [line.split(":")[0] for line in described.stdout.splitlines() if not line.startswith(" ")]
    assert [line.split(":")[0] for line in ours.splitlines() if not line.startswith(" ")] == keys


def test_create_run_and_errors(node: Node) -> None:
    assert node.kubectl("create", "-f", ECHO).stdout == "pod/echo created\n"
    again = node.kubectl("create", "-f", ECHO)
    assert again.returncode == 1
    assert 'pods "echo" already exists' in again.stderr
    run = node.kubectl("run", "hello", "--image=minikubelet.local/busybox:1.35", "--restart=Never")
    assert run.stdout == "pod/hello created\n", run.stderr
    labels = json.loads(node.kubectl("get", "pod", "hello", "-o", "json").stdout)["metadata"]["labels"]
    assert labels == {"run": "hello"}
    missing = node.kubectl("get", "pod", "nope")
    assert missing.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'


def test_delete_by_name_and_by_file(node: Node) -> None:
    node.kubectl("apply", "-f", ECHO)
    assert eventually(lambda: "echo" in node.kubectl("get", "pods", "-o", "name").stdout)
    deleted = node.kubectl("delete", "pod/echo")
    assert (deleted.returncode, deleted.stdout) == (0, 'pod "echo" deleted from default namespace\n'), deleted.stderr
    node.kubectl("apply", "-f", ECHO)
    by_file = node.kubectl("delete", "-f", ECHO)
    assert (by_file.returncode, by_file.stdout) == (0, 'pod "echo" deleted from default namespace\n'), by_file.stderr
    assert node.kubectl("get", "pods").stderr == "No resources found in default namespace.\n"


def test_watch_prints_rows_as_pods_change(node: Node) -> None:
    node.kubectl("apply", "-f", ECHO)
    env = {**node.env, "KUBECONFIG": str(node.kubeconfig), "HOME": str(node.home)}
    lines: queue.Queue[str] = queue.Queue()
    with subprocess.Popen([KUBECTL, "get", "pods", "-w"], stdout=subprocess.PIPE, text=True, env=env) as watcher:
        assert watcher.stdout is not None
        reader = threading.Thread(target=lambda: [lines.put(line) for line in watcher.stdout], daemon=True)  # type: ignore[union-attr]
        reader.start()
        try:
            header = lines.get(timeout=20)
            assert header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
            assert lines.get(timeout=20).startswith("echo ")
            node.kubectl("label", "pod", "echo", "changed=yes")
            assert lines.get(timeout=20).startswith("echo "), "a changed pod appears as a new row"
        finally:
            watcher.terminate()


def test_no_token_is_401(node: Node) -> None:
    config = node.kubectl("config", "view", "--raw", "-o", "json")
    server = json.loads(config.stdout)["clusters"][0]["cluster"]["server"]
    result = node.kubectl("--token", "wrong", "get", "pods")
    assert result.returncode == 1
    assert "You must be logged in to the server" in result.stderr
    assert server.startswith("https://127.0.0.1:")


def test_all_namespaces_tables_match_ours(node: Node) -> None:
    node.kubectl("apply", "-f", ECHO)
    theirs = agrees(node, "get", "pods", "-A")
    assert theirs.stdout.splitlines()[0].split()[:2] == ["NAMESPACE", "NAME"]
    events_theirs, events_ours = node.kubectl("get", "events"), node.cli("get", "events")
    assert events_theirs.stdout.splitlines()[0] == events_ours.stdout.splitlines()[0]
