"""The CLI's API client (`minikubelet.client`) against a real HTTPS server on 127.0.0.1 with the node's own
certificates: decoding, Status errors, query strings, kept-alive connections (and their silent closing by the
server), chunked watch and log streams, and an unreachable node."""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from minikubelet.client import ApiClient
from minikubelet.errors import GoneError, NotFoundError, StatusError, UnavailableError
from minikubelet.node.kubeconfig import Connection
from minikubelet.node.paths import NodePaths
from minikubelet.node.tls import ensure_credentials

TOKEN_HEADER = "Authorization"


@dataclass
class Seen:
    """What the server saw: request targets, header values, and the connections they came on."""

    targets: list[str] = field(default_factory=list)
    authorization: list[str] = field(default_factory=list)
    connections: set[tuple[str, int]] = field(default_factory=set)  # the client ends: one per connection
    close_after_next: bool = False


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and chunked answers
    seen: Seen

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.targets.append(self.path)
        self.seen.authorization.append(self.headers.get(TOKEN_HEADER, ""))
        self.seen.connections.add(self.client_address[:2])
        path = self.path.split("?")[0]
        if path == "/missing":
            status = {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404, "message": 'pods "x" not found'}
            status["details"] = {"name": "x", "kind": "pods"}
            self._answer(404, json.dumps(status).encode())
        elif path == "/plain-error":
            self._answer(500, b"it broke")
        elif path in ("/watch", "/log", "/expired"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            pieces = [b'{"type":"ADDED","object":{"n":1}}\n', b'{"type":"MODIFIED",', b'"object":{"n":2}}\n']
            if path == "/expired":
                status = {"kind": "Status", "reason": "Expired", "code": 410, "message": "too old resource version: 1 (5)"}
                pieces = [json.dumps({"type": "ERROR", "object": status}).encode() + b"\n"]
            for piece in pieces if path != "/log" else [b"line 1\n", b"line 2\n"]:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._answer(200, json.dumps({"path": self.path}).encode())
        if self.seen.close_after_next:  # as uvicorn does to a connection idle for too long
            self.seen.close_after_next = False
            self.close_connection = True

    def _answer(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Connection, Seen]]:
    credentials = ensure_credentials(NodePaths(home=tmp_path))
    seen = Seen()
    handler = type("Handler", (_Handler,), {"seen": seen})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(credentials.server_cert, credentials.server_key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    port = httpd.server_address[1]
    try:
        yield Connection(server=f"https://127.0.0.1:{port}", ca_pem=credentials.ca_pem, token=credentials.token), seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_get_sends_the_token_and_the_query_and_decodes_json(server: tuple[Connection, Seen]) -> None:
    connection, seen = server
    with ApiClient(connection) as client:
        answer = client.get("/api/v1/pods", params={"labelSelector": "app in (a,b)", "watch": True, "limit": 5})
    assert answer == {"path": "/api/v1/pods?labelSelector=app+in+%28a%2Cb%29&watch=true&limit=5"}
    assert seen.authorization == [f"Bearer {connection.token}"]


def test_a_query_in_the_path_is_kept_and_extended(server: tuple[Connection, Seen]) -> None:
    connection, _ = server
    with ApiClient(connection) as client:
        assert client.get("/api/v1/pods?labelSelector=suite%3Dcrash")["path"] == "/api/v1/pods?labelSelector=suite%3Dcrash"
        answer = client.get("/api/v1/pods?labelSelector=a%3Db", params={"limit": 1})
    assert answer["path"] == "/api/v1/pods?labelSelector=a%3Db&limit=1"


def test_a_status_answer_becomes_the_servers_error(server: tuple[Connection, Seen]) -> None:
    connection, _ = server
    with ApiClient(connection) as client:
        with pytest.raises(NotFoundError, match='pods "x" not found'):
            client.get("/missing")
        with pytest.raises(StatusError, match="it broke") as caught:
            client.get("/plain-error")
    assert caught.value.code == 500


def test_one_connection_serves_request_after_request(server: tuple[Connection, Seen]) -> None:
    connection, seen = server
    with ApiClient(connection) as client:
        for _ in range(5):
            client.get("/x")
    assert len(seen.targets) == 5
    assert len(seen.connections) == 1


def test_a_connection_the_server_closed_is_replaced_without_an_error(server: tuple[Connection, Seen]) -> None:
    connection, seen = server
    with ApiClient(connection) as client:
        seen.close_after_next = True
        client.get("/first")
        assert client.get("/second") == {"path": "/second"}
        assert client.get("/third") == {"path": "/third"}
    assert seen.targets == ["/first", "/second", "/third"]
    assert len(seen.connections) == 2


def test_watch_yields_events_split_across_chunks_and_the_connection_is_reused(server: tuple[Connection, Seen]) -> None:
    connection, seen = server
    with ApiClient(connection) as client:
        events = list(client.watch("/watch", params={"resourceVersion": "7"}))
        assert client.get("/after") == {"path": "/after"}
    assert events == [("ADDED", {"n": 1}), ("MODIFIED", {"n": 2})]
    assert seen.targets[0] == "/watch?resourceVersion=7&watch=true"
    assert len(seen.connections) == 1


def test_an_error_event_in_a_watch_is_the_servers_error(server: tuple[Connection, Seen]) -> None:
    connection, _seen = server
    with ApiClient(connection) as client, pytest.raises(GoneError, match=r"too old resource version: 1 \(5\)"):
        list(client.watch("/expired"))


def test_stream_yields_the_log_bytes(server: tuple[Connection, Seen]) -> None:
    connection, _ = server
    with ApiClient(connection) as client:
        assert b"".join(client.stream("/log")) == b"line 1\nline 2\n"


def test_threads_may_share_one_client(server: tuple[Connection, Seen]) -> None:
    connection, seen = server
    with ApiClient(connection) as client:
        threads = [threading.Thread(target=lambda i=i: client.get(f"/t{i}")) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    assert sorted(seen.targets) == sorted(f"/t{i}" for i in range(8))


def test_a_node_that_does_not_listen_is_unavailable(server: tuple[Connection, Seen]) -> None:
    connection, _ = server
    unreachable = pytest.raises(UnavailableError, match="the node's API is not reachable")
    with ApiClient(connection, timeout=2, server="https://127.0.0.1:9") as client, unreachable:
        client.get("/x")


def test_a_server_with_another_ca_is_refused(server: tuple[Connection, Seen], tmp_path: Path) -> None:
    connection, _ = server
    other = ensure_credentials(NodePaths(home=tmp_path / "other"))
    stranger = Connection(server=connection.server, ca_pem=other.ca_pem, token=connection.token)
    with ApiClient(stranger) as client, pytest.raises(UnavailableError, match="TLS"):
        client.get("/x")


def test_a_kept_alive_connection_ending_in_a_tls_eof_is_replaced_by_a_new_one(server: tuple[Connection, Seen]) -> None:
    """An idle TLS connection the server closed may fail with SSLEOFError on its next request (the server never saw
    it): the request goes again on a new connection instead of failing."""
    connection, seen = server
    with ApiClient(connection) as client:
        client.get("/api/v1/pods")
        (idle,) = client._idle

        def eof(*args: Any, **kwargs: Any) -> None:
            raise ssl.SSLEOFError(8, "EOF occurred in violation of protocol")

        idle.request = eof  # type: ignore[method-assign]
        assert client.get("/api/v1/pods") == {"path": "/api/v1/pods"}
        assert client._idle and client._idle[0] is not idle, "the stale connection was dropped for a new one"
    assert len(seen.authorization) == 2
