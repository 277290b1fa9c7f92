"""`get -o jsonpath|jsonpath-as-json|custom-columns`, `--sort-by`, `-L` and `-w --output-watch-events`: the real
kubectl and our CLI against the same node print the same bytes (compared at one moment, `agrees`); bad
templates give kubectl's error line and exit code."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import pytest
from compare import agrees
from nodes import KUBECTL, Node, eventually
from typer.testing import CliRunner

from minikubelet.cli.main import _kubectl_booleans, app

BUSYBOX = "minikubelet.local/busybox:1.35"


def sleeper(name: str, grace: int, labels: dict[str, str], annotations: dict[str, str], cpus: list[str]) -> dict[str, Any]:
    containers = [
        {
            "name": f"c{i}",
            "image": BUSYBOX,
            "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
            "resources": {"requests": {"cpu": cpu}},
        }
        for i, cpu in enumerate(cpus)
    ]
    metadata = {"name": name, "labels": labels, "annotations": annotations}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"terminationGracePeriodSeconds": grace, "containers": containers},
    }


@pytest.fixture(scope="module")
def pods(kubectl_node: Node) -> Node:
    node = kubectl_node
    node.kubectl("delete", "pods", "--all", "--grace-period=0", "--force")
    manifests = [
        sleeper("web", 5, {"app": "web", "example.com/team": "blue"}, {"note": "a<b & c>d", "uni": "héllo ✓"}, ["100m", "500m"]),
        sleeper("db", 1, {"app": "db"}, {}, ["250m"]),
        sleeper("cache", 30, {}, {}, ["1m"]),
    ]
    created = node.kubectl("apply", "-f", "-", stdin="\n---\n".join(json.dumps(m) for m in manifests))
    assert created.returncode == 0, created.stderr

    def all_running() -> bool:
        phases = node.kubectl("get", "pods", "-o", "jsonpath={.items[*].status.phase}").stdout.split()
        return phases == ["Running"] * 3

    assert eventually(all_running, timeout=30)
    return node


SAME = [
    ("get", "pods", "-o", "jsonpath={.items[*].metadata.name}"),
    ("get", "pods", "-o", 'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.spec.nodeName}{"\\n"}{end}'),
    ("get", "pod", "web", "-o", 'jsonpath={.metadata.labels}{"\\n"}{.metadata.annotations.note}{.metadata.annotations}'),
    ("get", "pods", "-o", "jsonpath={.items[*].spec.terminationGracePeriodSeconds} {.kind}"),
    ("get", "pods", "-o", 'jsonpath={.items[?(@.metadata.labels.app=="db")].spec.containers[*].resources}'),
    ("get", "pods", "-o", "jsonpath={.items[-1:].metadata.name}{.items[0:2].metadata.uid}"),
    ("get", "pods", "-o", "jsonpath={.items[*].spec.containers[*]['name','image']}"),
    ("get", "pods", "-o", "jsonpath={.items[?(@.spec.terminationGracePeriodSeconds>2)].metadata.name}"),
    ("get", "pods", "-o", "jsonpath={.items[0].metadata.managedFields[0].manager}{.items[0].status.conditions[0]}"),
    ("get", "pods", "-o", "jsonpath={.nope}x"),
    ("get", "pod", "web", "-o", "jsonpath-as-json={.metadata.labels}{.spec.containers[*].name}"),
    ("get", "pods", "-o", "jsonpath", "--template={.items[*].status.phase}"),
    (
        "get",
        "pods",
        "-o",
        "custom-columns=NAME:.metadata.name,lbl:.metadata.labels,CPU:.spec.containers[*].resources.requests.cpu,X:.nope",
    ),
    ("get", "pods", "-o", "custom-columns=N:metadata.name,NODE:{.spec.nodeName}", "--no-headers"),
    ("get", "pods", "--sort-by=.metadata.name"),
    ("get", "pods", "--sort-by=.spec.terminationGracePeriodSeconds", "-o", "wide"),
    ("get", "pods", "--sort-by={.spec.containers[0].resources.requests.cpu}", "-o", "name"),
    ("get", "pods", "--sort-by=.metadata.labels.app", "-o", "custom-columns=N:.metadata.name,APP:.metadata.labels.app"),
    ("get", "pods", "--sort-by=.metadata.name", "-o", "jsonpath={.items[*].metadata.name}"),
    ("get", "pods", "-L", "app"),
    ("get", "pods", "-L", "app,example.com/team", "--show-labels", "-o", "wide"),
    ("get", "pods", "-Lapp", "-L", "tier", "--sort-by=.metadata.name", "--no-headers"),
    ("get", "pods", "-A", "-L", "app"),
]


@pytest.mark.parametrize("args", SAME, ids=lambda args: " ".join(args[1:]))
def test_prints_what_kubectl_prints(pods: Node, args: tuple[str, ...]) -> None:
    agrees(pods, *args)


@pytest.mark.parametrize(
    "args",
    [
        ("get", "pods", "-o", "jsonpath={.foo"),
        ("get", "pods", "-o", "jsonpath={.items[9]}"),
        ("get", "pods", "-o", "jsonpath"),
        ("get", "pods", "-o", "jsonpath={.nope}", "--allow-missing-template-keys=false"),
        ("get", "pods", "-o", "custom-columns=A"),
        ("get", "pods", "-o", "custom-columns=A:{.x"),
        ("get", "pods", "-o", "name", "--sort-by=.nope"),
        ("get", "pods", "-o", "json", "--show-labels"),
        ("get", "pods", "-o", "custom-columns=A:.a", "-L", "app"),
        ("get", "pods", "--output-watch-events"),
        ("get", "pods", "-o", "nope"),
        ("get", "pods", "--sort-by=.nope"),
    ],
    ids=lambda args: " ".join(args[1:]),
)
def test_bad_input_is_kubectls_error(pods: Node, args: tuple[str, ...]) -> None:
    theirs = pods.kubectl(*args)
    ours = CliRunner().invoke(app, _kubectl_booleans(list(args)), env=pods.env)  # `--x=false` as main() reads it
    assert (ours.exit_code, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)
    assert ours.exception is None or isinstance(ours.exception, SystemExit)


def _watch(node: Node, program: list[str], args: tuple[str, ...]) -> subprocess.Popen[str]:
    env = {**node.env, "KUBECONFIG": str(node.kubeconfig), "HOME": str(node.home)}
    return subprocess.Popen([*program, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


WATCHES = [
    ("get", "pods", "-w", "--output-watch-events", "-o", "name"),
    ("get", "pods", "-w", "-o", "custom-columns=N:.metadata.name,T:.type"),
    ("get", "pods", "-w", "--output-watch-events", "-o", "custom-columns=N:.metadata.name,T:.type"),
    ("get", "pods", "-w", "--output-watch-events", "-o", 'jsonpath={.type} {.object.metadata.name}{"\\n"}'),
    ("get", "pods", "--watch-only", "-o", 'jsonpath={.metadata.name}{"\\t"}{.metadata.labels.app}{"\\n"}'),
]


def test_watches_print_what_kubectl_prints(pods: Node) -> None:
    """Both watch at once while a pod comes and goes: the same lines, events and alignment."""
    ours_cli = [sys.executable, "-m", "minikubelet"]
    running = [(args, _watch(pods, [KUBECTL], args), _watch(pods, ours_cli, args)) for args in WATCHES]
    try:
        time.sleep(4)  # both have listed
        late = sleeper("a-much-longer-name", 1, {"app": "late"}, {}, ["10m"])
        assert pods.kubectl("apply", "-f", "-", stdin=json.dumps(late)).returncode == 0
        assert eventually(
            lambda: pods.kubectl("get", "pod", "a-much-longer-name", "-o", "jsonpath={.status.phase}").stdout == "Running"
        )
        assert pods.kubectl("delete", "pod", "a-much-longer-name", "--grace-period=1").returncode == 0
        time.sleep(2)
    finally:
        outputs = []
        for args, theirs, ours in running:
            theirs.terminate()
            ours.terminate()
            outputs.append((args, theirs.communicate(timeout=10)[0], ours.communicate(timeout=10)[0]))
    for args, theirs_out, ours_out in outputs:
        assert "a-much-longer-name" in theirs_out or "DELETED" in theirs_out, args  # kubectl saw the changes
        assert ours_out == theirs_out, " ".join(args)
