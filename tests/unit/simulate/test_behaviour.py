"""The behaviour language of `minikubelet simulate` (minikubelet/simulate/behaviour.py): every clause, every window
form, how a probe attempt is answered, and every error."""

from __future__ import annotations

from typing import Any

import pytest

from minikubelet.simulate.behaviour import Behaviour, BehaviourError, Fault, Window, parse_behaviours, parse_duration


def one(value: str, container: str = "app") -> Behaviour:
    return parse_behaviours([value], [container])[container]


def answer(behaviour: Behaviour, at: float, draw: float = 0.99, **probe: Any) -> str:
    """The answer to a liveness httpGet probe on :8080/healthz unless `probe` says otherwise."""
    attempt: dict[str, Any] = {"kind": "liveness", "handler": "httpGet", "path": "/healthz", "port": 8080, "port_name": None}
    attempt.update(probe)
    return behaviour.answer(at=at, draw=draw, **attempt)


# --- durations ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("1m30s", 90), ("500ms", 0.5), ("2h", 7200), ("90", 90), ("2.5", 2.5), ("1.5s", 1.5), ("1h2m3s", 3723)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "9o", "1x", "s", "-5s", "1m 30s", "1.2.3"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


# --- clauses -----------------------------------------------------------------------------------------------------


def test_the_default_behaviour() -> None:
    behaviours = parse_behaviours([], ["app", "sidecar"])
    assert behaviours == {"app": Behaviour("app"), "sidecar": Behaviour("sidecar")}
    assert behaviours["app"].process_end() is None
    assert answer(behaviours["app"], 0.0) == "ok"


def test_listens_after() -> None:
    behaviour = one("listens after 1m30s")
    assert behaviour.listens_after == 90
    assert answer(behaviour, 89.9) == "refused"
    assert answer(behaviour, 89.9, handler="tcpSocket", path=None) == "refused"
    assert answer(behaviour, 89.9, handler="grpc", path=None) == "refused"
    assert answer(behaviour, 89.9, handler="exec", path=None, port=None) == "fails", "an exec probe fails, it is not refused"
    assert answer(behaviour, 90.0) == "ok"


def test_exits_completes_and_oom() -> None:
    assert one("exits 3 at 2.5s").process_end() == (2.5, 3, False)
    assert one("exits 1 after 10").process_end() == (10, 1, False)
    assert one("completes at 1m").process_end() == (60, 0, False)
    assert one("completes after 5s").process_end() == (5, 0, False)
    assert one("is OOM-killed at 45s").process_end() == (45, 137, True)
    assert one("oom at 45s").oom_at == 45
    assert one("oom after 45s").oom_at == 45
    assert one("exits 2 at 10s; oom at 20s").process_end() == (10, 2, False), "the earlier end"
    assert one("exits 2 at 30s; oom at 20s").process_end() == (20, 137, True)
    assert one("exits 2 at 20s; oom at 20s").process_end() == (20, 137, True), "an OOM kill wins a tie"


def test_sigterm_clauses() -> None:
    assert (one("listens after 0").sigterm, one("listens after 0").stop_seconds) == ("exit", 0.0)
    assert one("ignores SIGTERM").sigterm == "ignore"
    stops = one("stops in 5s")
    assert (stops.sigterm, stops.stop_seconds) == ("exit", 5.0)


def test_percentages() -> None:
    behaviour = one("10% of probes time out; 25% of probes fail")
    assert (behaviour.timeout_fraction, behaviour.failure_fraction) == (pytest.approx(0.1), pytest.approx(0.25))
    assert answer(behaviour, 1, draw=0.0) == "hangs"
    assert answer(behaviour, 1, draw=0.0999) == "hangs"
    assert answer(behaviour, 1, draw=0.1) == "fails"
    assert answer(behaviour, 1, draw=0.3499) == "fails"
    assert answer(behaviour, 1, draw=0.35) == "ok"
    assert one("100% of probes fail").failure_fraction == 1.0
    assert one("0.5% of probes time out").timeout_fraction == pytest.approx(0.005)


def test_clauses_are_separated_by_semicolons_and_whitespace_is_free() -> None:
    behaviour = one("  app :  listens   after 5s ;ignores SIGTERM;  ")
    assert (behaviour.listens_after, behaviour.sigterm) == (5, "ignore")


# --- faults and windows ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ("", Window(0, None)),
        (" from 30s", Window(30, None)),
        (" from 30s for 10s", Window(30, 40)),
        (" until 20s", Window(0, 20)),
        (" for 20s", Window(0, 20)),
        (" every 20s for 5s", Window(0, 5, 20)),
        (" every 20s for 5s from 10s", Window(10, 15, 20)),
    ],
)
def test_window_forms(window: str, expected: Window) -> None:
    assert one(f"/healthz fails{window}").faults == (Fault("/healthz", "fails", expected),)


def test_window_covers() -> None:
    assert Window(0, None).covers(0) and Window(0, None).covers(1e9)
    assert not Window(30, None).covers(29.99) and Window(30, None).covers(30)
    assert Window(30, 40).covers(39.99) and not Window(30, 40).covers(40) and not Window(30, 40).covers(29)
    flapping = Window(10, 15, 20)  # [10, 15), [30, 35), [50, 55), ...
    assert [t for t in (0, 9.9, 10, 14.9, 15, 29.9, 30, 34.9, 35, 50, 1010) if flapping.covers(t)] == [
        10,
        14.9,
        30,
        34.9,
        50,
        1010,
    ]


@pytest.mark.parametrize(
    ("target", "probe", "matched"),
    [
        ("/healthz", {}, True),
        ("/healthz", {"path": "/healthz?verbose=1"}, True),
        ("/healthz", {"path": "/ready"}, False),
        ("/healthz", {"handler": "tcpSocket", "path": None}, False),
        ("/", {"path": None}, True),
        ("/", {"path": ""}, True),
        (":8080", {}, True),
        (":8080", {"handler": "tcpSocket", "path": None}, True),
        (":8080", {"handler": "grpc", "path": None}, True),
        (":8080", {"port": 9090}, False),
        (":http", {"port_name": "http"}, True),
        (":http", {"port_name": None}, False),
        (":8080", {"handler": "exec", "path": None, "port": None}, False),
        ("exec", {"handler": "exec", "path": None, "port": None}, True),
        ("exec", {}, False),
        ("liveness", {"handler": "exec", "path": None, "port": None}, True),
        ("liveness", {"kind": "readiness"}, False),
        ("readiness", {"kind": "readiness"}, True),
        ("startup", {"kind": "startup", "handler": "tcpSocket"}, True),
        ("probes", {"kind": "startup", "handler": "grpc"}, True),
    ],
)
def test_targets(target: str, probe: dict[str, Any], matched: bool) -> None:
    behaviour = one(f"{target} fails")
    assert answer(behaviour, 1, **probe) == ("fails" if matched else "ok")


def test_a_fault_holds_only_inside_its_window() -> None:
    behaviour = one("/healthz fails from 30s for 10s")
    assert [answer(behaviour, t) for t in (0, 29.9, 30, 39.9, 40)] == ["ok", "ok", "fails", "fails", "ok"]


def test_precedence() -> None:
    behaviour = one("listens after 10s; probes hangs from 20s for 5s; liveness fails; 50% of probes time out")
    assert answer(behaviour, 5, draw=0.0) == "refused", "not listening comes first"
    assert answer(behaviour, 21) == "hangs", "hangs wins over fails"
    assert answer(behaviour, 12, draw=0.0) == "fails", "a fault comes before the percentages"
    assert answer(behaviour, 12, kind="readiness", draw=0.0) == "hangs"
    assert answer(behaviour, 12, kind="readiness", draw=0.5) == "ok"


def test_hangs_wins_whatever_the_order() -> None:
    assert answer(one("probes hangs; probes fails"), 1) == answer(one("probes fails; probes hangs"), 1) == "hangs"


# --- containers --------------------------------------------------------------------------------------------------


def test_an_unprefixed_value_applies_to_the_containers_no_other_value_names() -> None:
    behaviours = parse_behaviours(["exits 1 at 3s", "db: listens after 20s"], ["web", "db", "cache"])
    assert behaviours["db"] == Behaviour("db", listens_after=20)
    assert behaviours["web"] == Behaviour("web", exit_code=1, exit_at=3)
    assert behaviours["cache"] == Behaviour("cache", exit_code=1, exit_at=3)


def test_a_prefix_is_a_container_name_and_a_port_target_is_not() -> None:
    assert one(":8080 fails").faults[0].target == ":8080"
    assert one("app: :8080 fails").faults[0].target == ":8080"
    assert one("my-app-2:exits 1 at 1", "my-app-2").exit_code == 1


# --- errors ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            ["app: listens aftr 90s"],
            '--behaviour "app: listens aftr 90s": unknown clause "listens aftr 90s" (expected: listens after D, '
            "listens on PORT[, PORT], TARGET fails|hangs [from D] [for D]",
        ),
        (["nope: exits 1 at 3s"], '--behaviour "nope: exits 1 at 3s": unknown container "nope" (the pod\'s containers: app)'),
        (["listens after 9o"], '--behaviour "listens after 9o": bad duration "9o" (expected a duration such as 90s'),
        (["/x fails from soon"], 'bad duration "soon"'),
        (["/x fails every 0s for 1s"], 'the period "0s" must be more than 0'),
        (["/x fails sometimes"], 'unknown window "sometimes" (expected: from D, from D for D, until D, for D, every P'),
        (
            ["150% of probes fail"],
            '--behaviour "150% of probes fail": percentage 150% is outside 0-100 in clause "150% of probes fail"',
        ),
        (["-5% of probes fail"], 'bad percentage "-5%"'),
        (["60% of probes fail; 50% of probes time out"], "add up to more than 100"),
        (["exits 256 at 1s"], 'bad exit code "256" (expected a number from 0 to 255) in clause "exits 256 at 1s"'),
        (["exits one at 1s"], 'bad exit code "one"'),
        (["exits 1 at 1s; completes at 2s"], 'an exit is given twice in clause "completes at 2s"'),
        (["listens after 1; listens after 2"], "listens after is given twice"),
        (["oom at 1; is OOM-killed at 2"], "an OOM kill is given twice"),
        (["ignores SIGTERM; stops in 5s"], '"ignores SIGTERM" and "stops in" contradict each other'),
        (["app:"], '--behaviour "app:": no clause'),
        ([" ; "], "no clause"),
        (
            ["app: exits 1 at 1", "app: exits 2 at 2"],
            '--behaviour "app: exits 1 at 1" and --behaviour "app: exits 2 at 2": both describe container "app"',
        ),
        (
            ["exits 1 at 1", "exits 2 at 2"],
            '--behaviour "exits 1 at 1" and --behaviour "exits 2 at 2": both have no container prefix',
        ),
        (["app: exits 1 at 1", "listens aftr 1"], 'unknown clause "listens aftr 1"'),
    ],
)
def test_errors(values: list[str], message: str) -> None:
    with pytest.raises(BehaviourError) as caught:
        parse_behaviours(values, ["app"])
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_listens_on_refuses_every_other_port_for_ever() -> None:
    """The tutorial's echo server listens on 3000; a probe on 8080 is refused, whatever the time."""
    (behaviour,) = parse_behaviours(["listens on 3000, http"], ["app"]).values()
    assert behaviour.ports == ("3000", "http")

    def answer(port: int, name: str | None = None, at: float = 100.0) -> str:
        return behaviour.answer(kind="liveness", handler="httpGet", path="/", port=port, port_name=name, at=at, draw=0.5)

    assert answer(8080) == "refused" and answer(8080, at=1e6) == "refused"
    assert answer(3000) == "ok"
    assert answer(8081, "http") == "ok", "a named port is matched by its name"
    exec_answer = behaviour.answer(kind="liveness", handler="exec", path=None, port=None, port_name=None, at=1, draw=0.5)
    assert exec_answer == "ok", "exec probes have no port"
    with pytest.raises(BehaviourError, match='bad port "70000"'):
        parse_behaviours(["listens on 70000"], ["app"])
