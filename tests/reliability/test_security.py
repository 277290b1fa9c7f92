"""Security, against real nodes: who may talk to the API, what the state directory shows, what a pod may do to
the host, and that user text never becomes a shell command or a Docker option.

- The API listens on 127.0.0.1 only; without the bearer token (or with a wrong one) every path answers 401,
  watches, logs, the `/probes` subresource and the exec/attach/port-forward WebSocket upgrades included.
- The state directory is 0700 and every file in it 0600.
- exec, exec probes and exec hooks run argv: `;`, `$(...)` and backquotes reach the command as plain characters.
- Privileged containers, added capabilities, hostNetwork, hostPID, hostIPC and hostPath volumes outside the
  `--allow-host-path` directories are refused with 403 Forbidden (kubectl prints the same line as we do), unless
  the node runs with `--allow-privileged`; then the kubelet really gives the pod the host's namespaces and a
  privileged container (checked against this process's own namespaces).
- Container names, labels and environment variables holding `--privileged`, `=` or newlines are refused by
  validation or reach Docker as data, never as options.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest
from nodes import Node, eventually, kubectl_present
from raw_api import connection, http_client
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as websocket_connect
from websockets.typing import Subprotocol

from minikubelet.apiserver.admission import ForbiddenError, PodSecurityPolicy

BUSYBOX = "minikubelet.local/busybox:1.35"
PODS = "/api/v1/namespaces/default/pods"
HINT = 'a node started with "minikubelet up --allow-privileged" allows this'
HOST_PATH_HINT = HINT + ' (host directories also with "--allow-host-path=DIR")'


def started_node(home: Path, *up_args: str) -> Iterator[Node]:
    """`running_node` with `up` flags: a real daemon in a private MINIKUBELET_HOME, stopped and cleaned up after."""
    node = Node(home)
    node.cli("up", *up_args, check=True, timeout=60)
    try:
        yield node
    finally:
        node.cli("down", "--delete-pods", timeout=120)
        node.remove_containers()


@pytest.fixture(scope="module")
def allowed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("allowed-host-path")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, allowed_dir: Path) -> Iterator[Node]:
    """A node with the default policy, allowing hostPath volumes under one directory only."""
    yield from started_node(tmp_path_factory.mktemp("secure-home"), f"--allow-host-path={allowed_dir}")


@pytest.fixture(scope="module")
def privileged_node(
    docker_client: docker.DockerClient, local_images: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    yield from started_node(tmp_path_factory.mktemp("privileged-home"), "--allow-privileged")


@pytest.fixture(scope="module")
def shell(node: Node, docker_client: docker.DockerClient, local_images: Any) -> Iterator[str]:
    """A running busybox pod (working directory /tmp, an emptyDir mounted) on the default node."""
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: shell}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: {BUSYBOX}
      command: ["sleep", "3600"]
      workingDir: /tmp
      volumeMounts: [{{name: scratch, mountPath: /scratch}}]
  volumes: [{{name: scratch, emptyDir: {{}}}}]
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    assert eventually(lambda: phase(node, "shell") == "Running", timeout=60)
    yield "shell"
    node.cli("delete", "pod", "shell", "--grace-period=1")


def phase(node: Node, name: str) -> str:
    result = node.cli("get", "pod", name, "-o", "json")
    return str(json.loads(result.stdout)["status"].get("phase", "")) if result.returncode == 0 else ""


def ready(node: Node, name: str) -> bool:
    result = node.cli("get", "pod", name, "-o", "json")
    if result.returncode != 0:
        return False
    conditions = json.loads(result.stdout)["status"].get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def exec_out(node: Node, pod: str, *argv: str) -> str:
    result = node.cli("exec", pod, "--", *argv, check=True)
    return result.stdout


def stored_pods(node: Node) -> list[str]:
    return [pod["metadata"]["name"] for pod in node.api("/api/v1/pods")["items"]]


def kubectl_available() -> bool:
    if kubectl_present():
        return True
    if os.environ.get("CI") == "true":
        pytest.fail("kubectl is not installed; the kubectl checks never skip under CI=true")
    return False


# --- (a) the API: loopback only, always the token -------------------------------------------------------------------


def _listening(port: int) -> list[tuple[str, str]]:
    """(file, local address) of every listening socket on `port`, from /proc/net/tcp and tcp6."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.append((table, address))
    return found


def _host_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses that a packet would leave from (no packet is sent)."""
    addresses = set()
    for target in ("192.0.2.1", "198.51.100.1", "10.255.255.255"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.connect((target, 9))
            except OSError:
                continue
            address = probe.getsockname()[0]
            if not address.startswith("127."):
                addresses.add(address)
    return sorted(addresses)


def test_the_api_listens_on_loopback_only(node: Node) -> None:
    port = int(httpx.URL(connection(node).server).port or 0)
    assert _listening(port) == [("/proc/net/tcp", "0100007F")]  # 127.0.0.1, and no IPv6 socket at all
    for address in _host_addresses():
        with socket.socket() as attempt:
            attempt.settimeout(2)
            assert attempt.connect_ex((address, port)) != 0, f"the API answers on {address}:{port}"


# The pod needs not exist: the token is checked before anything else (the control below shows the rest answers).
HTTP_PATHS = [
    ("GET", PODS),
    ("POST", PODS),
    ("GET", f"{PODS}?watch=1"),
    ("GET", "/api/v1/pods?watch=true"),
    ("GET", f"{PODS}/nobody/log"),
    ("GET", f"{PODS}/nobody/log?follow=true"),
    ("GET", f"{PODS}/nobody/probes"),
    ("POST", f"{PODS}/nobody/exec?command=id&stdout=true"),
    ("DELETE", f"{PODS}/nobody"),
    ("GET", "/api/v1/nodes"),
    ("GET", "/api"),
]


def status_of(client: httpx.Client, method: str, path: str) -> tuple[int, bytes]:
    """The status code, and the body unless it is a stream that would not end (a watch, a followed log)."""
    with client.stream(method, path, json={} if method == "POST" else None) as response:
        return response.status_code, response.read() if response.status_code == 401 else b""


def authorization(node: Node, kind: str) -> str | None:
    """A wrong Authorization header: none, a wrong token, the right one cut short, or in another scheme."""
    token = connection(node).token
    return {
        "none": None,
        "wrong-token": "Bearer wrong-token",
        "truncated-token": f"Bearer {token[:-1]}",
        "basic-scheme": f"Basic {token}",
    }[kind]


WRONG = ["none", "wrong-token", "truncated-token", "basic-scheme"]


@pytest.mark.parametrize("kind", WRONG)
@pytest.mark.parametrize(("method", "path"), HTTP_PATHS, ids=[f"{m} {p}" for m, p in HTTP_PATHS])
def test_requests_without_the_token_get_401(node: Node, kind: str, method: str, path: str) -> None:
    with http_client(node, authorization=authorization(node, kind)) as client:
        code, body = status_of(client, method, path)
    assert code == 401
    assert json.loads(body) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }


@pytest.mark.parametrize(("method", "path"), HTTP_PATHS, ids=[f"{m} {p}" for m, p in HTTP_PATHS])
def test_the_same_requests_with_the_token_get_past_the_check(node: Node, method: str, path: str) -> None:
    """The control: with the node's token none of them is a 401 (so the 401 above is the token check)."""
    with http_client(node) as client:
        code, _ = status_of(client, method, path)
    assert code != 401


WEBSOCKETS = ["exec?command=id&stdout=true", "attach?stdout=true", "portforward?ports=80"]


@pytest.mark.parametrize("subresource", WEBSOCKETS)
@pytest.mark.parametrize("kind", WRONG)
def test_websocket_upgrades_without_the_token_get_401(node: Node, kind: str, subresource: str) -> None:
    conn = connection(node)
    url = conn.server.replace("https://", "wss://") + f"{PODS}/nobody/{subresource}"
    header = authorization(node, kind)
    headers = {"Authorization": header} if header is not None else {}
    protocols = [Subprotocol("v5.channel.k8s.io")]
    with pytest.raises(InvalidStatus) as refused:
        websocket_connect(
            url, ssl=conn.ssl_context(), additional_headers=headers, subprotocols=protocols, proxy=None, open_timeout=60
        )
    assert refused.value.response.status_code == 401
    assert json.loads(refused.value.response.body or b"{}")["reason"] == "Unauthorized"


def test_kubectl_with_a_wrong_token_is_unauthorized(node: Node) -> None:
    if not kubectl_available():
        pytest.skip("kubectl is not installed")
    expected = "error: You must be logged in to the server (the server has asked for the client to provide credentials)"
    for args in (["get", "pods"], ["exec", "nobody", "--", "id"], ["logs", "nobody"]):
        result = node.kubectl("--token=wrong-token", *args, timeout=60)
        assert result.returncode == 1
        assert result.stderr.strip().splitlines()[-1] == expected, result.stderr


@pytest.mark.docker
def test_the_state_dir_is_0700_and_every_file_in_it_0600(node: Node, shell: str) -> None:
    """Checked with a pod running (an emptyDir lives under pods/): the CA key, the token, the kubeconfig, the
    store and its WAL, the log, the pid and endpoint files, and whatever the kubelet keeps."""
    assert stat.S_IMODE(node.home.stat().st_mode) == 0o700
    # emptyDir contents belong to the containers; .kube is kubectl's cache (the tests give kubectl this HOME).
    files = [p for p in node.home.rglob("*") if p.is_file() and not {"volumes", ".kube"} & set(p.relative_to(node.home).parts)]
    names = {p.name for p in files}
    assert {"ca.key", "token", "kubeconfig", "state.db", "daemon.log", "daemon.pid", "server.key"} <= names
    assert {str(p.relative_to(node.home)): oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {
        str(p.relative_to(node.home)): "0o600" for p in files
    }


# --- (b) exec is argv, never a shell line ---------------------------------------------------------------------------

HOSTILE = ["x;touch pwned", "$(touch pwned-subst)", "`touch pwned-backquote`", "y && touch pwned-and", "z|touch pwned-pipe"]


@pytest.mark.docker
def test_exec_passes_its_arguments_as_argv_not_to_a_shell(node: Node, shell: str) -> None:
    exec_out(node, shell, "mkdir", "-p", "/tmp/exec")
    exec_out(node, shell, "touch", *[f"/tmp/exec/{name}" for name in HOSTILE])
    assert exec_out(node, shell, "ls", "-1", "/tmp/exec").splitlines() == sorted(HOSTILE)
    assert exec_out(node, shell, "echo", "; touch /tmp/pwned", "$(id)") == "; touch /tmp/pwned $(id)\n"
    probe = node.cli("exec", shell, "--", "ls", "/tmp/pwned")
    assert probe.returncode != 0  # nothing ran the `touch` after the semicolon


@pytest.mark.docker
def test_exec_probes_and_hooks_run_their_command_as_argv(node: Node, shell: str) -> None:
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: argv-probe}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: {BUSYBOX}
      command: ["sleep", "3600"]
      workingDir: /tmp
      lifecycle:
        postStart:
          exec: {{command: ["touch", "hook;touch pwned-by-hook"]}}
      readinessProbe:
        exec: {{command: ["touch", "probe;touch pwned-by-probe", "$(touch pwned-by-subst)"]}}
        periodSeconds: 1
"""
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    try:
        assert eventually(lambda: ready(node, "argv-probe"), timeout=60)
        listing = set(exec_out(node, "argv-probe", "ls", "-1", "/tmp").splitlines())
        assert {"hook;touch pwned-by-hook", "probe;touch pwned-by-probe", "$(touch pwned-by-subst)"} <= listing
        assert not listing & {"pwned-by-hook", "pwned-by-probe", "pwned-by-subst", "hook", "probe"}
    finally:
        node.cli("delete", "pod", "argv-probe", "--grace-period=1")


# --- (c) admission: what a pod may do to the host -------------------------------------------------------------------


def _pod(spec: str, name: str = "p") -> str:
    return f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n{spec}"


_APP = f"  containers:\n    - name: app\n      image: {BUSYBOX}\n"
REFUSED = {
    "privileged": (
        _APP + "      securityContext: {privileged: true}\n",
        'privileged (container "app" must not set securityContext.privileged=true)',
        HINT,
    ),
    "host-network": (
        "  hostNetwork: true\n" + _APP,
        "host namespaces (hostNetwork=true)",
        HINT,
    ),
    "host-pid-and-ipc": (
        "  hostPID: true\n  hostIPC: true\n" + _APP,
        "host namespaces (hostPID=true, hostIPC=true)",
        HINT,
    ),
    "host-path": (
        _APP + "  volumes:\n    - {name: etc, hostPath: {path: /etc}}\n",
        'hostPath volumes (volume "etc" mounts "/etc", outside the allowed directories)',
        HOST_PATH_HINT,
    ),
    "capabilities": (
        _APP + "      securityContext: {capabilities: {add: [NET_BIND_SERVICE, SYS_ADMIN, cap_net_admin]}}\n",
        'non-default capabilities (container "app" must not include "SYS_ADMIN", "cap_net_admin" in '
        "securityContext.capabilities.add)",
        HINT,
    ),
    "everything": (
        "  hostNetwork: true\n"
        f"  initContainers:\n    - name: init\n      image: {BUSYBOX}\n      securityContext: {{privileged: true}}\n"
        + _APP
        + "      securityContext: {privileged: true, capabilities: {add: [SYS_PTRACE]}}\n"
        + "  volumes:\n    - {name: root, hostPath: {path: /}}\n    - {name: dev, hostPath: {path: /dev}}\n",
        "host namespaces (hostNetwork=true), "
        'privileged (containers "init", "app" must not set securityContext.privileged=true), '
        'non-default capabilities (container "app" must not include "SYS_PTRACE" in securityContext.capabilities.add), '
        'hostPath volumes (volumes "root" mounts "/", "dev" mounts "/dev", outside the allowed directories)',
        HOST_PATH_HINT,
    ),
}


def forbidden_line(path: Path, reasons: str, hint: str) -> str:
    return (
        f'Error from server (Forbidden): error when creating "{path}": pods "p" is forbidden: '
        f"violates the node's pod security policy: {reasons}; {hint}"
    )


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_pod_asking_for_the_host_is_forbidden(node: Node, tmp_path: Path, case: str) -> None:
    spec, reasons, hint = REFUSED[case]
    path = tmp_path / "x.yml"
    path.write_text(_pod(spec))
    result = node.cli("create", "-f", str(path))
    assert result.returncode == 1
    assert result.stderr == forbidden_line(path, reasons, hint) + "\n"
    if kubectl_available():
        theirs = node.kubectl("create", "-f", str(path))
        assert (theirs.returncode, theirs.stderr) == (1, result.stderr)
    dry = node.cli("create", "--dry-run=server", "-f", str(path))  # admission runs before a dry run ends too
    assert dry.returncode == 1 and "is forbidden" in dry.stderr
    assert "p" not in stored_pods(node)


def test_apply_and_server_side_apply_are_forbidden_too(node: Node, tmp_path: Path) -> None:
    path = tmp_path / "x.yml"
    spec, reasons, hint = REFUSED["privileged"]
    path.write_text(_pod(spec))
    result = node.cli("apply", "-f", str(path))
    assert result.returncode == 1
    assert result.stderr.startswith("Error from server (Forbidden): error when ")
    assert result.stderr.endswith(f'pods "p" is forbidden: violates the node\'s pod security policy: {reasons}; {hint}\n')
    with http_client(node) as client:
        response = client.patch(
            f"{PODS}/p",
            content=path.read_bytes(),
            params={"fieldManager": "test"},
            headers={"Content-Type": "application/apply-patch+yaml"},
        )
    assert response.status_code == 403
    body = response.json()
    assert (body["reason"], body["details"]) == (
        "Forbidden",
        {
            "name": "p",
            "kind": "pods",
            "causes": [
                {
                    "reason": "FieldValueForbidden",
                    "message": f"Forbidden: {reasons}",
                    "field": "spec.containers[0].securityContext.privileged",
                }
            ],
        },
    )
    if kubectl_available():
        kubectl = node.kubectl("apply", "-f", str(path))
        assert kubectl.stderr == forbidden_line(path, reasons, hint) + "\n"
    assert "p" not in stored_pods(node)


def test_host_paths_outside_the_allowed_directories_are_forbidden(node: Node, allowed_dir: Path, tmp_path: Path) -> None:
    """A symlink under an allowed directory is followed before the check; `..` is refused by validation."""
    link = allowed_dir / "escape"
    link.symlink_to("/etc")
    try:
        for host_path, refusal in (
            (link / "passwd", f'volume "data" mounts "{link}/passwd", outside the allowed directories'),
            (Path(str(allowed_dir) + "-sibling"), f'volume "data" mounts "{allowed_dir}-sibling", outside the allowed'),
            (allowed_dir / ".." / "etc", "must not contain '..'"),
        ):
            manifest = _pod(_APP + f"  volumes:\n    - {{name: data, hostPath: {{path: '{host_path}'}}}}\n")
            result = node.cli("create", "-f", "-", stdin=manifest)
            assert result.returncode == 1
            assert refusal in result.stderr
    finally:
        link.unlink()
    assert "p" not in stored_pods(node)


@pytest.mark.docker
def test_a_host_path_under_an_allowed_directory_runs(node: Node, allowed_dir: Path, local_images: Any) -> None:
    data = allowed_dir / "data"
    data.mkdir()
    (data / "greeting").write_text("hello from the host\n")
    manifest = _pod(
        "  terminationGracePeriodSeconds: 1\n"
        + _APP
        + '      command: ["sh", "-c", "cat /data/greeting; sleep 3600"]\n'
        + "      volumeMounts: [{name: data, mountPath: /data}]\n"
        + f"  volumes:\n    - {{name: data, hostPath: {{path: {data}, type: Directory}}}}\n",
        name="allowed",
    )
    node.cli("apply", "-f", "-", stdin=manifest, check=True)
    try:
        assert eventually(lambda: "hello from the host" in node.cli("logs", "allowed").stdout, timeout=60)
    finally:
        node.cli("delete", "pod", "allowed", "--grace-period=1")


def test_the_policy_follows_symlinks_and_names_capabilities_either_way(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "inside").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "out").symlink_to("/etc")
    policy = PodSecurityPolicy(allowed_host_paths=(str(tmp_path / "inside"),))
    assert policy.allows_host_path(str(tmp_path / "real" / "sub"))  # the allowed path is itself resolved
    assert not policy.allows_host_path(str(tmp_path / "real" / "out"))
    assert not policy.allows_host_path("relative/path")
    spec = {"containers": [{"name": "a", "securityContext": {"capabilities": {"add": ["CAP_CHOWN", "kill", "CAP_SYS_ADMIN"]}}}]}
    (violation,) = policy.violations(spec)
    assert violation.detail == 'container "a" must not include "CAP_SYS_ADMIN" in securityContext.capabilities.add'
    assert PodSecurityPolicy(allow_privileged=True).violations({**spec, "hostPID": True}) == []


def test_an_admitted_pod_may_still_be_labelled_under_a_stricter_policy() -> None:
    """Only a changed spec is checked again: a pod admitted by a laxer node can be labelled or deleted."""
    spec: dict[str, Any] = {"hostNetwork": True, "containers": [{"name": "a"}]}
    pod: dict[str, Any] = {"metadata": {"name": "p"}, "spec": spec}
    PodSecurityPolicy().admit({"metadata": {"name": "p", "labels": {"x": "y"}}, "spec": spec}, old=pod)
    with pytest.raises(ForbiddenError, match="host namespaces"):
        PodSecurityPolicy().admit({**pod, "spec": {**spec, "hostPID": True}}, old=pod)


def _host_listener_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


NAMESPACES = ("net", "pid", "ipc", "uts")


def _namespaces(node: Node, pod: str) -> dict[str, str]:
    out = exec_out(node, pod, "sh", "-c", "for n in net pid ipc uts; do readlink /proc/self/ns/$n; done")
    return dict(zip(NAMESPACES, out.split(), strict=True))


def _docker_inspect(node: Node, pod: str, container: str) -> dict[str, Any]:
    ids = subprocess.run(
        [
            "docker", "ps", "-q",
            "--filter", f"label=io.minikubelet.instance={node.instance}",
            "--filter", f"label=io.minikubelet.pod.name={pod}",
            "--filter", f"label=io.minikubelet.container.name={container}",
        ],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert len(ids) == 1, ids
    details: list[dict[str, Any]] = json.loads(
        subprocess.run(["docker", "inspect", ids[0]], capture_output=True, check=True).stdout
    )
    return details[0]


@pytest.mark.docker
def test_with_allow_privileged_the_pod_really_gets_the_host(privileged_node: Node) -> None:
    """privileged, hostNetwork, hostPID and hostIPC are honoured on Docker: the container sees this process's own
    network, PID, IPC and UTS namespaces, the host's devices, and serves on the host's port; a plain pod on the
    same node is the control (its own namespaces, Docker's few devices).

    The privileged container runs as uid 1000: some engines (this project's VM among them) cannot give a root
    process every capability, and a privileged root container then fails to start whoever asks for it."""
    port = _host_listener_port()
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: hosted}}
spec:
  terminationGracePeriodSeconds: 1
  hostNetwork: true
  hostPID: true
  hostIPC: true
  containers:
    - name: main
      image: {BUSYBOX}
      command: ["sh", "-c", "mkdir /tmp/w && echo host > /tmp/w/index.html && exec httpd -f -p 127.0.0.1:{port} -h /tmp/w"]
      ports: [{{containerPort: {port}}}]
      securityContext: {{privileged: true, runAsUser: 1000}}
      readinessProbe:
        httpGet: {{host: 127.0.0.1, port: {port}, path: /index.html}}
        periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {{name: plain}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: {BUSYBOX}
      command: ["sleep", "3600"]
"""
    privileged_node.cli("apply", "-f", "-", stdin=manifest, check=True)
    try:
        assert eventually(lambda: ready(privileged_node, "hosted") and ready(privileged_node, "plain"), timeout=60)
        # The pod's server listens in this machine's network namespace.
        assert httpx.get(f"http://127.0.0.1:{port}/index.html", timeout=5, trust_env=False).text == "host\n"
        ours = {kind: os.readlink(f"/proc/self/ns/{kind}") for kind in NAMESPACES}
        assert _namespaces(privileged_node, "hosted") == ours
        plain = _namespaces(privileged_node, "plain")
        assert all(plain[kind] != ours[kind] for kind in NAMESPACES), plain
        assert exec_out(privileged_node, "hosted", "hostname").strip() == socket.gethostname()
        devices = {pod: len(exec_out(privileged_node, pod, "ls", "-1", "/dev").split()) for pod in ("hosted", "plain")}
        assert devices["hosted"] > devices["plain"] + 10, devices  # a privileged container sees the host's devices
        hosted = privileged_node.pod("hosted")
        assert hosted["status"]["podIP"] == hosted["status"]["hostIP"]
        assert hosted["spec"]["containers"][0]["ports"][0]["hostPort"] == port  # defaulted, as on a real cluster
        config = _docker_inspect(privileged_node, "hosted", "main")["HostConfig"]
        assert (config["Privileged"], config["PidMode"], config["IpcMode"], config["UTSMode"]) == (True, "host", "host", "host")
        sandbox = _docker_inspect(privileged_node, "hosted", "POD")["HostConfig"]
        assert (sandbox["NetworkMode"], sandbox["UTSMode"]) == ("host", "host")
    finally:
        for name in ("hosted", "plain"):
            privileged_node.cli("delete", "pod", name, "--grace-period=1")


@pytest.mark.docker
def test_security_context_user_capabilities_and_read_only_root(privileged_node: Node) -> None:
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: confined}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: {BUSYBOX}
      command: ["sleep", "3600"]
      securityContext:
        runAsUser: 1234
        runAsGroup: 5678
        readOnlyRootFilesystem: true
        allowPrivilegeEscalation: false
        capabilities: {{drop: [ALL], add: [NET_ADMIN]}}
"""
    privileged_node.cli("apply", "-f", "-", stdin=manifest, check=True)
    try:
        assert eventually(lambda: phase(privileged_node, "confined") == "Running", timeout=60)
        assert exec_out(privileged_node, "confined", "id", "-u").strip() == "1234"
        assert exec_out(privileged_node, "confined", "id", "-g").strip() == "5678"
        denied = privileged_node.cli("exec", "confined", "--", "touch", "/file")
        assert denied.returncode != 0 and "Read-only file system" in denied.stderr + denied.stdout
        config = _docker_inspect(privileged_node, "confined", "main")
        host = config["HostConfig"]
        assert (host["ReadonlyRootfs"], host["CapAdd"], host["CapDrop"]) == (True, ["NET_ADMIN"], ["ALL"])
        assert host["SecurityOpt"] == ["no-new-privileges"]
        assert config["Config"]["User"] == "1234:5678"
    finally:
        privileged_node.cli("delete", "pod", "confined", "--grace-period=1")


# --- (d) user text is data, never a Docker option -------------------------------------------------------------------

INJECTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "container name": ("spec.containers[0].name", {"name": "--privileged"}),
    "container name with =": ("spec.containers[0].name", {"name": "a=b"}),
    "label value": ("metadata.labels", {"labels": {"app": "--privileged"}}),
    "label value with newline": ("metadata.labels", {"labels": {"app": "a\n--privileged"}}),
    "label key with =": ("metadata.labels", {"labels": {"a=b": "c"}}),
    "env name with =": ("spec.containers[0].env[0].name", {"env": [{"name": "A=--privileged", "value": "x"}]}),
    "pod name": ("metadata.name", {"pod": "--privileged"}),
    "namespace": ("metadata.namespace", {"namespace": "--network=host"}),
}


@pytest.mark.parametrize("case", sorted(INJECTIONS))
def test_option_like_names_are_refused_by_validation(node: Node, case: str) -> None:
    field, change = INJECTIONS[case]
    container: dict[str, Any] = {"name": change.get("name", "app"), "image": BUSYBOX}
    if "env" in change:
        container["env"] = change["env"]
    metadata: dict[str, Any] = {"name": change.get("pod", "p"), "labels": change.get("labels", {})}
    if "namespace" in change:
        metadata["namespace"] = change["namespace"]
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": {"containers": [container]}}
    collection = f"/api/v1/namespaces/{metadata.get('namespace', 'default')}/pods"
    with http_client(node) as client:
        response = client.post(collection, json=body, params={"fieldValidation": "Strict"})
    assert response.status_code == 422, response.text
    assert field in response.json()["message"]
    assert "p" not in stored_pods(node)


@pytest.mark.docker
def test_env_and_args_reach_docker_as_data(node: Node, local_images: Any) -> None:
    """Environment names and values and arguments that look like options or hold `=` and newlines arrive in the
    container exactly as written, and Docker's configuration is untouched (no privilege, no host network); the
    pod's own labels are not passed to Docker at all (only minikubelet's, with validated names)."""
    value = "--privileged\nY=1 --network=host"
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "data", "labels": {"app": "data"}, "annotations": {"note": "--privileged\n--pid=host"}},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "main",
                    "image": BUSYBOX,
                    "command": ["sh", "-c", 'printf "%s|" "$@"; echo; sleep 3600', "sh", "--privileged", "--pid=host", "a=b"],
                    "env": [{"name": "--privileged", "value": "yes"}, {"name": "X", "value": value}],
                }
            ],
        },
    }
    node.cli("apply", "-f", "-", stdin=json.dumps(manifest), check=True)
    try:
        assert eventually(lambda: node.cli("logs", "data").stdout == "--privileged|--pid=host|a=b|\n", timeout=60)
        assert exec_out(node, "data", "sh", "-c", 'echo "$X"') == value + "\n"
        config = _docker_inspect(node, "data", "main")
        assert f"X={value}" in config["Config"]["Env"]
        assert "--privileged=yes" in config["Config"]["Env"]
        host = config["HostConfig"]
        assert (host["Privileged"], host["PidMode"], host["NetworkMode"].startswith("container:")) == (False, "", True)
        labels = config["Config"]["Labels"]  # ours, and the image's own
        assert "app" not in labels and "note" not in labels
        assert (labels["io.minikubelet.pod.name"], labels["io.minikubelet.container.name"]) == ("data", "main")
    finally:
        node.cli("delete", "pod", "data", "--grace-period=1")
