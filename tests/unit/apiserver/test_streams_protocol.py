"""exec and attach over WebSocket (`v5.channel.k8s.io`), in process: the frames, the Status on channel 3, the
refusals before and after the handshake, as kubectl 1.32 needs them (kubectl-api.md item 8).

The app is the daemon's (`build_app` with the kubelet's `open_exec`/`open_attach`) on a real store and the
in-memory runtime, whose sessions echo stdin to stdout and exit with `exec_results`. The pod is synced once
by the kubelet, so its container runs in the fake engine. starlette's TestClient speaks the WebSocket side.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from starlette.websockets import WebSocketDisconnect

from minikubelet.apiserver import streams
from minikubelet.apiserver.app import build_app
from minikubelet.apiserver.registry import RESOURCES, Registry
from minikubelet.errors import ContainerRuntimeError
from minikubelet.kubelet.kubelet import Kubelet
from minikubelet.kubelet.streaming import open_attach, open_exec
from minikubelet.recorder import EventRecorder
from minikubelet.runtime.fake import FakeRuntime
from minikubelet.runtime.interface import ExecResult, PodRef
from minikubelet.store import Store

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient, WebSocketDenialResponse

TOKEN = "test-token"
NODE = "node-1"
PAUSE = "minikubelet.local/pause:3.10"
BUSYBOX = "minikubelet.local/busybox:1.35"
V5 = "v5.channel.k8s.io"
PODS = "/api/v1/namespaces/default/pods"
Frames = list[tuple[int, bytes]]


class Node:
    """A store, the fake engine, a kubelet, and the API server's app in a TestClient."""

    def __init__(self, tmp_path: Path) -> None:
        self.store = Store(tmp_path / "state.db")
        self.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
        self.registry = Registry(self.store)
        self.runtime = FakeRuntime(present_images=[PAUSE, BUSYBOX])
        self.kubelet = Kubelet(
            self.store,
            self.runtime,
            node_name=NODE,
            pod_infra_image=PAUSE,
            state_dir=tmp_path,
            recorder=EventRecorder(self.store, component="kubelet", host=NODE),
        )
        app = build_app(
            self.registry,
            token=TOKEN,
            exec_streams=functools.partial(open_exec, self.kubelet),
            attach_streams=functools.partial(open_attach, self.kubelet),
        )
        self.client = TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"})

    def pod(self, name: str, *containers: str, restart: str = "Always", stdin: bool = False) -> PodRef:
        """A pod bound to this node, synced once: its containers run."""
        specs = [{"name": c, "image": BUSYBOX, "stdin": stdin} for c in containers or ("main",)]
        body = {"metadata": {"name": name}, "spec": {"restartPolicy": restart, "containers": specs}}
        created, _ = self.registry.create(RESOURCES["pods"], "default", body)
        self.registry.bind("default", name, {"target": {"name": NODE}})
        ref = PodRef(created["metadata"]["uid"], name, "default")
        asyncio.run(self.kubelet.sync(ref))
        return ref


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    made = Node(tmp_path)
    with made.client:
        yield made
    made.store.close()


def session(node: Node, path: str, **query: Any) -> Any:
    """`websocket_connect` to `path` with kubectl's query and subprotocol."""
    subprotocols = query.pop("subprotocols", [V5])
    words = [f"command={word}" for word in query.pop("command", [])]
    words += [f"{key}={value}" for key, value in query.items()]
    return node.client.websocket_connect(f"{path}?{'&'.join(words)}", subprotocols=subprotocols)


def drain(ws: Any) -> tuple[Frames, dict[str, Any] | None, int]:
    """Every data frame until the server closes, the Status it sent, and the close code."""
    frames: Frames = []
    status = None
    while True:
        message = ws.receive()
        if message["type"] == "websocket.close":
            return frames, status, message.get("code", 1000)
        data = message["bytes"]
        if data[0] == streams.STATUS:
            status = json.loads(data[1:])
        else:
            frames.append((data[0], data[1:]))


# --- the messages ---------------------------------------------------------------------------------------------


def test_a_frame_is_the_channel_byte_then_the_data() -> None:
    assert streams.frame(streams.STDOUT, b"bin\n") == b"\x01bin\n"
    assert streams.frame(streams.CLOSE, bytes([streams.STDIN])) == b"\xff\x00"
    assert (streams.STDIN, streams.STDERR, streams.STATUS, streams.RESIZE) == (0, 2, 3, 4)


def test_status_bodies_are_what_kubectl_decodes() -> None:
    assert streams.success_status() == {"metadata": {}, "status": "Success"}
    assert streams.exit_status(["sh", "-c", "exit 3"], 3) == {
        "metadata": {},
        "status": "Failure",
        "message": "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    }
    failure = streams.failure_status(ContainerRuntimeError("the engine is gone"))
    assert (failure["status"], failure["reason"], failure["code"], failure["message"]) == (
        "Failure",
        "InternalError",
        500,
        "the engine is gone",
    )


# --- exec -----------------------------------------------------------------------------------------------------


def test_exec_streams_stdout_then_success_then_a_normal_close(node: Node) -> None:
    node.pod("echo")
    node.runtime.exec_results[("ls", "/")] = ExecResult(exit_code=0, output=b"bin\netc\n")
    with session(node, f"{PODS}/echo/exec", command=["ls", "/"], container="main", stdout="true", stderr="true") as ws:
        assert ws.accepted_subprotocol == V5
        frames, status, code = drain(ws)
    assert frames == [(streams.STDOUT, b"bin\netc\n")]
    assert status == {"metadata": {}, "status": "Success"}
    assert code == 1000


def test_a_non_zero_exit_is_a_non_zero_exit_code_status(node: Node) -> None:
    node.pod("echo")
    node.runtime.exec_results[("sh", "-c", "exit 3")] = ExecResult(exit_code=3, output=b"")
    with session(node, f"{PODS}/echo/exec", command=["sh", "-c", "exit%203"], stdout="true") as ws:
        _, status, _ = drain(ws)
    assert status == streams.exit_status(["sh", "-c", "exit 3"], 3)


def test_stdin_reaches_the_process_and_its_close_ends_it(node: Node) -> None:
    node.pod("echo")
    with session(node, f"{PODS}/echo/exec", command=["cat"], stdin="true", stdout="true", stderr="true") as ws:
        ws.send_bytes(b"\x00hello\n")
        ws.send_bytes(b"\xff\x00")  # v5: the end of stdin
        frames, status, _ = drain(ws)
    assert frames == [(streams.STDOUT, b"hello\n")]
    assert status == {"metadata": {}, "status": "Success"}
    assert node.runtime.sessions[-1].written == [b"hello\n"] and node.runtime.sessions[-1].stdin_closed


def test_a_tty_session_follows_resizes(node: Node) -> None:
    node.pod("echo")
    with session(node, f"{PODS}/echo/exec", command=["sh"], stdin="true", stdout="true", tty="true") as ws:
        ws.send_bytes(b'\x04{"Width":100,"Height":40}')
        ws.send_bytes(b"\x04not json")  # ignored
        ws.send_bytes(b'\x04{"Width":120,"Height":50}')
        ws.send_bytes(b"\xff\x00")
        drain(ws)
    fake = node.runtime.sessions[-1]
    assert (fake.tty, fake.resizes) == (True, [(100, 40), (120, 50)])


def test_v4_is_spoken_when_offered_alone_and_v5_is_preferred(node: Node) -> None:
    node.pod("echo")
    with session(node, f"{PODS}/echo/exec", command=["true"], stdout="true", subprotocols=["v4.channel.k8s.io"]) as ws:
        assert ws.accepted_subprotocol == "v4.channel.k8s.io"
        assert drain(ws)[1] == {"metadata": {}, "status": "Success"}
    offered = ["v4.channel.k8s.io", "v5.channel.k8s.io"]
    with session(node, f"{PODS}/echo/exec", command=["true"], stdout="true", subprotocols=offered) as ws:
        assert ws.accepted_subprotocol == V5
        drain(ws)


def test_no_channel_protocol_offered_is_refused(node: Node) -> None:
    node.pod("echo")
    with pytest.raises(WebSocketDisconnect) as refused, session(node, f"{PODS}/echo/exec", command=["ls"], subprotocols=[]):
        pass
    assert refused.value.code == 1002


# --- refusals -------------------------------------------------------------------------------------------------


def denial(node: Node, path: str, **query: Any) -> dict[str, Any]:
    with pytest.raises(WebSocketDenialResponse) as denied, session(node, path, **query):
        pass
    body: dict[str, Any] = denied.value.json()
    assert denied.value.status_code == body["code"]
    return body


def test_a_missing_pod_is_refused_before_the_handshake_with_a_not_found_status(node: Node) -> None:
    body = denial(node, f"{PODS}/nope/exec", command=["ls"], stdout="true")
    assert (body["kind"], body["reason"], body["message"]) == ("Status", "NotFound", 'pods "nope" not found')
    # kubectl's SPDY retry (a plain POST) gets the same Status, which it prints as "Error from server (NotFound)".
    retry = node.client.post(f"{PODS}/nope/exec?command=ls&stdout=true", headers={"Upgrade": "SPDY/3.1"})
    assert (retry.status_code, retry.json()["reason"]) == (404, "NotFound")


def test_the_container_must_be_named_when_there_are_several(node: Node) -> None:
    node.pod("pair", "a", "b")
    body = denial(node, f"{PODS}/pair/exec", command=["ls"], stdout="true")
    assert (body["code"], body["message"]) == (400, "a container name must be specified for pod pair, choose one of: [a b]")
    body = denial(node, f"{PODS}/pair/exec", command=["ls"], stdout="true", container="c")
    assert body["message"] == "container c is not valid for pod pair"
    with session(node, f"{PODS}/pair/exec", command=["true"], stdout="true", container="b") as ws:
        assert drain(ws)[1] == {"metadata": {}, "status": "Success"}
    assert node.runtime.sessions[-1].record.name == "b"


def test_a_request_for_nothing_is_a_bad_request(node: Node) -> None:
    node.pod("echo")
    assert denial(node, f"{PODS}/echo/exec", stdout="true")["message"] == "you must specify at least 1 command"
    body = denial(node, f"{PODS}/echo/exec", command=["ls"])
    assert body["message"] == "you must specify at least one of stdin, stdout, stderr"


def test_spdy_is_answered_with_a_status_saying_so(node: Node) -> None:
    node.pod("echo")
    response = node.client.post(f"{PODS}/echo/exec?command=ls&stdout=true", headers={"Upgrade": "SPDY/3.1"})
    assert response.status_code == 400
    assert "over WebSocket (v5.channel.k8s.io) only, not SPDY" in response.json()["message"]


def test_a_container_that_is_not_running_is_refused_in_the_stream(node: Node) -> None:
    ref = node.pod("echo")
    node.runtime.finish(node.runtime.by_name(ref, "main").id, 0)  # the kubelet has not seen it yet
    with session(node, f"{PODS}/echo/exec", command=["ls"], stdout="true") as ws:
        frames, status, code = drain(ws)
    assert (frames, code) == ([], 1000)
    assert status is not None
    assert (status["status"], status["reason"]) == ("Failure", "BadRequest")
    assert status["message"] == 'container "main" in pod "echo" is not running'


def test_a_completed_pod_is_refused_in_the_stream(node: Node) -> None:
    ref = node.pod("done", restart="Never")
    node.runtime.finish(node.runtime.by_name(ref, "main").id, 0)
    asyncio.run(node.kubelet.sync(ref))
    with session(node, f"{PODS}/done/exec", command=["ls"], stdout="true") as ws:
        _, status, _ = drain(ws)
    assert status is not None
    assert status["message"] == "cannot exec into a container in a completed pod; current phase is Succeeded"


# --- attach ---------------------------------------------------------------------------------------------------


def test_attach_streams_only_new_output_and_always_ends_in_success(node: Node) -> None:
    """As a CRI attach: what the container wrote before is not sent again (kubectl 1.37's `run -i` prints
    the logs so far itself, before it attaches)."""
    ref = node.pod("t", stdin=True)
    node.runtime.write_logs(node.runtime.by_name(ref, "main").id, b"/ # ")
    with session(node, f"{PODS}/t/attach", container="main", stdin="true", stdout="true", stderr="true") as ws:
        ws.send_bytes(b"\x00ls\n")
        ws.send_bytes(b"\xff\x00")
        frames, status, _ = drain(ws)
    assert frames == [(streams.STDOUT, b"ls\n")]
    assert status == {"metadata": {}, "status": "Success"}  # an attach reports no exit code (as the kubelet)
    assert node.runtime.sessions[-1].argv == ()


# --- the pump, with a scripted session ------------------------------------------------------------------------


class Scripted:
    """A session that says what it was given to say, then fails or exits."""

    def __init__(self, output: Frames, *, exit_code: int = 0, error: Exception | None = None) -> None:
        self.output = list(output)
        self.exit_code = exit_code
        self.error = error
        self.closed = False

    async def read(self) -> tuple[int, bytes] | None:
        if self.output:
            return self.output.pop(0)
        if self.error is not None:
            raise self.error
        return None

    async def write(self, data: bytes) -> None: ...

    async def close_stdin(self) -> None: ...

    async def resize(self, width: int, height: int) -> None: ...

    async def wait(self) -> int:
        return self.exit_code

    async def close(self) -> None:
        self.closed = True


@contextlib.contextmanager
def scripted_client(tmp_path: Path, scripted: Scripted) -> Iterator[TestClient]:
    """A TestClient on an app whose exec and attach give `scripted`, for a pod "p"."""
    tmp_path.mkdir(exist_ok=True)
    with Store(tmp_path / "state.db") as store:
        store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
        registry = Registry(store)
        body = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "main", "image": BUSYBOX}]}}
        registry.create(RESOURCES["pods"], "default", body)

        async def source(namespace: str, name: str, **_: Any) -> Scripted:
            return scripted

        app = build_app(registry, token=TOKEN, exec_streams=source, attach_streams=source)
        with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            yield client


def test_stdout_and_stderr_go_to_their_channels_only_when_asked_for(tmp_path: Path) -> None:
    output = [(streams.STDOUT, b"out"), (streams.STDERR, b"err")]
    for stderr, expected in (("true", output), ("false", output[:1])):
        scripted = Scripted(list(output))
        url = f"{PODS}/p/exec?command=x&stdout=true&stderr={stderr}"
        with scripted_client(tmp_path / stderr, scripted) as client, client.websocket_connect(url, subprotocols=[V5]) as ws:
            frames, _, _ = drain(ws)
        assert frames == expected
        assert scripted.closed


def test_an_engine_failure_mid_stream_is_an_internal_error_status(tmp_path: Path) -> None:
    scripted = Scripted([(streams.STDOUT, b"partial")], error=ContainerRuntimeError("the engine's stream broke"))
    with (
        scripted_client(tmp_path, scripted) as client,
        client.websocket_connect(f"{PODS}/p/exec?command=x&stdout=true", subprotocols=[V5]) as ws,
    ):
        frames, status, code = drain(ws)
    assert frames == [(streams.STDOUT, b"partial")]
    assert status is not None and (status["reason"], status["message"]) == ("InternalError", "the engine's stream broke")
    assert code == 1000
