"""Probe handlers: one small async function per handler kind, each returning an `Outcome`
(docs/kubelet.md#probe-handlers, docs/kubelet.md#probe-errors-and-events).

Why this shape: the Go kubelet keeps its checkers (`pkg/probe/{http,tcp,exec,grpc}`) stateless and separate from the
worker that counts results, and so do we. A handler never raises for a failing container: a refused connection, a
timeout or a 500 is a FAILURE *with output*, because that output becomes the text of the `Unhealthy` event. Only a
probe that could not run at all (a named port that does not exist, a runtime that cannot exec) carries an `error`;
the worker discards such a result and records `<Kind> probe errored and resulted in <result> state: <error>`.

The messages copy Go's, because users grep events for them: `HTTP probe failed with statuscode: 404`,
`Get "http://10.0.0.7:81/": dial tcp 10.0.0.7:81: connect: connection refused`, `command "sh -c x" timed out`.

HTTP is the delicate one. Go's `net/http` client, as the kubelet configures it, differs from httpx's defaults, so the
request is built by hand: Go's header order and canonical names, no `Accept-Encoding`, `Connection: close`, no proxy
from the environment, no TLS verification, one deadline for the whole exchange (dial, redirects, headers, body), and
Go's redirect policy (same hostname only, the 10th redirect is an error) run here rather than by httpx.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import errno
import functools
import importlib
import json
import os
import re
import socket
import ssl
import struct
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote, urlsplit

from minikubelet import KUBERNETES_VERSION
from minikubelet.printing.durations import go_duration

if TYPE_CHECKING:
    import httpx

    from minikubelet.prober.http1 import ProbeClient

__all__ = [
    "USER_AGENT",
    "HookRequest",
    "Outcome",
    "ProbeError",
    "Result",
    "answered",
    "probe_exec",
    "probe_grpc",
    "probe_http",
    "probe_tcp",
    "resolve_port",
    "send_hook_request",
]

USER_AGENT = "kube-probe/" + ".".join(KUBERNETES_VERSION.lstrip("v").split(".")[:2])  # kube-probe/<major>.<minor>
MAX_BODY_BYTES = 10 * 1024  # http.go maxRespBodyLength; reaching it is not an error
MAX_EXEC_OUTPUT_BYTES = 10 * 1024  # exec.go maxReadLength
MAX_REDIRECT_REQUESTS = 10  # Go's CheckRedirect: `len(via) >= 10` -> "stopped after 10 redirects"
EXEC_DEADLINE_GRACE = 1.0  # backstop, in seconds, for a runtime that ignores the exec timeout it was given

_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})  # net/http redirectBehavior for GET
# Go writes these itself (or not at all), never from the header map (net/http reqWriteExcludeHeader).
_NOT_WRITTEN = frozenset({"Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer"})
_WHILE_READING_BODY = "(Client.Timeout or context cancellation while reading body)"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_ATOI = re.compile(r"[+-]?[0-9]+")


class Result(enum.Enum):
    """pkg/probe Result; the values are Go's strings, as the errored-probe event prints them."""

    SUCCESS = "success"
    WARNING = "warning"
    FAILURE = "failure"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one probe run produced; a non-empty `error` means the probe could not run (the worker discards it)."""

    result: Result
    output: str = ""
    error: str = ""


class ProbeError(Exception):
    """The probe cannot run at all, e.g. its named port does not exist."""


async def _load(*modules: str) -> None:
    """Import `modules` in a worker thread the first time a probe needs them.

    httpx (HTTP probes) and h2 (gRPC probes) take tens of milliseconds to import: at module level they would
    delay the node's start, and imported on the event loop by the first probe they would stall every other
    probe and request meanwhile. The functions below then `import` them again, which only looks them up.
    """
    missing = [name for name in modules if name not in sys.modules]
    if missing:
        await asyncio.to_thread(_import_all, missing)


def _import_all(modules: list[str]) -> None:
    for name in modules:
        importlib.import_module(name)


# --- ports -------------------------------------------------------------------------------------------------------


def resolve_port(port: int | str, container: Mapping[str, Any]) -> int:
    """kubelet's ResolveContainerPort: a name is looked up in `container["ports"]`, then tried as a number."""
    if isinstance(port, str):
        number = _port_by_name(port, container)
        if number is None:
            if not _ATOI.fullmatch(port):
                raise ProbeError(f"port {port} not found")
            number = int(port)
    else:
        number = port
    if not 0 < number < 65536:
        raise ProbeError(f"invalid port number: {number}")
    return number


def _port_by_name(name: str, container: Mapping[str, Any]) -> int | None:
    for entry in container.get("ports") or ():
        if entry.get("name") == name:
            return int(entry["containerPort"])
    return None


# --- errors in Go's words ----------------------------------------------------------------------------------------


def _join_host_port(host: str, port: int) -> str:
    """net.JoinHostPort: IPv6 literals get brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _os_error(exc: BaseException | None) -> OSError | None:
    """The first OSError that carries an errno, searching causes, contexts and exception groups."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc] if exc is not None else []
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno is not None:
            return current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return None


def _strerror(code: int) -> str:
    """Go's syscall error text is the C library's, starting lower-case: "connection refused"."""
    text = os.strerror(code)
    return text[:1].lower() + text[1:]


def _dial_error(host: str, port: int, exc: BaseException) -> str:
    """The text of Go's `net.Dial` error, e.g. `dial tcp 10.0.0.7:81: connect: connection refused`."""
    cause = _os_error(exc)
    if isinstance(cause, socket.gaierror):
        reason = "no such host" if cause.errno == socket.EAI_NONAME else _strerror_gai(cause)
        return f"dial tcp: lookup {host}: {reason}"
    if cause is not None and cause.errno:
        return f"dial tcp {_join_host_port(host, port)}: connect: {_strerror(cause.errno)}"
    return f"dial tcp {_join_host_port(host, port)}: {exc}"


def _strerror_gai(exc: socket.gaierror) -> str:
    text = str(exc.strerror or exc)
    return text[:1].lower() + text[1:]


def _set_linger(sock: socket.socket | None) -> None:
    """probe.ProbeDialer: SO_LINGER 1 s, so that probe sockets do not pile up in TIME-WAIT."""
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 1))


# --- tcpSocket ---------------------------------------------------------------------------------------------------


async def probe_tcp(*, host: str, port: int, timeout: float) -> Outcome:
    """pkg/probe/tcp: success once the handshake completes; the socket is closed at once, no data exchanged."""
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            _, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        if isinstance(exc, TimeoutError) and deadline.expired():
            return Outcome(Result.FAILURE, f"dial tcp {_join_host_port(host, port)}: i/o timeout")
        return Outcome(Result.FAILURE, _dial_error(host, port, exc))
    _set_linger(writer.get_extra_info("socket"))
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return Outcome(Result.SUCCESS)


# --- exec --------------------------------------------------------------------------------------------------------

ExecRunner = Callable[[Sequence[str], float], Awaitable[tuple[int, bytes, bool]]]


async def probe_exec(run: ExecRunner, command: Sequence[str], *, timeout: float) -> Outcome:
    """pkg/probe/exec: `run(argv, timeout)` -> (exit code, combined output, timed out), adapted from the runtime."""
    argv = list(command)
    deadline = asyncio.timeout(timeout + EXEC_DEADLINE_GRACE)
    try:
        async with deadline:
            exit_code, output, timed_out = await run(argv, timeout)
    except Exception as exc:  # the runtime failed to exec: an error, not a result (CancelledError still propagates)
        if isinstance(exc, TimeoutError) and deadline.expired():
            return _exec_timed_out(argv)
        return Outcome(Result.UNKNOWN, error=str(exc) or type(exc).__name__)
    if timed_out:
        return _exec_timed_out(argv)
    text = output[:MAX_EXEC_OUTPUT_BYTES].decode("utf-8", errors="replace")
    return Outcome(Result.SUCCESS if exit_code == 0 else Result.FAILURE, text)


def _exec_timed_out(argv: Sequence[str]) -> Outcome:
    # remote_runtime.go: fmt.Errorf("command %q timed out", strings.Join(cmd, " ")); JSON quoting is close to %q.
    return Outcome(Result.FAILURE, f"command {json.dumps(' '.join(argv), ensure_ascii=False)} timed out")


# --- grpc --------------------------------------------------------------------------------------------------------

_HEALTH_CHECK_PATH = "/grpc.health.v1.Health/Check"
_GRPC_UNIMPLEMENTED = 12
_GRPC_CODE_NAMES = {  # google.golang.org/grpc/codes, as `code = <Name>` prints them
    0: "OK",
    1: "Canceled",
    2: "Unknown",
    3: "InvalidArgument",
    4: "DeadlineExceeded",
    5: "NotFound",
    6: "AlreadyExists",
    7: "PermissionDenied",
    8: "ResourceExhausted",
    9: "FailedPrecondition",
    10: "Aborted",
    11: "OutOfRange",
    12: "Unimplemented",
    13: "Internal",
    14: "Unavailable",
    15: "DataLoss",
    16: "Unauthenticated",
}
_SERVING_STATUS_NAMES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}
_SERVING = 1
# grpc-go's HTTP status -> code mapping, for a reply that is not a gRPC reply at all.
_HTTP_TO_GRPC = {400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14}
_RST_TO_GRPC = {0x8: 1, 0x7: 14}  # CANCEL -> Canceled, REFUSED_STREAM -> Unavailable; everything else Internal


class _RPCError(Exception):
    """The Check call ended with a non-OK gRPC status (sent by the server or concluded by the client)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"rpc error: code = {_GRPC_CODE_NAMES.get(self.code, f'Code({self.code})')} desc = {self.message}"


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        if not value:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _health_check_request(service: str) -> bytes:
    """A length-prefixed, uncompressed gRPC message holding HealthCheckRequest{service} (field 1, a string)."""
    encoded = service.encode()
    message = b"\x0a" + _varint(len(encoded)) + encoded if encoded else b""
    return b"\x00" + struct.pack(">I", len(message)) + message


def _serving_status(body: bytes) -> int:
    """HealthCheckResponse.status (field 1, a varint enum) from the one gRPC message in `body`; absent means 0."""
    if len(body) < 5:
        raise _RPCError(13, "server returned no response message")
    compressed, length = body[0], struct.unpack(">I", body[1:5])[0]
    if compressed:
        raise _RPCError(13, "grpc: compressed message received but no compression was requested")
    message = body[5 : 5 + length]
    if len(message) != length:
        raise _RPCError(13, "grpc: response message truncated")
    status, pos = 0, 0
    try:
        while pos < len(message):
            key, pos = _read_varint(message, pos)
            wire_type = key & 7
            if wire_type == 0:
                value, pos = _read_varint(message, pos)
                if key >> 3 == 1:
                    status = value
            elif wire_type == 1:
                pos += 8
            elif wire_type == 2:
                size, pos = _read_varint(message, pos)
                pos += size
            elif wire_type == 5:
                pos += 4
            else:
                raise ValueError(f"unsupported wire type {wire_type}")
            if pos > len(message):
                raise ValueError("truncated field")
    except ValueError as exc:
        raise _RPCError(13, f"grpc: failed to unmarshal the received message: {exc}") from None
    return status


def _reply_status(headers: dict[str, str]) -> _RPCError | None:
    """The call's gRPC status from trailers (or trailers-only headers); None when they carry `grpc-status: 0`."""
    raw = headers.get("grpc-status")
    if raw is None:
        return _RPCError(13, "server closed the stream without sending trailers")
    try:
        code = int(raw)
    except ValueError:
        return _RPCError(13, f"transport: malformed grpc-status: {raw}")
    return None if code == 0 else _RPCError(code, unquote(headers.get("grpc-message", "")))


async def _health_check(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, authority: str, service: str) -> int:
    """One Check call over h2c with prior knowledge; returns the serving status or raises `_RPCError`."""
    import h2.events
    import h2.exceptions
    from h2.config import H2Configuration
    from h2.connection import H2Connection

    conn = H2Connection(config=H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    stream_id = conn.get_next_available_stream_id()
    conn.send_headers(
        stream_id,
        [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", _HEALTH_CHECK_PATH),
            (":authority", authority),
            ("content-type", "application/grpc"),
            ("user-agent", USER_AGENT),
            ("te", "trailers"),
        ],
    )
    conn.send_data(stream_id, _health_check_request(service), end_stream=True)
    writer.write(conn.data_to_send())
    await writer.drain()

    http_status, metadata, body = "", dict[str, str](), bytearray()
    while True:
        data = await reader.read(65536)
        if not data:
            raise _RPCError(14, "error reading from server: EOF")
        try:
            events = conn.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            raise _RPCError(13, f"connection error: {exc}") from None
        ended = False
        for event in events:
            if getattr(event, "stream_id", stream_id) != stream_id:
                continue
            if isinstance(event, h2.events.ResponseReceived | h2.events.TrailersReceived):
                fields = {_text(name): _text(value) for name, value in event.headers or ()}
                http_status = fields.pop(":status", http_status)
                metadata.update(fields)
            elif isinstance(event, h2.events.DataReceived):
                body += event.data or b""
                conn.acknowledge_received_data(event.flow_controlled_length or 0, stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                ended = True
            elif isinstance(event, h2.events.StreamReset):
                code = int(event.error_code or 0)
                name = getattr(event.error_code, "name", str(code))
                raise _RPCError(_RST_TO_GRPC.get(code, 13), f"stream terminated by RST_STREAM with error code: {name}")
            elif isinstance(event, h2.events.ConnectionTerminated):
                raise _RPCError(14, f"the connection is draining due to GOAWAY: {event.error_code!s}")
        writer.write(conn.data_to_send())
        await writer.drain()
        if ended:
            break

    if http_status != "200":
        code = _HTTP_TO_GRPC.get(int(http_status) if http_status.isdigit() else 0, 2)
        raise _RPCError(code, f"unexpected HTTP status code received from server: {http_status}")
    failure = _reply_status(metadata)
    if failure is not None:
        raise failure
    return _serving_status(bytes(body))


def _text(value: str | bytes) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


async def probe_grpc(*, host: str, port: int, service: str | None, timeout: float) -> Outcome:
    """pkg/probe/grpc: grpc.health.v1.Health/Check over plain h2c; `timeout` covers the dial and the call."""
    await _load("h2.connection", "h2.events", "h2.exceptions", "h2.config")
    address = _join_host_port(host, port)
    within = go_duration(timeout)
    writer: asyncio.StreamWriter | None = None
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            reader, writer = await asyncio.open_connection(host, port)
            _set_linger(writer.get_extra_info("socket"))
            status = await _health_check(reader, writer, authority=address, service=service or "")
    except _RPCError as exc:
        if exc.code == _GRPC_UNIMPLEMENTED:
            return Outcome(
                Result.FAILURE,
                f"error: this server does not implement the grpc health protocol (grpc.health.v1.Health): {exc.message}",
            )
        if exc.code == 4:  # DeadlineExceeded: grpc.go words it as its own timeout
            return Outcome(Result.FAILURE, f"timeout: health rpc did not complete within {within}")
        return Outcome(Result.FAILURE, f"error: health rpc probe failed: {exc}")
    except OSError as exc:
        if writer is None:  # still dialling
            if isinstance(exc, TimeoutError) and deadline.expired():
                reason = "context deadline exceeded"
                return Outcome(
                    Result.FAILURE, f"timeout: failed to connect service {json.dumps(address)} within {within}: {reason}"
                )
            return Outcome(
                Result.FAILURE, f"error: failed to connect service at {json.dumps(address)}: {_dial_error(host, port, exc)}"
            )
        if isinstance(exc, TimeoutError) and deadline.expired():
            return Outcome(Result.FAILURE, f"timeout: health rpc did not complete within {within}")
        return Outcome(Result.FAILURE, f"error: health rpc probe failed: {_RPCError(14, _read_error(exc))}")
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    if status == _SERVING:
        return Outcome(Result.SUCCESS, "service healthy")
    name = _SERVING_STATUS_NAMES.get(status, str(status))
    return Outcome(Result.FAILURE, f"service unhealthy (responded with {json.dumps(name)})")


def _read_error(exc: OSError) -> str:
    cause = _os_error(exc)
    if cause is not None and cause.errno:
        return f"error reading from server: read tcp: {_strerror(cause.errno)}"
    return f"error reading from server: {exc}"


# --- httpGet: headers --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ProbeHeaders:
    """The request headers as kubelet's newProbeRequest leaves them, split the way net/http writes them."""

    host: str  # the user's Host header; "" means the URL's host
    user_agent: str  # "" means none is sent
    fields: tuple[tuple[str, str], ...]  # everything else, canonical names, in the user's order


def _canonical_name(name: str) -> str:
    """textproto.CanonicalMIMEHeaderKey: `x-custom-header` -> `X-Custom-Header`; invalid names are left alone."""
    if not _TOKEN.fullmatch(name):
        return name
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def _clean_value(value: str) -> str:
    """net/http writes values with CR/LF turned into spaces and surrounding whitespace trimmed."""
    return value.replace("\r", " ").replace("\n", " ").strip(" \t")


def _probe_headers(headers: Sequence[tuple[str, str]], user_agent: str) -> _ProbeHeaders:
    given = [(_canonical_name(name), value) for name, value in headers]

    def first(name: str) -> str | None:
        return next((value for key, value in given if key == name), None)

    fields = [(name, value) for name, value in given if name not in _NOT_WRITTEN]
    accept = first("Accept")
    if accept is None:
        fields.append(("Accept", "*/*"))
    elif accept == "":  # an empty Accept removes the header altogether
        fields = [(name, value) for name, value in fields if name != "Accept"]
    agent = first("User-Agent")
    return _ProbeHeaders(host=first("Host") or "", user_agent=user_agent if agent is None else agent, fields=tuple(fields))


def _wire_headers(base: _ProbeHeaders, *, host: str, referer: str) -> list[tuple[bytes, bytes]]:
    """Host, User-Agent, the header map sorted by name (as Go writes it), then the transport's `Connection: close`."""
    fields = [(name, value) for name, value in base.fields if not (referer and name == "Referer")]
    if referer:
        fields.append(("Referer", referer))
    lines = [("Host", host)]
    if base.user_agent:
        lines.append(("User-Agent", base.user_agent))
    lines.extend(sorted(fields, key=lambda item: item[0]))
    if not any("close" in _tokens(value) for name, value in fields if name == "Connection"):
        lines.append(("Connection", "close"))  # DisableKeepAlives
    return [(name.encode(), _clean_value(value).encode()) for name, value in lines]


def _tokens(value: str) -> list[str]:
    return [token.strip().lower() for token in value.split(",")]


# --- httpGet: the exchange ---------------------------------------------------------------------------------------


@functools.cache
def _insecure_tls() -> ssl.SSLContext:
    """InsecureSkipVerify: the kubelet checks that the endpoint answers, not who it is."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # TLS 1.2+, and no CA bundle to load: nothing is verified
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _format_url(scheme: str, host: str, port: int, path: str) -> str:
    """formatURL: `scheme://JoinHostPort(host, port)` + path, which may carry a query string."""
    if path and not path.startswith(("/", "?", "#")):
        path = "/" + path  # url.URL.String() adds the slash between host and a relative path
    return f"{scheme.lower() or 'http'}://{_join_host_port(host, port)}{path}"


@dataclass
class _Hop:
    """One request of the exchange: where it goes and how far it got, for the error texts."""

    url: httpx.URL
    shown: str  # the URL as Go prints it: `Get "<shown>": ...`
    authority: str  # Go's URL.Host: the Host header unless a custom one applies
    connected: bool = False

    def dial_address(self) -> tuple[str, int]:
        return self.url.host, self.url.port or (443 if self.url.scheme == "https" else 80)


@dataclass
class _Exchange:
    """One probe's GET with Go's redirect policy; remembers the current hop so that a deadline can be worded."""

    client: ProbeClient
    headers: _ProbeHeaders
    hop: _Hop
    reading_body: bool = False
    via: list[httpx.URL] = field(default_factory=list)
    transport_error: BaseException | None = None  # the last exception of a send, for the hook's HTTPS fallback

    async def run(self) -> Outcome:
        import httpx

        response = await self._follow()
        if isinstance(response, Outcome):
            return response
        try:
            body = await self._read_body(response)
        except httpx.HTTPError as exc:  # DoHTTPProbe: a body that cannot be read is an error
            return Outcome(Result.FAILURE, error=_read_reason(exc))
        finally:
            await response.aclose()
        return _classify(response.status_code, body)

    def deadline_outcome(self) -> Outcome:
        """The client's total timeout fired; Go words it by how far the current hop got."""
        if self.reading_body:
            return Outcome(Result.FAILURE, error=f"context deadline exceeded {_WHILE_READING_BODY}")
        if self.hop.connected:
            reason = "context deadline exceeded"
        else:
            reason = f"dial tcp {_join_host_port(*self.hop.dial_address())}: i/o timeout"
        return self._failed(f"{reason} (Client.Timeout exceeded while awaiting headers)")

    async def _follow(self) -> httpx.Response | Outcome:
        """net/http Client.do: send, and follow 301/302/303/307/308 while kubelet's redirect checker allows it."""
        import httpx

        custom_host, referer = self.headers.host, ""
        while True:
            self.via.append(self.hop.url)
            try:
                response = await self._send(custom_host or self.hop.authority, referer)
            except httpx.HTTPError as exc:
                self.transport_error = exc
                return self._failed(self._transport_reason(exc))
            location = response.headers.get("Location", "")
            if response.status_code not in _REDIRECT_CODES or not location:
                return response
            step = self._next_hop(location, custom_host)
            if step is None:
                return response  # another hostname: not followed, the 3xx itself is the answer (a Warning)
            await response.aclose()
            if isinstance(step, Outcome):
                return step
            custom_host, referer = step

    def _next_hop(self, location: str, custom_host: str) -> tuple[str, str] | Outcome | None:
        """Move to the redirect target and return its (custom Host, Referer); None keeps the response as the answer."""
        import httpx

        try:
            target = self.hop.url.join(location)
            authority = urlsplit(location).netloc.rpartition("@")[2] or self.hop.authority
        except (httpx.InvalidURL, ValueError) as exc:
            return self._failed(f"failed to parse Location header {json.dumps(location)}: {exc}")
        if target.host != self.via[0].host:  # kubelet's redirectChecker compares hostnames only
            return None
        if len(self.via) >= MAX_REDIRECT_REQUESTS:
            return Outcome(Result.FAILURE, f'Get "{location}": stopped after 10 redirects')
        if not 0 <= (target.port or 0) < 65536:  # Go fails this at dial time; Python would raise OverflowError
            self.hop = _Hop(target, str(target), authority)
            return self._failed(f"dial tcp: address {target.port}: invalid port")
        # A custom Host survives only a relative redirect (Go issue 22233); no Referer from https to http.
        keep = custom_host if custom_host != self.hop.authority and not urlsplit(location).scheme else ""
        referer = "" if (self.hop.url.scheme, target.scheme) == ("https", "http") else self.hop.shown
        self.hop = _Hop(target, str(target), authority)
        return keep, referer

    async def _send(self, host: str, referer: str) -> httpx.Response:
        import httpx

        headers = _wire_headers(self.headers, host=host, referer=referer)
        request = httpx.Request("GET", self.hop.url, headers=headers, extensions={"trace": self._trace})
        return await self.client.send(request, stream=True)

    async def _trace(self, event: str, info: dict[str, Any]) -> None:
        if event == "connection.connect_tcp.complete":
            self.hop.connected = True
            _set_linger(info["return_value"].get_extra_info("socket"))

    async def _read_body(self, response: httpx.Response) -> bytes:
        """utilio.ReadAtMost: at most 10 KiB, raw (compression is off, nothing is decoded)."""
        self.reading_body = True
        body = bytearray()
        chunks = cast(AsyncGenerator[bytes, None], response.aiter_raw())  # it is one: close it when we stop early
        async with contextlib.aclosing(chunks):
            async for chunk in chunks:
                body += chunk
                if len(body) >= MAX_BODY_BYTES:
                    break
        self.reading_body = False
        return bytes(body[:MAX_BODY_BYTES])

    def _transport_reason(self, exc: httpx.HTTPError) -> str:
        import httpx

        if isinstance(exc, httpx.UnsupportedProtocol):  # e.g. a redirect to ftp:// on the same host
            return f"unsupported protocol scheme {json.dumps(self.hop.url.scheme)}"
        if not self.hop.connected:
            return _dial_error(*self.hop.dial_address(), exc)
        return _read_reason(exc)

    def _failed(self, reason: str) -> Outcome:
        return Outcome(Result.FAILURE, f'Get "{self.hop.shown}": {reason}')


def _read_reason(exc: httpx.HTTPError) -> str:
    """A Go-like reason for a failure after the connection was made."""
    import httpx

    if isinstance(exc, httpx.RemoteProtocolError) and "without sending a response" in str(exc):
        return "EOF"
    cause = _os_error(exc)
    if cause is not None and cause.errno in (errno.ECONNRESET, errno.EPIPE):
        return f"read: {_strerror(cause.errno)}"
    return str(exc) or type(exc).__name__


def _classify(status: int, body: bytes) -> Outcome:
    """DoHTTPProbe: 2xx success, an unfollowed 3xx a warning, anything else a failure that hides the body."""
    text = body.decode("utf-8", errors="replace")
    if 200 <= status < 300:
        return Outcome(Result.SUCCESS, text)
    if 300 <= status < 400:
        return Outcome(Result.WARNING, f"Probe terminated redirects, Response body: {text}")
    return Outcome(Result.FAILURE, f"HTTP probe failed with statuscode: {status}")


async def probe_http(
    *,
    scheme: str,
    host: str,
    port: int,
    path: str,
    headers: list[tuple[str, str]],
    timeout: float,
    user_agent: str = USER_AGENT,
) -> Outcome:
    """pkg/probe/http: GET `scheme://host:port/path`; `timeout` covers dial, redirects, headers and body."""
    await _load("httpx", "minikubelet.prober.http1")
    import httpx

    shown = _format_url(scheme, host, port, path)
    try:
        url = httpx.URL(shown)
    except httpx.InvalidURL as exc:  # http.NewRequest failed: the probe cannot run
        return Outcome(Result.UNKNOWN, error=f"parse {json.dumps(shown)}: {exc}")
    hop = _Hop(url, shown, authority=_join_host_port(host, port))
    exchange = _Exchange(client=_client(), headers=_probe_headers(headers, user_agent), hop=hop)
    async with exchange.client:
        deadline = asyncio.timeout(timeout)
        try:
            async with deadline:
                return await exchange.run()
        except TimeoutError:
            if not deadline.expired():
                raise
            return exchange.deadline_outcome()


def _client() -> ProbeClient:
    from minikubelet.prober.http1 import ProbeClient

    # No proxy from the environment, no TLS verification, no redirects or timeouts of httpx's own: we do those.
    # Plain HTTP to an IP literal goes the short way (http1.py); the rest through an httpx client made so.
    return ProbeClient(verify=_insecure_tls(), trust_env=False, follow_redirects=False, timeout=None)


# --- httpGet as a lifecycle hook sends it ------------------------------------------------------------------------

# What crypto/tls reports as `http: server gave HTTP response to HTTPS client`: OpenSSL only says the first bytes
# were no TLS record (WRONG_VERSION_NUMBER up to 3.1, RECORD_LAYER_FAILURE / PACKET_LENGTH_TOO_LONG after).
_NOT_TLS_REASONS = frozenset({"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST"})


@dataclass(frozen=True, slots=True)
class HookRequest:
    """How a lifecycle hook's GET ended: `error` "" when any response came back, else Go's `Get "<url>": ...`;
    `fell_back_to` is the `host:port` when an HTTPS request got an HTTP answer and the retry over HTTP worked."""

    error: str = ""
    fell_back_to: str = ""


def _answered_in_plain_http(exc: BaseException | None) -> bool:
    seen: set[int] = set()
    pending = [exc] if exc is not None else []
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLError) and (current.reason or "") in _NOT_TLS_REASONS:
            return True
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return False


async def _hook_get(
    scheme: str, host: str, port: int, path: str, headers: _ProbeHeaders, timeout: float | None
) -> tuple[str, bool]:
    """One GET, any status a success; (error, whether it failed because a plain HTTP server answered TLS)."""
    import httpx

    shown = _format_url(scheme, host, port, path)
    try:
        url = httpx.URL(shown)
    except httpx.InvalidURL as exc:  # http.NewRequest failed
        return f"parse {json.dumps(shown)}: {exc}", False
    exchange = _Exchange(client=_client(), headers=headers, hop=_Hop(url, shown, authority=_join_host_port(host, port)))
    async with exchange.client:
        deadline = asyncio.timeout(timeout)
        try:
            async with deadline:
                answer = await exchange._follow()
                if isinstance(answer, Outcome):
                    if _answered_in_plain_http(exchange.transport_error):
                        return exchange._failed("http: server gave HTTP response to HTTPS client").output, True
                    return answer.output or answer.error, False
                try:  # discardHTTPRespBody: read (at most 10 KiB) and drop; a broken body is no failure
                    with contextlib.suppress(httpx.HTTPError):
                        await exchange._read_body(answer)
                finally:
                    await answer.aclose()
                return "", False
        except TimeoutError:
            if not deadline.expired():
                raise
            return exchange._failed("context deadline exceeded").output, False


async def send_hook_request(
    *,
    scheme: str,
    host: str,
    port: int,
    path: str,
    headers: list[tuple[str, str]],
    timeout: float | None,
    user_agent: str,
) -> HookRequest:
    """The GET of an httpGet lifecycle hook (lifecycle/handlers.go runHTTPHandler).

    The request is the probe's (NewRequestForHTTPGetAction: same URL, header rules and redirect policy, no
    keep-alive, no TLS verification), but the hook client looks at no status: any response, a 500 included, is
    a success, and its body is discarded. Only a request that got no response fails. An HTTPS request that a
    plain HTTP server answered is sent again over HTTP without the Authorization header; when that one gets a
    response the hook succeeded (and the kubelet says so in a `LifecycleHTTPFallback` warning). `timeout` bounds
    each exchange; None sets no bound (upstream's own client has none: the caller's context ends the hook)."""
    await _load("httpx", "minikubelet.prober.http1")
    base = _probe_headers(headers, user_agent)
    error, plain_http = await _hook_get(scheme, host, port, path, base, timeout)
    if not plain_http or scheme.lower() != "https":
        return HookRequest(error)
    without_auth = _ProbeHeaders(base.host, base.user_agent, tuple(f for f in base.fields if f[0] != "Authorization"))
    retry_error, _ = await _hook_get("http", host, port, path, without_auth, timeout)
    if retry_error:
        return HookRequest(error)
    return HookRequest(fell_back_to=_join_host_port(host, port))


# --- what a handler reports, for a target that is only imagined ---------------------------------------------------


def answered(
    handler: str, answer: str, *, scheme: str = "HTTP", host: str = "", port: int = 0, path: str = "/", timeout: float = 1.0
) -> Outcome:
    """The outcome `probe_http`, `probe_tcp` or `probe_grpc` reports when the target answers well (`ok`), refuses
    the connection (`refused`), answers unhealthy (`fails`: HTTP 500, gRPC NOT_SERVING; a tcpSocket probe can only
    be refused) or accepts and never answers (`hangs`), in the same words as the handlers above, built by their
    own helpers. For `minikubelet simulate`, which probes no network (exec probes run `probe_exec` itself)."""
    address = _join_host_port(host, port)

    def refused() -> str:  # worded only when needed: a simulation asks this for every probe attempt
        return _dial_error(host, port, ConnectionRefusedError(errno.ECONNREFUSED, os.strerror(errno.ECONNREFUSED)))

    if handler == "httpGet":
        if answer == "ok":
            return _classify(200, b"")
        url = _format_url(scheme, host, port, path)
        if answer == "fails":
            return _classify(500, b"")
        if answer == "refused":
            return Outcome(Result.FAILURE, f'Get "{url}": {refused()}')
        return Outcome(Result.FAILURE, f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)')
    if handler == "tcpSocket":
        if answer == "ok":
            return Outcome(Result.SUCCESS)
        if answer == "hangs":
            return Outcome(Result.FAILURE, f"dial tcp {address}: i/o timeout")
        return Outcome(Result.FAILURE, refused())
    if handler == "grpc":
        if answer == "ok":
            return Outcome(Result.SUCCESS, "service healthy")
        if answer == "fails":
            return Outcome(Result.FAILURE, f'service unhealthy (responded with "{_SERVING_STATUS_NAMES[2]}")')
        if answer == "refused":
            return Outcome(Result.FAILURE, f"error: failed to connect service at {json.dumps(address)}: {refused()}")
        return Outcome(Result.FAILURE, f"timeout: health rpc did not complete within {go_duration(timeout)}")
    raise ValueError(f"no network handler {handler!r}")
