"""`kubectl describe pod` and `kubectl describe node`, byte for byte as kubectl 1.37 prints them.

kubectl's describers (`staging/src/k8s.io/kubectl/pkg/describe/describe.go`, as of 1.37) write `key:\tvalue` lines
through a PrefixWriter (two spaces per level, ESC and CR escaped) into one Go tabwriter (minwidth 0,
tabwidth 8, padding 2, padchar ' '), so the layout is decided by which lines carry tabs: `IPs:` or
`Command:` on a line of their own end an alignment block, a condition row `Ready \tTrue \n` keeps its
trailing spaces, and so on. This module replays the same writes, in the same order and with the same
format strings, into our tabwriter emulation; the rest follows from the algorithm.

Timestamps are shown in the time zone of `now` (kubectl shows the client's local time); durations come
from `durations.human_duration`. Quantities are printed in Kubernetes' canonical form.

What 1.37 prints differently from 1.32: an event's message is prefixed with its involvedObject.fieldPath
(`spec.containers{app}: Started container app`); probes read `successThreshold=1 failureThreshold=3`
(not `#success=1 #failure=3`); a named container port reads `8080/TCP (http)`; a projected secret or
config map says `Optional: false`; `SchedulingGroup:` follows the tolerations; the node's `System Info`
has no `Kube-Proxy Version`; the QoS class is computed container by container (and from pod-level
resources when set); the node's pod table counts pod-level resources and the containers' actual
(status) resources, as component-helpers' PodRequests/PodLimits do.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any

from minikubelet.api.podutil import (
    all_containers,
    app_containers,
    ephemeral_containers,
    init_containers,
    pod_spec,
    pod_status,
    probe_of,
    statuses_of,
)
from minikubelet.api.quantity import Quantity
from minikubelet.api.resources import (
    Resources,
    add_resources,
    is_pod_level_resources_set,
    pod_limits,
    pod_requests,
    resource_list,
)
from minikubelet.api.wire import ProbeKind, as_container, as_pod
from minikubelet.printing.durations import age, parse_time
from minikubelet.printing.render import escape_terminal
from minikubelet.printing.tables import node_roles
from minikubelet.printing.tabwriter import TabWriter

__all__ = ["describe_events", "describe_node", "describe_pod", "describe_probe", "pod_qos_class"]

Obj = Mapping[str, Any]

_SKIP_ANNOTATIONS = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})
_MAX_ANNOTATION_LEN = 140
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_GO_ZERO_TIME = "Mon, 01 Jan 0001 00:00:00 +0000"


class _Writer:
    """kubectl's PrefixWriter over the describe tabwriter."""

    def __init__(self, now: datetime) -> None:
        self._tabwriter = TabWriter(0, 8, 2, " ")
        self.now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
        self.tz: tzinfo = self.now.tzinfo or UTC

    def write(self, level: int, text: str) -> None:
        self._tabwriter.write(escape_terminal("  " * level + text))

    def value(self) -> str:
        self._tabwriter.flush()
        return self._tabwriter.getvalue()

    def time(self, timestamp: str | None) -> str:
        """Go's `Format(time.RFC1123Z)` in the display zone; the zero time when unset."""
        moment = parse_time(timestamp)
        if moment is None:
            return _GO_ZERO_TIME
        local = moment.astimezone(self.tz)
        offset = local.utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset is not None else 0
        sign, minutes = ("-", -minutes) if minutes < 0 else ("+", minutes)
        return (
            f"{_DAYS[local.weekday()]}, {local.day:02d} {_MONTHS[local.month - 1]} {local.year:04d} "
            f"{local.hour:02d}:{local.minute:02d}:{local.second:02d} {sign}{minutes // 60:02d}{minutes % 60:02d}"
        )

    def age(self, timestamp: str | None) -> str:
        return age(timestamp, self.now)


def _go_bool(value: Any) -> str:
    return "true" if value else "false"


def _title_bool(value: Any) -> str:
    return "True" if value else "False"


def _go_list(items: Sequence[Any]) -> str:
    """Go's `%v` of a string slice: `[a b c]`."""
    return "[" + " ".join(str(item) for item in items) + "]"


def _go_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def _or_none(text: str) -> str:
    return text if text else "<none>"


# ---------------------------------------------------------------------------------------------------
# Quantities (the resource helpers are `minikubelet.api.resources`)

_ZERO = Quantity(Decimal(0))


def _qty(raw: Any) -> Quantity:
    return Quantity.parse_or_zero(raw)


def _canonical(raw: Any) -> str:
    """A quantity as `Quantity.String()` prints it (`0.5` -> `500m`); unparsable text as is."""
    try:
        return str(Quantity.parse(str(raw)))
    except ValueError:
        return str(raw)


def pod_qos_class(pod: Obj) -> str:
    """`qos.GetPodQOS`: status.qosClass when set, else `ComputePodQOS`.

    ComputePodQOS (kubectl 1.37) rates the pod-level resources when they are set, else every init and
    regular container on its own: a container is BestEffort without any request or limit, else each of cpu
    and memory is BestEffort (request = limit = 0), Guaranteed (request = limit > 0) or Burstable (they
    differ); one Burstable rating, or a mix of BestEffort and Guaranteed, makes the pod Burstable.
    """
    stored = (pod.get("status") or {}).get("qosClass")
    if stored:
        return str(stored)
    typed = as_pod(pod)
    if is_pod_level_resources_set(typed):
        return _requirements_qos(pod_spec(typed).get("resources"))
    pod_qos = ""
    for container in all_containers(typed, ephemeral=False):
        container_qos = _requirements_qos(container.get("resources"))
        if container_qos == "Burstable":
            return container_qos
        if not pod_qos:
            pod_qos = container_qos
        elif pod_qos != container_qos:
            return "Burstable"
    return pod_qos or "BestEffort"


def _requirements_qos(resources: Obj | None) -> str:
    requests, limits = (resources or {}).get("requests") or {}, (resources or {}).get("limits") or {}
    if not requests and not limits:
        return "BestEffort"
    qos = ""
    for name in ("cpu", "memory"):
        request, limit = _qty(requests.get(name, 0)), _qty(limits.get(name, 0))
        if request.value != limit.value:
            return "Burstable"
        resource_qos = "BestEffort" if request.value == 0 else "Guaranteed"
        if not qos:
            qos = resource_qos
        elif qos != resource_qos:
            return "Burstable"
    return qos


# ---------------------------------------------------------------------------------------------------
# Shared pieces: labels, annotations, tolerations, taints, events


def _labels_multiline(w: _Writer, title: str, labels: Mapping[str, str] | None) -> None:
    w.write(0, f"{title}:\t")
    if not labels:
        w.write(0, "<none>\n")
        return
    for index, key in enumerate(sorted(labels)):
        if index:
            w.write(0, "\t")
        w.write(0, f"{key}={labels[key]}\n")


def _shorten(text: str, limit: int) -> str:
    raw = text.encode()
    return raw[:limit].decode(errors="ignore") + "..." if len(raw) > limit else text


def _annotations_multiline(w: _Writer, title: str, annotations: Mapping[str, str] | None) -> None:
    w.write(0, f"{title}:\t")
    keys = sorted(key for key in annotations or {} if key not in _SKIP_ANNOTATIONS)
    if not keys:
        w.write(0, "<none>\n")
        return
    for index, key in enumerate(keys):
        if index:
            w.write(0, "\t")
        value = str((annotations or {})[key]).removesuffix("\n")
        if len(value.encode()) + len(key.encode()) + 2 > _MAX_ANNOTATION_LEN or "\n" in value:
            w.write(0, f"{key}:\n")
            for part in value.split("\n"):
                w.write(0, f"\t  {_shorten(part, _MAX_ANNOTATION_LEN - 2)}\n")
        else:
            w.write(0, f"{key}: {value}\n")


def _toleration_text(toleration: Obj) -> str:
    key, value, effect = (str(toleration.get(k) or "") for k in ("key", "value", "effect"))
    text = key + (f"={value}" if value else "") + (f":{effect}" if effect else "")
    if toleration.get("operator") == "Exists" and not value:
        text += " op=Exists" if key or effect else "op=Exists"
    if toleration.get("tolerationSeconds") is not None:
        text += f" for {toleration['tolerationSeconds']}s"
    return text


def _tolerations_multiline(w: _Writer, title: str, tolerations: Sequence[Obj]) -> None:
    w.write(0, f"{title}:\t")
    if not tolerations:
        w.write(0, "<none>\n")
        return
    for index, toleration in enumerate(sorted(tolerations, key=lambda t: str(t.get("key", "")))):
        if index:
            w.write(0, "\t")
        w.write(0, _toleration_text(toleration) + "\n")


def _requirement_text(key: str, operator: str, values: Sequence[Any]) -> str:
    """One labels.Requirement as `String()` writes it (values sorted)."""
    joined = ",".join(sorted(str(v) for v in values))
    texts = {"Equals": f"{key}={joined}", "In": f"{key} in ({joined})", "NotIn": f"{key} notin ({joined})"}
    return texts.get(operator) or (key if operator == "Exists" else f"!{key}")


def _format_label_selector(selector: Obj) -> str:
    """metav1.FormatLabelSelector: the requirements sorted by key, `<none>` for an empty selector, `<error>`
    for one LabelSelectorAsSelector refuses (an unknown operator, In/NotIn without values...)."""
    requirements = [(str(k), "Equals", [v]) for k, v in (selector.get("matchLabels") or {}).items()]
    for expression in selector.get("matchExpressions") or []:
        operator, values = str(expression.get("operator") or ""), list(expression.get("values") or [])
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist") or (operator in ("In", "NotIn")) != bool(values):
            return "<error>"
        requirements.append((str(expression.get("key") or ""), operator, values))
    text = ",".join(_requirement_text(*r) for r in sorted(requirements, key=lambda r: r[0]))
    return text or "<none>"


def _topology_spread_constraints(w: _Writer, constraints: Sequence[Obj]) -> None:
    """describeTopologySpreadConstraints: one line per constraint, sorted by topology key."""
    if not constraints:
        return
    w.write(0, "Topology Spread Constraints:\t")
    for index, constraint in enumerate(sorted(constraints, key=lambda c: str(c.get("topologyKey", "")))):
        if index:
            w.write(0, "\t")
        text = f"{constraint.get('topologyKey', '')}:{constraint.get('whenUnsatisfiable', '')}"
        text += f" when max skew {constraint.get('maxSkew', 0)} is exceeded"
        if constraint.get("labelSelector") is not None:
            text += f" for selector {_format_label_selector(constraint['labelSelector'])}"
        w.write(0, text + "\n")


def _taint_text(taint: Obj) -> str:
    key, value, effect = (str(taint.get(k) or "") for k in ("key", "value", "effect"))
    return f"{key}={value}:{effect}" if value else f"{key}:{effect}"


def _taints_multiline(w: _Writer, title: str, taints: Sequence[Obj]) -> None:
    w.write(0, f"{title}:\t")
    if not taints:
        w.write(0, "<none>\n")
        return
    ordered = sorted(taints, key=lambda t: f"{t.get('effect', '')},{t.get('key', '')}")
    for index, taint in enumerate(ordered):
        if index:
            w.write(0, "\t")
        w.write(0, _taint_text(taint) + "\n")


def _event_sort_key(event: Obj) -> datetime:
    series = event.get("series") or {}
    for timestamp in (series.get("lastObservedTime"), event.get("lastTimestamp"), event.get("eventTime")):
        moment = parse_time(timestamp) if timestamp else None
        if moment is not None:
            return moment
    return datetime.min.replace(tzinfo=UTC)


def _event_interval(w: _Writer, event: Obj) -> str:
    first = w.age(event.get("eventTime") or event.get("firstTimestamp"))
    series, count = event.get("series"), int(event.get("count") or 0)
    if series:
        return f"{w.age(series.get('lastObservedTime'))} (x{series.get('count', 0)} over {first})"
    if count > 1:
        return f"{w.age(event.get('lastTimestamp'))} (x{count} over {first})"
    return first


def _describe_events(w: _Writer, events: Sequence[Obj]) -> None:
    if not events:
        w.write(0, "Events:\t<none>\n")
        return
    w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
    w.write(1, "----\t------\t----\t----\t-------\n")
    for event in sorted(events, key=_event_sort_key):
        source = (event.get("source") or {}).get("component") or event.get("reportingController") or ""
        message = str(event.get("message") or "").strip()
        field_path = (event.get("involvedObject") or {}).get("fieldPath")
        if field_path:
            message = f"{field_path}: {message}"
        row = f"{event.get('type', '')}\t{event.get('reason', '')}\t{_event_interval(w, event)}\t{source}\t{message}"
        w.write(1, row + "\n")


def describe_events(events: Sequence[Obj], *, now: datetime) -> str:
    """kubectl's Events section on its own (`Events:  <none>` or the Type/Reason/Age/From/Message table)."""
    w = _Writer(now)
    _describe_events(w, events)
    return w.value()


# ---------------------------------------------------------------------------------------------------
# Containers


def _int_or_string(value: Any) -> str:
    return "" if value is None else str(value)


_PATH_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~$&+,/:;=@")


def _escape_path(path: str) -> str:
    """Go's `url.URL.EscapedPath` for a plain Path (only `?`, spaces, `%` and the like are escaped)."""
    return "".join(char if char in _PATH_SAFE else "".join(f"%{byte:02X}" for byte in char.encode()) for char in path)


def _http_url(action: Obj) -> str:
    scheme = str(action.get("scheme") or "").lower()
    host, port = str(action.get("host") or ""), _int_or_string(action.get("port"))
    if port:
        host = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    path = _escape_path(str(action.get("path") or ""))
    text = f"{scheme}:" if scheme else ""
    if scheme or host:
        text += "//" + host if host or path else ""
    if path and not path.startswith("/") and host:
        text += "/"
    if not text and ":" in path.split("/")[0]:
        text = "./"  # RFC 3986 4.2: a first segment with a colon would read as a scheme
    return text + path


def describe_probe(probe: Obj) -> str:
    """kubectl's `DescribeProbe`:
    `http-get http://:8080/x delay=5s timeout=2s period=5s successThreshold=1 failureThreshold=1`."""
    attrs = (
        f"delay={probe.get('initialDelaySeconds', 0)}s timeout={probe.get('timeoutSeconds', 0)}s "
        f"period={probe.get('periodSeconds', 0)}s successThreshold={probe.get('successThreshold', 0)} "
        f"failureThreshold={probe.get('failureThreshold', 0)}"
    )
    if probe.get("exec") is not None:
        return f"exec {_go_list(probe['exec'].get('command') or [])} {attrs}"
    if probe.get("httpGet") is not None:
        return f"http-get {_http_url(probe['httpGet'])} {attrs}"
    if probe.get("tcpSocket") is not None:
        socket = probe["tcpSocket"]
        return f"tcp-socket {socket.get('host', '')}:{_int_or_string(socket.get('port'))} {attrs}"
    if probe.get("grpc") is not None:
        grpc = probe["grpc"]
        return f"grpc <pod>:{grpc.get('port', 0)} {grpc.get('service') or ''} {attrs}"
    return f"unknown {attrs}"


def _ports_line(w: _Writer, title: str, plural: str, entries: list[str]) -> None:
    text = ", ".join(entries)
    if "," in text:
        w.write(2, f"{plural}:\t{text}\n")
    else:
        w.write(2, f"{title}:\t{_or_none(text)}\n")


def _port_text(port: Obj, key: str) -> str:
    """describeContainerPorts / describeContainerHostPorts: `8080/TCP`, or `8080/TCP (http)` when named."""
    text = f"{port.get(key, 0)}/{port.get('protocol', '')}"
    return f"{text} ({port['name']})" if port.get("name") else text


def _seccomp(w: _Writer, level: int, security_context: Obj | None) -> None:
    profile = (security_context or {}).get("seccompProfile")
    if not profile:
        return
    w.write(level, f"SeccompProfile:\t{profile.get('type', '')}\n")
    if profile.get("type") == "Localhost":
        w.write(level + 1, f"LocalhostProfile:\t{profile.get('localhostProfile', '')}\n")


def _container_basics(w: _Writer, container: Obj, status: Obj | None, space: str) -> None:
    w.write(1, f"{' ' if space else ''}{container.get('name', '')}:\n")
    if status is not None:
        w.write(2, f"Container ID:\t{status.get('containerID', '')}\n")
    w.write(2, f"Image:\t{container.get('image', '')}\n")
    if status is not None:
        w.write(2, f"Image ID:\t{status.get('imageID', '')}\n")
    ports = container.get("ports") or []
    _ports_line(w, "Port", "Ports", [_port_text(p, "containerPort") for p in ports])
    _ports_line(w, "Host Port", "Host Ports", [_port_text(p, "hostPort") for p in ports])
    _seccomp(w, 2, container.get("securityContext"))


def _container_command(w: _Writer, container: Obj) -> None:
    for title, key in (("Command", "command"), ("Args", "args")):
        if container.get(key):
            w.write(2, f"{title}:\n")
            for argument in container[key]:
                for part in str(argument).split("\n"):
                    w.write(3, f"{part}\n")


def _describe_state(w: _Writer, title: str, state: Obj) -> None:
    if state.get("running") is not None:
        w.write(2, f"{title}:\tRunning\n")
        w.write(3, f"Started:\t{w.time(state['running'].get('startedAt'))}\n")
    elif state.get("waiting") is not None:
        w.write(2, f"{title}:\tWaiting\n")
        if state["waiting"].get("reason"):
            w.write(3, f"Reason:\t{state['waiting']['reason']}\n")
    elif state.get("terminated") is not None:
        _describe_terminated(w, title, state["terminated"])
    else:
        w.write(2, f"{title}:\tWaiting\n")


def _describe_terminated(w: _Writer, title: str, terminated: Obj) -> None:
    w.write(2, f"{title}:\tTerminated\n")
    if terminated.get("reason"):
        w.write(3, f"Reason:\t{terminated['reason']}\n")
    if terminated.get("message"):
        w.write(3, f"Message:\t{terminated['message']}\n")
    w.write(3, f"Exit Code:\t{terminated.get('exitCode', 0)}\n")
    if int(terminated.get("signal") or 0) > 0:
        w.write(3, f"Signal:\t{terminated['signal']}\n")
    w.write(3, f"Started:\t{w.time(terminated.get('startedAt'))}\n")
    w.write(3, f"Finished:\t{w.time(terminated.get('finishedAt'))}\n")


def _container_state(w: _Writer, status: Obj) -> None:
    _describe_state(w, "State", status.get("state") or {})
    last = status.get("lastState") or {}
    if last.get("terminated") is not None:
        _describe_state(w, "Last State", last)
    w.write(2, f"Ready:\t{_title_bool(status.get('ready'))}\n")
    w.write(2, f"Restart Count:\t{status.get('restartCount', 0)}\n")


def _describe_resources(w: _Writer, resources: Obj | None, level: int) -> None:
    for title, key in (("Limits", "limits"), ("Requests", "requests")):
        values = (resources or {}).get(key) or {}
        if values:
            w.write(level, f"{title}:\n")
        for name in sorted(values):
            w.write(level + 1, f"{name}:\t{_canonical(values[name])}\n")


_PROBE_TITLES: tuple[tuple[str, ProbeKind], ...] = (("Liveness", "liveness"), ("Readiness", "readiness"), ("Startup", "startup"))


def _container_probes(w: _Writer, container: Obj) -> None:
    for title, kind in _PROBE_TITLES:
        probe = probe_of(as_container(container), kind)
        if probe is not None:
            w.write(2, f"{title}:\t{describe_probe(probe)}\n")


def _env_from_source(source: Obj) -> tuple[str, Obj]:
    if source.get("configMapRef") is not None:
        return "ConfigMap", source["configMapRef"]
    if source.get("secretRef") is not None:
        return "Secret", source["secretRef"]
    return "", {}


def _container_env_from(w: _Writer, container: Obj) -> None:
    w.write(2, "Environment Variables from:\n")
    for source in container.get("envFrom") or []:
        kind, ref = _env_from_source(source)
        prefix = source.get("prefix") or ""
        origin = f"{kind} with prefix '{prefix}'" if prefix else kind
        w.write(3, f"{ref.get('name', '')}\t{origin}\tOptional: {_go_bool(ref.get('optional'))}\n")


def _field_ref_value(pod: Obj, field_ref: Obj) -> str:
    # kubectl resolves through its client scheme, which only knows metadata.name and metadata.namespace.
    if str(field_ref.get("apiVersion") or "").count("/") > 1:
        return ""
    path = field_ref.get("fieldPath")
    if path in ("metadata.name", "metadata.namespace"):
        return str((pod.get("metadata") or {}).get(path.split(".")[1], ""))
    return ""


def _resource_field_value(container: Obj, selector: Obj) -> str:
    """`ExtractContainerResourceValue` for cpu, memory and ephemeral-storage (ceil(value / divisor))."""
    divisor = _qty(selector.get("divisor") or "1")
    divisor = divisor if divisor.value != 0 else _qty("1")
    kind, _, name = str(selector.get("resource") or "").partition(".")
    if kind not in ("limits", "requests") or name not in ("cpu", "memory", "ephemeral-storage"):
        return ""
    value = resource_list((container.get("resources") or {}).get(kind)).get(name, _ZERO)
    if name == "cpu":
        return str(math.ceil(value.milli() / divisor.milli()))
    return str(math.ceil(value.as_int() / divisor.as_int()))


def _env_value_from(w: _Writer, pod: Obj, container: Obj, name: str, source: Obj) -> None:
    if source.get("fieldRef") is not None:
        ref = source["fieldRef"]
        value = _field_ref_value(pod, ref)
        w.write(3, f"{name}:\t{value} ({ref.get('apiVersion', '')}:{ref.get('fieldPath', '')})\n")
    elif source.get("resourceFieldRef") is not None:
        ref = source["resourceFieldRef"]
        value = _resource_field_value(container, ref)
        if value == "0" and ref.get("resource") in ("limits.cpu", "limits.memory"):
            value = "node allocatable"
        w.write(3, f"{name}:\t{value} ({ref.get('resource', '')})\n")
    elif source.get("secretKeyRef") is not None:
        ref = source["secretKeyRef"]
        where = f"<set to the key '{ref.get('key', '')}' in secret '{ref.get('name', '')}'>"
        w.write(3, f"{name}:\t{where}\tOptional: {_go_bool(ref.get('optional'))}\n")
    elif source.get("configMapKeyRef") is not None:
        ref = source["configMapKeyRef"]
        where = f"<set to the key '{ref.get('key', '')}' of config map '{ref.get('name', '')}'>"
        w.write(3, f"{name}:\t{where}\tOptional: {_go_bool(ref.get('optional'))}\n")


def _container_env(w: _Writer, pod: Obj, container: Obj) -> None:
    env = container.get("env") or []
    w.write(2, "Environment:" + ("" if env else "\t<none>") + "\n")
    for variable in env:
        name = variable.get("name", "")
        if variable.get("valueFrom") is None:
            for index, part in enumerate(str(variable.get("value") or "").split("\n")):
                w.write(3, f"{name}:\t{part}\n" if index == 0 else f"\t{part}\n")
        else:
            _env_value_from(w, pod, container, name, variable["valueFrom"])


def _container_mounts(w: _Writer, container: Obj) -> None:
    mounts = container.get("volumeMounts") or []
    none = "" if mounts else "\t<none>"
    w.write(2, f"Mounts:{none}\n")
    for mount in sorted(mounts, key=lambda m: str(m.get("mountPath", ""))):
        flags = ["ro" if mount.get("readOnly") else "rw"]
        if mount.get("subPath"):
            flags.append(f"path={_go_quote(str(mount['subPath']))}")
        w.write(3, f"{mount.get('mountPath', '')} from {mount.get('name', '')} ({','.join(flags)})\n")
    devices = container.get("volumeDevices") or []
    if devices:
        w.write(2, f"Devices:{none}\n")
        for device in sorted(devices, key=lambda d: str(d.get("devicePath", ""))):
            w.write(3, f"{device.get('devicePath', '')} from {device.get('name', '')}\n")


def _describe_containers(
    w: _Writer, pod: Obj, label: str, containers: Sequence[Obj], statuses: Sequence[Obj], space: str = ""
) -> None:
    by_name = {status.get("name"): status for status in statuses}
    w.write(0, f"{space}{label}:{'' if containers else ' <none>'}\n")
    for container in containers:
        status = by_name.get(container.get("name"))
        _container_basics(w, container, status, space)
        _container_command(w, container)
        if status is not None:
            _container_state(w, status)
        _describe_resources(w, container.get("resources"), 2)
        _container_probes(w, container)
        if container.get("envFrom"):
            _container_env_from(w, container)
        _container_env(w, pod, container)
        _container_mounts(w, container)


# ---------------------------------------------------------------------------------------------------
# Volumes


def _volume_detail(w: _Writer, volume: Obj) -> None:
    if volume.get("hostPath") is not None:
        host_path = volume["hostPath"]
        kind = host_path["type"] if "type" in host_path and host_path["type"] is not None else "<none>"
        w.write(
            2,
            f"Type:\tHostPath (bare host directory volume)\n    Path:\t{host_path.get('path', '')}\n    HostPathType:\t{kind}\n",
        )
    elif volume.get("emptyDir") is not None:
        empty_dir = volume["emptyDir"]
        limit = empty_dir.get("sizeLimit")
        size = _canonical(limit) if limit is not None and _qty(limit).value > 0 else "<unset>"
        w.write(
            2,
            "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n"
            f"    Medium:\t{empty_dir.get('medium', '')}\n    SizeLimit:\t{size}\n",
        )
    else:
        _other_volume_detail(w, volume)


def _other_volume_detail(w: _Writer, volume: Obj) -> None:
    if volume.get("secret") is not None:
        secret = volume["secret"]
        w.write(
            2,
            "Type:\tSecret (a volume populated by a Secret)\n"
            f"    SecretName:\t{secret.get('secretName', '')}\n    Optional:\t{_go_bool(secret.get('optional'))}\n",
        )
    elif volume.get("configMap") is not None:
        config_map = volume["configMap"]
        w.write(
            2,
            "Type:\tConfigMap (a volume populated by a ConfigMap)\n"
            f"    Name:\t{config_map.get('name', '')}\n    Optional:\t{_go_bool(config_map.get('optional'))}\n",
        )
    elif volume.get("persistentVolumeClaim") is not None:
        claim = volume["persistentVolumeClaim"]
        w.write(
            2,
            "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n"
            f"    ClaimName:\t{claim.get('claimName', '')}\n    ReadOnly:\t{_go_bool(claim.get('readOnly'))}\n",
        )
    elif volume.get("nfs") is not None:
        nfs = volume["nfs"]
        w.write(
            2,
            "Type:\tNFS (an NFS mount that lasts the lifetime of a pod)\n"
            f"    Server:\t{nfs.get('server', '')}\n    Path:\t{nfs.get('path', '')}\n"
            f"    ReadOnly:\t{_go_bool(nfs.get('readOnly'))}\n",
        )
    elif volume.get("projected") is not None:
        _projected_volume(w, volume["projected"])
    else:
        w.write(1, "<unknown>\n")


def _projected_volume(w: _Writer, projected: Obj) -> None:
    w.write(2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n")
    for source in projected.get("sources") or []:
        if source.get("secret") is not None:
            optional = _go_bool(source["secret"].get("optional"))
            w.write(2, f"SecretName:\t{source['secret'].get('name', '')}\n    Optional:\t{optional}\n")
        elif source.get("downwardAPI") is not None:
            w.write(2, "DownwardAPI:\ttrue\n")
        elif source.get("configMap") is not None:
            optional = _go_bool(source["configMap"].get("optional"))
            w.write(2, f"ConfigMapName:\t{source['configMap'].get('name', '')}\n    Optional:\t{optional}\n")
        elif source.get("serviceAccountToken") is not None:
            seconds = source["serviceAccountToken"].get("expirationSeconds", 0)
            w.write(2, f"TokenExpirationSeconds:\t{seconds}\n")


def _describe_volumes(w: _Writer, volumes: Sequence[Obj], space: str = "") -> None:
    if not volumes:
        w.write(0, f"{space}Volumes:\t<none>\n")
        return
    w.write(0, f"{space}Volumes:\n")
    for volume in volumes:
        w.write(1, f"{' ' if space else ''}{volume.get('name', '')}:\n")
        _volume_detail(w, volume)


# ---------------------------------------------------------------------------------------------------
# describe pod


def _controller_of(metadata: Obj) -> str:
    for owner in metadata.get("ownerReferences") or []:
        if owner.get("controller"):
            return f"{owner.get('kind', '')}/{owner.get('name', '')}"
    return ""


def _pod_identity(w: _Writer, pod: Obj) -> None:
    metadata, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    w.write(0, f"Name:\t{metadata.get('name', '')}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    if spec.get("priority") is not None:
        w.write(0, f"Priority:\t{spec['priority']}\n")
    if spec.get("priorityClassName"):
        w.write(0, f"Priority Class Name:\t{spec['priorityClassName']}\n")
    if spec.get("runtimeClassName"):
        w.write(0, f"Runtime Class Name:\t{spec['runtimeClassName']}\n")
    if spec.get("serviceAccountName"):
        w.write(0, f"Service Account:\t{spec['serviceAccountName']}\n")
    node = spec.get("nodeName")
    w.write(0, f"Node:\t{node}/{status.get('hostIP', '')}\n" if node else "Node:\t<none>\n")
    if status.get("startTime"):
        w.write(0, f"Start Time:\t{w.time(status['startTime'])}\n")
    _labels_multiline(w, "Labels", metadata.get("labels"))
    _annotations_multiline(w, "Annotations", metadata.get("annotations"))


def _pod_status(w: _Writer, pod: Obj) -> None:
    metadata, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    phase = status.get("phase", "")
    if metadata.get("deletionTimestamp") and phase not in ("Failed", "Succeeded"):
        w.write(0, f"Status:\tTerminating (lasts {w.age(metadata['deletionTimestamp'])})\n")
        w.write(0, f"Termination Grace Period:\t{metadata.get('deletionGracePeriodSeconds', 0)}s\n")
    else:
        w.write(0, f"Status:\t{phase}\n")
    if status.get("reason"):
        w.write(0, f"Reason:\t{status['reason']}\n")
    if status.get("message"):
        w.write(0, f"Message:\t{status['message']}\n")
    _seccomp(w, 0, spec.get("securityContext"))
    w.write(0, f"IP:\t{status.get('podIP', '')}\n")
    pod_ips = status.get("podIPs") or []
    if not pod_ips:
        w.write(0, "IPs:\t<none>\n")
    else:
        w.write(0, "IPs:\n")
        for entry in pod_ips:
            w.write(1, f"IP:\t{entry.get('ip', '')}\n")
    controller = _controller_of(metadata)
    if controller:
        w.write(0, f"Controlled By:\t{controller}\n")
    if status.get("nominatedNodeName"):
        w.write(0, f"NominatedNodeName:\t{status['nominatedNodeName']}\n")
    if spec.get("resources") is not None:
        w.write(0, "Resources:\n")
        _describe_resources(w, spec["resources"], 1)


def _pod_containers(w: _Writer, pod: Obj) -> None:
    typed = as_pod(pod)
    status = pod_status(typed)
    if init := init_containers(typed):
        _describe_containers(w, pod, "Init Containers", init, statuses_of(status, "init"))
    _describe_containers(w, pod, "Containers", app_containers(typed), statuses_of(status, "regular"))
    if ephemeral := ephemeral_containers(typed):
        _describe_containers(w, pod, "Ephemeral Containers", ephemeral, statuses_of(status, "ephemeral"))


def _pod_conditions(w: _Writer, pod: Obj) -> None:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    conditions = status.get("conditions") or []
    if spec.get("readinessGates"):
        w.write(0, "Readiness Gates:\n  Type\tStatus\n")
        for gate in spec["readinessGates"]:
            match = next((c for c in conditions if c.get("type") == gate.get("conditionType")), None)
            w.write(1, f"{gate.get('conditionType', '')} \t{match.get('status', '') if match else '<none>'} \n")
    if conditions:
        w.write(0, "Conditions:\n  Type\tStatus\n")
        for condition in conditions:
            w.write(1, f"{condition.get('type', '')} \t{condition.get('status', '')} \n")


def describe_pod(pod: Obj, events: Sequence[Obj] | None, *, now: datetime) -> str:
    """`kubectl describe pod`; `events` are the pod's events (None: `--show-events=false`)."""
    w = _Writer(now)
    spec = pod.get("spec") or {}
    _pod_identity(w, pod)
    _pod_status(w, pod)
    _pod_containers(w, pod)
    _pod_conditions(w, pod)
    _describe_volumes(w, spec.get("volumes") or [])
    w.write(0, f"QoS Class:\t{pod_qos_class(pod)}\n")
    _labels_multiline(w, "Node-Selectors", spec.get("nodeSelector"))
    _tolerations_multiline(w, "Tolerations", spec.get("tolerations") or [])
    _topology_spread_constraints(w, spec.get("topologySpreadConstraints") or [])
    if spec.get("schedulingGroup") is not None:
        w.write(0, "SchedulingGroup:\n")
        w.write(1, f"PodGroupName:\t{spec['schedulingGroup'].get('podGroupName') or ''}\n")
    if events is not None:
        _describe_events(w, events)
    return w.value()


# ---------------------------------------------------------------------------------------------------
# describe node


def _node_header(w: _Writer, node: Obj, lease: Obj | str | None) -> None:
    metadata, spec = node.get("metadata") or {}, node.get("spec") or {}
    w.write(0, f"Name:\t{metadata.get('name', '')}\n")
    w.write(0, f"Roles:\t{','.join(node_roles(node)) or '<none>'}\n")
    _labels_multiline(w, "Labels", metadata.get("labels"))
    _annotations_multiline(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"CreationTimestamp:\t{w.time(metadata.get('creationTimestamp'))}\n")
    _taints_multiline(w, "Taints", spec.get("taints") or [])
    w.write(0, f"Unschedulable:\t{_go_bool(spec.get('unschedulable'))}\n")
    if isinstance(lease, str):
        w.write(0, f"Lease:\tFailed to get lease: {lease}\n")
    elif lease is not None:
        lease_spec = lease.get("spec") or {}
        w.write(0, "Lease:\n")
        w.write(1, f"HolderIdentity:\t{lease_spec.get('holderIdentity') or '<unset>'}\n")
        for title, key in (("AcquireTime", "acquireTime"), ("RenewTime", "renewTime")):
            w.write(1, f"{title}:\t{w.time(lease_spec[key]) if lease_spec.get(key) else '<unset>'}\n")


def _node_status(w: _Writer, node: Obj) -> None:
    status = node.get("status") or {}
    if status.get("conditions"):
        w.write(0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n")
        w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
        for c in status["conditions"]:
            heartbeat, transition = w.time(c.get("lastHeartbeatTime")), w.time(c.get("lastTransitionTime"))
            cells = (c.get("type", ""), c.get("status", ""), heartbeat, transition, c.get("reason", ""))
            w.write(1, " \t".join(cells) + f" \t{c.get('message', '')}\n")
    w.write(0, "Addresses:\n")
    for address in status.get("addresses") or []:
        w.write(1, f"{address.get('type', '')}:\t{address.get('address', '')}\n")
    for title, key in (("Capacity", "capacity"), ("Allocatable", "allocatable")):
        if status.get(key):
            w.write(0, f"{title}:\n")
            for name in sorted(status[key]):
                w.write(0, f"  {name}:\t{_canonical(status[key][name])}\n")


_SYSTEM_INFO = (
    ("Machine ID", "machineID"),
    ("System UUID", "systemUUID"),
    ("Boot ID", "bootID"),
    ("Kernel Version", "kernelVersion"),
    ("OS Image", "osImage"),
    ("Operating System", "operatingSystem"),
    ("Architecture", "architecture"),
    ("Container Runtime Version", "containerRuntimeVersion"),
    ("Kubelet Version", "kubeletVersion"),
)


def _node_system(w: _Writer, node: Obj) -> None:
    info, spec = (node.get("status") or {}).get("nodeInfo") or {}, node.get("spec") or {}
    w.write(0, "System Info:\n")
    for title, key in _SYSTEM_INFO:
        w.write(0, f"  {title}:\t{info.get(key, '')}\n")
    if spec.get("podCIDR"):
        w.write(0, f"PodCIDR:\t{spec['podCIDR']}\n")
    if spec.get("podCIDRs"):
        w.write(0, f"PodCIDRs:\t{','.join(spec['podCIDRs'])}\n")
    if spec.get("providerID"):
        w.write(0, f"ProviderID:\t{spec['providerID']}\n")


def _percent(part: int, whole: int) -> int:
    return int(part / whole * 100) if whole else 0


def _node_pods(w: _Writer, pods: Sequence[Obj], allocatable: Resources) -> None:
    w.write(0, f"Non-terminated Pods:\t({len(pods)} in total)\n")
    w.write(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n")
    w.write(1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n")
    cpu, memory = allocatable.get("cpu", _ZERO).milli(), allocatable.get("memory", _ZERO).as_int()
    for pod in pods:
        requests = pod_requests(as_pod(pod), use_status=True)
        limits = pod_limits(as_pod(pod), use_status=True)
        cells = [
            _with_percent(requests.get("cpu", _ZERO), cpu, milli=True),
            _with_percent(limits.get("cpu", _ZERO), cpu, milli=True),
            _with_percent(requests.get("memory", _ZERO), memory, milli=False),
            _with_percent(limits.get("memory", _ZERO), memory, milli=False),
        ]
        metadata = pod.get("metadata") or {}
        row = f"{metadata.get('namespace', '')}\t{metadata.get('name', '')}\t\t" + "\t".join(cells)
        w.write(1, f"{row}\t{w.age(metadata.get('creationTimestamp'))}\n")


def _with_percent(quantity: Quantity, whole: int, *, milli: bool) -> str:
    return f"{quantity} ({_percent(quantity.milli() if milli else quantity.as_int(), whole)}%)"


def _is_extended(name: str) -> bool:
    return name not in ("cpu", "memory", "ephemeral-storage", "pods") and not name.startswith("hugepages-")


def _node_allocated(w: _Writer, pods: Sequence[Obj], allocatable: Resources) -> None:
    w.write(0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n")
    w.write(1, "Resource\tRequests\tLimits\n")
    w.write(1, "--------\t--------\t------\n")
    requests: Resources = {}
    limits: Resources = {}
    for pod in pods:
        add_resources(requests, pod_requests(as_pod(pod)))
        add_resources(limits, pod_limits(as_pod(pod)))
    standard = ["cpu", "memory", "ephemeral-storage"]
    huge_pages = sorted(name for name in allocatable if name.startswith("hugepages-"))
    for name in [*standard, *huge_pages]:
        milli = name == "cpu"
        whole = allocatable.get(name, _ZERO).milli() if milli else allocatable.get(name, _ZERO).as_int()
        request = _with_percent(requests.get(name, _ZERO), whole, milli=milli)
        w.write(1, f"{name}\t{request}\t{_with_percent(limits.get(name, _ZERO), whole, milli=milli)}\n")
    for name in sorted(name for name in allocatable if _is_extended(name)):
        w.write(1, f"{name}\t{requests.get(name, _ZERO)}\t{limits.get(name, _ZERO)}\n")


def describe_node(
    node: Obj, pods: Sequence[Obj], events: Sequence[Obj] | None, *, now: datetime, lease: Obj | str | None = None
) -> str:
    """`kubectl describe node`. `pods` may be all pods: only this node's non-terminated ones are listed.

    `lease` is the node's `kube-node-lease` Lease (a dict), the error text kubectl shows when it cannot be
    read (a str: `Lease:  Failed to get lease: <text>`), or None to leave the section out.
    """
    w = _Writer(now)
    name = (node.get("metadata") or {}).get("name")
    status = node.get("status") or {}
    allocatable = resource_list(status.get("allocatable") or status.get("capacity"))
    running = [
        pod
        for pod in pods
        if (pod.get("spec") or {}).get("nodeName") == name
        and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]
    _node_header(w, node, lease)
    _node_status(w, node)
    _node_system(w, node)
    _node_pods(w, running, allocatable)
    _node_allocated(w, running, allocatable)
    if events is not None:
        _describe_events(w, events)
    return w.value()
