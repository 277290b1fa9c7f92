"""`minikubelet exec [-i] [-t] [-c C] POD -- CMD...`: a command in a container, as `kubectl exec` runs it.

The session is the API server's WebSocket stream (`v5.channel.k8s.io`, see apiserver/streams.py), which is
what kubectl 1.30+ uses too, so that both clients meet the same server code. `open_session` is shared with
`run -i/-t`, which attaches the same way.

kubectl's rules are kept: the container defaults to the annotated default or the first one (saying so on
stderr when there are several), `-t` needs `-i` and a terminal on stdin (else a warning and no TTY), a TTY
puts the local terminal in raw mode (restored on the way out) and follows its size (SIGWINCH), the end of
stdin is sent as a close of channel 0, and a non-zero exit becomes ours, after
`command terminated with exit code N`.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import sys
import termios
import threading
import tty as ttymodes
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import typer
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from minikubelet.api.podutil import container_names
from minikubelet.api.wire import Pod
from minikubelet.cli.common import all_container_names, default_container, eprint
from minikubelet.cli.common import connect as connect_api
from minikubelet.client import resource_path
from minikubelet.errors import MinikubeletError, StatusError, UnavailableError
from minikubelet.node.kubeconfig import Connection, read_connection
from minikubelet.node.paths import NodePaths

__all__ = [
    "SessionRequest",
    "default_container",
    "exec_command",
    "exit_code_of",
    "open_session",
    "refusal_error",
    "usable_tty",
]

SUBPROTOCOL = "v5.channel.k8s.io"
STDIN, STDOUT, STDERR, STATUS, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
NO_TTY_WARNING = "Unable to use a TTY - input is not a terminal or the right kind of file"
_OPEN_TIMEOUT = 30.0
_READ_SIZE = 32 * 1024


def exec_command(
    pod: Annotated[str, typer.Argument(help="POD or pod/POD")],
    command: Annotated[list[str] | None, typer.Argument(help="The command and its arguments, after --.")] = None,
    container: Annotated[str, typer.Option("--container", "-c", help="The container (default: the first).")] = "",
    stdin: Annotated[bool, typer.Option("--stdin", "-i", help="Pass stdin to the container.")] = False,
    tty: Annotated[bool, typer.Option("--tty", "-t", help="Stdin is a TTY.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print output from the remote session.")] = False,
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="The namespace.")] = "default",
) -> None:
    """Execute a command in a container."""
    name = pod.split("/", 1)[1] if pod.startswith(("pod/", "pods/", "po/")) else pod
    if not command:
        raise MinikubeletError("you must specify at least one command for the container")
    with connect_api() as client:
        obj: Pod = client.get(resource_path("pods", namespace, name))
    phase = obj.get("status", {}).get("phase", "")
    if phase in ("Succeeded", "Failed"):
        raise MinikubeletError(f"cannot exec into a container in a completed pod; current phase is {phase}")
    if container and container not in _container_names(obj):
        raise MinikubeletError(f"container {container} is not valid for pod {name} out of: {all_container_names(obj)}")
    use_tty = usable_tty(stdin=stdin, tty=tty, quiet=quiet)
    request = SessionRequest(
        path=resource_path("pods", namespace, name, "exec"),
        container=container or default_container(obj, quiet=quiet),
        command=tuple(command),
        stdin=stdin,
        tty=use_tty,
    )
    status = open_session(read_connection(NodePaths.from_env()), request)
    code = exit_code_of(status)
    if code:
        eprint(f"command terminated with exit code {code}")
        raise typer.Exit(code)


def _container_names(pod: Pod) -> set[str]:
    return set(container_names(pod))


@dataclass(frozen=True)
class SessionRequest:
    """An exec (with `command`) or an attach (without) of one container."""

    path: str  # .../pods/<name>/exec or .../attach
    container: str
    command: tuple[str, ...] = ()
    stdin: bool = False
    tty: bool = False

    def query(self) -> str:
        params = [("command", word) for word in self.command] + [("container", self.container)]
        params += [("stdin", "true")] if self.stdin else []
        params += [("stdout", "true")] + ([("tty", "true")] if self.tty else [("stderr", "true")])
        return urlencode(params)


def usable_tty(*, stdin: bool, tty: bool, quiet: bool = False) -> bool:
    """kubectl's SetupTTY: a TTY only with stdin, and only when stdin is a terminal (else a warning)."""
    if not (stdin and tty):
        return False
    if not sys.stdin.isatty():
        if not quiet:
            eprint(NO_TTY_WARNING)
        return False
    return True


def exit_code_of(status: dict[str, Any] | None) -> int:
    """0 for success (or no Status), the exit code of a `NonZeroExitCode` Status; other failures raise."""
    if status is None or status.get("status") == "Success":
        return 0
    if status.get("reason") == "NonZeroExitCode":
        causes = (status.get("details") or {}).get("causes") or []
        code = next((c.get("message") for c in causes if c.get("reason") == "ExitCode"), None)
        if code is not None and str(code).isdigit():
            return int(code)
    raise MinikubeletError(str(status.get("message") or "the stream ended with an unknown error"))


def open_session(connection: Connection, request: SessionRequest) -> dict[str, Any] | None:
    """Run the session to its end: output to our stdout and stderr, our stdin (and terminal size) to it.
    The Status the server ended it with, None if it sent none."""
    url = connection.server.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    try:
        with (
            _connect(f"{url}{request.path}?{request.query()}", connection) as websocket,
            _raw_terminal(request.tty),
            _follow_terminal_size(websocket, request.tty),
        ):
            if request.stdin:
                threading.Thread(target=_forward_stdin, args=(websocket,), name="minikubelet-stdin", daemon=True).start()
            return _receive(websocket)
    except KeyboardInterrupt:  # Ctrl-C without a TTY (with one, it goes to the remote process)
        raise typer.Exit(128 + signal.SIGINT) from None
    except BrokenPipeError:  # whoever read our output left (`| head`): end as kubectl does, by SIGPIPE's exit code
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the final flush must not fail again
        raise typer.Exit(128 + signal.SIGPIPE) from None
    except OSError as exc:
        raise MinikubeletError(f"cannot write the session's output: {exc.strerror or exc}") from None


@contextlib.contextmanager
def _connect(url: str, connection: Connection) -> Iterator[ClientConnection]:
    try:
        websocket = connect(
            url,
            ssl=connection.ssl_context() if url.startswith("wss://") else None,
            additional_headers={"Authorization": f"Bearer {connection.token}"},
            subprotocols=[Subprotocol(SUBPROTOCOL)],
            open_timeout=_OPEN_TIMEOUT,
            max_size=None,
            compression=None,
        )
    except InvalidStatus as exc:
        raise refusal_error(exc) from None
    except (OSError, InvalidHandshake, TimeoutError) as exc:
        raise UnavailableError(f"the node's API is not reachable: {exc}") from None
    with websocket:
        yield websocket


def refusal_error(exc: InvalidStatus) -> StatusError:
    """The Status the server refused the handshake with (its HTTP body)."""
    response = exc.response
    try:
        body = json.loads(response.body or b"")
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("kind") == "Status":
        return StatusError.from_status(body, response.status_code)
    message = (response.body or b"").decode(errors="replace").strip() or response.reason_phrase
    return StatusError.from_status({"message": message}, response.status_code)


def _receive(websocket: ClientConnection) -> dict[str, Any] | None:
    status: dict[str, Any] | None = None
    outputs = {STDOUT: sys.stdout.buffer, STDERR: sys.stderr.buffer}
    try:
        for message in websocket:
            data = message if isinstance(message, bytes) else message.encode()
            if not data:
                continue
            if data[0] in outputs:
                outputs[data[0]].write(data[1:])
                outputs[data[0]].flush()
            elif data[0] == STATUS:
                status = json.loads(data[1:])
    except ConnectionClosed as exc:
        if status is None:
            raise UnavailableError(f"the stream from the node's API broke: {exc}") from None
    return status


def _forward_stdin(websocket: ClientConnection) -> None:
    """Our stdin to channel 0 until its end, then the v5 close of channel 0."""
    fd = sys.stdin.fileno()
    with contextlib.suppress(ConnectionClosed, OSError):
        while data := os.read(fd, _READ_SIZE):
            websocket.send(bytes([STDIN]) + data)
        websocket.send(bytes([CLOSE, STDIN]))


@contextlib.contextmanager
def _raw_terminal(enabled: bool) -> Iterator[None]:
    """The local terminal in raw mode (keys go to the remote TTY as typed), restored on the way out."""
    if not enabled:
        yield
        return
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    ttymodes.setraw(fd)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@contextlib.contextmanager
def _follow_terminal_size(websocket: ClientConnection, enabled: bool) -> Iterator[None]:
    """Send the terminal's size now and on every SIGWINCH, from a thread (a signal handler must not send:
    it may interrupt the main thread inside the connection's locks)."""
    if not enabled:
        yield
        return
    sizes: queue.SimpleQueue[bytes] = queue.SimpleQueue()
    sizes.put(_size_message())

    def send_sizes() -> None:
        with contextlib.suppress(ConnectionClosed, OSError):
            while True:
                websocket.send(sizes.get())

    threading.Thread(target=send_sizes, name="minikubelet-resize", daemon=True).start()
    previous = signal.signal(signal.SIGWINCH, lambda *_: sizes.put(_size_message()))
    try:
        yield
    finally:
        signal.signal(signal.SIGWINCH, previous)


def _size_message() -> bytes:
    for stream in (sys.stdout, sys.stdin):
        with contextlib.suppress(OSError, ValueError):
            size = os.get_terminal_size(stream.fileno())
            return bytes([RESIZE]) + json.dumps({"Width": size.columns, "Height": size.lines}).encode()
    return bytes([RESIZE]) + b'{"Width":80,"Height":24}'
