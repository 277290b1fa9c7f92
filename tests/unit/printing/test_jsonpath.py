"""kubectl's JSONPath (printing/jsonpath.py) against client-go's own test table (util/jsonpath/jsonpath_test.go).

The cases are client-go's, with their expected outputs. Go structs have no Python counterpart: those cases
use maps, so their JSON comes out with sorted keys (as a map's does in Go); Go's int and float64 inputs are
Python's int and float. Cases whose map visiting order is random in Go (`*` and `..` over a map with several
keys) are compared sorted, as client-go's `testJSONPathSortOutput` does.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from minikubelet.printing.gofmt import format_float_json, format_float_v, go_string, json_marshal, quote, sprint
from minikubelet.printing.jsonpath import INVALID, FieldNode, JSONPath, JSONPathError, ListNode, TextNode, parse


def run(template: str, data: Any, *, allow_missing: bool = False) -> str:
    path = JSONPath("test").allow_missing_keys(allow_missing)
    path.parse(template)
    return path.execute(data)


TYPES: dict[str, Any] = {
    "bools": [True, False, True, False],
    "integers": [1, 2, 3, 4],
    "floats": [1.0, 2.2, 3.3, 4.0],
    "strings": ["one", "two", "three", "four"],
    "interfaces": [True, "one", 1, 1.1],
    "maps": [
        {"name": "one", "value": 1},
        {"name": "two", "value": 2.02},
        {"name": "three", "value": 3.03},
        {"name": "four", "value": 4.04},
    ],
}

TYPES_CASES = [
    ("{ .bools }", "[true,false,true,false]"),
    ("{ .bools[0] }", "true"),
    ("{ .bools[-1] }", "false"),
    ("{ .bools[0:2] }", "true false"),
    ("{ .bools[:2] }", "true false"),
    ("{ .bools[:4:2] }", "true true"),
    ("{ .integers }", "[1,2,3,4]"),
    ("{ .integers[0] }", "1"),
    ("{ .integers[-2] }", "3"),
    ("{ .integers[0:2] }", "1 2"),
    ("{ .integers[:2] }", "1 2"),
    ("{ .integers[:4:2] }", "1 3"),
    ("{ .floats }", "[1,2.2,3.3,4]"),
    ("{ .floats[0] }", "1"),
    ("{ .floats[-2] }", "3.3"),
    ("{ .floats[0:2] }", "1 2.2"),
    ("{ .floats[:2] }", "1 2.2"),
    ("{ .floats[:4:2] }", "1 3.3"),
    ("{ .strings }", '["one","two","three","four"]'),
    ("{ .strings[0] }", "one"),
    ("{ .strings[-2] }", "three"),
    ("{ .strings[0:2] }", "one two"),
    ("{ .strings[:2] }", "one two"),
    ("{ .strings[:4:2] }", "one three"),
    ("{ .interfaces }", '[true,"one",1,1.1]'),
    ("{ .interfaces[0] }", "true"),
    ("{ .interfaces[-2] }", "1"),
    ("{ .interfaces[0:2] }", "true one"),
    ("{ .interfaces[:2] }", "true one"),
    ("{ .interfaces[:4:2] }", "true 1"),
    (
        "{ .maps }",
        '[{"name":"one","value":1},{"name":"two","value":2.02},{"name":"three","value":3.03},{"name":"four","value":4.04}]',
    ),
    ("{ .maps[0] }", '{"name":"one","value":1}'),
    ("{ .maps[-2] }", '{"name":"three","value":3.03}'),
    ("{ .maps[0:2] }", '{"name":"one","value":1} {"name":"two","value":2.02}'),
    ("{ .maps[:2] }", '{"name":"one","value":1} {"name":"two","value":2.02}'),
    ("{ .maps[::2] }", '{"name":"one","value":1} {"name":"three","value":3.03}'),
    ("{ .maps[1::2] }", '{"name":"two","value":2.02} {"name":"four","value":4.04}'),
]


@pytest.mark.parametrize(("template", "expected"), TYPES_CASES)
def test_types_input(template: str, expected: str) -> None:
    assert run(template, TYPES) == expected


# TestStructInput's store, as maps (a struct's JSON keeps field order in Go; a map's is sorted).
STORE: dict[str, Any] = {
    "Name": "jsonpath",
    "Book": [
        {"Category": "reference", "Author": "Nigel Rees", "Title": "Sayings of the Centurey", "Price": 8.95},
        {"Category": "fiction", "Author": "Evelyn Waugh", "Title": "Sword of Honour", "Price": 12.99},
        {"Category": "fiction", "Author": "Herman Melville", "Title": "Moby Dick", "Price": 8.99},
    ],
    "Bicycle": [{"Color": "red", "Price": 19.95, "IsNew": True}, {"Color": "green", "Price": 20.01, "IsNew": False}],
    "Labels": {"engieer": 10, "web/html": 15, "k8s-app": 20},
    "Employees": {"jason": "manager", "dan": "clerk"},
}

STORE_CASES: list[tuple[str, Any, str]] = [
    ("hello jsonpath", None, "hello jsonpath"),
    ("{..}", [1, 2, 3], "[1,2,3]"),
    ("{[?(@<5)]}", [2, 6, 3, 7], "2 3"),
    ('{"{"}', None, "{"),
    ("{[1,3,4]}", [0, 1, 2, 3, 4], "1 3 4"),
    ("{[0:2]}", ["Monday", "Tudesday"], "Monday Tudesday"),
    ("hello {.Name}", STORE, "hello jsonpath"),
    ("{$.Labels.web/html}", STORE, "15"),
    ("{$.Employees.jason}", STORE, "manager"),
    ("{$.Employees.dan}", STORE, "clerk"),
    ("{.Labels.k8s-app}", STORE, "20"),
    ("{.Bicycle[*].Color}", STORE, "red green"),
    ("{.Book[*].Author}", STORE, "Nigel Rees Evelyn Waugh Herman Melville"),
    ("{..Book[2]}", STORE, '{"Author":"Herman Melville","Category":"fiction","Price":8.99,"Title":"Moby Dick"}'),
    ("{.Book[-1:]}", STORE, '{"Author":"Herman Melville","Category":"fiction","Price":8.99,"Title":"Moby Dick"}'),
    ("{.Bicycle[?(@.IsNew==true)]}", STORE, '{"Color":"red","IsNew":true,"Price":19.95}'),
    (
        "{.Bicycle}",
        STORE,
        '[{"Color":"red","IsNew":true,"Price":19.95},{"Color":"green","IsNew":false,"Price":20.01}]',
    ),
    (
        '{range .Bicycle[*]}{ @ }{ " " }{end}',
        STORE,
        '{"Color":"red","IsNew":true,"Price":19.95} {"Color":"green","IsNew":false,"Price":20.01} ',
    ),
]


@pytest.mark.parametrize(("template", "data", "expected"), STORE_CASES)
def test_struct_input(template: str, data: Any, expected: str) -> None:
    assert run(template, data) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{..Price}", "8.95 12.99 8.99 19.95 20.01"),
        ("{...Price}", "8.95 12.99 8.99 19.95 20.01"),
        ('{range .Bicycle[*]}{ "{" }{ @.* }{ "} " }{end}', "{red true 19.95} {green false 20.01} "),
    ],
)
def test_random_order_cases_compared_sorted(template: str, expected: str) -> None:
    assert sorted(run(template, STORE).split()) == sorted(expected.split())


def test_missing_keys_give_nothing_when_allowed() -> None:
    assert run("{.hello}", STORE, allow_missing=True) == ""
    assert run("before-{.hello}after", STORE, allow_missing=True) == "before-after"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{hello}", "unrecognized identifier hello"),
        ("{.hello}", "hello is not found"),
        ("{.Labels[0]}", "map[string]interface {} is not array or slice"),  # Go's map[string]int in client-go
        ("{.Book[?(@.Price<>10)]}", "unrecognized filter operator <>"),
        ("{range .Labels.*}{@}{end}{end}", "not in range, nothing to end"),
    ],
)
def test_fail_store(template: str, message: str) -> None:
    with pytest.raises(JSONPathError) as error:
        run(template, STORE)
    assert str(error.value) == message


def test_superrecursive_field_is_a_parse_error() -> None:
    with pytest.raises(JSONPathError, match=r"^invalid multiple recursive descent$"):
        parse("superrecurfields", "{............................................................Price}")


POINTS = json.loads(
    """[
    {"id": "i1", "x":4, "y":-5},
    {"id": "i2", "x":-2, "y":-5, "z":1},
    {"id": "i3", "x":  8, "y":  3 },
    {"id": "i4", "x": -6, "y": -1 },
    {"id": "i5", "x":  0, "y":  2, "z": 1 },
    {"id": "i6", "x":  1, "y":  4 },
    {"id": "i7", "x":  null, "y":  4 }
]"""
)


@pytest.mark.parametrize(
    ("template", "expected"),
    [("{[?(@.z)].id}", "i2 i5"), ("{[0]['id']}", "i1"), ("{[-1]['x']}", "null")],
)
def test_json_input(template: str, expected: str) -> None:
    assert run(template, POINTS) == expected


NODES = json.loads(
    """{
  "kind": "List",
  "items":[
    {"kind":"None","metadata":{"name":"127.0.0.1","labels":{"kubernetes.io/hostname":"127.0.0.1"}},
     "status":{"capacity":{"cpu":"4"},"ready": true,"addresses":[{"type": "LegacyHostIP", "address":"127.0.0.1"}]}},
    {"kind":"None","metadata":{"name":"127.0.0.2","labels":{"kubernetes.io/hostname":"127.0.0.2"}},
     "status":{"capacity":{"cpu":"8"},"ready": false,
               "addresses":[{"type": "LegacyHostIP", "address":"127.0.0.2"},{"type": "another", "address":"127.0.0.3"}]}}
  ],
  "users":[{"name": "myself", "user": {}}, {"name": "e2e", "user": {"username": "admin", "password": "secret"}}]
}"""
)

KUBERNETES_CASES = [
    ("{range .items[*]}{.metadata.name}, {end}{.kind}", "127.0.0.1, 127.0.0.2, List"),
    ('{range .items[*]}{.metadata.name}{"\\t"}{end}', "127.0.0.1\t127.0.0.2\t"),
    ("{.items[*].status.addresses[*].address}", "127.0.0.1 127.0.0.2 127.0.0.3"),
    ("{range .items[*]}{range .status.addresses[*]}{.address}, {end}{end}", "127.0.0.1, 127.0.0.2, 127.0.0.3, "),
    ("{.items[*].metadata.name}", "127.0.0.1 127.0.0.2"),
    ("{.items[*]['metadata.name', 'status.capacity']}", '127.0.0.1 127.0.0.2 {"cpu":"4"} {"cpu":"8"}'),
    ("{range .items[*]}[{.metadata.name}, {.status.capacity}] {end}", '[127.0.0.1, {"cpu":"4"}] [127.0.0.2, {"cpu":"8"}] '),
    ('{.users[?(@.name=="e2e")].user.password}', "secret"),
    ("{.items[0].metadata.labels.kubernetes\\.io/hostname}", "127.0.0.1"),
    ('{.items[?(@.metadata.labels.kubernetes\\.io/hostname=="127.0.0.1")].kind}', "None"),
    ("{.items[?(@..ready==true)].metadata.name}", "127.0.0.1"),
]


@pytest.mark.parametrize(("template", "expected"), KUBERNETES_CASES)
def test_kubernetes(template: str, expected: str) -> None:
    assert run(template, NODES) == expected


def test_kubernetes_recursive_name_in_random_order() -> None:
    assert sorted(run("{..name}", NODES).split()) == ["127.0.0.1", "127.0.0.2", "e2e", "myself"]


@pytest.mark.parametrize(
    "template",
    [
        "{range .items[*]}{.metadata.name}{end}",
        '{range .items[*]}{.metadata.name}{":"}{range @.spec.containers[*]}{.name}{","}{end}{"+"}{end}',
    ],
)
def test_empty_range(template: str) -> None:
    assert run(template, {"items": []}, allow_missing=True) == ""


PODS = {
    "items": [
        {
            "metadata": {"name": "pod1"},
            "spec": {
                "containers": [
                    {"name": "foo", "another": [{"name": "value1"}, {"name": "value2"}]},
                    {"name": "bar", "another": [{"name": "value1"}, {"name": "value2"}]},
                ]
            },
        },
        {
            "metadata": {"name": "pod2"},
            "spec": {"containers": [{"name": "baz", "another": [{"name": "value1"}, {"name": "value2"}]}]},
        },
    ]
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (
            '{range .items[*]}{.metadata.name}{":"}{range @.spec.containers[*]}{.name}{","}{end}{"+"}{end}',
            "pod1:foo,bar,+pod2:baz,+",
        ),
        (
            '{range .items[*]}{.metadata.name}{"~"}{range @.spec.containers[*]}{.name}{":"}'
            '{range @.another[*]}{.name}{","}{end}{"+"}{end}{"#"}{end}',
            "pod1~foo:value1,value2,+bar:value1,value2,+#pod2~baz:value1,value2,+#",
        ),
        (
            '{range .items[*]}{.metadata.name}{"\\t"}{range @.spec.containers[*]}{.name}{" "}{end}{"\\t"}'
            '{range @.spec.containers[*]}{.name}{" "}{end}{"\\n"}{end}',
            "pod1\tfoo bar \tfoo bar \npod2\tbaz \tbaz \n",
        ),
    ],
)
def test_nested_ranges(template: str, expected: str) -> None:
    assert run(template, PODS) == expected


ANNOTATED = {
    "kind": "List",
    "items": [
        {"kind": "Pod", "metadata": {"name": "pod1", "annotations": {"color": "blue"}}},
        {"kind": "Pod", "metadata": {"name": "pod2"}},
        {"kind": "Pod", "metadata": {"name": "pod3", "annotations": {"color": "green"}}},
        {"kind": "Pod", "metadata": {"name": "pod4", "annotations": {"color": "blue"}}},
    ],
}


def test_filter_partial_matches_sometimes_missing_annotations() -> None:
    template = '{.items[?(@.metadata.annotations.color=="blue")].metadata.name}'
    assert run(template, ANNOTATED, allow_missing=True) == "pod1 pod4"
    with pytest.raises(JSONPathError):
        run(template, ANNOTATED)


FAKES = {
    "apiVersion": "v1",
    "kind": "Pod",
    "spec": {"containers": [{"image": "radial/busyboxplus:curl", "name": f"fake{i}"} for i in range(4)]},
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{.spec.containers[0].name}", "fake0"),
        ("{.spec.containers[0:0].name}", ""),
        ("{.spec.containers[0:-1].name}", "fake0 fake1 fake2"),
        ("{.spec.containers[-1:0].name}", None),
        ("{.spec.containers[-1].name}", "fake3"),
        ("{.spec.containers[-1:].name}", "fake3"),
        ("{.spec.containers[-2].name}", "fake2"),
        ("{.spec.containers[-2:].name}", "fake2 fake3"),
        ("{.spec.containers[-3].name}", "fake1"),
        ("{.spec.containers[-4].name}", "fake0"),
        ("{.spec.containers[-4:].name}", "fake0 fake1 fake2 fake3"),
        ("{.spec.containers[-5].name}", None),
        ("{.spec.containers[5:5].name}", ""),
        ("{.spec.containers[-5:-5].name}", ""),
        ("{.spec.containers[3:1].name}", None),
        ("{.spec.containers[-1:-2].name}", None),
    ],
)
def test_negative_index(template: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(JSONPathError):
            run(template, FAKES)
    else:
        assert run(template, FAKES) == expected


def test_running_pods_jsonpath_output() -> None:
    data = {
        "kind": "List",
        "items": [
            *({"kind": "Pod", "metadata": {"name": f"pod{i}"}, "status": {"phase": "Running"}} for i in (1, 2, 3)),
            {"resourceVersion": ""},
        ],
    }
    template = '{range .items[?(.status.phase=="Running")]}{.metadata.name}{" is Running\\n"}{end}'
    assert run(template, data, allow_missing=True) == "pod1 is Running\npod2 is Running\npod3 is Running\n"


SIX = {"spec": {"containers": [{"image": "radial/busyboxplus:curl", "name": f"fake{i}"} for i in range(6)]}}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{.spec.containers[0:].name}", "fake0 fake1 fake2 fake3 fake4 fake5"),
        ("{.spec.containers[0:6:].name}", "fake0 fake1 fake2 fake3 fake4 fake5"),
        ("{.spec.containers[0:6:1].name}", "fake0 fake1 fake2 fake3 fake4 fake5"),
        ("{.spec.containers[0:6:0].name}", None),
        ("{.spec.containers[0:6:-1].name}", None),
        ("{.spec.containers[1:4:2].name}", "fake1 fake3"),
        ("{.spec.containers[1:4:3].name}", "fake1"),
        ("{.spec.containers[1:4:4].name}", "fake1"),
        ("{.spec.containers[0:6:2].name}", "fake0 fake2 fake4"),
        ("{.spec.containers[0:6:3].name}", "fake0 fake3"),
        ("{.spec.containers[0:6:5].name}", "fake0 fake5"),
        ("{.spec.containers[0:6:6].name}", "fake0"),
    ],
)
def test_step(template: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(JSONPathError, match=r"^step must be > 0$"):
            run(template, SIX)
    else:
        assert run(template, SIX) == expected


# parser_test.go: what the parser makes of a template, and its errors.


def test_parser_builds_client_gos_nodes() -> None:
    root = parse("test", 'hello {.metadata.name}{"\\n"}').root
    assert isinstance(root.nodes[0], TextNode) and root.nodes[0].text == "hello "
    action = root.nodes[1]
    assert isinstance(action, ListNode) and [type(n) for n in action.nodes] == [FieldNode, FieldNode]
    assert isinstance(root.nodes[2], ListNode) and isinstance(root.nodes[2].nodes[0], TextNode)
    assert root.nodes[2].nodes[0].text == "\n"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{.hello", "unclosed action"),
        ("{.hello\n}", "unclosed action"),
        ("{[1}", "unterminated array"),
        ("{[?(@.a}", "unterminated filter"),
        ('{"hello}', "unterminated quoted string"),
        ("{#}", "unrecognized character in action: U+0023 '#'"),
        ("{[a:b]}", "invalid array index a:b"),
        ("{[-]}", "array index - is not a number"),
        ("{1.2.3}", "cannot parse number 1.2.3"),
        ("{[?(@.a==1)x}", "unclosed array expect ]"),
        ("{.a\t}", "unrecognized character in action: U+0009"),
    ],
)
def test_parse_errors(template: str, message: str) -> None:
    with pytest.raises(JSONPathError) as error:
        parse("test", template)
    assert str(error.value) == message


def test_a_null_item_of_a_range_has_no_value() -> None:
    """`{range}` over a null item hands Go's zero reflect.Value on: `{@}` prints `<no value>`, while a null
    reached by a path prints `null`."""
    assert run('{range .a[*]}{@}{" "}{end}', {"a": [None, 1]}) == "<no value> 1 "
    assert run("{.a[0]}", {"a": [None]}) == "null"
    assert run("{.a[0]}", {"a": [INVALID]}) == "<no value>"


def test_wildcard_on_a_string_gives_its_bytes_and_comparisons_follow_text_template() -> None:
    assert run("{.name.*}", {"name": "echo"}) == "101 99 104 111"
    with pytest.raises(JSONPathError, match=r"^incompatible types for comparison$"):
        run("{[?(@.x==1.5)]}", [{"x": 1}])
    with pytest.raises(JSONPathError, match=r"^invalid type for comparison$"):
        run("{[?(@.x==1)]}", [{"x": None}])
    assert run("{[?(@.x>=2)].x}", [{"x": 1}, {"x": 2}, {"x": 3}]) == "2 3"


def test_json_output_wraps_each_result_list() -> None:
    path = JSONPath("out")
    path.parse('{.a}{"x"}')
    path.enable_json_output(True)
    assert (
        path.execute({"a": {"b": [1, 2.5]}})
        == '[\n    {\n        "b": [\n            1,\n            2.5\n        ]\n    }\n]\n[\n    "x"\n]\n'
    )


# gofmt: how Go prints JSON-decoded values.


@pytest.mark.parametrize(
    ("value", "v", "as_json"),
    [
        (1.0, "1", "1"),
        (2.2, "2.2", "2.2"),
        (1e6, "1e+06", "1000000"),
        (123456.0, "123456", "123456"),
        (1e-5, "1e-05", "0.00001"),
        (1e-7, "1e-07", "1e-7"),
        (1e21, "1e+21", "1e+21"),
        (-0.5, "-0.5", "-0.5"),
    ],
)
def test_floats_as_go_prints_them(value: float, v: str, as_json: str) -> None:
    assert (format_float_v(value), format_float_json(value)) == (v, as_json)


def test_go_values() -> None:
    value = {"b": [1, 2.0, "<x> & y"], "a": None, "c": {}, "d": True}
    assert json_marshal(value) == '{"a":null,"b":[1,2,"\\u003cx\\u003e \\u0026 y"],"c":{},"d":true}'
    assert sprint(value) == "map[a:<nil> b:[1 2 <x> & y] c:map[] d:true]"
    assert go_string({"a": None, "b": ["x\n"]}) == 'map[string]interface {}{"a":interface {}(nil), "b":[]interface {}{"x\\n"}}'
    assert quote('{.a}"\t✓\x01') == '"{.a}\\"\\t✓\\x01"'
