"""The probe handlers against real sockets on 127.0.0.1 (docs/kubelet.md#probe-handlers).

The HTTP server here is a few lines of asyncio rather than http.server, so that a test can read the exact bytes
the probe sent and answer with exactly the bytes it wants (or never answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from minikubelet.prober import handlers
from minikubelet.prober.handlers import Outcome, ProbeError, Result, probe_exec, probe_http, probe_tcp, resolve_port

LOCAL = "127.0.0.1"


# --- a raw HTTP server ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stall:
    """Write `prefix` (possibly nothing), then never say another word."""

    prefix: bytes = b""


Respond = Callable[[str], "bytes | Stall"]


def reply(status: int, body: bytes = b"", headers: Sequence[tuple[str, str]] = ()) -> bytes:
    lines = [f"HTTP/1.1 {status} Whatever", *(f"{name}: {value}" for name, value in headers)]
    lines += [f"Content-Length: {len(body)}", "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def redirect(location: str, status: int = 302, body: bytes = b"") -> bytes:
    return reply(status, body, [("Location", location)])


@dataclass
class RawServer:
    respond: Respond
    tls: ssl.SSLContext | None = None
    heads: list[bytes] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _server: asyncio.Server | None = None

    async def start(self) -> RawServer:
        self._server = await asyncio.start_server(self._handle, LOCAL, 0, ssl=self.tls)
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def targets(self) -> list[str]:
        return [head.split(b" ")[1].decode() for head in self.heads]

    def header_lines(self, index: int = 0) -> list[str]:
        return self.heads[index].decode().split("\r\n")[1:-2]

    async def aclose(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.heads.append(head)
            answer = self.respond(head.split(b" ")[1].decode())
            writer.write(answer.prefix if isinstance(answer, Stall) else answer)
            await writer.drain()
            if isinstance(answer, Stall):
                await asyncio.Event().wait()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1)


Serve = Callable[..., Awaitable[RawServer]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[RawServer] = []

    async def start(respond: Respond, *, tls: ssl.SSLContext | None = None) -> RawServer:
        server = await RawServer(respond, tls).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.aclose()


async def get(port: int, path: str = "/", *, timeout: float = 2.0, scheme: str = "HTTP", **kwargs: Any) -> Outcome:
    kwargs.setdefault("headers", [])
    return await probe_http(scheme=scheme, host=LOCAL, port=port, path=path, timeout=timeout, **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCAL, 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A port whose accept queue is full, so that a new connect hangs in SYN retries: a dial timeout on loopback."""
    listener = socket.socket()
    listener.bind((LOCAL, 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    fillers: list[socket.socket] = []
    try:
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect((LOCAL, port))
            fillers.append(filler)
        with socket.socket() as check:
            check.settimeout(0.2)
            try:
                check.connect((LOCAL, port))
            except TimeoutError:
                pass
            else:
                pytest.skip("this kernel accepts connections beyond a full backlog; no dial timeout on loopback")
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


# --- httpGet: status codes ---------------------------------------------------------------------------------------


async def test_http_2xx_is_success_with_the_body(serve: Serve) -> None:
    server = await serve(lambda target: reply(200, b"all good"))
    assert await get(server.port, "/healthz") == Outcome(Result.SUCCESS, "all good")


async def test_http_204_is_success(serve: Serve) -> None:
    server = await serve(lambda target: b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
    assert await get(server.port) == Outcome(Result.SUCCESS, "")


async def test_http_399_is_a_warning_which_counts_as_success(serve: Serve) -> None:
    server = await serve(lambda target: reply(399, b"odd"))
    assert await get(server.port) == Outcome(Result.WARNING, "Probe terminated redirects, Response body: odd")


@pytest.mark.parametrize("status", [400, 404, 500])
async def test_http_4xx_5xx_fail_without_the_body(serve: Serve, status: int) -> None:
    server = await serve(lambda target: reply(status, b"secret details"))
    assert await get(server.port) == Outcome(Result.FAILURE, f"HTTP probe failed with statuscode: {status}")


async def test_http_body_is_capped_at_10_kib_without_error(serve: Serve) -> None:
    server = await serve(lambda target: reply(200, b"x" * 20 * 1024))
    assert await get(server.port) == Outcome(Result.SUCCESS, "x" * 10 * 1024)


# --- httpGet: the request ----------------------------------------------------------------------------------------


async def test_http_request_bytes_match_go(serve: Serve) -> None:
    server = await serve(lambda target: reply(200))
    headers = [("X-B", "2"), ("x-a", " 1 "), ("X-B", "3"), ("host", "example.test")]
    await get(server.port, "/healthz", headers=headers)
    assert server.heads == [
        b"GET /healthz HTTP/1.1\r\n"
        b"Host: example.test\r\n"
        b"User-Agent: kube-probe/1.37\r\n"
        b"Accept: */*\r\n"
        b"X-A: 1\r\n"
        b"X-B: 2\r\n"
        b"X-B: 3\r\n"
        b"Connection: close\r\n\r\n"
    ]


async def test_http_default_host_is_host_and_port_and_nothing_is_compressed(serve: Serve) -> None:
    server = await serve(lambda target: reply(200))
    await get(server.port)
    lines = server.header_lines()
    assert lines[0] == f"Host: {LOCAL}:{server.port}"
    assert not any(line.lower().startswith("accept-encoding") for line in lines)


async def test_http_empty_accept_removes_it_and_user_agent_can_be_replaced(serve: Serve) -> None:
    server = await serve(lambda target: reply(200))
    await get(server.port, headers=[("Accept", ""), ("User-Agent", "mine/1")])
    assert server.header_lines() == [f"Host: {LOCAL}:{server.port}", "User-Agent: mine/1", "Connection: close"]


async def test_http_custom_accept_is_kept(serve: Serve) -> None:
    server = await serve(lambda target: reply(200))
    await get(server.port, headers=[("Accept", "application/json")], user_agent="kube-probe/9.9")
    assert "Accept: application/json" in server.header_lines()
    assert "User-Agent: kube-probe/9.9" in server.header_lines()


async def test_http_query_string_is_kept(serve: Serve) -> None:
    server = await serve(lambda target: reply(200))
    assert (await get(server.port, "/redirect?loc=%2Fhealthz&x=1")).result is Result.SUCCESS
    assert server.targets == ["/redirect?loc=%2Fhealthz&x=1"]


async def test_http_ignores_proxy_settings(serve: Serve, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://{LOCAL}:{free_port()}")
    monkeypatch.setenv("ALL_PROXY", f"http://{LOCAL}:{free_port()}")
    server = await serve(lambda target: reply(200))
    assert (await get(server.port)).result is Result.SUCCESS


def test_url_brackets_ipv6_and_lowercases_the_scheme() -> None:
    assert handlers._format_url("HTTPS", "fd00::7", 8443, "/x?y=1") == "https://[fd00::7]:8443/x?y=1"
    assert handlers._format_url("HTTP", "10.0.0.7", 80, "healthz") == "http://10.0.0.7:80/healthz"


# --- httpGet: redirects ------------------------------------------------------------------------------------------


async def test_http_follows_a_same_host_redirect_with_a_referer(serve: Serve) -> None:
    server = await serve(lambda target: redirect("/healthz") if target == "/start" else reply(200, b"here"))
    assert await get(server.port, "/start") == Outcome(Result.SUCCESS, "here")
    assert server.targets == ["/start", "/healthz"]
    assert f"Referer: http://{LOCAL}:{server.port}/start" in server.header_lines(1)


async def test_http_follows_a_redirect_to_another_port_on_the_same_hostname(serve: Serve) -> None:
    other = await serve(lambda target: reply(200, b"other port"))
    first = await serve(lambda target: redirect(f"http://{LOCAL}:{other.port}/x", status=301))
    assert await get(first.port) == Outcome(Result.SUCCESS, "other port")
    assert other.header_lines()[0] == f"Host: {LOCAL}:{other.port}"


async def test_http_custom_host_survives_only_relative_redirects(serve: Serve) -> None:
    def respond(target: str) -> bytes:
        return {"/a": redirect("/b"), "/b": redirect(f"http://{LOCAL}:{server.port}/c", status=307)}.get(target, reply(200))

    server = await serve(respond)
    assert (await get(server.port, "/a", headers=[("Host", "example.test")])).result is Result.SUCCESS
    hosts = [server.header_lines(i)[0] for i in range(3)]
    assert hosts == ["Host: example.test", "Host: example.test", f"Host: {LOCAL}:{server.port}"]


async def test_http_nine_redirects_are_followed(serve: Serve) -> None:
    server = await serve(lambda target: redirect(f"/r/{int(target[3:]) + 1}") if target != "/r/9" else reply(200))
    assert (await get(server.port, "/r/0")).result is Result.SUCCESS
    assert len(server.heads) == 10


async def test_http_the_tenth_redirect_is_an_error(serve: Serve) -> None:
    server = await serve(lambda target: redirect(f"/r/{int(target[3:]) + 1}"))
    outcome = await get(server.port, "/r/0")
    assert outcome == Outcome(Result.FAILURE, 'Get "/r/10": stopped after 10 redirects')
    assert len(server.heads) == 10  # as Go: at most 10 requests


async def test_http_cross_host_redirect_is_not_followed_but_warns(serve: Serve) -> None:
    body = b'<a href="http://localhost/">Found</a>.'

    def respond(target: str) -> bytes:
        return redirect(f"http://localhost:{server.port}/", body=body)

    server = await serve(respond)
    outcome = await get(server.port)
    assert outcome == Outcome(Result.WARNING, f"Probe terminated redirects, Response body: {body.decode()}")
    assert len(server.heads) == 1


async def test_http_3xx_without_location_warns(serve: Serve) -> None:
    server = await serve(lambda target: reply(302, b"nowhere"))
    assert await get(server.port) == Outcome(Result.WARNING, "Probe terminated redirects, Response body: nowhere")


async def test_http_same_host_redirect_to_another_scheme_fails_like_go(serve: Serve) -> None:
    server = await serve(lambda target: redirect(f"ftp://{LOCAL}/file"))
    assert await get(server.port) == Outcome(Result.FAILURE, f'Get "ftp://{LOCAL}/file": unsupported protocol scheme "ftp"')


# --- httpGet: transport errors and the deadline ------------------------------------------------------------------


async def test_http_connection_refused() -> None:
    port = free_port()
    expected = f'Get "http://{LOCAL}:{port}/": dial tcp {LOCAL}:{port}: connect: connection refused'
    assert await get(port) == Outcome(Result.FAILURE, expected)


async def test_http_server_that_never_answers_times_out_awaiting_headers(serve: Serve) -> None:
    server = await serve(lambda target: Stall())
    started = time.monotonic()
    outcome = await get(server.port, "/slow", timeout=0.3)
    assert time.monotonic() - started < 0.8
    reason = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
    assert outcome == Outcome(Result.FAILURE, f'Get "http://{LOCAL}:{server.port}/slow": {reason}')


async def test_http_deadline_covers_the_body(serve: Serve) -> None:
    server = await serve(lambda target: Stall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf"))
    outcome = await get(server.port, timeout=0.3)
    reason = "context deadline exceeded (Client.Timeout or context cancellation while reading body)"
    assert outcome == Outcome(Result.FAILURE, "", error=reason)


async def test_http_dial_timeout(full_backlog: int) -> None:
    outcome = await get(full_backlog, timeout=0.3)
    reason = f"dial tcp {LOCAL}:{full_backlog}: i/o timeout (Client.Timeout exceeded while awaiting headers)"
    assert outcome == Outcome(Result.FAILURE, f'Get "http://{LOCAL}:{full_backlog}/": {reason}')


async def test_http_connection_closed_without_answer_is_eof(serve: Serve) -> None:
    server = await serve(lambda target: b"")
    assert await get(server.port) == Outcome(Result.FAILURE, f'Get "http://{LOCAL}:{server.port}/": EOF')


async def test_http_truncated_body_is_an_error(serve: Serve) -> None:
    server = await serve(lambda target: b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
    outcome = await get(server.port)
    assert (outcome.result, outcome.output) == (Result.FAILURE, "")
    assert outcome.error


# --- httpGet: HTTPS ----------------------------------------------------------------------------------------------


def self_signed(directory: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not-the-probed-host")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (directory / "key.pem").write_bytes(pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


async def test_https_with_a_self_signed_cert_is_not_verified(serve: Serve, tmp_path: Path) -> None:
    server = await serve(lambda target: reply(200, b"secure"), tls=self_signed(tmp_path))
    assert await get(server.port, "/healthz", scheme="HTTPS") == Outcome(Result.SUCCESS, "secure")


# --- tcpSocket ---------------------------------------------------------------------------------------------------


async def test_tcp_success(serve: Serve) -> None:
    server = await serve(lambda target: b"")
    assert await probe_tcp(host=LOCAL, port=server.port, timeout=1) == Outcome(Result.SUCCESS)
    assert server.heads == []  # no data exchanged


async def test_tcp_connection_refused() -> None:
    port = free_port()
    outcome = await probe_tcp(host=LOCAL, port=port, timeout=1)
    assert outcome == Outcome(Result.FAILURE, f"dial tcp {LOCAL}:{port}: connect: connection refused")


async def test_tcp_timeout(full_backlog: int) -> None:
    started = time.monotonic()
    outcome = await probe_tcp(host=LOCAL, port=full_backlog, timeout=0.3)
    assert time.monotonic() - started < 0.8
    assert outcome == Outcome(Result.FAILURE, f"dial tcp {LOCAL}:{full_backlog}: i/o timeout")


# --- exec --------------------------------------------------------------------------------------------------------


def runner(exit_code: int = 0, output: bytes = b"", timed_out: bool = False) -> tuple[Any, list[tuple[list[str], float]]]:
    calls: list[tuple[list[str], float]] = []

    async def run(argv: Sequence[str], timeout: float) -> tuple[int, bytes, bool]:
        calls.append((list(argv), timeout))
        return exit_code, output, timed_out

    return run, calls


async def test_exec_exit_zero_is_success_with_output() -> None:
    run, calls = runner(0, b"fine\n")
    assert await probe_exec(run, ("cat", "/tmp/healthy"), timeout=3) == Outcome(Result.SUCCESS, "fine\n")
    assert calls == [(["cat", "/tmp/healthy"], 3)]


async def test_exec_nonzero_exit_is_failure_with_output() -> None:
    run, _ = runner(1, b"cat: can't open '/tmp/health': No such file or directory\n")
    outcome = await probe_exec(run, ["cat", "/tmp/health"], timeout=1)
    assert outcome == Outcome(Result.FAILURE, "cat: can't open '/tmp/health': No such file or directory\n")


async def test_exec_timeout_is_failure_naming_the_command() -> None:
    run, _ = runner(137, b"partial", timed_out=True)
    outcome = await probe_exec(run, ["/bin/sh", "-c", 'sleep 10; echo "done"'], timeout=1)
    assert outcome == Outcome(Result.FAILURE, 'command "/bin/sh -c sleep 10; echo \\"done\\"" timed out')


async def test_exec_runtime_error_is_unknown_with_error() -> None:
    async def run(argv: Sequence[str], timeout: float) -> tuple[int, bytes, bool]:
        raise RuntimeError("container c1 is not running")

    assert await probe_exec(run, ["true"], timeout=1) == Outcome(Result.UNKNOWN, error="container c1 is not running")


async def test_exec_output_is_truncated_to_10_kib() -> None:
    run, _ = runner(1, b"y" * 20 * 1024)
    assert await probe_exec(run, ["noisy"], timeout=1) == Outcome(Result.FAILURE, "y" * 10 * 1024)


async def test_exec_runtime_that_ignores_the_timeout_is_cut_off() -> None:
    async def run(argv: Sequence[str], timeout: float) -> tuple[int, bytes, bool]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    started = time.monotonic()
    assert await probe_exec(run, ["sleep", "99"], timeout=0.1) == Outcome(Result.FAILURE, 'command "sleep 99" timed out')
    assert time.monotonic() - started < 0.1 + handlers.EXEC_DEADLINE_GRACE + 0.5


# --- ports -------------------------------------------------------------------------------------------------------

CONTAINER = {"name": "app", "ports": [{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9090}]}


@pytest.mark.parametrize(("port", "expected"), [("http", 8080), ("metrics", 9090), ("8081", 8081), (80, 80), (65535, 65535)])
def test_resolve_port(port: int | str, expected: int) -> None:
    assert resolve_port(port, CONTAINER) == expected


@pytest.mark.parametrize(
    ("port", "container", "message"),
    [
        ("grpc", CONTAINER, "port grpc not found"),
        ("http", {"name": "bare"}, "port http not found"),
        (0, CONTAINER, "invalid port number: 0"),
        (65536, CONTAINER, "invalid port number: 65536"),
        ("70000", CONTAINER, "invalid port number: 70000"),
        ("-1", CONTAINER, "invalid port number: -1"),
    ],
)
def test_resolve_port_errors(port: int | str, container: dict[str, Any], message: str) -> None:
    with pytest.raises(ProbeError) as caught:
        resolve_port(port, container)
    assert str(caught.value) == message
