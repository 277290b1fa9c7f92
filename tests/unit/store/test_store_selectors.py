"""Label and field selectors: what they match, and the API server's words when they do not parse."""

from __future__ import annotations

from typing import Any

import pytest

from minikubelet.errors import BadRequestError
from minikubelet.store import ObjectSelector, parse_field_selector, parse_label_selector, selectable_fields

LABELS = {"app": "web", "tier": "front", "version": "3", "example.com/team": "a"}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app=db", False),
        ("app!=db", True),
        ("missing!=x", True),
        ("app in (db,web)", True),
        ("app in (db)", False),
        ("missing in (x)", False),
        ("app notin (db)", True),
        ("app notin (web,db)", False),
        ("missing notin (x)", True),
        ("app", True),
        ("missing", False),
        ("!missing", True),
        ("!app", False),
        ("app=web,tier=front", True),
        ("app=web,tier=back", False),
        ("  app = web ,  tier in ( front , back ) ,\t!missing  ", True),
        ("example.com/team=a", True),
        ("version>2", True),
        ("version<3", False),
        ("app>1", False),  # not a number: never matches
        ("app in (web,)", True),
        ("missing in ()", False),
        ("in in (in)", False),  # `in` is a key and a value where those stand
        ("app=", False),
    ],
)
def test_label_selector_matches(selector: str, matches: bool) -> None:
    assert parse_label_selector(selector).matches(LABELS) is matches


def test_an_empty_value_matches_an_empty_label() -> None:
    assert parse_label_selector("app=").matches({"app": ""})
    assert parse_label_selector("app in (,x)").matches({"app": ""})


def test_label_selector_prints_like_kubernetes() -> None:
    assert str(parse_label_selector("z,x in (foo,,baz),!y, a!=b")) == "a!=b,x in (,baz,foo),!y,z"


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("app web", "unable to parse requirement: found 'web', expected: in, notin, =, ==, !=, gt, lt"),
        ("app in", "unable to parse requirement: found '' expected: '('"),
        ("app in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"),
        ("app in (a", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("app=(", "unable to parse requirement: found '(', expected: identifier"),
        ("app=web tier", "found 'tier', expected: ',' or 'end of string'"),
        ("app=web,", "found '', expected: identifier after ','"),
        (",app", "found ',', expected: !, identifier, or 'end of string'"),
        ("!=x", "found '!=', expected: !, identifier, or 'end of string'"),
        ("! =x", "unable to parse requirement: found '=', expected: identifier"),
        ("a b=c", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        (
            "-app=web",
            'unable to parse requirement: <nil>: Invalid value: "-app": name part must consist of alphanumeric '
            "characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ),
        (
            "app=we$b",
            'unable to parse requirement: values[0][app]: Invalid value: "we$b": a valid label must be an empty '
            "string or consist of alphanumeric characters",
        ),
        (
            "version>x",
            "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, "
            "the value must be an integer",
        ),
    ],
)
def test_bad_label_selectors_are_bad_requests(selector: str, message: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        parse_label_selector(selector)
    assert str(caught.value).startswith(message)
    assert caught.value.code == 400


def pod(**fields: Any) -> dict[str, Any]:
    return {
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "prod", "labels": {"app": "web"}},
        "spec": {"nodeName": fields.get("node", ""), "restartPolicy": "Always"},
        "status": {"phase": fields.get("phase", "Running"), "podIP": "10.0.0.5"},
    }


def event(source: dict[str, str] | None = None, **extra: str) -> dict[str, Any]:
    reference = {"kind": "Pod", "namespace": "prod", "name": "web", "uid": "u1", "fieldPath": "spec.containers{app}"}
    return {
        "kind": "Event",
        "metadata": {"name": "web.1", "namespace": "prod"},
        "involvedObject": reference,
        "reason": "Started",
        "type": "Normal",
        "source": source or {},
        **extra,
    }


@pytest.mark.parametrize(
    ("kind", "selector", "obj", "matches"),
    [
        ("Pod", "", pod(), True),
        ("Pod", "metadata.name=web", pod(), True),
        ("Pod", "metadata.name==web", pod(), True),
        ("Pod", "metadata.name!=web", pod(), False),
        ("Pod", "metadata.namespace=prod,status.phase=Running", pod(), True),
        ("Pod", "status.phase!=Running", pod(), False),
        ("Pod", "spec.nodeName=", pod(), True),
        ("Pod", "spec.nodeName=", pod(node="n1"), False),
        ("Pod", "spec.nodeName=n1", pod(node="n1"), True),
        ("Pod", "status.podIP=10.0.0.5", pod(), True),
        ("Pod", "spec.restartPolicy=Always", pod(), True),
        ("Pod", "spec.schedulerName=", pod(), True),  # missing reads as ""
        ("Pod", "spec.hostNetwork=false", pod(), True),
        (
            "Event",
            "involvedObject.name=web,involvedObject.namespace=prod,involvedObject.uid=u1",
            event(),
            True,
        ),
        ("Event", "involvedObject.uid=u2", event(), False),
        ("Event", "involvedObject.kind=Pod,reason=Started,type=Normal", event(), True),
        ("Event", "involvedObject.fieldPath=spec.containers{app}", event(), True),
        ("Event", "source=kubelet", event({"component": "kubelet"}), True),
        ("Event", "source=kubelet", event(reportingComponent="kubelet"), True),
        ("Event", "reportingComponent=kubelet", event(reportingComponent="kubelet"), True),
        ("Node", "spec.unschedulable=false", {"kind": "Node", "metadata": {"name": "n"}}, True),
        (
            "Node",
            "spec.unschedulable=true",
            {"kind": "Node", "metadata": {"name": "n"}, "spec": {"unschedulable": True}},
            True,
        ),
        (
            "Namespace",
            "status.phase=Active",
            {"kind": "Namespace", "metadata": {}, "status": {"phase": "Active"}},
            True,
        ),
        ("Pod", "metadata.name=a\\,b", {"metadata": {"name": "a,b"}}, True),
        ("Pod", "metadata.name=a\\=b\\\\", {"metadata": {"name": "a=b\\"}}, True),
    ],
)
def test_field_selector_matches(kind: str, selector: str, obj: dict[str, Any], matches: bool) -> None:
    assert parse_field_selector(selector, kind).matches(obj) is matches


@pytest.mark.parametrize(
    ("kind", "selector", "message"),
    [
        ("Pod", "spec.foo=x", "field label not supported: spec.foo"),
        ("Node", "status.phase=x", "field label not supported: status.phase"),
        ("Event", "involvedObject.foo=x", "field label not supported: involvedObject.foo"),
        ("ConfigMap", "data.x=y", "field label not supported: data.x"),
        ("Pod", "metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
        ("Pod", "metadata.name=a,b", "invalid selector: 'metadata.name=a,b'; can't understand 'b'"),
        ("Pod", "metadata.name=a=b", "invalid field selector: unescaped character in value: '='"),
        ("Pod", "metadata.name=a\\x", "invalid field selector: invalid escape sequence: a\\x"),
        ("Pod", "metadata.name=a\\", "invalid field selector: invalid escape sequence: a\\"),
    ],
)
def test_bad_field_selectors_are_bad_requests(kind: str, selector: str, message: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        parse_field_selector(selector, kind)
    assert str(caught.value) == message


def test_every_kind_selects_by_name_and_namespace() -> None:
    for kind in ("Pod", "Event", "Node", "Namespace", "ConfigMap"):
        assert {"metadata.name", "metadata.namespace"} <= set(selectable_fields(kind))


def test_object_selector_combines_labels_and_fields() -> None:
    selector = ObjectSelector.parse("Pod", "app=web", "status.phase=Running")
    assert selector.matches(pod())
    assert not selector.matches(pod(phase="Failed"))
    assert not selector.matches({**pod(), "metadata": {"name": "web"}})  # no labels at all
    assert ObjectSelector.parse("Pod").empty
