"""core/v1 Event: what happened to an object, told by a component (docs/kubelet.md#events)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from minikubelet.api.meta import Int32, K8sModel, ObjectMeta, Str, Time

__all__ = ["Event", "EventSource", "ObjectReference"]


class ObjectReference(K8sModel):
    kind: Str = ""
    namespace: Str = ""
    name: Str = ""
    uid: Str = ""
    api_version: Str = ""
    resource_version: Str = ""
    field_path: Str = ""


class EventSource(K8sModel):
    component: Str = ""
    host: Str = ""


class Event(K8sModel):
    api_version: Literal["v1"] = "v1"
    kind: Literal["Event"] = "Event"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    involved_object: ObjectReference = Field(default_factory=ObjectReference)
    reason: Str = ""
    message: Str = ""
    source: EventSource = Field(default_factory=EventSource)
    first_timestamp: Time | None = None
    last_timestamp: Time | None = None
    count: Int32 = 1
    type: Literal["Normal", "Warning"] = "Normal"
    reporting_component: Str = ""
    reporting_instance: Str = ""
