"""The HTTP face of the API server: Kubernetes REST paths over starlette, as kubectl 1.32 uses them.

Routing, content negotiation (JSON or a server-side Table), watch streams (newline-delimited JSON held
open until the client leaves or `timeoutSeconds` passes), bearer-token auth, and Status-shaped errors.
What happens to objects is the registry's business (`registry.py`); exec and attach, WebSocket
sessions, are `streams.py`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from minikubelet.api.loading import MAX_DEPTH, YAML_LOADER, check_bounds
from minikubelet.apiserver import discovery, leases, watchlist
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
from minikubelet.printing import tables
from minikubelet.store import ObjectSelector

__all__ = ["MAX_BODY_BYTES", "build_app"]

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 3 * 1024 * 1024
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
        Route("/api/v1/namespaces/{namespace}/pods/{name}/log", api.log, methods=["GET"]),
        Route(f"{pod}/probes", api.probes, methods=["GET"]),
        Route(f"{pod}/lifecycle", api.lifecycle, methods=["GET"]),
        WebSocketRoute(f"{pod}/exec", streams.exec_socket),
        WebSocketRoute(f"{pod}/attach", streams.attach_socket),
        Route(f"{pod}/exec", _errors(streams.http_fallback), methods=["GET", "POST"]),
        Route(f"{pod}/attach", _errors(streams.http_fallback), methods=["GET", "POST"]),
        WebSocketRoute(f"{pod}/portforward", streams.portforward_socket),
        Route(f"{pod}/portforward", _errors(streams.portforward_fallback), methods=["GET", "POST"]),
        Route("/api/v1/namespaces/{namespace}/{resource}/{name}", api.item, methods=["GET", "PUT", "PATCH", "DELETE"]),
        Route("/api/v1/{resource}", api.collection, methods=["GET", "POST"]),
        Route("/api/v1/{resource}/{name}", api.item, methods=["GET", "PUT", "PATCH", "DELETE"]),
    ]
    app = Starlette(routes=routes)
    return _BearerAuth(app, token)


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
        for name in ("collection", "item", "status", "binding", "log", "probes", "lifecycle", "leases"):
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

    async def leases(self, request: Request) -> Response:
        """The read-only node Lease of `coordination.k8s.io/v1`, derived from the Node (`leases.py`)."""
        query = request.query_params
        if query.get("watch") in ("true", "1"):
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
        return _json(discovery.openapi_v1())

    # ------------------------------------------------------------------------------------------- objects

    async def collection(self, request: Request) -> Response:
        resource, namespace = _resource(request)
        if request.method == "POST":
            body = await _read_json(request)
            obj, warnings = self.registry.create(
                resource,
                namespace,
                body,
                validation=_field_validation(request),
                dry_run=_dry_run(request),
                manager=_field_manager(request),
            )
            return _json(obj, 201, _warning_headers(warnings))
        query = request.query_params
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
            body = await _read_json(request)
            validation, manager = _field_validation(request), _field_manager(request)
            obj, warnings = self.registry.update(resource, namespace, name, body, validation=validation, manager=manager)
            return _json(obj, 200, _warning_headers(warnings))
        if request.method == "PATCH":
            return await self._patch(request, resource, namespace, name)
        return await self._delete(request, resource, namespace, name)

    async def status(self, request: Request) -> Response:
        resource = RESOURCES["pods"]
        namespace, name = request.path_params["namespace"], request.path_params["name"]
        if request.method == "GET":
            return _json(self.registry.get(resource, namespace, name))
        if request.method == "PUT":
            return _json(self.registry.update_status(resource, namespace, name, await _read_json(request)))
        return await self._patch(request, resource, namespace, name, subresource="status")

    async def binding(self, request: Request) -> Response:
        namespace, name = request.path_params["namespace"], request.path_params["name"]
        self.registry.bind(namespace, name, await _read_json(request))
        return _json({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}, 201)

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

    async def _patch(self, request: Request, resource: Resource, namespace: str, name: str, *, subresource: str = "") -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        patch_type = _PATCH_TYPES.get(content_type)
        if patch_type is None:
            body = {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "code": 415,
                "reason": "UnsupportedMediaType",
                "message": f"the body of the request was in an unknown format - "
                f"accepted media types include: {', '.join(_PATCH_TYPES)}",
            }
            return _status_response(body, 415)
        patch = await _read_body(request, yaml_ok=patch_type == "apply")
        obj, warnings, created = self.registry.patch(
            resource,
            namespace,
            name,
            patch_type,
            patch,
            validation=_field_validation(request),
            subresource=subresource,
            # Server-side apply needs an explicit manager; other writes default to the client's name.
            manager=request.query_params.get("fieldManager", "") if patch_type == "apply" else _field_manager(request),
            force=_flag(request.query_params.get("force")),
        )
        return _json(obj, 201 if created else 200, _warning_headers(warnings))

    async def _delete(self, request: Request, resource: Resource, namespace: str, name: str) -> Response:
        options = await _read_json(request, default={})
        if not isinstance(options, dict):
            raise BadRequestError("the body of a delete must be a DeleteOptions object")
        grace = request.query_params.get("gracePeriodSeconds", options.get("gracePeriodSeconds"))
        preconditions = options.get("preconditions") or {}
        try:
            grace_seconds = None if grace is None else int(grace)
        except (TypeError, ValueError):
            raise BadRequestError(f"invalid gracePeriodSeconds: {grace}") from None
        obj = self.registry.delete(
            resource,
            namespace,
            name,
            grace_period=grace_seconds,
            uid=preconditions.get("uid"),
            resource_version=preconditions.get("resourceVersion"),
        )
        return _json(obj)

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


def _flag(value: str | None) -> bool:
    return value in ("true", "1", "True")


def _float(value: str | None) -> float | None:
    try:
        return None if value is None else float(value)
    except ValueError:
        raise BadRequestError(f"invalid number: {value}") from None


async def _read_body(request: Request, *, yaml_ok: bool = False) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _TooLarge()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLarge()
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data.strip():
        return None
    try:
        body = yaml.load(data, Loader=YAML_LOADER) if yaml_ok else json.loads(data)
    except (ValueError, yaml.YAMLError) as exc:
        raise BadRequestError(f"couldn't decode the request body: {exc}") from None
    except RecursionError:
        raise BadRequestError(f"couldn't decode the request body: nested more than {MAX_DEPTH} levels deep") from None
    problem = check_bounds(body)
    if problem:
        raise BadRequestError(f"couldn't decode the request body: {problem}")
    return body


async def _read_json(request: Request, *, default: Any = None) -> Any:
    body = await _read_body(request)
    return default if body is None else body


class _MethodNotAllowed(StatusError):
    code, reason = 405, "MethodNotAllowed"

    def __init__(self) -> None:
        super().__init__("the server does not allow this method on the requested resource")


class _TooLarge(StatusError):
    code, reason = 413, "RequestEntityTooLarge"

    def __init__(self) -> None:
        super().__init__(f"the request body is larger than {MAX_BODY_BYTES} bytes")
