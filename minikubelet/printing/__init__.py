"""kubectl's printers: tables, describe, durations — shared by the API server (server-side tables) and the CLI.

Real kubectl asks the API server for a `meta.k8s.io/v1` Table and only lays it out; `kubectl describe`
formats the objects itself. Both halves live here so that the server (`tables`) and our own CLI
(`render`, `describe`) produce exactly the bytes kubectl 1.32 prints. Everything works on plain JSON
dicts in Kubernetes wire format and takes the current time explicitly, so every output is testable.
"""

from __future__ import annotations

from minikubelet.printing.describe import describe_events, describe_node, describe_pod, describe_probe, pod_qos_class
from minikubelet.printing.durations import age, go_duration, human_duration, parse_time, short_human_duration
from minikubelet.printing.render import format_labels, render_name, render_table
from minikubelet.printing.tables import (
    event_table,
    namespace_table,
    node_table,
    pod_cells,
    pod_status_reason,
    pod_table,
)
from minikubelet.printing.tabwriter import TabWriter, tabwrite

__all__ = [
    "TabWriter",
    "age",
    "describe_events",
    "describe_node",
    "describe_pod",
    "describe_probe",
    "event_table",
    "format_labels",
    "go_duration",
    "human_duration",
    "namespace_table",
    "node_table",
    "parse_time",
    "pod_cells",
    "pod_qos_class",
    "pod_status_reason",
    "pod_table",
    "render_name",
    "render_table",
    "short_human_duration",
    "tabwrite",
]
