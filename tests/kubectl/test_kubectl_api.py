"""What kubectl 1.37 asks the API besides objects: `explain` (OpenAPI v3), `auth can-i`, `auth whoami`, and the
streaming lists its waits use (`delete`, `wait`, `run --rm`): no warning, no hang."""

from __future__ import annotations

import importlib.resources
import json
import subprocess
import time
from pathlib import Path

import pytest
from nodes import BUSYBOX, Node, eventually

ROOT = Path(__file__).resolve().parents[2]
ECHO = str(ROOT / "manifests" / "echo-pod.yml")


@pytest.fixture
def node(kubectl_node: Node) -> Node:
    kubectl_node.cli("delete", "pods", "--all", "--grace-period=0", "--force")
    return kubectl_node


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "warning" not in result.stderr, result.stderr
    return result.stdout


def definitions() -> dict[str, dict[str, object]]:
    path = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema" / "v1.37.0-local" / "_definitions.json"
    defs: dict[str, dict[str, object]] = json.loads(path.read_text())["$defs"]
    return defs


def first_words(text: object, count: int = 8) -> str:
    return " ".join(str(text).split()[:count])


def test_explain_a_probe_field_with_kubernetes_own_descriptions(node: Node) -> None:
    shown = ok(node.kubectl("explain", "pod.spec.containers.livenessProbe"))
    probe = definitions()["io.k8s.api.core.v1.Probe"]
    assert shown.startswith("KIND:       Pod\nVERSION:    v1\n\nFIELD: livenessProbe <Probe>\n")
    folded = " ".join(shown.split())
    for name, field in probe["properties"].items():  # type: ignore[attr-defined]
        assert f"\n  {name}\t<" in shown
        assert first_words(field["description"]) in folded
    assert "  periodSeconds\t<integer>\n" in shown
    assert "  httpGet\t<HTTPGetAction>\n" in shown


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("pod", "KIND:       Pod"),
        ("pods.spec.containers", "FIELD: containers <[]Container>"),
        ("pod.spec.containers.resources.limits", "FIELD: limits <map[string]Quantity>"),
        ("pod.spec.containers.livenessProbe.httpGet.port", "FIELD: port <IntOrString>"),
        ("pod.spec.restartPolicy", "FIELD: restartPolicy <string>"),
        ("node.status.nodeInfo.kubeletVersion", "FIELD: kubeletVersion <string>"),
    ],
)
def test_explain_any_pod_or_node_field(node: Node, path: str, line: str) -> None:
    assert line in ok(node.kubectl("explain", path)).splitlines()


def test_explain_recursive_and_a_field_that_does_not_exist(node: Node) -> None:
    tree = ok(node.kubectl("explain", "pod.spec.containers.startupProbe", "--recursive"))
    assert "  timeoutSeconds\t<integer>\n" in tree
    missing = node.kubectl("explain", "pod.spec.bogus")
    assert (missing.returncode, missing.stderr) == (1, 'error: field "bogus" does not exist\n')


def test_auth_can_i_says_yes_and_whoami_names_the_user(node: Node) -> None:
    assert ok(node.kubectl("auth", "can-i", "create", "pods")) == "yes\n"
    assert ok(node.kubectl("auth", "can-i", "delete", "pods", "--all-namespaces")) == "yes\n"
    assert ok(node.kubectl("auth", "can-i", "get", "/healthz")) == "yes\n"
    rules = ok(node.kubectl("auth", "can-i", "--list")).splitlines()
    assert rules[0].split() == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    assert rules[1].split() == ["*.*", "[]", "[]", "[*]"]
    assert ok(node.kubectl("auth", "whoami")).splitlines() == [
        "ATTRIBUTE   VALUE",
        "Username    minikubelet",
        "Groups      [system:masters system:authenticated]",
    ]


def test_waits_on_streaming_lists_return_at_once_without_warnings(node: Node) -> None:
    """kubectl 1.37 waits through a watch-list (sendInitialEvents, then the initial-events-end bookmark): a
    server without it makes `delete` hang with `awaiting required bookmark event for initial events stream`."""
    assert ok(node.kubectl("apply", "-f", ECHO)) == "pod/echo created\n"
    began = time.monotonic()
    ready = node.kubectl("wait", "--for=condition=Ready", "pod/echo", "--timeout=60s", timeout=90)
    assert ok(ready) == "pod/echo condition met\n"
    assert ok(node.kubectl("delete", "-f", ECHO, "--grace-period=1", timeout=60)) == 'pod "echo" deleted from default namespace\n'
    assert eventually(lambda: node.kubectl("get", "pod", "echo").returncode == 1)
    ran = node.kubectl("run", "once", "--rm", "-i", "--restart=Never", f"--image={BUSYBOX}", "--", "echo", "hello", timeout=90)
    assert ran.returncode == 0, ran.stderr
    # kubectl prints the logs so far, then attaches; a command that ended meanwhile has its logs printed again
    # from that second on (kubectl's sinceTime has whole seconds), as on a cluster.
    assert ran.stdout.startswith("hello\n") and ran.stdout.endswith('\npod "once" deleted from default namespace\n')
    assert "bookmark" not in ran.stderr
    assert time.monotonic() - began < 60
