"""`kubectl describe pod` of a pod that was debugged: kubectl 1.37's describeContainers over the ephemeral
containers (converted to Containers: no `Target Container Name` line; Port and Host Port `<none>`, as an
ephemeral container has none) under `Ephemeral Containers:`, after the pod's containers, with their statuses
from status.ephemeralContainerStatuses. tests/kubectl/test_kubectl_debug.py checks the same against kubectl."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from minikubelet.printing.describe import describe_pod

NOW = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def debugged_pod() -> dict[str, Any]:
    debugger = {
        "name": "debugger-x2k9q",
        "image": "busybox:1.35",
        "imagePullPolicy": "IfNotPresent",
        "command": ["sh"],
        "resources": {},
        "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}},
        "stdin": True,
        "tty": True,
        "targetContainerName": "app",
    }
    unpullable = {"name": "later", "image": "nonexistent.invalid/x:1", "resources": {}}
    return {
        "metadata": {"name": "echo", "namespace": "default", "creationTimestamp": ago(120)},
        "spec": {
            "nodeName": "vm",
            "containers": [{"name": "app", "image": "echo:v1", "resources": {}}],
            "ephemeralContainers": [debugger, unpullable],
            "securityContext": {},
        },
        "status": {
            "phase": "Running",
            "hostIP": "10.0.0.1",
            "podIP": "172.17.0.5",
            "podIPs": [{"ip": "172.17.0.5"}],
            "startTime": ago(120),
            "qosClass": "BestEffort",
            "containerStatuses": [
                {
                    "name": "app",
                    "containerID": "docker://aaa",
                    "image": "echo:v1",
                    "imageID": "docker://sha256:111",
                    "ready": True,
                    "restartCount": 0,
                    "started": True,
                    "state": {"running": {"startedAt": ago(118)}},
                    "lastState": {},
                }
            ],
            "ephemeralContainerStatuses": [
                {
                    "name": "debugger-x2k9q",
                    "containerID": "docker://bbb",
                    "image": "busybox:1.35",
                    "imageID": "docker://sha256:222",
                    "ready": False,
                    "restartCount": 0,
                    "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": ago(60), "finishedAt": ago(30)}},
                    "lastState": {},
                },
                {
                    "name": "later",
                    "image": "nonexistent.invalid/x:1",
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                    "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}},
                    "lastState": {},
                },
            ],
        },
    }


def test_the_ephemeral_containers_section() -> None:
    text = describe_pod(debugged_pod(), None, now=NOW)
    section = text.split("Ephemeral Containers:\n", 1)[1].split("Volumes:", 1)[0]
    assert section == (
        "  debugger-x2k9q:\n"
        "    Container ID:  docker://bbb\n"
        "    Image:         busybox:1.35\n"
        "    Image ID:      docker://sha256:222\n"
        "    Port:          <none>\n"
        "    Host Port:     <none>\n"
        "    Command:\n"
        "      sh\n"
        "    State:          Terminated\n"
        "      Reason:       Completed\n"
        "      Exit Code:    0\n"
        "      Started:      Mon, 01 Jan 2024 11:59:00 +0000\n"
        "      Finished:     Mon, 01 Jan 2024 11:59:30 +0000\n"
        "    Ready:          False\n"
        "    Restart Count:  0\n"
        "    Environment:    <none>\n"
        "    Mounts:         <none>\n"
        "  later:\n"
        "    Container ID:   \n"
        "    Image:          nonexistent.invalid/x:1\n"
        "    Image ID:       \n"
        "    Port:           <none>\n"
        "    Host Port:      <none>\n"
        "    State:          Waiting\n"
        "      Reason:       ImagePullBackOff\n"
        "    Ready:          False\n"
        "    Restart Count:  0\n"
        "    Environment:    <none>\n"
        "    Mounts:         <none>\n"
    )
    assert text.index("Containers:\n") < text.index("Ephemeral Containers:\n") < text.index("Volumes:")
