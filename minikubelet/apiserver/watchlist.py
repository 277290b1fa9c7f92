"""A watch's options, and the streaming list (KEP-3157, "watch-list") that client-go's reflector asks for when
its WatchListClient gate is on, as it is in kubectl 1.37: `delete` and `delete -f` waiting for the pod to
go, `wait --for=...`, `run --rm`, every informer.

The request is a watch with `sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`.
The server answers with one ADDED event per object in the current state, then a BOOKMARK whose object carries
only `metadata.resourceVersion` (the state's) and the annotation `k8s.io/initial-events-end: "true"`; the
client takes that as the end of the list and goes on watching the same stream. A client that asked for
bookmarks also gets a plain BOOKMARK (no annotation) now and then, so it can resume from a recent version.

The option rules and their texts are apimachinery's `ValidateListOptions` / `validateWatchOptions`
(meta/internalversion/validation): they must match the API server's word for word, so they are written here
by hand. The bookmark's object is the cacher's (storage/cacher): an empty object of the kind with the
resourceVersion and, at the end of the initial events, the annotation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from minikubelet.apiserver.decoding import query_flag
from minikubelet.errors import FieldError, InvalidError

__all__ = ["BOOKMARK_SECONDS", "INITIAL_EVENTS_END", "WatchOptions", "bookmark", "validate_list_options"]

#: The annotation on the BOOKMARK that ends a streaming list's initial events.
INITIAL_EVENTS_END = "k8s.io/initial-events-end"
#: How often a watch that allows bookmarks gets one (the cacher's bookmarkFrequency is a minute).
BOOKMARK_SECONDS = 60.0

_NOT_OLDER_THAN = "NotOlderThan"
_EXACT = "Exact"


@dataclass(frozen=True, slots=True)
class WatchOptions:
    """The list/watch query parameters that decide what a watch sends first."""

    watch: bool
    resource_version: str
    resource_version_match: str
    send_initial_events: bool | None  # None: not given (a legacy watch)
    allow_bookmarks: bool

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> WatchOptions:
        send = query.get("sendInitialEvents")
        return cls(
            watch=query_flag(query.get("watch")),
            resource_version=query.get("resourceVersion", ""),
            resource_version_match=query.get("resourceVersionMatch", ""),
            send_initial_events=None if send is None else query_flag(send),
            allow_bookmarks=query_flag(query.get("allowWatchBookmarks")),
        )

    @property
    def streaming_list(self) -> bool:
        """Whether the watch starts with the current state and ends it with the initial-events-end bookmark."""
        return self.send_initial_events is True


def validate_list_options(options: WatchOptions, *, has_continue: bool = False) -> None:
    """apimachinery's ValidateListOptions (the WatchList feature on, as in v1.37): InvalidError (422) naming
    every field that is wrong."""
    errors = _watch_errors(options, has_continue) if options.watch else _list_errors(options, has_continue)
    if errors:
        raise InvalidError("ListOptions.meta.k8s.io", "", errors)


def _list_errors(options: WatchOptions, has_continue: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    match = options.resource_version_match
    if match:
        if not options.resource_version:
            errors.append(_forbidden("resourceVersionMatch is forbidden unless resourceVersion is provided"))
        if has_continue:
            errors.append(_forbidden("resourceVersionMatch is forbidden when continue is provided"))
        if match not in (_EXACT, _NOT_OLDER_THAN):
            errors.append(FieldError.not_supported("resourceVersionMatch", match, [_EXACT, _NOT_OLDER_THAN, ""]))
        if match == _EXACT and options.resource_version == "0":
            errors.append(_forbidden('resourceVersionMatch "exact" is forbidden for resourceVersion "0"'))
    if options.send_initial_events is not None:
        errors.append(FieldError.forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"))
    return errors


def _watch_errors(options: WatchOptions, has_continue: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    match = options.resource_version_match
    if options.send_initial_events is not None and match != _NOT_OLDER_THAN:
        errors.append(_forbidden(f"sendInitialEvents requires setting resourceVersionMatch to {_NOT_OLDER_THAN}"))
    if match:
        if options.send_initial_events is None:
            errors.append(_forbidden("resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"))
        if match != _NOT_OLDER_THAN:
            errors.append(FieldError.not_supported("resourceVersionMatch", match, [_NOT_OLDER_THAN]))
        if has_continue:
            errors.append(_forbidden("resourceVersionMatch is forbidden when continue is provided"))
    return errors


def _forbidden(detail: str) -> FieldError:
    return FieldError.forbidden("resourceVersionMatch", detail)


def bookmark(kind: str, api_version: str, resource_version: str, *, initial_events_end: bool = False) -> dict[str, Any]:
    """A BOOKMARK event's object: the kind's empty object with only the resourceVersion (and the annotation
    that ends a streaming list's initial events)."""
    metadata: dict[str, Any] = {"resourceVersion": resource_version}
    if initial_events_end:
        metadata["annotations"] = {INITIAL_EVENTS_END: "true"}
    return {"kind": kind, "apiVersion": api_version, "metadata": metadata}
