"""`minikubelet port-forward pod/NAME [LOCAL_PORT:]REMOTE_PORT...`: local TCP ports relayed to a pod's ports,
as `kubectl port-forward` relays them, through the node's API server.

kubectl's port-forward speaks SPDY (the node serves that too). This command speaks the kubelet's WebSocket
port-forward protocol instead (apiserver/portforward.py), for which Python needs no SPDY of its own: one
WebSocket per accepted connection, `.../pods/NAME/portforward?ports=REMOTE`, whose first message on each
channel is the port; `v5.channel.k8s.io`, so that the end of the local client's input reaches the pod as a
half-close, as SPDY's stream close does for kubectl.

kubectl's rules and words are kept: `8080:3000`, `3000` (the same port locally), `:3000` (a random local
port, printed), named container ports; `Forwarding from 127.0.0.1:8080 -> 3000` once listening and
`Handling connection for 8080` for each connection, on stdout; an error on one connection is printed and the
others go on; the pod's end (deleted, finished) is `error: lost connection to pod`; Ctrl-C ends it, exit 0.
Listeners are on 127.0.0.1 unless `--address` names others (kubectl's `localhost` also listens on ::1).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import typer
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as websocket_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from minikubelet import __version__
from minikubelet.api.podutil import app_containers
from minikubelet.api.wire import Pod
from minikubelet.cli.common import connect as connect_api
from minikubelet.cli.common import eprint
from minikubelet.cli.exec import refusal_error
from minikubelet.client import resource_path
from minikubelet.errors import MinikubeletError
from minikubelet.node.kubeconfig import Connection, read_connection
from minikubelet.node.paths import NodePaths

__all__ = ["PortSpec", "listen_addresses", "parse_port_specs", "port_forward_command", "resolve_remote"]

SUBPROTOCOLS = [Subprotocol("v5.channel.k8s.io"), Subprotocol("v4.channel.k8s.io")]
DATA, ERROR, CLOSE = 0, 1, 255
_OPEN_TIMEOUT = 30.0
_READ_SIZE = 32 * 1024
_POD_PREFIXES = ("pod/", "pods/", "po/")


@dataclass(frozen=True)
class PortSpec:
    """One `[LOCAL_PORT:]REMOTE_PORT`: local 0 is a random port; remote is a number or a container port's name."""

    local: int | str
    remote: int | str


def port_forward_command(
    target: Annotated[str, typer.Argument(help="POD or pod/POD")],
    ports: Annotated[
        list[str], typer.Argument(help="[LOCAL_PORT:]REMOTE_PORT, one or more (:REMOTE_PORT: a random local port).")
    ],
    address: Annotated[
        str, typer.Option("--address", help="Addresses to listen on, comma-separated (localhost is 127.0.0.1 here).")
    ] = "127.0.0.1",
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="The namespace.")] = "default",
) -> None:
    """Forward one or more local ports to a pod."""
    name = _pod_name(target)
    specs = parse_port_specs(ports)
    hosts = listen_addresses(address)
    with connect_api() as client:
        pod: Pod = client.get(resource_path("pods", namespace, name))
    phase = pod.get("status", {}).get("phase", "Pending")
    if phase != "Running":
        raise MinikubeletError(f"unable to forward port because pod is not running. Current status={phase}")
    forwards = [(_local_port(spec, pod), resolve_remote(pod, spec.remote)) for spec in specs]
    forwarder = _Forwarder(read_connection(NodePaths.from_env()), namespace, name)
    try:
        asyncio.run(forwarder.run(hosts, forwards))
    except KeyboardInterrupt:  # Ctrl-C: the way to stop forwarding, exit 0 as kubectl
        return


# --- arguments ----------------------------------------------------------------------------------------------


def parse_port_specs(values: list[str]) -> list[PortSpec]:
    """kubectl's port arguments: `8080:3000`, `3000`, `:3000`, `8080:http`, `http`."""
    specs = []
    for value in values:
        parts = value.split(":")
        if len(parts) > 2:
            raise MinikubeletError(f"invalid port format '{value}'")
        remote = _remote_port(parts[-1])
        local = remote if len(parts) == 1 else _local_port_number(parts[0] or "0")
        specs.append(PortSpec(local, remote))
    return specs


def _local_port_number(text: str) -> int:
    if not text.isdigit():
        raise MinikubeletError(f"Error parsing local port '{text}': invalid syntax")
    if int(text) > 65535:
        raise MinikubeletError(f"Error parsing local port '{text}': value out of range")
    return int(text)


def _remote_port(text: str) -> int | str:
    """A number, or a container port's name (looked up in the pod)."""
    if not text:
        raise MinikubeletError("Error parsing remote port '': invalid syntax")
    if not text.isdigit():
        return text
    if int(text) > 65535:
        raise MinikubeletError(f"Error parsing remote port '{text}': value out of range")
    if int(text) == 0:
        raise MinikubeletError("remote port must be > 0")
    return int(text)


def resolve_remote(pod: Pod, port: int | str) -> int:
    """A port number, or the number of the container port with that name."""
    if isinstance(port, int):
        return port
    for container in app_containers(pod):
        for declared in container.get("ports", []):
            if declared.get("name") == port:
                return int(declared["containerPort"])
    raise MinikubeletError(f"Pod '{pod['metadata']['name']}' does not have a named port '{port}'")


def _local_port(spec: PortSpec, pod: Pod) -> int:
    """The local port; a named one (`http`, or `http:http`) is the container port's number, as kubectl does."""
    return spec.local if isinstance(spec.local, int) else resolve_remote(pod, spec.local)


def listen_addresses(address: str) -> list[str]:
    """The IP addresses to listen on (`localhost` is 127.0.0.1)."""
    hosts = []
    for word in (w.strip() for w in address.split(",")):
        word = "127.0.0.1" if word == "localhost" else word
        try:
            ipaddress.ip_address(word)
        except ValueError:
            raise MinikubeletError(f"{word} is not a valid IP") from None
        if word not in hosts:
            hosts.append(word)
    return hosts


def _pod_name(target: str) -> str:
    if "/" not in target:
        return target
    if not target.startswith(_POD_PREFIXES) or target.count("/") != 1 or target.endswith("/"):
        raise MinikubeletError(f"minikubelet port-forward forwards to pods only (pod/NAME or NAME), not {target}")
    return target.split("/", 1)[1]


# --- forwarding -----------------------------------------------------------------------------------------------


@dataclass
class _Listener:
    host: str
    port: int
    remote: int


class _Forwarder:
    """The listeners, one relay per accepted connection, and a watch on the pod (its end ends us)."""

    def __init__(self, connection: Connection, namespace: str, name: str) -> None:
        self.connection = connection
        self.namespace = namespace
        self.name = name
        self.path = resource_path("pods", namespace, name, "portforward")
        self.ssl = connection.ssl_context() if connection.server.startswith("https://") else None
        self.headers = {"Authorization": f"Bearer {connection.token}", "User-Agent": f"minikubelet/{__version__}"}

    async def run(self, hosts: list[str], forwards: list[tuple[int, int]]) -> None:
        servers: list[asyncio.Server] = []
        try:
            for local, remote in forwards:
                servers += await self._listen(hosts, local, remote)
            if not servers:
                asked = " ".join(f"{{{local} {remote}}}" for local, remote in forwards)
                raise MinikubeletError(f"unable to listen on any of the requested ports: [{asked}]")
            await self._watch_pod()
        finally:
            for server in servers:
                server.close()

    async def _listen(self, hosts: list[str], local: int, remote: int) -> list[asyncio.Server]:
        """A listener on each address (the first one picks the port when `local` is 0)."""
        servers, errors = [], []
        for host in hosts:
            listener = _Listener(host, local, remote)
            try:
                server = await asyncio.start_server(functools.partial(self._handle, listener), host, local or None)
            except OSError as exc:
                family = "tcp6" if ":" in host else "tcp4"
                reason = (os.strerror(exc.errno) if exc.errno else str(exc)).lower()  # asyncio's strerror is wordy
                errors.append(f"unable to create listener: Error listen {family} {_join(host, local)}: bind: {reason}")
                continue
            local = listener.port = server.sockets[0].getsockname()[1]
            typer.echo(f"Forwarding from {_join(host, local)} -> {remote}")
            servers.append(server)
        if errors and not servers:
            eprint(
                f"Unable to listen on port {local}: Listeners failed to create with the following errors: [{' '.join(errors)}]"
            )
        return servers

    async def _handle(self, listener: _Listener, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        typer.echo(f"Handling connection for {listener.port}")
        try:
            websocket = await self._open(listener)
            if websocket is not None:
                async with websocket:
                    await _relay(websocket, reader, writer, lambda text: self._report(listener, text))
        except asyncio.CancelledError:
            # Ctrl-C: asyncio cancels this task, which nobody awaits, and asyncio.streams (3.11) would then log
            # the cancellation as an error. Ending the connection is all there is left to do.
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):  # cancelled here too, on Ctrl-C
                await writer.wait_closed()

    async def _open(self, listener: _Listener) -> ClientConnection | None:
        url = self.connection.server.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        try:
            return await websocket_connect(
                f"{url}{self.path}?ports={listener.remote}",
                ssl=self.ssl,
                additional_headers=self.headers,
                subprotocols=SUBPROTOCOLS,
                open_timeout=_OPEN_TIMEOUT,
                max_size=None,
                compression=None,
            )
        except InvalidStatus as exc:
            self._report(listener, refusal_error(exc).message)
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            self._report(listener, f"the node's API is not reachable: {exc}")
        return None

    def _report(self, listener: _Listener, text: str) -> None:
        eprint(f"an error occurred forwarding {listener.port} -> {listener.remote}: {text}")

    async def _watch_pod(self) -> None:
        """Return never; raise once the pod is gone or finished (its sandbox, and so its ports, are gone)."""
        pods = resource_path("pods", self.namespace)
        selector = {"fieldSelector": f"metadata.name={self.name}"}
        async with httpx.AsyncClient(
            base_url=self.connection.server, verify=self.ssl or True, headers=self.headers, timeout=None
        ) as http:
            while True:
                try:
                    listing = (await http.get(pods, params=selector)).raise_for_status().json()
                    if not listing.get("items"):
                        raise _lost()
                    _check_alive(listing["items"][0])
                    query = {**selector, "watch": "true", "resourceVersion": listing["metadata"]["resourceVersion"]}
                    async with http.stream("GET", pods, params=query) as events:
                        async for line in events.raise_for_status().aiter_lines():
                            event = json.loads(line) if line.strip() else {}
                            if event.get("type") == "DELETED":
                                raise _lost()
                            _check_alive(event.get("object") or {})
                except httpx.HTTPError:
                    raise _lost() from None
                await asyncio.sleep(1.0)  # the server ended the watch: look again, without spinning


def _check_alive(obj: dict[str, Any]) -> None:
    status = obj.get("status")  # a Pod's; a Status object (an ERROR event) has a string here
    if isinstance(status, dict) and status.get("phase") in ("Succeeded", "Failed"):
        raise _lost()


def _lost() -> MinikubeletError:
    return MinikubeletError("lost connection to pod")


def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def _relay(
    websocket: ClientConnection,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    report: Callable[[str], None],
) -> None:
    """The local connection to the WebSocket and back, until the pod's side ends (the server closes)."""
    upstream = asyncio.create_task(_upstream(websocket, reader))
    prefixed: set[int] = set()
    try:
        async for message in websocket:
            if not isinstance(message, bytes) or not message:
                continue
            channel, payload = message[0], message[1:]
            if channel not in prefixed:  # each channel's first message is the port number
                prefixed.add(channel)
            elif channel == DATA:
                writer.write(payload)
                await writer.drain()
            elif channel == ERROR and payload:
                report(payload.decode(errors="replace"))
    except (ConnectionClosed, OSError):
        pass  # the server broke off, or the local client left
    finally:
        upstream.cancel()
        await asyncio.gather(upstream, return_exceptions=True)


async def _upstream(websocket: ClientConnection, reader: asyncio.StreamReader) -> None:
    """What the local client sends, to the pod; its end of input as a half-close (v5), its reset as the end."""
    try:
        while data := await reader.read(_READ_SIZE):
            await websocket.send(bytes([DATA]) + data)
        if websocket.subprotocol == SUBPROTOCOLS[0]:
            await websocket.send(bytes([CLOSE, DATA]))
    except ConnectionClosed:
        return
    except OSError:
        await websocket.close()
