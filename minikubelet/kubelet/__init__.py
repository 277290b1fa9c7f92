"""The kubelet: the node's own object, pod workers, status and events (kubelet-spec.md §3-5, §8)."""
