"""The busybox realisation of a behaviour (minikubelet/simulate/script.py): the shape of the generated script and
of the rewritten pod. tests/integration/test_simulate_script.py runs such containers on Docker."""

from __future__ import annotations

from typing import Any

import pytest

from minikubelet.simulate.behaviour import Behaviour, parse_behaviours
from minikubelet.simulate.script import (
    BUSYBOX_IMAGE,
    OOM_MEMORY_LIMIT,
    PROBE_HEADER,
    ScriptError,
    busybox_command,
    busybox_container,
    busybox_pod,
    rewrite_exec_probes,
)


def behaviour(value: str = "") -> Behaviour:
    return parse_behaviours([value] if value else [], ["app"])["app"]


def container(**probes: Any) -> dict[str, Any]:
    return {
        "name": "app",
        "image": "nginx",
        "args": ["--verbose"],
        "ports": [{"name": "http", "containerPort": 8080}],
        **{f"{kind}Probe": probe for kind, probe in probes.items()},
    }


HTTP = {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 5, "timeoutSeconds": 2}
TCP = {"tcpSocket": {"port": 9090}}
EXEC = {"exec": {"command": ["cat", "/tmp/healthy"]}}


def script(value: str = "", **probes: Any) -> str:
    command = busybox_command(behaviour(value), container(**probes))
    assert command[:2] == ["/bin/sh", "-c"] and len(command) == 3
    return command[2]


def verdict_branch(text: str, kind: str) -> list[str]:
    """The lines of /tmp/sim-verdict's `case` branch for `kind`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{kind})"))
    end = next(i for i in range(start, len(lines)) if lines[i].endswith(";;"))
    return lines[start : end + 1]


def test_the_default_behaviour_notes_its_start_traps_sigterm_and_runs_for_ever() -> None:
    text = script()
    lines = text.splitlines()
    assert lines[1:4] == ["read now _ </proc/uptime", 'echo "${now%.*}${now#*.}" >/tmp/sim-start', "trap 'exit 143' TERM"]
    assert lines[-1] == "while :; do sleep 3600 & wait $!; done"
    assert "nc -ll" not in text, "no probe uses a port"
    assert lines[4].startswith("printf '%s\\n' '# sh /tmp/sim-verdict KIND")
    assert [line for line in lines if line.endswith(("' >/tmp/sim-verdict", "' >/tmp/sim-http", "' >/tmp/sim-probe"))] == [
        "esac' >/tmp/sim-verdict"
    ], "no /tmp/sim-http or /tmp/sim-probe without a probe that needs it"
    both = script(liveness=HTTP, readiness=EXEC)
    for path in ("/tmp/sim-verdict", "/tmp/sim-http", "/tmp/sim-probe"):
        assert f"' >{path}\n" in both
    assert "cat " not in both and "chmod" not in both, "the files are written without starting a process"


@pytest.mark.parametrize(
    ("value", "trap"),
    [("", "trap 'exit 143' TERM"), ("ignores SIGTERM", "trap '' TERM"), ("stops in 2.5s", "trap 'sleep 2.5; exit 143' TERM")],
)
def test_the_sigterm_trap(value: str, trap: str) -> None:
    assert trap in script(value).splitlines()


def test_an_exit_waits_in_the_background_until_its_time() -> None:
    lines = script("exits 3 at 9.5s").splitlines()
    assert lines[-1] == "exit 3"
    assert "left=$(( 950 - (now - $(cat /tmp/sim-start)) ))" in lines
    assert lines[-2].endswith("& wait $!"), "a background sleep and wait, so that a SIGTERM trap runs at once"
    assert script("completes at 1s").splitlines()[-1] == "exit 0"


def test_an_oom_kill_holds_an_endless_line_in_memory() -> None:
    lines = script("exits 1 at 30s; oom at 5s").splitlines()
    assert lines[-1] == "exec tail /dev/zero"
    assert "left=$(( 500 - (now - $(cat /tmp/sim-start)) ))" in lines


def test_an_http_probe_gets_a_server_on_its_port_after_listens_after() -> None:
    text = script("listens after 5s", liveness=HTTP)
    assert "(sleep 5; exec nc -ll -p 8080 -e /bin/sh /tmp/sim-http) &" in text.splitlines()
    assert f"case $line in {PROBE_HEADER}:*" in text
    assert verdict_branch(text, "liveness") == [
        "liveness)",
        "  if [ $t -lt 500 ]; then echo refused",
        "  else echo ok",
        "  fi ;;",
    ]


def test_a_named_port_is_resolved() -> None:
    text = script(liveness={"httpGet": {"path": "/", "port": "http"}})
    assert "nc -ll -p 8080 -e /bin/sh /tmp/sim-http &" in text.splitlines()


def test_the_verdict_is_behaviour_answer_in_sh() -> None:
    text = script(
        "listens after 1s; /healthz hangs from 20s for 5s; liveness fails every 10s for 2s from 3s; "
        "probes fails until 2s; 10% of probes time out; 5% of probes fail",
        liveness=HTTP,
        readiness=EXEC,
    )
    assert verdict_branch(text, "liveness") == [
        "liveness)",
        "  if [ $t -lt 100 ]; then echo refused",
        "  elif { [ $t -ge 2000 ] && [ $t -lt 2500 ]; }; then echo hangs",
        "  elif { [ $t -ge 300 ] && [ $(( (t - 300) % 1000 )) -lt 200 ]; } || [ $t -lt 200 ]; then echo fails",
        "  elif [ $r -lt 1000 ]; then echo hangs",
        "  elif [ $r -lt 1500 ]; then echo fails",
        "  else echo ok",
        "  fi ;;",
    ]
    assert verdict_branch(text, "readiness") == [
        "readiness)",
        "  if [ $t -lt 100 ]; then echo refused",
        "  elif [ $t -lt 200 ]; then echo fails",
        "  elif [ $r -lt 1000 ]; then echo hangs",
        "  elif [ $r -lt 1500 ]; then echo fails",
        "  else echo ok",
        "  fi ;;",
    ], "the exec probe matches neither /healthz nor liveness"


def test_an_unconditional_fault_and_a_probe_without_faults() -> None:
    text = script("readiness hangs", liveness=EXEC, readiness=EXEC)
    assert verdict_branch(text, "liveness") == ["liveness) echo ok ;;"]
    assert verdict_branch(text, "readiness") == ["readiness)", "  if true; then echo hangs", "  else echo ok", "  fi ;;"]


def test_a_hanging_answer_sleeps_past_the_longest_timeout() -> None:
    text = script(liveness=HTTP, readiness={**EXEC, "timeoutSeconds": 7})
    assert text.count("hangs) exec sleep 17 ;;") == 2, "the HTTP server and the exec probe"


def test_the_exec_probe_prints_nothing() -> None:
    text = script(readiness=EXEC)
    probe = text.split("' >/tmp/sim-probe", 1)[0].rsplit("printf '%s\\n' '", 1)[1]
    assert probe.startswith("# sh /tmp/sim-probe KIND")
    assert "echo" not in probe and "printf" not in probe
    assert "ok) exit 0 ;;" in probe and "*) exit 1 ;;" in probe


def test_a_tcp_port_without_faults_listens_after_listens_after() -> None:
    text = script("listens after 2s", startup=TCP)
    assert "(sleep 2; exec nc -ll -p 9090 -e /bin/true) &" in text.splitlines()


def test_a_tcp_port_with_faults_is_opened_and_closed_by_a_loop() -> None:
    text = script(":9090 fails from 10s", liveness=TCP, readiness=TCP)
    assert "# port 9090: listening only while the liveness probe's verdict is ok" in text
    assert '    if [ "$(sh /tmp/sim-verdict liveness)" = ok ]; then' in text.splitlines()
    assert text.count("nc -ll -p 9090") == 1


def test_a_tcp_probe_on_the_http_servers_port_shares_it() -> None:
    text = script(liveness=HTTP, readiness={"tcpSocket": {"port": 8080}})
    assert text.count("nc -ll -p 8080") == 1


@pytest.mark.parametrize(
    ("value", "probes", "message"),
    [
        ("", {"liveness": {"grpc": {"port": 9000}}}, "cannot act out the grpc liveness probe"),
        ("", {"liveness": {"httpGet": {"port": 443, "scheme": "HTTPS"}}}, "cannot act out the HTTPS liveness probe"),
        ("", {"liveness": {"httpGet": {"port": "nope"}}}, "the liveness probe's port: port nope not found"),
        ("", {"liveness": {"periodSeconds": 3}}, "the liveness probe has no handler"),
        ("liveness hangs", {"liveness": TCP}, "cannot make the tcpSocket liveness probe hang"),
        ("5% of probes fail", {"liveness": TCP}, "cannot make the tcpSocket liveness probe fail or hang at random"),
        ("liveness fails", {"liveness": TCP, "readiness": TCP}, "the tcpSocket probes on port 9090 would answer differently"),
        ("readiness fails", {"liveness": HTTP, "readiness": {"tcpSocket": {"port": 8080}}}, "where the HTTP server"),
    ],
)
def test_what_busybox_cannot_act_out(value: str, probes: dict[str, Any], message: str) -> None:
    with pytest.raises(ScriptError, match="container app: ") as caught:
        busybox_command(behaviour(value), container(**probes))
    assert message in str(caught.value)


def test_rewrite_exec_probes() -> None:
    original = container(
        liveness=EXEC, readiness={"httpGet": {"path": "/", "port": 8080, "httpHeaders": [{"name": "A", "value": "b"}]}}
    )
    rewritten = rewrite_exec_probes(original)
    assert rewritten["livenessProbe"]["exec"] == {"command": ["/bin/sh", "/tmp/sim-probe", "liveness"]}
    assert rewritten["readinessProbe"]["httpGet"]["httpHeaders"] == [
        {"name": "A", "value": "b"},
        {"name": PROBE_HEADER, "value": "readiness"},
    ]
    assert original["livenessProbe"] == EXEC, "the original is left alone"
    assert original["readinessProbe"]["httpGet"]["httpHeaders"] == [{"name": "A", "value": "b"}]
    assert rewrite_exec_probes(rewritten) == rewritten, "rewriting twice changes nothing"


def test_busybox_container() -> None:
    rewritten = busybox_container(container(liveness=EXEC), behaviour("exits 1 at 2s"))
    assert rewritten["image"] == BUSYBOX_IMAGE
    assert "args" not in rewritten
    assert rewritten["command"][2].splitlines()[-1] == "exit 1"
    assert rewritten["livenessProbe"]["exec"]["command"] == ["/bin/sh", "/tmp/sim-probe", "liveness"]
    assert "resources" not in rewritten
    assert rewritten["ports"] == [{"name": "http", "containerPort": 8080}]


def test_an_oom_kill_brings_a_memory_limit_unless_there_is_one() -> None:
    assert busybox_container(container(), behaviour("oom at 1s"))["resources"] == {"limits": {"memory": OOM_MEMORY_LIMIT}}
    limited = {**container(), "resources": {"limits": {"memory": "64Mi", "cpu": "1"}}}
    assert busybox_container(limited, behaviour("oom at 1s"))["resources"] == {"limits": {"memory": "64Mi", "cpu": "1"}}


def test_busybox_pod_rewrites_every_container_and_keeps_the_rest() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "restartPolicy": "Always",
            "initContainers": [{"name": "init", "image": "alpine", "command": ["true"]}],
            "containers": [container(liveness=HTTP), {"name": "other", "image": "redis"}],
        },
    }
    behaviours = parse_behaviours(["app: /healthz fails from 5s", "init: completes at 1s"], ["init", "app", "other"])
    rewritten = busybox_pod(pod, behaviours)
    spec = rewritten["spec"]
    assert [c["name"] for c in spec["initContainers"]] == ["init"]
    assert [c["name"] for c in spec["containers"]] == ["app", "other"]
    assert {c["image"] for c in [*spec["initContainers"], *spec["containers"]]} == {BUSYBOX_IMAGE}
    assert spec["initContainers"][0]["command"][2].splitlines()[-1] == "exit 0"
    assert "elif [ $t -ge 500 ]; then echo fails" in spec["containers"][0]["command"][2] or (
        "if [ $t -ge 500 ]; then echo fails" in spec["containers"][0]["command"][2]
    )
    assert spec["containers"][1]["command"][2].splitlines()[-1].startswith("while :;"), "the default behaviour"
    assert rewritten["metadata"] == pod["metadata"] and spec["restartPolicy"] == "Always"
    assert pod["spec"]["containers"][1] == {"name": "other", "image": "redis"}, "the original is left alone"
    assert "initContainers" not in busybox_pod({"spec": {"containers": [{"name": "app"}]}}, {})["spec"]
