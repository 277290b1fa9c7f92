"""kubectl 1.37's `port-forward` against a real node: SPDY/3.1 in its WebSocket tunnel (its default) and plain
SPDY (KUBECTL_PORT_FORWARD_WEBSOCKETS=false); HTTP through a chosen and a random local port; several ports at
once; connections at once, megabytes down and up, the end of the local input reaching the pod (no SPDY flow
control on either side); Ctrl-C ends it cleanly (exit 0, the node's connections gone, nothing in the daemon's
log); a port nothing listens on is kubectl's error line; a missing pod is the API server's NotFound."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from nodes import KUBECTL, Node, eventually, kubectl_requests

pytestmark = pytest.mark.docker

ECHO_POD = (Path(__file__).resolve().parents[2] / "manifests" / "echo-pod.yml").read_text()
BIG = 3 * 1024 * 1024
# `echo` on 3000, a busybox httpd on 4000 serving `big` (BIG bytes of a known pattern), and on 5000 the
# sha256sum of what a connection sends until the end of its input, in one pod.
DUO_POD = f"""apiVersion: v1
kind: Pod
metadata: {{name: duo}}
spec:
  containers:
    - {{name: echo, image: minikubelet.local/echo:v1}}
    - name: files
      image: minikubelet.local/busybox:1.35
      command: [sh, -c, "mkdir -p /www && yes 0123456789abcdef | head -c {BIG} > /www/big && exec httpd -f -p 4000 -h /www"]
      readinessProbe: {{tcpSocket: {{port: 4000}}, periodSeconds: 1}}
    - name: sink
      image: minikubelet.local/busybox:1.35
      command: [sh, -c, "exec nc -ll -p 5000 -e sha256sum"]
      readinessProbe: {{tcpSocket: {{port: 5000}}, periodSeconds: 1}}
"""
BIG_SHA256 = hashlib.sha256((b"0123456789abcdef\n" * (BIG // 17 + 1))[:BIG]).hexdigest()
FORWARDING = re.compile(r"^Forwarding from (127\.0\.0\.1|\[::1\]):(\d+) -> (\d+)$")


@pytest.fixture(scope="module")
def node(kubectl_node: Node) -> Iterator[Node]:
    kubectl_node.cli("delete", "pods", "--all", "--grace-period=0", "--force")
    for manifest in (ECHO_POD, DUO_POD):
        applied = kubectl_node.kubectl("apply", "-f", "-", stdin=manifest)
        assert applied.returncode == 0, applied.stderr
    ready = kubectl_node.kubectl("wait", "--for=condition=Ready", "pod/echo", "pod/duo", "--timeout=90s", timeout=120)
    assert ready.returncode == 0, ready.stderr
    yield kubectl_node
    kubectl_node.cli("delete", "pods", "--all", "--grace-period=0", "--force")


class PortForward:
    """`kubectl port-forward ARGS` running; its stdout and stderr read line by line as they come."""

    def __init__(self, node: Node, *args: str, websockets: bool = True) -> None:
        env = {
            **node.env,
            "KUBECONFIG": str(node.kubeconfig),
            "HOME": str(node.home),
            "KUBECTL_PORT_FORWARD_WEBSOCKETS": "true" if websockets else "false",
        }
        self.process = subprocess.Popen(
            [KUBECTL, "port-forward", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        self.stdout: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        out, err = self.process.stdout, self.process.stderr
        assert out is not None and err is not None
        self.readers = [
            threading.Thread(target=lambda: [self.stdout.put(line) for line in out], daemon=True),
            threading.Thread(target=lambda: self.stderr.extend(err), daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    def line(self) -> str:
        return self.stdout.get(timeout=30).rstrip("\n")

    def listening(self, *remotes: int) -> dict[int, int]:
        """The local port of each remote port, once kubectl listens on both 127.0.0.1 and ::1 for each."""
        seen: list[tuple[str, int, int]] = []
        while len(seen) < 2 * len(remotes):
            match = FORWARDING.match(self.line())
            assert match, seen
            seen.append((match[1], int(match[2]), int(match[3])))
        ports = {remote: local for _, local, remote in seen}
        assert sorted(seen) == sorted((host, ports[r], r) for r in remotes for host in ("127.0.0.1", "[::1]"))
        return ports

    def finish(self, *, interrupt: bool = True) -> tuple[int, list[str], str]:
        """(Ctrl-C, then) the exit code, the stdout lines not read yet, and stderr."""
        if interrupt:
            self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=30)
        for reader in self.readers:
            reader.join(timeout=10)
        rest = []
        while not self.stdout.empty():
            rest.append(self.stdout.get().rstrip("\n"))
        return code, rest, "".join(self.stderr)

    def __enter__(self) -> PortForward:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for reader in self.readers:
            reader.join(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def get(port: int, path: str, *, host: str = "127.0.0.1") -> bytes:
    with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=30) as response:
        body: bytes = response.read()
    return body


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- what the node holds: its TCP connections and its log ------------------------------------------------------


def established(pid: int) -> list[tuple[str, int, str, int]]:
    """The process's established TCP connections (IPv4 and IPv4-mapped): (local ip, port, remote ip, port)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("tcp", "tcp6"):
        for row in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = row.split()
            if fields[3] == "01" and fields[9] in inodes:  # ESTABLISHED, one of the process's sockets
                found.append((*_address(fields[1]), *_address(fields[2])))
    return found


def _address(text: str) -> tuple[str, int]:
    host, port = text.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 16:  # tcp6: four little-endian words; an IPv4-mapped address ends with the IPv4 one
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
        if raw[:12] == bytes(10) + b"\xff\xff":
            return socket.inet_ntop(socket.AF_INET, raw[12:]), int(port, 16)
        return socket.inet_ntop(socket.AF_INET6, raw), int(port, 16)
    return socket.inet_ntop(socket.AF_INET, raw[::-1]), int(port, 16)


def daemon_pid(node: Node) -> int:
    return int((node.home / "daemon.pid").read_text().split()[0])


def api_port(node: Node) -> int:
    return int(json.loads((node.home / "endpoint.json").read_text())["port"])


class DaemonLog:
    """What the daemon logs from now on."""

    def __init__(self, node: Node) -> None:
        self.path = node.home / "daemon.log"
        self.start = self.path.stat().st_size

    def since(self) -> str:
        with self.path.open(encoding="utf-8", errors="replace") as log:
            log.seek(self.start)
            return log.read()


# --- the tests ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("websockets", [True, False], ids=["tunnel", "plain-spdy"])
def test_http_through_a_chosen_local_port(node: Node, websockets: bool) -> None:
    local = free_port()
    with PortForward(node, "-v=6", "pod/echo", f"{local}:3000", websockets=websockets) as forward:
        assert forward.listening(3000) == {3000: local}
        assert get(local, "/through").decode().startswith("GET /through HTTP/1.1\n")
        assert forward.line() == f"Handling connection for {local}"
        assert get(local, "/again", host="[::1]").decode().startswith("GET /again HTTP/1.1\n")
        assert forward.line() == f"Handling connection for {local}"
        code, rest, stderr = forward.finish()
    assert (code, rest) == (0, [])
    # kubectl spoke what was asked of it, at once: the tunnel (a GET upgraded to a WebSocket), or plain SPDY (a POST)
    upgrades = [r for r in kubectl_requests(stderr) if r[1].endswith("/portforward")]
    assert upgrades == [("GET" if websockets else "POST", "/api/v1/namespaces/default/pods/echo/portforward", 101)]
    assert not [line for line in stderr.splitlines() if line.startswith("E")], stderr


def upload(port: int, data: bytes) -> str:
    """Send `data`, end the input (a half-close), and read the answer to the end."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer.decode()


def test_several_ports_connections_at_once_and_megabytes_both_ways(node: Node) -> None:
    payload = os.urandom(BIG)
    with PortForward(node, "pod/duo", ":3000", ":4000", ":5000") as forward:
        ports = forward.listening(3000, 4000, 5000)
        paths = [f"/at-once/{i}" for i in range(8)]
        with ThreadPoolExecutor(max_workers=12) as pool:
            echoes = pool.map(lambda path: get(ports[3000], path).decode(), paths)
            downloads = [pool.submit(get, ports[4000], "/big") for _ in range(2)]
            uploads = [pool.submit(upload, ports[5000], payload) for _ in range(2)]
            for path, echo in zip(paths, echoes, strict=True):
                assert echo.startswith(f"GET {path} HTTP/1.1\n")
            for download in downloads:
                assert hashlib.sha256(download.result()).hexdigest() == BIG_SHA256
            for sent in uploads:  # the end of the local input reached the pod, which answered, then closed
                assert sent.result().split() == [hashlib.sha256(payload).hexdigest(), "-"]
        code, rest, stderr = forward.finish()
    assert (code, stderr) == (0, "")
    connections = {3000: 8, 4000: 2, 5000: 2}
    assert sorted(rest) == sorted(f"Handling connection for {ports[p]}" for p, n in connections.items() for _ in range(n))


@pytest.mark.parametrize("websockets", [True, False], ids=["tunnel", "plain-spdy"])
def test_ctrl_c_ends_it_and_the_node_lets_go_of_everything(node: Node, websockets: bool) -> None:
    pod_ip = node.pod("echo")["status"]["podIP"]
    pid, api = daemon_pid(node), api_port(node)
    log = DaemonLog(node)

    def to_pod() -> list[tuple[str, int, str, int]]:
        return [c for c in established(pid) if c[2] == pod_ip]

    def from_clients() -> list[tuple[str, int, str, int]]:
        return [c for c in established(pid) if c[1] == api]

    assert eventually(lambda: not to_pod(), timeout=30)
    clients_before = len(from_clients())
    with PortForward(node, "pod/echo", ":3000", websockets=websockets) as forward:
        port = forward.listening(3000)[3000]
        # a connection the pod holds open (a request not finished yet) when Ctrl-C comes
        held = socket.create_connection(("127.0.0.1", port), timeout=30)
        held.sendall(b"GET /held HTTP/1.1\r\n")
        assert eventually(lambda: len(to_pod()) == 1, timeout=30)
        assert get(port, "/done").startswith(b"GET /done HTTP/1.1\n")
        began = time.monotonic()
        code, _, stderr = forward.finish()
        held.close()
    assert (code, stderr) == (0, "")
    assert time.monotonic() - began < 10
    assert eventually(lambda: not to_pod(), timeout=30), to_pod()
    assert eventually(lambda: len(from_clients()) <= clients_before, timeout=30), from_clients()
    logged = log.since()
    assert "Traceback" not in logged and " ERROR " not in logged, logged


def test_a_port_nothing_listens_on_is_kubectls_error_line(node: Node) -> None:
    pod = node.pod("echo")
    uid, pod_ip = pod["metadata"]["uid"], pod["status"]["podIP"]
    with PortForward(node, "pod/echo", ":3000", ":3999") as forward:
        ports = forward.listening(3000, 3999)
        assert get(ports[3000], "/first").startswith(b"GET /first HTTP/1.1\n")
        with socket.create_connection(("127.0.0.1", ports[3999]), timeout=30) as refused:
            refused.settimeout(30)
            assert refused.recv(100) == b""  # closed, nothing said
        # kubectl 1.37 prints the error, then drops the whole session (its client closes the connection on any
        # error from the server): `lost connection to pod`, exit 1, as against a cluster.
        code, rest, stderr = forward.finish(interrupt=False)
    assert code == 1
    assert rest == [f"Handling connection for {ports[3000]}", f"Handling connection for {ports[3999]}"]
    lines = stderr.splitlines()
    expected = (
        r'E\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ portforward\.go:\d+\] "An error occurred forwarding" '
        rf'err="error forwarding port 3999 to pod echo, uid {uid}: '
        rf'dial tcp4 {re.escape(pod_ip)}:3999: connect: connection refused" '
        rf"localPort={ports[3999]} remotePort=3999"
    )
    assert re.fullmatch(expected, lines[0]), lines
    assert lines[1:] == ["error: lost connection to pod"]
    # the node serves the next session as the first
    with PortForward(node, "pod/echo", ":3000", websockets=False) as again:
        assert get(again.listening(3000)[3000], "/next").startswith(b"GET /next HTTP/1.1\n")
        assert again.finish()[0] == 0


def test_a_missing_pod_is_the_api_servers_not_found(node: Node) -> None:
    began = time.monotonic()
    missing = node.kubectl("port-forward", "pod/nope", "3000", timeout=30)
    assert (missing.returncode, missing.stdout, missing.stderr) == (
        1,
        "",
        'Error from server (NotFound): pods "nope" not found\n',
    )
    assert time.monotonic() - began < 10
