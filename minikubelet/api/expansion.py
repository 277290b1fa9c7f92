"""Kubernetes' `$(VAR)` expansion of a container's command, args and env, and of an exec probe's command.

Hand-written because it must match Kubernetes byte for byte: third_party/forked/golang/expansion (Expand,
MappingFuncFor) and pkg/kubelet/container/helpers.go (ExpandContainerCommandOnlyStatic).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["expand", "expand_command_only_static"]


def expand(text: str, values: dict[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion (third_party/forked/golang/expansion.Expand with MappingFuncFor): `$$` is
    an escaped `$`, `$(name)` is replaced when `name` is known and left as written when not, and a `$` that
    starts neither (or a `$(` never closed) stays as it is. The name is everything up to the first `)`, so
    `$(A$(B))` is one unknown reference to `A$(B` and nothing inside it expands."""
    out: list[str] = []
    checkpoint = cursor = 0
    while cursor < len(text):
        if text[cursor] == "$" and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            rest = text[cursor + 1 :]
            advance = 1
            if rest[0] == "$":
                out.append("$")
            elif rest[0] == "(":
                close = rest.find(")", 1)
                if close == -1:
                    out.append("$(")  # an incomplete reference stays
                else:
                    name = rest[1:close]
                    out.append(values.get(name, f"$({name})"))
                    advance = close + 1
            else:
                out.append("$" + rest[0])
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    return "".join(out) + text[checkpoint:]


def expand_command_only_static(command: Sequence[str], env: Sequence[Mapping[str, Any]]) -> list[str]:
    """ExpandContainerCommandOnlyStatic (pkg/kubelet/container/helpers.go), as the prober expands an exec
    probe's command: against the container's `env` as written (EnvVarsToMap: each entry's raw `value`, "" for
    a `valueFrom` one, a later duplicate winning), not the resolved environment."""
    values = {var["name"]: var.get("value", "") or "" for var in env if "name" in var}
    return [expand(arg, values) for arg in command]
