"""Read manifests from files, directories and stdin (`-f PATH`, `-f DIR [-R]`, `-f -`), as kubectl does.

A directory contributes its `*.yaml`, `*.yml` and `*.json` files in name order (sub-directories only
with `recursive`); a file named explicitly is read whatever its extension. Parsing, decoding and
validation live in `minikubelet.api.loading`; this module only finds and reads the text.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from minikubelet.api.loading import MAX_MANIFEST_BYTES, LoadResult, load_text, too_large
from minikubelet.errors import ManifestError

__all__ = ["MANIFEST_SUFFIXES", "STDIN", "read_manifests"]

STDIN = "-"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def read_manifests(filenames: Iterable[str], *, recursive: bool = False, stdin: TextIO | None = None) -> LoadResult:
    """Load every object named by `filenames`; problems are collected in the result, never raised."""
    result = LoadResult()
    for name in filenames:
        if name == STDIN:
            text = (stdin or sys.stdin).read(MAX_MANIFEST_BYTES + 1)
            result.extend(load_text(text, "<stdin>"))
            continue
        path = Path(name)
        if path.is_dir():
            files = _directory_files(path, recursive=recursive)
            if not files:
                result.errors.append(ManifestError(name, ["no manifests (*.yaml, *.yml, *.json) in this directory"]))
            for file in files:
                result.extend(_load_file(file))
        elif path.exists():
            result.extend(_load_file(path))
        else:
            result.errors.append(ManifestError(name, ["the path does not exist"]))
    return result


def _directory_files(directory: Path, *, recursive: bool) -> list[Path]:
    entries = sorted(directory.rglob("*") if recursive else directory.iterdir())
    return [p for p in entries if p.is_file() and p.suffix.lower() in MANIFEST_SUFFIXES]


def _load_file(path: Path) -> LoadResult:
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            return _failed(source, too_large(size))
        data = path.read_bytes()
    except OSError as exc:
        return _failed(source, f"cannot read: {exc.strerror or exc}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _failed(source, f"not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x}): is this a manifest?")
    return load_text(text, source, fmt="json" if path.suffix.lower() == ".json" else "yaml")


def _failed(source: str, message: str) -> LoadResult:
    return LoadResult(errors=[ManifestError(source, [message])])
