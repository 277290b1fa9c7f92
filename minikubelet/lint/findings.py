"""A lint finding: what `minikubelet lint` reports, one per line (or one JSON object each with `-o json`)."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass

__all__ = ["Finding", "Severity"]


class Severity(enum.StrEnum):
    ERROR = "error"  # the manifest is refused, or the kubelet will fail what it asks for
    WARNING = "warning"  # it runs, but it will likely not do what was meant
    INFO = "info"  # advice; never changes the exit code

    @property
    def label(self) -> str:
        return {"error": "ERROR", "warning": "WARN", "info": "INFO"}[self.value]


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding. `field` is a Kubernetes field path (`spec.containers[0].livenessProbe`), `container` the
    container's name ("" for the pod or the document); `source` and `object` say where it was found."""

    rule: str
    severity: Severity
    field: str
    message: str
    container: str = ""
    source: str = ""
    object: str = ""

    def to_json(self) -> dict[str, str]:
        out = asdict(self)
        out["severity"] = self.severity.value
        return {key: out[key] for key in ("source", "object", "rule", "severity", "container", "field", "message")}

    def line(self) -> str:
        """`WARN  spec.containers[0].livenessProbe: ...`"""
        where = f"{self.field}: " if self.field else ""
        return f"{self.severity.label:<6}{where}{self.message}"
