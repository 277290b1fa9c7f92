"""The last step of a graceful pod deletion, which is the kubelet's: remove the object once nothing runs.

`kubectl delete pod` only marks a pod on a node (deletionTimestamp); the API object goes when the kubelet
has stopped its containers and deletes it with grace 0 (kubelet-spec.md §8, step 5). Until the kubelet
runs containers (the kubelet-on-Docker issue), a pod on this node has no containers to stop, so it is
removed as soon as it is marked. Driven by a pod watch.
"""

from __future__ import annotations

import logging
from typing import Any

from minikubelet.errors import ConflictError, NotFoundError
from minikubelet.store import Store

__all__ = ["finish_terminating_pods", "remove_if_stopped"]

log = logging.getLogger(__name__)


async def finish_terminating_pods(store: Store, *, node_name: str) -> None:
    """Remove pods of this node marked for deletion, now and as they are marked."""
    pods, rv = store.list("Pod", None, field_selector=f"spec.nodeName={node_name}")
    for pod in pods:
        remove_if_stopped(store, pod)
    watch = store.watch("Pod", None, resource_version=rv, field_selector=f"spec.nodeName={node_name}")
    try:
        async for kind, pod in watch:
            if kind != "DELETED":
                remove_if_stopped(store, pod)
    finally:
        watch.close()


def remove_if_stopped(store: Store, pod: dict[str, Any]) -> None:
    meta = pod["metadata"]
    if not meta.get("deletionTimestamp"):
        return
    try:
        store.delete("Pod", meta["namespace"], meta["name"], uid=meta.get("uid"))
    except (NotFoundError, ConflictError):
        return
    log.info("pod %s/%s removed", meta["namespace"], meta["name"])
