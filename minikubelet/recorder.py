"""The event recorder the scheduler and the kubelet share, de-duplicating as client-go's EventCorrelator.

Identical events (same source, involved object, type, reason and message) become one Event whose `count`
grows and whose `lastTimestamp` moves, which is what `kubectl describe` shows as `(x3 over 2m)`
(docs/kubelet.md#de-duplication). The key -> event-name cache is an LRU of 4096 entries, like client-go's. The
similar-event aggregation ("combined from similar events") and the spam filter are not reproduced.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from minikubelet.api.meta import format_time
from minikubelet.errors import AlreadyExistsError, NotFoundError
from minikubelet.store import Store

__all__ = ["EventRecorder"]

log = logging.getLogger(__name__)

EventType = Literal["Normal", "Warning"]
_CACHE_SIZE = 4096


class EventRecorder:
    """Record core/v1 Events about objects, in the store, as `component` on `host`."""

    def __init__(
        self, store: Store, *, component: str, host: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.store = store
        self.component = component
        self.host = host
        self.clock = clock
        self._names: OrderedDict[tuple[str, ...], tuple[str, str]] = OrderedDict()

    def record(
        self, obj: Mapping[str, Any], event_type: EventType, reason: str, message: str, *, field_path: str = ""
    ) -> dict[str, Any]:
        """Record one occurrence; returns the stored Event."""
        meta = obj.get("metadata", {})
        involved = {
            "kind": obj.get("kind", ""),
            "namespace": meta.get("namespace", ""),
            "name": meta.get("name", ""),
            "uid": meta.get("uid", ""),
            "apiVersion": obj.get("apiVersion", "v1"),
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        if field_path:
            involved["fieldPath"] = field_path
        key = (
            self.component,
            self.host,
            involved["kind"],
            involved["namespace"],
            involved["name"],
            field_path,
            involved["uid"],
            involved["apiVersion"],
            event_type,
            reason,
            message,
        )
        now = format_time(self.clock())
        known = self._names.get(key)
        if known is not None:
            self._names.move_to_end(key)
            try:
                return self.store.update_with("Event", known[0], known[1], lambda e: _bump(e, now))
            except NotFoundError:
                del self._names[key]
        event = self._new_event(involved, event_type, reason, message, now)
        stored = self._create(event)
        self._names[key] = (stored["metadata"]["namespace"], stored["metadata"]["name"])
        while len(self._names) > _CACHE_SIZE:
            self._names.popitem(last=False)
        log.debug("event %s %s %s: %s", involved["name"], event_type, reason, message)
        return stored

    def _create(self, event: dict[str, Any]) -> dict[str, Any]:
        """Store a new event; two events about one object in one clock tick get the next free nanosecond."""
        while True:
            try:
                return self.store.create(event)
            except AlreadyExistsError:
                prefix, _, stamp = event["metadata"]["name"].rpartition(".")
                event["metadata"]["name"] = f"{prefix}.{int(stamp, 16) + 1:x}"

    def _new_event(self, involved: dict[str, str], event_type: EventType, reason: str, message: str, now: str) -> dict[str, Any]:
        namespace = involved["namespace"] or "default"
        name = f"{involved['name']}.{int(self.clock().timestamp() * 1e9):x}"
        return {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {k: v for k, v in involved.items() if v},
            "reason": reason,
            "message": message,
            "source": {"component": self.component, "host": self.host},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": event_type,
            "reportingComponent": self.component,
            "reportingInstance": self.host,
        }


def _bump(event: dict[str, Any], now: str) -> dict[str, Any]:
    event["count"] = int(event.get("count", 1)) + 1
    event["lastTimestamp"] = now
    return event
