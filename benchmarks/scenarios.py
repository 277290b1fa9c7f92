"""The suite's scenarios. Each one returns a `Result`: its series, which of them is the baseline, its target.

Where there is a baseline it runs in the same process run as minikubelet, alternating (`harness.alternate`),
after one unrecorded warm-up of each side. Every scenario removes what it made before it returns.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from harness import (
    BUSYBOX,
    ECHO,
    Cleanup,
    DockerBaseline,
    EventTracker,
    Node,
    Podman,
    PodTracker,
    Series,
    Watch,
    alternate,
    event_name_time,
    log,
    pod_manifest,
    run_child,
)
from profiling import Profile

from minikubelet import daemon
from minikubelet.kubelet import nodestatus

PODS = "/api/v1/namespaces/default/pods"
#: The kubectl the suite compares with: the one `make install` puts beside this interpreter (kubectl 1.37).
KUBECTL = str(Path(sys.executable).with_name("kubectl")) if Path(sys.executable).with_name("kubectl").exists() else "kubectl"
BENCHMARKS = Path(__file__).resolve().parent
# minikubelet calls the blocking Docker SDK through asyncio.to_thread, i.e. the loop's default executor: the
# daemon's ENGINE_THREADS threads (asyncio's own default, min(32, CPUs + 4), in versions without it). The burst
# baseline gets the same number of threads.
CONCURRENCY = getattr(daemon, "ENGINE_THREADS", min(32, (os.cpu_count() or 1) + 4))


@dataclass
class Result:
    key: str
    title: str
    method: str
    series: list[Series]
    target: str
    verdict: str  # the figure the target is judged on, e.g. "1.08x" or "812 ms"
    met: bool | None  # None: no target, or not judged
    baseline: str | None = None  # label of the baseline series, for the ratio column
    subject: str | None = None  # label of the minikubelet series compared with it
    notes: list[str] = field(default_factory=list)
    profile: Profile | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def ratio(self) -> float | None:
        if self.baseline is None or self.subject is None:
            return None
        by_label = {s.label: s for s in self.series}
        return by_label[self.subject].median / by_label[self.baseline].median


@dataclass
class Context:
    """What a scenario needs: repetitions, the run's cleanup stack, and the shared node and baselines."""

    stack: Cleanup
    workdir: Path
    reps: int
    profile: bool = False  # record a py-spy profile of minikubelet's side (a re-run of a missed target)
    _node: Node | None = None
    _docker: DockerBaseline | None = None
    _podman: Podman | None = None

    def node(self) -> Node:
        if self._node is None:
            home = Path(tempfile.mkdtemp(prefix="bench-node-", dir=self.workdir))
            node = Node(home)
            self.stack.callback(shutil.rmtree, home, ignore_errors=True)
            self.stack.callback(node.down)
            node.up()
            self._node = node
        return self._node

    def docker(self) -> DockerBaseline:
        if self._docker is None:
            self._docker = DockerBaseline()
            self.stack.callback(self._docker.close)
        return self._docker

    def podman(self) -> Podman:
        if self._podman is None:
            podman = Podman(self.workdir / "podman")
            self.stack.callback(podman.close)
            podman.load_images()
            self._podman = podman
        return self._podman


def _ms(seconds: float) -> float:
    return seconds * 1000


def _tracker(ctx: Context, stack: contextlib.ExitStack, scenario: str) -> PodTracker:
    tracker = PodTracker(ctx.node(), f"bench={scenario}")
    stack.callback(tracker.watch.stop)
    return tracker


def _profiled(ctx: Context, stack: contextlib.ExitStack, name: str) -> Profile | None:
    """With `ctx.profile`, a py-spy recording of the daemon for the rest of the scenario."""
    if not ctx.profile:
        return None
    profile = Profile.attach(ctx.node().pid, ctx.workdir / f"profile-{name}.txt")
    stack.callback(profile.stop)
    return profile


# --- 1. pod start: minikubelet's API against the Docker SDK ---------------------------------------------------


def pod_start(ctx: Context) -> Result:
    node, baseline = ctx.node(), ctx.docker()
    ours = Series("minikubelet: create (API) -> phase Running (watch)")
    theirs = Series("Docker SDK: run -d pause, run -d --network container: app")
    with contextlib.ExitStack() as stack:
        tracker = _tracker(ctx, stack, "start")
        profile = _profiled(ctx, stack, "pod-start")

        def minikubelet(name: str, series: Series | None) -> None:
            started = time.monotonic()
            node.client.request("POST", PODS, body=pod_manifest(name, {"bench": "start", "bench-pod": name}))
            seen = tracker.wait_running([name], timeout=120)[0]
            if series is not None:
                series.add(_ms(seen.monotonic - started))
            node.delete_pods(f"bench-pod={name}")

        def docker_run(name: str, series: Series | None) -> None:
            started = time.monotonic()
            ids = baseline.start_pod(name)
            if series is not None:
                series.add(_ms(time.monotonic() - started))
            baseline.remove(ids)

        minikubelet("start-warm", None)
        docker_run("start-warm", None)
        for rep in range(ctx.reps):
            name = f"start-{rep:02d}"
            alternate(rep, partial(minikubelet, name, ours), partial(docker_run, name, theirs))
    ratio = ours.median / theirs.median
    return Result(
        key="pod-start",
        title="Pod start against raw Docker",
        method=(
            "One pod with one container (local busybox image, `imagePullPolicy: IfNotPresent`). minikubelet: "
            "`POST` of the pod through the API client, until a watch (opened before, in this process) delivers "
            "the pod with `status.phase: Running`. Baseline: what `docker run -d` does, through the same "
            "Docker SDK (docker-py) in this process: `containers.run` of the pause image, then of the app with "
            "`network_mode=container:<pause>`. Each repetition's pod and containers are removed before the next."
        ),
        series=[ours, theirs],
        target="minikubelet median ≤ 1.2x the baseline",
        verdict=f"{ratio:.2f}x",
        met=ratio <= 1.2,
        baseline=theirs.label,
        subject=ours.label,
        profile=profile,
    )


# --- 2. peer: minikubelet's CLI against podman kube play ---------------------------------------------------------


def peer(ctx: Context) -> Result:
    node, podman = ctx.node(), ctx.podman()
    ours = Series("minikubelet apply -f (CLI) -> phase Running")
    theirs = Series("podman kube play -> pod Running")
    command = Series("of which the `minikubelet apply` command itself (until it exits)")
    files = ctx.workdir / "peer"
    files.mkdir(exist_ok=True)
    polled = 0
    with contextlib.ExitStack() as stack:
        tracker = _tracker(ctx, stack, "peer")
        profile = _profiled(ctx, stack, "peer")

        def manifest(name: str) -> Path:
            path = files / f"{name}.yml"
            path.write_text(yaml.safe_dump(pod_manifest(name, {"bench": "peer", "bench-pod": name}), sort_keys=False))
            return path

        def minikubelet(name: str, series: Series | None) -> None:
            path = manifest(name)
            started = time.monotonic()
            applied = node.cli("apply", "-f", str(path))
            exited = time.monotonic()
            if applied.returncode:
                raise SystemExit(f"minikubelet apply failed:\n{applied.stderr}")
            seen = tracker.wait_running([name], timeout=120)[0]
            if series is not None:
                series.add(_ms(seen.monotonic - started))
                command.add(_ms(exited - started))
            node.delete_pods(f"bench-pod={name}")

        def kube_play(name: str, series: Series | None) -> None:
            nonlocal polled
            path = manifest(name)
            started = time.monotonic()
            podman.run("kube", "play", str(path))
            ended = time.monotonic()
            # `kube play` returns once it has started the pod's containers; poll only if it did not.
            deadline = time.monotonic() + 60
            while podman.pod_state(name) != "Running":
                if time.monotonic() > deadline:
                    raise SystemExit(f"podman pod {name} did not run")
                time.sleep(0.01)
                ended = time.monotonic()
                polled += 1
            if series is not None:
                series.add(_ms(ended - started))
            podman.run("kube", "down", str(path))

        minikubelet("peer-warm", None)
        kube_play("peer-warm", None)
        for rep in range(ctx.reps):
            name = f"peer-{rep:02d}"
            alternate(rep, partial(minikubelet, name, ours), partial(kube_play, name, theirs))
    notes = [f"podman {podman.version()}; `kube play` had returned before its pod ran {polled} time(s)."]
    return Result(
        key="peer",
        title="Pod start against podman kube play",
        method=(
            "The same pod manifest, from a file, through each tool's own command line (both pay their CLI's "
            "start-up). minikubelet: `minikubelet apply -f pod.yml` until the watch delivers phase Running. "
            "podman (Debian's, runc, cgroupfs, its own storage with the local images loaded by "
            "`docker save | podman load`): `podman kube play pod.yml` until `podman pod inspect` says Running "
            "(`kube play` returns after starting the containers, so that is one check), then `podman kube down`."
        ),
        series=[ours, theirs, command],
        target="minikubelet faster (median below podman's)",
        verdict=f"{ours.median / theirs.median:.2f}x",
        met=ours.median < theirs.median,
        baseline=theirs.label,
        subject=ours.label,
        notes=notes,
        profile=profile,
    )


# --- 3. node cold start ----------------------------------------------------------------------------------------


def cold_start(ctx: Context) -> Result:
    fresh = Series("minikubelet up, new home (makes the CA and certificates)")
    again = Series("minikubelet up, existing home (node stopped before)")
    warm_home = Path(tempfile.mkdtemp(prefix="bench-cold-", dir=ctx.workdir))
    warm = Node(warm_home)
    profile: Profile | None = None

    def once(node: Node, series: Series | None) -> None:
        nonlocal profile
        try:
            if ctx.profile and profile is None and node is warm:
                out = ctx.workdir / "profile-cold-start.txt"
                profile = Profile.run_command([sys.executable, "-m", "minikubelet", "up"], out, env=node.env, duration=15)
                took = profile.seconds
            else:
                took = node.up()
            if series is not None:
                series.add(_ms(took))
        finally:
            node.down()

    def new_home(series: Series | None) -> None:
        home = Path(tempfile.mkdtemp(prefix="bench-cold-", dir=ctx.workdir))
        try:
            once(Node(home), series)
        finally:
            shutil.rmtree(home, ignore_errors=True)

    try:
        once(warm, None)
        new_home(None)
        for rep in range(ctx.reps):
            alternate(rep, lambda: new_home(fresh), lambda: once(warm, again))
    finally:
        shutil.rmtree(warm_home, ignore_errors=True)
    worst = max(fresh.median, again.median)
    up_imports = "from minikubelet.cli.main import build_app; build_app(['up'])"  # what `minikubelet up` imports
    cli_imports = import_times([sys.executable, "-X", "importtime", "-c", up_imports], warm.env)
    daemon_imports = import_times([sys.executable, "-X", "importtime", "-c", "import minikubelet.daemon"], warm.env)
    notes = [
        f"`python -X importtime`: the `up` command's modules take {cli_imports['total_ms']:.0f} ms to import, the daemon's "
        f"{daemon_imports['total_ms']:.0f} ms (each in a fresh interpreter, measured once after the repetitions); "
        "heaviest for the daemon: " + ", ".join(f"`{name}` {ms:.0f} ms" for name, ms in daemon_imports["top"][:6]) + "."
    ]
    return Result(
        key="cold-start",
        title="Node cold start",
        method=(
            "Wall time of the `minikubelet up` command, which starts the daemon in the background and returns once "
            "its API answers `GET /readyz` with 200 over TLS: the CLI's own start-up, the daemon's imports, opening "
            "the store, the Docker connection and the HTTPS listener. In a new home the node first makes its CA, "
            "serving certificate and token; in an existing one it reuses them. `minikubelet down` after each."
        ),
        series=[fresh, again],
        target="median ≤ 1 s (both cases)",
        verdict=f"{fresh.median:.0f} ms new home, {again.median:.0f} ms existing home",
        met=worst <= 1000,
        notes=notes,
        profile=profile,
    )


# --- 4. burst ------------------------------------------------------------------------------------------------------


def burst(ctx: Context, pods: int) -> Result:
    node, baseline = ctx.node(), ctx.docker()
    ours = Series(f"minikubelet apply -f ({pods} pods, one file) -> all Running", unit="ms")
    theirs = Series(f"Docker SDK: {pods} x (run pause, run app), {CONCURRENCY} threads", unit="ms")
    files = ctx.workdir / "burst"
    files.mkdir(exist_ok=True)
    with contextlib.ExitStack() as stack:
        tracker = _tracker(ctx, stack, "burst")
        profile = _profiled(ctx, stack, "burst")

        def minikubelet(rep: str, series: Series | None) -> None:
            names = [f"burst-{rep}-{i:03d}" for i in range(pods)]
            docs = [pod_manifest(name, {"bench": "burst", "bench-rep": rep}) for name in names]
            path = files / f"burst-{rep}.yml"
            path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
            started = time.monotonic()
            applied = node.cli("apply", "-f", str(path))
            if applied.returncode:
                raise SystemExit(f"minikubelet apply failed:\n{applied.stderr}")
            seen = tracker.wait_running(names, timeout=600)
            if series is not None:
                series.add(_ms(max(s.monotonic for s in seen) - started))
            node.delete_pods(f"bench-rep={rep}", timeout=600)

        def docker_run(rep: str, series: Series | None) -> None:
            baseline.ensure_clients(CONCURRENCY)
            pool = ThreadPoolExecutor(CONCURRENCY)
            try:
                started = time.monotonic()
                made = list(pool.map(baseline.start_pod, [f"burst-{rep}-{i:03d}" for i in range(pods)]))
                took = time.monotonic() - started
                list(pool.map(baseline.remove, made))
            finally:
                pool.shutdown(cancel_futures=True)
            if series is not None:
                series.add(_ms(took))

        minikubelet("warm", None)
        docker_run("warm", None)
        for rep in range(ctx.reps):
            alternate(rep, partial(minikubelet, f"{rep:02d}", ours), partial(docker_run, f"{rep:02d}", theirs))
    ratio = ours.median / theirs.median
    return Result(
        key="burst",
        title=f"Burst: {pods} pods at once",
        method=(
            f"{pods} one-container pods in one multi-document file, `minikubelet apply -f` once, until the watch has "
            f"delivered every pod in phase Running (the time of the last one). Baseline: the same {2 * pods} "
            f"containers ({pods} x pause + app joining it) through the Docker SDK from a pool of {CONCURRENCY} "
            "threads (each with its own SDK client, made beforehand), as many as minikubelet's daemon has for its "
            "Docker calls (`asyncio.to_thread` on its default executor, `ENGINE_THREADS`)."
        ),
        series=[ours, theirs],
        target="minikubelet median ≤ 1.3x the baseline",
        verdict=f"{ratio:.2f}x",
        met=ratio <= 1.3,
        baseline=theirs.label,
        subject=ours.label,
        profile=profile,
    )


# --- 5. probe load (bench_probes.py) -----------------------------------------------------------------------------


def probe_load(ctx: Context, pods: list[int], seconds: float) -> Result:
    """bench_probes.py with the first pod count of `pods` the machine holds (a count that fails: the next).

    A count above the node's pod capacity (`MAX_PODS`, the kubelet's default maxPods: 110) is cut down to it:
    the scheduler would leave the rest Pending ("Too many pods") and bench_probes would wait in vain."""
    capacity = getattr(nodestatus, "MAX_PODS", 110)
    figures: dict[str, Any] | None = None
    tried: list[str] = []
    if any(count > capacity for count in pods):
        tried.append(f"{max(pods)} pods asked; the node admits {capacity} (its pod capacity, the kubelet's default maxPods)")
    for count in dict.fromkeys(min(count, capacity) for count in pods):
        out = ctx.workdir / f"probes-{count}.json"
        argv = [sys.executable, str(BENCHMARKS / "bench_probes.py"), "--pods", str(count), "--seconds", str(seconds)]
        argv += ["--json", str(out)]
        if ctx.profile:
            argv += ["--py-spy", str(ctx.workdir / "profile-probes.txt")]
        log(f"probe load: {' '.join(argv[1:])}")
        code = run_child(argv, timeout=3600)
        if code == 0 and out.exists():
            figures = json.loads(out.read_text())
            break
        tried.append(f"{count} pods failed (exit {code})")
    if figures is None:
        raise SystemExit(f"probe load: no pod count worked ({'; '.join(tried)})")
    late, rss = figures["lateness_ms"], figures["daemon_rss_mib"]
    cpu = figures["daemon_cpu_pct_of_one_core"]
    met = cpu <= 50 and late["p99"] <= 50 and rss["max"] <= 100
    notes = [
        *tried,
        f"{figures['attempts']} attempts in the window (expected ~{figures['attempts_expected']}), "
        f"{figures['failed_attempts']} not successful; {figures['within_50ms_pct']:.2f} % within 50 ms of their schedule.",
    ]
    if figures.get("late_attempts_by_second"):
        worst = sorted(figures["late_attempts_by_second"].items(), key=lambda item: -item[1])[:5]
        notes.append(
            "attempts over 50 ms late, by second of the window they were due in (worst first): "
            + ", ".join(f"{second} s: {count}" for second, count in worst)
        )
    profile = None
    if ctx.profile and (ctx.workdir / "profile-probes.txt").exists():
        profile = Profile.from_raw(ctx.workdir / "profile-probes.txt", rate=100)  # py-spy's default rate
    return Result(
        key="probe-load",
        title=f"Probe load: {figures['pods']} pods with an HTTP readiness probe every second",
        method=(
            f"`benchmarks/bench_probes.py --pods {figures['pods']} --seconds {seconds:.0f}`: {figures['pods']} echo pods "
            f"({2 * figures['pods']} containers), each with an HTTP readiness probe (period 1 s), measured over "
            f"{seconds:.0f} s that begin 10 s after all are Ready (the last pods' start-up keeps both cores busy "
            "for a few seconds more, which makes the first attempts late: start-up, not the steady load measured "
            "here). Lateness is `start - due` of every ticker attempt due in the window, from the prober's own "
            "record; CPU and RSS of the daemon from /proc."
        ),
        series=[],
        target="daemon CPU ≤ 50 % of one core, p99 lateness ≤ 50 ms, daemon RSS ≤ 100 MiB",
        verdict=f"CPU {cpu:.1f} %, p99 {late['p99']:.1f} ms, RSS max {rss['max']:.1f} MiB",
        met=met,
        notes=notes,
        profile=profile,
        extra={"figures": figures},
    )


# --- 6. CLI latency ------------------------------------------------------------------------------------------------

_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def import_times(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """`python -X importtime`: the total (the top-level imports' cumulative time) and, per distribution-level
    package (`pydantic`, `httpx`, ...), the sum of its modules' own import times, heaviest first."""
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    packages: dict[str, int] = {}
    total = 0
    for line in result.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match is None:
            continue
        if len(match[3]) == 1:  # depth 0: one space after the bar
            total += int(match[2])
        package = match[4].split(".")[0]
        packages[package] = packages.get(package, 0) + int(match[1])
    top = sorted(packages.items(), key=lambda item: -item[1])[:12]
    return {"total_ms": total / 1000, "top": [(name, us / 1000) for name, us in top]}


def cli_latency(ctx: Context, pods: int) -> Result:
    node = ctx.node()
    ours = Series(f"minikubelet get pods ({pods} pods)")
    kubectl = Series(f"kubectl get pods ({pods} pods)")
    api = Series("the same table over the API (in-process client, no CLI start-up)")
    floor = Series("python -c pass (the interpreter's own start-up)")
    executable = Path(sys.executable).with_name("minikubelet")
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "minikubelet"]
    kube_env = {**node.env, "KUBECONFIG": str(node.home / "kubeconfig"), "HOME": str(node.home)}
    with contextlib.ExitStack() as stack:
        tracker = _tracker(ctx, stack, "cli")
        names = [f"cli-{i:03d}" for i in range(pods)]
        path = ctx.workdir / "cli-pods.yml"
        path.write_text(yaml.safe_dump_all([pod_manifest(n, {"bench": "cli"}) for n in names], sort_keys=False))
        stack.callback(node.delete_pods, "bench=cli", timeout=600)
        applied = node.cli("apply", "-f", str(path))
        if applied.returncode:
            raise SystemExit(f"minikubelet apply failed:\n{applied.stderr}")
        tracker.wait_running(names, timeout=600)

        def timed(argv: list[str], env: dict[str, str], series: Series | None) -> None:
            started = time.monotonic()
            result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
            took = time.monotonic() - started
            lines = result.stdout.count("\n")
            if result.returncode or lines != pods + 1:
                raise SystemExit(f"{argv[0]} get pods: exit {result.returncode}, {lines} lines:\n{result.stderr}")
            if series is not None:
                series.add(_ms(took))

        def table(series: Series | None) -> None:
            started = time.monotonic()
            node.client.get(PODS, table=True)
            if series is not None:
                series.add(_ms(time.monotonic() - started))

        def floor_once(series: Series | None) -> None:
            started = time.monotonic()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            if series is not None:
                series.add(_ms(time.monotonic() - started))

        def ours_once(series: Series | None) -> None:
            timed([*command, "get", "pods"], node.env, series)

        def kubectl_once(series: Series | None) -> None:
            timed([KUBECTL, "get", "pods"], kube_env, series)

        for step in (ours_once, kubectl_once, table, floor_once):
            step(None)
        for rep in range(ctx.reps):
            alternate(rep, lambda: ours_once(ours), lambda: kubectl_once(kubectl))
            table(api)
            floor_once(floor)
        importtime = import_times([sys.executable, "-X", "importtime", "-m", "minikubelet", "get", "pods"], node.env)
        profile = None
        if ctx.profile:
            profile = Profile.run_command([*command, "get", "pods"], ctx.workdir / "profile-cli.txt", env=node.env)
    return Result(
        key="cli",
        title=f"CLI latency with {pods} pods",
        method=(
            f"{pods} running pods; wall time of the whole command, run as a user runs it "
            f"(`{Path(command[0]).name} get pods`, the console script), next to the real kubectl 1.37 "
            "(the one `make install` puts in the virtualenv) against the same server with its discovery cache "
            "warm; both print the server-rendered table. For scale: the same `GET` with the Table `Accept` from an "
            "already open client, and the interpreter's bare start-up. The import time is `python -X importtime`'s "
            "sum over the top-level imports of `python -m minikubelet get pods`."
        ),
        series=[ours, kubectl, api, floor],
        target="`minikubelet get pods` median ≤ 150 ms",
        verdict=f"{ours.median:.0f} ms (kubectl {kubectl.median:.0f} ms)",
        met=ours.median <= 150,
        baseline=kubectl.label,
        subject=ours.label,
        notes=[f"import time of the CLI: {importtime['total_ms']:.0f} ms in total."],
        profile=profile,
        extra={"importtime": importtime},
    )


# --- 7. liveness reaction ---------------------------------------------------------------------------------------------

LIVENESS_GRACE = 2  # seconds: the kubelet's floor for a stop (MIN_GRACE_SECONDS), so also the effective grace


def liveness_pod(name: str) -> dict[str, Any]:
    """busybox httpd serving /healthz, which a `rm` turns into a 404; httpd (PID 1) ignores SIGTERM, so the
    stop takes the whole grace period and the restart's overhead is what lies beyond it."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"bench": "liveness"}},
        "spec": {
            "terminationGracePeriodSeconds": LIVENESS_GRACE,
            "containers": [
                {
                    "name": "app",
                    "image": BUSYBOX,
                    "command": ["sh", "-c", "mkdir -p /www && echo ok > /www/healthz && exec httpd -f -p 8080 -h /www"],
                    "livenessProbe": {
                        "httpGet": {"path": "/healthz", "port": 8080},
                        "periodSeconds": 1,
                        "timeoutSeconds": 1,
                        "failureThreshold": 2,
                    },
                }
            ],
        },
    }


def _wall(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def liveness(ctx: Context) -> Result:
    node, baseline = ctx.node(), ctx.docker()
    killing = Series("crossing attempt's end -> Killing event (watch arrival)")
    killing_own = Series("crossing attempt's end -> Killing event (daemon's record: the Event's name)")
    running = Series("crossing attempt's end -> new container Running (watch arrival)")
    running_own = Series("crossing attempt's end -> new container started (daemon's record: lifecycle, engine StartedAt)")
    beyond = Series(f"Running (watch) minus the {LIVENESS_GRACE} s grace period")
    with contextlib.ExitStack() as stack:
        pods = _tracker(ctx, stack, "liveness")
        events = EventTracker(node, "Killing")
        stack.callback(events.watch.stop)
        profile = _profiled(ctx, stack, "liveness")

        def attempts(name: str) -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = node.client.get(f"{PODS}/{name}/probes")["items"]
            return items

        def once(name: str, record: bool) -> None:
            node.client.request("POST", PODS, body=liveness_pod(name))
            pods.wait_running([name], timeout=120)
            _poll(lambda: any(a["result"] == "Success" for a in attempts(name)), timeout=60, what=f"{name} probed")
            labels = [f"io.minikubelet.instance={node.instance}", f"io.minikubelet.pod.name={name}"]
            with baseline.client() as client:
                _one(client.containers.list(filters={"label": labels}), name).exec_run(["rm", "/www/healthz"])
            kill_seen, event = events.wait(name, timeout=60)
            restart_seen = pods.wait_restarted(name, timeout=60)
            crossing = _poll(
                lambda: next((a for a in attempts(name) if a["verdict"] == "Failure"), None), timeout=10, what="the crossing"
            )
            crossed = _wall(crossing["start"]) + crossing["durationSeconds"]
            if record:
                killing.add(_ms(kill_seen.wall - crossed))
                killing_own.add(_ms(event_name_time(event) - crossed))
                running.add(_ms(restart_seen.wall - crossed))
                beyond.add(_ms(restart_seen.wall - crossed) - LIVENESS_GRACE * 1000)
                started = _restarted_at(node, name)
                if started is not None:
                    running_own.add(_ms(started - crossed))
            node.delete_pods("bench=liveness")

        once("live-warm", False)
        for rep in range(ctx.reps):
            once(f"live-{rep:02d}", True)
    series = [killing, killing_own, running, running_own, beyond]
    met = killing.median <= 100 and beyond.median <= 500
    return Result(
        key="liveness",
        title="Liveness reaction",
        method=(
            "A busybox httpd pod with an HTTP liveness probe (period 1 s, failureThreshold 2, "
            f"terminationGracePeriodSeconds {LIVENESS_GRACE}, the kubelet's floor for a stop); once probed "
            "healthy, `rm /www/healthz` in the container (docker exec) makes the probe fail. The start is the end "
            "(start + duration) of the probe attempt whose verdict crossed failureThreshold, from the prober's "
            "record (`GET .../pods/<name>/probes`, field `verdict`). Event timestamps have 1 s resolution, so the "
            "Killing event is timed by its arrival on a watch (`/events?watch=true&fieldSelector=reason=Killing`) "
            "opened in this process, and checked against the daemon's own record: an Event's name ends in its "
            "creation time in hex nanoseconds. The new container's Running is the arrival of the pod update with "
            "`restartCount` 1 and state running, checked against the kubelet's lifecycle record (the engine's "
            "StartedAt). httpd as PID 1 ignores SIGTERM, so the stop takes the whole grace period; what lies "
            "beyond it is the kubelet's own overhead. One pod per repetition (a second restart would back off)."
        ),
        series=series,
        target="Killing ≤ 100 ms; new container Running ≤ grace + 500 ms",
        verdict=f"Killing {killing.median:.0f} ms; Running grace + {beyond.median:.0f} ms",
        met=met,
        profile=profile,
    )


def _restarted_at(node: Node, name: str) -> float | None:
    """When the kubelet's lifecycle record says the second instance of `app` started (None: no record)."""
    try:
        items = node.client.get(f"{PODS}/{name}/lifecycle")["items"]
    except Exception:
        return None
    starts = [t for t in items if t["container"] == "app" and t["state"] == "running" and t.get("restartCount", 0) >= 1]
    return _wall(starts[0]["time"]) if starts else None


def _one(containers: list[Any], name: str) -> Any:
    apps = [c for c in containers if c.labels.get("io.minikubelet.container.kind") != "sandbox"]
    if len(apps) != 1:
        raise SystemExit(f"expected one running app container of {name}, found {len(apps)}")
    return apps[0]


def _poll(check: Callable[[], Any], *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)
    return found


# --- 8. kubectl 1.37's waits and port-forward -----------------------------------------------------------------------

KUBECTL_GRACE = 1  # seconds: `kubectl delete --grace-period=1`
FORWARD_GETS = 20  # HTTP GETs per repetition, through the forward and directly, alternating


def _echo_pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"bench": "kubectl"}},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": ECHO,
                    "imagePullPolicy": "IfNotPresent",
                    "readinessProbe": {"tcpSocket": {"port": 3000}, "periodSeconds": 1},
                }
            ]
        },
    }


def _http_get(host: str, port: int) -> float:
    """One GET on a new connection (as a client through a port-forward makes one); its wall time in seconds."""
    import http.client

    started = time.monotonic()
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.request("GET", "/bench")
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"GET http://{host}:{port}/bench answered {response.status}")
    finally:
        connection.close()
    return time.monotonic() - started


def _alternate_gets(i: int, first: Series, at: tuple[str, int], second: Series, other: tuple[str, int]) -> None:
    alternate(i, lambda: first.add(_ms(_http_get(*at))), lambda: second.add(_ms(_http_get(*other))))


def kubectl_waits(ctx: Context) -> Result:
    """kubectl 1.37 against the node: `delete` (a streaming list waits for the pod to go), `wait --for=condition=Ready`
    (the same), and an HTTP GET through `kubectl port-forward` (SPDY in its WebSocket tunnel) next to one to the
    pod's IP."""
    node = ctx.node()
    env = {**node.env, "KUBECONFIG": str(node.home / "kubeconfig"), "HOME": str(node.home)}
    delete = Series(f"kubectl delete pod --grace-period={KUBECTL_GRACE} (the whole command)")
    wait = Series("kubectl wait --for=condition=Ready: its exit after Ready reached a watch")
    forwarded = Series("HTTP GET through kubectl port-forward (new connection)")
    direct = Series("HTTP GET to the pod's IP (new connection)")
    ready: dict[str, float] = {}

    def on_event(kind: str, pod: dict[str, Any], arrived: float, wall: float) -> None:
        conditions = pod.get("status", {}).get("conditions") or []
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
            ready.setdefault(pod["metadata"]["name"], arrived)

    with contextlib.ExitStack() as stack:
        stack.callback(node.delete_pods, "bench=kubectl", timeout=300)
        watch = Watch(node, PODS, {"labelSelector": "bench=kubectl"}, on_event)
        stack.callback(watch.stop)
        for rep in range(ctx.reps + 1):  # the first one warms up, unrecorded
            recorded = rep > 0
            name = f"kubectl-{rep:02d}"
            node.client.request("POST", PODS, body=_echo_pod(name))
            waiting = subprocess.Popen(
                [KUBECTL, "wait", "--for=condition=Ready", f"pod/{name}", "--timeout=120s"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            _, errors = waiting.communicate(timeout=150)
            exited = time.monotonic()
            if waiting.returncode:
                raise SystemExit(f"kubectl wait failed: {errors}")
            seen = watch.wait_for(lambda n=name: ready.get(n), timeout=30, what=f"{name} Ready")
            if recorded:
                wait.add(_ms(exited - seen))
            pod_ip = node.client.get(f"{PODS}/{name}")["status"]["podIP"]
            forward = subprocess.Popen(
                [KUBECTL, "port-forward", f"pod/{name}", ":3000"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                assert forward.stdout is not None
                line = forward.stdout.readline()  # Forwarding from 127.0.0.1:PORT -> 3000
                match = re.search(r"127\.0\.0\.1:(\d+) ->", line)
                if match is None:
                    raise SystemExit(f"kubectl port-forward said {line!r}: {forward.stderr.read() if forward.stderr else ''}")
                local = int(match.group(1))
                _http_get("127.0.0.1", local)  # the first connection opens the tunnel's streams
                through, straight = Series("through"), Series("direct")
                for i in range(FORWARD_GETS):
                    _alternate_gets(i, through, ("127.0.0.1", local), straight, (pod_ip, 3000))
                if recorded:
                    forwarded.add(through.median)
                    direct.add(straight.median)
            finally:
                forward.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    forward.wait(timeout=10)
            started = time.monotonic()
            deleted = subprocess.run(
                [KUBECTL, "delete", "pod", name, f"--grace-period={KUBECTL_GRACE}"],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            if deleted.returncode:
                raise SystemExit(f"kubectl delete failed: {deleted.stderr}")
            if recorded:
                delete.add(_ms(time.monotonic() - started))
    overhead = forwarded.median - direct.median
    met = delete.median <= (KUBECTL_GRACE + 1) * 1000 and wait.median <= 300 and overhead <= 5
    return Result(
        key="kubectl",
        title="kubectl 1.37: delete, wait and port-forward",
        method=(
            f"kubectl 1.37 (the virtualenv's) against the node, {ctx.reps} repetitions after a warm-up: an echo pod with "
            "a 1 s TCP readiness probe is created; `kubectl wait --for=condition=Ready` runs from the creation, and its "
            "exit is timed from the moment a watch of our own saw the pod Ready; `kubectl port-forward pod/NAME :3000` "
            f"then serves {FORWARD_GETS} HTTP GETs, each on a new connection, alternating with as many straight to the "
            f"pod's IP (the repetition's median of each); last, `kubectl delete pod NAME --grace-period={KUBECTL_GRACE}` "
            "is timed whole (it returns once the pod is gone; the echo server exits on SIGTERM)."
        ),
        series=[delete, wait, forwarded, direct],
        target=f"delete ≤ grace + 1 s ({(KUBECTL_GRACE + 1) * 1000} ms); wait ≤ 300 ms after Ready; port-forward adds ≤ 5 ms",
        verdict=f"delete {delete.median:.0f} ms, wait +{wait.median:.0f} ms, port-forward +{overhead:.1f} ms",
        met=met,
        baseline=direct.label,
        subject=forwarded.label,
    )


SIMULATED_HOUR = 3600.0
SIMULATE_PODS = 100


def _three_probe_pod(name: str) -> dict[str, Any]:
    """One container with a startup, a liveness and a readiness probe, each every 1 s (httpGet)."""
    probe = {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 1}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "minikubelet.local/busybox:1.35",
                    "startupProbe": dict(probe),
                    "livenessProbe": dict(probe),
                    "readinessProbe": dict(probe),
                }
            ]
        },
    }


def _bare_tickers(seconds: float) -> None:
    """The floor: three asyncio tickers at 1 s for `seconds` on the same virtual clock, with no kubelet."""
    import asyncio

    from minikubelet.simulate.clock import VirtualClockLoop

    async def ticker() -> None:
        for _ in range(int(seconds)):
            await asyncio.sleep(1.0)

    async def main() -> None:
        await asyncio.gather(ticker(), ticker(), ticker())

    loop = VirtualClockLoop()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()


def simulate_speed(ctx: Context) -> Result:
    """`minikubelet simulate`: an hour of virtual time for one pod with three 1 s probes, in process, beside the
    floor (the same three tickers on the virtual clock with nothing behind them); then 100 such pods through the
    CLI (`-o json`, one process per core), the whole command timed."""
    from minikubelet.simulate.behaviour import Behaviour
    from minikubelet.simulate.engine import simulate

    one = Series("1 pod, 3 probes at 1 s, 1 h of virtual time: simulate() wall time")
    floor = Series("floor: 3 bare asyncio tickers at 1 s, 1 h on the virtual clock")
    hundred = Series(f"{SIMULATE_PODS} such pods, 1 h each: `minikubelet simulate -f … -o json` (whole command)")
    behaviours = {"app": Behaviour(container="app")}
    pod = _three_probe_pod("sim")

    def run_one(series: Series | None) -> None:
        started = time.monotonic()
        sim = simulate(pod, behaviours, duration=SIMULATED_HOUR)
        if series is not None:
            series.add(_ms(time.monotonic() - started))
        if sim.containers["app"].restarts or sim.ready_at is None:
            raise SystemExit(f"the simulated pod restarted or never became Ready: {sim.containers}")

    def run_floor(series: Series | None) -> None:
        started = time.monotonic()
        _bare_tickers(SIMULATED_HOUR)
        if series is not None:
            series.add(_ms(time.monotonic() - started))

    run_one(None)
    run_floor(None)
    for rep in range(ctx.reps):
        alternate(rep, partial(run_one, one), partial(run_floor, floor))
    manifest = ctx.workdir / "simulate-100.yml"
    manifest.write_text(yaml.safe_dump_all([_three_probe_pod(f"sim-{i:03d}") for i in range(SIMULATE_PODS)]))
    for _ in range(max(1, min(ctx.reps, 3))):
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "minikubelet", "simulate", "-f", str(manifest), "--for", "1h", "-o", "json"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        elapsed = time.monotonic() - started
        if done.returncode:
            raise SystemExit(f"minikubelet simulate failed: {done.stderr.strip()[-500:]}")
        reports = json.loads(done.stdout)
        if len(reports) != SIMULATE_PODS or any(r["readyAfterSeconds"] is None for r in reports):
            raise SystemExit("minikubelet simulate did not report every pod Ready")
        hundred.add(elapsed * 1000)
    met = one.median <= 1000 and hundred.median <= 30_000
    return Result(
        key="simulate",
        title="simulate: virtual time",
        method=(
            "`simulate()` (the real scheduler, kubelet and prober on the simulated engine and the virtual clock) runs "
            "one pod with a startup, a liveness and a readiness probe, each httpGet every 1 s, for one hour of "
            f"virtual time, {ctx.reps} repetitions after a warm-up, alternating with the floor: three bare asyncio "
            "tickers at 1 s for the same hour on the same virtual clock. Then a manifest of "
            f"{SIMULATE_PODS} such pods goes through the CLI, `minikubelet simulate -f … --for 1h -o json` "
            f"(pods simulated independently, one process per core), timed whole, {max(1, min(ctx.reps, 3))} times."
        ),
        series=[one, floor, hundred],
        target=f"1 pod-hour ≤ 1 s; {SIMULATE_PODS} pod-hours ≤ 30 s",
        verdict=f"1 pod-hour {one.median:.0f} ms; {SIMULATE_PODS} pod-hours {hundred.median / 1000:.1f} s",
        met=met,
    )
