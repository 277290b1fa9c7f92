"""`minikubelet simulate`, through typer's runner: the text, `-o json`, several pods, and bad input (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from minikubelet.cli.main import app

POD = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
    - name: app
      image: minikubelet.local/echo:v1
      livenessProbe:
        httpGet: {{path: /healthz, port: 8080}}
        periodSeconds: 5
        failureThreshold: 1
"""

runner = CliRunner()


def manifest(tmp_path: Path, *names: str) -> str:
    path = tmp_path / "pod.yml"
    path.write_text("---\n".join(POD.format(name=name) for name in names))
    return str(path)


def test_text_shows_the_timeline_the_events_and_the_verdict(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["simulate", "-f", manifest(tmp_path, "web"), "--for", "1m", "-b", "app: /healthz fails from 12s"]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("Simulated pod/web for 1m0s of virtual time (seed 0) in ")
    assert "container app" in out and "what happened" in out
    assert "Liveness probe failed: HTTP probe failed with statuscode: 500" in out
    assert "Container app failed liveness probe, will be restarted" in out
    # Probes at 15 s (kill, restart at once), then each instance is killed at its first probe after 12 s of life.
    assert "Verdict:\n  app  restarted " in out and "liveness kill" in out


def test_json_for_tools_and_the_seed_makes_runs_repeatable(tmp_path: Path) -> None:
    args = ["simulate", "-f", manifest(tmp_path, "web"), "--for", "5m", "-b", "30% of probes fail", "-o", "json"]
    first = runner.invoke(app, [*args, "--seed", "3"])
    again = runner.invoke(app, [*args, "--seed", "3"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert report == json.loads(again.stdout)
    assert report["pod"] == "web" and report["seed"] == 3 and report["durationSeconds"] == 300
    (app_report,) = report["containers"]
    assert app_report["name"] == "app" and app_report["livenessKills"] >= app_report["restarts"] >= 1
    assert [e["reason"] for e in report["events"]][:4] == ["Scheduled", "Pulled", "Created", "Started"]


def test_several_pods_are_each_simulated(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "-f", manifest(tmp_path, "a", "b", "c"), "--for", "30s", "-o", "json"])
    assert result.exit_code == 0, result.output
    assert [r["pod"] for r in json.loads(result.stdout)] == ["a", "b", "c"]


def test_suggest_names_the_settings_that_avoid_the_kills(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["simulate", "-f", manifest(tmp_path, "slow"), "--for", "3m", "-b", "listens after 42s", "--suggest"]
    )
    assert result.exit_code == 0, result.output
    # Ticks every 5 s from admission; the first, at 0 s, finds no container: 5 … 40 fail (8), 45 passes.
    assert "a startupProbe (httpGet, the liveness probe's check) with failureThreshold 9 at periodSeconds 5" in result.stdout
    assert "livenessProbe.failureThreshold: 9 (now 1)" in result.stdout


def test_bad_input_is_named_and_exits_2(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["simulate", "-f", manifest(tmp_path, "web"), "-b", "app: listens aftr 9s"])
    assert bad.exit_code == 2
    assert 'unknown clause "listens aftr 9s"' in bad.stderr
    unknown = runner.invoke(app, ["simulate", "-f", manifest(tmp_path, "web"), "-b", "db: exits 1 at 3s"])
    assert unknown.exit_code == 2 and "db" in unknown.stderr
    duration = runner.invoke(app, ["simulate", "-f", manifest(tmp_path, "web"), "--for", "ten minutes"])
    assert duration.exit_code == 2 and "--for" in duration.output
    invalid = tmp_path / "invalid.yml"
    invalid.write_text(POD.format(name="web").replace("periodSeconds: 5", "periodSeconds: -1"))
    refused = runner.invoke(app, ["simulate", "-f", str(invalid)])
    assert refused.exit_code == 2 and "periodSeconds" in refused.stderr and "Traceback" not in refused.output


def test_with_several_pods_a_behaviour_goes_to_the_pod_with_that_container(tmp_path: Path) -> None:
    path = tmp_path / "pods.yml"
    path.write_text(POD.format(name="a") + "---\n" + POD.format(name="b").replace("name: app", "name: web"))
    result = runner.invoke(app, ["simulate", "-f", str(path), "--for", "40s", "-o", "json", "-b", "web: exits 3 at 5s"])
    assert result.exit_code == 0, result.output
    a, b = json.loads(result.stdout)
    assert a["containers"][0]["exitCodes"] == [] and 3 in b["containers"][0]["exitCodes"]
    nowhere = runner.invoke(app, ["simulate", "-f", str(path), "-b", "db: exits 3 at 5s"])
    assert nowhere.exit_code == 2 and 'unknown container "db"' in nowhere.stderr
