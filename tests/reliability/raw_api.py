"""Raw HTTP to a real node's API (any body, any token, the response as it is) and the daemon's memory, for the
bad-input and security tests. `Node.api` decodes answers and raises on errors; these tests need the answer itself."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from nodes import Node

from minikubelet.node.kubeconfig import Connection, read_connection
from minikubelet.node.paths import NodePaths

__all__ = ["connection", "daemon_pid", "http_client", "vm_rss_kib"]

_NODE_TOKEN = object()


def connection(node: Node) -> Connection:
    """The node's server address, CA and token, as its kubeconfig has them."""
    return read_connection(NodePaths.from_env(str(node.home)))


def http_client(node: Node, *, authorization: str | object | None = _NODE_TOKEN, timeout: float = 30.0) -> httpx.Client:
    """An httpx client for the node's API that trusts its CA, sending the node's bearer token unless
    `authorization` gives the whole header value (None: no Authorization header at all)."""
    conn = connection(node)
    headers = {}
    if authorization is _NODE_TOKEN:
        headers["Authorization"] = f"Bearer {conn.token}"
    elif isinstance(authorization, str):
        headers["Authorization"] = authorization
    return httpx.Client(base_url=conn.server, verify=conn.ssl_context(), headers=headers, timeout=timeout, trust_env=False)


def daemon_pid(node: Node) -> int:
    return int((node.home / "daemon.pid").read_text().strip())


def vm_rss_kib(pid: int) -> int:
    """The resident set size of a process, in KiB (`VmRSS` of /proc/<pid>/status)."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB$", status, re.MULTILINE)
    assert match is not None, status
    return int(match.group(1))
