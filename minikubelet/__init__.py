"""minikubelet: one node, one process, real containers; pods with the kubelet's exact semantics."""

from __future__ import annotations

__version__ = "0.1.0"

#: The Kubernetes release whose behaviour we copy (kube-probe/1.37, `kubectl version` minor "37").
KUBERNETES_VERSION = "v1.37.1"
