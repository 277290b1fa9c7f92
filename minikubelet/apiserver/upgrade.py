"""The protocols the daemon gives uvicorn, for the upgrades kubectl's port-forward asks for.

kubectl 1.31+ tunnels SPDY through a WebSocket whose subprotocol is `SPDY/3.1+portforward.k8s.io`. A "/" is not
allowed in a subprotocol token (RFC 6455 makes them HTTP tokens), and the websockets library uvicorn uses turns
the handshake down (400) when a client offers one; Go's servers take it, and so does
`LenientWebSocketsProtocol`, uvicorn's protocol with that check left out (uvicorn reads the offered
subprotocols itself, and the application picks one, as before).

Without the tunnel (KUBECTL_PORT_FORWARD_WEBSOCKETS=false, or kubectl before 1.31) kubectl asks for a plain
HTTP/1.1 upgrade to SPDY/3.1. ASGI cannot hand a connection over to the application: uvicorn upgrades WebSockets
itself, and serves any other upgrade request as a plain request. `UpgradableHttpToolsProtocol`, the HTTP
protocol the daemon gives uvicorn, adds an extension to the scope of a request that asks for `Upgrade:
SPDY/3.1`: `scope["extensions"]["minikubelet.upgrade"]["accept"]`, an async function that writes the 101
response with the headers given and hands the connection over as an asyncio (reader, writer) pair. The
application sends no response then, and closes the writer when it is done; the request's task lasts as long as
the connection, which stays among uvicorn's connections: its shutdown closes it, as it closes a WebSocket.

Anything the client sent after the request's headers in the same read is lost: the SPDY client sends nothing
before it has read the 101.

The same protocol reads request targets as Go's server does: up to MAX_HEADER_BYTES (httptools' URL parser keeps
16-bit offsets, so uvicorn answered any target over 64 KiB with its own plain-text 400 before the application saw
it), and a target longer than that is Go's plain-text 431 at once, before the rest is buffered.
"""

from __future__ import annotations

import asyncio
import functools
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.datastructures import Headers
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

from minikubelet.apiserver.decoding import HEADERS_TOO_LARGE, MAX_HEADER_BYTES

__all__ = ["EXTENSION", "UPGRADABLE", "Accept", "LenientWebSocketsProtocol", "UpgradableHttpToolsProtocol", "acceptor"]

EXTENSION = "minikubelet.upgrade"
UPGRADABLE = (b"spdy/3.1",)  # the protocols (lower case) the extension is offered for
Accept = Callable[[Sequence[tuple[str, str]]], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]


def acceptor(scope: dict[str, Any] | Any) -> Accept | None:
    """The scope's `accept`, if the server offers to hand this request's connection over."""
    extension = (scope.get("extensions") or {}).get(EXTENSION) or {}
    return cast("Accept | None", extension.get("accept"))


_PARSED_URL_MAX = 0xFFFF  # http_parser_url's offsets are 16 bits


class UpgradableHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, able to hand a connection over for an upgrade to SPDY/3.1, and reading long
    request targets as Go does."""

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_HEADER_BYTES and not self.transport.is_closing():
            length = str(len(HEADERS_TOO_LARGE)).encode()
            self.transport.write(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
                b"Content-Length: " + length + b"\r\nConnection: close\r\n\r\n" + HEADERS_TOO_LARGE
            )
            self.transport.close()

    def on_headers_complete(self) -> None:
        if self.transport.is_closing():  # answered 431 in on_url: nothing more to do for this request
            return
        long_target = self.url if len(self.url) > _PARSED_URL_MAX else None
        if long_target is not None:
            self.url = b"/"  # httptools.parse_url cannot read it: the scope gets it below, before the app runs
        super().on_headers_complete()
        if long_target is not None:
            target = long_target.split(b"#", 1)[0]
            if target.startswith((b"http://", b"https://")):  # the absolute form: its path starts after the host
                target = b"/" + target.split(b"/", 3)[3] if target.count(b"/") >= 3 else b"/"
            raw_path, _, query = target.partition(b"?")
            text = raw_path.decode("ascii", "replace")
            self.scope["path"] = self.root_path + (urllib.parse.unquote(text) if "%" in text else text)
            self.scope["raw_path"] = self.root_path.encode("ascii") + raw_path
            self.scope["query_string"] = query
        if self.parser.should_upgrade() and self._upgrade_to() in UPGRADABLE:
            scope = cast("dict[str, Any]", self.cycle.scope)
            scope.setdefault("extensions", {})[EXTENSION] = {"accept": functools.partial(self._hand_over, self.cycle)}

    def _unsupported_upgrade_warning(self) -> None:
        if self._upgrade_to() not in UPGRADABLE:  # the application answers these
            super()._unsupported_upgrade_warning()

    def _upgrade_to(self) -> bytes | None:
        connection = [t.strip().lower() for name, value in self.headers if name == b"connection" for t in value.split(b",")]
        upgrade = next((value.strip().lower() for name, value in self.headers if name == b"upgrade"), None)
        return upgrade if b"upgrade" in connection else None

    async def _hand_over(
        self, cycle: RequestResponseCycle, headers: Sequence[tuple[str, str]]
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        transport = self.transport
        if cycle.response_started or cycle.disconnected or transport.is_closing():
            raise ConnectionError("the connection is answered or gone; it cannot be upgraded")
        cycle.response_started = cycle.response_complete = True  # uvicorn answers nothing more on it
        status = [b"HTTP/1.1 101 Switching Protocols"] + [f"{name}: {value}".encode("latin-1") for name, value in headers]
        transport.write(b"\r\n".join(status) + b"\r\n\r\n")
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(loop=loop)
        protocol = _HandedOver(reader, self.connections, loop)
        self.connections.discard(self)
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        if not transport.is_reading():
            transport.resume_reading()
        return reader, asyncio.StreamWriter(transport, protocol, reader, loop)


class _HandedOver(asyncio.StreamReaderProtocol):
    """A handed-over connection: an asyncio stream, among the server's connections until it is lost, so that the
    server's shutdown ends it (the application reads its end) rather than cancelling the application."""

    def __init__(self, reader: asyncio.StreamReader, connections: set[Any], loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(reader, loop=loop)
        self._connections = connections
        self._closer: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._closer = transport
        self._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        super().connection_lost(exc)

    def shutdown(self) -> None:
        """uvicorn's shutdown."""
        if self._closer is not None:
            self._closer.close()


class _LenientServerProtocol(ServerProtocol):
    """websockets' handshake, but any comma-separated words are subprotocols (uvicorn offers none of its own,
    so the library's choice is always None: only its parsing could fail)."""

    def process_subprotocol(self, headers: Headers) -> Subprotocol | None:
        return None


class LenientWebSocketsProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol (websockets, sans-I/O), taking subprotocols that are not HTTP tokens."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Same state, one method changed: uvicorn builds the handshake object with its own settings.
        self.conn.__class__ = _LenientServerProtocol
