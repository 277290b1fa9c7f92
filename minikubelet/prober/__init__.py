"""The prober: probe workers, results and handlers (docs/kubelet.md#probe-workers)."""
