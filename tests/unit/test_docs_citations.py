"""Citations point into the repository: no file cites research notes that live outside it, and every
`docs/<file>.md#anchor` cited by the code (or a link between the docs) names a heading of that doc.

The behaviour the kubelet and the prober copy is written down in docs/kubelet.md (kubectl's output rules in
docs/kubectl-output.md); code cites its sections by GitHub's heading anchors, which this test resolves.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("minikubelet", "tests", "docs", "benchmarks")
# Notes kept outside the repository: a reader of the repository cannot follow such a citation.
OUTSIDE = re.compile(r"kubelet-spec|\.\./shared/|/work/shared/")
CITATION = re.compile(r"docs/([A-Za-z0-9_.-]+\.md)#([A-Za-z0-9_-]+)")
DOC_LINK = re.compile(r"\]\(((?:docs/)?[A-Za-z0-9_.-]+\.md)#([A-Za-z0-9_-]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def _text_files() -> list[Path]:
    files = [ROOT / "README.md"]
    for top in SCANNED:
        files.extend(p for p in sorted((ROOT / top).rglob("*")) if p.is_file() and "__pycache__" not in p.parts)
    return [p for p in files if p.resolve() != Path(__file__).resolve()]


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the rendered text lower-cased, punctuation dropped, spaces to hyphens."""
    text = MD_LINK.sub(r"\1", heading).strip().lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    """Every heading anchor of a Markdown file, repeated headings numbered (`-1`, `-2`) as GitHub does."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    fenced = False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else HEADING.match(line)
        if match is None:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return out


def test_slug_follows_github() -> None:
    assert slug("Probe workers") == "probe-workers"
    assert slug("Defaults (applied while decoding, as `pkg/apis/core/v1/defaults.go`)") == (
        "defaults-applied-while-decoding-as-pkgapiscorev1defaultsgo"
    )
    assert slug("get's outputs") == "gets-outputs"
    assert slug("See [differences](differences.md)") == "see-differences"


def test_nothing_cites_notes_outside_the_repository() -> None:
    offenders = []
    for path in _text_files():
        text = _read(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "cite docs/kubelet.md or docs/kubectl-output.md instead:\n" + "\n".join(offenders)


def _citations() -> list[tuple[str, str, str]]:
    """(where, doc path relative to the root, anchor) for every citation in code and every link between docs."""
    found: list[tuple[str, str, str]] = []
    for path in _text_files():
        text = _read(path)
        if text is None:
            continue
        where = str(path.relative_to(ROOT))
        if path.parts[len(ROOT.parts)] in ("minikubelet", "tests", "benchmarks"):
            found.extend((where, f"docs/{doc}", anchor) for doc, anchor in CITATION.findall(text))
        if path.suffix == ".md":
            for target, anchor in DOC_LINK.findall(text):
                resolved = (path.parent / target).resolve().relative_to(ROOT)
                found.append((where, str(resolved), anchor))
    return found


def test_there_are_citations_to_check() -> None:
    assert any(doc == "docs/kubelet.md" for _, doc, _ in _citations())


@pytest.mark.parametrize(("where", "doc", "anchor"), sorted(set(_citations())))
def test_cited_anchor_is_a_heading(where: str, doc: str, anchor: str) -> None:
    target = ROOT / doc
    assert target.is_file(), f"{where} cites {doc}, which does not exist"
    assert anchor in anchors(target), f"{where} cites {doc}#{anchor}, which is no heading of {doc}"
