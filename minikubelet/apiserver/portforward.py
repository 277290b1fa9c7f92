"""`pods/portforward` sessions: connections to a pod's ports, relayed for a client in one of two protocols.

- The kubelet's WebSocket protocol (`ChannelPortForward`; `v4.channel.k8s.io`, what the official Python client
  speaks, and `v5.channel.k8s.io` with half-closes, our own CLI): the ports are in the query (`?ports=P,Q`),
  one connection per port, each on two channels (2i data, 2i+1 errors) opened by the server with the port
  as two little-endian bytes; the session ends when every port's connection has.
- SPDY/3.1 (`SpdyPortForward`), what kubectl speaks: either tunnelled in a WebSocket (subprotocol
  `SPDY/3.1+portforward.k8s.io`, kubectl 1.31+'s default; the SPDY bytes in binary messages, nothing added)
  or after a plain HTTP upgrade (`Upgrade: SPDY/3.1`, `X-Stream-Protocol-Version: portforward.k8s.io`). For
  each local connection kubectl opens two streams with the headers `streamType` (`error`, then `data`),
  `port` and `requestID`; the server replies to each, connects to the port once it has both, and relays the
  data stream; a failure is written on the error stream. The server closes both streams (FIN) when the
  connection to the pod ends; kubectl resets the data stream when it is done with it, and ends the session
  with a GOAWAY (or just leaves).

Either way the connection to the pod is `PodConnection`, the one piece of code that dials the pod and relays.
The API server dials the pod IP itself, as its `pods/proxy` does (the node is local); a kubelet would enter the
pod's network namespace, so a listener bound to the pod's 127.0.0.1 only is not reachable here.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from starlette.websockets import WebSocket, WebSocketDisconnect

from minikubelet.apiserver import spdy
from minikubelet.errors import BadRequestError

__all__ = [
    "DIAL_TIMEOUT",
    "SPDY_PROTOCOL",
    "SPDY_TUNNEL_PROTOCOL",
    "ByteChannel",
    "ChannelPortForward",
    "Dialer",
    "PodConnection",
    "SpdyPortForward",
    "StreamChannel",
    "Target",
    "WebSocketChannel",
    "parse_ports",
]

log = logging.getLogger(__name__)

SPDY_PROTOCOL = "portforward.k8s.io"  # X-Stream-Protocol-Version
SPDY_TUNNEL_PROTOCOL = f"SPDY/3.1+{SPDY_PROTOCOL}"  # the WebSocket subprotocol of the tunnel
CLOSE = 255
DIAL_TIMEOUT = 10.0
STREAM_CREATION_TIMEOUT = 30.0  # the kubelet's default: both streams of a connection within this
_READ_SIZE = 32 * 1024
Dialer = Callable[[str, int], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]
Send = Callable[[bytes], Awaitable[None]]


def parse_ports(values: Sequence[str]) -> list[int]:
    """The `ports` query parameters (each may hold a comma-separated list), as the kubelet reads them."""
    if not values:
        raise BadRequestError('query parameter "ports" is required')
    ports = []
    for value in values:
        if not value:
            raise BadRequestError('query parameter "ports" cannot be empty')
        for word in value.split(","):
            if not word.isdigit() or int(word) > 65535:
                raise BadRequestError(f'unable to parse "{value}" as a port')
            if int(word) < 1:
                raise BadRequestError(f'port "{value}" must be > 0')
            ports.append(int(word))
    return ports


@dataclass(frozen=True, slots=True)
class Target:
    """The pod: its IP (where the API server dials), its name and uid (for the error text)."""

    ip: str
    pod: str
    uid: str


# --- the connection to the pod ----------------------------------------------------------------------------------


class PodConnection:
    """One forwarded connection to one of the pod's ports, whatever the client speaks: `run` dials the pod (a
    failure is said once, through `fail`, in the kubelet's words), then relays what the pod sends to `send`
    and what the client `offer`s to the pod, until the pod ends the connection or the client `abort`s it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.closed = False  # over, or never was: what the client sends is dropped
        self._inbound: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=16)
        self._writer: asyncio.StreamWriter | None = None

    async def offer(self, data: bytes | None) -> None:
        """What the client sent, for the pod; None is the end of its input (a half-close)."""
        if not self.closed:
            await self._inbound.put(data)

    def abort(self) -> None:
        """The client is done with this connection (it reset it): end it now."""
        self.closed = True
        if self._writer is not None:
            self._writer.close()  # the pod's side reads an end, and `run` returns
        self._drop_inbound()

    async def run(self, target: Target, dial: Dialer, send: Send, fail: Callable[[str], Awaitable[None]]) -> None:
        try:
            async with asyncio.timeout(DIAL_TIMEOUT):
                reader, writer = await dial(target.ip, self.port)
        except (OSError, TimeoutError) as exc:
            self.closed = True
            self._drop_inbound()
            reason = _dial_error(exc, target, self.port)
            await fail(f"error forwarding port {self.port} to pod {target.pod}, uid {target.uid}: {reason}")
            return
        if self.closed:  # aborted while dialing
            writer.close()
            return
        self._writer = writer
        to_pod = asyncio.create_task(self._to_pod(writer))
        try:
            while data := await reader.read(_READ_SIZE):
                await send(data)
        except OSError:
            pass  # the pod reset the connection: it is over
        finally:
            self.closed = True
            writer.close()  # first: what follows awaits, and a second cancellation may cut it short
            to_pod.cancel()
            self._drop_inbound()  # unblock an `offer` waiting for room
            await asyncio.wait({to_pod})

    async def _to_pod(self, writer: asyncio.StreamWriter) -> None:
        try:
            while (data := await self._inbound.get()) is not None:
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except OSError:
            self.closed = True

    def _drop_inbound(self) -> None:
        while not self._inbound.empty():
            self._inbound.get_nowait()


def _dial_error(exc: BaseException, target: Target, port: int) -> str:
    """A failed dial as Go words it (`dial tcp4 10.0.0.5:3000: connect: connection refused`)."""
    family = "tcp6" if ":" in target.ip else "tcp4"
    address = f"[{target.ip}]:{port}" if ":" in target.ip else f"{target.ip}:{port}"
    if isinstance(exc, TimeoutError) or getattr(exc, "errno", None) == errno.ETIMEDOUT:
        return f"dial {family} {address}: i/o timeout"
    code = getattr(exc, "errno", None)
    reason = os.strerror(code).lower() if isinstance(code, int) and code > 0 else str(exc) or type(exc).__name__
    return f"dial {family} {address}: connect: {reason}"


# --- the kubelet's WebSocket protocol -------------------------------------------------------------------------


@dataclass(eq=False)
class _Channels:
    """One forwarded port of a channel session: its channels and its connection."""

    index: int
    connection: PodConnection

    @property
    def data(self) -> int:
        return 2 * self.index

    @property
    def errors(self) -> int:
        return 2 * self.index + 1


class ChannelPortForward:
    """One WebSocket port-forward: the port prefixes, then each port relayed until the pod closes it (or the
    dial fails, said on its error channel); the WebSocket closes when every port is done, and everything ends
    when the client leaves. With `half_close` (v5), a client's `[255, 2i]` half-closes port i's connection."""

    def __init__(self, websocket: WebSocket, target: Target, ports: list[int], *, half_close: bool, dial: Dialer) -> None:
        self.websocket = websocket
        self.target = target
        self.ports = [_Channels(index, PodConnection(port)) for index, port in enumerate(ports)]
        self.half_close = half_close
        self.dial = dial
        self.sending = asyncio.Lock()  # several ports send on one WebSocket

    async def run(self) -> None:
        for port in self.ports:
            prefix = port.connection.port.to_bytes(2, "little")
            await self._send(bytes([port.data]) + prefix)
            await self._send(bytes([port.errors]) + prefix)
        forwards: asyncio.Future[Any] = asyncio.gather(*(self._forward(port) for port in self.ports))
        inbound: asyncio.Future[Any] = asyncio.create_task(self._input())
        try:
            await asyncio.wait({forwards, inbound}, return_when=asyncio.FIRST_COMPLETED)
            if forwards.done():
                forwards.result()
                await self.websocket.close()
            else:
                inbound.result()  # the client left, or a bug to raise
        finally:
            for task in (forwards, inbound):
                task.cancel()
            # wait(), not gather(): if this task is cancelled meanwhile, its own CancelledError must surface.
            await asyncio.wait({forwards, inbound})

    async def _send(self, data: bytes) -> None:
        async with self.sending:
            await self.websocket.send_bytes(data)

    async def _forward(self, port: _Channels) -> None:
        async def send(data: bytes) -> None:
            await self._send(bytes([port.data]) + data)

        async def fail(message: str) -> None:
            await self._send(bytes([port.errors]) + message.encode())

        await port.connection.run(self.target, self.dial, send, fail)

    async def _input(self) -> None:
        """The client's data to its port's connection, until the client leaves."""
        by_channel = {port.data: port for port in self.ports}
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes") or b""
            if not data:
                continue
            if data[0] == CLOSE and self.half_close and len(data) > 1 and data[1] in by_channel:
                await by_channel[data[1]].connection.offer(None)
            elif data[0] in by_channel and len(data) > 1:
                await by_channel[data[0]].connection.offer(data[1:])


# --- SPDY -------------------------------------------------------------------------------------------------------


class ByteChannel(Protocol):
    """Where a SPDY session's bytes go and come from: a WebSocket tunnel, or an upgraded connection."""

    async def receive(self) -> bytes:
        """The next bytes; b"" once the client is gone."""
        ...

    async def send(self, data: bytes) -> None:
        """Raises ConnectionError once the client is gone."""
        ...

    async def close(self) -> None: ...


class WebSocketChannel:
    """The SPDY bytes in a WebSocket's binary messages (kubectl's tunnel: no channel byte, no framing of its own;
    a message may hold part of a frame, or several)."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket

    async def receive(self) -> bytes:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return b""
            data = message.get("bytes")
            if data is None:  # what client-go's tunnel calls "invalid message type received"
                raise spdy.SpdyError("a text message in a SPDY tunnel")
            if data:
                return bytes(data)

    async def send(self, data: bytes) -> None:
        try:
            await self.websocket.send_bytes(data)
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            raise ConnectionError(f"the client is gone: {exc!r}") from None

    async def close(self) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await self.websocket.close()


class StreamChannel:
    """The SPDY bytes on an upgraded HTTP connection (kubectl's plain SPDY)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def receive(self) -> bytes:
        try:
            return await self.reader.read(64 * 1024)
        except OSError:
            return b""

    async def send(self, data: bytes) -> None:
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (OSError, RuntimeError) as exc:
            raise ConnectionError(f"the client is gone: {exc!r}") from None

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(5):  # a TLS close waits for the client's close_notify
                await self.writer.wait_closed()


StreamKind = Literal["error", "data"]


@dataclass(eq=False)
class _Pair:
    """The two streams of one of kubectl's connections (by `requestID`), and the connection to the pod."""

    request_id: str
    streams: dict[StreamKind, int] = field(default_factory=dict)
    connection: PodConnection | None = None
    ended: set[int] = field(default_factory=set)  # streams we closed, or the client reset: nothing more on them
    complete: asyncio.Event = field(default_factory=asyncio.Event)


class SpdyPortForward:
    """One SPDY port-forward session, the server side of spdystream as the kubelet uses it: each stream the
    client opens is checked (its `port` and `streamType` headers) and replied to, or reset; a connection to the
    pod starts once a `requestID` has both its streams; PINGs are answered; GOAWAY, or the client's leaving,
    ends it all (the connections to the pod too)."""

    def __init__(
        self, channel: ByteChannel, target: Target, *, dial: Dialer, stream_creation_timeout: float = STREAM_CREATION_TIMEOUT
    ) -> None:
        self.channel = channel
        self.target = target
        self.dial = dial
        self.stream_creation_timeout = stream_creation_timeout
        self.reader = spdy.FrameReader()
        self.writer = spdy.FrameWriter()
        self.sending = asyncio.Lock()  # frames go out whole, and header blocks in the compressor's order
        self.streams: dict[int, tuple[_Pair, StreamKind]] = {}
        self.pairs: dict[str, _Pair] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.next_stream_id = 1  # the least id the client may open next (spdystream's check)
        self.gone = False

    async def run(self) -> None:
        try:
            while not self.gone and (data := await self.channel.receive()):
                for frame in self.reader.feed(data):
                    if not await self._handle(frame):
                        return
        except spdy.SpdyError as exc:
            log.info("port-forward to pod %s: %s; closing the connection", self.target.pod, exc)
        finally:
            self.gone = True  # nothing more goes out: the streams' tasks end without a word
            for task in self.tasks:
                task.cancel()
            if self.tasks:
                # wait(), not gather(): if this task is cancelled meanwhile, its own CancelledError must surface.
                await asyncio.wait(self.tasks)
            await self.channel.close()

    async def _handle(self, frame: spdy.Frame) -> bool:
        """Act on one frame; False when the session is over (GOAWAY)."""
        match frame:
            case spdy.SynStream():
                await self._open(frame)
            case spdy.DataFrame(stream_id, data, fin):
                pair, kind = self.streams.get(stream_id, (None, "error"))
                if pair is not None and kind == "data" and pair.connection is not None:
                    if data:
                        await pair.connection.offer(data)
                    if fin:
                        await pair.connection.offer(None)
            case spdy.RstStream(stream_id):
                pair, kind = self.streams.pop(stream_id, (None, "error"))
                if pair is not None:
                    pair.ended.add(stream_id)
                    if kind == "data" and pair.connection is not None:
                        pair.connection.abort()
            case spdy.Ping(ping_id) if ping_id % 2 == 1:  # the client's (ours would be even): echoed
                await self._send(frame)
            case spdy.GoAway():
                return False
        return True  # SETTINGS, WINDOW_UPDATE, HEADERS and replies to our pings: nothing to do

    async def _open(self, frame: spdy.SynStream) -> None:
        if frame.stream_id < self.next_stream_id:
            await self._send(spdy.RstStream(frame.stream_id, spdy.RstStatus.PROTOCOL_ERROR))
            return
        self.next_stream_id = frame.stream_id + 2
        headers = {name: values[0] for name, values in frame.headers.items() if values}
        problem = _stream_problem(headers)
        if problem is not None:  # the kubelet resets the stream (and logs "Stream rejected")
            log.info("port-forward to pod %s: stream rejected: %s", self.target.pod, problem)
            await self._send(spdy.RstStream(frame.stream_id, spdy.RstStatus.CANCEL))
            return
        await self._send(spdy.SynReply(frame.stream_id, {}))
        kind: StreamKind = "error" if headers["streamtype"] == "error" else "data"
        request_id = headers.get("requestid") or str(frame.stream_id if kind == "error" else frame.stream_id - 2)
        pair = self.pairs.get(request_id)
        if pair is None:
            pair = self.pairs[request_id] = _Pair(request_id)
            self._start(self._serve(pair))
        if kind in pair.streams:
            await self._write_error(pair, f"error processing stream for request {request_id}: {kind} stream already assigned")
            return
        pair.streams[kind] = frame.stream_id
        self.streams[frame.stream_id] = (pair, kind)
        if kind == "data":
            pair.connection = PodConnection(int(headers["port"]))
            if frame.fin:  # opened half-closed: nothing to send to the pod
                await pair.connection.offer(None)
        if len(pair.streams) == 2:
            pair.complete.set()

    def _start(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("port-forward to pod %s failed", self.target.pod, exc_info=task.exception())

    async def _serve(self, pair: _Pair) -> None:
        """Wait for both streams of the pair, then forward; end both streams when the connection to the pod ends."""
        try:
            try:
                async with asyncio.timeout(self.stream_creation_timeout):
                    await pair.complete.wait()
            except TimeoutError:
                await self._write_error(pair, f"(request={pair.request_id}) timed out waiting for streams")
                return
            assert pair.connection is not None

            async def send(data: bytes) -> None:
                await self._data(pair, "data", data)

            async def fail(message: str) -> None:
                log.info("port-forward: %s", message)
                await self._write_error(pair, message)

            await pair.connection.run(self.target, self.dial, send, fail)
            await self._data(pair, "data", b"", fin=True)
        finally:
            await self._data(pair, "error", b"", fin=True)
            await self._data(pair, "data", b"", fin=True)
            for stream_id in pair.streams.values():
                self.streams.pop(stream_id, None)
            self.pairs.pop(pair.request_id, None)

    async def _write_error(self, pair: _Pair, message: str) -> None:
        await self._data(pair, "error", message.encode())

    async def _data(self, pair: _Pair, kind: StreamKind, data: bytes, *, fin: bool = False) -> None:
        stream_id = pair.streams.get(kind)
        if stream_id is None or stream_id in pair.ended:
            return
        if fin:
            pair.ended.add(stream_id)
        await self._send(spdy.DataFrame(stream_id, data, fin))

    async def _send(self, frame: spdy.Frame) -> None:
        if self.gone:
            return
        async with self.sending:
            if self.gone:
                return
            try:
                await self.channel.send(self.writer.encode(frame))
            except ConnectionError:
                self.gone = True  # the reading side sees the end too, and ends the session


def _stream_problem(headers: dict[str, str]) -> str | None:
    """Why the kubelet would refuse a stream with these headers; None when it would take it."""
    port = headers.get("port", "")
    if not port:
        return '"port" header is required'
    if not port.isdigit() or int(port) > 65535:
        return f'unable to parse "{port}" as a port'
    if int(port) < 1:
        return f'port "{port}" must be > 0'
    kind = headers.get("streamtype", "")
    if not kind:
        return '"streamType" header is required'
    if kind not in ("error", "data"):
        return f'invalid stream type "{kind}"'
    return None
