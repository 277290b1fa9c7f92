"""The simulator agrees with Docker: every scenario of simulate_scenarios.py runs for real — its pod rewritten by
busybox_pod() so that each container acts out its behaviour — on one node daemon, all scenarios side by side (their
pods created a second apart, so the whole run takes about two minutes), and in the simulator
(minikubelet.simulate.engine.simulate); the events must be the same, at nearly the same times.

An *occurrence* is one change to an Event object that records something: its creation, or a bump of its count. On
Docker they are read from a watch on the node's events, timed on arrival against the arrival of the pod's own
ADDED on a watch of pods (the API's timestamps have whole seconds only). The simulator gives one SimEvent per
occurrence, timed from the pod's creation on its virtual clock. The comparison:

- the sequences of (type, reason, fieldPath) are identical;
- the messages are identical once IP addresses, container IDs, pod UIDs, node names and image sizes and pull
  durations are masked;
- each occurrence's times differ by at most the period of the probe it reports (Unhealthy, ProbeWarning, and a
  Killing for a failed probe), or 2 s for any other event; after a crash-looping container's back-off, by half
  that back-off more (the kubelet restarts it at a random moment up to half the back-off after its end).
- Both sides run END_SLACK seconds longer than the scenario's duration: the occurrences within the duration on either
  side are compared with as many on the other.

Both sides run the same manifest (busybox_pod's), so that messages naming a probe's command agree. The node is
given a few seconds before the pods arrive: in the first period after the daemon starts, the prober spreads its
workers' first attempts at random (worker.py), which the simulator does not do for a node long up. Each pod is created
just after a whole second of the wall clock, as the simulator's are (its clock starts on a whole second): the
status's times have whole seconds, which then read the same on both sides.

The Docker side is also checked on its own by the last two tests. MINIKUBELET_TEST_SIMULATE_DUMP=FILE writes the
Docker side's occurrences there as JSON.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from nodes import Node, running_node
from simulate_scenarios import BY_NAME, SCENARIOS, Scenario

if TYPE_CHECKING:
    from minikubelet.client import ApiClient

pytestmark = pytest.mark.docker

#: Longer than any scenario's probe period: the prober's start-up jitter is over before the pods arrive.
SETTLE_SECONDS = 6.0
#: Between two pods' creations: fifteen pods started at once stall the daemon for a second or two (events are
#: then delivered late, in bunches), which the simulator has no reason to copy.
STAGGER_SECONDS = 1.0
#: Both sides run this much longer than a scenario's duration, so that an event just inside the duration on one side
#: finds its counterpart just outside it on the other (longer than any probe period).
END_SLACK = 6.0
#: A crash-looping container is restarted between the end of its back-off and half as long again after it (the pod
#: worker's jittered requeue, random on both sides): the events after its k-th back-off (10 s, then 20 s, ...) may
#: be apart by that much more.
FIRST_BACK_OFF = 10.0
NON_PROBE_TOLERANCE = 2.0
#: A file to write the Docker side's occurrences to, as JSON, when set.
DUMP_VARIABLE = "MINIKUBELET_TEST_SIMULATE_DUMP"


@dataclass(frozen=True)
class Occurrence:
    at: float  # seconds since the pod's creation
    type: str
    reason: str
    field_path: str
    message: str

    def key(self) -> tuple[str, str, str]:
        return (self.type, self.reason, self.field_path)

    def __str__(self) -> str:
        return f"{self.at:7.2f}s {self.type:<7} {self.reason:<16} {self.field_path:<28} {self.message}"


# --- the Docker side ---------------------------------------------------------------------------------------------


class Watcher:
    """Watches of the node's pods and events in the default namespace, each delivery timed on arrival."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.lock = threading.Lock()
        self.created: dict[str, float] = {}  # pod name -> monotonic time of its ADDED
        self.deliveries: list[tuple[float, str, dict[str, Any]]] = []  # (monotonic time, watch type, Event)
        self.threads = [
            threading.Thread(target=self._watch, args=("pods",), daemon=True),
            threading.Thread(target=self._watch, args=("events",), daemon=True),
        ]
        self.ready = threading.Barrier(3)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()
        self.ready.wait(timeout=30)

    def _watch(self, resource: str) -> None:
        from minikubelet.errors import MinikubeletError

        path = f"/api/v1/namespaces/default/{resource}"
        with _client(self.node) as client:
            version = client.get(path)["metadata"]["resourceVersion"]
            self.ready.wait(timeout=30)
            try:
                for kind, obj in client.watch(path, params={"resourceVersion": version}):
                    now = time.monotonic()
                    with self.lock:
                        if resource == "pods" and kind == "ADDED":
                            self.created.setdefault(obj["metadata"]["name"], now)
                        elif resource == "events" and kind in ("ADDED", "MODIFIED"):
                            self.deliveries.append((now, kind, obj))
            except MinikubeletError:
                return  # the node went down

    def occurrences(self, pod: str) -> list[Occurrence]:
        """The pod's event occurrences: an Event's creation, and each bump of its count."""
        with self.lock:
            created = self.created[pod]
            deliveries = list(self.deliveries)
        counts: dict[str, int] = {}
        found = []
        for arrived, _, event in deliveries:
            involved = event.get("involvedObject") or {}
            if involved.get("kind") != "Pod" or involved.get("name") != pod:
                continue
            name, count = event["metadata"]["name"], int(event.get("count") or 1)
            for _ in range(count - counts.get(name, 0)):
                found.append(
                    Occurrence(
                        arrived - created,
                        event.get("type", ""),
                        event.get("reason", ""),
                        involved.get("fieldPath", ""),
                        event.get("message", ""),
                    )
                )
            counts[name] = max(count, counts.get(name, 0))
        return found


def _client(node: Node) -> ApiClient:
    """A client of the node's API, as the CLI's (its kept-alive connection makes a request quick)."""
    from minikubelet.client import ApiClient
    from minikubelet.node.kubeconfig import read_connection
    from minikubelet.node.paths import NodePaths

    return ApiClient(read_connection(NodePaths.from_env(str(node.home))))


def _delete(client: ApiClient, pod: str) -> None:
    """Delete the pod with its own grace period (no override), as `kubectl delete pod --wait=false` does."""
    client.request("DELETE", f"/api/v1/namespaces/default/pods/{pod}", body={})


@pytest.fixture(scope="module")
def docker_runs(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, list[Occurrence]]]:
    """Every scenario run on one real node, all at once: the occurrences of each scenario's pod."""
    pods = [scenario.manifest() for scenario in SCENARIOS]  # a scenario that does not parse fails before the node starts
    home: Path = tmp_path_factory.mktemp("simulate-agreement-home")
    nodes = running_node(home)
    node = next(nodes)
    client = _client(node)
    try:
        up = time.monotonic()
        watcher = Watcher(node)
        watcher.start()
        client.get("/api/v1/namespaces/default/pods")  # its connection is open before the first pod is created
        time.sleep(max(0.0, up + SETTLE_SECONDS - time.monotonic()))  # a fixed settling time, not a poll
        for pod in pods:
            # Just after a whole second of the wall clock, as the simulator's pods (its epoch is a whole second):
            # a container's startedAt has whole seconds, and the initial delay is counted from it.
            time.sleep(STAGGER_SECONDS - time.time() % 1.0 + 0.01)  # a fixed spacing, not a poll
            client.request("POST", "/api/v1/namespaces/default/pods", body=pod)
        deadline = time.monotonic() + 30
        while len(watcher.created) < len(SCENARIOS):
            assert time.monotonic() < deadline, f"pods never created: {set(BY_NAME) - set(watcher.created)}"
            time.sleep(0.05)
        timers = []
        for scenario in SCENARIOS:
            if scenario.delete_at is not None:
                wait = watcher.created[scenario.pod_name] + scenario.delete_at - time.monotonic()
                timer = threading.Timer(max(0.0, wait), _delete, args=(client, scenario.pod_name))
                timer.start()
                timers.append(timer)
        end = max(watcher.created[s.pod_name] + s.duration for s in SCENARIOS) + END_SLACK
        while time.monotonic() < end:
            time.sleep(0.5)
        for timer in timers:
            timer.join(timeout=30)
        runs = {
            scenario.name: [o for o in watcher.occurrences(scenario.pod_name) if o.at <= scenario.duration + END_SLACK]
            for scenario in SCENARIOS
        }
        if os.environ.get(DUMP_VARIABLE):  # to study a disagreement without running Docker again
            Path(os.environ[DUMP_VARIABLE]).write_text(json.dumps({k: [vars(o) for o in v] for k, v in runs.items()}, indent=1))
        yield runs
    finally:
        client.close()
        nodes.close()  # `down --delete-pods`


# --- the comparison ----------------------------------------------------------------------------------------------

_MASKS = (
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b"), "<ip>"),
    (re.compile(r"\b(?:docker://)?[0-9a-f]{64}\b"), "<container-id>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<uid>"),  # before the IDs
    (re.compile(r"\b[0-9a-f]{12}\b"), "<container-id>"),
    (re.compile(r"Image size: \d+ bytes"), "Image size: <size> bytes"),
    (re.compile(r"\bin [0-9.]+(?:ns|µs|us|ms|s|m|h)+ \([0-9.]+(?:ns|µs|us|ms|s|m|h)+ including waiting\)"), "in <duration>"),
    (re.compile(r"^(Successfully assigned \S+ to )\S+$"), r"\1<node>"),
)


def mask(message: str) -> str:
    for pattern, replacement in _MASKS:
        message = pattern.sub(replacement, message)
    return message


_CONTAINER = re.compile(r"spec\.(?:initContainers|containers)\{([^}]+)\}")
_PROBE_KIND = re.compile(r"^(Liveness|Readiness|Startup) probe")
_KILLED_FOR = re.compile(r"failed (liveness|startup) probe")


def tolerance(scenario: Scenario, occurrence: Occurrence) -> float:
    """The probe's period for an event that reports a probe attempt (or a kill for one); 2 s otherwise."""
    container = _CONTAINER.fullmatch(occurrence.field_path)
    kind = None
    if occurrence.reason in ("Unhealthy", "ProbeWarning"):
        found = _PROBE_KIND.match(occurrence.message)
        kind = found[1].lower() if found else None
    elif occurrence.reason == "Killing":
        found = _KILLED_FOR.search(occurrence.message)
        kind = found[1] if found else None
    if container is None or kind is None:
        return NON_PROBE_TOLERANCE
    return scenario.period(container[1], kind)


def simulated(scenario: Scenario) -> list[Occurrence]:
    from minikubelet.simulate.engine import simulate  # lands beside behaviour.py and script.py

    result = simulate(
        scenario.manifest(), scenario.parsed(), duration=scenario.duration + END_SLACK, seed=0, delete_at=scenario.delete_at
    )
    return [Occurrence(e.at, e.type, e.reason, e.field_path, e.message) for e in result.events]


def table(occurrences: list[Occurrence]) -> str:
    return "\n".join(f"  {o}" for o in occurrences) or "  (none)"


def back_off_allowances(occurrences: list[Occurrence]) -> list[float]:
    """For each occurrence, the restart jitter its container's back-offs before it allow (see FIRST_BACK_OFF)."""
    backed_off: dict[str, bool] = {}
    allowance: dict[str, float] = {}
    restarts: dict[str, int] = {}
    found = []
    for occurrence in occurrences:
        where = occurrence.field_path
        if occurrence.reason == "BackOff":
            backed_off[where] = True
        elif backed_off.get(where):  # the restart that ends a back-off: its Pulled, Created, Started and all after
            backed_off[where] = False
            allowance[where] = allowance.get(where, 0.0) + FIRST_BACK_OFF * 2 ** restarts.get(where, 0) / 2
            restarts[where] = restarts.get(where, 0) + 1
        found.append(allowance.get(where, 0.0))
    return found


def disagreements(scenario: Scenario, real: list[Occurrence], sim: list[Occurrence]) -> list[str]:
    """What differs between the occurrences of both sides within the scenario's duration (each side's list may go
    on past it, for the counterparts of its last occurrences)."""
    compared = max(sum(o.at <= scenario.duration for o in real), sum(o.at <= scenario.duration for o in sim))
    real, sim = real[:compared], sim[:compared]
    problems = []
    if [o.key() for o in real] != [o.key() for o in sim]:
        problems.append("the sequences of (type, reason, fieldPath) differ")
    allowances = back_off_allowances(real)
    for number, (one, other) in enumerate(zip(real, sim, strict=False)):
        if one.key() != other.key():
            problems.append(f"#{number}: first difference: Docker {one.key()} vs simulator {other.key()}")
            break
        if mask(one.message) != mask(other.message):
            problems.append(f"#{number} {one.reason}: messages differ: {mask(one.message)!r} vs {mask(other.message)!r}")
        allowed = tolerance(scenario, one) + allowances[number]
        if abs(one.at - other.at) > allowed:
            problems.append(
                f"#{number} {one.reason}: at {one.at:.2f}s on Docker, {other.at:.2f}s simulated (more than {allowed:g}s apart)"
            )
    return problems


@pytest.mark.parametrize("name", [scenario.name for scenario in SCENARIOS])
def test_the_simulator_agrees_with_docker(name: str, docker_runs: dict[str, list[Occurrence]]) -> None:
    scenario = BY_NAME[name]
    real, sim = docker_runs[name], simulated(scenario)
    problems = disagreements(scenario, real, sim)
    assert not problems, f"scenario {name}: " + "; ".join(problems) + f"\nDocker:\n{table(real)}\nsimulator:\n{table(sim)}"


# --- the Docker side on its own ----------------------------------------------------------------------------------


def reasons(occurrences: list[Occurrence], container: str = "app") -> list[str]:
    where = {f"spec.containers{{{container}}}", f"spec.initContainers{{{container}}}"}
    return [o.reason for o in occurrences if o.field_path in where]


def test_every_pod_was_scheduled_and_started(docker_runs: dict[str, list[Occurrence]]) -> None:
    for name, occurrences in docker_runs.items():
        assert occurrences and occurrences[0].reason == "Scheduled", f"{name}:\n{table(occurrences)}"
        assert "Started" in [o.reason for o in occurrences], f"{name}:\n{table(occurrences)}"


def test_the_docker_runs_act_out_their_behaviours(docker_runs: dict[str, list[Occurrence]]) -> None:
    """Spot checks that the real runs do what the scenarios say, independent of the simulator."""
    runs = {name: [o for o in found if o.at <= BY_NAME[name].duration] for name, found in docker_runs.items()}
    tutorial = runs["tutorial-liveness-not-exist"]
    unhealthy = [o for o in tutorial if o.reason == "Unhealthy"]
    assert unhealthy and unhealthy[0].message == "Liveness probe failed: HTTP probe failed with statuscode: 500"
    assert 5 <= unhealthy[0].at <= 11, f"the first tick 5 s after the container started:\n{table(tutorial)}"
    assert "Container app failed liveness probe, will be restarted" in [o.message for o in tutorial if o.reason == "Killing"]

    tcp = runs["tcp-readiness-and-liveness"]
    refused = [o for o in tcp if o.reason == "Unhealthy"]
    assert refused and all(o.message.startswith("Readiness probe failed: dial tcp ") for o in refused), table(tcp)
    assert all(o.at < 11 for o in refused), "ready once it listens"
    assert reasons(tcp).count("Started") == 1

    assert reasons(runs["slow-start-without-startup-probe"]).count("Killing") >= 2
    with_startup = runs["slow-start-with-startup-probe"]
    assert "Killing" not in reasons(with_startup)
    startup = [o.message for o in with_startup if o.reason == "Unhealthy"]
    assert startup and startup[0].startswith('Startup probe failed: Get "http://'), table(with_startup)
    assert startup[0].endswith("connect: connection refused")

    flapping = [o for o in runs["flapping-readiness"] if o.message.endswith("statuscode: 500")]
    # 4 ticks in each of three windows, and the readiness probes the kubelet triggers as the pod's status changes
    assert len(flapping) >= 12, table(runs["flapping-readiness"])
    assert {int((o.at - flapping[0].at) // 10) for o in flapping} == {0, 1, 2}, table(flapping)
    assert "Killing" not in reasons(runs["flapping-readiness"])
    below = runs["flapping-liveness-below-threshold"]
    assert [o.message for o in below if o.reason == "Unhealthy"][:1] == ["Liveness probe failed: "], table(below)
    assert "Killing" not in reasons(below)

    assert reasons(runs["liveness-kills-after-threshold"]).count("Killing") >= 2
    crash = reasons(runs["crash-loop"])
    assert crash.count("Started") >= 2 and "BackOff" in crash, crash
    assert "Started" in reasons(runs["run-to-completion"], "worker") and "Started" in reasons(
        runs["run-to-completion"], "checker"
    )
    assert reasons(runs["run-to-completion"], "worker").count("Started") == 1, "restartPolicy Never"

    for name, after in (("delete-during-probes", 10), ("delete-ignoring-sigterm", 8)):
        killing = [o for o in runs[name] if o.reason == "Killing"]
        assert killing and killing[0].message == "Stopping container app", table(runs[name])
        assert after - 0.5 <= killing[0].at <= after + 2

    assert reasons(runs["oom-kill"]).count("Started") >= 2
    comes_and_goes = [o for o in runs["readiness-comes-and-goes"] if o.reason == "Unhealthy"]
    assert len(comes_and_goes) >= 4 + 3, f"8 s and 6 s of failures at a 2 s period:\n{table(comes_and_goes)}"
    assert all(8 <= o.at <= 19 or 30 <= o.at <= 39 for o in comes_and_goes), table(comes_and_goes)
    sidecar = runs["sidecar-with-probes"]
    assert reasons(sidecar, "main").count("Started") == 1, table(sidecar)
    assert reasons(sidecar, "sidecar").count("Started") >= 2, table(sidecar)
    main_start = next(o.at for o in sidecar if o.reason == "Started" and o.field_path == "spec.containers{main}")
    assert main_start >= 3, "the main container waits for the sidecar's startup probe"
    hangs = [o for o in runs["exec-probe-hangs"] if o.reason == "Unhealthy"]
    assert hangs and hangs[0].message == 'Liveness probe failed: command "/bin/sh /tmp/sim-probe liveness" timed out'
