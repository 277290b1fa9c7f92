"""The API server's limits and its answers to bad input, in process: what kube-apiserver v1.37 answers, word for word.

- JSON patches: at most 10,000 operations (413, patch.go's maxJSONPatchOperations), and the `copy` operations of one
  patch may add at most 3 MiB (json-patch's AccumulatedCopySizeLimit, which the API server sets from
  JSONPatchMaxCopyBytes); a patch past it is the generic 422 every failed JSON patch gets. Both answer at once and
  in bounded memory: sixteen self-copies of `/spec/containers` used to take seconds, nineteen gigabytes.
- Bodies: at most 3 MiB (`Request entity too large: limit is 3145728`); an object may be stored only up to etcd's
  request limit (1.5 MiB), else `etcdserver: request is too large` (500, as the API server passes it on).
- Content types: JSON or YAML bodies for create, update, delete and binding; anything else is 415.
- Paths and methods: a method a path does not serve is 405 and an unknown path 404, both as a Status; request
  headers over Go's 1 MiB (the request line included) are 431, as Go's server answers them.
- Query parameters: integers are Go's strconv.ParseInt (`limit=abc`, `tailLines=2**70` are 400), and
  DeleteOptions are validated (`propagationPolicy: Bogus` is 422).
- A client that goes away in the middle of its body is not an error: one quiet log line, no traceback.
- An update is computed outside the store's lock (GuaranteedUpdate's optimistic loop): a write in between is
  no conflict, the patch is applied again to the latest object.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import tracemalloc
import warnings
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import make_pod
from starlette.exceptions import StarletteDeprecationWarning

from minikubelet.apiserver import patching
from minikubelet.apiserver.app import build_app
from minikubelet.apiserver.registry import RESOURCES, Registry
from minikubelet.errors import BadRequestError
from minikubelet.kubelet import nodestatus
from minikubelet.store import Store

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKEN = "limits-token"
NODE = "node-1"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
PODS = "/api/v1/namespaces/default/pods"
JSON_PATCH = "application/json-patch+json"
MERGE = "application/merge-patch+json"
REJECTED = "the server rejected our request due to an error in our request"
UNKNOWN_FORMAT = "the body of the request was in an unknown format - accepted media types include: "
Json = dict[str, Any]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "state.db") as opened:
        for name in ("default", "kube-system"):
            opened.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "status": {"phase": "Active"}})
        opened.create(nodestatus.node_object(NODE, now=NOW, state_dir=tmp_path))
        yield opened


async def _logs(namespace: str, name: str, **options: Any) -> AsyncIterator[bytes]:
    async def lines() -> AsyncIterator[bytes]:
        yield b"hello\n"

    return lines()


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    app = build_app(Registry(store, clock=lambda: NOW), token=TOKEN, logs=_logs)
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as opened:
        yield opened


def create(client: TestClient, name: str = "echo") -> Json:
    response = client.post(PODS, json=make_pod(metadata={"name": name}))
    assert response.status_code == 201, response.text
    created: Json = response.json()
    return created


def json_patch(client: TestClient, operations: list[Json], name: str = "echo") -> Any:
    return client.patch(f"{PODS}/{name}", content=json.dumps(operations), headers={"Content-Type": JSON_PATCH})


def status_of(response: Any, code: int, reason: str | None) -> Json:
    """The Status body of `response`, checked for `code` and `reason` (None: no reason, as a plain Go error)."""
    assert response.status_code == code, response.text[:500]
    assert response.headers["content-type"] == "application/json"
    body: Json = response.json()
    assert (body["kind"], body["apiVersion"], body["status"], body["code"]) == ("Status", "v1", "Failure", code)
    assert body.get("reason") == reason
    return body


SELF_COPY = {"op": "copy", "from": "/spec/containers", "path": "/spec/containers/-"}


# --- JSON patches: the accumulated copy size and the number of operations ---------------------------------------------


def test_sixteen_self_copies_of_the_containers_are_refused_at_once(client: TestClient) -> None:
    created = create(client)
    started = time.monotonic()
    response = json_patch(client, [SELF_COPY] * 16)
    elapsed = time.monotonic() - started
    body = status_of(response, 422, "Invalid")
    assert (body["message"], body["details"]) == (REJECTED, {})
    assert elapsed < 2, f"{elapsed:.1f}s"
    assert client.get(f"{PODS}/echo").json() == created


@pytest.mark.timeout(60)
def test_nineteen_self_copies_answer_in_bounded_memory(client: TestClient) -> None:
    create(client)
    tracemalloc.start()
    try:
        started = time.monotonic()
        response = json_patch(client, [SELF_COPY] * 19)
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert status_of(response, 422, "Invalid")["message"] == REJECTED
    assert peak < 96 * 1024 * 1024, f"{peak // (1024 * 1024)} MiB"
    assert elapsed < 10, f"{elapsed:.1f}s"


def test_the_accumulated_copy_size_is_counted_as_json_patch_counts_it() -> None:
    """Each copy adds the size of the copied value's JSON; the copy that takes the sum past 3 MiB fails, with
    json-patch's words (which the API server then hides behind its generic 422)."""
    value = "x" * 2_000_000  # 2,000,002 bytes of JSON
    document = {"a": value}
    once = patching.json_patch(document, [{"op": "copy", "from": "/a", "path": "/b"}], copy_limit=patching.MAX_COPY_BYTES)
    assert once == {"a": value, "b": value}
    with pytest.raises(BadRequestError) as refused:
        patching.json_patch(
            document,
            [{"op": "copy", "from": "/a", "path": "/b"}, {"op": "copy", "from": "/a", "path": "/c"}],
            copy_limit=patching.MAX_COPY_BYTES,
        )
    assert refused.value.message == (
        "Unable to complete the copy, the accumulated size increase of copy is 4000004, exceeding the limit 3145728"
    )
    # Go's encoder writes <, > and & as \u003c, \u003e, \u0026: six bytes each.
    with pytest.raises(BadRequestError, match="increase of copy is 3145734, exceeding"):
        patching.json_patch({"a": "<" * 524_288 + "x" * 4}, [{"op": "copy", "from": "/a", "path": "/b"}], copy_limit=3145728)


def test_twenty_thousand_operations_are_413(client: TestClient) -> None:
    created = create(client)
    operations = [{"op": "test", "path": "/metadata/name", "value": "echo"}] * 20_000
    body = status_of(json_patch(client, operations), 413, "RequestEntityTooLarge")
    assert body["message"] == "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 20000"
    assert "details" not in body
    assert client.get(f"{PODS}/echo").json() == created


def test_ten_thousand_operations_are_allowed(client: TestClient) -> None:
    create(client)
    operations = [{"op": "test", "path": "/metadata/name", "value": "echo"}] * 9_999
    operations.append({"op": "add", "path": "/metadata/labels", "value": {"many": "ops"}})
    response = json_patch(client, operations)
    assert response.status_code == 200, response.text[:500]
    assert response.json()["metadata"]["labels"] == {"many": "ops"}


# --- bodies and objects: sizes ----------------------------------------------------------------------------------------


def test_a_body_over_3_mib_is_413_with_the_limit(client: TestClient) -> None:
    big = b'{"metadata": {"name": "big", "annotations": {"a": "' + b"x" * 3 * 1024 * 1024 + b'"}}}'
    body = status_of(client.post(PODS, content=big, headers={"Content-Type": "application/json"}), 413, "RequestEntityTooLarge")
    assert body["message"] == "Request entity too large: limit is 3145728"


def test_an_object_over_the_storage_limit_is_refused_as_etcd_refuses_it(client: TestClient) -> None:
    """Labels have no size limit of their own: a merge patch that takes the pod past 1.5 MiB is refused when it
    is stored, with etcd's words passed on as a 500 (the API server does not map that error)."""
    created = create(client)
    labels = {f"k{i:06d}": "v" * 60 for i in range(30_000)}  # about 2 MiB of JSON
    response = client.patch(f"{PODS}/echo", content=json.dumps({"metadata": {"labels": labels}}), headers={"Content-Type": MERGE})
    body = status_of(response, 500, None)
    assert body["message"] == "etcdserver: request is too large"
    assert client.get(f"{PODS}/echo").json() == created


# --- content types ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "json"],
)
def test_a_create_in_an_unknown_format_is_415(client: TestClient, store: Store, content_type: str) -> None:
    response = client.post(PODS, content=json.dumps(make_pod()), headers={"Content-Type": content_type})
    body = status_of(response, 415, "UnsupportedMediaType")
    assert body["message"] == UNKNOWN_FORMAT + "application/json, application/yaml"
    assert store.list("Pod")[0] == []


def test_an_update_and_a_delete_in_an_unknown_format_are_415(client: TestClient) -> None:
    created = create(client)
    put = client.put(f"{PODS}/echo", content=json.dumps(created), headers={"Content-Type": "text/plain"})
    status_of(put, 415, "UnsupportedMediaType")
    delete = client.request("DELETE", f"{PODS}/echo", content=b"{}", headers={"Content-Type": "application/xml"})
    status_of(delete, 415, "UnsupportedMediaType")
    assert client.get(f"{PODS}/echo").status_code == 200


def test_a_pod_in_yaml_is_created_and_updated(client: TestClient) -> None:
    manifest = make_pod(metadata={"name": "yaml-pod", "labels": {"on": "yes"}})
    text = yaml.safe_dump(manifest)
    response = client.post(PODS, content=text, headers={"Content-Type": "application/yaml"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["metadata"]["labels"] == {"on": "yes"}
    created["metadata"]["labels"]["tier"] = "web"
    response = client.put(
        f"{PODS}/yaml-pod", content=yaml.safe_dump(created), headers={"Content-Type": "application/yaml; charset=utf-8"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["labels"] == {"on": "yes", "tier": "web"}


def test_a_yaml_body_has_the_json_bodys_limits(client: TestClient) -> None:
    levels = [f"- &l{i} [" + ", ".join([f"*l{i - 1}"] * 10 if i else ["x"] * 10) + "]" for i in range(9)]
    bomb = client.post(PODS, content="\n".join(levels), headers={"Content-Type": "application/yaml"})
    assert "too many values" in status_of(bomb, 400, "BadRequest")["message"]
    huge = "metadata:\n  annotations:\n    a: " + "x" * 3 * 1024 * 1024 + "\n"
    status_of(client.post(PODS, content=huge, headers={"Content-Type": "application/yaml"}), 413, "RequestEntityTooLarge")


def test_the_patch_types_are_listed_in_the_api_servers_order(client: TestClient) -> None:
    create(client)
    response = client.patch(f"{PODS}/echo", content=b"{}", headers={"Content-Type": "text/plain"})
    body = status_of(response, 415, "UnsupportedMediaType")
    assert body["message"] == UNKNOWN_FORMAT + (
        "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, "
        "application/apply-patch+yaml"
    )


# --- paths, methods and headers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", PODS), ("DELETE", PODS), ("PATCH", PODS), ("POST", f"{PODS}/echo"), ("PUT", "/api/v1/pods")],
)
def test_a_method_the_path_does_not_serve_is_a_405_status(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, content=b"{}", headers={"Content-Type": "application/json"})
    body = status_of(response, 405, "MethodNotAllowed")
    assert (body["message"], body["details"]) == ("the server does not allow this method on the requested resource", {})


@pytest.mark.parametrize("path", ["/nothing/here", "/api/v2", "/api/v1/namespaces/default/pods/echo/nothing"])
def test_an_unknown_path_is_a_404_status(client: TestClient, path: str) -> None:
    body = status_of(client.get(path), 404, "NotFound")
    assert (body["message"], body["details"]) == ("the server could not find the requested resource", {})


async def asgi_get(
    store: Store, path: str, query: str = "", headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[int, Json, bytes]:
    """GET through the ASGI app directly, as uvicorn calls it (httpx refuses URLs over 64 KiB): the status, the
    response headers and the body."""
    app = build_app(Registry(store, clock=lambda: NOW), token=TOKEN)
    sent: list[Json] = []

    async def receive() -> Json:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Json) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"authorization", f"Bearer {TOKEN}".encode()), *(headers or [])],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 6443),
    }
    await asyncio.wait_for(app(scope, receive, send), 10)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


async def test_a_100_kb_url_is_served_as_any_other(store: Store) -> None:
    """Go reads a request line of up to 1 MiB, so a 100 KB URL is an ordinary request: a Status when it names
    nothing, the list when it only has a long query."""
    name = "a" * 100_000
    code, headers, body = await asgi_get(store, f"{PODS}/{name}")
    assert (code, headers["content-type"], json.loads(body)["message"]) == (404, "application/json", f'pods "{name}" not found')
    code, headers, body = await asgi_get(store, "/" + name)
    assert (code, json.loads(body)["message"]) == (404, "the server could not find the requested resource")
    code, headers, body = await asgi_get(store, PODS, "x=" + "y" * 100_000)
    assert (code, json.loads(body)["kind"]) == (200, "PodList")


async def test_headers_over_go_s_limit_are_431(store: Store) -> None:
    """Go's server reads at most MaxHeaderBytes (1 MiB) plus 4096 bytes of request line and headers, and answers
    more with a plain-text 431 before any handler (or authentication) sees the request."""
    for query, headers in [
        ("x=" + "y" * (1024 * 1024 + 4096), []),
        ("", [(b"x-big", b"z" * 600_000), (b"x-more", b"z" * 600_000)]),
    ]:
        code, answer_headers, body = await asgi_get(store, PODS, query, headers)
        assert (code, answer_headers["content-type"], body) == (
            431,
            "text/plain; charset=utf-8",
            b"431 Request Header Fields Too Large",
        )
    code, _, _ = await asgi_get(store, PODS, "x=" + "y" * (1024 * 1024 - 1024))
    assert code == 200


# --- query parameters -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=abc", 'strconv.ParseInt: parsing "abc": invalid syntax'),
        ("limit=1.5", 'strconv.ParseInt: parsing "1.5": invalid syntax'),
        ("limit=", 'strconv.ParseInt: parsing "": invalid syntax'),
        (f"limit={2**70}", f'strconv.ParseInt: parsing "{2**70}": value out of range'),
        ("watch=true&timeoutSeconds=soon", 'strconv.ParseInt: parsing "soon": invalid syntax'),
    ],
)
def test_a_list_parameter_that_is_no_int64_is_400(client: TestClient, query: str, message: str) -> None:
    assert status_of(client.get(f"{PODS}?{query}"), 400, "BadRequest")["message"] == message


def test_a_list_limit_that_is_an_int64_is_accepted(client: TestClient) -> None:
    create(client)
    for limit in ("500", "%2B7", "-1", "0"):  # %2B: a + in a query is a space
        assert client.get(f"{PODS}?limit={limit}").status_code == 200


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (f"tailLines={2**70}", f'strconv.ParseInt: parsing "{2**70}": value out of range'),
        ("tailLines=ten", 'strconv.ParseInt: parsing "ten": invalid syntax'),
        ("limitBytes=1e3", 'strconv.ParseInt: parsing "1e3": invalid syntax'),
        ("sinceSeconds=%E1%9F%A1", 'strconv.ParseInt: parsing "\u17e1": invalid syntax'),
    ],
)
def test_a_log_option_that_is_no_int64_is_400(client: TestClient, query: str, message: str) -> None:
    create(client)
    assert status_of(client.get(f"{PODS}/echo/log?{query}"), 400, "BadRequest")["message"] == message


def test_log_options_in_range_are_served(client: TestClient) -> None:
    create(client)
    response = client.get(f"{PODS}/echo/log?tailLines={2**63 - 1}")
    assert (response.status_code, response.text) == (200, "hello\n")


BOGUS_POLICY = (
    'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Bogus": '
    'supported values: "Foreground", "Background", "Orphan", "nil"'
)


@pytest.mark.parametrize(("query", "options"), [("", {"propagationPolicy": "Bogus"}), ("?propagationPolicy=Bogus", None)])
def test_a_bogus_propagation_policy_is_422_and_deletes_nothing(client: TestClient, query: str, options: Json | None) -> None:
    create(client)
    content = b"" if options is None else json.dumps(options).encode()
    response = client.request("DELETE", f"{PODS}/echo{query}", content=content, headers={"Content-Type": "application/json"})
    body = status_of(response, 422, "Invalid")
    assert body["message"] == BOGUS_POLICY
    assert body["details"] == {
        "group": "meta.k8s.io",
        "kind": "DeleteOptions",
        "causes": [
            {
                "reason": "FieldValueNotSupported",
                "message": 'Unsupported value: "Bogus": supported values: "Foreground", "Background", "Orphan", "nil"',
                "field": "propagationPolicy",
            }
        ],
    }
    assert client.get(f"{PODS}/echo").status_code == 200


def test_orphan_dependents_with_a_propagation_policy_is_422(client: TestClient) -> None:
    create(client)
    options = {"propagationPolicy": "Foreground", "orphanDependents": True}
    body = status_of(client.request("DELETE", f"{PODS}/echo", json=options), 422, "Invalid")
    assert body["message"] == (
        'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "Foreground": '
        "orphanDependents and deletionPropagation cannot be both set"
    )


@pytest.mark.parametrize("policy", ["Foreground", "Background", "Orphan"])
def test_a_known_propagation_policy_deletes(client: TestClient, policy: str) -> None:
    create(client)
    assert client.request("DELETE", f"{PODS}/echo", json={"propagationPolicy": policy}).status_code == 200
    assert client.get(f"{PODS}/echo").status_code == 404


# --- a client that leaves in the middle of its body -------------------------------------------------------------------


async def test_a_client_gone_mid_body_is_one_quiet_line(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    app = build_app(Registry(store, clock=lambda: NOW), token=TOKEN)
    messages = [
        {"type": "http.request", "body": b'{"metadata": {"na', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Json] = []

    async def receive() -> Json:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Json) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": PODS,
        "raw_path": PODS.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"authorization", f"Bearer {TOKEN}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", b"1000"),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 6443),
    }
    with caplog.at_level(logging.DEBUG, logger="minikubelet"):
        await asyncio.wait_for(app(scope, receive, send), 5)
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert problems == []
    assert any("went away" in r.getMessage() for r in caplog.records)
    assert store.list("Pod")[0] == []


# --- writes are computed outside the store's lock ---------------------------------------------------------------------


def test_a_patch_computed_while_the_kubelet_writes_is_applied_again_to_the_latest_object(store: Store) -> None:
    """The work of an update runs on a copy, outside the store's lock (the event loop may need the store meanwhile);
    a write that lands in between is no conflict: the patch goes again onto the latest object, as GuaranteedUpdate
    retries, and the status written in between is kept."""
    registry = Registry(store, clock=lambda: NOW)
    pods = RESOURCES["pods"]
    registry.create(pods, "default", make_pod(metadata={"name": "echo"}))
    real_get = store.get
    reads = 0

    def get(kind: str, namespace: str, name: str) -> Json:
        nonlocal reads
        reads += 1
        current = real_get(kind, namespace, name)
        if reads == 1:  # the kubelet writes a status while the patch is being computed
            store.update_with("Pod", "default", "echo", lambda pod: {**pod, "status": {**pod["status"], "phase": "Running"}})
        return current

    store.get = get  # type: ignore[method-assign]
    try:
        patched, _, _ = registry.patch(pods, "default", "echo", "merge", {"metadata": {"labels": {"a": "b"}}})
    finally:
        store.get = real_get  # type: ignore[method-assign]
    assert reads == 2
    assert (patched["metadata"]["labels"], patched["status"]["phase"]) == ({"a": "b"}, "Running")
    assert store.get("Pod", "default", "echo") == patched
