"""The local images built by `make images` (scripts/build-images.sh) behave as the demo and tests expect."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import docker
import httpx
import pytest
from docker.models.containers import Container

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("local_images")]

BUSYBOX_IMAGE = "minikubelet.local/busybox:1.35"
PAUSE_IMAGE = "minikubelet.local/pause:3.10"
ECHO_IMAGE = "minikubelet.local/echo:v1"

RunContainer = Callable[..., Container]


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def wait_exit(container: Container, timeout: float) -> dict[str, Any]:
    """Poll the container's state until it is no longer running; return that state."""

    def exited() -> bool:
        container.reload()
        return bool(container.attrs["State"]["Status"] == "exited")

    assert wait_for(exited, timeout), f"{container.name} still {container.attrs['State']['Status']}"
    state: dict[str, Any] = container.attrs["State"]
    return state


def is_running(container: Container) -> bool:
    container.reload()
    return bool(container.status == "running")


def run_to_completion(run_container: RunContainer, command: Any, timeout: float = 10) -> tuple[int, str]:
    container = run_container(BUSYBOX_IMAGE, command)
    state = wait_exit(container, timeout)
    return state["ExitCode"], container.logs().decode()


# --- busybox ---------------------------------------------------------------------------------------


def test_busybox_echo(run_container: RunContainer) -> None:
    code, out = run_to_completion(run_container, ["echo", "ok"])
    assert (code, out) == (0, "ok\n")


def test_busybox_applets_and_filesystem(run_container: RunContainer) -> None:
    script = (
        "ls /bin | wc -l; "
        "for a in sh ls cat sleep tar nc httpd wget ps whoami; do [ -x /bin/$a ] || echo missing $a; done; "
        "whoami; "
        "stat -c %a /tmp; "
        "touch /tmp/probe && echo tmp-writable"
    )
    code, out = run_to_completion(run_container, ["sh", "-c", script])
    assert code == 0, out
    lines = out.splitlines()
    assert int(lines[0]) > 200, out  # every applet is linked into /bin
    assert not [line for line in lines if line.startswith("missing")], out
    assert lines[1:] == ["root", "1777", "tmp-writable"], out


def test_busybox_default_command_is_sh(docker_client: docker.DockerClient) -> None:
    config = docker_client.images.get(BUSYBOX_IMAGE).attrs["Config"]
    assert config["Cmd"] == ["sh"]
    assert config["Labels"]["minikubelet.build-hash"]


# --- pause -----------------------------------------------------------------------------------------


def test_pause_exits_zero_on_sigterm(run_container: RunContainer) -> None:
    container = run_container(PAUSE_IMAGE)
    assert wait_for(lambda: is_running(container), 5)
    container.kill(signal="SIGTERM")
    state = wait_exit(container, 1.0)
    assert state["ExitCode"] == 0
    assert not state["OOMKilled"]


def test_pause_exits_zero_on_sigint(run_container: RunContainer) -> None:
    container = run_container(PAUSE_IMAGE)
    assert wait_for(lambda: is_running(container), 5)
    container.kill(signal="SIGINT")
    assert wait_exit(container, 1.0)["ExitCode"] == 0


def test_pause_reaps_orphans(run_container: RunContainer) -> None:
    """Processes orphaned in the pod's shared PID namespace are re-parented to pause, which reaps them."""
    pause = run_container(PAUSE_IMAGE)
    sidecar = run_container(BUSYBOX_IMAGE, ["sleep", "30"], pid_mode=f"container:{pause.id}")
    # The exec'd shell exits at once: its `sleep 0.1` child is orphaned, re-parented to PID 1 (pause)
    # and, once it exits, must be reaped rather than left as a zombie.
    code, _ = sidecar.exec_run(["sh", "-c", "sleep 0.1 & exit 0"])
    assert code == 0

    def no_orphan_left() -> bool:
        # `sleep 0.1` (running or zombie) must disappear; only `sleep 30` (the sidecar itself) remains.
        code, out = sidecar.exec_run(["sh", "-c", "cat /proc/[0-9]*/stat 2>/dev/null"])
        assert code == 0
        states = [line.split(") ")[1][0] for line in out.decode().splitlines() if "(sleep)" in line]
        return len(states) == 1 and "Z" not in states

    assert wait_for(no_orphan_left, 3, interval=0.05)
    pause.reload()
    assert pause.status == "running"


# --- echo ------------------------------------------------------------------------------------------


def test_echo_server(run_container: RunContainer) -> None:
    container = run_container(ECHO_IMAGE)
    container.reload()
    ip = container.attrs["NetworkSettings"]["IPAddress"]
    assert ip, "the echo container has no address on the default bridge"
    base = f"http://{ip}:3000"

    with httpx.Client(timeout=2.0) as client:
        first: httpx.Response | None = None

        def answers() -> bool:
            nonlocal first
            try:
                first = client.get(f"{base}/some/path?x=1", headers={"X-Test": "hello"})
            except httpx.TransportError:
                return False
            return True

        assert wait_for(answers, 10, interval=0.05), "the echo server did not answer within 10 s"
        assert first is not None
        assert first.status_code == 200
        assert first.headers["content-type"].startswith("text/plain")
        assert "GET /some/path?x=1 HTTP/1.1" in first.text
        assert "X-Test: hello" in first.text

        # The server keeps serving: other paths and methods answer too, and bodies are echoed.
        second = client.post(f"{base}/another/one", content=b"payload=42")
        assert second.status_code == 200
        assert "POST /another/one HTTP/1.1" in second.text
        assert "payload=42" in second.text

    def logged() -> bool:
        logs = container.logs().decode()
        return "GET /some/path?x=1 HTTP/1.1" in logs and "POST /another/one HTTP/1.1" in logs

    assert wait_for(logged, 5, interval=0.05), container.logs().decode()

    # A graceful stop is fast and clean (the entrypoint traps SIGTERM).
    container.kill(signal="SIGTERM")
    assert wait_exit(container, 2.0)["ExitCode"] == 0
