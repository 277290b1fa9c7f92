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

Port-forward is the kubelet's WebSocket protocol (`v4.channel.k8s.io`, binary; what the official Python
client speaks): `?ports=P[,Q...]`, two channels per port (2i data, 2i+1 errors), each opened by the server
with the port as two little-endian bytes; the connection ends when every port's connection has. With
`v5.channel.k8s.io` (our own CLI), a client's `[255, 2i]` half-closes port i's connection, as SPDY's
stream close does for kubectl. kubectl itself only speaks SPDY for port-forward (also when it tunnels it
through a WebSocket): its request gets a Status saying so and naming `minikubelet port-forward`. The API
server dials the pod IP itself, as its `pods/proxy` does (the node is local); a kubelet would enter the
pod's network namespace, so a listener bound to the pod's 127.0.0.1 only is not reachable here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from minikubelet.apiserver import decoding
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
_NO_SPDY_PORT_FORWARD = (
    "kubectl port-forward needs SPDY, which this node does not serve; use "
    "`minikubelet port-forward{namespace} pod/{name} [LOCAL_PORT:]REMOTE_PORT` instead"
)
PORT_FORWARD_SUBPROTOCOLS = (V5, "v4.channel.k8s.io")
DIAL_TIMEOUT = 10.0
_READ_SIZE = 32 * 1024
Verb = Literal["exec", "attach"]
Dialer = Callable[[str, int], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]


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
        """The kubelet's WebSocket port-forward: one TCP connection to the pod per requested port."""
        offered = websocket.scope.get("subprotocols", [])
        protocol = next((p for p in PORT_FORWARD_SUBPROTOCOLS if p in offered), None)
        if offered and protocol is None:
            await websocket.close(code=1002)  # SPDY tunnelled in a WebSocket (kubectl) is refused by the handshake
            return
        namespace, name = str(websocket.path_params["namespace"]), str(websocket.path_params["name"])
        try:
            ports = parse_ports(websocket.query_params.getlist("ports"))
            pod = self._forwardable(namespace, name)
        except StatusError as exc:
            await _deny(websocket, exc)
            return
        await websocket.accept(subprotocol=protocol)
        target = _Target(pod["status"]["podIP"], name, pod["metadata"].get("uid", ""))
        with contextlib.suppress(WebSocketDisconnect):
            await _PortForward(websocket, target, ports, half_close=protocol == V5, dial=self.dial).run()

    async def portforward_fallback(self, request: Request) -> Response:
        """kubectl's port-forward (SPDY, a POST): the pod's own refusal if there is one, else where to go."""
        namespace, name = request.path_params["namespace"], request.path_params["name"]
        self.registry.get(RESOURCES["pods"], namespace, name)
        flag = "" if namespace == "default" else f" -n {namespace}"
        raise BadRequestError(_NO_SPDY_PORT_FORWARD.format(namespace=flag, name=name))

    # ------------------------------------------------------------------------------------------- internals

    def _forwardable(self, namespace: str, name: str) -> dict[str, Any]:
        """The pod, if it runs and has an IP (kubectl's words otherwise)."""
        pod = self.registry.get(RESOURCES["pods"], namespace, name)
        status = pod.get("status", {})
        phase = status.get("phase", "Pending")
        if phase != "Running" or not status.get("podIP"):
            raise BadRequestError(f"unable to forward port because pod is not running. Current status={phase}")
        return pod

    def _locate(self, options: StreamOptions) -> StreamOptions:
        """What the API server checks in the pod object; the container defaulted when the pod has one."""
        if (self.exec_source if options.verb == "exec" else self.attach_source) is None:
            raise BadRequestError(f"this node serves no {options.verb} streams")
        pod = self.registry.get(RESOURCES["pods"], options.namespace, options.name)
        spec = pod.get("spec", {})
        regular = [c["name"] for c in spec.get("containers", [])]
        if not options.container:
            if len(regular) != 1:
                raise BadRequestError(
                    f"a container name must be specified for pod {options.name}, choose one of: [{' '.join(regular)}]"
                )
            return replace(options, container=regular[0])
        if options.container not in regular + [c["name"] for c in spec.get("initContainers", [])]:
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


# --- port-forward -----------------------------------------------------------------------------------------------


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
class _Target:
    ip: str
    pod: str
    uid: str


@dataclass(eq=False)
class _Pair:
    """One forwarded port: its channels, and what the client sent that the pod has not taken yet."""

    index: int
    port: int
    inbound: asyncio.Queue[bytes | None] = field(default_factory=lambda: asyncio.Queue(maxsize=16))
    closed: bool = False  # the connection to the pod is over (or never was): drop what the client sends

    @property
    def data(self) -> int:
        return 2 * self.index

    @property
    def errors(self) -> int:
        return 2 * self.index + 1


class _PortForward:
    """One port-forward connection: the port prefixes, then each port relayed until the pod closes it (or
    the dial fails, said on its error channel); the WebSocket closes when every port is done, and
    everything ends when the client leaves."""

    def __init__(self, websocket: WebSocket, target: _Target, ports: list[int], *, half_close: bool, dial: Dialer) -> None:
        self.websocket = websocket
        self.target = target
        self.pairs = [_Pair(index, port) for index, port in enumerate(ports)]
        self.half_close = half_close
        self.dial = dial
        self.sending = asyncio.Lock()  # several ports send on one WebSocket

    async def run(self) -> None:
        for pair in self.pairs:
            prefix = pair.port.to_bytes(2, "little")
            await self._send(frame(pair.data, prefix))
            await self._send(frame(pair.errors, prefix))
        forwards: asyncio.Future[Any] = asyncio.gather(*(self._forward(pair) for pair in self.pairs))
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

    async def _forward(self, pair: _Pair) -> None:
        try:
            async with asyncio.timeout(DIAL_TIMEOUT):
                reader, writer = await self.dial(self.target.ip, pair.port)
        except (OSError, TimeoutError) as exc:
            pair.closed = True
            reason = str(exc) or type(exc).__name__
            message = f"error forwarding port {pair.port} to pod {self.target.pod}, uid {self.target.uid}: {reason}"
            await self._send(frame(pair.errors, message.encode()))
            return
        to_pod = asyncio.create_task(_to_pod(pair, writer))
        try:
            while data := await reader.read(_READ_SIZE):
                await self._send(frame(pair.data, data))
        except OSError:
            pass  # the pod reset the connection: this port is done
        finally:
            pair.closed = True
            writer.close()  # first: what follows awaits, and a second cancellation may cut it short
            to_pod.cancel()
            while not pair.inbound.empty():  # unblock the client's reader if it waits for room in the queue
                pair.inbound.get_nowait()
            await asyncio.wait({to_pod})

    async def _input(self) -> None:
        """The client's data to its port's queue, until the client leaves."""
        by_channel = {pair.data: pair for pair in self.pairs}
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes") or b""
            if not data:
                continue
            if data[0] == CLOSE and self.half_close and len(data) > 1 and data[1] in by_channel:
                pair, payload = by_channel[data[1]], None
            elif data[0] in by_channel and len(data) > 1:
                pair, payload = by_channel[data[0]], data[1:]
            else:
                continue
            if not pair.closed:
                await pair.inbound.put(payload)


async def _to_pod(pair: _Pair, writer: asyncio.StreamWriter) -> None:
    """What the client sends, to the pod; None half-closes the connection (the client's end of input)."""
    try:
        while (data := await pair.inbound.get()) is not None:
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        pair.closed = True


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
