"""The protocols the daemon gives uvicorn (apiserver/upgrade.py), in a real uvicorn on 127.0.0.1: kubectl's
plain SPDY upgrade handed over to the port-forward session, which the server's shutdown ends; kubectl's tunnel
subprotocol `SPDY/3.1+portforward.k8s.io` taken by the WebSocket handshake; other upgrades left alone."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import struct
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from minikubelet.apiserver import spdy
from minikubelet.apiserver.app import build_app
from minikubelet.apiserver.registry import RESOURCES, Registry
from minikubelet.apiserver.upgrade import LenientWebSocketsProtocol, UpgradableHttpToolsProtocol
from minikubelet.store import Store

TOKEN = "test-token"
PATH = "/api/v1/namespaces/default/pods/web/portforward"


@pytest.fixture
async def pod_port() -> AsyncIterator[int]:
    """A TCP server on 127.0.0.1 standing in for the pod: it echoes, then says `bye` at the end of its input."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(4096):
            writer.write(data)
        writer.write(b"bye")
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


class Served:
    def __init__(self, server: uvicorn.Server, port: int) -> None:
        self.server = server
        self.port = port

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    """The API server in uvicorn, with the daemon's protocols; a Running pod `web` whose IP is 127.0.0.1."""
    store = Store(tmp_path / "state.db")
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    registry = Registry(store)
    pod = {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    registry.create(RESOURCES["pods"], "default", pod)

    def running(pod: dict[str, Any]) -> dict[str, Any]:
        pod["status"] = {"phase": "Running", "podIP": "127.0.0.1"}
        return pod

    store.update_with("Pod", "default", "web", running)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        build_app(registry, token=TOKEN),
        http=UpgradableHttpToolsProtocol,
        ws=LenientWebSocketsProtocol,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.01)
        yield Served(server, sock.getsockname()[1])
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 30)
        store.close()


def request(method: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {PATH} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {TOKEN}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def response_head(reader: asyncio.StreamReader) -> tuple[str, dict[str, str]]:
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)).decode()
    status, *lines = head.strip().split("\r\n")
    return status, {name.lower(): value.strip() for name, value in (line.split(":", 1) for line in lines)}


SPDY_UPGRADE = {"Connection": "Upgrade", "Upgrade": "SPDY/3.1", "X-Stream-Protocol-Version": "portforward.k8s.io"}


class Spdy:
    """kubectl's side of a SPDY session on a raw connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.encoder, self.decoder = spdy.FrameWriter(), spdy.FrameReader()
        self.frames: list[spdy.Frame] = []

    async def send(self, *frames: spdy.Frame) -> None:
        self.writer.write(b"".join(self.encoder.encode(frame) for frame in frames))
        await self.writer.drain()

    async def until(self, last: spdy.Frame) -> list[spdy.Frame]:
        while last not in self.frames:
            data = await asyncio.wait_for(self.reader.read(65536), 10)
            assert data, f"the connection ended before {last}: {self.frames}"
            self.frames += self.decoder.feed(data)
        taken, self.frames = self.frames[: self.frames.index(last) + 1], self.frames[self.frames.index(last) + 1 :]
        return taken

    async def ended(self) -> bool:
        """Whether the server closes the connection (after nothing more)."""
        return await asyncio.wait_for(self.reader.read(65536), 10) == b""


async def test_a_spdy_upgrade_is_handed_over_to_the_port_forward(served: Served, pod_port: int) -> None:
    reader, writer = await served.connect()
    writer.write(request("POST", {**SPDY_UPGRADE, "Content-Length": "0"}))
    status, headers = await response_head(reader)
    assert status == "HTTP/1.1 101 Switching Protocols"
    assert headers == {"connection": "Upgrade", "upgrade": "SPDY/3.1", "x-stream-protocol-version": "portforward.k8s.io"}
    client = Spdy(reader, writer)
    headers_of = {"port": [str(pod_port)], "requestid": ["0"]}
    await client.send(spdy.SynStream(1, {"streamtype": ["error"], **headers_of}), spdy.DataFrame(1, b"", fin=True))
    await client.send(spdy.SynStream(3, {"streamtype": ["data"], **headers_of}), spdy.DataFrame(3, b"hi"))
    assert await client.until(spdy.DataFrame(3, b"hi")) == [spdy.SynReply(1, {}), spdy.SynReply(3, {}), spdy.DataFrame(3, b"hi")]
    await client.send(spdy.DataFrame(3, b"", fin=True), spdy.Ping(7))
    frames = await client.until(spdy.DataFrame(1, b"", fin=True))
    assert spdy.DataFrame(3, b"bye") in frames and spdy.DataFrame(3, b"", fin=True) in frames and spdy.Ping(7) in frames
    await client.send(spdy.GoAway(3))
    assert await client.ended()
    writer.close()


async def test_the_servers_shutdown_ends_a_handed_over_session_at_once(
    served: Served, pod_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    reader, writer = await served.connect()
    writer.write(request("POST", SPDY_UPGRADE))
    assert (await response_head(reader))[0] == "HTTP/1.1 101 Switching Protocols"
    client = Spdy(reader, writer)
    await client.send(spdy.SynStream(1, {"streamtype": ["error"], "port": [str(pod_port)], "requestid": ["0"]}))
    await client.until(spdy.SynReply(1, {}))
    began = time.monotonic()
    with caplog.at_level(logging.INFO):
        served.server.should_exit = True
        assert await client.ended()
        while served.server.server_state.tasks:
            await asyncio.sleep(0.05)
    assert time.monotonic() - began < 5  # not the graceful timeout's 10 s: the session saw its connection end
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    writer.close()


def ws_frame(payload: bytes) -> bytes:
    """A client's binary WebSocket message (masked)."""
    mask = os.urandom(4)
    assert len(payload) < 126
    return bytes([0x82, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def ws_message(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The server's next WebSocket frame: its opcode and payload (unmasked, short)."""
    first, second = await asyncio.wait_for(reader.readexactly(2), 10)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack(">H", await reader.readexactly(2))
    return first & 0x0F, await reader.readexactly(length)


async def test_kubectls_tunnel_subprotocol_is_taken(served: Served, pod_port: int) -> None:
    reader, writer = await served.connect()
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    ws = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"}
    writer.write(request("GET", {**ws, "Sec-WebSocket-Protocol": "SPDY/3.1+portforward.k8s.io"}))
    status, headers = await response_head(reader)
    assert status == "HTTP/1.1 101 Switching Protocols"
    assert headers["sec-websocket-protocol"] == "SPDY/3.1+portforward.k8s.io"
    encoder, decoder = spdy.FrameWriter(), spdy.FrameReader()
    writer.write(ws_frame(encoder.encode(spdy.SynStream(1, {"streamtype": ["error"], "port": [str(pod_port)]}))))
    writer.write(ws_frame(encoder.encode(spdy.Ping(1))))
    frames: list[spdy.Frame] = []
    while len(frames) < 2:
        opcode, payload = await ws_message(reader)
        assert opcode == 2  # binary
        frames += decoder.feed(payload)
    assert frames == [spdy.SynReply(1, {}), spdy.Ping(1)]
    writer.close()


async def test_other_upgrades_are_plain_requests(served: Served) -> None:
    reader, writer = await served.connect()
    writer.write(request("POST", {"Connection": "Upgrade", "Upgrade": "h2c", "X-Stream-Protocol-Version": "portforward.k8s.io"}))
    status, _ = await response_head(reader)
    assert status == "HTTP/1.1 400 Bad Request"  # unable to upgrade: missing upgrade headers in request
    writer.close()
