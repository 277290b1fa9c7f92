"""`minikubelet lint`, through typer's runner: output, `-o json`, exit codes 0, 1 and 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from minikubelet.cli.main import app

ROOT = Path(__file__).resolve().parents[3]
MANIFESTS = ROOT / "manifests"
POD = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
    - name: app
      image: i:1
      livenessProbe:
        httpGet: {{port: 8080}}
        timeoutSeconds: {timeout}
"""

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_node_record(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty node state dir: the developer's own start record (rule slow-start-image) must not count here."""
    monkeypatch.setenv("MINIKUBELET_HOME", str(tmp_path_factory.mktemp("lint-home")))


def test_nothing_found_exits_0() -> None:
    result = runner.invoke(app, ["lint", "-f", str(MANIFESTS / "startup-probe.yml"), "--starts-within", "90s"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{MANIFESTS / 'startup-probe.yml'}: pod/slow-start: nothing found\n"
    assert result.stderr == ""


def test_a_warning_exits_1_one_finding_per_line(tmp_path: Path) -> None:
    manifest = tmp_path / "pod.yml"
    manifest.write_text(POD.format(name="p", timeout=10))
    result = runner.invoke(app, ["lint", "-f", str(manifest), "--starts-within", "1m30s"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"{manifest}: pod/p"
    assert lines[1].startswith("WARN  spec.containers[0].livenessProbe: can kill the container 20s after it starts")
    assert lines[2].startswith("WARN  spec.containers[0].livenessProbe: timeoutSeconds 10 >= periodSeconds 10")
    assert len(lines) == 3


def test_info_alone_exits_0(tmp_path: Path) -> None:
    manifest = tmp_path / "pod.yml"
    manifest.write_text(
        POD.format(name="p", timeout=1).replace("livenessProbe", "readinessProbe") + "        initialDelaySeconds: 40\n"
    )
    result = runner.invoke(app, ["lint", "-f", str(manifest)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].startswith("INFO  spec.containers[0].readinessProbe.initialDelaySeconds: ")


def test_json_output_is_a_list_of_findings(tmp_path: Path) -> None:
    manifest = tmp_path / "pod.yml"
    manifest.write_text(POD.format(name="p", timeout=10))
    result = runner.invoke(app, ["lint", "-f", str(manifest), "-o", "json"])
    assert result.exit_code == 1
    findings = json.loads(result.stdout)
    assert findings == [
        {
            "source": str(manifest),
            "object": "pod/p",
            "rule": "timeout-period",
            "severity": "warning",
            "container": "app",
            "field": "spec.containers[0].livenessProbe",
            "message": findings[0]["message"],
        }
    ]
    clean = runner.invoke(app, ["lint", "-f", str(MANIFESTS / "echo-pod.yml"), "-o", "json"])
    assert (clean.exit_code, json.loads(clean.stdout)) == (0, [])


def test_invalid_manifest_is_findings_exit_1() -> None:
    path = MANIFESTS / "invalid" / "negative-period.yml"
    result = runner.invoke(app, ["lint", "-f", str(path)])
    assert result.exit_code == 1
    assert result.stdout == (
        f"{path}: pod/echo\n"
        "ERROR spec.containers[0].livenessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0"
        " (minikubelet's validation)\n"
    )


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (["-f", "{dir}/missing.yml"], "{dir}/missing.yml: the path does not exist\n"),
        (
            ["-f", "{dir}/bad.yml"],
            "{dir}/bad.yml: error parsing YAML at line 2, column 8: mapping values are not allowed in this context\n",
        ),
        (["-f", "{dir}/empty.yml"], "error: no objects passed to lint\n"),
    ],
)
def test_bad_input_exits_2_without_a_traceback(tmp_path: Path, args: list[str], stderr: str) -> None:
    (tmp_path / "bad.yml").write_text("kind: Pod\nspec: a: b\n")
    (tmp_path / "empty.yml").write_text("# nothing\n")
    result = runner.invoke(app, ["lint", *[a.format(dir=tmp_path) for a in args]])
    assert result.exit_code == 2
    assert result.stderr == stderr.format(dir=tmp_path)
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_good_and_bad_input_together_exit_2_with_the_findings_printed(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(POD.format(name="p", timeout=10))
    result = runner.invoke(app, ["lint", "-f", str(tmp_path / "a.yml"), "-f", str(tmp_path / "nope.yml")])
    assert result.exit_code == 2
    assert "timeoutSeconds 10 >= periodSeconds 10" in result.stdout
    assert result.stderr == f"{tmp_path / 'nope.yml'}: the path does not exist\n"


@pytest.mark.parametrize("value", ["90", "ninety", "-5s", "1d"])
def test_bad_duration_is_a_usage_error(value: str) -> None:
    result = runner.invoke(app, ["lint", "-f", str(MANIFESTS / "echo-pod.yml"), "--starts-within", value])
    assert result.exit_code == 2
    said = " ".join(result.stderr.replace("│", " ").split())  # typer's error box, unwrapped
    assert "Invalid value for --starts-within" in said and f'invalid duration "{value}"' in said


def test_stdin() -> None:
    result = runner.invoke(app, ["lint", "-f", "-"], input=POD.format(name="s", timeout=1))
    assert result.exit_code == 0, result.output
    assert result.stdout == "<stdin>: pod/s: nothing found\n"


def test_check_images_without_docker_says_nothing_about_images(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    path = MANIFESTS / "lint" / "exec-programs.yml"
    result = runner.invoke(app, ["lint", "-f", str(path), "--check-images"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{path}: pod/exec-programs: nothing found\n"
