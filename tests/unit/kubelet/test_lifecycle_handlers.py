"""Lifecycle hook handlers (kubelet/lifecycle.py): exec through the fake runtime, httpGet against a local server on
127.0.0.1, sleep, and upstream's messages for each failure."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from minikubelet.kubelet.lifecycle import LIFECYCLE_USER_AGENT, format_pod, run_handler
from minikubelet.runtime.fake import FakeRuntime
from minikubelet.runtime.interface import ContainerID, ContainerSpec, ExecResult, PodRef, SandboxSpec

PAUSE, BUSYBOX = "pause:3.9", "busybox:1.35"
POD: dict[str, Any] = {
    "metadata": {"name": "web", "namespace": "default", "uid": "u-1"},
    "status": {"podIP": "127.0.0.1"},
}
WHERE = '"web_default(u-1)"'


@dataclass
class Server:
    """A tiny HTTP/1.1 server answering every request with `status`, recording request heads."""

    status: int = 200
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = await reader.read(1)
        if first == b"\x16":  # a TLS ClientHello: a plain HTTP server answers 400, as Go's and busybox's do
            writer.write(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        head = (first + await reader.readuntil(b"\r\n\r\n")).decode()
        lines = head.split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        self.requests.append((lines[0], headers))
        writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody".encode())
        await writer.drain()
        writer.close()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()
    listener = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.port = listener.sockets[0].getsockname()[1]
    async with listener:
        yield state


@pytest.fixture
async def running() -> tuple[FakeRuntime, ContainerID]:
    runtime = FakeRuntime(present_images=[PAUSE, BUSYBOX])
    ref = PodRef("u-1", "web", "default")
    sandbox = await runtime.run_sandbox(SandboxSpec(pod=ref, image=PAUSE, hostname="web"))
    spec = ContainerSpec(pod=ref, name="app", kind="app", attempt=0, image=BUSYBOX, sandbox_id=sandbox.id, spec_hash="h")
    cid = await runtime.create_container(spec)
    await runtime.start_container(cid)
    return runtime, cid


def test_format_pod() -> None:
    assert format_pod(POD) == "web_default(u-1)"


# --- exec ---------------------------------------------------------------------------------------------------------


async def test_exec_success(running: tuple[FakeRuntime, ContainerID]) -> None:
    runtime, cid = running
    hook = {"exec": {"command": ["sh", "-c", "echo $(NOT_EXPANDED) > /tmp/x"]}}
    assert await run_handler(runtime, POD, {"name": "app"}, cid, hook, timeout=30) is None
    assert runtime.execs == [(cid, ("sh", "-c", "echo $(NOT_EXPANDED) > /tmp/x"))]  # hooks are not expanded


async def test_exec_failure_message(running: tuple[FakeRuntime, ContainerID]) -> None:
    runtime, cid = running
    runtime.exec_results[("sh", "-c", "exit 3")] = ExecResult(3, b'oops "x"\n')
    message = await run_handler(runtime, POD, {"name": "app"}, cid, {"exec": {"command": ["sh", "-c", "exit 3"]}}, timeout=30)
    assert message == (
        f'Exec lifecycle hook ([sh -c exit 3]) for Container "app" in Pod {WHERE} failed'
        """ - error: command 'sh -c exit 3' exited with 3: oops "x"\n, message: "oops \\"x\\"\\n\""""
    )


async def test_exec_timeout_and_runtime_error(running: tuple[FakeRuntime, ContainerID]) -> None:
    runtime, cid = running
    runtime.exec_results[("sleep", "100")] = ExecResult(-1, b"", timed_out=True)
    message = await run_handler(runtime, POD, {"name": "app"}, cid, {"exec": {"command": ["sleep", "100"]}}, timeout=2)
    assert message is not None and message.endswith('- error: command "sleep 100" timed out, message: ""')
    runtime.finish(cid, 0)
    message = await run_handler(runtime, POD, {"name": "app"}, cid, {"exec": {"command": ["true"]}}, timeout=2)
    assert message is not None and "is not running" in message and message.startswith("Exec lifecycle hook ([true])")


# --- httpGet ------------------------------------------------------------------------------------------------------


async def test_http_get_to_the_pod_ip_with_named_port_path_and_headers(server: Server) -> None:
    container = {"name": "app", "ports": [{"name": "web", "containerPort": server.port}]}
    hook = {"httpGet": {"path": "/echo?msg=poststart", "port": "web", "httpHeaders": [{"name": "x-token", "value": "t"}]}}
    assert await run_handler(FakeRuntime(), POD, container, "c", hook, timeout=5) is None
    ((line, headers),) = server.requests
    assert line == "GET /echo?msg=poststart HTTP/1.1"
    assert headers["Host"] == f"127.0.0.1:{server.port}"
    assert headers["User-Agent"] == LIFECYCLE_USER_AGENT == "kube-lifecycle/" + LIFECYCLE_USER_AGENT.split("/")[1]
    assert headers["X-Token"] == "t" and headers["Accept"] == "*/*"


async def test_http_get_any_status_is_a_success(server: Server) -> None:
    """handlers.go checks no status: only a request without a response fails."""
    server.status = 500
    hook = {"httpGet": {"path": "/fail", "port": server.port, "host": "127.0.0.1"}}
    assert await run_handler(FakeRuntime(), {**POD, "status": {}}, {"name": "app"}, "c", hook, timeout=5) is None
    assert server.requests[0][0] == "GET /fail HTTP/1.1"


async def test_http_get_refused_connection_message(server: Server) -> None:
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    hook = {"httpGet": {"path": "/hook", "port": port}}
    message = await run_handler(FakeRuntime(), POD, {"name": "app"}, "c", hook, timeout=5)
    assert message == (
        f'HTTP lifecycle hook (/hook) for Container "app" in Pod {WHERE} failed - error: '
        f'Get "http://127.0.0.1:{port}/hook": dial tcp 127.0.0.1:{port}: connect: connection refused'
    )


async def test_http_get_port_errors() -> None:
    hook = {"httpGet": {"path": "/", "port": "nope"}}
    message = await run_handler(FakeRuntime(), POD, {"name": "app"}, "c", hook, timeout=5)
    assert message is not None and message.endswith('failed - error: strconv.Atoi: parsing "nope": invalid syntax')
    message = await run_handler(FakeRuntime(), POD, {"name": "app"}, "c", {"httpGet": {"path": "/", "port": 0}}, timeout=5)
    assert message is not None and message.endswith("failed - error: invalid port number: 0")


async def test_http_get_without_a_pod_ip() -> None:
    hook = {"httpGet": {"path": "/", "port": 80}}
    message = await run_handler(FakeRuntime(), POD, {"name": "app"}, "c", hook, timeout=5, pod_ip="")
    assert message is not None and "failed - error: failed to find networking container" in message


async def test_http_get_deadline() -> None:
    done = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await done.wait()
        finally:
            writer.close()

    listener = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        hook = {"httpGet": {"path": "/slow", "port": port}}
        message = await run_handler(FakeRuntime(), POD, {"name": "app"}, "c", hook, timeout=0.3)
        done.set()
        await asyncio.sleep(0.05)
    assert message is not None and message.endswith(f'error: Get "http://127.0.0.1:{port}/slow": context deadline exceeded')


async def test_https_hook_answered_in_plain_http_falls_back_with_a_warning(server: Server) -> None:
    warnings: list[tuple[str, str]] = []
    hook = {
        "httpGet": {
            "scheme": "HTTPS",
            "path": "/hook",
            "port": server.port,
            "httpHeaders": [{"name": "Authorization", "value": "secret"}, {"name": "X-Kept", "value": "1"}],
        }
    }
    message = await run_handler(
        FakeRuntime(), POD, {"name": "app"}, "c", hook, timeout=5, warn=lambda reason, text: warnings.append((reason, text))
    )
    assert message is None
    assert warnings == [
        (
            "LifecycleHTTPFallback",
            f"request to HTTPS lifecycle hook 127.0.0.1:{server.port} got HTTP response, retry with HTTP succeeded",
        )
    ]
    ((_, headers),) = [r for r in server.requests if r[0].startswith("GET")]
    assert "Authorization" not in headers and headers["X-Kept"] == "1"


async def test_https_hook_to_a_plain_server_that_fails_twice_keeps_the_first_error() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\n\r\n")  # answers TLS in plain text, then hangs up on the plain retry
        await writer.drain()
        writer.close()

    calls = 0

    async def first_plain_then_reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await garbage(reader, writer)
        else:
            writer.transport.abort()

    listener = await asyncio.start_server(first_plain_then_reset, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        hook = {"httpGet": {"scheme": "HTTPS", "path": "/x", "port": port}}
        message = await run_handler(FakeRuntime(), POD, {"name": "app"}, "c", hook, timeout=5)
    assert message is not None
    assert message.endswith(f'error: Get "https://127.0.0.1:{port}/x": http: server gave HTTP response to HTTPS client')


# --- sleep and the rest -------------------------------------------------------------------------------------------


async def test_sleep_waits_and_zero_is_allowed() -> None:
    started = time.monotonic()
    assert await run_handler(FakeRuntime(), POD, {"name": "app"}, "c", {"sleep": {"seconds": 0}}, timeout=5) is None
    assert time.monotonic() - started < 0.5
    started = time.monotonic()
    assert await run_handler(FakeRuntime(), POD, {"name": "app"}, "c", {"sleep": {"seconds": 1}}, timeout=5) is None
    assert time.monotonic() - started >= 0.95


async def test_sleep_past_the_deadline_is_cut_short() -> None:
    started = time.monotonic()
    message = await run_handler(FakeRuntime(), POD, {"name": "app"}, "c", {"sleep": {"seconds": 30}}, timeout=0.2)
    assert time.monotonic() - started < 2
    assert message == (
        f'Sleep lifecycle hook (30) for Container "app" in Pod {WHERE} failed'
        " - error: container terminated before sleep hook finished"
    )


async def test_a_tcp_socket_hook_cannot_run() -> None:
    message = await run_handler(FakeRuntime(), POD, {"name": "app"}, "c", {"tcpSocket": {"port": 80}}, timeout=5)
    assert message is not None and message.startswith("Cannot run handler: invalid handler: &{<nil> <nil> 0x")


def test_ssl_is_available() -> None:  # the fallback relies on OpenSSL's record errors
    assert ssl.OPENSSL_VERSION


async def test_no_deadline_is_allowed(running: tuple[FakeRuntime, ContainerID], server: Server) -> None:
    """postStart upstream runs without a deadline: timeout=None."""
    runtime, cid = running
    assert await run_handler(runtime, POD, {"name": "app"}, cid, {"exec": {"command": ["true"]}}, timeout=None) is None
    assert await run_handler(runtime, POD, {"name": "app"}, cid, {"sleep": {"seconds": 0}}, timeout=None) is None
    hook = {"httpGet": {"path": "/", "port": server.port}}
    assert await run_handler(runtime, POD, {"name": "app"}, cid, hook, timeout=None) is None
