"""The API client the CLI uses: httpx over TLS with the node's CA and bearer token, Status errors back.

Only the CLI uses it; the daemon's own loops call the store and registry directly (DESIGN.md). Every
non-2xx answer is turned back into the `StatusError` the server raised (`errors.StatusError.from_status`),
so the CLI prints kubectl's `Error from server (NotFound): pods "x" not found`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

from minikubelet import __version__
from minikubelet.errors import StatusError, UnavailableError
from minikubelet.node.kubeconfig import Connection

# httpx's own command line (`httpx._main`: click, rich and pygments) is imported by `import httpx` when those
# are installed, as they are here; the CLI never uses it and it costs ~50 ms per command. httpx falls back to
# a stub when the import fails, which a None in sys.modules makes it do.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx  # noqa: E402

__all__ = ["TABLE_ACCEPT", "ApiClient", "resource_path"]

TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
_NAMESPACED = {"pods": True, "events": True, "nodes": False, "namespaces": False}


def resource_path(resource: str, namespace: str | None, name: str = "", subresource: str = "") -> str:
    """`/api/v1/namespaces/<ns>/<resource>[/<name>[/<sub>]]`, or the cluster-wide form."""
    path = "/api/v1"
    if namespace and _NAMESPACED.get(resource, True):
        path += f"/namespaces/{namespace}"
    path += f"/{resource}"
    if name:
        path += f"/{name}"
    if subresource:
        path += f"/{subresource}"
    return path


class ApiClient:
    def __init__(self, connection: Connection, *, timeout: float = 30.0) -> None:
        self._http = httpx.Client(
            base_url=connection.server,
            verify=connection.ssl_context(),
            headers={"Authorization": f"Bearer {connection.token}", "User-Agent": f"minikubelet/{__version__}"},
            timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
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
            response = self._http.request(method, path, params=params, content=content, headers=headers)
        except httpx.TransportError as exc:
            raise UnavailableError(f"the node's API is not reachable: {exc}") from None
        return _decode(response)

    def get(self, path: str, *, params: dict[str, Any] | None = None, table: bool = False) -> Any:
        return self.request("GET", path, params=params, accept=TABLE_ACCEPT if table else "application/json")

    def watch(self, path: str, *, params: dict[str, Any] | None = None, table: bool = False) -> Iterator[tuple[str, Any]]:
        """Yield (type, object) from a watch stream until the server ends it."""
        query = {**(params or {}), "watch": "true"}
        headers = {"Accept": TABLE_ACCEPT if table else "application/json"}
        try:
            with self._http.stream("GET", path, params=query, headers=headers, timeout=None) as response:
                if response.status_code >= 400:
                    response.read()
                    _decode(response)
                for line in response.iter_lines():
                    if line.strip():
                        event = json.loads(line)
                        yield event["type"], event["object"]
        except httpx.TransportError as exc:
            raise UnavailableError(f"the watch on the node's API broke: {exc}") from None

    def stream(self, path: str, *, params: dict[str, Any] | None = None) -> Iterator[bytes]:
        """A plain-text stream (pod logs), chunk by chunk, until the server ends it."""
        try:
            with self._http.stream("GET", path, params=params, headers={"Accept": "*/*"}, timeout=None) as response:
                if response.status_code >= 400:
                    response.read()
                    _decode(response)
                yield from response.iter_bytes()
        except httpx.TransportError as exc:
            raise UnavailableError(f"the stream from the node's API broke: {exc}") from None


def _decode(response: httpx.Response) -> Any:
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
    if response.status_code >= 400:
        if isinstance(body, dict) and body.get("kind") == "Status":
            raise StatusError.from_status(body, response.status_code)
        raise StatusError.from_status({"message": response.text or response.reason_phrase}, response.status_code)
    return body
