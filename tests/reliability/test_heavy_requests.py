"""Heavy and malformed requests against a real node: the API server's caps hold, and the one event loop that also
runs the kubelet and the prober keeps its pace while a costly request is being worked on.

- Sixteen and nineteen self-copies of `/spec/containers` in one JSON patch (the accumulated copy size passes 3 MiB)
  are refused at once with the API server's 422, and the daemon's memory stays put; 20,000 operations are 413.
- While heavy requests run (those copies, a legal 9,000-operation patch, a 3 MiB strategic merge patch, a merge
  patch that makes a pod too large to store), GETs keep answering and a pod's 1-second readiness probe keeps its
  schedule: the requests are worked on in threads, not on the loop.
- The HTTP edges answer as the API server does through uvicorn: a long URL is an ordinary request, headers over
  Go's 1 MiB its 431, a PUT on a collection a 405 Status; a client that hangs up in the middle of its body leaves
  one quiet line in daemon.log, no ERROR and no traceback.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from nodes import BUSYBOX, Node, eventually, running_node
from raw_api import connection, daemon_pid, http_client, vm_rss_kib

from minikubelet.apiserver.app import MAX_HEADER_BYTES

pytestmark = pytest.mark.docker

PODS = "/api/v1/namespaces/default/pods"
JSON_PATCH = "application/json-patch+json"
REJECTED = "the server rejected our request due to an error in our request"
SELF_COPY = {"op": "copy", "from": "/spec/containers", "path": "/spec/containers/-"}
#: How long a GET may take while the node is busy, and how late a probe may run (both generous: a machine
#: running the suite in parallel is slow; a blocked loop is late by the whole request, seconds).
GET_BOUND = 3.0
LATENESS_BOUND = 2.0


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from running_node(tmp_path_factory.mktemp("heavy-home"))


def pending_pod(name: str) -> dict[str, Any]:
    """A pod no node fits (its nodeSelector matches nothing): it stays Pending, no container is started."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"nodeSelector": {"nowhere": "true"}, "containers": [{"name": "app", "image": BUSYBOX}]},
    }


@pytest.fixture
def target(node: Node) -> Iterator[str]:
    """A fresh pending pod to patch, deleted afterwards."""
    name = f"target-{time.monotonic_ns() % 10**9}"
    with http_client(node) as client:
        assert client.post(PODS, json=pending_pod(name)).status_code == 201
        yield name
        client.delete(f"{PODS}/{name}", params={"gracePeriodSeconds": "0"})


@pytest.fixture(scope="module")
def probed(node: Node) -> str:
    """A running pod whose readiness probe runs every second (deleted with the node)."""
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "probed"},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "main",
                    "image": BUSYBOX,
                    "command": ["sleep", "3600"],
                    "readinessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 1},
                }
            ],
        },
    }
    with http_client(node) as client:
        assert client.post(PODS, json=manifest).status_code == 201
    assert eventually(lambda: len(node.probe_attempts("probed")) >= 3, timeout=60), "the probe never ran"
    return "probed"


def patch(client: Any, name: str, body: Any, content_type: str = JSON_PATCH) -> Any:
    return client.patch(f"{PODS}/{name}", content=json.dumps(body), headers={"Content-Type": content_type})


# --- the caps -------------------------------------------------------------------------------------------------------


def test_self_copying_patches_are_refused_at_once_in_bounded_memory(node: Node, target: str) -> None:
    pid = daemon_pid(node)
    with http_client(node, timeout=120) as client:
        client.get(PODS)
        before = vm_rss_kib(pid)
        for copies in (16, 19):
            started = time.monotonic()
            response = patch(client, target, [SELF_COPY] * copies)
            elapsed = time.monotonic() - started
            assert response.status_code == 422, response.text[:300]
            assert (response.json()["reason"], response.json()["message"]) == ("Invalid", REJECTED)
            assert elapsed < 5, f"{copies} copies took {elapsed:.1f}s"
        grown = vm_rss_kib(pid) - before
        assert len(client.get(f"{PODS}/{target}").json()["spec"]["containers"]) == 1
    assert grown < 128 * 1024, f"the daemon grew by {grown // 1024} MiB"


def test_twenty_thousand_operations_are_413(node: Node, target: str) -> None:
    operations = [{"op": "test", "path": "/metadata/name", "value": target}] * 20_000
    with http_client(node) as client:
        response = patch(client, target, operations)
    assert response.status_code == 413, response.text[:300]
    assert response.json()["reason"] == "RequestEntityTooLarge"
    assert response.json()["message"] == (
        "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 20000"
    )


# --- the loop keeps its pace ----------------------------------------------------------------------------------------


def heavy_requests(target: str) -> list[tuple[str, Any, str, int]]:
    """(what, body, content type, the status it gets) of requests that cost the server seconds of work."""
    labels = [{"op": "add", "path": "/metadata/labels/seed", "value": "v" * 60}]
    labels += [{"op": "copy", "from": "/metadata/labels/seed", "path": f"/metadata/labels/k{i}"} for i in range(8_999)]
    containers = {"spec": {"containers": [{"name": f"c{i}", "image": BUSYBOX} for i in range(20_000)]}}
    too_large = {"metadata": {"labels": {f"big{i:06d}": "w" * 60 for i in range(30_000)}}}
    return [
        ("16 self-copies", [SELF_COPY] * 16, JSON_PATCH, 422),
        ("9,000 operations", labels, JSON_PATCH, 200),
        ("20,000 containers", containers, "application/strategic-merge-patch+json", 422),
        ("a pod over 1.5 MiB", too_large, "application/merge-patch+json", 500),
    ]


def test_gets_and_probes_keep_their_pace_during_heavy_requests(node: Node, probed: str, target: str) -> None:
    answers: list[tuple[str, int, float]] = []
    done = threading.Event()

    def send_heavy() -> None:
        try:
            with http_client(node, timeout=300) as client:
                for what, body, content_type, _ in heavy_requests(target):
                    started = time.monotonic()
                    response = patch(client, target, body, content_type)
                    answers.append((what, response.status_code, time.monotonic() - started))
        finally:
            done.set()

    latencies: list[float] = []
    window_start = time.time()
    worker = threading.Thread(target=send_heavy)
    with http_client(node, timeout=300) as client:
        client.get(PODS)
        worker.start()
        while not done.is_set():
            started = time.monotonic()
            assert client.get(PODS).status_code == 200
            latencies.append(time.monotonic() - started)
    worker.join(300)
    window_end = time.time()
    assert [(what, code) for what, code, _ in answers] == [(what, code) for what, _, _, code in heavy_requests(target)]
    busy = sum(seconds for _, _, seconds in answers)
    assert max(latencies) < GET_BOUND, f"a GET took {max(latencies):.1f}s while the server worked on {answers}"
    assert len(latencies) >= 10, (latencies, answers)
    during = [
        a
        for a in node.probe_attempts(probed)
        if window_start <= datetime.fromisoformat(a["due"].replace("Z", "+00:00")).timestamp() <= window_end
    ]
    assert len(during) >= int(busy) - 1, (during, answers)
    late = max((a["latenessSeconds"] for a in during), default=0.0)
    assert late < LATENESS_BOUND, f"a probe ran {late:.1f}s late while the server worked on {answers}"


# --- the HTTP edges -------------------------------------------------------------------------------------------------


def raw_request(node: Node, head: bytes, body: bytes = b"", *, read: bool = True) -> bytes:
    """Send bytes to the node's API over TLS as they are (httpx refuses URLs over 64 KiB) and read the answer
    until the server closes or 10 s pass; with read=False, hang up right after sending."""
    conn = connection(node)
    url = urlsplit(conn.server)
    context: ssl.SSLContext = conn.ssl_context()
    with (
        socket.create_connection((url.hostname, url.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=url.hostname) as tls,
    ):
        tls.sendall(head + body)
        if not read:
            return b""
        chunks = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                chunk = tls.recv(65536)
            except (TimeoutError, ssl.SSLError, OSError):
                break
            if not chunk:
                break
            chunks.append(chunk)
            answer = b"".join(chunks)
            header, _, content = answer.partition(b"\r\n\r\n")
            length = next(
                (int(line.split(b":")[1]) for line in header.split(b"\r\n") if line.lower().startswith(b"content-length:")),
                None,
            )
            if length is not None and len(content) >= length:
                break
        return b"".join(chunks)


def request_head(node: Node, method: str, target: str, *extra: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {connection(node).token}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_a_60_kb_url_is_an_ordinary_request_and_a_1_mib_header_is_431(node: Node) -> None:
    name = "a" * 60_000
    answer = raw_request(node, request_head(node, "GET", f"{PODS}/{name}", "Connection: close"))
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 404 Not Found", answer[:300]
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert (body["kind"], body["message"]) == ("Status", f'pods "{name}" not found')
    answer = raw_request(node, request_head(node, "GET", PODS, f"X-Padding: {'y' * (MAX_HEADER_BYTES + 1)}", "Connection: close"))
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:300]
    assert answer.endswith(b"\r\n\r\n431 Request Header Fields Too Large")


def test_a_100_kb_url_is_an_ordinary_request(node: Node) -> None:
    """Go reads a request target of up to 1 MiB: a 100 KB name is a pod that does not exist, in a Status."""
    name = "a" * 100_000
    answer = raw_request(node, request_head(node, "GET", f"{PODS}/{name}?pretty=1", "Connection: close"))
    assert answer.startswith(b"HTTP/1.1 404 Not Found"), answer[:300]
    assert b'"kind":"Status"' in answer and b'"reason":"NotFound"' in answer


def test_a_request_target_over_a_mebibyte_is_431_before_it_is_read_whole(node: Node) -> None:
    answer = raw_request(node, request_head(node, "GET", f"{PODS}/{'b' * (MAX_HEADER_BYTES + 10)}", "Connection: close"))
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:300]
    assert answer.endswith(b"\r\n\r\n431 Request Header Fields Too Large")


def test_a_put_on_a_collection_is_a_405_status(node: Node) -> None:
    with http_client(node) as client:
        response = client.put(PODS, json=pending_pod("nope"))
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert (body["kind"], body["reason"], body["message"]) == (
        "Status",
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
    )


def test_a_client_gone_mid_body_leaves_one_quiet_line(node: Node) -> None:
    log = node.home / "daemon.log"
    start = log.stat().st_size
    head = request_head(node, "POST", PODS, "Content-Type: application/json", "Content-Length: 100000")
    raw_request(node, head, b'{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "half' + b" " * 4000, read=False)

    def logged() -> str:
        with log.open("rb") as handle:
            handle.seek(start)
            return handle.read().decode("utf-8", "replace")

    assert eventually(lambda: "went away" in logged(), timeout=10), logged()
    time.sleep(0.5)  # whatever else the request would log comes at once
    lines = logged().splitlines()
    assert not [line for line in lines if " ERROR " in line or "Traceback" in line], lines
    assert next(line for line in lines if "went away" in line).split(" ")[2] == "INFO"
    with http_client(node) as client:
        assert client.get(f"{PODS}/half").status_code == 404
