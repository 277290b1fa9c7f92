"""Validation of decoded, defaulted objects, as `pkg/apis/core/validation/validation.go` does it.

Every check returns all the errors it finds (never only the first), each a `FieldError` whose field path
and message are the API server's. Decoding problems (unknown fields, wrong types) are found earlier, by
the models; see `loading.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping

from minikubelet.api import names
from minikubelet.api.meta import ObjectMeta
from minikubelet.api.pod import (
    Container,
    ContainerPort,
    EnvVar,
    EphemeralContainer,
    Pod,
    PodSpec,
    ResourceRequirements,
    SecurityContext,
    Volume,
)
from minikubelet.api.probe import (
    ExecAction,
    GRPCAction,
    HTTPGetAction,
    LifecycleHandler,
    Probe,
    TCPSocketAction,
)
from minikubelet.api.quantity import Quantity
from minikubelet.errors import FieldError, go_quote

__all__ = [
    "validate_object_meta",
    "validate_pod",
    "validate_pod_create",
    "validate_pod_ephemeral_containers_update",
    "validate_pod_update",
]

Errors = list[FieldError]
NameCheck = Callable[[str], list[str]]

_NONNEGATIVE = "must be greater than or equal to 0"
_ANNOTATIONS_MAX_BYTES = 256 * 1024
_NOT_FOR_INIT = "may not be set for init containers without restartPolicy=Always"
_DOWNWARD_ENV_FIELDS = (
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
)
# What ConvertDownwardAPIFieldLabel knows (env vars may use only _DOWNWARD_ENV_FIELDS of it).
_DOWNWARD_FIELD_LABELS = frozenset(
    {
        *_DOWNWARD_ENV_FIELDS,
        "metadata.labels",
        "metadata.annotations",
        "spec.restartPolicy",
        "spec.schedulerName",
        "status.phase",
    }
)
_STANDARD_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})
# helper.IsStandardResourceName: the container resources plus the quota ones.
_STANDARD_RESOURCES = _STANDARD_CONTAINER_RESOURCES | {
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "requests.storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "storage",
    "services.nodeports",
    "services.loadbalancers",
}


def validate_pod(pod: Pod) -> Errors:
    """All validation errors of a Pod's metadata and spec (validatePodMetadataAndSpec), as every write checks them."""
    errors = validate_object_meta(pod.metadata, path="metadata", name_check=names.is_dns1123_subdomain)
    errors += _validate_pod_spec(pod.spec, "spec")
    return errors


def validate_pod_create(pod: Pod) -> Errors:
    """ValidatePodCreate: `validate_pod`, and no ephemeral containers (only `pods/ephemeralcontainers` adds them)."""
    errors = validate_pod(pod)
    if pod.spec.ephemeral_containers:
        errors.append(FieldError.forbidden("spec.ephemeralContainers", "cannot be set on create"))
    return errors


def validate_pod_ephemeral_containers_update(new: Pod, old: Pod) -> Errors:
    """ValidatePodEphemeralContainersUpdate: `new` (the old pod with the new ephemeral containers) is valid, and the
    ephemeral containers `old` had are all there, unchanged (matched by name: a patch may reorder them)."""
    errors = validate_pod(new)
    if _MIRROR_POD_ANNOTATION in old.metadata.annotations:
        return [FieldError.forbidden("", "static pods do not support ephemeral containers")]
    by_name = {container.name: container for container in new.spec.ephemeral_containers}
    for container in old.spec.ephemeral_containers:
        replacement = by_name.get(container.name)
        if replacement is None:
            detail = f"existing ephemeral containers {go_quote(container.name)} may not be removed\n"
            errors.append(FieldError.forbidden("spec.ephemeralContainers", detail))
        elif replacement != container:
            detail = f"existing ephemeral containers {go_quote(container.name)} may not be changed\n"
            errors.append(FieldError.forbidden("spec.ephemeralContainers", detail + _field_diff(container, replacement)))
    return errors


_MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"


def _field_diff(old: EphemeralContainer, new: EphemeralContainer) -> str:
    """What changed, field by field (upstream prints Go's cmp.Diff of the structs, which this only resembles)."""
    before, after = old.to_dict(), new.to_dict()
    lines = ["  core.EphemeralContainer{"]
    for key in dict.fromkeys([*before, *after]):
        if before.get(key) != after.get(key):
            if key in before:
                lines.append(f"- \t{key}: {json.dumps(before[key], separators=(',', ':'))},")
            if key in after:
                lines.append(f"+ \t{key}: {json.dumps(after[key], separators=(',', ':'))},")
    lines.append("  }")
    return "\n".join(lines) + "\n"


def validate_pod_update(new: Pod, old: Pod) -> Errors:
    """The errors of updating `old` to `new` beyond `validate_pod(new)`: ValidatePodUpdate's immutable spec.

    Only images, a shorter (never removed) activeDeadlineSeconds, added tolerations (or a changed
    tolerationSeconds) and a negative terminationGracePeriodSeconds turned into 1 may change."""
    errors: Errors = []
    for path, new_list, old_list in (
        ("spec.containers", new.spec.containers, old.spec.containers),
        ("spec.initContainers", new.spec.init_containers, old.spec.init_containers),
    ):
        if len(new_list) != len(old_list):
            return [*errors, FieldError.forbidden(path, "pod updates may not add or remove containers")]
        errors += _validate_image_updates(new_list, path)
    deadline_errors, stop = _validate_deadline_update(new.spec.active_deadline_seconds, old.spec.active_deadline_seconds)
    errors += deadline_errors
    if stop:
        return errors
    errors += _validate_only_added_tolerations(new.spec.tolerations, old.spec.tolerations)
    if new.spec != old.spec and _munged(new.spec, old.spec) != old.spec:
        errors.append(FieldError.forbidden("spec", f"pod updates may not change fields other than {_UPDATABLE_POD_SPEC_FIELDS}"))
    return errors


_UPDATABLE_POD_SPEC_FIELDS = ",".join(
    (
        "`spec.containers[*].image`",
        "`spec.initContainers[*].image`",
        "`spec.activeDeadlineSeconds`",
        "`spec.tolerations` (only additions to existing tolerations)",
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
    )
)


def _validate_image_updates(containers: list[Container], path: str) -> Errors:
    errors: Errors = []
    for i, container in enumerate(containers):
        if not container.image:
            errors.append(FieldError.required(f"{path}[{i}].image"))
        elif container.image.strip() != container.image:
            detail = "must not have leading or trailing whitespace"
            errors.append(FieldError.invalid(f"{path}[{i}].image", container.image, detail))
    return errors


def _validate_deadline_update(new: int | None, old: int | None) -> tuple[Errors, bool]:
    """Only set from nil, or lowered; the flag says to stop validating (as ValidatePodUpdate returns early)."""
    path = "spec.activeDeadlineSeconds"
    if new is None and old is not None:
        # Go renders the nil pointer as the string "null".
        return [FieldError.invalid(path, "null", "must not update from a positive integer to nil value")], False
    if new is None:
        return [], False
    if not 0 <= new <= 2**31 - 1:
        return [FieldError.invalid(path, new, "must be between 0 and 2147483647, inclusive")], True
    if old is not None and old < new:
        return [FieldError.invalid(path, new, "must be less than or equal to previous value")], True
    return [], False


def _validate_only_added_tolerations(new: list[dict[str, object]], old: list[dict[str, object]]) -> Errors:
    """Every old toleration must still be there; only its tolerationSeconds may differ."""

    def essence(toleration: dict[str, object]) -> dict[str, object]:
        return {k: v for k, v in toleration.items() if k != "tolerationSeconds" and v not in (None, "")}

    kept = [essence(t) for t in new]
    if any(essence(t) not in kept for t in old):
        return [FieldError.forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds")]
    return []


def _munged(new: PodSpec, old: PodSpec) -> PodSpec:
    """`new` with the fields an update may change taken from `old` (what must then equal `old`)."""
    grace = new.termination_grace_period_seconds
    if old.termination_grace_period_seconds < 0 and grace == 1:
        grace = old.termination_grace_period_seconds
    return new.model_copy(
        update={
            "containers": [c.model_copy(update={"image": o.image}) for c, o in zip(new.containers, old.containers, strict=True)],
            "init_containers": [
                c.model_copy(update={"image": o.image}) for c, o in zip(new.init_containers, old.init_containers, strict=True)
            ],
            "active_deadline_seconds": old.active_deadline_seconds,
            "tolerations": old.tolerations,
            "termination_grace_period_seconds": grace,
        }
    )


def validate_object_meta(meta: ObjectMeta, *, path: str, name_check: NameCheck, namespaced: bool = True) -> Errors:
    errors: Errors = []
    if meta.generate_name:
        for msg in name_check(_mask_trailing_dash(meta.generate_name)):
            errors.append(FieldError.invalid(f"{path}.generateName", meta.generate_name, msg))
    if not meta.name:
        if not meta.generate_name:
            errors.append(FieldError.required(f"{path}.name", "name or generateName is required"))
    else:
        errors += [FieldError.invalid(f"{path}.name", meta.name, msg) for msg in name_check(meta.name)]
    if namespaced and meta.namespace:
        errors += [FieldError.invalid(f"{path}.namespace", meta.namespace, msg) for msg in names.is_dns1123_label(meta.namespace)]
    if not namespaced and meta.namespace:
        errors.append(FieldError.forbidden(f"{path}.namespace", "not allowed on this type"))
    errors += validate_labels(meta.labels, f"{path}.labels")
    errors += _validate_annotations(meta.annotations, f"{path}.annotations")
    return errors


def validate_labels(labels: Mapping[str, str], path: str) -> Errors:
    errors: Errors = []
    for key, value in labels.items():
        errors += [FieldError.invalid(path, key, msg) for msg in names.is_qualified_name(key)]
        errors += [FieldError.invalid(path, value, msg) for msg in names.is_label_value(value)]
    return errors


def _validate_annotations(annotations: Mapping[str, str], path: str) -> Errors:
    errors: Errors = []
    size = 0
    for key, value in annotations.items():
        errors += [FieldError.invalid(path, key, msg) for msg in names.is_qualified_name(key.lower())]
        size += len(key.encode()) + len(value.encode())
    if size > _ANNOTATIONS_MAX_BYTES:
        errors.append(FieldError.too_long(path, f"must have at most {_ANNOTATIONS_MAX_BYTES} bytes"))
    return errors


def _mask_trailing_dash(name: str) -> str:
    """apimachinery's maskTrailingDash, which (sic) drops the last two characters, not one."""
    return name[:-2] + "a" if len(name) > 1 and name.endswith("-") else name


def _validate_pod_spec(spec: PodSpec, path: str) -> Errors:
    errors, volume_names = _validate_volumes(spec.volumes, f"{path}.volumes")
    # Regular containers first, then init containers against all names so far (validatePodSpec's order).
    seen_names: set[str] = set()
    if not spec.containers:
        errors.append(FieldError.required(f"{path}.containers"))
    for i, container in enumerate(spec.containers):
        errors += _validate_container(container, f"{path}.containers[{i}]", seen_names, volume_names, spec, init=False)
    for i, container in enumerate(spec.init_containers):
        errors += _validate_container(container, f"{path}.initContainers[{i}]", seen_names, volume_names, spec, init=True)
    errors += _validate_ephemeral_containers(spec, f"{path}.ephemeralContainers", volume_names)
    errors += _validate_host_ports(spec, path)
    errors += _validate_host_network(spec, path)
    errors += _nonnegative(spec.termination_grace_period_seconds, f"{path}.terminationGracePeriodSeconds")
    if spec.active_deadline_seconds is not None and not 1 <= spec.active_deadline_seconds <= 2**31 - 1:
        errors.append(
            FieldError.invalid(
                f"{path}.activeDeadlineSeconds",
                spec.active_deadline_seconds,
                "must be between 1 and 2147483647, inclusive",
            )
        )
    errors += validate_labels(spec.node_selector, f"{path}.nodeSelector")
    for field_name, value, check in (
        ("hostname", spec.hostname, names.is_dns1123_label),
        ("subdomain", spec.subdomain, names.is_dns1123_label),
        ("nodeName", spec.node_name, names.is_dns1123_subdomain),
        ("schedulerName", spec.scheduler_name, names.is_dns1123_subdomain),
    ):
        if value:
            errors += [FieldError.invalid(f"{path}.{field_name}", value, msg) for msg in check(value)]
    return errors


def _validate_volumes(volumes: Iterable[Volume], path: str) -> tuple[Errors, set[str]]:
    errors: Errors = []
    seen: set[str] = set()
    for i, volume in enumerate(volumes):
        at = f"{path}[{i}]"
        errors += _check_name(volume.name, f"{at}.name", names.is_dns1123_label)
        if volume.name and volume.name in seen:
            errors.append(FieldError.duplicate(f"{at}.name", volume.name))
        seen.add(volume.name)
        sources = [name for name, src in (("emptyDir", volume.empty_dir), ("hostPath", volume.host_path)) if src]
        if not sources:
            errors.append(FieldError.required(at, "must specify a volume type"))
        for extra in sources[1:]:
            errors.append(FieldError.forbidden(f"{at}.{extra}", "may not specify more than 1 volume type"))
        if volume.host_path is not None:
            if not volume.host_path.path:
                errors.append(FieldError.required(f"{at}.hostPath.path"))
            elif ".." in volume.host_path.path.split("/"):
                errors.append(FieldError.invalid(f"{at}.hostPath.path", volume.host_path.path, "must not contain '..'"))
        size_limit = volume.empty_dir.size_limit if volume.empty_dir is not None else None
        if size_limit is not None and size_limit.value < 0:
            detail = "SizeLimit field must be a valid resource quantity"
            errors.append(FieldError.forbidden(f"{at}.emptyDir.sizeLimit", detail))
    return errors, seen


def _validate_container(
    container: Container, path: str, seen_names: set[str], volume_names: set[str], spec: PodSpec, *, init: bool
) -> Errors:
    errors = _check_name(container.name, f"{path}.name", names.is_dns1123_label)
    if container.name in seen_names:
        errors.append(FieldError.duplicate(f"{path}.name", container.name))
    seen_names.add(container.name)
    if not container.image:
        errors.append(FieldError.required(f"{path}.image"))
    elif container.image.strip() != container.image:
        errors.append(FieldError.invalid(f"{path}.image", container.image, "must not have leading or trailing whitespace"))
    errors += _validate_ports(container.ports, f"{path}.ports")
    errors += _validate_env(container.env, f"{path}.env")
    errors += _validate_resources(container.resources, f"{path}.resources")
    errors += _validate_volume_mounts(container, f"{path}.volumeMounts", volume_names)
    if init:
        errors += _validate_init_restart_policy(container, path)
    errors += _validate_security_context(container.security_context, f"{path}.securityContext")
    sidecar = init and container.restart_policy == "Always"
    if init and not sidecar:
        for field_name, value in (
            ("lifecycle", container.lifecycle),
            ("livenessProbe", container.liveness_probe),
            ("readinessProbe", container.readiness_probe),
            ("startupProbe", container.startup_probe),
        ):
            if value is not None:
                errors.append(FieldError.forbidden(f"{path}.{field_name}", _NOT_FOR_INIT))
        return errors
    grace = spec.termination_grace_period_seconds
    if container.lifecycle is not None:
        for hook_name, hook in (
            ("postStart", container.lifecycle.post_start),
            ("preStop", container.lifecycle.pre_stop),
        ):
            if hook is not None:
                errors += _validate_lifecycle_handler(hook, f"{path}.lifecycle.{hook_name}", grace)
    errors += _validate_probe(container.liveness_probe, f"{path}.livenessProbe", success_must_be_one=True)
    errors += _validate_probe(container.readiness_probe, f"{path}.readinessProbe", readiness=True)
    errors += _validate_probe(container.startup_probe, f"{path}.startupProbe", success_must_be_one=True)
    if not init:
        errors += _validate_container_restart_policy(container, path)
    return errors


_NOT_FOR_EPHEMERAL = "cannot be set for an Ephemeral Container"


def _validate_ephemeral_containers(spec: PodSpec, path: str, volume_names: set[str]) -> Errors:
    """validateEphemeralContainers: each is a valid container whose name is unique among all the pod's containers,
    whose target (if any) is one of the regular or init containers, and which sets none of the fields outside
    allowedEphemeralContainerFields (ports, resources, restartPolicy, probes, lifecycle) nor a subPath."""
    others = {c.name for c in [*spec.containers, *spec.init_containers]}
    taken = set(others)
    errors: Errors = []
    for i, container in enumerate(spec.ephemeral_containers):
        at = f"{path}[{i}]"
        errors += _check_name(container.name, f"{at}.name", names.is_dns1123_label)
        if not container.image:
            errors.append(FieldError.required(f"{at}.image"))
        errors += _validate_ports(container.ports, f"{at}.ports")
        errors += _validate_env(container.env, f"{at}.env")
        errors += _validate_volume_mounts(container, f"{at}.volumeMounts", volume_names)
        errors += _validate_resources(container.resources, f"{at}.resources")
        errors += _validate_security_context(container.security_context, f"{at}.securityContext")
        if container.image and container.image.strip() != container.image:
            errors.append(FieldError.invalid(f"{at}.image", container.image, "must not have leading or trailing whitespace"))
        if container.name in taken:
            errors.append(FieldError.duplicate(f"{at}.name", container.name))
        taken.add(container.name)
        if container.target_container_name and container.target_container_name not in others:
            errors.append(FieldError.not_found(f"{at}.targetContainerName", container.target_container_name))
        for field_name, is_set in (
            ("ports", bool(container.ports)),
            ("resources", bool(container.resources.limits or container.resources.requests)),
            ("restartPolicy", container.restart_policy is not None),
            ("restartPolicyRules", bool(container.restart_policy_rules)),
            ("livenessProbe", container.liveness_probe is not None),
            ("readinessProbe", container.readiness_probe is not None),
            ("startupProbe", container.startup_probe is not None),
            ("lifecycle", container.lifecycle is not None),
        ):
            if is_set:
                errors.append(FieldError.forbidden(f"{at}.{field_name}", _NOT_FOR_EPHEMERAL))
        for j, mount in enumerate(container.volume_mounts):
            if mount.sub_path:
                errors.append(FieldError.forbidden(f"{at}.volumeMounts[{j}].subPath", _NOT_FOR_EPHEMERAL))
    return errors


# ContainerRestartRules (beta, on by default since 1.35): a container's own restartPolicy and its restartPolicyRules.
_CONTAINER_RESTART_POLICIES = ["Always", "Never", "OnFailure"]  # sets.List: sorted
_RESTART_RULE_ACTIONS = ["Restart"]  # RestartAllContainers needs the alpha RestartAllContainersOnContainerExits
_RESTART_RULE_OPERATORS = ["In", "NotIn"]
_MAX_RESTART_RULES = 20
_MAX_RESTART_RULE_EXIT_CODES = 255


def _validate_init_restart_policy(container: Container, path: str) -> Errors:
    """validateInitContainerRestartPolicy with AllowContainerRestartPolicyRules: "Always" makes a sidecar, which may
    have no rules; "Never" and "OnFailure" are this init container's own policy, rules allowed."""
    if container.restart_policy is None:
        if container.restart_policy_rules:
            return [FieldError.required(f"{path}.restartPolicy", "must specify restartPolicy when restart rules are used")]
        return []
    if container.restart_policy == "Always":
        if container.restart_policy_rules:
            detail = "restartPolicyRules are not allowed for init containers with restart policy Always"
            return [FieldError.forbidden(f"{path}.restartPolicyRules", detail)]
        return []
    return _validate_container_restart_policy(container, path)


def _validate_container_restart_policy(container: Container, path: str) -> Errors:
    """validateContainerRestartPolicy: the policy is one of Always, Never, OnFailure and required by rules; at most
    20 rules, each with action Restart and exitCodes (operator In or NotIn, at most 255 values)."""
    errors: Errors = []
    policy, rules = container.restart_policy, container.restart_policy_rules
    if policy is None:
        if not rules:
            return errors
        errors.append(FieldError.required(f"{path}.restartPolicy", "must specify restartPolicy when restart rules are used"))
    elif policy not in _CONTAINER_RESTART_POLICIES:
        errors.append(FieldError.not_supported(f"{path}.restartPolicy", policy, _CONTAINER_RESTART_POLICIES))
    if len(rules) > _MAX_RESTART_RULES:
        errors.append(FieldError.too_many(f"{path}.restartPolicyRules", len(rules), _MAX_RESTART_RULES))
    for i, rule in enumerate(rules):
        at = f"{path}.restartPolicyRules[{i}]"
        if rule.action not in _RESTART_RULE_ACTIONS:
            errors.append(FieldError.not_supported(f"{at}.action", rule.action, _RESTART_RULE_ACTIONS))
        if rule.exit_codes is None:
            errors.append(FieldError.required(f"{at}.exitCodes", "must be specified"))
            continue
        if rule.exit_codes.operator not in _RESTART_RULE_OPERATORS:
            operator = rule.exit_codes.operator
            errors.append(FieldError.not_supported(f"{at}.exitCodes.operator", operator, _RESTART_RULE_OPERATORS))
        if len(rule.exit_codes.values) > _MAX_RESTART_RULE_EXIT_CODES:
            count = len(rule.exit_codes.values)
            errors.append(FieldError.too_many(f"{at}.exitCodes.values", count, _MAX_RESTART_RULE_EXIT_CODES))
    return errors


def _validate_ports(ports: Iterable[ContainerPort], path: str) -> Errors:
    errors: Errors = []
    seen: set[str] = set()
    for i, port in enumerate(ports):
        at = f"{path}[{i}]"
        if port.name:
            messages = names.is_valid_port_name(port.name)
            errors += [FieldError.invalid(f"{at}.name", port.name, msg) for msg in messages]
            if not messages and port.name in seen:
                errors.append(FieldError.duplicate(f"{at}.name", port.name))
            seen.add(port.name)
        if port.container_port == 0:
            errors.append(FieldError.required(f"{at}.containerPort"))
        else:
            errors += [
                FieldError.invalid(f"{at}.containerPort", port.container_port, msg)
                for msg in names.is_valid_port_num(port.container_port)
            ]
        if port.host_port != 0:
            errors += [
                FieldError.invalid(f"{at}.hostPort", port.host_port, msg) for msg in names.is_valid_port_num(port.host_port)
            ]
    return errors


def _validate_host_network(spec: PodSpec, path: str) -> Errors:
    """validateHostNetwork: on the host's network a port is published as itself (hostPort was defaulted to it)."""
    if not spec.host_network:
        return []
    return [
        FieldError.invalid(f"{path}.containers[{i}].ports[{j}].containerPort", port.container_port, _HOST_NETWORK_PORT)
        for i, container in enumerate(spec.containers)
        for j, port in enumerate(container.ports)
        if port.host_port != port.container_port
    ]


_HOST_NETWORK_PORT = "must match `hostPort` when `hostNetwork` is true"


def _validate_security_context(context: SecurityContext | None, path: str) -> Errors:
    """ValidateSecurityContext (whether the node allows what it asks is admission's business, not validation's)."""
    if context is None:
        return []
    errors: Errors = []
    for field_name, value in (("runAsUser", context.run_as_user), ("runAsGroup", context.run_as_group)):
        if value is not None and not 0 <= value <= 2**31 - 1:
            errors.append(FieldError.invalid(f"{path}.{field_name}", value, "must be between 0 and 2147483647, inclusive"))
    if context.allow_privilege_escalation is False:
        added = context.capabilities.add if context.capabilities is not None else []
        if context.privileged:
            detail = "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"
            errors.append(FieldError.invalid(path, context.to_dict(), detail))
        if "CAP_SYS_ADMIN" in added:
            detail = "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"
            errors.append(FieldError.invalid(path, context.to_dict(), detail))
    return errors


def _validate_host_ports(spec: PodSpec, path: str) -> Errors:
    """A protocol/hostIP/port triple may be claimed once among the regular containers, and once within
    each init container (AccumulateUniqueHostPorts; init containers never run beside the others)."""
    errors = _unique_host_ports(enumerate(spec.containers), f"{path}.containers")
    for i, container in enumerate(spec.init_containers):
        errors += _unique_host_ports([(i, container)], f"{path}.initContainers")
    return errors


def _unique_host_ports(containers: Iterable[tuple[int, Container]], path: str) -> Errors:
    errors: Errors = []
    claimed: set[str] = set()
    for i, container in containers:
        for j, port in enumerate(container.ports):
            if port.host_port == 0:
                continue
            key = f"{port.protocol}/{port.host_ip}/{port.host_port}"
            if key in claimed:
                errors.append(FieldError.duplicate(f"{path}[{i}].ports[{j}].hostPort", key))
            claimed.add(key)
    return errors


def _validate_env(env: Iterable[EnvVar], path: str) -> Errors:
    errors: Errors = []
    for i, var in enumerate(env):
        at = f"{path}[{i}]"
        errors += _check_name(var.name, f"{at}.name", names.is_env_var_name)
        errors += _validate_env_source(var, f"{at}.valueFrom")
    return errors


def _validate_env_source(var: EnvVar, path: str) -> Errors:
    source = var.value_from
    if source is None:
        return []
    errors: Errors = []
    kinds = [
        (name, value)
        for name, value in (
            ("fieldRef", source.field_ref),
            ("resourceFieldRef", source.resource_field_ref),
            ("configMapKeyRef", source.config_map_key_ref),
            ("secretKeyRef", source.secret_key_ref),
        )
        if value is not None
    ]
    if not kinds:
        detail = "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"
        return [FieldError.invalid(path, "", detail)]
    if var.value:
        errors.append(FieldError.invalid(path, "", "may not be specified when `value` is not empty"))
    elif len(kinds) > 1:
        errors.append(FieldError.invalid(path, "", "may not have more than one field specified at a time"))
    for name, _ in kinds:
        if name != "fieldRef":
            errors.append(FieldError.forbidden(f"{path}.{name}", f"{name} is not supported by minikubelet"))
    if source.field_ref is not None:
        errors += _validate_field_ref(source.field_ref.api_version, source.field_ref.field_path, f"{path}.fieldRef")
    return errors


def _validate_field_ref(api_version: str, field_path: str, path: str) -> Errors:
    """validateObjectFieldSelector: convert the path as the downward API does, then check it is allowed."""
    if not field_path:
        return [FieldError.required(f"{path}.fieldPath")]
    subscript = _subscript(field_path)
    problem = ""
    if api_version != "v1":
        problem = f"unsupported pod version: {api_version}"
    elif subscript is None and field_path not in _DOWNWARD_FIELD_LABELS:
        problem = f"field label not supported: {field_path}"
    if problem:
        return [FieldError.invalid(f"{path}.fieldPath", field_path, f"error converting fieldPath: {problem}")]
    if subscript is not None:
        return [FieldError.invalid(f"{path}.fieldPath", subscript, m) for m in names.is_qualified_name(subscript)]
    if field_path not in _DOWNWARD_ENV_FIELDS:
        return [FieldError.not_supported(f"{path}.fieldPath", field_path, _DOWNWARD_ENV_FIELDS)]
    return []


def _subscript(field_path: str) -> str | None:
    """The key of `metadata.labels['key']` or `metadata.annotations['key']`, else None."""
    for prefix in ("metadata.labels['", "metadata.annotations['"):
        if field_path.startswith(prefix) and field_path.endswith("']"):
            return field_path[len(prefix) : -2]
    return None


def _validate_resources(resources: ResourceRequirements, path: str) -> Errors:
    """ValidateContainerResourceRequirements: names, values, and requests against limits."""
    errors: Errors = []
    for name, quantity in resources.limits.items():
        errors += _validate_resource(name, quantity, f"{path}.limits[{name}]")
    for name, request in resources.requests.items():
        errors += _validate_resource(name, request, f"{path}.requests[{name}]")
        limit = resources.limits.get(name)
        overcommit = _is_overcommit_allowed(name)
        if limit is not None:
            if request != limit and not overcommit:
                detail = f"must be equal to {name} limit of {limit}"
                errors.append(FieldError.invalid(f"{path}.requests", str(request), detail))
            elif request.value > limit.value:
                detail = f"must be less than or equal to {name} limit of {limit}"
                errors.append(FieldError.invalid(f"{path}.requests", str(request), detail))
        elif not overcommit:
            errors.append(FieldError.required(f"{path}.limits", "Limit must be set for non overcommitable resources"))
    return errors


def _validate_resource(name: str, quantity: Quantity, path: str) -> Errors:
    errors = [FieldError.invalid(path, name, msg) for msg in names.is_qualified_name(name)]
    if not errors:
        hugepages = name.startswith("hugepages-")
        if "/" not in name:
            if name not in _STANDARD_RESOURCES and not hugepages:
                errors.append(FieldError.invalid(path, name, "must be a standard resource type or fully qualified"))
            if name not in _STANDARD_CONTAINER_RESOURCES and not hugepages:
                errors.append(FieldError.invalid(path, name, "must be a standard resource for containers"))
        elif not _is_native(name) and not _is_extended(name):
            errors.append(FieldError.invalid(path, name, "doesn't follow extended resource name standard"))
    if quantity.value < 0:
        errors.append(FieldError.invalid(path, str(quantity), _NONNEGATIVE))
    if _is_extended(name) and quantity.value != quantity.value.to_integral_value():
        errors.append(FieldError.invalid(path, str(quantity), "must be an integer"))
    return errors


def _is_native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _is_extended(name: str) -> bool:
    return not _is_native(name) and not name.startswith("requests.") and not names.is_qualified_name("requests." + name)


def _is_overcommit_allowed(name: str) -> bool:
    return _is_native(name) and not name.startswith("hugepages-")


def _validate_volume_mounts(container: Container, path: str, volume_names: set[str]) -> Errors:
    errors: Errors = []
    mount_paths: set[str] = set()
    for i, mount in enumerate(container.volume_mounts):
        at = f"{path}[{i}]"
        if not mount.name:
            errors.append(FieldError.required(f"{at}.name"))
        if mount.name not in volume_names:
            errors.append(FieldError.not_found(f"{at}.name", mount.name))
        if not mount.mount_path:
            errors.append(FieldError.required(f"{at}.mountPath"))
        elif mount.mount_path in mount_paths:
            errors.append(FieldError.invalid(f"{at}.mountPath", mount.mount_path, "must be unique"))
        mount_paths.add(mount.mount_path)
        if mount.sub_path:
            # Reported without the mount's index, as upstream does (fldPath.Child("subPath")).
            if mount.sub_path.startswith("/"):
                errors.append(FieldError.invalid(f"{path}.subPath", mount.sub_path, "must be a relative path"))
            if ".." in mount.sub_path.split("/"):
                errors.append(FieldError.invalid(f"{path}.subPath", mount.sub_path, "must not contain '..'"))
    return errors


def _validate_probe(probe: Probe | None, path: str, *, success_must_be_one: bool = False, readiness: bool = False) -> Errors:
    if probe is None:
        return []
    handlers = (
        ("exec", probe.exec),
        ("httpGet", probe.http_get),
        ("tcpSocket", probe.tcp_socket),
        ("grpc", probe.grpc),
    )
    errors = _validate_handlers(handlers, path)
    for field_name, value in (
        ("initialDelaySeconds", probe.initial_delay_seconds),
        ("timeoutSeconds", probe.timeout_seconds),
        ("periodSeconds", probe.period_seconds),
        ("successThreshold", probe.success_threshold),
        ("failureThreshold", probe.failure_threshold),
    ):
        errors += _nonnegative(value, f"{path}.{field_name}")
    grace = probe.termination_grace_period_seconds
    if grace is not None and grace <= 0:
        errors.append(FieldError.invalid(f"{path}.terminationGracePeriodSeconds", grace, "must be greater than 0"))
    if success_must_be_one and probe.success_threshold != 1:
        errors.append(FieldError.invalid(f"{path}.successThreshold", probe.success_threshold, "must be 1"))
    if readiness and grace is not None:
        errors.append(FieldError.invalid(f"{path}.terminationGracePeriodSeconds", grace, "must not be set for readinessProbes"))
    return errors


def _validate_lifecycle_handler(hook: LifecycleHandler, path: str, grace: int) -> Errors:
    handlers = (("exec", hook.exec), ("httpGet", hook.http_get), ("tcpSocket", hook.tcp_socket), ("sleep", hook.sleep))
    errors = _validate_handlers(handlers, path)
    # PodLifecycleSleepActionAllowZero (GA in 1.34): a zero-second sleep is a valid no-op hook.
    if hook.sleep is not None and not 0 <= hook.sleep.seconds <= grace:
        detail = f"must be non-negative and less than terminationGracePeriodSeconds ({grace})"
        errors.append(FieldError.invalid(f"{path}.sleep", hook.sleep.seconds, detail))
    return errors


def _validate_handlers(handlers: Iterable[tuple[str, object]], path: str) -> Errors:
    """Exactly one handler; the first one set is checked, any further one is forbidden (validateHandler)."""
    errors: Errors = []
    chosen = False
    for name, handler in handlers:
        if handler is None:
            continue
        if chosen:
            errors.append(FieldError.forbidden(f"{path}.{name}", "may not specify more than 1 handler type"))
            continue
        chosen = True
        errors += _validate_handler(handler, f"{path}.{name}")
    if not chosen:
        errors.append(FieldError.required(path, "must specify a handler type"))
    return errors


def _validate_handler(handler: object, path: str) -> Errors:
    if isinstance(handler, HTTPGetAction):
        errors = [] if handler.path else [FieldError.required(f"{path}.path")]
        errors += _validate_port_num_or_name(handler.port, f"{path}.port")
        for header in handler.http_headers:
            errors += [
                FieldError.invalid(f"{path}.httpHeaders", header.name, msg) for msg in names.is_http_header_name(header.name)
            ]
        return errors
    if isinstance(handler, TCPSocketAction):
        return _validate_port_num_or_name(handler.port, f"{path}.port")
    if isinstance(handler, ExecAction) and not handler.command:
        return [FieldError.required(f"{path}.command")]
    if isinstance(handler, GRPCAction):
        return [FieldError.invalid(f"{path}.port", handler.port, m) for m in names.is_valid_port_num(handler.port)]
    return []  # sleep: checked by the lifecycle handler, which knows the grace period


def _validate_port_num_or_name(port: int | str, path: str) -> Errors:
    if isinstance(port, int):
        return [FieldError.invalid(path, port, msg) for msg in names.is_valid_port_num(port)]
    return [FieldError.invalid(path, port, msg) for msg in names.is_valid_port_name(port)]


def _check_name(value: str, path: str, check: NameCheck) -> Errors:
    """A required name that must also pass `check`."""
    if not value:
        return [FieldError.required(path)]
    return [FieldError.invalid(path, value, msg) for msg in check(value)]


def _nonnegative(value: int, path: str) -> Errors:
    return [FieldError.invalid(path, value, _NONNEGATIVE)] if value < 0 else []
