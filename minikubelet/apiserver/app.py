"""The HTTP face of the API server: Kubernetes REST paths over starlette, as kubectl 1.32 uses them.

Routing, content negotiation (JSON or a server-side Table), watch streams (newline-delimited JSON held
open until the client leaves or `timeoutSeconds` passes), bearer-token auth, and Status-shaped errors.
What happens to objects is the registry's business (`registry.py`); exec and attach, WebSocket
sessions, are `streams.py`'s; how bodies and query parameters are read, `decoding.py`'s.

This app runs on the daemon's one event loop, beside the kubelet and the prober, so no request may hold the loop:
a write reads its body on the loop (at most MAX_BODY_BYTES), then decodes it, applies its patch, validates,
stores and encodes the answer in a worker thread (`_WORKERS`, its own pool, so the Docker calls of the loop's
default executor never wait behind requests). Its answers stay the API server's: a method a path does not serve
is a 405 Status and an unknown path a 404 one, and request headers over Go's limit (MaxHeaderBytes, 1 MiB, plus
4 KiB) are Go's plain-text 431. A client that goes away in the middle of its body is logged in one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from minikubelet.api.podutil import container_names
from minikubelet.api.wire import as_pod
from minikubelet.apiserver import decoding, discovery, ephemeral, leases, protobuf, reviews, watchlist
from minikubelet.apiserver.decoding import HEADERS_TOO_LARGE, MAX_BODY_BYTES, MAX_HEADER_BYTES
from minikubelet.apiserver.registry import (
    RESOURCES,
    FieldValidation,
    PatchType,
    Registry,
    Resource,
    invalid_status,
)
from minikubelet.apiserver.streams import AttachSource, ExecSource, PodLogOptions, StreamEndpoints
from minikubelet.errors import BadRequestError, GoneError, InvalidError, NotFoundError, StatusError, UnauthorizedError
from minikubelet.printing import tables, why
from minikubelet.store import ObjectSelector

__all__ = ["MAX_BODY_BYTES", "MAX_HEADER_BYTES", "build_app"]

log = logging.getLogger(__name__)

_OPEN_PATHS = frozenset({"/readyz", "/livez", "/healthz", "/version"})
_NOT_FOUND = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": "the server could not find the requested resource",
    "reason": "NotFound",
    "details": {},
    "code": 404,
}
#: The patch media types in the API server's order (installer.go), as its 415 lists them.
_PATCH_MEDIA_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)
#: Request work that may cost (a body decoded, a patch applied, an object validated, stored and encoded) runs in
#: these threads, not on the event loop. The store is thread-safe, and the registry holds its lock only briefly.
_WORKERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="apiserver")
_PATCH_TYPES: dict[str, PatchType] = {
    "application/strategic-merge-patch+json": "strategic",
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
    "application/apply-patch+yaml": "apply",
}
_TABLES: dict[str, Callable[..., dict[str, Any]]] = {
    "pods": tables.pod_table,
    "events": tables.event_table,
    "nodes": tables.node_table,
    "namespaces": tables.namespace_table,
}
Handler = Callable[[Request], Awaitable[Response]]


class LogSource(Protocol):
    """Where pod logs come from (the kubelet's `open_logs`)."""

    async def __call__(
        self,
        namespace: str,
        name: str,
        *,
        container: str,
        previous: bool,
        follow: bool,
        tail: int | None,
        since: datetime | None,
        timestamps: bool,
    ) -> AsyncIterator[bytes]: ...


ProbeSource = Callable[[str], list[dict[str, Any]]]
"""A pod's recorded probe attempts by pod uid (the prober's history)."""

LifecycleSource = Callable[[str], list[dict[str, Any]]]
"""A pod's recorded container state transitions by pod uid (the kubelet's lifecycle history)."""


def build_app(
    registry: Registry,
    *,
    token: str,
    logs: LogSource | None = None,
    probes: ProbeSource | None = None,
    lifecycle: LifecycleSource | None = None,
    exec_streams: ExecSource | None = None,
    attach_streams: AttachSource | None = None,
) -> ASGIApp:
    """The ASGI application serving `registry` (pod logs from `logs`, exec and attach sessions from
    `exec_streams` and `attach_streams`), guarded by `token`."""
    api = _Api(registry, logs, probes, lifecycle)
    streams = StreamEndpoints(registry, exec_streams, attach_streams)
    pod = "/api/v1/namespaces/{namespace}/pods/{name}"
    routes = [
        Route("/version", api.version),
        Route("/readyz", api.ok),
        Route("/livez", api.ok),
        Route("/healthz", api.ok),
        Route("/api", api.api_versions),
        Route("/apis", api.api_groups),
        Route("/api/v1", api.api_resources),
        Route("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", api.review, methods=["POST"]),
        Route("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", api.review, methods=["POST"]),
        Route("/apis/authentication.k8s.io/v1/selfsubjectreviews", api.review, methods=["POST"]),
        Route("/apis/{group}", api.api_group),
        Route("/apis/{group}/{version}", api.api_resources),
        Route("/apis/coordination.k8s.io/v1/leases", api.leases),
        Route("/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases", api.leases),
        Route("/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}", api.leases),
        Route("/openapi/v3", api.openapi_root),
        Route("/openapi/v3/api/v1", api.openapi_v1),
        Route("/api/v1/namespaces/{namespace}/{resource}", api.collection, methods=["GET", "POST"]),
        Route("/api/v1/namespaces/{namespace}/pods/{name}/status", api.status, methods=["GET", "PUT", "PATCH"]),
        Route("/api/v1/namespaces/{namespace}/pods/{name}/binding", api.binding, methods=["POST"]),
        Route(f"{pod}/ephemeralcontainers", api.ephemeral_containers, methods=["GET", "PUT", "PATCH"]),
        Route("/api/v1/namespaces/{namespace}/pods/{name}/log", api.log, methods=["GET"]),
        Route(f"{pod}/probes", api.probes, methods=["GET"]),
        Route(f"{pod}/lifecycle", api.lifecycle, methods=["GET"]),
        Route(f"{pod}/why", api.why, methods=["GET"]),
        WebSocketRoute(f"{pod}/exec", streams.exec_socket),
        WebSocketRoute(f"{pod}/attach", streams.attach_socket),
        Route(f"{pod}/exec", _errors(streams.http_fallback), methods=["GET", "POST"]),
        Route(f"{pod}/attach", _errors(streams.http_fallback), methods=["GET", "POST"]),
        WebSocketRoute(f"{pod}/portforward", streams.portforward_socket),
        Route(f"{pod}/portforward", _errors(streams.portforward_upgrade), methods=["GET", "POST"]),
        Route("/api/v1/namespaces/{namespace}/{resource}/{name}", api.item, methods=["GET", "PUT", "PATCH", "DELETE"]),
        Route("/api/v1/{resource}", api.collection, methods=["GET", "POST"]),
        Route("/api/v1/{resource}/{name}", api.item, methods=["GET", "PUT", "PATCH", "DELETE"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _routing_error})
    return _HeaderLimit(_BearerAuth(app, token))


class _HeaderLimit:
    """Go's server reads at most MAX_HEADER_BYTES of request line and headers; past that it answers 431 in plain
    text and hangs up, before any handler (or authentication) sees the request. uvicorn reads any length, so the
    same answer comes from here."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and _header_bytes(scope) > MAX_HEADER_BYTES:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1009})
                return
            length = str(len(HEADERS_TOO_LARGE)).encode()
            headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", length), (b"connection", b"close")]
            await send({"type": "http.response.start", "status": 431, "headers": headers})
            await send({"type": "http.response.body", "body": HEADERS_TOO_LARGE})
            return
        await self.app(scope, receive, send)


def _header_bytes(scope: Scope) -> int:
    """The size of the request line and headers as they came on the wire (HTTP/1.1)."""
    query = scope["query_string"]
    target = len(scope.get("raw_path") or scope["path"].encode()) + (len(query) + 1 if query else 0)
    line = len(scope.get("method", "GET")) + 1 + target + len(" HTTP/1.1\r\n")
    return line + sum(len(name) + len(value) + 4 for name, value in scope["headers"]) + 2


async def _routing_error(request: Request, exc: Exception) -> Response:
    """No route for the path (404), or not for this method (405): the Status go-restful's errors become."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return _json(_MethodNotAllowed().status(), 405, dict(exc.headers or {}))
    if exc.status_code == 404:
        return _json(_NOT_FOUND, 404)
    return _json(StatusError(exc.detail).status(), exc.status_code)  # pragma: no cover - the router raises no other


class _BearerAuth:
    """Every path but health and /version needs `Authorization: Bearer <token>` (401 Status otherwise)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope["path"] not in _OPEN_PATHS:
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                response = _status_response(UnauthorizedError("Unauthorized").status(), 401)
                if scope["type"] == "websocket" and "websocket.http.response" not in scope.get("extensions", {}):
                    await send({"type": "websocket.close", "code": 1008})  # a server that cannot answer 401: 403
                    return
                await response(scope, receive, send)  # an exec, attach or port-forward upgrade too: 401, no handshake
                return
        await self.app(scope, receive, send)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(data, status_code=status, media_type="application/json", headers=headers)


def _status_response(body: dict[str, Any], code: int) -> Response:
    return _json(body, code)


def _aggregated(body: dict[str, Any]) -> Response:
    """Aggregated discovery, labelled so client-go decodes it as `APIGroupDiscoveryList` v2."""
    data = json.dumps(body, separators=(",", ":")).encode()
    return Response(data, headers={"Content-Type": discovery.AGGREGATED_CONTENT_TYPE, "Vary": "Accept"})


def _warning_headers(warnings: list[str]) -> dict[str, str]:
    # Starlette joins a dict into one header; kubectl splits `299 - "..."` entries on commas as Go does.
    return {"Warning": ", ".join(f'299 - "{_header_text(w)}"' for w in warnings)} if warnings else {}


def _header_text(text: str) -> str:
    """Warning text as the content of a quoted-string: quotes and backslashes escaped, and anything but printable
    ASCII (an unknown field may be named anything) written as a Go escape, since a header carries only bytes."""
    out = []
    for char in text:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        else:
            out.append(f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


def _errors(handler: Handler) -> Handler:
    """Turn our errors into Status responses; anything else is a 500 with the traceback in the log."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except InvalidError as exc:
            return _status_response(invalid_status(exc), 422)
        except StatusError as exc:
            return _status_response(exc.status(), exc.code)
        except ClientDisconnect:
            # Nobody waits for an answer; the request is simply dropped (no traceback: nothing went wrong here).
            log.info("%s %s: the client went away before it sent the whole body", request.method, request.url.path[:200])
            return Response(status_code=400)
        except Exception:
            log.exception("%s %s failed", request.method, request.url.path)
            body = {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": "Internal error; see the node's daemon.log",
                "reason": "InternalError",
                "code": 500,
            }
            return _status_response(body, 500)

    return run


class _Api:
    def __init__(
        self, registry: Registry, logs: LogSource | None, probes: ProbeSource | None, lifecycle: LifecycleSource | None = None
    ) -> None:
        self.registry = registry
        self.logs = logs
        self.probe_attempts = probes
        self.transitions = lifecycle
        for name in (
            "collection",
            "item",
            "status",
            "ephemeral_containers",
            "binding",
            "log",
            "probes",
            "lifecycle",
            "why",
            "leases",
            "review",
        ):
            setattr(self, name, _errors(getattr(self, name)))

    # ---------------------------------------------------------------------------------------- discovery

    async def version(self, request: Request) -> Response:
        return _json(discovery.version())

    async def ok(self, request: Request) -> Response:
        return Response(b"ok", media_type="text/plain")

    async def api_versions(self, request: Request) -> Response:
        if discovery.wants_aggregated(request.headers.get("accept", "")):
            return _aggregated(discovery.aggregated_discovery(core=True))
        return _json(discovery.api_versions())

    async def api_groups(self, request: Request) -> Response:
        if discovery.wants_aggregated(request.headers.get("accept", "")):
            return _aggregated(discovery.aggregated_discovery(core=False))
        return _json(discovery.api_group_list())

    async def api_group(self, request: Request) -> Response:
        group = discovery.api_group(request.path_params["group"])
        return _json(group) if group is not None else _json(_NOT_FOUND, 404)

    async def api_resources(self, request: Request) -> Response:
        group, group_version = request.path_params.get("group", ""), request.path_params.get("version", "v1")
        listing = discovery.api_resource_list(group, group_version)
        return _json(listing) if listing is not None else _json(_NOT_FOUND, 404)

    async def review(self, request: Request) -> Response:
        """`kubectl auth can-i` and `kubectl auth whoami` (reviews.py): answered, never stored."""
        answer = {
            "selfsubjectaccessreviews": reviews.access_review,
            "selfsubjectrulesreviews": reviews.rules_review,
            "selfsubjectreviews": reviews.self_subject_review,
        }[request.url.path.rsplit("/", 1)[1]]
        data, media = await _read_body(request, media_types=(*decoding.BODY_MEDIA_TYPES, protobuf.MEDIA_TYPE))
        # kubectl's typed clients post protobuf; JSON and YAML as every other body
        body: Any = protobuf.decode_review(data) if media == protobuf.MEDIA_TYPE else decoding.decode_body(data, media)
        return _json(answer(body), 201)

    async def leases(self, request: Request) -> Response:
        """The read-only node Lease of `coordination.k8s.io/v1`, derived from the Node (`leases.py`)."""
        query = request.query_params
        if decoding.query_flag(query.get("watch")):
            raise _MethodNotAllowed()
        name = request.path_params.get("name")
        selector = ObjectSelector.parse("Lease", query.get("labelSelector", ""), query.get("fieldSelector", ""))
        nodes, rv = self.registry.store.list("Node", None)
        items = leases.node_leases(nodes, request.path_params.get("namespace", ""))
        items = [lease for lease in items if selector.matches(lease) and name in (None, lease["metadata"]["name"])]
        if name is not None and not items:
            raise NotFoundError(f'leases.coordination.k8s.io "{name}" not found', kind="leases", name=name)
        if _wants_table(request):
            now = datetime.now(UTC)
            return _json(tables.lease_table(items, now=now, include_object=_include_object(request), resource_version=rv))
        return _json(items[0] if name is not None else leases.lease_list(items, rv))

    async def openapi_root(self, request: Request) -> Response:
        return _json(discovery.openapi_root())

    async def openapi_v1(self, request: Request) -> Response:
        body = await asyncio.to_thread(discovery.openapi_v1)  # the first one reads 1.7 MB of schemas
        return Response(body, media_type="application/json")

    # ------------------------------------------------------------------------------------------- objects

    async def collection(self, request: Request) -> Response:
        resource, namespace = _resource(request)
        if request.method == "POST":
            data, media = await _read_body(request)
            validation, dry_run, manager = _field_validation(request), _dry_run(request), _field_manager(request)

            def create() -> Response:
                body = decoding.decode_body(data, media)
                obj, warnings = self.registry.create(
                    resource, namespace, body, validation=validation, dry_run=dry_run, manager=manager
                )
                return _json(obj, 201, _warning_headers(warnings))

            return await _in_worker(create)
        query = request.query_params
        decoding.int64_parameters(query, "limit", "timeoutSeconds")  # the parameter codec's 400s come first
        options = watchlist.WatchOptions.from_query(query)
        watchlist.validate_list_options(options, has_continue=bool(query.get("continue")))
        if options.watch:
            return self._watch(request, resource, namespace, options)
        items, rv = self.registry.store.list(
            resource.kind,
            (namespace or None) if resource.namespaced else None,
            label_selector=query.get("labelSelector", ""),
            field_selector=query.get("fieldSelector", ""),
        )
        if _wants_table(request):
            return _json(self._table(request, resource, items, rv))
        listing = {
            "kind": f"{resource.kind}List",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": rv},
            "items": items,
        }
        return _json(listing)

    async def item(self, request: Request) -> Response:
        resource, namespace = _resource(request)
        name = request.path_params["name"]
        if request.method == "GET":
            obj = self.registry.get(resource, namespace, name)
            if _wants_table(request):
                return _json(self._table(request, resource, [obj], obj["metadata"].get("resourceVersion", "")))
            return _json(obj)
        if request.method == "PUT":
            data, media = await _read_body(request)
            validation, manager = _field_validation(request), _field_manager(request)

            def update() -> Response:
                body = decoding.decode_body(data, media)
                obj, warnings = self.registry.update(resource, namespace, name, body, validation=validation, manager=manager)
                return _json(obj, 200, _warning_headers(warnings))

            return await _in_worker(update)
        if request.method == "PATCH":
            return await self._patch(request, resource, namespace, name)
        return await self._delete(request, resource, namespace, name)

    async def status(self, request: Request) -> Response:
        resource = RESOURCES["pods"]
        namespace, name = request.path_params["namespace"], request.path_params["name"]
        if request.method == "GET":
            return _json(self.registry.get(resource, namespace, name))
        if request.method == "PUT":
            data, media = await _read_body(request)
            return await _in_worker(
                lambda: _json(self.registry.update_status(resource, namespace, name, decoding.decode_body(data, media)))
            )
        return await self._patch(request, resource, namespace, name, subresource="status")

    async def ephemeral_containers(self, request: Request) -> Response:
        """`kubectl debug`: pods/ephemeralcontainers (`ephemeral.py`)."""
        resource = RESOURCES["pods"]
        namespace, name = request.path_params["namespace"], request.path_params["name"]
        if request.method == "GET":
            return _json(self.registry.get(resource, namespace, name))
        if request.method == "PUT":
            data, media = await _read_body(request)
            validation, manager = _field_validation(request), _field_manager(request)

            def update() -> Response:
                body = decoding.decode_body(data, media)
                obj, warnings = ephemeral.update(
                    self.registry, resource, namespace, name, body, validation=validation, manager=manager
                )
                return _json(obj, 200, _warning_headers(warnings))

            return await _in_worker(update)
        return await self._patch(request, resource, namespace, name, subresource=ephemeral.SUBRESOURCE)

    async def binding(self, request: Request) -> Response:
        namespace, name = request.path_params["namespace"], request.path_params["name"]
        data, media = await _read_body(request)

        def bind() -> Response:
            self.registry.bind(namespace, name, decoding.decode_body(data, media))
            return _json({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}, 201)

        return await _in_worker(bind)

    async def log(self, request: Request) -> Response:
        """`kubectl logs`: the container's output as chunked text/plain (follow, tailLines, sinceSeconds, ...)."""
        namespace, name = request.path_params["namespace"], request.path_params["name"]
        if self.logs is None:
            raise BadRequestError("this node serves no logs")
        options = PodLogOptions.parse(request.query_params, name=name)
        chunks = await self.logs(
            namespace,
            name,
            container=options.container,
            previous=options.previous,
            follow=options.follow,
            tail=options.tail,
            since=options.since,
            timestamps=options.timestamps,
        )
        return StreamingResponse(options.limited(chunks), media_type="text/plain")

    async def probes(self, request: Request) -> Response:
        """minikubelet's own subresource: the pod's recent probe attempts (for `timeline` and benchmarks)."""
        pod = self.registry.get(RESOURCES["pods"], request.path_params["namespace"], request.path_params["name"])
        attempts = self.probe_attempts(pod["metadata"]["uid"]) if self.probe_attempts is not None else []
        return _json({"kind": "ProbeAttemptList", "apiVersion": "minikubelet.dev/v1alpha1", "metadata": {}, "items": attempts})

    async def lifecycle(self, request: Request) -> Response:
        """minikubelet's own subresource: the kubelet's record of the pod's container state changes (for `timeline`)."""
        pod = self.registry.get(RESOURCES["pods"], request.path_params["namespace"], request.path_params["name"])
        items = self.transitions(pod["metadata"]["uid"]) if self.transitions is not None else []
        kind = "ContainerTransitionList"
        return _json({"kind": kind, "apiVersion": "minikubelet.dev/v1alpha1", "metadata": {}, "items": items})

    async def why(self, request: Request) -> Response:
        """minikubelet's own subresource: `minikubelet why`'s diagnosis of the pod, a PodDiagnosis (docs/why.md);
        `?container=NAME` for one container."""
        namespace, name = request.path_params["namespace"], request.path_params["name"]
        pod = self.registry.get(RESOURCES["pods"], namespace, name)
        uid = pod["metadata"]["uid"]
        selector = f"involvedObject.name={name},involvedObject.namespace={namespace},involvedObject.uid={uid}"
        events, _ = self.registry.store.list(RESOURCES["events"].kind, namespace, field_selector=selector)
        attempts = self.probe_attempts(uid) if self.probe_attempts is not None else []
        transitions = self.transitions(uid) if self.transitions is not None else []
        container = request.query_params.get("container", "")
        if container and container not in container_names(as_pod(pod), ephemeral=False):
            raise BadRequestError(f"container {container} is not valid for pod {name}")
        diagnosis = why.diagnose(pod, events, attempts, transitions, now=datetime.now(UTC), container=container)
        return _json(why.to_json(diagnosis))

    async def _patch(self, request: Request, resource: Resource, namespace: str, name: str, *, subresource: str = "") -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        patch_type = _PATCH_TYPES.get(content_type)
        if patch_type is None:
            raise decoding.UnsupportedMediaTypeError(_PATCH_MEDIA_TYPES)
        data, _ = await _read_body(request, media_types=None)
        validation = _field_validation(request)
        # Server-side apply needs an explicit manager; other writes default to the client's name.
        manager = request.query_params.get("fieldManager", "") if patch_type == "apply" else _field_manager(request)
        force = decoding.query_flag(request.query_params.get("force"))

        def patch() -> Response:
            body = decoding.decode_body(data, decoding.YAML if patch_type == "apply" else decoding.JSON)
            obj, warnings, created = self.registry.patch(
                resource,
                namespace,
                name,
                patch_type,
                body,
                validation=validation,
                subresource=subresource,
                manager=manager,
                force=force,
            )
            return _json(obj, 201 if created else 200, _warning_headers(warnings))

        return await _in_worker(patch)

    async def _delete(self, request: Request, resource: Resource, namespace: str, name: str) -> Response:
        data, _ = await _read_body(request, media_types=None)  # an empty body may come with any Content-Type
        query = request.query_params

        def delete() -> Response:
            body = None
            if data.strip():
                body = decoding.decode_body(data, decoding.body_media_type(request.headers.get("content-type")))
            options = decoding.delete_options(body, query)
            obj = self.registry.delete(
                resource,
                namespace,
                name,
                grace_period=options.grace_period,
                uid=options.uid,
                resource_version=options.resource_version,
            )
            return _json(obj)

        return await _in_worker(delete)

    # ------------------------------------------------------------------------------------------ tables

    def _table(self, request: Request, resource: Resource, items: list[dict[str, Any]], rv: str) -> dict[str, Any]:
        include = _include_object(request)
        return _TABLES[resource.plural](items, now=datetime.now(UTC), include_object=include, resource_version=rv)

    # ------------------------------------------------------------------------------------------- watch

    def _watch(self, request: Request, resource: Resource, namespace: str, options: watchlist.WatchOptions) -> Response:
        """A watch as the API server serves it: the current state first (as ADDED events) when no
        resourceVersion is given, or for a streaming list (which then ends it with the initial-events-end
        BOOKMARK, watchlist.py); otherwise every change after the given version. A version older than
        the store keeps answers 200 with one ERROR event (410 Expired), as the watch cache does."""
        query = request.query_params
        kind_ns = (namespace or None) if resource.namespaced else None
        selectors = {"label_selector": query.get("labelSelector", ""), "field_selector": query.get("fieldSelector", "")}
        rv = options.resource_version
        store = self.registry.store
        table = _wants_table(request)
        if table:
            _include_object(request)  # bad parameters are a 400 now, before a store watch is open
        timeout = _float(query.get("timeoutSeconds"))
        initial: list[dict[str, Any]] = []
        streaming = options.streaming_list
        gone: GoneError | None = None
        if streaming or (rv in ("", "0") and options.send_initial_events is None):
            initial, rv = store.list(resource.kind, kind_ns, **selectors)
        watch = None
        try:
            watch = store.watch(resource.kind, kind_ns, resource_version=rv, **selectors)
        except GoneError as exc:
            gone = exc

        async def events() -> AsyncIterator[bytes]:
            first = True
            last_rv = rv

            def encode(kind: str, obj: dict[str, Any]) -> bytes:
                nonlocal first
                payload: dict[str, Any] = obj
                if table and kind in ("ADDED", "MODIFIED", "DELETED"):
                    payload = self._table(request, resource, [obj], obj["metadata"].get("resourceVersion", ""))
                    if not first:
                        payload["columnDefinitions"] = []
                    first = False
                return json.dumps({"type": kind, "object": payload}, separators=(",", ":")).encode() + b"\n"

            def marker(*, end: bool = False) -> bytes:
                kind, api_version = ("Table", "meta.k8s.io/v1") if table else (resource.kind, "v1")
                return encode("BOOKMARK", watchlist.bookmark(kind, api_version, last_rv, initial_events_end=end))

            if watch is None:
                assert gone is not None
                yield encode("ERROR", gone.status())
                return
            try:
                for obj in initial:
                    yield encode("ADDED", obj)
                if streaming:
                    yield marker(end=True)
                async with contextlib.AsyncExitStack() as stack:
                    if timeout is not None:
                        await stack.enter_async_context(asyncio.timeout(timeout))
                    changes = aiter(watch)
                    while True:
                        try:
                            if options.allow_bookmarks:
                                kind, obj = await asyncio.wait_for(anext(changes), watchlist.BOOKMARK_SECONDS)
                            else:
                                kind, obj = await anext(changes)
                        except TimeoutError:
                            yield marker()  # nothing happened for a while: the client may resume from here
                            continue
                        except StopAsyncIteration:
                            break
                        last_rv = obj["metadata"].get("resourceVersion", last_rv)
                        yield encode(kind, obj)
            except TimeoutError:
                return
            finally:
                watch.close()

        return StreamingResponse(events(), media_type="application/json")


def _resource(request: Request) -> tuple[Resource, str]:
    plural = request.path_params["resource"]
    resource = RESOURCES.get(plural)
    namespace = request.path_params.get("namespace", "")
    if resource is None:
        raise NotFoundError("the server could not find the requested resource", kind=plural)
    if resource.namespaced is ("namespace" not in request.path_params) and request.method != "GET":
        raise NotFoundError("the server could not find the requested resource", kind=plural)
    return resource, namespace


def _wants_table(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    first = accept.split(",")[0]
    return "as=Table" in first and "g=meta.k8s.io" in first


def _include_object(request: Request) -> str:
    value = request.query_params.get("includeObject", "Metadata")
    if value not in ("None", "Metadata", "Object"):
        raise BadRequestError(f'includeObject "{value}" is invalid: must be one of None, Metadata or Object')
    return value


def _field_validation(request: Request) -> FieldValidation:
    # Warn when not asked, as the API server (kubectl patch, label and annotate do not ask).
    value = request.query_params.get("fieldValidation", "Warn")
    if value not in ("Strict", "Warn", "Ignore"):
        raise BadRequestError(f'fieldValidation "{value}" is invalid: must be one of Strict, Warn or Ignore')
    return value  # type: ignore[return-value]


def _field_manager(request: Request) -> str:
    """The fieldManager asked for, else the client's name: the User-Agent up to its first "/" (`kubectl`)."""
    return request.query_params.get("fieldManager") or request.headers.get("user-agent", "").split("/")[0]


def _dry_run(request: Request) -> bool:
    values = request.query_params.getlist("dryRun")
    if any(v != "All" for v in values):
        raise BadRequestError("dryRun may only be All")
    return bool(values)


def _float(value: str | None) -> float | None:
    try:
        return None if value is None else float(value)
    except ValueError:
        raise BadRequestError(f"invalid number: {value}") from None


async def _read_body(request: Request, *, media_types: tuple[str, ...] | None = decoding.BODY_MEDIA_TYPES) -> tuple[bytes, str]:
    """The raw body (at most MAX_BODY_BYTES, else 413 without reading the rest) and the media type to decode it
    as: one of `media_types`, else 415 before anything is read (None: the caller looks at the type itself)."""
    media = decoding.body_media_type(request.headers.get("content-type"), media_types) if media_types else ""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise decoding.too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise decoding.too_large()
        chunks.append(chunk)
    return b"".join(chunks), media


async def _in_worker(work: Callable[[], Response]) -> Response:
    """Run `work` in a worker thread (`_WORKERS`); the event loop goes on meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(_WORKERS, work)


class _MethodNotAllowed(StatusError):
    """405 as NewGenericServerResponse words it (go-restful's answer to a method a path does not serve)."""

    code, reason = 405, "MethodNotAllowed"

    def __init__(self) -> None:
        super().__init__("the server does not allow this method on the requested resource")

    def status(self) -> dict[str, object]:
        body = super().status()
        return {**{key: value for key, value in body.items() if key != "code"}, "details": {}, "code": self.code}
