"""Every exception class of `docker.errors` becomes one of ours in `_docker_errors()`: none leaks to the kubelet.

The classes are found by inspecting the module, so an SDK upgrade adding one fails here until it is mapped.
"""

from __future__ import annotations

import inspect
import socket
from typing import Any

import docker.errors
import pytest
import requests

from minikubelet.errors import ContainerNotFoundError, ContainerRuntimeError, ImagePullError, RuntimeUnavailableError
from minikubelet.runtime.docker import DockerRuntime, _docker_errors, translate_error
from minikubelet.runtime.interface import LABEL_INSTANCE, LABEL_UID, ContainerID, RuntimeEvent

DOCKER_ERRORS = sorted(
    (
        cls
        for _, cls in inspect.getmembers(docker.errors, inspect.isclass)
        if issubclass(cls, BaseException) and cls.__module__ == "docker.errors"
    ),
    key=lambda cls: cls.__name__,
)


def api_response(status: int, message: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.url = "http+docker://localhost/v1.41/containers/x/json"
    response.reason = "Not Found" if status == 404 else "Server Error"
    response._content = f'{{"message": "{message}"}}'.encode()
    return response


def instance_of(cls: type[BaseException]) -> BaseException:
    """An instance built as the SDK builds it: its constructor's parameters all get a string (or a response)."""
    if issubclass(cls, docker.errors.APIError):
        status = 404 if issubclass(cls, docker.errors.NotFound) else 500
        api_error: Any = cls  # the SDK is untyped
        exc: BaseException = api_error(
            "boom", response=api_response(status, "the engine says no"), explanation="the engine says no"
        )
        return exc
    parameters = [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    args: list[Any] = [f"<{p.name}>" for p in positional]
    if not positional and all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters):
        args = ["boom"]
    return cls(*args)


def translated(exc: BaseException, *, pull: bool = False) -> ContainerRuntimeError:
    with pytest.raises(ContainerRuntimeError) as caught, _docker_errors(pull=pull):
        raise exc
    assert caught.value.__cause__ is exc
    return caught.value


def test_the_sdk_still_has_the_classes_we_know() -> None:
    names = {cls.__name__ for cls in DOCKER_ERRORS}
    assert {"APIError", "NotFound", "ImageNotFound", "DockerException", "ContainerError", "StreamParseError"} <= names


@pytest.mark.parametrize("cls", DOCKER_ERRORS, ids=lambda cls: cls.__name__)
def test_every_docker_error_is_translated(cls: type[BaseException]) -> None:
    exc = instance_of(cls)
    assert isinstance(translated(exc), ContainerRuntimeError)
    assert isinstance(translated(exc, pull=True), ContainerRuntimeError)
    assert translate_error(exc) is not None


def test_api_errors_carry_the_engines_message() -> None:
    exc = docker.errors.APIError("500 Server Error", response=api_response(500, "x"), explanation="driver failed")
    error = translated(exc)
    assert type(error) is ContainerRuntimeError
    assert str(error) == "Error response from daemon: driver failed"


def test_not_found_is_container_not_found_but_image_not_found_is_not() -> None:
    gone = docker.errors.NotFound("404", response=api_response(404, "No such container: x"), explanation="No such container: x")
    assert type(translated(gone)) is ContainerNotFoundError
    no_image = docker.errors.ImageNotFound("404", response=api_response(404, "No such image: x"), explanation="No such image: x")
    assert type(translated(no_image)) is ContainerRuntimeError
    assert type(translated(no_image, pull=True)) is ImagePullError


def test_pull_errors_are_image_pull_errors() -> None:
    message = 'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host'
    exc = docker.errors.APIError("500", response=api_response(500, message), explanation=message)
    error = translated(exc, pull=True)
    assert type(error) is ImagePullError and message in str(error)
    assert type(translated(docker.errors.InvalidRepository("bad name"), pull=True)) is ImagePullError


@pytest.mark.parametrize(
    "exc",
    [
        requests.exceptions.ConnectionError("Connection aborted"),
        requests.exceptions.ReadTimeout("read timed out"),
        docker.errors.DockerException("Error while fetching server API version"),
        docker.errors.TLSParameterError("bad TLS"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_connection_failures_are_runtime_unavailable(exc: BaseException) -> None:
    assert type(translated(exc)) is RuntimeUnavailableError


def test_our_errors_and_bugs_pass_through() -> None:
    ours = ImagePullError("already ours")
    with pytest.raises(ImagePullError) as caught, _docker_errors():
        raise ours
    assert caught.value is ours
    with pytest.raises(KeyError), _docker_errors():
        raise KeyError("a bug stays a bug")


# --- errors that reach the kubelet through DockerRuntime, without an engine -------------------------------------


class ScriptedStream:
    """Stands for the SDK's CancellableStream: yields `items`, then raises `error` (or ends)."""

    def __init__(self, items: list[Any], error: BaseException | None = None) -> None:
        self._items = iter(items)
        self._error = error
        self.closed = False

    def __iter__(self) -> ScriptedStream:
        return self

    def __next__(self) -> Any:
        if self.closed:
            raise StopIteration
        try:
            return next(self._items)
        except StopIteration:
            if self._error is not None:
                raise self._error from None
            raise

    def close(self) -> None:
        self.closed = True


class ScriptedClient:
    """Stands for DockerClient: `client.api.events(...)` returns the scripted stream."""

    def __init__(self, stream: ScriptedStream) -> None:
        self.api = self
        self.stream = stream
        self.options: dict[str, Any] = {}
        self.closed = False

    def events(self, **options: Any) -> ScriptedStream:
        self.options = options
        return self.stream

    def close(self) -> None:
        self.closed = True


def start_event(container_id: str, action: str = "start") -> dict[str, Any]:
    attributes = {LABEL_UID: "uid-1", "image": "busybox"}
    return {"Type": "container", "Action": action, "Actor": {"ID": container_id, "Attributes": attributes}}


def scripted_runtime(stream: ScriptedStream) -> tuple[DockerRuntime, ScriptedClient]:
    client = ScriptedClient(stream)
    return DockerRuntime("unit", client_factory=lambda timeout: client), client


async def test_events_end_with_runtime_unavailable_when_the_engine_ends_the_stream() -> None:
    runtime, client = scripted_runtime(
        ScriptedStream([start_event("c1"), start_event("c1", "exec_start: sh"), start_event("c1", "die")])
    )
    seen: list[RuntimeEvent] = []
    with pytest.raises(RuntimeUnavailableError, match="ended its event stream"):
        async for event in runtime.events():
            seen.append(event)
    assert seen == [RuntimeEvent(ContainerID("c1"), "uid-1", "start"), RuntimeEvent(ContainerID("c1"), "uid-1", "die")]
    assert client.options["filters"]["label"] == [f"{LABEL_INSTANCE}=unit"] and client.stream.closed
    await runtime.close()
    assert client.closed


async def test_a_broken_event_stream_raises_runtime_unavailable() -> None:
    runtime, _ = scripted_runtime(ScriptedStream([], requests.exceptions.ConnectionError("Connection reset by peer")))
    with pytest.raises(RuntimeUnavailableError) as failed:
        await anext(runtime.events())
    assert isinstance(failed.value.__cause__, requests.exceptions.ConnectionError)
    await runtime.close()


async def test_an_engine_that_does_not_answer_is_runtime_unavailable() -> None:
    with socket.socket() as probe:  # a port nobody listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def client_factory(timeout: float) -> docker.DockerClient:
        # TCP, not a missing unix socket: the SDK's UnixHTTPConnection.connect() leaks the socket it failed to
        # connect (a ResourceWarning). A fixed API version: negotiating one would call the engine right away.
        return docker.DockerClient(base_url=f"tcp://127.0.0.1:{port}", version="1.41", timeout=timeout)

    runtime = DockerRuntime("unit", client_factory=client_factory)
    with pytest.raises(RuntimeUnavailableError, match="does not answer"):
        await runtime.version()
    with pytest.raises(RuntimeUnavailableError):
        await runtime.list_containers()
    await runtime.close()
    with pytest.raises(RuntimeUnavailableError, match="closed"):
        await runtime.version()
