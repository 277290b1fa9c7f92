"""`minikubelet lint`'s pipeline: read manifests as `apply -f` does, then check every document.

Reading: `-f FILE`, `-f DIR` (its *.yaml, *.yml and *.json in name order; sub-directories with `-R`) and `-f -`,
with the limits and messages of minikubelet.manifest; YAML and JSON are parsed by minikubelet.api.loading's parsers,
multi-document YAML and `kind: List` included. What cannot be read or parsed, or is not an object with apiVersion
and kind, is *bad input* (`LintResult.errors`, the command exits 2); everything else gives findings:

- a Pod (`v1`): the schema check (rule `schema`), then minikubelet's own decoding and validation, the API server's
  (rule `invalid`, one finding per field error); only a Pod that passes it goes through the probe rules;
- an object with a pod template (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, PodTemplate, ...):
  the schema check, then its template, decoded as a Pod, through the probe rules with the template's field paths
  (`spec.template.spec.containers[0]...`); minikubelet itself runs only Pods (rule `kind`, info, says so);
- any other kind: the schema check only (an info finding, rule `kind`, says so), or, when Kubernetes v1.37 has no
  such kind, a warning (rule `kind`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from minikubelet.api.loading import MAX_MANIFEST_BYTES, decode_pod, parse_documents, too_large
from minikubelet.api.pod import PodSpec
from minikubelet.errors import InvalidError, ManifestError
from minikubelet.lint.findings import Finding, Severity
from minikubelet.lint.rules import RuleOptions, lint_spec
from minikubelet.lint.schema import has_schema, schema_findings
from minikubelet.manifest import MANIFEST_SUFFIXES, STDIN

__all__ = ["LintResult", "Source", "lint_sources", "lint_text", "read_sources"]

#: Where a kind keeps its pod template.
_TEMPLATES: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "PodTemplate": ("template",),
}
_LIST_KINDS = frozenset({"List", "PodList"})


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    text: str
    fmt: Literal["yaml", "json"] = "yaml"


@dataclass(slots=True)
class LintResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[ManifestError] = field(default_factory=list)  # bad input: exit 2
    objects: list[tuple[str, str]] = field(default_factory=list)  # (source, "pod/name") of every object checked

    def extend(self, other: LintResult) -> None:
        self.findings += other.findings
        self.errors += other.errors
        self.objects += other.objects


#: An image check (rule `exec-binary`): (pod spec, its field path) -> findings. Optional: it needs Docker.
ImageCheck = Callable[[PodSpec, str], list[Finding]]


def read_sources(
    filenames: Iterable[str], *, recursive: bool = False, stdin: TextIO | None = None
) -> tuple[list[Source], list[ManifestError]]:
    """The text of every manifest named, as minikubelet.manifest.read_manifests finds them."""
    sources: list[Source] = []
    errors: list[ManifestError] = []
    for name in filenames:
        if name == STDIN:
            sources.append(Source("<stdin>", (stdin or sys.stdin).read(MAX_MANIFEST_BYTES + 1)))
            continue
        path = Path(name)
        if path.is_dir():
            entries = sorted(path.rglob("*") if recursive else path.iterdir())
            files = [p for p in entries if p.is_file() and p.suffix.lower() in MANIFEST_SUFFIXES]
            if not files:
                errors.append(ManifestError(name, ["no manifests (*.yaml, *.yml, *.json) in this directory"]))
            for file in files:
                _read_file(file, sources, errors)
        elif path.exists():
            _read_file(path, sources, errors)
        else:
            errors.append(ManifestError(name, ["the path does not exist"]))
    return sources, errors


def _read_file(path: Path, sources: list[Source], errors: list[ManifestError]) -> None:
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            errors.append(ManifestError(source, [too_large(size)]))
            return
        data = path.read_bytes()
    except OSError as exc:
        errors.append(ManifestError(source, [f"cannot read: {exc.strerror or exc}"]))
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        errors.append(
            ManifestError(source, [f"not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x}): is this a manifest?"])
        )
        return
    sources.append(Source(source, text, "json" if path.suffix.lower() == ".json" else "yaml"))


def lint_sources(
    sources: Iterable[Source], options: RuleOptions | None = None, image_check: ImageCheck | None = None
) -> LintResult:
    result = LintResult()
    for source in sources:
        result.extend(lint_text(source.text, source.name, source.fmt, options, image_check))
    return result


def lint_text(
    text: str,
    source: str,
    fmt: Literal["yaml", "json"] = "yaml",
    options: RuleOptions | None = None,
    image_check: ImageCheck | None = None,
) -> LintResult:
    """Every document of one manifest's text."""
    result = LintResult()
    documents, result.errors = parse_documents(text, source, fmt=fmt)
    for where, document in documents:
        _lint_document(document, source, where, "", options or RuleOptions(), image_check, result)
    return result


def _lint_document(
    document: Any, source: str, where: str, path: str, options: RuleOptions, image_check: ImageCheck | None, result: LintResult
) -> None:
    at = f"{path}: " if path else ""
    if not isinstance(document, dict):
        result.errors.append(
            ManifestError(source, [f"{where}{at}expected an object (a mapping of fields), got {type(document).__name__}"])
        )
        return
    api_version, kind = document.get("apiVersion"), document.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
        result.errors.append(ManifestError(source, [f"{where}{at}apiVersion and kind must be set (strings)"]))
        return
    if kind in _LIST_KINDS and api_version == "v1":
        items = document.get("items") or []
        if not isinstance(items, list):
            result.errors.append(ManifestError(source, [f"{where}{at}items: must be a list"]))
            return
        for index, item in enumerate(items):
            _lint_document(item, source, where, f"{path}items[{index}]", options, image_check, result)
        return
    metadata = document.get("metadata")
    name = metadata.get("name") or metadata.get("generateName") if isinstance(metadata, dict) else None
    label = f"{kind.lower()}/{name}" if isinstance(name, str) and name else f"{kind.lower()} ({where.rstrip(': ') or 'no name'})"
    findings: list[Finding] = []
    if has_schema(api_version, kind):
        findings += schema_findings(document, path)
    else:
        message = f'Kubernetes v1.37 has no kind "{kind}" in "{api_version}": not checked'
        findings.append(Finding("kind", Severity.WARNING, path, message))
    prefix = f"{path}." if path else ""
    if (api_version, kind) == ("v1", "Pod"):
        findings += _lint_pod(document, prefix + "spec", options, image_check)
    elif kind in _TEMPLATES and has_schema(api_version, kind) and isinstance(_dig(document, _TEMPLATES[kind]), dict):
        template = _dig(document, _TEMPLATES[kind])
        template_path = prefix + ".".join(_TEMPLATES[kind])
        findings.append(
            Finding(
                "kind",
                Severity.INFO,
                path,
                f"minikubelet runs Pods only; the {kind}'s pod template ({template_path}) is linted as a Pod",
            )
        )
        metadata = template.get("metadata")
        metadata = {**(metadata if isinstance(metadata, dict) else {}), "name": "template"}  # a template needs no name
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template.get("spec")}
        findings += _lint_pod(pod, template_path + ".spec", options, image_check)
    elif has_schema(api_version, kind):
        findings.append(Finding("kind", Severity.INFO, path, f"minikubelet runs Pods only: a {kind} gets the schema check alone"))
    result.objects.append((source, label))
    result.findings += [Finding(f.rule, f.severity, f.field, f.message, f.container, source, label) for f in findings]


def _lint_pod(raw: dict[str, Any], spec_path: str, options: RuleOptions, image_check: ImageCheck | None) -> list[Finding]:
    try:
        pod = decode_pod(raw)
    except InvalidError as exc:
        return [
            Finding("invalid", Severity.ERROR, _rebase(cause.field, spec_path), cause.body() + " (minikubelet's validation)")
            for cause in exc.causes
        ]
    findings = lint_spec(pod.spec, spec_path, options)
    if image_check is not None:
        findings += image_check(pod.spec, spec_path)
    return findings


def _rebase(field_path: str, spec_path: str) -> str:
    """A Pod's field path (`spec.containers[0]...`) as it is in the document (`spec.template.spec.containers[0]...`)."""
    if field_path == "spec" or field_path.startswith(("spec.", "spec[")):
        return spec_path + field_path[len("spec") :]
    base = spec_path.removesuffix("spec")
    return base + field_path if field_path else base.rstrip(".")


def _dig(document: dict[str, Any], keys: tuple[str, ...]) -> Any:
    node: Any = document
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node
