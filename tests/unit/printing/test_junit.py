"""`minikubelet test --junit`: the report's shape, checked against the rules of the JUnit schema CI servers read
(Jenkins' junit-10.xsd, which GitLab and the GitHub report actions accept too)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime

from minikubelet.printing.junit import Case, Suite, junit_xml, xml_text

# junit-10.xsd: the children and attributes each element may have, and the attributes it must have.
CHILDREN = {
    "testsuites": {"testsuite"},
    "testsuite": {"properties", "testcase", "system-out", "system-err"},
    "testcase": {"skipped", "error", "failure", "system-out", "system-err"},
    "failure": set(),
    "error": set(),
    "system-out": set(),
}
ATTRIBUTES = {
    "testsuites": {"name", "time", "tests", "failures", "disabled", "errors"},
    "testsuite": {
        "name", "tests", "failures", "errors", "time", "disabled", "skipped", "timestamp", "hostname", "id",
        "package", "file", "log", "url", "version",
    },
    "testcase": {"name", "assertions", "time", "classname", "status", "class", "file", "line", "log", "group", "url"},
    "failure": {"type", "message"},
    "error": {"type", "message"},
    "system-out": set(),
}  # fmt: skip
REQUIRED = {"testsuite": {"name", "tests"}, "testcase": {"name"}}
COUNTS = ("tests", "failures", "errors", "skipped", "disabled")
DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


def check_schema(element: ET.Element) -> None:
    tag = element.tag
    assert tag in CHILDREN, tag
    assert set(element.attrib) <= ATTRIBUTES[tag], (tag, element.attrib)
    assert REQUIRED.get(tag, set()) <= set(element.attrib), (tag, element.attrib)
    for name in COUNTS:
        if name in element.attrib:
            assert element.attrib[name].isdigit(), (tag, name, element.attrib[name])
    if "time" in element.attrib:
        assert DECIMAL.match(element.attrib["time"]), element.attrib["time"]
    if "timestamp" in element.attrib:
        assert TIMESTAMP.match(element.attrib["timestamp"]), element.attrib["timestamp"]
    for child in element:
        assert child.tag in CHILDREN[tag], (tag, child.tag)
        check_schema(child)
    if tag == "testsuite":  # properties first, the cases, then system-out / system-err
        order = [c.tag for c in element]
        assert order == sorted(order, key=["properties", "testcase", "system-out", "system-err"].index)
        cases = element.findall("testcase")
        assert int(element.attrib["tests"]) == len(cases)
        assert int(element.attrib["failures"]) == sum(len(c.findall("failure")) for c in cases)
        assert int(element.attrib["errors"]) == sum(len(c.findall("error")) for c in cases)


def report() -> str:
    suites = [
        Suite(
            "pods/web.yml",
            [
                Case("pod/web", "pods/web.yml", 1.25, "passed", stdout="==> container app <==\nlistening\n"),
                Case(
                    "pod/crash", "pods/web.yml", 2.5, "failed", "CrashLoopBackOff: container app: back-off 10s",
                    "CrashLoopBackOff", "CrashLoopBackOff: ...\n\npod default/crash: the why narrative\n", "dying\x1b[31m\n",
                ),
            ],
        ),
        Suite("pods/slow.yml", [Case("pod/slow", "pods/slow.yml", 60.0, "timeout", "DeadlineExceeded: not Ready within 60s")]),
        Suite("<stdin>", [Case("pod/x -n team", "<stdin>", 0.0, "error", "NodeUnavailable: the node stopped answering")]),
    ]  # fmt: skip
    return junit_xml(suites, name="minikubelet test", timestamp=datetime(2026, 1, 2, 3, 4, 5), hostname="ci-runner", time=61.5)


def test_the_report_follows_the_schema() -> None:
    text = report()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text.encode())
    assert root.tag == "testsuites"
    check_schema(root)
    assert root.attrib == {"name": "minikubelet test", "tests": "4", "failures": "2", "errors": "1", "time": "61.500"}


def test_a_testsuite_per_file_and_a_testcase_per_pod() -> None:
    root = ET.fromstring(report().encode())
    suites = root.findall("testsuite")
    assert [s.attrib["name"] for s in suites] == ["pods/web.yml", "pods/slow.yml", "<stdin>"]
    assert suites[0].attrib | {} == {
        "name": "pods/web.yml", "tests": "2", "failures": "1", "errors": "0", "skipped": "0", "time": "2.500",
        "timestamp": "2026-01-02T03:04:05", "hostname": "ci-runner", "id": "0",
    }  # fmt: skip
    web, crash = suites[0].findall("testcase")
    assert web.attrib == {"name": "pod/web", "classname": "pods/web.yml", "time": "1.250"}
    assert web.find("failure") is None
    assert web.findtext("system-out") == "==> container app <==\nlistening\n"
    failure = crash.find("failure")
    assert failure is not None
    assert failure.attrib == {"message": "CrashLoopBackOff: container app: back-off 10s", "type": "CrashLoopBackOff"}
    assert "the why narrative" in (failure.text or "")
    assert crash.findtext("system-out") == "dying\\x1b[31m\n"  # XML 1.0 cannot carry ESC
    slow = suites[1].find("testcase")
    assert slow is not None and slow.find("failure") is not None
    assert slow.find("failure").attrib["type"] == "timeout"  # type: ignore[union-attr]
    errored = suites[2].find("testcase")
    assert errored is not None and errored.find("error") is not None and errored.find("failure") is None


def test_xml_text_keeps_what_xml_can_hold() -> None:
    assert xml_text("tab\tnew\nline é ✓ \U0001f600") == "tab\tnew\nline é ✓ \U0001f600"
    assert xml_text("\x00\x08\x1b\ufffe") == "\\x00\\x08\\x1b\\ufffe"
