"""JUnit XML for `minikubelet test --junit` (docs/ci.md#junit-xml): a testsuite per manifest file, a testcase per pod.

The shape is the one CI servers read (Jenkins' junit-10.xsd, which GitLab, GitHub actions and most report tools
accept): `testsuites` (name, tests, failures, errors, time) holding `testsuite`s (name, tests, failures, errors,
skipped, time, timestamp, hostname), each holding `testcase`s (name, classname, time) with at most one `failure`
(a pod that failed or was not Ready in time) or `error` (its test could not finish: the node stopped answering,
Ctrl-C), each with `message` (one line) and `type`, the narrative as its text, and `system-out` with the pod's logs.
Written with the standard library; characters XML 1.0 cannot carry (a log's terminal escapes) become `\\xNN`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = ["Case", "Suite", "junit_xml", "xml_text"]

_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class Case:
    """One pod's test. `outcome`: passed, failed, timeout (not Ready in time: a failure too) or error."""

    name: str
    classname: str
    time: float
    outcome: str
    message: str = ""
    kind: str = ""
    detail: str = ""
    stdout: str = ""


@dataclass(frozen=True, slots=True)
class Suite:
    """One manifest file's pods."""

    name: str
    cases: Sequence[Case]

    @property
    def failures(self) -> int:
        return sum(c.outcome in ("failed", "timeout") for c in self.cases)

    @property
    def errors(self) -> int:
        return sum(c.outcome == "error" for c in self.cases)

    @property
    def time(self) -> float:
        return max((c.time for c in self.cases), default=0.0)  # the pods of a file are tested side by side


def xml_text(text: str) -> str:
    """`text` with the characters XML 1.0 cannot hold written as `\\xNN` (or `\\uNNNN`)."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def junit_xml(suites: Sequence[Suite], *, name: str, timestamp: datetime, hostname: str, time: float) -> str:
    """The report, as a UTF-8 XML document (with its declaration)."""
    root = ET.Element(
        "testsuites",
        {
            "name": xml_text(name),
            "tests": str(sum(len(s.cases) for s in suites)),
            "failures": str(sum(s.failures for s in suites)),
            "errors": str(sum(s.errors for s in suites)),
            "time": _seconds(time),
        },
    )
    stamp = timestamp.strftime("%Y-%m-%dT%H:%M:%S")  # xs:dateTime without a zone, as the Ant schema has it
    for index, suite in enumerate(suites):
        element = ET.SubElement(
            root,
            "testsuite",
            {
                "name": xml_text(suite.name),
                "tests": str(len(suite.cases)),
                "failures": str(suite.failures),
                "errors": str(suite.errors),
                "skipped": "0",
                "time": _seconds(suite.time),
                "timestamp": stamp,
                "hostname": xml_text(hostname) or "localhost",
                "id": str(index),
            },
        )
        for case in suite.cases:
            tag = ET.SubElement(
                element,
                "testcase",
                {"name": xml_text(case.name), "classname": xml_text(case.classname), "time": _seconds(case.time)},
            )
            if case.outcome in ("failed", "timeout", "error"):
                verdict = ET.SubElement(
                    tag,
                    "error" if case.outcome == "error" else "failure",
                    {"message": xml_text(case.message), "type": xml_text(case.kind or case.outcome)},
                )
                verdict.text = xml_text(case.detail or case.message)
            if case.stdout:
                ET.SubElement(tag, "system-out").text = xml_text(case.stdout)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
