"""The patch types the API server accepts (RFC 7386, RFC 6902, strategic merge) and the patch `kubectl apply` sends.

Expected values come from the RFC appendices, from k8s.io/apimachinery's strategicpatch (its list-ordering rules
included) and from a PATCH recorded from real kubectl 1.32 (client-side `apply` of a changed probe).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikubelet.apiserver.patching import json_merge_patch, json_patch, strategic_merge_patch, three_way_merge_patch
from minikubelet.errors import BadRequestError

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


# --- RFC 7386 ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "patch", "result"),
    [
        # RFC 7386 appendix A, row by row.
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
        # RFC 7386 section 3.
        (
            {"title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"}, "tags": ["example", "sample"]},
            {"title": "Hello!", "phoneNumber": "+01-123-456-7890", "author": {"familyName": None}, "tags": ["example"]},
            {
                "title": "Hello!",
                "author": {"givenName": "John"},
                "tags": ["example"],
                "phoneNumber": "+01-123-456-7890",
            },
        ),
    ],
)
def test_json_merge_patch_rfc7386(original: Any, patch: Any, result: Any) -> None:
    before = copy.deepcopy(original)
    assert json_merge_patch(original, patch) == result
    assert original == before


# --- RFC 6902 ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "operations", "result"),
    [
        # RFC 6902 appendix A.
        ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}], {"baz": "qux", "foo": "bar"}),
        ({"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}], {"foo": ["bar", "qux", "baz"]}),
        ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
        ({"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}], {"foo": ["bar", "baz"]}),
        (
            {"baz": "qux", "foo": "bar"},
            [{"op": "replace", "path": "/baz", "value": "boo"}],
            {"baz": "boo", "foo": "bar"},
        ),
        (
            {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
            [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
            {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}},
        ),
        (
            {"foo": ["all", "grass", "cows", "eat"]},
            [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
            {"foo": ["all", "cows", "eat", "grass"]},
        ),
        (
            {"baz": "qux", "foo": ["a", 2, "c"]},
            [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
            {"baz": "qux", "foo": ["a", 2, "c"]},
        ),
        (
            {"foo": "bar"},
            [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
            {"foo": "bar", "child": {"grandchild": {}}},
        ),
        ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}], {"foo": "bar", "baz": "qux"}),
        ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}], {"/": 9, "~1": 10}),
        (
            {"foo": ["bar"]},
            [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
            {"foo": ["bar", ["abc", "def"]]},
        ),
        # The rest of the operations and pointer rules.
        ({"a/b": 1, "m~n": 2}, [{"op": "remove", "path": "/a~1b"}, {"op": "remove", "path": "/m~0n"}], {}),
        ({"a": {"b": [1]}}, [{"op": "copy", "from": "/a/b", "path": "/c"}], {"a": {"b": [1]}, "c": [1]}),
        ({"a": [1, 2]}, [{"op": "copy", "from": "/a/0", "path": "/a/-"}], {"a": [1, 2, 1]}),
        ({"a": [1, 2]}, [{"op": "add", "path": "/a/2", "value": 3}], {"a": [1, 2, 3]}),
        ({"a": [1, 2]}, [{"op": "replace", "path": "/a/0", "value": 9}], {"a": [9, 2]}),
        ({"a": 1}, [{"op": "replace", "path": "", "value": [1]}], [1]),
        ({"a": 1}, [{"op": "add", "path": "", "value": {"b": 2}}], {"b": 2}),
        ({"a": 1}, [{"op": "move", "from": "/a", "path": "/a"}], {"a": 1}),
        ({"a": 1}, [{"op": "add", "path": "/a", "value": None}], {"a": None}),
        ({"a": {"b": 1}}, [{"op": "test", "path": "/a", "value": {"b": 1.0}}], {"a": {"b": 1}}),
        (
            {"metadata": {"labels": {"app": "echo"}}},
            [{"op": "add", "path": "/metadata/labels/tier", "value": "web"}],
            {"metadata": {"labels": {"app": "echo", "tier": "web"}}},
        ),
        ({"a": 1}, [], {"a": 1}),
    ],
)
def test_json_patch(document: Any, operations: list[Any], result: Any) -> None:
    before = copy.deepcopy(document)
    assert json_patch(document, operations) == result
    assert document == before


@pytest.mark.parametrize(
    ("document", "operations", "message"),
    [
        ({"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}], "testing value /baz failed"),
        ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": "10"}], "testing value /~01 failed"),
        ({"a": 1}, [{"op": "test", "path": "/a", "value": True}], "testing value /a failed"),
        (
            {"metadata": {"name": "echo"}},
            [{"op": "test", "path": "/metadata/name", "value": "other"}],
            "testing value /metadata/name failed",
        ),
        (
            {"foo": "bar"},
            [{"op": "add", "path": "/baz/bat", "value": "qux"}],
            'jsonpatch add operation does not apply: doc is missing path: "/baz/bat"',
        ),
        (
            {"spec": {}},
            [{"op": "remove", "path": "/spec/foo"}],
            'jsonpatch remove operation does not apply: doc is missing path: "/spec/foo"',
        ),
        (
            {"spec": {}},
            [{"op": "replace", "path": "/spec/foo", "value": 1}],
            'jsonpatch replace operation does not apply: doc is missing path: "/spec/foo"',
        ),
        (
            {"a": [1]},
            [{"op": "add", "path": "/a/5", "value": 1}],
            'jsonpatch add operation does not apply: doc is missing path: "/a/5"',
        ),
        (
            {"a": [1]},
            [{"op": "remove", "path": "/a/01"}],
            'jsonpatch remove operation does not apply: doc is missing path: "/a/01"',
        ),
        (
            {"a": [1]},
            [{"op": "replace", "path": "/a/-", "value": 1}],
            'jsonpatch replace operation does not apply: doc is missing path: "/a/-"',
        ),
        (
            {"a": 1},
            [{"op": "move", "from": "/b", "path": "/c"}],
            'jsonpatch move operation does not apply: doc is missing from path: "/b"',
        ),
        (
            {"a": 1},
            [{"op": "copy", "from": "/b", "path": "/c"}],
            'jsonpatch copy operation does not apply: doc is missing from path: "/b"',
        ),
        (
            {"a": 1},
            [{"op": "test", "path": "/b", "value": 1}],
            'jsonpatch test operation does not apply: doc is missing path: "/b"',
        ),
        (
            {"a": {"b": 1}},
            [{"op": "move", "from": "/a", "path": "/a/b/c"}],
            'jsonpatch move operation does not apply: "/a" is a prefix of "/a/b/c"',
        ),
        ({"a": 1}, [{"op": "frobnicate", "path": "/a"}], "Unexpected kind: frobnicate"),
        ({"a": 1}, [{"path": "/a"}], "Unexpected kind: None"),
        ({"a": 1}, [{"op": "add", "path": "/b"}], 'jsonpatch add operation is missing a valid "value"'),
        ({"a": 1}, [{"op": "remove"}], 'jsonpatch remove operation is missing a valid "path"'),
        ({"a": 1}, [{"op": "copy", "path": "/b"}], 'jsonpatch copy operation is missing a valid "from"'),
        ({"a": 1}, [{"op": "remove", "path": "a"}], 'invalid JSON pointer: "a"'),
        ({"a": 1}, [{"op": "remove", "path": "/a~2"}], 'invalid JSON pointer: "/a~2"'),
        ({"a": 1}, [{"op": "remove", "path": ""}], "cannot remove the whole document"),
        ({"a": 1}, {"op": "remove", "path": "/a"}, "must be a JSON array of operations"),
        ({"a": 1}, ["remove /a"], "must be a JSON object"),
    ],
)
def test_json_patch_errors(document: Any, operations: Any, message: str) -> None:
    before = copy.deepcopy(document)
    with pytest.raises(BadRequestError) as caught:
        json_patch(document, operations)
    assert message in str(caught.value)
    assert caught.value.status()["code"] == 400
    assert document == before


def test_json_patch_is_all_or_nothing() -> None:
    document = {"a": 1}
    with pytest.raises(BadRequestError):
        json_patch(document, [{"op": "add", "path": "/b", "value": 2}, {"op": "test", "path": "/a", "value": 2}])
    assert document == {"a": 1}


# --- Strategic merge patch -----------------------------------------------------------------------------------------


def container(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "busybox", **fields}


def pod(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "echo", "namespace": "default"},
        "spec": {"containers": list(containers), **spec},
    }


def names(items: list[dict[str, Any]], key: str = "name") -> list[Any]:
    return [item[key] for item in items]


SMP_CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    (
        "maps merge; null deletes a key",
        {"metadata": {"labels": {"app": "echo", "tier": "web"}, "annotations": {"a": "1"}}},
        {"metadata": {"labels": {"tier": None, "env": "prod"}, "annotations": {"b": "2"}}},
        {"metadata": {"labels": {"app": "echo", "env": "prod"}, "annotations": {"a": "1", "b": "2"}}},
    ),
    (
        "null for a missing key is a no-op, and nulls inside new maps are dropped",
        {"spec": {}},
        {"spec": {"nodeName": None, "securityContext": {"runAsUser": 1, "fsGroup": None}}},
        {"spec": {"securityContext": {"runAsUser": 1}}},
    ),
    (
        "a container is added (with $setElementOrder, as kubectl sends it)",
        {"spec": {"containers": [container("a")]}},
        {
            "spec": {
                "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                "containers": [container("b")],
            }
        },
        {"spec": {"containers": [container("a"), container("b")]}},
    ),
    (
        "without $setElementOrder a new element goes before the live ones (upstream mergeSortedSlice)",
        {"spec": {"containers": [container("a")]}},
        {"spec": {"containers": [container("b")]}},
        {"spec": {"containers": [container("b"), container("a")]}},
    ),
    (
        "one field of one container changes; the others keep theirs",
        {"spec": {"containers": [container("a", tty=True), container("b", stdin=True)]}},
        {"spec": {"containers": [{"name": "b", "image": "nginx"}]}},
        {"spec": {"containers": [container("a", tty=True), {"name": "b", "image": "nginx", "stdin": True}]}},
    ),
    (
        "a container is deleted with $patch: delete",
        {"spec": {"containers": [container("a"), container("b"), container("c")]}},
        {"spec": {"containers": [{"$patch": "delete", "name": "b"}]}},
        {"spec": {"containers": [container("a"), container("c")]}},
    ),
    (
        "env merges by name",
        {"spec": {"containers": [container("a", env=[{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}])]}},
        {
            "spec": {
                "containers": [
                    {
                        "name": "a",
                        "env": [
                            {"name": "Y", "value": "3"},
                            {"name": "Z", "value": "4"},
                            {"name": "X", "$patch": "delete"},
                        ],
                    }
                ]
            }
        },
        {"spec": {"containers": [container("a", env=[{"name": "Y", "value": "3"}, {"name": "Z", "value": "4"}])]}},
    ),
    (
        "ports merge by containerPort",
        {"spec": {"containers": [container("a", ports=[{"containerPort": 80, "name": "http"}, {"containerPort": 9090}])]}},
        {"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}},
        {
            "spec": {
                "containers": [
                    container("a", ports=[{"containerPort": 80, "name": "http", "protocol": "TCP"}, {"containerPort": 9090}])
                ]
            }
        },
    ),
    (
        "volumeMounts merge by mountPath, volumes by name",
        {
            "spec": {
                "containers": [container("a", volumeMounts=[{"name": "data", "mountPath": "/data"}])],
                "volumes": [{"name": "data", "emptyDir": {}}],
            }
        },
        {
            "spec": {
                "containers": [{"name": "a", "volumeMounts": [{"mountPath": "/data", "readOnly": True}]}],
                "volumes": [{"name": "cache", "emptyDir": {"medium": "Memory"}}],
            }
        },
        {
            "spec": {
                "containers": [container("a", volumeMounts=[{"name": "data", "mountPath": "/data", "readOnly": True}])],
                "volumes": [{"name": "cache", "emptyDir": {"medium": "Memory"}}, {"name": "data", "emptyDir": {}}],
            }
        },
    ),
    (
        "command, args and tolerations are replaced, not merged",
        {
            "spec": {
                "containers": [container("a", command=["sh", "-c"], args=["sleep 1"])],
                "tolerations": [{"key": "a", "operator": "Exists"}],
            }
        },
        {
            "spec": {
                "containers": [{"name": "a", "command": ["sleep"], "args": ["2"]}],
                "tolerations": [{"key": "b", "operator": "Exists"}],
            }
        },
        {
            "spec": {
                "containers": [container("a", command=["sleep"], args=["2"])],
                "tolerations": [{"key": "b", "operator": "Exists"}],
            }
        },
    ),
    (
        "$patch: replace on a map",
        {"spec": {"securityContext": {"runAsUser": 0, "fsGroup": 2}}},
        {"spec": {"securityContext": {"$patch": "replace", "runAsUser": 1}}},
        {"spec": {"securityContext": {"runAsUser": 1}}},
    ),
    (
        "$patch: replace on a list",
        {"spec": {"containers": [container("a"), container("b")]}},
        {"spec": {"containers": [{"name": "c", "image": "nginx"}, {"$patch": "replace"}]}},
        {"spec": {"containers": [{"name": "c", "image": "nginx"}]}},
    ),
    (
        "$patch: delete on a map leaves it empty (as upstream)",
        {"spec": {"securityContext": {"runAsUser": 0}, "nodeName": "n"}},
        {"spec": {"securityContext": {"$patch": "delete"}}},
        {"spec": {"securityContext": {}, "nodeName": "n"}},
    ),
    (
        "$patch: merge is the default",
        {"metadata": {"labels": {"a": "1"}}},
        {"metadata": {"labels": {"$patch": "merge", "b": "2"}}},
        {"metadata": {"labels": {"a": "1", "b": "2"}}},
    ),
    (
        "$setElementOrder reorders a merge list",
        {"spec": {"containers": [container("a"), container("b"), container("c")]}},
        {"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}]}},
        {"spec": {"containers": [container("c"), container("a"), container("b")]}},
    ),
    (
        "$setElementOrder with a change and a deletion",
        {"spec": {"containers": [container("a"), container("b"), container("c")]}},
        {
            "spec": {
                "$setElementOrder/containers": [{"name": "c"}, {"name": "a"}],
                "containers": [{"name": "c", "tty": True}, {"name": "b", "$patch": "delete"}],
            }
        },
        {"spec": {"containers": [container("c", tty=True), container("a")]}},
    ),
    (
        "finalizers are a set: union, then $deleteFromPrimitiveList",
        {"metadata": {"finalizers": ["a", "b"]}},
        {
            "metadata": {
                "$setElementOrder/finalizers": ["a", "c"],
                "$deleteFromPrimitiveList/finalizers": ["b"],
                "finalizers": ["c"],
            }
        },
        {"metadata": {"finalizers": ["a", "c"]}},
    ),
    (
        "finalizers without $setElementOrder: patch order, live values before their patch successors, no duplicates",
        {"metadata": {"finalizers": ["a", "b"]}},
        {"metadata": {"finalizers": ["b", "c"]}},
        {"metadata": {"finalizers": ["a", "b", "c"]}},
    ),
    (
        "finalizers without $setElementOrder: a value new to the list goes first (upstream mergeSortedSlice)",
        {"metadata": {"finalizers": ["a", "b"]}},
        {"metadata": {"finalizers": ["c"]}},
        {"metadata": {"finalizers": ["c", "a", "b"]}},
    ),
    (
        "$deleteFromPrimitiveList on a missing list is a no-op",
        {"metadata": {}},
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["x"]}},
        {"metadata": {}},
    ),
    (
        "$retainKeys clears the volume source that is not kept",
        {"spec": {"volumes": [{"name": "v", "emptyDir": {}}]}},
        {"spec": {"volumes": [{"name": "v", "hostPath": {"path": "/x"}, "$retainKeys": ["hostPath", "name"]}]}},
        {"spec": {"volumes": [{"name": "v", "hostPath": {"path": "/x"}}]}},
    ),
    (
        "ownerReferences merge by uid, imagePullSecrets by name, hostAliases by ip",
        {
            "metadata": {"ownerReferences": [{"uid": "1", "kind": "ReplicaSet", "name": "rs"}]},
            "spec": {"imagePullSecrets": [{"name": "x"}], "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["a"]}]},
        },
        {
            "metadata": {"ownerReferences": [{"uid": "1", "controller": True}]},
            "spec": {"imagePullSecrets": [{"name": "y"}], "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["b"]}]},
        },
        {
            "metadata": {"ownerReferences": [{"uid": "1", "kind": "ReplicaSet", "name": "rs", "controller": True}]},
            "spec": {
                "imagePullSecrets": [{"name": "y"}, {"name": "x"}],
                "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["b"]}],
            },
        },
    ),
    (
        "status.conditions merge by type",
        {"status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "PodScheduled", "status": "True"}]}},
        {"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
        {"status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}]}},
    ),
    (
        "directives inside new elements are applied, never stored",
        {"spec": {"containers": [container("a")]}},
        {
            "spec": {
                "containers": [
                    {
                        "name": "b",
                        "env": [{"name": "X", "value": "1"}, {"name": "Y", "$patch": "delete"}],
                        "stdin": None,
                    }
                ],
                "securityContext": {"$patch": "replace", "runAsUser": 1},
            }
        },
        {
            "spec": {
                "containers": [{"name": "b", "env": [{"name": "X", "value": "1"}]}, container("a")],
                "securityContext": {"runAsUser": 1},
            }
        },
    ),
    (
        "a value of another type replaces the old one",
        {"spec": {"containers": [container("a", args="oops")]}},
        {"spec": {"containers": [{"name": "a", "args": ["ok"]}]}},
        {"spec": {"containers": [container("a", args=["ok"])]}},
    ),
    (
        "an empty patch list leaves a merge list alone",
        {"spec": {"containers": [container("a")]}},
        {"spec": {"containers": []}},
        {"spec": {"containers": [container("a")]}},
    ),
]


@pytest.mark.parametrize(("original", "patch", "result"), [case[1:] for case in SMP_CASES], ids=[c[0] for c in SMP_CASES])
def test_strategic_merge_patch(original: dict[str, Any], patch: dict[str, Any], result: dict[str, Any]) -> None:
    before, patch_before = copy.deepcopy(original), copy.deepcopy(patch)
    assert strategic_merge_patch(original, patch) == result
    assert (original, patch) == (before, patch_before)


def test_strategic_merge_patch_of_the_kubectl_apply_example() -> None:
    """The body real kubectl 1.32 sent (kubectl-api.md item 6), applied to a live pod with server defaults."""
    live = pod(
        container(
            "echo",
            livenessProbe={"httpGet": {"path": "/", "port": 80}, "periodSeconds": 10, "timeoutSeconds": 1},
            imagePullPolicy="Always",
        )
    )
    live["metadata"]["annotations"] = {LAST_APPLIED: "old"}
    patch = {
        "metadata": {"annotations": {LAST_APPLIED: "new"}},
        "spec": {
            "$setElementOrder/containers": [{"name": "echo"}],
            "containers": [{"livenessProbe": {"periodSeconds": 5}, "name": "echo"}],
        },
    }
    result = strategic_merge_patch(live, patch)
    expected = copy.deepcopy(live)
    expected["metadata"]["annotations"][LAST_APPLIED] = "new"
    expected["spec"]["containers"][0]["livenessProbe"]["periodSeconds"] = 5
    assert result == expected


@pytest.mark.parametrize(
    ("kind", "original", "patch", "result"),
    [
        (
            "Node",
            {
                "status": {
                    "conditions": [{"type": "Ready", "status": "False"}],
                    "addresses": [{"type": "Hostname", "address": "a"}],
                }
            },
            {
                "status": {
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
                }
            },
            {
                "status": {
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}, {"type": "Hostname", "address": "a"}],
                }
            },
        ),
        (
            "Namespace",
            {"metadata": {"labels": {"a": "1"}}, "spec": {"finalizers": ["kubernetes"]}},
            {"metadata": {"labels": {"b": "2"}}, "spec": {"finalizers": ["other"]}},
            {"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"finalizers": ["other"]}},
        ),
        (
            "Event",
            {"count": 1, "related": {"kind": "Pod"}, "metadata": {"finalizers": ["a"]}},
            {"count": 2, "related": {"name": "x"}, "metadata": {"finalizers": ["b"]}},
            {"count": 2, "related": {"kind": "Pod", "name": "x"}, "metadata": {"finalizers": ["b", "a"]}},
        ),
    ],
)
def test_strategic_merge_patch_of_other_kinds(
    kind: str, original: dict[str, Any], patch: dict[str, Any], result: dict[str, Any]
) -> None:
    assert strategic_merge_patch(original, patch, kind) == result


@pytest.mark.parametrize(
    ("original", "patch", "message"),
    [
        ({"spec": {}}, {"spec": {"$patch": "explode"}}, "unknown patch type: explode"),
        (
            {"spec": {"containers": [container("a")]}},
            {"spec": {"containers": [{"$patch": "delete"}]}},
            "merge key: name",
        ),
        ({"spec": {"containers": [container("a")]}}, {"spec": {"containers": [{"image": "x"}]}}, "merge key: name"),
        ({"spec": {"containers": [container("a")]}}, {"spec": {"containers": ["a"]}}, "list element types"),
        ({"metadata": {"finalizers": ["a"]}}, {"metadata": {"finalizers": [["b"]]}}, "lists of lists"),
        ({"spec": {}}, {"spec": {"$setElementOrder/containers": {"name": "a"}}}, "setElementOrder"),
        (
            {"spec": {"containers": [container("a"), container("b")]}},
            {"spec": {"$setElementOrder/containers": [{"name": "a"}], "containers": [{"name": "b", "tty": True}]}},
            "doesn't match $setElementOrder list",
        ),
        ({"metadata": {}}, {"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}}, "primitive list"),
        ({"spec": {"volumes": []}}, {"spec": {"volumes": [{"name": "v", "$retainKeys": "name"}]}}, "retainKeys"),
        (
            {"spec": {"volumes": []}},
            {"spec": {"volumes": [{"name": "v", "emptyDir": {}, "$retainKeys": ["name"]}]}},
            "doesn't match retainKeys",
        ),
    ],
)
def test_strategic_merge_patch_errors(original: dict[str, Any], patch: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        strategic_merge_patch(original, patch)
    assert message in str(caught.value)


def test_strategic_merge_patch_rejects_a_non_object_and_an_unknown_kind() -> None:
    with pytest.raises(BadRequestError, match="must be a JSON object"):
        strategic_merge_patch({}, [{"op": "add"}])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Deployment"):
        strategic_merge_patch({}, {}, kind="Deployment")


# --- Three-way merge patch (client-side apply) ---------------------------------------------------------------------


def applied(manifest: dict[str, Any]) -> dict[str, Any]:
    """`manifest` as kubectl sends it: with the last-applied annotation (a stand-in value per content)."""
    result = copy.deepcopy(manifest)
    result["metadata"].setdefault("annotations", {})[LAST_APPLIED] = repr(manifest)
    return result


def live(manifest: dict[str, Any]) -> dict[str, Any]:
    """What the server stores for `manifest`: plus uid, defaults and status."""
    result = copy.deepcopy(manifest)
    result["metadata"]["uid"] = "6f1c"
    result["metadata"]["creationTimestamp"] = "2025-01-01T00:00:00Z"
    result["spec"].setdefault("restartPolicy", "Always")
    for item in result["spec"]["containers"]:
        item.setdefault("imagePullPolicy", "Always")
        item.setdefault("terminationMessagePath", "/dev/termination-log")
    result["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    return result


def apply_twice(first: dict[str, Any], second: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The patch of `kubectl apply -f second` after `kubectl apply -f first`, and the object it leaves."""
    current = live(applied(first))
    patch = three_way_merge_patch(first, applied(second), current)
    return patch, strategic_merge_patch(current, patch)


ECHO = pod(
    container(
        "echo",
        env=[{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        livenessProbe={"httpGet": {"path": "/", "port": 80}, "periodSeconds": 10},
    )
)
ECHO["metadata"]["labels"] = {"app": "echo", "tier": "web"}


def changed(**edits: Any) -> dict[str, Any]:
    """ECHO with its single container's fields (or, for `labels`, the labels) replaced."""
    result = copy.deepcopy(ECHO)
    if "labels" in edits:
        result["metadata"]["labels"] = edits.pop("labels")
    result["spec"]["containers"][0].update(edits)
    return result


def test_three_way_of_the_recorded_kubectl_example() -> None:
    second = changed(livenessProbe={"httpGet": {"path": "/", "port": 80}, "periodSeconds": 5})
    patch, result = apply_twice(ECHO, second)
    assert patch == {
        "metadata": {"annotations": {LAST_APPLIED: repr(second)}},
        "spec": {
            "$setElementOrder/containers": [{"name": "echo"}],
            "containers": [{"livenessProbe": {"periodSeconds": 5}, "name": "echo"}],
        },
    }
    assert result["spec"]["containers"][0]["livenessProbe"]["periodSeconds"] == 5
    assert result["spec"]["containers"][0]["imagePullPolicy"] == "Always"


def test_three_way_unchanged_is_empty() -> None:
    current = live(applied(ECHO))
    assert three_way_merge_patch(ECHO, applied(ECHO), current) == {}


def test_three_way_first_apply_without_last_applied_only_adds() -> None:
    """`kubectl apply` on an object made by `kubectl create`: no deletions, and defaults stay."""
    current = live(ECHO)
    current["metadata"]["labels"]["owner"] = "someone"
    patch = three_way_merge_patch(None, applied(ECHO), current)
    assert patch == {"metadata": {"annotations": {LAST_APPLIED: repr(ECHO)}}}
    result = strategic_merge_patch(current, patch)
    assert result["metadata"]["labels"]["owner"] == "someone"


def test_three_way_removes_a_label_that_was_applied() -> None:
    patch, result = apply_twice(ECHO, changed(labels={"app": "echo"}))
    assert patch["metadata"]["labels"] == {"tier": None}
    assert result["metadata"]["labels"] == {"app": "echo"}


def test_three_way_keeps_a_label_it_never_applied() -> None:
    current = live(applied(ECHO))
    current["metadata"]["labels"]["added-by-hand"] = "yes"
    patch = three_way_merge_patch(ECHO, applied(changed(labels={"app": "echo"})), current)
    assert strategic_merge_patch(current, patch)["metadata"]["labels"] == {"app": "echo", "added-by-hand": "yes"}


def test_three_way_removes_an_env_var_that_was_applied() -> None:
    patch, result = apply_twice(ECHO, changed(env=[{"name": "B", "value": "2"}]))
    assert patch["spec"] == {
        "$setElementOrder/containers": [{"name": "echo"}],
        "containers": [{"name": "echo", "$setElementOrder/env": [{"name": "B"}], "env": [{"name": "A", "$patch": "delete"}]}],
    }
    assert result["spec"]["containers"][0]["env"] == [{"name": "B", "value": "2"}]


def test_three_way_leaves_defaults_and_status_alone() -> None:
    current = live(applied(ECHO))
    patch = three_way_merge_patch(ECHO, applied(ECHO), current)
    assert patch == {}
    patch = three_way_merge_patch(ECHO, applied(changed(image="nginx")), current)
    assert "status" not in patch
    result = strategic_merge_patch(current, patch)
    assert result["status"] == current["status"]
    assert result["spec"]["restartPolicy"] == "Always"
    assert result["spec"]["containers"][0]["terminationMessagePath"] == "/dev/termination-log"
    assert result["spec"]["containers"][0]["image"] == "nginx"


def test_three_way_adds_a_second_container() -> None:
    second = copy.deepcopy(ECHO)
    sidecar = container("sidecar", command=["sleep", "infinity"])
    second["spec"]["containers"].append(sidecar)
    patch, result = apply_twice(ECHO, second)
    assert patch["spec"] == {
        "$setElementOrder/containers": [{"name": "echo"}, {"name": "sidecar"}],
        "containers": [sidecar],
    }
    assert names(result["spec"]["containers"]) == ["echo", "sidecar"]
    assert result["spec"]["containers"][1] == sidecar


def test_three_way_removes_a_container_and_changes_another() -> None:
    first = copy.deepcopy(ECHO)
    first["spec"]["containers"].insert(0, container("init-ish"))
    patch, result = apply_twice(first, changed(image="nginx"))
    assert patch["spec"]["containers"] == [{"name": "echo", "image": "nginx"}, {"name": "init-ish", "$patch": "delete"}]
    assert names(result["spec"]["containers"]) == ["echo"]


def test_three_way_removes_an_applied_finalizer_only() -> None:
    first = copy.deepcopy(ECHO)
    first["metadata"]["finalizers"] = ["a", "b"]
    second = copy.deepcopy(ECHO)
    second["metadata"]["finalizers"] = ["a"]
    current = live(applied(first))
    current["metadata"]["finalizers"].append("server")
    patch = three_way_merge_patch(first, applied(second), current)
    assert patch["metadata"]["$deleteFromPrimitiveList/finalizers"] == ["b"]
    assert strategic_merge_patch(current, patch)["metadata"]["finalizers"] == ["a", "server"]


def test_three_way_switches_a_volume_source_with_retain_keys() -> None:
    first = pod(container("echo"), volumes=[{"name": "v", "emptyDir": {}}])
    second = pod(container("echo"), volumes=[{"name": "v", "hostPath": {"path": "/srv"}}])
    patch, result = apply_twice(first, second)
    assert patch["spec"]["volumes"] == [
        {"name": "v", "hostPath": {"path": "/srv"}, "emptyDir": None, "$retainKeys": ["hostPath", "name"]}
    ]
    assert result["spec"]["volumes"] == [{"name": "v", "hostPath": {"path": "/srv"}}]


# --- Round-trip properties -----------------------------------------------------------------------------------------

KEYS = st.sampled_from(["app", "tier", "env", "team", "example.com/owner"])
VALUES = st.sampled_from(["a", "b", "c"])
STRING_MAPS = st.dictionaries(KEYS, VALUES, max_size=5)


def labelled(labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
    result = pod(container("echo"))
    result["metadata"].update(labels=dict(labels), annotations=dict(annotations))
    return result


def three_way_expectation(original: dict[str, Any], modified: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Live keys survive unless this apply removed them from the manifest; the manifest's values win."""
    return {key: value for key, value in current.items() if key not in original or key in modified} | modified


@settings(max_examples=300, deadline=None)
@given(st.tuples(STRING_MAPS, STRING_MAPS), st.tuples(STRING_MAPS, STRING_MAPS), st.tuples(STRING_MAPS, STRING_MAPS))
def test_three_way_round_trip_of_labels_and_annotations(
    original: tuple[dict[str, str], dict[str, str]],
    modified: tuple[dict[str, str], dict[str, str]],
    current: tuple[dict[str, str], dict[str, str]],
) -> None:
    live_object = labelled(*current)
    patch = three_way_merge_patch(labelled(*original), labelled(*modified), live_object)
    result = strategic_merge_patch(live_object, patch)["metadata"]
    for index, field in enumerate(("labels", "annotations")):
        assert result[field] == three_way_expectation(original[index], modified[index], current[index])
    if modified == current and set(original[0]) <= set(modified[0]) and set(original[1]) <= set(modified[1]):
        assert patch == {}


ENV_LISTS = st.lists(
    st.fixed_dictionaries({"name": st.sampled_from(["A", "B", "C", "D", "E"]), "value": VALUES}),
    unique_by=lambda item: item["name"],
    max_size=5,
)


def with_env(env: list[dict[str, str]]) -> dict[str, Any]:
    return pod(container("echo", env=copy.deepcopy(env)))


@settings(max_examples=300, deadline=None)
@given(ENV_LISTS, ENV_LISTS, ENV_LISTS)
def test_three_way_round_trip_of_env(
    original: list[dict[str, str]], modified: list[dict[str, str]], current: list[dict[str, str]]
) -> None:
    live_object = with_env(current)
    patch = three_way_merge_patch(with_env(original), with_env(modified), live_object)
    env = strategic_merge_patch(live_object, patch)["spec"]["containers"][0].get("env", [])
    expected = three_way_expectation(
        {item["name"]: item["value"] for item in original},
        {item["name"]: item["value"] for item in modified},
        {item["name"]: item["value"] for item in current},
    )
    assert {item["name"]: item["value"] for item in env} == expected
    assert len(env) == len(expected)
    kept_order = [item["name"] for item in env if any(item["name"] == other["name"] for other in modified)]
    assert kept_order == names(modified)
