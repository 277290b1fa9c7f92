"""`minikubelet get -o jsonpath|custom-columns`, `--sort-by`, `-L`, `-w --output-watch-events` through typer's
runner, against a fake API (the same objects a node serves). The expected bytes are kubectl 1.37's for the
same objects (tests/kubectl/test_kubectl_get_output.py compares with the real kubectl against a real node)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from minikubelet.cli import get as get_module
from minikubelet.cli.main import app
from minikubelet.errors import NotFoundError
from minikubelet.printing.tables import pod_table

NOW = datetime.now(UTC)
runner = CliRunner()


def pod(name: str, grace: int, labels: dict[str, str] | None = None, cpu: str | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": "busybox"}
    if cpu:
        container["resources"] = {"requests": {"cpu": cpu}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "labels": labels or {},
            "resourceVersion": "7",
            "creationTimestamp": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "managedFields": [{"manager": "kubectl"}],
        },
        "spec": {"containers": [container], "terminationGracePeriodSeconds": grace},
        "status": {"phase": "Running"},
    }


PODS = [pod("web", 5, {"app": "web", "tier": "front"}, "100m"), pod("db", 1, {"app": "db"}, "1"), pod("cache", 30)]


class FakeClient:
    def __init__(self, events: list[tuple[str, dict[str, Any]]] | None = None) -> None:
        self.events = events or []

    def __enter__(self) -> FakeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def _pods(self, path: str) -> list[dict[str, Any]]:
        name = path.rsplit("/pods", 1)[1].strip("/")
        if not name:
            return PODS
        found = [p for p in PODS if p["metadata"]["name"] == name]
        if not found:
            raise NotFoundError(f'pods "{name}" not found', kind="pods", name=name)
        return found

    def get(self, path: str, *, params: dict[str, str] | None = None, table: bool = False) -> Any:
        pods = self._pods(path)
        named = not path.endswith("/pods")
        if table:
            include = (params or {}).get("includeObject", "Metadata")
            return pod_table(pods, now=NOW, include_object=include, resource_version="9")
        return pods[0] if named else {"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "9"}, "items": pods}

    def watch(self, path: str, *, params: dict[str, str] | None = None, table: bool = False) -> Iterator[tuple[str, Any]]:
        for kind, obj in self.events:
            yield kind, pod_table([obj], now=NOW) if table else obj


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeClient:
    client = FakeClient()
    monkeypatch.setattr(get_module, "connect", lambda: client)
    return client


def get(*args: str) -> Any:
    return runner.invoke(app, ["get", *args])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["pods", "-o", "jsonpath={.items[*].metadata.name}"], "web db cache"),
        (["pod", "web", "-o", 'jsonpath={.metadata.labels}{"\\n"}'], '{"app":"web","tier":"front"}\n'),
        (["pods", "-o", "jsonpath={.items[*].spec.terminationGracePeriodSeconds}"], "5 1 30"),
        (
            ["pods", "-o", 'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.status.phase}{"\\n"}{end}'],
            "web\tRunning\ndb\tRunning\ncache\tRunning\n",
        ),
        (["pods", "-o", 'jsonpath={.items[?(@.metadata.labels.app=="db")].metadata.name}'], "db"),
        (["pods", "-o", "jsonpath={.items[0].metadata.managedFields[0].manager}"], "kubectl"),  # kept, as kubectl does
        (["pods", "-o", "jsonpath", "--template={.kind}"], "List"),
        (["pod", "web", "-o", "jsonpath-as-json={.spec.containers[*].name}"], '[\n    "app"\n]\n'),
        (["pods", "-o", "jsonpath={.items[*].metadata.name}", "--sort-by=.spec.terminationGracePeriodSeconds"], "db web cache"),
        (["pods", "-o", "name", "--sort-by=.metadata.name"], "pod/cache\npod/db\npod/web\n"),
        (
            [
                "pods",
                "-o",
                "custom-columns=NAME:.metadata.name,cpu:.spec.containers[*].resources.requests.cpu,L:.metadata.labels",
            ],
            "NAME    cpu      L\nweb     100m     map[app:web tier:front]\n"
            "db      1        map[app:db]\ncache   <none>   map[]\n",
        ),
        (
            [
                "pods",
                "-o",
                "custom-columns=N:metadata.name",
                "--no-headers",
                "--sort-by={.spec.containers[0].resources.requests.cpu}",
            ],
            "cache\nweb\ndb\n",
        ),
    ],
)
def test_outputs(fake: FakeClient, args: list[str], expected: str) -> None:
    result = get(*args)
    assert (result.exit_code, result.stdout, result.stderr) == (0, expected, "")


def test_tables_with_label_columns_and_sort_by(fake: FakeClient) -> None:
    result = get("pods", "-L", "app", "-L", "tier,example.com/team", "--sort-by=.metadata.name")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "APP", "TIER", "TEAM"]
    assert [line.split()[0] for line in lines[1:]] == ["cache", "db", "web"]
    assert lines[3].split()[-2:] == ["web", "front"]


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (["pods", "-o", "jsonpath={.foo"], "error: error parsing jsonpath {.foo, unclosed action\n"),
        (["pods", "-o", "jsonpath"], "error: template format specified but no template given\n"),
        (["pods", "-o", "custom-columns=A"], "error: unexpected custom-columns spec: A, expected <header>:<json-path-expr>\n"),
        (["pods", "-o", "json", "--show-labels"], "error: --show-labels option cannot be used with json printer\n"),
        (
            ["pods", "-o", "custom-columns=A:.a", "-L", "x"],
            "error: --label-columns option cannot be used with custom-columns=A:.a printer\n",
        ),
        (
            ["pods", "--output-watch-events"],
            "error: --output-watch-events option can only be used with --watch or --watch-only\n",
        ),
        (
            ["pods", "-o", "name", "--sort-by=.nope"],
            'error: couldn\'t find any field with path "{.nope}" in the list of objects\n',
        ),
        (
            ["pods", "-o", "foo"],
            'error: unable to match a printer suitable for the output format "foo", allowed formats are: '
            "custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,"
            "jsonpath-file,kyaml,name,template,templatefile,wide,yaml\n",
        ),
    ],
)
def test_bad_input_is_kubectls_error_line_and_exit_1(fake: FakeClient, args: list[str], stderr: str) -> None:
    result = get(*args)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_an_execution_error_prints_kubectls_debugging_message(fake: FakeClient) -> None:
    result = get("pod", "db", "-o", "jsonpath={.spec.containers[3]}")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(
        'error: error executing jsonpath "{.spec.containers[3]}": Error executing template: array index out of bounds: '
        "index 3, length 1. Printing more information for debugging the template:\n\ttemplate was:\n\t\t"
        '{.spec.containers[3]}\n\tobject given to jsonpath engine was:\n\t\tmap[string]interface {}{"apiVersion":"v1", '
    )
    assert result.stderr.endswith("}\n\n\n")


def test_a_failed_table_sort_prints_nothing_but_no_resources(fake: FakeClient) -> None:
    result = get("pods", "--sort-by=.nope")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "No resources found in default namespace.\n")


def test_a_missing_single_object_prints_only_the_error(fake: FakeClient) -> None:
    result = get("pod", "nope", "-o", "json")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", 'Error from server (NotFound): pods "nope" not found\n')


def test_json_is_gos_encoding(fake: FakeClient) -> None:
    result = get("pod", "web", "-o", "json")
    assert result.stdout.startswith(
        '{\n    "apiVersion": "v1",\n    "kind": "Pod",\n    "metadata": {\n        "creationTimestamp"'
    )
    assert "managedFields" not in result.stdout


def test_watch_with_events(fake: FakeClient) -> None:
    late = pod("a-much-longer-name", 1)
    fake.events = [("ADDED", late), ("DELETED", late)]
    table = get("pods", "-w", "--output-watch-events", "--sort-by=.metadata.name")
    lines = table.stdout.splitlines()
    assert table.stderr == "warning: --watch requested, --sort-by will be ignored for watch events received\n"
    assert [line[:11] + line[11:].split()[0] for line in lines] == [
        "EVENT      NAME",
        "ADDED      cache",
        "ADDED      db",
        "ADDED      web",
        "ADDED      a-much-longer-name",
        "DELETED    a-much-longer-name",
    ]
    names = get("pods", "-w", "-o", "name")
    assert names.stdout == "pod/web\npod/db\npod/cache\npod/a-much-longer-name\npod/a-much-longer-name\n"
    events = get("pods", "--watch-only", "--output-watch-events", "-o", "jsonpath={.type} {.object.metadata.name};")
    assert events.stdout == "ADDED a-much-longer-name;DELETED a-much-longer-name;"
    as_json = get("pods", "--watch-only", "--output-watch-events", "-o", "json")
    assert as_json.stdout.splitlines()[0].startswith('{"type":"ADDED","object":{"apiVersion":"v1","kind":"Pod","metadata":{')
    assert '"managedFields"' in as_json.stdout  # kubectl cannot omit them from inside a watch event
