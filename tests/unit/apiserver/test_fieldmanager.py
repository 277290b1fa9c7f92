"""Field ownership (managedFields) and server-side apply's conflicts and pruning, on plain objects."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from builders import container, make_pod

from minikubelet.apiserver import fieldmanager
from minikubelet.apiserver.fieldmanager import ApplyConflictError

T1, T2, T3 = "2026-03-01T12:00:00Z", "2026-03-01T12:00:01Z", "2026-03-01T12:00:02Z"


def config(labels: dict[str, str] | None = None, image: str = "busybox:1") -> dict[str, Any]:
    """An applied configuration, as kubectl apply --server-side sends it."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "echo", "namespace": "default", "labels": labels or {"app": "echo"}},
        "spec": {"containers": [{"name": "app", "image": image}]},
    }


def entries(obj: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(e["manager"], e["operation"], e["fieldsV1"]) for e in obj["metadata"].get("managedFields", [])]


def test_apply_records_the_applied_fields_only() -> None:
    created = fieldmanager.apply(None, config(), manager="kubectl", force=False, now=T1, kind="Pod")
    assert created["metadata"]["managedFields"] == [
        {
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": "v1",
            "time": T1,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:containers": {'k:{"name":"app"}': {".": {}, "f:image": {}, "f:name": {}}}},
            },
        }
    ]


def test_apply_removes_what_it_no_longer_applies() -> None:
    live = fieldmanager.apply(None, config({"app": "echo", "tier": "web"}), manager="kubectl", force=False, now=T1, kind="Pod")
    again = fieldmanager.apply(live, config({"app": "echo"}), manager="kubectl", force=False, now=T2, kind="Pod")
    assert again["metadata"]["labels"] == {"app": "echo"}
    assert entries(again)[0][2]["f:metadata"] == {"f:labels": {"f:app": {}}}


def test_apply_keeps_a_field_another_manager_also_owns() -> None:
    live = fieldmanager.apply(None, config({"app": "echo", "tier": "web"}), manager="kubectl", force=False, now=T1, kind="Pod")
    shared = fieldmanager.apply(live, config({"tier": "web"}), manager="other", force=False, now=T2, kind="Pod")
    dropped = fieldmanager.apply(shared, config({"app": "echo"}), manager="kubectl", force=False, now=T3, kind="Pod")
    assert dropped["metadata"]["labels"] == {"app": "echo", "tier": "web"}


def test_an_update_takes_over_the_fields_it_changes() -> None:
    live = fieldmanager.apply(None, config(), manager="kubectl", force=False, now=T1, kind="Pod")
    relabelled = copy.deepcopy(live)
    relabelled["metadata"]["labels"] = {"app": "other", "x": "y"}
    fieldmanager.update(live, relabelled, manager="kubectl-label", now=T2, kind="Pod")
    assert entries(relabelled) == [
        ("kubectl", "Apply", {"f:spec": {"f:containers": {'k:{"name":"app"}': {".": {}, "f:image": {}, "f:name": {}}}}}),
        ("kubectl-label", "Update", {"f:metadata": {"f:labels": {"f:app": {}, "f:x": {}}}}),
    ]


def test_apply_conflicts_with_an_updater_of_a_field_it_changes() -> None:
    live = fieldmanager.apply(None, config(), manager="kubectl", force=False, now=T1, kind="Pod")
    relabelled = copy.deepcopy(live)
    relabelled["metadata"]["labels"] = {"app": "other"}
    fieldmanager.update(live, relabelled, manager="kubectl-label", now=T2, kind="Pod")
    with pytest.raises(ApplyConflictError) as caught:
        fieldmanager.apply(relabelled, config(), manager="kubectl", force=False, now=T3, kind="Pod")
    status = caught.value.status()
    assert (status["code"], status["reason"]) == (409, "Conflict")
    assert status["message"] == 'Apply failed with 1 conflict: conflict with "kubectl-label" using v1: .metadata.labels.app'
    assert status["details"] == {
        "causes": [
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "kubectl-label" using v1',
                "field": ".metadata.labels.app",
            }
        ]
    }
    forced = fieldmanager.apply(relabelled, config(), manager="kubectl", force=True, now=T3, kind="Pod")
    assert forced["metadata"]["labels"] == {"app": "echo"}
    assert [m for m, _, _ in entries(forced)] == ["kubectl"]  # the label manager owns nothing any more


def test_applying_the_same_value_shares_the_field() -> None:
    live = fieldmanager.apply(None, config(), manager="a", force=False, now=T1, kind="Pod")
    both = fieldmanager.apply(live, config(), manager="b", force=False, now=T2, kind="Pod")
    assert [m for m, _, _ in entries(both)] == ["a", "b"]
    with pytest.raises(ApplyConflictError) as caught:
        fieldmanager.apply(both, config({"app": "x"}, image="busybox:2"), manager="b", force=False, now=T3, kind="Pod")
    assert caught.value.status()["message"] == (
        'Apply failed with 2 conflicts: conflicts with "a":\n- .metadata.labels.app\n- .spec.containers[name="app"].image'
    )


def test_the_first_apply_to_an_untracked_object_conflicts_with_before_first_apply() -> None:
    live = make_pod(metadata={"name": "echo", "labels": {"app": "echo"}}, spec={"containers": [container(image="busybox:1")]})
    with pytest.raises(
        ApplyConflictError, match=r'conflict with "before-first-apply" using v1: \.spec\.containers\[name="app"\]\.image'
    ):
        fieldmanager.apply(live, config(image="busybox:2"), manager="kubectl", force=False, now=T1, kind="Pod")


def test_a_create_owns_every_field_including_defaults_and_keyed_lists() -> None:
    pod = make_pod(
        metadata={"name": "echo", "finalizers": ["x/y"]},
        spec={
            "containers": [container(ports=[{"containerPort": 80}], env=[{"name": "A", "value": "1"}])],
            "dnsPolicy": "ClusterFirst",
        },
    )
    fieldmanager.update(None, pod, manager="kubectl-create", now=T1, kind="Pod")
    ((manager, operation, fields),) = entries(pod)
    assert (manager, operation) == ("kubectl-create", "Update")
    assert fields["f:metadata"] == {"f:finalizers": {'v:"x/y"': {".": {}}}}
    app = fields["f:spec"]["f:containers"]['k:{"name":"app"}']
    assert app["f:ports"] == {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}
    assert app["f:env"] == {'k:{"name":"A"}': {".": {}, "f:name": {}, "f:value": {}}}
    assert fields["f:spec"]["f:dnsPolicy"] == {}


def test_an_update_that_changes_nothing_leaves_the_entries_alone() -> None:
    pod = make_pod(metadata={"name": "echo"})
    fieldmanager.update(None, pod, manager="kubectl-create", now=T1, kind="Pod")
    same = copy.deepcopy(pod)
    fieldmanager.update(pod, same, manager="kubectl-label", now=T2, kind="Pod")
    assert same["metadata"]["managedFields"] == pod["metadata"]["managedFields"]


def test_a_removed_field_leaves_every_manager() -> None:
    pod = make_pod(metadata={"name": "echo", "labels": {"a": "1"}})
    fieldmanager.update(None, pod, manager="kubectl-create", now=T1, kind="Pod")
    unlabelled = copy.deepcopy(pod)
    del unlabelled["metadata"]["labels"]
    fieldmanager.update(pod, unlabelled, manager="kubectl-label", now=T2, kind="Pod")
    assert [m for m, _, _ in entries(unlabelled)] == ["kubectl-create"]
    assert "f:labels" not in entries(unlabelled)[0][2].get("f:metadata", {})


def test_managed_fields_round_trip_through_the_object() -> None:
    live = fieldmanager.apply(None, config({"app": "echo", "tier": "web"}), manager="kubectl", force=False, now=T1, kind="Pod")
    unchanged = fieldmanager.apply(
        live, config({"app": "echo", "tier": "web"}), manager="kubectl", force=False, now=T2, kind="Pod"
    )
    assert unchanged == live  # no change, not even the time: a no-op apply writes nothing
