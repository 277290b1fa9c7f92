"""`pods/portforward` over WebSocket (the kubelet's `v4.channel.k8s.io` protocol, and `v5.channel.k8s.io` with
a half-close) in process, against a real TCP server on 127.0.0.1 standing in for the pod; kubectl's SPDY
request refused with a Status that names `minikubelet port-forward`; and the options of `pods/log`.

The pod is made Running with the pod IP 127.0.0.1, so that the API server's dial reaches the local server.
"""

from __future__ import annotations

import asyncio
import socket
import socketserver
import threading
import warnings
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.datastructures import QueryParams
from starlette.exceptions import StarletteDeprecationWarning
from starlette.websockets import WebSocketDisconnect

from minikubelet.apiserver import streams
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
        self.client = TestClient(build_app(self.registry, token=TOKEN), headers={"Authorization": f"Bearer {TOKEN}"})

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


def test_kubectls_spdy_tunnel_is_refused_by_the_handshake(node: Node) -> None:
    node.pod("web")
    with pytest.raises(WebSocketDisconnect) as refused, forward(node, "web", "80", ["SPDY/3.1+portforward.k8s.io"]):
        pass
    assert refused.value.code == 1002


def test_kubectls_spdy_request_gets_a_status_naming_our_command(node: Node) -> None:
    node.pod("web")
    answer = node.client.post(f"{PODS}/web/portforward", headers={"Upgrade": "SPDY/3.1", "Connection": "Upgrade"})
    assert (answer.status_code, answer.json()["reason"]) == (400, "BadRequest")
    assert answer.json()["message"] == (
        "kubectl port-forward needs SPDY, which this node does not serve; "
        "use `minikubelet port-forward pod/web [LOCAL_PORT:]REMOTE_PORT` instead"
    )
    missing = node.client.post(f"{PODS}/nope/portforward")
    assert (missing.status_code, missing.json()["message"]) == (404, 'pods "nope" not found')
    node.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    node.registry.create(
        RESOURCES["pods"], "other", {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    )
    other = node.client.post("/api/v1/namespaces/other/pods/web/portforward")
    assert "use `minikubelet port-forward -n other pod/web [LOCAL_PORT:]REMOTE_PORT` instead" in other.json()["message"]


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
