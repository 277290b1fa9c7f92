"""The API client the CLI uses: HTTPS with the node's CA and bearer token, Status errors back.

Only the CLI uses it; the daemon's own loops call the store and registry directly (DESIGN.md). Every
non-2xx answer is turned back into the `StatusError` the server raised (`errors.StatusError.from_status`),
so the CLI prints kubectl's `Error from server (NotFound): pods "x" not found`.

It speaks HTTP/1.1 through the standard library's `http.client`, not httpx: every CLI command is a fresh
interpreter, and importing httpx (with httpcore, h2, anyio and urllib.request behind it) cost ~70 ms of a
`get pods` budgeted at 150 ms (docs/benchmarks.md), for features a client of one local server never uses.
Connections are kept alive and reused, one per request in flight, so the client may be shared by threads.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import ssl
import threading
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from minikubelet import __version__
from minikubelet.errors import StatusError, UnavailableError
from minikubelet.node.kubeconfig import Connection

__all__ = [
    "TABLE_ACCEPT",
    "ApiClient",
    "is_namespaced",
    "resource_path",
]

TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
_NAMESPACED = {"pods": True, "events": True, "nodes": False, "namespaces": False}
_CHUNK = 64 * 1024
# What a kept-alive connection the server has meanwhile closed raises on the next request: safe to send again
# on a new connection, since the server never saw it. Over TLS the server's close of an idle connection may also
# show as an EOF in violation of the protocol (`test --hold 60s` met it on its first request after the hold).
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, ssl.SSLEOFError)


def is_namespaced(resource: str) -> bool:
    """Whether objects of `resource` live in a namespace (pods, events) or not (nodes, namespaces)."""
    return _NAMESPACED.get(resource, True)


def resource_path(resource: str, namespace: str | None, name: str = "", subresource: str = "") -> str:
    """`/api/v1/namespaces/<ns>/<resource>[/<name>[/<sub>]]`, or the cluster-wide form."""
    path = "/api/v1"
    if namespace and is_namespaced(resource):
        path += f"/namespaces/{namespace}"
    path += f"/{resource}"
    if name:
        path += f"/{name}"
    if subresource:
        path += f"/{subresource}"
    return path


class _Answer:
    """A whole answer: status, reason and body."""

    def __init__(self, status: int, reason: str, content: bytes) -> None:
        self.status, self.reason, self.content = status, reason, content


class ApiClient:
    def __init__(self, connection: Connection, *, timeout: float = 30.0, server: str | None = None) -> None:
        """`server` overrides the kubeconfig's address (the readiness poll asks the endpoint the daemon wrote)."""
        url = urlsplit(server or connection.server)
        self._host, self._port = url.hostname or "127.0.0.1", url.port or 443
        self._tls = connection.ssl_context()
        self._headers = {
            "Authorization": f"Bearer {connection.token}",
            "User-Agent": f"minikubelet/{__version__}",
        }
        self._timeout = timeout
        self._idle: list[http.client.HTTPSConnection] = []
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        accept: str = "application/json",
    ) -> Any:
        """One request; the decoded JSON answer, or the StatusError it describes."""
        headers = {"Accept": accept}
        content = None
        if body is not None:
            content = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = content_type
        try:
            with self._exchange(method, _target(path, params), headers, content, self._timeout) as response:
                answer = _Answer(response.status, response.reason, response.read())
        except (OSError, http.client.HTTPException) as exc:
            raise UnavailableError(f"the node's API is not reachable: {_reason(exc)}") from None
        return _decode(answer)

    def get(self, path: str, *, params: Mapping[str, Any] | None = None, table: bool = False) -> Any:
        return self.request("GET", path, params=params, accept=TABLE_ACCEPT if table else "application/json")

    def watch(self, path: str, *, params: Mapping[str, Any] | None = None, table: bool = False) -> Iterator[tuple[str, Any]]:
        """Yield (type, object) from a watch stream until the server ends it."""
        query = {**(params or {}), "watch": "true"}
        headers = {"Accept": TABLE_ACCEPT if table else "application/json"}
        try:
            with self._exchange("GET", _target(path, query), headers, None, None) as response:
                _raise_for_status(response)
                for line in iter(response.readline, b""):
                    if line.strip():
                        event = json.loads(line)
                        if event["type"] == "ERROR":  # a Status (410 Expired for a version too old): client-go's error
                            status = event["object"]
                            raise StatusError.from_status(status, int(status.get("code") or 500))
                        yield event["type"], event["object"]
        except (OSError, http.client.HTTPException) as exc:
            raise UnavailableError(f"the watch on the node's API broke: {_reason(exc)}") from None

    def stream(self, path: str, *, params: Mapping[str, Any] | None = None) -> Iterator[bytes]:
        """A plain-text stream (pod logs), chunk by chunk as the server sends them, until it ends it."""
        try:
            with self._exchange("GET", _target(path, params), {"Accept": "*/*"}, None, None) as response:
                _raise_for_status(response)
                yield from iter(lambda: response.read1(_CHUNK), b"")
        except (OSError, http.client.HTTPException) as exc:
            raise UnavailableError(f"the stream from the node's API broke: {_reason(exc)}") from None

    @contextlib.contextmanager
    def _exchange(
        self, method: str, target: str, headers: dict[str, str], content: bytes | None, timeout: float | None
    ) -> Iterator[http.client.HTTPResponse]:
        """Send one request on an idle kept-alive connection (a new one if none is idle, or if the idle one
        turns out closed by the server) and yield its response; the connection goes back to the idle list
        only when the response was read to its end."""
        while True:
            with self._lock:
                reused = self._idle.pop() if self._idle else None
            connection = reused or http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout, context=self._tls)
            try:
                if connection.sock is None:
                    connection.connect()  # within the client's timeout, whatever the request's
                connection.sock.settimeout(timeout)
                connection.request(method, target, body=content, headers={**self._headers, **headers})
                response = connection.getresponse()
            except _STALE:
                connection.close()
                if reused is None:
                    raise
                continue
            except BaseException:
                connection.close()
                raise
            break
        try:
            yield response
        finally:
            if response.isclosed() and not response.will_close:
                with self._lock:
                    self._idle.append(connection)
            else:
                connection.close()


def _target(path: str, params: Mapping[str, Any] | None) -> str:
    """The request target: the path, quoted, and the query (booleans as `true`/`false`)."""
    path, _, given = path.partition("?")  # a query already in the path is sent as it is
    target = quote(path, safe="/:@!$&'()*+,;=-._~")
    query = [(key, _query_value(value)) for key, value in (params or {}).items() if value is not None]
    parts = [part for part in (given, urlencode(query)) if part]
    return f"{target}?{'&'.join(parts)}" if parts else target


def _query_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return f"TLS: {exc.reason or exc}"
    return str(exc) or type(exc).__name__


def _raise_for_status(response: http.client.HTTPResponse) -> None:
    if response.status >= 400:
        _decode(_Answer(response.status, response.reason, response.read()))


def _decode(answer: _Answer) -> Any:
    try:
        body = json.loads(answer.content) if answer.content else None
    except ValueError:
        body = None
    if answer.status >= 400:
        if isinstance(body, dict) and body.get("kind") == "Status":
            raise StatusError.from_status(body, answer.status)
        text = answer.content.decode("utf-8", errors="replace")
        raise StatusError.from_status({"message": text or answer.reason}, answer.status)
    return body
