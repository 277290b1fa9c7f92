"""handlers.answered (what `simulate` reports for an imagined target) says what the real handlers say for a real one."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from minikubelet.prober import handlers
from minikubelet.prober.handlers import Result


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def server() -> AsyncIterator[dict[str, int]]:
    """Two ports: one answering 500, one accepting and never answering."""

    async def fails(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def hangs(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read()  # until the prober gives up
        finally:
            writer.close()
            await writer.wait_closed()

    failing = await asyncio.start_server(fails, "127.0.0.1", 0)
    hanging = await asyncio.start_server(hangs, "127.0.0.1", 0)
    try:
        yield {"fails": failing.sockets[0].getsockname()[1], "hangs": hanging.sockets[0].getsockname()[1]}
    finally:
        for one in (failing, hanging):
            one.close()
            await one.wait_closed()


async def test_refused_connections_are_worded_alike() -> None:
    port = closed_port()
    real_tcp = await handlers.probe_tcp(host="127.0.0.1", port=port, timeout=1)
    real_http = await handlers.probe_http(scheme="HTTP", host="127.0.0.1", port=port, path="/healthz", headers=[], timeout=1)
    assert handlers.answered("tcpSocket", "refused", host="127.0.0.1", port=port) == real_tcp
    assert handlers.answered("httpGet", "refused", host="127.0.0.1", port=port, path="/healthz") == real_http
    assert real_tcp.result is Result.FAILURE and "connection refused" in real_tcp.output


async def test_an_unhealthy_answer_and_a_hang_are_worded_alike(server: dict[str, int]) -> None:
    failed = await handlers.probe_http(scheme="HTTP", host="127.0.0.1", port=server["fails"], path="/", headers=[], timeout=1)
    assert handlers.answered("httpGet", "fails", host="127.0.0.1", port=server["fails"]) == failed
    hung = await handlers.probe_http(scheme="HTTP", host="127.0.0.1", port=server["hangs"], path="/x", headers=[], timeout=0.2)
    assert handlers.answered("httpGet", "hangs", host="127.0.0.1", port=server["hangs"], path="/x", timeout=0.2) == hung
    assert hung.output.endswith("context deadline exceeded (Client.Timeout exceeded while awaiting headers)")
