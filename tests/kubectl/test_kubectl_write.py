"""The real /usr/bin/kubectl (1.32) changing pods on a real node: apply (client- and server-side, with --force),
create, replace, patch of every type, label, annotate, edit and delete with its grace periods.

kubectl words errors itself from the Status the server sends; each expected message here is the one a real
cluster makes kubectl print (reasons, codes and details as the API server sets them). The basics file
already covers apply created/unchanged/configured, strict validation on create, delete by name and by file.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from nodes import KUBECTL, Node, eventually, kubectl_requests

pytestmark = pytest.mark.docker

BUSYBOX = "minikubelet.local/busybox:1.35"
ECHO = "minikubelet.local/echo:v1"
# Exits at once on SIGTERM (within one 0.2 s sleep), so graceful deletions are quick.
POLITE = "trap 'exit 0' TERM; while true; do sleep 0.2; done"
# Ignores SIGTERM: only the end of the grace period (SIGKILL) stops it.
STUBBORN = "trap '' TERM; while true; do sleep 0.2; done"
FORBIDDEN = (
    "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
    "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)
CONFLICT = (
    'Operation cannot be fulfilled on pods "web": the object has been modified; '
    "please apply your changes to the latest version and try again"
)


@pytest.fixture
def node(kubectl_node: Node) -> Node:
    kubectl_node.cli("delete", "pods", "--all", "--grace-period=0", "--force")
    return kubectl_node


def manifest(
    path: Path,
    name: str = "web",
    *,
    labels: dict[str, str] | None = None,
    images: tuple[str, ...] = (BUSYBOX,),
    script: str = POLITE,
    grace: int = 30,
    extra: dict[str, Any] | None = None,
) -> Path:
    """A pod manifest (JSON is YAML) with one container per image, named main, side, third..."""
    names = ["main", "side", "third"]
    containers = [{"name": names[i], "image": image, "command": ["sh", "-c", script]} for i, image in enumerate(images)]
    for key, value in (extra or {}).items():
        containers[0][key] = value
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels if labels is not None else {"app": name}},
        "spec": {"terminationGracePeriodSeconds": grace, "containers": containers},
    }
    path.write_text(json.dumps(pod, indent=2) + "\n")
    return path


def get(node: Node, name: str = "web") -> dict[str, Any]:
    result = node.kubectl("get", "pod", name, "-o", "json")
    assert result.returncode == 0, result.stderr
    pod: dict[str, Any] = json.loads(result.stdout)
    return pod


def missing(node: Node, name: str = "web") -> bool:
    return node.kubectl("get", "pod", name).stderr == f'Error from server (NotFound): pods "{name}" not found\n'


def running(node: Node, name: str = "web") -> bool:
    return bool(eventually(lambda: get(node, name)["status"].get("phase") == "Running", timeout=30))


def settled(node: Node, name: str = "web") -> bool:
    """Every container runs the image its spec names and is ready: the kubelet has nothing left to write, so
    a patch that changes nothing answers "(no change)" (kubectl compares the object it read with the answer)."""

    def check() -> bool:
        pod = get(node, name)
        images = {c["name"]: c["image"] for c in pod["spec"]["containers"]}
        statuses = pod["status"].get("containerStatuses") or []
        return len(statuses) == len(images) and all(s.get("ready") and images[s["name"]] == s["image"] for s in statuses)

    return bool(eventually(check, timeout=30))


def ok(result: subprocess.CompletedProcess[str], stdout: str) -> None:
    assert (result.returncode, result.stdout, result.stderr) == (0, stdout, ""), result.stderr


def failed(result: subprocess.CompletedProcess[str], stderr: str) -> None:
    assert (result.returncode, result.stdout, result.stderr) == (1, "", stderr)


def requests(result: subprocess.CompletedProcess[str], method: str) -> list[tuple[str, int]]:
    """(query, status code) of each `method` request to a pod in kubectl's -v=6 log."""
    found = kubectl_requests(result.stderr, method)
    return [(path.partition("?")[2], code) for _, path, code in found if "/pods/" in path and "?" in path]


# --- apply --------------------------------------------------------------------------------------------------------


def test_apply_merges_a_label_and_one_containers_image(node: Node, tmp_path: Path) -> None:
    ok(node.kubectl("apply", "-f", str(manifest(tmp_path / "web.json", images=(BUSYBOX, BUSYBOX)))), "pod/web created\n")
    assert running(node)
    before = get(node)
    edited = manifest(tmp_path / "web.json", labels={"app": "web", "tier": "front"}, images=(BUSYBOX, ECHO))
    ok(node.kubectl("apply", "-f", str(edited)), "pod/web configured\n")
    after = get(node)
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["metadata"]["labels"] == {"app": "web", "tier": "front"}
    assert [c["image"] for c in after["spec"]["containers"]] == [BUSYBOX, ECHO]
    assert after["spec"]["containers"][0] == before["spec"]["containers"][0]
    # The kubelet restarts the changed container only, with its new image.
    assert eventually(lambda: [s["image"] for s in get(node)["status"]["containerStatuses"]] == [BUSYBOX, ECHO], timeout=30)
    ok(node.kubectl("apply", "-f", str(edited)), "pod/web unchanged\n")


def test_apply_of_an_immutable_change_fails_and_force_recreates_the_pod(node: Node, tmp_path: Path) -> None:
    ok(node.kubectl("apply", "-f", str(manifest(tmp_path / "web.json"))), "pod/web created\n")
    assert running(node)
    uid = get(node)["metadata"]["uid"]
    more = manifest(tmp_path / "more.json", images=(BUSYBOX, BUSYBOX))
    failed(
        node.kubectl("apply", "-f", str(more)),
        'The Pod "web" is invalid: spec.containers: Forbidden: pod updates may not add or remove containers\n',
    )
    env = manifest(tmp_path / "env.json", extra={"env": [{"name": "GREETING", "value": "hi"}]})
    refused = node.kubectl("apply", "-f", str(env))
    # A real API server appends a Go diff of the two specs to this message; we stop at the first line.
    assert (refused.returncode, refused.stderr.splitlines()[0]) == (1, f'The Pod "web" is invalid: {FORBIDDEN}')
    assert get(node)["metadata"]["uid"] == uid
    # --force: DELETE, GET until 404 (the kubelet stops the pod), then POST.
    forced = node.kubectl("apply", "--force", "--timeout=60s", "-f", str(env), timeout=90)
    ok(forced, "pod/web configured\n")
    recreated = get(node)
    assert recreated["metadata"]["uid"] != uid
    assert recreated["spec"]["containers"][0]["env"] == [{"name": "GREETING", "value": "hi"}]
    assert running(node)


def test_server_side_apply_creates_updates_prunes_and_conflicts(node: Node, tmp_path: Path) -> None:
    labelled = manifest(tmp_path / "web.json", labels={"app": "web", "tier": "front"})
    created = node.kubectl("apply", "--server-side", "-f", str(labelled), "-v=6")
    assert (created.returncode, created.stdout) == (0, "pod/web serverside-applied\n"), created.stderr
    assert requests(created, "PATCH") == [("fieldManager=kubectl&fieldValidation=Strict&force=false", 201)]
    uid = get(node)["metadata"]["uid"]
    # Another manager takes a label over; applying our value again is a conflict...
    ok(node.kubectl("label", "pod", "web", "app=mine", "--overwrite"), "pod/web labeled\n")
    refused = node.kubectl("apply", "--server-side", "-f", str(labelled))
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[:2] == [
        'error: Apply failed with 1 conflict: conflict with "kubectl-label" using v1: .metadata.labels.app',
        "Please review the fields above--they currently have other managers. Here",
    ]
    # ...until --force-conflicts takes it back; the label no longer applied is removed.
    web = manifest(tmp_path / "web.json")
    updated = node.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(web), "-v=6")
    assert (updated.returncode, updated.stdout) == (0, "pod/web serverside-applied\n"), updated.stderr
    assert requests(updated, "PATCH") == [("fieldManager=kubectl&fieldValidation=Strict&force=true", 200)]
    assert get(node)["metadata"]["labels"] == {"app": "web"}
    assert get(node)["metadata"]["uid"] == uid
    managed = node.kubectl("get", "pod", "web", "--show-managed-fields", "-o", "jsonpath={.metadata.managedFields[*].manager}")
    assert managed.stdout == "kubectl"


def test_server_side_apply_refuses_unknown_fields_whatever_the_validation(node: Node, tmp_path: Path) -> None:
    # A field the schema lacks is a plain error (500) for server-side apply, even with --validate=false.
    typo = manifest(tmp_path / "typo.json", extra={"readinesProbe": {"tcpSocket": {"port": 3000}}})
    expected = (
        "Error from server: failed to create typed patch object (default/web; /v1, Kind=Pod): "
        '.spec.containers[name="main"].readinesProbe: field not declared in schema\n'
    )
    failed(node.kubectl("apply", "--server-side", "-f", str(typo)), expected)
    failed(node.kubectl("apply", "--server-side", "--validate=false", "-f", str(typo)), expected)
    assert missing(node)


def test_validation_modes_on_the_patch_of_client_side_apply(node: Node, tmp_path: Path) -> None:
    typo = manifest(tmp_path / "typo.json", extra={"readinesProbe": {"tcpSocket": {"port": 3000}}})
    ok(node.kubectl("apply", "--validate=false", "-f", str(typo)), "pod/web created\n")
    assert "readinesProbe" not in get(node)["spec"]["containers"][0]
    node.kubectl("delete", "pod", "web", "--grace-period=0", "--force")
    ok(node.kubectl("apply", "-f", str(manifest(tmp_path / "web.json"))), "pod/web created\n")
    # Strict: the patch's unknown field is a 422 that quotes the patch as Go prints it.
    strict = node.kubectl("apply", "-f", str(typo))
    assert strict.returncode == 1
    assert strict.stderr.startswith('The request is invalid: patch: Invalid value: "map[metadata:map[annotations:map[')
    assert strict.stderr.endswith('": strict decoding error: unknown field "spec.containers[0].readinesProbe"\n')
    warned = node.kubectl("apply", "--validate=warn", "-f", str(typo))
    assert (warned.returncode, warned.stdout) == (0, "pod/web configured\n")
    assert warned.stderr == 'Warning: unknown field "spec.containers[0].readinesProbe"\n'
    ok(node.kubectl("apply", "--validate=false", "-f", str(typo)), "pod/web configured\n")
    assert "readinesProbe" not in get(node)["spec"]["containers"][0]


# --- create and replace -------------------------------------------------------------------------------------------


def test_create_twice_is_already_exists(node: Node, tmp_path: Path) -> None:
    web = str(manifest(tmp_path / "web.json"))
    ok(node.kubectl("create", "-f", web), "pod/web created\n")
    failed(
        node.kubectl("create", "-f", web),
        f'Error from server (AlreadyExists): error when creating "{web}": pods "web" already exists\n',
    )


def test_replace_and_replace_force(node: Node, tmp_path: Path) -> None:
    web = manifest(tmp_path / "web.json")
    ok(node.kubectl("create", "-f", str(web)), "pod/web created\n")
    assert running(node)
    live = get(node)
    uid = live["metadata"]["uid"]
    # The live object, relabelled, replaces itself; with its (by now stale) resourceVersion it conflicts.
    live["metadata"]["labels"]["tier"] = "front"
    live["metadata"]["resourceVersion"] = "1"
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps(live))
    failed(
        node.kubectl("replace", "-f", str(stale)), f'Error from server (Conflict): error when replacing "{stale}": {CONFLICT}\n'
    )
    del live["metadata"]["resourceVersion"]  # kubectl then GETs the latest one
    fresh = tmp_path / "fresh.json"
    fresh.write_text(json.dumps(live))
    ok(node.kubectl("replace", "-f", str(fresh)), "pod/web replaced\n")
    assert get(node)["metadata"]["labels"] == {"app": "web", "tier": "front"}
    assert get(node)["metadata"]["uid"] == uid
    # The bare manifest lacks spec.nodeName: on a scheduled pod that is a spec change, as on a real cluster.
    refused = node.kubectl("replace", "-f", str(web))
    assert (refused.returncode, refused.stderr.splitlines()[0]) == (1, f'The Pod "web" is invalid: {FORBIDDEN}')
    # --force deletes (waiting until the pod is gone) and creates.
    relabelled = manifest(tmp_path / "web.json", labels={"app": "web", "v": "2"})
    ok(
        node.kubectl("replace", "--force", "-f", str(relabelled), timeout=90),
        'pod "web" deleted from default namespace\npod/web replaced\n',
    )
    assert get(node)["metadata"]["uid"] != uid
    assert get(node)["metadata"]["labels"] == {"app": "web", "v": "2"}


# --- patch, label, annotate, edit ---------------------------------------------------------------------------------


def test_patch_strategic_merge_json(node: Node, tmp_path: Path) -> None:
    ok(node.kubectl("create", "-f", str(manifest(tmp_path / "web.json", images=(BUSYBOX, BUSYBOX)))), "pod/web created\n")
    ok(node.kubectl("patch", "pod", "web", "-p", '{"metadata":{"labels":{"x":"y"}}}'), "pod/web patched\n")
    assert settled(node)
    ok(node.kubectl("patch", "pod", "web", "-p", '{"metadata":{"labels":{"x":"y"}}}'), "pod/web patched (no change)\n")
    # Strategic: containers merge by name, so only "side" changes.
    ok(
        node.kubectl("patch", "pod", "web", "-p", f'{{"spec":{{"containers":[{{"name":"side","image":"{ECHO}"}}]}}}}'),
        "pod/web patched\n",
    )
    assert [(c["name"], c["image"]) for c in get(node)["spec"]["containers"]] == [("main", BUSYBOX), ("side", ECHO)]
    ok(
        node.kubectl("patch", "pod", "web", "--type=merge", "-p", '{"metadata":{"labels":{"x":null,"m":"1"}}}'),
        "pod/web patched\n",
    )
    ok(
        node.kubectl("patch", "pod", "web", "--type=json", "-p", '[{"op":"add","path":"/metadata/labels/j","value":"2"}]'),
        "pod/web patched\n",
    )
    assert get(node)["metadata"]["labels"] == {"app": "web", "m": "1", "j": "2"}
    # A JSON patch that does not apply: a 422 whose cause the API server does not send.
    test_fails = '[{"op":"test","path":"/metadata/labels/j","value":"3"}]'
    failed(
        node.kubectl("patch", "pod", "web", "--type=json", "-p", test_fails),
        "The request is invalid: the server rejected our request due to an error in our request\n",
    )
    # kubectl patch asks for no field validation: the server warns about an unknown field and drops it.
    assert settled(node)
    unknown = node.kubectl("patch", "pod", "web", "-p", '{"spec":{"bogus":1}}')
    assert (unknown.returncode, unknown.stdout, unknown.stderr) == (
        0,
        "pod/web patched (no change)\n",
        'Warning: unknown field "spec.bogus"\n',
    )
    failed(
        node.kubectl("patch", "pod", "web", "-p", '{"spec":{"restartPolicy":"Never"}}'),
        f'The Pod "web" is invalid: {FORBIDDEN}\n',
    )
    failed(node.kubectl("patch", "pod", "nope", "-p", "{}"), 'Error from server (NotFound): pods "nope" not found\n')


def test_label_and_annotate(node: Node, tmp_path: Path) -> None:
    ok(node.kubectl("create", "-f", str(manifest(tmp_path / "web.json"))), "pod/web created\n")
    ok(node.kubectl("label", "pod", "web", "x=y"), "pod/web labeled\n")
    failed(node.kubectl("label", "pod", "web", "x=z"), "error: 'x' already has a value (y), and --overwrite is false\n")
    ok(node.kubectl("label", "pod", "web", "x=z", "--overwrite"), "pod/web labeled\n")
    assert get(node)["metadata"]["labels"] == {"app": "web", "x": "z"}
    ok(node.kubectl("label", "pod", "web", "x-"), "pod/web unlabeled\n")
    assert get(node)["metadata"]["labels"] == {"app": "web"}
    ok(node.kubectl("annotate", "pod", "web", "note=one"), "pod/web annotated\n")
    refused = node.kubectl("annotate", "pod", "web", "note=two")
    assert refused.returncode == 1
    assert (
        refused.stderr
        == "error: --overwrite is false but found the following declared annotation(s): 'note' already has a value (one)\n"
    )
    ok(node.kubectl("annotate", "pod", "web", "note=two", "--overwrite"), "pod/web annotated\n")
    assert get(node)["metadata"]["annotations"] == {"note": "two"}
    ok(node.kubectl("annotate", "pod", "web", "note-"), "pod/web annotated\n")
    assert "annotations" not in get(node)["metadata"]
    failed(node.kubectl("label", "pod", "nope", "x=y"), 'Error from server (NotFound): pods "nope" not found\n')


def test_edit_with_a_scripted_editor(node: Node, tmp_path: Path) -> None:
    ok(node.kubectl("create", "-f", str(manifest(tmp_path / "web.json"))), "pod/web created\n")
    env = {
        **node.env,
        "KUBECONFIG": str(node.kubeconfig),
        "HOME": str(node.home),
        "EDITOR": "sed -i -e 's/^    app: web$/    app: edited/'",
    }
    edited = subprocess.run([KUBECTL, "edit", "pod", "web"], capture_output=True, text=True, env=env, timeout=60, check=False)
    ok(edited, "pod/web edited\n")
    assert get(node)["metadata"]["labels"] == {"app": "edited"}


# --- delete -------------------------------------------------------------------------------------------------------


def test_delete_all_by_label_and_a_missing_pod(node: Node, tmp_path: Path) -> None:
    for name, app in (("a", "x"), ("b", "x"), ("c", "y")):
        ok(
            node.kubectl("create", "-f", str(manifest(tmp_path / f"{name}.json", name, labels={"app": app}))),
            f"pod/{name} created\n",
        )
    ok(
        node.kubectl("delete", "pods", "-l", "app=x"),
        'pod "a" deleted from default namespace\npod "b" deleted from default namespace\n',
    )
    assert node.kubectl("get", "pods", "-o", "name").stdout == "pod/c\n"
    ok(node.kubectl("create", "-f", str(tmp_path / "a.json")), "pod/a created\n")
    ok(
        node.kubectl("delete", "pods", "--all"),
        'pod "a" deleted from default namespace\npod "c" deleted from default namespace\n',
    )
    assert node.kubectl("get", "pods").stderr == "No resources found in default namespace.\n"
    failed(node.kubectl("delete", "pod", "nope"), 'Error from server (NotFound): pods "nope" not found\n')


def test_delete_waits_until_the_pod_is_gone(node: Node, tmp_path: Path) -> None:
    ok(node.kubectl("create", "-f", str(manifest(tmp_path / "web.json"))), "pod/web created\n")
    assert running(node)
    ok(node.kubectl("delete", "pod", "web"), 'pod "web" deleted from default namespace\n')
    assert missing(node)  # at once: kubectl returned only after the DELETED event


def test_delete_with_a_grace_period_and_without_waiting(node: Node, tmp_path: Path) -> None:
    ok(node.kubectl("create", "-f", str(manifest(tmp_path / "web.json", script=STUBBORN))), "pod/web created\n")
    assert running(node)
    started = time.monotonic()
    ok(node.kubectl("delete", "pod", "web", "--grace-period=3", "--wait=false"), 'pod "web" deleted from default namespace\n')
    terminating = get(node)
    assert terminating["metadata"]["deletionGracePeriodSeconds"] == 3
    assert "deletionTimestamp" in terminating["metadata"]
    # SIGTERM is ignored, so the pod goes when the kubelet kills it after 3 s (not the spec's 30).
    assert eventually(lambda: missing(node), timeout=20)
    assert 3 <= time.monotonic() - started < 20


def test_force_delete_removes_the_pod_at_once(node: Node, tmp_path: Path) -> None:
    ok(node.kubectl("create", "-f", str(manifest(tmp_path / "web.json", script=STUBBORN))), "pod/web created\n")
    assert running(node)
    uid = get(node)["metadata"]["uid"]
    forced = node.kubectl("delete", "pod", "web", "--force", "--grace-period=0")
    assert (forced.returncode, forced.stdout) == (0, 'pod "web" force deleted from default namespace\n')
    assert forced.stderr == (
        "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. "
        "The resource may continue to run on the cluster indefinitely.\n"
    )
    assert missing(node)
    # The kubelet still stops and removes the containers.
    assert eventually(lambda: not containers_of(uid), timeout=20)


def containers_of(uid: str) -> list[str]:
    result = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=io.minikubelet.pod.uid={uid}"], capture_output=True, text=True, check=True
    )
    return result.stdout.split()
