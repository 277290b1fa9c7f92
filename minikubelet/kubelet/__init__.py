"""The kubelet: the node's own object, pod workers, status and events (docs/kubelet.md#pod-workers)."""
