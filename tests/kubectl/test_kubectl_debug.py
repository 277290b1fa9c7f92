"""The real kubectl 1.37 running `kubectl debug` against a real node: an ephemeral container in the echo pod,
in its network and (with --target) its process namespace, interactive on a pseudo-terminal or not; what the
pod then says about it (get, describe, logs); and an image that cannot be pulled."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from compare import agrees
from nodes import KUBECTL, Node, eventually
from terminal import Action, run_in_pty

ROOT = Path(__file__).resolve().parents[2]
BUSYBOX = "minikubelet.local/busybox:1.35"
ECHO_PORT = 3000  # minikubelet.local/echo:v1 answers HTTP there (images/echo)


@pytest.fixture(scope="module")
def node(kubectl_node: Node) -> Iterator[Node]:
    """The node with the echo pod running (deleted at the end of the module)."""
    kubectl_node.cli("delete", "pods", "--all", "--grace-period=0", "--force")
    applied = kubectl_node.kubectl("apply", "-f", str(ROOT / "manifests" / "echo-pod.yml"))
    assert applied.returncode == 0, applied.stderr
    try:
        ready = kubectl_node.kubectl("wait", "--for=condition=Ready", "pod/echo", "--timeout=60s", timeout=90)
        assert ready.returncode == 0, ready.stderr
        yield kubectl_node
    finally:
        kubectl_node.kubectl("delete", "pod", "echo", "--grace-period=1")


def kubectl_in_pty(node: Node, args: list[str], script: list[tuple[bytes, Action]], *, timeout: float = 60) -> tuple[int, bytes]:
    """kubectl `args` on a 40x100 pseudo-terminal, driven by `script` (terminal.run_in_pty)."""
    env = {**node.env, "KUBECONFIG": str(node.kubeconfig), "HOME": str(node.home)}
    return run_in_pty([KUBECTL, *args], env, script, timeout=timeout)


def status_of(node: Node, container: str) -> dict[str, object]:
    """The ephemeral container's status, as `kubectl get -o jsonpath` prints it ({} before there is one)."""
    path = f'{{.status.ephemeralContainerStatuses[?(@.name=="{container}")]}}'
    result = node.kubectl("get", "pod", "echo", "-o", f"jsonpath={path}")
    assert result.returncode == 0, result.stderr
    found: dict[str, object] = json.loads(result.stdout) if result.stdout else {}
    return found


def state_of(node: Node, container: str) -> dict[str, dict[str, object]]:
    state = status_of(node, container).get("state") or {}
    assert isinstance(state, dict)
    return state


def test_an_interactive_debugger_sees_the_targets_processes_and_reaches_the_app(node: Node) -> None:
    script = [
        (b"# ", b"ps -o pid,args\n"),
        (b"nc -ll -p 3000", f"wget -qO- localhost:{ECHO_PORT}/from-the-debugger\n".encode()),
        (b"GET /from-the-debugger HTTP/1.1", b"exit\n"),
    ]
    args = ["debug", "-it", "pod/echo", f"--image={BUSYBOX}", "--target=app", "--", "sh"]
    code, shown = kubectl_in_pty(node, args, script)
    assert code == 0, shown
    text = shown.decode(errors="replace")
    assert 'Targeting container "app".' in text
    match = re.search(r"Defaulting debug container name to (debugger-[a-z0-9]{5})\.", text)
    assert match is not None, text
    name = match.group(1)
    assert "If you don't see a command prompt, try pressing enter." in text
    assert "/entrypoint.sh" in text  # the echo container's processes: --target shares its process namespace
    assert "Host: localhost:3000" in text  # the echo server answered on the pod's own network
    reattach = f"'kubectl attach echo -c {name} -n default -i -t'"
    assert f"will not be restarted but may be reattached using {reattach} if it is still running" in text

    assert eventually(lambda: "terminated" in state_of(node, name), timeout=20)
    terminated = state_of(node, name)["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed")
    result = node.kubectl("get", "pod", "echo", "-o", "jsonpath={.status.ephemeralContainerStatuses[0].state}")
    assert result.returncode == 0 and "terminated" in json.loads(result.stdout), result.stdout

    logs = node.kubectl("logs", "echo", "-c", name)
    assert logs.returncode == 0, logs.stderr
    assert "GET /from-the-debugger HTTP/1.1" in logs.stdout  # the session's terminal, recorded in the container's log

    described = node.kubectl("describe", "pod", "echo")
    assert described.returncode == 0, described.stderr
    section = described.stdout.split("Ephemeral Containers:\n", 1)[1].split("\nConditions:", 1)[0]
    assert f"  {name}:\n" in section and "    State:          Terminated\n" in section
    assert f"spec.ephemeralContainers{{{name}}}: Container started" in described.stdout

    table = node.kubectl("get", "pod", "echo")
    assert table.stdout.split("\n")[1].split()[1:4] == ["1/1", "Running", "0"]  # READY and RESTARTS ignore it


def test_a_command_without_a_terminal(node: Node) -> None:
    plain = node.kubectl("debug", "pod/echo", f"--image={BUSYBOX}", "--", "true")
    assert plain.returncode == 0, plain.stderr
    match = re.fullmatch(r"Defaulting debug container name to (debugger-[a-z0-9]{5})\.\n", plain.stdout)
    assert match is not None, plain.stdout
    assert eventually(lambda: "terminated" in state_of(node, match.group(1)), timeout=20)
    assert state_of(node, match.group(1))["terminated"]["exitCode"] == 0

    result = node.kubectl("debug", "pod/echo", "-c", "once", f"--image={BUSYBOX}", "--", "sh", "-c", "echo ran in $HOSTNAME")
    assert (result.returncode, result.stdout) == (0, ""), result.stderr
    assert eventually(lambda: "terminated" in state_of(node, "once"), timeout=20)
    assert state_of(node, "once")["terminated"]["reason"] == "Completed"
    assert node.kubectl("logs", "echo", "-c", "once").stdout == "ran in echo\n"  # the pod's hostname: its sandbox
    assert node.cli("logs", "echo", "-c", "once").stdout == "ran in echo\n"  # ours knows ephemeral containers too
    again = node.kubectl("debug", "pod/echo", "-c", "once", f"--image={BUSYBOX}", "--", "true")
    assert again.returncode == 1
    assert again.stderr.startswith(
        'The Pod "echo" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "once" may not be '
        "changed\n"
    ), again.stderr


def test_an_image_that_cannot_be_pulled(node: Node) -> None:
    result = node.kubectl("debug", "pod/echo", "-c", "unpullable", "--image=nonexistent.invalid/x:1", "--", "true")
    assert result.returncode == 0, result.stderr

    def backing_off() -> bool:
        waiting = state_of(node, "unpullable").get("waiting") or {}
        return waiting.get("reason") == "ImagePullBackOff"

    assert eventually(backing_off, timeout=30)
    message = state_of(node, "unpullable")["waiting"]["message"]
    assert message.startswith('Back-off pulling image "nonexistent.invalid/x:1": ErrImagePull: '), message  # v1.32+
    events = node.kubectl("get", "events", "--field-selector", "involvedObject.fieldPath=spec.ephemeralContainers{unpullable}")
    assert "ErrImagePull" in events.stdout and "Back-off pulling image" in events.stdout, events.stdout
    assert node.kubectl("get", "pod", "echo", "-o", "jsonpath={.status.phase}").stdout == "Running"

    # Interactive, kubectl waits for the container to run, printing each reason it waits for, until interrupted.
    def interrupt(_terminal: int, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGINT)

    args = ["debug", "-it", "pod/echo", "-c", "unpullable-too", "--image=nonexistent.invalid/y:1", "--", "sh"]
    code, shown = kubectl_in_pty(node, args, [(b"Back-off pulling image", interrupt)])
    text = shown.decode(errors="replace")
    assert "container unpullable-too: " in text and "Back-off pulling image" in text, text
    assert code != 0 and "Internal error" not in text and "panic" not in text


def test_our_describe_agrees_with_kubectls(node: Node) -> None:
    assert "Ephemeral Containers:" in agrees(node, "describe", "pod", "echo").stdout


def test_a_copy_is_not_made_here(node: Node) -> None:
    # kubectl debug --copy-to creates its pod in protobuf, which this node does not decode (docs/differences.md).
    result = node.kubectl("debug", "pod/echo", "--copy-to=echo-copy", f"--image={BUSYBOX}", "--", "true")
    assert result.returncode == 1
    assert result.stderr.endswith(
        "Error from server (UnsupportedMediaType): the body of the request was in an unknown format - accepted media types "
        "include: application/json, application/yaml\n"
    ), result.stderr
