"""`minikubelet exec` and `run -i --rm` on the real Docker engine, through the real CLI and daemon (local
images only): the WebSocket exec/attach stream end to end, including a TTY session on a pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import subprocess
import termios
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nodes import CLI, Node, eventually, running_node
from terminal import Action, run_in_pty

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
BUSYBOX = "minikubelet.local/busybox:1.35"
PAIR = f"""apiVersion: v1
kind: Pod
metadata: {{name: pair}}
spec:
  containers:
    - {{name: first, image: {BUSYBOX}, command: [sleep, "3600"]}}
    - {{name: second, image: {BUSYBOX}, command: [sleep, "3600"]}}
"""


@pytest.fixture(scope="module")
def node(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from running_node(tmp_path_factory.mktemp("exec-home"))


@pytest.fixture(scope="module")
def echo(node: Node) -> Iterator[str]:
    """The tutorial's echo pod, running (deleted at the end of the module)."""
    node.cli("apply", "-f", str(ROOT / "manifests" / "echo-pod.yml"), check=True)
    try:
        node.cli("wait", "--for=condition=Ready", "pod/echo", "--timeout", "60s", check=True, timeout=90)
        yield "echo"
    finally:
        node.cli("delete", "pod", "echo", "--grace-period=1")


def resize(rows: int, columns: int, then: bytes) -> Action:
    """Make the terminal `rows` x `columns` and tell the process (SIGWINCH, as a terminal would), then type `then`."""

    def act(master: int, process: subprocess.Popen[bytes]) -> None:
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        process.send_signal(signal.SIGWINCH)
        os.write(master, then)

    return act


def test_exec_lists_the_containers_root(node: Node, echo: str) -> None:
    result = node.cli("exec", echo, "--", "ls", "/")
    assert result.returncode == 0, result.stderr
    assert "bin" in result.stdout.split()


def test_a_non_zero_exit_is_our_exit_code(node: Node, echo: str) -> None:
    result = node.cli("exec", echo, "--", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert result.returncode == 3
    assert result.stdout == "out\n"
    assert result.stderr == "err\ncommand terminated with exit code 3\n"


def test_stdin_with_dash_i(node: Node, echo: str) -> None:
    result = node.cli("exec", "-i", echo, "--", "cat", stdin="hello\n")
    assert (result.returncode, result.stdout) == (0, "hello\n"), result.stderr
    # Without -i, stdin is not passed: cat reads an immediate end.
    assert node.cli("exec", echo, "--", "cat", stdin="ignored\n").stdout == ""


def test_dash_t_without_a_terminal_warns_and_runs_without_a_tty(node: Node, echo: str) -> None:
    result = node.cli("exec", "-it", echo, "--", "sh", "-c", "test -t 0 || echo no-tty", stdin="")
    assert (result.returncode, result.stdout) == (0, "no-tty\n")
    assert result.stderr == "Unable to use a TTY - input is not a terminal or the right kind of file\n"


def test_the_container_of_a_two_container_pod(node: Node, tmp_path: Path) -> None:
    manifest = tmp_path / "pair.yml"
    manifest.write_text(PAIR)
    node.cli("apply", "-f", str(manifest), check=True)
    try:
        node.cli("wait", "--for=condition=Ready", "pod/pair", "--timeout", "60s", check=True, timeout=90)
        chosen = node.cli("exec", "-c", "second", "pair", "--", "hostname")
        assert (chosen.returncode, chosen.stderr) == (0, "")
        defaulted = node.cli("exec", "pair", "--", "true")
        assert defaulted.returncode == 0
        assert defaulted.stderr == 'Defaulted container "first" out of: first, second\n'
        wrong = node.cli("exec", "-c", "third", "pair", "--", "true")
        assert wrong.returncode == 1
        assert wrong.stderr == "error: container third is not valid for pod pair out of: first, second\n"  # as kubectl 1.37
    finally:
        node.cli("delete", "pod", "pair", "--grace-period=1")


def test_a_missing_pod(node: Node) -> None:
    result = node.cli("exec", "nope", "--", "ls")
    assert (result.returncode, result.stderr) == (1, 'Error from server (NotFound): pods "nope" not found\n')


def test_an_interactive_session_on_a_terminal(node: Node, echo: str) -> None:
    wait_for_the_new_size = b'until [ "$(stty size)" = "50 120" ]; do usleep 10000; done; echo re$((1))sized\n'
    script: list[tuple[bytes, Action]] = [
        (b"# ", b"stty size; echo $((6*7))\n"),
        (b"42", resize(50, 120, then=wait_for_the_new_size)),
        (b"re1sized", b"exit 5\n"),
    ]
    code, shown = run_in_pty([*CLI, "exec", "-it", echo, "--", "sh"], node.env, script)
    assert code == 5, shown
    assert b"40 100\r\n42\r\n" in shown  # the terminal's size reached the TTY; \n became \r\n there
    assert b"re1sized\r\n" in shown  # and so did its new size, after SIGWINCH
    assert shown.endswith(b"command terminated with exit code 5\r\n")


def test_run_dash_i_rm_prints_the_output_and_removes_the_pod(node: Node) -> None:
    result = node.cli("run", "-i", "--rm", "--restart=Never", "t", "--image", BUSYBOX, "--", "sh", "-c", "echo hi", timeout=90)
    assert result.returncode == 0, result.stderr
    assert result.stdout == 'hi\npod "t" deleted from default namespace\n'
    assert node.cli("get", "pod", "t").stderr == 'Error from server (NotFound): pods "t" not found\n'


def test_run_dash_i_passes_stdin_and_the_exit_code(node: Node) -> None:
    command = "echo before; read x; echo got $x; exit 4"
    result = node.cli("run", "-i", "--rm", "--restart=Never", "t4", "--image", BUSYBOX, "--", "sh", "-c", command, stdin="abc\n")
    assert result.returncode == 4, result.stderr
    # what it printed before the attach is not lost (printed from the logs), nor printed twice (the attach sends only new output)
    assert result.stdout == 'before\ngot abc\npod "t4" deleted from default namespace\n'
    assert result.stderr.endswith("pod default/t4 terminated (Error)\n")


def test_run_dash_it_rm_on_a_terminal(node: Node) -> None:
    argv = [*CLI, "run", "-it", "--rm", "--restart=Never", "shell", "--image", BUSYBOX, "--", "sh"]
    code, shown = run_in_pty(argv, node.env, [(b"# ", b"echo $((6*7))\n"), (b"42", b"exit 0\n")], timeout=60)
    assert code == 0, shown
    assert b"42\r\n" in shown and shown.endswith(b'pod "shell" deleted from default namespace\r\n')
    assert b"Session ended, resume using 'kubectl attach shell -c shell -n default -i -t' command\r\n" in shown


def test_exec_into_a_completed_pod_is_refused(node: Node) -> None:
    node.cli("run", "done", "--image", BUSYBOX, "--restart=Never", "--", "true", check=True)
    try:
        assert eventually(lambda: node.pod("done")["status"].get("phase") == "Succeeded", timeout=60)
        result = node.cli("exec", "done", "--", "ls")
        assert result.returncode == 1
        assert result.stderr == "error: cannot exec into a container in a completed pod; current phase is Succeeded\n"
    finally:
        node.cli("delete", "pod", "done", "--grace-period=1")
