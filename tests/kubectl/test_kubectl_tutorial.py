"""The seed walk-through (the pods chapter of the tutorial notes) with kubectl 1.37, command by command as the
notes write them: only the image is the local one (no registry is reachable), and the notes' own
mis-indented echo-pod.yml is kept as written (manifests/invalid/echo-pod.yml) before the corrected one."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from nodes import KUBECTL, Node, eventually
from terminal import run_in_pty

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "manifests"
ECHO_IMAGE = "minikubelet.local/echo:v1"


@pytest.fixture
def node(kubectl_node: Node) -> Node:
    kubectl_node.cli("delete", "pods", "--all", "--grace-period=0", "--force")
    return kubectl_node


def run(node: Node, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return node.kubectl(*args, timeout=timeout)


def row_of(node: Node, name: str) -> list[str]:
    lines = run(node, "get", "pod").stdout.splitlines()
    rows = [line.split() for line in lines[1:] if line.split()[0] == name]
    return rows[0] if rows else []


def test_the_pods_chapter_as_the_notes_write_it(node: Node) -> None:
    env = {**node.env, "KUBECONFIG": str(node.kubeconfig), "HOME": str(node.home)}
    # kubectl run echo --image ...
    created = run(node, "run", "echo", "--image", ECHO_IMAGE)
    assert (created.returncode, created.stdout) == (0, "pod/echo created\n"), created.stderr
    # kubectl get pod
    assert run(node, "get", "pod").stdout.splitlines()[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert eventually(lambda: row_of(node, "echo")[1:3] == ["1/1", "Running"], timeout=60)
    # kubectl desribe pod/echo (the notes' typo), then what it meant
    typo = run(node, "desribe", "pod/echo")
    assert typo.returncode == 1 and 'unknown command "desribe" for "kubectl"' in typo.stderr and "\tdescribe\n" in typo.stderr
    described = run(node, "describe", "pod/echo").stdout
    for reason, message in [
        ("Scheduled", "Successfully assigned default/echo to "),
        ("Pulled", f'spec.containers{{echo}}: Container image "{ECHO_IMAGE}" already present on machine and can be accessed'),
        ("Created", "spec.containers{echo}: Container created"),
        ("Started", "spec.containers{echo}: Container started"),
    ]:
        assert re.search(rf"^  Normal  +{reason} .*{re.escape(message)}", described, re.MULTILINE), described
    # kubectl delete pod/echo
    deleted = run(node, "delete", "pod/echo")
    assert (deleted.returncode, deleted.stdout) == (0, 'pod "echo" deleted from default namespace\n'), deleted.stderr
    # kubectl apply -f echo-pod.yml: first the notes' file as written (labels: empty, app: under metadata) ...
    as_written = run(node, "apply", "-f", str(MANIFESTS / "invalid" / "echo-pod.yml"))
    assert as_written.returncode == 1
    assert as_written.stderr.endswith('strict decoding error: unknown field "metadata.app"\n'), as_written.stderr
    # ... then the corrected one
    applied = run(node, "apply", "-f", str(MANIFESTS / "echo-pod.yml"))
    assert (applied.returncode, applied.stdout) == (0, "pod/echo created\n"), applied.stderr
    assert eventually(lambda: row_of(node, "echo")[1:3] == ["1/1", "Running"], timeout=60)
    # kubectl logs echo; kubectl logs -f echo
    logs = run(node, "logs", "echo")
    assert logs.returncode == 0 and "listening" in logs.stdout.lower(), logs
    with subprocess.Popen([KUBECTL, "logs", "-f", "echo"], stdout=subprocess.PIPE, text=True, env=env) as follow:
        assert follow.stdout is not None
        first = follow.stdout.readline()
        assert first == logs.stdout.splitlines(keepends=True)[0]
        with pytest.raises(subprocess.TimeoutExpired):  # -f keeps following: it does not end by itself
            follow.wait(timeout=0.5)
        follow.terminate()
    # kubectl exec -it echo -- sh; ls; ps; exit
    script: list[tuple[bytes, bytes]] = [(b"# ", b"ls\n"), (b"bin", b"ps\n"), (b"PID", b"exit\n")]
    code, shown = run_in_pty([KUBECTL, "exec", "-it", "echo", "--", "sh"], env, list(script), timeout=60)
    assert code == 0, shown
    assert b"bin" in shown and b"PID" in shown
    # kubectl delete -f echo-pod.yml
    removed = run(node, "delete", "-f", str(MANIFESTS / "echo-pod.yml"))
    assert (removed.returncode, removed.stdout) == (0, 'pod "echo" deleted from default namespace\n'), removed.stderr
    assert run(node, "get", "pod", "echo").returncode == 1


def test_the_notes_liveness_probe_restarts_the_container(node: Node) -> None:
    """echo-lp: a liveness probe on a path and port that do not exist (failureThreshold 1, period 5 s)."""
    applied = run(node, "apply", "-f", str(MANIFESTS / "echo-lp.yml"))
    assert (applied.returncode, applied.stdout) == (0, "pod/echo-lp created\n"), applied.stderr
    assert eventually(lambda: len(row_of(node, "echo-lp")) > 3 and row_of(node, "echo-lp")[3] != "0", timeout=60)
    described = run(node, "describe", "pod/echo-lp").stdout
    assert re.search(r"^  Warning  Unhealthy .* spec.containers\{app\}: Liveness probe failed: ", described, re.MULTILINE)
    assert "spec.containers{app}: Container app failed liveness probe, will be restarted" in described
    assert run(node, "delete", "-f", str(MANIFESTS / "echo-lp.yml"), "--grace-period=1").returncode == 0
