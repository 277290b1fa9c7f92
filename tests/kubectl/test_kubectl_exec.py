"""The real /usr/bin/kubectl (1.32) running `exec` and `run -it --rm` against a real node: the WebSocket
`v5.channel.k8s.io` stream (no SPDY fallback), exit codes from the status channel, stdin, a TTY on a
pseudo-terminal with its size, attach, and the API server's refusals in kubectl's words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from nodes import KUBECTL, Node, eventually
from terminal import run_in_pty

ROOT = Path(__file__).resolve().parents[2]
BUSYBOX = "minikubelet.local/busybox:1.35"


@pytest.fixture(scope="module")
def node(kubectl_node: Node) -> Iterator[Node]:
    """The node with the echo pod running (deleted at the end of the module)."""
    kubectl_node.cli("delete", "pods", "--all", "--grace-period=0", "--force")
    applied = kubectl_node.kubectl("apply", "-f", str(ROOT / "manifests" / "echo-pod.yml"))
    assert applied.returncode == 0, applied.stderr
    try:
        ready = kubectl_node.kubectl("wait", "--for=condition=Ready", "pod/echo", "--timeout=60s", timeout=90)
        assert ready.returncode == 0, ready.stderr
        yield kubectl_node
    finally:
        kubectl_node.kubectl("delete", "pod", "echo", "--grace-period=1")


def kubectl_in_pty(node: Node, args: list[str], script: list[tuple[bytes, bytes]], *, timeout: float = 60) -> tuple[int, bytes]:
    """kubectl `args` on a 40x100 pseudo-terminal; each time the output since the last step shows
    `script[i][0]`, type `script[i][1]`. The exit code and everything the terminal showed."""
    env = {**node.env, "KUBECONFIG": str(node.kubeconfig), "HOME": str(node.home)}
    return run_in_pty([KUBECTL, *args], env, list(script), timeout=timeout)


def test_exec_ls_over_websocket_without_falling_back(node: Node) -> None:
    result = node.kubectl("exec", "echo", "-v=6", "--", "ls", "/")
    assert result.returncode == 0, result.stderr
    assert "bin" in result.stdout.split()
    upgraded = 'exec?command=ls&command=%2F&container=app&stderr=true&stdout=true" status="101 Switching Protocols"'
    assert upgraded in result.stderr
    assert "fallback" not in result.stderr.lower()


def test_a_non_zero_exit_code_becomes_kubectls(node: Node) -> None:
    result = node.kubectl("exec", "echo", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert result.returncode == 3
    assert result.stdout == "out\n"
    assert result.stderr == "err\ncommand terminated with exit code 3\n"


def test_exec_dash_i_passes_stdin_to_its_end(node: Node) -> None:
    result = node.kubectl("exec", "-i", "echo", "--", "cat", stdin="hello\nworld\n")
    assert (result.returncode, result.stdout) == (0, "hello\nworld\n"), result.stderr


def test_an_interactive_tty_session(node: Node) -> None:
    script = [(b"# ", b"stty size; echo $((6*7))\n"), (b"42", b"exit 5\n")]
    code, shown = kubectl_in_pty(node, ["exec", "-it", "echo", "--", "sh"], script)
    assert code == 5, shown
    assert b"40 100\r\n42\r\n" in shown  # the initial resize reached the TTY
    assert shown.endswith(b"command terminated with exit code 5\r\n")


def test_run_it_rm_prints_the_output_and_deletes_the_pod(node: Node) -> None:
    args = ["run", "-it", "--rm", "--restart=Never", "t", f"--image={BUSYBOX}", "--", "sh", "-c", "echo hi"]
    code, shown = kubectl_in_pty(node, args, [])
    assert code == 0, shown
    assert b"hi\r" in shown and shown.endswith(b'pod "t" deleted from default namespace\r\n')  # the pod's TTY wrote "hi\r\n"
    assert eventually(lambda: node.kubectl("get", "pod", "t").returncode == 1)


def test_run_i_rm_attaches_with_stdin_and_exits_with_the_containers_code(node: Node) -> None:
    command = "echo before; read x; echo got $x; exit 4"
    result = node.kubectl(
        "run", "-i", "--rm", "--restart=Never", "t4", f"--image={BUSYBOX}", "--", "sh", "-c", command, stdin="abc\n"
    )
    assert result.returncode == 4, result.stderr
    assert result.stdout == 'before\ngot abc\npod "t4" deleted from default namespace\n'
    assert result.stderr.endswith("pod default/t4 terminated (Error)\n")


def test_run_it_rm_with_a_shell(node: Node) -> None:
    args = ["run", "-it", "--rm", "--restart=Never", "shell", f"--image={BUSYBOX}", "--", "sh"]
    code, shown = kubectl_in_pty(node, args, [(b"# ", b"echo $((6*7))\n"), (b"42", b"exit 0\n")])
    assert code == 0, shown
    recorded = b"All commands and output from this session will be recorded in container logs, including credentials"
    assert recorded in shown  # after the logs so far (the shell's banner), before the attach
    assert b"If you don't see a command prompt, try pressing enter.\r\n" in shown
    assert b"Session ended, resume using 'kubectl attach shell -c shell -n default -i -t' command\r\n" in shown
    assert b"42\r\n" in shown and shown.endswith(b'pod "shell" deleted from default namespace\r\n')


def test_exec_into_a_missing_pod_or_container(node: Node) -> None:
    missing = node.kubectl("exec", "nope", "--", "ls")
    assert (missing.returncode, missing.stderr) == (1, 'Error from server (NotFound): pods "nope" not found\n')
    wrong = node.kubectl("exec", "echo", "-c", "bad", "--", "ls")  # kubectl 1.37 checks the name itself
    assert (wrong.returncode, wrong.stderr) == (1, "error: container bad is not valid for pod echo out of: app\n")
    ours = node.cli("exec", "echo", "-c", "bad", "--", "ls")
    assert (ours.returncode, ours.stderr) == (wrong.returncode, wrong.stderr)
