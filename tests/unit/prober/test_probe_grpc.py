"""The gRPC probe against a tiny h2c grpc.health.v1 server on 127.0.0.1 (docs/kubelet.md#probe-handlers).

The server is a few lines of the `h2` package over asyncio streams, so a test chooses exactly how the Check call is
answered (a serving status, a trailers-only error, or nothing at all) and reads exactly what the probe sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import h2.events
import pytest
from h2.config import H2Configuration
from h2.connection import H2Connection

from minikubelet.prober.handlers import USER_AGENT, Outcome, Result, probe_grpc

LOCAL = "127.0.0.1"


@dataclass
class Reply:
    """How the server answers the Check call: a HealthCheckResponse, a trailers-only error, or never."""

    status: int = 1  # HealthCheckResponse.status: 0 UNKNOWN, 1 SERVING, 2 NOT_SERVING, 3 SERVICE_UNKNOWN
    grpc_status: int = 0
    grpc_message: str = ""
    never: bool = False


@dataclass
class Server:
    port: int
    reply: Reply = field(default_factory=Reply)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


def _response_message(status: int) -> bytes:
    message = b"\x08" + bytes([status]) if status else b""  # proto3 leaves a zero enum out
    return b"\x00" + len(message).to_bytes(4, "big") + message


def _answer(conn: H2Connection, stream_id: int, reply: Reply) -> None:
    if reply.never:
        return
    if reply.grpc_status:
        trailers = [("grpc-status", str(reply.grpc_status)), ("grpc-message", quote(reply.grpc_message))]
        conn.send_headers(stream_id, [(":status", "200"), ("content-type", "application/grpc"), *trailers], end_stream=True)
        return
    conn.send_headers(stream_id, [(":status", "200"), ("content-type", "application/grpc")])
    conn.send_data(stream_id, _response_message(reply.status))
    conn.send_headers(stream_id, [("grpc-status", "0")], end_stream=True)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    tasks: list[asyncio.Task[Any]] = []
    state: Server | None = None

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert state is not None
        current = asyncio.current_task()
        assert current is not None
        tasks.append(current)
        conn = H2Connection(config=H2Configuration(client_side=False, header_encoding="utf-8"))
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        headers: dict[str, str] = {}
        body = bytearray()
        try:
            while data := await reader.read(65536):
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        headers = {str(name): str(value) for name, value in event.headers or ()}
                    elif isinstance(event, h2.events.DataReceived):
                        body += event.data or b""
                        conn.acknowledge_received_data(event.flow_controlled_length or 0, event.stream_id or 0)
                    elif isinstance(event, h2.events.StreamEnded):
                        state.requests.append((headers, bytes(body)))
                        _answer(conn, event.stream_id or 0, state.reply)
                writer.write(conn.data_to_send())
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    listener = await asyncio.start_server(handle, LOCAL, 0)
    state = Server(port=listener.sockets[0].getsockname()[1])
    async with listener:
        yield state
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)  # every connection handler has finished


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCAL, 0))
        return int(sock.getsockname()[1])


# --- answers -----------------------------------------------------------------------------------------------------


async def test_serving_is_success_and_the_request_is_a_health_check(server: Server) -> None:
    outcome = await probe_grpc(host=LOCAL, port=server.port, service="my.svc/é", timeout=2)

    assert outcome == Outcome(Result.SUCCESS, "service healthy")
    [(headers, body)] = server.requests
    assert headers[":method"] == "POST"
    assert headers[":scheme"] == "http"
    assert headers[":path"] == "/grpc.health.v1.Health/Check"
    assert headers[":authority"] == f"{LOCAL}:{server.port}"
    assert headers["content-type"] == "application/grpc"
    assert headers["te"] == "trailers"
    assert headers["user-agent"] == USER_AGENT == "kube-probe/1.37"
    service = "my.svc/é".encode()
    message = b"\x0a" + bytes([len(service)]) + service  # HealthCheckRequest{service}
    assert body == b"\x00" + len(message).to_bytes(4, "big") + message


@pytest.mark.parametrize("service", [None, ""])
async def test_no_service_sends_an_empty_request(server: Server, service: str | None) -> None:
    outcome = await probe_grpc(host=LOCAL, port=server.port, service=service, timeout=2)

    assert outcome == Outcome(Result.SUCCESS, "service healthy")
    assert [body for _, body in server.requests] == [b"\x00\x00\x00\x00\x00"]


@pytest.mark.parametrize(
    ("status", "name"),
    [(0, "UNKNOWN"), (2, "NOT_SERVING"), (3, "SERVICE_UNKNOWN")],
)
async def test_any_other_status_is_unhealthy(server: Server, status: int, name: str) -> None:
    server.reply = Reply(status=status)

    outcome = await probe_grpc(host=LOCAL, port=server.port, service="backend", timeout=2)

    assert outcome == Outcome(Result.FAILURE, f'service unhealthy (responded with "{name}")')


async def test_unimplemented_health_service(server: Server) -> None:
    server.reply = Reply(grpc_status=12, grpc_message="unknown service grpc.health.v1.Health")

    outcome = await probe_grpc(host=LOCAL, port=server.port, service="", timeout=2)

    assert outcome == Outcome(
        Result.FAILURE,
        "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): "
        "unknown service grpc.health.v1.Health",
    )


async def test_other_grpc_error_is_a_failed_rpc_with_the_decoded_message(server: Server) -> None:
    server.reply = Reply(grpc_status=14, grpc_message="shutting down: 100% done")

    outcome = await probe_grpc(host=LOCAL, port=server.port, service="", timeout=2)

    assert outcome == Outcome(
        Result.FAILURE, "error: health rpc probe failed: rpc error: code = Unavailable desc = shutting down: 100% done"
    )


# --- connection and deadline -------------------------------------------------------------------------------------


async def test_refused_connection() -> None:
    port = free_port()

    outcome = await probe_grpc(host=LOCAL, port=port, service="", timeout=2)

    assert outcome == Outcome(
        Result.FAILURE,
        f'error: failed to connect service at "{LOCAL}:{port}": dial tcp {LOCAL}:{port}: connect: connection refused',
    )


async def test_connect_that_does_not_finish_in_time(monkeypatch: pytest.MonkeyPatch) -> None:
    async def hang(*args: object, **kwargs: object) -> Any:
        await asyncio.sleep(60)

    monkeypatch.setattr(asyncio, "open_connection", hang)

    outcome = await probe_grpc(host=LOCAL, port=9, service="", timeout=0.2)

    assert outcome == Outcome(
        Result.FAILURE, f'timeout: failed to connect service "{LOCAL}:9" within 200ms: context deadline exceeded'
    )


async def test_rpc_that_never_completes_times_out(server: Server) -> None:
    server.reply = Reply(never=True)
    started = time.monotonic()

    outcome = await probe_grpc(host=LOCAL, port=server.port, service="", timeout=0.5)

    assert 0.4 <= time.monotonic() - started < 1.5
    assert outcome == Outcome(Result.FAILURE, "timeout: health rpc did not complete within 500ms")
    assert len(server.requests) == 1


async def test_whole_seconds_print_like_go(server: Server) -> None:
    server.reply = Reply(never=True)

    outcome = await probe_grpc(host=LOCAL, port=server.port, service="", timeout=1)

    assert outcome == Outcome(Result.FAILURE, "timeout: health rpc did not complete within 1s")
