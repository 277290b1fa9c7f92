"""Server-side Tables (`meta.k8s.io/v1` `Table`), as kube-apiserver 1.37 builds them for `kubectl get`.

kubectl 1.37 does not know how to print a Pod: it sends `Accept: application/json;as=Table;…` and lays
out whatever columns and cells the server returns; given a plain PodList it falls back to `NAME AGE`.
So the API server has to compute kubectl's columns itself, which kube-apiserver does with
`pkg/printers/internalversion/printers.go` (`printPod`, `printEvent`, `printNode`, `printNamespace`,
`printLease`).
This module is a port of those functions. Like kube-apiserver, it always generates the wide cells
(priority-1 columns); the client hides them unless `-o wide`. Since 1.32 the columns of pods, events,
nodes, namespaces and leases are unchanged; printPod now shows a failed container's reason (`Error`)
rather than `Completed` when the first container completed and another one failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from minikubelet.api.podutil import app_containers, init_containers, is_restartable_init_container, pod_status, statuses_of
from minikubelet.api.wire import Container, ContainerState, ContainerStateTerminated, ContainerStatus, as_pod
from minikubelet.printing.durations import age, parse_time

__all__ = [
    "EVENT_COLUMNS",
    "LEASE_COLUMNS",
    "NAMESPACE_COLUMNS",
    "NODE_COLUMNS",
    "POD_COLUMNS",
    "event_cells",
    "event_table",
    "lease_cells",
    "lease_table",
    "make_table",
    "namespace_cells",
    "namespace_table",
    "node_cells",
    "node_roles",
    "node_table",
    "pod_cells",
    "pod_status_reason",
    "pod_table",
]

Obj = Mapping[str, Any]

# SwaggerDoc strings of the fields the columns show (k8s.io/api, apimachinery); kubectl shows them in
# `kubectl explain`-like help only, never in `get` output.
_NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although some resources may "
    "allow a client to request the generation of an appropriate name automatically. Name is primarily intended "
    "for creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
_AGE_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
    "guaranteed to be set in happens-before order across separate operations. Clients may not set this value. "
    "It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. "
    "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
_ADDRESSES_DOC = (
    "List of addresses reachable to the node. Queried from cloud provider, if available. More info: "
    "https://kubernetes.io/docs/concepts/nodes/node/#addresses Note: This field is declared as mergeable, but "
    "the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers "
    "should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers "
    "should assume that addresses can change during the lifetime of a Node. However, there are some "
    "exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status "
    "or consumers of the downward API (status.hostIP)."
)


def _column(name: str, description: str, *, priority: int = 0, fmt: str = "", kind: str = "string") -> dict[str, Any]:
    return {"name": name, "type": kind, "format": fmt, "description": description, "priority": priority}


POD_COLUMNS: tuple[dict[str, Any], ...] = (
    _column("Name", _NAME_DOC, fmt="name"),
    _column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    _column("Status", "The aggregate status of the containers in this pod."),
    _column(
        "Restarts",
        "The number of times the containers in this pod have been restarted and when the last container in "
        "this pod has restarted.",
    ),
    _column("Age", _AGE_DOC),
    _column(
        "IP",
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
        priority=1,
    ),
    _column(
        "Node",
        "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling "
        "by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes "
        "responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod "
        "to be scheduled on a specific node. "
        "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
        priority=1,
    ),
    _column(
        "Nominated Node",
        "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled "
        "right away as preemption victims receive their graceful termination periods. This field does not "
        "guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere "
        "if other nodes become available sooner. Scheduler may also decide to give the resources on this node to "
        "a higher priority pod that is created after preemption. As a result, this field may be different than "
        "PodSpec.nodeName when the pod is scheduled.",
        priority=1,
    ),
    _column(
        "Readiness Gates",
        "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its "
        'containers are ready AND all conditions specified in the readiness gates have status equal to "True" '
        "More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
        priority=1,
    ),
)

# printers.go's order: the wide columns are interleaved (MESSAGE sits between SOURCE and FIRST SEEN).
EVENT_COLUMNS: tuple[dict[str, Any], ...] = (
    _column("Last Seen", "The time at which the most recent occurrence of this event was recorded."),
    _column("Type", "Type of this event (Normal, Warning), new types could be added in the future"),
    _column(
        "Reason",
        "This should be a short, machine understandable string that gives the reason for the transition into "
        "the object's current status.",
    ),
    _column("Object", "The object that this event is about."),
    _column(
        "Subobject",
        "If referring to a piece of an object instead of an entire object, this string should contain a valid "
        "JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object "
        'reference is to a container within a pod, this would take on a value like: "spec.containers{name}" '
        '(where "name" refers to the name of the container that triggered the event) or if no container name is '
        'specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have '
        "some well-defined way of referencing a part of an object.",
        priority=1,
    ),
    _column("Source", "The component reporting this event. Should be a short machine understandable string.", priority=1),
    _column("Message", "A human-readable description of the status of this operation."),
    _column(
        "First Seen",
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
        priority=1,
    ),
    _column("Count", "The number of times this event has occurred.", priority=1),
    _column("Name", _NAME_DOC, priority=1, fmt="name"),
)

NODE_COLUMNS: tuple[dict[str, Any], ...] = (
    _column("Name", _NAME_DOC, fmt="name"),
    _column("Status", "The status of the node"),
    _column("Roles", "The roles of the node"),
    _column("Age", _AGE_DOC),
    _column("Version", "Kubelet Version reported by the node."),
    _column("Internal-IP", _ADDRESSES_DOC, priority=1),
    _column("External-IP", _ADDRESSES_DOC, priority=1),
    _column("OS-Image", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", priority=1),
    _column("Kernel-Version", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", priority=1),
    _column(
        "Container-Runtime",
        "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
        priority=1,
    ),
)

NAMESPACE_COLUMNS: tuple[dict[str, Any], ...] = (
    _column("Name", _NAME_DOC, fmt="name"),
    _column("Status", "The status of the namespace"),
    _column("Age", _AGE_DOC),
)

LEASE_COLUMNS: tuple[dict[str, Any], ...] = (
    _column("Name", _NAME_DOC, fmt="name"),
    _column(
        "Holder",
        "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election "
        "is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.",
    ),
    _column("Age", _AGE_DOC),
)


# ---------------------------------------------------------------------------------------------------
# The Table object


def _row_object(obj: Obj, include_object: str) -> dict[str, Any] | None:
    # Shallow copies: a table is encoded as soon as it is made, and nothing writes into a row's object (a deep
    # copy of every pod was a quarter of the server's time for `get pods` with 100 pods).
    if include_object == "None":
        return None
    if include_object == "Object":
        return dict(obj)
    if include_object == "Metadata":
        metadata = dict(obj.get("metadata") or {})
        return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata}
    raise ValueError(f"includeObject must be None, Metadata or Object, not {include_object!r}")


def make_table(
    columns: Sequence[Mapping[str, Any]],
    objects: Sequence[Obj],
    cells: Callable[[Obj], list[Any]],
    *,
    include_object: str = "Metadata",
    resource_version: str = "",
    conditions: Callable[[Obj], list[dict[str, str]] | None] | None = None,
) -> dict[str, Any]:
    """A `meta.k8s.io/v1` Table with one row per object; `cells` computes a row's cells."""
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": cells(obj)}
        row_conditions = conditions(obj) if conditions is not None else None
        if row_conditions:
            row["conditions"] = row_conditions
        row_object = _row_object(obj, include_object)
        if row_object is not None:
            row["object"] = row_object
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [dict(column) for column in columns],
        "rows": rows,
    }


# ---------------------------------------------------------------------------------------------------
# Pods (printPod)


def _state(status: ContainerStatus, key: Literal["state", "lastState"] = "state") -> ContainerState:
    return status.get(key) or {}


def _has_condition(pod: Obj, kind: str, status: str = "True") -> bool:
    return any(c.get("type") == kind and c.get("status") == status for c in (pod.get("status") or {}).get("conditions") or [])


class _PodSummary:
    """The mutable tallies of printPod: reason, ready/total, restarts and the latest restart time."""

    def __init__(self, pod: Obj) -> None:
        typed = as_pod(pod)
        status = pod_status(typed)
        self.reason: str = status.get("reason") or status.get("phase") or ""
        if any(c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated" for c in status.get("conditions") or []):
            self.reason = "SchedulingGated"
        self.init_specs: dict[str, Container] = {c.get("name"): c for c in init_containers(typed)}
        self.total = len(app_containers(typed)) + sum(map(is_restartable_init_container, self.init_specs.values()))
        self.ready = 0
        self.restarts = 0
        self.last_restart: datetime | None = None
        self.sidecar_restarts = 0
        self.sidecar_last_restart: datetime | None = None

    @staticmethod
    def later(current: datetime | None, status: ContainerStatus) -> datetime | None:
        terminated = _state(status, "lastState").get("terminated")
        finished = parse_time(terminated.get("finishedAt") if terminated is not None else None)
        if finished is not None and (current is None or current < finished):
            return finished
        return current


def _init_step(summary: _PodSummary, index: int, status: ContainerStatus, count: int) -> bool:
    """One iteration of printPod's init-container loop; True when the loop should go on."""
    summary.restarts += int(status.get("restartCount") or 0)
    summary.last_restart = summary.later(summary.last_restart, status)
    spec = summary.init_specs.get(status.get("name", ""))
    restartable = spec is not None and is_restartable_init_container(spec)
    if restartable:
        summary.sidecar_restarts += int(status.get("restartCount") or 0)
        summary.sidecar_last_restart = summary.later(summary.sidecar_last_restart, status)
    terminated, waiting = _state(status).get("terminated"), _state(status).get("waiting")
    if terminated is not None and int(terminated.get("exitCode") or 0) == 0:
        return True
    if restartable and status.get("started"):
        summary.ready += 1 if status.get("ready") else 0
        return True
    if terminated is not None:
        summary.reason = "Init:" + _terminated_reason(terminated)
    elif waiting is not None and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
        summary.reason = "Init:" + waiting["reason"]
    else:
        summary.reason = f"Init:{index}/{count}"
    return False


def _terminated_reason(terminated: ContainerStateTerminated) -> str:
    if terminated.get("reason"):
        return str(terminated["reason"])
    if terminated.get("signal"):
        return f"Signal:{terminated['signal']}"
    return f"ExitCode:{terminated.get('exitCode') or 0}"


def _containers_step(summary: _PodSummary, pod: Obj) -> None:
    """printPod's loop over regular container statuses, last to first (so the first one wins). A pod whose
    first container `Completed` shows `Running` while a ready container runs in a Ready pod, else the first
    non-zero exit's reason (`Error`), else `NotReady` while a container still runs."""
    summary.restarts, summary.last_restart = summary.sidecar_restarts, summary.sidecar_last_restart
    has_running = False
    error_reason = ""
    for status in reversed(statuses_of(pod_status(as_pod(pod)), "regular")):
        summary.restarts += int(status.get("restartCount") or 0)
        summary.last_restart = summary.later(summary.last_restart, status)
        state = _state(status)
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if waiting is not None and waiting.get("reason"):
            summary.reason = waiting["reason"]
        elif terminated is not None:
            summary.reason = _terminated_reason(terminated)
            if int(terminated.get("exitCode") or 0) != 0:
                error_reason = summary.reason
        elif status.get("ready") and state.get("running") is not None:
            has_running = True
            summary.ready += 1
    if summary.reason == "Completed":
        if has_running and _has_condition(pod, "Ready"):
            summary.reason = "Running"
        elif error_reason:
            summary.reason = error_reason
        elif has_running:
            summary.reason = "NotReady"


def _summarize(pod: Obj) -> _PodSummary:
    summary = _PodSummary(pod)
    init_count = len(summary.init_specs)
    initializing = False
    for index, init_status in enumerate(statuses_of(pod_status(as_pod(pod)), "init")):
        if not _init_step(summary, index, init_status, init_count):
            initializing = True
            break
    if not initializing or _has_condition(pod, "Initialized"):
        _containers_step(summary, pod)
    metadata, status = pod.get("metadata") or {}, pod.get("status") or {}
    if metadata.get("deletionTimestamp") and status.get("reason") == "NodeLost":
        summary.reason = "Unknown"
    elif metadata.get("deletionTimestamp") and status.get("phase") not in ("Succeeded", "Failed"):
        summary.reason = "Terminating"
    return summary


def pod_status_reason(pod: Obj) -> str:
    """The STATUS column of `kubectl get pods` (`Running`, `CrashLoopBackOff`, `Init:0/1`, `Terminating`…)."""
    return _summarize(pod).reason


def _restarts_text(summary: _PodSummary, now: datetime) -> str:
    if summary.restarts != 0 and summary.last_restart is not None:
        return f"{summary.restarts} ({age(summary.last_restart, now)} ago)"
    return str(summary.restarts)


def _readiness_gates(pod: Obj) -> str:
    gates = (pod.get("spec") or {}).get("readinessGates") or []
    if not gates:
        return "<none>"
    conditions = (pod.get("status") or {}).get("conditions") or []
    true = 0
    for gate in gates:
        match = next((c for c in conditions if c.get("type") == gate.get("conditionType")), None)
        true += 1 if match is not None and match.get("status") == "True" else 0
    return f"{true}/{len(gates)}"


def pod_cells(pod: Obj, *, now: datetime) -> list[Any]:
    """A pod's row: NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES."""
    summary = _summarize(pod)
    metadata, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    pod_ips = status.get("podIPs") or []
    pod_ip = pod_ips[0].get("ip", "") if pod_ips else ""
    return [
        metadata.get("name", ""),
        f"{summary.ready}/{summary.total}",
        summary.reason,
        _restarts_text(summary, now),
        age(metadata.get("creationTimestamp"), now),
        pod_ip or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        _readiness_gates(pod),
    ]


def _pod_conditions(pod: Obj) -> list[dict[str, str]] | None:
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return [_completed("Succeeded", "The pod has completed successfully.")]
    if phase == "Failed":
        return [_completed("Failed", "The pod failed.")]
    return None


def _completed(reason: str, message: str) -> dict[str, str]:
    return {"type": "Completed", "status": "True", "reason": reason, "message": message}


def pod_table(
    pods: Sequence[Obj], *, now: datetime, include_object: str = "Metadata", resource_version: str = ""
) -> dict[str, Any]:
    """The Table kube-apiserver returns for `kubectl get pods` (all columns, wide included)."""
    return make_table(
        POD_COLUMNS,
        pods,
        lambda pod: pod_cells(pod, now=now),
        include_object=include_object,
        resource_version=resource_version,
        conditions=_pod_conditions,
    )


# ---------------------------------------------------------------------------------------------------
# Events (printEvent)


def _event_source(event: Obj) -> str:
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingController") or ""
    instance = source.get("host") or event.get("reportingInstance") or ""
    return f"{component}, {instance}" if instance else component


def _event_target(event: Obj) -> str:
    involved = event.get("involvedObject") or {}
    kind = str(involved.get("kind") or "").lower()
    return f"{kind}/{involved['name']}" if involved.get("name") else kind


def event_cells(event: Obj, *, now: datetime) -> list[Any]:
    """LAST SEEN TYPE REASON OBJECT SUBOBJECT SOURCE MESSAGE FIRST SEEN COUNT NAME."""
    first_seen = age(event.get("firstTimestamp") or event.get("eventTime"), now)
    last_seen = age(event["lastTimestamp"], now) if event.get("lastTimestamp") else first_seen
    count = int(event.get("count") or 0)
    series = event.get("series")
    if series:
        last_seen = age(series.get("lastObservedTime"), now)
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1  # singleton events of the new API carry no count
    return [
        last_seen,
        event.get("type", ""),
        event.get("reason", ""),
        _event_target(event),
        (event.get("involvedObject") or {}).get("fieldPath", ""),
        _event_source(event),
        str(event.get("message") or "").strip(),
        first_seen,
        count,
        (event.get("metadata") or {}).get("name", ""),
    ]


def event_table(
    events: Sequence[Obj], *, now: datetime, include_object: str = "Metadata", resource_version: str = ""
) -> dict[str, Any]:
    """The Table for `kubectl get events` (rows in the order given, as the server lists them)."""
    return make_table(
        EVENT_COLUMNS,
        events,
        lambda event: event_cells(event, now=now),
        include_object=include_object,
        resource_version=resource_version,
    )


# ---------------------------------------------------------------------------------------------------
# Nodes and namespaces


def node_roles(node: Obj) -> list[str]:
    """Roles from `node-role.kubernetes.io/<role>` labels and a `kubernetes.io/role` label, sorted."""
    roles = set()
    for key, value in ((node.get("metadata") or {}).get("labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/") and key.removeprefix("node-role.kubernetes.io/"):
            roles.add(key.removeprefix("node-role.kubernetes.io/"))
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return sorted(roles)


def _node_status(node: Obj) -> str:
    ready = [c for c in (node.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"]
    status = ["Ready" if ready[-1].get("status") == "True" else "NotReady"] if ready else ["Unknown"]
    if (node.get("spec") or {}).get("unschedulable"):
        status.append("SchedulingDisabled")
    return ",".join(status)


def _node_address(node: Obj, kind: str) -> str:
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == kind:
            return str(address.get("address", ""))
    return "<none>"


def node_cells(node: Obj, *, now: datetime) -> list[Any]:
    """NAME STATUS ROLES AGE VERSION INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME."""
    info = (node.get("status") or {}).get("nodeInfo") or {}
    metadata = node.get("metadata") or {}
    return [
        metadata.get("name", ""),
        _node_status(node),
        ",".join(node_roles(node)) or "<none>",
        age(metadata.get("creationTimestamp"), now),
        info.get("kubeletVersion", ""),
        _node_address(node, "InternalIP"),
        _node_address(node, "ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def node_table(
    nodes: Sequence[Obj], *, now: datetime, include_object: str = "Metadata", resource_version: str = ""
) -> dict[str, Any]:
    """The Table for `kubectl get nodes`."""
    return make_table(
        NODE_COLUMNS,
        nodes,
        lambda node: node_cells(node, now=now),
        include_object=include_object,
        resource_version=resource_version,
    )


def namespace_cells(namespace: Obj, *, now: datetime) -> list[Any]:
    """NAME STATUS AGE."""
    metadata = namespace.get("metadata") or {}
    phase = (namespace.get("status") or {}).get("phase", "")
    return [metadata.get("name", ""), phase, age(metadata.get("creationTimestamp"), now)]


def namespace_table(
    namespaces: Sequence[Obj], *, now: datetime, include_object: str = "Metadata", resource_version: str = ""
) -> dict[str, Any]:
    """The Table for `kubectl get namespaces`."""
    return make_table(
        NAMESPACE_COLUMNS,
        namespaces,
        lambda namespace: namespace_cells(namespace, now=now),
        include_object=include_object,
        resource_version=resource_version,
    )


def lease_cells(lease: Obj, *, now: datetime) -> list[Any]:
    """NAME HOLDER AGE (printLease)."""
    metadata = lease.get("metadata") or {}
    holder = (lease.get("spec") or {}).get("holderIdentity") or ""
    return [metadata.get("name", ""), holder, age(metadata.get("creationTimestamp"), now)]


def lease_table(
    leases: Sequence[Obj], *, now: datetime, include_object: str = "Metadata", resource_version: str = ""
) -> dict[str, Any]:
    """The Table for `kubectl get leases`."""
    return make_table(
        LEASE_COLUMNS,
        leases,
        lambda lease: lease_cells(lease, now=now),
        include_object=include_object,
        resource_version=resource_version,
    )
