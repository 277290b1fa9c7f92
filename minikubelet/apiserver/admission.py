"""Admission: what a pod may do to the host, decided when it is created (or its spec changes).

A minikubelet node runs containers on the user's own Docker engine, as root. A pod that shares the host's
network, PID or IPC namespace, runs privileged, adds capabilities beyond the default set or mounts a host
directory can read or change anything on the machine. A manifest copied from somewhere should not be able
to do that by accident, so, like the PodSecurity "baseline" level on a real cluster, the node refuses such
pods with 403 Forbidden unless it was started with `minikubelet up --allow-privileged`. hostPath volumes
are also allowed under the directories given with `--allow-host-path=DIR`.

The refusal reads like PodSecurity's (`violates PodSecurity "baseline:latest": privileged (container "app"
must not set securityContext.privileged=true)`), but names our policy, the fields at fault (also listed in
the Status' `details.causes`) and the flag that lifts it, since the user is the cluster admin here:

    pods "p" is forbidden: violates the node's pod security policy: privileged (container "app" must not
    set securityContext.privileged=true); a node started with "minikubelet up --allow-privileged" allows this

Ephemeral containers (`kubectl debug`) are checked like the others, when they are added: the node's policy applies
to them alone then (`ephemeral.py`), so a pod admitted under a laxer policy can still be debugged. One exception:
an ephemeral container may add SYS_PTRACE, which kubectl debug's default ("general") profile asks for to trace
the target's processes. It gives ptrace within the pod's own process namespace only (a host PID namespace is
refused as ever), and an ephemeral container only ever comes from a deliberate debugging session, not from a
manifest copied from somewhere. `kubectl debug --copy-to` makes an ordinary pod, which gets no such exception.

What is checked is what the kubelet acts on (see `kubelet/containers.py`); hostPorts, seccomp, AppArmor and
SELinux options are not checked, since the kubelet does not act on the latter three and host ports are
ordinary Docker port publishing. Pods admitted earlier keep running when the node restarts with a stricter
policy, as PodSecurity never evicts running pods.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from minikubelet.errors import StatusError

__all__ = ["BASELINE_CAPABILITIES", "DEBUG_CAPABILITIES", "ForbiddenError", "PodSecurityPolicy", "Violation"]

#: Capabilities a container may add without --allow-privileged: PodSecurity baseline's list (all in Docker's default set).
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
#: What an ephemeral container may add beyond those: kubectl debug's general profile adds SYS_PTRACE.
DEBUG_CAPABILITIES = frozenset({"SYS_PTRACE"})
_HOST_NAMESPACES = (("hostNetwork", "hostNetwork"), ("hostPID", "hostPID"), ("hostIPC", "hostIPC"))


class ForbiddenError(StatusError):
    """403 Forbidden: the request is understood, and refused."""

    code, reason = 403, "Forbidden"


@dataclass(frozen=True, slots=True)
class Violation:
    """One thing the policy refuses: PodSecurity's check name, its detail, and the fields at fault."""

    check: str
    detail: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class PodSecurityPolicy:
    """What this node lets pods do to the host; the default lets them do nothing of the kind."""

    allow_privileged: bool = False
    allowed_host_paths: tuple[str, ...] = ()

    def admit(self, pod: dict[str, Any], *, old: dict[str, Any] | None = None) -> None:
        """Raise ForbiddenError if the pod (in wire form) needs more than the node allows.

        An update is checked only when the spec changed: a pod admitted under a laxer policy can still be
        labelled, annotated or deleted."""
        if self.allow_privileged or (old is not None and old.get("spec") == pod.get("spec")):
            return
        violations = self.violations(pod.get("spec") or {})
        if violations:
            name = str((pod.get("metadata") or {}).get("name", ""))
            raise _forbidden(name, violations)

    def violations(self, spec: dict[str, Any]) -> list[Violation]:
        """Everything in a pod spec this policy refuses (none when it allows privileged pods)."""
        if self.allow_privileged:
            return []
        containers = [
            (f"spec.{key}[{i}]", container)
            for key in ("initContainers", "containers", "ephemeralContainers")
            for i, container in enumerate(spec.get(key) or [])
            if isinstance(container, dict)
        ]
        found = [
            _host_namespaces(spec),
            _privileged(containers),
            _capabilities(containers),
            _host_paths(spec.get("volumes") or [], self.allowed_host_paths),
        ]
        return [violation for violation in found if violation is not None]

    def allows_host_path(self, path: str) -> bool:
        """Whether `path`, symlinks resolved, is one of the allowed directories or under one."""
        if self.allow_privileged:
            return True
        if not path.startswith("/"):
            return False
        real = os.path.realpath(path)
        for allowed in self.allowed_host_paths:
            root = os.path.realpath(allowed)
            if real == root or real.startswith(root.rstrip("/") + "/"):
                return True
        return False


def _forbidden(name: str, violations: list[Violation]) -> ForbiddenError:
    reasons = ", ".join(f"{v.check} ({v.detail})" for v in violations)
    hint = 'a node started with "minikubelet up --allow-privileged" allows this'
    if any(v.check == "hostPath volumes" for v in violations):
        hint += ' (host directories also with "--allow-host-path=DIR")'
    causes = [
        {"reason": "FieldValueForbidden", "message": f"Forbidden: {v.check} ({v.detail})", "field": field}
        for v in violations
        for field in v.fields
    ]
    message = f'pods "{name}" is forbidden: violates the node\'s pod security policy: {reasons}; {hint}'
    return ForbiddenError(message, kind="pods", name=name, causes=causes)


def _host_namespaces(spec: dict[str, Any]) -> Violation | None:
    shared = [wire for wire, _ in _HOST_NAMESPACES if spec.get(wire) is True]
    if not shared:
        return None
    return Violation("host namespaces", ", ".join(f"{wire}=true" for wire in shared), tuple(f"spec.{w}" for w in shared))


def _privileged(containers: list[tuple[str, dict[str, Any]]]) -> Violation | None:
    bad = [(path, c) for path, c in containers if (c.get("securityContext") or {}).get("privileged") is True]
    if not bad:
        return None
    detail = f"{_containers([c for _, c in bad])} must not set securityContext.privileged=true"
    return Violation("privileged", detail, tuple(f"{path}.securityContext.privileged" for path, _ in bad))


def _capabilities(containers: list[tuple[str, dict[str, Any]]]) -> Violation | None:
    bad: list[tuple[str, dict[str, Any]]] = []
    extra: list[str] = []
    for path, container in containers:
        added = ((container.get("securityContext") or {}).get("capabilities") or {}).get("add") or []
        allowed = BASELINE_CAPABILITIES | (DEBUG_CAPABILITIES if path.startswith("spec.ephemeralContainers") else frozenset())
        unusual = [str(cap) for cap in added if _capability(str(cap)) not in allowed]
        if unusual:
            bad.append((path, container))
            extra += [cap for cap in unusual if cap not in extra]
    if not bad:
        return None
    detail = f"{_containers([c for _, c in bad])} must not include {_quoted(sorted(extra))} in securityContext.capabilities.add"
    return Violation("non-default capabilities", detail, tuple(f"{path}.securityContext.capabilities.add" for path, _ in bad))


def _host_paths(volumes: Iterable[Any], allowed: tuple[str, ...]) -> Violation | None:
    policy = PodSecurityPolicy(allowed_host_paths=allowed)
    bad = [
        (i, volume)
        for i, volume in enumerate(volumes)
        if isinstance(volume, dict)
        and isinstance(volume.get("hostPath"), dict)
        and not policy.allows_host_path(str(volume["hostPath"].get("path", "")))
    ]
    if not bad:
        return None
    where = "outside the allowed directories" if allowed else "and the node allows no host directory"
    named = ", ".join(f'"{v.get("name", "")}" mounts "{v["hostPath"].get("path", "")}"' for _, v in bad)
    detail = f"{_plural('volume', len(bad))} {named}, {where}"
    return Violation("hostPath volumes", detail, tuple(f"spec.volumes[{i}].hostPath.path" for i, _ in bad))


def _capability(name: str) -> str:
    """`cap_net_admin` and `NET_ADMIN` name the same capability for Docker."""
    return name.upper().removeprefix("CAP_")


def _containers(containers: list[dict[str, Any]]) -> str:
    return f"{_plural('container', len(containers))} {_quoted([str(c.get('name', '')) for c in containers])}"


def _plural(word: str, count: int) -> str:
    return word if count == 1 else word + "s"


def _quoted(items: list[str]) -> str:
    return ", ".join(f'"{item}"' for item in items)
