"""compute_pod_actions from a table, with the cases of upstream's TestComputePodActions,
TestComputePodActionsWithInitContainers and TestComputePodActionsWithRestartableInitContainers
(pkg/kubelet/kuberuntime/kuberuntime_manager_test.go), re-created on our runtime's containers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from minikubelet.kubelet.actions import PodActions, compute_pod_actions
from minikubelet.kubelet.containers import spec_hash
from minikubelet.prober.results import ProbeKind, Verdict
from minikubelet.runtime.interface import ContainerID, ContainerKind, ContainerState, PodRef, RuntimeContainer

REF = PodRef("uid-1", "foo", "default")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def base_pod(policy: str = "Always", *, inits: int = 0, sidecars: int = 0) -> dict[str, Any]:
    containers = [{"name": n, "image": "busybox"} for n in ("foo1", "foo2", "foo3")]
    init = [{"name": f"init{i + 1}", "image": "busybox"} for i in range(inits)]
    init += [{"name": f"sidecar{i + 1}", "image": "busybox", "restartPolicy": "Always"} for i in range(sidecars)]
    return {
        "metadata": {"name": "foo", "namespace": "default", "uid": "uid-1"},
        "spec": {"restartPolicy": policy, "containers": containers, "initContainers": init},
    }


def instance(
    pod: dict[str, Any],
    name: str,
    state: ContainerState = "running",
    *,
    attempt: int = 0,
    code: int | None = None,
    kind: ContainerKind = "app",
    changed: bool = False,
) -> RuntimeContainer:
    spec = next(c for c in [*pod["spec"]["containers"], *pod["spec"]["initContainers"]] if c["name"] == name)
    return RuntimeContainer(
        id=ContainerID(f"{name}-{attempt}"),
        pod=REF,
        name=name,
        kind=kind,
        attempt=attempt,
        image="busybox",
        image_id="sha256:1",
        state=state,
        exit_code=code if state == "exited" else None,
        created_at=T0 + timedelta(seconds=attempt),
        spec_hash="0" if changed else spec_hash(spec),
    )


def sandbox(state: ContainerState = "running", attempt: int = 0) -> RuntimeContainer:
    return RuntimeContainer(
        id=ContainerID(f"sandbox-{attempt}"),
        pod=REF,
        name="POD",
        kind="sandbox",
        attempt=attempt,
        image="pause",
        image_id="sha256:0",
        state=state,
        created_at=T0,
        ip="10.0.0.2",
    )


def running_pod(pod: dict[str, Any]) -> list[RuntimeContainer]:
    return [sandbox(), *(instance(pod, c["name"]) for c in pod["spec"]["containers"])]


@dataclass
class Results:
    values: dict[tuple[ProbeKind, str], Verdict] = field(default_factory=dict)

    def __call__(self, kind: ProbeKind, container_id: str) -> Verdict | None:
        return self.values.get((kind, container_id))


def kills(actions: PodActions) -> dict[str, str]:
    return {str(cid): info.message for cid, info in actions.containers_to_kill.items()}


# ------------------------------------------------------------------------------------ TestComputePodActions


def test_start_pod_sandbox_and_all_containers_for_a_new_pod() -> None:
    pod = base_pod()
    actions = compute_pod_actions(pod, [], Results())
    assert actions == PodActions(kill_pod=True, create_sandbox=True, attempt=0, containers_to_start=[0, 1, 2])


def test_restart_exited_containers_if_restart_policy_is_always() -> None:
    pod = base_pod("Always")
    observed = [
        sandbox(),
        instance(pod, "foo1"),
        instance(pod, "foo2", "exited", code=0),
        instance(pod, "foo3", "exited", code=1),
    ]
    actions = compute_pod_actions(pod, observed, Results())
    assert actions.containers_to_start == [1, 2] and not actions.kill_pod and not actions.containers_to_kill


def test_restart_failed_containers_if_restart_policy_is_on_failure() -> None:
    pod = base_pod("OnFailure")
    observed = [
        sandbox(),
        instance(pod, "foo1"),
        instance(pod, "foo2", "exited", code=0),
        instance(pod, "foo3", "exited", code=1),
    ]
    assert compute_pod_actions(pod, observed, Results()).containers_to_start == [2]


def test_dont_restart_containers_if_restart_policy_is_never() -> None:
    pod = base_pod("Never")
    observed = [
        sandbox(),
        instance(pod, "foo1"),
        instance(pod, "foo2", "exited", code=0),
        instance(pod, "foo3", "exited", code=1),
    ]
    actions = compute_pod_actions(pod, observed, Results())
    assert actions.containers_to_start == [] and not actions.kill_pod


def test_kill_pod_and_recreate_everything_if_the_pod_sandbox_is_dead_and_restart_policy_is_always() -> None:
    pod = base_pod("Always")
    observed = [sandbox("exited"), *(instance(pod, c["name"], "exited", code=1) for c in pod["spec"]["containers"])]
    actions = compute_pod_actions(pod, observed, Results())
    assert actions.kill_pod and actions.create_sandbox and actions.attempt == 1 and actions.sandbox_id == "sandbox-0"
    assert actions.containers_to_start == [0, 1, 2]


def test_kill_pod_and_recreate_all_containers_except_for_the_succeeded_one_if_restart_policy_is_on_failure() -> None:
    pod = base_pod("OnFailure")
    observed = [
        sandbox("exited"),
        instance(pod, "foo1", "exited", code=1),
        instance(pod, "foo2", "exited", code=0),
        instance(pod, "foo3", "exited", code=1),
    ]
    actions = compute_pod_actions(pod, observed, Results())
    assert actions.create_sandbox and actions.containers_to_start == [0, 2]


def test_kill_and_recreate_the_sandbox_if_all_containers_succeeded_and_restart_policy_is_never_not() -> None:
    """A pod that never restarts gets no new sandbox once its containers ran: it is only killed."""
    pod = base_pod("Never")
    observed = [sandbox("exited"), *(instance(pod, c["name"], "exited", code=0) for c in pod["spec"]["containers"])]
    actions = compute_pod_actions(pod, observed, Results())
    assert actions.kill_pod and not actions.create_sandbox and actions.containers_to_start == []


def test_kill_and_recreate_the_container_if_the_container_is_in_unknown_state() -> None:
    pod = base_pod("Never")
    observed = [sandbox(), instance(pod, "foo1", "unknown"), instance(pod, "foo2"), instance(pod, "foo3")]
    actions = compute_pod_actions(pod, observed, Results())
    assert actions.containers_to_start == [0]
    assert kills(actions) == {"foo1-0": 'Container is in "unknown" state, try killing it before restart'}


def test_kill_and_recreate_the_container_if_the_container_spec_changed() -> None:
    pod = base_pod("Always")
    observed = [sandbox(), instance(pod, "foo1"), instance(pod, "foo2", changed=True), instance(pod, "foo3")]
    actions = compute_pod_actions(pod, observed, Results())
    assert actions.containers_to_start == [1]
    assert kills(actions) == {"foo2-0": "Container foo2 definition changed, will be restarted"}


def test_kill_and_recreate_the_container_if_the_liveness_check_has_failed() -> None:
    pod = base_pod("Always")
    results = Results({(ProbeKind.LIVENESS, "foo1-0"): Verdict.FAILURE})
    actions = compute_pod_actions(pod, running_pod(pod), results)
    assert actions.containers_to_start == [0]
    assert kills(actions) == {"foo1-0": "Container foo1 failed liveness probe, will be restarted"}
    assert actions.containers_to_kill[ContainerID("foo1-0")].reason == "liveness"


def test_kill_and_recreate_the_container_if_the_startup_check_has_failed() -> None:
    pod = base_pod("Always")
    results = Results({(ProbeKind.STARTUP, "foo1-0"): Verdict.FAILURE})
    actions = compute_pod_actions(pod, running_pod(pod), results)
    assert kills(actions) == {"foo1-0": "Container foo1 failed startup probe, will be restarted"}


def test_a_liveness_kill_under_restart_policy_never_does_not_restart() -> None:
    pod = base_pod("Never")
    results = Results({(ProbeKind.LIVENESS, "foo1-0"): Verdict.FAILURE})
    actions = compute_pod_actions(pod, running_pod(pod), results)
    assert actions.containers_to_start == []
    assert kills(actions) == {"foo1-0": "Container foo1 failed liveness probe"}


def test_no_new_sandbox_for_a_pod_with_restart_policy_never_and_all_containers_exited() -> None:
    pod = base_pod("Never")
    observed = [sandbox("exited", attempt=1), *(instance(pod, c["name"], "exited", code=1) for c in pod["spec"]["containers"])]
    actions = compute_pod_actions(pod, observed, Results())
    assert actions.kill_pod and not actions.create_sandbox


def test_create_a_sandbox_again_for_a_pod_whose_containers_never_ran() -> None:
    pod = base_pod("Never")
    actions = compute_pod_actions(pod, [sandbox("exited")], Results())
    assert actions.create_sandbox and actions.attempt == 1 and actions.containers_to_start == [0, 1, 2]


def test_kill_the_pod_if_all_containers_exited_except_ephemeral_ones() -> None:
    pod = base_pod("Never")
    pod["spec"]["ephemeralContainers"] = [{"name": "debugger", "image": "busybox"}]
    debugger = RuntimeContainer(ContainerID("debugger-0"), REF, "debugger", "ephemeral", 0, "busybox", "", "running")
    observed = [sandbox(), *(instance(pod, c["name"], "exited", code=0) for c in pod["spec"]["containers"]), debugger]
    actions = compute_pod_actions(pod, observed, Results())
    assert actions.kill_pod and not actions.create_sandbox and actions.ephemeral_containers_to_start == []


def test_start_an_ephemeral_container_that_never_ran_even_while_initializing() -> None:
    pod = base_pod(inits=1)
    pod["spec"]["ephemeralContainers"] = [{"name": "debugger", "image": "busybox"}]
    observed = [sandbox(), instance(pod, "init1", kind="init")]
    actions = compute_pod_actions(pod, observed, Results())
    assert actions.ephemeral_containers_to_start == [0] and actions.containers_to_start == []


def test_no_actions_for_a_running_pod() -> None:
    pod = base_pod()
    assert compute_pod_actions(pod, running_pod(pod), Results()) == PodActions(sandbox_id="sandbox-0")


def test_a_deleted_pod_restarts_nothing() -> None:
    pod = base_pod()
    pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    observed = [sandbox(), instance(pod, "foo1", "exited", code=1), instance(pod, "foo2"), instance(pod, "foo3")]
    assert compute_pod_actions(pod, observed, Results()).containers_to_start == []


# -------------------------------------------------------------------- container restart rules (1.35+, beta on)


@pytest.mark.parametrize(
    ("code", "restarted"),
    [(42, True), (1, False), (0, False)],
)
def test_a_container_restart_rule_decides_over_the_pod_policy(code: int, restarted: bool) -> None:
    pod = base_pod("Never")
    pod["spec"]["containers"][0].update(
        restartPolicy="Never",
        restartPolicyRules=[{"action": "Restart", "exitCodes": {"operator": "In", "values": [42]}}],
    )
    observed = [sandbox(), instance(pod, "foo1", "exited", code=code), instance(pod, "foo2"), instance(pod, "foo3")]
    assert (compute_pod_actions(pod, observed, Results()).containers_to_start == [0]) is restarted


def test_a_container_policy_always_restarts_in_a_never_pod() -> None:
    pod = base_pod("Never")
    pod["spec"]["containers"][1]["restartPolicy"] = "Always"
    observed = [sandbox(), instance(pod, "foo1"), instance(pod, "foo2", "exited", code=0), instance(pod, "foo3")]
    assert compute_pod_actions(pod, observed, Results()).containers_to_start == [1]


# ------------------------------------------------------------------------ init containers (run to completion)


def test_initialization_in_progress_does_nothing() -> None:
    pod = base_pod(inits=3)
    observed = [sandbox(), instance(pod, "init1", "exited", code=0, kind="init"), instance(pod, "init2", kind="init")]
    actions = compute_pod_actions(pod, observed, Results())
    assert actions.init_containers_to_start == [] and actions.containers_to_start == []


def test_initialization_in_progress_starts_the_next_init_container() -> None:
    pod = base_pod(inits=3)
    observed = [sandbox(), instance(pod, "init1", "exited", code=0, kind="init")]
    assert compute_pod_actions(pod, observed, Results()).init_containers_to_start == [1]


def test_initialization_completed_starts_all_containers() -> None:
    pod = base_pod(inits=3)
    observed = [sandbox(), *(instance(pod, f"init{i}", "exited", code=0, kind="init") for i in (1, 2, 3))]
    actions = compute_pod_actions(pod, observed, Results())
    assert actions.init_containers_to_start == [] and actions.containers_to_start == [0, 1, 2]


def test_an_init_container_that_failed_is_restarted_if_restart_policy_is_always() -> None:
    pod = base_pod("Always", inits=3)
    observed = [
        sandbox(),
        instance(pod, "init1", "exited", code=0, kind="init"),
        instance(pod, "init2", "exited", code=1, kind="init"),
    ]
    assert compute_pod_actions(pod, observed, Results()).init_containers_to_start == [1]


def test_an_init_container_that_failed_kills_the_pod_if_restart_policy_is_never() -> None:
    pod = base_pod("Never", inits=3)
    observed = [sandbox(), instance(pod, "init1", "exited", code=1, kind="init")]
    actions = compute_pod_actions(pod, observed, Results())
    assert actions.kill_pod and actions.init_containers_to_start == [] and not actions.create_sandbox


def test_a_pod_sandbox_that_died_restarts_initialization_from_the_first_init_container() -> None:
    pod = base_pod("Always", inits=3)
    observed = [sandbox("exited"), *(instance(pod, f"init{i}", "exited", code=0, kind="init") for i in (1, 2, 3))]
    actions = compute_pod_actions(pod, observed, Results())
    assert actions.create_sandbox and actions.init_containers_to_start == [0] and actions.containers_to_start == []


def test_initialized_pods_whose_init_containers_were_removed_do_not_run_them_again() -> None:
    pod = base_pod("Always", inits=2)
    observed = running_pod(pod)
    assert compute_pod_actions(pod, observed, Results()) == PodActions(sandbox_id="sandbox-0")


# -------------------------------------------------------------------- restartable init containers (sidecars)


def test_a_running_sidecar_lets_the_regular_containers_start() -> None:
    pod = base_pod(sidecars=1)
    observed = [sandbox(), instance(pod, "sidecar1", kind="init")]
    actions = compute_pod_actions(pod, observed, Results())
    assert actions.init_containers_to_start == [] and actions.containers_to_start == [0, 1, 2]


def test_a_sidecar_waits_for_its_startup_probe_before_the_next_container() -> None:
    pod = base_pod(sidecars=1)
    pod["spec"]["initContainers"][0]["startupProbe"] = {"exec": {"command": ["true"]}}
    observed = [sandbox(), instance(pod, "sidecar1", kind="init")]
    assert compute_pod_actions(pod, observed, Results()).containers_to_start == []
    started = Results({(ProbeKind.STARTUP, "sidecar1-0"): Verdict.SUCCESS})
    assert compute_pod_actions(pod, observed, started).containers_to_start == [0, 1, 2]


def test_a_sidecar_that_failed_its_startup_probe_is_killed_and_restarted() -> None:
    pod = base_pod(sidecars=1)
    pod["spec"]["initContainers"][0]["startupProbe"] = {"exec": {"command": ["true"]}}
    observed = [sandbox(), instance(pod, "sidecar1", kind="init")]
    actions = compute_pod_actions(pod, observed, Results({(ProbeKind.STARTUP, "sidecar1-0"): Verdict.FAILURE}))
    assert actions.init_containers_to_start == [0]
    assert kills(actions) == {"sidecar1-0": "Init container sidecar1 failed startup probe"}


def test_an_exited_sidecar_is_restarted_whatever_the_pod_policy() -> None:
    pod = base_pod("Never", sidecars=1)
    observed = [sandbox(), instance(pod, "sidecar1", "exited", code=0, kind="init"), *running_pod(pod)[1:]]
    actions = compute_pod_actions(pod, observed, Results())
    assert actions.init_containers_to_start == [0] and actions.containers_to_start == []


def test_a_sidecar_that_failed_liveness_is_restarted() -> None:
    pod = base_pod(sidecars=1)
    pod["spec"]["initContainers"][0]["livenessProbe"] = {"exec": {"command": ["true"]}}
    observed = [sandbox(), instance(pod, "sidecar1", kind="init"), *running_pod(pod)[1:]]
    actions = compute_pod_actions(pod, observed, Results({(ProbeKind.LIVENESS, "sidecar1-0"): Verdict.FAILURE}))
    assert actions.init_containers_to_start == [0]
    assert kills(actions) == {"sidecar1-0": "Init container sidecar1 failed liveness probe"}


def test_sidecars_do_not_keep_a_finished_pod_alive() -> None:
    pod = base_pod("Never", sidecars=1)
    observed = [sandbox(), instance(pod, "sidecar1", kind="init")]
    observed += [instance(pod, c["name"], "exited", code=0) for c in pod["spec"]["containers"]]
    actions = compute_pod_actions(pod, observed, Results())
    assert actions.kill_pod and not actions.create_sandbox and actions.init_containers_to_start == []


def test_init_container_after_a_sidecar_starts_once_the_sidecar_runs() -> None:
    pod = base_pod(sidecars=1)
    pod["spec"]["initContainers"].append({"name": "init-after", "image": "busybox"})
    observed = [sandbox(), instance(pod, "sidecar1", kind="init")]
    actions = compute_pod_actions(pod, observed, Results())
    assert actions.init_containers_to_start == [1] and actions.containers_to_start == []
