"""The probe's own HTTP/1.1 client (prober/http1.py) against httpx's, on the same raw answers.

http1.py replaces httpx's client and transport for plain HTTP to an IP literal and promises to change nothing a
probe reports. So each case here runs `probe_http` twice against the same scripted server, once as shipped and
once with httpx's AsyncClient (what the handler used before), and asserts the same Outcome and the same request
bytes on the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import pytest

from minikubelet.prober import handlers, http1
from minikubelet.prober.handlers import Outcome, Result, probe_http

LOCAL = "127.0.0.1"

# What the server does with the request: bytes to send, then close ("close"), reset the connection ("reset"),
# or keep it open without another word ("stall").
Script = Callable[[str], "tuple[bytes, str]"]


@dataclass
class Server:
    script: Script
    heads: list[bytes] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> Server:
        self._server = await asyncio.start_server(self._handle, LOCAL, 0)
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def aclose(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            start = await reader.readexactly(3)
            if start != b"GET":  # a TLS hello: answer as a plain HTTP server does
                writer.write(b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
                return
            head = start + await reader.readuntil(b"\r\n\r\n")
            self.heads.append(head)
            data, then = self.script(head.split(b" ")[1].decode())
            writer.write(data)
            await writer.drain()
            if then == "reset":
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            if then == "stall":
                await asyncio.Event().wait()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # a cancelled handler ends quietly (asyncio's server logs a handler task that ends cancelled)
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1)


def httpx_client() -> httpx.AsyncClient:
    """The handler's client as it was before http1.py: httpx's own transport for everything."""
    return httpx.AsyncClient(verify=handlers._insecure_tls(), trust_env=False, follow_redirects=False, timeout=None)


Probe = Callable[..., Awaitable[tuple[Outcome, Outcome, list[bytes], list[bytes]]]]


@pytest.fixture
async def both(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Probe]:
    servers: list[Server] = []

    async def run(script: Script, path: str = "/", *, timeout: float = 2.0, **kwargs: object) -> tuple[Outcome, ...]:
        kwargs.setdefault("headers", [])
        results: list[object] = []
        for client in (handlers._client, httpx_client):
            server = await Server(script).start()
            servers.append(server)
            with monkeypatch.context() as patch:
                patch.setattr(handlers, "_client", client)
                try:
                    outcome = await probe_http(scheme="HTTP", host=LOCAL, port=server.port, path=path, timeout=timeout, **kwargs)
                except Exception as exc:  # httpx lets a few bad Locations escape as InvalidURL: so must we
                    outcome = Outcome(Result.UNKNOWN, error=f"raised {type(exc).__name__}: {exc}")
            # The URL names the port, which differs between the two runs.
            results.append(outcome.__class__(outcome.result, outcome.output.replace(str(server.port), "PORT"), outcome.error))
            results.append([head.replace(str(server.port).encode(), b"PORT") for head in server.heads])
        ours, our_heads, theirs, their_heads = results
        return ours, theirs, our_heads, their_heads  # type: ignore[return-value]

    yield run  # type: ignore[misc]
    for server in servers:
        await server.aclose()


def response(status: str, body: bytes = b"", *headers: str, length: bool = True) -> bytes:
    lines = [f"HTTP/1.1 {status}", *headers]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join([*lines, "Connection: close"]) + "\r\n\r\n").encode() + body


CASES: dict[str, Script] = {
    "200 with a body": lambda target: (response("200 OK", b"fine"), "close"),
    "204": lambda target: (b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", "close"),
    "500 hides the body": lambda target: (response("500 Oops", b"secret"), "close"),
    "399": lambda target: (response("399 Odd", b"odd"), "close"),
    "body over 64 KiB is cut at 10 KiB": lambda target: (response("200 OK", b"x" * 100 * 1024), "close"),
    "body until the connection closes": lambda target: (response("200 OK", b"till the end", length=False), "close"),
    "chunked body": lambda target: (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n",
        "close",
    ),
    "HTTP/1.0 answer": lambda target: (b"HTTP/1.0 200 OK\r\n\r\nold", "close"),
    "100 Continue first": lambda target: (b"HTTP/1.1 100 Continue\r\n\r\n" + response("200 OK", b"after"), "close"),
    "101 Switching Protocols": lambda target: (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", "close"),
    "closed without an answer": lambda target: (b"", "close"),
    "reset without an answer": lambda target: (b"", "reset"),
    "reset in the headers": lambda target: (b"HTTP/1.1 200 OK\r\nContent-", "reset"),
    "reset in the body": lambda target: (b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nhalf", "reset"),
    "truncated body": lambda target: (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", "close"),
    "closed in the headers": lambda target: (b"HTTP/1.1 200 OK\r\nContent-Le", "close"),
    "not HTTP at all": lambda target: (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "close"),
    "bad status code": lambda target: (b"HTTP/1.1 2x0 OK\r\n\r\n", "close"),
    "headers over 100 KiB": lambda target: (b"HTTP/1.1 200 OK\r\nX-Big: " + b"y" * 150 * 1024 + b"\r\n\r\n", "close"),
    "duplicate Content-Length": lambda target: (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "close"),
    "stall before the headers": lambda target: (b"", "stall"),
    "stall in the body": lambda target: (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf", "stall"),
    "same-host redirect": lambda target: (
        response("302 Found", b"", "Location: /next") if target == "/" else response("200 OK", b"there"),
        "close",
    ),
    "redirect loop": lambda target: (response("301 Moved", b"", f"Location: /r{len(target)}"), "close"),
    "redirect to another host": lambda target: (response("302 Found", b"moved", "Location: http://localhost:1/"), "close"),
    "redirect to ftp": lambda target: (response("302 Found", b"", f"Location: ftp://{LOCAL}/file"), "close"),
    "redirect with a bad Location": lambda target: (response("302 Found", b"", "Location: http://[::1"), "close"),
    "redirect to a scheme without a host": lambda target: (response("302 Found", b"", "Location: http:"), "close"),
    "redirect to mailto": lambda target: (response("302 Found", b"", "Location: mailto:x@y"), "close"),
    "redirect keeping the fragment": lambda target: (
        response("307 Temporary", b"", "Location: /b") if target == "/" else response("200 OK", b"b"),
        "close",
    ),
    "redirect with user info": lambda target: (
        response("302 Found", b"", f"Location: http://u:p@{LOCAL}:1/") if target == "/" else response("200 OK"),
        "close",
    ),
    "303 with a body": lambda target: (response("303 See Other", b"elsewhere", "Location: /x"), "close"),
}


@pytest.fixture
def short_way(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs http1.py connected to itself (rather than handing them to httpx's transport)."""
    urls: list[str] = []
    connect = http1._connect

    async def counted(request: httpx.Request) -> http1._Connection:
        urls.append(str(request.url))
        return await connect(request)

    monkeypatch.setattr(http1, "_connect", counted)
    return urls


@pytest.mark.parametrize("case", sorted(CASES))
async def test_same_outcome_and_request_as_httpx(both: Probe, short_way: list[str], case: str) -> None:
    ours, theirs, our_heads, their_heads = await both(CASES[case], timeout=0.5)
    assert ours == theirs
    assert our_heads == their_heads
    assert short_way  # the first request at least went the short way


async def test_a_redirect_to_https_on_a_plain_port_goes_through_httpx(both: Probe) -> None:
    # The Location's port is only known once the server runs; the script reads it from the request's Host.
    def script(target: str) -> tuple[bytes, str]:
        return response("302 Found", b"", f"Location: https://{LOCAL}:{ports[-1]}/"), "close"

    ports: list[int] = []
    original = Server.start

    async def start(self: Server) -> Server:
        started = await original(self)
        ports.append(self.port)
        return started

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Server, "start", start)
        ours, theirs, _, _ = await both(script, timeout=1.0)
    assert ours == theirs
    assert ours.result is Result.FAILURE and ours.output.startswith('Get "https://127.0.0.1:PORT/": [SSL: ')


@pytest.mark.parametrize(
    "headers",
    [
        [("X-Custom", "a"), ("accept", "text/plain"), ("x-custom", "b")],
        [("Host", "example.test"), ("User-Agent", "")],
        [("bad name", "x")],
        [("X-Nul", "a\x00b")],
    ],
)
async def test_same_request_bytes_and_header_errors(both: Probe, headers: list[tuple[str, str]]) -> None:
    ours, theirs, our_heads, their_heads = await both(lambda target: (response("200 OK"), "close"), headers=headers)
    assert ours == theirs
    assert our_heads == their_heads


async def test_connection_refused_is_worded_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind((LOCAL, 0))
        port = int(sock.getsockname()[1])
    ours = await probe_http(scheme="HTTP", host=LOCAL, port=port, path="/", headers=[], timeout=1)
    monkeypatch.setattr(handlers, "_client", httpx_client)
    theirs = await probe_http(scheme="HTTP", host=LOCAL, port=port, path="/", headers=[], timeout=1)
    refused = f'Get "http://{LOCAL}:{port}/": dial tcp {LOCAL}:{port}: connect: connection refused'
    assert ours == theirs == Outcome(Result.FAILURE, refused)


@pytest.mark.parametrize(
    ("url", "lean"),
    [
        ("http://10.0.0.7:80/", True),
        ("http://[fd00::7]:8080/x", True),
        ("https://10.0.0.7/", False),  # TLS: httpx's transport
        ("http://localhost:80/", False),  # a name to resolve: httpx's transport (happy eyeballs)
        ("ftp://10.0.0.7/", False),  # httpx's transport says `unsupported protocol`
        ("http://u:p@10.0.0.7/", False),  # httpx adds Basic auth from user info
    ],
)
def test_which_requests_take_the_short_way(url: str, lean: bool) -> None:
    assert http1._lean(httpx.URL(url)) is lean


async def test_a_probe_leaves_no_connection_open(both: Probe) -> None:
    tasks_before = len(asyncio.all_tasks())
    await both(CASES["200 with a body"])
    await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) <= tasks_before
