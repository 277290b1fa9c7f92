"""Manifest text -> objects: parsing, kinds, documents, hints and the bounds that keep bad input cheap."""

from __future__ import annotations

import json
import textwrap

import pytest

from minikubelet.api.loading import MAX_DEPTH, MAX_MANIFEST_BYTES, load_text

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
    - name: app
      image: minikubelet.local/echo:v1
"""


def errors_of(text: str, source: str = "pod.yml", fmt: str = "yaml") -> list[str]:
    result = load_text(textwrap.dedent(text), source, fmt=fmt)  # type: ignore[arg-type]
    assert not (result.errors and result.objects and len(result.objects) > 10)
    return result.error_lines()


def test_a_valid_pod_loads() -> None:
    result = load_text(POD.format(name="echo"), "pod.yml")
    assert result.errors == []
    assert [loaded.obj.metadata.name for loaded in result.objects] == ["echo"]
    assert result.objects[0].source == "pod.yml"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: echo\nspec:\n  containers:\n    - name: app\n     image: x\n",
            "pod.yml: error parsing YAML at line 8, column 6: did not find expected '-' indicator"
            " (check the indentation), while parsing a block collection (line 7, column 5)",
            id="mis-indented-list-item",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: echo: x\n",
            "pod.yml: error parsing YAML at line 4, column 13: mapping values are not allowed in this context",
            id="colon-in-value",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: echo\n",
            "pod.yml: error parsing YAML at line 4, column 1: found character that cannot start any token"
            " (a tab: YAML is indented with spaces only), while scanning for the next token (line 4, column 1)",
            id="tab-indentation",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: echo\n  name: other\n",
            "pod.yml: error parsing YAML at line 5, column 3: key 'name' already set in map",
            id="duplicate-key",
        ),
        pytest.param(
            'apiVersion: v1\nkind: Pod\nmetadata: {name: "echo}\n',
            "pod.yml: error parsing YAML at line 4, column 1: found unexpected end of stream, while scanning a quoted"
            " scalar (line 3, column 18)",
            id="unterminated-quote",
        ),
    ],
)
def test_yaml_syntax_errors_name_line_and_column(text: str, expected: str) -> None:
    assert errors_of(text) == [expected]


def test_json_syntax_errors_name_line_and_column() -> None:
    text = '{\n  "apiVersion": "v1",\n  "kind": "Pod"\n  "metadata": {}\n}\n'
    assert errors_of(text, "pod.json", fmt="json") == [
        "pod.json: error parsing JSON at line 4, column 3: Expecting ',' delimiter"
    ]


def test_json_duplicate_field() -> None:
    text = '{"apiVersion": "v1", "kind": "Pod", "kind": "Pod"}'
    assert errors_of(text, "pod.json", fmt="json") == ['pod.json: error parsing JSON: duplicate field "kind"']


def test_json_manifest_loads() -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "j"},
        "spec": {"containers": [{"name": "a", "image": "i:1"}]},
    }
    result = load_text(json.dumps(doc), "pod.json", fmt="json")
    assert [o.obj.metadata.name for o in result.objects] == ["j"]


def test_timestamps_stay_strings() -> None:
    text = POD.format(name="echo") + "  nodeName: 2024-01-01\n"
    # nodeName must be a string; YAML 1.1 would have made it a date, Kubernetes keeps the text.
    assert errors_of(text) == []


def test_multi_document_files_load_every_document_and_skip_empty_ones() -> None:
    text = POD.format(name="one") + "---\n---\n" + POD.format(name="two")
    result = load_text(text, "pods.yml")
    assert [o.obj.metadata.name for o in result.objects] == ["one", "two"]


def test_a_bad_document_does_not_hide_the_good_ones() -> None:
    text = POD.format(name="good") + "---\n" + POD.format(name="Bad")
    result = load_text(text, "pods.yml")
    assert [o.obj.metadata.name for o in result.objects] == ["good"]
    assert len(result.error_lines()) == 1
    assert result.error_lines()[0].startswith('pods.yml: The Pod "Bad" is invalid: metadata.name: Invalid value: "Bad"')


@pytest.mark.parametrize("kind", ["List", "PodList"])
def test_list_kinds_hold_items(kind: str) -> None:
    items = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"p{i}"},
            "spec": {"containers": [{"name": "a", "image": "i:1"}]},
        }
        for i in range(3)
    ]
    result = load_text(json.dumps({"apiVersion": "v1", "kind": kind, "items": items}), "list.json", fmt="json")
    assert result.errors == []
    assert [o.obj.metadata.name for o in result.objects] == ["p0", "p1", "p2"]


def test_list_items_of_unserved_kinds_are_named() -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}],
    }
    assert errors_of(json.dumps(doc), "list.json", fmt="json") == [
        'list.json: items[0]: no matches for kind "Service" in version "v1": minikubelet serves Pod (v1)'
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kind: Pod\nmetadata: {name: x}\n", "pod.yml: error validating data: apiVersion not set"),
        ("apiVersion: v1\nmetadata: {name: x}\n", "pod.yml: error validating data: kind not set"),
        ("metadata: {name: x}\n", "pod.yml: error validating data: apiVersion not set, kind not set"),
        (
            "apiVersion: apps/v1\nkind: Deployment\n",
            'pod.yml: no matches for kind "Deployment" in version "apps/v1": minikubelet serves Pod (v1)',
        ),
        (
            "apiVersion: v2\nkind: Pod\n",
            'pod.yml: no matches for kind "Pod" in version "v2": minikubelet serves Pod (v1)',
        ),
        ("- a\n- b\n", "pod.yml: unable to decode: expected an object (a mapping of fields), got a list"),
        ("just text\n", "pod.yml: unable to decode: expected an object (a mapping of fields), got a string"),
        ("apiVersion: 1\nkind: Pod\n", "pod.yml: error validating data: apiVersion and kind must be strings"),
    ],
)
def test_document_level_errors(text: str, expected: str) -> None:
    assert errors_of(text) == [expected]


def test_document_numbers_are_given_when_a_file_has_several() -> None:
    text = POD.format(name="one") + "---\nkind: Pod\n"
    assert errors_of(text) == ["pod.yml: document 2: error validating data: apiVersion not set"]


def test_the_tutorial_mis_indented_label_gets_a_hint() -> None:
    text = """\
    apiVersion: v1
    kind: Pod
    metadata:
      name: echo
      labels:
      app: echo
    spec:
      containers:
        - name: app
          image: minikubelet.local/echo:v1
    """
    assert errors_of(text, "echo-pod.yml") == [
        'echo-pod.yml: The Pod "echo" is invalid: metadata.app: Unknown field: "labels:" above it is empty, and'
        ' "app" belongs inside it: indent "app" one level more'
    ]


def test_a_mis_indented_probe_gets_a_hint_for_each_stray_field() -> None:
    text = """\
    apiVersion: v1
    kind: Pod
    metadata: {name: echo}
    spec:
      containers:
        - name: app
          image: minikubelet.local/echo:v1
          livenessProbe:
          httpGet:
            port: 3000
          periodSeconds: 5
    """
    prefix = 'pod.yml: The Pod "echo" is invalid: spec.containers[0].'
    assert errors_of(text) == [
        prefix + 'httpGet: Unknown field: "livenessProbe:" above it is empty, and "httpGet" belongs inside it:'
        ' indent "httpGet" one level more',
        prefix + 'periodSeconds: Unknown field: "livenessProbe:" above it is empty, and "periodSeconds" belongs'
        ' inside it: indent "periodSeconds" one level more',
    ]


def test_no_indentation_hint_when_the_key_would_not_fit_below() -> None:
    text = POD.format(name="echo").replace("  name: echo\n", "  name: echo\n  labels:\n  bogus: {a: 1}\n")
    # labels accept any key, but only string values: still the key itself is what is unknown here.
    lines = errors_of(text)
    assert len(lines) == 1
    assert "metadata.bogus: Unknown field" in lines[0]


def test_misspelled_fields_get_a_suggestion() -> None:
    text = POD.format(name="echo") + "      imagePulPolicy: Never\n"
    assert errors_of(text) == [
        'pod.yml: The Pod "echo" is invalid: spec.containers[0].imagePulPolicy: Unknown field: did you mean "imagePullPolicy"?'
    ]


def test_snake_case_field_names_are_unknown_fields() -> None:
    text = POD.format(name="echo") + "      image_pull_policy: Never\n"
    assert errors_of(text) == [
        'pod.yml: The Pod "echo" is invalid: spec.containers[0].image_pull_policy: Unknown field: did you mean "imagePullPolicy"?'
    ]


def test_every_error_of_a_document_is_listed() -> None:
    text = """\
    apiVersion: v1
    kind: Pod
    metadata: {name: echo}
    spec:
      restartPolicy: Sometimes
      containers:
        - name: app
          image: ""
          readinesProbe: {}
          livenessProbe:
            tcpSocket: {port: 3000}
            periodSeconds: -1
          ports:
            - containerPort: "3000"
    """
    prefix = 'pod.yml: The Pod "echo" is invalid: '
    assert sorted(errors_of(text)) == sorted(
        [
            prefix + 'spec.containers[0].readinesProbe: Unknown field: did you mean "readinessProbe"?',
            prefix + 'spec.containers[0].ports[0].containerPort: Invalid value: "3000": must be an integer',
            prefix + 'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
            prefix + "spec.containers[0].image: Required value",
            prefix + "spec.containers[0].livenessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0",
        ]
    )


def test_errors_under_a_field_that_failed_to_decode_are_not_repeated() -> None:
    # `containers` is not a list: only that is reported, not "spec.containers: Required value" as well.
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: echo}\nspec:\n  containers: app\n"
    assert errors_of(text) == ['pod.yml: The Pod "echo" is invalid: spec.containers: Invalid value: "app": must be a list']


def test_yaml_alias_bombs_are_refused_cheaply() -> None:
    lines = ["apiVersion: v1", "kind: Pod", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    assert errors_of("\n".join(lines) + "\n") == [
        "pod.yml: too many values (more than 500000, counting what YAML aliases repeat)"
    ]


@pytest.mark.parametrize("depth", [150, 999, 1001, 5000])
def test_deep_nesting_is_refused_with_one_message(depth: int) -> None:
    """Whichever limit is met first (ours, libyaml's 1000 levels from PyYAML 6.0.4 on, Python's recursion
    limit), the same line."""
    expected = [f"pod.yml: nested more than {MAX_DEPTH} levels deep"]
    assert errors_of(f"apiVersion: v1\nkind: Pod\nx: {'[' * depth + ']' * depth}\n") == expected
    document = '{"apiVersion": "v1", "kind": "Pod", "x": ' + "[" * depth + "]" * depth + "}"
    assert errors_of(document, fmt="json") == expected


def test_recursive_aliases_are_refused() -> None:
    lines = errors_of("apiVersion: v1\nkind: Pod\nmetadata: &m {name: x, self: *m}\n")
    assert len(lines) == 1
    assert lines[0].startswith("pod.yml: error parsing YAML")


def test_huge_manifests_are_refused_before_parsing() -> None:
    text = "# " + "x" * MAX_MANIFEST_BYTES + "\n"
    assert errors_of(text) == [f"pod.yml: too large: {MAX_MANIFEST_BYTES + 3} bytes, the limit is {MAX_MANIFEST_BYTES}"]


def test_binary_garbage_is_a_parse_error() -> None:
    lines = errors_of("\x00\x01\x02garbage\xff")
    assert len(lines) == 1
    assert lines[0].startswith("pod.yml: error parsing YAML")


def test_an_empty_manifest_has_no_objects_and_no_errors() -> None:
    result = load_text("# nothing here\n", "empty.yml")
    assert result.objects == [] and result.errors == []


def test_a_number_in_an_enum_field_is_asked_to_be_a_string() -> None:
    text = POD.format(name="echo") + "  restartPolicy: 1\n"
    assert errors_of(text) == [
        'pod.yml: The Pod "echo" is invalid: spec.restartPolicy: Invalid value: 1: must be a string (put it in quotes)'
    ]


def test_snake_case_names_suggest_the_wire_name_even_for_acronyms() -> None:
    text = POD.format(name="echo") + "status:\n  pod_ip: 10.0.0.1\n"
    assert errors_of(text) == ['pod.yml: The Pod "echo" is invalid: status.pod_ip: Unknown field: did you mean "podIP"?']


def test_identical_errors_are_reported_once() -> None:
    text = POD.format(name="echo") + "  volumes:\n    - name: d\n    - name: d\n"
    lines = errors_of(text)
    assert lines.count('pod.yml: The Pod "echo" is invalid: spec.volumes[1].name: Duplicate value: "d"') == 1
    assert len(lines) == len(set(lines))
