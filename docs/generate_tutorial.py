"""Regenerate docs/tutorial.md and docs/tutorial.ko.md from real runs of the tool.

Every command shown in the tutorial is run here, against a private node in a temporary MINIKUBELET_HOME on
the local Docker engine, and its real output is pasted under it; nothing in the output blocks is typed by
hand. The prose comes in English and Korean (the notes our users learn from are Korean); the outputs are
shared. Run it after `make install docker images`:

    .venv/bin/python docs/generate_tutorial.py

It takes about three minutes (it waits for real restarts and back-offs) and removes its pods and node at the end.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLI = str(ROOT / ".venv" / "bin" / "minikubelet")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


@dataclass
class Node:
    home: Path
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env = {**os.environ, "MINIKUBELET_HOME": str(self.home), "NO_COLOR": "1", "COLUMNS": "110", "TERM": "dumb"}

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([CLI, *args], env=self.env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)

    def pod(self, name: str) -> dict[str, Any] | None:
        result = self.run("get", "pod", name, "-o", "json")
        return json.loads(result.stdout) if result.returncode == 0 else None


def until(check: Callable[[], bool], what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise SystemExit(f"gave up waiting for {what}")


def status(node: Node, name: str) -> dict[str, Any]:
    pod = node.pod(name) or {}
    statuses = pod.get("status", {}).get("containerStatuses", [])
    return statuses[0] if statuses else {}


def ready(node: Node, name: str) -> Callable[[], bool]:
    return lambda: (
        bool((node.pod(name) or {}).get("status", {}).get("containerStatuses"))
        and all(c.get("ready") for c in (node.pod(name) or {})["status"]["containerStatuses"])
    )


def running(node: Node, name: str) -> Callable[[], bool]:
    return lambda: (node.pod(name) or {}).get("status", {}).get("phase") == "Running"


def gone(node: Node, name: str) -> Callable[[], bool]:
    return lambda: node.pod(name) is None


def restarted(node: Node, name: str, times: int) -> Callable[[], bool]:
    return lambda: status(node, name).get("restartCount", 0) >= times


def waiting_in(node: Node, name: str, reason: str) -> Callable[[], bool]:
    return lambda: status(node, name).get("state", {}).get("waiting", {}).get("reason") == reason


def unhealthy_events(node: Node, name: str, count: int) -> Callable[[], bool]:
    def check() -> bool:
        result = node.run("get", "events", "--field-selector", f"involvedObject.name={name},reason=Unhealthy", "-o", "json")
        return result.returncode == 0 and sum(e.get("count", 1) for e in json.loads(result.stdout)["items"]) >= count

    return check


# ------------------------------------------------------------------------------------------------ output


class Doc:
    def __init__(self) -> None:
        self.parts: dict[str, list[str]] = {"en": [], "ko": []}

    def say(self, en: str, ko: str) -> None:
        self.parts["en"].append(en.strip("\n") + "\n")
        self.parts["ko"].append(ko.strip("\n") + "\n")

    def block(self, text: str, lang: str = "") -> None:
        for parts in self.parts.values():
            parts.append(f"```{lang}\n{text.rstrip()}\n```\n")

    def write(self) -> None:
        for lang, name in (("en", "tutorial.md"), ("ko", "tutorial.ko.md")):
            (ROOT / "docs" / name).write_text("\n".join(self.parts[lang]))


def shown(args: tuple[str, ...]) -> str:
    return "$ minikubelet " + " ".join(f"'{a}'" if re.search(r"[\s;|&$]", a) else a for a in args)


def command(doc: Doc, node: Node, *args: str, expect_fail: bool = False) -> str:
    result = node.run(*args)
    if (result.returncode != 0) != expect_fail:
        raise SystemExit(f"minikubelet {' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    output = (result.stdout + result.stderr).rstrip()
    doc.block(f"{shown(args)}\n{output}" if output else shown(args))
    return output


def follow_logs(doc: Doc, node: Node, pod: str, requests: list[str]) -> None:
    """`logs -f` while a few requests reach the pod; stopped with Ctrl-C once they are shown."""
    process = subprocess.Popen(
        [CLI, "logs", "-f", pod], env=node.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        lines.append(process.stdout.readline())
        for path in requests:
            node.run("exec", pod, "--", "wget", "-q", "-O", "/dev/null", f"http://localhost:3000{path}")
            lines.append(process.stdout.readline())
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    doc.block(f"{shown(('logs', '-f', pod))}\n{''.join(lines).rstrip()}\n^C")


def terminal_session(doc: Doc, node: Node, args: tuple[str, ...], typed: list[str]) -> None:
    """An interactive `exec -it` in a pseudo-terminal: type each line after the prompt, show the screen."""
    pid, fd = os.forkpty()
    if pid == 0:  # the child: the real CLI on the terminal
        os.execve(CLI, [CLI, *args], {**node.env, "TERM": "xterm"})
    screen = ""

    def read_until(marker: str, start: int, timeout: float = 20) -> None:
        """Read the terminal until `marker` shows after `start` (or the session ends, or time runs out)."""
        nonlocal screen
        deadline = time.monotonic() + timeout
        while marker not in screen[start:] and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.2)[0]:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # the session ended
                    return
                if not chunk:
                    return
                screen += chunk.decode(errors="replace")

    try:
        read_until("# ", 0)
        for line in typed:
            mark = len(screen)
            os.write(fd, (line + "\n").encode())
            read_until("# " if line != "exit" else "\x00", mark, timeout=5 if line == "exit" else 20)
    finally:
        os.waitpid(pid, 0)
        os.close(fd)
    text = ANSI.sub("", screen)
    doc.block(f"{shown(args)}\n{text.strip()}")


# ------------------------------------------------------------------------------------------------ the tutorial


def tutorial(doc: Doc, node: Node) -> None:
    doc.say(
        """
# Pods with minikubelet: a walkthrough

This is the pods chapter of a Kubernetes course, done on one machine with minikubelet: run a pod, write it
as YAML, read its events, follow its logs, open a shell in it, delete it, and then watch what liveness,
readiness and startup probes do. Every output below is real: `docs/generate_tutorial.py` ran each command
and pasted what it printed (ages, IPs and IDs are that run's). `kubectl` prints the same, since minikubelet
serves the same API: `export KUBECONFIG=$(minikubelet kubeconfig)` and use `kubectl` instead.

The images are local stand-ins built by `make images` (no registry is needed):
`minikubelet.local/echo:v1` plays `ghcr.io/subicura/echo:v1`, an HTTP server on port 3000 that echoes
each request, and `minikubelet.local/busybox:1.35` is busybox.

## 1. Start the node

`minikubelet up` starts the node in the background: an API server, a scheduler and a kubelet in one
process, on the local Docker engine. Any command would start it too.
""",
        """
# minikubelet으로 배우는 Pod: 따라 하기

쿠버네티스 강의의 Pod 장을 minikubelet으로 한 대의 머신에서 그대로 해 봅니다. Pod을 실행하고, YAML로
작성하고, 이벤트를 읽고, 로그를 따라가고, 안에서 셸을 열고, 지운 다음, liveness·readiness·startup
프로브가 무엇을 하는지 지켜봅니다. 아래의 출력은 모두 진짜입니다: `docs/generate_tutorial.py`가 각 명령을
실행하고 출력된 내용을 그대로 붙였습니다(나이(AGE), IP, ID는 그때의 값입니다). minikubelet은 같은 API를
제공하므로 `kubectl`도 똑같이 출력합니다: `export KUBECONFIG=$(minikubelet kubeconfig)` 후 `kubectl`을 쓰면 됩니다.

이미지는 `make images`가 만든 로컬 대체 이미지입니다(레지스트리가 필요 없습니다).
`minikubelet.local/echo:v1`은 `ghcr.io/subicura/echo:v1` 역할로, 3000번 포트에서 요청을 그대로 돌려주는
HTTP 서버이고, `minikubelet.local/busybox:1.35`는 busybox입니다.

## 1. 노드 시작

`minikubelet up`은 노드를 백그라운드로 시작합니다: API 서버, 스케줄러, kubelet이 한 프로세스에서 로컬
Docker 엔진 위에 돕니다. 다른 명령을 실행해도 자동으로 시작됩니다.
""",
    )
    command(doc, node, "up")

    doc.say(
        """
## 2. A pod, quickly

`run` makes a pod with one container. The scheduler binds it to the node, the kubelet pulls (here: finds)
the image and starts the container.
""",
        """
## 2. Pod 빠르게 만들기

`run`은 컨테이너 하나짜리 Pod을 만듭니다. 스케줄러가 노드에 배정하고, kubelet이 이미지를 받고(여기서는
이미 있는 것을 찾고) 컨테이너를 시작합니다.
""",
    )
    command(doc, node, "run", "echo", "--image=minikubelet.local/echo:v1")
    until(ready(node, "echo"), "echo to be ready")
    command(doc, node, "get", "pod")
    doc.say(
        """
`describe` shows everything about the pod; the part to read first is **Events** at the bottom: what the
scheduler and the kubelet did, in order.
""",
        """
`describe`는 Pod의 모든 것을 보여 줍니다. 먼저 읽을 곳은 맨 아래의 **Events**입니다: 스케줄러와 kubelet이
무엇을 했는지 순서대로 나옵니다.
""",
    )
    command(doc, node, "describe", "pod/echo")
    command(doc, node, "delete", "pod/echo")
    until(gone(node, "echo"), "echo to be gone")

    doc.say(
        """
## 3. The same pod as YAML

A manifest says the same with a label added. Every object has `apiVersion`, `kind`, `metadata` and `spec`.
""",
        """
## 3. YAML로 같은 Pod 만들기

매니페스트로 같은 것을 표현하면서 label을 더했습니다. 모든 오브젝트에는 `apiVersion`, `kind`, `metadata`,
`spec`이 있습니다.
""",
    )
    doc.block((ROOT / "manifests" / "echo-pod.yml").read_text(), "yaml")
    command(doc, node, "apply", "-f", "manifests/echo-pod.yml")
    until(ready(node, "echo"), "echo to be ready")
    command(doc, node, "get", "pod", "-o", "wide")
    doc.say(
        """
`logs` prints what the container wrote; `logs -f` keeps following. Two requests from inside the pod show up
as they come (Ctrl-C stops following):
""",
        """
`logs`는 컨테이너가 출력한 내용을 보여 주고, `logs -f`는 계속 따라갑니다. Pod 안에서 보낸 요청 두 개가
들어오는 대로 찍힙니다(Ctrl-C로 멈춥니다):
""",
    )
    command(doc, node, "logs", "echo")
    follow_logs(doc, node, "echo", ["/hello", "/world"])
    doc.say(
        """
`exec -it` opens a shell inside the container:
""",
        """
`exec -it`는 컨테이너 안에서 셸을 엽니다:
""",
    )
    terminal_session(doc, node, ("exec", "-it", "echo", "--", "sh"), ["ls /", "ps", "exit"])
    command(doc, node, "delete", "-f", "manifests/echo-pod.yml")
    until(gone(node, "echo"), "echo to be gone")

    doc.say(
        """
## 4. Liveness: a probe that fails restarts the container

A liveness probe asks "is the container still working?". This one asks on a path and port that do not
exist, so every attempt fails; with `failureThreshold: 1` the first failure kills the container, which is
restarted with a growing back-off (10 s, 20 s, 40 s, ... up to 5 min): `CrashLoopBackOff`.
""",
        """
## 4. Liveness: 실패하는 프로브는 컨테이너를 재시작한다

liveness 프로브는 "컨테이너가 아직 정상으로 동작하는가?"를 묻습니다. 이 프로브는 존재하지 않는 경로와
포트에 묻기 때문에 매번 실패합니다. `failureThreshold: 1`이므로 첫 실패에서 컨테이너가 종료되고, 점점 길어지는
대기(10초, 20초, 40초, ... 최대 5분) 후에 재시작됩니다: `CrashLoopBackOff`.
""",
    )
    doc.block((ROOT / "manifests" / "echo-lp.yml").read_text(), "yaml")
    command(doc, node, "apply", "-f", "manifests/echo-lp.yml")
    until(restarted(node, "echo-lp", 2), "echo-lp to restart twice", timeout=240)
    until(waiting_in(node, "echo-lp", "CrashLoopBackOff"), "echo-lp to back off", timeout=120)
    command(doc, node, "get", "pod", "echo-lp")
    doc.say(
        """
The events tell the story: `Unhealthy` for each failed attempt (with the probe's own message), `Killing`,
and `BackOff` while the kubelet waits before the next start. `(x3 over 40s)` means the same event happened
3 times.
""",
        """
이벤트가 이야기를 들려줍니다: 실패한 시도마다 `Unhealthy`(프로브의 메시지 포함), `Killing`, 그리고 다음
시작 전까지 기다리는 동안 `BackOff`. `(x3 over 40s)`는 같은 이벤트가 40초 동안 3번 일어났다는 뜻입니다.
""",
    )
    command(doc, node, "describe", "pod/echo-lp")
    if node.run("timeline", "--help").returncode == 0:
        doc.say(
            """
`timeline` draws what happened over time: each probe attempt as a mark, the attempt that crossed the
threshold, the kills, the restarts and the back-off waits. (A real cluster has no such view.)
""",
            """
`timeline`은 시간에 따라 일어난 일을 그립니다: 각 프로브 시도, 임계값을 넘긴 시도, 종료, 재시작, 백오프
대기. (실제 클러스터에는 이런 화면이 없습니다.)
""",
        )
        command(doc, node, "timeline", "pod/echo-lp")
    if node.run("why", "--help").returncode == 0:
        doc.say(
            """
`why` tells the same story in sentences, from the same record: the rule that fired (here
`livenessProbe.failureThreshold`), what the app answered, how the container ended after the kill, and what
change would have avoided it. `why -o json` gives the same to scripts ([why.md](why.md)).
""",
            """
`why`는 같은 기록으로 같은 이야기를 문장으로 들려줍니다: 어떤 규칙이 작동했는지(여기서는
`livenessProbe.failureThreshold`), 앱이 무엇이라고 답했는지, 종료 명령 뒤에 컨테이너가 어떻게 끝났는지, 그리고
무엇을 바꾸면 피할 수 있었는지. `why -o json`은 같은 내용을 스크립트용으로 출력합니다([why.md](why.md)).
""",
        )
        command(doc, node, "why", "pod/echo-lp")
    command(doc, node, "delete", "pod/echo-lp", "--grace-period=1")

    doc.say(
        """
## 5. Readiness: a probe that fails keeps the pod out of service, without restarts

A readiness probe asks "may traffic come in?". On a closed port it always fails: the pod runs, READY stays
`0/1`, and the container is never restarted.
""",
        """
## 5. Readiness: 실패하는 프로브는 재시작 없이 Pod을 서비스에서 뺀다

readiness 프로브는 "트래픽을 받아도 되는가?"를 묻습니다. 닫힌 포트에 물으면 항상 실패합니다: Pod은
실행 중이지만 READY는 `0/1`에 머물고, 컨테이너는 재시작되지 않습니다.
""",
    )
    doc.block((ROOT / "manifests" / "echo-rp.yml").read_text(), "yaml")
    command(doc, node, "apply", "-f", "manifests/echo-rp.yml")
    until(running(node, "echo-rp"), "echo-rp to run")
    until(unhealthy_events(node, "echo-rp", 3), "three readiness failures", timeout=60)
    command(doc, node, "get", "pod", "echo-rp")
    command(doc, node, "get", "events", "--field-selector", "involvedObject.name=echo-rp")
    command(doc, node, "delete", "pod/echo-rp", "--grace-period=1")

    doc.say(
        """
## 6. Startup: protecting a slow start

This server needs 20 s before it answers. Liveness alone (`failureThreshold: 1`) would kill it at once. The
startup probe holds liveness and readiness back until it succeeds, allowing up to 30 × 10 s = 300 s.
""",
        """
## 6. Startup: 느린 시작 보호하기

이 서버는 응답하기까지 20초가 걸립니다. liveness만 있으면(`failureThreshold: 1`) 바로 종료시킬 것입니다.
startup 프로브는 성공할 때까지 liveness와 readiness를 막아 두며, 최대 30 × 10초 = 300초를 기다려 줍니다.
""",
    )
    doc.block((ROOT / "manifests" / "startup-probe.yml").read_text(), "yaml")
    command(doc, node, "apply", "-f", "manifests/startup-probe.yml")
    until(running(node, "slow-start"), "slow-start to run")
    command(doc, node, "get", "pod", "slow-start")
    until(ready(node, "slow-start"), "slow-start to be ready", timeout=120)
    command(doc, node, "get", "pod", "slow-start")
    command(doc, node, "get", "events", "--field-selector", "involvedObject.name=slow-start,reason=Unhealthy")
    command(doc, node, "delete", "pod/slow-start", "--grace-period=1")

    doc.say(
        """
## 7. tcpSocket probes

A `tcpSocket` probe only checks that the port accepts a connection.
""",
        """
## 7. tcpSocket 프로브

`tcpSocket` 프로브는 포트가 연결을 받는지만 확인합니다.
""",
    )
    doc.block((ROOT / "manifests" / "tcp-probe.yml").read_text(), "yaml")
    command(doc, node, "apply", "-f", "manifests/tcp-probe.yml")
    until(ready(node, "goproxy"), "goproxy to be ready", timeout=60)
    command(doc, node, "get", "pod", "goproxy")
    command(doc, node, "delete", "pod/goproxy", "--grace-period=1")

    doc.say(
        """
## 8. Named ports and httpHeaders

A probe may name its port (`port: http` is looked up in the container's `ports`) and send headers. The
echo server logs one line per request, so each probe shows up in the logs; `describe` prints the probes.
""",
        """
## 8. 이름 있는 포트와 httpHeaders

프로브는 포트를 이름으로 가리킬 수 있고(`port: http`는 컨테이너의 `ports`에서 찾습니다) 헤더를 보낼 수
있습니다. echo 서버는 요청마다 한 줄을 남기므로 프로브가 로그에 보입니다. `describe`는 프로브를 보여 줍니다.
""",
    )
    doc.block((ROOT / "manifests" / "named-port-headers.yml").read_text(), "yaml")
    command(doc, node, "apply", "-f", "manifests/named-port-headers.yml")
    until(ready(node, "probe-headers"), "probe-headers to be ready", timeout=60)
    output = node.run("describe", "pod/probe-headers").stdout
    probes = "\n".join(line for line in output.splitlines() if line.strip().startswith(("Liveness:", "Readiness:")))
    doc.block(f"$ minikubelet describe pod/probe-headers | grep -E 'Liveness|Readiness'\n{probes}")
    until(lambda: "GET /healthz" in node.run("logs", "probe-headers").stdout, "a liveness request in the logs", timeout=30)
    command(doc, node, "logs", "probe-headers")
    command(doc, node, "delete", "pod/probe-headers", "--grace-period=1")

    doc.say(
        """
## 9. Two containers, one pod

Containers of one pod share its network: the sidecar reaches the echo server on `localhost:3000`. Use `-c`
to pick a container.
""",
        """
## 9. 컨테이너 둘, Pod 하나

한 Pod의 컨테이너들은 네트워크를 공유합니다: 사이드카는 `localhost:3000`으로 echo 서버에 닿습니다. `-c`로
컨테이너를 고릅니다.
""",
    )
    doc.block((ROOT / "manifests" / "multi-container.yml").read_text(), "yaml")
    command(doc, node, "apply", "-f", "manifests/multi-container.yml")
    until(ready(node, "multi"), "multi to be ready", timeout=60)
    until(lambda: "from-sidecar" in node.run("logs", "multi", "-c", "sidecar").stdout, "the sidecar's request", timeout=30)
    command(doc, node, "get", "pod", "multi")
    command(doc, node, "logs", "multi", "-c", "sidecar", "--tail=9")
    command(doc, node, "exec", "multi", "-c", "sidecar", "--", "wget", "-q", "-O", "-", "http://localhost:3000/hi")
    command(doc, node, "delete", "pod/multi", "--grace-period=1")

    doc.say(
        """
## 10. Clean up

`down` stops the node. Pods would keep running in Docker and be adopted by the next `up`;
`--delete-pods` removes them first.
""",
        """
## 10. 정리

`down`은 노드를 멈춥니다. Pod은 Docker에서 계속 돌고 다음 `up`이 다시 맡지만, `--delete-pods`는 먼저
Pod을 지웁니다.
""",
    )
    command(doc, node, "down", "--delete-pods")


def main() -> None:
    if not Path(CLI).exists():
        raise SystemExit("run `make install` first")
    home = Path(tempfile.mkdtemp(prefix="tutorial-"))
    node = Node(home)
    doc = Doc()
    try:
        tutorial(doc, node)
    finally:
        node.run("down", "--delete-pods", timeout=120)
        shutil.rmtree(home, ignore_errors=True)
    doc.write()
    print("wrote docs/tutorial.md and docs/tutorial.ko.md", file=sys.stderr)


if __name__ == "__main__":
    main()
