"""The real /usr/bin/kubectl (1.32) running the streaming commands against a real node: `logs` (follow,
previous, tail, since, timestamps, containers; kubectl's output equal to ours), `exec` into a chosen container
(on a pseudo-terminal too), `run` + `wait`, `cp` both ways (exec + tar). `port-forward` has its own module
(test_kubectl_port_forward.py)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nodes import CLI, KUBECTL, Node, eventually, kubectl_requests
from terminal import run_in_pty

pytestmark = pytest.mark.docker

BUSYBOX = "minikubelet.local/busybox:1.35"
ECHO_IMAGE = "minikubelet.local/echo:v1"
STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (.*)$")


@pytest.fixture
def node(kubectl_node: Node) -> Node:
    kubectl_node.cli("delete", "pods", "--all", "--grace-period=0", "--force")
    return kubectl_node


def start(node: Node, manifest: str, *names: str) -> None:
    """Apply `manifest` with kubectl and wait until the named pods are Ready."""
    applied = node.kubectl("apply", "-f", "-", stdin=manifest)
    assert applied.returncode == 0, applied.stderr
    ready = node.kubectl("wait", "--for=condition=Ready", *(f"pod/{n}" for n in names), "--timeout=60s", timeout=90)
    assert ready.returncode == 0, ready.stderr


def both(node: Node, *args: str) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """kubectl's run of `args` and ours, side by side."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        theirs, ours = pool.submit(node.kubectl, *args), pool.submit(node.cli, *args)
        return theirs.result(), ours.result()


def same_output(node: Node, *args: str) -> subprocess.CompletedProcess[str]:
    """kubectl's run of `args`, after checking that ours prints the same bytes and exits the same way."""
    theirs, ours = both(node, *args)
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr), args
    return theirs


def in_pty(node: Node, argv: list[str], script: list[tuple[bytes, bytes]], *, timeout: float = 60) -> tuple[int, bytes]:
    """`argv` on a 40x100 pseudo-terminal; each time the output since the last step shows `script[i][0]`, type
    `script[i][1]`. The exit code and everything the terminal showed."""
    env = {**node.env, "KUBECONFIG": str(node.kubeconfig), "HOME": str(node.home)}
    return run_in_pty(argv, env, list(script), timeout=timeout)


# --- logs -------------------------------------------------------------------------------------------------------

DUO = f"""apiVersion: v1
kind: Pod
metadata: {{name: duo}}
spec:
  initContainers:
    - {{name: setup, image: {BUSYBOX}, command: [sh, -c, "echo from-init"]}}
  containers:
    - {{name: a, image: {BUSYBOX}, env: [{{name: WHO, value: a}}], command: [sh, -c, "echo from-a; echo a-2; exec sleep 3600"]}}
    - {{name: b, image: {BUSYBOX}, env: [{{name: WHO, value: b}}], command: [sh, -c, "echo from-b; exec sleep 3600"]}}
"""


def test_logs_of_each_container_and_kubectls_own_choice_of_container(node: Node) -> None:
    start(node, DUO, "duo")
    defaulted = same_output(node, "logs", "duo")
    assert (defaulted.stdout, defaulted.stderr) == ("from-a\na-2\n", 'Defaulted container "a" out of: a, b, setup (init)\n')
    # kubectl picks the container itself: the request already names it.
    verbose = node.kubectl("logs", "duo", "-v=6")
    assert ("GET", "/api/v1/namespaces/default/pods/duo/log?container=a", 200) in kubectl_requests(verbose.stderr)
    assert same_output(node, "logs", "duo", "-c", "b").stdout == "from-b\n"
    assert same_output(node, "logs", "duo", "b").stdout == "from-b\n"  # the inline [CONTAINER] argument
    assert same_output(node, "logs", "duo", "-c", "setup").stdout == "from-init\n"
    # kubectl goes through the containers in a Go map's (random) order; ours: init containers first, as declared.
    theirs, ours = both(node, "logs", "duo", "--all-containers", "--prefix")
    assert ours.stdout == "[pod/duo/setup] from-init\n[pod/duo/a] from-a\n[pod/duo/a] a-2\n[pod/duo/b] from-b\n"
    assert sorted(theirs.stdout.splitlines()) == sorted(ours.stdout.splitlines())
    # A container the pod does not have is refused by kubectl itself, before any request for logs.
    wrong = same_output(node, "logs", "duo", "-c", "nope")
    expected = "error: container nope is not valid for pod duo out of: a, b, setup (init)\n"
    assert (wrong.returncode, wrong.stdout, wrong.stderr) == (1, "", expected)
    assert "/log" not in node.kubectl("logs", "duo", "-c", "nope", "-v=6").stderr


CHATTY = f"""apiVersion: v1
kind: Pod
metadata: {{name: chatty}}
spec:
  containers:
    - {{name: app, image: {BUSYBOX}, command: [sh, -c, "for i in 1 2 3 4 5; do echo line $i; done; exec sleep 3600"]}}
"""


def test_logs_tail_timestamps_and_byte_limits_print_what_ours_prints(node: Node) -> None:
    start(node, CHATTY, "chatty")
    lines = [f"line {i}" for i in range(1, 6)]
    assert same_output(node, "logs", "chatty").stdout.splitlines() == lines
    assert same_output(node, "logs", "chatty", "--tail=2").stdout == "line 4\nline 5\n"
    assert same_output(node, "logs", "chatty", "--limit-bytes=9").stdout == "line 1\nli"
    stamped = same_output(node, "logs", "chatty", "--timestamps").stdout.splitlines()
    matches = [STAMP.match(line) for line in stamped]
    assert [m.group(2) for m in matches if m] == lines  # RFC 3339 with nanoseconds, then the line
    assert same_output(node, "logs", "chatty", "--tail=1", "--timestamps").stdout == stamped[-1] + "\n"
    assert same_output(node, "logs", "pod/chatty", "--since-time=2000-01-01T00:00:00Z").stdout.splitlines() == lines


def test_logs_since_a_duration_or_a_time(node: Node) -> None:
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: slow}}
spec:
  containers:
    - {{name: app, image: {BUSYBOX}, command: [sh, -c, "echo early; sleep 8; echo late; exec sleep 3600"]}}
"""
    start(node, manifest, "slow")
    assert eventually(lambda: "late" in node.kubectl("logs", "slow").stdout, timeout=30)
    stamped = [STAMP.match(line) for line in node.kubectl("logs", "slow", "--timestamps").stdout.splitlines()]
    early, late = (datetime.fromisoformat(m.group(1)[:26] + "+00:00") for m in stamped if m)
    for run in (node.kubectl, node.cli):
        # A window that holds `late` (with 4 s or more to spare for the command to reach the server) but not `early`.
        window = int((datetime.now(UTC) - late).total_seconds()) + 5
        assert run("logs", "slow", f"--since={window}s").stdout == "late\n"
        middle = (early + timedelta(seconds=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert run("logs", "slow", f"--since-time={middle}").stdout == "late\n"
        assert run("logs", "slow", "--since=1h").stdout == "early\nlate\n"


def test_logs_follow_prints_new_lines_as_they_come_and_ends_with_the_container(node: Node) -> None:
    steps = "echo first; until [ -f /tmp/next ]; do sleep 0.1; done; echo second; until [ -f /tmp/end ]; do sleep 0.1; done"
    manifest = f"""apiVersion: v1
kind: Pod
metadata: {{name: stepper}}
spec:
  restartPolicy: Never
  containers:
    - {{name: app, image: {BUSYBOX}, command: [sh, -c, "{steps}; echo last"]}}
"""
    start(node, manifest, "stepper")
    env = {**node.env, "KUBECONFIG": str(node.kubeconfig), "HOME": str(node.home)}
    followers = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for argv in ([KUBECTL, "logs", "-f", "stepper"], [*CLI, "logs", "-f", "pod/stepper"])
    ]
    try:
        outputs = [f.stdout for f in followers if f.stdout is not None]
        assert [out.readline() for out in outputs] == ["first\n", "first\n"]
        assert [f.poll() for f in followers] == [None, None], "both still follow"
        node.kubectl("exec", "stepper", "--", "touch", "/tmp/next")
        assert [out.readline() for out in outputs] == ["second\n", "second\n"]
        assert [f.poll() for f in followers] == [None, None], "both still follow"
        node.kubectl("exec", "stepper", "--", "touch", "/tmp/end")
        assert [out.readline() for out in outputs] == ["last\n", "last\n"]
        assert [f.wait(timeout=30) for f in followers] == [0, 0], "the container's end ends them"
        assert [out.read() for out in outputs] == ["", ""]
    finally:
        for follower in followers:
            if follower.poll() is None:
                follower.kill()
            follower.communicate()
    assert eventually(lambda: node.pod("stepper")["status"].get("phase") == "Succeeded", timeout=30)
    assert same_output(node, "logs", "-f", "stepper").stdout == "first\nsecond\nlast\n"  # ended: all of it, at once


def counting_pod(name: str, script: str) -> str:
    """A pod whose container keeps a count of its runs in an emptyDir (`$n` in `script` is this run's number)."""
    count = f"n=$(($(cat /data/n 2>/dev/null || echo 0) + 1)); echo $n > /data/n; {script}"
    return f"""apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  volumes: [{{name: data, emptyDir: {{}}}}]
  containers:
    - name: app
      image: {BUSYBOX}
      command: [sh, -c, "{count}"]
      volumeMounts: [{{name: data, mountPath: /data}}]
"""


def test_logs_previous_after_a_restart_and_in_a_crash_loop(node: Node) -> None:
    looping = counting_pod("looping", "echo run $n; exit 1")
    applied = node.kubectl(
        "apply",
        "-f",
        "-",
        stdin=counting_pod("twice", "echo run $n; [ $n -gt 1 ] && exec sleep 3600; exit 1") + "---\n" + looping,
    )
    assert applied.returncode == 0, applied.stderr

    def second_run_running() -> bool:
        status = json.loads(node.kubectl("get", "pod", "twice", "-o", "jsonpath={.status.containerStatuses[0]}").stdout or "{}")
        return status.get("restartCount") == 1 and "running" in status.get("state", {})

    assert eventually(second_run_running, timeout=60)
    assert same_output(node, "logs", "twice").stdout == "run 2\n"
    assert same_output(node, "logs", "twice", "--previous").stdout == "run 1\n"
    assert same_output(node, "logs", "twice", "-p", "--timestamps").stdout.endswith(" run 1\n")

    # Backing off after a crash: the current logs are the last run's, and so are the previous ones.
    def restarts_if_backing_off() -> int | None:
        status = node.kubectl("get", "pod", "looping", "-o", "jsonpath={.status.containerStatuses[0]}").stdout
        return json.loads(status)["restartCount"] if '"CrashLoopBackOff"' in status else None

    def last_run_twice() -> bool:
        restarts = restarts_if_backing_off()
        if restarts is None or restarts < 1:
            return False
        current, previous = same_output(node, "logs", "looping"), same_output(node, "logs", "looping", "--previous")
        if restarts_if_backing_off() != restarts:  # a back-off ended meanwhile (a slow machine): look again
            return False
        assert current.stdout == previous.stdout == f"run {restarts + 1}\n"
        return True

    assert eventually(last_run_twice, timeout=60)

    start(node, CHATTY, "chatty")
    none = same_output(node, "logs", "chatty", "--previous")
    assert (none.returncode, none.stdout) == (1, "")
    assert none.stderr == 'Error from server (BadRequest): previous terminated container "app" in pod "chatty" not found\n'


# --- exec -------------------------------------------------------------------------------------------------------


def test_exec_into_a_chosen_container_and_exit_codes(node: Node) -> None:
    start(node, DUO, "duo")
    assert same_output(node, "exec", "duo", "-c", "b", "--", "sh", "-c", "echo $WHO").stdout == "b\n"
    defaulted = same_output(node, "exec", "duo", "--", "sh", "-c", "echo $WHO")
    assert (defaulted.stdout, defaulted.stderr) == ("a\n", 'Defaulted container "a" out of: a, b, setup (init)\n')
    quiet = same_output(node, "exec", "-q", "duo", "--", "sh", "-c", "echo $WHO")
    assert (quiet.stdout, quiet.stderr) == ("a\n", "")
    failed = same_output(node, "exec", "duo", "-c", "b", "--", "sh", "-c", "echo $WHO >&2; exit 7")
    assert (failed.returncode, failed.stdout, failed.stderr) == (7, "", "b\ncommand terminated with exit code 7\n")
    for run in (node.kubectl, node.cli):
        piped = run("exec", "-i", "duo", "-c", "b", "--", "sh", "-c", "tr a-z A-Z; exit 2", stdin="shout\n")
        assert (piped.returncode, piped.stdout, piped.stderr) == (2, "SHOUT\n", "command terminated with exit code 2\n")


@pytest.mark.parametrize("client", [KUBECTL, "minikubelet"])
def test_exec_it_on_a_terminal_with_ctrl_c_and_an_exit_code(node: Node, client: str) -> None:
    start(node, DUO, "duo")
    argv = [KUBECTL] if client == "kubectl" else list(CLI)
    script = [
        (b"# ", b"echo $WHO-$((6*7))\n"),
        (b"b-42", b"echo $((1000+234)); sleep 600\n"),
        (b"1234", b"\x03"),  # Ctrl-C reaches the remote terminal: the running sleep ends, not the session
        (b"# ", b"echo back\n"),
        (b"back", b"exit 3\n"),
    ]
    code, shown = in_pty(node, [*argv, "exec", "-it", "duo", "-c", "b", "--", "sh"], script)
    assert code == 3, shown  # (a sleep that Ctrl-C did not end would have held the session past in_pty's minute)
    assert b"b-42\r\n" in shown and b"back\r\n" in shown
    assert shown.endswith(b"command terminated with exit code 3\r\n")


# --- run, wait, cp ----------------------------------------------------------------------------------------------


def test_run_then_wait_for_ready_and_for_delete(node: Node) -> None:
    run = node.kubectl("run", "echo", f"--image={ECHO_IMAGE}")
    assert (run.returncode, run.stdout) == (0, "pod/echo created\n"), run.stderr
    ready = node.kubectl("wait", "--for=condition=Ready", "pod/echo", "--timeout=30s", timeout=60)
    assert (ready.returncode, ready.stdout) == (0, "pod/echo condition met\n"), ready.stderr
    assert node.pod("echo")["status"]["phase"] == "Running"
    deleting = node.kubectl("delete", "pod", "echo", "--wait=false")
    assert (deleting.returncode, deleting.stdout) == (0, 'pod "echo" deleted from default namespace\n'), deleting.stderr
    gone = node.kubectl("wait", "--for=delete", "pod/echo", "--timeout=30s", timeout=60)
    assert gone.returncode == 0, gone.stderr
    assert node.kubectl("get", "pod", "echo").stderr == 'Error from server (NotFound): pods "echo" not found\n'
    never = """apiVersion: v1
kind: Pod
metadata: {name: stuck}
spec:
  containers:
    - {name: app, image: minikubelet.local/absent:1, imagePullPolicy: Never}
"""
    assert node.kubectl("apply", "-f", "-", stdin=never).returncode == 0
    late = node.kubectl("wait", "--for=condition=Ready", "pod/stuck", "--timeout=2s", timeout=30)
    assert (late.returncode, late.stderr) == (1, "error: timed out waiting for the condition on pods/stuck\n")


def test_cp_into_and_out_of_a_container(node: Node, tmp_path: Path) -> None:
    start(node, DUO, "duo")
    data = os.urandom(300_000)
    local = tmp_path / "data.bin"
    local.write_bytes(data)
    copied_in = node.kubectl("cp", str(local), "duo:/tmp/data.bin", "-c", "b")
    assert copied_in.returncode == 0, copied_in.stderr
    summed = node.kubectl("exec", "duo", "-c", "b", "--", "md5sum", "/tmp/data.bin")
    assert summed.stdout.split()[0] == hashlib.md5(data).hexdigest()
    made = node.kubectl("exec", "duo", "-c", "b", "--", "sh", "-c", "printf 'made inside\\n' > /tmp/inside.txt")
    assert made.returncode == 0, made.stderr
    out = tmp_path / "inside.txt"
    copied_out = node.kubectl("cp", "duo:/tmp/inside.txt", str(out), "-c", "b")
    assert copied_out.returncode == 0, copied_out.stderr
    assert out.read_bytes() == b"made inside\n"
    back = tmp_path / "back.bin"
    assert node.kubectl("cp", "duo:/tmp/data.bin", str(back), "-c", "b").returncode == 0
    assert back.read_bytes() == data
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "top.txt").write_text("top\n")
    (tree / "sub" / "deep.txt").write_text("deep\n")
    assert node.kubectl("cp", str(tree), "duo:/tmp/tree").returncode == 0  # the default container, a
    listed = node.kubectl("exec", "duo", "-c", "a", "--", "find", "/tmp/tree", "-type", "f")
    assert sorted(listed.stdout.split()) == ["/tmp/tree/sub/deep.txt", "/tmp/tree/top.txt"]
    assert node.kubectl("exec", "duo", "-c", "a", "--", "cat", "/tmp/tree/sub/deep.txt").stdout == "deep\n"
