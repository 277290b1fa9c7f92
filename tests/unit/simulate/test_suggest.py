"""`--suggest`: the smallest settings that keep a slow start from being killed, worked out by hand."""

from __future__ import annotations

from minikubelet.simulate.behaviour import Behaviour
from minikubelet.simulate.engine import simulate
from minikubelet.simulate.suggest import suggest

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "slow"},
    "spec": {
        "containers": [
            {
                "name": "app",
                "image": "minikubelet.local/busybox:1.35",
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10, "failureThreshold": 3},
            }
        ]
    },
}


def test_a_95_second_start_gets_the_smallest_startup_probe_threshold_and_period() -> None:
    """The app listens after 95 s; probe ticks fall every period from the pod's admission (the first, at 0 s,
    finds no container yet). At 10 s: ticks 10 … 90 fail (9), the one at 100 s passes, so a startupProbe needs
    failureThreshold 10 (9 kills at 90 s), and so does liveness. A period p kills unless 3p > 95: p = 32."""
    behaviours = {"app": Behaviour(container="app", listens_after=95.0)}
    baseline = simulate(POD, behaviours, duration=300)
    assert baseline.containers["app"].liveness_kills > 0
    found, notes = suggest(POD, behaviours, baseline, duration=300, seed=0)
    assert notes == []
    by_field = {s.field: s for s in found}
    startup = by_field["startupProbe"]
    assert startup.value == {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10, "failureThreshold": 10}
    assert startup.ready_after is not None and abs(startup.ready_after - 100.0) < 0.05
    assert "failureThreshold 10 at periodSeconds 10" in startup.text
    assert by_field["livenessProbe.failureThreshold"].value == 10
    assert by_field["livenessProbe.periodSeconds"].value == 32


def test_restarts_of_the_process_itself_are_not_a_probe_settings_to_avoid() -> None:
    behaviours = {"app": Behaviour(container="app", exit_code=3, exit_at=5.0)}
    baseline = simulate(POD, behaviours, duration=60)
    found, notes = suggest(POD, behaviours, baseline, duration=60, seed=0)
    assert found == []
    assert len(notes) == 1 and notes[0].startswith("app: ") and "exit codes 3" in notes[0]
