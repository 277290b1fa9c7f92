"""Probes and lifecycle hooks: the handler actions and the Probe itself (docs/kubelet.md#probe-fields-and-defaults)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from minikubelet.api.meta import Int32, Int64, IntOrString, K8sModel, Str

__all__ = [
    "ExecAction",
    "GRPCAction",
    "HTTPGetAction",
    "HTTPHeader",
    "Lifecycle",
    "LifecycleHandler",
    "Probe",
    "SleepAction",
    "TCPSocketAction",
]


class ExecAction(K8sModel):
    command: list[Str] = Field(default_factory=list)


class HTTPHeader(K8sModel):
    name: Str = ""
    value: Str = ""


class HTTPGetAction(K8sModel):
    _zero_means_default: ClassVar[frozenset[str]] = frozenset({"path", "scheme"})

    path: Str = "/"
    port: IntOrString = 0
    host: Str = ""
    scheme: Literal["HTTP", "HTTPS"] = "HTTP"
    http_headers: list[HTTPHeader] = Field(default_factory=list)


class TCPSocketAction(K8sModel):
    port: IntOrString = 0
    host: Str = ""


class GRPCAction(K8sModel):
    port: Int32 = 0
    service: Str | None = None


class SleepAction(K8sModel):
    seconds: Int64 = 0


class Probe(K8sModel):
    """How and when the kubelet checks a container; defaults of `SetDefaults_Probe`."""

    _zero_means_default: ClassVar[frozenset[str]] = frozenset(
        {"timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"}
    )

    exec: ExecAction | None = None
    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    grpc: GRPCAction | None = None
    initial_delay_seconds: Int32 = 0
    timeout_seconds: Int32 = 1
    period_seconds: Int32 = 10
    success_threshold: Int32 = 1
    failure_threshold: Int32 = 3
    termination_grace_period_seconds: Int64 | None = None

    def handler_kind(self) -> str:
        """The kind of the (first) handler, as `kubectl describe` names it."""
        for kind, handler in (
            ("exec", self.exec),
            ("http-get", self.http_get),
            ("tcp-socket", self.tcp_socket),
            ("grpc", self.grpc),
        ):
            if handler is not None:
                return kind
        return "unknown"


class LifecycleHandler(K8sModel):
    exec: ExecAction | None = None
    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    sleep: SleepAction | None = None


class Lifecycle(K8sModel):
    post_start: LifecycleHandler | None = None
    pre_stop: LifecycleHandler | None = None
