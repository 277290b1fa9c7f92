"""The probe's HTTP client: one HTTP/1.1 exchange per connection, straight on an asyncio protocol and h11.

Why: httpx's AsyncClient and transport (httpcore's pool on anyio) cost ~1 ms of CPU per probe, most of it in
layers a probe has no use for (a client with a cookie jar per exchange, a pool, locks and events for keep-alive,
happy eyeballs in a task group, a failed `import sniffio` several times per request), where the exchange itself
(connect, one write, parse, close) costs a fraction of it. At 110 pods probed every second that was the daemon's
largest cost (issue 20).

What stays the same: for a plain-HTTP request to an IP literal, ProbeClient does exactly what AsyncClient.send and
httpcore do, with the same h11 state machine fed the same bytes (request head from the request's raw headers,
response read in 64 KiB pieces, 100 KiB at most for an incomplete event, informational responses skipped, the
connection aborted when the response is closed, a bad Location refused), and raises the same httpx exceptions with
the same texts and the same OSError at the root of their chain, so that handlers.py words every failure as before.
The trace extension hears `connection.connect_tcp.complete` with the connected transport as its `return_value`
(handlers.py sets SO_LINGER and marks the hop connected there). Anything else — HTTPS, a host name (resolution and
happy eyeballs), user info in the URL (Basic auth), another scheme (UnsupportedProtocol) — goes through a real
httpx.AsyncClient, unchanged. tests/unit/prober/test_probe_http1.py holds the two side by side.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import h11
import httpx

__all__ = ["ProbeClient"]

READ_NUM_BYTES = 64 * 1024  # httpcore's AsyncHTTP11Connection.READ_NUM_BYTES
MAX_INCOMPLETE_EVENT_SIZE = 100 * 1024  # and its MAX_INCOMPLETE_EVENT_SIZE


def _lean(url: httpx.URL) -> bool:
    """Whether ProbeClient sends the request itself: plain HTTP to an IP literal (no zone), no user info (httpx
    would add Basic auth from it)."""
    if url.scheme != "http" or "%" in url.host or url.username or url.password:
        return False
    try:
        ipaddress.ip_address(url.host)
    except ValueError:
        return False
    return True


class ProbeClient:
    """What a probe exchange uses of httpx.AsyncClient (`async with`, `send(request, stream=True)`), for one
    exchange and its redirects. A request `_lean` accepts is sent here, with what AsyncClient.send does for it when
    the client has no auth, hooks, cookies or redirect following (the redirect target is still worked out, as it
    raises for a bad Location); any other goes through a real AsyncClient made with `options` on first use."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> ProbeClient:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        if self._client is not None:
            await self._client.__aexit__(*exc_info)

    async def send(self, request: httpx.Request, *, stream: bool = True) -> httpx.Response:
        assert stream, "a probe reads the body itself"
        if not _lean(request.url):
            if self._client is None:
                self._client = httpx.AsyncClient(**self._options)
                await self._client.__aenter__()
            return await self._client.send(request, stream=True)
        connection = await _connect(request)
        try:
            response = await connection.exchange(request)
        except BaseException:
            connection.close()
            raise
        response.request = request
        if response.has_redirect_location:
            try:
                _redirect_url(request, response)
            except BaseException:
                await response.aclose()
                raise
        return response


def _redirect_url(request: httpx.Request, response: httpx.Response) -> httpx.URL:
    """AsyncClient._redirect_url (httpx 0.28/0.29), which `send` runs on every redirect answer even when it does
    not follow it: a Location that is no URL is a RemoteProtocolError there (handlers.py reports it as it would
    any error after connecting). The target itself is handlers.py's to work out."""
    location = response.headers["Location"]
    try:
        url = httpx.URL(location)
    except httpx.InvalidURL as exc:
        raise httpx.RemoteProtocolError(f"Invalid URL in location header: {exc}.", request=request) from None
    if url.scheme and not url.host:
        url = url.copy_with(host=request.url.host)
    if url.is_relative_url:
        url = request.url.join(url)
    if request.url.fragment and not url.fragment:
        url = url.copy_with(fragment=request.url.fragment)
    return url


class _Protocol(asyncio.Protocol):
    """anyio's StreamProtocol, reduced: a queue of received pieces, EOF, and the error the connection ended with."""

    def __init__(self) -> None:
        self.pieces: deque[bytes] = deque()
        self.at_eof = False
        self.exception: BaseException | None = None
        self.transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.pieces.append(bytes(data))
        self._wake()

    def eof_received(self) -> bool:
        self.at_eof = True
        self._wake()
        return True  # keep our side open: the response is read to its end, then the connection is aborted

    def connection_lost(self, exc: BaseException | None) -> None:
        if exc is not None:
            self.exception = exc
        self.at_eof = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def receive(self) -> bytes:
        """anyio's SocketStream.receive(64 KiB) as httpcore's AnyIOStream.read sees it: b"" at EOF, ReadError
        (from BrokenResourceError from the connection's error) once the connection broke, buffered data first."""
        if not self.pieces and not self.at_eof:
            assert self.transport is not None
            self._waiter = asyncio.get_running_loop().create_future()
            self.transport.resume_reading()
            try:
                await self._waiter
            finally:
                self._waiter = None
                if not self.transport.is_closing():
                    self.transport.pause_reading()
        if not self.pieces:
            if self.exception is not None:
                # httpcore: ReadError(BrokenResourceError()) from BrokenResourceError from the connection's error,
                # which httpx turns into ReadError("") (the message is the empty one); the OSError stays in the
                # chain, where handlers.py looks for it.
                raise httpx.ReadError("") from self.exception
            return b""
        piece = self.pieces.popleft()
        if len(piece) > READ_NUM_BYTES:
            piece, rest = piece[:READ_NUM_BYTES], piece[READ_NUM_BYTES:]
            self.pieces.appendleft(rest)
        return piece


async def _connect(request: httpx.Request) -> _Connection:
    """anyio.connect_tcp to an IP literal as httpcore calls it: one attempt; an OSError becomes ConnectError
    `All connection attempts failed`, caused by that OSError."""
    url = request.url
    host, port = url.host, url.port or 80
    loop = asyncio.get_running_loop()
    try:
        transport, protocol = await loop.create_connection(_Protocol, host, port)
    except OSError as exc:
        raise httpx.ConnectError("All connection attempts failed") from exc
    assert isinstance(transport, asyncio.Transport)
    transport.pause_reading()
    connection = _Connection(transport, protocol)
    trace = request.extensions.get("trace")
    if trace is not None:
        try:
            await trace("connection.connect_tcp.complete", {"return_value": transport})
        except BaseException:
            connection.close()
            raise
    return connection


class _Connection:
    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self.transport = transport
        self.protocol = protocol
        self.h11 = h11.Connection(our_role=h11.CLIENT, max_incomplete_event_size=MAX_INCOMPLETE_EVENT_SIZE)

    def close(self) -> None:
        """anyio's SocketStream.aclose: abort (nothing of ours is left to send by then)."""
        self.transport.abort()

    async def exchange(self, request: httpx.Request) -> httpx.Response:
        """AsyncHTTP11Connection.handle_async_request for a GET without a body."""
        try:
            event = h11.Request(method=request.method, target=request.url.raw_path, headers=request.headers.raw)
        except h11.LocalProtocolError as exc:
            raise httpx.LocalProtocolError(str(exc)) from exc
        self._send(event)
        self._send(h11.EndOfMessage())
        while True:
            response = await self._next_event()
            if isinstance(response, h11.Response):
                break
            if isinstance(response, h11.InformationalResponse) and response.status_code == 101:
                break
        extensions = {"http_version": b"HTTP/" + response.http_version, "reason_phrase": response.reason}
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers.raw_items(),
            stream=_Body(self),
            extensions=extensions,
        )

    def _send(self, event: h11.Event) -> None:
        data = self.h11.send(event)  # httpcore maps h11's errors only where the Request event is built, as above
        if data and not self.transport.is_closing():
            # A write that fails shows up as the connection's error on the next read, as httpcore (which
            # ignores WriteError while sending the request) reports it.
            self.transport.write(data)

    async def _next_event(self) -> Any:
        """AsyncHTTP11Connection._receive_event."""
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpx.RemoteProtocolError(str(exc)) from exc
            if event is not h11.NEED_DATA:
                return event
            data = await self.protocol.receive()
            if data == b"" and self.h11.their_state == h11.SEND_RESPONSE:
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            self.h11.receive_data(data)


class _Body(httpx.AsyncByteStream):
    """HTTP11ConnectionByteStream: the body's pieces; closing it (or an error in it) ends the connection."""

    def __init__(self, connection: _Connection) -> None:
        self._connection = connection

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            while True:
                event = await self._connection._next_event()
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage) or event is h11.PAUSED:
                    break
        except BaseException:
            self._connection.close()
            raise

    async def aclose(self) -> None:
        self._connection.close()
