"""The SQLite store against a real file: CRUD, resourceVersions, conflicts, atomicity, the file itself, threads."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from minikubelet.errors import (
    AlreadyExistsError,
    BadRequestError,
    ConflictError,
    InvalidError,
    NotFoundError,
    UnavailableError,
)
from minikubelet.store import Store, resource_for

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with Store(tmp_path / "state.db") as opened:
        yield opened


def pod(name: str, namespace: str = "default", **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, **metadata},
        "spec": {"containers": [{"name": "app", "image": "busybox"}]},
    }


def node(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": {}}


# --- create / get ----------------------------------------------------------------------------------------


def test_create_assigns_uid_timestamp_generation_and_resource_version(store: Store) -> None:
    created = store.create(pod("web"))
    meta = created["metadata"]
    assert re.fullmatch(r"[0-9a-f-]{36}", meta["uid"])
    assert RFC3339.match(meta["creationTimestamp"])
    assert meta["generation"] == 1
    assert meta["resourceVersion"] == "1" == store.resource_version
    assert store.get("Pod", "default", "web") == created


def test_create_keeps_given_uid_and_timestamp(store: Store) -> None:
    meta = store.create(pod("web", uid="u-1", creationTimestamp="2024-01-02T03:04:05Z"))["metadata"]
    assert (meta["uid"], meta["creationTimestamp"]) == ("u-1", "2024-01-02T03:04:05Z")


def test_create_does_not_touch_the_callers_object_and_returns_a_copy(store: Store) -> None:
    given = pod("web")
    created = store.create(given)
    assert "uid" not in given["metadata"]
    created["metadata"]["labels"] = {"x": "y"}
    created["spec"]["containers"].clear()
    assert store.get("Pod", "default", "web")["spec"]["containers"]


def test_create_defaults_the_namespace_and_generates_names(store: Store) -> None:
    unnamed = {"kind": "Pod", "metadata": {"generateName": "job-"}, "spec": {}}
    created = store.create(unnamed)
    assert re.fullmatch(r"job-[bcdfghjklmnpqrstvwxz2456789]{5}", created["metadata"]["name"])
    assert created["metadata"]["namespace"] == "default"


def test_create_existing_name_is_already_exists_and_writes_nothing(store: Store) -> None:
    store.create(pod("web"))
    with pytest.raises(AlreadyExistsError, match='pods "web" already exists'):
        store.create(pod("web"))
    assert store.resource_version == "1"
    store.create(pod("web", namespace="other"))  # the same name in another namespace is another object


@pytest.mark.parametrize(
    ("obj", "error"),
    [
        ({"metadata": {"name": "x"}}, BadRequestError),
        ({"kind": "Pod", "metadata": {}}, InvalidError),
        ({"kind": "Pod", "metadata": "x"}, BadRequestError),
    ],
)
def test_create_rejects_objects_without_identity(store: Store, obj: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        store.create(obj)


def test_get_missing_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match='pods "nope" not found'):
        store.get("Pod", "default", "nope")
    store.create(pod("web"))
    with pytest.raises(NotFoundError):
        store.get("Pod", "other", "web")


def test_cluster_scoped_kinds_have_no_namespace(store: Store) -> None:
    created = store.create({**node("n1"), "metadata": {"name": "n1", "namespace": "default"}})
    assert "namespace" not in created["metadata"]
    assert store.get("Node", "", "n1") == created == store.get("Node", "ignored", "n1")
    assert store.list("Node", "whatever")[0] == [created]


@pytest.mark.parametrize(
    ("kind", "resource"), [("Pod", "pods"), ("Event", "events"), ("Node", "nodes"), ("ConfigMap", "configmaps")]
)
def test_resource_names(kind: str, resource: str) -> None:
    assert resource_for(kind) == resource


# --- list ------------------------------------------------------------------------------------------------


def test_list_by_namespace_and_across_namespaces_sorted(store: Store) -> None:
    for namespace, name in [("b", "x"), ("a", "y"), ("a", "x"), ("c", "a")]:
        store.create(pod(name, namespace))
    store.create(node("x"))
    items, rv = store.list("Pod")
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items] == [
        ("a", "x"),
        ("a", "y"),
        ("b", "x"),
        ("c", "a"),
    ]
    assert rv == store.resource_version == "5"
    assert [i["metadata"]["name"] for i in store.list("Pod", "a")[0]] == ["x", "y"]
    assert store.list("Pod", "nope") == ([], "5")


def test_list_filters_by_labels_and_fields(store: Store) -> None:
    store.create(pod("web-1", labels={"app": "web", "tier": "front"}))
    store.create(pod("web-2", labels={"app": "web"}))
    store.create(pod("db", labels={"app": "db"}))

    def names(**selectors: str) -> list[str]:
        return [item["metadata"]["name"] for item in store.list("Pod", **selectors)[0]]

    assert names(label_selector="app=web") == ["web-1", "web-2"]
    assert names(label_selector="app in (web,db),!tier") == ["db", "web-2"]
    assert names(field_selector="metadata.name=db") == ["db"]
    assert names(label_selector="app=web", field_selector="metadata.name!=web-1") == ["web-2"]
    assert names(field_selector="spec.nodeName=") == ["db", "web-1", "web-2"]
    with pytest.raises(BadRequestError, match=r"field label not supported: spec\.foo"):
        names(field_selector="spec.foo=bar")
    with pytest.raises(BadRequestError, match="unable to parse requirement"):
        names(label_selector="app in")


# --- update ----------------------------------------------------------------------------------------------


def test_update_assigns_a_new_resource_version_and_keeps_immutable_fields(store: Store) -> None:
    created = store.create(pod("web"))
    change = pod("web", creationTimestamp="1999-01-01T00:00:00Z", resourceVersion=created["metadata"]["resourceVersion"])
    change["status"] = {"phase": "Running"}
    updated = store.update(change)
    assert updated["metadata"]["resourceVersion"] == "2"
    assert updated["metadata"]["uid"] == created["metadata"]["uid"]
    assert updated["metadata"]["creationTimestamp"] == created["metadata"]["creationTimestamp"]
    assert updated["metadata"]["generation"] == 1  # status only
    assert store.get("Pod", "default", "web") == updated


def test_update_with_a_stale_resource_version_conflicts(store: Store) -> None:
    first = store.create(pod("web"))
    store.update({**first, "status": {"phase": "Running"}})
    with pytest.raises(ConflictError, match='Operation cannot be fulfilled on pods "web": the object has been modified'):
        store.update({**first, "status": {"phase": "Failed"}})
    assert store.get("Pod", "default", "web")["status"] == {"phase": "Running"}
    assert store.resource_version == "2"


def test_update_without_resource_version_is_unconditional(store: Store) -> None:
    store.create(pod("web"))
    store.update_with("Pod", "default", "web", lambda obj: {**obj, "status": {"phase": "Running"}})
    blind = pod("web")
    blind["status"] = {"phase": "Succeeded"}
    assert store.update(blind)["status"] == {"phase": "Succeeded"}


def test_update_with_another_uid_conflicts(store: Store) -> None:
    store.create(pod("web"))
    with pytest.raises(ConflictError, match="Precondition failed: UID in precondition: other"):
        store.update(pod("web", uid="other"))


def test_update_of_a_missing_object_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.update(pod("ghost"))


def test_a_spec_change_bumps_generation(store: Store) -> None:
    created = store.create(pod("web"))
    created["spec"]["activeDeadlineSeconds"] = 30
    assert store.update(created)["metadata"]["generation"] == 2


def test_marking_for_deletion_bumps_generation_once(store: Store) -> None:
    store.create(pod("web"))

    def mark(obj: dict[str, Any], grace: int) -> dict[str, Any]:
        obj["metadata"].update(deletionTimestamp="2026-01-01T00:00:00Z", deletionGracePeriodSeconds=grace)
        return obj

    assert store.update_with("Pod", "default", "web", lambda o: mark(o, 30))["metadata"]["generation"] == 2
    assert store.update_with("Pod", "default", "web", lambda o: mark(o, 5))["metadata"]["generation"] == 2


def test_a_spec_change_can_keep_the_generation(store: Store) -> None:
    store.create(pod("web"))

    def assign(obj: dict[str, Any]) -> dict[str, Any]:
        obj["spec"]["nodeName"] = "node-1"
        return obj

    assert store.update_with("Pod", "default", "web", assign, keep_generation=True)["metadata"]["generation"] == 1


def test_an_update_that_changes_nothing_writes_nothing(store: Store) -> None:
    created = store.create(pod("web"))
    assert store.update(created) == created
    assert store.resource_version == "1"


# --- update_with -----------------------------------------------------------------------------------------


def test_update_with_mutates_a_copy_in_one_transaction(store: Store) -> None:
    store.create(pod("web"))
    seen: list[dict[str, Any]] = []

    def bind(obj: dict[str, Any]) -> dict[str, Any]:
        seen.append(obj)
        obj["spec"]["nodeName"] = "node-1"
        return obj

    updated = store.update_with("Pod", "default", "web", bind)
    assert updated["spec"]["nodeName"] == "node-1"
    assert updated["metadata"]["resourceVersion"] == "2"
    assert updated is not seen[0]


def test_update_with_none_writes_nothing(store: Store) -> None:
    created = store.create(pod("web"))
    assert store.update_with("Pod", "default", "web", lambda obj: None) == created
    assert store.resource_version == "1"


def test_update_with_a_raising_mutate_leaves_everything_as_it_was(store: Store) -> None:
    created = store.create(pod("web"))

    def broken(obj: dict[str, Any]) -> dict[str, Any]:
        obj["metadata"]["labels"] = {"half": "done"}
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        store.update_with("Pod", "default", "web", broken)
    assert store.get("Pod", "default", "web") == created
    assert store.resource_version == "1"
    assert store.create(pod("next"))["metadata"]["resourceVersion"] == "2"


def test_update_with_a_missing_object_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.update_with("Pod", "default", "ghost", lambda obj: obj)


def test_update_with_may_not_rename_or_write(store: Store) -> None:
    store.create(pod("web"))
    with pytest.raises(ValueError, match=r"metadata\.name unchanged"):
        store.update_with("Pod", "default", "web", lambda obj: pod("other"))
    with pytest.raises(RuntimeError, match="inside another"):
        store.update_with("Pod", "default", "web", lambda obj: store.create(pod("nested")))
    assert store.resource_version == "1"


# --- delete ----------------------------------------------------------------------------------------------


def test_delete_returns_the_last_state_with_a_new_resource_version(store: Store) -> None:
    created = store.create(pod("web"))
    deleted = store.delete("Pod", "default", "web")
    assert deleted["metadata"]["resourceVersion"] == "2" == store.resource_version
    assert {**deleted, "metadata": {**deleted["metadata"], "resourceVersion": "1"}} == created
    with pytest.raises(NotFoundError):
        store.get("Pod", "default", "web")
    with pytest.raises(NotFoundError):
        store.delete("Pod", "default", "web")


def test_delete_preconditions(store: Store) -> None:
    created = store.create(pod("web"))
    uid, rv = created["metadata"]["uid"], created["metadata"]["resourceVersion"]
    with pytest.raises(ConflictError, match="UID in precondition"):
        store.delete("Pod", "default", "web", uid="someone-else")
    with pytest.raises(ConflictError, match="has been modified"):
        store.delete("Pod", "default", "web", resource_version="999")
    assert store.resource_version == "1"
    store.delete("Pod", "default", "web", uid=uid, resource_version=rv)


# --- resourceVersion -------------------------------------------------------------------------------------


def test_resource_version_is_one_counter_across_kinds(store: Store) -> None:
    versions = [
        store.create(pod("a")),
        store.create(node("n")),
        store.create({"kind": "Event", "metadata": {"name": "a.1", "namespace": "default"}, "reason": "Pulled"}),
        store.update_with("Node", "", "n", lambda obj: {**obj, "spec": {"unschedulable": True}}),
        store.delete("Pod", "default", "a"),
    ]
    assert [int(obj["metadata"]["resourceVersion"]) for obj in versions] == [1, 2, 3, 4, 5]


# --- the file --------------------------------------------------------------------------------------------


def test_the_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with Store(path) as opened:
        opened.create(pod("web"))
        for file in tmp_path.iterdir():
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reopening_keeps_objects_and_the_counter(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with Store(path) as first:
        created = first.create(pod("web"))
        first.create(node("n"))
        first.delete("Node", "", "n")
    with Store(path) as second:
        assert second.resource_version == "3"
        assert second.get("Pod", "default", "web") == created
        assert second.create(pod("db"))["metadata"]["resourceVersion"] == "4"


def test_a_file_that_is_not_sqlite_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_text("not a database, just some text\n" * 100)
    with pytest.raises(UnavailableError, match="not a minikubelet state database") as caught:
        Store(path)
    assert not isinstance(caught.value, sqlite3.Error)
    assert str(path) in str(caught.value)


def test_a_truncated_database_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with Store(path) as opened:
        opened.create(pod("web"))
    path.write_bytes(path.read_bytes()[:100] + b"\xff" * 5000)
    Path(f"{path}-wal").unlink(missing_ok=True)
    with pytest.raises(UnavailableError, match="not a minikubelet state database"):
        Store(path)


def test_another_applications_database_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE objects (id INTEGER PRIMARY KEY)")
    conn.close()
    with pytest.raises(UnavailableError, match="another application's data"):
        Store(path)


def test_a_newer_schema_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = 99 WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(UnavailableError, match="schema version 99"):
        Store(path)


def test_a_missing_directory_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(UnavailableError, match="cannot open the state database"):
        Store(tmp_path / "nope" / "state.db")


def test_a_closed_store_is_unavailable(tmp_path: Path) -> None:
    opened = Store(tmp_path / "state.db")
    opened.close()
    opened.close()
    with pytest.raises(UnavailableError, match="closed"):
        opened.get("Pod", "default", "web")


# --- threads ---------------------------------------------------------------------------------------------

THREADS = 20
INCREMENTS = 10


def _count(store: Store) -> int:
    return int(store.get("Pod", "default", "shared")["metadata"]["annotations"]["count"])


def test_concurrent_read_modify_write_with_update_loses_nothing(store: Store) -> None:
    store.create(pod("shared", annotations={"count": "0"}))
    first_read = threading.Barrier(THREADS)  # everybody reads the same version once: conflicts are certain

    def worker(index: int) -> int:
        for i in range(5):
            store.create(pod(f"own-{index}-{i}"))
        conflicts, done = 0, 0
        while done < INCREMENTS:
            current = store.get("Pod", "default", "shared")
            if done == 0 and conflicts == 0:
                first_read.wait()
            annotations = current["metadata"]["annotations"]
            annotations["count"] = str(int(annotations["count"]) + 1)
            try:
                store.update(current)
            except ConflictError:
                conflicts += 1
            else:
                done += 1
        return conflicts

    with ThreadPoolExecutor(THREADS) as pool:
        conflicts = sum(pool.map(worker, range(THREADS)))
    assert _count(store) == THREADS * INCREMENTS
    assert conflicts >= THREADS - 1
    assert len(store.list("Pod")[0]) == THREADS * 5 + 1
    assert int(store.resource_version) == 1 + THREADS * 5 + THREADS * INCREMENTS


def test_concurrent_update_with_never_conflicts_and_loses_nothing(store: Store) -> None:
    store.create(pod("shared", annotations={"count": "0"}))
    start = threading.Barrier(THREADS)

    def increment(obj: dict[str, Any]) -> dict[str, Any]:
        annotations = obj["metadata"]["annotations"]
        annotations["count"] = str(int(annotations["count"]) + 1)
        return obj

    def worker(index: int) -> list[int]:
        start.wait()
        return [
            int(store.update_with("Pod", "default", "shared", increment)["metadata"]["resourceVersion"])
            for _ in range(INCREMENTS)
        ]

    with ThreadPoolExecutor(THREADS) as pool:
        versions = [rv for batch in pool.map(worker, range(THREADS)) for rv in batch]
    assert _count(store) == THREADS * INCREMENTS
    assert sorted(versions) == list(range(2, 2 + THREADS * INCREMENTS))  # every write got its own RV


def test_two_stores_on_one_file_share_the_counter(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with Store(path) as one, Store(path) as two:
        one.create(pod("a"))
        assert two.create(pod("b"))["metadata"]["resourceVersion"] == "2"
        assert two.get("Pod", "default", "a")["metadata"]["resourceVersion"] == "1"


def test_file_mode_survives_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        Store(tmp_path / "state.db").close()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "state.db").stat().st_mode) == 0o600


def test_deleting_an_object_with_finalizers_marks_it_and_removing_the_last_one_deletes_it(store: Any) -> None:
    """The registry's deletion waits for the finalizers (rest.BeforeDelete, ShouldDeleteDuringUpdate)."""
    store.create(pod("kept", finalizers=["test/finalizer"]))
    marked = store.delete("Pod", "default", "kept")
    assert marked["metadata"]["deletionTimestamp"] and marked["metadata"]["deletionGracePeriodSeconds"] == 0
    assert store.get("Pod", "default", "kept")["metadata"]["finalizers"] == ["test/finalizer"], "still there"

    def status(obj: dict[str, Any]) -> dict[str, Any]:
        obj["status"] = {"phase": "Failed"}
        return obj

    store.update_with("Pod", "default", "kept", status)
    assert store.get("Pod", "default", "kept")["status"] == {"phase": "Failed"}, "other updates keep it"

    def unfinalize(obj: dict[str, Any]) -> dict[str, Any]:
        obj["metadata"]["finalizers"] = []
        return obj

    store.update_with("Pod", "default", "kept", unfinalize)
    with pytest.raises(NotFoundError):
        store.get("Pod", "default", "kept")


def test_removing_a_finalizer_of_an_object_not_being_deleted_keeps_it(store: Any) -> None:
    store.create(pod("alive", finalizers=["test/finalizer"]))

    def unfinalize(obj: dict[str, Any]) -> dict[str, Any]:
        obj["metadata"]["finalizers"] = []
        return obj

    store.update_with("Pod", "default", "alive", unfinalize)
    assert store.get("Pod", "default", "alive")["metadata"].get("finalizers") == []
