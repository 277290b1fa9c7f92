"""The `pods/ephemeralcontainers` subresource: how `kubectl debug` adds a container to a running pod.

As upstream's EphemeralContainersREST (pkg/registry/core/pod/storage) with podEphemeralContainersStrategy: a GET
answers the pod; a PUT or a PATCH (strategic merge, which kubectl debug sends, JSON merge, JSON patch, or an apply)
makes a new pod object of which only `spec.ephemeralContainers` is kept (dropNonEphemeralContainerUpdates: every
other change to the spec, the metadata and the status is dropped). That pod must then pass the whole pod validation
and ValidatePodEphemeralContainersUpdate: ephemeral containers can be added, never changed nor removed. What the
added ones ask of the host goes through the node's admission (`admission.py`), which judges only them, so a pod
admitted earlier under a laxer policy can still be debugged.

The write records its manager (for kubectl debug `kubectl`, from its User-Agent, as it names no fieldManager) in
managedFields with `subresource: ephemeralcontainers`, and bumps the pod's generation (its spec changed). The
kubelet starts the new containers (`kubelet/kubelet.py`).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from minikubelet.api import Pod
from minikubelet.api.meta import format_time
from minikubelet.api.podutil import ephemeral_containers
from minikubelet.api.validation import validate_pod_ephemeral_containers_update
from minikubelet.api.wire import as_pod
from minikubelet.apiserver import fieldmanager, patching
from minikubelet.errors import ConflictError, InvalidError

if TYPE_CHECKING:
    from minikubelet.apiserver.registry import FieldValidation, PatchType, Registry, Resource

__all__ = ["SUBRESOURCE", "patch", "update"]

SUBRESOURCE = "ephemeralcontainers"


def update(
    registry: Registry,
    resource: Resource,
    namespace: str,
    name: str,
    body: Any,
    *,
    validation: FieldValidation = "Strict",
    manager: str = "",
) -> tuple[dict[str, Any], list[str]]:
    """PUT: the body is a whole Pod, of which only its ephemeral containers count (and its resourceVersion, a
    precondition)."""
    obj, warnings = registry.decode(_decoding_only(resource), body, namespace=namespace, name=name, validation=validation)
    requested_rv = obj["metadata"].get("resourceVersion", "")

    def mutate(current: dict[str, Any]) -> dict[str, Any]:
        if requested_rv and requested_rv != current["metadata"].get("resourceVersion"):
            raise ConflictError.of(resource.plural, name)
        return _prepare(registry, current, obj, manager)

    return registry.guaranteed_update(resource.kind, namespace, name, mutate), warnings


def patch(
    registry: Registry,
    resource: Resource,
    namespace: str,
    name: str,
    patch_type: PatchType,
    patch_body: Any,
    *,
    validation: FieldValidation = "Strict",
    manager: str = "",
    force: bool = False,
) -> tuple[dict[str, Any], list[str], bool]:
    """PATCH: the patch goes onto the latest pod in the write transaction, as a patch of the pod itself does.
    Returns (pod, warnings, False), as `Registry.patch` (a patch of a subresource never creates)."""
    found: list[str] = []

    def mutate(latest: dict[str, Any]) -> dict[str, Any]:
        if patch_type == "apply":
            now = format_time(registry.clock())
            patched = fieldmanager.apply(latest, patch_body, manager=manager, force=force, now=now, kind=resource.kind)
        else:
            patched = patching.apply(latest, patch_type, patch_body, resource.kind)
        meta = patched.get("metadata")
        requested_rv = meta.get("resourceVersion") if isinstance(meta, dict) else None
        if requested_rv not in (None, "", latest["metadata"].get("resourceVersion")):
            raise ConflictError.of(resource.plural, name)
        rendered = {"strategic": patching.go_sprint(patch_body), "apply": None}.get(patch_type, patching.go_json(patched))
        obj, warnings = registry.decode(
            _decoding_only(resource), patched, namespace=namespace, name=name, validation=validation, patch=rendered
        )
        found[:] = warnings
        return _prepare(registry, latest, obj, manager, applied=patched if patch_type == "apply" else None)

    return registry.guaranteed_update(resource.kind, namespace, name, mutate), found, False


def _decoding_only(resource: Resource) -> Resource:
    """The resource, decoded and defaulted as usual but not validated: what is validated is the pod the request
    makes (the current one with the new ephemeral containers), not the body."""
    return replace(resource, validate=lambda _: [])


def _prepare(
    registry: Registry, current: dict[str, Any], new: dict[str, Any], manager: str, *, applied: dict[str, Any] | None = None
) -> dict[str, Any]:
    """dropNonEphemeralContainerUpdates, ValidatePodEphemeralContainersUpdate, admission of the added containers, and
    the managedFields entry. `applied` is a server-side apply's result, whose managedFields are kept."""
    name = current["metadata"].get("name", "")
    result = copy.deepcopy(current)
    wanted = (new.get("spec") or {}).get("ephemeralContainers") or []
    if wanted:
        result["spec"]["ephemeralContainers"] = wanted
    else:
        result["spec"].pop("ephemeralContainers", None)
    errors = validate_pod_ephemeral_containers_update(Pod.model_validate(result), Pod.model_validate(current))
    if errors:
        raise InvalidError("Pod", name, errors)
    before = {c["name"] for c in ephemeral_containers(as_pod(current))}
    added = [c for c in wanted if c.get("name") not in before]
    registry.admission.admit({"metadata": result["metadata"], "spec": {"ephemeralContainers": added}})
    if applied is not None:
        result["metadata"]["managedFields"] = (applied.get("metadata") or {}).get("managedFields") or []
    elif manager:
        now = format_time(registry.clock())
        fieldmanager.update(current, result, manager=manager, now=now, kind="Pod", subresource=SUBRESOURCE)
    return result
