"""The kubelet's side of `kubectl exec` and `kubectl attach`: from a pod and a container name to a live
`StreamSession` in the runtime.

The API server has already checked what it can see in the pod object (the pod exists, the container name
is one of its containers); this is where what only the node knows is checked: the pod has not finished,
and the container has a running instance. Refusals are `BadRequestError`s in the API server's words, which
the stream endpoint sends back to the client as the stream's Status.

An attach streams what the container writes from then on, as a CRI attach does: nothing written before is
sent again. kubectl 1.37's `run -i` (and ours) prints the container's logs so far itself before it attaches,
so a short command's output is not lost.
"""

from __future__ import annotations

from minikubelet.api.podutil import app_containers, container_names, find_status, pod_status
from minikubelet.api.wire import Pod, as_pod
from minikubelet.errors import BadRequestError
from minikubelet.kubelet.kubelet import Kubelet
from minikubelet.kubelet.status import instances_by_name
from minikubelet.runtime.interface import RuntimeContainer, StreamSession

__all__ = ["open_attach", "open_exec"]

_FINISHED = ("Succeeded", "Failed")


async def open_exec(
    kubelet: Kubelet, namespace: str, name: str, *, container: str, command: list[str], stdin: bool, tty: bool
) -> StreamSession:
    """Start `command` in the pod's running container, its streams connected."""
    _, target = await _running_container(kubelet, namespace, name, container, verb="exec into")
    return await kubelet.runtime.exec_stream(target.id, command, stdin=stdin, tty=tty)


async def open_attach(kubelet: Kubelet, namespace: str, name: str, *, container: str, stdin: bool, tty: bool) -> StreamSession:
    """Connect to the pod's running container's own process."""
    _, target = await _running_container(kubelet, namespace, name, container, verb="attach")
    return await kubelet.runtime.attach(target.id, stdin=stdin, tty=tty)


async def _running_container(
    kubelet: Kubelet, namespace: str, name: str, container: str, *, verb: str
) -> tuple[Pod, RuntimeContainer]:
    pod = as_pod(kubelet.store.get("Pod", namespace, name))
    container = _container_name(pod, name, container)
    phase = pod.get("status", {}).get("phase", "")
    if phase in _FINISHED:
        raise BadRequestError(f"cannot {verb} a container in a completed pod; current phase is {phase}")
    observed = await kubelet.runtime.list_containers(pod_uid=pod["metadata"]["uid"])
    instances = instances_by_name(observed).get(container, [])
    if not instances:
        raise BadRequestError(f'container "{container}" in pod "{name}" is waiting to start: {_waiting_reason(pod, container)}')
    if instances[0].state != "running":
        raise BadRequestError(f'container "{container}" in pod "{name}" is not running')
    return pod, instances[0]


def _container_name(pod: Pod, name: str, container: str) -> str:
    """The named container (which must be one of the pod's), or the only one."""
    regular = [c["name"] for c in app_containers(pod)]
    if not container:
        if len(regular) != 1:
            raise BadRequestError(f"a container name must be specified for pod {name}, choose one of: [{' '.join(regular)}]")
        return regular[0]
    if container not in container_names(pod):
        raise BadRequestError(f"container {container} is not valid for pod {name}")
    return container


def _waiting_reason(pod: Pod, container: str) -> str:
    entry = find_status(pod_status(pod), container)
    if entry is None:
        return "ContainerCreating"
    return entry.get("state", {}).get("waiting", {}).get("reason") or "ContainerCreating"
