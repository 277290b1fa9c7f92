"""The embedded store: Kubernetes objects in a SQLite file, resourceVersions, conflicts and watches.

Only this package touches SQLite (DESIGN.md). `sqlite.py` is the store itself, `selectors.py` the label and
field selectors it filters lists and watches with; this module re-exports what the rest of minikubelet uses.
"""

from __future__ import annotations

from minikubelet.store.selectors import (
    FieldSelector,
    LabelSelector,
    ObjectSelector,
    parse_field_selector,
    parse_label_selector,
    selectable_fields,
)
from minikubelet.store.sqlite import (
    CLUSTER_SCOPED_KINDS,
    HISTORY_SIZE,
    EventType,
    Object,
    Store,
    Watch,
    WatchEvent,
    resource_for,
)

__all__ = [
    "CLUSTER_SCOPED_KINDS",
    "HISTORY_SIZE",
    "EventType",
    "FieldSelector",
    "LabelSelector",
    "Object",
    "ObjectSelector",
    "Store",
    "Watch",
    "WatchEvent",
    "parse_field_selector",
    "parse_label_selector",
    "resource_for",
    "selectable_fields",
]
