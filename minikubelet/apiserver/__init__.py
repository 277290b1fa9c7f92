"""The Kubernetes-shaped HTTP API: routes, tables, patches, auth."""

from __future__ import annotations
