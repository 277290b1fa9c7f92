"""What lint does with each kind of document: Pods, pod templates, other kinds, Lists, invalid and unreadable input."""

from __future__ import annotations

from pathlib import Path

from minikubelet.lint import lint_sources, lint_text, read_sources
from minikubelet.lint.schema import field_path, schema_findings

ROOT = Path(__file__).resolve().parents[3]

POD = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
    - name: app
      image: i:1
      readinessProbe:
        tcpSocket: {{port: 80}}
        timeoutSeconds: {timeout}
"""


def summary(text: str, fmt: str = "yaml") -> list[tuple[str, str, str, str]]:
    result = lint_text(text, "m.yml", "json" if fmt == "json" else "yaml")
    assert not result.errors, result.errors
    return [(f.object, f.rule, f.severity.value, f.field) for f in result.findings]


def test_multi_document_yaml() -> None:
    text = POD.format(name="a", timeout=1) + "---\n" + POD.format(name="b", timeout=10)
    result = lint_text(text, "m.yml")
    assert result.objects == [("m.yml", "pod/a"), ("m.yml", "pod/b")]
    assert [(f.object, f.rule) for f in result.findings] == [("pod/b", "timeout-period")]


def test_json() -> None:
    text = '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j"}, "spec": {"containers": [{"name": "a", "image": "i"}]}}'
    assert summary(text, "json") == []


def test_invalid_pods_get_both_opinions_and_no_probe_rules() -> None:
    text = POD.format(name="Bad_Name", timeout=10).replace("tcpSocket", "tcpSokcet")
    assert summary(text) == [
        ("pod/Bad_Name", "schema", "error", "spec.containers[0].readinessProbe.tcpSokcet"),
        ("pod/Bad_Name", "invalid", "error", "spec.containers[0].readinessProbe.tcpSokcet"),
        ("pod/Bad_Name", "invalid", "error", "metadata.name"),
        ("pod/Bad_Name", "invalid", "error", "spec.containers[0].readinessProbe"),
    ]


def test_schema_reports_every_error_with_kubernetes_field_paths() -> None:
    document = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "x", "labels": {"version": 1.0}},
        "spec": {"containers": [{"name": "a", "livenessProbe": {"periodSeconds": "ten", "httpGet": {"port": [1]}}}]},
    }
    findings = [(f.field, f.message) for f in schema_findings(document)]
    assert findings == [
        ("metadata.labels[version]", "1.0 is not of type 'string' (Kubernetes v1.37.0 OpenAPI schema)"),
        (
            "spec.containers[0].livenessProbe.httpGet.port",
            "[1] is neither string nor integer (Kubernetes v1.37.0 OpenAPI schema)",
        ),
        ("spec.containers[0].livenessProbe.periodSeconds", "'ten' is not of type 'integer' (Kubernetes v1.37.0 OpenAPI schema)"),
    ]
    assert field_path(["spec", "containers", 0, "image"], "items[2]") == "items[2].spec.containers[0].image"


def test_a_pod_template_is_linted_with_its_field_paths() -> None:
    text = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports: [{name: http, containerPort: 80}]
          livenessProbe: {httpGet: {port: htp}}
"""
    assert summary(text) == [
        ("deployment/web", "kind", "info", ""),
        ("deployment/web", "probe-port", "error", "spec.template.spec.containers[0].livenessProbe.httpGet.port"),
    ]


def test_cronjob_template_and_invalid_template() -> None:
    text = """apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Sometimes
          containers: [{name: job, image: "busybox:1.36"}]
"""
    assert summary(text) == [
        ("cronjob/nightly", "kind", "info", ""),
        ("cronjob/nightly", "invalid", "error", "spec.jobTemplate.spec.template.spec.restartPolicy"),
    ]


def test_other_kinds_get_the_schema_check_alone() -> None:
    service = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}], typo: 1}\n"
    assert summary(service) == [("service/s", "schema", "error", "spec.typo"), ("service/s", "kind", "info", "")]
    unknown = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"
    assert summary(unknown) == [("widget/w", "kind", "warning", "")]


def test_list_items_are_linted_with_their_index() -> None:
    text = "apiVersion: v1\nkind: List\nitems:\n" + "".join(
        "  - " + line + "\n" if i == 0 else "    " + line + "\n"
        for doc in (POD.format(name="a", timeout=1), POD.format(name="b", timeout=10))
        for i, line in enumerate(doc.splitlines())
    )
    assert summary(text) == [("pod/b", "timeout-period", "warning", "items[1].spec.containers[0].readinessProbe")]


def test_bad_input_is_an_error_not_a_finding(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text("apiVersion: v1\nkind: Pod\n metadata: x\n")
    (tmp_path / "nokind.yml").write_text("metadata: {name: x}\n")
    (tmp_path / "scalar.yml").write_text("just text\n")
    (tmp_path / "notes.txt").write_text("ignored")
    sources, errors = read_sources([str(tmp_path), str(tmp_path / "missing.yml")])
    result = lint_sources(sources)
    lines = [line for error in errors + result.errors for line in error.lines()]
    assert [s.name for s in sources] == [str(tmp_path / n) for n in ("bad.yml", "nokind.yml", "scalar.yml")]
    assert lines[0] == f"{tmp_path / 'missing.yml'}: the path does not exist"
    assert lines[1].startswith(f"{tmp_path / 'bad.yml'}: error parsing YAML at line 3")
    assert lines[2:] == [
        f"{tmp_path / 'nokind.yml'}: apiVersion and kind must be set (strings)",
        f"{tmp_path / 'scalar.yml'}: expected an object (a mapping of fields), got str",
    ]
    assert result.findings == [] and result.objects == []


def test_the_repository_manifests_are_clean_but_for_known_findings() -> None:
    sources, errors = read_sources([str(ROOT / "manifests")])
    result = lint_sources(sources)
    assert not errors and not result.errors
    assert len(result.objects) == len(sources)
    assert [(f.object, f.rule) for f in result.findings] == [("pod/echo-health", "liveness-as-readiness")]
