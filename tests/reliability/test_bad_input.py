"""Bad input, against a real node: broken manifests, hostile request bodies and oversized uploads.

- Every manifest of `tests/data/invalid/` (over a hundred: syntax errors, wrong types, missing and unknown fields,
  bad names and ports, duplicates, bad probes, quantities and enums, YAML bombs, deep nesting, empty files) is
  refused by `minikubelet apply -f`: exit 1, the first line `expected.txt` gives, one line per error (each names
  its file), no traceback, nothing stored. Each file runs through the CLI in this process (fast), and the whole
  directory once through a real `minikubelet` process; huge and binary files are made at test time.
- The API server refuses the same documents when they are sent to it directly, and answers random JSON with a
  Status, never an internal error (hypothesis, in process, as tests/unit/apiserver does).
- A body over MAX_BODY_BYTES gets 413 without reading it all: the daemon's memory does not grow with uploads.
"""

from __future__ import annotations

import json
import os
import random
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nodes import Node, running_node
from raw_api import daemon_pid, http_client, vm_rss_kib
from typer.testing import CliRunner

from minikubelet.api.loading import MAX_MANIFEST_BYTES, YAML_LOADER, load_text
from minikubelet.apiserver.app import MAX_BODY_BYTES, build_app
from minikubelet.apiserver.registry import Registry
from minikubelet.cli.main import app
from minikubelet.kubelet import nodestatus
from minikubelet.store import Store

with warnings.catch_warnings():
    # starlette 1.x would rather have httpx2; httpx is what this project has.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

CORPUS_DIR = Path(__file__).resolve().parents[1] / "data" / "invalid"
EXPECTED_FILE = CORPUS_DIR / "expected.txt"
PODS = "/api/v1/namespaces/default/pods"
NO_OBJECTS = "error: no objects passed to apply"


def _expected() -> dict[str, str]:
    table = {}
    for line in EXPECTED_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, first_line = line.split("\t", 1)
            table[name] = first_line
    return table


EXPECTED = _expected()
CORPUS = sorted(p for p in CORPUS_DIR.iterdir() if p != EXPECTED_FILE)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from running_node(tmp_path_factory.mktemp("bad-input-home"))


def stored_pods(node: Node) -> list[str]:
    return [pod["metadata"]["name"] for pod in node.api("/api/v1/pods")["items"]]


def assert_refused(stderr: str, source: str, expected_first: str) -> None:
    """The first line is the expected one; every line is one whole error naming its source; no traceback."""
    lines = stderr.splitlines()
    assert lines, "no message at all"
    first = expected_first if expected_first.startswith("error: ") else f"{source}: {expected_first}"
    assert lines[0] == first
    for line in lines:
        assert line == NO_OBJECTS or line.startswith(f"{source}: "), f"not one line per error: {line!r}"
    assert "Traceback" not in stderr


# --- the corpus ---------------------------------------------------------------------------------------------------


def test_the_corpus_is_large_and_every_file_has_its_expected_message() -> None:
    assert len(CORPUS) >= 50
    assert sorted(EXPECTED) == [p.name for p in CORPUS]


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_apply_refuses_a_broken_manifest(node: Node, path: Path) -> None:
    result = CliRunner().invoke(app, ["apply", "-f", str(path)], env={"MINIKUBELET_HOME": str(node.home)})
    assert isinstance(result.exception, SystemExit), result.exception  # anything else would be a traceback
    assert result.exit_code == 1
    assert result.stdout == ""
    assert_refused(result.stderr, str(path), EXPECTED[path.name])
    assert stored_pods(node) == []


def test_a_real_process_refuses_the_whole_corpus_and_stores_nothing(node: Node) -> None:
    """One `minikubelet apply -f DIR` over every file: a valid document beside a broken one is not sent either."""
    result = node.cli("apply", "-f", str(CORPUS_DIR), timeout=60)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    sources = {f"{p}: " for p in CORPUS}
    assert all(any(line.startswith(s) for s in sources) for line in lines), lines
    for path in CORPUS:
        if not EXPECTED[path.name].startswith("error: "):  # an empty file has nothing to say among others
            own = [line for line in lines if line.startswith(f"{path}: ")]
            assert own and own[0] == f"{path}: {EXPECTED[path.name]}"
    assert stored_pods(node) == []


def _huge_manifest() -> str:
    padding = "x" * 1024
    lines = [f"    k{i}: {padding}" for i in range(MAX_MANIFEST_BYTES // 1024 + 16)]
    return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: huge\n  annotations:\n" + "\n".join(lines) + "\n"


def _big_annotations() -> str:
    value = "y" * (300 * 1024)
    return (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: annotated\n  annotations:\n"
        f"    note: {value}\nspec:\n  containers:\n    - name: app\n      image: minikubelet.local/busybox:1.35\n"
    )


def _garbage() -> bytes:
    rng = random.Random(20240521)  # the same garbage every run
    return b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(64 * 1024))


GENERATED: dict[str, tuple[str, Any, str]] = {
    # name: (file name, content, expected first line after the source)
    "huge": ("huge.yml", _huge_manifest, "too large: {size} bytes, the limit is 3145728"),
    "huge-json": (
        "huge.json",
        lambda: json.dumps({"apiVersion": "v1", "blob": "z" * MAX_MANIFEST_BYTES}),
        "too large: {size} bytes, the limit is 3145728",
    ),
    "annotations-over-256k": (
        "annotated.yml",
        _big_annotations,
        'The Pod "annotated" is invalid: metadata.annotations: Too long: must have at most 262144 bytes',
    ),
    "binary-garbage": ("garbage.yml", _garbage, "not UTF-8 text (byte 0 is 0x89): is this a manifest?"),
}


@pytest.mark.parametrize("case", sorted(GENERATED))
def test_huge_and_binary_files_are_refused_by_a_real_process(node: Node, tmp_path: Path, case: str) -> None:
    name, make, expected = GENERATED[case]
    content = make()
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    result = node.cli("apply", "-f", str(path), timeout=60)
    assert result.returncode == 1
    assert result.stdout == ""
    assert_refused(result.stderr, str(path), expected.format(size=path.stat().st_size))
    assert stored_pods(node) == []


def test_a_huge_manifest_on_stdin_is_refused(node: Node) -> None:
    result = node.cli("apply", "-f", "-", stdin=_huge_manifest(), timeout=60)
    assert result.returncode == 1
    assert_refused(result.stderr, "<stdin>", f"too large: {MAX_MANIFEST_BYTES + 1} bytes, the limit is 3145728")
    assert stored_pods(node) == []


# --- the same documents sent straight to the API --------------------------------------------------------------------


def _documents(path: Path) -> list[Any] | None:
    """The documents a corpus file holds, or None when it does not parse (or parses into a YAML bomb)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        documents = [json.loads(text)] if path.suffix == ".json" else list(yaml.load_all(text, Loader=YAML_LOADER))
    except (ValueError, yaml.YAMLError, RecursionError):
        return None
    return [d for d in documents if isinstance(d, dict)]


def _valid(document: dict[str, Any]) -> bool:
    return not load_text(json.dumps(document), "doc.json", fmt="json").errors


def test_the_api_refuses_what_apply_refuses(node: Node) -> None:
    """POSTed as JSON, every broken document gets a 4xx Status; the documents too costly to parse (alias bombs,
    deep nesting) are sent as they are, as a server-side apply body, and refused as fast."""
    refused = 0
    with http_client(node) as client:
        for path in CORPUS:
            text = path.read_text(encoding="utf-8-sig")
            if any(marker in EXPECTED[path.name] for marker in ("too many values", "nested more than")):
                response = client.patch(
                    f"{PODS}/bad",
                    content=text.encode(),
                    params={"fieldManager": "test"},
                    headers={"Content-Type": "application/apply-patch+yaml"},
                )
                assert response.status_code == 400, (path.name, response.text)
                refused += 1
                continue
            for document in _documents(path) or []:
                if _valid(document) or "List" in str(document.get("kind")):
                    continue  # a good item beside a bad one; a List is a client-side notion
                response = client.post(PODS, json=document, params={"fieldValidation": "Strict"})  # as kubectl sends
                assert 400 <= response.status_code < 500, (path.name, response.status_code, response.text)
                assert response.json()["kind"] == "Status"
                refused += 1
    assert refused >= 80
    assert stored_pods(node) == []


# --- random JSON at the in-process API -------------------------------------------------------------------------------

TOKEN = "fuzz-token"
NODE_NAME = "fuzz-node"
STRATEGIC = "application/strategic-merge-patch+json"
PATCH_TYPES = [STRATEGIC, "application/merge-patch+json", "application/json-patch+json", "application/apply-patch+yaml"]
TARGET = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "target", "labels": {"app": "fuzz"}},
    "spec": {"containers": [{"name": "app", "image": "minikubelet.local/busybox:1.35"}]},
}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("fuzz-store")
    with Store(home / "state.db") as store:
        for name in ("default", "kube-system"):
            store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "status": {"phase": "Active"}})
        store.create(nodestatus.node_object(NODE_NAME, now=datetime.now(UTC), state_dir=home))
        client = TestClient(build_app(Registry(store), token=TOKEN), headers={"Authorization": f"Bearer {TOKEN}"})
        with client:
            yield client


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=16),
    st.sampled_from(["", "-1", "1e999999999", "64Mi", "Always", "v1", "Pod", "/", "$patch", "replace", "delete", "..", "\x00"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=24,
)
KEYS = [
    "apiVersion", "kind", "metadata", "spec", "status", "name", "namespace", "labels", "annotations", "resourceVersion",
    "uid", "containers", "initContainers", "image", "ports", "containerPort", "hostPort", "securityContext",
    "privileged", "hostNetwork", "hostPID", "volumes", "hostPath", "path", "livenessProbe", "exec", "command",
    "resources", "limits", "cpu", "$patch", "$retainKeys", "$setElementOrder/containers", "target", "op", "value", "from",
]  # fmt: skip


def shaped(depth: int) -> st.SearchStrategy[Any]:
    if depth == 0:
        return json_values
    inner = shaped(depth - 1)
    return st.one_of(
        json_values,
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
        st.lists(inner, max_size=3),
    )


bodies = st.one_of(
    shaped(4),
    st.builds(lambda extra: {**TARGET, **extra}, st.dictionaries(st.sampled_from(KEYS), shaped(3), max_size=3)),
    st.lists(
        st.fixed_dictionaries(
            {
                "op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test"]),
                "path": st.sampled_from(
                    ["/metadata/labels/x", "/spec/containers/0/image", "/spec", "", "/a~2b", "/spec/containers/-"]
                ),
                "value": json_values,
            }
        ),
        max_size=3,
    ),
)
REQUESTS = [
    ("POST", PODS, "application/json"),
    ("PUT", f"{PODS}/target", "application/json"),
    *[("PATCH", f"{PODS}/target", kind) for kind in PATCH_TYPES],
    ("PUT", f"{PODS}/target/status", "application/json"),
    ("PATCH", f"{PODS}/target/status", "application/merge-patch+json"),
    ("POST", f"{PODS}/target/binding", "application/json"),
    ("DELETE", f"{PODS}/ghost", "application/json"),
    ("POST", "/api/v1/namespaces", "application/json"),
    ("PATCH", f"/api/v1/nodes/{NODE_NAME}", STRATEGIC),
]
FUZZ = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


def check_answer(response: httpx.Response, content_type: str) -> None:
    if response.status_code < 400:
        return
    body = response.json()
    assert body["kind"] == "Status" and body["status"] == "Failure", body
    assert body["code"] == response.status_code and body["message"], body
    if response.status_code >= 500:
        # The one 500 on purpose: server-side apply refuses unknown fields as a plain error, as Kubernetes does.
        assert content_type == "application/apply-patch+yaml", body
        assert body["message"].startswith("failed to create typed patch object"), body


@FUZZ
@given(request=st.sampled_from(REQUESTS), body=bodies)
def test_random_json_bodies_get_a_status_never_an_internal_error(
    api: TestClient, request: tuple[str, str, str], body: Any
) -> None:
    api.post(PODS, json=TARGET)  # whatever the previous example did to it (409 while it exists)
    method, path, content_type = request
    response = api.request(method, path, content=json.dumps(body).encode(), headers={"Content-Type": content_type})
    check_answer(response, content_type)


@FUZZ
@given(request=st.sampled_from(REQUESTS), raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_random_bytes_get_a_status_never_an_internal_error(api: TestClient, request: tuple[str, str, str], raw: bytes) -> None:
    method, path, content_type = request
    response = api.request(method, path, content=raw, headers={"Content-Type": content_type})
    check_answer(response, content_type)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="json-nested-100000-deep"),
        pytest.param(b'{"a":' * 500 + b"1" + b"}" * 500, id="json-nested-500-deep"),
        pytest.param(
            json.dumps(
                {**TARGET, "metadata": {"name": "deep", "labels": {"a": "b"}}, "spec": {"x": [[[[[[[[[[]]]]]]]]]]}}
            ).encode(),
            id="unknown-nested",
        ),
        pytest.param(
            b'{"metadata":{"name":"q"},"spec":{"containers":[{"name":"a","image":"i","resources":{"limits":{"cpu":"1e999999999"}}}]}}',
            id="huge-quantity",
        ),
    ],
)
def test_hostile_json_is_a_bad_request(api: TestClient, body: bytes) -> None:
    response = api.post(PODS, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422), response.text
    assert response.json()["kind"] == "Status"


def test_a_yaml_alias_bomb_in_an_apply_body_is_refused_before_it_expands(api: TestClient) -> None:
    levels = [f"    - &l{i} [" + ", ".join([f"*l{i - 1}"] * 10 if i else ["x"] * 10) + "]" for i in range(9)]  # 10^9 strings
    bomb = "apiVersion: v1\nkind: Pod\nmetadata: {name: bomb}\nspec:\n  containers:\n  - name: a\n    image: i\n    args:\n"
    response = api.patch(
        f"{PODS}/bomb",
        content=(bomb + "\n".join(levels) + "\n").encode(),
        params={"fieldManager": "test"},
        headers={"Content-Type": "application/apply-patch+yaml"},
    )
    assert response.status_code == 400
    assert "too many values" in response.json()["message"]


# --- oversized uploads ----------------------------------------------------------------------------------------------


def test_an_oversized_body_is_413_in_process(api: TestClient) -> None:
    big = b'{"metadata": {"name": "big", "annotations": {"a": "' + b"x" * MAX_BODY_BYTES + b'"}}}'
    declared = api.post(PODS, content=big, headers={"Content-Type": "application/json"})
    pieces = iter([big[i : i + 65536] for i in range(0, len(big), 65536)])
    chunked = api.post(PODS, content=pieces, headers={"Content-Type": "application/json"})
    for response in (declared, chunked):
        assert response.status_code == 413
        assert response.json()["reason"] == "RequestEntityTooLarge"


def _chunks(total: int, size: int = 256 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


def test_oversized_uploads_are_refused_without_the_daemon_growing(node: Node) -> None:
    """Ten 16 MiB uploads (half of them chunked, with no length announced): each is 413, and the daemon's RSS
    grows by far less than one of them (it reads at most MAX_BODY_BYTES of a body, then stops)."""
    pid = daemon_pid(node)
    upload = 16 * 1024 * 1024
    with http_client(node, timeout=60) as client:
        client.get(PODS)  # warm up: TLS and the first request's allocations happen before we measure
        before = vm_rss_kib(pid)
        for i in range(10):
            headers = {"Content-Type": "application/json"}
            if i % 2:
                response = client.post(PODS, content=_chunks(upload), headers=headers)
            else:
                response = client.post(PODS, content=b"x" * upload, headers=headers)
            assert response.status_code == 413, response.text
            assert response.json()["reason"] == "RequestEntityTooLarge"
        after = vm_rss_kib(pid)
    assert after - before < 48 * 1024, f"the daemon grew by {(after - before) // 1024} MiB"
    assert os.path.exists(f"/proc/{pid}")
    assert stored_pods(node) == []
