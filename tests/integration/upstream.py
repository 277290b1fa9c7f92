"""Helpers shared by the re-creations of upstream's node e2e suites (test_upstream_*.py): the e2e framework's
pod client and wait functions in this project's terms, polling with deadlines (never bare sleeps); the busybox
stand-ins for agnhost and the pod builders and checks that the "Probing container" and "Container Lifecycle Hook"
suites share with their restartable-init-container (sidecar) twins."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from nodes import Node, eventually

BUSYBOX = "minikubelet.local/busybox:1.35"
ECHO = "minikubelet.local/echo:v1"
PAUSE = "minikubelet.local/pause:3.10"


def unique(prefix: str) -> str:
    """`<prefix>-<uuid8>`, as upstream names its pods `<prefix>-<uuid>`."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create(node: Node, pod: dict[str, Any]) -> str:
    """podClient.Create: the pod as JSON through the CLI; returns its name."""
    pod.setdefault("apiVersion", "v1")
    pod.setdefault("kind", "Pod")
    node.cli("apply", "-f", "-", stdin=json.dumps(pod), check=True)
    return str(pod["metadata"]["name"])


def get(node: Node, name: str) -> dict[str, Any] | None:
    """The pod, or None once it is gone."""
    result = node.cli("get", "pod", name, "-o", "json")
    if result.returncode != 0:
        if "NotFound" in result.stderr or "not found" in result.stderr:
            return None
        raise AssertionError(f"get pod {name} failed: {result.stderr}")
    pod: dict[str, Any] = json.loads(result.stdout)
    return pod


def must_get(node: Node, name: str) -> dict[str, Any]:
    pod = get(node, name)
    assert pod is not None, f"pod {name} is gone"
    return pod


def statuses(pod: dict[str, Any]) -> list[dict[str, Any]]:
    status = pod.get("status") or {}
    return [*status.get("initContainerStatuses", []), *status.get("containerStatuses", [])]


def container_status(pod: dict[str, Any], container: str) -> dict[str, Any]:
    return next((s for s in statuses(pod) if s.get("name") == container), {})


def restart_count(pod: dict[str, Any], container: str) -> int:
    return int(container_status(pod, container).get("restartCount", 0))


def total_restarts(pod: dict[str, Any]) -> int:
    """getRestartCount: the sum over init and app containers."""
    return sum(int(s.get("restartCount", 0)) for s in statuses(pod))


def is_ready(pod: dict[str, Any] | None) -> bool:
    """podutil.IsPodReady: the Ready condition is True."""
    if pod is None:
        return False
    conditions = (pod.get("status") or {}).get("conditions", [])
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def running_ready(pod: dict[str, Any]) -> bool:
    """testutils.PodRunningReady: phase Running and Ready."""
    return (pod.get("status") or {}).get("phase") == "Running" and is_ready(pod)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def ready_transition(pod: dict[str, Any]) -> datetime:
    """GetTransitionTimeForReadyCondition."""
    condition = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
    return parse_time(condition["lastTransitionTime"])


def started_at(pod: dict[str, Any], container: str) -> datetime:
    """GetContainerStartedTime: state.running.startedAt."""
    running = container_status(pod, container).get("state", {}).get("running")
    assert running is not None, f"container {container} is not running"
    return parse_time(running["startedAt"])


def wait_for(node: Node, name: str, condition: Any, *, timeout: float, what: str) -> dict[str, Any]:
    """e2epod.WaitForPodCondition: poll the pod until `condition(pod)` holds; the last pod seen."""
    seen: dict[str, Any] = {}

    def check() -> bool:
        nonlocal seen
        pod = get(node, name)
        if pod is None:
            return False
        seen = pod
        return bool(condition(pod))

    assert eventually(check, timeout=timeout, interval=0.5), (
        f"pod {name}: timed out waiting for {what}; last: {seen.get('status')}"
    )
    return seen


def wait_ready(node: Node, name: str, *, timeout: float = 60) -> dict[str, Any]:
    return wait_for(node, name, is_ready, timeout=timeout, what="Ready")


def events(node: Node, name: str, reason: str = "") -> list[dict[str, Any]]:
    selector = f"involvedObject.name={name}" + (f",reason={reason}" if reason else "")
    result = node.cli("get", "events", "--field-selector", selector, "-o", "json", check=True)
    items: list[dict[str, Any]] = json.loads(result.stdout)["items"]
    return items


def delete(node: Node, name: str, *extra: str) -> None:
    node.cli("delete", "pod", name, "--wait=false", *extra, check=True)


def force_delete(node: Node, name: str) -> None:
    """The DeferCleanup of upstream's tests: delete with a zero grace period."""
    node.cli("delete", "pod", name, "--grace-period=0", "--force", "--wait=false")


def wait_gone(node: Node, name: str, *, timeout: float) -> None:
    assert eventually(lambda: get(node, name) is None, timeout=timeout, interval=0.5), f"pod {name} still exists"


def logs(node: Node, name: str, container: str = "") -> str:
    args = ["logs", name] + (["-c", container] if container else [])
    return node.cli(*args).stdout


def run_liveness_test(node: Node, pod: dict[str, Any], expect_restarts: int, timeout: float, container: str = "") -> None:
    """runLivenessTest: wait for the container to leave `waiting`, then poll its restart count (it must never go
    down) until `expect_restarts` more are seen (or, expecting none, for the whole `timeout`)."""
    name = create(node, pod)
    container = container or pod["spec"]["containers"][0]["name"]
    try:
        started = wait_for(
            node,
            name,
            lambda p: bool({"running", "terminated"} & set(container_status(p, container).get("state", {}))),
            timeout=timeout,
            what="container not waiting",
        )
        initial = restart_count(started, container)
        deadline = time.monotonic() + timeout + initial * 10
        last, observed = initial, 0
        current = started
        while time.monotonic() < deadline:
            current = must_get(node, name)
            count = restart_count(current, container)
            assert count >= last, f"restart count of {name} went from {last} down to {count}"
            observed = count - initial
            if expect_restarts > 0 and observed >= expect_restarts:
                break
            last = count
            time.sleep(1)  # the poll interval (upstream polls every 2 s)
        if expect_restarts == 0:
            assert observed == 0, f"pod {name}: expected no restarts, found {observed}; status: {current.get('status')}"
        else:
            assert observed >= expect_restarts, (
                f"pod {name}: expected {expect_restarts} restarts, found {observed}; status: {current.get('status')}"
            )
    finally:
        force_delete(node, name)


# --- agnhost's servers in busybox sh -----------------------------------------------------------------------------

HEALTHY_WINDOW = 3  # agnhost liveness: /healthz fails after 10 s; here after 3 s

# agnhost `liveness` in busybox sh: nc forks the handler for each connection on :8080.
LIVENESS_SERVER = r"""
date +%s > /tmp/started
cat > /tmp/handler.sh <<'EOF'
#!/bin/sh
cr=$(printf '\r')
IFS= read -r -t 10 request || exit 0
while IFS= read -r -t 10 line; do line=${line%"$cr"}; [ -n "$line" ] || break; done
path=$(echo "$request" | cut -d' ' -f2)
age=$(( $(date +%s) - $(cat /tmp/started) ))
loc=''
case $path in
  /healthz*)
    if [ "$age" -gt WINDOW ]; then status='500 Internal Server Error'; body="error: $age"; else status='200 OK'; body='ok'; fi;;
  /redirect*)
    loc=$(httpd -d "${path#*loc=}"); status='302 Found'; body="<a href=\"$loc\">Found</a>.

";;
  *) status='404 Not Found'; body='404 page not found';;
esac
printf 'HTTP/1.1 %s\r\n' "$status"
[ -z "$loc" ] || printf 'Location: %s\r\n' "$loc"
printf 'Content-Length: %s\r\nConnection: close\r\n\r\n%s' "${#body}" "$body"
EOF
chmod +x /tmp/handler.sh
exec nc -ll -p 8080 -e /tmp/handler.sh
""".replace("WINDOW", str(HEALTHY_WINDOW))

# The frames of a gRPC health reply (see test_upstream_probing_container.py), as octal escapes for busybox printf.
GRPC_REPLY = "".join(
    (
        r"\000\000\000\004\000\000\000\000\000",  # SETTINGS
        r"\000\000\000\004\001\000\000\000\000",  # SETTINGS ACK
        r"\000\000\024\001\004\000\000\000\001\210\017\020\020application/grpc",  # HEADERS: 200, content-type
        r"\000\000\007\000\000\000\000\000\001\000\000\000\000\002\010\001",  # DATA: {status: SERVING}
        r"\000\000\017\001\005\000\000\000\001\000\013grpc-status\0010",  # HEADERS, END_STREAM: grpc-status 0
    )
)
GRPC_HEALTH_SERVER = f"""
cat > /tmp/grpc.sh <<'EOF'
#!/bin/sh
printf '{GRPC_REPLY}'
timeout 1 cat >/dev/null
EOF
chmod +x /tmp/grpc.sh
exec nc -ll -p 5000 -e /tmp/grpc.sh
"""

WEBSERVER = "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p PORT -h /www"

# agnhost netexec, the part the hook tests need: `/echo?msg=` answers the message, `/dial?host=&port=&request=`
# sends GET http://host:port/<request> and answers what came back.
NETEXEC = r"""
cat > /tmp/netexec.sh <<'EOF'
#!/bin/sh
cr=$(printf '\r')
IFS= read -r -t 10 request || exit 0
while IFS= read -r -t 10 line; do line=${line%"$cr"}; [ -n "$line" ] || break; done
path=$(echo "$request" | cut -d' ' -f2)
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $request" >&2
body=''
case $path in
  /dial\?*)
    host=''; port=''; req=''
    IFS='&'
    for kv in ${path#*\?}; do
      case $kv in
        host=*) host=${kv#host=};;
        port=*) port=${kv#port=};;
        request=*) req=$(httpd -d "${kv#request=}");;
      esac
    done
    unset IFS
    body=$(wget -q -O- "http://$host:$port/$req" 2>&1);;
  /echo\?msg=*) body=$(httpd -d "${path#*msg=}");;
esac
printf 'HTTP/1.1 200 OK\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s' "${#body}" "$body"
EOF
chmod +x /tmp/netexec.sh
exec nc -ll -p 8080 -e /tmp/netexec.sh
"""


# --- container_probe.go's pod builders ---------------------------------------------------------------------------


def http_get(path: str, port: int) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": port}}


def exec_handler(*command: str) -> dict[str, Any]:
    return {"exec": {"command": list(command)}}


def probed(container: dict[str, Any], **probes: dict[str, Any] | None) -> dict[str, Any]:
    """The container with the given probes (`readiness=`, `liveness=`, `startup=`) set, the None ones left out."""
    for kind, probe in probes.items():
        if probe is not None:
            container[f"{kind}Probe"] = probe
    return container


def webserver_container(name: str, port: int) -> dict[str, Any]:
    """agnhost test-webserver -> busybox httpd serving `/` on `port`."""
    command = ["sh", "-c", WEBSERVER.replace("PORT", str(port))]
    return {"name": name, "image": BUSYBOX, "command": command, "ports": [{"containerPort": port}]}


def liveness_container(name: str) -> dict[str, Any]:
    """agnhost liveness -> LIVENESS_SERVER."""
    return {"name": name, "image": BUSYBOX, "command": ["sh", "-c", LIVENESS_SERVER], "ports": [{"containerPort": 8080}]}


def grpc_container(name: str) -> dict[str, Any]:
    """agnhost grpc-health-checking -> GRPC_HEALTH_SERVER."""
    ports = [{"containerPort": 5000}, {"containerPort": 8080}]
    return {"name": name, "image": BUSYBOX, "command": ["sh", "-c", GRPC_HEALTH_SERVER], "ports": ports}


def busybox_container(name: str, cmd: list[str]) -> dict[str, Any]:
    return {"name": name, "image": BUSYBOX, "command": cmd}


def plain_pod(prefix: str, container: dict[str, Any], labels: dict[str, str] | None = None) -> dict[str, Any]:
    """The one-container pods of the "Probing container" suite (testWebServerPodSpec, busyBoxPodSpec, ...)."""
    metadata: dict[str, Any] = {"name": unique(prefix), **({"labels": labels} if labels else {})}
    return {"metadata": metadata, "spec": {"containers": [container]}}


def sidecar_pod(prefix: str, container: dict[str, Any], labels: dict[str, str] | None = None) -> dict[str, Any]:
    """Their sidecar twins (testWebServerSidecarPodSpec, busyBoxSidecarPodSpec, ...): `container` as the one
    restartable init container, beside a `main` container that pauses (agnhost pause -> the pause image)."""
    pod = plain_pod(prefix, {**container, "restartPolicy": "Always"}, labels)
    pod["spec"] = {"initContainers": pod["spec"]["containers"], "containers": [{"name": "main", "image": PAUSE}]}
    return pod


# --- container_probe.go's checks, shared by "Probing container" and "Probing restartable init container" --------


def run_sidecar_liveness_test(node: Node, pod: dict[str, Any], expect_restarts: int, timeout: float) -> None:
    """RunSidecarLivenessTest: runLivenessTest on the pod's first init container."""
    run_liveness_test(node, pod, expect_restarts, timeout, pod["spec"]["initContainers"][0]["name"])


def run_readiness_fail_test(node: Node, pod: dict[str, Any], not_ready_until: float, wait_for_not_pending: bool) -> None:
    """runReadinessFailTest (polling the live pod, where upstream re-reads a stale copy)."""
    name = create(node, pod)
    try:
        if wait_for_not_pending:
            wait_for(node, name, lambda p: p["status"].get("phase") != "Pending", timeout=60, what="not Pending")
        deadline = time.monotonic() + not_ready_until
        while time.monotonic() < deadline:
            assert not is_ready(get(node, name)), f"pod {name} - expected to be not ready"
            time.sleep(1)
    finally:
        force_delete(node, name)


def check_ready_after_initial_delay(node: Node, pod: dict[str, Any], container: str, initial_delay: float) -> None:
    """The body of "with readiness probe should not be ready before initial delay and never restart"."""
    name = create(node, pod)
    try:
        ready = wait_ready(node, name, timeout=60)
        assert running_ready(ready), f"pod {name} should be ready"
        ready_time, started_time = ready_transition(ready), started_at(ready, container)
        assert (ready_time - started_time).total_seconds() >= initial_delay, (
            f"Pod became ready before it's {initial_delay}s initial delay: started {started_time}, ready {ready_time}"
        )
        assert total_restarts(ready) == 0, f"pod should have a restart count of 0 but got {total_restarts(ready)}"
    finally:
        force_delete(node, name)


def check_never_ready(node: Node, pod: dict[str, Any], window: float) -> None:
    """The body of "with readiness probe that fails should never be ready and never restart" (upstream:
    Consistently for `window` = 1 minute)."""
    name = create(node, pod)
    try:
        deadline = time.monotonic() + window
        while time.monotonic() < deadline:
            assert not is_ready(get(node, name)), "pod should not be ready"
            time.sleep(1)
        current = must_get(node, name)
        assert not running_ready(current), f"pod {name} should be not ready"
        assert total_restarts(current) == 0, f"pod should have a restart count of 0 but got {total_restarts(current)}"
    finally:
        force_delete(node, name)


def check_non_local_redirect_warning(node: Node, pod: dict[str, Any], container: str = "") -> None:
    """The body of "should *not* be restarted with a non-local redirect http liveness probe": no restart, and the
    ProbeWarning event."""
    name = pod["metadata"]["name"]
    expected = 'Probe terminated redirects, Response body: <a href="http://0.0.0.0/">Found</a>.'
    warnings: list[str] = []

    def warned() -> bool:
        warnings[:] = [e["message"] for e in events(node, name, "ProbeWarning")]
        return any(expected in m for m in warnings)

    # The pod is removed by run_liveness_test's cleanup; its events stay.
    run_liveness_test(node, pod, 0, 15, container)
    assert eventually(warned, timeout=30, interval=0.5), f"no ProbeWarning event with {expected!r}: {warnings}"


def _first_container_started(pod: dict[str, Any]) -> bool:
    found = (pod.get("status") or {}).get("containerStatuses") or [{}]
    return found[0].get("started") is True


def check_ready_soon_after_startup(node: Node, pod: dict[str, Any], bound: float) -> None:
    """The body of "should be ready immediately after startupProbe succeeds": from the moment the pod's first
    regular container is started (e2epod.WaitForPodContainerStarted(..., 0, ...)) to Ready in at most `bound`."""
    name = create(node, pod)
    try:
        wait_for(node, name, _first_container_started, timeout=90, what="containers[0] started")
        started_time = time.monotonic()
        ready = wait_ready(node, name, timeout=90)
        ready_in = time.monotonic() - started_time
        assert running_ready(ready), f"pod {name} should be ready"
        assert ready_in <= bound, (
            f"Pod became ready in {ready_in:.1f}s, more than {bound}s after startupProbe succeeded. It means that the "
            "delay readiness probes were not initiated immediately after startup finished."
        )
    finally:
        force_delete(node, name)


TERMINATING_READY_SCRIPT = """
_term() {
  rm -f /tmp/ready
  sleep 30
  exit 0
}
trap _term TERM

touch /tmp/ready

while true; do
  echo "hello"
  sleep 1
done
"""

TERMINATING_LIVENESS_SCRIPT = """
_term() {
  rm -f /tmp/ready
  rm -f /tmp/liveness
  sleep 20
  exit 0
}
trap _term TERM

touch /tmp/ready
touch /tmp/liveness

while true; do
  echo "hello"
  sleep 1
done
"""


def terminating_container(name: str, *, liveness: bool) -> dict[str, Any]:
    """The container of the two "in progress of terminating" cases: TERMINATING_LIVENESS_SCRIPT with readiness
    and liveness probes, or TERMINATING_READY_SCRIPT with a readiness probe (initial delays 2 s; upstream 5 s)."""
    script = TERMINATING_LIVENESS_SCRIPT if liveness else TERMINATING_READY_SCRIPT
    readiness = {**exec_handler("cat", "/tmp/ready"), "failureThreshold": 1, "initialDelaySeconds": 2, "periodSeconds": 2}
    live = {**exec_handler("cat", "/tmp/liveness"), "failureThreshold": 1, "initialDelaySeconds": 2, "periodSeconds": 1}
    container = {"name": name, "image": BUSYBOX, "command": ["/bin/sh"], "args": ["-c", script]}
    return probed(container, readiness=readiness, liveness=live if liveness else None)


def check_not_ready_while_terminating(node: Node, pod: dict[str, Any], *, liveness: bool) -> None:
    """The body of "should mark readiness on pods to false [and disable liveness probes] while pod is in progress of
    terminating": running and ready, deleted, seen not ready while still terminating (its script sleeps 20-30 s);
    with `liveness`, no liveness failure for 10 s after (upstream: Consistently for 1 minute)."""
    pod["spec"]["terminationGracePeriodSeconds"] = 30
    name = create(node, pod)
    try:
        wait_for(node, name, running_ready, timeout=60, what="running and ready")
        delete(node, name)
        # waitForPodStatusByInformer
        assert eventually(lambda: get(node, name) is not None and not is_ready(get(node, name)), timeout=25, interval=0.5), (
            f"pod {name} is still ready (or gone without being seen not ready)"
        )
        deadline = time.monotonic() + (10 if liveness else 0)
        while time.monotonic() < deadline:
            failed = [e["message"] for e in events(node, name) if "failed liveness probe" in e["message"]]
            assert not failed, f"should not see liveness probe failures: {failed}"
            time.sleep(1)
    finally:
        force_delete(node, name)


# --- lifecycle_hook.go's handler pod and testPodWithHook ---------------------------------------------------------

POST_START_WAIT = 60  # upstream: 2 minutes
PRE_STOP_WAIT = 30


def hook_handler(node: Node) -> Iterator[tuple[str, str]]:
    """The BeforeEach of the hook suites: the pod handling the hooks' requests (agnhost netexec on 8080 -> the echo
    image, which logs `<time> GET /echo?msg=poststart HTTP/1.1` per request); yields (its name, its IP)."""
    name = "pod-handle-http-request"
    container = {
        "name": "container-handle-http-request",
        "image": ECHO,
        "env": [{"name": "PORT", "value": "8080"}],
        "ports": [{"containerPort": 8080}],
    }
    create(node, {"metadata": {"name": name}, "spec": {"containers": [container]}})
    try:
        pod = wait_for(node, name, _running_with_ip, timeout=60, what="Running with an IP")
        yield name, str(pod["status"]["podIP"])
    finally:
        force_delete(node, name)
        wait_gone(node, name, timeout=60)


def _running_with_ip(pod: dict[str, Any]) -> bool:
    return pod["status"].get("phase") == "Running" and bool(pod["status"].get("podIP"))


def netexec_connect(target: str, request: str) -> str:
    """netexecConnect: the sidecar's path relaying `request` to the handler pod."""
    return f"/dial?host={target}&port=8080&request={quote(request.lstrip('/'), safe='')}"


def matched(node: Node, handler_pod: str, pattern: str) -> bool:
    """podClient.MatchContainerOutput on the handler pod."""
    return re.search(pattern, logs(node, handler_pod)) is not None


def exec_hook(event: str, target: str) -> dict[str, Any]:
    """The lifecycle of the exec cases: `event` (postStart or preStop) fetches the handler's
    `/echo?msg=<event in lower case>` (upstream's `curl`, busybox's `wget`)."""
    command = f"wget -q -O- http://{target}:8080/echo?msg={event.lower()}"
    return {event: {"exec": {"command": ["sh", "-c", command]}}}


def http_hook(event: str, target: str, scheme: str = "HTTP") -> dict[str, Any]:
    """The lifecycle of the http(s) cases: `event` gets the relay sidecar's path to the handler's
    `/echo?msg=<event in lower case>`."""
    action: dict[str, Any] = {"path": netexec_connect(target, f"/echo?msg={event.lower()}"), "port": 8080}
    if scheme != "HTTP":
        action["scheme"] = scheme
    return {event: {"httpGet": action}}


def pod_with_hook_test(node: Node, handler_pod: str, pod: dict[str, Any]) -> None:
    """testPodWithHook, of both hook suites: the hooked container is the first init container if the pod has one
    (the sidecar suite), else the first container. Add the relay sidecar `container-redirect` in front, create the
    pod (and wait for it to run), check postStart, delete (grace 15, and wait for it to go), check preStop; an
    HTTPS hook (answered over HTTP, see test_upstream_lifecycle_hook.py) must also have left its
    LifecycleHTTPFallback warning."""
    lifecycle = (pod["spec"].get("initContainers") or pod["spec"]["containers"])[0]["lifecycle"]
    sidecar = {
        "name": "container-redirect",
        "image": BUSYBOX,
        "command": ["sh", "-c", NETEXEC],
        "restartPolicy": "Always",
        "startupProbe": {"httpGet": {"scheme": "HTTP", "path": "/echo?msg=startup", "port": 8080}},
    }
    pod["spec"]["initContainers"] = [sidecar, *pod["spec"].get("initContainers", [])]
    name = create(node, pod)
    try:
        wait_for(node, name, lambda p: p["status"].get("phase") == "Running", timeout=60, what="Running")
        if "postStart" in lifecycle:
            assert eventually(
                lambda: matched(node, handler_pod, r"GET /echo\?msg=poststart"), timeout=POST_START_WAIT, interval=1
            ), f"no postStart request in the handler's log:\n{logs(node, handler_pod)}"
        delete(node, name, "--grace-period=15")
        wait_gone(node, name, timeout=60)
        if "preStop" in lifecycle:
            assert eventually(lambda: matched(node, handler_pod, r"GET /echo\?msg=prestop"), timeout=PRE_STOP_WAIT, interval=1), (
                f"no preStop request in the handler's log:\n{logs(node, handler_pod)}"
            )
        if any(handler.get("httpGet", {}).get("scheme") == "HTTPS" for handler in lifecycle.values()):
            assert eventually(lambda: fell_back(node, name), timeout=10, interval=0.5), "no LifecycleHTTPFallback warning"
    finally:
        force_delete(node, name)


def fell_back(node: Node, name: str) -> bool:
    """The LifecycleHTTPFallback warning of an HTTPS hook answered over HTTP."""
    return any(
        "got HTTP response, retry with HTTP succeeded" in e["message"] for e in events(node, name, "LifecycleHTTPFallback")
    )
