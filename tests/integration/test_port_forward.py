"""`minikubelet port-forward` on the real engine, through the real CLI and daemon: local TCP ports relayed to
a pod's ports over the API server's WebSocket port-forward, in kubectl's words (`Forwarding from ...`,
`Handling connection for ...`), with Ctrl-C as the way out (exit 0)."""

from __future__ import annotations

import queue
import signal
import socket
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from nodes import CLI, Node, eventually, running_node

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
ECHO_IMAGE = "minikubelet.local/echo:v1"
BUSYBOX = "minikubelet.local/busybox:1.35"


@pytest.fixture(scope="module")
def node(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A node running the tutorial's echo pod (port 3000)."""
    for made in running_node(tmp_path_factory.mktemp("port-forward-home")):
        made.cli("apply", "-f", str(ROOT / "manifests" / "echo-pod.yml"), check=True)
        made.cli("wait", "--for=condition=Ready", "pod/echo", "--timeout", "60s", check=True, timeout=90)
        assert serving(made, "echo", 3000)
        yield made


def serving(node: Node, pod: str, port: int) -> bool:
    """Whether the pod's server accepts connections on `port` (from the host, to the pod's IP), within a deadline:
    a pod without a readiness probe is Ready once its container runs, a moment before its server listens."""
    address = node.pod(pod)["status"]["podIP"]

    def accepts() -> bool:
        try:
            with socket.create_connection((address, port), timeout=1):
                return True
        except OSError:
            return False

    return eventually(accepts, timeout=20)


class Forward:
    """`minikubelet port-forward ARGS` running; its stdout read line by line as it comes."""

    def __init__(self, node: Node, *args: str) -> None:
        self.process = subprocess.Popen(
            [*CLI, "port-forward", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=node.env
        )
        self.lines: queue.Queue[str] = queue.Queue()
        assert self.process.stdout is not None
        self.reader = threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True)
        self.reader.start()

    def _read(self, stdout: Iterator[str]) -> None:
        for line in stdout:
            self.lines.put(line)

    def line(self) -> str:
        return self.lines.get(timeout=20)

    def local_port(self, remote: int) -> int:
        """The port of the first `Forwarding from 127.0.0.1:PORT -> REMOTE` line."""
        line = self.line()
        assert line.startswith("Forwarding from 127.0.0.1:") and line.endswith(f" -> {remote}\n"), line
        return int(line.split(":")[1].split()[0])

    def interrupt(self) -> tuple[int, list[str], str]:
        """Ctrl-C: the exit code, the stdout lines not read yet, and stderr."""
        self.process.send_signal(signal.SIGINT)
        return self.finish()

    def finish(self) -> tuple[int, list[str], str]:
        code = self.process.wait(timeout=20)
        assert self.process.stderr is not None
        stderr = self.process.stderr.read()
        self.reader.join(timeout=10)
        rest = []
        while not self.lines.empty():
            rest.append(self.lines.get())
        return code, rest, stderr

    def __enter__(self) -> Forward:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def get(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        body: str = response.read().decode()
    return body


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_http_through_a_random_local_port_one_after_another_and_at_once(node: Node) -> None:
    with Forward(node, "pod/echo", ":3000") as forward:
        port = forward.local_port(3000)
        for i in range(3):
            assert get(port, f"/one/{i}").startswith(f"GET /one/{i} HTTP/1.1\n")
        with ThreadPoolExecutor(max_workers=5) as pool:
            bodies = list(pool.map(lambda i: get(port, f"/many/{i}"), range(5)))
        assert [body.splitlines()[0] for body in bodies] == [f"GET /many/{i} HTTP/1.1" for i in range(5)]
        code, rest, stderr = forward.interrupt()
    assert (code, stderr) == (0, "")
    assert rest == [f"Handling connection for {port}\n"] * 8
    assert eventually(lambda: "GET /many/4 HTTP/1.1" in node.cli("logs", "echo").stdout)


def test_an_explicit_local_port_and_the_same_port_on_both_sides(node: Node) -> None:
    local = free_port()
    with Forward(node, "echo", f"{local}:3000") as forward:
        assert forward.line() == f"Forwarding from 127.0.0.1:{local} -> 3000\n"
        assert get(local, "/explicit").startswith("GET /explicit HTTP/1.1\n")
        assert forward.interrupt()[0] == 0
    same = free_port()  # an echo server listening on a port that is also free here
    pod = f"""apiVersion: v1
kind: Pod
metadata: {{name: same}}
spec:
  containers:
    - name: app
      image: {ECHO_IMAGE}
      env: [{{name: PORT, value: "{same}"}}]
      ports: [{{name: web, containerPort: {same}}}]
"""
    node.cli("apply", "-f", "-", stdin=pod, check=True)
    node.cli("wait", "--for=condition=Ready", "pod/same", "--timeout", "60s", check=True, timeout=90)
    assert serving(node, "same", same)
    with Forward(node, "pod/same", str(same)) as forward:
        assert forward.line() == f"Forwarding from 127.0.0.1:{same} -> {same}\n"
        assert eventually(lambda: _answers(same), timeout=10)  # the server in the pod may start a moment late
        forward.interrupt()
    with Forward(node, "pod/same", ":web") as forward:  # a named container port
        assert get(forward.local_port(same), "/named").startswith("GET /named HTTP/1.1\n")
        forward.interrupt()
    node.cli("delete", "pod", "same", "--grace-period=0", "--force", check=True)


def _answers(port: int) -> bool:
    try:
        return get(port, "/same").startswith("GET /same HTTP/1.1\n")
    except OSError:
        return False


def test_the_end_of_the_local_input_reaches_the_pod(node: Node) -> None:
    pod = f"""apiVersion: v1
kind: Pod
metadata: {{name: counter}}
spec:
  containers:
    - {{name: wc, image: {BUSYBOX}, command: [nc, -ll, -p, "4000", -e, wc, -c]}}
"""
    node.cli("apply", "-f", "-", stdin=pod, check=True)
    node.cli("wait", "--for=condition=Ready", "pod/counter", "--timeout", "60s", check=True, timeout=90)
    assert serving(node, "counter", 4000)
    with Forward(node, "pod/counter", ":4000") as forward:
        port = forward.local_port(4000)
        for payload in (b"hello", b"x" * 100_000):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
                connection.sendall(payload)
                connection.shutdown(socket.SHUT_WR)  # wc counts until the end of its input, then answers
                answer = b""
                while chunk := connection.recv(4096):
                    answer += chunk
            assert answer.strip() == str(len(payload)).encode()
        assert forward.interrupt()[0] == 0
    node.cli("delete", "pod", "counter", "--grace-period=0", "--force", check=True)


def test_a_port_nothing_listens_on_is_an_error_for_that_connection_only(node: Node) -> None:
    uid = node.pod("echo")["metadata"]["uid"]
    with Forward(node, "pod/echo", ":3999", ":3000") as forward:
        closed, working = forward.local_port(3999), forward.local_port(3000)
        with socket.create_connection(("127.0.0.1", closed), timeout=10) as connection:
            assert connection.recv(100) == b""  # closed at once
        assert get(working, "/still").startswith("GET /still HTTP/1.1\n")
        code, _, stderr = forward.interrupt()
    assert code == 0
    assert stderr.startswith(
        f"an error occurred forwarding {closed} -> 3999: error forwarding port 3999 to pod echo, uid {uid}: "
    ), stderr


def test_a_missing_or_not_running_pod_is_refused_at_once(node: Node) -> None:
    missing = node.cli("port-forward", "pod/nope", "3000", timeout=20)
    assert (missing.returncode, missing.stdout, missing.stderr) == (
        1,
        "",
        'Error from server (NotFound): pods "nope" not found\n',
    )
    stuck = """apiVersion: v1
kind: Pod
metadata: {name: stuck}
spec:
  containers:
    - {name: app, image: minikubelet.local/absent:1, imagePullPolicy: Never}
"""
    node.cli("apply", "-f", "-", stdin=stuck, check=True)
    pending = node.cli("port-forward", "pod/stuck", "3000", timeout=20)
    assert (pending.returncode, pending.stderr) == (
        1,
        "error: unable to forward port because pod is not running. Current status=Pending\n",
    )
    node.cli("delete", "pod", "stuck", "--grace-period=0", "--force", check=True)


def test_a_port_in_use_here_is_refused(node: Node) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = node.cli("port-forward", "pod/echo", f"{port}:3000", timeout=20)
    assert result.returncode == 1
    assert result.stderr == (
        f"Unable to listen on port {port}: Listeners failed to create with the following errors: "
        f"[unable to create listener: Error listen tcp4 127.0.0.1:{port}: bind: address already in use]\n"
        f"error: unable to listen on any of the requested ports: [{{{port} 3000}}]\n"
    )


def test_the_pods_deletion_ends_the_forwarding(node: Node) -> None:
    node.cli("run", "doomed", f"--image={ECHO_IMAGE}", check=True)
    node.cli("wait", "--for=condition=Ready", "pod/doomed", "--timeout", "60s", check=True, timeout=90)
    assert serving(node, "doomed", 3000)
    with Forward(node, "pod/doomed", ":3000") as forward:
        get(forward.local_port(3000), "/before")
        node.cli("delete", "pod", "doomed", "--grace-period=1", "--no-wait", check=True)
        code, _, stderr = forward.finish()
    assert (code, stderr) == (1, "error: lost connection to pod\n")
