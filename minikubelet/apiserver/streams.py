"""`pods/exec`, `pods/attach` and `pods/portforward` over WebSocket: Kubernetes' remotecommand protocol, as
kubectl 1.30+ speaks it, and the kubelet's WebSocket port-forward protocol; and the options of `pods/log`.

kubectl offers the subprotocol `v5.channel.k8s.io` (the only one; `v4.channel.k8s.io` is taken too). Every
message is binary and starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize
(`{"Width":W,"Height":H}`), 255 close (v5: `[255, 0]` is the end of stdin). The server sends the output
on 1 and 2, then one Status on 3 (kubectl turns a `NonZeroExitCode` one into its exit code), then closes.
kubectl falls back to SPDY, silently, after any handshake that is not a 101 with the subprotocol echoed.

Errors are split as the real API server and kubelet split them:

- what the pod object tells (no such pod, no such container, a bad query) is refused before the
  handshake with an HTTP Status; kubectl then retries with SPDY (a plain POST), which gets the same
  Status from `http_fallback`, so that kubectl prints `Error from server (NotFound): ...` as it does
  against a real cluster;
- what only the node knows (the container is not running, the pod has finished, the engine failed) is
  sent as the stream's Status after the handshake, which kubectl prints as `error: <message>`.

This module sees the sessions through its own `Session` protocol (the API server does not import the
runtime): the runtime's `StreamSession` fits it.

Port-forward (`portforward.py` runs the sessions) is served in each protocol a client may speak: the
kubelet's WebSocket protocol (`v4.channel.k8s.io`, what the official Python client speaks, and
`v5.channel.k8s.io`, our own CLI), and kubectl's SPDY/3.1, tunnelled in a WebSocket (subprotocol
`SPDY/3.1+portforward.k8s.io`, kubectl 1.31+) or after a plain HTTP upgrade (`Upgrade: SPDY/3.1`; needs
the server's hand-over of the connection, `upgrade.py`). The pod is checked before any handshake (missing:
NotFound; not running: kubectl's words), so that kubectl, whose tunnel is then refused, retries with plain
SPDY and prints the same Status.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from minikubelet.api.podutil import app_containers, container_names
from minikubelet.api.wire import as_pod
from minikubelet.apiserver import decoding, upgrade
from minikubelet.apiserver.portforward import (
    SPDY_PROTOCOL,
    SPDY_TUNNEL_PROTOCOL,
    ChannelPortForward,
    Dialer,
    SpdyPortForward,
    StreamChannel,
    Target,
    WebSocketChannel,
    parse_ports,
)
from minikubelet.apiserver.registry import RESOURCES, Registry
from minikubelet.errors import BadRequestError, FieldError, InvalidError, MinikubeletError, StatusError

__all__ = [
    "CLOSE",
    "RESIZE",
    "STATUS",
    "STDERR",
    "STDIN",
    "STDOUT",
    "SUBPROTOCOLS",
    "AttachSource",
    "Dialer",
    "ExecSource",
    "PodLogOptions",
    "Session",
    "StreamEndpoints",
    "StreamOptions",
    "exit_status",
    "failure_status",
    "frame",
    "parse_ports",
    "success_status",
]

log = logging.getLogger(__name__)

STDIN, STDOUT, STDERR, STATUS, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
V5 = "v5.channel.k8s.io"
SUBPROTOCOLS = (V5, "v4.channel.k8s.io")  # our preference, whatever the client's order
_TRUE = ("true", "1", "True")
_NO_SPDY = (
    "this node serves exec and attach over WebSocket ({protocol}) only, not SPDY: "
    "use kubectl 1.30 or later, without KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false"
)
PORT_FORWARD_SUBPROTOCOLS = (V5, "v4.channel.k8s.io")
Verb = Literal["exec", "attach"]


class Session(Protocol):
    """A running exec or attach (the runtime's `StreamSession`)."""

    async def read(self) -> tuple[int, bytes] | None: ...

    async def write(self, data: bytes) -> None: ...

    async def close_stdin(self) -> None: ...

    async def resize(self, width: int, height: int) -> None: ...

    async def wait(self) -> int: ...

    async def close(self) -> None: ...


class ExecSource(Protocol):
    """Starts an exec in a pod's container (the kubelet's `open_exec`)."""

    async def __call__(
        self, namespace: str, name: str, *, container: str, command: list[str], stdin: bool, tty: bool
    ) -> Session: ...


class AttachSource(Protocol):
    """Attaches to a pod's container (the kubelet's `open_attach`)."""

    async def __call__(self, namespace: str, name: str, *, container: str, stdin: bool, tty: bool) -> Session: ...


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """The request, as `PodExecOptions`/`PodAttachOptions` and the path carry it."""

    verb: Verb
    namespace: str
    name: str
    container: str = ""
    command: tuple[str, ...] = ()
    stdin: bool = False
    stdout: bool = False
    stderr: bool = False
    tty: bool = False

    @classmethod
    def parse(cls, verb: Verb, path_params: Mapping[str, Any], query: QueryParams) -> StreamOptions:
        """The options of a request; BadRequestError when they ask for nothing (as the API server says)."""
        options = cls(
            verb=verb,
            namespace=str(path_params["namespace"]),
            name=str(path_params["name"]),
            container=query.get("container", ""),
            command=tuple(query.getlist("command")) if verb == "exec" else (),
            stdin=query.get("stdin") in _TRUE,
            stdout=query.get("stdout") in _TRUE,
            stderr=query.get("stderr") in _TRUE,
            tty=query.get("tty") in _TRUE,
        )
        if verb == "exec" and not options.command:
            raise BadRequestError("you must specify at least 1 command")
        if not (options.stdin or options.stdout or options.stderr):
            raise BadRequestError("you must specify at least one of stdin, stdout, stderr")
        return options


# --- the protocol's messages ----------------------------------------------------------------------------------


def frame(channel: int, data: bytes = b"") -> bytes:
    """One message: the channel byte, then the data."""
    return bytes([channel]) + data


def success_status() -> dict[str, Any]:
    return {"metadata": {}, "status": "Success"}


def exit_status(command: Sequence[str], exit_code: int) -> dict[str, Any]:
    """The Status of a command that exited non-zero; kubectl exits with `details.causes[ExitCode].message`."""
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: error executing command [{' '.join(command)}], "
        f"exit code {exit_code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(exit_code)}]},
    }


def failure_status(error: MinikubeletError) -> dict[str, Any]:
    """The Status of a stream that could not run (kubectl prints its message)."""
    if isinstance(error, StatusError):
        return error.status()
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": str(error) or type(error).__name__,
        "reason": "InternalError",
        "code": 500,
    }


def _status_frame(status: dict[str, Any]) -> bytes:
    return frame(STATUS, json.dumps(status, separators=(",", ":")).encode())


# --- the endpoints --------------------------------------------------------------------------------------------


class StreamEndpoints:
    """The WebSocket handlers of exec and attach, and the HTTP answer to those who ask without WebSocket."""

    def __init__(
        self,
        registry: Registry,
        exec_source: ExecSource | None,
        attach_source: AttachSource | None,
        *,
        dial: Dialer = asyncio.open_connection,
    ) -> None:
        self.registry = registry
        self.exec_source = exec_source
        self.attach_source = attach_source
        self.dial = dial

    async def exec_socket(self, websocket: WebSocket) -> None:
        await self._serve(websocket, "exec")

    async def attach_socket(self, websocket: WebSocket) -> None:
        await self._serve(websocket, "attach")

    async def http_fallback(self, request: Request) -> Response:
        """kubectl's SPDY retry (or any plain request): the API server's own refusal if there is one, else
        the news that SPDY is not served. Raises StatusError (the app turns it into a Status response)."""
        verb: Verb = "attach" if request.url.path.endswith("/attach") else "exec"
        self._locate(StreamOptions.parse(verb, request.path_params, request.query_params))
        raise BadRequestError(_NO_SPDY.format(protocol=V5))

    async def portforward_socket(self, websocket: WebSocket) -> None:
        """A WebSocket port-forward: the kubelet's channels (`?ports=`), or kubectl's SPDY in a tunnel."""
        offered = websocket.scope.get("subprotocols", [])
        protocol = next((p for p in PORT_FORWARD_SUBPROTOCOLS if p in offered), None)
        tunnel = protocol is None and SPDY_TUNNEL_PROTOCOL in offered
        if offered and protocol is None and not tunnel:
            await websocket.close(code=1002)  # a protocol error: none we speak
            return
        namespace, name = str(websocket.path_params["namespace"]), str(websocket.path_params["name"])
        try:
            ports = [] if tunnel else parse_ports(websocket.query_params.getlist("ports"))  # kubectl's are in its streams
            target = self._target(namespace, name)
        except StatusError as exc:
            await _deny(websocket, exc)
            return
        if tunnel:
            await websocket.accept(subprotocol=SPDY_TUNNEL_PROTOCOL)
            await SpdyPortForward(WebSocketChannel(websocket), target, dial=self.dial).run()
            return
        await websocket.accept(subprotocol=protocol)
        with contextlib.suppress(WebSocketDisconnect):
            await ChannelPortForward(websocket, target, ports, half_close=protocol == V5, dial=self.dial).run()

    async def portforward_upgrade(self, request: Request) -> Response:
        """kubectl's port-forward over plain SPDY (a POST asking `Upgrade: SPDY/3.1`), as the kubelet takes it:
        the pod's refusal if there is one, the handshake's otherwise, then the SPDY session on the connection.
        Raises StatusError (the app turns it into a Status response)."""
        target = self._target(request.path_params["namespace"], request.path_params["name"])
        return _SpdyUpgrade(_spdy_handshake(request), target, self.dial)

    # ------------------------------------------------------------------------------------------- internals

    def _target(self, namespace: str, name: str) -> Target:
        """The pod to forward to, if it runs and has an IP (kubectl's words otherwise)."""
        pod = self.registry.get(RESOURCES["pods"], namespace, name)
        status = pod.get("status", {})
        phase = status.get("phase", "Pending")
        if phase != "Running" or not status.get("podIP"):
            raise BadRequestError(f"unable to forward port because pod is not running. Current status={phase}")
        return Target(status["podIP"], name, pod["metadata"].get("uid", ""))

    def _locate(self, options: StreamOptions) -> StreamOptions:
        """What the API server checks in the pod object; the container defaulted when the pod has one."""
        if (self.exec_source if options.verb == "exec" else self.attach_source) is None:
            raise BadRequestError(f"this node serves no {options.verb} streams")
        pod = as_pod(self.registry.get(RESOURCES["pods"], options.namespace, options.name))
        regular = [c["name"] for c in app_containers(pod)]
        if not options.container:
            if len(regular) != 1:
                raise BadRequestError(
                    f"a container name must be specified for pod {options.name}, choose one of: [{' '.join(regular)}]"
                )
            return replace(options, container=regular[0])
        if options.container not in container_names(pod):
            raise BadRequestError(f"container {options.container} is not valid for pod {options.name}")
        return options

    async def _open(self, o: StreamOptions) -> Session:
        if o.verb == "exec":
            assert self.exec_source is not None
            return await self.exec_source(
                o.namespace, o.name, container=o.container, command=list(o.command), stdin=o.stdin, tty=o.tty
            )
        assert self.attach_source is not None
        return await self.attach_source(o.namespace, o.name, container=o.container, stdin=o.stdin, tty=o.tty)

    async def _serve(self, websocket: WebSocket, verb: Verb) -> None:
        protocol = next((p for p in SUBPROTOCOLS if p in websocket.scope.get("subprotocols", [])), None)
        if protocol is None:
            await websocket.close(code=1002)  # a protocol error: we speak channel.k8s.io only
            return
        try:
            options = self._locate(StreamOptions.parse(verb, websocket.path_params, websocket.query_params))
        except StatusError as exc:
            await _deny(websocket, exc)
            return
        try:
            session = await self._open(options)
        except MinikubeletError as exc:
            await _refuse_in_stream(websocket, protocol, exc)
            return
        try:
            await websocket.accept(subprotocol=protocol)
            await _Pump(websocket, session, options, protocol).run()
        except WebSocketDisconnect:
            log.debug("%s %s/%s: the client left", verb, options.namespace, options.name)
        finally:
            await session.close()


async def _deny(websocket: WebSocket, error: StatusError) -> None:
    """Refuse the handshake with an HTTP Status body (kubectl retries with SPDY and gets it again)."""
    body = json.dumps(error.status(), separators=(",", ":")).encode()
    try:
        await websocket.send_denial_response(Response(body, status_code=error.code, media_type="application/json"))
    except RuntimeError:  # a server without the denial-response extension
        await websocket.close(code=1008)


async def _refuse_in_stream(websocket: WebSocket, protocol: str, error: MinikubeletError) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        await websocket.accept(subprotocol=protocol)
        await websocket.send_bytes(_status_frame(failure_status(error)))
        await websocket.close()


def _spdy_handshake(request: Request) -> list[tuple[str, str]]:
    """The headers of the 101 answering a SPDY upgrade request, checked as the kubelet checks it (its
    `httpstream.Handshake`, then its SPDY upgrader)."""
    offered = [p.strip() for value in request.headers.getlist("x-stream-protocol-version") for p in value.split(",")]
    offered = [p for p in offered if p]
    if not offered:
        raise BadRequestError("unable to upgrade: X-Stream-Protocol-Version is required")
    if SPDY_PROTOCOL not in offered:
        raise _Forbidden(
            f"unable to upgrade: unable to negotiate protocol: client supports [{' '.join(offered)}], "
            f"server accepts [{SPDY_PROTOCOL}]"
        )
    connection = request.headers.get("connection", "").lower()
    if "upgrade" not in connection or "spdy/3.1" not in request.headers.get("upgrade", "").lower():
        raise BadRequestError("unable to upgrade: missing upgrade headers in request")
    if upgrade.acceptor(request.scope) is None:
        raise BadRequestError(
            "unable to upgrade: this server cannot hand the connection over for SPDY; "
            f"use a WebSocket tunnel (subprotocol {SPDY_TUNNEL_PROTOCOL}, kubectl 1.31 or later)"
        )
    return [("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1"), ("X-Stream-Protocol-Version", SPDY_PROTOCOL)]


class _SpdyUpgrade(Response):
    """The answer to a SPDY upgrade: the 101, then the port-forward session on the handed-over connection."""

    def __init__(self, headers: list[tuple[str, str]], target: Target, dial: Dialer) -> None:
        super().__init__(status_code=101)
        self.upgrade_headers = headers
        self.target = target
        self.dial = dial

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        accept = upgrade.acceptor(scope)
        assert accept is not None  # checked by the handshake
        try:
            reader, writer = await accept(self.upgrade_headers)
        except ConnectionError:
            return  # the client left before its answer
        await SpdyPortForward(StreamChannel(reader, writer), self.target, dial=self.dial).run()


class _Forbidden(StatusError):
    code, reason = 403, "Forbidden"


class _Pump:
    """One session's life: output to the client, the client's stdin, resizes and close to the session, and
    at the end of the output the Status, then a normal close. Ends early when the client leaves."""

    def __init__(self, websocket: WebSocket, session: Session, options: StreamOptions, protocol: str) -> None:
        self.websocket = websocket
        self.session = session
        self.options = options
        self.protocol = protocol

    async def run(self) -> None:
        output = asyncio.create_task(self._output())
        inbound = asyncio.create_task(self._input())
        try:
            done, _ = await asyncio.wait({output, inbound}, return_when=asyncio.FIRST_COMPLETED)
            if output in done:
                await self.websocket.send_bytes(_status_frame(output.result()))
                await self.websocket.close()
            else:
                inbound.result()  # the client left (nothing to send it any more), or a bug to raise
        finally:
            for task in (output, inbound):
                task.cancel()
            await asyncio.gather(output, inbound, return_exceptions=True)

    async def _output(self) -> dict[str, Any]:
        """Forward the output until it ends; the Status to send then."""
        try:
            while (item := await self.session.read()) is not None:
                channel, data = item
                if (self.options.stdout if channel == STDOUT else self.options.stderr) and data:
                    await self.websocket.send_bytes(frame(channel, data))
            if self.options.verb == "attach":  # the kubelet reports no exit code for an attach
                return success_status()
            exit_code = await self.session.wait()
        except MinikubeletError as exc:
            return failure_status(exc)
        return success_status() if exit_code == 0 else exit_status(self.options.command, exit_code)

    async def _input(self) -> None:
        """Dispatch the client's messages until it leaves."""
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes") or (message.get("text") or "").encode()
            if data:
                await self._dispatch(data[0], data[1:])

    async def _dispatch(self, channel: int, payload: bytes) -> None:
        if channel == STDIN and self.options.stdin:
            await self.session.write(payload)
        elif channel == RESIZE and self.options.tty:
            size = _size(payload)
            if size is not None:
                await self.session.resize(*size)
        elif channel == CLOSE and self.protocol == V5 and payload[:1] == bytes([STDIN]) and self.options.stdin:
            await self.session.close_stdin()


def _size(payload: bytes) -> tuple[int, int] | None:
    """(width, height) out of `{"Width":W,"Height":H}`; None when it is not that."""
    try:
        size = json.loads(payload)
        width, height = int(size["Width"]), int(size["Height"])
    except (ValueError, TypeError, KeyError):
        return None
    return (width, height) if width > 0 and height > 0 else None


# --- pods/log ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PodLogOptions:
    """The query of `GET .../pods/NAME/log`, checked as the API server's ValidatePodLogOptions checks it."""

    container: str = ""
    previous: bool = False
    follow: bool = False
    timestamps: bool = False
    tail: int | None = None
    since: datetime | None = None
    limit_bytes: int | None = None

    @classmethod
    def parse(cls, query: QueryParams, *, name: str, now: datetime | None = None) -> PodLogOptions:
        tail, since_seconds, limit = (_number(query, key) for key in ("tailLines", "sinceSeconds", "limitBytes"))
        since_time = _time(query.get("sinceTime"))
        causes = []
        if tail is not None and tail < 0:
            causes.append(FieldError.invalid("tailLines", tail, "must be greater than or equal to 0"))
        if limit is not None and limit < 1:
            causes.append(FieldError.invalid("limitBytes", limit, "must be greater than 0"))
        if since_seconds is not None and since_time is not None:
            causes.append(FieldError.forbidden("", "at most one of `sinceTime` or `sinceSeconds` may be specified"))
        elif since_seconds is not None and since_seconds < 1:
            causes.append(FieldError.invalid("sinceSeconds", since_seconds, "must be greater than 0"))
        if causes:
            raise InvalidError("PodLogOptions", name, causes)
        if since_seconds is not None:
            since_time = (now or datetime.now(UTC)) - timedelta(seconds=since_seconds)
        return cls(
            container=query.get("container", ""),
            previous=query.get("previous") in _TRUE,
            follow=query.get("follow") in _TRUE,
            timestamps=query.get("timestamps") in _TRUE,
            tail=tail,
            since=since_time,
            limit_bytes=limit,
        )

    async def limited(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """`chunks` cut after `limit_bytes` (the source closed then, even when it follows a running container)."""
        left = self.limit_bytes
        try:
            async for chunk in chunks:
                if left is None:
                    yield chunk
                    continue
                yield chunk[:left]
                left -= len(chunk[:left])
                if left <= 0:
                    return
        finally:
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()


def _number(query: QueryParams, key: str) -> int | None:
    """An int64 option as the parameter codec converts it (Go's strconv.ParseInt: `tailLines=2**70` is a 400)."""
    value = query.get(key)
    return None if value is None else decoding.parse_int64(value)


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequestError(f'invalid sinceTime "{value}": must be an RFC 3339 time') from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
