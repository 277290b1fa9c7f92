"""Behaviours acted out by real busybox containers (minikubelet/simulate/script.py), run directly on Docker and
probed from the host: the HTTP server's answers over time, an exec probe's exit codes, a tcpSocket port that
opens and closes, the exit, the OOM kill and each SIGTERM clause."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from docker.models.containers import Container

from minikubelet.simulate.behaviour import parse_behaviours
from minikubelet.simulate.script import BUSYBOX_IMAGE, busybox_container

pytestmark = pytest.mark.docker

RunContainer = Callable[..., Container]  # the `run_container` fixture of conftest.py

HTTP_LIVENESS = {"httpGet": {"path": "/healthz", "port": 8080}, "timeoutSeconds": 1}


def start(run_container: RunContainer, behaviour: str, **probes: Any) -> tuple[Container, dict[str, Any]]:
    """A busybox container acting out `behaviour` for a container `app` with `probes`; and its rewritten spec."""
    spec = busybox_container(
        {"name": "app", "image": "nginx", **{f"{kind}Probe": probe for kind, probe in probes.items()}},
        parse_behaviours([behaviour], ["app"])["app"],
    )
    assert spec["image"] == BUSYBOX_IMAGE == "minikubelet.local/busybox:1.35"
    memory = (spec.get("resources") or {}).get("limits", {}).get("memory")
    limits: dict[str, Any] = {}
    if memory is not None:
        assert memory.endswith("Mi")
        limits = {"mem_limit": f"{memory[:-2]}m", "memswap_limit": f"{memory[:-2]}m"}
    container = run_container(spec["image"], spec["command"], **limits)
    return container, spec


def started(container: Container) -> float:
    """The container's start (State.StartedAt) as a UNIX time."""
    container.reload()
    return datetime.fromisoformat(container.attrs["State"]["StartedAt"][:26].rstrip("Z") + "+00:00").timestamp()


def address(container: Container) -> str:
    container.reload()
    ip: str = container.attrs["NetworkSettings"]["IPAddress"]
    assert ip, "the container has no bridge address"
    return ip


def get(ip: str, kind: str = "liveness", path: str = "/healthz", timeout: float = 1.0) -> int | str:
    """The status code of GET http://ip:8080/path as the `kind` probe, or the name of the error."""
    connection = http.client.HTTPConnection(ip, 8080, timeout=timeout)
    try:
        connection.request("GET", path, headers={"X-Minikubelet-Probe": kind})
        return connection.getresponse().status
    except OSError as exc:
        return type(exc).__name__
    finally:
        connection.close()


def connects(ip: str, port: int) -> bool:
    try:
        socket.create_connection((ip, port), timeout=1).close()
        return True
    except OSError:
        return False


def first_change(check: Callable[[], Any], frm: Any, *, deadline: float) -> tuple[Any, float]:
    """Poll `check` until it answers something else than `frm`; (that answer, when, as a UNIX time)."""
    while time.time() < deadline:
        value = check()
        if value != frm:
            return value, time.time()
        time.sleep(0.05)
    raise AssertionError(f"still {frm!r} at the deadline")


def wait_exit(container: Container, timeout: float) -> dict[str, Any]:
    result: dict[str, Any] = container.wait(timeout=timeout)
    container.reload()
    state: dict[str, Any] = container.attrs["State"]
    assert result["StatusCode"] == state["ExitCode"]
    return state


def test_the_http_server_answers_as_the_faults_say_and_the_container_exits_at_its_time(run_container: RunContainer) -> None:
    container, _ = start(
        run_container,
        "listens after 1s; /healthz fails from 3s for 2s; readiness hangs; exits 3 at 7s",
        liveness=HTTP_LIVENESS,
        readiness={"httpGet": {"path": "/ready", "port": 8080}},
    )
    ip = address(container)
    begin = started(container)
    assert get(ip) == "ConnectionRefusedError", "nothing listens before 1 s"
    answer, at = first_change(lambda: get(ip), "ConnectionRefusedError", deadline=begin + 3)
    assert answer == 200 and 0.9 <= at - begin <= 1.5
    assert get(ip, path="/other") == 200, "the fault is on /healthz only"
    assert get(ip, kind="readiness", path="/ready", timeout=0.5) == "TimeoutError", "the readiness probe hangs"
    answer, at = first_change(lambda: get(ip), 200, deadline=begin + 5)
    assert answer == 500 and 2.9 <= at - begin <= 3.5
    answer, at = first_change(lambda: get(ip), 500, deadline=begin + 7)
    assert answer == 200 and 4.9 <= at - begin <= 5.5
    state = wait_exit(container, timeout=15)
    assert state["ExitCode"] == 3 and not state["OOMKilled"]
    ended = datetime.fromisoformat(state["FinishedAt"][:26].rstrip("Z") + "+00:00").timestamp()
    assert 6.9 <= ended - begin <= 7.6


def test_the_exec_probe_fails_inside_its_window_and_prints_nothing(run_container: RunContainer) -> None:
    container, spec = start(run_container, "readiness fails every 2s for 1s from 1s", readiness={"exec": {"command": ["false"]}})
    command = spec["readinessProbe"]["exec"]["command"]
    assert command == ["/bin/sh", "/tmp/sim-probe", "readiness"]
    begin = started(container)
    seen: list[tuple[float, int]] = []
    while time.time() < begin + 4.5:
        code, output = container.exec_run(command)
        assert output == b"", "the probe prints nothing"
        seen.append((time.time() - begin, code))
    inside = [code for at, code in seen if any(s + 0.2 < at < s + 0.8 for s in (1, 3))]
    outside = [code for at, code in seen if any(s + 0.2 < at < s + 0.8 for s in (0, 2, 4))]
    assert inside and set(inside) == {1}, seen
    assert outside and set(outside) == {0}, seen


def test_a_tcp_port_closes_during_its_fault_window(run_container: RunContainer) -> None:
    container, _ = start(run_container, ":9090 fails from 2s for 2s", liveness={"tcpSocket": {"port": 9090}})
    ip = address(container)
    begin = started(container)
    opened, at = first_change(lambda: connects(ip, 9090), False, deadline=begin + 2)
    assert opened and at - begin < 1.5
    closed, at = first_change(lambda: connects(ip, 9090), True, deadline=begin + 4)
    assert not closed and 1.9 <= at - begin <= 2.6
    reopened, at = first_change(lambda: connects(ip, 9090), False, deadline=begin + 6)
    assert reopened and 3.9 <= at - begin <= 4.6


def test_an_oom_kill_is_real(run_container: RunContainer) -> None:
    container, spec = start(run_container, "is OOM-killed at 1s")
    assert spec["resources"]["limits"]["memory"]
    state = wait_exit(container, timeout=20)
    assert (state["ExitCode"], state["OOMKilled"]) == (137, True)


@pytest.mark.parametrize(
    ("behaviour", "code", "least", "most"),
    [("listens after 0", 143, 0.0, 1.0), ("stops in 2s", 143, 1.9, 3.0), ("ignores SIGTERM", 137, 2.9, 4.0)],
)
def test_sigterm(run_container: RunContainer, behaviour: str, code: int, least: float, most: float) -> None:
    container, _ = start(run_container, behaviour, liveness=HTTP_LIVENESS)
    ip = address(container)
    assert first_change(lambda: get(ip), "ConnectionRefusedError", deadline=time.time() + 5)[0] == 200, "set up"
    before = time.monotonic()
    container.stop(timeout=3)  # SIGTERM, SIGKILL after 3 s
    took = time.monotonic() - before
    state = wait_exit(container, timeout=10)
    assert state["ExitCode"] == code
    assert least <= took <= most, took
