"""The real kubectl (1.37, the virtualenv's) reading from a real node: every output format of `get`,
held-open watches, events, nodes, `get all`, describe (byte for byte against ours), version,
api-resources, and kubectl's usual error for a resource type the node does not serve.

kubectl prints what the API server hands it: server-side Tables for `get` (full objects in the rows for
`--sort-by`), JSON for `-o json|yaml|jsonpath|custom-columns|name`, aggregated discovery for `api-resources`
and `get all`, and for `describe` the object, its events (a fieldSelector), the node's pods (another one)
and the node Lease. Where our CLI prints the same thing, the bytes are compared at one moment (`agrees`).
"""

from __future__ import annotations

import json
import queue
import re
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
import yaml
from compare import agrees, ours
from nodes import KUBECTL, Node, eventually, kubectl_requests

ROOT = Path(__file__).resolve().parents[2]
ECHO = str(ROOT / "manifests" / "echo-pod.yml")
BUSYBOX = "minikubelet.local/busybox:1.35"
POD_COLUMNS = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]


# --- helpers ------------------------------------------------------------------------------------------------------


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def pod_manifest(
    name: str,
    *,
    image: str = BUSYBOX,
    command: list[str] | None = None,
    labels: dict[str, str] | None = None,
    pull: str | None = None,
    **spec: Any,
) -> str:
    container: dict[str, Any] = {"name": "app", "image": image}
    if pull is not None:
        container["imagePullPolicy"] = pull
    if command is not None:
        container["command"] = command
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {"app": name}},
        "spec": {"containers": [container], **spec},
    }
    return json.dumps(body)


def create(node: Node, *manifests: str) -> None:
    ok(node.kubectl("apply", "-f", "-", stdin="\n---\n".join(manifests)))


def sleeper(name: str, **spec: Any) -> str:
    """A pod that runs until it is stopped, and stops at SIGTERM (a bare `sleep` as PID 1 ignores it, and
    every deletion would then wait out the grace period)."""
    return pod_manifest(name, command=["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"], **spec)


def phase(node: Node, name: str) -> str:
    return node.kubectl("get", "pod", name, "-o", "jsonpath={.status.phase}").stdout


def running(node: Node, *names: str) -> None:
    def phases() -> dict[str, str]:
        listing = node.kubectl("get", "pods", "-o", "jsonpath={range .items[*]}{.metadata.name}={.status.phase} {end}")
        return dict(pair.split("=") for pair in listing.stdout.split())

    assert eventually(lambda: all(phases().get(name) == "Running" for name in names), timeout=30), phases()


def node_name(node: Node) -> str:
    return ok(node.kubectl("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}"))


def columns(text: str) -> list[dict[str, str]]:
    """A kubectl table as dicts keyed by header (`NOMINATED NODE`: headers are apart by 3 spaces or more),
    cut at the header's column starts, so that empty cells stay empty."""
    header, *rows = text.splitlines()
    found = list(re.finditer(r"\S+(?: \S+)*", header))
    starts, names = [m.start() for m in found], [m.group() for m in found]
    bounds = list(zip(starts, [*starts[1:], None], strict=True))
    return [{name: row[start:end].strip() for name, (start, end) in zip(names, bounds, strict=True)} for row in rows]


class Watch:
    """`kubectl <args>` held open in the background; `expect` waits for the next line that matches."""

    def __init__(self, node: Node, *args: str) -> None:
        env = {**node.env, "KUBECONFIG": str(node.kubeconfig), "HOME": str(node.home)}
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed in __exit__)
        self.process = subprocess.Popen([KUBECTL, *args], stdout=subprocess.PIPE, stderr=self.errors, text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, check: Callable[[str], bool], *, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            if check(line):
                return line
        self.errors.seek(0)
        stderr = self.errors.read().decode(errors="replace")
        raise AssertionError("no matching line; kubectl printed:\n" + "\n".join(self.seen) + f"\nstderr:\n{stderr}")

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.reader.join(timeout=10)  # it stops at the end of kubectl's output
        assert self.process.stdout is not None
        self.process.stdout.close()
        self.errors.close()


def row(line: str) -> list[str]:
    return line.split()


@pytest.fixture
def node(kubectl_node: Node) -> Node:
    """The session's node, with no pods left from earlier tests."""
    ok(kubectl_node.kubectl("delete", "pods", "--all", "--grace-period=0", "--force"))
    return kubectl_node


@pytest.fixture
def echo_and_web(node: Node) -> Node:
    """`echo` (app=echo, from the tutorial's manifest) and `web` (app=web), both running."""
    create(node, Path(ECHO).read_text(), sleeper("web"))
    running(node, "echo", "web")
    return node


# --- get: tables, formats, selectors, sorting ---------------------------------------------------------------------


GET_PODS = [
    ("get", "pods"),
    ("get", "pods", "-o", "wide"),
    ("get", "pods", "--show-labels"),
    ("get", "pods", "-o", "wide", "--show-labels"),
    ("get", "pods", "-l", "app=echo"),
    ("get", "pods", "-l", "app!=echo,app"),
    ("get", "pods", "-o", "name"),
    ("get", "pods", "-A"),
    ("get", "pods", "-A", "-o", "wide"),
    ("get", "pod", "echo", "web"),
    ("get", "pod/web", "-o", "wide"),
    ("get", "pods", "--field-selector", "status.phase=Running,metadata.name!=web"),
]


def test_get_pods_prints_what_we_print(echo_and_web: Node) -> None:
    for args in GET_PODS:
        assert agrees(echo_and_web, *args).stdout.strip(), f"kubectl {' '.join(args)} printed nothing"


def test_tables_have_kubectls_columns_and_our_cells(echo_and_web: Node) -> None:
    node = echo_and_web
    wide = columns(ok(node.kubectl("get", "pods", "-o", "wide", "--show-labels")))
    assert list(wide[0]) == [*POD_COLUMNS, "IP", "NODE", "NOMINATED NODE", "READINESS GATES", "LABELS"]
    echo = next(r for r in wide if r["NAME"] == "echo")
    pod = node.pod("echo")
    assert (echo["READY"], echo["STATUS"], echo["IP"]) == ("1/1", "Running", pod["status"]["podIP"])
    assert echo["NODE"] == pod["spec"]["nodeName"] == node_name(node)
    assert (echo["NOMINATED NODE"], echo["READINESS GATES"], echo["LABELS"]) == ("<none>", "<none>", "app=echo")
    selected = ok(node.kubectl("get", "pods", "-l", "app=web", "-o", "name"))
    assert selected == "pod/web\n"


def test_json_yaml_jsonpath_and_custom_columns(echo_and_web: Node) -> None:
    node = echo_and_web
    theirs = json.loads(ok(node.kubectl("get", "pod", "echo", "-o", "json")))
    as_yaml = yaml.safe_load(ok(node.kubectl("get", "pod", "echo", "-o", "yaml")))
    mine = json.loads(ours(node, "get", "pod", "echo", "-o", "json"))
    assert theirs["kind"] == as_yaml["kind"] == mine["kind"] == "Pod"
    for obj in (theirs, as_yaml, mine):  # the kubelet may write the status between two GETs
        obj["metadata"].pop("resourceVersion")
    mine["metadata"].pop("managedFields", None)  # kubectl leaves them out without --show-managed-fields
    assert theirs["metadata"] == as_yaml["metadata"] == mine["metadata"]
    assert theirs["spec"] == as_yaml["spec"] == mine["spec"]
    listing = json.loads(ok(node.kubectl("get", "pods", "-o", "json")))
    assert (listing["kind"], [p["metadata"]["name"] for p in listing["items"]]) == ("List", ["echo", "web"])
    names = ok(node.kubectl("get", "pods", "-o", "jsonpath={.items[*].metadata.name}"))
    assert names == "echo web"
    assert ok(node.kubectl("get", "pod", "web", "-o", "jsonpath={.status.podIP}")) == node.pod("web")["status"]["podIP"]
    custom = ok(node.kubectl("get", "pods", "-o", "custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image"))
    assert custom.splitlines() == [
        "NAME   IMAGE",
        "echo   minikubelet.local/echo:v1",
        f"web    {BUSYBOX}",
    ]
    template = ok(node.kubectl("get", "pods", "-o", "go-template={{range .items}}{{.metadata.name}}:{{.status.phase}} {{end}}"))
    assert template == "echo:Running web:Running "


def test_sort_by_reads_the_full_objects_in_the_table_rows(node: Node) -> None:
    """`--sort-by` asks for `includeObject=Object`: spec and status are there to sort on, and the rows are
    still the server's (READY, STATUS...), not kubectl's `NAME AGE` fallback."""
    create(node, sleeper("zz-first", terminationGracePeriodSeconds=1))
    running(node, "zz-first")
    started = datetime.fromisoformat(node.pod("zz-first")["status"]["startTime"].replace("Z", "+00:00"))
    assert eventually(lambda: datetime.now(UTC).replace(microsecond=0) > started, timeout=5)
    create(node, sleeper("aa-second", terminationGracePeriodSeconds=60))
    running(node, "aa-second")
    assert [r["NAME"] for r in columns(ok(node.kubectl("get", "pods")))] == ["aa-second", "zz-first"]
    by_start = ok(node.kubectl("get", "pods", "--sort-by=.status.startTime"))
    assert by_start.splitlines()[0].split() == POD_COLUMNS
    assert [r["NAME"] for r in columns(by_start)] == ["zz-first", "aa-second"]
    by_grace = ok(node.kubectl("get", "pods", "--sort-by=.spec.terminationGracePeriodSeconds", "-o", "wide"))
    assert [(r["NAME"], r["STATUS"]) for r in columns(by_grace)] == [("zz-first", "Running"), ("aa-second", "Running")]
    by_name = ok(node.kubectl("get", "pods", "--sort-by=.metadata.name", "-o", "name"))
    assert by_name == "pod/aa-second\npod/zz-first\n"


# --- events, nodes, namespaces, get all -----------------------------------------------------------------------------


def test_get_events_prints_what_we_print(echo_and_web: Node) -> None:
    node = echo_and_web
    bad = f"bad-{uuid.uuid4().hex[:8]}"  # events outlive their pods: a name no earlier test used
    create(node, pod_manifest(bad, image="minikubelet.local/not-there:1", pull="Never"))
    failed = re.compile(rf"\bWarning\s+ErrImageNeverPull\s+pod/{bad}\s")
    assert eventually(lambda: failed.search(node.kubectl("get", "events").stdout) is not None)
    out = agrees(node, "get", "events").stdout
    rows = columns(out)
    assert list(rows[0]) == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert {"pod/echo", "pod/web", f"pod/{bad}"} <= {r["OBJECT"] for r in rows}
    scheduled = next(r for r in rows if r["OBJECT"] == "pod/echo" and r["REASON"] == "Scheduled")
    assert (scheduled["TYPE"], scheduled["MESSAGE"]) == ("Normal", f"Successfully assigned default/echo to {node_name(node)}")
    assert agrees(node, "get", "events", "-A").stdout.startswith("NAMESPACE ")
    theirs_wide = ok(node.kubectl("get", "events", "-o", "wide"))
    assert theirs_wide.splitlines()[0] == ours(node, "get", "events", "-o", "wide").splitlines()[0]
    assert "SUBOBJECT" in theirs_wide.splitlines()[0] and "spec.containers{app}" in theirs_wide
    warnings = columns(ok(node.kubectl("get", "events", "--field-selector", "type=Warning")))
    assert f"pod/{bad}" in {r["OBJECT"] for r in warnings} and {r["TYPE"] for r in warnings} == {"Warning"}
    about_bad = columns(ok(node.kubectl("get", "events", "--field-selector", f"involvedObject.name={bad},type=Warning")))
    assert {(r["TYPE"], r["REASON"], r["OBJECT"]) for r in about_bad} == {("Warning", "ErrImageNeverPull", f"pod/{bad}")}
    about_echo = columns(ok(node.kubectl("get", "events", "--field-selector", "involvedObject.name=echo")))
    assert about_echo and {r["OBJECT"] for r in about_echo} == {"pod/echo"}


def test_get_nodes_and_namespaces_print_what_we_print(node: Node) -> None:
    name = node_name(node)
    plain = columns(agrees(node, "get", "nodes").stdout)
    assert [(r["NAME"], r["STATUS"]) for r in plain] == [(name, "Ready")]
    wide = agrees(node, "get", "nodes", "-o", "wide").stdout
    assert wide.splitlines()[0].split()[5:] == ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]
    assert "docker://" in wide
    assert json.loads(ok(node.kubectl("get", "node", name, "-o", "json")))["kind"] == "Node"
    namespaces = columns(ok(node.kubectl("get", "ns")))
    assert {r["NAME"] for r in namespaces} >= {"default", "kube-system", "kube-public", "kube-node-lease"}


def test_get_all_expands_the_all_category_to_pods(echo_and_web: Node, tmp_path: Path) -> None:
    node = echo_and_web
    everything = agrees(node, "get", "all", reference=lambda: ok(node.kubectl("get", "pods")))
    assert everything.stderr == ""
    assert ok(node.kubectl("get", "all", "-A")).splitlines()[0].split()[:2] == ["NAMESPACE", "NAME"]
    # On a cold cache: aggregated discovery (/api and /apis answer apidiscovery.k8s.io/v2), then only pods.
    cold = node.kubectl("get", "all", "-v=6", f"--cache-dir={tmp_path / 'cache'}")
    assert cold.returncode == 0, cold.stderr
    requests = [path for _, path, code in kubectl_requests(cold.stderr, "GET") if code == 200]
    assert requests == ["/api?timeout=32s", "/apis?timeout=32s", "/api/v1/namespaces/default/pods?limit=500"]


def test_get_on_an_empty_namespace_says_so(node: Node) -> None:
    result = node.kubectl("get", "pods", "-n", "kube-system")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "No resources found in kube-system namespace.\n")
    assert node.kubectl("get", "all").stderr == "No resources found in default namespace.\n"


# --- watch ----------------------------------------------------------------------------------------------------------


def test_watch_wide_shows_a_pod_being_scheduled_and_started(echo_and_web: Node) -> None:
    node = echo_and_web
    with Watch(node, "get", "pods", "-w", "-o", "wide") as watch:
        header = row(watch.expect(lambda line: line.startswith("NAME")))
        assert header == [*POD_COLUMNS, "IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"]
        watch.expect(lambda line: line.startswith("web "))
        create(node, sleeper("late"))
        pending = row(watch.expect(lambda line: line.startswith("late ")))
        assert pending[1:3] == ["0/1", "Pending"]
        started = row(watch.expect(lambda line: line.startswith("late ") and " Running " in line))
        pod = node.pod("late")
        assert started[1:3] == ["1/1", "Running"]
        assert started[5:7] == [pod["status"]["podIP"], node_name(node)], "IP and NODE of the -o wide row"
        assert watch.process.poll() is None, "kubectl -w is still watching"


def test_watch_shows_a_delete_as_terminating_then_deleted(echo_and_web: Node) -> None:
    node = echo_and_web
    with Watch(node, "get", "pods", "-w", "--output-watch-events") as watch:
        assert row(watch.expect(lambda line: line.startswith("EVENT"))) == ["EVENT", *POD_COLUMNS]
        added = {row(watch.expect(lambda line: line.startswith("ADDED")))[1] for _ in range(2)}
        assert added == {"echo", "web"}
        deleted = node.kubectl("delete", "pod", "web", "--grace-period=1")
        assert deleted.stdout == 'pod "web" deleted from default namespace\n', deleted.stderr
        terminating = row(watch.expect(lambda line: line.startswith("MODIFIED") and " web " in line and "Terminating" in line))
        assert terminating[:2] == ["MODIFIED", "web"]
        assert row(watch.expect(lambda line: line.startswith("DELETED")))[1] == "web"
        assert watch.process.poll() is None


def test_watch_one_pod_by_name_and_by_label(echo_and_web: Node) -> None:
    """`get pod echo -w` watches with `fieldSelector=metadata.name=echo`, `-l` with a labelSelector."""
    node = echo_and_web
    with Watch(node, "get", "pod", "echo", "-w") as by_name, Watch(node, "get", "pods", "-l", "app=web", "-w") as by_label:
        by_name.expect(lambda line: line.startswith("echo "))
        by_label.expect(lambda line: line.startswith("web "))
        ok(node.kubectl("label", "pod", "web", "step=1"))
        ok(node.kubectl("label", "pod", "echo", "step=2"))
        assert row(by_name.expect(lambda line: not line.startswith("NAME")))[0] == "echo"
        assert row(by_label.expect(lambda line: not line.startswith("NAME")))[0] == "web"
        assert [row(line)[0] for line in by_name.seen[1:]] == ["echo", "echo"], "web's change is not echo's business"
        assert {row(line)[0] for line in by_label.seen[1:]} == {"web"}, "nor echo's web's"


def test_watch_events_all_namespaces(echo_and_web: Node) -> None:
    node = echo_and_web
    with Watch(node, "get", "events", "-A", "-w") as watch:
        assert row(watch.expect(lambda line: line.startswith("NAMESPACE")))[:3] == ["NAMESPACE", "LAST", "SEEN"]
        newcomer = f"newcomer-{uuid.uuid4().hex[:8]}"  # not in the events listed first: events outlive pods
        create(node, sleeper(newcomer))
        scheduled = row(watch.expect(lambda line: f"pod/{newcomer} " in line and " Scheduled " in line))
        assert scheduled[0] == "default"
        watch.expect(lambda line: f"pod/{newcomer} " in line and " Started " in line)


# --- describe -------------------------------------------------------------------------------------------------------


def test_describe_pods_prints_what_we_print(echo_and_web: Node) -> None:
    node = echo_and_web
    create(node, pod_manifest("bad", image="minikubelet.local/not-there:1", pull="Never"))
    create(node, pod_manifest("done", command=["true"], restartPolicy="Never"))
    assert eventually(lambda: phase(node, "done") == "Succeeded", timeout=30)
    assert eventually(lambda: "ErrImageNeverPull" in node.kubectl("describe", "pod", "bad").stdout)
    described = agrees(node, "describe", "pod/echo").stdout
    # The events come from GET events?fieldSelector=involvedObject.name=echo,...,involvedObject.uid=<uid>.
    assert re.search(
        rf"Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default/echo to {node_name(node)}", described
    )
    assert "pod/web" not in described and "default/web" not in described
    agrees(node, "describe", "pod", "echo")
    # kubectl 1.37 shows the events of a single object only, unless --show-events says otherwise.
    every = agrees(node, "describe", "pods").stdout
    assert [line.split()[1] for line in every.splitlines() if line.startswith("Name:")] == ["bad", "done", "echo", "web"]
    assert "Events:" not in every and "Events:" not in agrees(node, "describe", "pod", "echo", "web").stdout
    assert agrees(node, "describe", "pods", "--show-events").stdout.count("\nEvents:\n") == 4
    quiet = agrees(
        node,
        "describe",
        "pod",
        "echo",
        "--show-events=false",
        reference=lambda: ours(node, "describe", "pod", "echo", "--no-show-events"),
    )
    assert "Events:" not in quiet.stdout
    assert "Warning  ErrImageNeverPull" in agrees(node, "describe", "pod", "bad").stdout
    by_label = agrees(node, "describe", "pods", "-l", "app=web").stdout
    assert by_label.startswith("Name:         web\n") and "\nEvents:\n" in by_label
    # A name that matches nothing describes the pods it is a prefix of (without events), each then a newline.
    prefixed = agrees(node, "describe", "pod", "ec").stdout
    assert prefixed.startswith("Name:         echo\n") and prefixed.endswith("\n\n") and "Events:" not in prefixed


def _node_events(node: Node, name: str, uid: str) -> str:
    """Two events about the node, as a real cluster records them: the node controller against the node's uid,
    the kubelet against its name (kubectl describe node asks for both)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    events = []
    for event_name, reason, involved_uid, component in (
        ("mk-test.registered", "RegisteredNode", uid, "node-controller"),
        ("mk-test.starting", "Starting", name, "kubelet"),
    ):
        events.append(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": event_name, "namespace": "default"},
                "involvedObject": {"kind": "Node", "name": name, "uid": involved_uid},
                "reason": reason,
                "message": f"{reason} for {name}",
                "type": "Normal",
                "source": {"component": component},
                "firstTimestamp": now,
                "lastTimestamp": now,
                "count": 1,
            }
        )
    return yaml.safe_dump_all(events)  # documents, not a List: kubectl would validate a List itself (OpenAPI v2)


@pytest.fixture
def node_events(node: Node) -> Iterator[None]:
    name = node_name(node)
    uid = ok(node.kubectl("get", "node", name, "-o", "jsonpath={.metadata.uid}"))
    try:
        ok(node.kubectl("create", "-f", "-", stdin=_node_events(node, name, uid)))
        yield
    finally:
        node.kubectl("delete", "event", "mk-test.registered", "mk-test.starting")


def test_describe_node_prints_what_we_print(echo_and_web: Node, node_events: None) -> None:
    node = echo_and_web
    name = node_name(node)
    create(node, pod_manifest("done", command=["true"], restartPolicy="Never"))
    assert eventually(lambda: phase(node, "done") == "Succeeded", timeout=30)
    described = agrees(node, "describe", "node").stdout
    assert described.startswith(f"Name:               {name}\n")
    # The Lease comes from GET /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/<node>.
    assert re.search(
        rf"Lease:\n  HolderIdentity:  {re.escape(name)}\n  AcquireTime:     <unset>\n  RenewTime:       \w", described
    )
    # Pods from GET pods?fieldSelector=spec.nodeName=<node>,status.phase!=Succeeded,status.phase!=Failed.
    assert re.search(r"^Non-terminated Pods:\s+\(2 in total\)$", described, flags=re.MULTILINE)
    listed = re.findall(r"^  default\s+(\S+)", described, flags=re.MULTILINE)
    assert listed == ["echo", "web"]
    # Events by the node's uid and by its name, merged.
    assert re.search(r"Normal\s+RegisteredNode\s+\S+\s+node-controller\s+RegisteredNode for", described)
    assert re.search(r"Normal\s+Starting\s+\S+\s+kubelet\s+Starting for", described)
    agrees(node, "describe", "nodes", name)
    agrees(node, "describe", f"node/{name}")


def test_the_node_lease_is_served(node: Node) -> None:
    name = node_name(node)
    lease = json.loads(ok(node.kubectl("get", "lease", name, "-n", "kube-node-lease", "-o", "json")))
    assert (lease["kind"], lease["spec"]["holderIdentity"], lease["spec"]["leaseDurationSeconds"]) == ("Lease", name, 40)
    assert lease["metadata"]["ownerReferences"][0]["kind"] == "Node"
    listed = columns(ok(node.kubectl("get", "leases", "-A")))
    assert [(r["NAMESPACE"], r["NAME"], r["HOLDER"]) for r in listed] == [("kube-node-lease", name, name)]
    missing = node.kubectl("get", "lease", "nope", "-n", "kube-node-lease")
    assert (missing.returncode, missing.stderr) == (
        1,
        'Error from server (NotFound): leases.coordination.k8s.io "nope" not found\n',
    )


# --- version, api-resources, unserved types -------------------------------------------------------------------------


def test_version_shows_our_server_version(node: Node) -> None:
    theirs = ok(node.kubectl("version"))
    server = [line for line in theirs.splitlines() if line.startswith("Server Version: ")]
    assert server == [line for line in ours(node, "version").splitlines() if line.startswith("Server Version: ")]
    assert server[0].startswith("Server Version: v1.37.") and "minikubelet" in server[0]


def test_api_resources_lists_what_we_serve(node: Node) -> None:
    table = columns(ok(node.kubectl("api-resources", "-o", "wide")))
    served = {
        r["NAME"]: (r["SHORTNAMES"], r["APIVERSION"], r["NAMESPACED"], r["KIND"], r["VERBS"], r["CATEGORIES"]) for r in table
    }
    full = "create,delete,get,list,patch,update,watch"
    assert served == {
        "events": ("ev", "v1", "true", "Event", full, ""),
        "namespaces": ("ns", "v1", "false", "Namespace", full, ""),
        "nodes": ("no", "v1", "false", "Node", full, ""),
        "pods": ("po", "v1", "true", "Pod", full, "all"),
        "leases": ("", "coordination.k8s.io/v1", "true", "Lease", "get,list", ""),
        "selfsubjectreviews": ("", "authentication.k8s.io/v1", "false", "SelfSubjectReview", "create", ""),
        "selfsubjectaccessreviews": ("", "authorization.k8s.io/v1", "false", "SelfSubjectAccessReview", "create", ""),
        "selfsubjectrulesreviews": ("", "authorization.k8s.io/v1", "false", "SelfSubjectRulesReview", "create", ""),
    }
    reviews = ("selfsubjectreviews.authentication.k8s.io", "selfsubjectaccessreviews.authorization.k8s.io")
    unscoped = "\n".join(["namespaces", "nodes", *reviews, "selfsubjectrulesreviews.authorization.k8s.io"]) + "\n"
    assert ok(node.kubectl("api-resources", "--namespaced=false", "-o", "name")) == unscoped
    assert ok(node.kubectl("api-resources", "--verbs=watch", "-o", "name")) == "events\nnamespaces\nnodes\npods\n"
    assert ok(node.kubectl("api-resources", "--categories=all", "-o", "name")) == "pods\n"
    # The short names resolve through the same discovery.
    assert ok(node.kubectl("get", "no", "-o", "name")) == f"node/{node_name(node)}\n"


@pytest.mark.parametrize(
    ("words", "named"),
    [
        (["get", "deployments"], '"deployments"'),
        (["get", "svc"], '"svc"'),
        (["get", "deployments.apps"], '"deployments" in group "apps"'),  # kubectl 1.37 names the group
        (["get", "configmaps,pods"], '"configmaps"'),
        (["describe", "jobs"], '"jobs"'),
    ],
)
def test_an_unserved_resource_type_is_kubectls_usual_error(node: Node, words: list[str], named: str) -> None:
    result = node.kubectl(*words)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: the server doesn't have a resource type {named}\n"
