"""`minikubelet test -f pod.yml`: a CI verdict on a manifest's pods: do they start, become Ready and stay up.

No kubectl counterpart (docs/ci.md). It reads every pod of the files (any invalid document, or anything but a
Pod, ends it with the bad-input code before anything is sent), starts the node when none runs (`--home` picks
another state directory), has the server validate every pod (a dry run) and only then creates them, replacing a
pod of the same name left from an earlier run. Then it watches the pods and their events: each pod must be Ready
within `--ready-within` of its creation, then stay Ready, without more than `--max-restarts` restarts and without
a probe kill, for `--hold`. What the kubelet says is final ends that pod's test at once (printing/verdict.py:
CrashLoopBackOff, an image that cannot be pulled, a container that cannot be created, a liveness or startup kill,
OOMKilled, a pod that reached Failed). One line per pod as its verdict falls; then, for each pod that failed, the
`why` narrative (printing/why.py); then `--junit` and `--artifacts`; then its pods are deleted (not with `--keep`).
Ctrl-C (or SIGTERM, as a CI runner cancelling a job sends) deletes them too.
"""

from __future__ import annotations

import contextlib
import json
import queue
import re
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from minikubelet.cli.common import eprint, format_status_error, parse_duration, start_node
from minikubelet.client import ApiClient, resource_path
from minikubelet.errors import AlreadyExistsError, MinikubeletError, NotFoundError, StatusError, UnavailableError
from minikubelet.node.kubeconfig import read_connection
from minikubelet.node.paths import NodePaths
from minikubelet.node.process import is_serving, read_pid
from minikubelet.printing.verdict import Failure, check_event, check_pod, is_ready, ready_message, restarts

if TYPE_CHECKING:
    from minikubelet.api.loading import Loaded

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_DEADLINE",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_NODE",
    "EXIT_PASSED",
    "test_command",
]

# The exit codes (docs/ci.md#exit-codes). Usage errors are typer's 2, which is bad input too.
EXIT_PASSED = 0  # every pod passed
EXIT_FAILED = 1  # a pod failed (fail-fast, too many restarts, readiness lost, ...)
EXIT_BAD_INPUT = 2  # unreadable or invalid files, not a Pod, flags; nothing was applied
EXIT_DEADLINE = 3  # no pod failed, but one was not Ready within --ready-within
EXIT_NODE = 4  # the node could not start, or stopped answering
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM (the pods were deleted)

LOG_LINES = 1000  # the tail of each container's log that goes into the JUnit report's system-out
WATCH_RETRY = 0.1  # seconds before opening again a watch the server ended
_NO_KIND = re.compile(r'no matches for kind "([^"]+)"')


@dataclass(frozen=True)
class Limits:
    ready_within: float
    hold: float
    max_restarts: int


@dataclass
class PodTest:
    """One pod's test: where it came from, what was last seen of it, and its verdict."""

    loaded: Loaded
    namespace: str
    name: str
    uid: str = ""
    created: float = 0.0  # time.monotonic() when the server accepted it
    ready_at: float | None = None
    finished: float | None = None
    outcome: str = ""  # passed, failed, timeout, error
    failure: Failure | None = None
    pod: dict[str, Any] = field(default_factory=dict)
    narrative: str = ""
    logs: str = ""

    @property
    def label(self) -> str:
        return f"pod/{self.name}" if self.namespace == "default" else f"pod/{self.name} -n {self.namespace}"

    @property
    def seconds(self) -> float:
        end = self.finished if self.finished is not None else time.monotonic()
        return end - self.created if self.created else 0.0


FilenameOption = Annotated[
    list[str], typer.Option("--filename", "-f", help="File, directory or '-' (stdin) holding the pods to test.")
]


def test_command(
    filenames: FilenameOption,
    ready_within: Annotated[
        str, typer.Option("--ready-within", help="Each pod must be Ready this long after its creation (30s, 2m).")
    ] = "60s",
    hold: Annotated[
        str, typer.Option("--hold", help="Then it must stay Ready, without restarts or kills, this long (0: not at all).")
    ] = "30s",
    max_restarts: Annotated[int, typer.Option("--max-restarts", help="Restarts allowed per pod, in all containers.")] = 0,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write a JUnit XML report here.")] = None,
    artifacts: Annotated[
        Path | None, typer.Option("--artifacts", help="Write per pod its timeline, describe, logs and records here.")
    ] = None,
    keep: Annotated[bool, typer.Option("--keep", help="Leave the pods on the node afterwards.")] = False,
    home: Annotated[str, typer.Option("--home", help="The node's state directory (default $MINIKUBELET_HOME).")] = "",
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="Namespace for pods that name none.")] = "default",
    recursive: Annotated[bool, typer.Option("--recursive", "-R", help="Process directories under -f recursively.")] = False,
) -> None:
    """Test that the pods of the manifests start, become Ready and stay up: a verdict for CI, in seconds."""
    started = time.monotonic()
    limits = Limits(_duration(ready_within, "--ready-within"), _duration(hold, "--hold"), max_restarts)
    if max_restarts < 0:
        raise typer.BadParameter("must be 0 or more", param_hint="--max-restarts")
    tests = _read(filenames, recursive, namespace)
    paths = NodePaths.from_env(home or None)
    try:
        client = _connect(paths)
    except MinikubeletError as exc:
        eprint(f"error: the node could not start: {exc}")
        for test in tests:
            test.outcome, test.failure = "error", Failure("NodeUnavailable", f"the node could not start: {exc}")
        if junit is not None:
            _write_junit(junit, tests, time.monotonic() - started)
        raise typer.Exit(EXIT_NODE) from None
    with client, _sigterm_as_interrupt():
        code = _Run(client, tests, limits).execute(keep=keep, junit=junit, artifacts=artifacts, started=started)
    raise typer.Exit(code)


test_command.__test__ = False  # type: ignore[attr-defined]  # a command, not a pytest test


def _duration(text: str, option: str) -> float:
    seconds = parse_duration(text, option)
    if seconds < 0:
        raise typer.BadParameter(f"must not be negative: {text}", param_hint=option)
    return seconds


def _read(filenames: list[str], recursive: bool, namespace: str) -> list[PodTest]:
    """The pods to test; bad input (apply's own messages, and one more line for a kind that is not a Pod) exits 2."""
    from minikubelet.manifest import read_manifests

    result = read_manifests(filenames, recursive=recursive)
    lines = result.error_lines()
    for line in lines:
        eprint(line)
    kinds = sorted({m[1] for line in lines for m in _NO_KIND.finditer(line)})
    if kinds:
        eprint(
            f"error: minikubelet test runs only Pods (kind: Pod, apiVersion: v1), not {', '.join(kinds)}: "
            "put the pod template (its spec.template) in a Pod manifest of its own"
        )
    if lines:
        raise typer.Exit(EXIT_BAD_INPUT)
    if not result.objects:
        eprint("error: no objects passed to test")
        raise typer.Exit(EXIT_BAD_INPUT)
    tests: list[PodTest] = []
    seen: dict[tuple[str, str], str] = {}
    for loaded in result.objects:
        meta = loaded.obj.metadata
        test = PodTest(loaded, meta.namespace or namespace, meta.name)
        key = (test.namespace, meta.name)
        if meta.name and key in seen:
            eprint(f"error: {test.label} is in the manifests twice ({seen[key]} and {loaded.source})")
            raise typer.Exit(EXIT_BAD_INPUT)
        seen[key] = loaded.source
        tests.append(test)
    return tests


def _connect(paths: NodePaths) -> ApiClient:
    """A client for the node of `paths`, started first when none runs (saying so on stderr)."""
    if not is_serving(paths):
        if read_pid(paths) is None:
            eprint("Starting the minikubelet node in the background (`minikubelet down` stops it)...")
        start_node(paths)
    return ApiClient(read_connection(paths))


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a CI runner cancelling the job) cleans up as Ctrl-C does."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: nothing to install
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _NodeError(Exception):
    """The node stopped answering, or refused what it had accepted in the dry run."""


class _Run:
    def __init__(self, client: ApiClient, tests: list[PodTest], limits: Limits) -> None:
        self.client = client
        self.tests = tests
        self.limits = limits
        self.changes: queue.SimpleQueue[tuple[str, str, Any]] = queue.SimpleQueue()
        self.stop = threading.Event()

    # ------------------------------------------------------------------------------------------ the whole run

    def execute(self, *, keep: bool, junit: Path | None, artifacts: Path | None, started: float) -> int:
        node_error = ""
        interrupted = False
        try:
            try:
                if not self._dry_run():
                    return EXIT_BAD_INPUT
                self._watch()
                self._create()
                self._judge()
            except KeyboardInterrupt:
                interrupted = True
            except MinikubeletError as exc:
                status = isinstance(exc, StatusError) and not isinstance(exc, UnavailableError)
                node_error = format_status_error(exc) if isinstance(exc, StatusError) and status else str(exc)
            finally:
                self.stop.set()
            for test in self.tests:
                if not test.outcome:
                    why = "interrupted" if interrupted else f"the node stopped answering: {node_error}"
                    self._finish(test, "error", Failure("Interrupted" if interrupted else "NodeUnavailable", why))
            if not interrupted and not node_error:
                self._reports(junit=junit is not None, artifacts=artifacts)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if not keep:
                self._clean_up()
        if interrupted:
            eprint(f"interrupted: {'the pods are kept' if keep else 'the pods were deleted'}")
            return EXIT_INTERRUPTED
        self._print_narratives()
        if junit is not None:
            _write_junit(junit, self.tests, time.monotonic() - started)
        if node_error:
            eprint(f"error: the node stopped answering: {node_error}")
            return EXIT_NODE
        return self._summary(time.monotonic() - started)

    # ---------------------------------------------------------------------------------------- before the test

    def _dry_run(self) -> bool:
        """The server validates every pod before any is created (admission too: hostPath, privileged)."""
        ok = True
        for test in self.tests:
            try:
                self.client.request(
                    "POST", resource_path("pods", test.namespace), params={"dryRun": "All"}, body=self._body(test)
                )
            except AlreadyExistsError:
                pass  # valid; the one of an earlier run is replaced below
            except StatusError as exc:
                if exc.code >= 500:
                    raise
                eprint(f"{test.loaded.source}: {format_status_error(exc)}")
                ok = False
        return ok

    def _body(self, test: PodTest) -> dict[str, Any]:
        body = json.loads(json.dumps(test.loaded.raw))
        body.setdefault("metadata", {})["namespace"] = test.namespace
        return body  # type: ignore[no-any-return]

    def _watch(self) -> None:
        """Watch every pod and every event from now on, each in a thread feeding `changes`."""
        timeout = int(self.limits.ready_within + self.limits.hold) + 60
        for kind, resource in (("pod", "pods"), ("event", "events")):
            path = resource_path(resource, None)
            rv = self.client.get(path, params={"limit": 1})["metadata"].get("resourceVersion", "")
            thread = threading.Thread(target=self._pump, args=(kind, path, rv, timeout), name=f"test-watch-{kind}", daemon=True)
            thread.start()

    def _pump(self, kind: str, path: str, rv: str, timeout: int) -> None:
        while not self.stop.is_set():
            began = time.monotonic()
            try:
                for type_, obj in self.client.watch(path, params={"resourceVersion": rv, "timeoutSeconds": timeout}):
                    rv = (obj.get("metadata") or {}).get("resourceVersion", rv)
                    self.changes.put((kind, type_, obj))
                    if self.stop.is_set():
                        return
            except Exception as exc:  # handed to the main thread, which stops there
                if not self.stop.is_set():
                    self.changes.put(("error", "", exc))
                return
            if time.monotonic() - began < 1.0:  # ended at once: do not spin
                self.stop.wait(WATCH_RETRY)

    def _create(self) -> None:
        for test in self.tests:
            if test.name:
                try:
                    self.client.request(
                        "DELETE", resource_path("pods", test.namespace, test.name), body={"gracePeriodSeconds": 0}
                    )
                    eprint(f"{test.label} was on the node already (an earlier run's?): deleted it, to test a new one")
                except NotFoundError:
                    pass
            created = self.client.request(
                "POST", resource_path("pods", test.namespace), params={"fieldManager": "minikubelet-test"}, body=self._body(test)
            )
            test.created = time.monotonic()
            test.uid = created["metadata"]["uid"]
            test.name = created["metadata"]["name"]
            test.pod = created

    # -------------------------------------------------------------------------------------------- the verdicts

    def _judge(self) -> None:
        by_uid = {t.uid: t for t in self.tests}
        while True:
            pending = [t for t in self.tests if not t.outcome]
            if not pending:
                return
            wake = min(self._wake_at(t) for t in pending)
            try:
                kind, type_, obj = self.changes.get(timeout=max(0.0, wake - time.monotonic()))
            except queue.Empty:
                kind, type_, obj = "", "", None
            now = time.monotonic()
            if kind == "error":
                raise obj
            if kind == "pod":
                test = by_uid.get(obj["metadata"].get("uid", ""))
                if test is not None and not test.outcome:
                    self._on_pod(test, type_, obj, now)
            elif kind == "event":
                test = by_uid.get((obj.get("involvedObject") or {}).get("uid", ""))
                failure = check_event(obj)
                if test is not None and not test.outcome and failure is not None:
                    self._finish(test, "failed", failure, now)
            for test in pending:
                if not test.outcome and now >= self._wake_at(test):
                    self._on_deadline(test, now)

    def _wake_at(self, test: PodTest) -> float:
        if test.ready_at is None:
            return test.created + self.limits.ready_within
        return test.ready_at + self.limits.hold

    def _on_pod(self, test: PodTest, type_: str, pod: dict[str, Any], now: float) -> None:
        test.pod = pod
        if type_ == "DELETED":
            self._finish(test, "failed", Failure("Deleted", "the pod was deleted during its test"), now)
            return
        failure = check_pod(pod, max_restarts=self.limits.max_restarts)
        if failure is not None:
            self._finish(test, "failed", failure, now)
        elif is_ready(pod):
            if test.ready_at is None:
                test.ready_at = now
                if self.limits.hold <= 0:
                    self._finish(test, "passed", None, now)
        elif test.ready_at is not None:
            held = _secs(now - test.ready_at)
            self._finish(test, "failed", Failure("ReadinessLost", f"Ready, then not after {held}: {ready_message(pod)}"), now)

    def _on_deadline(self, test: PodTest, now: float) -> None:
        if test.ready_at is None:
            message = f"not Ready within {_secs(self.limits.ready_within)}: {ready_message(test.pod)}"
            self._finish(test, "timeout", Failure("DeadlineExceeded", message), now)
        else:
            self._finish(test, "passed", None, now)

    def _finish(self, test: PodTest, outcome: str, failure: Failure | None, now: float | None = None) -> None:
        test.outcome, test.failure = outcome, failure
        test.finished = now if now is not None else time.monotonic()
        typer.echo(_line(test, self.limits))

    # ------------------------------------------------------------------------------------------ after the test

    def _reports(self, *, junit: bool, artifacts: Path | None) -> None:
        """The narrative of each pod that did not pass, and what --junit and --artifacts want, while the pods exist."""
        for test in self.tests:
            if test.outcome == "passed" and not junit and artifacts is None:
                continue
            try:
                record = _Record.fetch(self.client, test, logs=junit or artifacts is not None, previous=artifacts is not None)
            except MinikubeletError as exc:
                test.narrative = f"(could not read the pod's record: {exc})"
                continue
            if test.outcome != "passed":
                test.narrative = record.narrative()
            test.logs = record.log_tail()
            if artifacts is not None:
                try:
                    record.write(artifacts / test.namespace / test.name, test, self.limits)
                except OSError as exc:
                    eprint(f"error: cannot write the artifacts of {test.label}: {exc}")

    def _clean_up(self) -> None:
        """Delete the pods this run created (only those: the uid is a precondition), at once (grace period 0).
        A second Ctrl-C meanwhile is ignored: it would leave pods behind."""
        try:
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        except ValueError:
            previous = None
        try:
            for test in self.tests:
                if not test.uid:
                    continue
                try:
                    self.client.request(
                        "DELETE",
                        resource_path("pods", test.namespace, test.name),
                        body={"gracePeriodSeconds": 0, "preconditions": {"uid": test.uid}},
                    )
                except NotFoundError:
                    pass  # gone already
                except MinikubeletError as exc:
                    eprint(f"warning: {test.label} could not be deleted: {exc}")
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    def _print_narratives(self) -> None:
        for test in self.tests:
            if test.outcome in ("failed", "timeout") and test.narrative:
                typer.echo(f"\n--- {test.label}: why")
                typer.echo(_escape(test.narrative).rstrip("\n"))

    def _summary(self, elapsed: float) -> int:
        counts = {o: sum(t.outcome == o for t in self.tests) for o in ("passed", "failed", "timeout")}
        n = len(self.tests)
        line = f"\n{n} pod{'s' if n != 1 else ''}: {counts['passed']} passed, {counts['failed']} failed"
        typer.echo(f"{line}, {counts['timeout']} not Ready in time ({elapsed:.2f}s)")
        if counts["failed"]:
            return EXIT_FAILED
        if counts["timeout"]:
            return EXIT_DEADLINE
        return EXIT_PASSED


# ---------------------------------------------------------------------------------------------- the records


@dataclass
class _Record:
    """What the node knows of one pod, read once its verdict has fallen."""

    pod: dict[str, Any]
    events: list[dict[str, Any]]
    attempts: dict[str, Any]
    transitions: dict[str, Any]
    logs: dict[str, str] = field(default_factory=dict)
    previous: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def fetch(cls, client: ApiClient, test: PodTest, *, logs: bool, previous: bool) -> _Record:
        from minikubelet.api.podutil import container_names

        path = resource_path("pods", test.namespace, test.name)
        pod = client.get(path)
        selector = f"involvedObject.name={test.name},involvedObject.namespace={test.namespace},involvedObject.uid={test.uid}"
        events = client.get(resource_path("events", test.namespace), params={"fieldSelector": selector})["items"]
        events.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))
        record = cls(pod, events, client.get(f"{path}/probes"), client.get(f"{path}/lifecycle"))
        for name in container_names(pod, ephemeral=False) if logs else []:
            record.logs[name] = _log(client, path, name, previous=False) or ""
            if previous:
                record.previous[name] = _log(client, path, name, previous=True)
        return record

    def narrative(self) -> str:
        from minikubelet.printing.why import diagnose, to_text

        diagnosis = diagnose(self.pod, self.events, self.attempts["items"], self.transitions["items"], now=datetime.now(UTC))
        return to_text(diagnosis)

    def log_tail(self) -> str:
        parts = []
        for name, text in self.logs.items():
            lines = text.splitlines()
            cut = f"(the last {LOG_LINES} of {len(lines)} lines)\n" if len(lines) > LOG_LINES else ""
            parts.append(f"==> container {name} <==\n{cut}" + "".join(line + "\n" for line in lines[-LOG_LINES:]))
        return "\n".join(parts)

    def write(self, directory: Path, test: PodTest, limits: Limits) -> None:
        from minikubelet.printing.describe import describe_pod
        from minikubelet.printing.timeline import build_timeline, to_svg

        directory.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        tz = datetime.now().astimezone().tzinfo
        timeline = build_timeline(self.pod, self.attempts["items"], self.transitions["items"], now=now)
        files = {
            "verdict.json": _json(_verdict(test, limits)),
            "pod.json": _json(self.pod),
            "events.json": _json({"kind": "EventList", "apiVersion": "v1", "items": self.events}),
            "probes.json": _json(self.attempts),
            "lifecycle.json": _json(self.transitions),
            "describe.txt": describe_pod(self.pod, self.events, now=now.astimezone()),
            "why.txt": self.narrative(),
            "timeline.svg": '<?xml version="1.0" encoding="UTF-8"?>\n' + to_svg(timeline, tz=tz) + "\n",
        }
        for name, text in files.items():
            (directory / name).write_text(text, encoding="utf-8")
        logs = directory / "logs"
        logs.mkdir(exist_ok=True)
        for name, text in self.logs.items():
            (logs / f"{name}.log").write_text(text, encoding="utf-8")
            before = self.previous.get(name)
            if before is not None:
                (logs / f"{name}.previous.log").write_text(before, encoding="utf-8")


def _log(client: ApiClient, path: str, container: str, *, previous: bool) -> str | None:
    """A container's log (of its previous instance with `previous`); None when there is none."""
    params = {"container": container, **({"previous": "true"} if previous else {})}
    try:
        return b"".join(client.stream(f"{path}/log", params=params)).decode("utf-8", errors="replace")
    except StatusError:
        return None


def _verdict(test: PodTest, limits: Limits) -> dict[str, Any]:
    return {
        "pod": test.name,
        "namespace": test.namespace,
        "file": test.loaded.source,
        "outcome": test.outcome,
        "reason": test.failure.reason if test.failure else "",
        "message": test.failure.message if test.failure else "",
        "seconds": round(test.seconds, 3),
        "readyAfterSeconds": round(test.ready_at - test.created, 3) if test.ready_at is not None else None,
        "restarts": restarts(test.pod),
        "limits": {"readyWithinSeconds": limits.ready_within, "holdSeconds": limits.hold, "maxRestarts": limits.max_restarts},
    }


def _json(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def _write_junit(path: Path, tests: list[PodTest], elapsed: float) -> None:
    from minikubelet.printing.junit import Case, Suite, junit_xml

    suites: dict[str, list[Case]] = {}
    for test in tests:
        message = f"{test.failure.reason}: {test.failure.message}" if test.failure else ""
        detail = f"{message}\n\n{test.narrative}" if test.narrative else message
        case = Case(
            test.label, test.loaded.source, test.seconds, test.outcome or "error", message,
            test.failure.reason if test.failure else "", detail, test.logs,
        )  # fmt: skip
        suites.setdefault(test.loaded.source, []).append(case)
    xml = junit_xml(
        [Suite(name, cases) for name, cases in suites.items()],
        name="minikubelet test",
        timestamp=datetime.now(),
        hostname=socket.gethostname(),
        time=elapsed,
    )
    try:
        path.write_text(xml, encoding="utf-8")
    except OSError as exc:
        eprint(f"error: cannot write the JUnit report {path}: {exc.strerror or exc}")


# ------------------------------------------------------------------------------------------------- the lines

_WORDS = {"passed": "PASS", "failed": "FAIL", "timeout": "TIMEOUT", "error": "ERROR"}


def _line(test: PodTest, limits: Limits) -> str:
    word = _WORDS.get(test.outcome, test.outcome.upper())
    if test.outcome == "passed":
        assert test.ready_at is not None
        n = restarts(test.pod)
        held = f", held {_secs(limits.hold)}" if limits.hold > 0 else ""
        text = f"Ready after {_secs(test.ready_at - test.created)}{held}, {n} restart{'s' if n != 1 else ''}"
    elif test.failure is not None:
        text = f"{test.failure.reason} after {_secs(test.seconds)}: {test.failure.message}"
    else:
        text = ""
    return _escape(f"{word:<7} {test.label}  {text}")


def _secs(seconds: float) -> str:
    if seconds >= 10 and float(seconds).is_integer():
        return f"{seconds:.0f}s"
    return f"{seconds:.2f}s".replace(".00s", "s")


def _escape(text: str) -> str:
    """What the app or the engine wrote, with its terminal escapes made visible (as `why` prints it)."""
    from minikubelet.printing.render import escape_terminal

    return escape_terminal(text)
