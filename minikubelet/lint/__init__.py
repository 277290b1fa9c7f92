"""`minikubelet lint`: offline checks of pod manifests' probes, restarts and ports (docs/lint.md).

- `timing`: the probe worker's arithmetic (when a failing probe kills), and Go durations;
- `rules`: the probe rules on a decoded Pod's spec (pure);
- `schema`: the Kubernetes v1.37 OpenAPI schema check (kubernetes-validate's definitions);
- `run`: reading manifests as `apply -f` does and dispatching each document;
- `images`: rule `exec-binary` (`--check-images`), the one that asks the local Docker engine.

Nothing here imports the command-line libraries; the command is minikubelet.cli.lint.
"""

from __future__ import annotations

from minikubelet.lint.findings import Finding, Severity
from minikubelet.lint.rules import RuleOptions, lint_spec
from minikubelet.lint.run import LintResult, Source, lint_sources, lint_text, read_sources
from minikubelet.lint.timing import KillWindow, kill_window, parse_go_duration, threshold_for

__all__ = [
    "Finding",
    "KillWindow",
    "LintResult",
    "RuleOptions",
    "Severity",
    "Source",
    "kill_window",
    "lint_sources",
    "lint_spec",
    "lint_text",
    "parse_go_duration",
    "read_sources",
    "threshold_for",
]
