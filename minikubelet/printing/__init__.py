"""kubectl's printers: tables, describe, durations — shared by the API server (server-side tables) and the CLI.

Real kubectl asks the API server for a `meta.k8s.io/v1` Table and only lays it out; `kubectl describe`
formats the objects itself. Both halves live here so that the server (`tables`) and our own CLI
(`render`, `describe`) produce exactly the bytes kubectl 1.37 prints. Everything works on plain JSON
dicts in Kubernetes wire format and takes the current time explicitly, so every output is testable.
"""

from __future__ import annotations

# No re-exports: importing one printer (the CLI's table renderer) must not load the others, whose quantity
# parsing pulls in pydantic. Import the submodules: `from minikubelet.printing.render import render_table`.
