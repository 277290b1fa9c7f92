"""`pods/portforward` in process, against a real TCP server on 127.0.0.1 standing in for the pod: over WebSocket
(the kubelet's `v4.channel.k8s.io` protocol, and `v5.channel.k8s.io` with a half-close), and as kubectl speaks
it, SPDY/3.1 in a WebSocket tunnel (kubectl's own bytes among others), with the plain SPDY upgrade's handshake;
and the options of `pods/log`.

The pod is made Running with the pod IP 127.0.0.1, so that the API server's dial reaches the local server.
"""

from __future__ import annotations

import asyncio
import socket
import socketserver
import threading
import warnings
from collections import deque
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from spdy_capture import KUBECTL_TUNNEL_BYTES, KUBECTL_TUNNEL_MESSAGES, messages
from starlette.datastructures import QueryParams
from starlette.exceptions import StarletteDeprecationWarning
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocketDisconnect

from minikubelet.apiserver import portforward, spdy, streams
from minikubelet.apiserver.app import build_app
from minikubelet.apiserver.registry import RESOURCES, Registry
from minikubelet.errors import BadRequestError, InvalidError
from minikubelet.store import Store

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient, WebSocketDenialResponse

TOKEN = "test-token"
PODS = "/api/v1/namespaces/default/pods"
V4, V5 = "v4.channel.k8s.io", "v5.channel.k8s.io"


class _EchoUntilEnd(socketserver.BaseRequestHandler):
    """What it receives, back, until the client's end of input; then `bye` and a close."""

    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)
        self.request.sendall(b"bye")


@pytest.fixture
def pod_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 (the pod); its port."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _EchoUntilEnd)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def free_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Node:
    def __init__(self, tmp_path: Path) -> None:
        self.store = Store(tmp_path / "state.db")
        self.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
        self.registry = Registry(self.store)
        self.app: Any = build_app(self.registry, token=TOKEN)
        self.client = TestClient(self.app, headers={"Authorization": f"Bearer {TOKEN}"})

    def pod(self, name: str, *, phase: str = "Running", ip: str = "127.0.0.1") -> str:
        """A pod in `phase` with the pod IP `ip`; its uid."""
        body = {"metadata": {"name": name}, "spec": {"containers": [{"name": "main", "image": "busybox"}]}}
        created, _ = self.registry.create(RESOURCES["pods"], "default", body)

        def running(pod: dict[str, Any]) -> dict[str, Any]:
            pod["status"] = {"phase": phase, **({"podIP": ip} if ip else {})}
            return pod

        self.store.update_with("Pod", "default", name, running)
        return str(created["metadata"]["uid"])


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    made = Node(tmp_path)
    with made.client:
        yield made
    made.store.close()


def forward(node: Node, pod: str, ports: str, subprotocols: list[str] | None = None) -> Any:
    return node.client.websocket_connect(f"{PODS}/{pod}/portforward?ports={ports}", subprotocols=subprotocols or [V5, V4])


def until_close(ws: Any) -> list[tuple[int, bytes]]:
    """Every message until the server closes (normally)."""
    frames: list[tuple[int, bytes]] = []
    while True:
        message = ws.receive()
        if message["type"] == "websocket.close":
            assert message.get("code", 1000) == 1000
            return frames
        frames.append((message["bytes"][0], message["bytes"][1:]))


def test_each_channel_opens_with_the_port_then_data_flows_both_ways(node: Node, pod_server: int) -> None:
    node.pod("web")
    prefix = pod_server.to_bytes(2, "little")
    with forward(node, "web", str(pod_server)) as ws:
        assert ws.accepted_subprotocol == V5
        assert [ws.receive_bytes(), ws.receive_bytes()] == [b"\x00" + prefix, b"\x01" + prefix]
        ws.send_bytes(b"\x00hello")
        assert ws.receive_bytes() == b"\x00hello"
        ws.send_bytes(b"\xff\x00")  # v5: the end of our input reaches the pod as a half-close
        frames = until_close(ws)
    assert b"".join(data for channel, data in frames if channel == 0) == b"bye"


def test_v4_has_no_half_close_and_is_spoken_when_offered_alone(node: Node, pod_server: int) -> None:
    node.pod("web")
    with forward(node, "web", str(pod_server), [V4]) as ws:
        assert ws.accepted_subprotocol == V4
        ws.receive_bytes(), ws.receive_bytes()
        ws.send_bytes(b"\xff\x00")  # not a close in v4: ignored, the connection stays up
        ws.send_bytes(b"\x00still here")
        assert ws.receive_bytes() == b"\x00still here"


def test_several_ports_in_one_connection_get_two_channels_each(node: Node, pod_server: int, free_port: int) -> None:
    uid = node.pod("web")
    with forward(node, "web", f"{pod_server},{free_port}") as ws:
        opening = [ws.receive_bytes() for _ in range(4)]
        assert [frame[0] for frame in opening] == [0, 1, 2, 3]
        assert [int.from_bytes(frame[1:], "little") for frame in opening] == [pod_server, pod_server, free_port, free_port]
        error = ws.receive_bytes()  # nothing listens on the second port
        assert error[0] == 3
        assert error[1:].decode().startswith(f"error forwarding port {free_port} to pod web, uid {uid}: ")
        ws.send_bytes(b"\x02ignored")  # the failed port's data channel: dropped
        ws.send_bytes(b"\x00ping")
        assert ws.receive_bytes() == b"\x00ping"


def test_a_refused_dial_is_said_on_the_error_channel_then_the_connection_closes(node: Node, free_port: int) -> None:
    uid = node.pod("web")
    with forward(node, "web", str(free_port)) as ws:
        frames = until_close(ws)
    assert [channel for channel, _ in frames] == [0, 1, 1]
    assert frames[2][1].decode().startswith(f"error forwarding port {free_port} to pod web, uid {uid}: ")


def denial(node: Node, pod: str, ports: str) -> dict[str, Any]:
    with pytest.raises(WebSocketDenialResponse) as denied, forward(node, pod, ports):
        pass
    body: dict[str, Any] = denied.value.json()
    assert denied.value.status_code == body["code"]
    return body


def test_refusals_before_the_handshake(node: Node) -> None:
    assert denial(node, "nope", "80")["message"] == 'pods "nope" not found'
    node.pod("pending", phase="Pending", ip="")
    body = denial(node, "pending", "80")
    assert (body["code"], body["message"]) == (400, "unable to forward port because pod is not running. Current status=Pending")
    node.pod("web")
    assert denial(node, "web", "")["message"] == 'query parameter "ports" cannot be empty'
    assert denial(node, "web", "http")["message"] == 'unable to parse "http" as a port'
    assert denial(node, "web", "0")["message"] == 'port "0" must be > 0'


def test_ports_are_read_as_the_kubelet_reads_them() -> None:
    assert streams.parse_ports(["80", "81,82"]) == [80, 81, 82]
    with pytest.raises(BadRequestError, match='query parameter "ports" is required'):
        streams.parse_ports([])
    with pytest.raises(BadRequestError, match="as a port"):
        streams.parse_ports(["65536"])


def test_an_unknown_subprotocol_is_refused_and_ours_win_over_the_tunnel(node: Node, pod_server: int) -> None:
    node.pod("web")
    with pytest.raises(WebSocketDisconnect) as refused, forward(node, "web", "80", ["v9.channel.k8s.io"]):
        pass
    assert refused.value.code == 1002
    with forward(node, "web", str(pod_server), [TUNNEL, V5]) as ws:
        assert ws.accepted_subprotocol == V5


# --- kubectl's SPDY, in a WebSocket tunnel ----------------------------------------------------------------------

TUNNEL = "SPDY/3.1+portforward.k8s.io"


class SpdyClient:
    """kubectl's side of a SPDY port-forward, over the test client's WebSocket (spdystream's frames)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.writer, self.reader = spdy.FrameWriter(), spdy.FrameReader()
        self.frames: deque[spdy.Frame] = deque()

    def send(self, *frames: spdy.Frame) -> None:
        for frame in frames:
            self.ws.send_bytes(self.writer.encode(frame))

    def open(self, stream_id: int, kind: str, port: int, request: int) -> None:
        """A stream as kubectl opens one (its headers, lower case on the wire)."""
        self.send(spdy.SynStream(stream_id, {"streamtype": [kind], "port": [str(port)], "requestid": [str(request)]}))

    def receive(self) -> spdy.Frame:
        while not self.frames:
            message = self.ws.receive()
            assert message["type"] == "websocket.send", message
            self.frames.extend(self.reader.feed(message["bytes"]))
        return self.frames.popleft()

    def until(self, last: spdy.Frame) -> list[spdy.Frame]:
        """Every frame up to `last`, included."""
        frames = [self.receive()]
        while frames[-1] != last:
            frames.append(self.receive())
        return frames

    def until_closed(self) -> list[spdy.Frame]:
        """Every frame until the server closes the WebSocket (normally)."""
        frames = list(self.frames)
        while True:
            message = self.ws.receive()
            if message["type"] == "websocket.close":
                assert message.get("code", 1000) == 1000
                return frames
            frames.extend(self.reader.feed(message["bytes"]))


def tunnel(node: Node, pod: str) -> Any:
    """kubectl's request: no ports in the query (they are in the streams), the tunnel's subprotocol only."""
    return node.client.websocket_connect(f"{PODS}/{pod}/portforward", subprotocols=[TUNNEL])


def stream_data(frames: list[spdy.Frame], stream_id: int) -> tuple[bytes, bool]:
    """What the frames carried on a stream, and whether it ended."""
    mine = [f for f in frames if isinstance(f, spdy.DataFrame) and f.stream_id == stream_id]
    return b"".join(f.data for f in mine), any(f.fin for f in mine)


def test_kubectls_tunnel_relays_a_connection_and_ends_its_streams_when_the_pod_does(node: Node, pod_server: int) -> None:
    node.pod("web")
    with tunnel(node, "web") as ws:
        assert ws.accepted_subprotocol == TUNNEL
        client = SpdyClient(ws)
        client.open(1, "error", pod_server, 0)
        assert client.receive() == spdy.SynReply(1, {})
        client.send(spdy.DataFrame(1, b"", fin=True))  # kubectl writes nothing on the error stream
        client.open(3, "data", pod_server, 0)
        assert client.receive() == spdy.SynReply(3, {})
        client.send(spdy.DataFrame(3, b"hello"))
        assert client.receive() == spdy.DataFrame(3, b"hello")
        client.send(spdy.DataFrame(3, b"", fin=True))  # the end of the local input reaches the pod as a half-close
        # the pod says bye and closes: the data stream ends, then the error stream, empty
        ending = [client.receive(), client.receive(), client.receive()]
        assert ending == [spdy.DataFrame(3, b"bye"), spdy.DataFrame(3, b"", fin=True), spdy.DataFrame(1, b"", fin=True)]
        client.send(spdy.Ping(1))
        assert client.receive() == spdy.Ping(1)
        client.send(spdy.GoAway(0))
        assert client.until_closed() == []


def test_the_bytes_kubectl_sent_are_served_as_kubectl_expects(node: Node, pod_server: int) -> None:
    """kubectl 1.37's own bytes (spdy_capture.py), message by message, its port 50017 dialled as the pod server;
    kubectl sent its PING and GOAWAY once it had its answer, and so does this test."""
    node.pod("web")
    app = node.app
    while not hasattr(app, "routes"):  # the middlewares around the Starlette app
        app = app.app
    routes = app.routes
    endpoints = next(r.endpoint.__self__ for r in routes if isinstance(r, WebSocketRoute) and "portforward" in r.path)
    endpoints.dial = lambda host, port: asyncio.open_connection(host, pod_server if port == 50017 else port)
    sent = messages(KUBECTL_TUNNEL_BYTES, KUBECTL_TUNNEL_MESSAGES)
    with tunnel(node, "web") as ws:
        client = SpdyClient(ws)
        for message in sent[:-9]:
            ws.send_bytes(message)
        frames = client.until(spdy.DataFrame(1, b"", fin=True))  # the error stream's end: the connection is over
        for message in sent[-9:]:  # PING, GOAWAY
            ws.send_bytes(message)
        after = client.until_closed()
    assert frames[:2] == [spdy.SynReply(1, {}), spdy.SynReply(3, {})]
    assert stream_data(frames, 3) == (b"hellobye", True)
    assert after == [spdy.Ping(1)]


def test_connections_at_once_on_several_ports_each_with_its_own_streams(node: Node, pod_server: int, free_port: int) -> None:
    uid = node.pod("web")
    with tunnel(node, "web") as ws:
        client = SpdyClient(ws)
        for request, (port, first) in enumerate([(pod_server, 1), (pod_server, 5), (free_port, 9)]):
            client.open(first, "error", port, request)
            client.open(first + 2, "data", port, request)
        replies = [client.receive() for _ in range(6)]
        assert [f.stream_id for f in replies if isinstance(f, spdy.SynReply)] == [1, 3, 5, 7, 9, 11]
        client.send(spdy.DataFrame(7, b"second"), spdy.DataFrame(3, b"first"))
        client.send(spdy.DataFrame(3, b"", fin=True), spdy.DataFrame(7, b"", fin=True))
        ends = {spdy.DataFrame(1, b"", fin=True), spdy.DataFrame(5, b"", fin=True), spdy.DataFrame(11, b"", fin=True)}
        frames: list[spdy.Frame] = []
        while not ends <= set(frames):  # the last frame of each connection
            frames.append(client.receive())
        client.send(spdy.GoAway(4))
        frames += client.until_closed()
    assert stream_data(frames, 3) == (b"firstbye", True)
    assert stream_data(frames, 7) == (b"secondbye", True)
    assert stream_data(frames, 1) == stream_data(frames, 5) == (b"", True)
    error, ended = stream_data(frames, 9)
    assert error.decode() == (
        f"error forwarding port {free_port} to pod web, uid {uid}: dial tcp4 127.0.0.1:{free_port}: connect: connection refused"
    )
    assert ended and stream_data(frames, 11) == (b"", True)


def test_a_reset_data_stream_ends_the_connection_to_the_pod(node: Node) -> None:
    node.pod("web")
    with socket.create_server(("127.0.0.1", 0)) as pod, tunnel(node, "web") as ws:
        client = SpdyClient(ws)
        client.open(1, "error", pod.getsockname()[1], 0)
        client.open(3, "data", pod.getsockname()[1], 0)
        pod.settimeout(10)
        connection, _ = pod.accept()
        with connection:
            assert [client.receive(), client.receive()] == [spdy.SynReply(1, {}), spdy.SynReply(3, {})]
            client.send(spdy.RstStream(3, spdy.RstStatus.CANCEL))
            connection.settimeout(10)
            assert connection.recv(10) == b""  # the server hung up on the pod
            assert client.receive() == spdy.DataFrame(1, b"", fin=True)  # and ended the error stream, only
            client.send(spdy.GoAway(0))
            assert client.until_closed() == []


def test_streams_the_kubelet_would_refuse_are_reset(node: Node, pod_server: int) -> None:
    node.pod("web")
    with tunnel(node, "web") as ws:
        client = SpdyClient(ws)
        client.send(spdy.SynStream(1, {"streamtype": ["data"]}))  # no port
        client.send(spdy.SynStream(3, {"streamtype": ["data"], "port": ["0"]}))
        client.send(spdy.SynStream(5, {"streamtype": ["data"], "port": ["http"]}))
        client.send(spdy.SynStream(7, {"port": ["80"]}))  # no stream type
        client.send(spdy.SynStream(9, {"streamtype": ["stdin"], "port": ["80"]}))
        client.send(spdy.SynStream(5, {"streamtype": ["data"], "port": ["80"]}))  # an id used already
        resets = [client.receive() for _ in range(6)]
        assert resets == [spdy.RstStream(i, spdy.RstStatus.CANCEL) for i in (1, 3, 5, 7, 9)] + [
            spdy.RstStream(5, spdy.RstStatus.PROTOCOL_ERROR)
        ]
        # a second data stream for a request is said on its error stream
        client.open(11, "error", pod_server, 7)
        client.open(13, "data", pod_server, 7)
        client.open(15, "data", pod_server, 7)
        frames = [client.receive() for _ in range(4)]
        assert frames[3] == spdy.DataFrame(11, b"error processing stream for request 7: data stream already assigned")


def test_bytes_that_are_not_spdy_end_the_session(node: Node) -> None:
    node.pod("web")
    with tunnel(node, "web") as ws:
        ws.send_bytes(bytes.fromhex("80020006 00000004 00000001"))  # SPDY/2
        assert SpdyClient(ws).until_closed() == []


def test_the_tunnel_is_refused_with_a_status_before_the_handshake(node: Node) -> None:
    with pytest.raises(WebSocketDenialResponse) as denied, tunnel(node, "nope"):
        pass
    assert (denied.value.status_code, denied.value.json()["message"]) == (404, 'pods "nope" not found')
    node.pod("pending", phase="Pending", ip="")
    with pytest.raises(WebSocketDenialResponse) as denied, tunnel(node, "pending"):
        pass
    assert denied.value.json()["message"] == "unable to forward port because pod is not running. Current status=Pending"


async def test_both_streams_of_a_connection_must_come_in_time_and_nothing_is_left_running() -> None:
    channel = MemoryChannel()
    session = portforward.SpdyPortForward(
        channel, portforward.Target("127.0.0.1", "web", "u"), dial=asyncio.open_connection, stream_creation_timeout=0.05
    )
    running = asyncio.create_task(session.run())
    writer, reader = spdy.FrameWriter(), spdy.FrameReader()
    await channel.incoming.put(writer.encode(spdy.SynStream(1, {"streamtype": ["error"], "port": ["80"], "requestid": ["1"]})))
    frames: list[spdy.Frame] = []
    while len(frames) < 3:
        frames += reader.feed(await asyncio.wait_for(channel.sent.get(), 10))
    assert frames == [
        spdy.SynReply(1, {}),
        spdy.DataFrame(1, b"(request=1) timed out waiting for streams"),
        spdy.DataFrame(1, b"", fin=True),
    ]
    assert not session.tasks and not session.pairs and not session.streams
    await channel.incoming.put(b"")  # the client leaves
    await asyncio.wait_for(running, 10)
    assert channel.closed


class MemoryChannel:
    """A SPDY session's bytes in queues (b"" from the client: it is gone)."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[bytes] = asyncio.Queue()
        self.sent: asyncio.Queue[bytes] = asyncio.Queue()
        self.closed = False

    async def receive(self) -> bytes:
        return await self.incoming.get()

    async def send(self, data: bytes) -> None:
        if self.closed:
            raise ConnectionError("closed")
        await self.sent.put(data)

    async def close(self) -> None:
        self.closed = True


# --- kubectl's plain SPDY: the handshake (the connection's hand-over is test_upgrade.py's) -------------------------


def spdy_upgrade(node: Node, pod: str, **headers: str) -> Any:
    asked = {"Connection": "Upgrade", "Upgrade": "SPDY/3.1", "X-Stream-Protocol-Version": "portforward.k8s.io", **headers}
    return node.client.post(f"{PODS}/{pod}/portforward", headers={k: v for k, v in asked.items() if v})


def test_a_spdy_upgrade_is_checked_as_the_kubelet_checks_it(node: Node) -> None:
    missing = spdy_upgrade(node, "nope")
    assert (missing.status_code, missing.json()["message"]) == (404, 'pods "nope" not found')
    node.pod("pending", phase="Pending", ip="")
    assert spdy_upgrade(node, "pending").json()["message"] == (
        "unable to forward port because pod is not running. Current status=Pending"
    )
    node.pod("web")
    unversioned = spdy_upgrade(node, "web", **{"X-Stream-Protocol-Version": ""})
    assert (unversioned.status_code, unversioned.json()["message"]) == (
        400,
        "unable to upgrade: X-Stream-Protocol-Version is required",
    )
    other = spdy_upgrade(node, "web", **{"X-Stream-Protocol-Version": "v4.channel.k8s.io, channel.k8s.io"})
    assert (other.status_code, other.json()["message"]) == (
        403,
        "unable to upgrade: unable to negotiate protocol: client supports [v4.channel.k8s.io channel.k8s.io], "
        "server accepts [portforward.k8s.io]",
    )
    plain = spdy_upgrade(node, "web", Connection="", Upgrade="")
    assert (plain.status_code, plain.json()["message"]) == (400, "unable to upgrade: missing upgrade headers in request")
    # The test client cannot hand its connection over: said so, pointing at the tunnel.
    untaken = spdy_upgrade(node, "web")
    assert untaken.status_code == 400
    assert untaken.json()["message"].startswith("unable to upgrade: this server cannot hand the connection over for SPDY")


# --- pods/log options -------------------------------------------------------------------------------------------


def options(**query: str) -> streams.PodLogOptions:
    return streams.PodLogOptions.parse(QueryParams(query), name="web", now=datetime(2030, 1, 1, tzinfo=UTC))


def test_log_options_from_the_query() -> None:
    parsed = options(container="c", follow="true", previous="1", timestamps="true", tailLines="3", limitBytes="10")
    assert (parsed.container, parsed.follow, parsed.previous, parsed.timestamps) == ("c", True, True, True)
    assert (parsed.tail, parsed.limit_bytes, parsed.since) == (3, 10, None)
    assert options(sinceSeconds="10").since == datetime(2030, 1, 1, tzinfo=UTC) - timedelta(seconds=10)
    assert options(sinceTime="2029-12-31T23:00:00Z").since == datetime(2029, 12, 31, 23, tzinfo=UTC)
    assert options() == streams.PodLogOptions()


@pytest.mark.parametrize(
    ("query", "cause"),
    [
        ({"tailLines": "-1"}, "tailLines: Invalid value: -1: must be greater than or equal to 0"),
        ({"limitBytes": "0"}, "limitBytes: Invalid value: 0: must be greater than 0"),
        ({"sinceSeconds": "0"}, "sinceSeconds: Invalid value: 0: must be greater than 0"),
        (
            {"sinceSeconds": "5", "sinceTime": "2029-12-31T23:00:00Z"},
            "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified",
        ),
    ],
)
def test_log_options_are_validated_as_the_api_server_does(query: dict[str, str], cause: str) -> None:
    with pytest.raises(InvalidError) as invalid:
        options(**query)
    assert str(invalid.value) == f'The PodLogOptions "web" is invalid: {cause}'


def test_unreadable_log_options_are_bad_requests() -> None:
    with pytest.raises(BadRequestError, match=r'^strconv\.ParseInt: parsing "x": invalid syntax$'):
        options(tailLines="x")  # as the parameter codec converts an int64 (Go's strconv.ParseInt)
    with pytest.raises(BadRequestError, match='invalid sinceTime "yesterday"'):
        options(sinceTime="yesterday")


async def test_limit_bytes_cuts_the_stream_and_closes_its_source() -> None:
    closed = asyncio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        try:
            for chunk in (b"abc\n", b"def\n", b"ghi\n"):
                yield chunk
            await asyncio.Event().wait()  # a followed container that never ends
        finally:
            closed.set()

    cut = [chunk async for chunk in options(limitBytes="6").limited(chunks())]
    assert (cut, closed.is_set()) == ([b"abc\n", b"de"], True)
    whole = [chunk async for chunk in options().limited(_finite())]
    assert whole == [b"one\n", b"two\n"]


async def _finite() -> AsyncIterator[bytes]:
    for chunk in (b"one\n", b"two\n"):
        yield chunk
