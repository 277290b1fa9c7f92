"""A pod's requests, limits and QoS class: the one home of Kubernetes' resource arithmetic.

`pod_requests` / `pod_limits` are component-helpers' `PodRequests` / `PodLimits`
(`staging/src/k8s.io/component-helpers/resource/helpers.go`): the regular containers' sum, raised to what any
init container needs beside the sidecars (restartable init containers) started before it, the sidecars
themselves counted in the sum; replaced by pod-level `spec.resources` where it names cpu, memory or a huge page
size; plus `spec.overhead` (on limits, only on a limit that is set and not zero). `compute_pod_qos` /
`get_pod_qos` are `pkg/apis/core/helper/qos`: only cpu and memory count, and only with a quantity above zero.

Quantities are `minikubelet.api.quantity.Quantity`; one that does not parse counts as zero (the API server
refuses it on the way in, so only a pod from elsewhere has one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

from minikubelet.api.podutil import (
    app_containers,
    find_status,
    init_containers,
    is_restartable_init_container,
    pod_spec,
    pod_status,
)
from minikubelet.api.quantity import Quantity
from minikubelet.api.wire import Container, ContainerStatus, Pod, PodSpec, QOSClass, ResourceList

__all__ = [
    "Resources",
    "add_resources",
    "compute_pod_qos",
    "container_limits",
    "container_requests",
    "get_pod_qos",
    "is_pod_level_requests_set",
    "is_pod_level_resources_set",
    "is_supported_pod_level_resource",
    "pod_limits",
    "pod_requests",
    "resource_list",
]

# Parsed quantities by resource name (`v1.ResourceList` after parsing).
Resources = dict[str, Quantity]
_QOS_RESOURCES = ("cpu", "memory")
_ZERO = Quantity.parse(0)


def resource_list(raw: Mapping[str, object] | None) -> Resources:
    """A wire ResourceList parsed (a quantity that does not parse is 0)."""
    return {name: Quantity.parse_or_zero(value) for name, value in (raw or {}).items()}


def add_resources(total: Resources, more: Resources) -> None:
    """Add `more` into `total`, resource by resource (`quantity.Add`: the sum keeps `total`'s format)."""
    for name, quantity in more.items():
        total[name] = total[name].plus(quantity) if name in total else quantity


def _max_into(total: Resources, more: Resources) -> None:
    for name, quantity in more.items():
        if name not in total or quantity.value > total[name].value:
            total[name] = quantity


def _max_of(first: Resources, *others: Resources) -> Resources:
    result = dict(first)
    for other in others:
        _max_into(result, other)
    return result


# --- pod-level resources ----------------------------------------------------------------------------------------


def is_supported_pod_level_resource(name: str) -> bool:
    """IsSupportedPodLevelResource: cpu, memory and huge pages."""
    return name in ("cpu", "memory") or name.startswith("hugepages-")


def _pod_level_set(spec: PodSpec, *, limits: bool) -> bool:
    resources = spec.get("resources")
    if resources is None:
        return False
    names = [*(resources.get("requests") or {}), *((resources.get("limits") or {}) if limits else ())]
    return any(is_supported_pod_level_resource(name) for name in names)


def is_pod_level_requests_set(pod: Pod) -> bool:
    """IsPodLevelRequestsSet: spec.resources.requests names a supported pod-level resource."""
    return _pod_level_set(pod_spec(pod), limits=False)


def is_pod_level_resources_set(pod: Pod) -> bool:
    """IsPodLevelResourcesSet: spec.resources' requests or limits name a supported pod-level resource."""
    return _pod_level_set(pod_spec(pod), limits=True)


def _apply_pod_level(total: Resources, pod_level: ResourceList | None) -> None:
    for name, quantity in resource_list(pod_level).items():
        if is_supported_pod_level_resource(name):
            total[name] = quantity


# --- the containers' aggregate ----------------------------------------------------------------------------------

Pick = Callable[[Container], ResourceList | None]


def container_requests(container: Container) -> Resources:
    """The container's spec.resources.requests, parsed."""
    return resource_list((container.get("resources") or {}).get("requests"))


def container_limits(container: Container) -> Resources:
    """The container's spec.resources.limits, parsed."""
    return resource_list((container.get("resources") or {}).get("limits"))


def _aggregate(pod: Pod, pick: Pick) -> Resources:
    """aggregateContainerResourcesByFn: the containers' sum, at least what any init container needs beside
    the sidecars started before it (restartable init containers count in the sum too)."""
    total: Resources = {}
    for container in app_containers(pod):
        add_resources(total, resource_list(pick(container)))
    sidecars: Resources = {}
    init_max: Resources = {}
    for container in init_containers(pod):
        own = resource_list(pick(container))
        if is_restartable_init_container(container):
            add_resources(total, own)
            add_resources(sidecars, own)
            effective = dict(sidecars)
        else:
            effective = dict(own)
            add_resources(effective, sidecars)
        _max_into(init_max, effective)
    _max_into(total, init_max)
    return total


def _spec_resources(container: Container, kind: Literal["requests", "limits"]) -> ResourceList | None:
    return (container.get("resources") or {}).get(kind)


def _resize_infeasible(pod: Pod) -> bool:
    for condition in pod_status(pod).get("conditions") or []:
        if condition.get("type") == "PodResizePending":
            return condition.get("reason") == "Infeasible"
    return False


def _status_resources(status: ContainerStatus | None, kind: Literal["requests", "limits"]) -> ResourceList | None:
    """The container's actual (status.resources) requests or limits, None if not reported."""
    resources = status.get("resources") if status is not None else None
    return resources.get(kind) if resources is not None else None


def _aggregate_requests(pod: Pod, *, use_status: bool) -> Resources:
    """AggregateContainerRequests; with `use_status`, the larger of the spec's, the allocated and the actual
    (status) requests, resource by resource (only the latter two while a resize is infeasible)."""
    specs = _aggregate(pod, lambda c: _spec_resources(c, "requests"))
    if not use_status:
        return specs
    infeasible = _resize_infeasible(pod)

    # Container names are unique across kinds, so findContainerStatus' order (regular, then init) does not matter.
    def allocated(container: Container) -> ResourceList | None:
        status = find_status(pod_status(pod), container["name"])
        if status is not None and status.get("allocatedResources") is not None:
            return status.get("allocatedResources")
        return None if infeasible else _spec_resources(container, "requests")

    def actuated(container: Container) -> ResourceList | None:
        status = find_status(pod_status(pod), container["name"])
        actual = _status_resources(status, "requests")
        return actual if actual is not None else allocated(container)

    allocated_total, actuated_total = _aggregate(pod, allocated), _aggregate(pod, actuated)
    if infeasible:
        return _max_of(actuated_total, allocated_total)
    return _max_of(specs, actuated_total, allocated_total)


def _aggregate_limits(pod: Pod, *, use_status: bool) -> Resources:
    """AggregateContainerLimits; with `use_status`, the larger of the spec's and the actual (status) limits."""
    specs = _aggregate(pod, lambda c: _spec_resources(c, "limits"))
    if not use_status:
        return specs
    infeasible = _resize_infeasible(pod)

    def actuated(container: Container) -> ResourceList | None:
        status = find_status(pod_status(pod), container["name"])
        actual = _status_resources(status, "limits")
        if actual is not None:
            return actual
        return None if infeasible else _spec_resources(container, "limits")

    actuated_total = _aggregate(pod, actuated)
    return actuated_total if infeasible else _max_of(specs, actuated_total)


def pod_requests(pod: Pod, *, use_status: bool = False) -> Resources:
    """PodRequests: the containers' aggregate (`use_status`: UseStatusResources, the larger of spec, allocated
    and actual), replaced by the pod-level requests where set, plus the overhead."""
    total = _aggregate_requests(pod, use_status=use_status)
    spec = pod_spec(pod)
    if is_pod_level_requests_set(pod):
        _apply_pod_level(total, (spec.get("resources") or {}).get("requests"))
    add_resources(total, resource_list(spec.get("overhead")))
    return total


def pod_limits(pod: Pod, *, use_status: bool = False) -> Resources:
    """PodLimits: the containers' aggregate, replaced by the pod-level limits where set, plus the overhead on
    every limit that is set and not zero."""
    total = _aggregate_limits(pod, use_status=use_status)
    spec = pod_spec(pod)
    if is_pod_level_resources_set(pod):
        _apply_pod_level(total, (spec.get("resources") or {}).get("limits"))
    for name, quantity in resource_list(spec.get("overhead")).items():
        if name in total and total[name].value != 0:
            total[name] = total[name].plus(quantity)
    return total


# --- QoS --------------------------------------------------------------------------------------------------------


def _positive(raw: ResourceList | None) -> Resources:
    """The cpu and memory quantities above zero (processResourceList / getQOSResources)."""
    parsed = resource_list({name: value for name, value in (raw or {}).items() if name in _QOS_RESOURCES})
    return {name: quantity for name, quantity in parsed.items() if quantity.value > 0}


def compute_pod_qos(pod: Pod) -> QOSClass:
    """ComputePodQOS (pkg/apis/core/helper/qos): BestEffort when no container (nor the pod level) requests or
    limits cpu or memory above zero; Guaranteed when every container limits both above zero and the summed
    requests equal the summed limits; Burstable otherwise. Pod-level resources, when set, decide alone.
    Ephemeral containers never count (they cannot have resources)."""
    requests: Resources = {}
    limits: Resources = {}
    guaranteed = True
    spec = pod_spec(pod)
    if is_pod_level_resources_set(pod):
        pod_level = spec.get("resources") or {}
        add_resources(requests, _positive(pod_level.get("requests")))
        if pod_level.get("limits"):
            found = _positive(pod_level.get("limits"))
            add_resources(limits, found)
            guaranteed = all(name in found for name in _QOS_RESOURCES)
    else:
        for container in [*app_containers(pod), *init_containers(pod)]:
            resources = container.get("resources") or {}
            add_resources(requests, _positive(resources.get("requests")))
            found = _positive(resources.get("limits"))
            add_resources(limits, found)
            if not all(name in found for name in _QOS_RESOURCES):
                guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and any(name not in limits or limits[name] != request for name, request in requests.items()):
        guaranteed = False
    return "Guaranteed" if guaranteed and len(requests) == len(limits) else "Burstable"


def get_pod_qos(pod: Pod) -> QOSClass:
    """GetPodQOS: status.qosClass once the API server set it, else `compute_pod_qos`."""
    return pod_status(pod).get("qosClass") or compute_pod_qos(pod)
