"""`kubectl describe pod|node` goldens (kubectl 1.37) and the pieces they are made of.

The goldens were laid out by hand from kubectl's write sequence and the tabwriter block rule (minwidth
0, padding 2: a block's values start 2 columns after its longest key; a line without a tab ends the
block). The first golden is the classic describe example, byte for byte except the order of its events
(see `test_spec_example`) and its probe line, which kubectl 1.37 writes `successThreshold=1
failureThreshold=1` where 1.32 wrote `#success=1 #failure=1`.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from minikubelet.printing.describe import (
    describe_events,
    describe_node,
    describe_pod,
    describe_probe,
    pod_qos_class,
)

NOW = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def conditions(**status: str) -> list[dict[str, Any]]:
    return [
        {"type": kind, "status": value, "lastProbeTime": None, "lastTransitionTime": ago(60)} for kind, value in status.items()
    ]


ALL_TRUE = conditions(
    PodReadyToStartContainers="True", Initialized="True", Ready="True", ContainersReady="True", PodScheduled="True"
)


def event(kind: str, reason: str, message: str, *, first: float, last: float, count: int = 1) -> dict[str, Any]:
    return {
        "type": kind,
        "reason": reason,
        "message": message,
        "source": {"component": "kubelet", "host": "minikube"},
        "firstTimestamp": ago(first),
        "lastTimestamp": ago(last),
        "count": count,
    }


# ---------------------------------------------------------------------------------------------------
# The classic describe example (docs/kubectl-output.md#kubectl-describe-pod)


SPEC_NOW = datetime(2024, 1, 1, 10, 1, 20, tzinfo=UTC)


def spec_pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "echo",
            "namespace": "default",
            "labels": {"run": "echo"},
            "creationTimestamp": "2024-01-01T10:00:00Z",
        },
        "spec": {
            "priority": 0,
            "serviceAccountName": "default",
            "nodeName": "minikube",
            "restartPolicy": "Always",
            "containers": [
                {
                    "name": "echo",
                    "image": "busybox",
                    "command": ["/bin/sh", "-c", "httpd -f -p 8080"],
                    "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                    "livenessProbe": {
                        "httpGet": {"path": "/not/exist", "port": 8080, "scheme": "HTTP"},
                        "initialDelaySeconds": 5,
                        "timeoutSeconds": 2,
                        "periodSeconds": 5,
                        "successThreshold": 1,
                        "failureThreshold": 1,
                    },
                }
            ],
        },
        "status": {
            "phase": "Running",
            "hostIP": "192.168.49.2",
            "podIP": "10.244.0.5",
            "podIPs": [{"ip": "10.244.0.5"}],
            "startTime": "2024-01-01T10:00:00Z",
            "conditions": ALL_TRUE,
            "containerStatuses": [
                {
                    "name": "echo",
                    "containerID": "docker://3f2a...",
                    "image": "busybox",
                    "imageID": "docker-pullable://busybox@sha256:...",
                    "ready": True,
                    "restartCount": 1,
                    "started": True,
                    "state": {"running": {"startedAt": "2024-01-01T10:01:12Z"}},
                    "lastState": {
                        "terminated": {
                            "exitCode": 137,
                            "reason": "Error",
                            "startedAt": "2024-01-01T10:00:03Z",
                            "finishedAt": "2024-01-01T10:01:11Z",
                        }
                    },
                }
            ],
        },
    }


def spec_events() -> list[dict[str, Any]]:
    def at(seconds: int) -> str:
        return (SPEC_NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")

    scheduled = {
        "type": "Normal",
        "reason": "Scheduled",
        "message": "Successfully assigned default/echo to minikube",
        "source": {},
        "reportingController": "default-scheduler",
        "firstTimestamp": at(80),
        "lastTimestamp": at(80),
        "count": 1,
    }
    pulled = {
        "type": "Normal",
        "reason": "Pulled",
        "message": 'Container image "busybox" already present on machine',
        "source": {"component": "kubelet", "host": "minikube"},
        "firstTimestamp": at(79),
        "lastTimestamp": at(10),
        "count": 2,
    }
    unhealthy = dict(pulled, type="Warning", reason="Unhealthy", firstTimestamp=at(25), lastTimestamp=at(15), count=3)
    unhealthy["message"] = "Liveness probe failed: HTTP probe failed with statuscode: 404 \n"
    killing = dict(pulled, reason="Killing", firstTimestamp=at(15), lastTimestamp=at(15), count=1)
    killing["message"] = "Container echo failed liveness probe, will be restarted"
    return [scheduled, pulled, unhealthy, killing]


SPEC_EXAMPLE = """\
Name:             echo
Namespace:        default
Priority:         0
Service Account:  default
Node:             minikube/192.168.49.2
Start Time:       Mon, 01 Jan 2024 10:00:00 +0000
Labels:           run=echo
Annotations:      <none>
Status:           Running
IP:               10.244.0.5
IPs:
  IP:  10.244.0.5
Containers:
  echo:
    Container ID:  docker://3f2a...
    Image:         busybox
    Image ID:      docker-pullable://busybox@sha256:...
    Port:          8080/TCP
    Host Port:     0/TCP
    Command:
      /bin/sh
      -c
      httpd -f -p 8080
    State:          Running
      Started:      Mon, 01 Jan 2024 10:01:12 +0000
    Last State:     Terminated
      Reason:       Error
      Exit Code:    137
      Started:      Mon, 01 Jan 2024 10:00:03 +0000
      Finished:     Mon, 01 Jan 2024 10:01:11 +0000
    Ready:          True
    Restart Count:  1
    Liveness:       http-get http://:8080/not/exist delay=5s timeout=2s period=5s successThreshold=1 failureThreshold=1
    Environment:    <none>
    Mounts:         <none>
Conditions:
  Type                        Status
  PodReadyToStartContainers   True \n\
  Initialized                 True \n\
  Ready                       True \n\
  ContainersReady             True \n\
  PodScheduled                True \n\
Volumes:                      <none>
QoS Class:                    BestEffort
Node-Selectors:               <none>
Tolerations:                  <none>
Events:
  Type     Reason     Age                From               Message
  ----     ------     ----               ----               -------
  Normal   Scheduled  80s                default-scheduler  Successfully assigned default/echo to minikube
  Normal   Pulled     10s (x2 over 79s)  kubelet            Container image "busybox" already present on machine
  Warning  Unhealthy  15s (x3 over 25s)  kubelet            Liveness probe failed: HTTP probe failed with statuscode: 404
  Normal   Killing    15s                kubelet            Container echo failed liveness probe, will be restarted
"""


def test_spec_example() -> None:
    output = describe_pod(spec_pod(), spec_events(), now=SPEC_NOW)
    # kubectl sorts events by last-seen time (oldest first); the spec's illustrative example lists the
    # Pulled event (last seen 10s ago) before two events last seen 15s ago, which kubectl never does.
    lines = SPEC_EXAMPLE.splitlines(keepends=True)
    pulled = next(i for i, line in enumerate(lines) if "Pulled" in line)
    expected = "".join([*lines[:pulled], *lines[pulled + 1 :], lines[pulled]])
    assert output == expected


def test_spec_example_without_events_section() -> None:
    output = describe_pod(spec_pod(), None, now=SPEC_NOW)
    assert output.endswith("Tolerations:                  <none>\n")
    assert describe_pod(spec_pod(), [], now=SPEC_NOW).endswith("Events:                       <none>\n")


# ---------------------------------------------------------------------------------------------------
# An init container in CrashLoopBackOff; an app container that has not been created yet.


def init_pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "init-demo",
            "namespace": "default",
            "creationTimestamp": ago(60),
            "labels": {"tier": "web", "app": "demo"},
            "annotations": {"example.com/note": "hello"},
        },
        "spec": {
            "nodeName": "minikube",
            "restartPolicy": "Always",
            "initContainers": [{"name": "setup", "image": "busybox", "command": ["sh", "-c", "exit 1"]}],
            "containers": [
                {
                    "name": "app",
                    "image": "nginx",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443, "protocol": "TCP"}],
                }
            ],
        },
        "status": {
            "phase": "Pending",
            "hostIP": "192.168.49.2",
            "podIP": "10.244.0.7",
            "podIPs": [{"ip": "10.244.0.7"}],
            "startTime": ago(60),
            "conditions": conditions(
                PodReadyToStartContainers="True",
                Initialized="False",
                Ready="False",
                ContainersReady="False",
                PodScheduled="True",
            ),
            "initContainerStatuses": [
                {
                    "name": "setup",
                    "image": "busybox",
                    "imageID": "docker-pullable://busybox@sha256:1",
                    "containerID": "docker://aaa",
                    "ready": False,
                    "restartCount": 3,
                    "started": False,
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": ago(20), "finishedAt": ago(19)}},
                }
            ],
            "containerStatuses": [
                {
                    "name": "app",
                    "image": "nginx",
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                    "started": False,
                    "state": {"waiting": {"reason": "PodInitializing"}},
                    "lastState": {},
                }
            ],
        },
    }


INIT_GOLDEN = """\
Name:         init-demo
Namespace:    default
Node:         minikube/192.168.49.2
Start Time:   Mon, 01 Jan 2024 11:59:00 +0000
Labels:       app=demo
              tier=web
Annotations:  example.com/note: hello
Status:       Pending
IP:           10.244.0.7
IPs:
  IP:  10.244.0.7
Init Containers:
  setup:
    Container ID:  docker://aaa
    Image:         busybox
    Image ID:      docker-pullable://busybox@sha256:1
    Port:          <none>
    Host Port:     <none>
    Command:
      sh
      -c
      exit 1
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       Error
      Exit Code:    1
      Started:      Mon, 01 Jan 2024 11:59:40 +0000
      Finished:     Mon, 01 Jan 2024 11:59:41 +0000
    Ready:          False
    Restart Count:  3
    Environment:    <none>
    Mounts:         <none>
Containers:
  app:
    Container ID:   \n\
    Image:          nginx
    Image ID:       \n\
    Ports:          80/TCP, 443/TCP
    Host Ports:     0/TCP, 0/TCP
    State:          Waiting
      Reason:       PodInitializing
    Ready:          False
    Restart Count:  0
    Environment:    <none>
    Mounts:         <none>
Conditions:
  Type                        Status
  PodReadyToStartContainers   True \n\
  Initialized                 False \n\
  Ready                       False \n\
  ContainersReady             False \n\
  PodScheduled                True \n\
Volumes:                      <none>
QoS Class:                    BestEffort
Node-Selectors:               <none>
Tolerations:                  <none>
Events:                       <none>
"""


def test_init_container_pod() -> None:
    assert describe_pod(init_pod(), [], now=NOW) == INIT_GOLDEN


# ---------------------------------------------------------------------------------------------------
# A pod being deleted (deletionTimestamp = now + grace period, as the API server sets it).


def terminating_pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-5d8f-x2x9q",
            "namespace": "prod",
            "creationTimestamp": ago(3600),
            "labels": {"app": "web"},
            "deletionTimestamp": ago(-25),
            "deletionGracePeriodSeconds": 30,
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d8f", "uid": "1", "controller": True}
            ],
        },
        "spec": {
            "nodeName": "minikube",
            "priority": 0,
            "serviceAccountName": "default",
            "containers": [{"name": "app", "image": "nginx:1.27"}],
        },
        "status": {
            "phase": "Running",
            "hostIP": "192.168.49.2",
            "podIP": "10.244.0.9",
            "podIPs": [{"ip": "10.244.0.9"}],
            "startTime": ago(3600),
            "qosClass": "BestEffort",
            "conditions": ALL_TRUE,
            "containerStatuses": [
                {
                    "name": "app",
                    "image": "nginx:1.27",
                    "imageID": "docker-pullable://nginx@sha256:2",
                    "containerID": "docker://bbb",
                    "ready": True,
                    "restartCount": 0,
                    "started": True,
                    "state": {"running": {"startedAt": ago(3590)}},
                    "lastState": {},
                }
            ],
        },
    }


TERMINATING_GOLDEN = """\
Name:                      web-5d8f-x2x9q
Namespace:                 prod
Priority:                  0
Service Account:           default
Node:                      minikube/192.168.49.2
Start Time:                Mon, 01 Jan 2024 11:00:00 +0000
Labels:                    app=web
Annotations:               <none>
Status:                    Terminating (lasts <invalid>)
Termination Grace Period:  30s
IP:                        10.244.0.9
IPs:
  IP:           10.244.0.9
Controlled By:  ReplicaSet/web-5d8f
Containers:
  app:
    Container ID:   docker://bbb
    Image:          nginx:1.27
    Image ID:       docker-pullable://nginx@sha256:2
    Port:           <none>
    Host Port:      <none>
    State:          Running
      Started:      Mon, 01 Jan 2024 11:00:10 +0000
    Ready:          True
    Restart Count:  0
    Environment:    <none>
    Mounts:         <none>
Conditions:
  Type                        Status
  PodReadyToStartContainers   True \n\
  Initialized                 True \n\
  Ready                       True \n\
  ContainersReady             True \n\
  PodScheduled                True \n\
Volumes:                      <none>
QoS Class:                    BestEffort
Node-Selectors:               <none>
Tolerations:                  <none>
Events:
  Type    Reason   Age   From     Message
  ----    ------   ----  ----     -------
  Normal  Killing  5s    kubelet  Stopping container app
"""


def test_terminating_pod() -> None:
    killing = event("Normal", "Killing", "Stopping container app", first=5, last=5)
    assert describe_pod(terminating_pod(), [killing], now=NOW) == TERMINATING_GOLDEN


def test_terminating_status_after_the_grace_deadline_and_for_finished_pods() -> None:
    late = terminating_pod()
    late["metadata"]["deletionTimestamp"] = ago(5)
    assert "Status:                    Terminating (lasts 5s)\n" in describe_pod(late, None, now=NOW)
    finished = terminating_pod()
    finished["status"]["phase"] = "Succeeded"
    output = describe_pod(finished, None, now=NOW)
    assert "Status:           Succeeded\n" in output and "Termination Grace Period" not in output


# ---------------------------------------------------------------------------------------------------
# Env, mounts, resources, probes, volumes, readiness gates, selectors and tolerations.


def env_pod() -> dict[str, Any]:
    probe = {"initialDelaySeconds": 0, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "env-demo",
            "namespace": "default",
            "creationTimestamp": ago(120),
            "labels": {"app": "env"},
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": '{"kind":"Pod"}\n',
                "example.com/long": "x" * 150,
                "example.com/short": "v",
            },
        },
        "spec": {
            "nodeName": "minikube",
            "restartPolicy": "Always",
            "nodeSelector": {"disktype": "ssd"},
            "tolerations": [
                {
                    "key": "node.kubernetes.io/not-ready",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
                {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"},
            ],
            "readinessGates": [{"conditionType": "example.com/feature"}],
            "containers": [
                {
                    "name": "app",
                    "image": "minikubelet.local/echo:v1",
                    "args": ["--port", "8080", "multi\nline"],
                    "ports": [{"containerPort": 8080, "hostPort": 18080, "protocol": "TCP"}],
                    "resources": {
                        "limits": {"memory": "128Mi", "cpu": "0.5"},
                        "requests": {"cpu": "250m", "memory": "64Mi"},
                    },
                    "livenessProbe": {"grpc": {"port": 9000}, **probe, "failureThreshold": 3},
                    "readinessProbe": {
                        "exec": {"command": ["cat", "/tmp/health"]},
                        **probe,
                        "initialDelaySeconds": 5,
                        "periodSeconds": 5,
                        "failureThreshold": 3,
                    },
                    "startupProbe": {"tcpSocket": {"port": 8080}, **probe, "failureThreshold": 30},
                    "env": [
                        {"name": "GREETING", "value": "hello"},
                        {"name": "MULTI", "value": "a\nb"},
                        {
                            "name": "POD_NAME",
                            "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}},
                        },
                        {"name": "NODE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}},
                        {
                            "name": "MEM",
                            "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}},
                        },
                    ],
                    "volumeMounts": [
                        {"name": "data", "mountPath": "/data"},
                        {"name": "host", "mountPath": "/host", "readOnly": True, "subPath": "logs"},
                        {"name": "cache", "mountPath": "/cache"},
                    ],
                }
            ],
            "volumes": [
                {"name": "data", "emptyDir": {}},
                {"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
                {"name": "host", "hostPath": {"path": "/var/log", "type": "Directory"}},
            ],
        },
        "status": {
            "phase": "Running",
            "hostIP": "192.168.49.2",
            "podIP": "10.244.0.8",
            "podIPs": [{"ip": "10.244.0.8"}],
            "startTime": ago(120),
            "conditions": conditions(
                PodReadyToStartContainers="True",
                Initialized="True",
                Ready="False",
                ContainersReady="True",
                PodScheduled="True",
            ),
            "containerStatuses": [
                {
                    "name": "app",
                    "image": "minikubelet.local/echo:v1",
                    "imageID": "sha256:ccc",
                    "containerID": "docker://ccc",
                    "ready": True,
                    "restartCount": 0,
                    "started": True,
                    "state": {"running": {"startedAt": ago(110)}},
                    "lastState": {},
                }
            ],
        },
    }


ENV_GOLDEN = (
    """\
Name:         env-demo
Namespace:    default
Node:         minikube/192.168.49.2
Start Time:   Mon, 01 Jan 2024 11:58:00 +0000
Labels:       app=env
Annotations:  example.com/long:
                """
    + "x" * 138
    + """...
              example.com/short: v
Status:       Running
IP:           10.244.0.8
IPs:
  IP:  10.244.0.8
Containers:
  app:
    Container ID:  docker://ccc
    Image:         minikubelet.local/echo:v1
    Image ID:      sha256:ccc
    Port:          8080/TCP
    Host Port:     18080/TCP
    Args:
      --port
      8080
      multi
      line
    State:          Running
      Started:      Mon, 01 Jan 2024 11:58:10 +0000
    Ready:          True
    Restart Count:  0
    Limits:
      cpu:     500m
      memory:  128Mi
    Requests:
      cpu:      250m
      memory:   64Mi
    Liveness:   grpc <pod>:9000  delay=0s timeout=1s period=10s successThreshold=1 failureThreshold=3
    Readiness:  exec [cat /tmp/health] delay=5s timeout=1s period=5s successThreshold=1 failureThreshold=3
    Startup:    tcp-socket :8080 delay=0s timeout=1s period=10s successThreshold=1 failureThreshold=30
    Environment:
      GREETING:  hello
      MULTI:     a
                 b
      POD_NAME:  env-demo (v1:metadata.name)
      NODE:       (v1:spec.nodeName)
      MEM:       128 (limits.memory)
    Mounts:
      /cache from cache (rw)
      /data from data (rw)
      /host from host (ro,path="logs")
Readiness Gates:
  Type                  Status
  example.com/feature   <none> \n\
Conditions:
  Type                        Status
  PodReadyToStartContainers   True \n\
  Initialized                 True \n\
  Ready                       False \n\
  ContainersReady             True \n\
  PodScheduled                True \n\
Volumes:
  data:
    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)
    Medium:     \n\
    SizeLimit:  <unset>
  cache:
    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)
    Medium:     Memory
    SizeLimit:  64Mi
  host:
    Type:          HostPath (bare host directory volume)
    Path:          /var/log
    HostPathType:  Directory
QoS Class:         Burstable
Node-Selectors:    disktype=ssd
Tolerations:       dedicated=gpu:NoSchedule
                   node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
"""
)


def test_env_mounts_volumes_pod() -> None:
    assert describe_pod(env_pod(), None, now=NOW) == ENV_GOLDEN


def test_timestamps_follow_the_zone_of_now() -> None:
    plus_one = NOW.astimezone(timezone(timedelta(hours=1)))
    assert "Start Time:   Mon, 01 Jan 2024 12:58:00 +0100\n" in describe_pod(env_pod(), None, now=plus_one)
    minus = NOW.astimezone(timezone(timedelta(hours=-5, minutes=-30)))
    assert "Start Time:   Mon, 01 Jan 2024 06:28:00 -0530\n" in describe_pod(env_pod(), None, now=minus)


def test_minimal_pod_without_status() -> None:
    body = {"metadata": {"name": "bare", "namespace": "default"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    assert describe_pod(body, [], now=NOW) == (
        "Name:         bare\n"
        "Namespace:    default\n"
        "Node:         <none>\n"
        "Labels:       <none>\n"
        "Annotations:  <none>\n"
        "Status:       \n"
        "IP:           \n"
        "IPs:          <none>\n"
        "Containers:\n"
        "  c:\n"
        "    Image:        i\n"
        "    Port:         <none>\n"
        "    Host Port:    <none>\n"
        "    Environment:  <none>\n"
        "    Mounts:       <none>\n"
        "Volumes:          <none>\n"
        "QoS Class:        BestEffort\n"
        "Node-Selectors:   <none>\n"
        "Tolerations:      <none>\n"
        "Events:           <none>\n"
    )


def test_pod_status_reason_message_and_escaping() -> None:
    body = copy.deepcopy(spec_pod())
    body["status"].update(phase="Failed", reason="Evicted", message="The node was low on resource: memory.")
    body["metadata"]["labels"] = {"evil": "\x1b[31mred\r"}
    output = describe_pod(body, None, now=SPEC_NOW)
    assert "Status:           Failed\nReason:           Evicted\n" in output
    assert "Message:          The node was low on resource: memory.\n" in output
    assert "Labels:           evil=^[[31mred\\r\n" in output


def test_env_from_and_key_refs() -> None:
    body = {
        "metadata": {"name": "refs", "namespace": "ns1"},
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "i",
                    "envFrom": [
                        {"configMapRef": {"name": "settings"}},
                        {"secretRef": {"name": "creds", "optional": True}, "prefix": "DB_"},
                    ],
                    "env": [
                        {
                            "name": "NS",
                            "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}},
                        },
                        {"name": "PASS", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
                        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}},
                        {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
                        {
                            "name": "REQ",
                            "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu", "divisor": "1m"}},
                        },
                    ],
                    "resources": {"requests": {"cpu": "250m"}},
                }
            ]
        },
    }
    output = describe_pod(body, None, now=NOW)
    # No Conditions: line here, so the Environment block runs on to Node-Selectors: (width 15 + 2).
    assert output[output.index("    Requests:") :] == (
        "    Requests:\n"
        "      cpu:  250m\n"
        "    Environment Variables from:\n"
        "      settings  ConfigMap                 Optional: false\n"
        "      creds     Secret with prefix 'DB_'  Optional: true\n"
        "    Environment:\n"
        "      NS:        ns1 (v1:metadata.namespace)\n"
        "      PASS:      <set to the key 'password' in secret 'creds'>     Optional: false\n"
        "      MODE:      <set to the key 'mode' of config map 'settings'>  Optional: false\n"
        "      CPU:       node allocatable (limits.cpu)\n"
        "      REQ:       250 (requests.cpu)\n"
        "    Mounts:      <none>\n"
        "Volumes:         <none>\n"
        "QoS Class:       Burstable\n"
        "Node-Selectors:  <none>\n"
        "Tolerations:     <none>\n"
    )


def test_other_volume_types() -> None:
    body = {
        "metadata": {"name": "v", "namespace": "default"},
        "spec": {
            "containers": [],
            "volumes": [
                {"name": "s", "secret": {"secretName": "creds"}},
                {"name": "c", "configMap": {"name": "settings", "optional": True}},
                {"name": "p", "persistentVolumeClaim": {"claimName": "data"}},
                {
                    "name": "kube-api-access-abcde",
                    "projected": {
                        "sources": [
                            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                            {"configMap": {"name": "kube-root-ca.crt"}},
                            {"downwardAPI": {"items": []}},
                        ]
                    },
                },
                {"name": "n", "nfs": {"server": "nfs.local", "path": "/exports"}},
                {"name": "x", "someFutureSource": {}},
                {"name": "h", "hostPath": {"path": "/tmp"}},
            ],
        },
    }
    output = describe_pod(body, None, now=NOW)
    assert output[output.index("Containers:") :] == (
        "Containers: <none>\n"
        "Volumes:\n"
        "  s:\n"
        "    Type:        Secret (a volume populated by a Secret)\n"
        "    SecretName:  creds\n"
        "    Optional:    false\n"
        "  c:\n"
        "    Type:      ConfigMap (a volume populated by a ConfigMap)\n"
        "    Name:      settings\n"
        "    Optional:  true\n"
        "  p:\n"
        "    Type:       PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n"
        "    ClaimName:  data\n"
        "    ReadOnly:   false\n"
        "  kube-api-access-abcde:\n"
        "    Type:                    Projected (a volume that contains injected data from multiple sources)\n"
        "    TokenExpirationSeconds:  3607\n"
        "    ConfigMapName:           kube-root-ca.crt\n"
        "    Optional:                false\n"
        "    DownwardAPI:             true\n"
        "  n:\n"
        "    Type:      NFS (an NFS mount that lasts the lifetime of a pod)\n"
        "    Server:    nfs.local\n"
        "    Path:      /exports\n"
        "    ReadOnly:  false\n"
        "  x:\n"
        "  <unknown>\n"
        "  h:\n"
        "    Type:          HostPath (bare host directory volume)\n"
        "    Path:          /tmp\n"
        "    HostPathType:  <none>\n"
        "QoS Class:         BestEffort\n"
        "Node-Selectors:    <none>\n"
        "Tolerations:       <none>\n"
    )


# ---------------------------------------------------------------------------------------------------
# Probes, QoS, tolerations and events


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        ({"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}}, "http-get http://:8080/healthz"),
        ({"httpGet": {"path": "/", "port": "http", "scheme": "HTTPS"}}, "http-get https://:http/"),
        ({"httpGet": {"path": "/", "port": 80, "host": "10.0.0.1", "scheme": "HTTP"}}, "http-get http://10.0.0.1:80/"),
        ({"httpGet": {"path": "/", "port": 80, "host": "::1", "scheme": "HTTP"}}, "http-get http://[::1]:80/"),
        ({"httpGet": {"path": "/a b?c", "port": 80, "scheme": "HTTP"}}, "http-get http://:80/a%20b%3Fc"),
        ({"httpGet": {"path": "x", "port": 80, "scheme": "HTTP"}}, "http-get http://:80/x"),
        ({"httpGet": {"port": 80, "scheme": "HTTP"}}, "http-get http://:80"),
        ({"exec": {"command": ["cat", "/tmp/health"]}}, "exec [cat /tmp/health]"),
        ({"exec": {"command": []}}, "exec []"),
        ({"tcpSocket": {"port": 8080}}, "tcp-socket :8080"),
        ({"tcpSocket": {"port": "db", "host": "h"}}, "tcp-socket h:db"),
        ({"grpc": {"port": 9000, "service": "health"}}, "grpc <pod>:9000 health"),
        ({"grpc": {"port": 9000, "service": ""}}, "grpc <pod>:9000 "),
        ({}, "unknown"),
    ],
)
def test_describe_probe(handler: dict[str, Any], expected: str) -> None:
    timings = {"initialDelaySeconds": 5, "timeoutSeconds": 2, "periodSeconds": 5, "successThreshold": 1}
    probe = {**handler, **timings, "failureThreshold": 1}
    assert describe_probe(probe) == f"{expected} delay=5s timeout=2s period=5s successThreshold=1 failureThreshold=1"


def resources(requests: dict[str, str] | None = None, limits: dict[str, str] | None = None) -> dict[str, Any]:
    return {"requests": requests or {}, "limits": limits or {}}


def qos_pod(*containers: dict[str, Any], init: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": f"c{i}", "resources": r} for i, r in enumerate(containers)]}
    if init:
        spec["initContainers"] = [{"name": f"i{i}", "resources": r} for i, r in enumerate(init)]
    return {"spec": spec}


FULL = {"cpu": "500m", "memory": "128Mi"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (qos_pod(resources()), "BestEffort"),
        (qos_pod(resources({"cpu": "0"})), "BestEffort"),
        (qos_pod(resources({"cpu": "100m"})), "Burstable"),
        (qos_pod(resources(FULL, FULL)), "Guaranteed"),
        (qos_pod(resources({"cpu": "0.5", "memory": "128Mi"}, FULL)), "Guaranteed"),
        (qos_pod(resources(FULL, FULL), resources()), "Burstable"),
        (qos_pod(resources(FULL, {"cpu": "500m"})), "Burstable"),
        (qos_pod(resources({"cpu": "250m", "memory": "128Mi"}, FULL)), "Burstable"),
        (qos_pod(resources(FULL, FULL), init=(resources(FULL, FULL),)), "Guaranteed"),
        (qos_pod(resources(FULL, FULL), init=(resources({"cpu": "1"}),)), "Burstable"),
        (qos_pod(resources({"ephemeral-storage": "1Gi"}, {"ephemeral-storage": "1Gi"})), "BestEffort"),
        ({"spec": {"containers": []}, "status": {"qosClass": "Guaranteed"}}, "Guaranteed"),
        # 1.37 rates each container: equal sums over unequal containers no longer make a pod Guaranteed.
        (
            qos_pod(
                resources({"cpu": "1", "memory": "1Gi"}, {"cpu": "2", "memory": "1Gi"}),
                resources({"cpu": "2", "memory": "1Gi"}, {"cpu": "1", "memory": "1Gi"}),
            ),
            "Burstable",
        ),
        (qos_pod(resources({"cpu": "1"}, {"cpu": "1"})), "Burstable"),  # cpu Guaranteed, memory BestEffort
        (qos_pod(resources({"cpu": "0", "memory": "0"}, {"memory": "0"})), "BestEffort"),
        # Pod-level resources decide when they name cpu or memory (or a huge page size).
        ({"spec": {"resources": resources(FULL, FULL), "containers": [{"name": "a"}]}}, "Guaranteed"),
        (
            {"spec": {"resources": resources(FULL), "containers": [{"name": "a", "resources": resources(FULL, FULL)}]}},
            "Burstable",
        ),
        ({"spec": {"resources": resources({"ephemeral-storage": "1Gi"}), "containers": [{"name": "a"}]}}, "BestEffort"),
        (
            {
                "spec": {
                    "resources": resources({"ephemeral-storage": "1Gi"}),
                    "containers": [{"name": "a", "resources": resources(FULL, FULL)}],
                }
            },
            "Guaranteed",
        ),
    ],
)
def test_pod_qos_class(body: dict[str, Any], expected: str) -> None:
    assert pod_qos_class(body) == expected


def test_toleration_variants() -> None:
    body = {
        "metadata": {"name": "t", "namespace": "default"},
        "spec": {
            "containers": [],
            "tolerations": [
                {"operator": "Exists"},
                {"key": "k", "operator": "Exists"},
                {"operator": "Exists", "effect": "NoSchedule"},
                {"key": "z", "operator": "Equal", "value": "v", "tolerationSeconds": 60},
            ],
        },
    }
    output = describe_pod(body, None, now=NOW)
    assert output.endswith(
        "Tolerations:     op=Exists\n"
        "                 :NoSchedule op=Exists\n"
        "                 k op=Exists\n"
        "                 z=v for 60s\n"
    )


def test_events_series_event_time_and_sorting() -> None:
    scheduler = {
        "type": "Normal",
        "reason": "Scheduled",
        "message": "  Successfully assigned default/echo to minikube  ",
        "eventTime": "2024-01-01T11:58:00.500000Z",
        "reportingController": "default-scheduler",
        "source": {},
    }
    series = {
        "type": "Warning",
        "reason": "BackOff",
        "message": "Back-off restarting failed container",
        "eventTime": "2024-01-01T11:59:00.000000Z",
        "series": {"count": 4, "lastObservedTime": "2024-01-01T11:59:50.000000Z"},
        "reportingController": "kubelet",
    }
    late_count = event("Normal", "Pulled", "pulled", first=100, last=30, count=2)
    assert describe_events([series, late_count, scheduler], now=NOW) == (
        "Events:\n"
        "  Type     Reason     Age                 From               Message\n"
        "  ----     ------     ----                ----               -------\n"
        "  Normal   Scheduled  119s                default-scheduler  Successfully assigned default/echo to minikube\n"
        "  Normal   Pulled     30s (x2 over 100s)  kubelet            pulled\n"
        "  Warning  BackOff    10s (x4 over 60s)   kubelet            Back-off restarting failed container\n"
    )
    assert describe_events([], now=NOW) == "Events:  <none>\n"


def test_event_messages_name_the_field_path() -> None:
    """kubectl 1.37 prefixes an event's message with its involvedObject.fieldPath (the container)."""
    created = event("Normal", "Created", " Created container app ", first=5, last=5)
    created["involvedObject"] = {"kind": "Pod", "name": "echo", "fieldPath": "spec.containers{app}"}
    scheduled = event("Normal", "Scheduled", "Successfully assigned default/echo to minikube", first=9, last=9)
    scheduled["involvedObject"] = {"kind": "Pod", "name": "echo", "fieldPath": ""}
    assert describe_events([created, scheduled], now=NOW) == (
        "Events:\n"
        "  Type    Reason     Age   From     Message\n"
        "  ----    ------     ----  ----     -------\n"
        "  Normal  Scheduled  9s    kubelet  Successfully assigned default/echo to minikube\n"
        "  Normal  Created    5s    kubelet  spec.containers{app}: Created container app\n"
    )


def test_named_ports_topology_spread_and_scheduling_group() -> None:
    body = {
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "busybox",
                    "ports": [
                        {"name": "http", "containerPort": 8080, "hostPort": 18080, "protocol": "TCP"},
                        {"containerPort": 53, "protocol": "UDP"},
                    ],
                },
                {"name": "one", "image": "busybox", "ports": [{"name": "metrics", "containerPort": 9090, "protocol": "TCP"}]},
            ],
            "topologySpreadConstraints": [
                {
                    "maxSkew": 1,
                    "topologyKey": "zone",
                    "whenUnsatisfiable": "DoNotSchedule",
                    "labelSelector": {
                        "matchLabels": {"app": "p"},
                        "matchExpressions": [
                            {"key": "tier", "operator": "In", "values": ["web", "api"]},
                            {"key": "canary", "operator": "DoesNotExist"},
                        ],
                    },
                },
                {"maxSkew": 2, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway"},
                {"maxSkew": 1, "topologyKey": "rack", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {}},
            ],
            "schedulingGroup": {"podGroupName": "training"},
        },
    }
    output = describe_pod(body, None, now=NOW)
    assert "    Ports:        8080/TCP (http), 53/UDP\n    Host Ports:   18080/TCP (http), 0/UDP\n" in output
    # The constraints' key, the longest of its block, sets where the second container's values start.
    assert "    Port:                     9090/TCP (metrics)\n    Host Port:                0/TCP (metrics)\n" in output
    assert output.endswith(
        "Tolerations:                  <none>\n"
        "Topology Spread Constraints:  kubernetes.io/hostname:ScheduleAnyway when max skew 2 is exceeded\n"
        "                              rack:ScheduleAnyway when max skew 1 is exceeded for selector <none>\n"
        "                              zone:DoNotSchedule when max skew 1 is exceeded for selector "
        "app=p,!canary,tier in (api,web)\n"
        "SchedulingGroup:\n"
        "  PodGroupName:  training\n"
    )


# ---------------------------------------------------------------------------------------------------
# describe node


def node() -> dict[str, Any]:
    capacity = {
        "cpu": "4",
        "ephemeral-storage": "61202244Ki",
        "hugepages-2Mi": "0",
        "memory": "8039932Ki",
        "pods": "110",
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": "minikube",
            "creationTimestamp": ago(3 * 3600),
            "labels": {
                "kubernetes.io/hostname": "minikube",
                "beta.kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/control-plane": "",
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": [
                {
                    "type": "MemoryPressure",
                    "status": "False",
                    "lastHeartbeatTime": ago(30),
                    "lastTransitionTime": ago(3 * 3600),
                    "reason": "KubeletHasSufficientMemory",
                    "message": "kubelet has sufficient memory available",
                },
                {
                    "type": "Ready",
                    "status": "True",
                    "lastHeartbeatTime": ago(30),
                    "lastTransitionTime": ago(3 * 3600 - 20),
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                },
            ],
            "addresses": [
                {"type": "InternalIP", "address": "192.168.49.2"},
                {"type": "Hostname", "address": "minikube"},
            ],
            "nodeInfo": {
                "machineID": "m1",
                "systemUUID": "u1",
                "bootID": "b1",
                "kernelVersion": "6.5.0",
                "osImage": "Ubuntu 22.04.4 LTS",
                "operatingSystem": "linux",
                "architecture": "amd64",
                "containerRuntimeVersion": "docker://27.4.0",
                "kubeletVersion": "v1.32.0",
                "kubeProxyVersion": "v1.32.0",
            },
        },
    }


def node_pod(name: str, created: float, resources: dict[str, Any] | None = None, **status: str) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": "busybox", **({"resources": resources} if resources else {})}
    return {
        "metadata": {"name": name, "namespace": "default", "creationTimestamp": ago(created)},
        "spec": {"nodeName": status.pop("node", "minikube"), "containers": [container]},
        "status": {"phase": status.get("phase", "Running")},
    }


def node_pods() -> list[dict[str, Any]]:
    return [
        node_pod("echo", 300, {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}}),
        node_pod("done", 900, {"requests": {"cpu": "1"}}, phase="Succeeded"),
        node_pod("idle", 600),
        node_pod("elsewhere", 600, {"requests": {"cpu": "1"}}, node="other"),
    ]


def node_events() -> list[dict[str, Any]]:
    registered = event(
        "Normal",
        "RegisteredNode",
        "Node minikube event: Registered Node minikube in Controller",
        first=3 * 3600 - 10,
        last=3 * 3600 - 10,
    )
    registered["source"] = {"component": "node-controller"}
    starting = event("Normal", "Starting", "Starting kubelet.", first=3 * 3600 + 5, last=3 * 3600 + 5)
    return [registered, starting]


NODE_GOLDEN = """\
Name:               minikube
Roles:              control-plane
Labels:             beta.kubernetes.io/arch=amd64
                    kubernetes.io/hostname=minikube
                    node-role.kubernetes.io/control-plane=
Annotations:        node.alpha.kubernetes.io/ttl: 0
CreationTimestamp:  Mon, 01 Jan 2024 09:00:00 +0000
Taints:             <none>
Unschedulable:      false
Conditions:
  Type             Status  LastHeartbeatTime                 LastTransitionTime                Reason                       Message
  ----             ------  -----------------                 ------------------                ------                       -------
  MemoryPressure   False   Mon, 01 Jan 2024 11:59:30 +0000   Mon, 01 Jan 2024 09:00:00 +0000   KubeletHasSufficientMemory   kubelet has sufficient memory available
  Ready            True    Mon, 01 Jan 2024 11:59:30 +0000   Mon, 01 Jan 2024 09:00:20 +0000   KubeletReady                 kubelet is posting ready status
Addresses:
  InternalIP:  192.168.49.2
  Hostname:    minikube
Capacity:
  cpu:                4
  ephemeral-storage:  61202244Ki
  hugepages-2Mi:      0
  memory:             8039932Ki
  pods:               110
Allocatable:
  cpu:                4
  ephemeral-storage:  61202244Ki
  hugepages-2Mi:      0
  memory:             8039932Ki
  pods:               110
System Info:
  Machine ID:                 m1
  System UUID:                u1
  Boot ID:                    b1
  Kernel Version:             6.5.0
  OS Image:                   Ubuntu 22.04.4 LTS
  Operating System:           linux
  Architecture:               amd64
  Container Runtime Version:  docker://27.4.0
  Kubelet Version:            v1.32.0
PodCIDR:                      10.244.0.0/24
PodCIDRs:                     10.244.0.0/24
Non-terminated Pods:          (2 in total)
  Namespace                   Name    CPU Requests  CPU Limits  Memory Requests  Memory Limits  Age
  ---------                   ----    ------------  ----------  ---------------  -------------  ---
  default                     echo    250m (6%)     500m (12%)  64Mi (0%)        128Mi (1%)     5m
  default                     idle    0 (0%)        0 (0%)      0 (0%)           0 (0%)         10m
Allocated resources:
  (Total limits may be over 100 percent, i.e., overcommitted.)
  Resource           Requests   Limits
  --------           --------   ------
  cpu                250m (6%)  500m (12%)
  memory             64Mi (0%)  128Mi (1%)
  ephemeral-storage  0 (0%)     0 (0%)
  hugepages-2Mi      0 (0%)     0 (0%)
Events:
  Type    Reason          Age   From             Message
  ----    ------          ----  ----             -------
  Normal  Starting        3h    kubelet          Starting kubelet.
  Normal  RegisteredNode  179m  node-controller  Node minikube event: Registered Node minikube in Controller
"""  # noqa: E501 (kubectl's own line lengths)


def test_describe_node() -> None:
    assert describe_node(node(), node_pods(), node_events(), now=NOW) == NODE_GOLDEN


def node_pod_resources() -> list[dict[str, Any]]:
    sized = node_pod("sized", 60, {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}})
    sized["spec"]["resources"] = {"requests": {"cpu": "1", "memory": "256Mi"}, "limits": {"cpu": "2"}}
    resized = node_pod("resized", 60, {"requests": {"cpu": "250m"}, "limits": {"cpu": "500m"}})
    resized["status"]["containerStatuses"] = [
        {"name": "app", "allocatedResources": {"cpu": "500m"}, "resources": {"requests": {"cpu": "400m"}, "limits": {"cpu": "1"}}}
    ]
    overhead = node_pod("overhead", 60, {"requests": {"cpu": "100m"}, "limits": {"memory": "50Mi"}})
    overhead["spec"]["overhead"] = {"cpu": "100m", "memory": "10Mi"}
    infeasible = node_pod("infeasible", 60, {"requests": {"cpu": "2"}, "limits": {"cpu": "2"}})
    infeasible["status"]["conditions"] = [{"type": "PodResizePending", "status": "True", "reason": "Infeasible"}]
    infeasible["status"]["containerStatuses"] = [{"name": "app", "allocatedResources": {"cpu": "1"}}]
    return [sized, resized, overhead, infeasible]


def test_describe_node_counts_pod_level_status_and_overhead_resources() -> None:
    """1.37 (component-helpers' PodRequests/PodLimits): pod-level resources replace the containers' sums;
    a pod's own row takes the larger of the spec's, the allocated and the actual (status) resources (only
    the latter while a resize is infeasible), the totals only the spec's; overhead adds to a limit only
    where one is set."""
    output = describe_node(node(), node_pod_resources(), None, now=NOW)
    assert output[output.index("Non-terminated Pods:") :] == (
        "Non-terminated Pods:          (4 in total)\n"
        "  Namespace                   Name          CPU Requests  CPU Limits  Memory Requests  Memory Limits  Age\n"
        "  ---------                   ----          ------------  ----------  ---------------  -------------  ---\n"
        "  default                     sized         1 (25%)       2 (50%)     256Mi (3%)       128Mi (1%)     60s\n"
        "  default                     resized       500m (12%)    1 (25%)     0 (0%)           0 (0%)         60s\n"
        "  default                     overhead      200m (5%)     0 (0%)      10Mi (0%)        60Mi (0%)      60s\n"
        "  default                     infeasible    1 (25%)       0 (0%)      0 (0%)           0 (0%)         60s\n"
        "Allocated resources:\n"
        "  (Total limits may be over 100 percent, i.e., overcommitted.)\n"
        "  Resource           Requests     Limits\n"
        "  --------           --------     ------\n"
        "  cpu                3450m (86%)  4500m (112%)\n"
        "  memory             266Mi (3%)   188Mi (2%)\n"
        "  ephemeral-storage  0 (0%)       0 (0%)\n"
        "  hugepages-2Mi      0 (0%)       0 (0%)\n"
    )


def test_describe_node_lease_taints_and_extended_resources() -> None:
    body = node()
    body["spec"].update(
        unschedulable=True,
        taints=[
            {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
            {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
            {"key": "a", "effect": "NoExecute"},
        ],
    )
    body["status"]["allocatable"]["example.com/gpu"] = "2"
    lease = {"spec": {"holderIdentity": "minikube", "renewTime": "2024-01-01T11:59:55.000000Z"}}
    output = describe_node(body, [], None, now=NOW, lease=lease)
    assert (
        "Taints:             a:NoExecute\n"
        "                    dedicated=gpu:NoSchedule\n"
        "                    node.kubernetes.io/unschedulable:NoSchedule\n"
        "Unschedulable:      true\n"
        "Lease:\n"
        "  HolderIdentity:  minikube\n"
        "  AcquireTime:     <unset>\n"
        "  RenewTime:       Mon, 01 Jan 2024 11:59:55 +0000\n"
        "Conditions:\n"
    ) in output
    assert output.endswith("  hugepages-2Mi      0 (0%)    0 (0%)\n  example.com/gpu    0         0\n")
    assert "Non-terminated Pods:          (0 in total)\n" in output
    failed = describe_node(node(), [], [], now=NOW, lease='leases.coordination.k8s.io "minikube" not found')
    assert 'Lease:              Failed to get lease: leases.coordination.k8s.io "minikube" not found\n' in failed
    assert failed.endswith("  hugepages-2Mi      0 (0%)    0 (0%)\nEvents:              <none>\n")
