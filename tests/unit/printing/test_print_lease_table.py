"""printLease: `kubectl get leases` shows NAME HOLDER AGE."""

from __future__ import annotations

from datetime import UTC, datetime

from minikubelet.printing.render import render_table
from minikubelet.printing.tables import LEASE_COLUMNS, lease_cells, lease_table

NOW = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
LEASE = {
    "kind": "Lease",
    "metadata": {"name": "node-1", "namespace": "kube-node-lease", "creationTimestamp": "2024-01-01T11:55:00Z"},
    "spec": {"holderIdentity": "node-1", "renewTime": "2024-01-01T11:59:50.000000Z"},
}


def test_lease_cells() -> None:
    assert lease_cells(LEASE, now=NOW) == ["node-1", "node-1", "5m"]
    assert lease_cells({"metadata": {"name": "free"}, "spec": {}}, now=NOW)[:2] == ["free", ""]


def test_lease_table_renders_as_kubectl_prints_it() -> None:
    table = lease_table([LEASE], now=NOW, resource_version="7")
    assert [c["name"] for c in table["columnDefinitions"]] == [c["name"] for c in LEASE_COLUMNS] == ["Name", "Holder", "Age"]
    assert all(c["priority"] == 0 for c in table["columnDefinitions"])
    assert table["metadata"] == {"resourceVersion": "7"}
    assert table["rows"][0]["object"]["metadata"]["name"] == "node-1"
    assert render_table(table).splitlines() == ["NAME     HOLDER   AGE", "node-1   node-1   5m"]
