"""`minikubelet apply --dry-run=client` and `version`, through typer's runner and as a real process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from minikubelet.cli.main import app

ROOT = Path(__file__).resolve().parents[3]
MANIFESTS = ROOT / "manifests"
POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n    - name: app\n      image: i:1\n"

runner = CliRunner()


def test_dry_run_prints_one_line_per_object(tmp_path: Path) -> None:
    manifest = tmp_path / "pods.yml"
    manifest.write_text(POD.format(name="one") + "---\n" + POD.format(name="two"))
    result = runner.invoke(app, ["apply", "--dry-run=client", "-f", str(manifest)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "pod/one created (dry run)\npod/two created (dry run)\n"
    assert result.stderr == ""


def test_invalid_manifest_exits_1_with_field_errors_on_stderr() -> None:
    path = MANIFESTS / "invalid" / "negative-period.yml"
    result = runner.invoke(app, ["apply", "--dry-run=client", "-f", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f'{path}: The Pod "echo" is invalid: spec.containers[0].livenessProbe.periodSeconds: Invalid value: -1:'
        " must be greater than or equal to 0\n"
    )


def test_valid_and_invalid_documents_are_both_reported(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(POD.format(name="good"))
    (tmp_path / "b.yaml").write_text(POD.format(name="-bad"))
    (tmp_path / "notes.txt").write_text("not a manifest")
    result = runner.invoke(app, ["apply", "--dry-run=client", "-f", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout == "pod/good created (dry run)\n"
    assert result.stderr.startswith(f'{tmp_path / "b.yaml"}: The Pod "-bad" is invalid: metadata.name: Invalid value')


def test_stdin(tmp_path: Path) -> None:
    result = runner.invoke(app, ["apply", "--dry-run=client", "-f", "-"], input=POD.format(name="from-stdin"))
    assert result.exit_code == 0
    assert result.stdout == "pod/from-stdin created (dry run)\n"


def test_directories_are_read_recursively_only_with_r(tmp_path: Path) -> None:
    (tmp_path / "top.yml").write_text(POD.format(name="top"))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.json").write_text(
        '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "deep"},'
        ' "spec": {"containers": [{"name": "a", "image": "i:1"}]}}'
    )
    flat = runner.invoke(app, ["apply", "--dry-run=client", "-f", str(tmp_path)])
    deep = runner.invoke(app, ["apply", "--dry-run=client", "-R", "-f", str(tmp_path)])
    assert flat.stdout == "pod/top created (dry run)\n"
    assert deep.stdout == "pod/deep created (dry run)\npod/top created (dry run)\n"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({}, "{dir}: no manifests (*.yaml, *.yml, *.json) in this directory\n"),
        ({"empty.yml": "# nothing\n"}, "error: no objects passed to apply\n"),
        ({"bin.yml": b"\xff\xfe\x00garbage"}, "{dir}/bin.yml: not UTF-8 text (byte 0 is 0xff): is this a manifest?\n"),
    ],
)
def test_nothing_to_apply_is_an_error(tmp_path: Path, files: dict[str, str | bytes], expected: str) -> None:
    for name, content in files.items():
        target = tmp_path / name
        target.write_bytes(content) if isinstance(content, bytes) else target.write_text(content)
    result = runner.invoke(app, ["apply", "--dry-run=client", "-f", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr == expected.format(dir=tmp_path)


def test_a_missing_path_is_named(tmp_path: Path) -> None:
    result = runner.invoke(app, ["apply", "--dry-run=client", "-f", str(tmp_path / "nope.yml")])
    assert result.exit_code == 1
    assert result.stderr == f"{tmp_path / 'nope.yml'}: the path does not exist\n"


def test_nothing_is_sent_when_a_document_is_invalid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad manifest fails before any node is contacted (or started): nothing half-applied."""
    monkeypatch.setenv("MINIKUBELET_HOME", str(tmp_path / "home"))
    manifest = tmp_path / "pods.yml"
    manifest.write_text(POD.format(name="good") + "---\n" + POD.format(name="Bad"))
    result = runner.invoke(app, ["apply", "-f", str(manifest)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert 'The Pod "Bad" is invalid' in result.stderr
    assert not (tmp_path / "home").exists()


def test_usage_errors_exit_2() -> None:
    assert runner.invoke(app, ["apply", "--dry-run=maybe", "-f", "x"]).exit_code == 2
    assert runner.invoke(app, ["apply"]).exit_code == 2


def test_version() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("Client Version: minikubelet v")
    assert "v1.37" in result.stdout


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "minikubelet", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_python_dash_m_never_shows_a_traceback_for_bad_input() -> None:
    invalid = sorted(str(p) for p in (MANIFESTS / "invalid").iterdir())
    process = run_cli("apply", "--dry-run=client", *[arg for path in invalid for arg in ("-f", path)])
    assert process.returncode == 1
    assert "Traceback" not in process.stderr
    assert process.stdout == ""
    assert len(process.stderr.splitlines()) >= len(invalid)


def test_a_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    from minikubelet.api.loading import MAX_MANIFEST_BYTES

    big = tmp_path / "big.yml"
    with big.open("wb") as handle:
        handle.truncate(MAX_MANIFEST_BYTES + 1)
    result = runner.invoke(app, ["apply", "--dry-run=client", "-f", str(big)])
    assert result.exit_code == 1
    assert result.stderr == f"{big}: too large: {MAX_MANIFEST_BYTES + 1} bytes, the limit is {MAX_MANIFEST_BYTES}\n"
