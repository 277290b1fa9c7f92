"""What the API server does with objects, apart from HTTP: decode, default, validate, store.

This is the Kubernetes "registry" layer (pkg/registry/core/pod): strict decoding with the three
`fieldValidation` modes, the pod create/update strategies (status reset on create, kept on update,
immutable spec), graceful deletion, binding and the status subresource. `app.py` only maps HTTP onto
these methods, so the daemon's own loops and the tests can use them without a socket.

The API server runs a write in a worker thread, beside the event loop that runs the kubelet and the prober,
so a costly one must not hold the store's lock (the loop waits on it): an update is GuaranteedUpdate's
optimistic loop, the work done on a copy outside the lock and stored only if the object has not changed
meanwhile (tried again on the latest object if it has). And an object is stored only up to etcd's request
limit (MAX_OBJECT_BYTES of JSON), refused beyond it with etcd's words as the API server passes them on (a 500).
"""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from minikubelet.api import Event, Namespace, Node, Pod
from minikubelet.api.loading import decode
from minikubelet.api.meta import K8sModel, format_time
from minikubelet.api.names import is_dns1123_label, is_dns1123_subdomain
from minikubelet.api.resources import compute_pod_qos
from minikubelet.api.validation import validate_object_meta, validate_pod, validate_pod_create, validate_pod_update
from minikubelet.api.wire import as_pod
from minikubelet.apiserver import ephemeral, fieldmanager, patching
from minikubelet.apiserver.admission import PodSecurityPolicy
from minikubelet.errors import (
    BadRequestError,
    ConflictError,
    ErrorType,
    FieldError,
    InvalidError,
    NotFoundError,
    StatusError,
)
from minikubelet.store import Store

__all__ = [
    "LAST_APPLIED",
    "MAX_OBJECT_BYTES",
    "RESOURCES",
    "FieldValidation",
    "ObjectTooLargeError",
    "PatchType",
    "Registry",
    "Resource",
    "apply_patch",
    "invalid_status",
    "set_condition",
]

FieldValidation = Literal["Strict", "Warn", "Ignore"]
PatchType = Literal["strategic", "merge", "json", "apply"]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
#: The largest object stored, as JSON: etcd's default --max-request-bytes (1.5 MiB), which refuses a bigger write
#: (etcd weighs the protobuf form, a little smaller: objects near the limit may fit there and not here).
MAX_OBJECT_BYTES = 1536 * 1024
#: How often an update is computed outside the store's lock before it is done under it (GuaranteedUpdate retries).
_OPTIMISTIC_TRIES = 5


def _validate_meta_only(check: Callable[[str], list[str]], namespaced: bool) -> Callable[[Any], list[FieldError]]:
    def validate(obj: Any) -> list[FieldError]:
        return validate_object_meta(obj.metadata, path="metadata", name_check=check, namespaced=namespaced)

    return validate


@dataclass(frozen=True)
class Resource:
    plural: str
    kind: str
    model: type[K8sModel]
    namespaced: bool
    validate: Callable[[Any], list[FieldError]]


RESOURCES: dict[str, Resource] = {
    "pods": Resource("pods", "Pod", Pod, True, validate_pod),
    "events": Resource("events", "Event", Event, True, _validate_meta_only(is_dns1123_subdomain, True)),
    "nodes": Resource("nodes", "Node", Node, False, _validate_meta_only(is_dns1123_subdomain, False)),
    "namespaces": Resource("namespaces", "Namespace", Namespace, False, _validate_meta_only(is_dns1123_label, False)),
}

# What a create validates, where it differs from an update: a pod may not be created with ephemeral containers.
_CREATING = {"pods": replace(RESOURCES["pods"], validate=validate_pod_create)}

_CAUSE_REASONS = {
    ErrorType.REQUIRED: "FieldValueRequired",
    ErrorType.INVALID: "FieldValueInvalid",
    ErrorType.NOT_SUPPORTED: "FieldValueNotSupported",
    ErrorType.DUPLICATE: "FieldValueDuplicate",
    ErrorType.FORBIDDEN: "FieldValueForbidden",
    ErrorType.NOT_FOUND: "FieldValueNotFound",
    ErrorType.TOO_LONG: "FieldValueTooLong",
    ErrorType.TOO_MANY: "FieldValueTooMany",
    ErrorType.INTERNAL: "InternalError",
    ErrorType.UNKNOWN_FIELD: "FieldValueInvalid",
}


def invalid_status(error: InvalidError) -> dict[str, Any]:
    """The 422 Status body of apimachinery's errors.NewInvalid; a kind `Kind.group` (`DeleteOptions.meta.k8s.io`)
    is its GroupKind, named so in the message and split in the details."""
    causes = [{"reason": _CAUSE_REASONS[c.type], "message": c.body(), "field": c.field} for c in error.causes]
    texts = list(dict.fromkeys(str(c) for c in error.causes))
    aggregate = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    kind, _, group = error.kind.partition(".")
    details = {key: value for key, value in (("name", error.name), ("group", group), ("kind", kind)) if value}
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'{error.kind} "{error.name}" is invalid: {aggregate}',
        "reason": "Invalid",
        "details": {**details, "causes": causes},
        "code": 422,
    }


def _now() -> datetime:
    return datetime.now(UTC)


class Registry:
    """Create, read, update, patch and delete API objects with the API server's semantics."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] = _now, admission: PodSecurityPolicy | None = None) -> None:
        self.store = store
        self.clock = clock
        # What pods may do to the host; the default refuses privileged pods, host namespaces and host paths.
        self.admission = admission or PodSecurityPolicy()

    # ------------------------------------------------------------------------------------------ decoding

    def decode(
        self,
        resource: Resource,
        body: Any,
        *,
        namespace: str,
        name: str = "",
        validation: FieldValidation = "Strict",
        patch: str | None = None,
    ) -> tuple[dict[str, Any], list[str]]:
        """Decode, default and validate a request body; returns the object in wire form and any warnings.

        `patch` is the patch (as the API server renders it) the body was made from: decoding errors are then
        a 422 `patch: Invalid value`, as a patch handler reports them, instead of a 400."""
        if not isinstance(body, dict):
            raise BadRequestError(
                f'{resource.kind} in version "v1" cannot be handled as a {resource.kind}: the request body must be a JSON object'
            )
        raw = dict(body)
        raw.setdefault("apiVersion", "v1")
        raw.setdefault("kind", resource.kind)
        if raw["apiVersion"] != "v1" or raw["kind"] != resource.kind:
            raise BadRequestError(
                f"the API version in the data ({raw['apiVersion']}) and kind ({raw['kind']}) do not match "
                f"the request ({resource.kind} v1)"
            )
        metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
        raw["metadata"] = dict(metadata or {})
        if resource.namespaced:
            given = raw["metadata"].get("namespace")
            if given not in (None, "", namespace):
                raise BadRequestError("the namespace of the provided object does not match the namespace sent on the request")
            raw["metadata"]["namespace"] = namespace
        if name and raw["metadata"].get("name") not in (None, name):
            raise BadRequestError(
                f"the name of the object ({raw['metadata'].get('name')}) does not match the name on the URL ({name})"
            )
        if name:
            raw["metadata"]["name"] = name
        outcome = decode(resource.model, raw, validate=resource.validate)
        prefix = f'{resource.kind} in version "v1" cannot be handled as a {resource.kind}: '
        # A string outside an enum decodes fine in Go and fails validation (422), unlike a wrong type (400).
        unsupported = [e for e in outcome.malformed if e.type is ErrorType.NOT_SUPPORTED]
        malformed = [e for e in outcome.malformed if e.type is not ErrorType.NOT_SUPPORTED]
        if malformed:
            raise _decoding_error("; ".join(str(e) for e in malformed), prefix=prefix, patch=patch)
        unknown = [f'unknown field "{e.field}"' for e in outcome.unknown]
        if unknown and validation == "Strict":
            raise _decoding_error("strict decoding error: " + ", ".join(unknown), prefix=prefix, patch=patch)
        invalid = unsupported + outcome.invalid
        if invalid or outcome.obj is None:
            raise InvalidError(resource.kind, str(raw["metadata"].get("name") or ""), invalid)
        warnings = unknown if validation == "Warn" else []
        return outcome.obj.to_dict(), warnings

    # ------------------------------------------------------------------------------------------- verbs

    def create(
        self,
        resource: Resource,
        namespace: str,
        body: Any,
        *,
        validation: FieldValidation = "Strict",
        dry_run: bool = False,
        manager: str = "",
    ) -> tuple[dict[str, Any], list[str]]:
        """Create; `manager` (the field manager) becomes the owner of every field set (managedFields)."""
        meta = body.get("metadata") if isinstance(body, dict) else None
        if isinstance(meta, dict) and not meta.get("name") and meta.get("generateName"):
            body = copy.deepcopy(body)
            body["metadata"]["name"] = str(meta["generateName"]) + _random_suffix()
        obj, warnings = self.decode(_CREATING.get(resource.plural, resource), body, namespace=namespace, validation=validation)
        if resource.kind == "Pod":
            self.admission.admit(obj)
        obj["metadata"].pop("deletionTimestamp", None)
        obj["metadata"].pop("deletionGracePeriodSeconds", None)
        # PrepareForCreate: a new object is at generation 1 (the store sets it), whatever the body said.
        for key in ("uid", "resourceVersion", "creationTimestamp", "generation"):
            obj["metadata"].pop(key, None)
        if resource.kind == "Pod":
            obj["status"] = {"phase": "Pending", "qosClass": compute_pod_qos(as_pod(obj))}
        if resource.kind == "Namespace":
            obj["status"] = {"phase": "Active"}
        if resource.namespaced:
            self._require_namespace(namespace)
        self._track(resource, None, obj, manager)
        _check_storable(obj)
        if dry_run:
            obj["metadata"].setdefault("creationTimestamp", format_time(self.clock()))
            obj["metadata"]["generation"] = 1
            return obj, warnings
        return self.store.create(obj), warnings

    def get(self, resource: Resource, namespace: str, name: str) -> dict[str, Any]:
        return self.store.get(resource.kind, namespace if resource.namespaced else "", name)

    def update(
        self,
        resource: Resource,
        namespace: str,
        name: str,
        body: Any,
        *,
        validation: FieldValidation = "Strict",
        manager: str = "",
    ) -> tuple[dict[str, Any], list[str]]:
        ns = namespace if resource.namespaced else ""
        obj, warnings = self.decode(resource, body, namespace=ns, name=name, validation=validation)
        requested_rv = obj["metadata"].get("resourceVersion", "")

        def mutate(current: dict[str, Any]) -> dict[str, Any]:
            if requested_rv and requested_rv != current["metadata"].get("resourceVersion"):
                raise ConflictError.of(resource.plural, name)
            return _check_storable(self._track(resource, current, self._prepare_update(resource, current, obj), manager))

        return self.guaranteed_update(resource.kind, ns, name, mutate), warnings

    def patch(
        self,
        resource: Resource,
        namespace: str,
        name: str,
        patch_type: PatchType,
        patch: Any,
        *,
        validation: FieldValidation = "Strict",
        subresource: str = "",
        manager: str = "",
        force: bool = False,
    ) -> tuple[dict[str, Any], list[str], bool]:
        """Apply a patch; an apply-patch of an absent object creates it. Returns (object, warnings, created).

        An apply patch is server-side apply by `manager` (required), which `force` lets take over the fields
        other managers own; any other patch is an update by `manager`."""
        ns = namespace if resource.namespaced else ""
        if patch_type == "apply":
            _check_applied_fields(resource, patch, manager)
        if subresource == ephemeral.SUBRESOURCE:
            return ephemeral.patch(
                self, resource, ns, name, patch_type, patch, validation=validation, manager=manager, force=force
            )
        try:
            current = self.store.get(resource.kind, ns, name)
        except NotFoundError:
            if patch_type != "apply":
                raise
            meta = patch.get("metadata") if isinstance(patch, dict) else None
            if isinstance(meta, dict) and meta.get("name") not in (None, name):
                raise BadRequestError(
                    f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
                ) from None
            now = format_time(self.clock())
            applied = fieldmanager.apply(None, patch, manager=manager, force=force, now=now, kind=resource.kind)
            created, warnings = self.create(resource, namespace, applied, validation=validation)
            return created, warnings, True
        if subresource == "status":
            status = self.update_status(resource, namespace, name, apply_patch(current, patch_type, patch, resource.kind))
            return status, [], False
        found: list[str] = []

        def mutate(latest: dict[str, Any]) -> dict[str, Any]:
            # The patch goes onto the latest object in the write transaction (GuaranteedUpdate): a status
            # written meanwhile is no conflict, but a resourceVersion the patch sets is a precondition.
            if patch_type == "apply":
                now = format_time(self.clock())
                patched = fieldmanager.apply(latest, patch, manager=manager, force=force, now=now, kind=resource.kind)
            else:
                patched = apply_patch(latest, patch_type, patch, resource.kind)
            meta = patched.get("metadata")
            requested_rv = meta.get("resourceVersion") if isinstance(meta, dict) else None
            if requested_rv not in (None, "", latest["metadata"].get("resourceVersion")):
                raise ConflictError.of(resource.plural, name)
            rendered = _rendered_patch(patch_type, patch, patched)
            obj, warnings = self.decode(resource, patched, namespace=ns, name=name, validation=validation, patch=rendered)
            found[:] = warnings
            result = self._prepare_update(resource, latest, obj)
            return _check_storable(result if patch_type == "apply" else self._track(resource, latest, result, manager))

        return self.guaranteed_update(resource.kind, ns, name, mutate), found, False

    def update_status(self, resource: Resource, namespace: str, name: str, body: Any) -> dict[str, Any]:
        """The status subresource: only `status` changes (and the resourceVersion precondition holds)."""
        if not isinstance(body, dict):
            raise BadRequestError("the request body must be a JSON object")
        ns = namespace if resource.namespaced else ""
        meta = body.get("metadata") or {}
        if not isinstance(meta, dict):
            kind = resource.kind
            raise BadRequestError(f'{kind} in version "v1" cannot be handled as a {kind}: metadata: must be an object')
        requested_rv = meta.get("resourceVersion", "")

        def mutate(current: dict[str, Any]) -> dict[str, Any]:
            if requested_rv and requested_rv != current["metadata"].get("resourceVersion"):
                raise ConflictError.of(resource.plural, name)
            candidate = copy.deepcopy(current)
            candidate["status"] = body.get("status") or {}
            obj, _ = self.decode(resource, candidate, namespace=ns, name=name, validation="Strict")
            status = obj.get("status", {})
            if resource.kind == "Pod":
                _preserve_observed_generation(status, current.get("status") or {})
            current["status"] = status
            return _check_storable(current)

        return self.guaranteed_update(resource.kind, ns, name, mutate)

    def delete(
        self,
        resource: Resource,
        namespace: str,
        name: str,
        *,
        grace_period: int | None = None,
        uid: str | None = None,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        """Delete; a running pod is only marked (deletionTimestamp) and the kubelet finishes the job."""
        ns = namespace if resource.namespaced else ""
        current = self.store.get(resource.kind, ns, name)
        if resource.kind != "Pod" or not _graceful(current, grace_period):
            return self.store.delete(resource.kind, ns, name, uid=uid, resource_version=resource_version)
        grace = grace_period if grace_period is not None else int(current["spec"].get("terminationGracePeriodSeconds", 30))
        deadline = format_time(self.clock() + timedelta(seconds=grace))

        def mark(pod: dict[str, Any]) -> dict[str, Any] | None:
            if uid and pod["metadata"].get("uid") != uid:
                raise ConflictError.of(resource.plural, name)
            if resource_version and pod["metadata"].get("resourceVersion") != str(resource_version):
                raise ConflictError.of(resource.plural, name)
            meta = pod["metadata"]
            if "deletionTimestamp" in meta and meta.get("deletionGracePeriodSeconds", grace) <= grace:
                return None  # already terminating at least as fast
            meta["deletionTimestamp"] = deadline
            meta["deletionGracePeriodSeconds"] = grace
            return pod

        return self.store.update_with(resource.kind, ns, name, mark)

    def bind(self, namespace: str, name: str, body: Any) -> dict[str, Any]:
        """pods/binding: assign a pod to a node once, and mark it PodScheduled."""
        target = body.get("target") if isinstance(body, dict) else None
        node = target.get("name") if isinstance(target, dict) else None
        if not isinstance(node, str) or not node:
            raise BadRequestError("binding target name is required")
        now = format_time(self.clock())

        def assign(pod: dict[str, Any]) -> dict[str, Any]:
            spec = pod.setdefault("spec", {})
            if spec.get("nodeName"):
                raise ConflictError(f'pod {name} is already assigned to node "{spec["nodeName"]}"', kind="pods", name=name)
            if pod["metadata"].get("deletionTimestamp"):
                raise ConflictError(f"pod {name} is being deleted, cannot be assigned to a host", kind="pods", name=name)
            spec["nodeName"] = node
            set_condition(pod, {"type": "PodScheduled", "status": "True"}, now=now)
            return pod

        # Binding sets spec.nodeName outside the pod strategy: metadata.generation stays (a bound pod is at 1).
        return self.store.update_with("Pod", namespace, name, assign, keep_generation=True)

    # ------------------------------------------------------------------------------------------ helpers

    def guaranteed_update(self, kind: str, namespace: str, name: str, mutate: Mutation) -> dict[str, Any]:
        """`store.update_with(kind, namespace, name, mutate)`, with `mutate` run on a copy outside the store's lock
        (GuaranteedUpdate's optimistic loop): its result is stored only if the object is still the one it was
        computed from, and computed again from the latest one if not. After _OPTIMISTIC_TRIES lost races (a
        writer faster than this one, again and again) it runs inside the write transaction, which never loses."""
        for _ in range(_OPTIMISTIC_TRIES):
            current = self.store.get(kind, namespace, name)
            seen = current["metadata"].get("resourceVersion")
            result = mutate(current)

            def commit(latest: dict[str, Any], result: dict[str, Any] | None = result, seen: Any = seen) -> dict[str, Any] | None:
                if latest["metadata"].get("resourceVersion") != seen:
                    raise _Stale
                return result

            try:
                return self.store.update_with(kind, namespace, name, commit)
            except _Stale:
                continue
        return self.store.update_with(kind, namespace, name, mutate)

    def _require_namespace(self, namespace: str) -> None:
        try:
            self.store.get("Namespace", "", namespace)
        except NotFoundError:
            raise NotFoundError.of("namespaces", namespace) from None

    def _track(self, resource: Resource, old: dict[str, Any] | None, new: dict[str, Any], manager: str) -> dict[str, Any]:
        """Record `manager`'s update of `old` into `new` in new's managedFields (not for in-process writers)."""
        if manager:
            fieldmanager.update(old, new, manager=manager, now=format_time(self.clock()), kind=resource.kind)
        return new

    def _prepare_update(self, resource: Resource, current: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        """PrepareForUpdate + ValidateUpdate: status is kept, server-set metadata too, pod specs are immutable."""
        result = copy.deepcopy(new)
        meta, old_meta = result["metadata"], current["metadata"]
        for key in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        meta["resourceVersion"] = old_meta.get("resourceVersion", "")
        if "status" in current:
            result["status"] = current["status"]
        if resource.kind == "Pod":
            _check_pod_spec_update(current, result)
            self.admission.admit(result, old=current)
        return result


def apply_patch(current: dict[str, Any], patch_type: PatchType, patch: Any, kind: str) -> dict[str, Any]:
    return patching.apply(current, patch_type, patch, kind)


Mutation = Callable[[dict[str, Any]], "dict[str, Any] | None"]


class _Stale(Exception):
    """The object changed after an optimistic update read it (GuaranteedUpdate's conflict, retried)."""


class ObjectTooLargeError(StatusError):
    """etcd's refusal of a write over its request limit, which the API server answers as a plain error: 500 with
    etcd's message and no reason (kubernetes#112152)."""

    code, reason = 500, ""

    def __init__(self) -> None:
        super().__init__("etcdserver: request is too large")

    def status(self) -> dict[str, object]:
        body = super().status()
        del body["reason"]
        return body


def _check_storable(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj`, if its JSON fits in MAX_OBJECT_BYTES; else ObjectTooLargeError."""
    if len(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")) > MAX_OBJECT_BYTES:
        raise ObjectTooLargeError
    return obj


def _rendered_patch(patch_type: PatchType, patch: Any, patched: dict[str, Any]) -> str | None:
    """What a patch handler quotes in `patch: Invalid value: ...`: the strategic merge patch itself (Go's `%+v`),
    or the whole patched object for JSON and merge patches; server-side apply reports otherwise (None)."""
    if patch_type == "strategic":
        return patching.go_sprint(patch)
    return None if patch_type == "apply" else patching.go_json(patched)


def _decoding_error(message: str, *, prefix: str, patch: str | None) -> BadRequestError | InvalidError:
    if patch is None:
        return BadRequestError(prefix + message)
    return InvalidError("", "", [FieldError.invalid("patch", patch, message)])


def _check_applied_fields(resource: Resource, applied: Any, manager: str) -> None:
    """Server-side apply needs a field manager and an object, and refuses unknown fields whatever the field
    validation, as a plain error (500): the applied configuration does not convert to the typed object."""
    if not manager:
        cause = FieldError.required("fieldManager", "is required for apply patch")
        raise InvalidError("PatchOptions.meta.k8s.io", "", [cause])
    patching.check_shape("apply", applied)
    unknown = decode(resource.model, applied, validate=lambda _: []).unknown
    if not unknown:
        return
    errors = [f"{patching.ssa_path(applied, e.field, resource.kind)}: field not declared in schema" for e in unknown]
    meta = applied.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    where = f"{meta.get('namespace', '')}/{meta.get('name', '')}; /v1, Kind={resource.kind}"
    detail = errors[0] if len(errors) == 1 else "\n".join(["errors:", *(f"  {e}" for e in errors)])
    raise patching.UntypedServerError(f"failed to create typed patch object ({where}): {detail}")


def _preserve_observed_generation(status: dict[str, Any], old: dict[str, Any]) -> None:
    """preserveOldObservedGeneration (podStatusStrategy.PrepareForUpdate): a status write that leaves out
    observedGeneration, of the pod or of a condition, keeps the old value; conditions are matched by type, in order
    (the n-th condition of a type takes the old n-th one's)."""
    if "observedGeneration" not in status and "observedGeneration" in old:
        status["observedGeneration"] = old["observedGeneration"]
    remembered: dict[str, list[Any]] = {}
    for condition in old.get("conditions") or []:
        remembered.setdefault(condition.get("type"), []).append(condition.get("observedGeneration"))
    for condition in status.get("conditions") or []:
        olds = remembered.get(condition.get("type")) or [None]
        generation = olds.pop(0)
        if "observedGeneration" not in condition and generation:
            condition["observedGeneration"] = generation


def _check_pod_spec_update(current: dict[str, Any], new: dict[str, Any]) -> None:
    """ValidatePodUpdate: a pod's spec is immutable but for a few fields (see `validate_pod_update`)."""
    errors = validate_pod_update(Pod.model_validate({"spec": new["spec"]}), Pod.model_validate({"spec": current["spec"]}))
    if errors:
        raise InvalidError("Pod", new["metadata"].get("name", ""), errors)


def _graceful(pod: dict[str, Any], grace_period: int | None) -> bool:
    """Kubernetes deletes at once a pod that never ran on a node, a finished one, or with grace 0."""
    if grace_period == 0:
        return False
    if not pod.get("spec", {}).get("nodeName"):
        return False
    return pod.get("status", {}).get("phase") not in ("Succeeded", "Failed")


def set_condition(obj: dict[str, Any], condition: dict[str, Any], *, now: str) -> bool:
    """Insert or replace a condition by type (upstream `UpdatePodCondition`: a reason or message not given is
    gone); lastTransitionTime changes only with the status. True if changed."""
    conditions: list[dict[str, Any]] = obj.setdefault("status", {}).setdefault("conditions", [])
    for existing in conditions:
        if existing.get("type") == condition["type"]:
            same = existing.get("status") == condition["status"]
            merged: dict[str, Any] = {
                "lastProbeTime": None,
                "lastTransitionTime": existing.get("lastTransitionTime", now) if same else now,
            }
            merged.update(condition)
            if merged == existing:
                return False
            existing.clear()
            existing.update(merged)
            return True
    conditions.append({"lastProbeTime": None, "lastTransitionTime": now, **condition})
    return True


def _random_suffix() -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return "".join(secrets.choice(alphabet) for _ in range(5))
